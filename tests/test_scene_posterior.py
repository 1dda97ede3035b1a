"""A scene's posterior end to end: the statistics' building blocks, the pipeline on a small cloth (the truth inside
its intervals, resumption from the cache, sequential rounds), and its refusals."""

import numpy as np
import pytest

import scenes
from learning import cloth
from learning.posterior import (
    BudgetError,
    CombinedMeasurement,
    PositionMeasurement,
    PosteriorOptions,
    SensitivityProjection,
    TrackMeasurement,
    gauss_newton_intervals,
    handmade_summaries,
    infer_posterior,
    observe,
    observed_frames,
    trajectory_features,
)
from scenes.cameras import Camera

NAMES = ("materials.cotton.density", "materials.cotton.young_modulus")
NOISE = 1e-6  # [m]


@pytest.fixture(scope="module")
def small():
    """A 5 x 5 hanging cloth, 20 steps, 11 frames; its own trajectory with noise as the observation."""
    base = scenes.load_scene(scenes.__path__[0] + "/examples/hanging_wind.toml", check_device=False)
    scene = scenes.with_parameters(base, {"cloth.nodes": [5, 5], "simulation.steps": 20, "simulation.save_every": 2,
                                          "simulation.device": "cpu"})
    trajectory = scenes.simulate_scene(scene).trajectory
    steps = np.rint(trajectory.t / scene.simulation.solver_dt).astype(np.int64)
    truth = np.array([scenes.get_parameter(scene, name) for name in NAMES])
    return scene, observe(trajectory.x[0], NOISE, seed=5), steps, truth


def test_the_sensitivity_projection_of_a_linear_simulator_is_its_score():
    """For x = mu + A theta (A [k, ...]), central differences give A exactly and s(x) = A^T (x - mu)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 3, 2, 2, 3))
    mu = rng.normal(size=(3, 2, 2, 3))
    step = np.array([0.1, 0.3])
    stencil = [mu, mu + step[0] * a[0], mu - step[0] * a[0], mu + step[1] * a[1], mu - step[1] * a[1]]
    projection = SensitivityProjection.from_differences(np.stack(stencil), step)
    x = mu + rng.normal(size=(4, 3, 2, 2, 3))
    expected = (x - mu).reshape(4, -1) @ a.reshape(2, -1).T
    np.testing.assert_allclose(projection(x), expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="expected 2k \\+ 1"):
        SensitivityProjection.from_differences(np.stack(stencil[:4]), step)


def test_the_stencil_is_what_from_differences_expects():
    """Simulating x = A theta at the stencil's parameters and differencing gives A back."""
    a = np.random.default_rng(2).normal(size=(3, 4, 2, 2, 3))
    step = np.array([0.1, 0.01, 1.0])
    theta = SensitivityProjection.stencil([1.0, 2.0, 3.0], step)
    assert theta.shape == (7, 3)
    projection = SensitivityProjection.from_differences(np.einsum("nk,k...->n...", theta, a), step)
    np.testing.assert_allclose(projection.jacobian, a.reshape(3, -1), rtol=1e-9, atol=1e-12)


def test_features_keep_a_coarse_grid_and_handmade_summaries_see_a_rigid_shift():
    x = np.zeros((1, 11, 9, 9, 3))
    x[:, :, :, :, 0] = np.arange(11)[None, :, None, None] * 1e-3  # the whole cloth moves 1 mm per frame along x
    features = trajectory_features(x, nodes=5, frames=4)
    assert features.shape == (1, 4 * 25 * 3)
    np.testing.assert_allclose(features.reshape(4, 25, 3)[:, :, 0], np.array([1, 4, 7, 10])[:, None] * 1e-3
                               * np.ones((1, 25)), rtol=0, atol=1e-15)
    handmade = handmade_summaries(x, frames=4, frequencies=2)
    assert handmade.shape == (1, 4 * 4 + 3 * 2)
    np.testing.assert_allclose(handmade[0, :12].reshape(4, 3)[:, 0], [1e-3, 4e-3, 7e-3, 10e-3], atol=1e-15)
    np.testing.assert_allclose(handmade[0, 12:16], 0.0, atol=1e-15)  # a rigid shift does not spread the nodes


def test_observed_frames_must_be_frames_the_scene_saves():
    times = np.arange(0, 21, 2) * 1e-3
    np.testing.assert_array_equal(observed_frames(times, [0, 4, 20], 1e-3), [0, 2, 10])
    with pytest.raises(ValueError, match="step 3 .* is not a frame the scene saves"):
        observed_frames(times, [0, 3], 1e-3)


