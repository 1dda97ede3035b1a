"""The ``warpweave`` command line: user errors are one line with exit status 2 and leave nothing behind;
each command writes what it promises."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import scenes
import simulator
from warpweave._progress import ProgressBar
from warpweave.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO_SCENE = Path(scenes.__file__).parent / "examples" / "demo.toml"

TINY = """\
[simulation]
dt = 0.001
steps = 5
device = "cpu"
save_every = 2

[cloth]
nodes = [5, 5]
spacing = 0.001
yarn_radius = 0.0005
origin = [0.0, 0.0, 5.0]
warp_yarns = ["cotton", "polyester"]
weft_yarns = ["cotton", "polyester"]

[materials.cotton]
preset = "gong2022_cotton"

[materials.polyester]
preset = "gong2022_polyester"

[[pins]]
nodes = "top_corners"
stiffness = 10000.0

[wind]
velocity = [0.0, 5.0, 0.0]
density = 2.0
drag = 0.5
"""


def run_cli(*args, timeout=300) -> subprocess.CompletedProcess:
    """Run ``python -m warpweave ARGS`` in a fresh interpreter from the repository root."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "warpweave", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_user_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("warpweave: error: ") and fragment in lines[0], lines[0]


@pytest.fixture
def tiny_scene(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


# -- user errors, in a real subprocess -----------------------------------------------------------------
def test_missing_scene_file_is_one_line_and_status_2(tmp_path):
    result = run_cli("simulate", tmp_path / "missing.toml", "--out", tmp_path / "out")
    assert_user_error(result, "missing.toml: no such scene file")
    assert not (tmp_path / "out").exists()


def test_invalid_toml_and_unknown_key_are_one_line_and_status_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace("steps = 5", "steps = = 5"))
    assert_user_error(run_cli("info", bad), "invalid TOML: Invalid value (at line 3")
    bad.write_text(TINY.replace("spacing", "spcing"))
    assert_user_error(run_cli("simulate", bad, "--out", tmp_path / "out"), "did you mean 'spacing'?")
    assert not (tmp_path / "out").exists()


def test_bad_flags_are_one_line_and_status_2(tiny_scene, tmp_path):
    assert_user_error(
        run_cli("simulate", tiny_scene, "--steps", "0"), "argument --steps: '0': expected an integer >= 1"
    )
    assert_user_error(
        run_cli("simulate", tiny_scene, "--device", "gpu"), "argument --device: 'gpu': expected"
    )
    assert_user_error(
        run_cli("render", tiny_scene, "--out", tmp_path / "a.png", "--color", "heat"),
        "argument --color: invalid choice: 'heat'",
    )
    assert_user_error(run_cli("frobnicate"), "invalid choice: 'frobnicate'")


def test_impossible_device_in_the_scene_is_one_line_and_status_2(tiny_scene, tmp_path):
    if scenes.cuda_device_count() > 7:
        pytest.skip("this machine has 8 CUDA devices")
    tiny_scene.write_text(TINY.replace('device = "cpu"', 'device = "cuda:7"'))
    assert_user_error(
        run_cli("simulate", tiny_scene, "--out", tmp_path / "out"),
        'simulation.device = "cuda:7": expected a device that exists',
    )


def test_bad_trajectory_file_is_one_line_and_status_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "trajectory.npz"
    bad.write_text("not numpy")
    assert_user_error(
        run_cli("render", bad, "--out", tmp_path / "picture.png"), "not a readable trajectory file"
    )
    assert_user_error(run_cli("export", bad, "--format", "vtk", "--out", tmp_path / "vtk"), "trajectory.npz")
    assert sorted(os.listdir(tmp_path)) == ["trajectory.npz"]


