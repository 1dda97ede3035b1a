"""Trajectory files (``trajectory.npz``): the saved frames of a rollout and the scene that made them.

Arrays in the file (NumPy .npz, no pickles):

- ``format``: "warpweave-trajectory/1" (optional on load: older files lack it);
- ``t``: frame times [s], shape [F];
- ``x``: node positions [m], shape [B, F, W, H, 3] (B worlds, F frames, W x H nodes);
- ``u``: material (sliding) coordinates [m] of each node along its warp and weft yarn, shape [B, F, W, H, 2];
- ``xdot`` [m/s], shape [B, F, W, H, 3], and ``udot`` [m/s], shape [B, F, W, H, 2] (optional on load);
- ``scene``: the resolved scene as JSON text (see ``scenes.scene_to_json``).
"""

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._atomic import atomic_path
from ._build import rest_state
from ._loader import parse_scene
from ._schema import Scene
from ._writer import scene_to_json

__all__ = ["FORMAT", "Trajectory", "TrajectoryError", "load_trajectory", "rest_trajectory", "save_trajectory"]

FORMAT = "warpweave-trajectory/1"
# name -> (components along the last axis, description)
_ARRAYS = {
    "x": (3, "node positions [m]"),
    "u": (2, "material coordinates [m]"),
    "xdot": (3, "node velocities [m/s]"),
    "udot": (2, "sliding velocities [m/s]"),
}
_OPTIONAL = ("xdot", "udot")


class TrajectoryError(ValueError):
    """A trajectory file (or the arrays to save) is missing, unreadable or has inconsistent shapes."""


