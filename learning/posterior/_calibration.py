"""Is a posterior calibrated? Coverage of its central intervals on held-out simulations."""

import torch

__all__ = ["coverage_of", "interval_coverage"]


def coverage_of(draws: torch.Tensor, theta: torch.Tensor, *, levels=(0.5, 0.9)) -> dict[float, torch.Tensor]:
    """The share of held-out simulations (true parameters theta [n, k]) whose truth lies inside the central marginal
    interval of each level of their posterior draws [m, n, k]: {level: [k]}."""
    draws = draws.to(torch.float64)
    inside = {}
    for level in levels:
        tail = (1.0 - level) / 2.0
        bounds = torch.quantile(draws, torch.tensor([tail, 1.0 - tail], dtype=torch.float64), dim=0)  # [2, n, k]
        truth = theta.to(torch.float64)
        inside[level] = ((truth >= bounds[0]) & (truth <= bounds[1])).to(torch.float32).mean(dim=0)
    return inside


def interval_coverage(sample, theta: torch.Tensor, summaries: torch.Tensor, *, levels=(0.5, 0.9),
                      samples: int = 1000) -> dict[float, torch.Tensor]:
    """The share of held-out simulations (theta [n, k], their summaries [n, d]) whose true parameter lies inside the
    posterior's central marginal interval of each level in ``levels``, per parameter: {level: [k]}. A calibrated
    posterior covers each level's share (within the binomial noise sqrt(level (1 - level) / n)).

    Args:
        sample: ``sample(m, s)`` -> m posterior draws [m, k] given one row of summaries s [d].
        samples: posterior draws per held-out simulation.
    """
    draws = torch.stack([sample(samples, summary) for summary in summaries], dim=1)  # [m, n, k]
    return coverage_of(draws, theta, levels=levels)
