"""Tracking material points of the cloth through a calibrated camera's footage (OpenCV's pyramidal Lucas-Kanade).

The first frame shows the cloth in the scene's initial state, so the camera's projections of material points of that
state say where to start: by default the corners and centres of a grid as fine as keeps them about a tracking window
apart (the crossings and the cells' centres when a cell's diagonal spans less than three windows). A point is kept
where the picture has texture around it (the smaller eigenvalue of its structure tensor, ``cv2.cornerMinEigenVal``)
and its window lies on the cloth (inside the projected outline of its initial state), clear of the pins (whose
clamps do not move with the cloth's texture). Each point is followed frame to frame by pyramidal Lucas-Kanade and
checked by tracking it back: a point whose backward track misses its start by more than ``forward_backward`` pixels,
or that Lucas-Kanade loses, or that leaves the picture, is lost from then on (NaN). Each track stays attached to its
material point, so the tracks are observations of the cloth (``PointTracks``) that a fit compares with the simulated
projections.

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

__all__ = ["TrackingOptions", "default_points", "points_per_cell", "read_footage", "track_footage", "track_points"]

#: how far [px] beyond its window a start point must be from a pinned node
_PIN_CLEARANCE = 8.0


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
    min_texture: float = 1e-2
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


def default_points(nodes: tuple[int, int], *, per_cell: int = 1) -> np.ndarray:
    """Grid coordinates [P, 2] of the corners and centres of the squares of a grid ``per_cell`` times finer than the
    cloth's (per_cell = 1: the crossings, border nodes included, and the cells' centres)."""
    width, height = nodes
    s = np.arange((width - 1) * per_cell + 1) / per_cell
    t = np.arange((height - 1) * per_cell + 1) / per_cell
    corners = np.stack(np.meshgrid(s, t, indexing="ij"), axis=-1).reshape(-1, 2)
    centres = np.stack(np.meshgrid(s[:-1], t[:-1], indexing="ij"), axis=-1).reshape(-1, 2) + 0.5 / per_cell
    return np.concatenate([corners, centres]).astype(np.float64)


def points_per_cell(pixels: np.ndarray, *, window: int) -> int:
    """How many times finer than the cloth's grid ``default_points`` go so that neighbouring points lie about a
    tracking window apart: a square's corner and centre lie half its diagonal apart, so the cells' median diagonal
    in the picture ``pixels`` [W, H, 2] (the crossings' projections) over two windows, rounded (at least 1)."""
    diagonals = np.concatenate([np.linalg.norm(pixels[1:, 1:] - pixels[:-1, :-1], axis=-1).ravel(),
                                np.linalg.norm(pixels[1:, :-1] - pixels[:-1, 1:], axis=-1).ravel()])
    diagonals = diagonals[np.isfinite(diagonals)]
    if diagonals.size == 0:
        return 1
    return max(1, int(np.floor(np.median(diagonals) / (2.0 * window) + 0.5)))


def track_points(frames: np.ndarray, start: np.ndarray, *, options: TrackingOptions = TrackingOptions()) -> np.ndarray:
    """Pixels [F, P, 2] of points followed from ``start`` [P, 2] in frame 0 through grey frames [F, H, W]; NaN from
    the frame where a point is lost.

    Each frame, pyramidal Lucas-Kanade carries the points over from the frame before (checked by tracking back),
    and each point is then refined against its window in frame 0 (``_refine``): an affine warp of the window with
    a gain and an offset of the grey levels, so that the tracks do not drift as the cloth turns and stretches.
    """
    import cv2

    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-3)
    lucas_kanade = {"winSize": (options.window, options.window), "maxLevel": options.levels, "criteria": criteria}
    height, width = frames.shape[1:3]
    reference = _Windows(frames[0], start, half=options.window // 2)
    current = np.ascontiguousarray(start, dtype=np.float32).reshape(-1, 1, 2)
    alive = np.ones(len(current), dtype=bool)
    warps = np.broadcast_to(np.eye(2), (len(current), 2, 2)).copy()
    pixels = np.full((len(frames), len(current), 2), np.nan)
    pixels[0] = current[:, 0]
    for k in range(1, len(frames)):
        forward, found, _ = cv2.calcOpticalFlowPyrLK(frames[k - 1], frames[k], current, None, **lucas_kanade)
        back, found_back, _ = cv2.calcOpticalFlowPyrLK(frames[k], frames[k - 1], forward, None, **lucas_kanade)
        miss = np.linalg.norm((back - current)[:, 0], axis=1)
        alive &= (found[:, 0] == 1) & (found_back[:, 0] == 1) & (miss <= options.forward_backward)
        refined, warps, converged = reference.refine(frames[k], forward[:, 0].astype(np.float64), warps, alive)
        inside = (refined[:, 0] >= 0) & (refined[:, 0] <= width - 1) & (refined[:, 1] >= 0) \
            & (refined[:, 1] <= height - 1)
        alive &= converged & inside
        pixels[k, alive] = refined[alive]
        current = np.where(alive[:, None], refined, forward[:, 0]).astype(np.float32).reshape(-1, 1, 2)
    return pixels


class _Windows:
    """The windows of points in a reference frame, and their registration in later frames.

    A window W(z) = y + A z (z over the (2h + 1)^2 offsets, Gaussian weights of standard deviation h / 1.5) of a
    later frame I is matched to the reference window T(z) by Gauss-Newton on sum_z w(z) (g I(W(z)) + c - T(z))^2
    over the point y, the affine A and the grey-level gain g and offset c, started from Lucas-Kanade's point and
    the last frame's A. A point that moves more than ``_MAX_SHIFT`` px from where Lucas-Kanade put it, or whose A
    folds or scales by more than 3, has lost its window.
    """

    _ITERATIONS = 20
    _MAX_SHIFT = 2.0

    def __init__(self, reference: np.ndarray, start: np.ndarray, *, half: int):
        grid = np.arange(-half, half + 1, dtype=np.float64)
        self.offsets = np.stack(np.meshgrid(grid, grid, indexing="xy"), axis=-1).reshape(-1, 2)  # [N, 2] as (x, y)
        self.weights = np.exp(-(self.offsets**2).sum(axis=1) / (2.0 * (half / 1.5) ** 2))
        self.template = _sample(reference.astype(np.float32), start[:, None, :] + self.offsets[None])  # [P, N]

    def refine(self, frame: np.ndarray, guess: np.ndarray, warps: np.ndarray, alive: np.ndarray):
        """(points [P, 2], warps [P, 2, 2], converged [P]) of the windows in ``frame`` from ``guess``."""
        import cv2

        image = frame.astype(np.float32)
        grad_x = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3, scale=1.0 / 8.0)
        grad_y = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3, scale=1.0 / 8.0)
        index = np.flatnonzero(alive & np.isfinite(guess).all(axis=1))
        if index.size == 0:  # every point is lost
            return guess.copy(), warps.copy(), np.zeros(len(guess), dtype=bool)
        point, warp = guess[index].copy(), warps[index].copy()
        gain, offset = np.ones(len(index)), np.zeros(len(index))
        z, w, template = self.offsets, self.weights, self.template[index]
        for _ in range(self._ITERATIONS):
            where = point[:, None, :] + z[None] @ warp.transpose(0, 2, 1)  # [P, N, 2]: y + A z
            values, dx, dy = (_sample(a, where) for a in (image, grad_x, grad_y))
            residual = gain[:, None] * values + offset[:, None] - template
            gx, gy = gain[:, None] * dx, gain[:, None] * dy
            jacobian = np.stack([gx, gy, gx * z[:, 0], gx * z[:, 1], gy * z[:, 0], gy * z[:, 1], values,
                                 np.ones_like(values)], axis=-1)  # [P, N, 8]: y, A (row-major), g, c
            weighted = jacobian * w[None, :, None]
            transposed = weighted.transpose(0, 2, 1)  # batched products: BLAS, not einsum's loops
            normal = transposed @ jacobian + 1e-9 * np.eye(8)
            step = -np.linalg.solve(normal, transposed @ residual[..., None])[..., 0]
            point += step[:, :2]
            warp += step[:, 2:6].reshape(-1, 2, 2)
            gain += step[:, 6]
            offset += step[:, 7]
            if np.abs(step[:, :2]).max(initial=0.0) < 1e-4:
                break
        scale = np.abs(np.linalg.det(warp))
        converged = np.zeros(len(guess), dtype=bool)
        converged[index] = (np.linalg.norm(point - guess[index], axis=1) <= self._MAX_SHIFT) & (scale > 1.0 / 9.0) \
            & (scale < 9.0) & np.isfinite(point).all(axis=1)
        points, new_warps = guess.copy(), warps.copy()
        points[index], new_warps[index] = point, warp
        return points, new_warps, converged