# -- commands, in process --------------------------------------------------------------------------------
def test_info_reports_nodes_crossings_dofs_and_materials(capsys):
    assert main(["info", str(DEMO_SCENE.parent / "hanging_wind.toml")]) == 0
    out = capsys.readouterr().out
    assert "17 x 17 nodes" in out and "crossings   225" in out
    assert "DOFs        1317 per world" in out  # 3*17*17 + 2*15*15
    assert "cotton: density 0.002 kg/m" in out and "2.1 MiB for the engine's arrays" in out
    # what the yarn parameters mean for the fabric, and that the original experiments' values are no real fabric
    assert "areal density 4471 g/m^2" in out and "bending length 1.31/1.31 mm" in out  # 9 cotton, 8 polyester
    assert "not a real woven fabric: areal density 4.47 kg/m^2" in out


def test_the_memory_estimate_is_what_the_engine_holds_at_other_sizes_and_world_counts():
    """Extrapolated from small grids, the estimate equals the bytes of every array the engine holds when
    built at the scene's own size (one not probed, non-square) and world count."""
    import simulator

    scene = scenes.with_parameters(scenes.load_scene(DEMO_SCENE.parent / "twill_wind.toml", check_device=False),
                                   {"cloth.nodes": [23, 14]})
    estimate = scenes.estimate_memory(scene, worlds=3)
    model = simulator.build_model([scenes.build_spec(scene)] * 3, device="cpu")
    solver = simulator.SolverImplicit(model, dt=scene.simulation.dt)
    held = simulator.array_bytes(model, solver, model.state(), model.state())
    assert estimate.engine_bytes == pytest.approx(held, rel=1e-3)
    assert estimate.trajectory_bytes == 3 * scene.simulation.frames * 23 * 14 * 10 * 8


def write_trajectory(path: Path, frames=3) -> scenes.Trajectory:
    scene = scenes.load_scene(DEMO_SCENE)
    rest = scenes.rest_trajectory(scene)
    x = np.repeat(rest.x, frames, axis=1)
    x[0, :, :, :, 1] += (
        1e-3 * np.linspace(0.0, 1.0, frames)[:, None, None] * np.sin(np.arange(10) / 3)[:, None]
    )
    scenes.save_trajectory(
        path, x=x, u=np.repeat(rest.u, frames, axis=1), t=np.arange(frames) * 0.01, scene_json=rest.scene_json
    )
    return scenes.load_trajectory(path)


def test_render_writes_png_and_gif(tmp_path, capsys):
    write_trajectory(tmp_path / "trajectory.npz")
    assert (
        main(
            [
                "render",
                str(tmp_path / "trajectory.npz"),
                "--out",
                str(tmp_path / "last.png"),
                "--yarns",
                "--size",
                "200x150",
                "--frame",
                "-2",
                "--color",
                "sliding",
                "--style",
                "surface",
                "--zoom",
                "1.5",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "render",
                str(tmp_path / "trajectory.npz"),
                "--out",
                str(tmp_path / "all.gif"),
                "--size",
                "120x90",
            ]
        )
        == 0
    )
    import imageio.v3 as iio

    assert iio.imread(tmp_path / "last.png").shape == (150, 200, 3)
    assert iio.imread(tmp_path / "all.gif", index=None).shape[0] == 3
    printed = capsys.readouterr()
    assert "wrote" in printed.out and "3/3" in printed.err  # the animation's progress


def test_render_of_a_scene_file_previews_its_initial_state(tmp_path):
    assert main(["render", str(DEMO_SCENE), "--out", str(tmp_path / "preview.png"), "--size", "160x120"]) == 0
    assert (tmp_path / "preview.png").stat().st_size > 0


def test_export_writes_vtk_and_obj(tmp_path):
    write_trajectory(tmp_path / "trajectory.npz")
    assert (
        main(["export", str(tmp_path / "trajectory.npz"), "--format", "vtk", "--out", str(tmp_path / "vtk")])
        == 0
    )
    assert (
        main(["export", str(tmp_path / "trajectory.npz"), "--format", "obj", "--out", str(tmp_path / "obj")])
        == 0
    )
    assert (
        sorted(os.listdir(tmp_path / "vtk"))[-1] == "cloth_0002.vtp"
        and (tmp_path / "vtk" / "cloth.pvd").exists()
    )
    assert len(os.listdir(tmp_path / "obj")) == 3


