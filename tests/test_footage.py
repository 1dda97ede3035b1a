"""Footage through a scene's calibrated cameras (scenes.footage, scenes._lens, Trajectory.at_times): VTK draws the
camera's projection, the lens resampling reproduces K, skew and distortion, the cloth appears where the camera
projects it, states between saved frames follow their Hermite curve, and bad requests are one-line errors."""

import dataclasses

import imageio.v3 as iio
import numpy as np
import pytest
from matplotlib.path import Path as PolygonPath
from scipy.ndimage import binary_dilation

import scenes
from scenes import RenderError, TrajectoryError
from scenes._lens import CameraLens
from scenes._schema import SceneCamera
from scenes.cameras import Camera
from scenes.footage import footage_times, render_footage
from scenes.render import ClothRenderer

from .test_render import DEMO_SCENE, content_mask

SIZE = (200, 150)


def flat_cloth(*, nodes=(12, 8), scene: bool = False) -> scenes.Trajectory:
    """One frame of an upright cloth in the plane y = 0 (without a scene: no pins drawn)."""
    loaded = scenes.with_parameters(scenes.load_scene(DEMO_SCENE), {"cloth.nodes": list(nodes)})
    rest = scenes.rest_trajectory(loaded)
    return dataclasses.replace(rest, scene_json=rest.scene_json if scene else "{}")


def front_camera(x: np.ndarray, *, general: bool) -> Camera:
    """A camera 3 cm in front of the cloth, a little off its axis; ``general``: fx != fy, skew, an off-centre
    principal point and barrel distortion."""
    centre = x.reshape(-1, 3).mean(axis=0)
    camera = Camera.look_at(name="front", resolution=SIZE, position=centre + [0.002, -0.03, 0.0015],
                            look_at=centre, up=[0.0, 0.0, 1.0], fov_y=30.0)
    if not general:
        return camera
    K = camera.K.copy()
    K[0, 0] *= 1.1
    K[0, 1] = 3.0
    K[:2, 2] += [9.3, -6.1]
    return Camera(name="general", resolution=SIZE, K=K, R=camera.R, t=camera.t, dist=(-0.25, 0.08, 0.002, -0.001))


def predicted_mask(camera: Camera, x: np.ndarray) -> np.ndarray:
    """The pixels whose centres lie inside the projected outline of a flat cloth x [W, H, 3], shape [H, W]."""
    s = np.linspace(0.0, 1.0, 100)[:, None, None]
    edges = [x[:, 0], x[-1, :], x[::-1, -1], x[0, ::-1]]
    outline = np.concatenate([(e[:-1] * (1 - s) + e[1:] * s).transpose(1, 0, 2).reshape(-1, 3) for e in edges])
    width, height = camera.resolution
    columns, rows = np.meshgrid(np.arange(width), np.arange(height))
    centres = np.stack([columns.ravel(), rows.ravel()], axis=1)
    return PolygonPath(camera.project(outline)).contains_points(centres).reshape(height, width)


def test_normalised_rays_project_back_onto_their_pixels():
    camera = front_camera(flat_cloth().x[0, 0], general=True)
    pixels = np.random.default_rng(0).uniform([-0.5, -0.5], [SIZE[0] - 0.5, SIZE[1] - 0.5], size=(50, 2))
    rays = camera.normalised(pixels)
    world = (np.concatenate([rays, np.ones((50, 1))], axis=1) * 0.03 - camera.t) @ camera.R  # points on the rays
    np.testing.assert_allclose(camera.project(world), pixels, atol=1e-9)


def test_a_distortion_that_folds_over_is_refused_naming_the_camera():
    camera = dataclasses.replace(front_camera(flat_cloth().x[0, 0], general=True), name="fisheye", dist=(-4.0, 0, 0, 0))
    with pytest.raises(ValueError, match="camera 'fisheye': dist = .* cannot be undone at pixel"):
        CameraLens(camera)


def test_vtk_draws_the_ideal_view_the_lens_asks_for():
    trajectory = flat_cloth()
    points = trajectory.x[0, 0].reshape(-1, 3)
    for general in (False, True):
        camera = front_camera(trajectory.x[0, 0], general=general)
        with ClothRenderer(trajectory, camera=camera, style="surface") as renderer:
            lens = renderer._lens
            drawn = renderer.pixels(points)
        np.testing.assert_allclose(drawn, lens.view.pixels(points), atol=1e-6)
        if not general:  # the camera itself: VTK's projection is the camera's
            assert lens.direct
            np.testing.assert_allclose(drawn, camera.project(points), atol=1e-6)


