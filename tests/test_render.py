"""Rendering, for real and off-screen: pictures are not blank, the cloth is in frame (also while it
moves), close-ups show the yarn on top at each crossing as the weave says, a cloth at rest is one colour,
animations hold every frame and report progress, and the colour quantities mean what they say."""

import importlib.util
import os
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

import scenes
from materials import weave_flips
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
        ({"style": "wire"}, "style = 'wire': expected one of auto, tubes, surface"),
        ({"zoom": 0.0}, "zoom = 0.0: expected a finite number > 0"),
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


# -- yarns as tubes: the weave shows ---------------------------------------------------------------------
def rest_cloth(pattern="plain", *, nodes=(9, 9), scene=True) -> scenes.Trajectory:
    """An upright cloth at rest (the node grid in the x-z plane) woven in ``pattern``."""
    base = scenes.with_parameters(scenes.load_scene(DEMO_SCENE), {"cloth.pattern": pattern, "cloth.nodes": list(nodes)})
    rest = scenes.rest_trajectory(base)
    return rest if scene else scenes.Trajectory(x=rest.x, u=rest.u, t=rest.t)


def yarn_colour(pixels: np.ndarray) -> np.ndarray:
    """+1 for warp-blue pixels, -1 for weft-orange pixels, 0 for neither, shape [...]."""
    red, blue = pixels[..., 0].astype(int), pixels[..., 2].astype(int)
    return np.where(blue - red > 40, 1, np.where(red - blue > 40, -1, 0))


def close_up(pattern: str, **options):
    """The close-up picture [240, 320, 3] of a 9 x 9 rest cloth and the yarn expected on top at each interior
    crossing in view: +1 warp, -1 weft, 0 out of view, shape [W, H] (with the pixel (column, row) of each)."""
    trajectory = rest_cloth(pattern)
    scene = trajectory.scene()
    x = trajectory.x[0, 0]
    radius = scene.cloth.yarn_radius
    with ClothRenderer(trajectory, size=(320, 240), zoom=2.0, annotations=False, **options) as renderer:
        picture = renderer.image(0)
        # The engine's crossing normal of this grid, (x_right - x_left) x (x_below - x_above), is +y;
        # the weft passes R along the normal (flip 0) or against it (flip 1), the warp the other way.
        normal = np.where(weave_flips(pattern, trajectory.nodes)[..., None], [0.0, -1.0, 0.0], [0.0, 1.0, 0.0])
        toward_camera = np.sign(((np.asarray(renderer.camera[0]) - x) * normal).sum(-1))
        top = np.where(toward_camera > 0, -1, 1)  # the weft lies on the camera's side of the cloth: weft on top
        # inside the upper tube at the crossing, above every other tube: the pixel shows the upper yarn
        where = renderer.pixels(x + 1.5 * radius * toward_camera[..., None] * normal).reshape(*x.shape[:2], 2)
    inside = (where[..., 0] > 5) & (where[..., 0] < 315) & (where[..., 1] > 5) & (where[..., 1] < 235)
    inside[[0, -1], :] = inside[:, [0, -1]] = False
    return picture, np.where(inside, top, 0), np.clip(np.round(where), 0, [319, 239]).astype(int)


@pytest.mark.parametrize("pattern", ["plain", "twill", "satin"])
def test_a_close_up_shows_the_yarn_on_top_at_each_crossing(pattern):
    """At every crossing in view the picture shows the warp or the weft on top as the weave (and the engine's
    crimp convention) says: the tubes follow the over/under path."""
    picture, top, where = close_up(pattern)
    assert (top != 0).sum() >= 12, "too few crossings in view"
    seen = yarn_colour(picture[where[..., 1], where[..., 0]])
    assert np.array_equal(seen[top != 0], top[top != 0]), f"top yarn seen\n{seen}\nexpected\n{top}"
    assert (yarn_colour(picture) == 1).mean() > 0.1 and (yarn_colour(picture) == -1).mean() > 0.1


