"""Point tracks: where material points of the cloth were seen in a calibrated camera's frames, and the observation
model that compares a simulation with them (the reprojection loss).

A material point is a fixed point of the cloth's parameter grid, given by grid coordinates (s, t): s in
[0, W - 1] along the warp index i, t in [0, H - 1] along the weft index j; whole numbers are crossings, anything
else the bilinear point of a cell. Frame f of the camera is taken at time tau_f; the simulated point then is the
linear interpolation between the states of the steps around tau_f (``simulator.MaterialPointLoss``), and its
pixel is the camera's projection (``scenes.cameras``). The loss is the mean squared pixel error over every
(frame, point) seen,

    L = (1 / S) sum over seen (f, p) of |pixel(x_p(tau_f)) - observed_fp|^2 / scale^2      (S of them)

with ``scale`` = 1 px by default: a mean squared reprojection error in px^2.
"""

from dataclasses import dataclass

import numpy as np

import scenes
import simulator
from learning.fit import FitError
from scenes.cameras import Camera

__all__ = ["CameraPoints", "PointTracks", "TrackModel", "camera_points", "material_points", "material_positions",
           "tracks_from_trajectory"]

#: a frame time within this fraction of a step of a step is taken at that step
_STEP_SNAP = 1e-9


def material_points(points, nodes: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The four nodes (flat indices n = i + j W) and bilinear weights of material points [P, 2] of a W x H grid.

    Raises:
        FitError: a point outside the grid [0, W - 1] x [0, H - 1].
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    width, height = nodes
    if not np.all(np.isfinite(points)) or np.any(points < 0) or np.any(points[:, 0] > width - 1) \
            or np.any(points[:, 1] > height - 1):
        raise FitError(f"material points must lie on the {width} x {height} grid: grid coordinates (s, t) with "
                       f"0 <= s <= {width - 1} and 0 <= t <= {height - 1}")
    i = np.minimum(np.floor(points[:, 0]), width - 2).astype(np.int64)
    j = np.minimum(np.floor(points[:, 1]), height - 2).astype(np.int64)
    a, b = points[:, 0] - i, points[:, 1] - j
    corners = np.stack([i + j * width, i + 1 + j * width, i + (j + 1) * width, i + 1 + (j + 1) * width], axis=1)
    weights = np.stack([(1 - a) * (1 - b), a * (1 - b), (1 - a) * b, a * b], axis=1)
    return corners, weights


def material_positions(x: np.ndarray, points) -> np.ndarray:
    """Positions [..., P, 3] of material points [P, 2] on node positions x [..., W, H, 3]."""
    x = np.asarray(x, dtype=np.float64)
    width, height = x.shape[-3:-1]
    corners, weights = material_points(points, (width, height))
    flat = np.swapaxes(x, -3, -2).reshape(*x.shape[:-3], width * height, 3)  # node n = i + j W
    return np.einsum("...pkc,pk->...pc", flat[..., corners, :], weights)


class _MeasuredPoints:
    """What ``PointTracks`` and ``CameraPoints`` share: material points, frame times and one measurement per point
    and frame (the dataclass field named ``_FIELD``, ``_COMPONENTS`` numbers each, NaN where not seen), checked and
    frozen on construction."""

    _FIELD = ""
    _COMPONENTS = 0

    def __post_init__(self):
        where = f"{self.source} (camera {self.camera.name!r})"
        points, times, values = (np.array(getattr(self, name), dtype=np.float64)
                                 for name in ("points", "times", self._FIELD))
        if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
            raise FitError(f"{where}: points have shape {list(points.shape)}: expected [P, 2] grid coordinates")
        if times.ndim != 1 or len(times) == 0 or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise FitError(f"{where}: frame times must be finite and increasing, one per frame")
        expected = (len(times), len(points), self._COMPONENTS)
        if values.shape != expected:
            raise FitError(f"{where}: {self._FIELD} have shape {list(values.shape)}: expected [F, P, "
                           f"{self._COMPONENTS}] = {list(expected)}")
        if not np.any(np.isfinite(values).all(axis=-1)):
            raise FitError(f"{where}: no point is seen in any frame")
        for name, value in zip(("points", "times", self._FIELD), (points, times, values), strict=True):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def measured(self) -> np.ndarray:
        """The measurements [F, P, components]."""
        return getattr(self, self._FIELD)

    @property
    def seen(self) -> np.ndarray:
        """Where a point was seen, shape [F, P]."""
        return np.isfinite(self.measured).all(axis=-1)


@dataclass(frozen=True)
class PointTracks(_MeasuredPoints):
    """Material points of the cloth tracked through one camera's frames.

    Attributes:
        camera: the camera that saw them.
        points: grid coordinates (s, t) of each tracked material point, shape [P, 2].
        times: simulation time of each frame [s], increasing, shape [F] (dropped frames are simply absent).
        pixels: where each point was seen [px], shape [F, P, 2]; NaN where it was not (lost, hidden, outside).
        source: where they came from (a file name), for messages.
    """

    camera: Camera
    points: np.ndarray
    times: np.ndarray
    pixels: np.ndarray
    source: str = "<tracks>"

    #: what the observation model compares (``simulator.MEASUREMENTS``)
    kind = "pixels"
    _FIELD = "pixels"
    _COMPONENTS = 2

    def model(self, model: simulator.Model, *, dt: float, scale: float = 1.0, reach=None) -> "TrackModel":
        """The observation model of these tracks for ``model`` stepped by ``dt`` [s] (see ``TrackModel``); ``scale``
        [px]."""
        return TrackModel(model, self, dt=dt, scale=scale, reach=reach)


@dataclass(frozen=True)
class CameraPoints(_MeasuredPoints):
    """Material points of the cloth located in 3D in a camera's frame: a depth camera's tracks, back-projected.

    Attributes:
        camera: the camera.
        points: grid coordinates (s, t) of each material point, shape [P, 2].
        times: simulation time of each frame [s], increasing, shape [F].
        positions: each point in the camera's frame, x_cam = R x + t [m], shape [F, P, 3]; NaN where not seen.
        source: where they came from, for messages.
    """

    camera: Camera
    points: np.ndarray
    times: np.ndarray
    positions: np.ndarray
    source: str = "<depth>"

    kind = "camera_points"
    _FIELD = "positions"
    _COMPONENTS = 3

    def model(self, model: simulator.Model, *, dt: float, scale: float | None = None, reach=None) -> "TrackModel":
        """The observation model of these points for ``model`` stepped by ``dt`` [s]; ``scale`` [m] (default the
        cloth's spacing: the loss is then the mean squared distance in spacings, as for node trajectories)."""
        return TrackModel(model, self, dt=dt, scale=model.spacing if scale is None else scale, reach=reach)


def camera_points(tracks: PointTracks, depth: np.ndarray, depth_times: np.ndarray, *, source: str = "") -> CameraPoints:
    """The tracked points located in 3D by a depth camera (the same camera as the tracks): at each frame of the
    tracks, the depth map of the same time [F', H, W] (z along the optical axis [m], NaN where nothing is seen) is
    read at the track's pixel (bilinear, where the four pixels around it are seen) and the pixel's ray scaled to
    that depth: x_cam = z (x', y', 1), (x', y') = ``Camera.normalised(pixel)``.

    Raises:
        FitError: a frame of the tracks without a depth map at its time.
    """
    depth_times = np.asarray(depth_times, dtype=np.float64)
    where = source or "depth maps"
    frames = []
    for time in tracks.times:
        match = np.flatnonzero(np.abs(depth_times - time) <= 1e-9 * max(1.0, abs(time)))
        if not match.size:
            raise FitError(f"{where}: no depth map at t = {time:.9g} s, a frame of {tracks.source}: expected depth "
                           "maps at the frame times of the tracks (the same camera's clip)")
        frames.append(int(match[0]))
    height, width = depth.shape[1:]
    pixels = tracks.pixels
    column, row = np.floor(pixels[..., 0]), np.floor(pixels[..., 1])
    inside = np.isfinite(column) & (column >= 0) & (column < width - 1) & (row >= 0) & (row < height - 1)
    c, r = np.where(inside, column, 0).astype(int), np.where(inside, row, 0).astype(int)
    wx, wy = pixels[..., 0] - c, pixels[..., 1] - r
    maps = np.asarray(depth, dtype=np.float64)[frames]  # [F, H, W]
    f = np.arange(len(frames))[:, None]  # broadcast over the points
    z = ((1 - wy) * ((1 - wx) * maps[f, r, c] + wx * maps[f, r, c + 1])
         + wy * ((1 - wx) * maps[f, r + 1, c] + wx * maps[f, r + 1, c + 1]))
    z = np.where(inside, z, np.nan)
    rays = tracks.camera.normalised(np.where(np.isfinite(pixels), pixels, 0.0))
    positions = np.concatenate([rays, np.ones((*rays.shape[:-1], 1))], axis=-1) * z[..., None]
    return CameraPoints(camera=tracks.camera, points=tracks.points, times=tracks.times, positions=positions,
                        source=source or f"depth of {tracks.source}")


def tracks_from_trajectory(trajectory: scenes.Trajectory, camera: Camera, points, *, world: int = 0,
                           noise: float = 0.0, seed: int = 0, source: str | None = None) -> PointTracks:
    """Synthetic tracks: the camera's projections of material points [P, 2] at its frame times within the
    trajectory (states between frames interpolated as footage is, ``Trajectory.at_times``), plus Gaussian noise of
    ``noise`` pixels; points outside the picture or behind the camera are not seen (NaN)."""
    times = camera.frame_times(float(trajectory.t[-1]))
    times = times[times >= trajectory.t[0]]
    scene = trajectory.scene()
    x = trajectory.at_times(times, integrator_step=scene.simulation.solver_dt if scene else None).x[world]
    pixels = camera.project(material_positions(x, points))
    width, height = camera.resolution
    outside = (pixels[..., 0] < -0.5) | (pixels[..., 0] > width - 0.5) | (pixels[..., 1] < -0.5) \
        | (pixels[..., 1] > height - 0.5)
    pixels[outside] = np.nan
    if noise > 0.0:
        pixels = pixels + np.random.default_rng(seed).normal(scale=noise, size=pixels.shape)
    return PointTracks(camera=camera, points=np.asarray(points, dtype=np.float64), times=times, pixels=pixels,
                       source=source or f"{trajectory.path or 'trajectory'} through camera {camera.name!r}")


class TrackModel:
    """The loss of measured material points (pixels of tracks, or camera-frame points of a depth camera) as an
    observation model of ``ClothObjective``: the mean squared difference over every (frame, point) seen, in units of
    ``scale``^2.

    Args:
        model: any model of the scene (its grid and origin are used).
        tracks: the measurements: ``PointTracks`` (pixels) or ``CameraPoints`` (camera-frame points).
        dt: the engine's step [s] (``scene.simulation.solver_dt``).
        scale: the loss's unit: [px] for tracks, [m] for camera points.
        reach: when the camera's time offset is fitted, how far (lower, upper) [s] the frames may shift from the
            tracks' times: the model then reads every step the shifted frames can fall between (frames before
            t = 0 see the initial state, at rest until the scene starts). None: the times are fixed.

    Attributes:
        steps: the engine steps whose states the frames read (two around each frame time).
        size: number of residuals M (2 per point seen in a frame for tracks, 3 for camera points).
    """

    def __init__(self, model: simulator.Model, tracks: "PointTracks | CameraPoints", *, dt: float, scale: float = 1.0,
                 reach: tuple[float, float] | None = None):
        where = f"{tracks.source} (camera {tracks.camera.name!r})"
        if np.any(tracks.times < 0) and reach is None:
            raise FitError(f"{where}: a frame at t = {tracks.times.min():g} s is before the simulation starts")
        self.tracks = tracks
        self.dt = float(dt)
        self.frame_steps, self.frame_fractions = self.schedule(0.0)
        self.corners, self.node_weights = material_points(tracks.points, model.nodes)
        seen = tracks.seen
        self._seen = seen
        self._weight = np.where(seen, 1.0 / (seen.sum() * scale**2), 0.0)  # [F, P]
        self._target = np.where(seen[..., None], tracks.measured, 0.0)
        if reach is None:
            reads = [(n, 1.0 - a) for n, a in zip(self.frame_steps, self.frame_fractions, strict=True)]
            reads += [(n + 1, a) for n, a in zip(self.frame_steps, self.frame_fractions, strict=True) if a > 0.0]
            self.steps = sorted({int(n) for n, _ in reads})
        else:
            first, _ = self.schedule(reach[0])
            last, _ = self.schedule(reach[1])
            self.steps = list(range(int(first.min()), int(last.max()) + 2))
        self.size = int(tracks.measured.shape[-1] * seen.sum())
        self._origin = model.origin_np  # [B, 3]

    def schedule(self, shift: float) -> tuple[np.ndarray, np.ndarray]:
        """(step n_f before each frame [F], fraction alpha_f in [0, 1) [F]) of the frames shifted by ``shift`` [s];
        a frame before t = 0 is at step 0 (the initial state)."""
        position = np.maximum((self.tracks.times + shift) / self.dt, 0.0)
        steps = np.floor(position + _STEP_SNAP).astype(np.int64)
        fractions = position - steps
        fractions[fractions < _STEP_SNAP] = 0.0
        return steps, fractions

    def at_frames(self, values: np.ndarray, steps, *, shifts=None) -> np.ndarray:
        """Per-world values at the frames' times [B, F, ...] from values at ``steps`` [B, S, ...] (which include the
        steps the frames read): linear between the two steps around each frame, the frames of world b shifted by
        ``shifts[b]`` [s] (default none)."""
        index = {step: k for k, step in enumerate(steps)}
        out = []
        for b in range(len(values)):
            frame_steps, fractions = self.schedule(0.0 if shifts is None else float(shifts[b]))
            before = values[b, [index[int(n)] for n in frame_steps]]
            after = values[b, [index.get(int(n) + 1, index[int(n)]) for n in frame_steps]]
            alpha = fractions.reshape(-1, *([1] * (values.ndim - 2)))
            out.append((1.0 - alpha) * before + alpha * after)
        return np.stack(out)

    def residuals(self, states: np.ndarray, shifts=None) -> np.ndarray:
        """r [B, M] (|r|^2 = L) from the generalized coordinates q at ``steps`` [B, S, nodes, 5], the frames of world
        b shifted by ``shifts[b]`` [s] (within the reach; default none)."""
        states = np.asarray(states)
        points = np.einsum("bsnkc,nk->bsnc", states[:, :, self.corners, :3], self.node_weights)  # [B, S, P, 3]
        x = self.at_frames(points, self.steps, shifts=shifts) + self._origin[0]  # [B, F, P, 3]
        camera = self.tracks.camera
        measured = camera.project(x) if self.tracks.kind == "pixels" else camera.to_camera(x)  # [B, F, P, D]
        r = np.sqrt(self._weight)[None, ..., None] * (measured - self._target[None])
        return r[:, self._seen].reshape(len(states), -1)

    def residual_scales(self) -> np.ndarray:
        """Each residual over the measurement error it holds, d [M] (r = d (measured - observed))."""
        return np.repeat(np.sqrt(self._weight[self._seen]), self.tracks.measured.shape[-1])

    def errors(self, residuals: np.ndarray) -> np.ndarray:
        """The simulated minus the measured values [F, P, components] (pixels, or metres for camera points; NaN where
        not seen) from one world's residuals [M] of this model."""
        components = self.tracks.measured.shape[-1]
        errors = np.full((*self._seen.shape, components), np.nan)
        errors[self._seen] = np.reshape(residuals, (-1, components)) / np.sqrt(self._weight[self._seen])[:, None]
        return errors

    def engine_loss(self, model: simulator.Model) -> simulator.MaterialPointLoss:
        """The same loss (frames not shifted) as a ``simulator.MaterialPointLoss`` of ``model`` (for reverse mode)."""
        camera = self.tracks.camera
        measurement = simulator.PointMeasurement(kind=self.tracks.kind, rotation=camera.R, translation=camera.t,
                                                 intrinsics=camera.K, distortion=camera.dist)
        return simulator.MaterialPointLoss(model, nodes=self.corners, node_weights=self.node_weights,
                                           frame_steps=self.frame_steps, frame_fractions=self.frame_fractions,
                                           targets=self._target, weights=self._weight, measurement=measurement)
