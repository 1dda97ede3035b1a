"""Neural posterior and likelihood estimation (sbi) on the Gaussian toy, restarted trainings, and the calibration check
that judges them."""

import torch

from learning.posterior import (
    SequentialLikelihood,
    SequentialPosterior,
    box_coordinates,
    interval_coverage,
    train_posterior,
)
from learning.summaries import gaussian

PRIOR_LOW, PRIOR_HIGH = [b[0] for b in gaussian.PRIOR], [b[1] for b in gaussian.PRIOR]


def test_a_neural_posterior_of_the_sufficient_statistic_is_calibrated_and_a_shrunk_one_is_not():
    """NPE on 2000 simulations of (mean, std) of 10 draws: on 200 held-out simulations its central 50% and 90%
    intervals cover the truth 50% and 90% of the time within 10 points (binomial noise 3.5 and 2.1 points); the same
    draws pulled halfway to their mean (an overconfident posterior) cover the truth far less often."""
    g = torch.Generator().manual_seed(0)
    theta = gaussian.prior_sample(2000, generator=g)
    summaries = gaussian.sufficient_statistic(gaussian.simulate(theta, draws=10, generator=g))
    posterior = train_posterior(theta, summaries, low=PRIOR_LOW, high=PRIOR_HIGH, restarts=1)
    held_theta = gaussian.prior_sample(200, generator=g)
    held = gaussian.sufficient_statistic(gaussian.simulate(held_theta, draws=10, generator=g))

    def sample(m, s):
        return posterior.sample((m,), x=s, show_progress_bars=False)

    def shrunk(m, s):
        draws = sample(m, s)
        return draws.mean(dim=0) + 0.5 * (draws - draws.mean(dim=0))

    # its density of theta integrates to one over the box (400 x 400 midpoints; data drawn at the box's centre, so
    # that no posterior crowds an edge, where midpoints would miss the mass between them and the edge)
    grid = [lo + (hi - lo) * (torch.arange(400) + 0.5) / 400 for lo, hi in zip(PRIOR_LOW, PRIOR_HIGH, strict=True)]
    points = torch.cartesian_prod(*grid)
    cell = (PRIOR_HIGH[0] - PRIOR_LOW[0]) * (PRIOR_HIGH[1] - PRIOR_LOW[1]) / 400**2
    centre = torch.tensor([[0.5 * (lo + hi) for lo, hi in zip(PRIOR_LOW, PRIOR_HIGH, strict=True)]] * 3)
    for s in gaussian.sufficient_statistic(gaussian.simulate(centre, draws=10, generator=g)):
        mass = posterior.log_prob(points, x=s).exp().sum() * cell
        assert abs(float(mass) - 1.0) < 0.02, (s, float(mass))
    coverage = interval_coverage(sample, held_theta, held, samples=400)
    for level, covered in coverage.items():
        assert torch.all((covered - level).abs() <= 0.10), (level, covered)
    overconfident = interval_coverage(shrunk, held_theta, held, samples=400)
    assert torch.all(overconfident[0.5] < 0.35) and torch.all(overconfident[0.9] < 0.75), overconfident


def test_the_posterior_density_of_theta_is_the_flows_density_times_the_coordinates_jacobian():
    """log q(theta | s) = log q_u(u(theta) | s) + log |du/dtheta|, with du/dtheta by autograd of box_coordinates
    (a briefly trained flow: the identity holds for any)."""
    g = torch.Generator().manual_seed(1)
    theta = gaussian.prior_sample(300, generator=g)
    summaries = gaussian.sufficient_statistic(gaussian.simulate(theta, draws=10, generator=g))
    low, high = torch.tensor(PRIOR_LOW), torch.tensor(PRIOR_HIGH)
    posterior = train_posterior(theta, summaries, low=low, high=high, max_epochs=2)
    points = gaussian.prior_sample(50, generator=g).requires_grad_(True)
    u = box_coordinates(points, low, high)
    derivative = torch.autograd.grad(u.sum(), points)[0]  # u_i depends on theta_i alone
    expected = posterior.flow.log_prob(u.detach(), x=summaries[0]) + derivative.log().sum(dim=-1)
    torch.testing.assert_close(posterior.log_prob(points.detach(), x=summaries[0]), expected, rtol=1e-4,
                               atol=1e-4)


