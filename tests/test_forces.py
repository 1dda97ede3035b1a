"""Forces are negative energy gradients; stiffness products and the mass matrix are consistent.

Every check is a central finite difference in float64 on a small, randomly deformed cloth, with
the compression N and the stick/slip indicators frozen as they are inside a time step. The per-term
checks run over the model's own list of terms (``simulator.terms.default_terms``), through the same
helpers that check a user's term (``tests/term_checks.py``).
"""

import numpy as np
import pytest
import warp as wp

import simulator
from simulator._forces import shear_curvature, shear_moment
from simulator._terms import run_launches
from simulator._types import vec5d
from simulator.terms.inertia import eval_inertial_forces, mass_matvec

from .cloth_factory import hanging_spec
from .term_checks import EPS_S, EPS_X, deformed_state, force_energy_error, stiffness_error


def deformed_setup(seed=0, nodes=(5, 4), pattern="plain", stretch=1.2, sheared=True):
    """A model, solver and a randomly deformed state with nonzero compression and anchors offset (every segment
    stretched by default, where the stretching Hessian is exact: see test_compressed_stretching_*; ``sheared=False``
    keeps every crossing square, where the shear Hessian is exact: see test_sheared_crossings_*)."""
    spec = hanging_spec(nodes, pattern=pattern, pins=[(0, 0), (nodes[0] - 1, 1)])
    model = simulator.build_model(spec)
    solver = simulator.SolverImplicit(model, dt=1e-3)
    return model, solver, deformed_state(model, solver, seed=seed, stretch=stretch, sheared=sheared)


CONSERVATIVE = [term.name for term in simulator.terms.default_terms() if term.implicit]


def term_named(model, name):
    return next(term for term in model.terms if term.name == name)


@pytest.mark.parametrize("name", CONSERVATIVE)
@pytest.mark.parametrize("pattern", ["plain", "satin"])
def test_force_is_negative_energy_gradient(name, pattern):
    """Each implicit force term equals -dE/dq by central differences (relative error <= 1e-6)."""
    model, solver, state = deformed_setup(pattern=pattern)
    # gravity's energy is linear in x and bilinear in (x, s): larger steps, no truncation, less roundoff
    err = force_energy_error(model, solver, state, term_named(model, name), step_scale=100.0 if name == "gravity"
                             else 1.0)
    assert err <= 1e-6, f"{name}: |F + dE/dq| / |F| = {err:.3e}"


@pytest.mark.parametrize("name", CONSERVATIVE)
def test_each_terms_stiffness_matches_its_force_differences(name):
    """Each implicit term's h^2 K p, matrix-free and assembled, equals -h^2 dF/dq p by central differences
    of its force (relative error <= 1e-6); shear where its crossings are square."""
    model, solver, state = deformed_setup(seed=1, sheared=name != "shear")
    errors = stiffness_error(model, solver, state, term_named(model, name))
    assert set(errors) == {"matrix_free", "assembled"}
    assert max(errors.values()) <= 1e-6, f"{name}: {errors}"


def test_stiffness_product_matches_force_differences():
    """(M + hD + h^2 K) p from the solver equals M p + hD p + h^2 (-dF/dq p) with dF/dq p by central
    differences of the implicit forces (relative error <= 1e-6), with every segment stretched and every crossing
    square (where every term's share is its exact Hessian)."""
    model, solver, state = deformed_setup(seed=1, sheared=False)
    rng = np.random.default_rng(7)
    mask = model.dof_mask.numpy()
    p = rng.normal(size=(1, model.node_count, 5)) * mask
    p[..., :3] *= EPS_X * 100
    p[..., 3:] *= EPS_S * 10
    dev = model.device
    h = solver.dt
    p_wp = wp.array(p, dtype=vec5d, device=dev)
    out = wp.zeros_like(p_wp)
    solver.apply_system(state.q, state.anchor, p_wp, out)
    mass_part = wp.zeros_like(p_wp)
    wp.launch(mass_matvec, dim=(1, model.segment_count),
              inputs=[state.q, p_wp, model.segment_nodes, model.segment_axis, model.segment_density, model.spacing],
              outputs=[mass_part], device=dev)
    damping = model.node_friction_damping.numpy()[0][:, None] * np.array([0, 0, 0, 1, 1.0])[None] * mask
    stiffness_product = (out.numpy() - mass_part.numpy() - h * damping[None] * p) / h**2 * mask

    def forces(q_np):
        out_f = wp.zeros_like(p_wp)
        solver.eval_implicit_forces(wp.array(q_np, dtype=vec5d, device=dev), state.anchor, out_f)
        return out_f.numpy()


    q0 = state.q.numpy()
    numeric = -(forces(q0 + p) - forces(q0 - p)) / 2.0 * mask
    err = np.linalg.norm(stiffness_product - numeric) / np.linalg.norm(numeric)
    assert err <= 1e-6, f"|K p - FD| / |FD| = {err:.3e}"


