"""Observed motion of a cloth: positions (and sliding coordinates) of some nodes at some steps.

Observations come from a trajectory file (``scenes.load_trajectory``: simulated or measured) and
may keep only some frames (missing frames), some nodes (a mask), and get Gaussian noise added for
synthetic studies. They are checked against the scene they will be compared with.
"""

from dataclasses import dataclass

import numpy as np

import scenes
from learning.fit import FitError

__all__ = ["Observations", "observations_from_trajectory", "random_crossings"]

#: frame times must be multiples of dt to this relative precision
_TIME_TOLERANCE = 1e-6
#: the first observed frame at t = 0 may differ from the scene's rest state by this many spacings
_REST_TOLERANCE = 0.25


@dataclass(frozen=True)
class Observations:
    """What was observed.

    Attributes:
        steps: step index of each observed frame (0 = initial state), increasing, shape [F].
        positions: node positions [m], shape [F, W, H, 3].
        sliding: sliding (material) coordinates [m], shape [F, W, H, 2], or None (not observed).
        nodes: boolean mask [W, H] of the observed nodes, or None (all).
        noise: standard deviation of the Gaussian noise added to the positions [m] (0: none added).
        source: where they came from (a file name), for messages and reports.
    """

    steps: np.ndarray
    positions: np.ndarray
    sliding: np.ndarray | None = None
    nodes: np.ndarray | None = None
    noise: float = 0.0
    source: str = "<observations>"

    @property
    def frames(self) -> int:
        return len(self.steps)

    @property
    def last_step(self) -> int:
        return int(self.steps[-1])

    @property
    def node_count(self) -> int:
        """Number of observed nodes."""
        return int(self.positions.shape[1] * self.positions.shape[2] if self.nodes is None else self.nodes.sum())


def random_crossings(nodes: tuple[int, int], fraction: float, *, seed: int = 0) -> np.ndarray:
    """A mask [W, H] selecting round(fraction · crossings) random crossings (interior nodes), at least one."""
    if not 0.0 < fraction <= 1.0:
        raise FitError(f"node fraction {fraction!r} is out of range: expected 0 < fraction <= 1")
    width, height = nodes
    interior = np.flatnonzero(np.pad(np.ones((width - 2, height - 2), dtype=bool), 1).ravel())
    count = max(1, int(round(fraction * interior.size)))
    chosen = np.random.default_rng(seed).choice(interior, size=count, replace=False)
    mask = np.zeros(width * height, dtype=bool)
    mask[chosen] = True
    return mask.reshape(width, height)


