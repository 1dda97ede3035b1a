"""learning.fit on plain torch functions: parameter spaces, whitening, the loop, Gauss–Newton uncertainty.

The same estimator classes and the same ``fit`` serve the cloth; here every check has an exact answer.
"""

import math

import numpy as np
import pytest
import torch

from learning.estimators import EvaluationFailed, ForwardGradient, ReverseUnroll, Truncated, TwoPhase, ZerothOrder
from learning.fit import (
    ALL_DIRECTIONS_UP_TO,
    REWHITEN,
    Bounded,
    Convergence,
    FitError,
    ParameterSpace,
    Preconditioned,
    default_bounds,
    default_optimizer,
    default_rewhiten,
    first_axis_along,
    fit,
    gauss_newton,
    gauss_newton_uncertainty,
    make_estimator,
    minimize,
    whitening,
)


class ExponentialDecay:
    """Least squares h(θ) = |r(θ)|² of y = a·exp(−k t) + c against data, with every objective capability
    from torch.func, and residual Jacobians. θ are the coordinates of ``space``."""

    def __init__(self, space: ParameterSpace, t: np.ndarray, y: np.ndarray):
        self.space, self.dim = space, space.dim
        self.t, self.y = torch.as_tensor(t), torch.as_tensor(y)
        lo = torch.as_tensor(space._lo)
        width = torch.as_tensor(space._width)
        log = torch.as_tensor(space._log)

        def residuals(theta):
            scaled = lo + width * torch.sigmoid(theta)
            a, k, c = torch.where(log, torch.exp(scaled), scaled)
            return a * torch.exp(-k * self.t) + c - self.y

        self.r = residuals

    def h(self, theta):
        r = self.r(theta)
        return (r * r).sum()

    def value(self, theta):
        return float(self.h(theta))

    def values(self, thetas):
        return torch.func.vmap(self.h)(thetas)

    def value_and_grad(self, theta):
        grad, value = torch.func.grad_and_value(self.h)(theta)
        return float(value), grad

    def value_and_jvp(self, theta, tangents):
        jvps = torch.func.vmap(lambda v: torch.func.jvp(self.h, (theta,), (v,))[1])(tangents)
        return self.value(theta), jvps

    def residual_jacobian(self, theta):
        theta = torch.as_tensor(theta, dtype=torch.float64)
        return self.r(theta).numpy(), torch.func.jacfwd(self.r)(theta).numpy()


TRUTH = np.array([2.0, 30.0, 0.5])  # a [-], k [1/s], c [-]


def decay_problem(noise=0.0, seed=0, start=(1.4, 0.6, 0.7)):
    t = np.linspace(0.0, 0.1, 40)
    y = TRUTH[0] * np.exp(-TRUTH[1] * t) + TRUTH[2]
    y = y + np.random.default_rng(seed).normal(scale=noise, size=t.shape) if noise else y
    space = ParameterSpace([default_bounds(n, v * s) for n, v, s in zip("akc", TRUTH, start, strict=True)])
    return ExponentialDecay(space, t, y), space


# -- parameter spaces ------------------------------------------------------------------------------------
def test_log_and_box_coordinates_map_back_stay_in_bounds_and_have_the_right_derivative():
    space = ParameterSpace([Bounded("k", 3e5, 1e3, 1e8, "log"), Bounded("w", -2.0, -10.0, 4.0, "box")])
    values = np.array([[3e5, -2.0], [1.0001e3, 3.999], [7.7e7, -9.5]])
    np.testing.assert_allclose(space.to_values(space.to_theta(values)), values, rtol=1e-10)
    np.testing.assert_allclose(space.to_values(space.initial_theta()), [3e5, -2.0], rtol=1e-12)
    extreme = space.to_values(np.array([[-60.0, -60.0], [60.0, 60.0]]))
    assert np.all(extreme[0] >= [1e3, -10.0]) and np.all(extreme[1] <= [1e8, 4.0])
    theta, h = np.array([0.3, -1.2]), 1e-6
    central = (space.to_values(theta + h) - space.to_values(theta - h)) / (2 * h)
    np.testing.assert_allclose(space.derivative(theta), central, rtol=1e-8)
    # a step in a log coordinate is a relative change, whatever the magnitude of the value
    wide = ParameterSpace([Bounded("E", 5e5, 5e3, 5e7, "log"), Bounded("B", 1.4e-4, 1.4e-6, 1.4e-2, "log")])
    ratios = wide.to_values(np.array([0.1, 0.1])) / wide.initial
    assert ratios[0] == pytest.approx(ratios[1], rel=1e-12)


