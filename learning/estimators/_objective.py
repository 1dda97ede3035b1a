"""The objective protocol every gradient estimator consumes, and the estimate it returns.

An objective is a scalar function h: R^N → R of a flat parameter vector θ [shape (N,)]. It must
report its value; what else it can do is optional and each estimator asks only for what it needs:

====================================  ===========================================  =====================
capability                            method                                       used by
====================================  ===========================================  =====================
value (required)                      ``value(theta) -> float``                    all
reverse mode (VJP with 1)             ``value_and_grad(theta) -> (float, (N,))``   ReverseUnroll
forward mode, b tangents at once      ``value_and_jvp(theta, (b, N)) -> (float, (b,))``  ForwardGradient
batched values                        ``values((b, N)) -> (b,)``                   ZerothOrder
truncated reverse through an unroll   ``value_and_truncated_grad(theta, *, last_steps)``  Truncated
====================================  ===========================================  =====================

Nothing here assumes torch.func: a cloth simulator implements the same methods with batched worlds
(one world per tangent or per perturbed parameter vector).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

__all__ = [
    "EvaluationFailed",
    "Objective",
    "ObjectiveWithGrad",
    "ObjectiveWithJvp",
    "ObjectiveWithValues",
    "ObjectiveWithTruncatedGrad",
    "Estimate",
    "GradientEstimator",
]


class EvaluationFailed(RuntimeError):
    """An objective could not be evaluated at θ (for a simulator: the rollout at those parameters was unstable).

    Fitting loops treat such a point as a failed trial step: they go back to the best point so far and take
    smaller steps (``learning.fit.fit``).
    """


@runtime_checkable
class Objective(Protocol):
    """A scalar objective h(θ) of a flat parameter vector θ [shape (dim,)]."""

    dim: int
    """Number of parameters N."""

    def value(self, theta: Tensor) -> float:
        """h(θ) for θ [shape (N,)]."""
        ...


@runtime_checkable
class ObjectiveWithGrad(Protocol):
    """An objective with reverse mode: one vector-Jacobian product with the cotangent 1."""

    def value_and_grad(self, theta: Tensor) -> tuple[float, Tensor]:
        """(h(θ), ∇h(θ) [shape (N,)])."""
        ...


@runtime_checkable
class ObjectiveWithJvp(Protocol):
    """An objective with forward mode: Jacobian-vector products for a batch of tangents."""

    def value_and_jvp(self, theta: Tensor, tangents: Tensor) -> tuple[float, Tensor]:
        """(h(θ), ∇h(θ)·v_i for each row v_i of ``tangents`` [shape (b, N)] → [shape (b,)])."""
        ...


@runtime_checkable
class ObjectiveWithValues(Protocol):
    """An objective that evaluates many parameter vectors in one batched call."""

    def values(self, thetas: Tensor) -> Tensor:
        """h(θ_i) for each row of ``thetas`` [shape (b, N)] → [shape (b,)]."""
        ...


@runtime_checkable
class ObjectiveWithTruncatedGrad(Protocol):
    """An objective h(θ) = f(x_T(θ), θ) defined by T unrolled inner steps x_t = Ω_t(x_{t−1}, θ)."""

    steps: int
    """Number of unrolled inner steps T."""

    def value_and_truncated_grad(self, theta: Tensor, *, last_steps: int) -> tuple[float, Tensor]:
        """(h(θ), gradient back-propagated through the last ``last_steps`` inner steps only [shape (N,)])."""
        ...


@dataclass(frozen=True)
class Estimate:
    """What a gradient estimator returns.

    Attributes:
        value: h(θ) at the parameters the estimate was taken at.
        grad: the gradient estimate ĝ ≈ ∇h(θ) [shape (N,)], same dtype as θ.
        info: estimator-specific details (directions, directional derivatives, evaluations, phase).
    """

    value: float
    grad: Tensor
    info: Mapping[str, Any] = field(default_factory=dict)


class GradientEstimator(Protocol):
    """Anything that turns an objective and parameters into an :class:`Estimate`."""

    def __call__(
        self, objective: Objective, theta: Tensor, *, generator: torch.Generator | None = None
    ) -> Estimate: ...


def check_parameters(objective: Objective, theta: Tensor) -> Tensor:
    """Return θ detached, after checking it is a floating vector of length ``objective.dim``."""
    if not isinstance(theta, Tensor):
        raise TypeError(f"theta must be a torch.Tensor, got {type(theta).__name__}")
    if not theta.is_floating_point():
        raise TypeError(f"theta must be a floating-point tensor, got dtype {theta.dtype}")
    if theta.dim() != 1 or theta.numel() != objective.dim:
        name = type(objective).__name__
        raise ValueError(f"theta must have shape ({objective.dim},) for {name}, got {tuple(theta.shape)}")
    return theta.detach()


def require(objective: Objective, capability: type, method: str, estimator: str, hint: str = "") -> None:
    """Raise TypeError naming the missing ``method`` when ``objective`` lacks ``capability``."""
    if not isinstance(objective, capability):
        message = (
            f"{estimator} needs an objective with a `{method}` method; {type(objective).__name__} has none."
        )
        raise TypeError(f"{message} {hint}".rstrip())


def evaluate_values(objective: Objective, thetas: Tensor) -> Tensor:
    """h at each row of ``thetas`` [shape (b, N)] → [shape (b,)]; batched when the objective can be."""
    if isinstance(objective, ObjectiveWithValues):
        values = objective.values(thetas)
        if tuple(values.shape) != (thetas.shape[0],):
            raise ValueError(
                f"{type(objective).__name__}.values returned shape {tuple(values.shape)}, "
                f"expected ({thetas.shape[0]},)"
            )
        return values.to(thetas.dtype)
    return torch.tensor([objective.value(row) for row in thetas], dtype=thetas.dtype, device=thetas.device)
