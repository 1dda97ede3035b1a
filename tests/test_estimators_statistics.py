"""Statistics of the random-direction estimators on a plain torch function with a known gradient.

h(θ) = ½θᵀAθ + Σ log cosh θ_i + cᵀθ,  ∇h = Aθ + tanh θ + c,  N = 10.

Facts checked (the forward-gradient variance law of Shen et al., NeurIPS 2024, and Baydin et al. 2022):
- ForwardGradient is unbiased: the mean of R estimates is within Monte-Carlo error of ∇h.
- Its error obeys E‖ĝ − ∇h‖² = c_dist/b·‖∇h‖², c = N−1 (Rademacher, coordinate) or N+1 (Gaussian).
- ZerothOrder with the same directions tends to the forward-gradient estimate like μ² (central)
  or μ (forward differences).
"""

from __future__ import annotations

import math

import pytest
import torch

from learning.estimators import ForwardGradient, TorchObjective, ZerothOrder

DTYPE = torch.float64
N = 10
# torch.func's own decompositions call the deprecated torch.jit.script; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def make_problem() -> tuple[TorchObjective, torch.Tensor, torch.Tensor]:
    """The objective, a point θ and the exact gradient there."""
    gen = torch.Generator().manual_seed(11)
    factor = torch.randn(N, N, generator=gen, dtype=DTYPE) / math.sqrt(N)
    matrix = factor @ factor.T + 0.5 * torch.eye(N, dtype=DTYPE)
    linear = torch.randn(N, generator=gen, dtype=DTYPE)
    theta = torch.randn(N, generator=gen, dtype=DTYPE)

    def h(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x @ matrix @ x + torch.log(torch.cosh(x)).sum() + linear @ x

    gradient = matrix @ theta + torch.tanh(theta) + linear
    return TorchObjective(h, dim=N), theta, gradient


# (distribution, b, repetitions, law constant c in E‖ĝ − ∇h‖² = c/b·‖∇h‖²)
CASES = {
    "rademacher-b1": ("rademacher", 1, 2500, N - 1),
    "rademacher-b8": ("rademacher", 8, 800, N - 1),
    "gaussian-b8": ("gaussian", 8, 1200, N + 1),
    "coordinate-b4": ("coordinate", 4, 1500, N - 1),
}


@pytest.fixture(scope="module")
def samples() -> dict[str, torch.Tensor]:
    """R forward-gradient estimates [shape (R, N)] per case, each case from its own seeded generator."""
    objective, theta, _ = make_problem()
    out = {}
    for seed, (name, (distribution, b, reps, _)) in enumerate(CASES.items()):
        estimator = ForwardGradient(directions=b, distribution=distribution)
        generator = torch.Generator().manual_seed(100 + seed)
        out[name] = torch.stack([estimator(objective, theta, generator=generator).grad for _ in range(reps)])
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_forward_gradient_is_unbiased(case, samples):
    """Every coordinate of the sample mean lies within 4.5 standard errors of the true gradient."""
    _, _, gradient = make_problem()
    estimates = samples[case]
    standard_error = estimates.std(dim=0) / math.sqrt(estimates.shape[0])
    z = (estimates.mean(dim=0) - gradient) / standard_error
    print(
        f"{case}: max |z| = {z.abs().max():.2f}, relative error of the mean "
        f"{(estimates.mean(0) - gradient).norm() / gradient.norm():.3e}"
    )
    assert z.abs().max() < 4.5, f"{case}: z-scores {z.tolist()}"


@pytest.mark.parametrize("case", list(CASES))
def test_forward_gradient_error_follows_the_variance_law(case, samples):
    """Mean of ‖ĝ − ∇h‖² over R repetitions is within 10 % of c/b·‖∇h‖² (and R makes that ≥ 4 s.e.)."""
    _, _, gradient = make_problem()
    _, b, reps, law = CASES[case]
    squared_errors = ((samples[case] - gradient) ** 2).sum(dim=1)
    predicted = law / b * gradient.square().sum().item()
    ratio = squared_errors.mean().item() / predicted
    relative_se = squared_errors.std().item() / math.sqrt(reps) / predicted
    print(
        f"{case}: measured {squared_errors.mean():.4e}, predicted {predicted:.4e}, "
        f"ratio {ratio:.4f} ± {relative_se:.4f}"
    )
    assert relative_se < 0.025, f"{case}: too few repetitions, relative s.e. {relative_se:.3f}"
    assert abs(ratio - 1) < 0.10, f"{case}: measured/predicted = {ratio:.4f} ± {relative_se:.4f}"


@pytest.mark.parametrize(("central", "order"), [(True, 2), (False, 1)])
def test_zeroth_order_tends_to_the_forward_gradient_as_step_shrinks(central, order):
    """Same seed → same directions; ‖ĝ_ZO − ĝ_FG‖ shrinks by ≈10^order per decade of μ."""
    objective, theta, _ = make_problem()
    forward = ForwardGradient(directions=8, distribution="gaussian")
    reference = forward(objective, theta, generator=torch.Generator().manual_seed(5)).grad
    errors = []
    for step in (1e-1, 1e-2, 1e-3):
        zeroth = ZerothOrder(directions=8, step=step, distribution="gaussian", central=central)
        estimate = zeroth(objective, theta, generator=torch.Generator().manual_seed(5))
        errors.append((estimate.grad - reference).norm().item() / reference.norm().item())
    rates = [math.log10(errors[i] / errors[i + 1]) for i in range(2)]
    print(f"central={central}: relative differences {errors}, decades per decade {rates}")
    assert errors[-1] < 10.0 ** (-2 * order - 0.5), errors
    assert all(abs(rate - order) < 0.15 for rate in rates), f"convergence orders {rates}, expected {order}"


def test_zeroth_order_on_a_value_only_black_box_matches_the_batched_path():
    """An objective with only `dim` and `value` works, one evaluation per point, same numbers."""
    objective, theta, _ = make_problem()

    class BlackBox:
        dim = N

        def __init__(self) -> None:
            self.calls = 0

        def value(self, x: torch.Tensor) -> float:
            self.calls += 1
            return objective.value(x)

    black_box = BlackBox()
    zeroth = ZerothOrder(directions=3, step=1e-3)
    batched = zeroth(objective, theta, generator=torch.Generator().manual_seed(2))
    looped = zeroth(black_box, theta, generator=torch.Generator().manual_seed(2))
    assert black_box.calls == 7 == looped.info["evaluations"]
    torch.testing.assert_close(looped.grad, batched.grad, rtol=1e-12, atol=1e-12)
    assert looped.value == pytest.approx(objective.value(theta), rel=1e-14)


def test_all_coordinate_directions_give_the_exact_gradient_without_a_generator():
    """directions="all": the N coordinate directions √N·e_i, each once, so (1/N) Σ (∇h·v_i) v_i = ∇h: the
    forward estimate equals the reverse-mode gradient to rounding, the central zeroth-order one to O(μ²),
    from 2N + 1 evaluations; neither draws random numbers."""
    objective, theta, gradient = make_problem()
    forward = ForwardGradient(directions="all")(objective, theta)
    torch.testing.assert_close(forward.grad, gradient, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(forward.info["directions"], math.sqrt(N) * torch.eye(N, dtype=DTYPE))
    zeroth = ZerothOrder(directions="all", step=1e-4)(objective, theta)
    assert zeroth.info["evaluations"] == 2 * N + 1
    assert (zeroth.grad - gradient).norm() / gradient.norm() < 1e-7
    coarse = ZerothOrder(directions="all", step=1e-3)(objective, theta).grad
    ratio = (coarse - gradient).norm() / (zeroth.grad - gradient).norm()
    assert 50 < ratio < 200, f"central differences: 10x the step gives {ratio:.1f}x the error, expected ~100x"
    assert not ForwardGradient(directions="all").sampled and ForwardGradient(directions=3).sampled
    assert repr(ForwardGradient(directions="all")) == "ForwardGradient(directions='all')"


@pytest.mark.parametrize("directions", [0, -2, "some", 2.5, True])
def test_a_direction_count_is_a_positive_integer_or_all(directions):
    for estimator in (ForwardGradient, ZerothOrder):
        with pytest.raises(ValueError, match="directions must be an int >= 1 or 'all'"):
            estimator(directions=directions)
