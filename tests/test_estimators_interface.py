"""The estimator interface: objective capabilities, clear errors, TwoPhase scheduling, assign_grad."""

from __future__ import annotations

import pytest
import torch

from learning.estimators import (
    DirectionDistribution,
    Estimate,
    ForwardGradient,
    Objective,
    ObjectiveWithGrad,
    ObjectiveWithJvp,
    ObjectiveWithTruncatedGrad,
    ObjectiveWithValues,
    ReverseUnroll,
    TorchObjective,
    Truncated,
    TwoPhase,
    ZerothOrder,
    assign_grad,
    sample_directions,
)

DTYPE = torch.float64
# torch.func's own decompositions call the deprecated torch.jit.script; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def rosenbrock(x: torch.Tensor) -> torch.Tensor:
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


class ValueOnly:
    """The smallest objective: a dimension and a value."""

    dim = 3

    def value(self, theta: torch.Tensor) -> float:
        return float(rosenbrock(theta))


def test_torch_objective_modes_agree_with_each_other():
    """value_and_jvp rows equal ∇h·v_i from value_and_grad; values rows equal value(); dtype stays float64."""
    objective = TorchObjective(rosenbrock, dim=5)
    gen = torch.Generator().manual_seed(0)
    theta = torch.randn(5, generator=gen, dtype=DTYPE)
    tangents = torch.randn(6, 5, generator=gen, dtype=DTYPE)
    value, grad = objective.value_and_grad(theta)
    jvp_value, derivatives = objective.value_and_jvp(theta, tangents)
    assert value == pytest.approx(float(rosenbrock(theta)), rel=1e-15) and jvp_value == pytest.approx(value)
    torch.testing.assert_close(derivatives, tangents @ grad, rtol=1e-12, atol=1e-12)
    points = theta + 0.1 * tangents
    torch.testing.assert_close(objective.values(points), torch.stack([rosenbrock(p) for p in points]))
    assert grad.dtype == derivatives.dtype == DTYPE
    chunked = TorchObjective(rosenbrock, dim=5, chunk_size=2)
    torch.testing.assert_close(chunked.value_and_jvp(theta, tangents)[1], derivatives, rtol=1e-14, atol=0)


def test_objectives_report_their_capabilities_through_the_protocols():
    torch_objective = TorchObjective(rosenbrock, dim=3)
    for capability in (Objective, ObjectiveWithGrad, ObjectiveWithJvp, ObjectiveWithValues):
        assert isinstance(torch_objective, capability), capability.__name__
    assert not isinstance(torch_objective, ObjectiveWithTruncatedGrad)
    assert isinstance(ValueOnly(), Objective)
    assert not isinstance(ValueOnly(), ObjectiveWithGrad | ObjectiveWithJvp | ObjectiveWithValues)


@pytest.mark.parametrize(
    ("estimator", "objective", "missing"),
    [
        (ReverseUnroll(), ValueOnly(), "value_and_grad"),
        (ForwardGradient(), ValueOnly(), "value_and_jvp"),
        (Truncated(steps=2), TorchObjective(rosenbrock, dim=3), "value_and_truncated_grad"),
    ],
)
def test_missing_capability_raises_a_type_error_naming_the_method(estimator, objective, missing):
    with pytest.raises(TypeError, match=missing):
        estimator(objective, torch.zeros(3, dtype=DTYPE), generator=torch.Generator())


def test_bad_inputs_raise_clear_errors():
    objective = TorchObjective(rosenbrock, dim=3)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        ReverseUnroll()(objective, torch.zeros(4, dtype=DTYPE))
    with pytest.raises(TypeError, match="floating"):
        ReverseUnroll()(objective, torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="generator"):
        ForwardGradient()(objective, torch.zeros(3, dtype=DTYPE))
    with pytest.raises(ValueError, match="directions"):
        ZerothOrder(directions=0)
    with pytest.raises(ValueError, match="not a valid DirectionDistribution"):
        ForwardGradient(distribution="uniform")


def test_estimators_are_reproducible_from_the_generator_and_leave_the_global_rng_alone():
    objective = TorchObjective(rosenbrock, dim=3)
    theta = torch.tensor([0.5, -0.2, 1.0], dtype=DTYPE)
    torch.manual_seed(123)
    global_state = torch.get_rng_state()
    first = ForwardGradient(directions=3)(objective, theta, generator=torch.Generator().manual_seed(9))
    second = ForwardGradient(directions=3)(objective, theta, generator=torch.Generator().manual_seed(9))
    assert torch.equal(torch.get_rng_state(), global_state)
    torch.testing.assert_close(first.grad, second.grad, rtol=0, atol=0)
    assert first.info["directions"].shape == (3, 3) and first.info["derivatives"].shape == (3,)


