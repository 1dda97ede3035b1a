"""``warpweave fit``: bad input is one line with exit status 2 and writes nothing; a fit writes fit.json,
loss.png, comparison.png and fitted.toml; Ctrl-C leaves the best result so far."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import scenes
from learning import cloth
from warpweave.cli import main

ROOT = Path(__file__).resolve().parents[1]

SCENE = """\
[simulation]
dt = 0.001
steps = 12
device = "cpu"
save_every = 1

[cloth]
nodes = [6, 6]
spacing = 0.001
yarn_radius = 0.0005
origin = [0.0, 0.0, 5.0]
warp_yarns = ["cotton", "polyester"]
weft_yarns = ["cotton", "polyester"]

[materials.cotton]
preset = "gong2022_cotton"

[materials.polyester]
preset = "gong2022_polyester"

[weave]
shear_modulus = 1000.0

[[pins]]
nodes = "top_corners"
stiffness = 10000.0

[wind]
velocity = [0.0, 5.0, 0.0]
density = 2.0
drag = 0.5
"""
PARAMS = "materials.cotton.density,materials.polyester.young_modulus,weave.shear_modulus"
START = ["--initial", "materials.cotton.density=0.0026", "--initial", "materials.polyester.young_modulus=1.2e5",
         "--initial", "weave.shear_modulus=1300"]


@pytest.fixture(scope="module")
def observed(tmp_path_factory) -> tuple[Path, Path]:
    """The scene and a trajectory of it (12 steps, every step saved) made by `warpweave simulate`."""
    folder = tmp_path_factory.mktemp("fit")
    scene = folder / "cloth.toml"
    scene.write_text(SCENE)
    assert main(["simulate", str(scene), "--out", str(folder / "sim"), "--quiet"]) == 0
    return scene, folder / "sim" / "trajectory.npz"


def fit_args(scene, observed, out, *extra):
    return ["fit", str(scene), "--observed", str(observed), "--params", PARAMS, "--out", str(out), *START, *extra]


def assert_one_line_error(capsys, status, fragment, out: Path):
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warpweave: error: ") and fragment in err[0], err
    assert not out.exists()


def test_a_fit_writes_its_results_and_recovers_the_values(observed, tmp_path, capsys):
    scene, trajectory = observed
    out = tmp_path / "result"
    assert main(fit_args(scene, trajectory, out, "--optimizer", "gauss-newton", "--iters", "6")) == 0
    assert sorted(os.listdir(out)) == ["comparison.png", "fit.json", "fitted.toml", "loss.png"]
    report = json.loads((out / "fit.json").read_text())
    truth = {"materials.cotton.density": 0.002, "materials.polyester.young_modulus": 1.7e5,
             "weave.shear_modulus": 1000.0}
    assert report["initial"] == {"materials.cotton.density": 0.0026, "materials.polyester.young_modulus": 1.2e5,
                                 "weave.shear_modulus": 1300.0}
    for name, value in truth.items():
        assert report["fitted"][name] == pytest.approx(value, rel=1e-4)
        entry = report["parameters"][name]
        assert entry["reference"] == value and abs(entry["relative_error"]) < 1e-4
        assert 0 < entry["relative_std"] < 1e-3
    assert report["loss"]["fitted"] < 1e-6 * report["loss"]["initial"]
    assert report["loss"]["history"][0]["loss"] == report["loss"]["initial"]
    assert report["optimizer"] == "gauss-newton" and report["stopped"] in ("iterations", "converged")
    assert report["observations"] == {"frames": 13, "steps": 12, "observed_nodes": 36, "sliding": True,
                                      "noise_m": 0.0}
    assert report["wall_seconds"] == pytest.approx(sum(report["seconds"].values()))
    assert set(report["seconds"]) == {"minimize", "uncertainty"}
    assert report["uncertainty"]["residuals"] == 13 * (36 * 3 + 16 * 2)  # frames x (positions + interior sliding)
    fitted = scenes.load_scene(out / "fitted.toml")
    for name, value in report["fitted"].items():
        assert scenes.get_parameter(fitted, name) == pytest.approx(value, rel=1e-12)
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG" and (out / "comparison.png").stat().st_size > 10_000
    printed = capsys.readouterr()
    assert "weave.shear_modulus" in printed.out and f"wrote {out}/fit.json" in printed.out
    assert f"stopped after {report['iterations']} iterations: {report['stop_reason']}" in printed.out
    assert "fit:" in printed.err and "it/s" in printed.err and "loss" in printed.err


def test_a_fit_with_the_forward_estimator_on_some_nodes_with_noise(observed, tmp_path, capsys):
    scene, trajectory = observed
    out = tmp_path / "noisy"
    assert main(fit_args(scene, trajectory, out, "--estimator", "forward", "--optimizer", "sgd", "--iters", "3",
                         "--directions", "2", "--nodes", "0.5", "--noise", "1e-6", "--no-sliding", "--frames", "9",
                         "--quiet")) == 0
    assert capsys.readouterr() == ("", "")
    report = json.loads((out / "fit.json").read_text())
    assert report["observations"] == {"frames": 9, "steps": 8, "observed_nodes": 8, "sliding": False,
                                      "noise_m": 1e-6}
    assert report["estimator"] == "ForwardGradient(directions=2, distribution='rademacher')"
    assert report["loss"]["fitted"] < report["loss"]["initial"]


def test_a_fit_with_the_truncated_estimator_uses_its_window(observed, tmp_path, capsys):
    scene, trajectory = observed
    out = tmp_path / "truncated"
    assert main(fit_args(scene, trajectory, out, "--estimator", "truncated", "--window", "3", "--iters", "3",
                         "--quiet")) == 0
    report = json.loads((out / "fit.json").read_text())
    assert report["estimator"] == "Truncated(steps=3)" and report["optimizer"] == "sgd"
    assert report["loss"]["fitted"] < report["loss"]["initial"]


def test_a_parameter_the_motion_does_not_depend_on_is_called_undetermined(observed, tmp_path, capsys):
    """The crossings of this scene stick, so the friction coefficient does not change the motion: the table
    says so after the fit, and fit.json lists it as undetermined."""
    scene, trajectory = observed
    out = tmp_path / "friction"
    assert main(["fit", str(scene), "--observed", str(trajectory), "--params", "weave.friction,weave.shear_modulus",
                 "--initial", "weave.friction=0.65", "--optimizer", "gauss-newton", "--iters", "2", "--out",
                 str(out)]) == 0
    printed = capsys.readouterr().out
    assert "undetermined: weave.friction (" in printed and "shear_modulus (" not in printed
    report = json.loads((out / "fit.json").read_text())
    assert report["uncertainty"]["undetermined"] == ["weave.friction"]


def test_ctrl_c_writes_the_best_result_so_far(observed, tmp_path, monkeypatch, capsys):
    scene, trajectory = observed
    calls = {"n": 0}
    original = cloth.ClothObjective.value_and_grad

    def interrupted(self, theta):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return original(self, theta)

    monkeypatch.setattr(cloth.ClothObjective, "value_and_grad", interrupted)
    out = tmp_path / "interrupted"
    assert main(fit_args(scene, trajectory, out, "--optimizer", "sgd", "--iters", "20")) == 130
    report = json.loads((out / "fit.json").read_text())
    assert report["stopped"] == "interrupted" and report["uncertainty"] is None
    assert len(report["loss"]["history"]) == 3
    assert report["loss"]["fitted"] == min(item["loss"] for item in report["loss"]["history"])
    assert "interrupted: wrote the best result so far" in capsys.readouterr().err


@pytest.mark.parametrize(("change", "fragment"), [
    (["--params", "materials.coton.density"], "unknown parameter; did you mean 'materials.cotton.density'?"),
    (["--params", "cloth.spacing"], "cloth.spacing: cannot be fitted"),
    (["--bounds", "weave.shear_modulus=1500:2000"], "bounds [1500, 2000] exclude the initial value 1300"),
    (["--bounds", "weave.shear_modulus=2000"], "argument --bounds: 'weave.shear_modulus=2000': expected NAME=LO:HI"),
    (["--initial", "weave.friction=0.3"], "initial given for weave.friction, which is not among the fitted"),
    (["--nodes", "1.5"], "argument --nodes: '1.5': expected a fraction in (0, 1]"),
    (["--frames", "99"], "frames = 99 is out of range: the file has 13 frame(s)"),
    (["--optimizer", "newton"], "argument --optimizer: invalid choice: 'newton'"),
    (["--frames", "1"], "argument --frames: '1': expected an integer >= 2 (the first frame is the initial state"),
    (["--noise", "-0.001"], "argument --noise: '-0.001': expected a standard deviation >= 0 in metres"),
    (["--noise", "nan"], "argument --noise: 'nan': expected a standard deviation >= 0 in metres"),
    (["--noise", "inf"], "argument --noise: 'inf': expected a standard deviation >= 0 in metres"),
    (["--bounds", "materials.cotton.density=-0.01:0.01"],
     "materials.cotton.density: bounds [-0.01, 0.01] reach values <= 0, but it must be > 0"),
    (["--bounds", "materials.cotton.density=0:0.01"],
     "materials.cotton.density: bounds [0, 0.01] reach values <= 0, but it must be > 0"),
    (["--bounds", "weave.shear_modulus=2000:1000"], "bounds [2000, 1000] are empty: expected lower < upper"),
    (["--bounds", "weave.shear_modulus=1300:1300"], "bounds [1300, 1300] are empty: expected lower < upper"),
    (["--initial", "weave.shear_modulus=-5"],
     "initial value: weave.shear_modulus = -5.0 is out of range: expected a value > 0"),
    (["--directions", "some"], "argument --directions: 'some': expected 'all' or an integer >= 1"),
    (["--outliers", "3"], "--outliers drops tracked points of --video clips: expected --video CLIP --camera NAME"),
    (["--outliers", "-1"], "argument --outliers: '-1': expected a number of standard deviations >= 0 (0 keeps every "
                           "track)"),
])
def test_bad_requests_are_one_line_with_status_2_and_write_nothing(observed, tmp_path, capsys, change, fragment):
    scene, trajectory = observed
    out = tmp_path / "never"
    args = fit_args(scene, trajectory, out, "--iters", "1")
    if change[0] == "--params":
        args[args.index("--params") + 1] = change[1]
        args = [a for a in args if a not in START]
    else:
        args += change
    assert_one_line_error(capsys, main(args), fragment, out)


def test_a_scene_given_as_the_observations_is_one_line_naming_the_trajectory_it_expects(observed, tmp_path, capsys):
    scene, _ = observed
    out = tmp_path / "never"
    assert_one_line_error(capsys, main(fit_args(scene, scene, out)), "is a scene file: expected a trajectory "
                          "(.npz), such as the one 'warpweave simulate SCENE' writes", out)


def test_the_default_forward_fit_uses_every_direction_and_l_bfgs_and_stops_when_converged(observed, tmp_path):
    """3 parameters: forward-mode derivatives along all 3 coordinates (an exact gradient from 7 simulations)
    with L-BFGS; the fit stops by itself, well inside --iters, and fit.json says why."""
    scene, trajectory = observed
    out = tmp_path / "forward"
    assert main(fit_args(scene, trajectory, out, "--estimator", "forward", "--quiet")) == 0
    report = json.loads((out / "fit.json").read_text())
    assert report["estimator"] == "ForwardGradient(directions='all')" and report["optimizer"] == "lbfgs"
    assert report["stopped"] == "converged" and report["iterations"] < 50
    assert "Gauss-Newton step left" in report["stop_reason"]
    errors = [abs(entry["relative_error"]) for entry in report["parameters"].values()]
    assert max(errors) < 1e-4, errors


def test_observations_that_do_not_match_the_scene_are_one_line_with_status_2(observed, tmp_path, capsys):
    scene, trajectory = observed
    data = scenes.load_trajectory(trajectory)
    out = tmp_path / "never"
    bad = {
        "grid.npz": (dict(x=data.x[:, :, :5], u=data.u[:, :, :5], t=data.t), "grid of 5 x 6 nodes does not match"),
        "times.npz": (dict(x=data.x, u=data.u, t=data.t * 1.5), "frame times do not match the scene's dt"),
        "nan.npz": (dict(x=np.where(np.arange(13)[None, :, None, None, None] == 7, np.nan, data.x), u=data.u,
                         t=data.t), "array 'x' holds NaN or Inf in frame 7"),
    }
    for name, (arrays, fragment) in bad.items():
        np.savez(tmp_path / name, **arrays)  # around save_trajectory, which refuses NaN itself
        assert_one_line_error(capsys, main(fit_args(scene, tmp_path / name, out)), fragment, out)


def test_bad_input_in_a_real_process_is_one_line_without_traceback(observed, tmp_path):
    scene, trajectory = observed
    for change, fragment in ((["--params", "weave.frction"], "did you mean 'weave.friction'?"),
                             (["--bounds", "weave.shear_modulus=-1:2000"], "reach values <= 0, but it must be > 0")):
        result = subprocess.run([sys.executable, "-m", "warpweave", *fit_args(scene, trajectory, tmp_path / "never",
                                                                              *change)],
                                cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.strip() == result.stderr.strip().splitlines()[0]
        assert fragment in result.stderr
    assert not (tmp_path / "never").exists()