def term_forces_at(model, term, c, q_np):
    """The term's forces [B, nodes, 5] at coordinates ``q_np`` with the frozen state of configuration ``c``."""
    out = wp.zeros(q_np.shape[:2], dtype=vec5d, device=model.device)
    run_launches(term.force_launches(model, c.at(wp.array(q_np, dtype=vec5d, device=model.device)), out),
                 model.device)
    return out.numpy()


def term_product(model, term, c, p, h):
    """The term's K p [B, nodes, 5] (its share h^2 K p of the step's matrix, over h^2)."""
    out = wp.zeros(p.shape[:2], dtype=vec5d, device=model.device)
    run_launches(term.stiffness_product_launches(model, c, wp.array(p, dtype=vec5d, device=model.device), h, None,
                                                 out), model.device)
    return out.numpy() / h**2


def test_compressed_stretching_keeps_a_positive_semidefinite_stiffness():
    """With every segment compressed by 3%, the exact stretching Hessian has negative transverse curvature (force
    differences find p across the cloth with p.K p < 0); the step's product clamps it (p.K p >= 0), and the
    assembled operator and the matrix-free product still agree."""
    model, solver, state = deformed_setup(seed=2, stretch=0.97)
    term = term_named(model, "stretch")
    rng = np.random.default_rng(11)
    c = solver.configuration(state)
    q0 = state.q.numpy()
    exact, projected = [], []
    for _ in range(20):
        p = np.zeros((1, model.node_count, 5))  # across the upright cloth (y): transverse to every segment
        p[..., 1] = rng.normal(size=model.node_count) * EPS_X * 100
        exact.append(float(np.sum(p * -(term_forces_at(model, term, c, q0 + p)
                                        - term_forces_at(model, term, c, q0 - p)) / 2.0)))
        projected.append(float(np.sum(p * term_product(model, term, c, p, solver.dt))))
    assert min(exact) < 0.0 <= min(projected)
    errors = stiffness_error(model, solver, state, term)
    assert abs(errors["assembled"] - errors["matrix_free"]) <= 1e-9


@wp.kernel
def _curvature_and_moment_differences(phi: wp.array(dtype=wp.float64), jam: int, spacing: wp.float64,
                                      radius: wp.float64, lock_angle: wp.float64, step: wp.float64,
                                      curvature: wp.array(dtype=wp.float64), differences: wp.array(dtype=wp.float64)):
    i = wp.tid()
    k0 = wp.float64(2.5e-3)
    curvature[i] = shear_curvature(phi[i], k0, jam, spacing, radius, lock_angle)
    differences[i] = (shear_moment(phi[i] + step, k0, jam, spacing, radius, lock_angle)
                      - shear_moment(phi[i] - step, k0, jam, spacing, radius, lock_angle)) / (wp.float64(2.0) * step)


@pytest.mark.parametrize("jam", [0, 1])
@pytest.mark.parametrize("radius", [5e-4, 2e-4])
def test_shear_curvature_is_the_derivative_of_the_shear_moment(jam, radius):
    """V''(phi) in closed form (jamming included) equals central differences of V'(phi) over the whole range of
    shear angles (relative to its largest value, <= 1e-8)."""
    spacing = 1e-3
    phi = np.linspace(0.05, np.pi - 0.05, 4001)
    phi_wp = wp.array(phi, dtype=wp.float64)
    curvature, differences = wp.zeros_like(phi_wp), wp.zeros_like(phi_wp)
    wp.launch(_curvature_and_moment_differences, dim=len(phi),
              inputs=[phi_wp, jam, spacing, radius, 2.0 * np.arcsin(radius / spacing), 1e-6],
              outputs=[curvature, differences])
    exact, numeric = curvature.numpy(), differences.numpy()
    assert np.abs(exact - numeric).max() <= 1e-8 * np.abs(numeric).max()


def test_sheared_crossings_keep_a_positive_semidefinite_shear_matrix():
    """Sheared by 0.2 rad, every crossing carries a shear moment and the exact shear Hessian is indefinite out of the
    cloth's plane (force differences along the normal find p with p.K p < 0); the step's
    shear matrix stays positive semi-definite (p.K p >= 0 for random p), symmetric, and the same assembled and
    matrix-free."""
    model, solver, state = deformed_setup(seed=3, sheared=False)
    q = state.q.numpy()
    grid = model.to_grid(q[..., :3])
    along_warp = grid[0, 1, 0] - grid[0, 0, 0]
    along_weft = grid[0, 0, 1] - grid[0, 0, 0]
    normal = np.cross(along_warp, along_weft)
    normal /= np.linalg.norm(normal)
    rows = np.arange(model.nodes[1])[None, :, None] * np.ones((model.nodes[0], 1, 1))
    grid[0] += 0.2 * rows * along_warp  # simple shear: each row of nodes moved along the warp yarns
    q[..., :3] = model.from_grid(grid)
    state.q.assign(q)
    solver.eval_forces(state)
    term = term_named(model, "shear")
    rng = np.random.default_rng(5)
    c = solver.configuration(state)
    mask = model.dof_mask.numpy()

    def product(p):
        return term_product(model, term, c, p, solver.dt)

    exact, gauss_newton = [], []
    for _ in range(20):
        across = rng.normal(size=(1, model.node_count, 1)) * normal[None, None] * EPS_X * 100
        p = np.concatenate([across, np.zeros((1, model.node_count, 2))], axis=-1) * mask
        exact.append(float(np.sum(p * -(term_forces_at(model, term, c, q + p)
                                        - term_forces_at(model, term, c, q - p)) / 2.0)))
        p = rng.normal(size=(1, model.node_count, 5)) * mask
        gauss_newton.append(float(np.sum(p * product(p))))
    assert min(exact) < 0.0 <= min(gauss_newton)
    p1, p2 = (rng.normal(size=(1, model.node_count, 5)) * mask for _ in range(2))
    assert abs(np.sum(p1 * product(p2)) - np.sum(p2 * product(p1))) <= 1e-12 * np.abs(product(p1)).max()
    errors = stiffness_error(model, solver, state, term)
    assert abs(errors["assembled"] - errors["matrix_free"]) <= 1e-9


