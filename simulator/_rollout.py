"""Run a model for many steps, keep frames, and stop with a clear error on NaN/Inf or an unresolved step."""

from collections.abc import Callable

import numpy as np

from ._health import DEFAULT_LIMITS, StepLimits, StepMonitor
from ._model import Model
from ._solver import SolverImplicit

__all__ = ["rollout"]


def rollout(model: Model, solver: SolverImplicit, *, steps: int, save_every: int = 1, state=None,
            progress: Callable[[int, int], None] | None = None,
            limits: StepLimits | None = DEFAULT_LIMITS) -> dict[str, np.ndarray]:
    """Simulate ``steps`` steps from ``state`` (default: the rest state) and return saved frames.

    Every step is checked by a ``StepMonitor`` with ``limits`` (None: finiteness only); the first
    non-finite or unresolved step raises ``SimulationError`` naming the step, the world and the quantity.

    Returns a dict of numpy arrays: "x" [B, F, W, H, 3] absolute positions [m], "u" [B, F, W, H, 2]
    sliding coordinates [m], "xdot", "udot" the velocities [m/s], "t" [F] times [s], and
    "iterations" [steps, B] CG iterations per step. Frame 0 is the initial state, frame k the state
    after k*save_every steps.
    """
    if steps < 0:
        raise ValueError(f"steps = {steps!r} is out of range: expected >= 0")
    if save_every < 1:
        raise ValueError(f"save_every = {save_every!r} is out of range: expected >= 1")
    current = state if state is not None else model.state()
    scratch = model.state()
    monitor = StepMonitor(model, dt=solver.dt, limits=limits)
    frames_q, frames_qd, times = [], [], []
    iterations = np.zeros((steps, model.world_count), dtype=np.int32)

    def save(k):
        frames_q.append(current.q.numpy().copy())
        frames_qd.append(current.qd.numpy().copy())
        times.append(k * solver.dt)

    save(0)
    for k in range(1, steps + 1):
        solver.step(current, scratch)
        current, scratch = scratch, current
        iterations[k - 1] = solver.iterations.numpy().copy()
        monitor.check(scratch, current, k)
        if k % save_every == 0:
            save(k)
        if progress is not None:
            progress(k, steps)
    q = np.stack(frames_q, axis=1)  # [B, F, N, 5]
    qd = np.stack(frames_qd, axis=1)

    def grid(a):  # [B, F, N, c] -> [B, F, W, H, c]
        b, f = a.shape[:2]
        g = model.to_grid(a.reshape(b * f, *a.shape[2:]))
        return g.reshape(b, f, *g.shape[1:])

    x = grid(q[..., :3] + model.origin_np[:, None, None, :])
    u = grid(q[..., 3:] + model.rest_sliding_np[None, None])
    return {"x": x, "u": u, "xdot": grid(qd[..., :3]), "udot": grid(qd[..., 3:]),
            "t": np.asarray(times), "iterations": iterations}
