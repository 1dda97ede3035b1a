"""Dependence measures between parameters and summaries that a statistic is trained to maximise.

Each takes a batch of paired summaries s [n, d] and parameters theta [n, k] (rows i are one simulation) and returns
a scalar tensor (larger: more dependence):

* ``jsd_bound``: the Jensen-Shannon (DeepInfoMax) lower bound E_joint[-softplus(-T)] - E_marginal[softplus(T)] of a
  critic T(s, theta), with marginal pairs from random shuffles of theta within the batch. It is the logistic loss of
  telling joint pairs from shuffled ones, so its optimum critic is log p(s, theta) / (p(s) p(theta)) and it orders
  statistics as their mutual information does (Hjelm et al. 2019);
* ``dv_bound``: the Donsker-Varadhan bound E_joint[T] - log E_marginal[exp T] on the mutual information [nats]
  (MINE, Belghazi et al. 2018), tight at the same optimum critic; used to read a statistic's information;
* ``distance_correlation``: the squared distance correlation of s and theta (Szekely et al. 2007), in [0, 1], zero
  exactly when they are independent; needs no critic.
"""

import math

import torch
import torch.nn.functional as F

__all__ = ["dv_bound", "distance_correlation", "jsd_bound", "shuffled"]


def shuffled(theta: torch.Tensor, negatives: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``negatives`` random permutations of the rows of ``theta`` [n, k], stacked: [negatives * n, k]."""
    n = theta.shape[0]
    order = torch.cat([torch.randperm(n, generator=generator) for _ in range(negatives)])
    return theta[order]


def _scores(critic, s: torch.Tensor, theta: torch.Tensor, negatives: int, generator):
    """Critic scores of the joint pairs [n] and of ``negatives`` shuffles [negatives * n] (the parameters encoded
    once when the critic has ``pair_score``, e.g. ``JointCritic``)."""
    if hasattr(critic, "pair_score"):
        encoded = critic.parameters_encoder(theta)
        return (critic.pair_score(s, encoded),
                critic.pair_score(s.repeat(negatives, 1), shuffled(encoded, negatives, generator)))
    return critic(s, theta), critic(s.repeat(negatives, 1), shuffled(theta, negatives, generator))


def jsd_bound(critic, s: torch.Tensor, theta: torch.Tensor, *, negatives: int = 25,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """The Jensen-Shannon lower bound of ``critic`` on (s, theta) (module notes)."""
    joint, marginal = _scores(critic, s, theta, negatives, generator)
    return -F.softplus(-joint).mean() - F.softplus(marginal).mean()


def dv_bound(critic, s: torch.Tensor, theta: torch.Tensor, *, negatives: int = 25,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """The Donsker-Varadhan lower bound [nats] of ``critic`` on (s, theta) (module notes)."""
    joint, marginal = _scores(critic, s, theta, negatives, generator)
    return joint.mean() - (torch.logsumexp(marginal, dim=0) - math.log(marginal.shape[0]))


def _centred_distances(a: torch.Tensor) -> torch.Tensor:
    distance = torch.cdist(a, a)
    return distance - distance.mean(dim=0, keepdim=True) - distance.mean(dim=1, keepdim=True) + distance.mean()


def distance_correlation(s: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Squared distance correlation dCor^2(s, theta) of the batch [-] (module notes)."""
    a, b = _centred_distances(s), _centred_distances(theta)
    covariance = (a * b).mean()
    variance = torch.sqrt((a * a).mean() * (b * b).mean())
    return covariance / variance.clamp_min(torch.finfo(variance.dtype).tiny)
