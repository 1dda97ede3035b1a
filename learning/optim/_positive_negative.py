"""Pieces shared by PNM and AdaPNM: weight decay, the parity swap and the noise-normalised direction.

Both optimizers keep two momentum buffers per parameter. Odd steps refresh ``momentum_odd``, even
steps refresh ``momentum_even``; the buffer refreshed at step t is the *positive* momentum m⁺ and the
other one the *negative* momentum m⁻. Each buffer is therefore an EMA (decay β1²) over alternate
gradients, and the two are approximately independent estimates of the mean gradient.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def noise_norm(beta0: float) -> float:
    """√((1+β0)² + β0²): the noise amplification γ^½ of the positive-negative combination."""
    return math.sqrt((1.0 + beta0) ** 2 + beta0**2)


def check_hyperparameters(*, lr: float, beta1: float, beta0: float, weight_decay: float) -> None:
    """Raise ValueError for hyper-parameters outside the ranges the update rule is defined on."""
    if not lr >= 0.0:
        raise ValueError(f"lr must be >= 0, got {lr!r}")
    if not 0.0 <= beta1 < 1.0:
        raise ValueError(f"beta1 must lie in [0, 1), got {beta1!r}")
    if not math.isfinite(beta0):
        raise ValueError(f"beta0 must be finite, got {beta0!r}")
    if not weight_decay >= 0.0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")


def gradient_with_weight_decay(
    param: Tensor, grad: Tensor, *, lr: float, weight_decay: float, decoupled: bool
) -> Tensor:
    """Apply weight decay and return the gradient the momenta should see.

    Decoupled: the parameter is shrunk in place, p ← p·(1 − lr·wd), and ``grad`` is returned as is.
    Coupled (L2): ``grad + wd·p`` is returned and the parameter is left alone.
    """
    if grad.is_sparse:
        raise RuntimeError("PNM and AdaPNM do not support sparse gradients")
    if weight_decay == 0.0:
        return grad
    if decoupled:
        param.mul_(1.0 - lr * weight_decay)
        return grad
    return grad.add(param, alpha=weight_decay)


def positive_negative_direction(
    state: dict, param: Tensor, grad: Tensor, *, beta1: float, beta0: float
) -> Tensor:
    """Advance the step counter, refresh the positive buffer and return the normalised direction.

    With t the new step count, m⁺ is ``momentum_odd`` for odd t and ``momentum_even`` for even t;
    m⁺ ← β1²·m⁺ + (1 − β1²)·g, and the returned direction is

        Δ = [(1 + β0)·m⁺ − β0·m⁻] / √((1 + β0)² + β0²).
    """
    if not state:
        state["step"] = 0
        state["momentum_odd"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state["momentum_even"] = torch.zeros_like(param, memory_format=torch.preserve_format)
    state["step"] += 1
    if state["step"] % 2 == 1:
        positive, negative = state["momentum_odd"], state["momentum_even"]
    else:
        positive, negative = state["momentum_even"], state["momentum_odd"]
    positive.mul_(beta1**2).add_(grad, alpha=1.0 - beta1**2)
    return positive.mul(1.0 + beta0).add_(negative, alpha=-beta0).div_(noise_norm(beta0))
