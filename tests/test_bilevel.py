"""Bilevel problems on the shared estimators: ridge regression with per-feature ridge coefficients λ = exp(φ) or
per-example weights, trained by T inner gradient steps on mini-batches drawn once per meta step.

Facts checked: the implicit-function estimators against the closed-form hypergradient at the inner minimum
(dw*/dφ_k = −H⁻¹ e_k λ_k w*_k with H = XᵀX/n + diag λ); the Neumann series converges to it geometrically and its
first term is the Hessian-free estimate; one meta step's batches are common to every evaluation; 4096 forward-
gradient directions point along the reverse-unroll meta-gradient (cosine ≥ 0.99) on a stochastic problem.
"""

from __future__ import annotations

import math

import pytest
import torch

from learning.bilevel import HessianFree, ImplicitCG, ImplicitNeumann, bilevel_objective
from learning.estimators import ForwardGradient, ReverseUnroll, TorchObjective, ZerothOrder
from tests.test_estimators_bilevel import DTYPE, ETA, RidgeData

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


class RidgeProblem:
    """Inner: gradient steps on g = ½ mean_batch (xw − y)² + ½ Σ s λ w² ... with λ = exp(φ) per feature
    (``meta="ridge"``, N = d) or example weights 2 sigmoid(φ) and λ = 0.1 (``meta="weights"``, N = n); outer: the
    validation loss. ``batch_size`` None: full batches."""

    def __init__(self, data: RidgeData, *, meta: str = "ridge", batch_size: int | None = None) -> None:
        self.data, self.meta, self.batch_size = data, meta, batch_size
        self.dim = data.x.shape[1] if meta == "ridge" else data.x.shape[0]

    def _coefficients(self, phi: torch.Tensor, batch):
        n = self.data.x.shape[0]
        if self.meta == "ridge":
            weights, l2 = torch.ones(n, dtype=DTYPE), torch.exp(phi)
        else:
            weights, l2 = 2.0 * torch.sigmoid(phi), torch.tensor(0.1, dtype=DTYPE)
        index = torch.arange(n) if batch is None else batch
        return index, weights[index], l2

    def init_inner(self, meta):
        return torch.zeros(self.data.x.shape[1], dtype=DTYPE)

    def inner_loss(self, w, meta, batch):
        index, weights, l2 = self._coefficients(meta, batch)
        residual = self.data.x[index] @ w - self.data.y[index]
        return 0.5 * (weights * residual.square()).mean() + 0.5 * (l2 * w.square()).sum()

    def inner_step(self, w, meta, step, batch):
        return w - ETA * torch.func.grad(self.inner_loss)(w, meta, batch)

    def outer_loss(self, w, meta):
        return self.data.validation_loss(w)

    def sample_inner_batches(self, steps, generator):
        n = self.data.x.shape[0]
        if self.batch_size is None:
            return [None] * steps
        return [torch.randperm(n, generator=generator)[: self.batch_size] for _ in range(steps)]


def closed_form_hypergradient(data: RidgeData, phi: torch.Tensor) -> torch.Tensor:
    """∇h at the inner minimum w* of ½ mean (xw − y)² + ½ Σ λ w², λ = exp(φ)."""
    n = data.x.shape[0]
    lam = torch.exp(phi)
    hessian = data.x.T @ data.x / n + torch.diag(lam)
    w_star = torch.linalg.solve(hessian, data.x.T @ data.y / n)
    d = data.x_val.T @ (data.x_val @ w_star - data.y_val) / data.x_val.shape[0]
    return -torch.linalg.solve(hessian, d) * lam * w_star


PHI = torch.tensor([0.2, -0.5, 0.0, 0.4], dtype=DTYPE)


def test_implicit_cg_is_the_closed_form_hypergradient_at_the_inner_minimum():
    data = RidgeData.make(n=24, d=4, seed=3)
    objective = bilevel_objective(RidgeProblem(data), steps=300)
    exact = closed_form_hypergradient(data, PHI)
    estimate = ImplicitCG(iterations=10)(objective, PHI)
    assert estimate.info["iterations"] <= 4  # CG solves a 4 x 4 system in at most 4 iterations
    assert estimate.info["residual"] < 1e-10
    assert torch.allclose(estimate.grad, exact, rtol=1e-9, atol=1e-12)
    # reverse unrolling of a converged inner loop reaches the same meta-gradient
    assert torch.allclose(ReverseUnroll()(objective, PHI).grad, exact, rtol=1e-8, atol=1e-12)
    assert estimate.value == pytest.approx(objective.value(PHI), rel=1e-14)