def test_neural_likelihood_estimation_gives_the_exact_posterior_with_a_normalised_density():
    """NLE on 1000 simulations of (mean, std) of 10 draws, one training: its MCMC draws given one
    observation have the exact posterior's means and standard deviations (within 0.05 and 20%) and are the same
    after the same torch seed, and its density,
    normalised by the importance-sampled evidence, integrates to one over the box (200 x 200 midpoints)."""
    g = torch.Generator().manual_seed(0)
    theta = gaussian.prior_sample(1000, generator=g)
    summaries = gaussian.sufficient_statistic(gaussian.simulate(theta, draws=10, generator=g))
    estimator = SequentialLikelihood(low=PRIOR_LOW, high=PRIOR_HIGH, seed=0, restarts=1)
    posterior = estimator.train(theta, summaries)
    assert len(estimator.validation_losses) == 1 and len(estimator.validation_losses[0]) == 1
    x = gaussian.simulate(torch.tensor([[0.3, 1.0]]), draws=10, generator=g)
    s = gaussian.sufficient_statistic(x)[0]
    torch.manual_seed(0)
    draws = posterior.sample((1000,), x=s).to(torch.float64)
    torch.manual_seed(0)  # the slice sampler's numpy draws follow torch's seed
    torch.testing.assert_close(posterior.sample((1000,), x=s).to(torch.float64), draws, rtol=0.0, atol=0.0)
    exact = gaussian.exact_posterior(x[0], 20000, generator=g)
    torch.testing.assert_close(draws.mean(dim=0), exact.mean(dim=0), rtol=0.0, atol=0.05)
    torch.testing.assert_close(draws.std(dim=0), exact.std(dim=0), rtol=0.2, atol=0.0)
    grid = [lo + (hi - lo) * (torch.arange(200) + 0.5) / 200 for lo, hi in zip(PRIOR_LOW, PRIOR_HIGH, strict=True)]
    cell = (PRIOR_HIGH[0] - PRIOR_LOW[0]) * (PRIOR_HIGH[1] - PRIOR_LOW[1]) / 200**2
    mass = posterior.log_prob(torch.cartesian_prod(*grid), x=s).exp().sum() * cell
    assert abs(float(mass) - 1.0) < 0.02


def test_restarted_training_keeps_the_training_with_the_smallest_validation_loss():
    """Three briefly trained NPEs from different weights: every round records three validation losses, and the
    posterior is the best training's (its density, not another's)."""
    g = torch.Generator().manual_seed(2)
    theta = gaussian.prior_sample(300, generator=g)
    summaries = gaussian.sufficient_statistic(gaussian.simulate(theta, draws=10, generator=g))
    estimator = SequentialPosterior(low=PRIOR_LOW, high=PRIOR_HIGH, seed=3, restarts=3)
    posterior = estimator.train(theta, summaries, max_epochs=3)
    (losses,) = estimator.validation_losses
    assert len(losses) == 3 and len(set(losses)) == 3
    u = box_coordinates(theta[:20], posterior.low, posterior.high)
    densities = [t.build_posterior().log_prob(u, x=summaries[0]) for t in estimator.trainings]
    best = min(range(3), key=losses.__getitem__)
    torch.testing.assert_close(posterior.flow.log_prob(u, x=summaries[0]), densities[best])
    assert all(not torch.allclose(densities[best], densities[k]) for k in range(3) if k != best)


