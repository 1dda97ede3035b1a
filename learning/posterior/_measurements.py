"""How an observation was measured, applied to every simulation of a posterior: the simulations are compared with
what was observed only through the same measurement, with the same kind of noise.

- ``PositionMeasurement``: node positions at observed frames (frames the scene saves), with independent Gaussian
  noise [m] on every coordinate: [n, F, W, H, 3].
- ``TrackMeasurement``: pixels of material points tracked through a calibrated camera's footage
  (``learning.cloth.PointTracks``), with independent Gaussian noise [px]: each simulation's points at the frames'
  times, linear between the saved frames around each time (what the engine moves along when the frames are one step
  apart: backward Euler goes in straight lines, so give the scene ``save_every = 1`` for the fit's own model),
  projected by the camera: [n, F, P, 2]. Where the observation did not see a point (lost, hidden, dropped) the
  measurement is 0 in every simulation and in the observation alike, so it carries nothing.

- ``CombinedMeasurement``: several of them at once (the tracks of several cameras), each flattened, side by side:
  [n, D_1 + D_2 + ...].

Each gives ``features`` (the fixed-size input of a learned statistic) and ``handmade`` summaries of its
measurements, and ``last_step``, the engine step of the last observed instant (the simulations stop there).
"""

import math

import numpy as np

from ._features import handmade_summaries, observe, trajectory_features

__all__ = ["CombinedMeasurement", "PositionMeasurement", "TrackMeasurement", "measurement_of", "observed_frames",
           "track_features"]

#: tracks and frames a learned statistic's features keep of footage
FEATURE_TRACKS = 25
FEATURE_FRAMES = 25


def observed_frames(times: np.ndarray, observed_steps: np.ndarray, dt: float) -> np.ndarray:
    """The indices of the simulated frames (times [F] [s], steps of ``dt``) at the observed steps; a ValueError
    names the first observed step that is not a simulated frame."""
    steps = np.rint(np.asarray(times) / dt).astype(np.int64)
    where = {int(s): k for k, s in enumerate(steps)}
    missing = [int(s) for s in observed_steps if int(s) not in where]
    if missing:
        raise ValueError(f"observed frame at step {missing[0]} (t = {missing[0] * dt:g} s) is not a frame the scene "
                         f"saves (steps {steps[0]}, {steps[1] if len(steps) > 1 else ''}, ... {steps[-1]}): give "
                         "the scene the observation's save_every and duration")
    return np.array([where[int(s)] for s in observed_steps], dtype=np.int64)


def _evenly(count: int, keep: int) -> np.ndarray:
    return np.unique(np.rint(np.linspace(0, count - 1, min(keep, count))).astype(np.int64))


def track_features(pixels: np.ndarray, *, tracks: int = FEATURE_TRACKS, frames: int = FEATURE_FRAMES) -> np.ndarray:
    """Displacements from the first frame [px] of up to ``tracks`` evenly chosen tracks at up to ``frames`` evenly
    spaced frames after the first, of measurements [n, F, P, 2]: [n, frames * tracks * 2]."""
    pixels = np.asarray(pixels, dtype=np.float64)
    if pixels.ndim != 4 or pixels.shape[-1] != 2 or pixels.shape[1] < 2:
        raise ValueError(f"pixels of shape {pixels.shape}: expected [simulations, frames >= 2, points, 2]")
    kept = 1 + _evenly(pixels.shape[1] - 1, frames)
    chosen = pixels[:, :, _evenly(pixels.shape[2], tracks)]
    return (chosen[:, kept] - chosen[:, :1]).reshape(pixels.shape[0], -1)


class _Measurement:
    """What every measurement shares: hand-made summaries of its measurements (``handmade_summaries`` applies to
    node positions and to tracked pixels alike)."""

    @staticmethod
    def handmade(measured: np.ndarray) -> np.ndarray:
        return handmade_summaries(measured)


