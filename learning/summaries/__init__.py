"""Learned summary statistics for simulation-based inference (torch only, any simulator).

``InfoMaxStatistic`` learns S(x) by maximising a dependence bound between S(x) and the parameters (neural approximate
sufficient statistics); ``MeanStatistic`` regresses the parameters (the posterior-mean baseline);
``mutual_information`` reads how much a statistic knows; ``nearest_abc`` turns a statistic into a rejection-ABC
posterior on a reference table; ``learning.summaries.gaussian`` is a toy whose sufficient statistic and exact
posterior are known.
"""

from . import gaussian
from ._abc import nearest_abc, wasserstein_marginals
from ._bounds import distance_correlation, dv_bound, jsd_bound
from ._statistic import ESTIMATORS, FitHistory, InfoMaxStatistic, JointCritic, MeanStatistic, mutual_information

__all__ = ["ESTIMATORS", "FitHistory", "InfoMaxStatistic", "JointCritic", "MeanStatistic", "distance_correlation",
           "dv_bound", "gaussian", "jsd_bound", "mutual_information", "nearest_abc", "wasserstein_marginals"]
