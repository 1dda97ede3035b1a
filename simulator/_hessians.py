"""Exact element Hessians of the implicit energies by reverse mode on element-local kernels.

Every implicit element energy (segment: stretch + gravity + contact; bending; shear with jamming)
depends on the nodal coordinates only through a linear map to 7 local coordinates
y = (G1, G2, s): two 3-vectors and one scalar,

* segment a-b:      G1 = xb - xa,  G2 = xa + xb,  s = L + sb - sa   (material length ds),
* bending c-a-b:    G1 = xa - xc,  G2 = xb - xa,  s = 2L + sb - sc  (material span),
* shear a, p, r:    G1 = xp - xa,  G2 = xr - xa,  s unused (0),

i.e. y = sum over the element's nodes (slots) t of (c_t0 x_t, c_t1 x_t, c_t2 s_t) plus (0, 0, rest),
with a 3x3 coefficient table c per element type (``ElementType.coefficients``). A *gradient kernel*
computes dV/dy from y with the model's own force functions; launched in adjoint mode over
(world, element, k) with the output seeded by one, thread k gets row k of the 7x7 Hessian
d^2V/dy^2 [J per unit of y^2], for all elements in one launch. The node Hessian is J^T (d^2V/dy^2) J.
"""

from dataclasses import dataclass

import numpy as np
import warp as wp

from ._forces import (
    CONTACT_SMOOTHING,
    MIN_LENGTH,
    angle_grads,
    bend_angle_sq_grads,
    shear_moment,
    soft_relu,
    soft_step,
)
from ._types import vec5d

#: Local coordinates (G1, G2, s) of one element.
vec7d = wp.types.vector(length=7, dtype=wp.float64)


@wp.func
def pack_local(g1: wp.vec3d, g2: wp.vec3d, s: wp.float64):
    return vec7d(g1[0], g1[1], g1[2], g2[0], g2[1], g2[2], s)


@wp.kernel
def gather_local(
    q: wp.array2d(dtype=vec5d),
    nodes: wp.array(dtype=wp.vec3i),
    axis: wp.array(dtype=wp.int32),
    slots: int,
    coefficients: wp.mat33d,
    rest: wp.float64,
    y: wp.array2d(dtype=vec7d),
):
    """y[b, e] = sum_t (c_t0 x_t, c_t1 x_t, c_t2 s_t) + (0, 0, rest) over the element's ``slots`` nodes."""
    b, e = wp.tid()
    ids = nodes[e]
    sa = 3 + axis[e]
    g1 = wp.vec3d()
    g2 = wp.vec3d()
    s = wp.float64(0.0)
    for t in range(slots):
        qt = q[b, ids[t]]
        xt = wp.vec3d(qt[0], qt[1], qt[2])
        g1 += coefficients[t, 0] * xt
        g2 += coefficients[t, 1] * xt
        s += coefficients[t, 2] * qt[sa]
    y[b, e] = pack_local(g1, g2, rest + s)


@wp.func
def unpack_local(y0: vec7d, dy: vec7d):
    y = y0 + dy
    return wp.vec3d(y[0], y[1], y[2]), wp.vec3d(y[3], y[4], y[5]), y[6]


@wp.kernel
def segment_rows(
    y0: wp.array2d(dtype=vec7d),
    segment_reach: wp.array(dtype=wp.float64),
    density: wp.array2d(dtype=wp.float64),
    stretch_stiffness: wp.array2d(dtype=wp.float64),
    contact_stiffness: wp.array2d(dtype=wp.float64),
    gravity: wp.array(dtype=wp.vec3d),
    spacing: wp.float64,
    rows: wp.array3d(dtype=vec7d),
):
    """Rows of d^2V/dy^2 of stretch + gravity + contact in closed form, y = (e = xb - xa, xa + xb, ds):
    d^2/de^2 = ks/ds ((1 - ds/l) I + ds/l u u^T), d^2/de dds = -ks l/ds^2 u, d^2/dds^2 = ks l^2/ds^3
    + kc L (sigma^2 + relu' sigma') (smoothed contact), d^2/d(xa + xb) dds = -rho g / 2."""
    b, e = wp.tid()
    edge, total, length = unpack_local(y0[b, e], vec7d())
    ds = wp.max(length, MIN_LENGTH)
    ks = stretch_stiffness[b, e]
    l = wp.length(edge)
    u = edge / l
    hee = (ks / ds) * ((wp.float64(1.0) - ds / l) * wp.identity(n=3, dtype=wp.float64) + (ds / l) * wp.outer(u, u))
    hes = (-ks * l / (ds * ds)) * u
    width = CONTACT_SMOOTHING * spacing
    x = segment_reach[e] - length
    sigma = soft_step(x, width)
    slope = sigma * (wp.float64(1.0) - sigma) / width
    hss = ks * l * l / (ds * ds * ds) + contact_stiffness[b, e] * spacing * (
        sigma * sigma + soft_relu(x, width) * slope)
    hgs = (wp.float64(-0.5) * density[b, e]) * gravity[b]
    zero = wp.vec3d()
    for r in range(3):
        rows[b, e, r] = pack_local(hee[r], zero, hes[r])
        rows[b, e, 3 + r] = pack_local(zero, zero, hgs[r])
    rows[b, e, 6] = pack_local(hes, hgs, hss)


