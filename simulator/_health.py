"""Checks after each step that a rollout is still physical: finite values, bounded yarn strain, resolved motion.

An implicit step never blows up the way an explicit one does; with a time step far too large for the
cloth it instead returns states that are finite but meaningless (yarns stretched a hundredfold, a
cloth metres away after a few steps). ``StepMonitor`` stops such a rollout at the first step that

* holds a NaN/Inf (any coordinate or velocity), or
* stretches or compresses a yarn segment by more than ``max_strain`` (|l / ds - 1|, 0.5 by default:
  real yarns break long before), or
* changes a segment's vector x_b - x_a by more than ``max_segment_change`` spacings in one step (1 by
  default: the segment turned by about 60 degrees or more within one step, a motion the step does
  not resolve).

The second and third measures are invariant to rigid motion, so a cloth that falls or swings fast
legitimately moves many spacings per step without tripping them. The error names the step, the world,
the quantity and its value, and suggests a smaller time step.
"""

import math
from dataclasses import dataclass

import numpy as np
import warp as wp

from ._coords import material_length, position
from ._model import Model, State
from ._types import vec5d

__all__ = ["DEFAULT_LIMITS", "SimulationError", "StepLimits", "StepMonitor", "suggest_dt"]

#: the largest segment strain counted when a segment's material length is not positive
_COLLAPSED = 1.0e30


class SimulationError(RuntimeError):
    """A simulation stopped: a non-finite value or an unresolved step (see ``simulator._health``).

    Attributes:
        step: the step at which it was found (1 = the first step).
        quantity: what was out of bounds, e.g. "yarn strain".
        suggested_dt: a time step [s] to try instead, or None.
    """

    def __init__(self, message: str, *, step: int | None = None, quantity: str = "",
                 suggested_dt: float | None = None):
        super().__init__(message)
        self.step = step
        self.quantity = quantity
        self.suggested_dt = suggested_dt


@dataclass(frozen=True)
class StepLimits:
    """Bounds beyond which a step counts as unresolved.

    Attributes:
        max_strain: largest |segment length / material length - 1| [-].
        max_segment_change: largest change of a segment vector x_b - x_a in one step, in spacings [-].
    """

    max_strain: float = 0.5
    max_segment_change: float = 1.0

    def __post_init__(self):
        for name in ("max_strain", "max_segment_change"):
            value = getattr(self, name)
            if not (value > 0.0 and math.isfinite(value)):
                raise ValueError(f"{name} = {value!r} is out of range: expected a finite number > 0")


#: the bounds every rollout checks unless told otherwise
DEFAULT_LIMITS = StepLimits()


@wp.kernel
def count_nonfinite(q: wp.array2d(dtype=vec5d), qd: wp.array2d(dtype=vec5d), flags: wp.array(dtype=wp.int32)):
    """flags[k] counts the nodes whose q component k (0-4) or qd component k - 5 (5-9) is NaN/Inf."""
    b, n = wp.tid()
    qn = q[b, n]
    vn = qd[b, n]
    for k in range(5):
        if not wp.isfinite(qn[k]):
            wp.atomic_add(flags, k, 1)
        if not wp.isfinite(vn[k]):
            wp.atomic_add(flags, 5 + k, 1)


@wp.kernel
def find_unresolved_segments(
    q_before: wp.array2d(dtype=vec5d),
    q_after: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    spacing: wp.float64,
    max_strain: wp.float64,
    max_change: wp.float64,
    worst: wp.array2d(dtype=wp.float64),
):
    """worst[b, 0] = largest |strain| above ``max_strain`` and worst[b, 1] = largest segment change (in
    spacings) above ``max_change`` after the step; untouched (0) while every segment is within bounds,
    so a healthy step makes no atomic operation at all."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q_after[b, ends[0]]
    qb = q_after[b, ends[1]]
    chord = position(qb) - position(qa)
    ds = material_length(qa, qb, axis, spacing)
    strain = wp.float64(_COLLAPSED)
    if ds > wp.float64(0.0):
        strain = wp.abs(wp.length(chord) / ds - wp.float64(1.0))
    if strain > max_strain:
        wp.atomic_max(worst, b, 0, strain)
    before = position(q_before[b, ends[1]]) - position(q_before[b, ends[0]])
    change = wp.length(chord - before) / spacing
    if change > max_change:
        wp.atomic_max(worst, b, 1, change)


_NONFINITE = ("position x", "position y", "position z", "sliding u", "sliding v",
              "velocity x", "velocity y", "velocity z", "sliding velocity u", "sliding velocity v")


class StepMonitor:
    """Checks each step of a rollout of ``model`` (see the module notes); holds its own small buffers.

    Args:
        model: the model being stepped.
        dt: the time step [s] (for the suggestion in the error).
        limits: the bounds (default ``StepLimits()``); None checks finiteness only.
    """

    def __init__(self, model: Model, *, dt: float, limits: StepLimits | None = DEFAULT_LIMITS):
        self.model = model
        self.dt = float(dt)
        self.limits = limits
        self._flags = wp.zeros(len(_NONFINITE), dtype=wp.int32, device=model.device)
        self._worst = wp.zeros((model.world_count, 2), dtype=wp.float64, device=model.device)

    def check(self, before: State, after: State, step: int) -> None:
        """Raise SimulationError when the step from ``before`` to ``after`` (step number ``step``) is
        non-finite or unresolved."""
        model = self.model
        self._flags.zero_()
        wp.launch(count_nonfinite, dim=(model.world_count, model.node_count), inputs=[after.q, after.qd],
                  outputs=[self._flags], device=model.device)
        counts = self._flags.numpy()
        if counts.any():
            k = int(np.flatnonzero(counts)[0])
            suggested = self.dt / 10.0
            raise SimulationError(
                f"step {step}: {_NONFINITE[k]} became NaN/Inf at {counts[k]} node(s); try a time step of "
                f"{suggested:.2g} s or smaller, or check the parameters",
                step=step, quantity=_NONFINITE[k], suggested_dt=suggested)
        if self.limits is None:
            return
        self._worst.zero_()
        wp.launch(find_unresolved_segments, dim=(model.world_count, model.segment_count),
                  inputs=[before.q, after.q, model.segment_nodes, model.segment_axis, model.spacing,
                          self.limits.max_strain, self.limits.max_segment_change],
                  outputs=[self._worst], device=model.device)
        worst = self._worst.numpy()
        if not worst.any():
            return
        bounds = (self.limits.max_strain, self.limits.max_segment_change)
        excess = worst / np.asarray(bounds)
        world, column = np.unravel_index(int(np.argmax(excess)), excess.shape)
        value, bound = float(worst[world, column]), bounds[column]
        quantity = ("yarn strain", "segment change in one step [spacings]")[column]
        suggested = suggest_dt(self.dt, value / bound)
        shown = "a collapsed segment (material length <= 0)" if value >= _COLLAPSED else f"{value:.3g}"
        raise SimulationError(
            f"step {step}: {quantity} reached {shown} in world {world} (bound {bound:g}): the time step "
            f"dt = {self.dt:g} s does not resolve this motion; try dt = {suggested:.2g} s or smaller",
            step=step, quantity=quantity, suggested_dt=suggested)


def suggest_dt(dt: float, excess: float) -> float:
    """A time step to try after a step exceeded its bound by the factor ``excess`` (> 1): dt / excess,
    at most dt / 2 and at least dt / 100 [s]."""
    return dt * min(0.5, max(0.01, 1.0 / excess))
