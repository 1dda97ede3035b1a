"""Reverse-mode estimators: exact back-propagation through the whole objective, and its truncation."""

from __future__ import annotations

import torch
from torch import Tensor

from ._objective import (
    Estimate,
    Objective,
    ObjectiveWithGrad,
    ObjectiveWithTruncatedGrad,
    check_parameters,
    require,
)

__all__ = ["ReverseUnroll", "Truncated"]


class ReverseUnroll:
    """Exact gradient ∇h(θ) from the objective's reverse mode (RGU when h is an unrolled inner loop).

    Needs ``objective.value_and_grad``. Deterministic; ``generator`` is ignored.
    """

    def __call__(
        self, objective: Objective, theta: Tensor, *, generator: torch.Generator | None = None
    ) -> Estimate:
        theta = check_parameters(objective, theta)
        require(
            objective,
            ObjectiveWithGrad,
            "value_and_grad",
            "ReverseUnroll",
            "Use ForwardGradient (needs value_and_jvp) or ZerothOrder (needs only value).",
        )
        value, grad = objective.value_and_grad(theta)
        return Estimate(value=value, grad=grad.to(theta.dtype), info={"estimator": "reverse"})

    def __repr__(self) -> str:
        return "ReverseUnroll()"


class Truncated:
    """Truncated reverse gradient unrolling (TRGU, Shaban et al. 2019): back-propagate the last s steps.

    ĝ = ∂f/∂θ + Σ_{t=T−s+1}^{T} B_tᵀ A_{t+1}ᵀ···A_Tᵀ ∂f/∂x_T, a biased estimate whose bias shrinks like
    (1 − ηα)^s for gradient descent on an α-strongly-convex inner problem; s = T is exact.
    Needs ``objective.value_and_truncated_grad`` (see :class:`UnrolledTorchObjective`). For losses summed
    over the frames of a rollout (``learning.cloth.ClothObjective``) each frame's term is back-propagated
    through at most s steps.

    Args:
        steps: number s ≥ 0 of final inner steps to back-propagate through.
    """

    def __init__(self, *, steps: int) -> None:
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        self.steps = int(steps)

    def __call__(
        self, objective: Objective, theta: Tensor, *, generator: torch.Generator | None = None
    ) -> Estimate:
        theta = check_parameters(objective, theta)
        require(
            objective,
            ObjectiveWithTruncatedGrad,
            "value_and_truncated_grad",
            "Truncated",
            "Only objectives defined by an unrolled inner loop (e.g. UnrolledTorchObjective) have one.",
        )
        value, grad = objective.value_and_truncated_grad(theta, last_steps=self.steps)
        return Estimate(
            value=value, grad=grad.to(theta.dtype), info={"estimator": "truncated", "steps": self.steps}
        )

    def __repr__(self) -> str:
        return f"Truncated(steps={self.steps})"
