"""Gradients of a rollout loss: reverse mode with segment checkpointing, and central differences along tangents
batched as worlds (the engine's forward mode). Both run on the one step loop (``simulator._stepping``)."""

import math
from dataclasses import dataclass

import numpy as np
import warp as wp

from ._adjoint import ModelGradient, StateAdjoint, StepAdjoint
from ._control import ControlAdjoint
from ._memory import array_bytes
from ._model import Model, State
from ._solver import SolverImplicit
from ._stepping import SolveHealth, advance
from ._terms import run_launches

__all__ = ["INITIAL_STATE", "RolloutGradient", "RolloutJvp", "rollout_gradient", "rollout_jvp"]


@dataclass
class RolloutGradient:
    """Result of ``rollout_gradient``.

    Attributes:
        loss: loss value per world, shape [B].
        parameters: gradients of the loss with respect to every parameter array of the model (the keyframes of
            its pin and wind paths included).
        initial_state: gradients with respect to the initial state (q, qd, anchor).
        checkpoint_every: segment length used for checkpointing [steps].
        peak_bytes: bytes of all Warp arrays held during the pass (model, solver, adjoint buffers,
            gradients, checkpoints and segment states): what grows with the number of steps, and what not.
        health: the forward pass's linear solves; adjoint_health: the adjoint solves, one per step (a gradient
            from unconverged adjoint solves is not to be trusted).
    """

    loss: np.ndarray
    parameters: ModelGradient
    initial_state: StateAdjoint
    checkpoint_every: int
    peak_bytes: int
    health: SolveHealth
    adjoint_health: SolveHealth


