"""The assembled system matrix equals the matrix-free operator (products and rollouts)."""

import numpy as np
import pytest
import warp as wp

import simulator
from simulator._types import vec5d

from .cloth_factory import YARN_1, YARN_2, hanging_spec

# Per-world relative changes of the material parameters (worlds must differ in every term).
SCALES = (1.0, 0.5, 2.0)
VARIED = ("segment_density", "segment_stretch_stiffness", "segment_contact_stiffness", "triple_bend_stiffness",
          "stencil_shear_stiffness", "node_friction", "node_friction_stiffness", "node_friction_damping",
          "node_pin_stiffness")


def deformed_worlds(pattern: str, *, nodes=(6, 5), deform=True, seed=0):
    """Three worlds with different parameters, pins, randomly deformed states with nonzero compression and
    anchors offset (``deform=False``: the flat rest state, straight yarns), and both operators' solvers."""
    rng = np.random.default_rng(seed)
    spec = hanging_spec(nodes, pattern=pattern, pins=[(0, 0), (nodes[0] - 1, 1)])
    model = simulator.build_model([spec] * len(SCALES))
    for name in VARIED:
        values = model.parameter(name)
        scale = np.asarray(SCALES).reshape(-1, *([1] * (values.ndim - 1)))
        model.set_parameter(name, values * scale * rng.uniform(0.8, 1.25, size=values.shape))
    state = model.state()
    q = state.q.numpy()
    if deform:
        q[..., :3] += rng.normal(scale=3e-5, size=q[..., :3].shape)
        q[..., 3:] += model.crossing_mask_np[None, :, None] * rng.normal(scale=2e-6, size=q[..., 3:].shape)
    anchor = q[..., 3:] + rng.normal(scale=4e-8, size=q[..., 3:].shape)
    state.q.assign(q)
    state.anchor.assign(anchor)
    solvers = {op: simulator.SolverImplicit(model, dt=1e-3, operator=op) for op in ("assembled", "matrix_free")}
    for solver in solvers.values():
        solver.eval_forces(state)
    return model, solvers, state


def products(model, solvers, state, p):
    """(matrix-free A p, assembled A p, fused p . A p of the assembled product)."""
    p_wp = wp.array(p, dtype=vec5d, device=model.device)
    exact, assembled = wp.zeros_like(p_wp), wp.zeros_like(p_wp)
    solvers["matrix_free"].apply_system(state.q, state.anchor, p_wp, exact)
    solver = solvers["assembled"]
    solver.prepare_operator(solver.configuration(state), solver.dt)
    dot = wp.zeros(model.world_count, dtype=wp.float64, device=model.device)
    solver.apply_operator(p_wp, assembled, dot)
    return exact.numpy(), assembled.numpy(), dot.numpy()


def relative_error(exact, approx):
    """Max error relative to the largest entry, per world and per DOF kind (positions, sliding)."""
    errors = []
    for kind in (slice(0, 3), slice(3, 5)):
        diff = np.abs(exact[..., kind] - approx[..., kind]).reshape(exact.shape[0], -1).max(axis=1)
        scale = np.abs(exact[..., kind]).reshape(exact.shape[0], -1).max(axis=1)
        errors.append(diff / scale)
    return float(np.max(errors))


@pytest.mark.parametrize("pattern", ["plain", "satin"])
@pytest.mark.parametrize("deform", [True, False], ids=["deformed", "rest"])
def test_assembled_product_equals_matrix_free(pattern, deform):
    """A p of the assembled blocks equals the adjoint-based product to <= 1e-10 relative, for random p
    (all DOFs, and positions or sliding coordinates alone), in every world; the fused dot is p . A p."""
    model, solvers, state = deformed_worlds(pattern, deform=deform)
    if deform:
        assert np.all(solvers["matrix_free"].frozen.compression.numpy().max(axis=1) > 0.0)
    rng = np.random.default_rng(3)
    for keep in (slice(0, 5), slice(0, 3), slice(3, 5)):
        p = np.zeros((model.world_count, model.node_count, 5))
        p[..., keep] = rng.normal(size=p[..., keep].shape)
        exact, assembled, dot = products(model, solvers, state, p)
        err = relative_error(exact, assembled)
        assert err <= 1e-10, f"|A p - A_mf p| / |A_mf p| = {err:.3e}"
        np.testing.assert_allclose(dot, np.einsum("bnk,bnk->b", p, assembled), rtol=1e-12)


def test_rollout_with_assembled_operator_equals_matrix_free():
    """50 steps of the reference scene (two worlds, different parameters) agree to <= 1e-9 m."""
    specs = [hanging_spec((7, 6)), hanging_spec((7, 6), yarns=(YARN_2, YARN_1), wind=(1.0, -3.0, 2.0))]
    finals = {}
    for operator in ("assembled", "matrix_free"):
        model = simulator.build_model(specs)
        solver = simulator.SolverImplicit(model, dt=1e-3, operator=operator)
        assert solver.operator == operator
        current, nxt = model.state(), model.state()
        for _ in range(50):
            solver.step(current, nxt)
            current, nxt = nxt, current
        finals[operator] = (current.q.numpy(), current.anchor.numpy())
    q_a, anchor_a = finals["assembled"]
    q_m, anchor_m = finals["matrix_free"]
    assert np.abs(q_a - q_m).max() <= 1e-9
    assert np.abs(anchor_a - anchor_m).max() <= 1e-9
    assert np.abs(q_m[..., :3] - simulator.build_model(specs).initial_q_np[..., :3]).max() > 1e-5  # it moved


def test_jacobian_quirks_use_the_matrix_free_operator():
    model = simulator.build_model(hanging_spec((5, 5)))
    for quirk in ("bend_jacobian", "border_coupling", "friction", "shear_precedence", "shear_jacobian"):
        assert simulator.SolverImplicit(model, dt=1e-3, reference_quirks=(quirk,)).operator == "matrix_free"
    assert simulator.SolverImplicit(model, dt=1e-3, reference_quirks=("bend_theta",)).operator == "assembled"
    with pytest.raises(ValueError, match="operator"):
        simulator.SolverImplicit(model, dt=1e-3, operator="dense")
