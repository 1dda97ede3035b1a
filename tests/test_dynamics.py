"""Time stepping: invariants, symmetry, pins, batched worlds, and clear errors."""

import numpy as np
import pytest
import warp as wp

import simulator
from materials import CrossingProperties, YarnMaterial

from .cloth_factory import YARN_2, hanging_spec


def run(spec_or_specs, steps, *, dt=1e-3, **kwargs):
    model = simulator.build_model(spec_or_specs)
    solver = simulator.SolverImplicit(model, dt=dt, **kwargs)
    return model, simulator.rollout(model, solver, steps=steps)


def test_reference_scene_stays_symmetric_finite_and_pinned():
    """17x17 plain weave hung by its two top corners in a wind normal to it: 500 steps stay finite,
    the pins hold, the cloth moves (wind and gravity), and the left-right mirror symmetry holds to 1e-9 m."""
    spec = hanging_spec((17, 17))
    model, result = run(spec, 500)
    x = result.x[0]
    assert np.isfinite(x).all() and np.isfinite(result.u).all()
    displacement = np.linalg.norm(x[-1] - x[0], axis=-1)
    assert displacement.max() > 1e-3, "the cloth should swing by millimetres in 0.5 s"
    for i, j in spec.pins:
        pin_motion = np.linalg.norm(x[:, i, j] - x[0, i, j], axis=-1).max()
        assert pin_motion < 2e-6, f"pin ({i}, {j}) moved {pin_motion:.2e} m"
    mirror = x[:, ::-1].copy()
    mirror[..., 0] = (spec.nodes[0] - 1) * spec.spacing - mirror[..., 0]
    asym = np.abs(x - mirror).max()
    assert asym <= 1e-9, f"mirror asymmetry {asym:.3e} m"


def test_yarn_length_is_conserved():
    """Yarn ends do not slide, so the material length of every yarn (sum of its segment lengths ds) is
    conserved exactly while the crossings slide."""
    model, result = run(hanging_spec((6, 5)), 40)
    u = result.u[0]  # [F, W, H, 2]
    assert np.abs(u[:, 1:-1, 1:-1] - u[0, 1:-1, 1:-1]).max() > 0.0, "crossings should slide"
    warp_lengths = (np.diff(u[..., 0], axis=1)).sum(axis=1)  # [F, H]
    weft_lengths = (np.diff(u[..., 1], axis=2)).sum(axis=2)  # [F, W]
    np.testing.assert_allclose(warp_lengths, warp_lengths[:1].repeat(len(u), 0), rtol=0, atol=1e-15)
    np.testing.assert_allclose(weft_lengths, weft_lengths[:1].repeat(len(u), 0), rtol=0, atol=1e-15)
    for border in (u[:, 0], u[:, -1], u[:, :, 0], u[:, :, -1]):
        assert np.array_equal(border, border[:1].repeat(len(u), 0))


def test_batched_worlds_equal_separate_runs():
    """B worlds with different yarns and friction in one model give the same frames as B separate runs."""
    soft = YarnMaterial(density=0.003, young_modulus=2.0e5, bending_modulus=0.9e-4)
    specs = [
        hanging_spec((6, 5)),
        hanging_spec((6, 5), yarns=(soft, YARN_2), crossing=CrossingProperties(friction=0.3, shear_modulus=600)),
        hanging_spec((6, 5), wind=(0.0, -3.0, 1.0)),
    ]
    _, batched = run(specs, 15)
    for b, spec in enumerate(specs):
        _, single = run(spec, 15)
        for key in ("x", "u", "xdot", "udot"):
            np.testing.assert_allclose(getattr(batched, key)[b], getattr(single, key)[0], rtol=0, atol=1e-15,
                                       err_msg=key)
        np.testing.assert_array_equal(batched.iterations[:, b], single.iterations[:, 0])
    assert np.abs(batched.x[0] - batched.x[1]).max() > 1e-7, "worlds with other parameters must differ"


