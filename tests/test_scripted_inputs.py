"""Scripted inputs in scene files: keyframed pin paths (a handle that lifts and shakes the cloth) and a keyframed
wind (a gust) drive every rollout; they are parameters like any other (dotted names, fit and gradcheck), and the
gradient of a final-shape loss with respect to the keyframes matches central differences."""

import tomllib
from pathlib import Path

import numpy as np
import pytest

import scenes
import simulator
from learning.gradcheck import check_scene_gradients

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "scenes" / "examples" / "hanging_wind.toml"

HANDLE = [{"time": 0.0, "offset": [0.0, 0.0, 0.0]}, {"time": 0.01, "offset": [0.0, 1e-4, 1e-3]},
          {"time": 0.02, "offset": [6e-4, 1e-4, 1e-3]}, {"time": 0.03, "offset": [-6e-4, 1e-4, 1e-3]}]
GUST = [{"time": 0.0, "velocity": [0.0, 5.0, 0.0]}, {"time": 0.01, "velocity": [0.0, 5.0, 0.0]},
        {"time": 0.02, "velocity": [1.0, 9.0, 0.5]}]


def scripted(nodes=(17, 17), steps=30, handle=HANDLE, gust=GUST) -> scenes.Scene:
    """The reference scene on the CPU whose two top corners follow ``handle`` and whose wind follows ``gust``."""
    data = scenes.scene_to_dict(scenes.load_scene(REFERENCE, check_device=False))
    data["simulation"].update(steps=steps, save_every=1, device="cpu")
    data["cloth"]["nodes"] = list(nodes)
    data["pins"][0]["path"] = handle
    if gust:
        data["wind"]["path"] = gust
    return scenes.parse_scene(data, source="scripted.toml")


def test_the_handle_lifts_and_shakes_the_cloth_along_its_keyframes():
    run = scenes.simulate_scene(scripted())
    x = run.trajectory.x[0]
    t = run.trajectory.t
    expected = np.stack([np.interp(t, [k["time"] for k in HANDLE], [k["offset"][c] for k in HANDLE])
                         for c in range(3)], axis=-1)
    for corner in ((0, 0), (16, 0)):
        moved = x[:, corner[0], corner[1]] - x[0, corner[0], corner[1]]
        np.testing.assert_allclose(moved, expected, rtol=0.0, atol=3e-6)  # pins are springs of 1e4 N/m
    bottom = x[:, 8, 16] - x[0, 8, 16]
    assert bottom[-1, 2] > 2e-4  # the lifted cloth follows, with a delay
    assert np.abs(np.diff(bottom[:, 0])).max() > 1e-6  # and sways with the shake


def test_a_gust_changes_the_motion_only_after_it_starts():
    calm = scenes.simulate_scene(scripted(nodes=(9, 9), gust=[{"time": 0.0, "velocity": [0.0, 5.0, 0.0]}]))
    gusty = scenes.simulate_scene(scripted(nodes=(9, 9)))
    x_calm, x_gust = calm.trajectory.x[0], gusty.trajectory.x[0]
    np.testing.assert_array_equal(x_calm[:11], x_gust[:11])  # the gust starts to blow at t = 0.01 s
    assert np.abs(x_calm[12] - x_gust[12]).max() > 0.0
    assert np.abs(x_calm[-1] - x_gust[-1]).max() > 1e-5


def test_keyframes_are_parameters_with_dotted_names_and_round_trip_through_the_scene_file():
    scene = scripted(nodes=(5, 5))
    names = scenes.fittable_names(scene)
    assert "pins[0].path[3].offset.0" in names and "wind.path[2].velocity.2" in names
    assert scenes.expand_names(scene, ["pins[0].path"]) == tuple(
        f"pins[0].path[{k}].offset.{c}" for k in range(4) for c in range(3))
    assert scenes.get_parameter(scene, "pins[0].path[2].offset.0") == 6e-4
    assert scenes.fittable_parameter("pins[0].path[2].offset.0").unit == "m"
    moved = scenes.with_parameters(scene, {"pins[0].path[2].offset.0": 1e-3})
    assert moved.pins[0].path[2].value[0] == 1e-3
    again = scenes.parse_scene(tomllib.loads(scenes.scene_to_toml(moved)), source="again.toml")
    assert again == moved


@pytest.mark.parametrize(("path", "fragment"), [
    ([{"time": 0.0, "offset": [0, 0, 0]}, {"time": 0.0, "offset": [0, 0, 1e-3]}],
     "pins[0].path[1].time = 0.0: expected a time after the previous keyframe's 0.0 s"),
    ([{"time": -1.0, "offset": [0, 0, 0]}], "pins[0].path[0].time = -1.0 is out of range"),
    ([{"time": 0.0, "offset": [0, 0]}], "pins[0].path[0].offset = [0, 0]: expected a list of 3 numbers"),
    ([{"time": 0.0, "ofset": [0, 0, 0]}], "did you mean 'offset'?"),
])
def test_bad_keyframes_are_one_line_naming_the_keyframe(path, fragment):
    with pytest.raises(scenes.SceneError) as info:
        scripted(nodes=(5, 5), handle=path)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_the_gradient_of_a_final_shape_with_respect_to_the_keyframes_matches_central_differences():
    """Adjoint, tangent differences and central differences of a loss on the final shape of the reference
    cloth (17 x 17) with respect to keyframes of the handle and of the gust agree to 1e-5."""
    scene = scripted(steps=24)
    names = ["pins[0].path[1].offset.2", "pins[0].path[2].offset.0", "pins[0].path[1].offset.1",
             "wind.path[2].velocity.1"]
    result = check_scene_gradients(scene, names, steps=24, loss="final", tolerance=1e-5)
    for row in result.rows:
        assert row.adjoint != 0.0, row
        assert row.adjoint_vs_central <= 1e-5 and row.tangent_vs_adjoint <= 1e-5, row
    assert result.passed


def test_a_model_with_keyframes_differentiates_them_in_every_world():
    """Two worlds with different handle motions: the reverse-mode gradient with respect to the keyframe array
    (per world) equals central differences of each world's loss, every forward and adjoint solve converged."""
    worlds = [scenes.build_spec(scripted(nodes=(6, 6), steps=12)),
              scenes.build_spec(scripted(nodes=(6, 6), steps=12, handle=[{**k, "offset": [1.1 * v for v in k["offset"]]}
                                                                         for k in HANDLE]))]
    model = simulator.build_model(worlds)
    solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-13, max_iterations=3000)
    target = simulator.rollout(model, solver, steps=12).x[:, [12]] + 1e-5
    loss = simulator.TrajectoryLoss(model, steps=[12], positions=target)
    result = simulator.rollout_gradient(model, solver, loss, steps=12)
    assert result.health.unconverged == 0 and result.adjoint_health.unconverged == 0
    grad = result.parameters.numpy()["pin_path_offset"]
    base = model.parameter("pin_path_offset")
    eps = 1e-7
    for b, k, c in ((0, 2, 0), (1, 1, 2)):
        values = []
        for sign in (1.0, -1.0):
            shifted = base.copy()
            shifted[b, k, c] += sign * eps
            model.set_parameter("pin_path_offset", shifted)
            values.append(float(loss.value(12, _final_state(model, solver, 12))[b]))
        model.set_parameter("pin_path_offset", base)
        central = (values[0] - values[1]) / (2 * eps)
        assert grad[b, k, c] == pytest.approx(central, rel=1e-5), (b, k, c)


def _final_state(model, solver, steps):
    for _t, _previous, current in simulator.advance(model, solver, steps=steps):
        final = current
    return final
