"""Reverse-mode gradients of rollout losses: finite differences, checkpointing, memory."""

import numpy as np
import pytest

import simulator
from materials import CrossingProperties

from .cloth_factory import hanging_spec

# Central-difference step (relative to the parameter scale) per parameter family: the friction
# family moves the loss by little, so a larger step keeps roundoff noise below 1e-6; the others are
# more nonlinear, so a smaller step keeps the truncation error below 1e-6.
FD_STEP = {
    "segment_density": 1e-5, "segment_stretch_stiffness": 1e-5, "segment_contact_stiffness": 1e-4,
    "triple_bend_stiffness": 1e-5, "stencil_shear_stiffness": 1e-5, "node_friction": 1e-4,
    "node_friction_stiffness": 1e-4, "node_friction_damping": 1e-4, "node_friction_smoothing": 1e-4,
    "node_pin_stiffness": 1e-4, "node_pin_target": 1e-5, "gravity": 1e-5, "wind_velocity": 1e-5,
    "wind_density": 1e-5, "wind_drag": 1e-5, "stencil_compression_scale": 1e-4,
}
# Families whose effect shows in the sliding coordinates rather than in the positions.
SLIDING_FAMILIES = {"segment_contact_stiffness", "node_friction", "node_friction_stiffness",
                    "node_friction_damping", "node_friction_smoothing"}


def loss_of(model, solver, loss, steps, state=None):
    current, nxt = model.state(), model.state()
    if state is not None:
        current.assign(state)
    total = loss.value(0, current)
    for t in range(1, steps + 1):
        solver.step(current, nxt)
        total = total + loss.value(t, nxt)
        current, nxt = nxt, current
    return float(total[0])


def direction_for(model, name, rng):
    """A random direction that changes every element of a parameter array by up to +-50% of its value
    around a common relative change (so that elements do not cancel), or by absolute amounts for
    vectors that can be zero."""
    base = model.parameter(name)
    if name in ("node_pin_target", "gravity", "wind_velocity"):
        return rng.normal(size=base.shape) * (1e-4 if name == "node_pin_target" else 1.0)
    return base * rng.uniform(0.5, 1.5, size=base.shape)


@pytest.fixture(scope="module")
def reference_problem():
    """The reference scene (17x17, two top corners pinned, wind) over 50 steps, with two losses on every
    5th step against the trajectory of the same scene with every parameter changed by a few percent:
    positions only, and sliding coordinates only."""
    steps = 50
    # a compression scale N0 near the crossings' compressions (~3e-4 N), so that the shear's compression
    # stiffening 1 + N / N0 shows in the loss (with the default 1 N its derivative is below rounding)
    spec = hanging_spec((17, 17), crossing=CrossingProperties(shear_compression_scale=3e-3))
    model = simulator.build_model(spec)
    solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-13, max_iterations=3000)
    truth = simulator.build_model(spec)
    rng = np.random.default_rng(0)
    for name in simulator.PARAMETER_ARRAYS:
        value = truth.parameter(name)
        truth.set_parameter(name, value * rng.uniform(0.95, 1.05, size=value.shape))
    frames = simulator.rollout(truth, simulator.SolverImplicit(truth, dt=1e-3, tolerance=1e-13), steps=steps)
    observed = list(range(0, steps + 1, 5))
    positions, sliding = frames.x[:, observed], frames.u[:, observed]
    losses = {
        "positions": simulator.TrajectoryLoss(model, steps=observed, positions=positions),
        "sliding": simulator.TrajectoryLoss(model, steps=observed, positions=positions, sliding=sliding,
                                            position_weight=0.0),
    }
    gradients = {key: simulator.rollout_gradient(model, solver, loss, steps=steps) for key, loss in losses.items()}
    return model, solver, losses, gradients, steps