def test_the_lens_resamples_each_pixel_from_where_its_ray_lands_in_the_ideal_view():
    camera = front_camera(flat_cloth().x[0, 0], general=True)
    lens = CameraLens(camera)
    assert not lens.direct
    width, height = lens.view.size
    columns, rows = np.meshgrid(np.arange(width, dtype=float), np.arange(height, dtype=float))
    drawn = np.stack([columns, rows], axis=-1)  # a picture whose values are its own pixel coordinates
    picture = lens.picture(drawn)  # bilinear interpolation is exact for it
    pixels = np.stack(np.meshgrid(np.arange(SIZE[0]), np.arange(SIZE[1])), axis=-1).astype(float)
    on_rays = (np.concatenate([camera.normalised(pixels), np.ones((*pixels.shape[:2], 1))], axis=-1) - camera.t) \
        @ camera.R
    np.testing.assert_allclose(picture, lens.view.pixels(on_rays), atol=1e-9)


@pytest.mark.parametrize("general", [False, True], ids=["pinhole", "skew-and-distortion"])
def test_the_cloth_appears_where_the_camera_projects_it(general):
    trajectory = flat_cloth()
    x = trajectory.x[0, 0]
    camera = front_camera(x, general=general)
    with ClothRenderer(trajectory, camera=camera, style="surface") as renderer:
        picture = renderer.image(0)
    assert picture.shape == (SIZE[1], SIZE[0], 3)
    drawn, expected = content_mask(picture), predicted_mask(camera, x)
    assert expected.sum() > 0.2 * expected.size
    np.testing.assert_allclose(np.argwhere(drawn).mean(axis=0), np.argwhere(expected).mean(axis=0), atol=0.3)
    outline = np.count_nonzero(expected ^ np.roll(expected, 1, axis=0)) + np.count_nonzero(
        expected ^ np.roll(expected, 1, axis=1))
    assert np.count_nonzero(drawn ^ expected) <= outline  # within about a pixel of the outline everywhere


def test_a_background_picture_shows_wherever_the_cloth_is_not():
    trajectory = flat_cloth()
    camera = front_camera(trajectory.x[0, 0], general=True)
    background = np.random.default_rng(1).integers(0, 256, size=(SIZE[1], SIZE[0], 3), dtype=np.uint8)
    with ClothRenderer(trajectory, camera=camera, style="surface", background=background) as renderer:
        picture = renderer.image(0)
    inside = predicted_mask(camera, trajectory.x[0, 0])
    grown = binary_dilation(inside, np.ones((3, 3), bool), iterations=2)  # the outline's pixels blend both
    np.testing.assert_array_equal(picture[~grown], background[~grown])
    assert np.abs(picture[inside].astype(int) - background[inside]).mean() > 40
    with pytest.raises(RenderError, match=r"expected RGB uint8 of shape \[150, 200, 3\], the resolution of camera"):
        ClothRenderer(trajectory, camera=camera, background=background[:-1])


def test_a_camera_that_does_not_see_the_cloth_is_refused():
    trajectory = flat_cloth()
    camera = front_camera(trajectory.x[0, 0], general=False)
    behind = dataclasses.replace(camera, name="behind", t=camera.t + [0.0, 0.0, -0.06])  # the cloth behind it
    with pytest.raises(RenderError, match="camera 'behind' does not see the cloth"):
        ClothRenderer(trajectory, camera=behind)


def constant_acceleration(times: np.ndarray, *, velocities: bool) -> scenes.Trajectory:
    rng = np.random.default_rng(2)
    x0, v0, a = (rng.normal(size=(1, 1, 3, 2, 3)) for _ in range(3))
    u0, w0, b = (rng.normal(size=(1, 1, 3, 2, 2)) for _ in range(3))
    t = times[None, :, None, None, None]
    return scenes.Trajectory(
        x=x0 + v0 * t + 0.5 * a * t**2, u=u0 + w0 * t + 0.5 * b * t**2, t=times,
        xdot=(v0 + a * t) if velocities else None, udot=(w0 + b * t) if velocities else None,
    )


