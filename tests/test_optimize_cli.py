"""``warpweave optimize``: from a still handle, find the handle keyframes that bring the cloth to a target shape
made by a hidden motion (within 5% of the target's RMS displacement), with fit's estimators and outputs."""

import copy
import json
import tomllib
from pathlib import Path

import pytest

import scenes
from warpweave.cli import main

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "scenes" / "examples" / "hanging_wind.toml"
#: the hidden handle motion over a run of T seconds: keyframes at 0, T/2 and T (offsets [m])
HIDDEN = [(0.0, [0.0, 0.0, 0.0]), (0.5, [0.0, 0.5e-3, 1.5e-3]), (1.0, [1.0e-3, 0.5e-3, 2.0e-3])]


def handle_scenes(folder: Path, nodes: int, steps: int, scale: float = 1.0) -> tuple[Path, Path]:
    """(the scene with a still handle, a trajectory of the hidden motion, its offsets times ``scale``) on the
    reference cloth of nodes^2."""
    data = scenes.scene_to_dict(scenes.load_scene(REFERENCE, check_device=False))
    data["simulation"].update(steps=steps, save_every=10, device="cpu")
    data["cloth"]["nodes"] = [nodes, nodes]
    hidden, still = copy.deepcopy(data), copy.deepcopy(data)
    duration = steps * data["simulation"]["dt"]
    hidden["pins"][0]["path"] = [{"time": f * duration, "offset": [scale * v for v in offset]} for f, offset in HIDDEN]
    still["pins"][0]["path"] = [{"time": f * duration, "offset": [0.0, 0.0, 0.0]} for f, _ in HIDDEN]
    paths = []
    for name, content in (("hidden", hidden), ("still", still)):
        path = folder / f"{name}.toml"
        path.write_text(scenes.scene_to_toml(scenes.parse_scene(content)))
        paths.append(path)
    assert main(["simulate", str(paths[0]), "--out", str(folder / "hidden"), "--quiet"]) == 0
    return paths[1], folder / "hidden" / "trajectory.npz"


def optimize(still: Path, target: Path, out: Path, *extra, params="pins[0].path") -> dict:
    assert main(["optimize", str(still), "--target", str(target), "--params", params, "--out", str(out), "--quiet",
                 *extra]) == 0
    return json.loads((out / "fit.json").read_text())


def test_optimize_finds_the_hidden_handle_motion_of_a_small_cloth(tmp_path):
    still, target = handle_scenes(tmp_path, nodes=7, steps=40, scale=0.25)  # a 6 mm cloth: a gentler motion
    report = optimize(still, target, tmp_path / "result", "--no-pictures", params="pins[0].path[1],pins[0].path[2]")
    relative = report["relative_rms_distance"]
    assert relative["initial"] > 0.1 and relative["optimized"] <= 0.05, relative
    assert report["target"]["time_s"] == pytest.approx(0.04) and report["target"]["frame"] == 4
    assert report["stopped"] == "converged" and report["solver"]["forward"]["unconverged"] == 0
    # six keyframe components: by default forward mode along all of them (exact gradients), then L-BFGS
    assert "directions='all'" in report["estimator"] and report["optimizer"] == "lbfgs"
    optimized = scenes.load_scene(tmp_path / "result" / "optimized.toml")
    lifted = optimized.pins[0].path[2].value
    assert lifted[2] == pytest.approx(0.25 * 2e-3, rel=0.05)
    assert sorted(p.name for p in (tmp_path / "result").iterdir()) == ["comparison.png", "fit.json", "loss.png",
                                                                     "optimized.toml"]


def test_optimize_writes_before_after_and_target_pictures(tmp_path):
    still, target = handle_scenes(tmp_path, nodes=5, steps=40, scale=0.25)
    report = optimize(still, target, tmp_path / "result", "--time", "0.03", "--iters", "3")
    assert report["target"]["time_s"] == pytest.approx(0.03)
    for name in ("before", "after", "target"):
        assert (tmp_path / "result" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert tomllib.loads((tmp_path / "result" / "optimized.toml").read_text())["pins"][0]["path"]


def test_the_default_estimator_is_named_in_the_help_with_its_parameter_limit(capsys):
    from learning.fit import ALL_DIRECTIONS_UP_TO

    with pytest.raises(SystemExit):
        main(["optimize", "--help"])
    assert f"forward over every parameter's direction for up to {ALL_DIRECTIONS_UP_TO} parameters" in " ".join(
        capsys.readouterr().out.split())


def test_bad_targets_are_one_line_and_status_2(tmp_path, capsys):
    still, target = handle_scenes(tmp_path, nodes=5, steps=20, scale=0.25)
    out = tmp_path / "never"
    assert main(["optimize", str(still), "--target", str(target), "--params", "pins[0].path", "--time", "0.015",
                 "--out", str(out)]) == 2
    assert "argument --time: 0.015 s is not a frame time of" in capsys.readouterr().err
    assert main(["optimize", str(still), "--target", str(still), "--params", "pins[0].path", "--out", str(out)]) == 2
    assert "is a scene file: expected a trajectory (.npz)" in capsys.readouterr().err
    assert main(["optimize", str(still), "--target", str(target), "--params", "pins[1].path", "--out", str(out)]) == 2
    assert "unknown parameter" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_optimize_brings_the_reference_cloth_within_5_percent_of_a_hidden_motions_shape(tmp_path):
    """17 x 17 reference cloth, 0.1 s, three keyframes of the two top corners (nine offsets) started still."""
    still, target = handle_scenes(tmp_path, nodes=17, steps=100)
    report = optimize(still, target, tmp_path / "result")
    relative = report["relative_rms_distance"]
    print(f"17x17: relative RMS distance {relative}, {report['iterations']} iterations, "
          f"{report['wall_seconds']:.0f} s")
    assert relative["optimized"] <= 0.05, relative