def test_render_errors_in_process_return_status_2(tmp_path, capsys):
    write_trajectory(tmp_path / "trajectory.npz")
    assert (
        main(["render", str(tmp_path / "trajectory.npz"), "--out", str(tmp_path / "a.png"), "--frame", "9"])
        == 2
    )
    assert main(["render", str(tmp_path / "trajectory.npz"), "--out", str(tmp_path / "a.bmp")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors[0].startswith("warpweave: error: frame = 9: expected a frame index from -3 to 2")
    assert "unknown picture type '.bmp'" in errors[1]
    assert sorted(os.listdir(tmp_path)) == ["trajectory.npz"]


# -- simulate with a stand-in engine (tests the command's plumbing, not the physics) ----------------------
class FakeEngine:
    """Replaces simulator.build_model / SolverImplicit / rollout (and the memory estimate, which builds the
    engine); the cloth moves down 1 mm per step."""

    def __init__(self, monkeypatch, *, fail_at=None, interrupt_at=None):
        self.fail_at, self.interrupt_at = fail_at, interrupt_at
        monkeypatch.setattr(scenes, "estimate_memory", lambda scene, *, worlds: scenes.MemoryEstimate(1000, 1000))
        monkeypatch.setattr(simulator, "build_model", self.build_model)
        monkeypatch.setattr(simulator, "SolverImplicit", lambda model, *, dt, **options: {"dt": dt})
        monkeypatch.setattr(simulator, "rollout", self.rollout)

    def build_model(self, specs, *, device=None):
        self.device = device
        return list(specs)

    def rollout(self, model, solver, *, steps, save_every=1, progress=None):
        x0 = np.stack([spec.rest_positions() for spec in model])
        frames = [0]
        for k in range(1, steps + 1):
            if k == self.fail_at:
                raise simulator.SimulationError(f"step {k}: position z became NaN/Inf at 1 node(s)")
            if k == self.interrupt_at:
                raise KeyboardInterrupt
            if k % save_every == 0:
                frames.append(k)
            if progress is not None:
                progress(k, steps)
        k = np.asarray(frames, dtype=float)
        x = x0[:, None] + np.array([0.0, 0.0, -1e-3])[None, None, None, None] * k[None, :, None, None, None]
        u = np.zeros((*x.shape[:-1], 2))
        health = simulator.SolveHealth()
        for step in range(1, steps + 1):
            health.steps.append(step)
            health.iterations.append(np.full(len(model), 7))
            health.residual.append(np.full(len(model), 1e-7))
            health.converged.append(np.ones(len(model), dtype=bool))
        return simulator.Rollout(x=x, u=u, xdot=np.zeros_like(x), udot=np.zeros_like(u), t=k * solver["dt"],
                                 health=health)


def test_simulate_writes_trajectory_and_summary_with_progress(tiny_scene, tmp_path, monkeypatch, capsys):
    FakeEngine(monkeypatch)
    out = tmp_path / "out"
    assert main(["simulate", str(tiny_scene), "--out", str(out), "--worlds", "3", "--steps", "6"]) == 0
    trajectory = scenes.load_trajectory(out / "trajectory.npz")
    assert trajectory.x.shape == (3, 4, 5, 5, 3)  # frames 0, 2, 4, 6
    assert trajectory.scene().simulation.steps == 6
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 6 and summary["worlds"] == 3 and summary["device"] == "cpu"
    assert summary["solver_iterations_mean"] == 7.0 and summary["solver_iterations_max"] == 7
    assert summary["world_steps_per_second"] == pytest.approx(3 * summary["steps_per_second"])
    captured = capsys.readouterr()
    assert "100%" in captured.err and "6/6" in captured.err and "step/s" in captured.err
    assert f"wrote {out / 'trajectory.npz'}" in captured.out
    assert sorted(os.listdir(out)) == ["summary.json", "trajectory.npz"]


def test_simulate_quiet_prints_nothing(tiny_scene, tmp_path, monkeypatch, capsys):
    FakeEngine(monkeypatch)
    assert main(["simulate", str(tiny_scene), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("engine", "status", "message"),
    [
        ({"fail_at": 3}, 1, "warpweave: error: simulation failed: {scene}: step 3: position z became NaN/Inf"),
        ({"interrupt_at": 2}, 130, "warpweave: error: interrupted"),
    ],
)
def test_a_failed_simulation_writes_nothing(
    tiny_scene, tmp_path, monkeypatch, capsys, engine, status, message
):
    FakeEngine(monkeypatch, **engine)
    assert main(["simulate", str(tiny_scene), "--out", str(tmp_path / "out"), "--quiet"]) == status
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and errors[0].startswith(message.format(scene=tiny_scene)), errors
    assert not (tmp_path / "out").exists()


def test_simulate_refuses_an_output_path_that_is_a_file(tiny_scene, tmp_path, capsys):
    (tmp_path / "out").write_text("")
    assert main(["simulate", str(tiny_scene), "--out", str(tmp_path / "out")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err


# -- simulate with the real engine --------------------------------------------------------------------
@pytest.mark.skipif(
    not hasattr(simulator, "rollout"), reason="the engine (simulator.rollout) is not there yet"
)
def test_simulate_runs_the_engine_and_its_output_renders(tiny_scene, tmp_path):
    out = tmp_path / "out"
    result = run_cli("simulate", tiny_scene, "--out", out, "--worlds", "2", timeout=600)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "5/5" in result.stderr
    trajectory = scenes.load_trajectory(out / "trajectory.npz")
    assert trajectory.x.shape == (2, 3, 5, 5, 3) and np.all(np.isfinite(trajectory.x))
    np.testing.assert_allclose(trajectory.t, [0.0, 0.002, 0.004])
    np.testing.assert_allclose(trajectory.x[0], trajectory.x[1])  # identical worlds
    assert not np.allclose(trajectory.x[0, -1], trajectory.x[0, 0])  # the cloth moved
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 5 and summary["solver_iterations_max"] >= 1
    assert (
        main(["render", str(out / "trajectory.npz"), "--out", str(out / "last.png"), "--size", "160x120"])
        == 0
    )


# -- the progress bar -------------------------------------------------------------------------------------
def test_progress_bar_counts_from_the_first_step_and_ends_at_the_total():
    stream = io.StringIO()
    bar = ProgressBar(label="simulate", stream=stream, log_interval=0.0)
    bar(1, 11)
    bar(6, 11)
    bar.describe("loss 1.000e-03")
    bar(11, 11)
    bar.close()
    states = [line for line in stream.getvalue().replace("\r", "\n").splitlines() if line.strip()]
    assert states[0].startswith("simulate:") and "1/11" in states[0] and "?step/s" in states[0]
    assert any("6/11" in line for line in states)
    assert "11/11" in states[-1] and "100%" in states[-1] and "loss 1.000e-03" in states[-1]
    assert stream.getvalue().endswith("\n")


def test_a_progress_bar_that_never_started_writes_nothing():
    stream = io.StringIO()
    ProgressBar(label="simulate", stream=stream).close()
    assert stream.getvalue() == ""


def test_a_fit_progress_bar_says_when_the_search_starts_again():
    from types import SimpleNamespace

    from warpweave._fitting import _FitProgress

    bar = _FitProgress(10, label="fit")
    bar.stream = io.StringIO()
    bar.interval = 0.0
    for iteration in (0, 1, 2, 0, 1):  # a fit, then outlier rejection's refit from its values
        bar(SimpleNamespace(iteration=iteration, loss=1e-3, best=1e-3))
    bar.close()
    assert bar.refits == 1 and "refit 1: loss 1.000e-03" in bar.stream.getvalue().replace("\r", "\n").splitlines()[-1]