def test_states_between_frames_follow_the_hermite_curve_exactly_for_constant_acceleration():
    frames = np.array([0.0, 0.004, 0.005, 0.009, 0.012])
    trajectory = constant_acceleration(frames, velocities=True)
    times = np.sort(np.random.default_rng(3).uniform(0.0, 0.012, size=17))
    between = trajectory.at_times(times)
    exact = constant_acceleration(times, velocities=True)
    for key in ("x", "u", "xdot", "udot"):
        np.testing.assert_allclose(getattr(between, key), getattr(exact, key), atol=1e-12)
    np.testing.assert_allclose(trajectory.at_times(frames).x, trajectory.x, atol=1e-15)
    straight = constant_acceleration(frames, velocities=False).at_times([0.002])  # halfway along the chord
    np.testing.assert_allclose(straight.x[:, 0], 0.5 * (trajectory.x[:, 0] + trajectory.x[:, 1]), atol=1e-12)
    with pytest.raises(TrajectoryError, match=r"expected times within the frames' 0 \.\. 0\.012 s"):
        trajectory.at_times([0.0, 0.013])
    # frames one integrator step apart (0.004 -> 0.005 s at a 1 ms step) are joined by the straight line, the others
    # still by the curve
    stepped = trajectory.at_times([0.0045, 0.007], integrator_step=0.001)
    np.testing.assert_allclose(stepped.x[:, 0], 0.5 * (trajectory.x[:, 1] + trajectory.x[:, 2]), atol=1e-12)
    np.testing.assert_allclose(stepped.xdot[:, 0], trajectory.xdot[:, 2], atol=1e-12)
    exact = constant_acceleration(np.array([0.007]), velocities=True)
    np.testing.assert_allclose(stepped.x[:, 1], exact.x[:, 0], atol=1e-12)


def test_a_240_fps_camera_of_a_millisecond_simulation_films_between_the_steps():
    trajectory = constant_acceleration(np.arange(0.0, 0.0505, 0.001), velocities=True)
    camera = dataclasses.replace(front_camera(flat_cloth().x[0, 0], general=False), fps=240.0, start_time=0.002)
    times = footage_times(trajectory, camera)
    np.testing.assert_allclose(times, 0.002 + np.arange(12) / 240.0)  # 0.002 + 11/240 = 0.0478 <= 0.05 < 12/240
    with pytest.raises(RenderError, match=r"start_time \+ time_offset = -0.01 s is before"):
        footage_times(trajectory, dataclasses.replace(camera, start_time=-0.01))


def camera_scene_trajectory(tmp_path, *, resolution=(160, 120), frames=4):
    """A saved trajectory of a flat cloth sliding sideways whose scene has the camera 'front' (look-at form)."""
    rest = flat_cloth(scene=True)
    x = rest.x[0, 0]
    centre = x.reshape(-1, 3).mean(axis=0)
    camera = SceneCamera(name="front", resolution=resolution, fps=150.0, start_time=0.0, form="look_at", values=(
        ("position", tuple(centre + [0.0, -0.03, 0.0])), ("look_at", tuple(centre)), ("up", (0.0, 0.0, 1.0)),
        ("fov_y", 30.0)))
    scene = dataclasses.replace(rest.scene(), cameras=(camera,))
    times = np.arange(frames) * 0.01
    shift = np.zeros((1, frames, 1, 1, 3))
    shift[0, :, 0, 0, 0] = 0.1 * times  # 0.1 m/s along x
    velocity = np.broadcast_to(np.array([0.1, 0.0, 0.0]), (1, frames, *x.shape)).copy()
    path = tmp_path / "trajectory.npz"
    scenes.save_trajectory(path, x=rest.x + shift, u=np.repeat(rest.u, frames, axis=1), t=times, xdot=velocity,
                           udot=np.zeros((1, frames, *x.shape[:2], 2)), scene_json=scenes.scene_to_json(scene))
    return path, camera.build()


def test_footage_has_the_camera_frames_and_shows_the_interpolated_state(tmp_path):
    path, camera = camera_scene_trajectory(tmp_path)
    trajectory = scenes.load_trajectory(path)
    clip = render_footage(trajectory, tmp_path / "clip.gif", camera=camera, style="surface")
    frames = iio.imread(clip)
    times = np.arange(5) / 150.0  # up to 0.03 s
    assert frames.shape == (5, 120, 160, 3)

    def middle(mask):  # mean column [px]
        return np.argwhere(mask)[:, 1].mean()

    x = trajectory.x[0, 0]
    for k in (1, 3, 4):  # between saved frames (and the last): the cloth has moved 0.1 m/s * t to the right
        expected = middle(predicted_mask(camera, x + [0.1 * times[k], 0.0, 0.0])) - middle(predicted_mask(camera, x))
        assert expected > 2.0 * k
        moved = middle(content_mask(frames[k])) - middle(content_mask(frames[0]))
        assert moved == pytest.approx(expected, abs=0.6)  # edges snap to whole pixels


