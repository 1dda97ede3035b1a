"""Point tracks through calibrated cameras as observations (learning.cloth._tracks, simulator.MaterialPointLoss):
material points are bilinear on the grid, the engine's reprojection loss equals the numpy residuals, its reverse-
mode gradient matches central differences, several observation models add up, and a fit from the tracks of one or
two cameras recovers the yarns' density, Young's and bending moduli from 30% off."""

import dataclasses

import numpy as np
import pytest
import torch

import scenes
from learning import cloth
from learning.fit import FitError
from scenes._schema import SceneCamera
from scenes.cameras import Camera

from .test_cloth_objective import MATERIALS, small_scene, synthetic

STEPS = 40


def look(centre, name, offset, **options) -> Camera:
    return Camera.look_at(name=name, resolution=(640, 480), position=centre + np.asarray(offset), look_at=centre,
                          up=[0.0, 0.0, 1.0], fov_y=30.0, **options)


@pytest.fixture(scope="module")
def filmed():
    """The 7 x 7 reference cloth for 40 steps, filmed by a 240 fps look-at camera and a 300 fps OpenCV camera
    with skew and distortion starting between steps, tracking every crossing and ten points inside cells."""
    scene = small_scene()
    trajectory = synthetic(scene, STEPS)
    centre = trajectory.x[0, 0].reshape(-1, 3).mean(axis=0)
    front = look(centre, "front", [0.003, -0.03, 0.002], fps=240.0)
    aside = look(centre, "aside", [0.025, -0.02, 0.004])
    K = aside.K.copy()
    K[0, 1] = 1.5
    side = Camera(name="side", resolution=(640, 480), K=K, R=aside.R, t=aside.t, dist=(-0.1, 0.02, 0.001, -0.0005),
                  fps=300.0, start_time=0.0021)
    width, height = scene.cloth.nodes
    crossings = np.stack(np.meshgrid(np.arange(width), np.arange(height), indexing="ij"), -1).reshape(-1, 2)
    inside = crossings[(crossings < [width - 1, height - 1]).all(axis=1)][::3][:10] + [0.37, 0.61]
    points = np.concatenate([crossings, inside]).astype(float)
    tracks = [cloth.tracks_from_trajectory(trajectory, camera, points) for camera in (front, side)]
    return scene, trajectory, tracks


def test_material_points_are_bilinear_on_the_grid():
    points = np.array([[0.0, 0.0], [2.0, 3.0], [4.0, 5.0], [1.25, 0.5], [3.9, 4.99]])
    corners, weights = cloth.material_points(points, (5, 6))
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert corners[1, 0] == 2 + 3 * 5 and weights[1, 0] == 1.0  # a crossing is its node
    assert weights[2, 3] == 1.0 and corners[2, 3] == 4 + 5 * 5  # the last node, through the last cell
    affine = np.array([[0.3, -0.1, 0.2], [0.05, 0.4, -0.3]])
    i, j = np.meshgrid(np.arange(5.0), np.arange(6.0), indexing="ij")
    x = np.stack([i, j], axis=-1) @ affine + [1.0, 2.0, 3.0]  # [5, 6, 3]: bilinear is exact for an affine map
    np.testing.assert_allclose(cloth.material_positions(x, points), points @ affine + [1.0, 2.0, 3.0], atol=1e-14)
    with pytest.raises(FitError, match="must lie on the 5 x 6 grid"):
        cloth.material_points([[4.5, 0.0]], (5, 6))


def test_the_engine_loss_equals_the_residuals_and_its_gradient_matches_central_differences(filmed):
    scene, _, tracks = filmed
    names = MATERIALS[:3]
    initial = {n: float(scenes.get_parameter(scene, n)) * 1.1 for n in names}
    space = cloth.scene_parameter_space(scene, names, initial=initial)
    objective = cloth.ClothObjective(scene, tracks, space)
    # the rollout ends at the step after the last frame (side: 0.0021 s + 11 / 300 s = 38.8 steps), and reads only
    # the steps around the frames
    assert objective.steps == 39 and len(objective.read_steps) < 39
    theta = torch.as_tensor(space.initial_theta())
    value, grad = objective.value_and_grad(theta)  # simulator.MaterialPointLoss
    r = objective.residuals(theta)  # numpy projections
    assert value == pytest.approx(float(r @ r), rel=1e-11) and value > 0.1  # px^2
    tangents = np.random.default_rng(0).normal(size=(3, space.dim))
    step = 1e-5
    central = np.array([(objective.value(theta + step * torch.as_tensor(v))
                         - objective.value(theta - step * torch.as_tensor(v))) / (2 * step) for v in tangents])
    np.testing.assert_allclose(tangents @ grad.numpy(), central, rtol=1e-5)


