"""Neural likelihood estimation through the ``sbi`` package: a conditional density q(s | theta) of the summaries
trained on simulated pairs, and the posterior p(theta | s) proportional to q(s | theta) times the uniform prior on
a box, drawn by MCMC (sbi's vectorised slice sampler).

As for NPE (``_npe``), everything happens in the box's probit coordinates u = Phi^-1((theta - low) / (high - low)),
where the uniform prior is the standard normal density: the sampler moves on all of R^k and never meets the box's
edge. The likelihood does not depend on where the parameters were drawn from, so later rounds (drawn from the
posterior given the observation) need no correction: every round's pairs train the same q(s | u) (sequential NLE,
Papamakarios et al. 2019).

The posterior's density is the sampler's unnormalised potential log q(s | u) + log N(u) minus log Z(s), with the
evidence Z(s) = E_N(u)[q(s | u)] estimated by importance sampling from a Student t (3 degrees of freedom) of the
posterior's own draws' mean and covariance, mixed with the prior. The slice sampler draws from numpy's global
generator; it is seeded from torch's for each call, so that ``torch.manual_seed`` fixes these draws as it fixes
NPE's.
"""

import contextlib
import math
import warnings

import numpy as np
import torch

from ._npe import RESTARTS, BoxPosterior, RestartedTraining

__all__ = ["SequentialLikelihood"]

#: the slice sampler's settings: chains per observation, warm-up steps discarded, no thinning
MCMC = {"method": "slice_np_vectorized", "num_chains": 20, "warmup_steps": 100, "thin": 1}
#: the same for many observations at once (``sample_batched``, the calibration check's): the cost is one potential
#: evaluation of all chains per slice step, so fewer, longer chains per observation
MCMC_BATCHED = {"num_chains": 10, "warmup_steps": 50}
#: the importance draws of the evidence estimate, the prior's share of their proposal, and the posterior draws its
#: Student t is fitted to when none were drawn for the observation yet
EVIDENCE_DRAWS = 16384
EVIDENCE_PRIOR_SHARE = 0.1
EVIDENCE_FIT_DRAWS = 1000
#: the degrees of freedom of the Student t the evidence's proposal fits to the posterior draws (heavy tails: a
#: posterior that is not Gaussian, or draws that missed part of it, still lie under the proposal)
EVIDENCE_DEGREES = 3
#: an evidence estimate whose importance weights have a smaller effective sample size is warned about
EVIDENCE_MIN_ESS = 200


class _MultivariateT:
    """The multivariate Student t of location ``mean`` [k], scale matrix ``scale`` [k, k] and a whole number of
    ``degrees`` of freedom (float64): ``sample(n, generator)`` -> [n, k], ``log_prob(x)`` -> [n]."""

    def __init__(self, mean: torch.Tensor, scale: torch.Tensor, degrees: int):
        self.mean, self.degrees = mean, degrees
        self.cholesky = torch.linalg.cholesky(scale)

    def sample(self, count: int, generator: torch.Generator) -> torch.Tensor:
        k = self.mean.numel()
        normal = torch.randn(count, k, generator=generator, dtype=torch.float64)
        chi2 = (torch.randn(count, self.degrees, generator=generator, dtype=torch.float64) ** 2).sum(dim=1)
        return self.mean + (normal @ self.cholesky.T) / torch.sqrt(chi2 / self.degrees)[:, None]

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        k, nu = self.mean.numel(), self.degrees
        whitened = torch.linalg.solve_triangular(self.cholesky, (x - self.mean).T, upper=False)
        distance = (whitened**2).sum(dim=0)
        return (math.lgamma(0.5 * (nu + k)) - math.lgamma(0.5 * nu) - 0.5 * k * math.log(nu * math.pi)
                - torch.log(torch.diagonal(self.cholesky)).sum() - 0.5 * (nu + k) * torch.log1p(distance / nu))


@contextlib.contextmanager
def _numpy_seeded_from_torch():
    """numpy's global generator (sbi's slice sampler draws from it) seeded from torch's, restored afterwards: draws
    that follow ``torch.manual_seed`` like every other draw of a posterior."""
    state = np.random.get_state()
    np.random.seed(int(torch.randint(2**31 - 1, (1,))))
    try:
        yield
    finally:
        np.random.set_state(state)


def _key(x) -> bytes:
    return torch.as_tensor(x, dtype=torch.float32).detach().reshape(-1).numpy().tobytes()