@pytest.mark.parametrize(("parameter", "message"), [
    (lambda: Bounded("weave.friction", 0.5, 0.6, 2.0), "bounds [0.6, 2] exclude the initial value 0.5"),
    (lambda: Bounded("k", 1.0, 2.0, 1.0), "bounds [2, 1] are empty"),
    (lambda: Bounded("k", 1.0, -1.0, 2.0, "log"), "log transform needs bounds > 0"),
    (lambda: Bounded("k", 1.0, 0.5, 2.0, "logit"), "transform 'logit' is unknown"),
    (lambda: Bounded("k", math.nan, 0.5, 2.0), "must be finite"),
    (lambda: default_bounds("weave.friction", 0.0), "initial value 0 is not > 0: give its bounds"),
])
def test_bad_bounds_are_fit_errors(parameter, message):
    with pytest.raises(FitError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parameter()


def test_default_bounds():
    positive = default_bounds("k", 4.0)
    assert (positive.lower, positive.upper, positive.transform) == (0.04, 400.0, "log")
    signed = default_bounds("w", -3.0, signed=True)
    assert (signed.lower, signed.upper, signed.transform) == (-33.0, 27.0, "box")


# -- whitening ---------------------------------------------------------------------------------------------
def test_whitening_turns_an_ill_conditioned_linear_problem_into_one_gauss_newton_step():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 4)) * np.array([1e3, 1.0, 1e-2, 1e-6])  # columns over 9 orders of magnitude
    a[:, 1] += 0.999 * a[:, 0] / 1e3  # and strongly correlated
    solution = rng.normal(size=4)
    b = a @ solution
    white = whitening(a @ np.zeros(4) - b, a, cutoff=1e-24)
    assert white.kept == 4
    m = white.matrix
    np.testing.assert_allclose(m.T @ (2 * a.T @ a) @ m / white.value_scale, np.eye(4), atol=1e-8)
    gradient = m.T @ (2 * a.T @ (-b)) / white.value_scale
    assert np.linalg.norm(gradient) == pytest.approx(1.0)
    # turned so that the first axis points along the Gauss–Newton step: still whitened, and the gradient
    # is ±e_1, so a unit step against it is that step
    turned = first_axis_along(m, gradient)
    np.testing.assert_allclose(turned.T @ (2 * a.T @ a) @ turned / white.value_scale, np.eye(4), atol=1e-8)
    along = turned.T @ (2 * a.T @ (-b)) / white.value_scale
    np.testing.assert_allclose(np.abs(along), [1.0, 0.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(turned @ -along, solution, rtol=1e-6)
    np.testing.assert_allclose(m @ -gradient, solution, rtol=1e-6)
    # directions below the cutoff are left out
    assert whitening(-b, a, cutoff=1e-12).kept == 3


def test_preconditioned_objective_chains_gradients_jvps_and_values_through_the_matrix():
    objective, space = decay_problem()
    rng = np.random.default_rng(2)
    origin, matrix = rng.normal(size=3) * 0.1, rng.normal(size=(3, 2))
    problem = Preconditioned(objective, origin=origin, matrix=matrix, value_scale=4.0)
    z = torch.tensor([0.05, -0.02], dtype=torch.float64)
    theta = torch.as_tensor(origin) + torch.as_tensor(matrix) @ z
    value, grad = problem.value_and_grad(z)
    assert value == pytest.approx(objective.value(theta) / 4.0, rel=1e-14)
    np.testing.assert_allclose(grad, matrix.T @ objective.value_and_grad(theta)[1].numpy() / 4.0, rtol=1e-12)
    tangents = torch.as_tensor(rng.normal(size=(3, 2)))
    np.testing.assert_allclose(problem.value_and_jvp(z, tangents)[1], tangents @ grad, rtol=1e-10)
    np.testing.assert_allclose(problem.values(torch.stack([z, 2 * z]))[0], value, rtol=1e-14)


# -- the loop and fit ------------------------------------------------------------------------------------
FAR, NEAR = (1.4, 0.6, 0.7), (1.1, 0.9, 1.1)


@pytest.mark.parametrize(("estimator", "optimizer", "lr", "start", "tolerance"), [
    (ReverseUnroll(), "sgd", None, FAR, 1e-10),
    (ReverseUnroll(), "lbfgs", None, FAR, 1e-10),
    (ReverseUnroll(), "pnm", None, FAR, 1e-3),
    (ReverseUnroll(), "adam", 0.3, FAR, 1e-3),
    (ReverseUnroll(), "adapnm", 0.3, FAR, 1e-3),
    (None, "gauss-newton", None, FAR, 1e-10),
    (ForwardGradient(directions=2), "sgd", None, NEAR, 1e-6),
    (ForwardGradient(directions=2), "pnm", None, NEAR, 1e-2),
    (ForwardGradient(directions=2), "adam", None, NEAR, 5e-2),
    (ZerothOrder(directions=2, step=1e-6), "sgd", None, NEAR, 1e-4),
    (ZerothOrder(directions=2, step=1e-6), "lbfgs", None, NEAR, 1e-3),
])
def test_fit_recovers_a_torch_model_with_every_estimator_and_optimizer(estimator, optimizer, lr, start, tolerance):
    """y = a exp(-k t) + c, noise-free, 60 iterations in Gauss–Newton-whitened coordinates: exact gradients
    from 30-40% off, stochastic ones (2 random directions for 3 parameters) from 10% off. Plain gradient
    steps there are Gauss–Newton steps; the adaptive optimizers' sign-like steps are slower. (All 60
    iterations run: no convergence test stops them at the default 1e-6 in θ.)"""
    objective, space = decay_problem(start=start)
    result = fit(objective, space, estimator=estimator, optimizer=optimizer, lr=lr, iterations=60, convergence=None)
    error = np.abs(result.values / TRUTH - 1.0)
    assert error.max() <= tolerance, (optimizer, error, result.minimization.stopped)
    assert result.minimization.loss < 1e-3 * result.minimization.initial_loss
    history = result.value_history
    assert history.shape == (len(result.minimization.history), 3)
    np.testing.assert_allclose(history[0], space.initial)


def test_gauss_newton_uncertainty_matches_the_scatter_of_repeated_noisy_fits():
    """The predicted standard deviations equal the spread of the fitted values over 200 noise draws (+-15%),
    and the residual scale estimates the noise."""
    noise = 0.02
    fitted, predicted, scales = [], [], []
    for seed in range(200):
        objective, space = decay_problem(noise=noise, seed=seed, start=(1.0, 1.0, 1.0))
        result = fit(objective, space, optimizer="gauss-newton", iterations=8)
        fitted.append(result.values)
        predicted.append(result.uncertainty.std)
        scales.append(result.uncertainty.residual_rms)
    np.testing.assert_allclose(np.std(fitted, axis=0), np.mean(predicted, axis=0), rtol=0.15)
    assert np.mean(scales) == pytest.approx(noise, rel=0.05)


def test_undetermined_parameters_show_huge_standard_deviations():
    space = ParameterSpace([Bounded("a", 1.0, 0.01, 100.0), Bounded("b", 1.0, 0.01, 100.0)])
    jacobian = np.array([[1.0, 0.0], [0.0, 0.0], [2.0, 0.0]])
    report = gauss_newton_uncertainty(np.array([0.1, -0.1, 0.05]), jacobian, space=space, theta=np.zeros(2))
    assert report.relative_std[0] < 1.0 < 1e10 < report.relative_std[1]
    assert np.isfinite(report.relative_std).all()


def test_minimize_returns_the_best_point_so_far_on_ctrl_c():
    objective, space = decay_problem()
    calls = {"n": 0}
    original = objective.value_and_grad

    def interrupted(theta):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return original(theta)

    objective.value_and_grad = interrupted
    result = minimize(objective, space.initial_theta(), estimator=ReverseUnroll(), optimizer="adam", iterations=50,
                      lr=0.01)
    assert result.interrupted and len(result.history) == 5
    assert result.loss == min(item.loss for item in result.history) < result.initial_loss


def test_a_callback_stops_the_fit_and_unknown_names_are_fit_errors():
    objective, space = decay_problem()
    result = fit(objective, space, estimator=ReverseUnroll(), optimizer="adam", iterations=50,
                 callback=lambda item: item.estimates >= 4)
    assert result.minimization.stopped == "callback" and len(result.minimization.history) == 4
    with pytest.raises(FitError, match="optimizer 'rmsprop' is unknown"):
        fit(objective, space, estimator=ReverseUnroll(), optimizer="rmsprop")
    with pytest.raises(FitError, match="estimator 'backward' is unknown"):
        make_estimator("backward")


# -- defaults and stopping ---------------------------------------------------------------------------------
def test_few_parameters_get_all_directions_and_l_bfgs_many_get_random_directions_and_sgd():
    for name in ("forward", "zeroth"):
        few = make_estimator(name, dim=ALL_DIRECTIONS_UP_TO)
        many = make_estimator(name, dim=ALL_DIRECTIONS_UP_TO + 1)
        asked = make_estimator(name, dim=3, directions=4)
        assert (few.directions, many.directions, asked.directions) == ("all", 4, 4)
        assert (default_optimizer(few), default_optimizer(many), default_optimizer(asked)) == ("lbfgs", "sgd", "sgd")
    two_phase = make_estimator("two-phase", dim=6, switch_at=3)
    assert isinstance(two_phase, TwoPhase) and two_phase.first.directions == "all"
    assert default_optimizer(two_phase) == "lbfgs"
    assert default_optimizer(ReverseUnroll()) == "lbfgs" and default_optimizer(Truncated(steps=3)) == "sgd"
    # an estimate over all directions costs a Jacobian: whitened rounds of one iteration, else of REWHITEN
    assert default_rewhiten(make_estimator("forward", dim=3)) == default_rewhiten(two_phase) == 1
    assert default_rewhiten(make_estimator("forward", dim=3), whitened=False) == REWHITEN
    sampled = make_estimator("zeroth", dim=3, directions=2)
    assert default_rewhiten(sampled) == default_rewhiten(ReverseUnroll()) == REWHITEN
    with pytest.raises(TypeError, match="dim="):
        make_estimator("forward")


@pytest.mark.parametrize("name", ["reverse", "forward", "zeroth", "two-phase"])
@pytest.mark.parametrize("start", [FAR, (1.3, 0.7, 1.3)])
def test_the_default_estimators_converge_and_stop_by_themselves(name, start):
    """Each estimator with its defaults (all directions and L-BFGS for 3 parameters) recovers y = a exp(-k t) + c
    from 30-40% off and stops as converged, long before the iteration limit, saying why."""
    objective, space = decay_problem(start=start)
    estimator = make_estimator(name, dim=space.dim, switch_at=4)
    result = fit(objective, space, estimator=estimator, optimizer=default_optimizer(estimator), iterations=60)
    error = np.abs(result.values / TRUTH - 1.0)
    minimization = result.minimization
    assert error.max() <= 1e-5, (name, error, minimization.reason)
    assert minimization.stopped == "converged" and minimization.iterations <= 20, minimization
    assert "Gauss-Newton step left" in minimization.reason
    if name == "two-phase":
        assert {item.info["phase"] for item in minimization.history} == {1, 2}


class FailsSometimes(ExponentialDecay):
    """An objective whose evaluations number ``failing`` (counting from 1) raise EvaluationFailed, as a simulator
    does at parameters where its rollout is unstable."""

    def __init__(self, space, t, y, *, failing):
        super().__init__(space, t, y)
        self.failing, self.calls = set(failing), 0

    def value_and_jvp(self, theta, tangents):
        self.calls += 1
        if self.calls in self.failing:
            raise EvaluationFailed(f"evaluation {self.calls} was unstable")
        return super().value_and_jvp(theta, tangents)


def test_a_fit_backs_off_from_trial_points_that_cannot_be_evaluated_and_still_converges():
    plain, space = decay_problem(start=FAR)
    objective = FailsSometimes(space, plain.t.numpy(), plain.y.numpy(), failing=(2, 3))
    estimator = make_estimator("forward", dim=space.dim)
    result = fit(objective, space, estimator=estimator, optimizer="lbfgs", iterations=60)
    assert result.failed_evaluations == 2
    assert np.abs(result.values / TRUTH - 1.0).max() <= 1e-5, result.minimization.reason
    assert result.minimization.stopped == "converged", result.minimization.reason
    # the starting point itself failing leaves nothing to go back to: the error reaches the caller
    with pytest.raises(EvaluationFailed, match="evaluation 1 was unstable"):
        fit(FailsSometimes(space, plain.t.numpy(), plain.y.numpy(), failing=(1,)), space, estimator=estimator,
            optimizer="lbfgs", iterations=5)


def test_a_noisy_fit_stops_within_a_fraction_of_a_standard_deviation_and_without_a_rule_runs_every_iteration():
    objective, space = decay_problem(noise=0.02, start=FAR)
    forward = make_estimator("forward", dim=space.dim)
    stopped = fit(objective, space, estimator=forward, optimizer="lbfgs", iterations=60)
    assert stopped.minimization.stopped == "converged", stopped.minimization.reason
    assert "standard deviations" in stopped.minimization.reason
    exhaustive = fit(objective, space, estimator=forward, optimizer="lbfgs", iterations=60, convergence=None)
    assert exhaustive.minimization.stopped in ("iterations", "converged")
    assert exhaustive.minimization.iterations > stopped.minimization.iterations
    # stopping early changed the estimate by far less than its standard deviation
    change = np.abs(stopped.values - exhaustive.values) / stopped.uncertainty.std
    assert change.max() < 0.05, change


def test_convergence_is_a_negligible_gauss_newton_step_in_either_sense():
    rule = Convergence(step=1e-6, deviations=1e-2)
    tiny = np.array([1e-7, -5e-7])
    assert "moves no coordinate" in rule.reason(step=tiny, decrease=1.0, loss=2.0, dof=10)
    # a step of 0.005 standard deviations: decrease / (residual variance) = 0.005^2
    variance = 1.0 / 100
    assert "standard deviations" in rule.reason(step=np.ones(2), decrease=0.005**2 * variance, loss=1.0, dof=100)
    assert rule.reason(step=np.ones(2), decrease=0.05**2 * variance, loss=1.0, dof=100) is None
    assert rule.reason(step=np.ones(2), decrease=1.0, loss=1.0, dof=100) is None  # zero residual left: no spread
    with pytest.raises(ValueError, match="tolerances"):
        Convergence(step=-1.0)


def test_gauss_newton_stops_when_its_step_is_negligible():
    objective, space = decay_problem(start=FAR)
    result = gauss_newton(objective, space.initial_theta(), iterations=30)
    assert result.stopped == "converged" and "Gauss-Newton step left" in result.reason
    assert result.iterations < 15
    np.testing.assert_allclose(space.to_values(result.theta), TRUTH, rtol=1e-8)
