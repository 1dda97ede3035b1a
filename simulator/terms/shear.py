"""Shear at every crossing: V = 1/2 kx(phi) L (phi - pi/2)^2 per stencil (crossing a, a warp neighbour p, a
weft neighbour r; four stencils per crossing), with kx = (1 + N / N0) S pi R^2 at the crossing's compression N,
frozen for the step, and smooth shear jamming below the locking angle 2 asin(R / L) where the weave makes the
yarns jam (Gong et al. 2022).

The forces are exact. The step's matrix takes the Gauss-Newton part of the Hessian, max(V'', 0) dphi dphi^T, and
leaves out V' d^2phi: the angle's own curvature is indefinite (it bends the sheared cloth out of its plane one way
and stiffens it the other), so once a crossing carries a shear moment the exact Hessian makes the matrix
indefinite, and a cloth that shears hard (a sheet wrapping a sphere) broke the conjugate gradients. At zero shear
(V' = 0) the two agree. V'' < 0 happens only inside the jamming law's transition (near 146 degrees when the
opposite quadrant jams) and is clamped at zero. The product is its own kernel (``explicit_stiffness``), so reverse
mode differentiates the matrix the step uses.
"""

import warp as wp

from .._coords import position
from .._forces import angle_grads, shear_curvature, shear_energy, shear_forces
from .._hessians import pack_local, unpack_local, vec7d
from .._terms import ForceTerm, Launch, Stage
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
def shear_gauss_newton(xa: wp.vec3d, xp: wp.vec3d, xr: wp.vec3d, k0: wp.float64, jam: int, spacing: wp.float64,
                       radius: wp.float64, lock_angle: wp.float64):
    """The stencil's share of the step's matrix, max(V'', 0) dphi dphi^T: its curvature [J/rad^2] and the angle's
    gradients dphi/d(xp - xa), dphi/d(xr - xa) [1/m]."""
    phi, gp, gr = angle_grads(xp - xa, xr - xa)
    curvature = wp.max(shear_curvature(phi, k0, jam, spacing, radius, lock_angle), wp.float64(0.0))
    return curvature, gp, gr


@wp.kernel
def shear_stiffness_product(
    q: wp.array2d(dtype=vec5d),
    p: wp.array2d(dtype=vec5d),
    stencil_nodes: wp.array(dtype=wp.vec3i),
    stencil_jam: wp.array(dtype=wp.int32),
    shear_stiffness: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    compression_scale: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    radius: wp.float64,
    lock_angle: wp.float64,
    h: wp.float64,
    out: wp.array2d(dtype=vec5d),
):
    """out += h^2 K p of every stencil with K = max(V'', 0) dphi dphi^T (``shear_gauss_newton``; a kernel of q, the
    parameters and p, so that reverse mode differentiates the product the step uses)."""
    b, e = wp.tid()
    ids = stencil_nodes[e]
    k0 = shear_stiffness[b, e] * (wp.float64(1.0) + compression[b, ids[0]] / compression_scale[b, e])
    curvature, gp, gr = shear_gauss_newton(position(q[b, ids[0]]), position(q[b, ids[1]]), position(q[b, ids[2]]),
                                           k0, stencil_jam[e], spacing, radius, lock_angle)
    pa = position(p[b, ids[0]])
    rate = wp.dot(gp, position(p[b, ids[1]]) - pa) + wp.dot(gr, position(p[b, ids[2]]) - pa)
    scale = h * h * curvature * rate
    zero = wp.float64(0.0)
    f_p = scale * gp
    f_r = scale * gr
    wp.atomic_add(out, b, ids[0], vec5d(-f_p[0] - f_r[0], -f_p[1] - f_r[1], -f_p[2] - f_r[2], zero, zero))
    wp.atomic_add(out, b, ids[1], vec5d(f_p[0], f_p[1], f_p[2], zero, zero))
    wp.atomic_add(out, b, ids[2], vec5d(f_r[0], f_r[1], f_r[2], zero, zero))


@wp.kernel
def add_shear_rows(
    y0: wp.array2d(dtype=vec7d),
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
    """Add the rows of max(V'', 0) dphi dphi^T in the local coordinates y = (xp - xa, xr - xa, 0)."""
    b, e = wp.tid()
    ep, er, unused = unpack_local(y0[b, e], vec7d())
    k0 = shear_stiffness[b, e] * (wp.float64(1.0) + compression[b, stencil_nodes[e][0]] / compression_scale[b, e])
    curvature, gp, gr = shear_gauss_newton(wp.vec3d(), ep, er, k0, stencil_jam[e], spacing, radius, lock_angle)
    grad = pack_local(gp, gr, wp.float64(0.0))
    for r in range(3):
        rows[b, e, r] = rows[b, e, r] + curvature * gp[r] * grad
        rows[b, e, 3 + r] = rows[b, e, 3 + r] + curvature * gr[r] * grad


class Shear(ForceTerm):
    """Shear at every crossing (``stencil_shear_stiffness`` S pi R^2 [N] and ``stencil_compression_scale`` N0 [N]
    per stencil; reads the frozen N). Its share of the step's matrix is the Gauss-Newton max(V'', 0) dphi dphi^T
    (``explicit_stiffness``: reverse mode differentiates that product)."""

    name = "shear"
    stage = Stage.CROSSING
    parameter_names = ("stencil_shear_stiffness", "stencil_compression_scale")
    hessian_family = "stencil"
    explicit_stiffness = True

    def _parameters(self, model, c):
        return [model.stencil_nodes, model.stencil_jam, model.stencil_shear_stiffness, c.frozen.compression,
                model.stencil_compression_scale, model.spacing, model.yarn_radius, model.lock_angle]

    def force_launches(self, model, c, out, ws=None):
        return [Launch(eval_shear_forces, (model.world_count, model.stencil_count),
                       [c.q, *self._parameters(model, c)], [out])]

    def energy_launches(self, model, c, ws=None):
        return [Launch(eval_shear_energy, (model.world_count, model.stencil_count),
                       [c.q, *self._parameters(model, c)])]

    def stiffness_product_launches(self, model, c, p, h, seed, out, ws=None):
        return [Launch(shear_stiffness_product, (model.world_count, model.stencil_count),
                       [c.q, p, *self._parameters(model, c), h], [out])]

    def hessian_rows_launches(self, model, c, local, rows, ws=None):
        return [Launch(add_shear_rows, local.shape, [local, *self._parameters(model, c)], [rows])]