class PositionMeasurement(_Measurement):
    """Node positions [F, W, H, 3] [m] observed at the engine steps ``steps`` [F] (frames the scene saves), with
    Gaussian noise of ``noise`` [m]."""

    unit = "m"

    def __init__(self, positions, steps, *, noise: float):
        self.observed = np.asarray(positions, dtype=np.float64)[None]
        self.steps = np.asarray(steps, dtype=np.int64)
        self.noise = float(noise)
        self.frames = None

    def last_step_of(self, dt: float) -> int:
        """The last observed engine step."""
        return int(np.max(self.steps))

    def prepare(self, times: np.ndarray, dt: float) -> None:
        """Find the observed frames among the simulated ones (saved at ``times`` [s], engine step ``dt`` [s])."""
        self.frames = observed_frames(times, self.steps, dt)

    def __call__(self, x: np.ndarray, times: np.ndarray, *, seed: int | None) -> np.ndarray:
        """Simulated positions x [n, F_saved, W, H, 3] as measured: [n, F, W, H, 3] (no noise for seed None)."""
        return observe(x[:, self.frames], 0.0 if seed is None else self.noise, seed=seed or 0)

    @staticmethod
    def features(measured: np.ndarray) -> np.ndarray:
        return trajectory_features(measured)


class TrackMeasurement(_Measurement):
    """Pixels of material points tracked through a camera (``learning.cloth.PointTracks``), with Gaussian noise of
    ``noise`` [px] (module docstring)."""

    unit = "px"

    def __init__(self, tracks, *, noise: float):
        self.tracks = tracks
        self.noise = float(noise)
        self.seen = tracks.seen  # [F, P]
        self.observed = np.where(self.seen[..., None], tracks.pixels, 0.0)[None]
        self.before = self.weight = None
        if tracks.times.min() < 0.0:
            raise ValueError(f"{tracks.source}: a frame at t = {tracks.times.min():g} s is before the simulation "
                             "starts")

    def last_step_of(self, dt: float) -> int:
        """The engine step at or after the last frame's time."""
        return int(math.ceil(float(self.tracks.times.max()) / dt - 1e-9))

    def prepare(self, times: np.ndarray, dt: float) -> None:
        """Place the frames' times between the saved frames (``times`` [s]); a ValueError for a frame after the
        last saved one."""
        times = np.asarray(times, dtype=np.float64)
        frames = self.tracks.times
        if frames.max() > times[-1] + 1e-9 * dt:
            raise ValueError(f"{self.tracks.source}: a frame at t = {frames.max():g} s is after the simulation's "
                             f"last saved frame ({times[-1]:g} s): give the scene steps and a save_every that save a "
                             "frame at or after it (save_every = 1 follows the engine's own motion)")
        after = np.clip(np.searchsorted(times, frames, side="right"), 1, len(times) - 1)
        self.before = after - 1
        self.weight = np.clip((frames - times[self.before]) / (times[after] - times[self.before]), 0.0, 1.0)

    def __call__(self, x: np.ndarray, times: np.ndarray, *, seed: int | None) -> np.ndarray:
        """Simulated positions x [n, F_saved, W, H, 3] as the tracks measured them: [n, F, P, 2] (no noise for
        seed None)."""
        from learning.cloth import material_positions

        alpha = self.weight[None, :, None, None, None]
        states = (1.0 - alpha) * x[:, self.before] + alpha * x[:, self.before + 1]
        pixels = self.tracks.camera.project(material_positions(states, self.tracks.points))
        if seed is not None:
            pixels = pixels + np.random.default_rng(seed).normal(scale=self.noise, size=pixels.shape)
        return np.where(self.seen[None, ..., None], pixels, 0.0)

    @staticmethod
    def features(measured: np.ndarray) -> np.ndarray:
        return track_features(measured)


