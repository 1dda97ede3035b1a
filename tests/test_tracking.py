"""Tracking material points through footage (learning.cloth._tracking) on speckle-painted synthetic footage of a
simulated cloth: the tracks follow the camera's projections of the material points within half a pixel (median),
most are kept, and footage that cannot be tracked is refused with one line naming the file."""

import dataclasses

import imageio.v3 as iio
import numpy as np
import pytest

from learning import cloth
from learning.fit import FitError
from scenes._speckle import speckle_pattern
from scenes.cameras import Camera
from scenes.footage import render_footage

from .test_cloth_objective import small_scene, synthetic


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    """100 ms of the 7 x 7 reference cloth in a 2 m/s wind, filmed at 240 fps, 320 x 240, speckle-painted."""
    scene = small_scene((7, 7), **{"wind.velocity": [0.0, 2.0, 0.0]})
    trajectory = synthetic(scene, 100)
    centre = trajectory.x[0, 0].reshape(-1, 3).mean(axis=0)
    extent = np.ptp(trajectory.x[0, 0].reshape(-1, 3), axis=0).max()
    camera = Camera.look_at(name="front", resolution=(320, 240), position=centre + np.array([0.3, -3.0, 0.0]) * extent,
                            look_at=centre, up=[0.0, 0.0, 1.0], fov_y=30.0, fps=240.0)
    path = tmp_path_factory.mktemp("footage") / "front.mp4"
    render_footage(trajectory, path, camera=camera, style="speckle")
    return scene, trajectory, camera, path


def test_the_speckle_pattern_is_fixed_and_textured():
    pattern = speckle_pattern((7, 5))
    assert pattern.shape == (4 * 64, 6 * 64, 3) and pattern.dtype == np.uint8
    np.testing.assert_array_equal(pattern, speckle_pattern((7, 5)))
    grey = pattern[..., 0].astype(float)
    assert grey.std() > 30 and (grey < 128).mean() > 0.1  # dark dots on a light ground
    assert not np.array_equal(pattern, speckle_pattern((7, 5), seed=1))


def test_tracks_follow_the_projected_material_points(footage):
    scene, trajectory, camera, path = footage
    tracks = cloth.track_footage(path, camera, scene)
    assert len(tracks.points) >= 0.4 * len(cloth.default_points(scene.cloth.nodes))  # on the cloth, textured
    assert tracks.seen[-1].mean() >= 0.8  # kept to the last frame
    np.testing.assert_allclose(tracks.times, np.arange(25) / 240.0)
    truth = cloth.tracks_from_trajectory(trajectory, camera, tracks.points)
    error = np.linalg.norm(tracks.pixels - truth.pixels, axis=-1)
    moved = np.linalg.norm(truth.pixels - truth.pixels[0], axis=-1).max(axis=0)  # furthest from its start
    assert np.median(moved) > 3.0 and moved.max() > 10.0  # the cloth moves: tracking is not trivial
    assert np.nanmedian(error) <= 0.5


def test_footage_that_cannot_be_tracked_is_refused_naming_the_file(footage, tmp_path):
    scene, _, camera, path = footage
    with pytest.raises(FitError, match="no such video file"):
        cloth.track_footage(tmp_path / "missing.mp4", camera, scene)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(FitError, match=r"notes\.mp4: not a readable video"):
        cloth.track_footage(text, camera, scene)
    wide = dataclasses.replace(camera, name="wide", resolution=(640, 480))
    with pytest.raises(FitError, match=r"frames of 320 x 240 pixels: expected camera 'wide'.s resolution 640 x 480"):
        cloth.track_footage(path, wide, scene)
    away = Camera(name="away", resolution=camera.resolution, K=camera.K, R=np.diag([-1.0, 1.0, -1.0]) @ camera.R,
                  t=np.diag([-1.0, 1.0, -1.0]) @ camera.t, fps=camera.fps)  # turned round: the cloth is behind it
    with pytest.raises(FitError, match="camera 'away' does not see the cloth"):
        cloth.track_footage(path, away, scene)
    blank = tmp_path / "blank.mp4"
    iio.imwrite(blank, np.full((5, 240, 320, 3), 200, dtype=np.uint8), extension=".mp4", fps=240.0,
                macro_block_size=1)
    with pytest.raises(FitError, match="only 0 of 0 textured points of camera 'front' were tracked"):
        cloth.track_footage(blank, camera, scene)
    with pytest.raises(FitError, match="25 frames but 3 frame times"):
        cloth.track_footage(path, camera, scene, times=[0.0, 0.01, 0.02])
    cut = tmp_path / "cut.mp4"  # the cloth, then a blank picture: every track is lost before the end
    frames = np.concatenate([iio.imread(path)[:3], np.full((2, 240, 320, 3), 200, dtype=np.uint8)])
    iio.imwrite(cut, frames, extension=".mp4", fps=240.0, quality=9, macro_block_size=1)
    with pytest.raises(FitError, match=r"only 0 of \d+ textured points of camera 'front' were tracked"):
        cloth.track_footage(cut, camera, scene, times=np.arange(5) / 240.0)