def test_the_posterior_of_a_small_cloth_holds_the_truth_and_resumes_from_its_cache(small, tmp_path):
    """300 prior simulations of the 5 x 5 cloth, the score statistic, one training: the 90% intervals hold the true
    density and Young's modulus and are narrower than the prior's (0.9 of the box; density: under 0.3); a second call
    reads every simulation from the cache and gives the same posterior; 100 held-out simulations cover the 90%
    intervals 80% of the time or more. (Young's modulus is weakly determined at this budget: another training, 0.05
    nats better on its own validation split, gave it 0.95 of the box, covering held-out truths 95% of the time.)"""
    scene, observed, steps, truth = small
    low, high = 0.5 * truth, 1.5 * truth
    options = PosteriorOptions(budget=300, samples=2000, check=100, restarts=1)
    first = infer_posterior(scene, observed, steps, names=NAMES, low=low, high=high, noise=NOISE, options=options,
                            cache=tmp_path)
    q = first.marginals()
    assert np.all(q[0] <= truth) and np.all(truth <= q[2])
    width = (q[2] - q[0]) / (high - low)
    assert width[0] < 0.3 and width[1] < 0.8
    assert first.simulated == 300 + 5 + 100  # the prior's, the score stencil's and the held-out ones
    assert min(first.check.coverage[0.9]) >= 0.8
    assert len(first.check.sbc_ks_pvalues) == 2 and abs(first.check.tarp_atc) < 0.2  # 0 when calibrated
    options = PosteriorOptions(budget=300, samples=2000, restarts=1)  # no check this time
    again = infer_posterior(scene, observed, steps, names=NAMES, low=low, high=high, noise=NOISE, options=options,
                            cache=tmp_path)
    assert again.simulated == 0
    np.testing.assert_allclose(again.samples, first.samples, rtol=1e-6)


def test_a_second_round_draws_from_the_first_posterior(small, tmp_path):
    scene, observed, steps, truth = small
    low, high = 0.5 * truth, 1.5 * truth
    result = infer_posterior(scene, observed, steps, names=NAMES, low=low, high=high, noise=NOISE,
                             options=PosteriorOptions(budget=400, rounds=2, samples=2000, restarts=1), cache=tmp_path)
    assert result.simulations == [200, 200]
    assert [len(losses) for losses in result.validation_losses] == [1, 1]
    second = np.load(tmp_path / "round_2" / "draws.npy")
    first_q = np.quantile(np.load(tmp_path / "round_1" / "draws.npy"), [0.05, 0.95], axis=0)
    # the second round's draws concentrate where the first posterior put the density (Young's modulus, weakly
    # determined by 200 simulations, concentrates or not depending on the training)
    assert np.ptp(np.quantile(second[:, 0], [0.05, 0.95])) < 0.7 * np.ptp(first_q[:, 0])
    q = result.marginals()
    assert np.all(q[0] <= truth) and np.all(truth <= q[2])


@pytest.mark.slow  # 17 s: NLE's own code is tested fast on the toy (tests/test_posterior.py)
def test_neural_likelihood_estimation_holds_the_truth_and_checks_its_calibration(small, tmp_path):
    """NLE (the posterior drawn by MCMC) on 300 prior simulations: the truth lies inside the 90% intervals, narrower
    than the prior's; the training's validation loss is recorded; a calibration check on 10 held-out simulations
    reports coverage, and a log density of the truths above the prior's (0)."""
    scene, observed, steps, truth = small
    low, high = 0.5 * truth, 1.5 * truth
    options = PosteriorOptions(budget=300, method="nle", restarts=1, samples=300, check=10)
    result = infer_posterior(scene, observed, steps, names=NAMES, low=low, high=high, noise=NOISE, options=options,
                             cache=tmp_path)
    assert result.method == "nle" and result.simulations == [300]
    assert [len(losses) for losses in result.validation_losses] == [1]
    q = result.marginals()
    assert np.all(q[0] <= truth) and np.all(truth <= q[2])
    assert np.all((q[2] - q[0]) / (high - low) < 0.8)
    assert result.check.simulations == 10 and set(result.check.coverage) == {0.5, 0.9}
    assert result.check.log_density > 0.0


