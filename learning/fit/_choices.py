"""Estimators and optimizers by name (the choices of ``warpweave fit``), with defaults for whitened coordinates.

The default learning rates assume coordinates in which the loss's Gauss–Newton matrix is the
identity and the Gauss–Newton step has length 1 (see :func:`whitening`). There a plain gradient
step of length 1 is a Gauss–Newton step; with an unbiased estimate ĝ of variance
E|ĝ − g|² = c·|g|² (c = (K − 1)/b for b Rademacher directions in K coordinates, (K + 1)/b for
Gaussian ones) the step 1/(1 + c) contracts the expected squared error fastest, by 1 − 1/(1 + c)
per iteration on a quadratic. SGD and PNM use that step; the adaptive optimizers (Adam, AdaPNM)
normalise their steps themselves and take a fixed fraction of the Gauss–Newton step.

Forward and zeroth-order estimates use every coordinate direction (``directions="all"``: the exact
gradient from one batched call of 2N + 1 evaluations) when there are at most ``ALL_DIRECTIONS_UP_TO``
parameters, and ``RANDOM_DIRECTIONS`` random ones beyond. Exact gradients (reverse mode, all
directions, two-phase of those) are followed with L-BFGS and its line search; estimates with sampling
error or truncation bias with plain gradient steps.

A fit re-whitens its coordinates every ``REWHITEN`` iterations, and at every iteration when the
estimates are forward or zeroth-order over all directions: such an estimate costs as much as the
whitening's Jacobian (2N + 1 evaluations; the first one after a whitening is read off that Jacobian),
so whitening at every iteration costs little, and each iteration then starts from a Gauss–Newton
step (the whitened axes are turned so that L-BFGS's first step is that step, see
``learning.fit.fit``). On the six material parameters of the reference scene started 30% off this
takes 5-6 iterations to convergence, against 20-22 with rounds of 5 and L-BFGS's own first step.
"""

from __future__ import annotations

import torch

from learning.estimators import (
    ALL_DIRECTIONS,
    DirectionCount,
    DirectionDistribution,
    ForwardGradient,
    GradientEstimator,
    ReverseUnroll,
    Truncated,
    TwoPhase,
    ZerothOrder,
)
from learning.optim import PNM, AdaPNM

from ._errors import FitError

__all__ = [
    "ALL_DIRECTIONS_UP_TO",
    "ESTIMATORS",
    "ESTIMATOR_OPTIMIZERS",
    "OPTIMIZERS",
    "REWHITEN",
    "SWITCH_AT",
    "default_directions",
    "default_learning_rate",
    "default_optimizer",
    "default_rewhiten",
    "estimate_noise",
    "exact_gradients",
    "make_estimator",
    "make_optimizer",
]

ESTIMATORS = ("reverse", "truncated", "forward", "zeroth", "two-phase")
OPTIMIZERS = ("sgd", "adam", "pnm", "adapnm", "lbfgs", "gauss-newton")
#: optimizers that take their steps from a gradient estimator (gauss-newton uses the residual Jacobian)
ESTIMATOR_OPTIMIZERS = OPTIMIZERS[:5]
_ADAPTIVE_RATE = 0.05
#: forward and zeroth-order estimates use all coordinate directions up to this many parameters: 2N + 1
#: evaluations per exact gradient, against 2b + 1 for b random directions whose estimate has a relative
#: variance of (N − 1)/b; beyond it the batched rollout grows too wide for its exactness to pay
ALL_DIRECTIONS_UP_TO = 16
#: random directions per estimate beyond ALL_DIRECTIONS_UP_TO parameters
RANDOM_DIRECTIONS = 4
#: estimates of the forward phase of "two-phase" before it switches to reverse mode
SWITCH_AT = 10
#: iterations between whitenings, unless every estimate costs a Jacobian anyway (see the module notes)
REWHITEN = 5


def make_estimator(name: str, *, dim: int | None = None, directions: DirectionCount | None = None,
                   step: float = 1e-4, switch_at: int = SWITCH_AT, window: int = 10) -> GradientEstimator:
    """The estimator called ``name``.

    Args:
        name: "reverse" (exact reverse mode), "truncated" (reverse mode through at most ``window``
            steps per loss term: biased, same cost), "forward" ((FG)²U: forward-mode derivatives along
            ``directions`` tangents), "zeroth" (central differences of the loss with ``step`` along
            ``directions`` directions), "two-phase" (forward gradients for ``switch_at`` estimates, then
            reverse mode).
        dim: the number N of parameters (needed to choose the directions when ``directions`` is None).
        directions: "all" (every coordinate direction: an exact gradient), a number b of random
            Rademacher directions, or None: "all" when N <= ALL_DIRECTIONS_UP_TO, else RANDOM_DIRECTIONS.
    """
    if name not in ESTIMATORS:
        raise FitError(f"estimator {name!r} is unknown: expected one of {', '.join(ESTIMATORS)}")
    if name == "reverse":
        return ReverseUnroll()
    if name == "truncated":
        return Truncated(steps=window)
    count = default_directions(dim) if directions is None else directions
    if name == "forward":
        return ForwardGradient(directions=count, distribution="rademacher", distributed=True)
    if name == "zeroth":
        return ZerothOrder(directions=count, step=step, distribution="rademacher", central=True)
    return TwoPhase(ForwardGradient(directions=count, distributed=True), ReverseUnroll(), switch_at=switch_at)