def assemble_mass(model, q):
    n = model.node_count * 5
    mass = np.zeros((n, n))
    unit = wp.zeros((1, model.node_count), dtype=vec5d, device=model.device)
    out = wp.zeros_like(unit)
    basis = np.zeros((1, model.node_count, 5))
    for k in range(n):
        basis.reshape(-1)[:] = 0.0
        basis.reshape(-1)[k] = 1.0
        unit.assign(basis)
        out.zero_()
        wp.launch(mass_matvec, dim=(1, model.segment_count),
                  inputs=[q, unit, model.segment_nodes, model.segment_axis, model.segment_density, model.spacing],
                  outputs=[out], device=model.device)
        mass[:, k] = out.numpy().reshape(-1)
    return mass


def test_mass_matrix_is_symmetric_positive_definite():
    """The integrated Eulerian-on-Lagrangian mass is symmetric and positive definite on the free DOFs,
    and a rigid translation carries the total yarn mass sum(rho * ds)."""
    model, solver, state = deformed_setup(seed=2)
    mass = assemble_mass(model, state.q)
    free = model.dof_mask.numpy().reshape(-1) > 0
    m = mass[np.ix_(free, free)]
    assert np.abs(m - m.T).max() <= 1e-14 * np.abs(m).max()
    eig = np.linalg.eigvalsh(0.5 * (m + m.T))
    assert eig.min() > 0.0, f"smallest eigenvalue {eig.min():.3e}"
    translation = np.zeros(model.node_count * 5)
    translation[0::5] = 1.0  # x-translation with no sliding
    q = state.q.numpy()[0]
    seg = model.segment_np
    axis = 3 + model.segment_axis_np
    lengths = model.spacing + q[seg[:, 1], axis] - q[seg[:, 0], axis]
    total_mass = (model.segment_density.numpy()[0] * lengths).sum()
    assert translation @ mass @ translation == pytest.approx(total_mass, rel=1e-12)


def test_inertial_forces_are_lagrangian():
    """The velocity-quadratic inertial force equals dT/dq - (dM/dt) qdot, both by central differences
    of T = 1/2 qdot^T M(q) qdot and of M(q + eps qdot) qdot."""
    model, solver, state = deformed_setup(seed=3)
    rng = np.random.default_rng(3)
    mask = model.dof_mask.numpy()
    qd = rng.normal(size=(1, model.node_count, 5)) * mask
    qd[..., 3:] *= 1e-2
    dev = model.device
    qd_wp = wp.array(qd, dtype=vec5d, device=dev)

    def momentum(q_np):
        out = wp.zeros_like(qd_wp)
        wp.launch(mass_matvec, dim=(1, model.segment_count),
                  inputs=[wp.array(q_np, dtype=vec5d, device=dev), qd_wp, model.segment_nodes, model.segment_axis,
                          model.segment_density, model.spacing], outputs=[out], device=dev)
        return out.numpy()

    q0 = state.q.numpy().copy()
    d_kinetic = np.zeros_like(q0)
    for n in range(model.node_count):
        for k in range(5):
            if mask[n, k] == 0.0:
                continue
            eps = EPS_X * 10 if k < 3 else EPS_S * 100
            qp, qm = q0.copy(), q0.copy()
            qp[0, n, k] += eps
            qm[0, n, k] -= eps
            step = qp[0, n, k] - qm[0, n, k]
            d_kinetic[0, n, k] = 0.5 * ((momentum(qp) * qd).sum() - (momentum(qm) * qd).sum()) / step
    eps = 1e-8
    m_dot_qd = (momentum(q0 + eps * qd) - momentum(q0 - eps * qd)) / (2 * eps)
    expected = (d_kinetic - m_dot_qd) * mask
    out = wp.zeros_like(qd_wp)
    wp.launch(eval_inertial_forces, dim=(1, model.segment_count),
              inputs=[state.q, qd_wp, model.segment_nodes, model.segment_axis, model.segment_density, model.spacing],
              outputs=[out], device=dev)
    got = out.numpy() * mask
    err = np.linalg.norm(got - expected) / np.linalg.norm(expected)
    assert err <= 1e-5, f"|F_inertia - (dT/dq - Mdot qdot)| / |.| = {err:.3e}"
