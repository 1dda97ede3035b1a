"""Bending of every triple c-a-b of consecutive nodes along a yarn: V = kb theta^2 / (sb - sc), kb = B pi R^2.

theta is the turning angle at a (atan2 with a small-angle series, smooth at straight yarns); sb - sc is the
material span of the triple, so bending also acts on the sliding coordinates (with theta^2, where the public
code had theta). Its exact Hessian comes from reverse mode on a kernel of dV/dy in the triple's local
coordinates (``simulator._hessians``).
"""

from dataclasses import dataclass

import warp as wp

from .._coords import material_length, pack, position
from .._forces import MIN_LENGTH, bend_angle_sq_grads, bending_energy, bending_forces
from .._hessians import pack_local, unpack_local, vec7d
from .._terms import ForceTerm, Launch, Stage
from .._types import vec5d

__all__ = ["Bending"]


@wp.kernel
def eval_bending_forces(
    q: wp.array2d(dtype=vec5d),
    triple_nodes: wp.array(dtype=wp.vec3i),
    triple_axis: wp.array(dtype=wp.int32),
    bend_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    f: wp.array2d(dtype=vec5d),
):
    """Bending forces of every triple c-a-b on the three positions and the end nodes' sliding coordinates [N]."""
    b, e = wp.tid()
    ids = triple_nodes[e]
    axis = triple_axis[e]
    qc = q[b, ids[0]]
    qa = q[b, ids[1]]
    qb = q[b, ids[2]]
    f_c, f_a, f_b, f_sb = bending_forces(position(qc), position(qa), position(qb),
                                         material_length(qc, qb, axis, wp.float64(2.0) * spacing),
                                         bend_stiffness[b, e])
    wp.atomic_add(f, b, ids[0], pack(f_c, axis, -f_sb))
    wp.atomic_add(f, b, ids[1], pack(f_a, axis, wp.float64(0.0)))
    wp.atomic_add(f, b, ids[2], pack(f_b, axis, f_sb))


@wp.kernel
def eval_bending_energy(
    q: wp.array2d(dtype=vec5d),
    triple_nodes: wp.array(dtype=wp.vec3i),
    triple_axis: wp.array(dtype=wp.int32),
    bend_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    energy: wp.array2d(dtype=wp.float64),
):
    """Bending energy [J] of every triple."""
    b, e = wp.tid()
    ids = triple_nodes[e]
    axis = triple_axis[e]
    qc = q[b, ids[0]]
    qb = q[b, ids[2]]
    energy[b, e] = bending_energy(position(qc), position(q[b, ids[1]]), position(qb),
                                  material_length(qc, qb, axis, wp.float64(2.0) * spacing), bend_stiffness[b, e])


@wp.kernel
def bending_gradient(
    y0: wp.array2d(dtype=vec7d),
    dy: wp.array3d(dtype=vec7d),
    bend_stiffness: wp.array2d(dtype=wp.float64),
    out: wp.array3d(dtype=wp.float64),
):
    """Component k of dV/dy of V = kb theta^2 / span, y = (xa - xc, xb - xa, span); launched in adjoint mode
    with a unit seed, thread (b, e, k) adds row k of d^2V/dy^2 into the adjoint of dy."""
    b, e, k = wp.tid()
    e1, e2, span = unpack_local(y0[b, e], dy[b, e, k])
    theta_sq, g1, g2 = bend_angle_sq_grads(e1, e2)
    clamped = wp.max(span, MIN_LENGTH)
    kb = bend_stiffness[b, e] / clamped
    out[b, e, k] = pack_local(kb * g1, kb * g2, -kb * theta_sq / clamped)[k]


@wp.kernel
def add_bending_preconditioner(
    q: wp.array2d(dtype=vec5d),
    triple_nodes: wp.array(dtype=wp.vec3i),
    triple_axis: wp.array(dtype=wp.int32),
    bend_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    h: wp.float64,
    diag: wp.array2d(dtype=vec5d),
):
    """Transverse bending stiffness h^2 2 kb / (span l^2) (1, 4, 1 on c, a, b) on the two transverse frame
    components of each node of the triple."""
    b, e = wp.tid()
    ids = triple_nodes[e]
    axis = triple_axis[e]
    span = material_length(q[b, ids[0]], q[b, ids[2]], axis, wp.float64(2.0) * spacing)
    half = wp.float64(0.5) * span
    k = h * h * wp.float64(2.0) * bend_stiffness[b, e] / (span * half * half)
    zero = wp.float64(0.0)
    side = vec5d(zero, k, k, zero, zero)
    if axis == 1:
        side = vec5d(k, zero, k, zero, zero)
    wp.atomic_add(diag, b, ids[0], side)
    wp.atomic_add(diag, b, ids[1], wp.float64(4.0) * side)
    wp.atomic_add(diag, b, ids[2], side)


@dataclass(frozen=True)
class _Workspace:
    """Buffers of the reverse-mode Hessian: the zero perturbation, the unit seeds and the unused outputs."""

    zero: wp.array
    ones: wp.array
    out: wp.array


class Bending(ForceTerm):
    """Bending of every triple (``triple_bend_stiffness`` kb = B pi R^2 [N m^2] per triple)."""

    name = "bending"
    stage = Stage.SLIDING
    parameter_names = ("triple_bend_stiffness",)
    hessian_family = "triple"

    def _inputs(self, model, c):
        return [c.q, model.triple_nodes, model.triple_axis, model.triple_bend_stiffness, model.spacing]

    def workspace(self, model):
        shape = (model.world_count, model.triple_count, 7)
        dev = model.device
        return _Workspace(zero=wp.zeros(shape, dtype=vec7d, device=dev), ones=wp.ones(shape, dtype=wp.float64,
                                                                                       device=dev),
                          out=wp.zeros(shape, dtype=wp.float64, device=dev))

    def force_launches(self, model, c, out, ws=None):
        return [Launch(eval_bending_forces, (model.world_count, model.triple_count), self._inputs(model, c), [out])]

    def energy_launches(self, model, c, ws=None):
        return [Launch(eval_bending_energy, (model.world_count, model.triple_count), self._inputs(model, c))]

    def hessian_rows_launches(self, model, c, local, rows, ws=None):
        return [Launch(bending_gradient, rows.shape, [local, ws.zero, model.triple_bend_stiffness], [ws.out],
                       adj_inputs=[None, rows, None], adj_outputs=[ws.ones], adjoint=True)]

    def preconditioner_launches(self, model, c, h, frame, diag, chain, ws=None):
        return [Launch(add_bending_preconditioner, (model.world_count, model.triple_count),
                       [c.q, model.triple_nodes, model.triple_axis, model.triple_bend_stiffness, model.spacing, h],
                       [diag])]