@pytest.mark.parametrize("distribution", list(DirectionDistribution))
def test_sampled_directions_have_identity_second_moment(distribution):
    """(1/R) Σ v vᵀ → I within 5 standard errors (each entry of v vᵀ has variance ≤ N)."""
    reps, dim = 20000, 5
    directions = sample_directions(
        reps, dim, distribution=distribution, generator=torch.Generator().manual_seed(4)
    )
    second_moment = directions.T @ directions / reps
    error = (second_moment - torch.eye(dim, dtype=DTYPE)).abs().max().item()
    assert error < 5 * (dim / reps) ** 0.5, f"{distribution}: max |E[vvᵀ] − I| = {error:.3e}"
    if distribution is not DirectionDistribution.GAUSSIAN:
        torch.testing.assert_close(directions.square().sum(1), torch.full((reps,), float(dim), dtype=DTYPE))


class Recording:
    """A fake estimator that returns a constant gradient and counts its calls."""

    def __init__(self, fill: float) -> None:
        self.fill, self.calls = fill, 0

    def __call__(self, objective, theta, *, generator=None) -> Estimate:
        self.calls += 1
        return Estimate(
            value=float(self.fill), grad=torch.full_like(theta, self.fill), info={"fill": self.fill}
        )


def test_two_phase_switches_after_k_calls_and_reset_starts_over():
    first, second = Recording(1.0), Recording(2.0)
    scheduler = TwoPhase(first, second, switch_at=3)
    objective, theta = ValueOnly(), torch.zeros(3, dtype=DTYPE)
    phases = [scheduler(objective, theta).info["phase"] for _ in range(6)]
    assert phases == [1, 1, 1, 2, 2, 2], phases
    assert (first.calls, second.calls, scheduler.calls) == (3, 3, 6)
    scheduler.reset()
    assert scheduler(objective, theta).info == {"fill": 1.0, "phase": 1}
    assert TwoPhase(first, second, switch_at=0)(objective, theta).info["phase"] == 2


def test_two_phase_callable_rule_sees_the_call_count_and_last_estimate_and_never_switches_back():
    seen = []

    def rule(calls: int, last: Estimate | None) -> bool:
        seen.append((calls, None if last is None else last.info["phase"]))
        return calls == 2

    scheduler = TwoPhase(Recording(1.0), Recording(2.0), switch_at=rule)
    grads = [scheduler(ValueOnly(), torch.zeros(3, dtype=DTYPE)).grad[0].item() for _ in range(5)]
    assert grads == [1.0, 1.0, 2.0, 2.0, 2.0], grads
    assert seen == [(0, None), (1, 1), (2, 1)], f"the rule is asked only in phase one: {seen}"


def test_assign_grad_feeds_estimates_to_torch_optimizers_including_lbfgs():
    """ReverseUnroll + assign_grad inside an LBFGS closure finds the quadratic's minimiser."""
    gen = torch.Generator().manual_seed(1)
    weight = torch.nn.Parameter(torch.randn(2, 3, generator=gen, dtype=DTYPE))
    bias = torch.nn.Parameter(torch.randn(4, generator=gen, dtype=DTYPE))
    target = torch.arange(10, dtype=DTYPE)
    scales = torch.linspace(1.0, 3.0, 10, dtype=DTYPE)
    objective = TorchObjective(lambda x: 0.5 * (scales * (x - target) ** 2).sum(), dim=10)
    optimizer = torch.optim.LBFGS(
        [weight, bias],
        lr=1.0,
        max_iter=50,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )

    def closure() -> float:
        flat = torch.nn.utils.parameters_to_vector([weight, bias])
        estimate = ReverseUnroll()(objective, flat)
        assign_grad([weight, bias], estimate.grad)
        return estimate.value

    optimizer.step(closure)
    torch.testing.assert_close(
        torch.nn.utils.parameters_to_vector([weight, bias]).detach(), target, rtol=0, atol=1e-8
    )
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        assign_grad([weight, bias], torch.zeros(9, dtype=DTYPE))
