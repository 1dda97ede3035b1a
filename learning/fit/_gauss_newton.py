"""Gauss–Newton iterations for least-squares objectives h = |r|², with a line search over batched worlds.

Each iteration takes the residual Jacobian J at θ (N forward-mode directional derivatives; for the
cloth, 2N + 1 worlds of one rollout), steps along the Gauss–Newton direction restricted to the
directions the data determine (see :func:`whitening`), and tries the step lengths 1, 1/2, 1/4,
1/8 as one batched evaluation, keeping the best that lowers h. It stops when the step left is
negligible (see :class:`Convergence`) or when no step length lowers h.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from ._convergence import DEFAULT_CONVERGENCE, Convergence
from ._minimize import Iterate, Minimization
from ._preconditioned import whitening

__all__ = ["STEP_LENGTHS", "gauss_newton"]

STEP_LENGTHS = (1.0, 0.5, 0.25, 0.125)


def gauss_newton(objective, theta0, *, iterations: int = 20, cutoff: float = 1e-12,
                 convergence: Convergence | None = DEFAULT_CONVERGENCE,
                 callback: Callable[[Iterate], bool | None] | None = None, clock=time.perf_counter) -> Minimization:
    """Minimise h = |r|² from ``theta0`` by Gauss–Newton steps with a batched backtracking line search.

    Args:
        objective: has ``residual_jacobian(θ) -> (r [M], J [M, N])`` and ``values(thetas [b, N]) -> [b]``.
        iterations: the most Gauss–Newton iterations (Jacobians).
        cutoff: relative eigenvalue of 2 JᵀJ below which a direction is not moved along.
        convergence: stop ("converged") when the Gauss–Newton step is negligible (None: never).
        callback: called with every point where a Jacobian was taken; returning True stops.

    Also stops ("converged") when no step length lowers h.
    """
    start = clock()
    theta = np.asarray(theta0, dtype=np.float64).copy()
    history: list[Iterate] = []
    stopped, reason, completed = "iterations", f"the iteration limit ({iterations}) was reached", 0
    try:
        for completed in range(iterations + 1):
            residuals, jacobian = objective.residual_jacobian(theta)
            value = float(residuals @ residuals)
            best = min(value, history[-1].best) if history else value
            history.append(Iterate(iteration=completed, loss=value, best=best, theta=theta.copy(),
                                   estimates=len(history) + 1, seconds=clock() - start))
            if callback is not None and callback(history[-1]):
                stopped, reason = "callback", "the callback asked to stop"
                break
            if completed == iterations:
                break
            white = whitening(residuals, jacobian, cutoff=cutoff)
            gradient = 2.0 * jacobian.T @ residuals
            step = -white.matrix @ (white.matrix.T @ gradient) / white.value_scale
            met = None if convergence is None else convergence.reason(
                step=step, decrease=0.5 * white.value_scale, loss=value, dof=len(residuals) - white.kept)
            if met:
                stopped, reason = "converged", met
                break
            trials = theta + np.outer(STEP_LENGTHS, step)
            values = np.asarray(objective.values(torch.as_tensor(trials)), dtype=np.float64)
            k = int(np.argmin(values))
            if not values[k] < value:
                stopped, reason = "converged", "no step length along the Gauss-Newton step lowers the loss"
                break
            theta = trials[k]
    except KeyboardInterrupt:
        stopped, reason = "interrupted", "interrupted (Ctrl-C)"
        if not history:
            raise
    top = min(history, key=lambda item: item.loss)
    return Minimization(theta=top.theta, loss=top.loss, initial_loss=history[0].loss, history=history,
                        iterations=completed, seconds=clock() - start, stopped=stopped, reason=reason)