def observations_from_trajectory(
    trajectory: scenes.Trajectory,
    scene: scenes.Scene,
    *,
    frames: int | None = None,
    frame_indices=None,
    nodes=None,
    noise: float = 0.0,
    sliding: bool = True,
    world: int = 0,
    seed: int = 0,
) -> Observations:
    """Observations of ``scene`` from one world of a trajectory.

    Args:
        trajectory: the observed frames (``scenes.load_trajectory``).
        scene: the scene to fit; the trajectory's grid and frame times must match it.
        frames: keep the first K >= 2 frames (default: all; the first is the initial state).
        frame_indices: or keep these frame indices (missing frames); not with ``frames``.
        nodes: boolean mask [W, H] of the observed nodes (default: all).
        noise: add Gaussian noise of this standard deviation [m] to the positions (0: none).
        sliding: compare sliding coordinates too (False: positions only).
        world: which world of the trajectory.
        seed: seed of the noise.

    Raises:
        FitError: grid, world, frame times or frame selection do not match the scene, no kept frame
            after t = 0, NaN/Inf in the kept frames, a first frame at t = 0 far from the scene's rest
            state, or a noise level that is not a finite number >= 0.
    """
    name = trajectory.path or "<trajectory>"
    if not 0.0 <= noise < np.inf:
        raise FitError(f"noise = {noise!r} is out of range: expected a standard deviation >= 0 [m]")
    if trajectory.nodes != tuple(scene.cloth.nodes):
        raise FitError(f"{name}: grid of {trajectory.nodes[0]} x {trajectory.nodes[1]} nodes does not match "
                       f"the scene's {scene.cloth.nodes[0]} x {scene.cloth.nodes[1]} ({scene.source})")
    if not 0 <= world < trajectory.worlds:
        raise FitError(f"{name}: world {world} is out of range: the file has {trajectory.worlds} world(s)")
    selected = _frame_selection(name, trajectory.frames, frames, frame_indices)
    times = trajectory.t[selected]
    dt = scene.simulation.solver_dt  # observed step indices count the engine's (sub)steps
    with np.errstate(invalid="ignore"):
        steps = np.rint(times / dt)
        bad = ~np.isfinite(times) | (np.abs(times / dt - steps) > _TIME_TOLERANCE * np.maximum(1.0, np.abs(steps)))
        bad |= steps < 0
        bad[1:] |= np.diff(steps) <= 0
    if bad.any():
        k = selected[int(np.flatnonzero(bad)[0])]
        raise FitError(f"{name}: frame times do not match the scene's dt = {dt:g} s ({scene.source}): expected "
                       f"increasing multiples of dt from 0, got t[{k}] = {trajectory.t[k]:g} s")
    steps = steps.astype(np.int64)
    if steps[-1] == 0:
        raise FitError(f"{name}: the kept frames hold no motion (only t = 0, the initial state): expected at "
                       "least one frame after it")
    positions = trajectory.x[world, selected]
    observed = trajectory.u[world, selected] if sliding else None
    for array, label in ((positions, "x"), (observed, "u")):
        if array is not None and not np.all(np.isfinite(array)):
            frame = int(np.flatnonzero(~np.isfinite(array).reshape(len(selected), -1).all(axis=1))[0])
            raise FitError(f"{name}: array '{label}' holds NaN or Inf in frame {selected[frame]}: observations "
                           "must be finite (leave missing frames out instead)")
    mask = None if nodes is None else _node_mask(name, nodes, scene.cloth.nodes)
    if steps[0] == 0:
        rest, _ = scenes.rest_state(scene)
        gap = float(np.abs(positions[0] - rest).max())
        if gap > _REST_TOLERANCE * scene.cloth.spacing + 10.0 * noise:
            raise FitError(f"{name}: frame at t = 0 is {gap:g} m away from the rest state of {scene.source}: "
                           "the observations do not start from this scene")
    if noise > 0.0:
        positions = positions + np.random.default_rng(seed).normal(scale=noise, size=positions.shape)
    return Observations(steps=steps, positions=np.array(positions), sliding=None if observed is None else
                        np.array(observed), nodes=mask, noise=float(noise), source=name)


def _frame_selection(name: str, available: int, frames, indices) -> np.ndarray:
    if frames is not None and indices is not None:
        raise FitError("give either a number of frames or frame indices, not both")
    if frames is not None:
        if int(frames) < 2:
            raise FitError(f"frames = {frames!r} is out of range: expected at least 2 (the first frame is the "
                           "initial state; the fit needs motion after it)")
        if int(frames) > available:
            raise FitError(f"{name}: frames = {frames!r} is out of range: the file has {available} frame(s)")
        return np.arange(int(frames))
    if indices is None:
        return np.arange(available)
    indices = np.asarray(indices, dtype=np.int64).ravel()
    if indices.size == 0 or (indices < 0).any() or (indices >= available).any():
        raise FitError(f"{name}: frame indices must lie in 0..{available - 1}")
    return np.unique(indices)


def _node_mask(name: str, nodes, grid) -> np.ndarray:
    mask = np.asarray(nodes, dtype=bool)
    if mask.shape != tuple(grid) or not mask.any():
        raise FitError(f"{name}: node mask must have shape {tuple(grid)} and select at least one node")
    return mask
