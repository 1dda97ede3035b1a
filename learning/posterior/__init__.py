"""Posteriors of simulator parameters by simulation-based inference.

- ``train_posterior``: neural posterior estimation through the ``sbi`` package on simulated pairs (theta, summaries)
  under a uniform prior on a box (a flow in the box's probit coordinates); ``SequentialLikelihood`` the same by
  neural likelihood estimation (the posterior drawn by MCMC); ``interval_coverage`` checks calibration on held-out
  simulations. The summaries come from any statistic, e.g. a learned one of ``learning.summaries``.
- ``simulate_prior`` / ``simulate_draws``: a scene simulated for many parameter draws as the worlds of batched
  rollouts, cached on disk in chunks (resumable; shared out over the processes of a torchrun launch).
- ``trajectory_features``, ``handmade_summaries``, ``SensitivityProjection`` (score compression), ``observe``: what a
  statistic sees of a cloth trajectory.
- ``PositionMeasurement``, ``TrackMeasurement``, ``CombinedMeasurement``: how an observation (node positions, or
  tracked pixels of footage from one or several cameras) was measured, applied to every simulation;
  ``track_features`` the input of a learned statistic on tracks.
- ``smc_abc``: sequential Monte Carlo ABC with any statistic's distance, from a pool of prior simulations.
- ``infer_posterior``: a scene's posterior given observed motion, end to end (``warpweave posterior``).
"""

from ._abc import AbcPosterior, smc_abc
from ._calibration import coverage_of, interval_coverage
from ._features import SensitivityProjection, handmade_summaries, observe, trajectory_features
from ._gauss_newton import GaussNewtonIntervals, gauss_newton_intervals
from ._measurements import (
    CombinedMeasurement,
    PositionMeasurement,
    TrackMeasurement,
    observed_frames,
    track_features,
)
from ._nle import SequentialLikelihood
from ._npe import RESTARTS, BoxPosterior, NullTracker, SequentialPosterior, box_coordinates, train_posterior
from ._plots import corner_figure, plot_corner
from ._scene import (
    METHODS,
    MIN_ROUND_BUDGET,
    STATISTICS,
    BudgetError,
    PosteriorCheck,
    PosteriorOptions,
    ScenePosterior,
    calibration_check,
    infer_posterior,
)
from ._simulations import PriorSimulations, check_prior, prior_draws, simulate_draws, simulate_prior

__all__ = ["METHODS", "MIN_ROUND_BUDGET", "RESTARTS", "STATISTICS", "AbcPosterior", "BoxPosterior", "BudgetError",
           "CombinedMeasurement", "GaussNewtonIntervals", "NullTracker", "PositionMeasurement", "PosteriorCheck",
           "PosteriorOptions", "PriorSimulations", "ScenePosterior", "SensitivityProjection", "SequentialLikelihood",
           "SequentialPosterior", "TrackMeasurement", "box_coordinates", "calibration_check", "check_prior",
           "corner_figure", "coverage_of", "gauss_newton_intervals", "handmade_summaries", "infer_posterior",
           "interval_coverage", "observe", "observed_frames", "plot_corner", "prior_draws", "simulate_draws",
           "simulate_prior", "smc_abc", "track_features", "train_posterior", "trajectory_features"]
