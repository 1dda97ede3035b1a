"""The digits data the bilevel tasks learn on: scikit-learn's 8 x 8 handwritten digits (1797 images, 10 classes),
shipped with the package (no download), split reproducibly."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["DigitsSplit", "cross_entropy", "flip_labels", "load_digits_split"]

CLASSES = 10
FEATURES = 64


@dataclass(frozen=True)
class DigitsSplit:
    """Training, validation and test sets: images [n, 64] scaled to [0, 1] and labels [n] (int64)."""

    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor
    x_test: Tensor
    y_test: Tensor


def load_digits_split(*, train: int, validation: int, seed: int = 0, dtype=torch.float64) -> DigitsSplit:
    """A random split of the 1797 digits: ``train`` and ``validation`` images, the rest for testing.

    Raises:
        ValueError: the two sets leave fewer than 100 images for testing.
    """
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)
    total = len(labels)
    if train < 1 or validation < 1 or train + validation > total - 100:
        raise ValueError(f"train = {train}, validation = {validation}: expected positive sizes that leave at least 100 "
                         f"of the {total} digits for testing")
    order = torch.randperm(total, generator=torch.Generator().manual_seed(seed))
    x = torch.as_tensor(images, dtype=dtype)[order] / 16.0
    y = torch.as_tensor(labels, dtype=torch.int64)[order]
    end = train + validation
    return DigitsSplit(x[:train], y[:train], x[train:end], y[train:end], x[end:], y[end:])


def flip_labels(labels: Tensor, *, fraction: float, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Labels with a random ``fraction`` of them replaced by a different class drawn uniformly, and the mask of the
    flipped ones."""
    n = len(labels)
    flipped = torch.zeros(n, dtype=torch.bool)
    flipped[torch.randperm(n, generator=generator)[: round(fraction * n)]] = True
    shift = torch.randint(1, CLASSES, (n,), generator=generator)
    return torch.where(flipped, (labels + shift) % CLASSES, labels), flipped


def cross_entropy(scores: Tensor, labels: Tensor) -> Tensor:
    """Per-example cross-entropy [n] of class scores [n, 10] (log_softmax and gather: composable with torch.func)."""
    return -torch.log_softmax(scores, dim=1).gather(1, labels[:, None])[:, 0]
