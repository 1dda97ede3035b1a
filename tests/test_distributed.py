"""Forward-gradient directions shared out over processes (torchrun, gloo on CPU): every process gets the estimate a
single process gets with the same seed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.distributed_forward_gradient import estimate

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def test_two_processes_give_the_single_process_estimate(tmp_path):
    prefix = tmp_path / "estimate"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               str(ROOT / "tests" / "distributed_forward_gradient.py"), str(prefix)]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    single = estimate(distributed=False)
    for rank in (0, 1):
        saved = torch.load(f"{prefix}_{rank}.pt")
        assert saved["world"] == 2
        assert torch.allclose(saved["grad"], single, rtol=0.0, atol=1e-12 * float(single.abs().max()))


def test_one_process_needs_no_group():
    # without an initialised group, distributed=True is the ordinary estimate
    assert torch.equal(estimate(distributed=True), estimate(distributed=False))


@pytest.mark.slow  # two launches of warpweave fit, one of them on two processes: about 25 s
def test_a_fit_launched_on_two_processes_shares_its_directions_and_matches_one_process(tmp_path):
    from tests.test_fit_cli import PARAMS, SCENE, START
    from warpweave.cli import main

    scene = tmp_path / "cloth.toml"
    scene.write_text(SCENE)
    assert main(["simulate", str(scene), "--out", str(tmp_path / "sim"), "--quiet"]) == 0
    fit = ["fit", str(scene), "--observed", str(tmp_path / "sim" / "trajectory.npz"), "--params", PARAMS, *START,
           "--iters", "2", "--quiet"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    single = subprocess.run([sys.executable, "-m", "warpweave", *fit, "--out", str(tmp_path / "one")], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=600)
    assert single.returncode == 0, single.stderr[-2000:]
    shared = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                             "-m", "warpweave", *fit, "--out", str(tmp_path / "two")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert shared.returncode == 0, shared.stderr[-2000:]
    one = json.loads((tmp_path / "one" / "fit.json").read_text())
    two = json.loads((tmp_path / "two" / "fit.json").read_text())
    # each process simulated half the tangents' worlds; the Gauss-Newton steps and the result are the same
    assert two["parameters"].keys() == one["parameters"].keys()
    for name, value in one["parameters"].items():
        assert two["parameters"][name]["fitted"] == pytest.approx(value["fitted"], rel=1e-10)