def test_node_trajectories_and_tracks_add_up(filmed):
    scene, trajectory, tracks = filmed
    observations = cloth.observations_from_trajectory(trajectory, scene, frame_indices=[0, 10, 25, 40])
    names = MATERIALS[3:5]
    space = cloth.scene_parameter_space(scene, names, initial={n: scenes.get_parameter(scene, n) * 0.8 for n in names})
    theta = torch.as_tensor(space.initial_theta())
    parts = [cloth.ClothObjective(scene, o, space).value_and_grad(theta) for o in (observations, tracks[0])]
    both = cloth.ClothObjective(scene, [observations, tracks[0]], space)
    value, grad = both.value_and_grad(theta)
    assert value == pytest.approx(parts[0][0] + parts[1][0], rel=1e-12)
    np.testing.assert_allclose(grad.numpy(), (parts[0][1] + parts[1][1]).numpy(), rtol=1e-9)
    assert len(both.residuals(theta)) == len(both.models[0].residuals(np.zeros((1, 4, 49, 5)))[0]) + both.models[1].size


@pytest.mark.parametrize("cameras", [1, 2])
def test_a_fit_from_tracks_recovers_density_youngs_and_bending_moduli_of_both_yarns(filmed, cameras):
    scene, _, tracks = filmed
    truth = np.array([float(scenes.get_parameter(scene, n)) for n in MATERIALS])
    initial = {n: value * (1.3 if k % 2 else 0.7) for k, (n, value) in enumerate(zip(MATERIALS, truth, strict=True))}
    space = cloth.scene_parameter_space(scene, MATERIALS, initial=initial)
    fit = cloth.fit_scene(scene, tracks[:cameras], space, estimation="forward",
                          optimization=cloth.Optimization(optimizer="gauss-newton", iterations=20))
    np.testing.assert_allclose(fit.result.values, truth, rtol=1e-6)


def test_tracks_that_do_not_fit_together_are_refused(filmed):
    scene, trajectory, tracks = filmed
    camera, points = tracks[0].camera, tracks[0].points
    with pytest.raises(FitError, match=r"pixels have shape \[2, 3, 2\]: expected \[F, P, 2\]"):
        cloth.PointTracks(camera=camera, points=points, times=[0.0, 0.01], pixels=np.zeros((2, 3, 2)))
    with pytest.raises(FitError, match="frame times must be finite and increasing"):
        cloth.PointTracks(camera=camera, points=points[:1], times=[0.01, 0.01], pixels=np.zeros((2, 1, 2)))
    with pytest.raises(FitError, match="no point is seen in any frame"):
        cloth.PointTracks(camera=camera, points=points[:1], times=[0.0], pixels=np.full((1, 1, 2), np.nan))
    early = cloth.PointTracks(camera=camera, points=points[:1], times=[-0.001, 0.0], pixels=np.zeros((2, 1, 2)))
    space = cloth.scene_parameter_space(scene, MATERIALS[:1])
    with pytest.raises(FitError, match="before the simulation starts"):
        cloth.ClothObjective(scene, early, space)