@pytest.fixture(scope="module")
def filmed(small):
    """The small cloth saved at every step, filmed by a 240 fps camera (frames between the steps) that tracks its 25
    crossings: noiseless tracks, and tracks with 0.03 px of noise (about the 1e-6 m of ``small`` at 3 cm)."""
    scene = scenes.with_parameters(small[0], {"simulation.save_every": 1})
    trajectory = scenes.simulate_scene(scene).trajectory
    centre = trajectory.x[0, 0].reshape(-1, 3).mean(axis=0)
    camera = Camera.look_at(name="front", resolution=(640, 480), position=centre + np.array([0.003, -0.03, 0.002]),
                            look_at=centre, up=[0.0, 0.0, 1.0], fov_y=30.0, fps=240.0)
    points = np.stack(np.meshgrid(np.arange(5), np.arange(5), indexing="ij"), -1).reshape(-1, 2).astype(float)
    exact = cloth.tracks_from_trajectory(trajectory, camera, points)
    noisy = cloth.tracks_from_trajectory(trajectory, camera, points, noise=0.03, seed=3)
    return scene, trajectory, exact, noisy


def test_a_track_measurement_of_a_simulation_is_its_projected_tracks(filmed):
    """Measured as the tracks were (frames between saved steps, projected; nothing where a point was not seen), the
    scene's own simulation gives the noiseless tracks; a frame after the last saved one is refused."""
    scene, trajectory, exact, _ = filmed
    seen = exact.seen.copy()
    seen[3, :4] = False  # points lost in a frame
    pixels = np.where(seen[..., None], exact.pixels, np.nan)
    tracks = cloth.PointTracks(camera=exact.camera, points=exact.points, times=exact.times, pixels=pixels)
    measurement = TrackMeasurement(tracks, noise=0.1)
    measurement.prepare(trajectory.t, scene.simulation.solver_dt)
    measured = measurement(trajectory.x, trajectory.t, seed=None)
    np.testing.assert_allclose(measured[0][seen], exact.pixels[seen], rtol=0.0, atol=1e-9)
    assert np.all(measured[0][~seen] == 0.0) and np.all(measurement.observed[0][~seen] == 0.0)
    noisy = measurement(trajectory.x, trajectory.t, seed=1)
    assert 0.08 < np.std(noisy[0][seen] - measured[0][seen]) < 0.12
    late = cloth.PointTracks(camera=exact.camera, points=exact.points, times=exact.times + 0.01, pixels=exact.pixels)
    with pytest.raises(ValueError, match=r"after the simulation's last saved frame"):
        TrackMeasurement(late, noise=0.1).prepare(trajectory.t, scene.simulation.solver_dt)


def aside(filmed_fixture, *, noise: float):
    """The small cloth's tracks through a second camera, to the side of the first and at 300 fps."""
    scene, trajectory, exact, _ = filmed_fixture
    centre = trajectory.x[0, 0].reshape(-1, 3).mean(axis=0)
    camera = Camera.look_at(name="side", resolution=(640, 480), position=centre + np.array([0.025, -0.02, 0.004]),
                            look_at=centre, up=[0.0, 0.0, 1.0], fov_y=30.0, fps=300.0)
    return cloth.tracks_from_trajectory(trajectory, camera, exact.points, noise=noise, seed=5)


def test_a_combined_measurement_puts_each_cameras_measurement_side_by_side(filmed):
    """Two cameras' tracks measured at once: each camera's noiseless measurement, flattened, side by side (and its
    hand-made summaries and features likewise); each camera's noise drawn apart; mixed units are refused."""
    scene, trajectory, exact, _ = filmed
    side = aside(filmed, noise=0.0)
    combined = CombinedMeasurement([TrackMeasurement(exact, noise=0.1), TrackMeasurement(side, noise=0.1)])
    combined.prepare(trajectory.t, scene.simulation.solver_dt)
    parts = [TrackMeasurement(tracks, noise=0.1) for tracks in (exact, side)]
    for part in parts:
        part.prepare(trajectory.t, scene.simulation.solver_dt)
    alone = [part(trajectory.x, trajectory.t, seed=None) for part in parts]
    measured = combined(trajectory.x, trajectory.t, seed=None)
    np.testing.assert_array_equal(measured, np.concatenate([a.reshape(1, -1) for a in alone], axis=1))
    np.testing.assert_allclose(combined.observed, measured, atol=1e-9)  # the scene's own simulation
    np.testing.assert_array_equal(combined.handmade(measured),
                                  np.concatenate([p.handmade(a) for p, a in zip(parts, alone, strict=True)], axis=1))
    np.testing.assert_array_equal(combined.features(measured),
                                  np.concatenate([p.features(a) for p, a in zip(parts, alone, strict=True)], axis=1))
    noise = combined(trajectory.x, trajectory.t, seed=1) - measured
    first = alone[0].size
    assert 0.08 < noise.std() < 0.12 and abs(np.corrcoef(noise[0, :50], noise[0, first:first + 50])[0, 1]) < 0.5
    assert combined.last_step_of(scene.simulation.solver_dt) == max(p.last_step_of(scene.simulation.solver_dt)
                                                                     for p in parts)
    positions = PositionMeasurement(trajectory.x[0, :3], [0, 1, 2], noise=1e-6)
    with pytest.raises(ValueError, match="measurements in m and px combined: expected one unit"):
        CombinedMeasurement([parts[0], positions])


