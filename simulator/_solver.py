"""Linearized backward-Euler solver of the yarn-level model over the model's force terms.

One step solves (M + h D + h^2 K) qdot+ = M qdot + h F(q) for the new velocities of all worlds, then
q+ = q + h qdot+ and the friction anchors follow the sliding (docs/PHYSICS.md section 3). Everything specific
to a physical term lives in its module under ``simulator/terms/``; this module only orders them:

1. the ``Stage.SLIDING`` terms' forces (stretch, gravity, contact, bending, inertia) into ``force_slide``;
2. the terms' ``linearize_launches``: the crossing state of the step (normals, compression N, stick/slip
   indicators), frozen while the step solves;
3. the ``Stage.CROSSING`` terms (shear, friction springs, pins, wind) on top of them into ``force``;
4. the right-hand side M qdot + h F and the system A = M + h D + h^2 K from the terms: assembled once per
   step (``simulator._assembled``, the default) or matrix-free (every product from the terms' kernels);
5. batched preconditioned CG (``simulator._cg``) with the yarn-line preconditioner (``simulator._precond``),
   a term's bound on the solved velocity (obstacle contact's bound against tunnelling), then the integration.

``step(state_in, state_out, control=None, contacts=None, dt=None)`` takes the inputs of the step that vary
in time (``simulator.Control``; default the model's constants) and never allocates; with ``check_every=0``
it never reads back and can be captured in a CUDA graph. Every solve leaves its health in ``iterations``,
``residual`` and ``converged`` (per world).
"""

import numpy as np
import warp as wp

from materials import require_instance

from ._assembled import AssembledOperator, seed_product
from ._cg import ConjugateGradient
from ._launch import PlanCache, ReductionLayout, array_key, vector_dot
from ._model import Model, State
from ._precond import LinePreconditioner
from ._reference import QUIRKS, reference_terms, requires_matrix_free
from ._terms import Configuration, FrozenState, Launch, Stage, Zero, run_launches
from ._types import vec5d

__all__ = ["OPERATORS", "SolverImplicit"]

