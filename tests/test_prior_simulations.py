"""Prior simulations of a scene: batched worlds equal one-at-a-time runs, chunks resume from the cache, a bad prior
is refused."""

import numpy as np
import pytest

import scenes
from learning.posterior import prior_draws, simulate_prior

NAMES = ("weave.friction", "materials.cotton.density")


@pytest.fixture(scope="module")
def scene():
    base = scenes.load_scene(scenes.__path__[0] + "/examples/hanging_wind.toml", check_device=False)
    return scenes.with_parameters(base, {"cloth.nodes": [5, 5], "simulation.steps": 12, "simulation.save_every": 4,
                                         "simulation.device": "cpu"})


def bounds(scene):
    values = [scenes.get_parameter(scene, name) for name in NAMES]
    return [0.5 * v for v in values], [1.5 * v for v in values]


def test_batched_prior_worlds_equal_one_at_a_time_runs(scene):
    """Three draws simulated as the worlds of one rollout give each draw's own single-world trajectory (<= 1e-12 m)."""
    low, high = bounds(scene)
    result = simulate_prior(scene, names=NAMES, low=low, high=high, count=3, chunk=3, seed=4)
    np.testing.assert_array_equal(result.theta, prior_draws(low, high, 3, seed=4))
    assert result.x.shape[:2] == (3, 4) and result.simulated == 3
    for row, x in zip(result.theta, result.x, strict=True):
        single = scenes.simulate_scene(scenes.with_parameters(scene, dict(zip(NAMES, row.tolist(), strict=True))))
        assert np.abs(single.trajectory.x[0] - x).max() <= 1e-12


def test_an_interrupted_run_resumes_from_its_cached_chunks(scene, tmp_path):
    """Four draws in chunks of two: with the second chunk's file gone (a run stopped there) the next call simulates
    only those two and returns the same pairs; a cache of another prior is refused."""
    low, high = bounds(scene)
    first = simulate_prior(scene, names=NAMES, low=low, high=high, count=4, chunk=2, cache=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunk_00000.npz", "chunk_00001.npz", "draws.npy",
                                                           "prior.json"]
    (tmp_path / "chunk_00001.npz").unlink()
    again = simulate_prior(scene, names=NAMES, low=low, high=high, count=4, chunk=2, cache=tmp_path)
    assert (first.simulated, again.simulated) == (4, 2)
    np.testing.assert_array_equal(first.x, again.x)
    np.testing.assert_array_equal(first.theta, again.theta)
    with pytest.raises(ValueError, match="another scene or prior"):
        simulate_prior(scene, names=NAMES, low=low, high=high, count=4, chunk=2, seed=1, cache=tmp_path)


@pytest.mark.parametrize(("low", "high", "message"), [
    ((0.1, 0.5), (0.9, 0.4), "materials.cotton.density.*empty or inverted"),
    ((0.6, 0.001), (0.9, 0.01), "weave.friction.*excludes the scene's value 0.5"),
])
def test_a_bad_prior_is_refused_naming_the_parameter(scene, low, high, message):
    with pytest.raises(ValueError, match=message):
        simulate_prior(scene, names=NAMES, low=low, high=high, count=2)
