"""Control: the inputs of a step that may vary in time (wind velocity, pin targets), given to ``solver.step``.

``model.control()`` gives a Control holding the model's constant defaults (its ``wind_velocity`` and
``node_pin_target`` parameter arrays themselves, so that gradients with respect to a constant input land in
the model's parameter gradients); ``Control.like(model)`` gives one with arrays of its own, to be set before
each step by hand or by the model's keyframes: a model built from specs with ``pin_paths`` or a ``wind_path``
has a ``ControlSchedule`` (``Model.schedule``) that every rollout uses, so handles move and gusts blow by
themselves, differentiably.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import warp as wp

__all__ = ["Control", "ControlAdjoint", "ControlSchedule"]


@dataclass
class Control:
    """Inputs of one step for every world.

    Attributes:
        wind_velocity: wind velocity [m/s], shape [B] (vec3d).
        pin_target: where the pin springs pull each node, relative to ``Model.origin`` [m], shape [B, nodes]
            (vec3d); only nodes with a pin stiffness feel it.
    """

    wind_velocity: wp.array
    pin_target: wp.array

    @classmethod
    def like(cls, model) -> Control:
        """A Control with its own arrays, set to the model's defaults."""
        return cls(wind_velocity=wp.clone(model.wind_velocity), pin_target=wp.clone(model.node_pin_target))

    def assign(self, other: Control) -> None:
        """Copy another control's values into this one (no allocation)."""
        wp.copy(self.wind_velocity, other.wind_velocity)
        wp.copy(self.pin_target, other.pin_target)

    def numpy(self) -> dict[str, np.ndarray]:
        """Copies of the arrays, by name."""
        return {"wind_velocity": self.wind_velocity.numpy().copy(), "pin_target": self.pin_target.numpy().copy()}


@dataclass
class ControlAdjoint:
    """Gradients of a loss with respect to the inputs of one step (same shapes as ``Control``)."""

    wind_velocity: wp.array
    pin_target: wp.array

    @classmethod
    def zeros(cls, model) -> ControlAdjoint:
        return cls(wind_velocity=wp.zeros_like(model.wind_velocity), pin_target=wp.zeros_like(model.node_pin_target))

    def zero_(self) -> None:
        self.wind_velocity.zero_()
        self.pin_target.zero_()


@wp.kernel
def scheduled_pin_targets(
    rest_target: wp.array2d(dtype=wp.vec3d),
    node_group: wp.array(dtype=wp.int32),
    before: wp.array(dtype=wp.int32),
    after: wp.array(dtype=wp.int32),
    weight: wp.array(dtype=wp.float64),
    offsets: wp.array2d(dtype=wp.vec3d),
    target: wp.array2d(dtype=wp.vec3d),
):
    """target = rest target + (1 - w) offset[before] + w offset[after] of the node's pin path (the keyframes
    around the step's time and the weight between them, per path); the rest target for a node on no path."""
    b, n = wp.tid()
    g = node_group[n]
    if g < 0:
        target[b, n] = rest_target[b, n]
    else:
        w = weight[g]
        target[b, n] = rest_target[b, n] + (wp.float64(1.0) - w) * offsets[b, before[g]] + w * offsets[b, after[g]]


@wp.kernel
def scheduled_wind(velocities: wp.array2d(dtype=wp.vec3d), before: int, after: int, weight: wp.float64,
                   wind: wp.array(dtype=wp.vec3d)):
    """wind = (1 - w) velocity[before] + w velocity[after]."""
    b = wp.tid()
    wind[b] = (wp.float64(1.0) - weight) * velocities[b, before] + weight * velocities[b, after]


@wp.kernel
def constant_wind(velocity: wp.array(dtype=wp.vec3d), wind: wp.array(dtype=wp.vec3d)):
    """wind = the model's constant velocity (differentiable copy)."""
    b = wp.tid()
    wind[b] = velocity[b]


def bracket(times: np.ndarray, time: float) -> tuple[int, int, float]:
    """The keyframes (before, after) around ``time`` in increasing ``times`` and the weight of ``after``: piecewise
    linear inside, the first or last keyframe outside."""
    if time <= times[0]:
        return 0, 0, 0.0
    if time >= times[-1]:
        last = len(times) - 1
        return last, last, 0.0
    after = int(np.searchsorted(times, time, side="right"))
    before = after - 1
    return before, after, float((time - times[before]) / (times[after] - times[before]))


class ControlSchedule:
    """The keyframed inputs of a model (``ClothSpec.pin_paths``, ``ClothSpec.wind_path``): fills a Control for
    any time. The keyframe values are the model's parameter arrays ``pin_path_offset`` [B, P] and
    ``wind_path_velocity`` [B, K] (vec3d), so they are differentiated and fitted like any parameter."""

    def __init__(self, model):
        self.model = model
        self._pin_times = [np.asarray(path.times) for path in model.specs[0].pin_paths]
        self._pin_start = np.cumsum([0] + [len(t) for t in self._pin_times])
        wind = model.specs[0].wind_path
        self._wind_times = None if wind is None else np.asarray(wind.times)
        groups = max(len(self._pin_times), 1)
        dev = model.device
        self._before = wp.zeros(groups, dtype=wp.int32, device=dev)
        self._after = wp.zeros(groups, dtype=wp.int32, device=dev)
        self._weight = wp.zeros(groups, dtype=wp.float64, device=dev)
        self._time = None

    def _set_time(self, time: float) -> None:
        """The keyframes around ``time`` of every pin path, on the device."""
        if time == self._time:
            return
        self._time = time
        if self._pin_times:
            brackets = [bracket(times, time) for times in self._pin_times]
            start = self._pin_start[:-1]
            self._before.assign(np.array([s + b for s, (b, _, _) in zip(start, brackets, strict=True)],
                                         dtype=np.int32))
            self._after.assign(np.array([s + a for s, (_, a, _) in zip(start, brackets, strict=True)], dtype=np.int32))
            self._weight.assign(np.array([w for _, _, w in brackets]))

    def control(self) -> Control:
        """A Control of its own for this model, to be filled by ``fill``."""
        return Control.like(self.model)

    def launches(self, control: Control, *, time: float) -> list:
        """The launches that set ``control`` to the inputs at ``time`` [s] (their adjoints carry the control's
        gradients to the keyframes)."""
        from ._terms import Launch

        m = self.model
        self._set_time(float(time))
        pins = Launch(scheduled_pin_targets, (m.world_count, m.node_count),
                      [m.node_pin_target, m.node_pin_group, self._before, self._after, self._weight, m.pin_path_offset],
                      [control.pin_target])
        if self._wind_times is not None:
            before, after, weight = bracket(self._wind_times, float(time))
            wind = Launch(scheduled_wind, (m.world_count,), [m.wind_path_velocity, before, after, weight],
                          [control.wind_velocity])
        else:
            wind = Launch(constant_wind, (m.world_count,), [m.wind_velocity], [control.wind_velocity])
        return [pins, wind]

    def fill(self, control: Control, *, time: float) -> None:
        """Set ``control`` to the inputs at ``time`` [s]."""
        for launch in self.launches(control, time=time):
            launch.run(self.model.device)
