"""Neural likelihood estimation through the ``sbi`` package: a conditional density q(s | theta) of the summaries
trained on simulated pairs, and the posterior p(theta | s) proportional to q(s | theta) times the uniform prior on
a box, drawn by MCMC (sbi's vectorised slice sampler).

As for NPE (``_npe``), everything happens in the box's probit coordinates u = Phi^-1((theta - low) / (high - low)),
where the uniform prior is the standard normal density: the sampler moves on all of R^k and never meets the box's
edge. The likelihood does not depend on where the parameters were drawn from, so later rounds (drawn from the
posterior given the observation) need no correction: every round's pairs train the same q(s | u) (sequential NLE,
Papamakarios et al. 2019).

The posterior's density is the sampler's unnormalised potential log q(s | u) + log N(u) minus log Z(s), with the
evidence Z(s) = E_N(u)[q(s | u)] estimated by importance sampling in two stages: prior draws locate the likelihood's
mass, then draws from a Gaussian fitted to their weights (mixed with the prior, so that the weights stay bounded)
give the estimate.
"""

import math

import torch

from ._npe import RESTARTS, BoxPosterior, RestartedTraining

__all__ = ["SequentialLikelihood"]

#: the slice sampler's settings: chains per observation, warm-up steps discarded, no thinning
MCMC = {"method": "slice_np_vectorized", "num_chains": 20, "warmup_steps": 100, "thin": 1}
#: the same for many observations at once (``sample_batched``, the calibration check's): the cost is one potential
#: evaluation of all chains per slice step, so fewer, longer chains per observation
MCMC_BATCHED = {"num_chains": 4, "warmup_steps": 50}
#: importance draws of each stage of the evidence estimate, and the prior's share of the second stage's proposal
EVIDENCE_DRAWS = (4096, 16384)
EVIDENCE_PRIOR_SHARE = 0.1


class _NormalisedLikelihoodPosterior:
    """sbi's MCMC posterior in probit coordinates, with a normalised ``log_prob`` (the module docstring): the
    ``sample``, ``sample_batched`` and ``log_prob`` that ``BoxPosterior`` asks of its flow."""

    def __init__(self, posterior, dim: int, *, seed: int):
        self.posterior = posterior
        self.dim = dim
        self.seed = seed

    def sample(self, sample_shape, x, show_progress_bars: bool = False) -> torch.Tensor:
        return self.posterior.sample(sample_shape, x=x, show_progress_bars=show_progress_bars)

    def sample_batched(self, sample_shape, x, show_progress_bars: bool = False, **_) -> torch.Tensor:
        return self.posterior.sample_batched(sample_shape, x=x, show_progress_bars=show_progress_bars,
                                             **MCMC_BATCHED)

    def _potential(self, u: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.posterior.potential(u, x=x.reshape(1, -1))

    def log_evidence(self, x) -> float:
        """log Z(s) = log E_N(u)[q(s | u)] by two-stage importance sampling (module docstring)."""
        x = torch.as_tensor(x, dtype=torch.float32)
        generator = torch.Generator().manual_seed(self.seed)
        prior = torch.distributions.MultivariateNormal(torch.zeros(self.dim), torch.eye(self.dim))
        first, second = EVIDENCE_DRAWS
        u = torch.randn(first, self.dim, generator=generator)
        weights = torch.softmax(self._potential(u, x) - prior.log_prob(u), dim=0).to(torch.float64)
        mean = (weights[:, None] * u.to(torch.float64)).sum(dim=0)
        centred = u.to(torch.float64) - mean
        covariance = 2.0 * (weights[:, None, None] * centred[:, :, None] * centred[:, None, :]).sum(dim=0)
        covariance = covariance + 1e-6 * torch.eye(self.dim, dtype=torch.float64)
        fitted = torch.distributions.MultivariateNormal(mean.float(), covariance.float())
        from_prior = torch.rand(second, generator=generator) < EVIDENCE_PRIOR_SHARE
        draws = torch.where(from_prior[:, None], torch.randn(second, self.dim, generator=generator),
                            mean.float() + torch.randn(second, self.dim, generator=generator)
                            @ torch.linalg.cholesky(covariance).float().T)
        proposal = torch.logaddexp(math.log(EVIDENCE_PRIOR_SHARE) + prior.log_prob(draws),
                                   math.log(1.0 - EVIDENCE_PRIOR_SHARE) + fitted.log_prob(draws))
        log_ratio = (self._potential(draws, x) - proposal).to(torch.float64)
        return float(torch.logsumexp(log_ratio, dim=0) - math.log(second))

    def log_prob(self, u: torch.Tensor, x) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float32)
        return self._potential(u, x) - self.log_evidence(x)


class SequentialLikelihood(RestartedTraining):
    """sbi's NLE in the box's probit coordinates, trained round by round (module docstring), each round the best of
    ``restarts`` trainings (``RestartedTraining``): the interface of ``SequentialPosterior`` (``train`` returns a
    ``BoxPosterior`` whose draws come from MCMC; ``propose`` has nothing to do, the likelihood needing no correction
    for where later rounds are drawn from).
    """

    def __init__(self, *, low, high, density_estimator: str = "maf", seed: int = 0, restarts: int = RESTARTS):
        from sbi.inference import NLE

        super().__init__(NLE, low=low, high=high, density_estimator=density_estimator, seed=seed,
                         restarts=restarts)

    def train(self, theta, summaries, *, max_epochs: int = 2**31 - 1) -> BoxPosterior:
        """Add pairs theta [n, k] (inside the box) and summaries [n, d], train q(s | u) on every round's pairs and
        return the posterior."""
        from sbi.inference.posteriors.posterior_parameters import MCMCPosteriorParameters

        best = self.fit(theta, summaries, max_epochs=max_epochs)
        posterior = best.build_posterior(posterior_parameters=MCMCPosteriorParameters(**MCMC))
        return BoxPosterior(_NormalisedLikelihoodPosterior(posterior, self.low.numel(), seed=self.seed), self.low,
                            self.high)

    def propose(self, posterior: BoxPosterior, observed) -> None:
        """Later rounds come from ``posterior``: q(s | u) is the same whatever the parameters' distribution."""
