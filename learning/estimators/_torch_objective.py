"""Objectives built from plain torch functions with torch.func (grad, jvp, vmap)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import torch
from torch import Tensor

__all__ = ["TorchObjective", "UnrolledTorchObjective"]

Randomness = Literal["error", "different", "same"]


class TorchObjective:
    """An :class:`Objective` with every capability, from a torch function h(θ) → scalar tensor.

    ``fn`` must be composable with torch.func: no in-place updates of θ, no ``.item()`` on values
    that depend on θ, no data-dependent Python control flow on θ.

    Args:
        fn: h, mapping θ [shape (dim,)] to a 0-d tensor.
        dim: number of parameters N.
        chunk_size: evaluate batched tangents or parameter vectors this many at a time (None: all).
        randomness: torch.func.vmap's randomness mode for random ops inside ``fn``; "same" gives every
            direction the same draw (common random numbers).
    """

    def __init__(
        self,
        fn: Callable[[Tensor], Tensor],
        *,
        dim: int,
        chunk_size: int | None = None,
        randomness: Randomness = "error",
    ) -> None:
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.fn = fn
        self.dim = int(dim)
        self.chunk_size = chunk_size
        self.randomness = randomness

    def value(self, theta: Tensor) -> float:
        """h(θ)."""
        with torch.no_grad():
            return float(self.fn(theta.detach()))

    def value_and_grad(self, theta: Tensor) -> tuple[float, Tensor]:
        """(h(θ), ∇h(θ) [shape (N,)]) by reverse mode."""
        grad, value = torch.func.grad_and_value(self.fn)(theta.detach())
        return float(value), grad

    def value_and_jvp(self, theta: Tensor, tangents: Tensor) -> tuple[float, Tensor]:
        """(h(θ), ∇h(θ)·v_i [shape (b,)]) for tangents [shape (b, N)], in one vmapped forward-mode pass."""
        theta = theta.detach()

        def directional(tangent: Tensor) -> tuple[Tensor, Tensor]:
            return torch.func.jvp(self.fn, (theta,), (tangent.to(theta.dtype),))

        values, derivatives = torch.func.vmap(
            directional, chunk_size=self.chunk_size, randomness=self.randomness
        )(tangents)
        return float(values[0]), derivatives

    def values(self, thetas: Tensor) -> Tensor:
        """h(θ_i) [shape (b,)] for parameter vectors [shape (b, N)], vmapped."""
        with torch.no_grad():
            return torch.func.vmap(self.fn, chunk_size=self.chunk_size, randomness=self.randomness)(
                thetas.detach()
            )


class UnrolledTorchObjective(TorchObjective):
    """h(θ) = f(x_T, θ) for an inner loop x_0 = Ω_0(θ), x_t = Ω_t(x_{t−1}, θ), t = 1..T, written in torch.

    Adds truncated reverse mode (TRGU) to :class:`TorchObjective`: the first T − s inner steps run
    without a graph and the gradient flows back through the last s steps only.

    Args:
        init: Ω_0, θ → inner state x_0 (a tensor or a pytree of tensors; may depend on θ).
        inner_step: Ω_t, (x_{t−1}, θ, t) → x_t, a pure function (no in-place updates).
        outer_loss: f, (x_T, θ) → 0-d tensor.
        steps: unrolled depth T.
        dim: number of meta parameters N.
        chunk_size, randomness: as in :class:`TorchObjective`.
    """

    def __init__(
        self,
        *,
        init: Callable[[Tensor], Any],
        inner_step: Callable[[Any, Tensor, int], Any],
        outer_loss: Callable[[Any, Tensor], Tensor],
        steps: int,
        dim: int,
        chunk_size: int | None = None,
        randomness: Randomness = "error",
    ) -> None:
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        self.init = init
        self.inner_step = inner_step
        self.outer_loss = outer_loss
        self.steps = int(steps)
        super().__init__(self._unrolled_loss, dim=dim, chunk_size=chunk_size, randomness=randomness)

    def _advance(self, state: Any, theta: Tensor, first: int, last: int) -> Any:
        for t in range(first, last + 1):
            state = self.inner_step(state, theta, t)
        return state

    def _unrolled_loss(self, theta: Tensor) -> Tensor:
        return self.outer_loss(self._advance(self.init(theta), theta, 1, self.steps), theta)

    def value_and_truncated_grad(self, theta: Tensor, *, last_steps: int) -> tuple[float, Tensor]:
        """(h(θ), gradient through the last ``last_steps`` inner steps [shape (N,)]).

        ``last_steps`` ≥ T gives the exact gradient (including the dependence of x_0 on θ);
        ``last_steps`` = 0 keeps only the explicit term ∂f/∂θ.
        """
        if last_steps < 0:
            raise ValueError(f"last_steps must be >= 0, got {last_steps}")
        if last_steps >= self.steps:
            return self.value_and_grad(theta)
        theta = theta.detach()
        split = self.steps - int(last_steps)
        with torch.no_grad():
            start = self._advance(self.init(theta), theta, 1, split)

        def tail(phi: Tensor) -> Tensor:
            return self.outer_loss(self._advance(start, phi, split + 1, self.steps), phi)

        grad, value = torch.func.grad_and_value(tail)(theta)
        return float(value), grad
