"""SMC-ABC (learning.posterior.smc_abc): on a Gaussian mean with a sufficient statistic its weighted population
matches the analytic posterior widened by the tolerance; tolerances shrink, every particle lies within the last one,
the budget is kept, and bad settings are refused."""

import numpy as np
import pytest

from learning.posterior import smc_abc

N = 20  # observations per simulation: the summary is their mean, s ~ N(mu, 1 / N)


def gaussian_mean(seed: int):
    rng = np.random.default_rng(seed)

    def simulate(theta, population=0, call=0):
        return theta[:, :1] + rng.standard_normal((len(theta), 1)) / np.sqrt(N)

    return rng, simulate


def test_the_population_matches_the_gaussian_posterior_widened_by_the_tolerance():
    """Uniform prior on [-3, 3], observed mean 0.4: the posterior given |s - 0.4| <= eps is N(0.4, 1/N) convolved
    with the uniform on [-eps, eps] (the prior's edges are 15 standard deviations away), so its variance is
    1/N + eps^2/3. The weighted mean must be within 4 Monte-Carlo standard errors, the standard deviation within 8%."""
    rng, simulate = gaussian_mean(1)
    pool = rng.uniform(-3.0, 3.0, (4000, 1))
    result = smc_abc(pool, simulate(pool), np.array([0.4]), low=[-3.0], high=[3.0], simulate=simulate,
                     budget=60000, particles=2000, seed=0)
    weights, mu = result.weights, result.particles[:, 0]
    mean = np.sum(weights * mu)
    std = np.sqrt(np.sum(weights * (mu - mean) ** 2))
    expected_std = np.sqrt(1.0 / N + result.epsilons[-1] ** 2 / 3.0)
    assert abs(mean - 0.4) < 4.0 * expected_std / np.sqrt(result.effective_sample_size)
    assert std == pytest.approx(expected_std, rel=0.08)
    assert result.epsilons[-1] < 0.1 * result.epsilons[0] and np.all(np.diff(result.epsilons) < 0)
    assert np.all(result.distances <= result.epsilons[-1])
    assert sum(result.simulations) <= 60000 and np.isclose(weights.sum(), 1.0)
    draws = result.sample(5000, seed=3)
    assert draws.shape == (5000, 1) and np.all(np.isin(draws[:, 0], mu))


def test_the_weights_undo_the_kernel_when_the_data_say_nothing():
    """A summary that ignores theta accepts every move: the exact weights keep the population uniform on the box
    (mean 0, variance 3 on [-3, 3]) although the moves pile particles up near its middle."""
    rng = np.random.default_rng(2)

    def simulate(theta, population=0, call=0):
        return rng.standard_normal((len(theta), 1))

    pool = rng.uniform(-3.0, 3.0, (4000, 1))
    result = smc_abc(pool, simulate(pool), np.zeros(1), low=[-3.0], high=[3.0], simulate=simulate, budget=40000,
                     particles=2000, quantile=0.9, seed=0)
    assert len(result.epsilons) >= 3
    mu, weights = result.particles[:, 0], result.weights
    assert abs(np.sum(weights * mu)) < 0.15
    assert np.sum(weights * mu ** 2) == pytest.approx(3.0, rel=0.07)  # unweighted: 2.57 to 2.71
    assert np.all((-3.0 <= mu) & (mu <= 3.0))


@pytest.mark.parametrize(("change", "message"), [
    ({"particles": 1}, "particles = 1"), ({"particles": 101}, "particles = 101"), ({"quantile": 1.0}, "quantile"),
])
def test_bad_settings_are_refused(change, message):
    rng, simulate = gaussian_mean(0)
    pool = rng.uniform(-1.0, 1.0, (100, 1))
    arguments = {"particles": 10, "quantile": 0.5, **change}
    with pytest.raises(ValueError, match=message):
        smc_abc(pool, simulate(pool), np.zeros(1), low=[-1.0], high=[1.0], simulate=simulate, budget=100,
                **arguments)
