"""Shear at every crossing: V = 1/2 kx(phi) L (phi - pi/2)^2 per stencil (crossing a, a warp neighbour p, a
weft neighbour r; four stencils per crossing), with kx = (1 + N / N0) S pi R^2 at the crossing's compression N,
frozen for the step, and smooth shear jamming below the locking angle 2 asin(R / L) where the weave makes the
yarns jam (Gong et al. 2022). The exact Hessian: V'' dphi dphi^T + V' d^2phi, V'' by reverse mode on V'(phi).
"""

from dataclasses import dataclass

import warp as wp

from .._coords import position
from .._forces import MIN_LENGTH, angle_grads, shear_energy, shear_forces, shear_moment
from .._hessians import pack_local, unpack_local, vec7d
from .._terms import ForceTerm, Launch, Stage, Zero
from .._types import vec5d

__all__ = ["Shear"]


@wp.kernel
def eval_shear_forces(
    q: wp.array2d(dtype=vec5d),
    stencil_nodes: wp.array(dtype=wp.vec3i),
    stencil_jam: wp.array(dtype=wp.int32),
    shear_stiffness: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    compression_scale: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    radius: wp.float64,
    lock_angle: wp.float64,
    f: wp.array2d(dtype=vec5d),
):
    """Shear of every stencil (crossing a, warp neighbour p, weft neighbour r); stiffness (1 + N / N0) S pi R^2
    with the crossing's compression N [N] frozen for the step and the compression scale N0 [N]."""
    b, e = wp.tid()
    ids = stencil_nodes[e]
    xa = position(q[b, ids[0]])
    k0 = shear_stiffness[b, e] * (wp.float64(1.0) + compression[b, ids[0]] / compression_scale[b, e])
    f_p, f_r = shear_forces(xa, position(q[b, ids[1]]), position(q[b, ids[2]]), k0, stencil_jam[e], spacing,
                            radius, lock_angle)
    zero = wp.float64(0.0)
    wp.atomic_add(f, b, ids[0], vec5d(-f_p[0] - f_r[0], -f_p[1] - f_r[1], -f_p[2] - f_r[2], zero, zero))
    wp.atomic_add(f, b, ids[1], vec5d(f_p[0], f_p[1], f_p[2], zero, zero))
    wp.atomic_add(f, b, ids[2], vec5d(f_r[0], f_r[1], f_r[2], zero, zero))


@wp.kernel
def eval_shear_energy(
    q: wp.array2d(dtype=vec5d),
    stencil_nodes: wp.array(dtype=wp.vec3i),
    stencil_jam: wp.array(dtype=wp.int32),
    shear_stiffness: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    compression_scale: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    radius: wp.float64,
    lock_angle: wp.float64,
    energy: wp.array2d(dtype=wp.float64),
):
    """Shear energy [J] of every stencil at the frozen compression."""
    b, e = wp.tid()
    ids = stencil_nodes[e]
    k0 = shear_stiffness[b, e] * (wp.float64(1.0) + compression[b, ids[0]] / compression_scale[b, e])
    energy[b, e] = shear_energy(position(q[b, ids[0]]), position(q[b, ids[1]]), position(q[b, ids[2]]), k0,
                                stencil_jam[e], spacing, radius, lock_angle)


@wp.func
def angle_hessian(e1: wp.vec3d, e2: wp.vec3d):
    """Blocks d^2phi/de1^2, d^2phi/de1 de2, d^2phi/de2^2 [1/m^2] of the angle phi between e1 and e2
    (``angle_grads``), from phi = acos(c): d^2phi = -(1/s) d^2c - (c/s^3) dc dc^T, s = sin(phi)."""
    l1 = wp.length(e1)
    l2 = wp.length(e2)
    u1 = e1 / l1
    u2 = e2 / l2
    c = wp.dot(u1, u2)
    s = wp.max(wp.length(wp.cross(u1, u2)), MIN_LENGTH)
    eye = wp.identity(n=3, dtype=wp.float64)
    dc1 = (u2 - c * u1) / l1
    dc2 = (u1 - c * u2) / l2
    three = wp.float64(3.0)
    sym = wp.outer(u1, u2) + wp.outer(u2, u1)
    c11 = (three * c * wp.outer(u1, u1) - sym - c * eye) / (l1 * l1)
    c22 = (three * c * wp.outer(u2, u2) - sym - c * eye) / (l2 * l2)
    c12 = (eye - wp.outer(u1, u1) - wp.outer(u2, u2) + c * wp.outer(u1, u2)) / (l1 * l2)
    a = -wp.float64(1.0) / s
    bq = -c / (s * s * s)
    return a * c11 + bq * wp.outer(dc1, dc1), a * c12 + bq * wp.outer(dc1, dc2), a * c22 + bq * wp.outer(dc2, dc2)