class _LinearGaussianPosterior:
    """A stand-in for sbi's MCMC posterior of s = A u + noise (sigma), u ~ N(0, I): exact draws, the potential
    log N(s; A u, sigma^2 I) + log N(u; 0, I), and the exact evidence N(s; 0, A A^T + sigma^2 I)."""

    def __init__(self, matrix: torch.Tensor, sigma: float):
        self.matrix, self.sigma = matrix.to(torch.float64), sigma

    def _posterior(self, x):
        precision = torch.eye(self.matrix.shape[1], dtype=torch.float64) + self.matrix.T @ self.matrix / self.sigma**2
        covariance = torch.linalg.inv(precision)
        mean = covariance @ self.matrix.T @ x.to(torch.float64).reshape(-1) / self.sigma**2
        return torch.distributions.MultivariateNormal(mean, covariance)

    def potential(self, u, x):
        u = u.to(torch.float64)
        noise = torch.distributions.Normal(u @ self.matrix.T, self.sigma)
        prior = torch.distributions.Normal(torch.zeros_like(u), 1.0)
        return (noise.log_prob(x.to(torch.float64).reshape(1, -1)).sum(-1) + prior.log_prob(u).sum(-1)).float()

    def sample(self, sample_shape, x, show_progress_bars=False):
        return self._posterior(x).sample(sample_shape).float()

    def evidence(self, x) -> float:
        covariance = self.matrix @ self.matrix.T + self.sigma**2 * torch.eye(self.matrix.shape[0], dtype=torch.float64)
        zero = torch.zeros(self.matrix.shape[0], dtype=torch.float64)
        return float(torch.distributions.MultivariateNormal(zero, covariance).log_prob(x.to(torch.float64)))


def test_the_neural_likelihoods_evidence_is_exact_for_a_posterior_far_narrower_than_the_prior():
    """The importance-sampled evidence of a 4-parameter linear Gaussian likelihood whose posterior spreads are 0.002 to
    0.03 of the prior's (a posterior holding about 1e-9 of the prior's mass, where prior draws alone find nothing):
    within 0.02 of the exact log Z for three observations, with a large effective sample size."""
    from learning.posterior._nle import _NormalisedLikelihoodPosterior

    fake = _LinearGaussianPosterior(torch.diag(torch.tensor([500.0, 100.0, 50.0, 30.0])), sigma=1.0)
    normalised = _NormalisedLikelihoodPosterior(fake, 4, seed=0)
    for x in (torch.tensor([10.0, -5.0, 3.0, 1.0]), torch.tensor([0.0, 0.0, 0.0, 0.0]),
              torch.tensor([300.0, 40.0, -20.0, 10.0])):
        torch.manual_seed(1)
        assert abs(normalised.log_evidence(x) - fake.evidence(x)) < 0.02
        assert normalised.evidence_ess[x.numpy().tobytes()] > 5000


def test_the_evidence_proposals_student_t_has_scipys_density_and_its_spread():
    """The Student t the evidence's importance draws come from: scipy's log density, and 3 degrees of freedom give
    draws of covariance 3 times the scale (within sampling error)."""
    from scipy import stats

    from learning.posterior._nle import _MultivariateT

    mean = torch.tensor([0.3, -1.0], dtype=torch.float64)
    scale = torch.tensor([[2.0, 0.3], [0.3, 0.5]], dtype=torch.float64)
    t = _MultivariateT(mean, scale, 3)
    x = torch.randn(7, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expected = stats.multivariate_t(mean.numpy(), scale.numpy(), df=3).logpdf(x.numpy())
    torch.testing.assert_close(t.log_prob(x), torch.as_tensor(expected), rtol=1e-12, atol=1e-12)
    draws = t.sample(400000, torch.Generator().manual_seed(0))
    torch.testing.assert_close(draws.mean(dim=0), mean, rtol=0.0, atol=0.02)
    torch.testing.assert_close(torch.cov(draws.T), 3.0 * scale, rtol=0.1, atol=0.05)