@dataclass(frozen=True)
class Trajectory:
    """The frames of a rollout.

    Attributes:
        x: node positions [m], shape [B, F, W, H, 3].
        u: material coordinates [m], shape [B, F, W, H, 2].
        t: frame times [s], shape [F].
        xdot: node velocities [m/s], shape [B, F, W, H, 3], or None.
        udot: sliding velocities [m/s], shape [B, F, W, H, 2], or None.
        scene_json: the scene as JSON text ("{}" when unknown).
        path: the file it was read from ("" when not read from a file).
    """

    x: np.ndarray
    u: np.ndarray
    t: np.ndarray
    xdot: np.ndarray | None = None
    udot: np.ndarray | None = None
    scene_json: str = "{}"
    path: str = ""

    @property
    def worlds(self) -> int:
        """Number of worlds B."""
        return self.x.shape[0]

    @property
    def frames(self) -> int:
        """Number of frames F."""
        return self.x.shape[1]

    @property
    def nodes(self) -> tuple[int, int]:
        """Grid size (W, H)."""
        return self.x.shape[2], self.x.shape[3]

    def frame_indices(self, every: int = 1) -> list[int]:
        """Every ``every``-th frame index, always ending with the last frame."""
        indices = list(range(0, self.frames, every))
        return indices if indices[-1] == self.frames - 1 else indices + [self.frames - 1]

    def at_times(self, times, *, integrator_step: float | None = None) -> "Trajectory":
        """The states at ``times`` [s] (increasing, within the frames' span), interpolated between the frames.

        Between frames k and k + 1 the positions and material coordinates follow the cubic Hermite curve through
        both frames' values and velocities when the file has velocities (exact for motion of constant
        acceleration), else the straight line; velocities are the curve's derivatives. Frames one step of the
        implicit integrator apart (``integrator_step`` [s], e.g. the scene's ``simulation.solver_dt``) are joined
        by the straight line: backward Euler moves each step at its end velocity, x_{n+1} = x_n + dt v_{n+1}, so
        that is the simulated motion between them (and what ``learning.cloth.TrackModel`` assumes).

        Raises:
            TrajectoryError: a time outside [t[0], t[-1]] (by more than 1e-9 of the span) or times not increasing.
        """
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        span = float(self.t[-1] - self.t[0])
        slack = 1e-9 * max(span, 1e-12)
        name = self.path or "the trajectory"
        if times.size == 0 or times.min() < self.t[0] - slack or times.max() > self.t[-1] + slack:
            shown = f"{times.min():.6g} .. {times.max():.6g} s" if times.size else "none"
            raise TrajectoryError(f"{name}: states at times {shown}: expected times within the frames' "
                                  f"{self.t[0]:.6g} .. {self.t[-1]:.6g} s")
        if np.any(np.diff(times) <= 0.0):
            raise TrajectoryError(f"{name}: states at times that do not increase: expected increasing times")
        times = np.clip(times, self.t[0], self.t[-1])
        after = np.clip(np.searchsorted(self.t, times, side="right"), 1, max(self.frames - 1, 1))
        before = after - 1
        if self.frames == 1:
            after = before
        period = (self.t[after] - self.t[before]) if self.frames > 1 else np.ones_like(times)
        s = np.where(period > 0.0, (times - self.t[before]) / period, 0.0)
        shape = (1, -1, 1, 1, 1)
        s, period = s.reshape(shape), period.reshape(shape)
        one_step = np.zeros_like(s, dtype=bool) if integrator_step is None else \
            np.abs(period - integrator_step) <= 1e-9 * integrator_step
        resampled = {}
        for key, rate in (("x", "xdot"), ("u", "udot")):
            start, end = getattr(self, key)[:, before], getattr(self, key)[:, after]
            straight = start + s * (end - start)
            if self.xdot is None or self.udot is None:
                resampled[key] = straight
                resampled[rate] = None
                continue
            start_rate, end_rate = getattr(self, rate)[:, before], getattr(self, rate)[:, after]
            s2, s3 = s * s, s * s * s
            curve = ((2 * s3 - 3 * s2 + 1) * start + (s3 - 2 * s2 + s) * period * start_rate
                     + (3 * s2 - 2 * s3) * end + (s3 - s2) * period * end_rate)
            slope = ((6 * s2 - 6 * s) * (start - end) / period + (3 * s2 - 4 * s + 1) * start_rate
                     + (3 * s2 - 2 * s) * end_rate)
            resampled[key] = np.where(one_step, straight, curve)
            resampled[rate] = np.where(one_step, np.broadcast_to(end_rate, slope.shape), slope)
        return Trajectory(t=times, scene_json=self.scene_json, path=self.path, **resampled)

    def scene(self) -> Scene | None:
        """The stored scene, or None when the file holds no warpweave scene (e.g. reference files).

        Raises:
            TrajectoryError: the stored scene text is not JSON.
            SceneError: it is a scene, but an invalid one.
        """
        try:
            data = json.loads(self.scene_json)
        except json.JSONDecodeError as exc:
            raise TrajectoryError(
                f"{self.path or '<trajectory>'}: array 'scene' is not JSON text ({exc})"
            ) from None
        if not isinstance(data, dict) or "cloth" not in data:
            return None
        return parse_scene(data, source=f"{self.path or '<trajectory>'} (scene)", check_device=False)


def rest_trajectory(scene: Scene, *, worlds: int = 1) -> Trajectory:
    """A one-frame trajectory of the scene's initial state (t = 0, zero velocities), e.g. to preview it."""
    x, u = rest_state(scene)
    x = np.broadcast_to(x, (worlds, 1, *x.shape)).copy()
    u = np.broadcast_to(u, (worlds, 1, *u.shape)).copy()
    return Trajectory(
        x=x,
        u=u,
        t=np.zeros(1),
        xdot=np.zeros_like(x),
        udot=np.zeros_like(u),
        scene_json=scene_to_json(scene),
        path=scene.source,
    )


def save_trajectory(path, *, x, u, t, xdot=None, udot=None, scene_json: str = "{}") -> Path:
    """Write a trajectory file atomically (temporary file in the same folder, then rename).

    Args:
        path: the file to write (conventionally ``trajectory.npz``).
        x, u, t, xdot, udot: arrays with the shapes listed in the module docstring.
        scene_json: the resolved scene as JSON text.

    Raises:
        TrajectoryError: inconsistent shapes (nothing is written).
    """
    path = Path(path)
    arrays = {"x": x, "u": u, "t": t, "xdot": xdot, "udot": udot}
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items() if v is not None}
    _check_arrays(arrays, str(path))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, format=np.str_(FORMAT), scene=np.str_(scene_json), **arrays)
        f.flush()
        os.fsync(f.fileno())
    return path


