"""Checks every force term must pass, built in or added by a user (shared by several test modules).

Each is a float64 central difference on a small, randomly deformed cloth with the crossing state frozen as
it is inside a time step:

* ``force_energy_error``: the term's force is -dE/dq of its energy;
* ``stiffness_error``: its share of the system matrix, h^2 K p (matrix-free, and through the assembled
  operator when it has one), equals -h^2 (F(q + p) - F(q - p)) / 2 of its force kernel (where its Hessian is
  not projected: stretching clamps the negative stiffness of compressed segments, so check it stretched, and
  shear keeps the Gauss-Newton part of its Hessian, exact only where the crossings are square: check it there);
* ``gradient_error``: a rollout loss's reverse-mode gradient with respect to one of its parameter arrays
  (summed over elements) equals central differences of the loss.
"""

import numpy as np
import warp as wp

import simulator
from simulator._terms import Configuration, Launch, run_launches
from simulator._types import vec5d

# Finite-difference steps per DOF kind: positions [m] and sliding coordinates [m].
EPS_X = 1e-9
EPS_S = 1e-12


def deformed_state(model, solver, *, seed=0, stretch=1.0, sheared=True):
    """A randomly deformed state (positions scaled by ``stretch`` about the origin, then moved by ~30 um, sliding
    by ~2 um, anchors offset) with the crossing state of a step frozen at it. ``sheared=False`` moves the nodes
    instead by random spacings along the cloth's two yarn directions (every column of nodes by one offset along the
    warp yarns, every row by one along the weft), so that every crossing keeps its right angle."""
    rng = np.random.default_rng(seed)
    state = model.state()
    q = state.q.numpy()
    q[..., :3] *= stretch
    if sheared:
        q[..., :3] += rng.normal(scale=3e-5, size=q[..., :3].shape)
    else:
        grid = model.to_grid(q[..., :3])
        along_warp = grid[:, 1, 0] - grid[:, 0, 0]
        along_weft = grid[:, 0, 1] - grid[:, 0, 0]
        width, height = model.nodes
        offset_i = np.cumsum(rng.normal(scale=0.05, size=width))
        offset_j = np.cumsum(rng.normal(scale=0.05, size=height))
        grid += (offset_i[None, :, None, None] * along_warp[:, None, None, :]
                 + offset_j[None, None, :, None] * along_weft[:, None, None, :])
        q[..., :3] = model.from_grid(grid)
    q[..., 3:] += model.crossing_mask_np[None, :, None] * rng.normal(scale=2e-6, size=q[..., 3:].shape)
    anchor = q[..., 3:] + rng.normal(scale=4e-8, size=q[..., 3:].shape)
    state.q.assign(q)
    state.anchor.assign(anchor)
    solver.eval_forces(state)
    return state


def _term_forces(model, solver, state, term, q_np):
    """The term's forces at coordinates ``q_np`` (frozen crossing state), [B, nodes, 5]."""
    q = wp.array(q_np, dtype=vec5d, device=model.device)
    out = wp.zeros(q.shape, dtype=vec5d, device=model.device)
    c = solver.configuration(state).at(q)
    run_launches(term.force_launches(model, c, out, solver.workspaces[term]), model.device)
    return out.numpy()


def _term_energy(model, solver, state, term, q_np) -> float:
    q = wp.array(q_np, dtype=vec5d, device=model.device)
    c = solver.configuration(state).at(q)
    total = 0.0
    for launch in term.energy_launches(model, c, solver.workspaces[term]):
        energy = wp.zeros(launch.dim, dtype=wp.float64, device=model.device)
        Launch(launch.kernel, launch.dim, launch.inputs, [energy]).run(model.device)
        total += float(energy.numpy().sum())
    return total


def force_energy_error(model, solver, state, term, *, step_scale: float = 1.0) -> float:
    """|F + dE/dq| / |F| of ``term`` at ``state`` (central differences per DOF of world 0, with steps
    ``step_scale`` times EPS_X and EPS_S: larger ones suit energies nearly linear in q, such as gravity's)."""
    q0 = state.q.numpy().copy()
    force = _term_forces(model, solver, state, term, q0)
    mask = model.dof_mask.numpy()
    numeric = np.zeros_like(force)
    for n in range(model.node_count):
        for k in range(5):
            if mask[n, k] == 0.0:
                continue
            eps = (EPS_X if k < 3 else EPS_S) * step_scale
            qp, qm = q0.copy(), q0.copy()
            qp[0, n, k] += eps
            qm[0, n, k] -= eps
            step = qp[0, n, k] - qm[0, n, k]
            numeric[0, n, k] = -(_term_energy(model, solver, state, term, qp)
                                 - _term_energy(model, solver, state, term, qm)) / step
    force = (force * mask)[:1]
    assert np.linalg.norm(force) > 0.0, f"{term.name}: no force at the deformed state"
    return float(np.linalg.norm(force - numeric[:1]) / np.linalg.norm(force))


