"""Tracking material points of the cloth through a calibrated camera's footage (OpenCV's pyramidal Lucas-Kanade).

The first frame shows the cloth in the scene's initial state, so the camera's projections of material points of
that state say where to start: the crossings and the centres of the cells by default. A point is kept where the
picture has texture around it (the smaller eigenvalue of its structure tensor, ``cv2.cornerMinEigenVal``) and its
window lies inside the picture. Each point is followed frame to frame by pyramidal Lucas-Kanade and checked by
tracking it back: a point whose backward track misses its start by more than ``forward_backward`` pixels, or that
Lucas-Kanade loses, or that leaves the picture, is lost from then on (NaN). Each track stays attached to its
material point, so the tracks are observations of the cloth (``PointTracks``) that a fit compares with the
simulated projections.

The footage needs texture that moves with the cloth and is not periodic at the scale of a frame's motion: the
weave itself repeats every yarn spacing, and a cloth that moves further than half a spacing between frames cannot
be tracked on it. ``warpweave render --style speckle`` paints a speckle pattern, as experiments do.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

import scenes
from learning.fit import FitError
from scenes.cameras import Camera

from ._tracks import PointTracks, material_positions

__all__ = ["TrackingOptions", "default_points", "read_footage", "track_footage", "track_points"]


@dataclass(frozen=True)
class TrackingOptions:
    """How points are tracked.

    Attributes:
        window: Lucas-Kanade's window [px] (odd).
        levels: pyramid levels above the picture (each halves it; motion up to about window * 2^levels / 2 px
            between frames).
        forward_backward: the most a point tracked forward and back may miss its start [px].
        min_texture: the smallest eigenvalue of the structure tensor (``cv2.cornerMinEigenVal`` over the window,
            grey levels in [0, 1]) a start point needs.
        min_tracks: the fewest points that must be tracked to the end (fewer is an error: the footage does not
            show enough of the cloth, or not sharply enough).
    """

    window: int = 21
    levels: int = 3
    forward_backward: float = 0.5
    min_texture: float = 1e-4
    min_tracks: int = 8


def read_footage(path, camera: Camera) -> np.ndarray:
    """The frames of a video file as grey levels, uint8 [F, H, W], checked against the camera's resolution.

    Raises:
        FitError: a missing, unreadable or empty file, or frames of another size, naming the file.
    """
    import cv2
    import imageio.v3 as iio

    name = str(path)
    if not Path(name).is_file():
        raise FitError(f"{name}: no such video file")
    try:
        frames = [cv2.cvtColor(np.asarray(f)[..., :3], cv2.COLOR_RGB2GRAY) if np.ndim(f) == 3 else np.asarray(f)
                  for f in iio.imiter(name)]
    except (OSError, ValueError, RuntimeError) as exc:
        raise FitError(f"{name}: not a readable video ({str(exc).splitlines()[0] if str(exc) else exc!r})") from None
    if not frames:
        raise FitError(f"{name}: the video has no frames")
    height, width = frames[0].shape[:2]
    if (width, height) != camera.resolution:
        raise FitError(f"{name}: frames of {width} x {height} pixels: expected camera {camera.name!r}'s "
                       f"resolution {camera.resolution[0]} x {camera.resolution[1]}")
    return np.stack(frames)


def default_points(nodes: tuple[int, int]) -> np.ndarray:
    """Grid coordinates of the crossings (and border nodes) and of the cells' centres, shape [P, 2]."""
    width, height = nodes
    crossings = np.stack(np.meshgrid(np.arange(width), np.arange(height), indexing="ij"), axis=-1).reshape(-1, 2)
    centres = np.stack(np.meshgrid(np.arange(width - 1), np.arange(height - 1), indexing="ij"), axis=-1) + 0.5
    return np.concatenate([crossings, centres.reshape(-1, 2)]).astype(np.float64)