class CombinedMeasurement:
    """Several measurements of every simulation (e.g. the tracks of several cameras, each with its own noise draws),
    each flattened, side by side: [n, D_1 + D_2 + ...]. Hand-made summaries and a learned statistic's features are
    each part's, side by side.

    Args:
        parts: the measurements (``PositionMeasurement``, ``TrackMeasurement``), at least two, of one unit.
    """

    def __init__(self, parts):
        self.parts = list(parts)
        if len(self.parts) < 2:
            raise ValueError(f"{len(self.parts)} measurements combined: expected at least two")
        units = sorted({part.unit for part in self.parts})
        if len(units) != 1:
            raise ValueError(f"measurements in {' and '.join(units)} combined: expected one unit (one noise level "
                             "applies to all)")
        self.unit = units[0]
        self._shapes = [part.observed.shape[1:] for part in self.parts]
        self.observed = self._joined([part.observed for part in self.parts])

    def last_step_of(self, dt: float) -> int:
        """The last step any part observes."""
        return max(part.last_step_of(dt) for part in self.parts)

    def prepare(self, times: np.ndarray, dt: float) -> None:
        """Prepare every part for simulations saved at ``times`` [s]."""
        for part in self.parts:
            part.prepare(times, dt)

    def __call__(self, x: np.ndarray, times: np.ndarray, *, seed: int | None) -> np.ndarray:
        """Every part's measurement of the simulated positions x [n, F_saved, W, H, 3], flattened, side by side; part
        k's noise from seed + k (no noise for seed None)."""
        return self._joined([part(x, times, seed=None if seed is None else seed + k)
                             for k, part in enumerate(self.parts)])

    def handmade(self, measured: np.ndarray) -> np.ndarray:
        """Each part's hand-made summaries, side by side."""
        return np.concatenate([part.handmade(piece) for part, piece in zip(self.parts, self._split(measured),
                                                                           strict=True)], axis=1)

    def features(self, measured: np.ndarray) -> np.ndarray:
        """Each part's features, side by side."""
        return np.concatenate([part.features(piece) for part, piece in zip(self.parts, self._split(measured),
                                                                           strict=True)], axis=1)

    @staticmethod
    def _joined(measured: list) -> np.ndarray:
        return np.concatenate([m.reshape(len(m), -1) for m in measured], axis=1)

    def _split(self, measured: np.ndarray) -> list[np.ndarray]:
        """The parts' measurements [n, ...] of the side-by-side ones [n, D]."""
        sizes = [int(np.prod(shape)) for shape in self._shapes]
        pieces = np.split(np.asarray(measured), np.cumsum(sizes)[:-1], axis=1)
        return [piece.reshape(len(piece), *shape) for piece, shape in zip(pieces, self._shapes, strict=True)]


def measurement_of(observed, observed_steps, *, noise: float):
    """``PositionMeasurement`` of positions [F, W, H, 3] at ``observed_steps``, ``TrackMeasurement`` of
    ``PointTracks`` (``observed_steps`` None), or the ``CombinedMeasurement`` of a list of ``PointTracks`` (several
    cameras); a ValueError for a noise that is not a positive standard deviation."""
    from learning.cloth import PointTracks

    if isinstance(observed, (list, tuple)) and len(observed) > 1:
        if observed_steps is not None or not all(isinstance(item, PointTracks) for item in observed):
            raise ValueError("several observations are the tracks of several cameras: expected PointTracks only, "
                             "and no observed steps (tracks carry their frames' times)")
        return CombinedMeasurement([measurement_of(item, None, noise=noise) for item in observed])
    if isinstance(observed, (list, tuple)) and len(observed) == 1:
        observed = observed[0]
    if isinstance(observed, PointTracks):
        if observed_steps is not None:
            raise ValueError("tracks carry their frames' times: expected no observed steps with them")
        measurement = TrackMeasurement(observed, noise=noise)
    else:
        measurement = PositionMeasurement(observed, observed_steps, noise=noise)
    if not 0.0 < noise < np.inf:
        raise ValueError(f"noise = {noise!r}: expected the observations' standard deviation > 0 "
                         f"[{measurement.unit}]")
    return measurement
