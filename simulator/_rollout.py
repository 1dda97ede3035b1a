"""Run a model for many steps, keep frames, and stop with a clear error on NaN/Inf."""

from collections.abc import Callable

import numpy as np
import warp as wp

from ._model import Model
from ._solver import SolverImplicit
from ._types import vec5d


class SimulationError(RuntimeError):
    """A simulation produced a non-finite value (the message names the step and the quantity)."""


@wp.kernel
def count_nonfinite(q: wp.array2d(dtype=vec5d), qd: wp.array2d(dtype=vec5d), flags: wp.array(dtype=wp.int32)):
    b, n = wp.tid()
    qn = q[b, n]
    vn = qd[b, n]
    for k in range(5):
        if not wp.isfinite(qn[k]):
            wp.atomic_add(flags, k, 1)
        if not wp.isfinite(vn[k]):
            wp.atomic_add(flags, 5 + k, 1)


_QUANTITIES = ("position x", "position y", "position z", "sliding u", "sliding v",
               "velocity x", "velocity y", "velocity z", "sliding velocity u", "sliding velocity v")


def check_finite(model: Model, state, step: int, flags: wp.array) -> None:
    """Raise SimulationError naming ``step`` and the first non-finite quantity of ``state``."""
    flags.zero_()
    wp.launch(count_nonfinite, dim=(model.world_count, model.node_count), inputs=[state.q, state.qd],
              outputs=[flags], device=model.device)
    counts = flags.numpy()
    if counts.any():
        k = int(np.flatnonzero(counts)[0])
        raise SimulationError(f"step {step}: {_QUANTITIES[k]} became NaN/Inf at {counts[k]} node(s); "
                              "try a smaller dt or check the parameters")


def rollout(model: Model, solver: SolverImplicit, *, steps: int, save_every: int = 1, state=None,
            progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
    """Simulate ``steps`` steps from ``state`` (default: the rest state) and return saved frames.

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
    flags = wp.zeros(10, dtype=wp.int32, device=model.device)
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
        check_finite(model, current, k, flags)
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
