"""Rejection ABC with a statistic as its distance, and how far two samples of a distribution are apart."""

import torch

__all__ = ["nearest_abc", "wasserstein_marginals"]


def nearest_abc(theta: torch.Tensor, summaries: torch.Tensor, observed: torch.Tensor, *, keep: int) -> torch.Tensor:
    """Rejection ABC on a reference table: the ``keep`` parameters [keep, k] of ``theta`` [n, k] whose ``summaries``
    [n, d] lie nearest to the ``observed`` summary [d] in the table's standardised summary space (the acceptance
    radius is the keep-th distance)."""
    if not 0 < keep <= theta.shape[0]:
        raise ValueError(f"keep = {keep!r} is out of range: expected 1 to the table's {theta.shape[0]} rows")
    scale = summaries.std(dim=0).clamp_min(1e-12)
    distance = (((summaries - observed.reshape(1, -1)) / scale) ** 2).sum(dim=1)
    return theta[torch.topk(distance, keep, largest=False).indices]


def wasserstein_marginals(a: torch.Tensor, b: torch.Tensor, *, quantiles: int = 999) -> torch.Tensor:
    """The 2-Wasserstein distance between the marginals of two samples a [n, k] and b [m, k], per column [k]: the
    L2 distance of their quantile functions (at ``quantiles`` equally spaced levels)."""
    levels = (torch.arange(quantiles, dtype=torch.float64) + 0.5) / quantiles
    qa = torch.quantile(a.to(torch.float64), levels, dim=0)
    qb = torch.quantile(b.to(torch.float64), levels, dim=0)
    return torch.sqrt(((qa - qb) ** 2).mean(dim=0))
