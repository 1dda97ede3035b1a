"""Reverse mode through one implicit step: the adjoint of the linear solve and of the force assembly.

A step maps (q, qd, anchor; theta) to (q+, qd+ = v, anchor+) through
    A(q, N, stick; theta) v = b = M(q) qd + h F(q, qd, anchor; theta),   A = M + h D + h^2 K,
    q+ = q + h v,   anchor+ = anchor + h sigma * v_s.
Given the adjoints of the outputs, the backward pass
  1. back-propagates the integration (exact, by Warp's kernel adjoints) and a term's bound on the solved
     velocity (recomputing the solution v of the step, which the bound may have changed),
  2. solves A lambda = v_bar with the same CG (A is symmetric: A^T = A), the implicit-function
     theorem replacing the differentiation of the iterations,
  3. adds -lambda^T (dA) v: the mass and damping parts, and the stiffness products that are kernels of their
     own (``ForceTerm.explicit_stiffness``, e.g. stretching's projected Hessian), by kernel adjoints; the other
     stiffness parts h^2 d/d(.) [lambda^T dF/dq v] as a float64 central difference along v of the force
     kernels' adjoints (Warp has no second-order mode): h^2 [G(q + eps v) - G(q - eps v)] / (2 eps),
     G(y) = grad of lambda^T F(y), with eps v ~ 1e-6 spacing (relative truncation error ~1e-12),
  4. back-propagates b = M qd + h F through the recorded list of force kernels in reverse order.
Parameter adjoints land in per-element arrays (one address per element and world, no hot spot).
"""

from dataclasses import dataclass

import numpy as np
import warp as wp

from ._model import Model, State
from ._solver import SolverImplicit, integrate
from ._terms import Launch, run_launches
from ._types import vec5d


@dataclass
class StateAdjoint:
    """Adjoints (gradients of a scalar loss) of a State's arrays, same shapes as State."""

    q: wp.array2d
    qd: wp.array2d
    anchor: wp.array2d

    @classmethod
    def zeros(cls, model: Model) -> "StateAdjoint":
        shape = (model.world_count, model.node_count)
        dev = model.device
        return cls(q=wp.zeros(shape, dtype=vec5d, device=dev), qd=wp.zeros(shape, dtype=vec5d, device=dev),
                   anchor=wp.zeros(shape, dtype=wp.vec2d, device=dev))

    def zero_(self) -> None:
        self.q.zero_()
        self.qd.zero_()
        self.anchor.zero_()


class ModelGradient:
    """Gradients of a scalar loss with respect to every parameter array of a Model (same shapes; the arrays
    its terms add included, see ``Model.parameter_names``)."""

    def __init__(self, model: Model):
        self.names = model.parameter_names
        for name in self.names:
            setattr(self, name, wp.zeros_like(getattr(model, name)))

    def zero_(self) -> None:
        for name in self.names:
            getattr(self, name).zero_()

    def numpy(self) -> dict[str, np.ndarray]:
        """Copies of all gradient arrays, by parameter name."""
        return {name: getattr(self, name).numpy().copy() for name in self.names}


@wp.kernel
def add_masked(src: wp.array2d(dtype=vec5d), dof_mask: wp.array(dtype=vec5d), dst: wp.array2d(dtype=vec5d)):
    """dst = mask * (dst + src)."""
    b, n = wp.tid()
    dst[b, n] = wp.cw_mul(dof_mask[n], dst[b, n] + src[b, n])


@wp.kernel
def scaled(src: wp.array2d(dtype=vec5d), scale: wp.float64, dst: wp.array2d(dtype=vec5d)):
    """dst = scale * src."""
    b, n = wp.tid()
    dst[b, n] = scale * src[b, n]


@wp.kernel
def add_scaled(src: wp.array2d(dtype=vec5d), scale: wp.float64, dst: wp.array2d(dtype=vec5d)):
    """dst += scale * src."""
    b, n = wp.tid()
    dst[b, n] = dst[b, n] + scale * src[b, n]