def test_neumann_series_converges_geometrically_and_starts_hessian_free():
    data = RidgeData.make(n=24, d=4, seed=3)
    objective = bilevel_objective(RidgeProblem(data), steps=300)
    exact = ImplicitCG(iterations=10)(objective, PHI).grad
    errors = [(ImplicitNeumann(alpha=ETA, terms=k)(objective, PHI).grad - exact).norm().item()
              for k in (0, 10, 20, 40, 80)]
    assert all(b < a for a, b in zip(errors, errors[1:], strict=False))
    assert errors[-1] < 1e-8 * exact.norm().item()
    # the error shrinks by the same factor (the spectral radius of I − αH) every 20 terms, within 10%
    ratios = [errors[k + 1] / errors[k] for k in (1, 2)]
    assert ratios[1] == pytest.approx(ratios[0] ** 2, rel=0.1)
    free = HessianFree(alpha=ETA)(objective, PHI)
    assert torch.equal(free.grad, ImplicitNeumann(alpha=ETA, terms=0)(objective, PHI).grad)
    assert free.info["estimator"] == "hessian_free"


def test_a_meta_step_fixes_its_batches_for_every_evaluation():
    data = RidgeData.make(n=32, d=4, flipped=0.3, seed=1)
    problem = RidgeProblem(data, meta="weights", batch_size=8)
    phi = torch.zeros(32, dtype=DTYPE)
    first = bilevel_objective(problem, steps=20, generator=torch.Generator().manual_seed(5))
    again = bilevel_objective(problem, steps=20, generator=torch.Generator().manual_seed(5))
    other = bilevel_objective(problem, steps=20, generator=torch.Generator().manual_seed(6))
    assert first.value(phi) == again.value(phi) != other.value(phi)
    # every direction of one forward-gradient call sees the same h: its value is the objective's
    estimate = ForwardGradient(directions=8)(first, phi, generator=torch.Generator().manual_seed(0))
    assert estimate.value == first.value(phi)


def test_many_forward_gradient_directions_point_along_the_reverse_unroll_meta_gradient():
    data = RidgeData.make(n=32, d=4, flipped=0.3, seed=1)
    objective = bilevel_objective(RidgeProblem(data, meta="weights", batch_size=8), steps=20,
                                  generator=torch.Generator().manual_seed(2))
    phi = torch.zeros(32, dtype=DTYPE)
    exact = ReverseUnroll()(objective, phi).grad
    estimate = ForwardGradient(directions=4096)(objective, phi, generator=torch.Generator().manual_seed(3)).grad
    cosine = float(estimate @ exact / (estimate.norm() * exact.norm()))
    # the Rademacher law: E‖ĝ − g‖² = (N − 1)/b ‖g‖², so the cosine is about (1 + 31/4096)^(-1/2) = 0.996
    assert cosine >= 0.99
    relative = float((estimate - exact).norm() / exact.norm())
    assert relative == pytest.approx(math.sqrt(31 / 4096), rel=0.35)


def test_implicit_estimators_say_what_they_need():
    plain = TorchObjective(lambda theta: theta.square().sum(), dim=3)
    with pytest.raises(TypeError, match="value_and_implicit_parts"):
        ImplicitCG()(plain, torch.zeros(3, dtype=DTYPE))
    with pytest.raises(ValueError, match="alpha must be > 0"):
        ImplicitNeumann(alpha=0.0)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        bilevel_objective(RidgeProblem(RidgeData.make(n=8, d=2)), steps=0)


# -- the hyper-cleaning task ----------------------------------------------------------------------------------------


