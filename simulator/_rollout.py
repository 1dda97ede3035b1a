"""Run a model for many steps and keep frames (``simulator.rollout``), on the engine's one step loop."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._health import DEFAULT_LIMITS, StepLimits
from ._model import Model, State
from ._solver import SolverImplicit
from ._stepping import SolveHealth, advance

__all__ = ["Rollout", "rollout"]


@dataclass(frozen=True)
class Rollout:
    """The saved frames of a rollout and how its linear solves went.

    Attributes:
        x: absolute node positions [m], shape [B, F, W, H, 3].
        u: sliding coordinates (arc length of each node along its warp and weft yarn) [m], [B, F, W, H, 2].
        xdot, udot: the velocities [m/s], same shapes.
        t: frame times [s], shape [F]; frame 0 is the initial state, frame k the state after k * save_every steps.
        health: every step's linear solve (iterations, final residual, converged; per world).
    """

    x: np.ndarray
    u: np.ndarray
    xdot: np.ndarray
    udot: np.ndarray
    t: np.ndarray
    health: SolveHealth

    @property
    def iterations(self) -> np.ndarray:
        """CG iterations per step and world [steps, B]."""
        return self.health.arrays()[0]


def rollout(model: Model, solver: SolverImplicit, *, steps: int, save_every: int = 1, state: State | None = None,
            progress: Callable[[int, int], None] | None = None,
            limits: StepLimits | None = DEFAULT_LIMITS, contacts=None) -> Rollout:
    """Simulate ``steps`` steps from ``state`` (default: the rest state; not modified) and return saved frames.

    Every step is checked by a ``StepMonitor`` with ``limits`` (None: finiteness only); the first non-finite or
    unresolved step, or with a strict solver the first unconverged solve, raises ``SimulationError`` naming the
    step, the world and the quantity. The model's keyframed inputs (``Model.schedule``) drive the steps;
    ``contacts`` (``simulator.Contacts``), if given, are passed to every step.
    """
    if save_every < 1:
        raise ValueError(f"save_every = {save_every!r} is out of range: expected >= 1")
    frames_q, frames_qd, times = [], [], []
    health = SolveHealth()

    def save(current: State, k: int) -> None:
        frames_q.append(current.q.numpy().copy())
        frames_qd.append(current.qd.numpy().copy())
        times.append(k * solver.dt)

    save(state if state is not None else model.state(), 0)
    for k, _previous, current in advance(model, solver, steps=steps, state=state, limits=limits, health=health,
                                         contacts=contacts):
        if k % save_every == 0:
            save(current, k)
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
    return Rollout(x=x, u=u, xdot=grid(qd[..., :3]), udot=grid(qd[..., 3:]), t=np.asarray(times), health=health)
