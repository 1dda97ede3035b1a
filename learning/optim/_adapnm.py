"""Adaptive Positive-Negative Momentum (AdaPNM), the Adam variant."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch

from ._positive_negative import check_hyperparameters, gradient_with_weight_decay, positive_negative_direction

__all__ = ["AdaPNM"]


class AdaPNM(torch.optim.Optimizer):
    r"""Adaptive Positive-Negative Momentum (Xie, Yuan, Zhu, Sugiyama, ICML 2021, arXiv 2103.17182).

    PNM's positive-negative momentum with Adam's second-moment scaling. At step t (from 1):

        m_t     = β1²·m_{t−2} + (1 − β1²)·g_t                    (buffer refreshed at step t)
        v_t     = β2·v_{t−1} + (1 − β2)·g_t²;   v̂_t = max(v̂_{t−1}, v_t) with AMSGrad, else v_t
        Δ_t     = [(1 + β0)·m_t − β0·m_{t−1}] / √((1 + β0)² + β0²)
        θ_{t+1} = θ_t − lr/(1 − β1^t) · Δ_t / (√v̂_t / √(1 − β2^t) + eps)

    The noise normalisation uses β0 (the corrected form of the reference code, whose first release
    used β2 there). The bias correction 1 − β1^t is the one of the reference code, although each
    buffer decays with β1² and sees every other gradient.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate.
        betas: (β1, β2, β0): momentum EMA factor, second-moment EMA factor, positive-negative coefficient.
        eps: term added to the denominator.
        weight_decay: weight-decay coefficient wd.
        amsgrad: use the running maximum of v (AMSGrad).
        decoupled: if True, shrink p ← p·(1 − lr·wd) before the step (AdamW-style); otherwise add wd·p to g.

    State per parameter: ``step``, ``momentum_odd``, ``momentum_even``, ``exp_avg_sq`` and, with
    AMSGrad, ``max_exp_avg_sq``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        *,
        betas: tuple[float, float, float] = (0.9, 0.999, 1.0),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = True,
        decoupled: bool = True,
    ) -> None:
        beta1, beta2, beta0 = betas
        check_hyperparameters(lr=lr, beta1=beta1, beta0=beta0, weight_decay=weight_decay)
        if not 0.0 <= beta2 < 1.0:
            raise ValueError(f"beta2 must lie in [0, 1), got {beta2!r}")
        if not eps >= 0.0:
            raise ValueError(f"eps must be >= 0, got {eps!r}")
        defaults = {
            "lr": lr,
            "betas": (beta1, beta2, beta0),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "decoupled": decoupled,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2, beta0 = group["betas"]
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
                state = self.state[param]
                direction = positive_negative_direction(state, param, grad, beta1=beta1, beta0=beta0)
                step = state["step"]
                if "exp_avg_sq" not in state:
                    state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                if group["amsgrad"] and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = state["exp_avg_sq"].clone()
                second_moment = state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
                if group["amsgrad"]:
                    second_moment = torch.maximum(
                        state["max_exp_avg_sq"], second_moment, out=state["max_exp_avg_sq"]
                    )
                denom = second_moment.sqrt().div_(math.sqrt(1.0 - beta2**step)).add_(group["eps"])
                param.addcdiv_(direction, denom, value=-group["lr"] / (1.0 - beta1**step))
        return loss