def rollout_gradient(model: Model, solver: SolverImplicit, loss, *, steps: int, state: State | None = None,
                     checkpoint_every: int | None = None, truncate_every: int | None = None,
                     perturbation: float = 1.0e-6, contacts=None) -> RolloutGradient:
    """Loss of a ``steps``-step rollout and its gradient by reverse mode with segment checkpointing.

    Only the states at the start of every segment of ``checkpoint_every`` steps (default ceil(sqrt(steps)))
    are kept in the forward pass; each segment is recomputed once in the backward pass, so the
    memory grows like sqrt(steps) and the cost is about one extra forward pass. The model's keyframed inputs
    drive every step, and their gradients (with respect to the keyframes) are part of ``parameters``.

    Args:
        loss: an object with ``steps`` (observed step indices), ``value(step, state) -> [B]`` and
            ``add_adjoint(step, state, adj_q)`` (e.g. ``TrajectoryLoss``).
        state: initial state (default: the model's rest state). It is not modified.
        truncate_every: truncated back-propagation (the default None is exact): the state adjoint is
            cut every ``truncate_every`` steps counted back from the last step (at steps − s, steps − 2s,
            ... > 0), so a loss on the final state is back-propagated through the last s steps only, and
            the loss of any frame through 1 to s steps; the initial-state gradient is that of the first
            window. A biased gradient at the same cost; s ≥ steps is exact.
        perturbation: relative size of the central difference used for the stiffness derivative.
        contacts: interactions outside the grid stencil given to every step (``simulator.Contacts``), or None.

    Raises:
        SimulationError: a non-finite or unresolved step, or (strict solver) an unconverged forward or adjoint
            solve.
    """
    if steps < 1:
        raise ValueError(f"steps = {steps!r} is out of range: expected >= 1")
    segment = int(checkpoint_every) if checkpoint_every else max(1, math.ceil(math.sqrt(steps)))
    if segment < 1:
        raise ValueError(f"checkpoint_every = {checkpoint_every!r} is out of range: expected >= 1")
    if truncate_every is not None and int(truncate_every) < 1:
        raise ValueError(f"truncate_every = {truncate_every!r} is out of range: expected >= 1 (or None)")
    window = int(truncate_every) if truncate_every is not None else None
    start = model.state()
    if state is not None:
        start.assign(state)
    # forward: keep segment-start states
    checkpoints = {0: start}
    health = SolveHealth()
    total = loss.value(0, start)
    for t, _previous, current in advance(model, solver, steps=steps, state=start, health=health, contacts=contacts):
        total = total + loss.value(t, current)
        if t % segment == 0 and t < steps:
            checkpoints[t] = model.state()
            checkpoints[t].assign(current)
    # backward
    grads = ModelGradient(model)
    adjoint = StepAdjoint(solver, perturbation=perturbation)
    adj_out, adj_in = StateAdjoint.zeros(model), StateAdjoint.zeros(model)
    schedule = model.schedule
    control = schedule.control() if schedule is not None else None
    adj_control = ControlAdjoint.zeros(model) if schedule is not None else None
    buffers = [model.state() for _ in range(segment + 1)]
    adjoint_health = SolveHealth()
    peak = array_bytes(model, solver, adjoint, grads, adj_out, adj_in, loss, list(checkpoints.values()), buffers,
                       control, adj_control)
    for seg_start in sorted(checkpoints, reverse=True):
        seg_end = min(seg_start + segment, steps)
        buffers[0].assign(checkpoints[seg_start])
        for _ in advance(model, solver, steps=seg_end - seg_start, first=seg_start + 1, states=buffers, check=False,
                         contacts=contacts):
            pass
        for t in range(seg_end, seg_start, -1):
            k = t - seg_start
            if window is not None and t < steps and (steps - t) % window == 0:
                adj_out.zero_()
            loss.add_adjoint(t, buffers[k], adj_out.q)
            if schedule is not None:
                schedule.fill(control, time=t * solver.dt)
                adj_control.zero_()
            adjoint.backward(buffers[k - 1], buffers[k], adj_out, adj_in, grads, control=control,
                             adj_control=adj_control, contacts=contacts)
            adjoint_health.record(t, solver)
            if solver.strict:
                adjoint_health.check(solver, what="adjoint of step")
            if schedule is not None:
                _schedule_adjoint(model, schedule, control, adj_control, grads, time=t * solver.dt,
                                  zero=adjoint.zero5)
            adj_out, adj_in = adj_in, adj_out
    loss.add_adjoint(0, start, adj_out.q)
    wp.synchronize_device(model.device)
    return RolloutGradient(loss=total, parameters=grads, initial_state=adj_out, checkpoint_every=segment,
                           peak_bytes=peak, health=health, adjoint_health=adjoint_health)


def _schedule_adjoint(model, schedule, control, adj_control, grads, *, time: float, zero) -> None:
    """Carry the gradients with respect to one step's control to the keyframes (and the model's constants)."""
    adjoints = {id(getattr(model, name)): getattr(grads, name) for name in model.parameter_names}
    adjoints.update(control.adjoint_map(adj_control))
    launches = schedule.launches(control, time=time)
    run_launches([launch.adjoint_of(adjoints, zero_output=zero) for launch in reversed(launches)], model.device)


@dataclass
class RolloutJvp:
    """Result of ``rollout_jvp``.

    Attributes:
        loss: loss value at the base parameters.
        jvp: directional derivatives of the loss along each tangent, shape [k].
        step: the central-difference step used for each tangent, shape [k].
        health: the linear solves of the batched rollout.
    """

    loss: float
    jvp: np.ndarray
    step: np.ndarray
    health: SolveHealth


INITIAL_STATE = "initial_q"


