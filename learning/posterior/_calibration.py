"""Is a posterior calibrated? Coverage of its central intervals on held-out simulations."""

import torch

__all__ = ["interval_coverage"]


def interval_coverage(sample, theta: torch.Tensor, summaries: torch.Tensor, *, levels=(0.5, 0.9),
                      samples: int = 1000) -> dict[float, torch.Tensor]:
    """The share of held-out simulations (theta [n, k], their summaries [n, d]) whose true parameter lies inside the
    posterior's central marginal interval of each level in ``levels``, per parameter: {level: [k]}. A calibrated
    posterior covers each level's share (within the binomial noise sqrt(level (1 - level) / n)).

    Args:
        sample: ``sample(m, s)`` -> m posterior draws [m, k] given one row of summaries s [d].
        samples: posterior draws per held-out simulation.
    """
    inside = {level: torch.zeros(theta.shape[1]) for level in levels}
    for truth, summary in zip(theta, summaries, strict=True):
        draws = sample(samples, summary)
        for level in levels:
            tail = (1.0 - level) / 2.0
            bounds = torch.quantile(draws.to(torch.float64), torch.tensor([tail, 1.0 - tail], dtype=torch.float64),
                                    dim=0)
            inside[level] += ((truth >= bounds[0]) & (truth <= bounds[1])).to(torch.float32)
    return {level: count / theta.shape[0] for level, count in inside.items()}
