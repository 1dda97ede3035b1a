"""The yarn pull-out test: its force-displacement curve (what the handle pulls with, balanced by the clamps),
and the crossing friction fitted from the pulled yarn's motion (started 30% off)."""

import numpy as np
import pytest

import scenes
from learning import cloth
from scenes.handles import handle_curves, write_handle_curves
from warpweave.cli import main

from .test_cloth_objective import synthetic

PULLOUT = scenes.load_scene(scenes.__path__[0] + "/examples/pullout.toml", check_device=False)


def small_pullout(steps=120, save_every=3, **values):
    """The pull-out scene on an 11 x 9 swatch (clamped rows 0 and 8, the middle warp yarn pulled by 0.5 mm)."""
    clamps = [[i, 0] for i in range(11)] + [[i, 8] for i in range(11)]
    scene = scenes.with_parameters(PULLOUT, {"cloth.nodes": [11, 9], "simulation.steps": steps,
                                             "simulation.save_every": save_every, "pins[0].nodes": clamps,
                                             "pins[1].nodes": [[10, 4]], "pins[1].path[1].time": steps * 1e-3,
                                             "pins[1].path[1].offset.0": 0.0005, **values})
    return scene


def test_the_handle_pulls_what_the_clamps_hold_and_more_as_the_yarn_slides(tmp_path):
    """Pulled slowly without gravity, the handle's force is balanced by the clamps' (Newton's third law, within
    1% of it at the end); it grows with the displacement; handles.csv and handles.png are written."""
    scene = small_pullout()
    trajectory = synthetic(scene, scene.simulation.steps, save_every=scene.simulation.save_every)
    trajectory = scenes.Trajectory(x=trajectory.x, u=trajectory.u, t=trajectory.t, scene_json=trajectory.scene_json)
    (curve,) = handle_curves(trajectory)
    assert curve.group == 1 and curve.displacement[-1] == pytest.approx(0.0005)
    clamps = np.array(scene.pins[0].resolve(scene.cloth.nodes))
    rest = scenes.build_spec(scene).rest_positions()[clamps[:, 0], clamps[:, 1]]
    held = scene.pins[0].stiffness * (rest - trajectory.x[0, -1, clamps[:, 0], clamps[:, 1]]).sum(axis=0)
    assert np.linalg.norm(curve.force[-1] + held) < 0.01 * np.linalg.norm(curve.force[-1])
    assert curve.along[-1] > 0 and np.all(np.diff(curve.along[len(curve.along) // 4:]) > 0)
    files = write_handle_curves(trajectory, tmp_path)
    assert [f.name for f in files] == ["handles.csv", "handles.png"]
    assert len((tmp_path / "handles.csv").read_text().splitlines()) == len(curve.time) + 1


def test_the_pulled_yarn_slides_through_the_crossings():
    """The pulled warp yarn's material moves towards the handle at every crossing (u falls), more near it."""
    scene = small_pullout()
    trajectory = synthetic(scene, scene.simulation.steps)
    slide = trajectory.u[0, -1, 1:-1, 4, 0] - np.arange(1, 10) * scene.cloth.spacing
    assert np.all(slide < -1e-5) and slide[-1] < slide[0]


def test_the_crossing_friction_is_fitted_from_the_pull_out():
    """Started 30% off, the crossing friction comes back within 0.1% from the 41 frames of the small pull-out
    (the issue asks for 5%)."""
    scene = small_pullout()
    observations = cloth.observations_from_trajectory(synthetic(scene, scene.simulation.steps, save_every=3), scene)
    space = cloth.scene_parameter_space(scene, ["weave.friction"], initial={"weave.friction": 0.39})
    fit = cloth.fit_scene(scene, observations, space)
    assert fit.result.values[0] == pytest.approx(0.3, rel=1e-3)


@pytest.mark.slow
def test_the_example_pull_out_fit_recovers_the_friction_within_five_percent(tmp_path):
    """The example scene end to end: simulate 100 frames, fit weave.friction from 0.39: within 5% of 0.3."""
    out = tmp_path / "pullout"
    path = scenes.__path__[0] + "/examples/pullout.toml"
    assert main(["simulate", path, "--out", str(out), "--quiet"]) == 0
    assert (out / "handles.png").exists()
    fit_dir = tmp_path / "fit"
    assert main(["fit", path, "--observed", str(out / "trajectory.npz"), "--params", "weave.friction",
                 "--initial", "weave.friction=0.39", "--out", str(fit_dir), "--quiet"]) == 0
    fitted = scenes.load_scene(fit_dir / "fitted.toml", check_device=False).weave.friction
    assert fitted == pytest.approx(0.3, rel=0.05)