def test_plain_twill_and_satin_close_ups_differ_where_their_weaves_differ():
    pictures = {pattern: close_up(pattern)[0] for pattern in ("plain", "twill", "satin")}
    np.testing.assert_array_equal(pictures["plain"], close_up("plain")[0])  # the same weave: the same picture
    for one, other in [("plain", "twill"), ("plain", "satin"), ("twill", "satin")]:
        changed = np.abs(pictures[one].astype(int) - pictures[other].astype(int)).max(axis=-1) > 40
        assert changed.mean() > 0.1, f"{one} and {other} differ in only {changed.mean():.1%} of the pixels"
    # where two weaves put the same yarn on top, the picture there is the same colour
    plain, twill = close_up("plain"), close_up("twill")
    same = (plain[1] == twill[1]) & (plain[1] != 0)
    rows, columns = plain[2][same][:, 1], plain[2][same][:, 0]
    assert same.sum() >= 4
    np.testing.assert_array_equal(yarn_colour(plain[0][rows, columns]), yarn_colour(twill[0][rows, columns]))


def test_the_surface_style_has_no_yarns_and_a_cloth_without_scene_is_a_plain_weave():
    surface = ClothRenderer(rest_cloth(), size=(160, 120), annotations=False, style="surface")
    with surface:
        assert surface.style == "surface"
        assert (yarn_colour(surface.image(0)) == -1).mean() < 0.001  # no weft-orange
    bare = rest_cloth("twill", scene=False)
    assert bare.scene() is None
    with ClothRenderer(bare, size=(320, 240), zoom=2.0, annotations=False) as renderer:
        unknown = renderer.image(0)
    np.testing.assert_array_equal(unknown, close_up("plain")[0])


def test_auto_draws_a_surface_when_tubes_would_be_under_two_pixels_wide():
    large = rest_cloth(nodes=(120, 120))
    with ClothRenderer(large, size=(160, 120), annotations=False) as renderer:
        assert renderer.style == "surface"
    with ClothRenderer(large, size=(160, 120), annotations=False, style="tubes") as renderer:
        assert renderer.style == "tubes"
    with ClothRenderer(rest_cloth(), size=(160, 120), annotations=False) as renderer:
        assert renderer.style == "tubes"


@pytest.mark.parametrize("style", ["tubes", "surface"])
def test_a_cloth_at_rest_coloured_by_strain_is_one_colour(style):
    """At rest the strain is rounding noise (~1e-16): it stays in the middle (grey) of the colour map, while
    a strain of 1e-3 shows clearly in red."""
    rest = rest_cloth(nodes=(7, 7))
    assert 0 < np.abs(scenes.node_strain(rest.x[0, 0], rest.u[0, 0])).max() < 1e-12
    stretched = scenes.Trajectory(x=rest.x * 1.001, u=rest.u, t=rest.t, scene_json=rest.scene_json)
    saturation = {}
    for name, trajectory in (("rest", rest), ("stretched", stretched)):
        with ClothRenderer(trajectory, size=(160, 120), color="strain", annotations=False, style=style) as r:
            picture = r.image(0).astype(int)
        cloth = content_mask(picture)
        saturation[name] = (picture.max(axis=-1) - picture.min(axis=-1))[cloth]
    assert saturation["rest"].max() < 12, "a cloth at rest should be grey all over"
    assert np.median(saturation["stretched"]) > 40


# -- animations report progress -----------------------------------------------------------------------------
def test_progress_is_reported_after_every_animation_frame(tmp_path):
    trajectory = moving_cloth(frames=5)
    calls = []
    def progress(done, total):
        calls.append((done, total))

    path = scenes.render_file(trajectory, tmp_path / "cloth.gif", every=2, size=(96, 72), progress=progress)
    assert calls == [(1, 3), (2, 3), (3, 3)]  # frames 0, 2, 4
    assert iio.imread(path, index=None).shape[0] == 3
    calls.clear()
    scenes.render_file(trajectory, tmp_path / "cloth.png", size=(96, 72), progress=progress)
    assert calls == []  # one picture: nothing to report


def test_obstacles_are_drawn_around_the_cloth(tmp_path):
    """The incline's plane fills the picture around the cloth; without it (the same frames, the scene's
    obstacles removed) the background shows."""
    scene = scenes.load_scene(Path(scenes.__file__).parent / "examples" / "incline.toml")
    with_plane = scenes.rest_trajectory(scene)
    bare = scenes.Trajectory(x=with_plane.x, u=with_plane.u, t=with_plane.t,
                             scene_json=scenes.scene_to_json(scenes.with_parameters(scene, {"obstacles": []})))
    covered = [content_mask(iio.imread(scenes.render_image(t, tmp_path / f"{k}.png", annotations=False))).mean()
               for k, t in enumerate((with_plane, bare))]
    assert covered[0] > 0.9 > covered[1] + 0.3, covered
