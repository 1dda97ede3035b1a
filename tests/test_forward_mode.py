"""Forward mode (JVPs as worlds of one batch) and the torch bridge."""

import numpy as np
import pytest
import torch

import simulator
from simulator.torch_bridge import RolloutProblem, rollout_loss

from .cloth_factory import hanging_spec


def perturbed_truth(spec, steps, seed=0):
    truth = simulator.build_model(spec)
    rng = np.random.default_rng(seed)
    for name in simulator.PARAMETER_ARRAYS:
        value = truth.parameter(name)
        truth.set_parameter(name, value * rng.uniform(0.95, 1.05, size=value.shape))
    return simulator.rollout(truth, simulator.SolverImplicit(truth, dt=1e-3, tolerance=1e-13), steps=steps)


def test_forward_mode_matches_reverse_mode():
    """JVPs along random tangents of every parameter array and of the initial state, computed as worlds
    of one batch, equal u^T grad L from reverse mode (relative error <= 1e-6)."""
    spec, steps, observed = hanging_spec((7, 7)), 20, [0, 5, 10, 15, 20]
    frames = perturbed_truth(spec, steps)

    def make_loss(model):
        return simulator.TrajectoryLoss(model, steps=observed, positions=frames.x[:, observed],
                                        sliding=frames.u[:, observed])

    model = simulator.build_model(spec)
    solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-13, max_iterations=3000)
    reverse = simulator.rollout_gradient(model, solver, make_loss(model), steps=steps)
    grads = reverse.parameters.numpy()
    rng = np.random.default_rng(1)
    k = 3
    tangents, expected = {}, np.zeros(k)
    for name in simulator.PARAMETER_ARRAYS:
        base = model.parameter(name)[0]
        scale = np.abs(base) if np.abs(base).max() > 0 else 1.0
        tangents[name] = rng.normal(size=(k, *base.shape)) * scale
        expected += (grads[name][0][None] * tangents[name]).reshape(k, -1).sum(axis=1)
    mask = model.dof_mask.numpy()
    tangents[simulator.INITIAL_STATE] = rng.normal(size=(k, model.node_count, 5)) * 1e-3
    expected += (reverse.initial_state.q.numpy()[0][None] * tangents[simulator.INITIAL_STATE] * mask[None]).reshape(
        k, -1).sum(axis=1)
    forward = simulator.rollout_jvp(model, simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-12), make_loss,
                                    steps=steps, tangents=tangents)
    assert forward.loss == pytest.approx(float(reverse.loss[0]), rel=1e-12)
    error = np.abs(forward.jvp - expected) / np.abs(expected)
    assert error.max() <= 1e-6, f"forward {forward.jvp} vs reverse {expected}: {error}"


@pytest.fixture(scope="module")
def problem():
    spec = hanging_spec((5, 5))
    frames = perturbed_truth(spec, 10, seed=3)
    model = simulator.build_model(spec)
    return RolloutProblem(
        model, lambda m: simulator.TrajectoryLoss(m, steps=[5, 10], positions=frames.x[:, [5, 10]]),
        steps=10, parameters=["segment_density", "segment_stretch_stiffness", "triple_bend_stiffness",
                              "wind_density"], dt=1e-3)


def test_torch_bridge_passes_gradcheck(problem):
    """The rollout loss is a torch op whose backward (reverse mode) and forward-mode rule pass
    torch.autograd.gradcheck in float64."""
    theta = torch.ones(problem.dim, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: rollout_loss(t, problem), (theta,), eps=1e-6, atol=1e-9, rtol=1e-5,
                                    check_forward_ad=True)


def test_torch_func_jvp_and_batched_jvps_agree(problem):
    theta = torch.full((problem.dim,), 1.02, dtype=torch.float64)
    tangents = torch.eye(problem.dim, dtype=torch.float64)
    value, grad = problem.value_and_grad(theta.numpy())
    for row in tangents:
        _, jvp = torch.func.jvp(lambda t: rollout_loss(t, problem), (theta,), (row,))
        assert jvp.item() == pytest.approx(float(grad @ row.numpy()), rel=1e-12)
    batched_value, batched = problem.value_and_jvp(theta.numpy(), tangents.numpy())
    assert batched_value == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(batched, grad, rtol=1e-6)


def test_rollout_jvp_rejects_bad_tangents():
    model = simulator.build_model(hanging_spec((5, 5)))
    with pytest.raises(ValueError, match="unknown tangent names"):
        simulator.rollout_jvp(model, simulator.SolverImplicit(model, dt=1e-3), None, steps=1,
                              tangents={"young": np.zeros((1, 3))})