def test_hypercleaning_is_a_bilevel_problem_whose_weights_find_the_flipped_labels():
    from learning.bilevel import BilevelProblem
    from learning.tasks._digits import flip_labels, load_digits_split
    from learning.tasks.hypercleaning import HyperCleaning, Settings, run

    data = load_digits_split(train=100, validation=50, seed=0)
    labels, flipped = flip_labels(data.y_train, fraction=0.5, generator=torch.Generator().manual_seed(0))
    assert isinstance(HyperCleaning(data, labels, batch_size=32, step_size=1.0, l2=1e-3), BilevelProblem)
    assert int(flipped.sum()) == 50 and bool((labels[flipped] != data.y_train[flipped]).all())
    assert bool((labels[~flipped] == data.y_train[~flipped]).all())
    baseline = run(Settings(estimator="none", depth=50, meta_steps=0, train=300, validation=200))
    cleaned = run(Settings(estimator="RGU", depth=50, meta_steps=20, train=300, validation=200))
    # the meta-gradient down-weights most wrong labels, keeps most right ones, and the classifier gains from it
    assert cleaned["flipped_down_weighted"] > 0.8 and cleaned["clean_kept"] > 0.8
    assert cleaned["test_accuracy"] > baseline["test_accuracy"] + 0.02


def test_forward_gradient_memory_does_not_grow_with_the_inner_depth_while_reverse_unrolling_does():
    from learning.tasks.hypercleaning import Settings, _run_isolated

    def peak(name: str, depth: int) -> float:
        settings = Settings(estimator=name, depth=depth, meta_steps=2, train=600, validation=300)
        return _run_isolated(settings)["peak_memory_bytes"] / 2**20  # MiB, measured in a fresh process

    reverse = peak("RGU", 400) - peak("RGU", 25)
    forward = peak("FG2U", 400) - peak("FG2U", 25)
    assert reverse > 30.0  # the unrolled graph: about 0.2 MiB per inner step
    assert forward < 0.25 * reverse


# -- PDE coefficient discovery --------------------------------------------------------------------------------------


def test_burgers_solver_conserves_mass_and_decays_energy():
    from learning.tasks.pde_discovery import solve_burgers

    u = solve_burgers(torch.tensor([0.05, 0.2], dtype=DTYPE), torch.tensor([1.0, 1.0], dtype=DTYPE), points=64,
                      steps=100, duration=1.0, save_every=10)
    # periodic central differences conserve the mean (zero here) exactly; viscosity dissipates the energy,
    # the more viscous world faster
    assert u.mean(dim=2).abs().max() < 1e-12
    energy = u.square().mean(dim=2)
    assert bool((energy[:, 1:] < energy[:, :-1]).all()) and energy[1, -1] < energy[0, -1]


def test_zeroth_order_discovers_the_viscosity_within_two_percent():
    from learning.tasks.pde_discovery import BurgersDiscovery, Settings, run

    # the estimator's derivative agrees with the misfit's slope, from values only
    objective = BurgersDiscovery(Settings())
    theta = torch.log(torch.tensor([0.08], dtype=DTYPE))
    estimate = ZerothOrder(directions="all", step=1e-4)(objective, theta)
    slope = (objective.value(theta + 1e-3) - objective.value(theta - 1e-3)) / 2e-3
    assert float(estimate.grad[0]) == pytest.approx(slope, rel=1e-4)
    report = run(Settings(meta_steps=150))
    assert abs(report["coefficients"]["viscosity"]["relative_error"]) < 0.02
    assert report["final_loss"] < 1.5 * report["noise_floor"]


# -- data condensation ----------------------------------------------------------------------------------------------


def test_condensed_images_teach_fresh_networks_better_than_real_ones():
    from learning.bilevel import BilevelProblem
    from learning.tasks._digits import load_digits_split
    from learning.tasks.condensation import Condensation, Settings, run

    data = load_digits_split(train=200, validation=1, seed=0)
    assert isinstance(Condensation(data, per_class=1, step_size=0.5), BilevelProblem)
    settings = dict(per_class=1, depth=20, meta_steps=15, evaluations=3, train=600)
    real = run(Settings(method="random real", **settings))
    condensed = run(Settings(method="RGU", **settings))
    # one learned image per class beats one real image per class for networks it never saw (other initialisations)
    assert condensed["outer_losses"][-1] < condensed["outer_losses"][0]
    assert condensed["test_accuracy"] > real["test_accuracy"] + 0.05
