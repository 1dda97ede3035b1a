"""Gradients of a rollout loss: reverse mode with segment checkpointing, and forward-mode JVPs."""

import math
from dataclasses import dataclass

import numpy as np
import warp as wp

from ._adjoint import ModelGradient, StateAdjoint, StepAdjoint
from ._memory import array_bytes
from ._model import PARAMETER_ARRAYS, Model, State
from ._solver import SolverImplicit


@dataclass
class RolloutGradient:
    """Result of ``rollout_gradient``.

    Attributes:
        loss: loss value per world, shape [B].
        parameters: gradients of the loss with respect to every parameter array of the model.
        initial_state: gradients with respect to the initial state (q, qd, anchor).
        checkpoint_every: segment length used for checkpointing [steps].
        peak_bytes: bytes of all Warp arrays held during the pass (model, solver, adjoint buffers,
            gradients, checkpoints and segment states): what grows with the number of steps, and what not.
    """

    loss: np.ndarray
    parameters: ModelGradient
    initial_state: StateAdjoint
    checkpoint_every: int
    peak_bytes: int


def rollout_gradient(model: Model, solver: SolverImplicit, loss, *, steps: int, state: State | None = None,
                     checkpoint_every: int | None = None, truncate_every: int | None = None,
                     perturbation: float = 1.0e-6) -> RolloutGradient:
    """Loss of a ``steps``-step rollout and its gradient by reverse mode with segment checkpointing.

    Only the states at the start of every segment of ``checkpoint_every`` steps (default ceil(sqrt(steps)))
    are kept in the forward pass; each segment is recomputed once in the backward pass, so the
    memory grows like sqrt(steps) and the cost is about one extra forward pass.

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
    buffers = [model.state() for _ in range(segment + 1)]
    total = loss.value(0, start)
    current, nxt = buffers[0], buffers[1]
    current.assign(start)
    for t in range(1, steps + 1):
        solver.step(current, nxt)
        total = total + loss.value(t, nxt)
        if t % segment == 0 and t < steps:
            checkpoints[t] = model.state()
            checkpoints[t].assign(nxt)
        current, nxt = nxt, current
    # backward
    grads = ModelGradient(model)
    adjoint = StepAdjoint(solver, perturbation=perturbation)
    adj_out, adj_in = StateAdjoint.zeros(model), StateAdjoint.zeros(model)
    peak = array_bytes(model, solver, adjoint, grads, adj_out, adj_in, loss, list(checkpoints.values()), buffers)
    seg_starts = sorted(checkpoints)
    for seg_start in reversed(seg_starts):
        seg_end = min(seg_start + segment, steps)
        buffers[0].assign(checkpoints[seg_start])
        for k in range(1, seg_end - seg_start + 1):
            solver.step(buffers[k - 1], buffers[k])
        for t in range(seg_end, seg_start, -1):
            k = t - seg_start
            if window is not None and t < steps and (steps - t) % window == 0:
                adj_out.zero_()
            loss.add_adjoint(t, buffers[k], adj_out.q)
            adjoint.backward(buffers[k - 1], buffers[k], adj_out, adj_in, grads)
            adj_out, adj_in = adj_in, adj_out
    loss.add_adjoint(0, start, adj_out.q)
    wp.synchronize_device(model.device)
    return RolloutGradient(loss=total, parameters=grads, initial_state=adj_out, checkpoint_every=segment,
                           peak_bytes=peak)


@dataclass
class RolloutJvp:
    """Result of ``rollout_jvp``.

    Attributes:
        loss: loss value at the base parameters.
        jvp: directional derivatives of the loss along each tangent, shape [k].
        step: the central-difference step used for each tangent, shape [k].
    """

    loss: float
    jvp: np.ndarray
    step: np.ndarray


INITIAL_STATE = "initial_q"


def rollout_jvp(model: Model, make_loss, *, steps: int, tangents: dict, dt: float, tolerance: float = 1.0e-12,
                relative_step=1.0e-6, max_iterations: int = 3000) -> RolloutJvp:
    """Forward mode: directional derivatives of a rollout loss along k tangents, as worlds of one batch.

    A model of 2k + 1 worlds (base, then base +- eps_i * tangent_i) runs one rollout; each JVP is the
    float64 central difference (L(+) - L(-)) / (2 eps_i). eps_i scales tangent i so that its largest
    relative change of any parameter (or of the initial state, relative to the spacing) is
    ``relative_step``: truncation error ~ relative_step^2, roundoff ~ 1e-16 / relative_step.

    Args:
        model: a single-world model whose current parameter arrays are the base point.
        make_loss: ``make_loss(batched_model)`` returns a loss object (``TrajectoryLoss``-like) for the
            batched model.
        tangents: parameter-array name (``PARAMETER_ARRAYS``) or ``"initial_q"`` -> array of shape
            [k, ...] (the array's shape without its world dimension; initial_q: [k, nodes, 5]).
        relative_step: a number, or one per tangent [k].
        dt, tolerance, max_iterations: solver settings for the batched rollout.
    """
    if model.world_count != 1:
        raise ValueError(f"rollout_jvp needs a single-world base model, got {model.world_count} worlds")
    if not tangents:
        raise ValueError("rollout_jvp needs at least one tangent")
    unknown = sorted(set(tangents) - set(PARAMETER_ARRAYS) - {INITIAL_STATE})
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
    for name in PARAMETER_ARRAYS:
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
    solver = SolverImplicit(batched, dt=dt, tolerance=tolerance, max_iterations=max_iterations)
    loss = make_loss(batched)
    current, nxt = start, batched.state()
    total = np.asarray(loss.value(0, current), dtype=np.float64)
    for t in range(1, steps + 1):
        solver.step(current, nxt)
        total = total + loss.value(t, nxt)
        current, nxt = nxt, current
    plus, minus = total[1::2], total[2::2]
    jvp = np.where(eps > 0, (plus - minus) / (2 * np.where(eps > 0, eps, 1.0)), 0.0)
    return RolloutJvp(loss=float(total[0]), jvp=jvp, step=eps)