@wp.kernel
def shear_moment_kernel(
    y0: wp.array2d(dtype=vec7d),
    dphi: wp.array2d(dtype=wp.float64),
    stencil_nodes: wp.array(dtype=wp.vec3i),
    stencil_jam: wp.array(dtype=wp.int32),
    shear_stiffness: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    compression_scale: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    radius: wp.float64,
    lock_angle: wp.float64,
    out: wp.array2d(dtype=wp.float64),
):
    """out = V'(phi + dphi) [J/rad] of the shear energy with y = (xp - xa, xr - xa, 0) (frozen N); its
    adjoint with a unit seed gives V''(phi) in the adjoint of dphi."""
    b, e = wp.tid()
    ep, er, unused = unpack_local(y0[b, e], vec7d())
    phi, gp, gr = angle_grads(ep, er)
    k0 = shear_stiffness[b, e] * (wp.float64(1.0) + compression[b, stencil_nodes[e][0]] / compression_scale[b, e])
    out[b, e] = shear_moment(phi + dphi[b, e], k0, stencil_jam[e], spacing, radius, lock_angle)


@wp.kernel
def add_shear_rows(
    y0: wp.array2d(dtype=vec7d),
    curvature: wp.array2d(dtype=wp.float64),
    stencil_nodes: wp.array(dtype=wp.vec3i),
    stencil_jam: wp.array(dtype=wp.int32),
    shear_stiffness: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    compression_scale: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    radius: wp.float64,
    lock_angle: wp.float64,
    rows: wp.array3d(dtype=vec7d),
):
    """Add the rows of d^2V/dy^2 = V'' dphi dphi^T + V' d^2phi (V'' = ``curvature``) of the shear energy."""
    b, e = wp.tid()
    ep, er, unused = unpack_local(y0[b, e], vec7d())
    phi, gp, gr = angle_grads(ep, er)
    k0 = shear_stiffness[b, e] * (wp.float64(1.0) + compression[b, stencil_nodes[e][0]] / compression_scale[b, e])
    moment = shear_moment(phi, k0, stencil_jam[e], spacing, radius, lock_angle)
    h11, h12, h22 = angle_hessian(ep, er)
    v2 = curvature[b, e]
    grad = pack_local(gp, gr, wp.float64(0.0))
    zero = wp.float64(0.0)
    for r in range(3):
        rows[b, e, r] = rows[b, e, r] + v2 * gp[r] * grad + moment * pack_local(h11[r], h12[r], zero)
        rows[b, e, 3 + r] = rows[b, e, 3 + r] + v2 * gr[r] * grad + moment * pack_local(
            wp.transpose(h12)[r], h22[r], zero)


@dataclass(frozen=True)
class _Workspace:
    """Buffers of the reverse-mode V'': the zero angle perturbation, the unit seeds, the unused output, V''."""

    zero: wp.array
    ones: wp.array
    out: wp.array
    curvature: wp.array


class Shear(ForceTerm):
    """Shear at every crossing (``stencil_shear_stiffness`` S pi R^2 [N] and ``stencil_compression_scale`` N0 [N]
    per stencil; reads the frozen N)."""

    name = "shear"
    stage = Stage.CROSSING
    parameter_names = ("stencil_shear_stiffness", "stencil_compression_scale")
    hessian_family = "stencil"

    def _parameters(self, model, c):
        return [model.stencil_nodes, model.stencil_jam, model.stencil_shear_stiffness, c.frozen.compression,
                model.stencil_compression_scale, model.spacing, model.yarn_radius, model.lock_angle]

    def workspace(self, model):
        shape = (model.world_count, model.stencil_count)
        dev = model.device
        return _Workspace(zero=wp.zeros(shape, dtype=wp.float64, device=dev),
                          ones=wp.ones(shape, dtype=wp.float64, device=dev),
                          out=wp.zeros(shape, dtype=wp.float64, device=dev),
                          curvature=wp.zeros(shape, dtype=wp.float64, device=dev))

    def force_launches(self, model, c, out, ws=None):
        return [Launch(eval_shear_forces, (model.world_count, model.stencil_count),
                       [c.q, *self._parameters(model, c)], [out])]

    def energy_launches(self, model, c, ws=None):
        return [Launch(eval_shear_energy, (model.world_count, model.stencil_count),
                       [c.q, *self._parameters(model, c)])]

    def hessian_rows_launches(self, model, c, local, rows, ws=None):
        parameters = self._parameters(model, c)
        return [Zero(ws.curvature),
                Launch(shear_moment_kernel, local.shape, [local, ws.zero, *parameters], [ws.out],
                       adj_inputs=[None, ws.curvature] + [None] * len(parameters), adj_outputs=[ws.ones],
                       adjoint=True),
                Launch(add_shear_rows, local.shape, [local, ws.curvature, *parameters], [rows])]
