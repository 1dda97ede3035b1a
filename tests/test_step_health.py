"""Unstable steps are caught, not written: a step that stretches yarns or turns segments beyond physical
bounds stops the rollout with SimulationError (step, world, quantity, a time step to try), while fast
rigid motion passes; ``simulation.substeps`` takes smaller internal steps at the same frame rate."""

import json
from pathlib import Path

import numpy as np
import pytest

import scenes
import simulator
from warpweave.cli import main

from .cloth_factory import hanging_spec

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "scenes" / "examples" / "hanging_wind.toml"


def reference_scene(**values) -> scenes.Scene:
    """The reference scene (17 x 17, cotton/polyester, wind) on the CPU with the given values."""
    base = {"simulation.device": "cpu", "simulation.save_every": 1}
    return scenes.with_parameters(scenes.load_scene(REFERENCE, check_device=False), base | values)


def test_the_reference_scene_at_half_a_second_per_step_stops_at_the_first_step_with_advice():
    scene = reference_scene(**{"simulation.dt": 0.5, "simulation.steps": 10})
    with pytest.raises(simulator.SimulationError) as info:
        scenes.simulate_scene(scene)
    error = info.value
    assert error.step == 1 and error.quantity == "yarn strain"
    assert 0.0 < error.suggested_dt <= 0.25
    message = str(error)
    assert message.startswith(f"{REFERENCE}: step 1: yarn strain reached ")
    assert "in world 0 (bound 0.5)" in message and "set simulation.substeps = " in message


def test_the_command_line_writes_nothing_for_an_unresolved_run(tmp_path, capsys):
    path = tmp_path / "coarse.toml"
    path.write_text(scenes.scene_to_toml(reference_scene(**{"simulation.dt": 0.5, "simulation.steps": 4})))
    assert main(["simulate", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith(f"warpweave: error: simulation failed: {path}: step 1: yarn strain")
    assert not (tmp_path / "out").exists()


def test_substeps_make_the_coarse_reference_scene_physically_sane():
    """dt = 0.5 s taken as 200 substeps of 2.5 ms: 10 frames 0.5 s apart, the cloth stays at its pins."""
    scene = reference_scene(**{"simulation.dt": 0.5, "simulation.steps": 10, "simulation.substeps": 200})
    run = scenes.simulate_scene(scene)
    x = run.trajectory.x[0]
    np.testing.assert_allclose(run.trajectory.t, 0.5 * np.arange(11))
    size = 16e-3  # the cloth is 16 mm wide
    assert np.abs(x - x[0]).max() < 2 * size
    for corner in ((0, 0), (16, 0)):
        assert np.abs(x[:, corner[0], corner[1]] - x[0, corner[0], corner[1]]).max() < 1e-4


def test_substeps_are_the_same_as_a_smaller_dt_with_more_steps():
    coarse = reference_scene(**{"cloth.nodes": [7, 7], "simulation.dt": 4e-3, "simulation.steps": 6,
                                "simulation.save_every": 2, "simulation.substeps": 4})
    fine = reference_scene(**{"cloth.nodes": [7, 7], "simulation.dt": 1e-3, "simulation.steps": 24,
                              "simulation.save_every": 8})
    a, b = scenes.simulate_scene(coarse).trajectory, scenes.simulate_scene(fine).trajectory
    np.testing.assert_allclose(a.t, b.t, rtol=1e-15)
    np.testing.assert_allclose(a.x, b.x, rtol=0, atol=1e-15)
    np.testing.assert_allclose(a.u, b.u, rtol=0, atol=1e-15)


def test_fast_rigid_motion_is_not_mistaken_for_an_unresolved_step():
    """A free cloth falls 10 spacings per step after 1 s: the segments keep their shape, so it passes."""
    spec = hanging_spec((5, 5), pins=[], wind=(0.0, 0.0, 0.0), wind_density=0.0, wind_drag=0.0, pose="flat")
    model = simulator.build_model(spec)
    state = model.state()
    qd = state.qd.numpy()
    qd[..., 2] = -10.0  # 10 m/s down: 10 mm = 10 spacings per 1 ms step
    state.qd.assign(qd)
    result = simulator.rollout(model, simulator.SolverImplicit(model, dt=1e-3), steps=5, state=state)
    fall = result.x[0, -1, ..., 2] - result.x[0, 0, ..., 2]
    assert np.all(fall < -0.05)


def test_a_violent_step_is_caught_by_the_segment_change_bound():
    """Nodes thrown apart at 50 m/s: in one 1 ms step a segment changes by far more than its length."""
    spec = hanging_spec((5, 5), pins=[], wind=(0.0, 0.0, 0.0), wind_density=0.0, wind_drag=0.0, pose="flat")
    model = simulator.build_model(spec)
    state = model.state()
    qd = state.qd.numpy()
    qd[0, 12, 2] = 50.0  # the middle node only
    state.qd.assign(qd)
    limits = simulator.StepLimits(max_strain=1e9, max_segment_change=1.0)
    with pytest.raises(simulator.SimulationError, match=r"step 1: segment change in one step \[spacings\] "
                                                        r"reached [0-9.]+ in world 0 \(bound 1\)") as info:
        simulator.rollout(model, simulator.SolverImplicit(model, dt=1e-3), steps=3, state=state, limits=limits)
    assert info.value.suggested_dt <= 5e-4


def test_each_world_is_checked_and_named():
    specs = [hanging_spec((5, 5)), hanging_spec((5, 5), yarns=[hanging_spec((5, 5)).warp_materials[0]])]
    model = simulator.build_model(specs)
    monitor = simulator.StepMonitor(model, dt=1e-3)
    before, after = model.state(), model.state()
    q = after.q.numpy()
    q[1, 12, 0] += 0.9e-3  # stretch one segment of world 1 by 90 %
    after.q.assign(q)
    with pytest.raises(simulator.SimulationError, match=r"step 7: yarn strain reached 0.9 in world 1"):
        monitor.check(before, after, 7)
    monitor.check(before, before, 8)  # the rest state passes


@pytest.mark.parametrize("values", [{"max_strain": 0.0}, {"max_segment_change": float("nan")}])
def test_step_limits_must_be_positive_numbers(values):
    with pytest.raises(ValueError, match="expected a finite number > 0"):
        simulator.StepLimits(**values)


def test_the_summary_of_a_substepped_run_counts_its_steps_in_dt(tmp_path):
    path = tmp_path / "sub.toml"
    scene = reference_scene(**{"cloth.nodes": [5, 5], "simulation.dt": 2e-3, "simulation.steps": 4,
                               "simulation.substeps": 2})
    path.write_text(scenes.scene_to_toml(scene))
    assert main(["simulate", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["frames"] == 5 and summary["substeps"] == 2
    assert scenes.load_trajectory(tmp_path / "out" / "trajectory.npz").t[-1] == pytest.approx(8e-3)
