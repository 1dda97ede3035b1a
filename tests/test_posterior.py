"""Neural posterior estimation (sbi) on the Gaussian toy, and the calibration check that judges it."""

import torch

from learning.posterior import interval_coverage, train_posterior
from learning.summaries import gaussian

PRIOR_LOW, PRIOR_HIGH = [b[0] for b in gaussian.PRIOR], [b[1] for b in gaussian.PRIOR]


def test_a_neural_posterior_of_the_sufficient_statistic_is_calibrated_and_a_shrunk_one_is_not():
    """NPE on 2000 simulations of (mean, std) of 10 draws: on 200 held-out simulations its central 50% and 90%
    intervals cover the truth 50% and 90% of the time within 10 points (binomial noise 3.5 and 2.1 points); the same
    draws pulled halfway to their mean (an overconfident posterior) cover the truth far less often."""
    g = torch.Generator().manual_seed(0)
    theta = gaussian.prior_sample(2000, generator=g)
    summaries = gaussian.sufficient_statistic(gaussian.simulate(theta, draws=10, generator=g))
    posterior = train_posterior(theta, summaries, low=PRIOR_LOW, high=PRIOR_HIGH)
    held_theta = gaussian.prior_sample(200, generator=g)
    held = gaussian.sufficient_statistic(gaussian.simulate(held_theta, draws=10, generator=g))

    def sample(m, s):
        return posterior.sample((m,), x=s, show_progress_bars=False)

    def shrunk(m, s):
        draws = sample(m, s)
        return draws.mean(dim=0) + 0.5 * (draws - draws.mean(dim=0))

    coverage = interval_coverage(sample, held_theta, held, samples=400)
    for level, covered in coverage.items():
        assert torch.all((covered - level).abs() <= 0.10), (level, covered)
    overconfident = interval_coverage(shrunk, held_theta, held, samples=400)
    assert torch.all(overconfident[0.5] < 0.35) and torch.all(overconfident[0.9] < 0.75), overconfident