def test_free_fall_of_an_unpinned_cloth():
    """Without pins, air or stiffness effects, a flat cloth falls freely: every node moves by g t^2-like
    backward-Euler displacement sum_{k=1..n} k g h^2 = g h^2 n (n + 1) / 2."""
    spec = hanging_spec((5, 5), pins=[], wind=(0.0, 0.0, 0.0), wind_density=0.0, wind_drag=0.0, pose="flat")
    steps, h = 20, 1e-3
    model, result = run(spec, steps, dt=h, tolerance=1e-12)
    drop = result.x[0, -1, ..., 2] - result.x[0, 0, ..., 2]
    expected = -9.8 * h * h * steps * (steps + 1) / 2
    np.testing.assert_allclose(drop, expected, rtol=1e-9)


def test_nonfinite_state_raises_with_step_and_quantity():
    spec = hanging_spec((5, 5))
    model = simulator.build_model(spec)
    solver = simulator.SolverImplicit(model, dt=1e-3)
    state = model.state()
    qd = state.qd.numpy()
    qd[0, 7, 1] = np.nan
    state.qd.assign(qd)
    with pytest.raises(simulator.SimulationError, match=r"step 1: .*NaN/Inf"):
        simulator.rollout(model, solver, steps=3, state=state)


@pytest.mark.parametrize("factory,match", [
    (lambda: YarnMaterial(density=0.0, young_modulus=1e5, bending_modulus=1e-4), r"density = 0.0 .*> 0"),
    (lambda: YarnMaterial(density=1e-3, young_modulus=-1.0, bending_modulus=1e-4), r"young_modulus = -1.0"),
    (lambda: YarnMaterial(density=1e-3, young_modulus=1e5, bending_modulus=float("nan")), r"bending_modulus"),
    (lambda: CrossingProperties(friction=-0.1), r"friction = -0.1 .*\[0.0"),
    (lambda: CrossingProperties(friction_stiffness=0.0), r"friction_stiffness = 0.0"),
    (lambda: hanging_spec((2, 5)), r"nodes\[0\] \(W\) = 2 .*at least 3"),
    (lambda: hanging_spec((5, 5), spacing=-1e-3), r"spacing = -0.001"),
    (lambda: hanging_spec((5, 5), yarn_radius=2e-3), r"yarn_radius = 0.002 .*\(0.0, 0.001\]"),
    (lambda: hanging_spec((5, 5), pins=[(5, 0)]), r"pin \(5, 0\) is outside the cloth"),
    (lambda: simulator.SolverImplicit(simulator.build_model(hanging_spec((5, 5))), dt=0.0), r"dt = 0.0"),
])
def test_meaningless_values_raise_value_error(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_worlds_must_share_the_grid():
    with pytest.raises(ValueError, match="worlds must share one grid"):
        simulator.build_model([hanging_spec((5, 5)), hanging_spec((6, 5))])


@pytest.mark.skipif(not wp.is_cuda_available(), reason="needs a CUDA device")
def test_cpu_and_cuda_agree():
    spec = hanging_spec((9, 9))
    results = {}
    for device in ("cpu", "cuda:0"):
        model = simulator.build_model(spec, device=device)
        solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-12)
        results[device] = simulator.rollout(model, solver, steps=50).x
    scale = np.abs(results["cpu"] - results["cpu"][:, :1]).max()
    assert np.abs(results["cpu"] - results["cuda:0"]).max() <= 1e-9 * max(scale, 1e-3)


def test_step_without_host_checks_matches_and_is_capturable_on_cuda():
    """check_every=0 runs a fixed number of CG iterations with no read-back (converged worlds stay
    frozen), so it gives the same states as the adaptive loop and can be captured in a CUDA graph."""
    spec = hanging_spec((6, 5))
    _, adaptive = run(spec, 10)
    _, fixed = run(spec, 10, check_every=0, max_iterations=120)
    np.testing.assert_array_equal(fixed.x, adaptive.x)
    np.testing.assert_array_equal(fixed.iterations, adaptive.iterations)
    if not wp.is_cuda_available():
        return
    model = simulator.build_model(spec, device="cuda:0")
    solver = simulator.SolverImplicit(model, dt=1e-3, check_every=0, max_iterations=120)
    a, b = model.state(), model.state()
    solver.step(a, b)  # compile before capturing
    with wp.ScopedCapture(device="cuda:0") as capture:
        solver.step(a, b)
    wp.capture_launch(capture.graph)
    assert np.isfinite(b.q.numpy()).all()
