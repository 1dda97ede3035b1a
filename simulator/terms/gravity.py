"""Gravity on the yarn mass: V = -rho ds g . (xa + xb) / 2 per segment (the mass rho ds at its midpoint).

Because the mass of a segment is its material length times the linear density, gravity also acts on the
sliding coordinates: yarn is pulled through the crossings towards the lower side.
"""

import warp as wp

from .._coords import material_length, pack, position
from .._forces import gravity_energy, gravity_forces
from .._hessians import pack_local, vec7d
from .._terms import ForceTerm, Launch, Stage
from .._types import vec5d

__all__ = ["Gravity"]


@wp.kernel
def eval_gravity_forces(
    q: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    density: wp.array2d(dtype=wp.float64),
    gravity: wp.array(dtype=wp.vec3d),
    spacing: wp.float64,
    f: wp.array2d(dtype=vec5d),
):
    """Gravity forces of every segment on both nodes' positions and sliding coordinates [N]."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    g_x, g_sb = gravity_forces(position(qa), position(qb), material_length(qa, qb, axis, spacing), density[b, e],
                               gravity[b])
    wp.atomic_add(f, b, ends[0], pack(g_x, axis, -g_sb))
    wp.atomic_add(f, b, ends[1], pack(g_x, axis, g_sb))


@wp.kernel
def eval_gravity_energy(
    q: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    density: wp.array2d(dtype=wp.float64),
    gravity: wp.array(dtype=wp.vec3d),
    spacing: wp.float64,
    energy: wp.array2d(dtype=wp.float64),
):
    """Gravitational energy [J] of every segment."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    energy[b, e] = gravity_energy(position(qa), position(qb), material_length(qa, qb, axis, spacing), density[b, e],
                                  gravity[b])


@wp.kernel
def add_gravity_rows(
    density: wp.array2d(dtype=wp.float64),
    gravity: wp.array(dtype=wp.vec3d),
    rows: wp.array3d(dtype=vec7d),
):
    """Add d^2V/d(xa + xb) dds = -rho g / 2 (the only second derivative of V, in y = (e, xa + xb, ds))."""
    b, e = wp.tid()
    hgs = (wp.float64(-0.5) * density[b, e]) * gravity[b]
    zero = wp.vec3d()
    for r in range(3):
        rows[b, e, 3 + r] = rows[b, e, 3 + r] + pack_local(zero, zero, hgs[r])
    rows[b, e, 6] = rows[b, e, 6] + pack_local(zero, hgs, wp.float64(0.0))


class Gravity(ForceTerm):
    """Gravity on every segment (``segment_density`` rho [kg/m], ``gravity`` g [m/s^2] per world)."""

    name = "gravity"
    stage = Stage.SLIDING
    parameter_names = ("segment_density", "gravity")
    hessian_family = "segment"

    def _inputs(self, model, c):
        return [c.q, model.segment_nodes, model.segment_axis, model.segment_density, model.gravity, model.spacing]

    def force_launches(self, model, c, out, ws=None):
        return [Launch(eval_gravity_forces, (model.world_count, model.segment_count), self._inputs(model, c), [out])]

    def energy_launches(self, model, c, ws=None):
        return [Launch(eval_gravity_energy, (model.world_count, model.segment_count), self._inputs(model, c))]

    def hessian_rows_launches(self, model, c, local, rows, ws=None):
        return [Launch(add_gravity_rows, local.shape, [model.segment_density, model.gravity], [rows])]
