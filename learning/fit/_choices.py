"""Estimators and optimizers by name (the choices of ``warpweave fit``), with defaults for whitened coordinates.

The default learning rates assume coordinates in which the loss's Gauss–Newton matrix is the
identity and the Gauss–Newton step has length 1 (see :func:`whitening`). There a plain gradient
step of length 1 is a Gauss–Newton step; with an unbiased estimate ĝ of variance
E|ĝ − g|² = c·|g|² (c = (K − 1)/b for b Rademacher directions in K coordinates, (K + 1)/b for
Gaussian ones) the step 1/(1 + c) contracts the expected squared error fastest, by 1 − 1/(1 + c)
per iteration on a quadratic. SGD and PNM use that step; the adaptive optimizers (Adam, AdaPNM)
normalise their steps themselves and take a fixed fraction of the Gauss–Newton step.
"""

from __future__ import annotations

import torch

from learning.estimators import (
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
    "ESTIMATORS",
    "ESTIMATOR_OPTIMIZERS",
    "OPTIMIZERS",
    "default_learning_rate",
    "default_optimizer",
    "estimate_noise",
    "make_estimator",
    "make_optimizer",
]

ESTIMATORS = ("reverse", "truncated", "forward", "zeroth", "two-phase")
OPTIMIZERS = ("sgd", "adam", "pnm", "adapnm", "lbfgs", "gauss-newton")
#: optimizers that take their steps from a gradient estimator (gauss-newton uses the residual Jacobian)
ESTIMATOR_OPTIMIZERS = OPTIMIZERS[:5]
_ADAPTIVE_RATE = 0.05


def make_estimator(name: str, *, directions: int = 4, step: float = 1e-3, switch_at: int = 10,
                   window: int = 10) -> GradientEstimator:
    """The estimator called ``name``.

    Args:
        name: "reverse" (exact reverse mode), "truncated" (reverse mode through at most ``window``
            steps per loss term: biased, same cost), "forward" ((FG)²U: ``directions`` Rademacher tangents),
            "zeroth" (central differences along ``directions`` Rademacher directions with ``step``),
            "two-phase" (forward gradients for ``switch_at`` iterations, then reverse mode).
    """
    if name == "reverse":
        return ReverseUnroll()
    if name == "truncated":
        return Truncated(steps=window)
    if name == "forward":
        return ForwardGradient(directions=directions, distribution="rademacher")
    if name == "zeroth":
        return ZerothOrder(directions=directions, step=step, distribution="rademacher", central=True)
    if name == "two-phase":
        return TwoPhase(ForwardGradient(directions=directions), ReverseUnroll(), switch_at=switch_at)
    raise FitError(f"estimator {name!r} is unknown: expected one of {', '.join(ESTIMATORS)}")


def default_optimizer(estimator: str) -> str:
    """The optimizer to use with the estimator called ``estimator`` when none is named: L-BFGS for exact
    reverse-mode gradients, plain gradient steps (SGD, see the module notes) for the stochastic and the
    truncated (biased) estimates, whose steps L-BFGS's line search would not trust."""
    if estimator not in ESTIMATORS:
        raise FitError(f"estimator {estimator!r} is unknown: expected one of {', '.join(ESTIMATORS)}")
    return "lbfgs" if estimator == "reverse" else "sgd"


def estimate_noise(estimator: GradientEstimator | None, dim: int) -> float:
    """c with E|ĝ − g|² = c·|g|² for ``estimator`` in ``dim`` coordinates (0 for exact gradients)."""
    if isinstance(estimator, TwoPhase):
        return estimate_noise(estimator.first if estimator.phase == 1 else estimator.second, dim)
    if isinstance(estimator, ForwardGradient | ZerothOrder):
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
