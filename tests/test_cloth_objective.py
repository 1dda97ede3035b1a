"""The cloth-fitting objective: scene parameters reach the right engine elements, its gradients and JVPs
match finite differences, observations are checked, and a fit recovers known parameters."""

import numpy as np
import pytest
import torch

import scenes
import simulator
from learning import cloth
from learning.estimators import Truncated
from learning.fit import FitError, make_estimator

from .cloth_factory import wp  # noqa: F401  (quiet Warp)

EXAMPLE = scenes.load_scene(scenes.__path__[0] + "/examples/hanging_wind.toml", check_device=False)
MATERIALS = [f"materials.{m}.{p}" for m in ("cotton", "polyester") for p in ("density", "young_modulus",
                                                                              "bending_modulus")]


def small_scene(nodes=(7, 7), **values) -> scenes.Scene:
    """The reference scene (two yarn types, wind, two top corners pinned) on a small grid, on the CPU."""
    return scenes.with_parameters(EXAMPLE, {"cloth.nodes": list(nodes), "simulation.device": "cpu", **values})


def synthetic(scene: scenes.Scene, steps: int, *, save_every: int = 1) -> scenes.Trajectory:
    """A trajectory of ``scene`` (the truth of a synthetic fit), simulated tightly."""
    model = simulator.build_model(scenes.build_spec(scene), device="cpu")
    frames = simulator.rollout(model, simulator.SolverImplicit(model, dt=scene.simulation.dt, tolerance=1e-12),
                               steps=steps, save_every=save_every)
    return scenes.Trajectory(x=frames.x, u=frames.u, t=frames.t, scene_json=scenes.scene_to_json(scene),
                             path="synthetic.npz")


@pytest.fixture(scope="module")
def problem():
    """7x7 cloth, 15 steps observed every step, every parameter family; starting values 20% off."""
    scene = small_scene()
    observations = cloth.observations_from_trajectory(synthetic(scene, 15), scene)
    names = [*MATERIALS, "weave.shear_modulus", "weave.friction_stiffness", "pins[0].stiffness", "wind.drag",
             "wind.velocity.1", "simulation.gravity.2"]
    initial = {n: float(scenes.get_parameter(scene, n)) * (1.2 if k % 2 else 0.8) for k, n in enumerate(names)}
    space = cloth.scene_parameter_space(scene, names, initial=initial)
    return cloth.ClothObjective(scene, observations, space), space


# -- scene parameters -> engine arrays ---------------------------------------------------------------
def test_scene_parameters_set_the_same_arrays_as_building_the_changed_scene():
    """For every fittable kind, SceneParameters.apply equals build_model(with_parameters(...)) array by array."""
    scene = small_scene((6, 5), **{"cloth.warp_yarns": ["cotton", "polyester", "polyester"]})
    names = cloth.fittable_names(scene)
    assert len(names) == 6 + 10 + 6
    base = simulator.build_model(scenes.build_spec(scene), device="cpu")
    parameters = cloth.SceneParameters(scene, names, base)
    rng = np.random.default_rng(0)
    values = parameters.values() * rng.uniform(0.5, 1.5, size=len(names)) + np.where(
        [n.startswith(("wind.velocity", "simulation.gravity")) for n in names], 0.3, 0.0)
    expected = simulator.build_model(scenes.build_spec(parameters.with_values(values)), device="cpu")
    model = simulator.build_model([scenes.build_spec(scene)] * 2, device="cpu")
    parameters.apply(model, np.stack([parameters.values(), values]), {a: base.parameter(a) for a in parameters.arrays})
    for array in simulator.PARAMETER_ARRAYS:
        np.testing.assert_allclose(model.parameter(array)[1], expected.parameter(array)[0], rtol=1e-14,
                                   err_msg=array)
        np.testing.assert_allclose(model.parameter(array)[0], base.parameter(array)[0], rtol=1e-14, err_msg=array)


def test_unknown_and_unfittable_names_are_fit_errors_with_suggestions():
    scene = small_scene()
    with pytest.raises(FitError, match="materials.coton.density: unknown parameter; did you mean "
                                       "'materials.cotton.density'"):
        cloth.scene_parameter_space(scene, ["materials.coton.density"])
    with pytest.raises(FitError, match="cloth.spacing: cannot be fitted"):
        cloth.scene_parameter_space(scene, ["cloth.spacing"])
    with pytest.raises(FitError, match="listed twice"):
        cloth.scene_parameter_space(scene, ["weave.friction", "weave.friction"])
    with pytest.raises(FitError, match="exclude the initial value 0.5"):
        cloth.scene_parameter_space(scene, ["weave.friction"], bounds={"weave.friction": (0.6, 1.0)})
    with pytest.raises(FitError, match="bounds given for weave.drag"):
        cloth.scene_parameter_space(scene, ["weave.friction"], bounds={"weave.drag": (0.1, 1.0)})
    space = cloth.scene_parameter_space(scene, ["pins.0.stiffness", "wind.velocity[1]"])
    assert space.names == ("pins[0].stiffness", "wind.velocity.1")
    assert [p.transform for p in space.parameters] == ["log", "box"]


