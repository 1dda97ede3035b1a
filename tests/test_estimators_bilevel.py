"""Estimators on bilevel toys: ridge regression trained by T unrolled gradient-descent steps.

Inner problem (the unrolled bilevel setting of (FG)²U, Shen et al. NeurIPS 2024):
w_0 = 0, w_t = w_{t−1} − η·[Xᵀ(s ⊙ (Xw − y))/n + λ ⊙ w],
with per-example weights s and per-feature ridge coefficients λ set by the meta parameters φ.

Facts checked:
- Truncated(s = T) equals ReverseUnroll; Truncated(s) equals the TRGU formula
  Σ_{t=T−s+1}^{T} B_tᵀ (Aᵀ)^{T−t} d_T, and its bias obeys ‖bias‖ ≤ q^s/(1 − q)·‖d_T‖·max‖B_t‖, q = ‖A‖.
- ForwardGradient is unbiased for the hypergradient of data reweighting and obeys the Rademacher law.
- Forward gradients drive Adam / AdaPNM (and a two-phase schedule) to the ridge coefficients
  that generated an observed inner trajectory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
import torch

from learning.estimators import (
    ForwardGradient,
    ReverseUnroll,
    Truncated,
    TwoPhase,
    UnrolledTorchObjective,
    assign_grad,
)
from learning.optim import AdaPNM

DTYPE = torch.float64
ETA = 0.3  # inner step size η
# torch.func's own decompositions call the deprecated torch.jit.script; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


@dataclass(frozen=True)
class RidgeData:
    """Training set (x [n, d], y [n]) and validation set (x_val, y_val) of a linear model."""

    x: torch.Tensor
    y: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor

    @staticmethod
    def make(*, n: int, d: int, flipped: float = 0.0, seed: int = 0) -> RidgeData:
        """y = x·w_true + noise; a fraction ``flipped`` of training targets has its sign flipped."""
        gen = torch.Generator().manual_seed(seed)
        w_true = torch.tensor([1.0, -1.2, 0.8, 1.5, -0.6, 0.9], dtype=DTYPE)[:d]
        x = torch.randn(n, d, generator=gen, dtype=DTYPE)
        x_val = torch.randn(2 * n, d, generator=gen, dtype=DTYPE)
        y = x @ w_true + 0.1 * torch.randn(n, generator=gen, dtype=DTYPE)
        y[: int(flipped * n)] *= -1.0
        return RidgeData(x, y, x_val, x_val @ w_true)

    def gd_step(
        self, w: torch.Tensor, *, weights: torch.Tensor | float, l2: torch.Tensor | float
    ) -> torch.Tensor:
        """One inner gradient step on ½·mean(s·(xw − y)²) + ½·Σ λ w²."""
        residual = self.x @ w - self.y
        return w - ETA * (self.x.T @ (weights * residual) / self.x.shape[0] + l2 * w)

    def validation_loss(self, w: torch.Tensor) -> torch.Tensor:
        return 0.5 * (self.x_val @ w - self.y_val).square().mean()


def ridge_coefficient_objective(data: RidgeData, steps: int) -> UnrolledTorchObjective:
    """h(φ) = validation loss of w_T, with λ = exp(φ) per feature (N = d)."""
    d = data.x.shape[1]
    return UnrolledTorchObjective(
        init=lambda phi: torch.zeros(d, dtype=DTYPE),
        inner_step=lambda w, phi, t: data.gd_step(w, weights=1.0, l2=torch.exp(phi)),
        outer_loss=lambda w, phi: data.validation_loss(w),
        steps=steps,
        dim=d,
    )


def reweighting_objective(data: RidgeData, steps: int) -> UnrolledTorchObjective:
    """h(φ) = validation loss of w_T, with example weights 2·sigmoid(φ) and λ = 0.1 (N = n)."""
    d, n = data.x.shape[1], data.x.shape[0]
    return UnrolledTorchObjective(
        init=lambda phi: torch.zeros(d, dtype=DTYPE),
        inner_step=lambda w, phi, t: data.gd_step(w, weights=2.0 * torch.sigmoid(phi), l2=0.1),
        outer_loss=lambda w, phi: data.validation_loss(w),
        steps=steps,
        dim=n,
    )


def trajectory_fit_objective(data: RidgeData, observed: torch.Tensor) -> UnrolledTorchObjective:
    """h(φ) = (1/T)·Σ_t ‖w_t(φ) − w_t^obs‖², λ = exp(φ); the state carries the running misfit."""
    steps, d = observed.shape

    def inner_step(state: tuple[torch.Tensor, torch.Tensor], phi: torch.Tensor, t: int):
        w, misfit = state
        w = data.gd_step(w, weights=1.0, l2=torch.exp(phi))
        return w, misfit + (w - observed[t - 1]).square().sum()

    return UnrolledTorchObjective(
        init=lambda phi: (torch.zeros(d, dtype=DTYPE), torch.zeros((), dtype=DTYPE)),
        inner_step=inner_step,
        outer_loss=lambda state, phi: state[1] / steps,
        steps=steps,
        dim=d,
    )


def test_truncated_with_all_steps_equals_reverse_unroll():
    data = RidgeData.make(n=24, d=4)
    objective = ridge_coefficient_objective(data, steps=12)
    phi = torch.tensor([-1.0, 0.0, 0.5, -0.3], dtype=DTYPE)
    exact = ReverseUnroll()(objective, phi)
    for s in (12, 50):
        truncated = Truncated(steps=s)(objective, phi)
        torch.testing.assert_close(truncated.grad, exact.grad, rtol=1e-13, atol=0)
        assert truncated.value == exact.value


def test_truncated_matches_the_trgu_formula_and_its_bias_bound():
    """Closed form for the quadratic inner problem: A = I − ηH, B_t = −η·diag(λ ⊙ w_{t−1}), d_T = ∂f/∂w_T."""
    data, steps = RidgeData.make(n=24, d=4), 30
    objective = ridge_coefficient_objective(data, steps=steps)
    phi = torch.tensor([-1.0, 0.0, 0.5, -0.3], dtype=DTYPE)
    lam = torch.exp(phi)
    hessian = data.x.T @ data.x / data.x.shape[0] + torch.diag(lam)
    a_matrix = torch.eye(4, dtype=DTYPE) - ETA * hessian
    q = torch.linalg.matrix_norm(a_matrix, ord=2).item()
    trajectory = [torch.zeros(4, dtype=DTYPE)]
    for _ in range(steps):
        trajectory.append(data.gd_step(trajectory[-1], weights=1.0, l2=lam))
    d_final = data.x_val.T @ (data.x_val @ trajectory[-1] - data.y_val) / data.x_val.shape[0]
    b_matrices = [-ETA * torch.diag(lam * trajectory[t - 1]) for t in range(1, steps + 1)]  # B_1..B_T

    def trgu(s: int) -> torch.Tensor:
        terms = [
            b_matrices[t - 1].T @ torch.linalg.matrix_power(a_matrix.T, steps - t) @ d_final
            for t in range(steps - s + 1, steps + 1)
        ]
        return torch.stack(terms).sum(0) if terms else torch.zeros(4, dtype=DTYPE)

    exact = ReverseUnroll()(objective, phi).grad
    torch.testing.assert_close(trgu(steps), exact, rtol=1e-12, atol=0)
    bound_scale = d_final.norm().item() * max(torch.linalg.matrix_norm(b, ord=2).item() for b in b_matrices)
    errors = {}
    for s in (0, 1, 2, 5, 10, 20, 30):
        estimate = Truncated(steps=s)(objective, phi).grad
        torch.testing.assert_close(estimate, trgu(s), rtol=1e-12, atol=1e-15)
        errors[s] = (estimate - exact).norm().item()
        bound = q**s / (1 - q) * bound_scale
        assert errors[s] <= bound, f"s={s}: bias {errors[s]:.3e} above the bound {bound:.3e} (q={q:.3f})"
    print(f"q = {q:.4f}, ‖bias‖ by s: {errors}")
    values = list(errors.values())
    assert all(later < earlier for earlier, later in zip(values, values[1:], strict=False)), errors
    assert errors[30] == 0.0 and errors[10] < 0.1 * errors[1], errors


def test_forward_gradient_is_unbiased_for_data_reweighting_and_obeys_the_rademacher_law():
    """Mean of 400 FG estimates (b = 4) → RGU hypergradient; E‖ĝ − g‖² = (N−1)/b·‖g‖² within 15 %."""
    data = RidgeData.make(n=16, d=4, flipped=0.3, seed=1)
    objective = reweighting_objective(data, steps=10)
    phi = torch.zeros(16, dtype=DTYPE)
    exact = ReverseUnroll()(objective, phi).grad
    estimator, reps, b = ForwardGradient(directions=4), 400, 4
    generator = torch.Generator().manual_seed(7)
    estimates = torch.stack([estimator(objective, phi, generator=generator).grad for _ in range(reps)])
    z = (estimates.mean(0) - exact) / (estimates.std(0) / math.sqrt(reps))
    squared_errors = (estimates - exact).square().sum(1)
    predicted = (16 - 1) / b * exact.square().sum().item()
    ratio = squared_errors.mean().item() / predicted
    relative_se = squared_errors.std().item() / math.sqrt(reps) / predicted
    print(
        f"max |z| {z.abs().max():.2f}; E‖ĝ−g‖² measured {squared_errors.mean():.4e}, predicted "
        f"{predicted:.4e}, ratio {ratio:.4f} ± {relative_se:.4f}"
    )
    assert z.abs().max() < 4.5, f"z-scores {z.tolist()}"
    assert relative_se < 0.0375, f"too few repetitions, relative s.e. {relative_se:.3f}"
    assert abs(ratio - 1) < 0.15, f"measured/predicted = {ratio:.4f} ± {relative_se:.4f}"


def adam(params, lr):
    return torch.optim.Adam(params, lr=lr)


def adapnm(params, lr):
    return AdaPNM(params, lr=lr)


def fit_observed_trajectory(estimator, make_optimizer, lr: float, *, seed: int, iterations: int = 200):
    """Fit λ = exp(φ) to w_1..w_10 generated with λ* = (0.3, 0.6, 1.0, 1.5), from λ = 1.

    Returns (max |φ − log λ*|, loss at the start, loss at the end).
    """
    data = RidgeData.make(n=32, d=4)
    phi_true = torch.tensor([0.3, 0.6, 1.0, 1.5], dtype=DTYPE).log()
    observed, w = [], torch.zeros(4, dtype=DTYPE)
    for _ in range(10):
        w = data.gd_step(w, weights=1.0, l2=torch.exp(phi_true))
        observed.append(w)
    objective = trajectory_fit_objective(data, torch.stack(observed))
    phi = torch.nn.Parameter(torch.zeros(4, dtype=DTYPE))
    optimizer = make_optimizer([phi], lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda k: 0.5 * (1.0 + math.cos(math.pi * k / iterations))
    )
    generator = torch.Generator().manual_seed(seed)
    start_loss = objective.value(phi.detach())
    for _ in range(iterations):
        estimate = estimator(objective, phi.detach(), generator=generator)
        optimizer.zero_grad()
        assign_grad([phi], estimate.grad)
        optimizer.step()
        scheduler.step()
    return (phi.detach() - phi_true).abs().max().item(), start_loss, objective.value(phi.detach())


@pytest.mark.parametrize(
    ("make_estimator", "make_optimizer", "lr"),
    [
        (lambda: ForwardGradient(directions=4), adam, 0.1),
        (lambda: ForwardGradient(directions=4), adapnm, 0.1),
        (lambda: TwoPhase(Truncated(steps=3), ForwardGradient(directions=4), switch_at=60), adam, 0.1),
    ],
    ids=["fg-adam", "fg-adapnm", "two-phase-adam"],
)
def test_forward_gradient_fit_recovers_the_ridge_coefficients_of_an_observed_trajectory(
    make_estimator, make_optimizer, lr
):
    """Synthetic observations of the inner trajectory; recover log λ* to 0.01 from a start 0.4–1.2 away."""
    error, start_loss, final_loss = fit_observed_trajectory(make_estimator(), make_optimizer, lr, seed=1)
    print(f"loss {start_loss:.3e} → {final_loss:.3e}; max |φ − φ*| = {error:.2e}")
    assert error < 1e-2, f"max |φ − φ*| = {error:.3e}"
    assert final_loss < 1e-4 * start_loss, f"loss {start_loss:.3e} → {final_loss:.3e}"
