"""Posteriors of simulator parameters from simulated pairs (theta, summaries): neural posterior estimation through
the ``sbi`` package (``train_posterior``) and a calibration check on held-out simulations (``interval_coverage``).
The summaries come from any statistic, e.g. a learned one of ``learning.summaries``."""

from ._calibration import interval_coverage
from ._npe import NullTracker, train_posterior

__all__ = ["NullTracker", "interval_coverage", "train_posterior"]
