"""Positive-Negative Momentum (PNM), the SGD variant."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from ._positive_negative import check_hyperparameters, gradient_with_weight_decay, positive_negative_direction

__all__ = ["PNM"]


class PNM(torch.optim.Optimizer):
    r"""Positive-Negative Momentum SGD (Xie, Yuan, Zhu, Sugiyama, ICML 2021, arXiv 2103.17182).

    Two momentum buffers are refreshed on alternate steps, so that at step t (counted from 1)

        m_t     = β1²·m_{t−2} + (1 − β1²)·g_t
        θ_{t+1} = θ_t − lr · [(1 + β0)·m_t − β0·m_{t−1}] / √((1 + β0)² + β0²)

    m_t (the positive momentum) is the buffer refreshed at step t, m_{t−1} (the negative momentum)
    the other one. β0 > 0 amplifies the gradient noise (variance × ((1+β0)² + β0²)) while keeping
    the expected step equal to the EMA of the gradient; β0 = 0 is EMA momentum SGD. Deterministic PNM
    on a quadratic with largest curvature L is stable iff lr·L < 2·√(Γ/(2Γ−1)), Γ = (1+β0)² + β0².

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (no default: the paper's CIFAR demo uses 1.0).
        betas: (β1, β0): momentum EMA factor and positive-negative coefficient.
        weight_decay: weight-decay coefficient wd.
        decoupled: if True, shrink p ← p·(1 − lr·wd) before the step; otherwise add wd·p to g.

    State per parameter: ``step`` (int), ``momentum_odd`` and ``momentum_even`` (the buffers
    refreshed on odd and on even steps).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        *,
        betas: tuple[float, float] = (0.9, 1.0),
        weight_decay: float = 0.0,
        decoupled: bool = True,
    ) -> None:
        beta1, beta0 = betas
        check_hyperparameters(lr=lr, beta1=beta1, beta0=beta0, weight_decay=weight_decay)
        defaults = {"lr": lr, "betas": (beta1, beta0), "weight_decay": weight_decay, "decoupled": decoupled}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta0 = group["betas"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = gradient_with_weight_decay(
                    param,
                    param.grad,
                    lr=group["lr"],
                    weight_decay=group["weight_decay"],
                    decoupled=group["decoupled"],
                )
                direction = positive_negative_direction(
                    self.state[param], param, grad, beta1=beta1, beta0=beta0
                )
                param.add_(direction, alpha=-group["lr"])
        return loss