def load_trajectory(path) -> Trajectory:
    """Read and check a trajectory file.

    Raises:
        TrajectoryError: missing or unreadable file, unknown format, missing array or bad shape;
            the message names the file and the array.
    """
    name = os.fspath(path)
    if Path(name).suffix.lower() == ".toml":
        raise TrajectoryError(f"{name}: is a scene file (.toml), expected a trajectory file (.npz): "
                              "'warpweave simulate SCENE' writes one")
    try:
        with np.load(name, allow_pickle=False) as npz:
            contents = {key: npz[key] for key in npz.files}
    except FileNotFoundError:
        raise TrajectoryError(f"{name}: no such trajectory file") from None
    except IsADirectoryError:
        raise TrajectoryError(f"{name}: is a directory, expected a trajectory file (.npz)") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise TrajectoryError(f"{name}: not a readable trajectory file (.npz): {exc}") from None
    if "format" in contents and str(contents["format"]) != FORMAT:
        raise TrajectoryError(f"{name}: format = {str(contents['format'])!r}: expected {FORMAT!r}")
    arrays = {}
    for key in ("x", "u", "t", *_OPTIONAL):
        if key not in contents:
            continue
        if not np.issubdtype(contents[key].dtype, np.number):
            raise TrajectoryError(f"{name}: array '{key}' has dtype {contents[key].dtype}: expected numbers")
        arrays[key] = contents[key].astype(np.float64, copy=False)
    _check_arrays(arrays, name)
    scene_json = str(contents["scene"]) if "scene" in contents else "{}"
    return Trajectory(scene_json=scene_json, path=name, **arrays)


def _check_arrays(arrays: dict, name: str) -> None:
    """Raise TrajectoryError unless x, u, t (and xdot, udot when given) have consistent shapes."""
    for key in ("x", "u", "t"):
        if key not in arrays:
            if key == "t":
                what = "frame times [s], shape [F]"
            else:
                components, description = _ARRAYS[key]
                what = f"{description}, shape [B, F, W, H, {components}]"
            raise TrajectoryError(f"{name}: array '{key}' is missing: expected {what}")
    x = arrays["x"]
    if x.ndim != 5 or x.shape[-1] != 3 or min(x.shape) < 1 or min(x.shape[2:4]) < 2:
        raise TrajectoryError(
            f"{name}: array 'x' has shape {x.shape}: expected node positions of shape "
            "[B, F, W, H, 3] with B, F >= 1 and W, H >= 2"
        )
    batch, frames, width, height = x.shape[:4]
    for key, (components, what) in _ARRAYS.items():
        if key == "x" or key not in arrays:
            continue
        expected = (batch, frames, width, height, components)
        if arrays[key].shape != expected:
            raise TrajectoryError(
                f"{name}: array '{key}' has shape {arrays[key].shape}: expected {what} of shape "
                f"[B, F, W, H, {components}] = {expected} to match 'x'"
            )
    if arrays["t"].shape != (frames,):
        raise TrajectoryError(
            f"{name}: array 't' has shape {arrays['t'].shape}: expected frame times of shape "
            f"[F] = ({frames},) to match 'x'"
        )
    for key, values in arrays.items():
        if not np.all(np.isfinite(values)):
            where = np.argwhere(~np.isfinite(values.reshape(-1) if key == "t" else values))[0]
            place = f"frame {where[0]}" if key == "t" else f"frame {where[1]} (world {where[0]})"
            raise TrajectoryError(f"{name}: array '{key}' holds NaN or Inf in {place}: expected finite values")
    steps = np.diff(arrays["t"])
    if np.any(steps <= 0.0):
        k = int(np.flatnonzero(steps <= 0.0)[0]) + 1
        raise TrajectoryError(f"{name}: array 't' is not increasing at frame {k} (t = {arrays['t'][k]!r} s after "
                              f"{arrays['t'][k - 1]!r} s): expected increasing frame times")
