"""Learned summary statistics: the dependence bounds' formulas, and on a toy with a known sufficient statistic
(i.i.d. Gaussian draws, theta = (mu, sigma)) a learned statistic that keeps what the sufficient one knows; rejection
ABC and the toy's exact posterior checked with the sufficient statistic."""

import math

import pytest
import torch

from learning.summaries import (
    InfoMaxStatistic,
    MeanStatistic,
    distance_correlation,
    dv_bound,
    gaussian,
    jsd_bound,
    mutual_information,
    nearest_abc,
    wasserstein_marginals,
)


class _Constant(torch.nn.Module):
    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def forward(self, s, theta):
        return torch.full((s.shape[0],), self.value)


def test_the_bounds_of_a_constant_critic_are_their_closed_forms():
    """T = c: the Jensen-Shannon bound is -softplus(-c) - softplus(c), the Donsker-Varadhan bound is 0."""
    s, theta = torch.randn(50, 3), torch.randn(50, 2)
    for c in (0.0, 1.5):
        expected = -math.log1p(math.exp(-c)) - math.log1p(math.exp(c))
        assert jsd_bound(_Constant(c), s, theta, negatives=4).item() == pytest.approx(expected, rel=1e-6)
        assert dv_bound(_Constant(c), s, theta, negatives=4).item() == pytest.approx(0.0, abs=1e-6)


def test_distance_correlation_is_one_for_a_linear_map_and_near_zero_for_independent_samples():
    g = torch.Generator().manual_seed(1)
    theta = torch.randn(400, 2, generator=g, dtype=torch.float64)
    assert distance_correlation(2.0 * theta + 1.0, theta).item() == pytest.approx(1.0, abs=1e-12)
    assert distance_correlation(torch.randn(400, 3, generator=g, dtype=torch.float64), theta).item() < 0.03


def test_the_exact_posterior_of_the_toy_centres_on_the_sample_mean_and_scale():
    """With 400 draws the posterior of (mu, sigma) concentrates at the draws' mean and standard deviation with the
    width sigma / sqrt(n) of the mean."""
    g = torch.Generator().manual_seed(2)
    x = gaussian.simulate(torch.tensor([[0.3, 1.2]]), draws=400, generator=g)
    posterior = gaussian.exact_posterior(x[0], 20000, generator=g)
    mean, std = posterior.mean(dim=0), posterior.std(dim=0)
    assert mean[0].item() == pytest.approx(x.mean().item(), abs=0.01)
    assert mean[1].item() == pytest.approx(x.std().item(), abs=0.01)
    assert std[0].item() == pytest.approx(x.std().item() / 20.0, rel=0.05)


@pytest.fixture(scope="module")
def toy():
    """Statistics learned from 2000 simulations of 10 draws each, and the test pairs."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    theta = gaussian.prior_sample(2000, generator=g)
    x = gaussian.simulate(theta, draws=10, generator=g)
    infomax = InfoMaxStatistic(summary_dim=4)
    infomax.fit(theta, x, epochs=60, patience=20, lr=1e-3, generator=g)
    mean = MeanStatistic(summary_dim=2)
    mean.fit(theta, x, epochs=60, patience=20, lr=1e-3, generator=g)
    theta_test = gaussian.prior_sample(1500, generator=g)
    x_test = gaussian.simulate(theta_test, draws=10, generator=g)
    return {"infomax": infomax, "mean": mean, "theta": theta_test, "x": x_test, "generator": g}


def test_the_learned_statistic_knows_what_the_sufficient_statistic_knows(toy):
    """I(theta; S(x)) of the InfoMax statistic is within 10% of that of (mean, std) of the draws (the same critic
    recipe reads both), and well above the mean of the draws alone (which knows nothing of sigma)."""
    g = toy["generator"]
    read = {name: mutual_information(s, toy["theta"], epochs=80, generator=g)
            for name, s in (("learned", toy["infomax"].encode(toy["x"])),
                            ("sufficient", gaussian.sufficient_statistic(toy["x"])),
                            ("mean only", toy["x"].mean(dim=1, keepdim=True)))}
    assert read["learned"] >= 0.9 * read["sufficient"], read
    assert read["learned"] >= read["mean only"] + 0.3, read


def test_rejection_abc_with_the_sufficient_statistic_recovers_the_exact_posterior():
    """Rejection ABC on a 100 000-row reference table with (mean, std) of the draws as its distance: each marginal
    within 0.35 posterior standard deviations (2-Wasserstein) of the exact posterior; with the mean of the draws alone
    sigma's marginal is more than a standard deviation off (that statistic knows nothing of sigma)."""
    g = torch.Generator().manual_seed(3)
    table_theta = gaussian.prior_sample(100_000, generator=g)
    table_x = gaussian.simulate(table_theta, draws=10, generator=g)
    observed = gaussian.simulate(torch.tensor([[0.5, 1.2]]), draws=10, generator=g)
    exact = gaussian.exact_posterior(observed[0], 4000, generator=g)

    def error(encode):
        posterior = nearest_abc(table_theta, encode(table_x), encode(observed)[0], keep=800)
        return wasserstein_marginals(posterior, exact) / exact.std(dim=0)

    sufficient = error(gaussian.sufficient_statistic)
    mean_only = error(lambda x: x.mean(dim=1, keepdim=True))
    assert float(sufficient.max()) < 0.35, sufficient
    assert float(mean_only[1]) > 1.0, mean_only


def test_the_mean_statistic_regresses_the_parameters(toy):
    """The posterior-mean statistic predicts mu from 10 draws about as well as their mean does."""
    theta = toy["theta"]
    mu = toy["mean"].predict(toy["x"])[:, 0]
    learned = ((mu - theta[:, 0]) ** 2).mean().sqrt()
    sample_mean = ((toy["x"].mean(dim=1) - theta[:, 0]) ** 2).mean().sqrt()
    assert learned.item() <= 1.1 * sample_mean.item()


def test_statistics_refuse_bad_input():
    with pytest.raises(ValueError, match="estimator = 'kl' is unknown"):
        InfoMaxStatistic(summary_dim=2, estimator="kl")
    with pytest.raises(ValueError, match="one theta per x"):
        InfoMaxStatistic(summary_dim=2).fit(torch.zeros(20, 2), torch.zeros(19, 5))
    with pytest.raises(RuntimeError, match="not trained"):
        MeanStatistic(summary_dim=2).encode(torch.zeros(3, 5))