def _sample(image: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Bilinear values of ``image`` [H, W] at (x, y) points ``where`` [P, N, 2] (borders repeated), [P, N]."""
    import cv2

    maps = where.astype(np.float32)
    return cv2.remap(image, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(
        np.float64)


def track_footage(path, camera: Camera, scene: scenes.Scene, *, points=None, times=None,
                  options: TrackingOptions = TrackingOptions()) -> PointTracks:
    """Track material points of the scene's cloth through a camera's footage (see the module).

    Args:
        path: the video file; its first frame shows the cloth in the scene's initial state.
        camera: the camera that filmed it (resolution, calibration, frame rate and start time).
        scene: the scene (its initial state places the points in the first frame).
        points: grid coordinates of the material points to track [P, 2] (default: ``default_points``, as many per
            cell as keep them about a window apart in the first frame, ``points_per_cell``).
        times: the frames' times [s] (default start_time + time_offset + k / fps; give them when frames were
            dropped).
        options: how to track.

    Raises:
        FitError: an unreadable or empty video, a resolution that is not the camera's, a camera that does not see
            the cloth, or fewer than ``options.min_tracks`` points tracked to the end.
    """
    import cv2

    frames = read_footage(path, camera)
    name = str(path)
    if times is None:
        times = camera.first_frame_time + np.arange(len(frames)) / camera.fps
    times = np.asarray(times, dtype=np.float64)
    if times.shape != (len(frames),):
        raise FitError(f"{name}: {len(frames)} frames but {times.size} frame times: expected one time per frame")
    rest, _ = scenes.rest_state(scene)
    if points is None:
        per_cell = points_per_cell(camera.project(rest), window=options.window)
        points = default_points(scene.cloth.nodes, per_cell=per_cell)
    points = np.asarray(points, dtype=np.float64)
    start = camera.project(material_positions(rest, points))
    width, height = camera.resolution
    half = options.window // 2 + 1
    inside = np.isfinite(start).all(axis=1) & (start[:, 0] >= half) & (start[:, 0] <= width - 1 - half) \
        & (start[:, 1] >= half) & (start[:, 1] <= height - 1 - half)
    if not inside.any():
        raise FitError(f"{name}: camera {camera.name!r} does not see the cloth: no point of its initial state lands "
                       f"inside its {width} x {height} pixels")
    inside &= _on_cloth(start, camera.project(_outline(rest)), margin=half)
    pins = camera.project(np.array([rest[i, j] for i, j in scene.pinned_nodes()]).reshape(-1, 3))
    if len(pins):  # a pin (its clamp, or the dot a render draws) does not move with the cloth's texture
        inside &= np.linalg.norm(start[:, None] - pins[None], axis=-1).min(axis=1) > half + _PIN_CLEARANCE
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


def _outline(x: np.ndarray, *, samples: int = 8) -> np.ndarray:
    """Points around the border of the cloth x [W, H, 3] in order, ``samples`` per cell edge, [M, 3]."""
    s = np.linspace(0.0, 1.0, samples, endpoint=False)[:, None, None]
    edges = [x[:, 0], x[-1, :], x[::-1, -1], x[0, ::-1]]
    return np.concatenate([(e[:-1] * (1 - s) + e[1:] * s).transpose(1, 0, 2).reshape(-1, 3) for e in edges])


def _on_cloth(pixels: np.ndarray, outline: np.ndarray, *, margin: float) -> np.ndarray:
    """Which pixels [P, 2] lie inside the projected outline [M, 2] by at least ``margin`` px: their tracking window
    sees only the cloth, not what is behind it (a window half on the background is pulled towards it)."""
    import cv2

    if not np.isfinite(outline).all():
        return np.isfinite(pixels).all(axis=1)
    contour = outline.astype(np.float32).reshape(-1, 1, 2)
    return np.array([np.isfinite(p).all() and cv2.pointPolygonTest(contour, (float(p[0]), float(p[1])), True)
                     >= margin for p in pixels])