def test_bounds_and_initial_values_must_be_values_the_scene_accepts():
    """Bounds may not reach 0 for a quantity that must be > 0, nor below 0 for one that must be >= 0."""
    scene = small_scene()
    for name, bounds, message in (
            ("materials.cotton.density", (-1e-3, 1.0), r"bounds \[-0.001, 1\] reach values <= 0, but it must be > 0"),
            ("materials.cotton.density", (0.0, 1.0), r"bounds \[0, 1\] reach values <= 0, but it must be > 0"),
            ("weave.friction", (-0.5, 1.0), r"bounds \[-0.5, 1\] reach values < 0, but it must be >= 0")):
        with pytest.raises(FitError, match=message):
            cloth.scene_parameter_space(scene, [name], bounds={name: bounds})
    # a coefficient that may be 0 may have 0 as its (open) lower bound: fitted on a linear scale
    friction = cloth.scene_parameter_space(scene, ["weave.friction"], bounds={"weave.friction": (0.0, 1.0)})
    assert friction.parameters[0].transform == "box"
    with pytest.raises(FitError, match=r"initial value: materials.cotton.density = -0.002 is out of range: "
                                       "expected a value > 0"):
        cloth.scene_parameter_space(scene, ["materials.cotton.density"], initial={"materials.cotton.density": -0.002})


# -- derivatives ---------------------------------------------------------------------------------------
def test_reverse_gradient_matches_central_differences_and_forward_jvps(problem):
    """∇h·v by reverse mode, by the batched forward differences (value_and_jvp) and by central differences
    of h agree to 1e-6 for random directions over all 13 parameters of 8 families."""
    objective, space = problem
    theta = torch.as_tensor(space.initial_theta())
    value, grad = objective.value_and_grad(theta)
    assert value == pytest.approx(objective.value(theta), rel=1e-12)
    tangents = torch.as_tensor(np.random.default_rng(1).normal(size=(3, space.dim)))
    jvp_value, jvps = objective.value_and_jvp(theta, tangents)
    assert jvp_value == pytest.approx(value, rel=1e-12)
    reverse = (tangents @ grad).numpy()
    step = 1e-5
    central = np.array([(objective.value(theta + step * v) - objective.value(theta - step * v)) / (2 * step)
                        for v in tangents])
    np.testing.assert_allclose(reverse, central, rtol=1e-6)
    np.testing.assert_allclose(jvps.numpy(), central, rtol=1e-6)
    values = objective.values(torch.stack([theta, theta + step * tangents[0]]))
    assert float(values[0]) == pytest.approx(value, rel=1e-12)


def test_the_default_forward_estimate_is_the_reverse_mode_gradient_and_reuses_a_kept_jacobian(problem):
    """For up to 16 parameters the forward estimator's default is every coordinate tangent (13 here): one
    rollout of 27 worlds gives the reverse-mode gradient to 1e-7. After residual_jacobian at the same θ
    (a fit's whitening) the estimate is read off that Jacobian without simulating again, and agrees."""
    objective, space = problem
    theta = torch.as_tensor(space.initial_theta())
    estimator = make_estimator("forward", dim=space.dim)
    assert estimator.directions == "all"
    value, exact = objective.value_and_grad(theta)
    before = objective.evaluations
    forward = estimator(objective, theta)
    assert objective.evaluations - before == 2 * space.dim + 1
    assert forward.value == pytest.approx(value, rel=1e-12)
    assert float((forward.grad - exact).norm() / exact.norm()) < 1e-7
    objective.residual_jacobian(theta)
    before = objective.evaluations
    kept = estimator(objective, theta)
    assert objective.evaluations == before and kept.value == forward.value
    assert float((kept.grad - exact).norm() / exact.norm()) < 1e-7