def test_the_cli_renders_a_scene_camera_and_refuses_what_does_not_apply(tmp_path, capsys):
    from warpweave.cli import main

    path, _ = camera_scene_trajectory(tmp_path)
    out = tmp_path / "front.mp4"
    assert main(["render", str(path), "--camera", "front", "--out", str(out), "--quiet", "--style", "surface"]) == 0
    assert iio.imread(out).shape == (5, 120, 160, 3)
    picture = tmp_path / "front.png"
    assert main(["render", str(path), "--camera", "front", "--frame", "0", "--out", str(picture), "--quiet"]) == 0
    assert iio.imread(picture).shape == (120, 160, 3)
    capsys.readouterr()
    for extra, fragment in (
        (["--camera", "side"], "camera = 'side' is not in its scene: expected one of its cameras: 'front'"),
        (["--camera", "front", "--size", "64x48"], "--size with --camera front: the camera sets"),
        (["--camera", "front", "--background", "lab.png"], "background = lab.png: not a readable picture"),
        (["--camera", "front", "--background", "no-such-colour"], "neither a picture file"),
    ):
        assert main(["render", str(path), "--out", str(tmp_path / "x.mp4"), "--quiet", *extra]) == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert len(error) == 1 and fragment in error[0], error
    (tmp_path / "odd").mkdir()
    odd, _ = camera_scene_trajectory(tmp_path / "odd", resolution=(161, 120))
    assert main(["render", str(odd), "--camera", "front", "--out", str(tmp_path / "odd.mp4"), "--quiet"]) == 2
    assert "needs an even width and height" in capsys.readouterr().err


@pytest.mark.parametrize("general", [False, True], ids=["pinhole", "skew-and-distortion"])
def test_depth_maps_hold_each_pixels_distance_along_the_optical_axis(general, tmp_path):
    trajectory = flat_cloth()
    x = trajectory.x[0, 0]
    camera = front_camera(x, general=general)
    with ClothRenderer(trajectory, camera=camera, style="surface") as renderer:
        depth = renderer.depth(0)
    assert depth.shape == (SIZE[1], SIZE[0])
    inside = predicted_mask(camera, x)
    interior = ~binary_dilation(~inside, np.ones((3, 3), bool), iterations=2)
    assert np.isfinite(depth[interior]).all() and np.isnan(depth[~binary_dilation(inside, iterations=2)]).all()
    nodes = x[1:-1, 1:-1].reshape(-1, 3)  # inner nodes: where the flat surface's depth is the nodes' z
    u, v = np.rint(camera.project(nodes)).T.astype(int)
    rays = camera.normalised(np.stack([u, v], axis=1).astype(float))
    normal = camera.R @ np.array([0.0, 1.0, 0.0])  # the cloth's plane y = 0 in the camera's frame
    plane_z = (normal @ camera.to_camera(nodes[0])) / (np.concatenate([rays, np.ones((len(rays), 1))], 1) @ normal)
    np.testing.assert_allclose(depth[v, u], plane_z, rtol=2e-4)  # VTK's depth buffer: about 1e-4 of the distance


def test_a_depth_file_holds_the_cameras_frames_and_is_checked_on_load(tmp_path):
    from scenes.footage import load_depth, render_depth

    path, camera = camera_scene_trajectory(tmp_path)
    written = render_depth(scenes.load_trajectory(path), tmp_path / "depth.npz", camera=camera)
    maps = load_depth(written, camera)
    assert maps.depth.shape == (5, 120, 160) and maps.camera == "front"
    np.testing.assert_allclose(maps.times, np.arange(5) / 150.0)
    with pytest.raises(RenderError, match="depth maps of camera 'front': expected camera 'other'"):
        load_depth(written, dataclasses.replace(camera, name="other"))
    with pytest.raises(RenderError, match=r"expected \[F, 240, 320\]"):
        load_depth(written, dataclasses.replace(camera, resolution=(320, 240)))
    with pytest.raises(RenderError, match="not a depth file"):
        load_depth(path, camera)
