"""Control: the inputs of a step that may vary in time (wind velocity, pin targets, obstacle motion), given to
``solver.step``.

``model.control()`` gives a Control holding the model's constant defaults (its ``wind_velocity`` and
``node_pin_target`` parameter arrays themselves, so that gradients with respect to a constant input land in
the model's parameter gradients); ``Control.like(model)`` gives one with arrays of its own, to be set before
each step by hand or by the model's keyframes: a model built from specs with ``pin_paths``, a ``wind_path`` or
obstacles with a ``path`` has a ``ControlSchedule`` (``Model.schedule``) that every rollout uses, so handles
move, gusts blow and obstacles move by themselves, differentiably.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import warp as wp

__all__ = ["Control", "ControlAdjoint", "ControlSchedule", "KeyframeBrackets"]


@dataclass
class Control:
    """Inputs of one step for every world.

    Attributes:
        wind_velocity: wind velocity [m/s], shape [B] (vec3d).
        pin_target: where the pin springs pull each node, relative to ``Model.origin`` [m], shape [B, nodes]
            (vec3d); only nodes with a pin stiffness feel it.
        obstacle_offset: displacement of each obstacle from its position [m], shape [B, max(K, 1)] (vec3d).
        obstacle_velocity: velocity of each obstacle [m/s], shape [B, max(K, 1)] (vec3d).
    """

    wind_velocity: wp.array
    pin_target: wp.array
    obstacle_offset: wp.array
    obstacle_velocity: wp.array

    @classmethod
    def like(cls, model) -> Control:
        """A Control with its own arrays, set to the model's defaults."""
        return cls(**{name: wp.clone(array) for name, array in model.control().arrays().items()})

    def arrays(self) -> dict[str, wp.array]:
        """The arrays, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def assign(self, other: Control) -> None:
        """Copy another control's values into this one (no allocation)."""
        for name, array in self.arrays().items():
            wp.copy(array, getattr(other, name))

    def numpy(self) -> dict[str, np.ndarray]:
        """Copies of the arrays, by name."""
        return {name: array.numpy().copy() for name, array in self.arrays().items()}

    def adjoint_map(self, adjoint: ControlAdjoint) -> dict[int, wp.array]:
        """{id(array): its adjoint in ``adjoint``} for every array (for ``Launch.adjoint_of``)."""
        return {id(array): getattr(adjoint, name) for name, array in self.arrays().items()}


@dataclass
class ControlAdjoint:
    """Gradients of a loss with respect to the inputs of one step (same shapes as ``Control``)."""

    wind_velocity: wp.array
    pin_target: wp.array
    obstacle_offset: wp.array
    obstacle_velocity: wp.array

    @classmethod
    def zeros(cls, model) -> ControlAdjoint:
        return cls(**{name: wp.zeros_like(array) for name, array in model.control().arrays().items()})

    def zero_(self) -> None:
        for f in fields(self):
            getattr(self, f.name).zero_()


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


class KeyframeBrackets:
    """For keyframed paths stored one after another in one array: the keyframes around a time of every path, on
    the device (``before``, ``after``: indices into the array, ``weight`` of ``after``, ``rate`` = 1 / the time
    between them, 0 outside the keyframes); a path given as None gets index -1 (not moving).

    Args:
        paths: the keyframe times of each path [s] (increasing), or None for a path that does not exist.
        device: where the arrays live.
    """

    def __init__(self, paths, device):
        self._times = [None if t is None else np.asarray(t, dtype=np.float64) for t in paths]
        lengths = [0 if t is None else len(t) for t in self._times]
        self._start = np.cumsum([0] + lengths)[:-1]
        count = max(len(self._times), 1)
        self.before = wp.full(count, -1, dtype=wp.int32, device=device)
        self.after = wp.full(count, -1, dtype=wp.int32, device=device)
        self.weight = wp.zeros(count, dtype=wp.float64, device=device)
        self.rate = wp.zeros(count, dtype=wp.float64, device=device)
        self._time = None

    def set(self, time: float) -> None:
        """Point the arrays at the keyframes around ``time`` [s] (only when it changed)."""
        if time == self._time or not self._times:
            return
        self._time = time
        before, after, weight, rate = [], [], [], []
        for start, times in zip(self._start, self._times, strict=True):
            if times is None:
                before.append(-1), after.append(-1), weight.append(0.0), rate.append(0.0)
                continue
            b, a, w = bracket(times, time)
            before.append(start + b), after.append(start + a), weight.append(w)
            rate.append(1.0 / (times[a] - times[b]) if a != b else 0.0)
        self.before.assign(np.array(before, dtype=np.int32))
        self.after.assign(np.array(after, dtype=np.int32))
        self.weight.assign(np.array(weight))
        self.rate.assign(np.array(rate))


