"""Soft pins (handles): V = 1/2 kh |x - target|^2 per pinned node, the targets from the step's Control."""

import warp as wp

from .._coords import position
from .._forces import pin_energy
from .._terms import ForceTerm, Launch, Stage
from .._types import vec5d

__all__ = ["Pins"]

mat55d = wp.types.matrix(shape=(5, 5), dtype=wp.float64)


@wp.kernel
def eval_pin_forces(
    q: wp.array2d(dtype=vec5d),
    pin_stiffness: wp.array2d(dtype=wp.float64),
    pin_target: wp.array2d(dtype=wp.vec3d),
    f: wp.array2d(dtype=vec5d),
):
    """Pin springs -kh (x - target) on the positions of every node (kh = 0 where nothing is pinned) [N]."""
    b, n = wp.tid()
    fx = -pin_stiffness[b, n] * (position(q[b, n]) - pin_target[b, n])
    zero = wp.float64(0.0)
    wp.atomic_add(f, b, n, vec5d(fx[0], fx[1], fx[2], zero, zero))


@wp.kernel
def eval_pin_energy(
    q: wp.array2d(dtype=vec5d),
    pin_stiffness: wp.array2d(dtype=wp.float64),
    pin_target: wp.array2d(dtype=wp.vec3d),
    energy: wp.array2d(dtype=wp.float64),
):
    """Pin energy [J] of every node."""
    b, n = wp.tid()
    energy[b, n] = pin_energy(position(q[b, n]), pin_target[b, n], pin_stiffness[b, n])


@wp.kernel
def add_pin_blocks(pin_stiffness: wp.array2d(dtype=wp.float64), h: wp.float64, blocks: wp.array3d(dtype=mat55d)):
    """Add h^2 kh I to the position diagonal of every node's own block (slot 0)."""
    b, n = wp.tid()
    kp = h * h * pin_stiffness[b, n]
    block = blocks[b, n, 0]
    for r in range(3):
        block[r, r] = block[r, r] + kp
    blocks[b, n, 0] = block


@wp.kernel
def add_pin_preconditioner(pin_stiffness: wp.array2d(dtype=wp.float64), h: wp.float64,
                           diag: wp.array2d(dtype=vec5d)):
    """h^2 kh on the three position components of the diagonal (isotropic, so in any frame)."""
    b, n = wp.tid()
    kp = h * h * pin_stiffness[b, n]
    zero = wp.float64(0.0)
    diag[b, n] = diag[b, n] + vec5d(kp, kp, kp, zero, zero)


class Pins(ForceTerm):
    """Soft pins (``node_pin_stiffness`` kh [N/m] per node; targets ``Control.pin_target``, by default the
    model's ``node_pin_target``)."""

    name = "pins"
    stage = Stage.CROSSING
    parameter_names = ("node_pin_stiffness", "node_pin_target")

    def _inputs(self, model, c):
        return [c.q, model.node_pin_stiffness, c.control.pin_target]

    def force_launches(self, model, c, out, ws=None):
        return [Launch(eval_pin_forces, (model.world_count, model.node_count), self._inputs(model, c), [out])]

    def energy_launches(self, model, c, ws=None):
        return [Launch(eval_pin_energy, (model.world_count, model.node_count), self._inputs(model, c))]

    def block_launches(self, model, c, h, blocks, ws=None):
        return [Launch(add_pin_blocks, (model.world_count, model.node_count), [model.node_pin_stiffness, h],
                       [blocks])]

    def preconditioner_launches(self, model, c, h, frame, diag, chain, ws=None):
        return [Launch(add_pin_preconditioner, (model.world_count, model.node_count), [model.node_pin_stiffness, h],
                       [diag])]
