"""Linearized backward-Euler solver with a batched, preconditioned CG and a yarn-line preconditioner.

One step solves (M + h D + h^2 K) qdot+ = M qdot + h F(q) for the new velocities of all worlds,
then q+ = q + h qdot+ and the friction anchors follow the sliding (yarn-model.md section 3).
M is the integrated Eulerian-on-Lagrangian mass, D the sliding damping and K = -dF/dq the stiffness
of the implicit forces (stretch, gravity, contact, bending, shear, pins, friction springs) with the
compression N and stick/slip indicators frozen at the start of the step. By default A is assembled
once per solve as 5x5 blocks on the 13-point node stencil (``simulator._assembled``, exact element
Hessians); ``operator="matrix_free"`` instead computes K p in every CG iteration as the adjoint of
the force kernels seeded with p (K is symmetric, so the vector-Jacobian product equals the
Jacobian-vector product). Both give the same A to rounding. Wind and the velocity-quadratic inertial
forces are explicit. All of M, D and K are symmetric, so CG applies; each world has its own CG
scalars and stops on its own, so B worlds give exactly B separate runs.
"""

import numpy as np
import warp as wp

from materials import require_instance

from ._assembled import AssembledOperator
from ._crimp import eval_compression, eval_friction_switches, eval_normals
from ._energy import eval_bending_energy, eval_node_energy, eval_segment_energy, eval_shear_energy
from ._kernels import (
    eval_bending_forces,
    eval_inertial_forces,
    eval_node_forces,
    eval_segment_forces,
    eval_shear_forces,
    eval_wind_forces,
    material_length,
    position,
    slide,
)
from ._launch import LaunchCache, ReductionLayout
from ._model import Model, State
from ._precond import LinePreconditioner
from ._reference import (
    QUIRKS,
    bending_reference_matvec,
    bending_theta_correction,
    border_coupling_correction,
    eval_shear_forces_reference,
    shear_reference_matvec,
)
from ._types import vec5d

OPERATORS = ("assembled", "matrix_free")
#: Reference quirks that change the implicit forces or the system matrix: the assembled operator
#: reproduces only the model's exact matrix, so with any of them the solver uses the matrix-free one.
JACOBIAN_QUIRKS = frozenset(("bend_jacobian", "border_coupling", "friction", "shear_precedence", "shear_jacobian"))
ENERGY_KERNELS = (eval_segment_energy, eval_bending_energy, eval_shear_energy, eval_node_energy)


