"""Rendering, for real and off-screen: pictures are not blank, the cloth is in frame (also while it
moves), animations hold every frame, and the colour quantities mean what they say."""

import importlib.util
import os
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

import scenes
from scenes import RenderError
from scenes.render import ClothRenderer

DEMO_SCENE = Path(scenes.__file__).parent / "examples" / "demo.toml"


def moving_cloth(*, pose="upright", nodes=(12, 8), frames=6, worlds=1) -> scenes.Trajectory:
    """A cloth that bulges along its normal and slides sideways by a third of its width over the frames."""
    scene = scenes.with_parameters(
        scenes.load_scene(DEMO_SCENE), {"cloth.nodes": list(nodes), "cloth.pose": pose}
    )
    rest = scenes.rest_trajectory(scene, worlds=worlds)
    width, height = nodes
    normal = 1 if pose == "upright" else 2
    i = np.arange(width)[:, None] / (width - 1)
    j = np.arange(height)[None, :] / (height - 1)
    x = np.repeat(rest.x, frames, axis=1)
    for k in range(frames):
        s = k / (frames - 1)
        x[:, k, ..., normal] += 0.003 * s * np.sin(np.pi * i) * np.sin(np.pi * j)
        x[:, k, ..., 0] += 0.33 * (width - 1) * 1e-3 * s
    u = np.repeat(rest.u, frames, axis=1)
    return scenes.Trajectory(x=x, u=u, t=np.arange(frames) * 0.01, scene_json=rest.scene_json)


def content_mask(image: np.ndarray) -> np.ndarray:
    """Pixels that are not the white background, shape [height, width]."""
    return np.abs(image.astype(int) - 255).max(axis=-1) > 12


def assert_in_frame(image: np.ndarray, *, margin=0.02, min_fraction=0.05):
    mask = content_mask(image)
    height, width = mask.shape
    assert mask.mean() > min_fraction, f"the cloth covers only {mask.mean():.1%} of the picture"
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    assert rows[0] > margin * height and rows[-1] < (1 - margin) * height, (
        f"rows {rows[0]}..{rows[-1]} of {height}"
    )
    assert cols[0] > margin * width and cols[-1] < (1 - margin) * width, (
        f"columns {cols[0]}..{cols[-1]} of {width}"
    )


@pytest.mark.parametrize("pose", ["upright", "flat"])
def test_png_shows_the_whole_cloth_inside_the_picture(tmp_path, pose):
    path = scenes.render_image(
        moving_cloth(pose=pose), tmp_path / "cloth.png", size=(320, 240), annotations=False
    )
    image = iio.imread(path)
    assert image.shape == (240, 320, 3)
    assert image.std() > 10, "blank picture"
    assert_in_frame(image)
    assert os.listdir(tmp_path) == ["cloth.png"]


def test_png_with_colour_bar_yarns_and_pins_is_not_blank(tmp_path):
    path = scenes.render_image(
        moving_cloth(), tmp_path / "cloth.png", color="speed", yarns=True, size=(400, 300)
    )
    image = iio.imread(path)
    assert image.shape == (300, 400, 3) and image.std() > 10
    pins = (image.max(axis=-1) < 40).mean()  # the black pin dots (and caption text)
    assert pins > 0


def test_a_moving_cloth_stays_in_frame_in_every_frame():
    trajectory = moving_cloth(frames=6)
    with ClothRenderer(trajectory, size=(320, 240), annotations=False, color="sliding") as renderer:
        first, last = renderer.image(0), renderer.image(-1)
    assert_in_frame(first, min_fraction=0.03)
    assert_in_frame(last, min_fraction=0.03)
    assert np.abs(first.astype(int) - last.astype(int)).max() > 50, "the frames should differ"


def test_gif_holds_every_requested_frame(tmp_path):
    trajectory = moving_cloth(frames=7, worlds=2)
    path = scenes.render_animation(
        trajectory, tmp_path / "cloth.gif", every=3, world=1, size=(160, 120), fps=10
    )
    frames = iio.imread(path, index=None)
    assert frames.shape == (3, 120, 160, 3)  # frames 0, 3, 6
    assert os.listdir(tmp_path) == ["cloth.gif"]


def test_mp4_animation_holds_every_frame(tmp_path):
    """With the imageio-ffmpeg dependency, an .mp4 is written with one video frame per trajectory frame."""
    trajectory = moving_cloth(frames=5)
    out = tmp_path / "cloth.mp4"
    scenes.render_file(trajectory, out)
    frames = iio.imread(out, plugin="pyav") if importlib.util.find_spec("av") else iio.imread(out)
    assert len(frames) == 5
    assert content_mask(frames[-1]).mean() > 0.03


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) for m in ("imageio_ffmpeg", "av")), reason="an MP4 encoder exists"
)
def test_mp4_without_an_encoder_is_a_clear_error(tmp_path):
    with pytest.raises(RenderError, match="needs the imageio-ffmpeg package"):
        scenes.render_file(moving_cloth(), tmp_path / "cloth.mp4")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"frame": 6}, "frame = 6: expected a frame index from -6 to 5"),
        ({"world": 1}, "world = 1: expected 0 <= world < 1"),
        ({"color": "heat"}, "color = 'heat': expected one of strain, sliding, speed"),
    ],
)
def test_bad_render_requests_are_refused_without_output(tmp_path, options, fragment):
    with pytest.raises(RenderError) as info:
        scenes.render_file(moving_cloth(), tmp_path / "cloth.png", **options)
    assert fragment in str(info.value)
    assert os.listdir(tmp_path) == []


def test_unknown_picture_type_and_frame_for_an_animation_are_refused(tmp_path):
    with pytest.raises(RenderError, match=r"unknown picture type '\.jpg'"):
        scenes.render_file(moving_cloth(), tmp_path / "cloth.jpg")
    with pytest.raises(RenderError, match="applies to .png pictures"):
        scenes.render_file(moving_cloth(), tmp_path / "cloth.gif", frame=2)


def test_strain_is_stretch_relative_to_the_material_length():
    trajectory = moving_cloth(frames=2)
    x0, u0 = trajectory.x[0, 0], trajectory.u[0, 0]
    np.testing.assert_allclose(scenes.node_strain(x0, u0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scenes.node_strain(1.01 * x0, u0), 0.01, rtol=1e-9)
    # material that slid to match the stretch is not strained
    np.testing.assert_allclose(scenes.node_strain(1.01 * x0, 1.01 * u0), 0.0, atol=1e-12)


def test_speed_uses_stored_velocities_or_differences_of_positions():
    trajectory = moving_cloth(frames=3)
    x = trajectory.x[0, 0] + np.array([0.0, 0.2, 0.0]) * trajectory.t[:, None, None, None]
    np.testing.assert_allclose(scenes.node_speed(x, trajectory.t), 0.2, rtol=1e-9)
    xdot = np.zeros_like(x)
    xdot[..., 2] = -3.0
    np.testing.assert_allclose(scenes.node_speed(x, trajectory.t, xdot), 3.0)


def test_sliding_is_the_distance_from_the_first_frame():
    trajectory = moving_cloth(frames=2)
    u = trajectory.u[0].copy()
    u[1, 2, 3] += [3e-6, 4e-6]
    assert scenes.node_sliding(u, u[:1])[1, 2, 3] == pytest.approx(5e-6)
