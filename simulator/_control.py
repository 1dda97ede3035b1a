"""Control: the inputs of a step that may vary in time (wind velocity, pin targets), given to ``solver.step``.

``model.control()`` gives a Control holding the model's constant defaults (its ``wind_velocity`` and
``node_pin_target`` parameter arrays themselves, so that gradients with respect to a constant input land in
the model's parameter gradients); ``Control.like(model)`` gives one with arrays of its own, to be set before
each step by a script of keyframes (``simulator.ControlSchedule``) or by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import warp as wp

__all__ = ["Control", "ControlAdjoint"]


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
