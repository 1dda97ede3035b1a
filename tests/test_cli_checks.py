"""Every command checks its outputs, memory and counts before working: one line, exit status 2, nothing
written; edge cases of scenes and trajectory files get their own clear messages."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import scenes
from warpweave.cli import main

from .test_cli import TINY, write_trajectory

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenes" / "examples" / "demo.toml"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")


@pytest.fixture
def tiny_scene(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture
def trajectory(tmp_path) -> Path:
    write_trajectory(tmp_path / "trajectory.npz")
    return tmp_path / "trajectory.npz"


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warpweave: error: "), captured.err
    return lines[0]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- output paths ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["simulate", "gradcheck", "fit", "export"])
def test_an_output_folder_under_a_file_is_refused_before_any_work(command, tiny_scene, trajectory, tmp_path,
                                                                  capsys):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("")
    out = blocker / "results"
    args = {
        "simulate": ["simulate", tiny_scene],
        "gradcheck": ["gradcheck", tiny_scene, "--params", "weave.shear_modulus"],
        "fit": ["fit", tiny_scene, "--observed", trajectory, "--params", "weave.shear_modulus"],
        "export": ["export", trajectory, "--format", "obj"],
    }[command]
    before = listing(tmp_path)
    assert main([*map(str, args), "--out", str(out)]) == 2
    assert f"argument --out: {out}: cannot be created: {blocker} is a file" in one_error_line(capsys)
    assert listing(tmp_path) == before


@pytest.mark.parametrize("command", ["simulate", "gradcheck", "export"])
def test_an_output_folder_that_is_a_file_is_refused(command, tiny_scene, trajectory, tmp_path, capsys):
    out = tmp_path / "taken"
    out.write_text("keep me")
    args = {"simulate": ["simulate", tiny_scene], "gradcheck": ["gradcheck", tiny_scene, "--params", "wind.drag"],
            "export": ["export", trajectory, "--format", "vtk"]}[command]
    assert main([*map(str, args), "--out", str(out)]) == 2
    assert "exists and is not a folder" in one_error_line(capsys)
    assert out.read_text() == "keep me"


def test_render_refuses_a_folder_or_a_path_under_a_file_as_its_picture(trajectory, tmp_path, capsys):
    (tmp_path / "pictures").mkdir()
    assert main(["render", str(trajectory), "--out", str(tmp_path / "pictures")]) == 2
    assert "is a folder: expected a file name" in one_error_line(capsys)
    assert main(["render", str(trajectory), "--out", str(trajectory / "last.png")]) == 2
    assert f"{trajectory} is a file, not a folder" in one_error_line(capsys)
    assert listing(tmp_path) == ["pictures", "trajectory.npz"] and listing(tmp_path / "pictures") == []


@linux_only
def test_an_unwritable_place_is_refused_whoever_runs_it(tiny_scene, trajectory, capsys):
    """/proc takes no new files, not even from root (which permission bits do not stop)."""
    assert main(["simulate", str(tiny_scene), "--out", "/proc/warpweave-test/out"]) == 2
    assert "cannot write into /proc" in one_error_line(capsys)
    assert main(["render", str(trajectory), "--out", "/proc/warpweave-test.png"]) == 2
    assert "cannot write into /proc" in one_error_line(capsys)


def test_gradcheck_writes_into_a_folder_under_out_by_default(tiny_scene, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["gradcheck", str(tiny_scene), "--params", "wind.drag", "--steps", "3"]) == 0
    report = json.loads((tmp_path / "out" / "gradcheck-tiny" / "gradcheck.json").read_text())
    assert [row["name"] for row in report["parameters"]] == ["wind.drag"]
    printed = capsys.readouterr().out
    for column in ("adjoint", "tangent diff.", "central diff."):
        assert column in printed
    assert "all tangents as worlds of one rollout" in printed


def test_gradcheck_warns_when_its_step_leaves_the_physical_range(tiny_scene, tmp_path, capsys):
    assert main(["gradcheck", str(tiny_scene), "--params", "wind.drag", "--steps", "2", "--step", "1.5",
                 "--tolerance", "1", "--out", str(tmp_path / "check")]) in (0, 1)
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warpweave: warning:")]
    assert len(warnings) == 1 and "wind.drag: the check evaluates it at -0.25" in warnings[0], warnings
    assert "use a smaller --step" in warnings[0]


# -- memory and counts ------------------------------------------------------------------------------------
def test_a_run_that_cannot_fit_in_memory_is_refused_naming_the_estimate(tiny_scene, tmp_path, monkeypatch,
                                                                         capsys):
    monkeypatch.setattr(scenes, "available_memory", lambda device: 1_000_000)
    assert main(["simulate", str(tiny_scene), "--worlds", "200", "--out", str(tmp_path / "out")]) == 2
    line = one_error_line(capsys)
    assert "200 world(s) of 3 frames needs about" in line and "but 976.6 KiB is available" in line
    estimate = scenes.estimate_memory(scenes.load_scene(tiny_scene), worlds=200)
    assert f"engine {estimate.engine_bytes / 2**20:.1f} MiB" in line
    assert not (tmp_path / "out").exists()


def test_absurd_world_and_step_counts_are_refused(tiny_scene, tmp_path, capsys):
    assert main(["simulate", str(tiny_scene), "--worlds", "1000000", "--out", str(tmp_path / "out")]) == 2
    assert "argument --worlds: '1000000': expected at most 100_000 worlds" in one_error_line(capsys)
    assert main(["simulate", str(tiny_scene), "--steps", "1", "--out", str(tmp_path / "out")]) == 2
    assert "argument --steps: 1 is fewer than simulation.save_every = 2" in one_error_line(capsys)
    tiny_scene.write_text(TINY.replace("steps = 5", "steps = 5000000000"))
    assert main(["simulate", str(tiny_scene), "--out", str(tmp_path / "out")]) == 2
    assert "simulation.steps = 5000000000: expected an integer from 1 to 100000000" in one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_info_checks_the_device_like_simulate(tiny_scene, capsys):
    if scenes.cuda_device_count() > 7:
        pytest.skip("this machine has 8 CUDA devices")
    tiny_scene.write_text(TINY.replace('device = "cpu"', 'device = "cuda:7"'))
    assert main(["info", str(tiny_scene)]) == 2
    assert 'simulation.device = "cuda:7": expected a device that exists' in one_error_line(capsys)
    assert main(["info", str(DEMO), "--device", "cuda:7"]) == 2
    assert "argument --device: 'cuda:7': expected a device that exists" in one_error_line(capsys)


# -- scene and trajectory edge cases ---------------------------------------------------------------------
def test_a_scene_file_with_a_utf8_byte_order_mark_loads(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + TINY.encode())
    assert scenes.load_scene(path) == scenes.parse_scene(__import__("tomllib").loads(TINY))


def nonfinite_trajectory(folder: Path, array: str) -> Path:
    good = write_trajectory(folder / "good.npz")
    arrays = {"x": good.x.copy(), "u": good.u.copy(), "t": good.t.copy()}
    if array == "t":
        arrays["t"][2] = np.inf
    else:
        arrays[array][0, 1, 3, 4, 0] = np.nan
    path = folder / f"bad-{array}.npz"
    np.savez(path, scene=np.str_(good.scene_json), **arrays)  # written around save_trajectory's checks
    return path


@pytest.mark.parametrize(("array", "where"), [("x", "frame 1 (world 0)"), ("u", "frame 1 (world 0)"),
                                               ("t", "frame 2")])
def test_nan_or_inf_in_a_trajectory_file_is_refused_by_every_reader(array, where, tmp_path, capsys):
    path = nonfinite_trajectory(tmp_path, array)
    expected = f"{path}: array '{array}' holds NaN or Inf in {where}: expected finite values"
    with pytest.raises(scenes.TrajectoryError, match="holds NaN or Inf"):
        scenes.load_trajectory(path)
    assert main(["render", str(path), "--out", str(tmp_path / "a.png")]) == 2
    assert expected in one_error_line(capsys)
    assert main(["export", str(path), "--format", "obj", "--out", str(tmp_path / "obj")]) == 2
    assert expected in one_error_line(capsys)
    assert not (tmp_path / "a.png").exists() and not (tmp_path / "obj").exists()


def test_a_scene_file_given_where_a_trajectory_is_expected_is_named_as_such(tiny_scene, tmp_path, capsys):
    with pytest.raises(scenes.TrajectoryError, match="is a scene file"):
        scenes.load_trajectory(tiny_scene)
    assert main(["export", str(tiny_scene.with_suffix(".npz")), "--format", "obj", "--out", str(tmp_path / "o")]) == 2
    assert "no such trajectory file" in one_error_line(capsys)


def test_python_entry_points_say_what_they_expect_instead_of_failing_deep_inside():
    import simulator

    scene = scenes.load_scene(DEMO)
    with pytest.raises(TypeError, match=r"build_model\(specs\): expected a simulator.ClothSpec, got "
                                        r"scenes._schema.Scene; build one from a scene with scenes.build_spec"):
        simulator.build_model(scene)
    with pytest.raises(TypeError, match=r"load_scene\(path\): got TOML text, expected the path"):
        scenes.load_scene(DEMO.read_text())
    with pytest.raises(TypeError, match=r"simulate_scene\(scene\): expected a scenes.Scene, got builtins.str; "
                                        r"load one with scenes.load_scene\(path\)"):
        scenes.simulate_scene(str(DEMO))
    with pytest.raises(TypeError, match=r"build_spec\(scene\): expected a scenes.Scene"):
        scenes.build_spec(DEMO)
    model = simulator.build_model(scenes.build_spec(scene))
    with pytest.raises(TypeError, match=r"SolverImplicit\(model\): expected a simulator.Model"):
        simulator.SolverImplicit(scenes.build_spec(scene), dt=1e-3)
    assert model.world_count == 1


def test_gradcheck_of_a_parameter_that_is_zero_in_the_scene_is_a_user_error(tiny_scene, tmp_path, capsys):
    assert main(["gradcheck", str(tiny_scene), "--params", "wind.velocity.0", "--out", str(tmp_path / "g")]) == 2
    assert "wind.velocity.0 = 0 in the scene: the check takes relative steps" in one_error_line(capsys)
    assert not (tmp_path / "g").exists()