def test_truncated_gradients_are_exact_for_long_windows_and_biased_but_aligned_for_short_ones(problem):
    """Truncated reverse mode on the cloth: a window of all steps is the exact gradient, 0 steps is zero
    (no explicit dependence on θ), and 5 of the 15 steps gives a different gradient that still points
    the same way (cosine > 0.9)."""
    objective, space = problem
    theta = torch.as_tensor(space.initial_theta())
    value, exact = objective.value_and_grad(theta)
    full = Truncated(steps=objective.steps)(objective, theta)
    assert full.value == pytest.approx(value, rel=1e-14)
    torch.testing.assert_close(full.grad, exact, rtol=1e-12, atol=0.0)
    assert torch.count_nonzero(Truncated(steps=0)(objective, theta).grad) == 0
    short = Truncated(steps=5)(objective, theta).grad
    cosine = float(short @ exact / (short.norm() * exact.norm()))
    assert 0.9 < cosine and float((short - exact).norm() / exact.norm()) > 1e-3, cosine


def test_residuals_are_the_loss_and_the_jacobian_is_its_gradient(problem):
    objective, space = problem
    theta = space.initial_theta()
    residuals, jacobian = objective.residual_jacobian(theta)
    assert jacobian.shape == (residuals.size, space.dim)
    value, grad = objective.value_and_grad(torch.as_tensor(theta))
    assert residuals @ residuals == pytest.approx(value, rel=1e-12)
    grad = grad.numpy()
    np.testing.assert_allclose(2 * jacobian.T @ residuals, grad, rtol=1e-5, atol=1e-7 * np.abs(grad).max())


def test_reference_quirks_allow_forward_differences_but_refuse_reverse_mode():
    scene = small_scene((5, 5))
    observations = cloth.observations_from_trajectory(synthetic(scene, 4), scene)
    space = cloth.scene_parameter_space(scene, ["weave.shear_modulus"], initial={"weave.shear_modulus": 900.0})
    objective = cloth.ClothObjective(scene, observations, space, reference_quirks=("friction",))
    theta = torch.as_tensor(space.initial_theta())
    value, jvp = objective.value_and_jvp(theta, torch.ones(1, 1, dtype=torch.float64))
    assert value > 0 and float(jvp[0]) != 0.0
    with pytest.raises(ValueError, match="gradients need the model's physics"):
        objective.value_and_grad(theta)


# -- observations --------------------------------------------------------------------------------------
def test_observations_are_checked_against_the_scene():
    scene = small_scene((5, 5))
    trajectory = synthetic(scene, 4)
    ok = cloth.observations_from_trajectory(trajectory, scene, frame_indices=[0, 2, 4], noise=1e-6, sliding=False)
    assert list(ok.steps) == [0, 2, 4] and ok.sliding is None and ok.noise == 1e-6
    assert 0 < np.abs(ok.positions - trajectory.x[0, [0, 2, 4]]).max() < 1e-5

    def error(trajectory, match, scene=scene, **options):
        with pytest.raises(FitError, match=match):
            cloth.observations_from_trajectory(trajectory, scene, **options)

    error(trajectory, r"grid of 5 x 5 nodes does not match the scene's 6 x 5", scene=small_scene((6, 5)))
    shifted = scenes.Trajectory(x=trajectory.x, u=trajectory.u, t=trajectory.t + 0.0005, path="late.npz")
    error(shifted, r"late.npz: frame times do not match the scene's dt = 0.001 s .* t\[0\] = 0.0005 s")
    x = trajectory.x.copy()
    x[0, 3, 2, 2, 1] = np.nan
    error(scenes.Trajectory(x=x, u=trajectory.u, t=trajectory.t, path="nan.npz"),
          "nan.npz: array 'x' holds NaN or Inf in frame 3")
    error(trajectory, "frames = 9 is out of range: the file has 5 frame", frames=9)
    error(trajectory, "1 m away from the rest state .* do not start from this scene",
          scene=small_scene((5, 5), **{"cloth.origin": [0, 0, 4.0]}))
    error(trajectory, "node mask must have shape", nodes=np.ones((4, 4), dtype=bool))
    error(trajectory, r"frames = 1 is out of range: expected at least 2 \(the first frame is the initial", frames=1)
    error(trajectory, r"the kept frames hold no motion \(only t = 0", frame_indices=[0])
    for noise in (-1e-6, float("nan"), float("inf")):
        error(trajectory, "expected a standard deviation >= 0", noise=noise)
    mask = cloth.random_crossings((17, 17), 0.2, seed=3)
    assert mask.sum() == 45 and not mask[0].any() and not mask[:, -1].any()