class _NormalisedLikelihoodPosterior:
    """sbi's MCMC posterior in probit coordinates, with a normalised ``log_prob`` (module docstring): the
    ``sample``, ``sample_batched`` and ``log_prob`` that ``BoxPosterior`` asks of its flow.

    The draws made for an observation are kept: its evidence's importance proposal is the Student t of their mean and
    covariance (``EVIDENCE_DEGREES``), mixed with the prior (``EVIDENCE_PRIOR_SHARE``), so that it covers the
    posterior however narrow (a proposal fitted to prior draws alone has an effective sample size of about 1 once
    the posterior holds less than one in a few thousand of the prior). ``evidence_ess`` records each estimate's
    effective sample size.
    """

    def __init__(self, posterior, dim: int, *, seed: int):
        self.posterior = posterior
        self.dim = dim
        self.seed = seed
        self._draws: dict[bytes, torch.Tensor] = {}
        self._log_evidence: dict[bytes, float] = {}
        self.evidence_ess: dict[bytes, float] = {}

    def sample(self, sample_shape, x, show_progress_bars: bool = False) -> torch.Tensor:
        with _numpy_seeded_from_torch():
            draws = self.posterior.sample(sample_shape, x=x, show_progress_bars=show_progress_bars)
        self._draws.setdefault(_key(x), draws.reshape(-1, self.dim))
        return draws

    def sample_batched(self, sample_shape, x, show_progress_bars: bool = False, **_) -> torch.Tensor:
        with _numpy_seeded_from_torch():
            draws = self.posterior.sample_batched(sample_shape, x=x, show_progress_bars=show_progress_bars,
                                                  **MCMC_BATCHED)
        flat = draws.reshape(-1, len(x), self.dim)
        for row, observation in enumerate(x):
            self._draws.setdefault(_key(observation), flat[:, row])
        return draws

    def _potential(self, u: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.posterior.potential(u, x=x.reshape(1, -1))

    def log_evidence(self, x) -> float:
        """log Z(s) = log E_N(u)[q(s | u)] by importance sampling (class docstring); a warning when the estimate's
        effective sample size is below ``EVIDENCE_MIN_ESS``."""
        x = torch.as_tensor(x, dtype=torch.float32)
        key = _key(x)
        if key in self._log_evidence:
            return self._log_evidence[key]
        if key not in self._draws:
            self.sample((EVIDENCE_FIT_DRAWS,), x)
        fitted_to = self._draws[key].to(torch.float64)
        mean = fitted_to.mean(dim=0)
        scale = torch.atleast_2d(torch.cov(fitted_to.T)) + 1e-8 * torch.eye(self.dim, dtype=torch.float64)
        generator = torch.Generator().manual_seed(self.seed)
        prior = torch.distributions.MultivariateNormal(torch.zeros(self.dim, dtype=torch.float64),
                                                       torch.eye(self.dim, dtype=torch.float64))
        fitted = _MultivariateT(mean, scale, EVIDENCE_DEGREES)
        from_prior = torch.rand(EVIDENCE_DRAWS, generator=generator) < EVIDENCE_PRIOR_SHARE
        draws = torch.where(from_prior[:, None],
                            torch.randn(EVIDENCE_DRAWS, self.dim, generator=generator, dtype=torch.float64),
                            fitted.sample(EVIDENCE_DRAWS, generator))
        proposal = torch.logaddexp(math.log(EVIDENCE_PRIOR_SHARE) + prior.log_prob(draws),
                                   math.log(1.0 - EVIDENCE_PRIOR_SHARE) + fitted.log_prob(draws))
        log_ratio = self._potential(draws.to(torch.float32), x).to(torch.float64) - proposal
        weights = torch.softmax(log_ratio, dim=0)
        self.evidence_ess[key] = float(1.0 / (weights**2).sum())
        if self.evidence_ess[key] < EVIDENCE_MIN_ESS:
            warnings.warn(f"the evidence of a neural likelihood's posterior rests on an effective sample of "
                          f"{self.evidence_ess[key]:.0f} of {EVIDENCE_DRAWS} importance draws: its density is "
                          "uncertain", stacklevel=2)
        self._log_evidence[key] = float(torch.logsumexp(log_ratio, dim=0) - math.log(EVIDENCE_DRAWS))
        return self._log_evidence[key]

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