@pytest.mark.parametrize("name", simulator.PARAMETER_ARRAYS)
def test_reverse_mode_matches_central_differences(reference_problem, name):
    """d loss / d parameter along a random direction: reverse mode vs float64 central differences on the
    reference scene over 50 steps, relative error <= 1e-5, for every parameter family (materials,
    crossings, pins, gravity, wind)."""
    model, solver, losses, gradients, steps = reference_problem
    key = "sliding" if name in SLIDING_FAMILIES else "positions"
    rng = np.random.default_rng(simulator.PARAMETER_ARRAYS.index(name))
    base = model.parameter(name)
    direction = direction_for(model, name, rng)
    reverse = float((gradients[key].parameters.numpy()[name] * direction).sum())
    h = FD_STEP[name]
    values = []
    for sign in (1.0, -1.0):
        model.set_parameter(name, base + sign * h * direction)
        values.append(loss_of(model, solver, losses[key], steps))
    model.set_parameter(name, base)
    central = (values[0] - values[1]) / (2 * h)
    error = abs(reverse - central) / abs(central)
    assert central != 0.0
    assert error <= 1e-5, f"{name}: reverse {reverse:.9e} vs central difference {central:.9e} ({error:.2e})"


def test_initial_state_gradient_matches_central_differences(reference_problem):
    """Gradient with respect to the initial positions and sliding coordinates. The loss reacts
    nonlinearly to initial displacements of ~0.3 um (they push the crossings between stick and slip),
    so the central difference displaces nodes by ~1 nm."""
    model, solver, losses, gradients, steps = reference_problem
    rng = np.random.default_rng(5)
    start = model.state()
    q0 = start.q.numpy().copy()
    direction = np.zeros_like(q0)
    direction[..., :3] = rng.normal(scale=1e-9, size=q0[..., :3].shape)
    direction[..., 3:] = rng.normal(scale=1e-12, size=q0[..., 3:].shape) * model.dof_mask.numpy()[None, :, 3:]
    reverse = float((gradients["positions"].initial_state.q.numpy() * direction).sum())
    values = []
    for sign in (1.0, -1.0):
        start.q.assign(q0 + sign * direction)
        values.append(loss_of(model, solver, losses["positions"], steps, state=start))
    central = (values[0] - values[1]) / 2
    assert abs(reverse - central) <= 1e-5 * abs(central), (reverse, central)


def test_checkpointed_and_plain_backward_passes_agree():
    """Segment checkpointing (segments of 1, sqrt(T) and T steps) gives the same gradients."""
    model = simulator.build_model(hanging_spec((6, 5)))
    solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-12)
    steps = 30
    frames = simulator.rollout(model, solver, steps=steps)
    loss = simulator.TrajectoryLoss(model, steps=[10, 20, 30], positions=frames.x[:, [10, 20, 30]] + 1e-5,
                                    sliding=frames.u[:, [10, 20, 30]] + 1e-8)
    results = [simulator.rollout_gradient(model, solver, loss, steps=steps, checkpoint_every=k)
               for k in (1, None, steps)]
    assert results[1].checkpoint_every == 6
    reference = results[-1].parameters.numpy()
    for result in results[:-1]:
        for name, grad in result.parameters.numpy().items():
            np.testing.assert_allclose(grad, reference[name], rtol=1e-12, atol=1e-300, err_msg=name)
        np.testing.assert_allclose(result.initial_state.q.numpy(), results[-1].initial_state.q.numpy(), rtol=1e-12)
        assert result.loss == pytest.approx(results[-1].loss, rel=1e-14)


def test_checkpointing_memory_grows_like_sqrt_steps():
    """Peak array memory of a 4000-step gradient is at most 3x that of a 250-step one (16x the steps)."""
    model = simulator.build_model(hanging_spec((3, 3)))
    solver = simulator.SolverImplicit(model, dt=1e-3)
    rest = model.positions(model.state())[:, None]
    peak = {}
    for steps in (250, 4000):
        loss = simulator.TrajectoryLoss(model, steps=[steps], positions=rest)
        peak[steps] = simulator.rollout_gradient(model, solver, loss, steps=steps).peak_bytes
    assert peak[4000] <= 3 * peak[250], peak