def rollout_jvp(model: Model, solver: SolverImplicit, make_loss, *, steps: int, tangents: dict,
                relative_step=1.0e-6) -> RolloutJvp:
    """Directional derivatives of a rollout loss along k tangents: float64 central differences along each
    tangent, all 2k + 1 rollouts as worlds of one batch (the engine's forward mode).

    The batch (base, then base +- eps_i * tangent_i) runs one rollout with a solver of the caller's settings
    (``solver.like``: use a tight tolerance, e.g. 1e-12, so that the differences are smooth); each JVP is
    (L(+) - L(-)) / (2 eps_i). eps_i scales tangent i so that its largest relative change of any parameter (or of
    the initial state, relative to the spacing) is ``relative_step``: truncation error ~ relative_step^2,
    roundoff ~ 1e-16 / relative_step.

    Args:
        model: a single-world model whose current parameter arrays are the base point.
        solver: the settings to use (a solver of ``model``).
        make_loss: ``make_loss(batched_model)`` returns a loss object (``TrajectoryLoss``-like) for the
            batched model.
        tangents: parameter-array name (``model.parameter_names``) or ``"initial_q"`` -> array of shape
            [k, ...] (the array's shape without its world dimension; initial_q: [k, nodes, 5]).
        relative_step: a number, or one per tangent [k].
    """
    if model.world_count != 1:
        raise ValueError(f"rollout_jvp needs a single-world base model, got {model.world_count} worlds")
    if not tangents:
        raise ValueError("rollout_jvp needs at least one tangent")
    unknown = sorted(set(tangents) - set(model.parameter_names) - {INITIAL_STATE})
    if unknown:
        raise ValueError(f"unknown tangent names {unknown}: expected parameter arrays or {INITIAL_STATE!r}")
    counts = {name: np.asarray(t).shape[0] for name, t in tangents.items()}
    k = next(iter(counts.values()))
    if any(c != k for c in counts.values()):
        raise ValueError(f"all tangents need the same count k, got {counts}")
    worlds = 2 * k + 1
    batched = Model([model.specs[0]] * worlds, device=model.device, terms=model.terms)
    scale = np.zeros(k)
    for name, tangent in tangents.items():
        tangent = np.asarray(tangent, dtype=np.float64)
        if name == INITIAL_STATE:
            reference = np.full(tangent.shape[1:], model.spacing)
        else:
            reference = np.abs(model.parameter(name)[0])
            reference = np.where(reference > 0, reference, max(reference.max(), 1e-300))
        scale = np.maximum(scale, np.abs(tangent / reference).reshape(k, -1).max(axis=1))
    relative_step = np.broadcast_to(np.asarray(relative_step, dtype=np.float64), (k,))
    eps = np.where(scale > 0, relative_step / np.where(scale > 0, scale, 1.0), 0.0)
    signs = np.concatenate([[0.0], np.tile([1.0, -1.0], k)])
    shift = signs * np.concatenate([[0.0], np.repeat(eps, 2)])  # [worlds]
    which = np.concatenate([[0], np.repeat(np.arange(k), 2)])
    for name in model.parameter_names:
        base = model.parameter(name)  # [1, ...]
        values = np.repeat(base, worlds, axis=0)
        if name in tangents:
            t = np.asarray(tangents[name], dtype=np.float64)[which]
            values = values + shift.reshape(-1, *([1] * (values.ndim - 1))) * t
        batched.set_parameter(name, values)
    start = batched.state()
    if INITIAL_STATE in tangents:
        q = start.q.numpy()
        t = np.asarray(tangents[INITIAL_STATE], dtype=np.float64)[which]
        start.q.assign(q + shift[:, None, None] * t * batched.dof_mask.numpy()[None])
    batched_solver = solver.like(batched)
    loss = make_loss(batched)
    health = SolveHealth()
    total = np.asarray(loss.value(0, start), dtype=np.float64)
    for t, _previous, current in advance(batched, batched_solver, steps=steps, state=start, health=health):
        total = total + loss.value(t, current)
    plus, minus = total[1::2], total[2::2]
    jvp = np.where(eps > 0, (plus - minus) / (2 * np.where(eps > 0, eps, 1.0)), 0.0)
    return RolloutJvp(loss=float(total[0]), jvp=jvp, step=eps, health=health)