@wp.kernel
def bending_gradient(
    y0: wp.array2d(dtype=vec7d),
    dy: wp.array3d(dtype=vec7d),
    bend_stiffness: wp.array2d(dtype=wp.float64),
    out: wp.array3d(dtype=wp.float64),
):
    """Component k of dV/dy of V = kb theta^2 / span, y = (xa - xc, xb - xa, span)."""
    b, e, k = wp.tid()
    e1, e2, span = unpack_local(y0[b, e], dy[b, e, k])
    theta_sq, g1, g2 = bend_angle_sq_grads(e1, e2)
    clamped = wp.max(span, MIN_LENGTH)
    kb = bend_stiffness[b, e] / clamped
    out[b, e, k] = pack_local(kb * g1, kb * g2, -kb * theta_sq / clamped)[k]


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
    k0 = shear_stiffness[b, e] * (compression[b, stencil_nodes[e][0]] + wp.float64(1.0))
    out[b, e] = shear_moment(phi + dphi[b, e], k0, stencil_jam[e], spacing, radius, lock_angle)


@wp.kernel
def shear_rows(
    y0: wp.array2d(dtype=vec7d),
    curvature: wp.array2d(dtype=wp.float64),
    stencil_nodes: wp.array(dtype=wp.vec3i),
    stencil_jam: wp.array(dtype=wp.int32),
    shear_stiffness: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    radius: wp.float64,
    lock_angle: wp.float64,
    rows: wp.array3d(dtype=vec7d),
):
    """Rows of d^2V/dy^2 = V'' dphi dphi^T + V' d^2phi (V'' = ``curvature``) of the shear energy."""
    b, e = wp.tid()
    ep, er, unused = unpack_local(y0[b, e], vec7d())
    phi, gp, gr = angle_grads(ep, er)
    k0 = shear_stiffness[b, e] * (compression[b, stencil_nodes[e][0]] + wp.float64(1.0))
    moment = shear_moment(phi, k0, stencil_jam[e], spacing, radius, lock_angle)
    h11, h12, h22 = angle_hessian(ep, er)
    v2 = curvature[b, e]
    grad = pack_local(gp, gr, wp.float64(0.0))
    zero = wp.float64(0.0)
    for r in range(3):
        top = v2 * gp[r] * grad + moment * pack_local(h11[r], h12[r], zero)
        bottom = v2 * gr[r] * grad + moment * pack_local(wp.transpose(h12)[r], h22[r], zero)
        rows[b, e, r] = top
        rows[b, e, 3 + r] = bottom
    rows[b, e, 6] = vec7d()


@dataclass(frozen=True)
class ElementType:
    """One implicit element family: its nodes (padded to 3), yarn axis, the local-coordinate map, the
    kernel that ``hessians`` (a ``LocalHessians`` class) launches in adjoint mode, and that kernel's
    parameter arguments (everything after its first two arguments but the output)."""

    nodes: wp.array
    axis: wp.array
    slots: int
    coefficients: wp.mat33d
    rest: float
    kernel: object
    parameters: list
    hessians: type


