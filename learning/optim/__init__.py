"""Optimizers that follow ``torch.optim.Optimizer``: Positive-Negative Momentum and its Adam variant."""

from ._adapnm import AdaPNM
from ._pnm import PNM

__all__ = ["PNM", "AdaPNM"]
