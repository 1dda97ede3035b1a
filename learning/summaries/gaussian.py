"""A toy with a known sufficient statistic: n i.i.d. draws x_i ~ N(mu, sigma^2), theta = (mu, sigma) under a uniform
prior on a box. (mean, standard deviation) of the draws is sufficient, and the exact posterior is the likelihood
on the box, evaluated on a grid: what a learned statistic's posterior is compared with."""

import math

import torch

__all__ = ["PRIOR", "exact_posterior", "prior_sample", "simulate", "sufficient_statistic"]

#: the prior's box: mu in [-2, 2], sigma in [0.5, 2]
PRIOR = ((-2.0, 2.0), (0.5, 2.0))


def prior_sample(count: int, *, generator: torch.Generator | None = None, prior=PRIOR) -> torch.Tensor:
    """``count`` draws of theta = (mu, sigma) from the uniform prior on ``prior``'s box: [count, 2]."""
    low = torch.tensor([b[0] for b in prior])
    high = torch.tensor([b[1] for b in prior])
    return low + (high - low) * torch.rand(count, 2, generator=generator)


def simulate(theta: torch.Tensor, *, draws: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``draws`` i.i.d. N(mu, sigma^2) values for each row (mu, sigma) of ``theta`` [n, 2]: [n, draws]."""
    return theta[:, :1] + theta[:, 1:] * torch.randn(theta.shape[0], draws, generator=generator)


def sufficient_statistic(x: torch.Tensor) -> torch.Tensor:
    """(mean, standard deviation) of each row of draws x [n, draws]: [n, 2]."""
    return torch.stack([x.mean(dim=1), x.std(dim=1)], dim=1)


def exact_posterior(x_observed: torch.Tensor, count: int, *, generator: torch.Generator | None = None,
                    prior=PRIOR, grid: int = 400) -> torch.Tensor:
    """``count`` draws [count, 2] from the exact posterior of theta given one row of draws ``x_observed`` [draws]:
    the likelihood on a ``grid`` x ``grid`` grid of the prior's box, cells drawn by their mass and a uniform point
    within each (float64)."""
    x = x_observed.to(torch.float64).reshape(-1)
    (mu_low, mu_high), (sigma_low, sigma_high) = prior
    mu_step, sigma_step = (mu_high - mu_low) / grid, (sigma_high - sigma_low) / grid
    mu = mu_low + (torch.arange(grid, dtype=torch.float64) + 0.5) * mu_step
    sigma = sigma_low + (torch.arange(grid, dtype=torch.float64) + 0.5) * sigma_step
    m, s = torch.meshgrid(mu, sigma, indexing="ij")
    squares = ((x[None, None, :] - m[..., None]) ** 2).sum(dim=-1)
    log_like = -x.numel() * torch.log(s) - squares / (2.0 * s * s) - 0.5 * x.numel() * math.log(2.0 * math.pi)
    weights = torch.softmax(log_like.reshape(-1), dim=0)
    cells = torch.multinomial(weights, count, replacement=True, generator=generator)
    jitter = torch.rand(count, 2, generator=generator, dtype=torch.float64)
    return torch.stack([m.reshape(-1)[cells] + (jitter[:, 0] - 0.5) * mu_step,
                        s.reshape(-1)[cells] + (jitter[:, 1] - 0.5) * sigma_step], dim=1)
