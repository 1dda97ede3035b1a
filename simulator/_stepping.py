"""The one step loop of the engine, and the health of its linear solves.

Every rollout in the project (``simulator.rollout``, both passes of ``rollout_gradient``, ``rollout_jvp``, the
fitting objectives, the gradient checks) advances states with ``advance``: it alternates two states (or fills
a given list of states), sets the step's inputs from the model's control schedule when it has one
(keyframed pin targets and wind, ``simulator.ControlSchedule``), checks every step with a ``StepMonitor``,
records the health of every linear solve (``SolveHealth``) and, for a strict solver, stops at the first
solve that did not converge.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._health import DEFAULT_LIMITS, SimulationError, StepLimits, StepMonitor
from ._model import Model, State

__all__ = ["SolveHealth", "SolveTally", "advance"]


@dataclass
class SolveHealth:
    """How the linear solves of a rollout (or of its adjoint pass) ended, per solve and world.

    Attributes:
        steps: the step of each recorded solve [S].
        iterations: CG iterations [S, B].
        residual: final relative residual sqrt(r.Pr / b.Pb) [S, B].
        converged: whether the residual reached the solver's tolerance [S, B].
    """

    steps: list = field(default_factory=list)
    iterations: list = field(default_factory=list)
    residual: list = field(default_factory=list)
    converged: list = field(default_factory=list)

    def record(self, step: int, solver) -> None:
        """Add the solver's last solve (reads back its per-world health)."""
        self.steps.append(int(step))
        self.iterations.append(solver.iterations.numpy().copy())
        self.residual.append(solver.residual.numpy().copy())
        self.converged.append(solver.converged.numpy().astype(bool))

    def extend(self, other: SolveHealth) -> None:
        """Add every solve recorded in ``other``."""
        self.steps += other.steps
        self.iterations += other.iterations
        self.residual += other.residual
        self.converged += other.converged

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(iterations, residual, converged) as arrays [S, B]."""
        if not self.steps:
            return np.zeros((0, 0), np.int32), np.zeros((0, 0)), np.zeros((0, 0), bool)
        return np.stack(self.iterations), np.stack(self.residual), np.stack(self.converged)

    @property
    def unconverged(self) -> int:
        """Number of (solve, world) pairs that did not reach the tolerance."""
        return int(sum(int((~c).sum()) for c in self.converged))

    @property
    def worst_residual(self) -> float:
        """The largest final relative residual of any solve and world (0 when none was recorded)."""
        return float(max((r.max() for r in self.residual), default=0.0))

    def summary(self) -> dict:
        """JSON-ready figures: solves, unconverged (solve, world) pairs, worst residual, mean and max iterations."""
        iterations = np.concatenate([i.ravel() for i in self.iterations]) if self.iterations else np.zeros(0)
        return {"solves": len(self.steps), "unconverged": self.unconverged, "worst_residual": self.worst_residual,
                "iterations_mean": float(iterations.mean()) if iterations.size else 0.0,
                "iterations_max": int(iterations.max()) if iterations.size else 0}

    def check(self, solver, *, what: str = "step") -> None:
        """Raise SimulationError when the last recorded solve did not converge in some world (strict mode)."""
        if not self.converged or self.converged[-1].all():
            return
        world = int(np.flatnonzero(~self.converged[-1])[0])
        step = self.steps[-1]
        residual = float(self.residual[-1][world])
        raise SimulationError(
            f"{what} {step}: the linear solve did not converge in world {world}: relative residual {residual:.3g} "
            f"after {int(self.iterations[-1][world])} iterations (tolerance {solver.tolerance:g}, "
            f"max_iterations {solver.max_iterations}); raise max_iterations or lower dt",
            step=step, quantity="linear solve residual")


@dataclass
class SolveTally:
    """Running totals of many rollouts' solves (a fit's hundreds of rollouts): solves, unconverged (solve, world)
    pairs and the worst final relative residual."""

    solves: int = 0
    unconverged: int = 0
    worst_residual: float = 0.0

    def add(self, health: SolveHealth) -> None:
        """Count the solves of one rollout."""
        self.solves += len(health.steps)
        self.unconverged += health.unconverged
        self.worst_residual = max(self.worst_residual, health.worst_residual)

    def summary(self) -> dict:
        """JSON-ready: solves, unconverged, worst_residual."""
        return {"solves": self.solves, "unconverged": self.unconverged, "worst_residual": self.worst_residual}


def advance(model: Model, solver, *, steps: int, state: State | None = None, first: int = 1,
            states: Sequence[State] | None = None, limits: StepLimits | None = DEFAULT_LIMITS, check: bool = True,
            health: SolveHealth | None = None, control=None, contacts=None) -> Iterator[tuple[int, State, State]]:
    """Advance ``steps`` steps; yield (t, previous, current) after each step t = first, ..., first + steps - 1.

    Args:
        state: the state before step ``first`` (default: the model's rest state, or ``states[0]`` as it is when
            ``states`` is given); it is not modified.
        first: the number of the first step (its control is the schedule's at time first * dt).
        states: optional list of steps + 1 states to fill: states[0] gets ``state``, states[k] the state after
            step first + k - 1 (the adjoint pass keeps a segment this way); by default two states alternate, so
            ``current`` is overwritten two steps later.
        limits: bounds of the step monitor (None: finiteness only).
        check: run the step monitor (False for steps known to be sound, e.g. recomputed ones).
        health: where to record each solve (default: not recorded, except for a strict solver's check).
        control: a ``simulator.Control`` buffer to fill from the model's schedule (default: one of its own when
            the model has a schedule; the model's constants otherwise).
        contacts: interactions outside the grid stencil (``simulator.Contacts``) given to every step, or None.

    Raises:
        SimulationError: a non-finite or unresolved step, or (strict solver) an unconverged solve.
    """
    if steps < 0:
        raise ValueError(f"steps = {steps!r} is out of range: expected >= 0")
    if states is not None and len(states) < steps + 1:
        raise ValueError(f"states holds {len(states)} states: expected at least steps + 1 = {steps + 1}")
    buffers = list(states) if states is not None else [model.state(), model.state()]
    if state is not None:
        buffers[0].assign(state)
    monitor = StepMonitor(model, dt=solver.dt, limits=limits) if check else None
    schedule = model.schedule
    if schedule is not None and control is None:
        control = schedule.control()
    if solver.strict and health is None:
        health = SolveHealth()
    for k in range(steps):
        t = first + k
        previous = buffers[k] if states is not None else buffers[k % 2]
        current = buffers[k + 1] if states is not None else buffers[(k + 1) % 2]
        if schedule is not None:
            schedule.fill(control, time=t * solver.dt)
        solver.step(previous, current, control, contacts)
        if health is not None:
            health.record(t, solver)
            if solver.strict:
                health.check(solver)
        if monitor is not None:
            monitor.check(previous, current, t)
        yield t, previous, current