def track_points(frames: np.ndarray, start: np.ndarray, *, options: TrackingOptions = TrackingOptions()) -> np.ndarray:
    """Pixels [F, P, 2] of points followed from ``start`` [P, 2] in frame 0 through grey frames [F, H, W]; NaN from
    the frame where a point is lost."""
    import cv2

    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-3)
    lucas_kanade = {"winSize": (options.window, options.window), "maxLevel": options.levels, "criteria": criteria}
    height, width = frames.shape[1:3]
    current = np.ascontiguousarray(start, dtype=np.float32).reshape(-1, 1, 2)
    alive = np.ones(len(current), dtype=bool)
    pixels = np.full((len(frames), len(current), 2), np.nan)
    pixels[0] = current[:, 0]
    for k in range(1, len(frames)):
        forward, found, _ = cv2.calcOpticalFlowPyrLK(frames[k - 1], frames[k], current, None, **lucas_kanade)
        back, found_back, _ = cv2.calcOpticalFlowPyrLK(frames[k], frames[k - 1], forward, None, **lucas_kanade)
        miss = np.linalg.norm((back - current)[:, 0], axis=1)
        inside = (forward[:, 0, 0] >= 0) & (forward[:, 0, 0] <= width - 1) & (forward[:, 0, 1] >= 0) \
            & (forward[:, 0, 1] <= height - 1)
        alive &= (found[:, 0] == 1) & (found_back[:, 0] == 1) & (miss <= options.forward_backward) & inside
        pixels[k, alive] = forward[alive, 0]
        current = forward
    return pixels


def track_footage(path, camera: Camera, scene: scenes.Scene, *, points=None, times=None,
                  options: TrackingOptions = TrackingOptions()) -> PointTracks:
    """Track material points of the scene's cloth through a camera's footage (see the module).

    Args:
        path: the video file; its first frame shows the cloth in the scene's initial state.
        camera: the camera that filmed it (resolution, calibration, frame rate and start time).
        scene: the scene (its initial state places the points in the first frame).
        points: grid coordinates of the material points to track [P, 2] (default ``default_points``).
        times: the frames' times [s] (default start_time + k / fps; give them when frames were dropped).
        options: how to track.

    Raises:
        FitError: an unreadable or empty video, a resolution that is not the camera's, a camera that does not see
            the cloth, or fewer than ``options.min_tracks`` points tracked to the end.
    """
    import cv2

    frames = read_footage(path, camera)
    name = str(path)
    if times is None:
        times = camera.start_time + np.arange(len(frames)) / camera.fps
    times = np.asarray(times, dtype=np.float64)
    if times.shape != (len(frames),):
        raise FitError(f"{name}: {len(frames)} frames but {times.size} frame times: expected one time per frame")
    points = default_points(scene.cloth.nodes) if points is None else np.asarray(points, dtype=np.float64)
    rest, _ = scenes.rest_state(scene)
    start = camera.project(material_positions(rest, points))
    width, height = camera.resolution
    half = options.window // 2 + 1
    inside = np.isfinite(start).all(axis=1) & (start[:, 0] >= half) & (start[:, 0] <= width - 1 - half) \
        & (start[:, 1] >= half) & (start[:, 1] <= height - 1 - half)
    if not inside.any():
        raise FitError(f"{name}: camera {camera.name!r} does not see the cloth: no point of its initial state lands "
                       f"inside its {width} x {height} pixels")
    texture = cv2.cornerMinEigenVal(frames[0].astype(np.float32) / 255.0, blockSize=options.window)
    rows, columns = np.clip(np.rint(start[:, 1]), 0, height - 1), np.clip(np.rint(start[:, 0]), 0, width - 1)
    textured = inside.copy()
    textured[inside] = texture[rows[inside].astype(int), columns[inside].astype(int)] >= options.min_texture
    followed = track_points(frames, start[textured], options=options) if textured.any() else np.zeros((1, 0, 2))
    kept = np.isfinite(followed[-1]).all(axis=1)
    if kept.sum() < options.min_tracks:
        raise FitError(f"{name}: only {int(kept.sum())} of {int(textured.sum())} textured points of camera "
                       f"{camera.name!r} were tracked to the last frame: expected at least {options.min_tracks} "
                       "(sharper footage with texture on the cloth, e.g. warpweave render --style speckle)")
    return PointTracks(camera=camera, points=points[textured], times=times, pixels=followed,
                       source=f"{name} (tracked)")
