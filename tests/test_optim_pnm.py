"""PNM and AdaPNM (Xie et al., ICML 2021) against the update rules of the paper (Algorithms 1 and 2: alternating
positive and negative momentum buffers, their combination with gamma, and AdaPNM's Adam-style scaling)."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from learning.optim import PNM, AdaPNM

DTYPE = torch.float64


def gamma(beta0: float) -> float:
    """Γ = (1 + β0)² + β0², the noise amplification of the positive-negative combination."""
    return (1.0 + beta0) ** 2 + beta0**2


def smooth_loss(theta: torch.Tensor) -> torch.Tensor:
    """A non-quadratic loss, so that the gradient sequence depends on the trajectory."""
    return (torch.log(torch.cosh(theta - 0.3)) + 0.1 * theta**4).sum()


def run_steps(optimizer: torch.optim.Optimizer, param: torch.Tensor, steps: int) -> list[torch.Tensor]:
    """Take ``steps`` steps on smooth_loss; return the gradients seen."""
    grads = []
    for _ in range(steps):
        optimizer.zero_grad()
        smooth_loss(param).backward()
        grads.append(param.grad.detach().clone())
        optimizer.step()
    return grads


def test_pnm_with_beta0_zero_is_ema_momentum_with_two_interleaved_buffers():
    """β0 = 0: θ_{t+1} = θ_t − lr·(1 − β1²)·Σ_{k ≤ t, k ≡ t mod 2} β1^(t−k)·g_k, in closed form."""
    lr, beta1, steps = 0.2, 0.8, 25
    param = torch.tensor([1.5, -0.7, 0.2], dtype=DTYPE, requires_grad=True)
    optimizer = PNM([param], lr, betas=(beta1, 0.0))
    reference = param.detach().clone()
    grads: list[torch.Tensor] = []
    worst = 0.0
    for t in range(1, steps + 1):
        reference_param = reference.clone().requires_grad_(True)
        smooth_loss(reference_param).backward()
        grads.append(reference_param.grad.detach())
        momentum = sum((beta1 ** (t - k)) * grads[k - 1] for k in range(t, 0, -2))
        reference = reference - lr * (1.0 - beta1**2) * momentum
        optimizer.zero_grad()
        smooth_loss(param).backward()
        optimizer.step()
        worst = max(worst, (param.detach() - reference).abs().max().item())
    assert worst < 1e-13, f"PNM(β0=0) departs from interleaved EMA momentum by {worst:.3e}"


def test_pnm_parity_swap_negative_buffer_is_zero_after_step_one():
    """Step 1 refreshes the odd buffer only (the negative one stays 0); step 2 refreshes the even buffer."""
    lr, beta1, beta0 = 0.1, 0.9, 1.0
    param = torch.tensor([0.4, -1.1], dtype=DTYPE, requires_grad=True)
    start = param.detach().clone()
    optimizer = PNM([param], lr, betas=(beta1, beta0))
    g1 = run_steps(optimizer, param, 1)[0]
    state = optimizer.state[param]
    assert state["step"] == 1
    assert torch.count_nonzero(state["momentum_even"]) == 0, f"negative buffer {state['momentum_even']}"
    torch.testing.assert_close(state["momentum_odd"], (1 - beta1**2) * g1, rtol=0, atol=1e-15)
    expected = start - lr * (1 + beta0) * (1 - beta1**2) * g1 / math.sqrt(gamma(beta0))
    torch.testing.assert_close(param.detach(), expected, rtol=0, atol=1e-15)

    before = param.detach().clone()
    g2 = run_steps(optimizer, param, 1)[0]
    torch.testing.assert_close(state["momentum_odd"], (1 - beta1**2) * g1, rtol=0, atol=1e-15)
    torch.testing.assert_close(state["momentum_even"], (1 - beta1**2) * g2, rtol=0, atol=1e-15)
    direction = ((1 + beta0) * (1 - beta1**2) * g2 - beta0 * (1 - beta1**2) * g1) / math.sqrt(gamma(beta0))
    torch.testing.assert_close(param.detach(), before - lr * direction, rtol=0, atol=1e-15)


def test_adapnm_noise_norm_uses_beta0_not_beta2():
    """After one step, |Δθ| = lr·(1+β1)·(1+β0)/√Γ(β0) per coordinate; the old bug would use Γ(β2)."""
    lr, beta1, beta2, beta0 = 0.01, 0.9, 0.5, 3.0
    param = torch.tensor([0.7, -2.0, 0.05], dtype=DTYPE, requires_grad=True)
    start = param.detach().clone()
    optimizer = AdaPNM([param], lr, betas=(beta1, beta2, beta0), eps=0.0)
    grad = run_steps(optimizer, param, 1)[0]
    # m⁺ = (1−β1²)g, m⁻ = 0, √v/√(1−β2) = |g|, bias correction 1/(1−β1).
    measured = (start - param.detach()) / torch.sign(grad)
    with_beta0 = lr * (1 + beta1) * (1 + beta0) / math.sqrt(gamma(beta0))
    with_beta2 = lr * (1 + beta1) * (1 + beta0) / math.sqrt(gamma(beta2))
    print(f"step {measured.tolist()}, predicted with β0 {with_beta0:.6g}, with β2 {with_beta2:.6g}")
    torch.testing.assert_close(measured, torch.full_like(measured, with_beta0), rtol=1e-13, atol=0)
    assert abs(with_beta2 / with_beta0 - 1) > 1.0, "test case does not separate the two normalisations"


def test_adapnm_defaults_match_the_reference():
    param = torch.zeros(2, dtype=DTYPE, requires_grad=True)
    defaults = AdaPNM([param]).defaults
    assert defaults == {
        "lr": 1e-3,
        "betas": (0.9, 0.999, 1.0),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": True,
        "decoupled": True,
    }
    assert PNM([param], 1.0).defaults == {
        "lr": 1.0,
        "betas": (0.9, 1.0),
        "weight_decay": 0.0,
        "decoupled": True,
    }


@pytest.mark.parametrize("beta1", [0.5, 0.9])
@pytest.mark.parametrize("beta0", [0.0, 1.0, 3.0])
def test_pnm_quadratic_stability_boundary(beta0, beta1):
    """Deterministic PNM on f = ½Lθ² converges iff lr·L < 2·√(Γ/(2Γ−1)): 0.97× converges, 1.03× diverges."""
    curvature, steps = 4.0, 4000
    threshold = 2.0 * math.sqrt(gamma(beta0) / (2.0 * gamma(beta0) - 1.0)) / curvature
    final = {}
    for factor in (0.97, 1.03):
        param = torch.ones(1, dtype=DTYPE, requires_grad=True)
        optimizer = PNM([param], factor * threshold, betas=(beta1, beta0))
        for _ in range(steps):
            param.grad = curvature * param.detach()
            optimizer.step()
            if not param.abs().item() < 1e6:
                break
        final[factor] = param.abs().item()
    message = f"β0={beta0}, β1={beta1}: |θ| after {steps} steps {final}"
    assert final[0.97] < 1e-4, message
    assert final[1.03] > 1e3, message


@pytest.mark.parametrize("optimizer_class", [PNM, AdaPNM])
def test_decoupled_weight_decay_shrinks_before_the_gradient_step(optimizer_class):
    """Decoupled: θ₁ = θ₀·(1 − lr·wd) − lr·Δ(g); coupled: θ₁ = θ₀ − lr·Δ(g + wd·θ₀)."""
    lr, wd = 0.5, 0.2
    start = torch.tensor([1.0, -2.0, 0.5], dtype=DTYPE)
    grad = torch.tensor([0.3, 0.1, -0.4], dtype=DTYPE)

    def one_step(*, weight_decay: float, decoupled: bool, gradient: torch.Tensor) -> torch.Tensor:
        param = start.clone().requires_grad_(True)
        optimizer = optimizer_class([param], lr, weight_decay=weight_decay, decoupled=decoupled)
        param.grad = gradient.clone()
        optimizer.step()
        return param.detach()

    # Δ(g) measured from a step without decay, starting from the same point.
    step_of = {
        key: start - one_step(weight_decay=0.0, decoupled=True, gradient=g)
        for key, g in (("plain", grad), ("l2", grad + wd * start))
    }
    decoupled = one_step(weight_decay=wd, decoupled=True, gradient=grad)
    coupled = one_step(weight_decay=wd, decoupled=False, gradient=grad)
    torch.testing.assert_close(decoupled, start * (1 - lr * wd) - step_of["plain"], rtol=0, atol=1e-15)
    torch.testing.assert_close(coupled, start - step_of["l2"], rtol=0, atol=1e-15)
    shrink_after = (start - step_of["plain"]) * (1 - lr * wd)
    assert (decoupled - shrink_after).abs().max() > 1e-3, "shrinking after the step would pass too"


@pytest.mark.parametrize(
    ("optimizer_class", "lr", "decay"),
    [(PNM, 0.2, 1.0), (AdaPNM, 0.05, 0.995)],
)
def test_minimises_least_squares_to_the_normal_equation_solution(optimizer_class, lr, decay):
    """Full-batch least squares reaches the lstsq solution (AdaPNM with a decaying torch LR scheduler)."""
    gen = torch.Generator().manual_seed(3)
    matrix = torch.randn(20, 5, generator=gen, dtype=DTYPE)
    target = torch.randn(20, generator=gen, dtype=DTYPE)
    solution = torch.linalg.lstsq(matrix, target).solution
    param = torch.zeros(5, dtype=DTYPE, requires_grad=True)
    optimizer = optimizer_class([param], lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, decay)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = 0.5 * ((matrix @ param - target) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(1500):
        optimizer.step(closure)
        scheduler.step()
    error = (param.detach() - solution).abs().max().item()
    assert error < 1e-8, f"{optimizer_class.__name__}: max |θ − θ*| = {error:.3e}"


@pytest.mark.parametrize("optimizer_class", [PNM, AdaPNM])
def test_state_dict_round_trip_continues_identically(optimizer_class):
    param = torch.tensor([1.0, -0.5], dtype=DTYPE, requires_grad=True)
    optimizer = optimizer_class([param], 0.05)
    run_steps(optimizer, param, 3)
    twin = param.detach().clone().requires_grad_(True)
    twin_optimizer = optimizer_class([twin], 0.05)
    twin_optimizer.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    run_steps(optimizer, param, 4)
    run_steps(twin_optimizer, twin, 4)
    assert twin_optimizer.state[twin]["step"] == 7
    torch.testing.assert_close(twin.detach(), param.detach(), rtol=0, atol=0)


def test_invalid_hyperparameters_are_rejected():
    param = torch.zeros(1, dtype=DTYPE, requires_grad=True)
    with pytest.raises(ValueError, match="beta1"):
        PNM([param], 0.1, betas=(1.0, 1.0))
    with pytest.raises(ValueError, match="lr"):
        PNM([param], -0.1)
    with pytest.raises(ValueError, match="beta2"):
        AdaPNM([param], betas=(0.9, 1.5, 1.0))
