"""Bilevel problems: an inner optimisation unrolled for T steps under meta parameters φ, and an outer loss.

A problem is four pure functions (torch.func style: no in-place updates of anything that depends on φ) and a
sampler of the inner mini-batches. One meta step fixes its batches once (common random numbers: every direction,
perturbation and truncation of that step sees the same h(φ) = f(w_T(φ), φ)) by building its objective with
``bilevel_objective(problem, steps=T, generator=...)``; every estimator of ``learning.estimators`` consumes it, and
the implicit ones of this package use the inner loss g as well.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

from learning.estimators import UnrolledTorchObjective

__all__ = ["BilevelObjective", "BilevelProblem", "ImplicitParts", "ObjectiveWithImplicitParts", "bilevel_objective"]


@runtime_checkable
class BilevelProblem(Protocol):
    """min over φ of f(w_T(φ), φ), where w_t = Ω_t(w_{t−1}, φ) takes T steps on an inner loss g(w, φ).

    Attributes:
        dim: number of meta parameters N (φ is a flat vector [N]).
    """

    dim: int

    def init_inner(self, meta: Tensor) -> Any:
        """Ω_0: the inner state w_0 (a tensor; it may depend on φ)."""
        ...

    def inner_step(self, state: Any, meta: Tensor, step: int, batch: Any) -> Any:
        """Ω_t: one inner optimiser step on ``batch`` (t = ``step`` from 1); a pure function."""
        ...

    def inner_loss(self, state: Any, meta: Tensor, batch: Any) -> Tensor:
        """g(w, φ) on ``batch``, the loss the inner steps descend (used by the implicit estimators)."""
        ...

    def outer_loss(self, state: Any, meta: Tensor) -> Tensor:
        """f(w_T, φ), a 0-d tensor."""
        ...

    def sample_inner_batches(self, steps: int, generator: torch.Generator | None) -> Sequence[Any]:
        """The ``steps`` inner batches of one meta step (e.g. index tensors), drawn with ``generator``."""
        ...


class ImplicitParts:
    """What the implicit-function estimators need at the end of the unroll (``value_and_implicit_parts``).

    Attributes:
        value: h(φ) = f(w_T, φ).
        outer_state_grad: d = ∂f/∂w at w_T [shape (M,)].
        outer_meta_grad: c = ∂f/∂φ [shape (N,)] (the explicit term).
        hvp: v ↦ ∇²_ww g(w_T, φ) v [shape (M,) → (M,)] on the last inner batch.
        cross: v ↦ ∂/∂φ (∇_w g(w_T, φ) · v) [shape (M,) → (N,)].
    """

    def __init__(self, *, value: float, outer_state_grad: Tensor, outer_meta_grad: Tensor,
                 hvp: Callable[[Tensor], Tensor], cross: Callable[[Tensor], Tensor]) -> None:
        self.value = value
        self.outer_state_grad = outer_state_grad
        self.outer_meta_grad = outer_meta_grad
        self.hvp = hvp
        self.cross = cross


@runtime_checkable
class ObjectiveWithImplicitParts(Protocol):
    """An objective that exposes the inner problem at the end of its unroll (implicit-function estimators)."""

    def value_and_implicit_parts(self, theta: Tensor) -> ImplicitParts:
        ...


class BilevelObjective(UnrolledTorchObjective):
    """h(φ) = f(w_T(φ), φ) of a ``BilevelProblem`` with its T inner batches fixed (one meta step).

    Every capability of ``UnrolledTorchObjective`` (reverse, truncated reverse, batched JVPs, batched values) plus
    ``value_and_implicit_parts`` for ``ImplicitCG``, ``ImplicitNeumann`` and ``HessianFree`` (which need the inner
    state to be one tensor w [shape (M,)]).

    Args:
        problem: the bilevel problem.
        batches: the T inner batches of this meta step.
        chunk_size: evaluate batched tangents this many at a time (None: all).
    """

    def __init__(self, problem: BilevelProblem, batches: Sequence[Any], *, chunk_size: int | None = None) -> None:
        self.problem = problem
        self.batches = tuple(batches)
        super().__init__(
            init=problem.init_inner,
            inner_step=lambda state, meta, step: problem.inner_step(state, meta, step, self.batches[step - 1]),
            outer_loss=problem.outer_loss,
            steps=len(self.batches),
            dim=problem.dim,
            chunk_size=chunk_size,
            randomness="same",
        )

    def value_and_implicit_parts(self, theta: Tensor) -> ImplicitParts:
        """The outer loss's gradients and the inner loss's second derivatives at w_T (``ImplicitParts``)."""
        theta = theta.detach()
        with torch.no_grad():
            state = self._advance(self.init(theta), theta, 1, self.steps)
        if not isinstance(state, Tensor) or state.dim() != 1:
            raise TypeError("the implicit estimators need the inner state to be one flat tensor w [shape (M,)]; "
                            f"{type(self.problem).__name__} has {type(state).__name__}")
        batch = self.batches[-1] if self.batches else None
        (state_grad, meta_grad), value = torch.func.grad_and_value(self.problem.outer_loss, argnums=(0, 1))(
            state, theta)
        inner_grad = torch.func.grad(self.problem.inner_loss, argnums=0)

        def hvp(vector: Tensor) -> Tensor:
            return torch.func.jvp(lambda w: inner_grad(w, theta, batch), (state,), (vector,))[1]

        def cross(vector: Tensor) -> Tensor:
            return torch.func.grad(lambda meta: inner_grad(state, meta, batch) @ vector)(theta)

        return ImplicitParts(value=float(value), outer_state_grad=state_grad, outer_meta_grad=meta_grad, hvp=hvp,
                             cross=cross)


def bilevel_objective(problem: BilevelProblem, *, steps: int, generator: torch.Generator | None = None,
                      chunk_size: int | None = None) -> BilevelObjective:
    """The objective of one meta step: ``problem``'s T = ``steps`` inner batches drawn once with ``generator``."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    return BilevelObjective(problem, problem.sample_inner_batches(steps, generator), chunk_size=chunk_size)
