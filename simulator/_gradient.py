"""Gradients of a rollout loss: reverse mode with segment checkpointing, and forward-mode JVPs."""

import math
from dataclasses import dataclass

import numpy as np
import warp as wp

from ._adjoint import ModelGradient, StateAdjoint, StepAdjoint
from ._model import Model, State
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


def array_bytes(*owners) -> int:
    """Bytes of the distinct Warp arrays that are attributes of ``owners`` (one level deep)."""
    seen = {}
    for owner in owners:
        for value in vars(owner).values():
            if isinstance(value, wp.array):
                seen[id(value)] = value.capacity
    return sum(seen.values())


def rollout_gradient(model: Model, solver: SolverImplicit, loss, *, steps: int, state: State | None = None,
                     checkpoint_every: int | None = None, perturbation: float = 1.0e-6) -> RolloutGradient:
    """Loss of a ``steps``-step rollout and its gradient by reverse mode with segment checkpointing.

    Only the states at the start of every segment of ``checkpoint_every`` steps (default ceil(sqrt(steps)))
    are kept in the forward pass; each segment is recomputed once in the backward pass, so the
    memory grows like sqrt(steps) and the cost is about one extra forward pass.

    Args:
        loss: an object with ``steps`` (observed step indices), ``value(step, state) -> [B]`` and
            ``add_adjoint(step, state, adj_q)`` (e.g. ``TrajectoryLoss``).
        state: initial state (default: the model's rest state). It is not modified.
        perturbation: relative size of the central difference used for the stiffness derivative.
    """
    if steps < 1:
        raise ValueError(f"steps = {steps!r} is out of range: expected >= 1")
    segment = int(checkpoint_every) if checkpoint_every else max(1, math.ceil(math.sqrt(steps)))
    if segment < 1:
        raise ValueError(f"checkpoint_every = {checkpoint_every!r} is out of range: expected >= 1")
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
    held = [model, solver, solver.preconditioner, adjoint, grads, adj_out, adj_in, loss, *checkpoints.values(),
            *buffers]
    peak = array_bytes(*held)
    seg_starts = sorted(checkpoints)
    for seg_start in reversed(seg_starts):
        seg_end = min(seg_start + segment, steps)
        buffers[0].assign(checkpoints[seg_start])
        for k in range(1, seg_end - seg_start + 1):
            solver.step(buffers[k - 1], buffers[k])
        for t in range(seg_end, seg_start, -1):
            k = t - seg_start
            loss.add_adjoint(t, buffers[k], adj_out.q)
            adjoint.backward(buffers[k - 1], buffers[k], adj_out, adj_in, grads)
            adj_out, adj_in = adj_in, adj_out
    loss.add_adjoint(0, start, adj_out.q)
    wp.synchronize_device(model.device)
    return RolloutGradient(loss=total, parameters=grads, initial_state=adj_out, checkpoint_every=segment,
                           peak_bytes=peak)