def test_a_cameras_unknown_time_offset_is_fitted_with_the_parameters(filmed):
    """The side camera's frames are 1.6 frames later than the fit is told: its time offset (a fraction of a step
    off the 1 ms grid) and cotton's Young's modulus are recovered together; reverse mode refuses the offset."""
    scene, trajectory, tracks = filmed
    side = tracks[1].camera
    scene = dataclasses.replace(scene, cameras=(_scene_camera(tracks[0].camera), _scene_camera(side)))
    late = dataclasses.replace(side, time_offset=1.6 / side.fps)
    seen = cloth.tracks_from_trajectory(trajectory, late, tracks[1].points)
    told = cloth.PointTracks(camera=side, points=seen.points, times=seen.times - late.time_offset, pixels=seen.pixels)
    names = ["materials.cotton.young_modulus", "cameras[1].time_offset"]
    space = cloth.scene_parameter_space(scene, names, initial={names[0]: 3.5e5})
    assert space.parameters[1].lower == pytest.approx(-3.0 / side.fps)  # default: 3 frames either way
    fit = cloth.fit_scene(scene, [tracks[0], told], space, estimation="forward",
                          optimization=cloth.Optimization(optimizer="gauss-newton", iterations=20))
    np.testing.assert_allclose(fit.result.values, [5e5, late.time_offset], rtol=1e-5)
    assert scenes.get_parameter(fit.scene, names[1]) == pytest.approx(late.time_offset, rel=1e-5)
    with pytest.raises(FitError, match=r"reverse mode does not fit cameras' time offsets \(cameras\[1\].time_offset"):
        fit.objective.value_and_grad(torch.as_tensor(space.initial_theta()))


def _scene_camera(camera: Camera) -> SceneCamera:
    """A scene's [[cameras]] table (OpenCV form) of a camera."""
    values = (("K", tuple(map(tuple, camera.K))), ("R", tuple(map(tuple, camera.R))), ("t", tuple(camera.t)),
              ("dist", camera.dist))
    return SceneCamera(name=camera.name, resolution=camera.resolution, fps=camera.fps, start_time=camera.start_time,
                       form="opencv", values=values)


def test_camera_points_of_a_depth_camera_are_an_observation_model_with_exact_gradients(filmed):
    """A depth camera's points (x_cam = R x + t of the material points): the engine loss (the camera_points
    measurement) equals the numpy residuals, its gradient matches central differences, and a fit from them alone
    recovers the moduli."""
    scene, trajectory, tracks = filmed
    camera, points = tracks[1].camera, tracks[1].points
    x = trajectory.at_times(tracks[1].times, integrator_step=scene.simulation.solver_dt).x[0]
    located = cloth.CameraPoints(camera=camera, points=points, times=tracks[1].times,
                                 positions=camera.to_camera(cloth.material_positions(x, points)))
    names = MATERIALS[:3]
    space = cloth.scene_parameter_space(scene, names, initial={n: scenes.get_parameter(scene, n) * 1.2 for n in names})
    objective = cloth.ClothObjective(scene, located, space)
    theta = torch.as_tensor(space.initial_theta())
    value, grad = objective.value_and_grad(theta)
    r = objective.residuals(theta)
    assert value == pytest.approx(float(r @ r), rel=1e-11) and len(r) == 3 * located.seen.sum()
    tangents = np.random.default_rng(1).normal(size=(2, space.dim))
    step = 1e-5
    central = np.array([(objective.value(theta + step * torch.as_tensor(v))
                         - objective.value(theta - step * torch.as_tensor(v))) / (2 * step) for v in tangents])
    np.testing.assert_allclose(tangents @ grad.numpy(), central, rtol=1e-5)
    fit = cloth.fit_scene(scene, located, space, estimation="forward",
                          optimization=cloth.Optimization(optimizer="gauss-newton", iterations=20))
    np.testing.assert_allclose(fit.result.values, [scenes.get_parameter(scene, n) for n in names], rtol=1e-6)


def test_tracks_are_located_in_3d_by_the_depth_maps_of_their_camera(filmed):
    """Each track's pixel ray scaled to the depth map's z: the point has that z and projects back onto the pixel
    (through the distortion of the side camera); a frame without a depth map is refused."""
    _, _, tracks = filmed
    side = tracks[1]
    camera = side.camera
    height, width = camera.resolution[::-1]
    z = 0.02 + 0.01 * np.arange(len(side.times))[:, None, None] / len(side.times)  # a depth per frame
    depth = np.broadcast_to(z, (len(side.times), height, width))
    located = cloth.camera_points(side, depth, side.times)
    seen = located.seen
    assert seen.sum() > 0.9 * side.seen.sum()
    np.testing.assert_allclose(located.positions[..., 2][seen], np.broadcast_to(z[:, :, 0], seen.shape)[seen])
    world = (located.positions - camera.t) @ camera.R  # x = R^T (x_cam - t)
    np.testing.assert_allclose(camera.project(world)[seen], side.pixels[seen], atol=1e-8)
    with pytest.raises(FitError, match="no depth map at t = "):
        cloth.camera_points(side, depth[:2], side.times[:2])