def test_gradients_refuse_reference_quirks():
    model = simulator.build_model(hanging_spec((5, 5)))
    solver = simulator.SolverImplicit(model, dt=1e-3, reference_quirks=["friction"])
    loss = simulator.TrajectoryLoss(model, steps=[1], positions=model.positions(model.state())[:, None])
    with pytest.raises(ValueError, match="gradients need the model's physics"):
        simulator.rollout_gradient(model, solver, loss, steps=1)


@pytest.mark.parametrize("window", [5, 4])
def test_truncated_backpropagation_sums_the_windows_restarted_from_fixed_states(window):
    """With truncate_every = S, the gradient is that of the losses of each window (T - (k+1)S, T - kS] by a
    rollout started from the window's start state held fixed (the initial-state gradient: the first
    window's), whether S divides T or not; S = T is the exact gradient."""
    model = simulator.build_model(hanging_spec((6, 5)))
    solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-12)
    steps = 12
    frames = simulator.rollout(model, solver, steps=steps)
    observed = list(range(1, steps + 1))
    targets = frames.x[:, observed] + 1e-5

    def loss_over(first, last):
        """Loss of frames first..last, with step indices counted from ``first - 1``."""
        chosen = list(range(first, last + 1))
        return simulator.TrajectoryLoss(model, steps=[t - first + 1 for t in chosen],
                                        positions=targets[:, [t - 1 for t in chosen]])

    truncated = simulator.rollout_gradient(model, solver, loss_over(1, steps), steps=steps, truncate_every=window)
    exact = simulator.rollout_gradient(model, solver, loss_over(1, steps), steps=steps)
    whole = simulator.rollout_gradient(model, solver, loss_over(1, steps), steps=steps, truncate_every=steps)
    expected = {name: np.zeros_like(g) for name, g in exact.parameters.numpy().items()}
    start, current, nxt = 0, model.state(), model.state()
    while start < steps:
        last = start + (steps - start - 1) % window + 1  # windows end at T, T - S, T - 2S, ...
        part = simulator.rollout_gradient(model, solver, loss_over(start + 1, last), steps=last - start, state=current)
        for name, grad in part.parameters.numpy().items():
            expected[name] += grad
        if start == 0:
            first_window_initial = part.initial_state.q.numpy()
        for _ in range(start, last):
            solver.step(current, nxt)
            current, nxt = nxt, current
        start = last
    assert truncated.loss == pytest.approx(exact.loss, rel=1e-14)
    differs = 0.0
    for name, grad in truncated.parameters.numpy().items():
        scale = np.abs(expected[name]).max()
        np.testing.assert_allclose(grad, expected[name], rtol=1e-9, atol=1e-9 * scale, err_msg=name)
        np.testing.assert_allclose(whole.parameters.numpy()[name], exact.parameters.numpy()[name], rtol=1e-12,
                                   atol=1e-300, err_msg=name)
        differs = max(differs, np.abs(grad - exact.parameters.numpy()[name]).max() / max(scale, 1e-300))
    assert differs > 1e-3  # truncation changes the gradient here (the test would not see a no-op)
    initial = truncated.initial_state.q.numpy()
    np.testing.assert_allclose(initial, first_window_initial, rtol=1e-9, atol=1e-9 * np.abs(initial).max())
    assert np.abs(initial).max() > 0.0
    np.testing.assert_allclose(whole.initial_state.q.numpy(), exact.initial_state.q.numpy(), rtol=1e-12, atol=1e-300)
    with pytest.raises(ValueError, match="truncate_every"):
        simulator.rollout_gradient(model, solver, loss_over(1, steps), steps=steps, truncate_every=0)
