"""The contact laws shared by obstacle contact and self-contact: a smoothed penalty on a distance, and the
lagged smooth Coulomb friction.

Penalty: V = 1/2 k relu_w(depth)^2 with depth = t - gap (t the contact thickness or distance) and the ReLU
smoothed over w = ``PENALTY_SMOOTHING`` t; its push k relu sigma [N] and curvature k (sigma^2 + relu sigma') >= 0.
Friction: f(y) / y of f(y) = 2 y / eps - y^2 / eps^2 below eps = ``STICK_SPEED``, 1 above (y the tangential
speed): the drag c = mu N f(y) / y makes a sliding contact rub with mu N and a slow one stick.
"""

import numpy as np
import warp as wp

from ._forces import soft_relu, soft_step

__all__ = ["PENALTY_SMOOTHING", "SPEED_FLOOR", "STICK_SPEED", "heaviest_weight", "lagged_drag", "penalty_curvature",
           "penalty_energy", "penalty_push"]

#: width of the smoothed ReLU of the penalty, relative to the contact thickness
PENALTY_SMOOTHING = wp.constant(wp.float64(0.02))
#: tangential speed [m/s] below which friction acts as a stiff viscous stick (the smooth Coulomb law's eps)
STICK_SPEED = 1.0e-5

_STICK_SPEED = wp.constant(wp.float64(STICK_SPEED))
#: a speed [m/s] far below ``STICK_SPEED`` that smooths |v_t| at zero: sqrt(|v_t|^2 + floor^2)
SPEED_FLOOR = wp.constant(wp.float64(1.0e-3 * STICK_SPEED))


@wp.func
def penalty_energy(depth: wp.float64, thickness: wp.float64, stiffness: wp.float64):
    """Energy 1/2 k relu(depth)^2 [J] of the penalty at ``depth`` = t - gap into the layer."""
    relu = soft_relu(depth, PENALTY_SMOOTHING * thickness)
    return wp.float64(0.5) * stiffness * relu * relu


@wp.func
def penalty_push(depth: wp.float64, thickness: wp.float64, stiffness: wp.float64):
    """Normal force k relu(depth) sigma(depth) [N] of the penalty at ``depth`` = t - gap into the layer."""
    width = PENALTY_SMOOTHING * thickness
    return stiffness * soft_relu(depth, width) * soft_step(depth, width)


@wp.func
def penalty_curvature(depth: wp.float64, thickness: wp.float64, stiffness: wp.float64):
    """d^2V/dgap^2 = k (sigma^2 + relu sigma') [N/m] of the penalty (>= 0)."""
    width = PENALTY_SMOOTHING * thickness
    sigma = soft_step(depth, width)
    return stiffness * (sigma * sigma + soft_relu(depth, width) * sigma * (wp.float64(1.0) - sigma) / width)


@wp.func
def lagged_drag(tangential: wp.vec3d):
    """f(y) / y [s/m] of the smooth Coulomb law f(y) = 2 y / eps - y^2 / eps^2 below eps = ``STICK_SPEED``, 1
    above, at the speed y = |v_t| (smoothed at zero by ``SPEED_FLOOR``) of the tangential velocity v_t."""
    speed = wp.sqrt(wp.dot(tangential, tangential) + SPEED_FLOOR * SPEED_FLOOR)
    y = speed / _STICK_SPEED
    return wp.where(y < wp.float64(1.0), (wp.float64(2.0) - y) / _STICK_SPEED, wp.float64(1.0) / speed)


def heaviest_weight(model) -> np.ndarray:
    """The largest node weight [N] per world (segment masses split between their two nodes), under the model's
    gravity or 9.81 m/s^2 if that is larger: the scale of the default contact stiffnesses."""
    mass = np.zeros((model.world_count, model.node_count))
    half = 0.5 * model.segment_density.numpy() * model.spacing
    for end in range(2):
        np.add.at(mass, (slice(None), model.segment_np[:, end]), half)
    gravity = np.maximum(np.linalg.norm(model.gravity.numpy(), axis=-1), 9.81)
    return mass.max(axis=1) * gravity