# -- recovery ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("example", "slipping"), [("slipping_wind", True), ("hanging_wind", False)])
def test_friction_is_recovered_where_crossings_slip_and_reported_undetermined_where_they_stick(example, slipping):
    """7x7 cloth, 20 frames of positions with 1e-6 m noise, friction and shear modulus started 30% off. With
    slippery crossings (slipping_wind) the friction coefficient is recovered within 3% and known to 3%; with
    the reference values the crossings stick, nothing observable depends on it, and the fit says so."""
    base = scenes.load_scene(scenes.__path__[0] + f"/examples/{example}.toml", check_device=False)
    scene = scenes.with_parameters(base, {"cloth.nodes": [7, 7], "simulation.device": "cpu"})
    observations = cloth.observations_from_trajectory(synthetic(scene, 20), scene, noise=1e-6, sliding=False,
                                                      seed=1)
    names = ["weave.friction", "weave.shear_modulus"]
    truth = np.array([float(scenes.get_parameter(scene, n)) for n in names])
    space = cloth.scene_parameter_space(scene, names, initial=dict(zip(names, truth * [1.3, 0.7], strict=True)))
    fit = cloth.fit_scene(scene, observations, space, optimization=cloth.Optimization("gauss-newton", iterations=8))
    error = fit.result.values / truth - 1.0
    spread = fit.result.uncertainty.relative_std
    print(f"{example}: relative errors {error}, relative std {spread}")
    if slipping:
        assert np.all(np.abs(error) <= 0.03) and np.all(spread <= 0.03), (error, spread)
    else:
        assert abs(error[1]) <= 0.03 and spread[1] <= 0.03, (error, spread)
        assert spread[0] > 1.0, spread  # undetermined: its standard deviation exceeds its value

RECOVERED = ["materials.cotton.density", "materials.cotton.young_modulus", "materials.polyester.bending_modulus",
             "weave.shear_modulus"]


@pytest.fixture(scope="module")
def recovery():
    scene = small_scene()
    truth = np.array([float(scenes.get_parameter(scene, n)) for n in RECOVERED])
    observations = cloth.observations_from_trajectory(synthetic(scene, 20), scene)
    initial = {n: v * (1.3 if k % 2 else 0.7) for k, (n, v) in enumerate(zip(RECOVERED, truth, strict=True))}
    return scene, observations, initial, truth


@pytest.mark.parametrize(("estimator", "optimizer", "iterations", "tolerance"), [
    ("reverse", "gauss-newton", 8, 1e-6),
    ("reverse", "sgd", 15, 5e-6),  # stops by the convergence rule after 8 iterations
    ("forward", "sgd", 40, 1e-4),
    ("zeroth", "sgd", 40, 1e-4),
    ("two-phase", "sgd", 20, 1e-5),
    ("truncated", "sgd", 50, 1e-4),
])
def test_fit_recovers_known_parameters_from_synthetic_observations(recovery, estimator, optimizer, iterations,
                                                                   tolerance):
    """7x7 cloth, 20 frames, 4 parameters started 30% off (density, Young's and bending moduli, shear)."""
    scene, observations, initial, truth = recovery
    fit = cloth.fit_scene(scene, observations, cloth.scene_parameter_space(scene, RECOVERED, initial=initial),
                          estimation=cloth.Estimation(estimator, directions=2),
                          optimization=cloth.Optimization(optimizer, iterations=iterations))
    error = np.abs(fit.result.values / truth - 1.0)
    print(f"{estimator} + {optimizer}: relative errors {error}, {fit.result.minimization.iterations} iterations, "
          f"{sum(fit.result.seconds.values()):.1f} s")
    assert error.max() <= tolerance
    for name, value in zip(RECOVERED, fit.result.values, strict=True):
        assert float(scenes.get_parameter(fit.scene, name)) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("estimator", ["forward", "zeroth", "two-phase"])
def test_the_default_forward_zeroth_and_two_phase_fits_recover_known_parameters_and_stop(recovery, estimator):
    """7x7 cloth, 20 frames, 4 parameters started 30% off, everything else default: all coordinate directions,
    L-BFGS, and a stop when the Gauss-Newton step left is negligible."""
    scene, observations, initial, truth = recovery
    fit = cloth.fit_scene(scene, observations, cloth.scene_parameter_space(scene, RECOVERED, initial=initial),
                          estimation=cloth.Estimation(estimator, switch_at=3))
    result = fit.result
    error = np.abs(result.values / truth - 1.0)
    print(f"{estimator} defaults: relative errors {error}, {result.minimization.iterations} iterations, "
          f"{sum(result.seconds.values()):.1f} s, {result.minimization.reason}")
    assert result.optimizer == "lbfgs" and "'all'" in result.estimator
    assert error.max() <= 1e-5
    assert result.minimization.stopped == "converged" and result.minimization.iterations < 30
    if estimator == "two-phase":  # forward-mode gradients for 3 estimates, reverse mode after
        assert {item.info["phase"] for item in result.minimization.history} == {1, 2}
