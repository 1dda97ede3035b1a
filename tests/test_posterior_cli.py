"""``warpweave posterior``: bad input is one line with exit status 2; a run writes posterior.npz, posterior.json and
corner.png with the truth inside its intervals and the Gauss-Newton intervals beside them; two processes share the
simulations and give the one-process posterior."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from warpweave.cli import main

from .test_cli import TINY

ROOT = Path(__file__).resolve().parents[1]

SCENE = TINY.replace("steps = 5\n", "steps = 20\n")  # 5 x 5 cloth, 20 steps, 11 frames
PARAMS = ["--params", "materials.cotton.density,materials.cotton.young_modulus"]
PRIORS = ["--prior", "materials.cotton.density=0.001:0.003", "--prior", "materials.cotton.young_modulus=2.5e5:7.5e5"]


@pytest.fixture(scope="module")
def observed(tmp_path_factory) -> tuple[Path, Path]:
    """The scene and a trajectory of it (20 steps, 11 frames) made by `warpweave simulate`."""
    folder = tmp_path_factory.mktemp("posterior")
    scene = folder / "cloth.toml"
    scene.write_text(SCENE)
    assert main(["simulate", str(scene), "--out", str(folder / "sim"), "--quiet"]) == 0
    return scene, folder / "sim" / "trajectory.npz"


def command(observed, *extra) -> list[str]:
    scene, trajectory = observed
    return ["posterior", str(scene), "--observed", str(trajectory), "--noise", "1e-6", *extra]


@pytest.mark.parametrize(("arguments", "message"), [
    ([*PARAMS, "--prior", "materials.cotton.density=0.001:0.003"],
     "materials.cotton.young_modulus has no prior: give --prior materials.cotton.young_modulus=LO:HI"),
    ([*PARAMS, *PRIORS, "--prior", "weave.friction=0.1:0.8"], "weave.friction is not among --params"),
    ([*PARAMS, "--prior", "materials.cotton.density=0.003:0.001", "--prior",
      "materials.cotton.young_modulus=2.5e5:7.5e5"], "materials.cotton.density: [0.003, 0.001] is empty or inverted"),
    ([*PARAMS, "--prior", "materials.cotton.density=0.0025:0.003", "--prior",
      "materials.cotton.young_modulus=2.5e5:7.5e5"], "excludes the scene's value 0.002"),
    ([*PARAMS, *PRIORS, "--budget", "150", "--statistic", "infomax"], "too small to train on"),
    ([*PARAMS, *PRIORS, "--prior", "materials.cotton.density=0.001:0.002"], "has two --prior options"),
    ([*PARAMS, *PRIORS, "--method", "smc-abc", "--check"], "needs an amortised posterior"),
    ([*PARAMS, *PRIORS, "--restarts", "0"], "--restarts"),
    (["--params", "materials.cotton.stiffness", "--prior", "materials.cotton.stiffness=1:2"], "stiffness"),
])
def test_bad_input_is_one_line_with_status_2(observed, tmp_path, capsys, arguments, message):
    assert main(command(observed, *arguments, "--out", str(tmp_path / "out"))) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("warpweave: error: ") and message in error
    assert not (tmp_path / "out" / "posterior.json").exists()


def test_a_posterior_run_writes_its_files_with_the_truth_inside(observed, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(command(observed, *PARAMS, *PRIORS, "--budget", "200", "--samples", "2000", "--out", str(out))) == 0
    printed = capsys.readouterr().out
    assert "Gauss-Newton 90%" in printed and f"wrote {out}/posterior.npz, posterior.json, corner.png" in printed
    report = json.loads((out / "posterior.json").read_text())
    assert report["format"] == "warpweave-posterior/1" and report["check"] is None and report["method"] == "npe"
    assert [len(losses) for losses in report["validation_losses"]] == [2]  # two trainings by default, the best kept
    for name, entry in report["parameters"].items():
        low, high = entry["interval_90"]
        assert entry["truth_in_interval_90"] and low <= entry["median"] <= high, name
        # Gauss-Newton's local interval, with the known noise, is far narrower than what 200 simulations resolve
        gn_low, gn_high = entry["gauss_newton"]["interval_90"]
        assert gn_low <= entry["truth"] <= gn_high and gn_high - gn_low < high - low
    with np.load(out / "posterior.npz") as stored:
        assert stored["samples"].shape == (2000, 2)
        assert list(stored["names"]) == ["materials.cotton.density", "materials.cotton.young_modulus"]
    assert (out / "corner.png").stat().st_size > 10_000
    assert report["simulations"]["simulated_now"] == 205  # the prior's 200 and the score statistic's 5


def test_an_smc_abc_run_reports_its_populations(observed, tmp_path, capsys):
    out = tmp_path / "abc"
    assert main(command(observed, *PARAMS, *PRIORS, "--method", "smc-abc", "--budget", "400", "--samples", "1000",
                        "--no-gauss-newton", "--out", str(out))) == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "posterior.json").read_text())
    abc = report["smc_abc"]
    assert report["method"] == "smc-abc" and abc["particles"] == 20 and report["simulations"]["rounds"][0] == 200
    assert len(abc["tolerances"]) >= 2 and abc["tolerances"] == sorted(abc["tolerances"], reverse=True)
    assert f"populations of 20 particles, tolerance {abc['tolerances'][0]:.3g}" in printed
    assert all(entry["truth_in_interval_90"] for entry in report["parameters"].values())


@pytest.mark.slow  # two launches, one on two processes: about 60 s
def test_two_processes_share_the_simulations_and_give_the_one_process_posterior(observed, tmp_path):
    arguments = command(observed, *PARAMS, *PRIORS, "--budget", "200", "--samples", "500", "--no-gauss-newton",
                        "--quiet")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    single = subprocess.run([sys.executable, "-m", "warpweave", *arguments, "--out", str(tmp_path / "one")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert single.returncode == 0, single.stderr[-2000:]
    shared = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                             "-m", "warpweave", *arguments, "--out", str(tmp_path / "two")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert shared.returncode == 0, shared.stderr[-2000:]
    one = json.loads((tmp_path / "one" / "posterior.json").read_text())
    two = json.loads((tmp_path / "two" / "posterior.json").read_text())
    # the leader simulated its share (the score stencil and one of the two chunks of 100), the other process the rest
    assert (one["simulations"]["simulated_now"], two["simulations"]["simulated_now"]) == (205, 105)
    for name in one["parameters"]:
        assert two["parameters"][name]["median"] == pytest.approx(one["parameters"][name]["median"], rel=1e-6)
    for chunk in ("chunk_00000.npz", "chunk_00001.npz"):
        with np.load(tmp_path / "one" / "simulations" / "round_1" / chunk) as a, \
                np.load(tmp_path / "two" / "simulations" / "round_1" / chunk) as b:
            assert np.abs(a["x"] - b["x"]).max() <= 1e-12