@wp.kernel
def mass_matvec(
    q: wp.array2d(dtype=vec5d),
    v: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    density: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    out: wp.array2d(dtype=vec5d),
):
    """out += M v for the integrated mass of every segment: M_e = rho ds / 6 [[2 Bw, Bw], [Bw, 2 Bw]],
    Bw = [[I, -w], [-w^T, w.w]]."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    ds = material_length(qa, qb, axis, spacing)
    w = (position(qb) - position(qa)) / ds
    m = density[b, e] * ds / wp.float64(6.0)
    va = v[b, ends[0]]
    vb = v[b, ends[1]]
    ya = position(va) - w * slide(va, axis)
    yb = position(vb) - w * slide(vb, axis)
    ma = m * (wp.float64(2.0) * ya + yb)
    mb = m * (ya + wp.float64(2.0) * yb)
    out_a = vec5d(ma[0], ma[1], ma[2], wp.float64(0.0), wp.float64(0.0))
    out_b = vec5d(mb[0], mb[1], mb[2], wp.float64(0.0), wp.float64(0.0))
    out_a[3 + axis] = -wp.dot(w, ma)
    out_b[3 + axis] = -wp.dot(w, mb)
    wp.atomic_add(out, b, ends[0], out_a)
    wp.atomic_add(out, b, ends[1], out_b)


@wp.kernel
def matvec_begin(
    p: wp.array2d(dtype=vec5d),
    dof_mask: wp.array(dtype=vec5d),
    damping: wp.array2d(dtype=wp.float64),
    h: wp.float64,
    out: wp.array2d(dtype=vec5d),
    seed: wp.array2d(dtype=vec5d),
):
    """out = h D p (sliding damping) and seed = -h^2 p for the stiffness adjoint."""
    b, n = wp.tid()
    pn = p[b, n]
    hd = h * damping[b, n]
    mask = dof_mask[n]
    zero = wp.float64(0.0)
    out[b, n] = vec5d(zero, zero, zero, hd * pn[3] * mask[3], hd * pn[4] * mask[4])
    seed[b, n] = -(h * h) * pn


@wp.kernel
def accumulate(src: wp.array2d(dtype=vec5d), dst: wp.array2d(dtype=vec5d)):
    """dst += src (atomic, so that its adjoint is adj_src += adj_dst)."""
    b, n = wp.tid()
    wp.atomic_add(dst, b, n, src[b, n])


@wp.kernel
def assemble_rhs(f: wp.array2d(dtype=vec5d), dof_mask: wp.array(dtype=vec5d), h: wp.float64,
                 rhs: wp.array2d(dtype=vec5d)):
    """rhs = mask * (M qdot + h F), with M qdot already in rhs."""
    b, n = wp.tid()
    rhs[b, n] = wp.cw_mul(dof_mask[n], rhs[b, n] + h * f[b, n])


@wp.kernel
def cg_residual(rhs: wp.array2d(dtype=vec5d), a_v: wp.array2d(dtype=vec5d), dof_mask: wp.array(dtype=vec5d),
                r: wp.array2d(dtype=vec5d)):
    """r = mask * (b - A v)."""
    b, n = wp.tid()
    r[b, n] = wp.cw_mul(dof_mask[n], rhs[b, n] - a_v[b, n])


@wp.kernel
def cg_dot(p: wp.array2d(dtype=vec5d), ap: wp.array2d(dtype=vec5d), node_count: int, span: int,
           out: wp.array(dtype=wp.float64)):
    """out[world] += p . q over ``span`` consecutive nodes per thread, summed over the thread block first
    (one atomic per block, see ReductionLayout)."""
    b, c = wp.tid()
    acc = wp.float64(0.0)
    for n in range(c * span, wp.min((c + 1) * span, node_count)):
        acc += wp.dot(p[b, n], ap[b, n])
    wp.tile_atomic_add(out, wp.tile_sum(wp.tile(acc)), offset=b)


@wp.kernel
def cg_update(
    v: wp.array2d(dtype=vec5d),
    p: wp.array2d(dtype=vec5d),
    ap: wp.array2d(dtype=vec5d),
    r: wp.array2d(dtype=vec5d),
    dof_mask: wp.array(dtype=vec5d),
    rz: wp.array(dtype=wp.float64),
    pap: wp.array(dtype=wp.float64),
    done: wp.array(dtype=wp.int32),
):
    """v += alpha p and r -= alpha A p with alpha = r.z / p.Ap (worlds that are done stay put)."""
    b, n = wp.tid()
    if done[b] != 0 or pap[b] <= wp.float64(0.0):
        return
    alpha = rz[b] / pap[b]
    v[b, n] = v[b, n] + alpha * p[b, n]
    r[b, n] = r[b, n] - alpha * wp.cw_mul(dof_mask[n], ap[b, n])


@wp.kernel
def cg_direction(p: wp.array2d(dtype=vec5d), z: wp.array2d(dtype=vec5d), rz: wp.array(dtype=wp.float64),
                 rz_new: wp.array(dtype=wp.float64), done: wp.array(dtype=wp.int32)):
    """p = z + beta p with beta = r.z (new) / r.z (old)."""
    b, n = wp.tid()
    if done[b] != 0 or rz[b] <= wp.float64(0.0):
        return
    p[b, n] = z[b, n] + (rz_new[b] / rz[b]) * p[b, n]


@wp.kernel
def cg_advance(rz: wp.array(dtype=wp.float64), rz_new: wp.array(dtype=wp.float64),
               pap: wp.array(dtype=wp.float64), bz: wp.array(dtype=wp.float64), tolerance_sq: wp.float64,
               done: wp.array(dtype=wp.int32), iterations: wp.array(dtype=wp.int32)):
    """Per world: count the iteration, stop on a small residual (or a non-positive curvature p.Ap)."""
    b = wp.tid()
    if done[b] != 0:
        return
    iterations[b] = iterations[b] + 1
    if rz_new[b] <= tolerance_sq * bz[b] or pap[b] <= wp.float64(0.0):
        done[b] = 1
    rz[b] = rz_new[b]
    rz_new[b] = wp.float64(0.0)
    pap[b] = wp.float64(0.0)


@wp.kernel
def cg_mark_converged(rz: wp.array(dtype=wp.float64), bz: wp.array(dtype=wp.float64),
                      tolerance_sq: wp.float64, done: wp.array(dtype=wp.int32)):
    b = wp.tid()
    if rz[b] <= tolerance_sq * bz[b]:
        done[b] = 1


@wp.kernel
def integrate(
    q: wp.array2d(dtype=vec5d),
    anchor: wp.array2d(dtype=wp.vec2d),
    v: wp.array2d(dtype=vec5d),
    slide_rate: wp.array2d(dtype=wp.vec2d),
    h: wp.float64,
    q_out: wp.array2d(dtype=vec5d),
    anchor_out: wp.array2d(dtype=wp.vec2d),
):
    """q+ = q + h qdot+; anchors follow the sliding velocity at the slide rate sigma: a+ = a + sigma sdot+ h."""
    b, n = wp.tid()
    vn = v[b, n]
    q_out[b, n] = q[b, n] + h * vn
    sr = slide_rate[b, n]
    anchor_out[b, n] = anchor[b, n] + h * wp.vec2d(sr[0] * vn[3], sr[1] * vn[4])


class SolverImplicit:
    """Linearized backward-Euler step of the yarn-level model for all worlds of a Model.

    Args:
        model: the cloth model.
        dt: time step h [s].
        tolerance: relative residual of CG in the preconditioner norm, sqrt(r.Pr / b.Pb).
        max_iterations: CG iteration cap per step.
        check_every: CG iterations between host-side convergence checks; 0 never reads back, so the
            step always runs ``max_iterations`` iterations (converged worlds stay frozen) and can be
            captured in a CUDA graph.
        reference_quirks: names from ``QUIRKS`` of defects of the original implementation to reproduce,
            for comparisons with trajectories it produced (see ``simulator._reference``). Any of them
            makes the step differ from the model's physics, and the Jacobian quirks make the system
            matrix non-symmetric, so gradients are refused.
        operator: how CG applies the system matrix A = M + h D + h^2 K: "assembled" builds A once per
            solve as 5x5 blocks on the 13-point node stencil (``simulator._assembled``), so that a product
            is one gather launch; "matrix_free" computes every product as the adjoint of the force
            kernels. Both give the same A to rounding. With a reference quirk in ``JACOBIAN_QUIRKS``
            the solver always uses "matrix_free" (``self.operator`` says which one is used).
    """

    def __init__(self, model: Model, *, dt: float, tolerance: float = 1.0e-6, max_iterations: int = 500,
                 check_every: int = 4, reference_quirks=(), operator: str = "assembled"):
        require_instance("SolverImplicit(model)", model, Model, hint="build one with simulator.build_model(specs)")
        if not (dt > 0.0 and np.isfinite(dt)):
            raise ValueError(f"dt = {dt!r} is out of range: expected a finite time step > 0 s")
        if not (0.0 < tolerance < 1.0):
            raise ValueError(f"tolerance = {tolerance!r} is out of range: expected a value in (0, 1)")
        if max_iterations < 1:
            raise ValueError(f"max_iterations = {max_iterations!r} is out of range: expected >= 1")
        self.model = model
        self._launcher = LaunchCache(model.device)
        self.quirks = frozenset(reference_quirks)
        unknown = sorted(self.quirks - set(QUIRKS))
        if unknown:
            raise ValueError(f"reference_quirks {unknown} unknown: expected some of {', '.join(QUIRKS)}")
        self._original_friction = int("friction" in self.quirks)
        self.dt = float(dt)
        self.tolerance = float(tolerance)
        self.max_iterations = int(max_iterations)
        if check_every < 0:
            raise ValueError(f"check_every = {check_every!r} is out of range: expected >= 0")
        self.check_every = int(check_every)
        worlds, nodes, dev = model.world_count, model.node_count, model.device
        shape = (worlds, nodes)

        def vec():
            return wp.zeros(shape, dtype=vec5d, device=dev)

        self.force = vec()
        self.force_slide = vec()
        self.rhs = vec()
        self.preconditioner = LinePreconditioner(model)
        self.residual, self.precond_residual, self.direction, self.product, self.seed = (vec() for _ in range(5))
        self._unused_force = vec()  # output slot of adjoint launches (never written)
        self.normal = wp.zeros(shape, dtype=wp.vec3d, device=dev)
        self.compression = wp.zeros(shape, dtype=wp.float64, device=dev)
        self.stick = wp.zeros(shape, dtype=wp.vec2d, device=dev)
        self.slide_rate = wp.zeros(shape, dtype=wp.vec2d, device=dev)
        self._rz = wp.zeros(worlds, dtype=wp.float64, device=dev)
        self._rz_new = wp.zeros(worlds, dtype=wp.float64, device=dev)
        self._bz = wp.zeros(worlds, dtype=wp.float64, device=dev)
        self._pap = wp.zeros(worlds, dtype=wp.float64, device=dev)
        self._done = wp.zeros(worlds, dtype=wp.int32, device=dev)
        self.iterations = wp.zeros(worlds, dtype=wp.int32, device=dev)
        self._dot_layout = ReductionLayout.for_device(dev, nodes)
        if operator not in OPERATORS:
            raise ValueError(f"operator = {operator!r} unknown: expected one of {', '.join(OPERATORS)}")
        self.operator = "matrix_free" if self.quirks & JACOBIAN_QUIRKS else operator
        self.assembled = (AssembledOperator(model, compression=self.compression, stick=self.stick)
                          if self.operator == "assembled" else None)

    # -- force evaluation ---------------------------------------------------------------------
    def _implicit_launches(self, q: wp.array2d, anchor: wp.array2d):
        """(kernel, dim, inputs) of every force term treated implicitly, in evaluation order."""
        m = self.model
        b = m.world_count
        return [
            (eval_segment_forces, (b, m.segment_count),
             [q, m.segment_nodes, m.segment_axis, m.segment_reach, m.segment_density, m.segment_stretch_stiffness,
              m.segment_contact_stiffness, m.gravity, m.spacing]),
            (eval_bending_forces, (b, m.triple_count),
             [q, m.triple_nodes, m.triple_axis, m.triple_bend_stiffness, m.spacing]),
            (eval_shear_forces_reference if "shear_precedence" in self.quirks else eval_shear_forces,
             (b, m.stencil_count),
             [q, m.stencil_nodes, m.stencil_jam, m.stencil_shear_stiffness, self.compression, m.spacing,
              m.yarn_radius, m.lock_angle]),
            (eval_node_forces, (b, m.node_count),
             [q, anchor, m.dof_mask, m.node_pin_stiffness, m.node_pin_target, m.node_friction,
              m.node_friction_stiffness, self.compression, self.stick, self._original_friction]),
        ]

    def force_launches(self, q: wp.array2d, qd: wp.array2d, anchor: wp.array2d) -> list:
        """(kernel, dim, inputs, outputs) of the whole force evaluation at (q, qd, anchor), in order.

        The non-friction Eulerian forces (stretch, gravity, contact, bending, inertia) go to
        ``force_slide`` first, because the stick/slip indicators depend on them; they are then added to
        ``force`` together with shear (using N), pins, friction springs and wind. The adjoint pass
        replays this list backwards.
        """
        m = self.model
        b = m.world_count
        width, height = m.nodes
        segment, bending, shear, node = self._implicit_launches(q, anchor)
        slide_out, total_out = [self.force_slide], [self.force]
        nodes = (b, m.node_count)
        bend_theta = [(bending_theta_correction, (b, m.triple_count),
                       [q, m.triple_nodes, m.triple_axis, m.triple_bend_stiffness, m.spacing], slide_out)]
        return [
            (*segment, slide_out),
            (*bending, slide_out),
            *(bend_theta if "bend_theta" in self.quirks else []),
            (eval_inertial_forces, (b, m.segment_count),
             [q, qd, m.segment_nodes, m.segment_axis, m.segment_density, m.spacing], slide_out),
            (eval_normals, nodes, [q, m.node_flip, width, height], [self.normal]),
            (eval_compression, nodes,
             [q, self.normal, m.segment_stretch_stiffness, m.triple_bend_stiffness, width, height, m.spacing,
              m.yarn_radius],
             [self.compression]),
            (eval_friction_switches, nodes,
             [self.force_slide, self.compression, m.node_friction, m.node_friction_smoothing,
              self._original_friction],
             [self.stick, self.slide_rate]),
            (accumulate, nodes, [self.force_slide], total_out),
            (*shear, total_out),
            (*node, total_out),
            (eval_wind_forces, (b, m.face_count),
             [q, qd, m.face_nodes, m.wind_velocity, m.wind_density, m.wind_drag], total_out),
        ]

    def eval_forces(self, state: State) -> wp.array2d:
        """Evaluate all forces at ``state`` (no damping) into ``self.force`` and freeze the compression
        N, the stick/slip indicators and the crossing normals for the step. Returns ``self.force``."""
        self.force.zero_()
        self.force_slide.zero_()
        for kernel, dim, inputs, outputs in self.force_launches(state.q, state.qd, state.anchor):
            wp.launch(kernel, dim=dim, inputs=inputs, outputs=outputs, device=self.model.device)
        return self.force

    def eval_implicit_forces(self, q: wp.array2d, anchor: wp.array2d, out: wp.array2d) -> wp.array2d:
        """Add the implicit forces at configuration q (with the frozen N and indicators of the last
        ``eval_forces``) into ``out``; these are -dE/dq of ``eval_energy``."""
        for kernel, dim, inputs in self._implicit_launches(q, anchor):
            wp.launch(kernel, dim=dim, inputs=inputs, outputs=[out], device=self.model.device)
        return out

    def eval_energy(self, q: wp.array2d, anchor: wp.array2d) -> np.ndarray:
        """Potential energy [J] per world of the implicit terms at q (frozen N and indicators)."""
        total = np.zeros(self.model.world_count)
        for (_kernel, dim, inputs), energy_kernel in zip(self._implicit_launches(q, anchor), ENERGY_KERNELS,
                                                         strict=True):
            energy = wp.zeros(dim, dtype=wp.float64, device=self.model.device)
            wp.launch(energy_kernel, dim=dim, inputs=inputs, outputs=[energy], device=self.model.device)
            total += energy.numpy().sum(axis=1)
        return total

    # -- linear operator ------------------------------------------------------------------------
    def apply_system(self, q: wp.array2d, anchor: wp.array2d, p: wp.array2d, out: wp.array2d):
        """out = (M + h D + h^2 K) p at configuration q, with the frozen N and indicators of the step."""
        m = self.model
        h = self.dt
        wp.launch(matvec_begin, dim=(m.world_count, m.node_count),
                  inputs=[p, m.dof_mask, m.node_friction_damping, h], outputs=[out, self.seed], device=m.device)
        wp.launch(mass_matvec, dim=(m.world_count, m.segment_count),
                  inputs=[q, p, m.segment_nodes, m.segment_axis, m.segment_density, m.spacing], outputs=[out],
                  device=m.device)
        for kernel, dim, inputs in self._implicit_launches(q, anchor):
            if kernel is eval_bending_forces and "bend_jacobian" in self.quirks:
                wp.launch(bending_reference_matvec, dim=dim,
                          inputs=[q, p, m.triple_nodes, m.triple_axis, m.triple_bend_stiffness, m.spacing, h],
                          outputs=[out], device=m.device)
            elif kernel in (eval_shear_forces, eval_shear_forces_reference) and "shear_jacobian" in self.quirks:
                wp.launch(shear_reference_matvec, dim=dim,
                          inputs=[q, p, m.stencil_nodes, m.stencil_jam, m.stencil_shear_stiffness, self.compression,
                                  m.spacing, m.yarn_radius, m.lock_angle, h], outputs=[out], device=m.device)
            else:
                adj_inputs = [out] + [None] * (len(inputs) - 1)
                wp.launch(kernel, dim=dim, inputs=inputs, outputs=[self._unused_force], adj_inputs=adj_inputs,
                          adj_outputs=[self.seed], adjoint=True, device=m.device)
        if "border_coupling" in self.quirks:
            self._remove_border_coupling(q, p, out, stiffness=True)

    def prepare_operator(self, q: wp.array2d, anchor: wp.array2d) -> None:
        """Make ``apply_operator`` apply A at q (assembles A for the assembled operator; needs the
        frozen quantities of ``eval_forces``)."""
        if self.assembled is not None:
            self.assembled.assemble(q, anchor, self.dt)

    def apply_operator(self, q: wp.array2d, anchor: wp.array2d, p: wp.array2d, out: wp.array2d,
                       dot: wp.array = None) -> None:
        """out = A p with the solver's operator (after ``prepare_operator`` at q); with ``dot`` [B] given,
        also dot[b] += p . A p."""
        m = self.model
        if self.assembled is not None:
            self.assembled.apply(p, out, dot)
            return
        self.apply_system(q, anchor, p, out)
        if dot is not None:
            layout = self._dot_layout
            wp.launch(cg_dot, dim=(m.world_count, layout.threads), inputs=[p, out, m.node_count, layout.span],
                      outputs=[dot], device=m.device, block_dim=layout.block_dim)

    def _remove_border_coupling(self, q: wp.array2d, p: wp.array2d, out: wp.array2d, *, stiffness: bool) -> None:
        """Reference quirk: subtract the x-s coupling blocks between crossings and border nodes."""
        m = self.model
        wp.launch(border_coupling_correction, dim=(m.world_count, m.segment_count),
                  inputs=[q, p, m.segment_nodes, m.segment_axis, m.dof_mask, m.segment_density,
                          m.segment_stretch_stiffness, m.gravity, m.spacing, self.dt, int(stiffness)], outputs=[out],
                  device=m.device)

    # -- step -----------------------------------------------------------------------------------
    def step(self, state_in: State, state_out: State) -> None:
        """Advance all worlds by one time step dt from ``state_in`` into ``state_out`` (no allocation)."""
        m = self.model
        h = self.dt
        dim_nodes = (m.world_count, m.node_count)
        self.eval_forces(state_in)
        # right-hand side M qdot + h F
        self.rhs.zero_()
        wp.launch(mass_matvec, dim=(m.world_count, m.segment_count),
                  inputs=[state_in.q, state_in.qd, m.segment_nodes, m.segment_axis, m.segment_density, m.spacing],
                  outputs=[self.rhs], device=m.device)
        if "border_coupling" in self.quirks:
            self._remove_border_coupling(state_in.q, state_in.qd, self.rhs, stiffness=False)
        wp.launch(assemble_rhs, dim=dim_nodes, inputs=[self.force, m.dof_mask, h], outputs=[self.rhs],
                  device=m.device)
        self.preconditioner.update(state_in.q, h)
        velocity = state_out.qd
        wp.copy(velocity, state_in.qd)
        self.solve(state_in.q, state_in.anchor, self.rhs, velocity)
        wp.launch(integrate, dim=dim_nodes, inputs=[state_in.q, state_in.anchor, velocity, self.slide_rate, h],
                  outputs=[state_out.q, state_out.anchor], device=m.device)

    def solve(self, q: wp.array2d, anchor: wp.array2d, rhs: wp.array2d, velocity: wp.array2d) -> None:
        """Solve (M + hD + h^2 K) velocity = rhs at q with preconditioned CG, starting from ``velocity``.

        Needs the frozen quantities and the preconditioner of the current step (``eval_forces`` and
        ``preconditioner.update``); assembles the operator at q. Each world stops when
        sqrt(r.Pr / b.Pb) <= tolerance.
        """
        m = self.model
        dev = m.device
        tol_sq = self.tolerance**2
        nodes = (m.world_count, m.node_count)
        r, z, p, ap = self.residual, self.precond_residual, self.direction, self.product
        for arr in (self._rz, self._rz_new, self._bz, self._pap, self._done, self.iterations):
            arr.zero_()
        self.prepare_operator(q, anchor)
        self.preconditioner.apply(rhs, z, self._bz)
        self.apply_operator(q, anchor, velocity, ap)
        wp.launch(cg_residual, dim=nodes, inputs=[rhs, ap, m.dof_mask], outputs=[r], device=dev)
        self.preconditioner.apply(r, z, self._rz)
        wp.copy(p, z)
        wp.launch(cg_mark_converged, dim=m.world_count, inputs=[self._rz, self._bz, tol_sq], outputs=[self._done],
                  device=dev)
        launch = self._launcher.launch
        for it in range(self.max_iterations):
            self.apply_operator(q, anchor, p, ap, self._pap)
            launch(cg_update, nodes, [velocity, p, ap, r, m.dof_mask, self._rz, self._pap, self._done])
            self.preconditioner.apply(r, z, self._rz_new)
            launch(cg_direction, nodes, [p, z, self._rz, self._rz_new, self._done])
            launch(cg_advance, m.world_count, [self._rz, self._rz_new, self._pap, self._bz, tol_sq],
                   [self._done, self.iterations])
            if self.check_every and (it + 1) % self.check_every == 0 and bool(self._done.numpy().all()):
                break
