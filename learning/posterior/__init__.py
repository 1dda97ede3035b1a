"""Posteriors of simulator parameters from simulated pairs (theta, summaries): neural posterior estimation through
the ``sbi`` package (``train_posterior``) and a calibration check on held-out simulations (``interval_coverage``).
The summaries come from any statistic, e.g. a learned one of ``learning.summaries``. ``simulate_prior`` simulates a
scene under a prior as the worlds of batched rollouts, cached on disk in chunks (imports the simulator)."""

from ._calibration import interval_coverage
from ._npe import NullTracker, train_posterior
from ._simulations import PriorSimulations, prior_draws, simulate_prior

__all__ = ["NullTracker", "PriorSimulations", "interval_coverage", "prior_draws", "simulate_prior", "train_posterior"]