@wp.kernel
def scheduled_obstacles(
    offsets: wp.array2d(dtype=wp.vec3d),
    before: wp.array(dtype=wp.int32),
    after: wp.array(dtype=wp.int32),
    weight: wp.array(dtype=wp.float64),
    rate: wp.array(dtype=wp.float64),
    offset: wp.array2d(dtype=wp.vec3d),
    velocity: wp.array2d(dtype=wp.vec3d),
):
    """Each obstacle's offset (1 - w) o[before] + w o[after] and velocity (o[after] - o[before]) rate from its
    path's keyframes (zero for an obstacle without a path)."""
    b, k = wp.tid()
    if before[k] < 0:
        offset[b, k] = wp.vec3d()
        velocity[b, k] = wp.vec3d()
    else:
        low = offsets[b, before[k]]
        high = offsets[b, after[k]]
        w = weight[k]
        offset[b, k] = (wp.float64(1.0) - w) * low + w * high
        velocity[b, k] = rate[k] * (high - low)


class ControlSchedule:
    """The keyframed inputs of a model (``ClothSpec.pin_paths``, ``ClothSpec.wind_path``, the obstacles' paths):
    fills a Control for any time. The keyframe values are the model's parameter arrays ``pin_path_offset``
    [B, P], ``wind_path_velocity`` [B, K] and ``obstacle_path_offset`` [B, Q] (vec3d), so they are differentiated
    and fitted like any parameter. Obstacles move with constant velocity between their keyframes."""

    def __init__(self, model):
        self.model = model
        spec = model.specs[0]
        wind = spec.wind_path
        self._wind_times = None if wind is None else np.asarray(wind.times)
        self._pins = KeyframeBrackets([path.times for path in spec.pin_paths], model.device)
        self._obstacles = KeyframeBrackets([None if o.path is None else o.path.times for o in spec.obstacles],
                                           model.device)

    def control(self) -> Control:
        """A Control of its own for this model, to be filled by ``fill``."""
        return Control.like(self.model)

    def launches(self, control: Control, *, time: float) -> list:
        """The launches that set ``control`` to the inputs at ``time`` [s] (their adjoints carry the control's
        gradients to the keyframes)."""
        from ._terms import Launch

        m = self.model
        time = float(time)
        self._pins.set(time)
        self._obstacles.set(time)
        pins = Launch(scheduled_pin_targets, (m.world_count, m.node_count),
                      [m.node_pin_target, m.node_pin_group, self._pins.before, self._pins.after, self._pins.weight,
                       m.pin_path_offset], [control.pin_target])
        if self._wind_times is not None:
            before, after, weight = bracket(self._wind_times, time)
            wind = Launch(scheduled_wind, (m.world_count,), [m.wind_path_velocity, before, after, weight],
                          [control.wind_velocity])
        else:
            wind = Launch(constant_wind, (m.world_count,), [m.wind_velocity], [control.wind_velocity])
        obstacles = Launch(scheduled_obstacles, control.obstacle_offset.shape,
                           [m.obstacle_path_offset, self._obstacles.before, self._obstacles.after,
                            self._obstacles.weight, self._obstacles.rate],
                           [control.obstacle_offset, control.obstacle_velocity])
        return [pins, wind, obstacles]

    def fill(self, control: Control, *, time: float) -> None:
        """Set ``control`` to the inputs at ``time`` [s]."""
        for launch in self.launches(control, time=time):
            launch.run(self.model.device)