OPERATORS = ("assembled", "matrix_free")


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
        model: the cloth model (its ``terms`` are the physics).
        dt: time step h [s] (``step`` may override it per step).
        tolerance: relative residual of CG in the preconditioner norm, sqrt(r.Pr / b.Pb).
        max_iterations: CG iteration cap per solve (a solve that hits it is reported in ``converged``).
        check_every: CG iterations between host-side convergence checks; 0 never reads back, so the
            step always runs ``max_iterations`` iterations (converged worlds stay frozen) and can be
            captured in a CUDA graph.
        reference_quirks: names from ``QUIRKS`` of defects of the original implementation to reproduce,
            for comparisons with trajectories it produced: the solver replaces the model's terms by the
            substitutes of ``simulator._reference``. Any of them makes the step differ from the model's
            physics, and the Jacobian quirks make the system matrix non-symmetric, so gradients are refused.
        operator: how CG applies A = M + h D + h^2 K: "assembled" builds A once per solve as 5x5 blocks on the
            13-point node stencil, so that a product is one gather launch; "matrix_free" computes every product
            from the terms' kernels. Both give the same A to rounding. Substitutes whose system matrix is not
            the model's need "matrix_free" (``self.operator`` says which one is used).
        strict: rollouts with this solver raise ``SimulationError`` at the first solve that does not converge
            (``simulator.rollout`` and the gradients check ``converged`` after every solve).
    """

    def __init__(self, model: Model, *, dt: float, tolerance: float = 1.0e-6, max_iterations: int = 500,
                 check_every: int = 4, reference_quirks=(), operator: str = "assembled", strict: bool = False):
        require_instance("SolverImplicit(model)", model, Model, hint="build one with simulator.build_model(specs)")
        if not (dt > 0.0 and np.isfinite(dt)):
            raise ValueError(f"dt = {dt!r} is out of range: expected a finite time step > 0 s")
        if operator not in OPERATORS:
            raise ValueError(f"operator = {operator!r} unknown: expected one of {', '.join(OPERATORS)}")
        self.quirks = frozenset(reference_quirks)
        unknown = sorted(self.quirks - set(QUIRKS))
        if unknown:
            raise ValueError(f"reference_quirks {unknown} unknown: expected some of {', '.join(QUIRKS)}")
        self.model = model
        self.dt = float(dt)
        self.strict = bool(strict)
        self.cg = ConjugateGradient(model, tolerance=tolerance, max_iterations=max_iterations,
                                    check_every=check_every)
        self.terms = reference_terms(model.terms, self.quirks)
        self.workspaces = {term: term.workspace(model) for term in self.terms}
        worlds, nodes, dev = model.world_count, model.node_count, model.device
        self.frozen = FrozenState.zeros(worlds, nodes, dev)
        self.force = wp.zeros((worlds, nodes), dtype=vec5d, device=dev)
        self.rhs = wp.zeros((worlds, nodes), dtype=vec5d, device=dev)
        self.seed = wp.zeros((worlds, nodes), dtype=vec5d, device=dev)
        owned = [(term, term.owned_contacts(self.workspaces[term])) for term in self.terms]
        owned = [(term, contacts) for term, contacts in owned if contacts is not None]
        if len(owned) > 1:
            raise ValueError(f"terms {[t.name for t, _ in owned]} all own contacts: expected at most one")
        self.owned_contacts = owned[0][1] if owned else None
        bounding = [term for term in self.terms if term.bounds_velocity]
        if len(bounding) > 1:
            raise ValueError(f"terms {[t.name for t in bounding]} all bound the velocity: expected at most one")
        self.bounding_term = bounding[0] if bounding else None
        self.solved_velocity = wp.zeros((worlds, nodes), dtype=vec5d, device=dev) if bounding else None
        self.preconditioner = LinePreconditioner(model, terms=self.terms, workspaces=self.workspaces)
        self._default_control = model.control()
        self._dot_layout = ReductionLayout.for_device(dev, nodes)
        self._plans = PlanCache(dev)
        self._requested_operator = operator
        self.operator = "matrix_free" if requires_matrix_free(self.quirks) else operator
        self.assembled = (AssembledOperator(model, terms=self.terms, workspaces=self.workspaces)
                          if self.operator == "assembled" else None)

    def like(self, model: Model) -> "SolverImplicit":
        """A solver for ``model`` (e.g. a batch of perturbed worlds) with this solver's settings."""
        return SolverImplicit(model, dt=self.dt, tolerance=self.tolerance, max_iterations=self.max_iterations,
                              check_every=self.check_every, reference_quirks=self.quirks,
                              operator=self._requested_operator, strict=self.strict)

    # -- settings and health of the linear solves ------------------------------------------------------
    @property
    def tolerance(self) -> float:
        return self.cg.tolerance

    @property
    def max_iterations(self) -> int:
        return self.cg.max_iterations

    @property
    def check_every(self) -> int:
        return self.cg.check_every

    @property
    def iterations(self) -> wp.array:
        """CG iterations of the last solve, per world [B] (int32)."""
        return self.cg.iterations

    @property
    def residual(self) -> wp.array:
        """Final relative residual sqrt(r.Pr / b.Pb) of the last solve, per world [B]."""
        return self.cg.residual

    @property
    def converged(self) -> wp.array:
        """Whether the last solve reached the tolerance, per world [B] (int32 0/1)."""
        return self.cg.converged

    # -- force evaluation -------------------------------------------------------------------------------
    def configuration(self, state: State, control=None, contacts=None) -> Configuration:
        """What the force kernels read at ``state`` with ``control`` (default: the model's constant inputs) and
        ``contacts`` (default: those a term owns, e.g. self-contact's, or none)."""
        return Configuration(q=state.q, qd=state.qd, anchor=state.anchor,
                             control=self._default_control if control is None else control, frozen=self.frozen,
                             contacts=self.owned_contacts if contacts is None else contacts)

    def force_launches(self, c: Configuration) -> list[Launch]:
        """Every launch of the force evaluation at ``c``, in order (the adjoint replays them backwards): the
        ``Stage.SLIDING`` terms into ``frozen.force_slide``, the crossing state, then ``force``."""
        m, frozen = self.model, self.frozen
        launches = []
        for term in self.terms:
            if term.stage == Stage.SLIDING:
                launches += term.force_launches(m, c, frozen.force_slide, self.workspaces[term])
        for term in self.terms:
            launches += term.linearize_launches(m, c, self.workspaces[term])
        launches.append(Launch(accumulate, (m.world_count, m.node_count), [frozen.force_slide], [self.force]))
        for term in self.terms:
            if term.stage == Stage.CROSSING:
                launches += term.force_launches(m, c, self.force, self.workspaces[term])
        return launches

    def eval_forces(self, state: State, control=None, contacts=None) -> wp.array2d:
        """Find the step's interactions (the terms' ``collide``), evaluate all forces at ``state`` (no damping)
        into ``self.force`` and freeze the state of the step (crossings' compression N, stick/slip indicators,
        normals; contacts). Returns ``self.force``."""
        c = self.configuration(state, control, contacts)
        for term in self.terms:
            term.collide(self.model, c, self.workspaces[term])
        self._plans.run(("forces", *c.key()),
                        lambda: [Zero(self.force), Zero(self.frozen.force_slide), *self.force_launches(c)])
        return self.force

    def implicit_force_launches(self, c: Configuration, out: wp.array2d) -> list[Launch]:
        """The launches of the implicit terms' forces at ``c`` (frozen crossing state) into ``out``."""
        launches = []
        for term in self.terms:
            if term.implicit:
                launches += term.force_launches(self.model, c, out, self.workspaces[term])
        return launches

    def eval_implicit_forces(self, q: wp.array2d, anchor: wp.array2d, out: wp.array2d, control=None) -> wp.array2d:
        """Add the implicit forces at configuration q (with the frozen crossing state of the last
        ``eval_forces``) into ``out``; these are -dE/dq of ``eval_energy``."""
        c = Configuration(q=q, qd=self.rhs, anchor=anchor,
                          control=self._default_control if control is None else control, frozen=self.frozen)
        run_launches(self.implicit_force_launches(c, out), self.model.device)
        return out

    def eval_energy(self, q: wp.array2d, anchor: wp.array2d, control=None) -> np.ndarray:
        """Potential energy [J] per world of the implicit terms at q (frozen crossing state)."""
        c = Configuration(q=q, qd=self.rhs, anchor=anchor,
                          control=self._default_control if control is None else control, frozen=self.frozen)
        total = np.zeros(self.model.world_count)
        for term in self.terms:
            for launch in term.energy_launches(self.model, c, self.workspaces[term]):
                energy = wp.zeros(launch.dim, dtype=wp.float64, device=self.model.device)
                Launch(launch.kernel, launch.dim, launch.inputs, [energy]).run(self.model.device)
                total += energy.numpy().reshape(self.model.world_count, -1).sum(axis=1)
        return total

    # -- the system matrix ------------------------------------------------------------------------------
    def product_launches(self, c: Configuration, p: wp.array2d, h: float, out: wp.array2d) -> list[Launch]:
        """Launches adding (M + h D + h^2 K) p at ``c`` into ``out`` from the terms (``self.seed`` = -h^2 p
        must be set first)."""
        launches = []
        for term in self.terms:
            ws = self.workspaces[term]
            launches += term.linear_product_launches(self.model, c, p, h, out, ws)
            launches += term.stiffness_product_launches(self.model, c, p, h, self.seed, out, ws)
        return launches

    def apply_system(self, q: wp.array2d, anchor: wp.array2d, p: wp.array2d, out: wp.array2d, *, control=None,
                     h: float | None = None) -> None:
        """out = (M + h D + h^2 K) p at configuration q, matrix-free, with the frozen crossing state of the step."""
        c = Configuration(q=q, qd=self.rhs, anchor=anchor,
                          control=self._default_control if control is None else control, frozen=self.frozen)
        self._matrix_free_product(c, p, out, self.dt if h is None else h)

    def _matrix_free_product(self, c: Configuration, p, out, h: float) -> None:
        out.zero_()
        seed_product(p, h, self.seed, self.model)
        run_launches(self.product_launches(c, p, h, out), self.model.device)

    def prepare_operator(self, c: Configuration, h: float) -> None:
        """Make ``apply_operator`` apply A at ``c`` (assembles A for the assembled operator; needs the frozen
        crossing state of ``eval_forces``)."""
        self._operator_configuration = (c, h)
        if self.assembled is not None:
            self.assembled.assemble(c, h)

    def apply_operator(self, p: wp.array2d, out: wp.array2d, dot: wp.array = None) -> None:
        """out = A p with the solver's operator (after ``prepare_operator``); with ``dot`` [B] given, also
        dot[b] += p . A p."""
        if self.assembled is not None:
            self.assembled.apply(p, out, dot, seed=self.seed)
            return
        m = self.model
        c, h = self._operator_configuration
        self._matrix_free_product(c, p, out, h)
        if dot is not None:
            layout = self._dot_layout
            wp.launch(vector_dot, dim=(m.world_count, layout.threads), inputs=[p, out, m.node_count, layout.span],
                      outputs=[dot], device=m.device, block_dim=layout.block_dim)

    # -- step -----------------------------------------------------------------------------------------------
    def step(self, state_in: State, state_out: State, control=None, contacts=None, dt: float | None = None) -> None:
        """Advance all worlds by one time step from ``state_in`` into ``state_out`` (no allocation).

        Args:
            control: the step's inputs (``simulator.Control``); None: the model's constant wind and pin targets.
            contacts: extra interactions of this step (``simulator.Contacts``), or None.
            dt: this step's time step [s] (default the solver's ``dt``).
        """
        m = self.model
        h = self.dt if dt is None else float(dt)
        c = self.configuration(state_in, control, contacts)
        self.eval_forces(state_in, control, contacts)
        velocity = state_out.qd
        solution = velocity if self.bounding_term is None else self.solved_velocity
        wp.copy(solution, state_in.qd)
        self.solve_velocity(c, solution, h)
        if self.bounding_term is not None:
            self._plans.run(("bound", h, *c.key(), id(velocity)), lambda: self.bound_launches(c, h, velocity))
        self._plans.run(("integrate", h, *c.key(), *array_key(state_out.q, state_out.qd, state_out.anchor)),
                        lambda: [Launch(integrate, (m.world_count, m.node_count),
                                        [state_in.q, state_in.anchor, velocity, self.frozen.slide_rate, h],
                                        [state_out.q, state_out.anchor])])

    def solve_velocity(self, c: Configuration, velocity: wp.array2d, h: float) -> None:
        """Solve the step's system A qdot+ = M qdot + h F at ``c`` (forces from ``eval_forces``) into ``velocity``,
        starting from its current values; before any term's velocity bound."""
        self._plans.run(("rhs", h, *c.key()), lambda: self._rhs_launches(c, h))
        self.solve(c, self.rhs, velocity, h)

    def bound_launches(self, c: Configuration, h: float, out: wp.array2d) -> list[Launch]:
        """The bounding term's launches from ``solved_velocity`` into ``out`` (the velocity the step integrates)."""
        term = self.bounding_term
        return term.velocity_bound_launches(self.model, c, h, self.solved_velocity, out, self.workspaces[term])

    def _rhs_launches(self, c: Configuration, h: float) -> list:
        """rhs = mask * (M qdot + h F) from the terms' momentum and the forces of ``eval_forces``."""
        m = self.model
        launches = [Zero(self.rhs)]
        for term in self.terms:
            launches += term.momentum_launches(m, c, c.qd, self.rhs, self.workspaces[term])
        launches.append(Launch(assemble_rhs, (m.world_count, m.node_count), [self.force, m.dof_mask, h], [self.rhs]))
        return launches

    def solve(self, c: Configuration, rhs: wp.array2d, velocity: wp.array2d, h: float | None = None) -> None:
        """Solve (M + hD + h^2 K) velocity = rhs at ``c`` with preconditioned CG, starting from ``velocity``.

        Needs the frozen crossing state of the step (``eval_forces``); updates the preconditioner and the
        operator at ``c``. Each world stops when sqrt(r.Pr / b.Pb) <= tolerance; ``converged`` and
        ``residual`` report how each world ended.
        """
        h = self.dt if h is None else h
        self.preconditioner.update(c, h)
        self.prepare_operator(c, h)
        self.cg.solve(self.apply_operator, self.preconditioner.apply, rhs, velocity)
