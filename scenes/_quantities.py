"""Per-node scalar fields of a trajectory, for colouring renders and for export."""

from dataclasses import dataclass

import numpy as np

from .trajectory import Trajectory

__all__ = ["QUANTITIES", "Quantity", "node_quantity", "node_sliding", "node_speed", "node_strain"]


@dataclass(frozen=True)
class Quantity:
    """A colourable per-node field.

    Attributes:
        label: what it is, for colour bars.
        unit: its SI unit.
        signed: whether its colour scale is centred on 0 (else it starts at 0).
        floor: the least half-width (signed) or top (unsigned) of its colour range, in its unit: values
            smaller than this are physically nothing (e.g. the ~1e-16 strain that rounding leaves in a cloth
            at rest) and must not be stretched over the whole colour map.
    """

    label: str
    unit: str
    signed: bool
    floor: float


QUANTITIES = {
    "strain": Quantity("yarn strain", "-", signed=True, floor=1e-6),  # 1 um per metre of yarn
    "sliding": Quantity("sliding distance", "m", signed=False, floor=1e-9),  # 1 nm
    "speed": Quantity("speed", "m/s", signed=False, floor=1e-6),  # 1 um/s
}


def node_strain(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Mean strain of the yarn segments meeting at each node.

    A warp segment joins (i, j) and (i+1, j); its rest (material) length is u[i+1, j, 0] - u[i, j, 0]
    and its strain |x[i+1, j] - x[i, j]| / rest - 1. Weft segments likewise along j with u[..., 1].

    Args:
        x: positions [m], shape [..., W, H, 3].
        u: material coordinates [m], shape [..., W, H, 2].
    Returns:
        strain [-], shape [..., W, H].
    """
    total = np.zeros(x.shape[:-1])
    count = np.zeros(x.shape[-3:-1])
    for axis, component in ((-2, 0), (-1, 1)):  # (axis of i or j in [..., W, H], component of u)
        length = np.linalg.norm(np.diff(x, axis=axis - 1), axis=-1)
        rest = np.diff(u[..., component], axis=axis)
        strain = np.divide(length, rest, out=np.full_like(length, np.nan), where=rest > 0) - 1.0
        head = [slice(None)] * total.ndim
        tail = [slice(None)] * total.ndim
        head[axis], tail[axis] = slice(None, -1), slice(1, None)
        total[tuple(head)] += strain
        total[tuple(tail)] += strain
        ones = np.ones(strain.shape[-2:])
        count[tuple(head[-2:])] += ones
        count[tuple(tail[-2:])] += ones
    return total / count


def node_sliding(u: np.ndarray, u0: np.ndarray) -> np.ndarray:
    """How far each node has slid along its yarns, |u - u0| [m], shape [..., W, H]."""
    return np.linalg.norm(u - u0, axis=-1)


def node_speed(x: np.ndarray, t: np.ndarray, xdot: np.ndarray | None = None) -> np.ndarray:
    """Node speed [m/s], shape [F, W, H]: |xdot| when stored, else from finite differences of x over t.

    Args:
        x: positions [m], shape [F, W, H, 3].
        t: frame times [s], shape [F].
        xdot: velocities [m/s], shape [F, W, H, 3], or None.
    """
    if xdot is not None:
        return np.linalg.norm(xdot, axis=-1)
    if len(t) < 2:
        return np.zeros(x.shape[:-1])
    return np.linalg.norm(np.gradient(x, t, axis=0), axis=-1)


def node_quantity(trajectory: Trajectory, name: str, *, world: int = 0) -> np.ndarray:
    """The named field ("strain", "sliding" or "speed") of one world, shape [F, W, H]."""
    x, u = trajectory.x[world], trajectory.u[world]
    if name == "strain":
        return node_strain(x, u)
    if name == "sliding":
        return node_sliding(u, u[:1])
    if name == "speed":
        return node_speed(x, trajectory.t, None if trajectory.xdot is None else trajectory.xdot[world])
    raise ValueError(f"color = {name!r}: expected one of {', '.join(QUANTITIES)}")
