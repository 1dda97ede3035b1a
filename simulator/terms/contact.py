"""Contact between parallel yarns: V = 1/2 kc L relu(d - ds)^2 per segment keeps neighbouring crossings apart
in material space (d = 4R where the two crossings' over/under order differs, else 2R).

Repulsive, as in the paper (the public code's sign made it attractive); the ReLU is smoothed over 1% of the
spacing. It acts on the sliding coordinates only.
"""

import warp as wp

from .._coords import material_length, pack
from .._forces import CONTACT_SMOOTHING, contact_energy, contact_force_sb, soft_relu, soft_step
from .._hessians import pack_local, unpack_local, vec7d
from .._terms import ForceTerm, Launch, Stage
from .._types import vec5d

__all__ = ["ParallelContact"]


@wp.kernel
def eval_contact_forces(
    q: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    segment_reach: wp.array(dtype=wp.float64),
    contact_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    f: wp.array2d(dtype=vec5d),
):
    """Contact forces of every segment on its two sliding coordinates [N]."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    c_sb = contact_force_sb(material_length(q[b, ends[0]], q[b, ends[1]], axis, spacing), contact_stiffness[b, e],
                            spacing, segment_reach[e])
    zero = wp.vec3d()
    wp.atomic_add(f, b, ends[0], pack(zero, axis, -c_sb))
    wp.atomic_add(f, b, ends[1], pack(zero, axis, c_sb))


@wp.kernel
def eval_contact_energy(
    q: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    segment_reach: wp.array(dtype=wp.float64),
    contact_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    energy: wp.array2d(dtype=wp.float64),
):
    """Contact energy [J] of every segment."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    energy[b, e] = contact_energy(material_length(q[b, ends[0]], q[b, ends[1]], axis, spacing),
                                  contact_stiffness[b, e], spacing, segment_reach[e])


@wp.kernel
def add_contact_rows(
    local: wp.array2d(dtype=vec7d),
    segment_reach: wp.array(dtype=wp.float64),
    contact_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    rows: wp.array3d(dtype=vec7d),
):
    """Add d^2V/dds^2 = kc L (sigma^2 + relu sigma') of the smoothed contact (y = (e, xa + xb, ds))."""
    b, e = wp.tid()
    unused_edge, unused_total, length = unpack_local(local[b, e], vec7d())
    width = CONTACT_SMOOTHING * spacing
    x = segment_reach[e] - length
    sigma = soft_step(x, width)
    slope = sigma * (wp.float64(1.0) - sigma) / width
    zero = wp.vec3d()
    rows[b, e, 6] = rows[b, e, 6] + pack_local(zero, zero, contact_stiffness[b, e] * spacing * (
        sigma * sigma + soft_relu(x, width) * slope))


class ParallelContact(ForceTerm):
    """Contact between parallel yarns (``segment_contact_stiffness`` kc [N/m^2] per segment)."""

    name = "parallel_contact"
    stage = Stage.SLIDING
    parameter_names = ("segment_contact_stiffness",)
    hessian_family = "segment"

    def _inputs(self, model, c):
        return [c.q, model.segment_nodes, model.segment_axis, model.segment_reach, model.segment_contact_stiffness,
                model.spacing]

    def force_launches(self, model, c, out, ws=None):
        return [Launch(eval_contact_forces, (model.world_count, model.segment_count), self._inputs(model, c), [out])]

    def energy_launches(self, model, c, ws=None):
        return [Launch(eval_contact_energy, (model.world_count, model.segment_count), self._inputs(model, c))]

    def hessian_rows_launches(self, model, c, local, rows, ws=None):
        return [Launch(add_contact_rows, local.shape,
                       [local, model.segment_reach, model.segment_contact_stiffness, model.spacing], [rows])]