def default_directions(dim: int | None) -> DirectionCount:
    """"all" for at most ALL_DIRECTIONS_UP_TO parameters, else RANDOM_DIRECTIONS (see the module notes)."""
    if dim is None:
        raise TypeError("forward and zeroth-order estimators need dim= (the number of parameters) to choose "
                        "their directions, or directions= given explicitly")
    return ALL_DIRECTIONS if dim <= ALL_DIRECTIONS_UP_TO else RANDOM_DIRECTIONS


def exact_gradients(estimator: GradientEstimator | None) -> bool:
    """True when ``estimator`` returns the gradient without sampling error or truncation bias: reverse
    mode, forward or zeroth-order estimates over all coordinate directions, and two-phase of such."""
    if isinstance(estimator, TwoPhase):
        return exact_gradients(estimator.first) and exact_gradients(estimator.second)
    if isinstance(estimator, ForwardGradient | ZerothOrder):
        return not estimator.sampled
    return isinstance(estimator, ReverseUnroll)


def default_optimizer(estimator: GradientEstimator) -> str:
    """The optimizer to use with ``estimator`` when none is named: L-BFGS (with its line search) for
    exact gradients (see :func:`exact_gradients`), plain gradient steps (SGD, see the module notes) for
    the stochastic and the truncated (biased) estimates, whose steps L-BFGS's line search would not trust."""
    return "lbfgs" if exact_gradients(estimator) else "sgd"


def default_rewhiten(estimator: GradientEstimator | None, *, whitened: bool = True) -> int:
    """Iterations per round for ``estimator``: 1 when the rounds are whitened and its estimates (those of
    a two-phase estimator's first phase) are forward or zeroth-order over all directions, else REWHITEN
    (without whitening a round only restarts the optimizer from the best point, and L-BFGS needs its
    history)."""
    first = estimator.first if isinstance(estimator, TwoPhase) else estimator
    every_direction = isinstance(first, ForwardGradient | ZerothOrder) and not first.sampled
    return 1 if whitened and every_direction else REWHITEN


def estimate_noise(estimator: GradientEstimator | None, dim: int) -> float:
    """c with E|ĝ − g|² = c·|g|² for ``estimator`` in ``dim`` coordinates (0 for exact gradients)."""
    if isinstance(estimator, TwoPhase):
        return estimate_noise(estimator.first if estimator.phase == 1 else estimator.second, dim)
    if isinstance(estimator, ForwardGradient | ZerothOrder) and estimator.sampled:
        gaussian = estimator.distribution is DirectionDistribution.GAUSSIAN
        return (dim + 1 if gaussian else dim - 1) / estimator.directions
    return 0.0


def default_learning_rate(name: str, *, estimator: GradientEstimator | None = None, dim: int = 1) -> float:
    """Learning rate of optimizer ``name`` in whitened coordinates for ``estimator`` (see the module notes)."""
    if name not in OPTIMIZERS:
        raise FitError(f"optimizer {name!r} is unknown: expected one of {', '.join(OPTIMIZERS)}")
    if name in ("adam", "adapnm"):
        return _ADAPTIVE_RATE
    if name in ("sgd", "pnm"):
        return 1.0 / (1.0 + estimate_noise(estimator, dim))
    return 1.0


def make_optimizer(name: str, params, *, lr: float, iterations: int = 100) -> torch.optim.Optimizer:
    """The torch optimizer called ``name`` ("sgd", "adam", "pnm", "adapnm", "lbfgs") over ``params``.

    The first-order ones take one estimate per ``step``. L-BFGS runs all ``iterations`` in one
    ``step(closure)`` with a strong-Wolfe line search (several closure calls per iteration) and no
    tolerance-based stop.
    """
    if name not in ESTIMATOR_OPTIMIZERS:
        expected = ", ".join(ESTIMATOR_OPTIMIZERS)
        raise FitError(f"optimizer {name!r} is not a torch optimizer: expected one of {expected}")
    if not lr > 0.0:
        raise FitError(f"learning rate {lr!r} is out of range: expected > 0")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "pnm":
        return PNM(params, lr=lr)
    if name == "adapnm":
        return AdaPNM(params, lr=lr)
    return torch.optim.LBFGS(params, lr=lr, max_iter=iterations, max_eval=4 * iterations, history_size=20,
                             tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe")