class LocalHessians:
    """Hessians d^2V/dy^2 [B, E, 7] (rows, vec7d) of one element type by reverse mode on its gradient
    kernel (one thread per element and row), recomputed by ``update``."""

    def __init__(self, model, element: ElementType):
        self.model = model
        self.element = element
        dev = model.device
        shape = (model.world_count, element.nodes.shape[0])
        self.local = wp.zeros(shape, dtype=vec7d, device=dev)
        self.rows = wp.zeros((*shape, 7), dtype=vec7d, device=dev)
        self._allocate(shape)

    def _allocate(self, shape: tuple) -> None:
        dev = self.model.device
        self._zero = wp.zeros((*shape, 7), dtype=vec7d, device=dev)  # dy: differentiate at y0
        self._ones = wp.ones((*shape, 7), dtype=wp.float64, device=dev)  # output seed, one per (b, e, k)
        self._out = wp.zeros((*shape, 7), dtype=wp.float64, device=dev)

    def update(self, q: wp.array2d) -> wp.array3d:
        """Recompute the rows at configuration q; returns ``self.rows``."""
        el = self.element
        wp.launch(gather_local, dim=self.local.shape,
                  inputs=[q, el.nodes, el.axis, el.slots, el.coefficients, el.rest], outputs=[self.local],
                  device=self.model.device)
        self._fill_rows()
        return self.rows

    def _fill_rows(self) -> None:
        el = self.element
        self.rows.zero_()
        wp.launch(el.kernel, dim=self.rows.shape, inputs=[self.local, self._zero, *el.parameters],
                  outputs=[self._out], adj_inputs=[None, self.rows] + [None] * len(el.parameters),
                  adj_outputs=[self._ones], adjoint=True, device=self.model.device)


class ClosedFormHessians(LocalHessians):
    """Hessians from a kernel that writes the rows in closed form (one thread per element)."""

    def _allocate(self, shape: tuple) -> None:
        pass

    def _fill_rows(self) -> None:
        el = self.element
        wp.launch(el.kernel, dim=self.local.shape, inputs=[self.local, *el.parameters], outputs=[self.rows],
                  device=self.model.device)


class ShearHessians(LocalHessians):
    """Shear Hessians V'' dphi dphi^T + V' d^2phi: V'' by reverse mode on V'(phi) (one thread per
    element), d^2phi in closed form (phi ~ pi/2, far from the singular 0 and pi)."""

    def _allocate(self, shape: tuple) -> None:
        dev = self.model.device
        self._zero = wp.zeros(shape, dtype=wp.float64, device=dev)
        self._ones = wp.ones(shape, dtype=wp.float64, device=dev)
        self._out = wp.zeros(shape, dtype=wp.float64, device=dev)
        self.curvature = wp.zeros(shape, dtype=wp.float64, device=dev)

    def _fill_rows(self) -> None:
        el = self.element
        dev = self.model.device
        self.curvature.zero_()
        wp.launch(el.kernel, dim=self.local.shape, inputs=[self.local, self._zero, *el.parameters],
                  outputs=[self._out], adj_inputs=[None, self.curvature] + [None] * len(el.parameters),
                  adj_outputs=[self._ones], adjoint=True, device=dev)
        wp.launch(shear_rows, dim=self.local.shape, inputs=[self.local, self.curvature, *el.parameters],
                  outputs=[self.rows], device=dev)


def element_types(model, compression: wp.array) -> list:
    """The segment, bending and shear element types of ``model`` (shear uses the frozen ``compression``)."""
    dev = model.device
    segments = np.zeros((model.segment_count, 3), dtype=np.int32)
    segments[:, :2] = model.segment_np
    no_axis = wp.zeros(model.stencil_count, dtype=wp.int32, device=dev)
    spacing = model.spacing
    return [
        ElementType(wp.array(segments, dtype=wp.vec3i, device=dev), model.segment_axis, 2,
                    wp.mat33d(-1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0), spacing, segment_rows,
                    [model.segment_reach, model.segment_density, model.segment_stretch_stiffness,
                     model.segment_contact_stiffness, model.gravity, spacing], ClosedFormHessians),
        ElementType(model.triple_nodes, model.triple_axis, 3,
                    wp.mat33d(-1.0, 0.0, -1.0, 1.0, -1.0, 0.0, 0.0, 1.0, 1.0), 2.0 * spacing,
                    bending_gradient, [model.triple_bend_stiffness], LocalHessians),
        ElementType(model.stencil_nodes, no_axis, 3,
                    wp.mat33d(-1.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0), 0.0, shear_moment_kernel,
                    [model.stencil_nodes, model.stencil_jam, model.stencil_shear_stiffness, compression, spacing,
                     model.yarn_radius, model.lock_angle], ShearHessians),
    ]