def test_the_posterior_from_two_cameras_holds_the_truth(filmed, tmp_path):
    """The tracks of two cameras (0.03 px): the truth lies inside the 90% intervals, the density's narrower than
    half the prior's."""
    scene, _, _, noisy = filmed
    truth = np.array([scenes.get_parameter(scene, name) for name in NAMES])
    low, high = 0.5 * truth, 1.5 * truth
    side = aside(filmed, noise=0.03)
    result = infer_posterior(scene, [noisy, side], names=NAMES, low=low, high=high, noise=0.03, cache=tmp_path,
                             options=PosteriorOptions(budget=300, samples=2000, restarts=1, statistic="handmade"))
    q = result.marginals()
    assert np.all(q[0] <= truth) and np.all(truth <= q[2])
    assert (q[2, 0] - q[0, 0]) / (high[0] - low[0]) < 0.5
    both = gauss_newton_intervals(scene, [noisy, side], NAMES, low=low, high=high, noise=0.03)
    one = gauss_newton_intervals(scene, [noisy], NAMES, low=low, high=high, noise=0.03)
    assert np.all(np.abs(both.values - truth) < 4.0 * both.std) and np.all(both.std < one.std)


def test_the_gauss_newton_covariance_of_residuals_weighed_apart_is_the_sandwich():
    """Linear least squares with residuals r = D (X theta - y) and noise of 0.1 on y: with one weight the covariance
    is (0.1 d)^2 (J^T J)^-1; with two groups weighed apart it matches the spread of 4000 fits of noisy data."""
    from learning.posterior._gauss_newton import _covariance

    rng = np.random.default_rng(0)
    design = rng.normal(size=(60, 3))
    np.testing.assert_allclose(_covariance(0.5 * design, np.full(60, 0.5), 0.1),
                               0.1**2 * np.linalg.inv(design.T @ design), rtol=1e-10)
    scales = np.where(np.arange(60) < 20, 1.0 / np.sqrt(20), 1.0 / np.sqrt(40))  # two cameras' means
    jacobian = scales[:, None] * design
    fits = [np.linalg.lstsq(jacobian, scales * rng.normal(scale=0.1, size=60), rcond=None)[0] for _ in range(4000)]
    np.testing.assert_allclose(np.cov(np.array(fits).T), _covariance(jacobian, scales, 0.1), rtol=0.1, atol=1e-5)


@pytest.mark.parametrize("statistic", ["handmade", pytest.param("score", marks=pytest.mark.slow)])  # score: 30 s
def test_the_posterior_from_tracked_pixels_holds_the_truth(filmed, tmp_path, statistic):
    """300 prior simulations measured as 0.03 px tracks of a 240 fps camera: the truth lies inside the 90%
    intervals, the density's narrower than half the prior's; Gauss-Newton's intervals from the tracks, with the known
    pixel noise, hold the truth within 4 standard deviations and are narrower."""
    scene, _, _, noisy = filmed
    truth = np.array([scenes.get_parameter(scene, name) for name in NAMES])
    low, high = 0.5 * truth, 1.5 * truth
    result = infer_posterior(scene, noisy, names=NAMES, low=low, high=high, noise=0.03, cache=tmp_path,
                             options=PosteriorOptions(budget=300, samples=2000, restarts=1, statistic=statistic))
    q = result.marginals()
    assert np.all(q[0] <= truth) and np.all(truth <= q[2])
    assert (q[2, 0] - q[0, 0]) / (high[0] - low[0]) < 0.5
    if statistic == "handmade":  # Gauss-Newton's local intervals from the same tracks, with the known pixel noise
        fit = gauss_newton_intervals(scene, [noisy], NAMES, low=low, high=high, noise=0.03)
        assert np.all(np.abs(fit.values - truth) < 4.0 * fit.std)
        assert np.all(np.diff(fit.intervals, axis=1)[:, 0] < q[2] - q[0])


