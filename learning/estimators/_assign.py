"""Bridge from a flat gradient estimate to the ``.grad`` fields any torch.optim optimizer reads."""

from __future__ import annotations

from collections.abc import Iterable

from torch import Tensor

__all__ = ["assign_grad"]


def assign_grad(params: Iterable[Tensor], grad: Tensor) -> None:
    """Split a flat ``grad`` [shape (Σ numel,)] over ``params`` (in order) and store it as their ``.grad``.

    Existing ``.grad`` values are replaced, not accumulated. The layout is that of
    ``torch.nn.utils.parameters_to_vector(params)``.
    """
    params = list(params)
    total = sum(p.numel() for p in params)
    if grad.dim() != 1 or grad.numel() != total:
        raise ValueError(f"grad must have shape ({total},) to cover the parameters, got {tuple(grad.shape)}")
    offset = 0
    for param in params:
        count = param.numel()
        param.grad = grad[offset : offset + count].detach().view_as(param).to(param.dtype, copy=True)
        offset += count