def stiffness_error(model, solver, state, term, *, seed=7) -> dict[str, float]:
    """Relative errors of the term's h^2 K p against force differences: {"matrix_free": .., "assembled": ..}
    (the latter only when the term has an assembled form of its stiffness)."""
    rng = np.random.default_rng(seed)
    mask = model.dof_mask.numpy()
    p = rng.normal(size=(model.world_count, model.node_count, 5)) * mask
    p[..., :3] *= EPS_X * 100
    p[..., 3:] *= EPS_S * 10
    h = solver.dt
    q0 = state.q.numpy()
    numeric = -(h * h) * (_term_forces(model, solver, state, term, q0 + p)
                          - _term_forces(model, solver, state, term, q0 - p)) / 2.0 * mask
    dev = model.device
    p_wp = wp.array(p, dtype=vec5d, device=dev)
    c = solver.configuration(state)
    seed_wp = wp.array(-(h * h) * p, dtype=vec5d, device=dev)
    out = wp.zeros_like(p_wp)
    run_launches(term.stiffness_product_launches(model, c, p_wp, h, seed_wp, out, solver.workspaces[term]), dev)
    scale = np.linalg.norm(numeric)
    errors = {"matrix_free": float(np.linalg.norm(out.numpy() * mask - numeric) / scale)}
    assembled = _assembled_stiffness(model, solver, c, term, p_wp, h)
    if assembled is not None:
        errors["assembled"] = float(np.linalg.norm(assembled * mask - numeric) / scale)
    return errors


def _assembled_stiffness(model, solver, c: Configuration, term, p_wp, h):
    """h^2 K p of the term alone through the assembled operator (its family rows and blocks), or None when
    the term has no assembled form (the operator then applies it matrix-free)."""
    from simulator._assembled import AssembledOperator

    operator = AssembledOperator(model, terms=[term], workspaces=solver.workspaces)
    operator.assemble(c, h)
    if term in operator.matrix_free_terms:
        return None
    out = wp.zeros_like(p_wp)
    operator.apply(p_wp, out)
    linear = wp.zeros_like(p_wp)
    run_launches(term.linear_product_launches(model, c, p_wp, h, linear, solver.workspaces[term]), model.device)
    return out.numpy() - linear.numpy()


def gradient_error(model, name: str, *, steps=6, relative_step=1e-5, dt=1e-3, contacts=None,
                   state=None) -> tuple[float, float]:
    """(reverse-mode dL/dp, relative difference to central differences) for the parameter array ``name``
    scaled as a whole (p -> p (1 + t)), with L a trajectory loss against a rollout of slightly changed
    positions (``contacts`` given to every step), from ``state`` (default: rest)."""
    solver = simulator.SolverImplicit(model, dt=dt, tolerance=1e-13, max_iterations=3000)
    target = simulator.rollout(model, solver, steps=steps, contacts=contacts, state=state).x[:, 1:] + 2e-6
    loss = simulator.TrajectoryLoss(model, steps=list(range(1, steps + 1)), positions=target)
    base = model.parameter(name)
    result = simulator.rollout_gradient(model, solver, loss, steps=steps, contacts=contacts, state=state)
    assert result.health.unconverged == 0 and result.adjoint_health.unconverged == 0
    reverse = float((result.parameters.numpy()[name] * base).sum())

    def value(t):
        model.set_parameter(name, base * (1.0 + t))
        start = model.state()
        if state is not None:
            start.assign(state)
        total = loss.value(0, start)
        for k, _previous, current in simulator.advance(model, solver, steps=steps, state=start, contacts=contacts):
            total = total + loss.value(k, current)
        return float(np.sum(total))

    central = (value(relative_step) - value(-relative_step)) / (2 * relative_step)
    model.set_parameter(name, base)
    return reverse, abs(reverse - central) / max(abs(reverse), abs(central))