def test_smc_abc_moves_the_closest_prior_simulations_to_the_observation_and_resumes(small, tmp_path):
    """SMC-ABC with the score statistic's distance: 300 prior simulations (population 0: the 30 closest), then
    populations of 30 simulated in batches of 100; the truth lies inside the 90% intervals, which are narrower than the
    prior's; tolerances shrink; a second call reads every simulation from the cache and gives the same draws."""
    scene, observed, steps, truth = small
    low, high = 0.5 * truth, 1.5 * truth
    options = PosteriorOptions(budget=600, method="smc-abc", samples=2000)
    first = infer_posterior(scene, observed, steps, names=NAMES, low=low, high=high, noise=NOISE, options=options,
                            cache=tmp_path)
    assert first.posterior is None and len(first.abc.weights) == 30
    # how many batches a population needs depends on the draws (floating point differs between machines)
    assert first.simulations[0] == 300 and sum(first.simulations) == 600 and first.simulated == 600 + 5
    assert len(first.simulations) >= 3 and all(n % 100 == 0 for n in first.simulations[1:])
    assert np.all(np.diff(first.abc.epsilons) < 0)
    q = first.marginals()
    assert np.all(q[0] <= truth) and np.all(truth <= q[2])
    width = (q[2] - q[0]) / (high - low)
    assert width[0] < 0.3 and width[1] < 0.8
    again = infer_posterior(scene, observed, steps, names=NAMES, low=low, high=high, noise=NOISE, options=options,
                            cache=tmp_path)
    assert again.simulated == 0
    np.testing.assert_array_equal(again.samples, first.samples)
    # another statistic shares the first round and has its own populations
    other = infer_posterior(scene, observed, steps, names=NAMES, low=low, high=high, noise=NOISE, cache=tmp_path,
                            options=PosteriorOptions(budget=600, method="smc-abc", statistic="handmade", samples=2000))
    assert other.simulated == 300 and sum(other.simulations) == 600


def test_observing_the_first_frames_simulates_only_as_far_as_the_last_of_them(small, tmp_path):
    scene, observed, steps, _ = small
    low, high = np.array([0.002, 2.5e5]), np.array([0.003, 7.5e5])
    infer_posterior(scene, observed[:6], steps[:6], names=NAMES, low=low, high=high, noise=NOISE, cache=tmp_path,
                    options=PosteriorOptions(budget=100, samples=10, restarts=1))
    with np.load(tmp_path / "round_1" / "chunk_00000.npz") as chunk:
        np.testing.assert_allclose(chunk["t"], steps[:6] * scene.simulation.solver_dt)
        assert chunk["x"].shape[1] == 6


@pytest.mark.parametrize(("change", "error", "message"), [
    ({"low": [0.5, 1.1]}, ValueError, "young_modulus.*excludes the scene's value"),
    ({"options": PosteriorOptions(budget=150, statistic="infomax")}, BudgetError, "too small to train on"),
    ({"options": PosteriorOptions(budget=300, rounds=4)}, BudgetError, "at least 100 per round"),
    ({"noise": 0.0}, ValueError, "noise = 0.0"),
    ({"options": PosteriorOptions(budget=600, method="smc-abc", check=100)}, ValueError, "amortised posterior"),
    ({"options": PosteriorOptions(budget=600, method="smc-abc", rounds=2)}, ValueError, "give rounds = 1"),
    ({"options": PosteriorOptions(budget=600, method="smc-abc", restarts=3)}, ValueError, "trains no density"),
    ({"options": PosteriorOptions(budget=300, particles=50)}, ValueError, "population size is for method smc-abc"),
    ({"options": PosteriorOptions(budget=300, method="smc-abc", particles=200)}, BudgetError,
     "particles = 200: expected 2 to the 150"),
    ({"steps": np.arange(11) * 2 + 1}, ValueError, "step 1 .* is not a frame"),
])
def test_bad_setups_are_refused_before_simulating(small, tmp_path, change, error, message):
    scene, observed, steps, truth = small
    arguments = {"low": 0.5 * truth, "high": 1.5 * truth, "noise": NOISE, "options": PosteriorOptions(budget=300),
                 "steps": steps}
    if "low" in change:
        change = {"low": np.array(change["low"]) * truth}
    arguments.update(change)
    steps = arguments.pop("steps")
    with pytest.raises(error, match=message):
        infer_posterior(scene, observed, steps, names=NAMES, cache=tmp_path, **arguments)
    assert not (tmp_path / "round_1").exists() or "step" in message  # frames are known once round 1 ran
