"""The optimisation loop: an estimator feeds a torch optimizer; the best point seen is kept.

Stops after the given number of iterations, when ``converged`` says so, when ``callback`` returns
True, or on Ctrl-C (KeyboardInterrupt), and in every case returns the best point evaluated so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from learning.estimators import Estimate, GradientEstimator, assign_grad

from ._choices import default_learning_rate, make_optimizer

__all__ = ["Iterate", "Minimization", "minimize"]


@dataclass(frozen=True)
class Iterate:
    """One evaluated point.

    Attributes:
        iteration: optimizer iterations completed before this evaluation.
        loss: the objective's value at ``theta``.
        best: the lowest value so far (this one included).
        theta: the point [N].
        estimates: estimator calls so far (this one included).
        seconds: wall time since the start [s].
        info: the estimate's scalar details (e.g. its phase).
    """

    iteration: int
    loss: float
    best: float
    theta: np.ndarray
    estimates: int
    seconds: float
    info: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Minimization:
    """The outcome of :func:`minimize`.

    Attributes:
        theta: the best point evaluated [N]; ``loss`` its value; ``initial_loss`` the value at the start.
        history: every evaluated point, in order.
        iterations: optimizer iterations completed.
        seconds: wall time [s].
        stopped: "iterations", "converged" (no progress left), "callback" or "interrupted" (Ctrl-C).
        reason: why, in words (e.g. which convergence test was met).
    """

    theta: np.ndarray
    loss: float
    initial_loss: float
    history: list[Iterate]
    iterations: int
    seconds: float
    stopped: str
    reason: str = ""

    @property
    def interrupted(self) -> bool:
        return self.stopped == "interrupted"


class _Stop(Exception):
    """Raised inside the loop (or an L-BFGS closure) to stop."""

    def __init__(self, stopped: str, reason: str = ""):
        super().__init__(stopped)
        self.stopped, self.reason = stopped, reason


def minimize(objective, theta0, *, estimator: GradientEstimator, optimizer: str = "adam", iterations: int = 100,
             lr: float | None = None, generator: torch.Generator | None = None,
             callback: Callable[[Iterate], bool | None] | None = None,
             converged: Callable[[Estimate], str | None] | None = None,
             step_limit: Callable[[torch.Tensor], torch.Tensor] | None = None, clock=time.perf_counter) -> Minimization:
    """Minimise ``objective`` from ``theta0`` with gradient estimates from ``estimator``.

    Args:
        objective: a ``learning.estimators`` objective with the capability ``estimator`` needs.
        theta0: the starting point [N].
        optimizer: "sgd", "adam", "pnm", "adapnm" or "lbfgs" (see :func:`make_optimizer`).
        iterations: optimizer iterations.
        lr: learning rate (default: :func:`default_learning_rate` for the estimator).
        generator: random numbers for stochastic estimators.
        callback: called with every :class:`Iterate`; returning True stops.
        converged: called with every estimate at a point that is the best so far; a string (why it has
            converged) stops with ``stopped`` "converged".
        step_limit: maps each step Δθ of a first-order optimizer to the step taken (e.g. a trust
            region); not used by L-BFGS, whose line search chooses its steps.
    """
    if iterations < 1:
        raise ValueError(f"iterations = {iterations!r} is out of range: expected >= 1")
    start = clock()
    param = torch.nn.Parameter(torch.as_tensor(np.asarray(theta0), dtype=torch.float64).clone())
    if lr is None:
        lr = default_learning_rate(optimizer, estimator=estimator, dim=param.numel())
    opt = make_optimizer(optimizer, [param], lr=lr, iterations=iterations)
    history: list[Iterate] = []
    completed = 0

    def record(theta: torch.Tensor, value: float, info: dict) -> None:
        best = min(value, history[-1].best) if history else value
        scalars = {k: v for k, v in info.items() if isinstance(v, int | float | str)}
        item = Iterate(iteration=completed, loss=float(value), best=float(best), theta=theta.numpy().copy(),
                       estimates=len(history) + 1, seconds=clock() - start, info=scalars)
        history.append(item)
        if callback is not None and callback(item):
            raise _Stop("callback", "the callback asked to stop")

    def estimate() -> float:
        theta = param.detach().clone()
        result = estimator(objective, theta, generator=generator)
        assign_grad([param], result.grad)
        record(theta, result.value, dict(result.info))
        if converged is not None and history[-1].loss <= history[-1].best:
            reason = converged(result)
            if reason:
                raise _Stop("converged", reason)
        return result.value

    stopped, reason = "iterations", ""
    try:
        if isinstance(opt, torch.optim.LBFGS):
            def closure():
                nonlocal completed
                completed = opt.state[param].get("n_iter", 0) if opt.state else 0
                return torch.tensor(estimate(), dtype=torch.float64)

            opt.step(closure)
            completed = opt.state[param].get("n_iter", iterations)
        else:
            for _ in range(iterations):
                estimate()
                before = param.detach().clone()
                opt.step()
                if step_limit is not None:
                    with torch.no_grad():
                        param.copy_(before + step_limit(param.detach() - before))
                completed += 1
            theta = param.detach().clone()
            record(theta, float(objective.value(theta)), {"evaluation": "value after the last step"})
    except _Stop as stop:
        stopped, reason = stop.stopped, stop.reason
    except KeyboardInterrupt:
        stopped, reason = "interrupted", "interrupted (Ctrl-C)"
    if not history:
        raise KeyboardInterrupt
    reason = reason or f"{completed} iterations done"
    best = min(history, key=lambda item: item.loss)
    return Minimization(theta=best.theta, loss=best.loss, initial_loss=history[0].loss, history=history,
                        iterations=completed, seconds=clock() - start, stopped=stopped, reason=reason)