@wp.kernel
def shifted_configuration(q: wp.array2d(dtype=vec5d), v: wp.array2d(dtype=vec5d), eps: wp.array(dtype=wp.float64),
                          sign: wp.float64, h: wp.float64, lam: wp.array2d(dtype=vec5d),
                          y: wp.array2d(dtype=vec5d), seed: wp.array2d(dtype=vec5d)):
    """y = q + sign eps v and seed = sign h^2 / (2 eps) lambda (per world eps)."""
    b, n = wp.tid()
    e = eps[b]
    y[b, n] = q[b, n] + (sign * e) * v[b, n]
    if e > wp.float64(0.0):
        seed[b, n] = (sign * h * h / (wp.float64(2.0) * e)) * lam[b, n]
    else:
        seed[b, n] = vec5d()


class StepAdjoint:
    """Backward pass of ``SolverImplicit.step`` (buffers allocated once).

    Args:
        solver: the forward solver; its CG solves the adjoint system too (its ``converged`` and ``residual``
            then report the adjoint solve).
        perturbation: largest displacement [m] of the central difference for the stiffness
            derivative, relative to the model spacing.
    """

    def __init__(self, solver: SolverImplicit, *, perturbation: float = 1.0e-6):
        if solver.quirks:
            raise ValueError(f"gradients need the model's physics; this solver reproduces reference quirks "
                             f"{sorted(solver.quirks)} (non-symmetric system): use reference_quirks=()")
        self.solver = solver
        model = solver.model
        self.model = model
        self.perturbation = float(perturbation) * model.spacing
        shape = (model.world_count, model.node_count)
        dev = model.device

        def vec():
            return wp.zeros(shape, dtype=vec5d, device=dev)

        self.adj_force, self.adj_force_slide, self.adj_velocity, self.lam = vec(), vec(), vec(), vec()
        self.neg_lam, self.shifted, self.seed, self.scratch, self.zero5 = vec(), vec(), vec(), vec(), vec()
        self.adj_normal = wp.zeros(shape, dtype=wp.vec3d, device=dev)
        self.adj_compression = wp.zeros(shape, dtype=wp.float64, device=dev)
        self.adj_stick = wp.zeros(shape, dtype=wp.vec2d, device=dev)
        self.adj_slide = wp.zeros(shape, dtype=wp.vec2d, device=dev)
        self.eps = wp.zeros(model.world_count, dtype=wp.float64, device=dev)
        # adjoints of the terms' own frozen arrays, and of the solved velocity before a term's bound
        self.adj_frozen = {id(array): wp.zeros_like(array) for term in solver.terms
                           for array in term.frozen_arrays(solver.workspaces[term])}
        self.adj_solved = vec() if solver.bounding_term is not None else None

    def _adjoints(self, launches, adjoints: dict) -> list[Launch]:
        return [launch.adjoint_of(adjoints, zero_output=self.zero5) for launch in launches]

    def backward(self, state_in: State, state_out: State, adj_out: StateAdjoint, adj_in: StateAdjoint,
                 grads: ModelGradient, *, control=None, adj_control=None, contacts=None,
                 dt: float | None = None) -> None:
        """Given the adjoints of ``state_out`` (the step's result from ``state_in`` with ``control``), overwrite
        ``adj_in`` with the adjoints of ``state_in``, add the parameter adjoints into ``grads`` and, for a
        control of its own (not the model's constants), the control adjoints into ``adj_control``."""
        solver, model = self.solver, self.model
        h = solver.dt if dt is None else float(dt)
        dev = model.device
        nodes = (model.world_count, model.node_count)
        q, qd, anchor, v = state_in.q, state_in.qd, state_in.anchor, state_out.qd
        solver.eval_forces(state_in, control, contacts)
        c = solver.configuration(state_in, control, contacts)
        frozen = solver.frozen
        for arr in (self.adj_force, self.adj_force_slide, self.adj_velocity, self.lam, self.adj_normal,
                    self.adj_compression, self.adj_stick, self.adj_slide, *self.adj_frozen.values()):
            arr.zero_()
        adj_in.zero_()
        adjoints = {id(getattr(model, name)): getattr(grads, name) for name in model.parameter_names}
        if control is not None and adj_control is not None:
            adjoints.update(control.adjoint_map(adj_control))
        adjoints.update({
            id(q): adj_in.q, id(qd): adj_in.qd, id(anchor): adj_in.anchor,
            id(solver.force): self.adj_force, id(frozen.force_slide): self.adj_force_slide,
            id(frozen.normal): self.adj_normal, id(frozen.compression): self.adj_compression,
            id(frozen.stick): self.adj_stick, id(frozen.slide_rate): self.adj_slide, **self.adj_frozen,
        })
        # 1. integration q+ = q + h v, anchor+ = anchor + h sigma v_s; then v_bar += qd+_bar (free DOFs)
        integration = Launch(integrate, nodes, [q, anchor, v, frozen.slide_rate, h], [state_out.q, state_out.anchor])
        run_launches(self._adjoints([integration], {**adjoints, id(v): self.adj_velocity, id(state_out.q): adj_out.q,
                                                     id(state_out.anchor): adj_out.anchor}), dev)
        wp.launch(add_masked, dim=nodes, inputs=[adj_out.qd, model.dof_mask], outputs=[self.adj_velocity], device=dev)
        adj_solved = self.adj_velocity
        if solver.bounding_term is not None:  # the velocity was bounded: recompute the solution, back through
            v = solver.solved_velocity
            wp.copy(v, state_out.qd)
            solver.solve_velocity(c, v, h)
            self.adj_solved.zero_()
            bound = solver.bound_launches(c, h, state_out.qd)
            run_launches(self._adjoints(bound, {**adjoints, id(v): self.adj_solved,
                                                id(state_out.qd): self.adj_velocity}), dev)
            adj_solved = self.adj_solved
        # 2. A lambda = v_bar
        solver.solve(c, adj_solved, self.lam, h)
        # 3. -lambda^T (dA) v: the terms' mass and damping products by kernel adjoints ...
        wp.launch(scaled, dim=nodes, inputs=[self.lam, -1.0], outputs=[self.neg_lam], device=dev)
        for term in solver.terms:
            launches = term.linear_product_launches(model, c, v, h, self.scratch, solver.workspaces[term])
            run_launches(self._adjoints(launches, {**adjoints, id(self.scratch): self.neg_lam}), dev)
        # ... and the stiffness part by a central difference of the force adjoints along v
        self._stiffness_derivative(c, v, h, adjoints)
        # 4. b = M qd + h F: lambda into the momentum, h lambda into the forces, then the force chain backwards
        wp.launch(add_scaled, dim=nodes, inputs=[self.lam, h], outputs=[self.adj_force], device=dev)
        for term in solver.terms:
            launches = term.momentum_launches(model, c, qd, self.scratch, solver.workspaces[term])
            run_launches(self._adjoints(launches, {**adjoints, id(self.scratch): self.lam}), dev)
        run_launches(self._adjoints(list(reversed(solver.force_launches(c))), adjoints), dev)

    def _stiffness_derivative(self, c, v, h: float, adjoints: dict) -> None:
        """-lambda^T h^2 (dK/d.) v = h^2 d/d(.) [lambda^T dF/dq v] by a central difference along v of the
        implicit force kernels' adjoints seeded with lambda."""
        solver, model = self.solver, self.model
        dev = model.device
        nodes = (model.world_count, model.node_count)
        for term in solver.terms:  # products that are kernels of their own: their adjoints
            if term.implicit and term.explicit_stiffness:
                launches = term.stiffness_product_launches(model, c, v, h, self.seed, self.scratch,
                                                           solver.workspaces[term])
                run_launches(self._adjoints(launches, {**adjoints, id(self.scratch): self.neg_lam}), dev)
        speed = np.abs(v.numpy()).reshape(model.world_count, -1).max(axis=1)
        eps = np.where(speed > 0.0, self.perturbation / np.where(speed > 0.0, speed, 1.0), 0.0)
        self.eps.assign(eps)
        shifted = c.at(self.shifted)
        sink = solver.frozen.sink
        launches = [launch for term in solver.terms if term.implicit and not term.explicit_stiffness
                    for launch in term.force_launches(model, shifted, sink, solver.workspaces[term])]
        shifted_adjoints = {**adjoints, id(self.shifted): adjoints[id(c.q)], id(sink): self.seed}
        for sign in (1.0, -1.0):
            wp.launch(shifted_configuration, dim=nodes, inputs=[c.q, v, self.eps, sign, h, self.lam],
                      outputs=[self.shifted, self.seed], device=dev)
            run_launches(self._adjoints(launches, shifted_adjoints), dev)
