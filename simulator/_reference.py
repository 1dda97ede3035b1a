"""Optional reproductions of documented behaviours of the original implementation (Gong et al. 2022 code,
commit 7b51b74), used only to compare with trajectories that it produced. None of these is physics that
the default engine should have. Each name of ``SolverImplicit(reference_quirks=...)`` selects a substitute
force term (or an extra one) of this module in place of the model's own (``reference_terms``); the default
kernels have no switches for them:

* "bend_jacobian": the system matrix uses the original hand-derived bending Jacobian instead of the exact
  bending stiffness: zero when the yarn is exactly straight (sin(theta) == 0 after acos), and with the sign
  of the dominant cos(theta) P term of the two self blocks d F_end / d x_end flipped (the centre blocks
  follow from translation invariance, so they vanish near straight yarns); 3x3 blocks transposed as in
  the original sparse assembly.
* "border_coupling": the original assembles the x-s coupling blocks of mass, stretching and gravity of a
  segment only if *both* of its nodes are crossings, so the blocks between a crossing's sliding
  coordinate and the position of a neighbouring border node (yarn end) are missing from M (in A and in
  M qdot) and from dF/dq.
* "friction": the friction force of the code, -1/2 (kf d - K(d) mu N) K(mu N - F_u) + 1/2 (kf d + K(d) mu N)
  with K(x) = tanh(10 x) and the signed F_u, and the anchor rate sigmoid(1e4 (|F_u| - mu N))
  (``friction_force_original`` and ``switches_original``, in ``ReferenceCrossing``).
* "bend_theta": the bending force on the sliding coordinates uses theta instead of theta^2.
* "shear_jacobian": the system matrix uses the original hand-derived shear Jacobian (shear_reference_matvec).
* "shear_precedence": the jamming shear force uses the original d kx / dx with its precedence slip.
* "stretch_hessian": the system matrix keeps the exact stretching Hessian, whose transverse stiffness is
  negative for a compressed segment (the model clamps it at zero: ``simulator.terms.stretch.stretch_hessian``).
"""

import warp as wp

from ._coords import material_length, pack, position, slide
from ._forces import HALF_PI, angle_grads, jamming_terms
from ._forces import shear_stiffness as shear_stiffness_fn
from ._terms import ForceTerm, Launch, Stage
from ._types import vec5d
from .terms import Bending, Crossing, Shear, Stretch
from .terms.crossing import friction_kernels

__all__ = ["JACOBIAN_QUIRKS", "QUIRKS", "reference_terms", "requires_matrix_free"]

QUIRKS = ("bend_jacobian", "border_coupling", "friction", "bend_theta", "shear_precedence", "shear_jacobian",
          "stretch_hessian")
#: Quirks that change the implicit forces or the system matrix: the assembled operator reproduces only the
#: model's exact matrix, so with any of them the solver uses the matrix-free one.
JACOBIAN_QUIRKS = frozenset(("bend_jacobian", "border_coupling", "friction", "shear_precedence", "shear_jacobian",
                             "stretch_hessian"))


@wp.func
def _bend_blocks(xc: wp.vec3d, xa: wp.vec3d, xb: wp.vec3d, kb: wp.float64, span: wp.float64):
    """Original Jacobian blocks B11 = dF_b/dx_b, B12 = dF_b/dx_c, B21 = dF_c/dx_b, B22 = dF_c/dx_c
    (ends b = n1, c = n2, centre a = n0) and a flag that is 0 where sin(theta) == 0."""
    e1 = xb - xa
    e2 = xc - xa
    l1 = wp.length(e1)
    l2 = wp.length(e2)
    d1 = e1 / l1
    d2 = e2 / l2
    one = wp.float64(1.0)
    cs = wp.clamp(-wp.dot(d1, d2), -one, one)
    th = wp.acos(cs)
    s = wp.sin(th)
    eye = wp.identity(n=3, dtype=wp.float64)
    zero = wp.mat33d()
    if s == wp.float64(0.0):
        return zero, zero, zero, zero, 0
    c = wp.cos(th)
    p1 = eye - wp.outer(d1, d1)
    p2 = eye - wp.outer(d2, d2)
    a1 = p1 * d2
    a2 = p2 * d1
    two = wp.float64(2.0)
    cs2 = c / (s * s)
    b11 = (two * kb / (l1 * l1 * span * s)) * (
        th * (wp.outer(a1, d1) + cs2 * (wp.outer(a1, d2) * p1) + c * p1 + wp.outer(d1, d2) * p1)
        - (one / s) * (wp.outer(a1, d2) * p1))
    b22 = (two * kb / (l2 * l2 * span * s)) * (
        th * (wp.outer(a2, d2) + cs2 * (wp.outer(a2, d1) * p2) + c * p2 + wp.outer(d2, d1) * p2)
        - (one / s) * (wp.outer(a2, d1) * p2))
    cross_scale = -two * kb / (l1 * l2 * span * s)
    b12 = cross_scale * ((th * (p1 - cs2 * wp.outer(a1, d1)) + (one / s) * wp.outer(a1, d1)) * p2)
    b21 = cross_scale * ((th * (p2 - cs2 * wp.outer(a2, d2)) + (one / s) * wp.outer(a2, d2)) * p1)
    return b11, b12, b21, b22, 1


@wp.func
def _xv(p: vec5d):
    return wp.vec3d(p[0], p[1], p[2])


@wp.func
def add_transposed_product(out: wp.array2d(dtype=vec5d), bw: int, p: wp.array2d(dtype=vec5d), center: int,
                           first: int, second: int, j11: wp.mat33d, j12: wp.mat33d, j21: wp.mat33d, j22: wp.mat33d,
                           scale: wp.float64):
    """out += scale J^T p for a three-node element given the position blocks of its force Jacobian
    between the two outer nodes (j11 = dF_first/dx_first, j12 = dF_first/dx_second, ...); the blocks
    of the centre node follow from translation invariance. Transposed as in the original assembly."""
    j10 = -(j11 + j12)
    j20 = -(j21 + j22)
    j01 = -(j11 + j21)
    j02 = -(j12 + j22)
    j00 = -(j10 + j20)
    p1 = _xv(p[bw, first])
    p2 = _xv(p[bw, second])
    p0 = _xv(p[bw, center])
    o1 = scale * (wp.transpose(j11) * p1 + wp.transpose(j12) * p2 + wp.transpose(j10) * p0)
    o2 = scale * (wp.transpose(j21) * p1 + wp.transpose(j22) * p2 + wp.transpose(j20) * p0)
    o0 = scale * (wp.transpose(j01) * p1 + wp.transpose(j02) * p2 + wp.transpose(j00) * p0)
    zero = wp.float64(0.0)
    wp.atomic_add(out, bw, first, vec5d(o1[0], o1[1], o1[2], zero, zero))
    wp.atomic_add(out, bw, second, vec5d(o2[0], o2[1], o2[2], zero, zero))
    wp.atomic_add(out, bw, center, vec5d(o0[0], o0[1], o0[2], zero, zero))


@wp.kernel
def bending_reference_matvec(
    q: wp.array2d(dtype=vec5d),
    p: wp.array2d(dtype=vec5d),
    triple_nodes: wp.array(dtype=wp.vec3i),
    triple_axis: wp.array(dtype=wp.int32),
    bend_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    h: wp.float64,
    out: wp.array2d(dtype=vec5d),
):
    """out += -h^2 J_ref p for the position blocks of the original bending Jacobian (blocks transposed)."""
    bw, e = wp.tid()
    ids = triple_nodes[e]
    axis = triple_axis[e]
    qc = q[bw, ids[0]]
    qa = q[bw, ids[1]]
    qb = q[bw, ids[2]]
    span = material_length(qc, qb, axis, wp.float64(2.0) * spacing)
    b11, b12, b21, b22, ok = _bend_blocks(position(qc), position(qa), position(qb), bend_stiffness[bw, e], span)
    if ok == 0:
        return
    add_transposed_product(out, bw, p, ids[1], ids[2], ids[0], b11, b12, b21, b22, -h * h)


@wp.kernel
def border_coupling_correction(
    q: wp.array2d(dtype=vec5d),
    p: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    dof_mask: wp.array(dtype=vec5d),
    density: wp.array2d(dtype=wp.float64),
    stretch_stiffness: wp.array2d(dtype=wp.float64),
    gravity: wp.array(dtype=wp.vec3d),
    spacing: wp.float64,
    h: wp.float64,
    stiffness: int,
    out: wp.array2d(dtype=vec5d),
):
    """out -= (the x-s coupling blocks between a crossing and a neighbouring border node) p: mass blocks,
    and with ``stiffness`` also -h^2 times the stretching and gravity blocks of dF/dq."""
    bw, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    na = ends[0]
    nb = ends[1]
    inner_a = dof_mask[na][3] > wp.float64(0.0)
    inner_b = dof_mask[nb][3] > wp.float64(0.0)
    if inner_a == inner_b:
        return
    qa = q[bw, na]
    qb = q[bw, nb]
    ds = material_length(qa, qb, axis, spacing)
    w = (position(qb) - position(qa)) / ds
    rho = density[bw, e]
    m = rho * ds / wp.float64(6.0)
    half_g = wp.float64(0.5) * rho * gravity[bw]
    ks_w = (stretch_stiffness[bw, e] / ds) * w
    hh = wp.float64(0.0)
    if stiffness != 0:
        hh = h * h
    if inner_b:  # a is a border node: blocks (E_b, L_a) and (L_a, E_b)
        col = -m * w - hh * (-ks_w + half_g)
        fs = -wp.dot(col, _xv(p[bw, na]))
        fx = -col * slide(p[bw, nb], axis)
        wp.atomic_add(out, bw, nb, pack(wp.vec3d(), axis, fs))
        wp.atomic_add(out, bw, na, vec5d(fx[0], fx[1], fx[2], wp.float64(0.0), wp.float64(0.0)))
    else:  # b is a border node: blocks (E_a, L_b) and (L_b, E_a)
        col = -m * w - hh * (-ks_w - half_g)
        fs = -wp.dot(col, _xv(p[bw, nb]))
        fx = -col * slide(p[bw, na], axis)
        wp.atomic_add(out, bw, na, pack(wp.vec3d(), axis, fs))
        wp.atomic_add(out, bw, nb, vec5d(fx[0], fx[1], fx[2], wp.float64(0.0), wp.float64(0.0)))


@wp.kernel
def bending_theta_correction(
    q: wp.array2d(dtype=vec5d),
    triple_nodes: wp.array(dtype=wp.vec3i),
    triple_axis: wp.array(dtype=wp.int32),
    bend_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    f: wp.array2d(dtype=vec5d),
):
    """Replace the sliding bending force kb theta^2 / span^2 by the original kb theta / span^2 (adds the
    difference; explicit)."""
    bw, e = wp.tid()
    ids = triple_nodes[e]
    axis = triple_axis[e]
    qc = q[bw, ids[0]]
    qa = q[bw, ids[1]]
    qb = q[bw, ids[2]]
    e1 = position(qa) - position(qc)
    e2 = position(qb) - position(qa)
    th = wp.atan2(wp.length(wp.cross(e1, e2)), wp.dot(e1, e2))
    span = material_length(qc, qb, axis, wp.float64(2.0) * spacing)
    k = bend_stiffness[bw, e] / (span * span)
    diff = k * (th - th * th)
    wp.atomic_add(f, bw, ids[2], pack(wp.vec3d(), axis, diff))
    wp.atomic_add(f, bw, ids[0], pack(wp.vec3d(), axis, -diff))


@wp.kernel
def eval_shear_forces_reference(
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
    """Shear forces of the original code: with jamming, the gradient of kx has the precedence slip
    (1 - tanh^2 * dX/dx) instead of (1 - tanh^2) dX/dx (docs/PHYSICS.md section 5, item 3)."""
    b, e = wp.tid()
    ids = stencil_nodes[e]
    xa = position(q[b, ids[0]])
    k0 = shear_stiffness[b, e] * (wp.float64(1.0) + compression[b, ids[0]] / compression_scale[b, e])
    phi, gp, gr = angle_grads(position(q[b, ids[1]]) - xa, position(q[b, ids[2]]) - xa)
    kx, dkx = shear_stiffness_fn(phi, k0, stencil_jam[e], spacing, radius, lock_angle)
    d = phi - HALF_PI
    f_p = -(spacing * d * kx) * gp
    f_r = -(spacing * d * kx) * gr
    if stencil_jam[e] != 0:
        half = wp.float64(0.5)
        one = wp.float64(1.0)
        g3, dg3, th, dx = jamming_terms(phi, spacing, radius, lock_angle)
        ones = wp.vec3d(one, one, one)
        kp = half * k0 * (dg3 * (one - th) * gp + (one - g3) * (ones - (th * th * dx) * gp))
        kr = half * k0 * (dg3 * (one - th) * gr + (one - g3) * (ones - (th * th * dx) * gr))
        f_p = f_p - (half * spacing * d * d) * kp
        f_r = f_r - (half * spacing * d * d) * kr
    zero = wp.float64(0.0)
    wp.atomic_add(f, b, ids[0], vec5d(-f_p[0] - f_r[0], -f_p[1] - f_r[1], -f_p[2] - f_r[2], zero, zero))
    wp.atomic_add(f, b, ids[1], vec5d(f_p[0], f_p[1], f_p[2], zero, zero))
    wp.atomic_add(f, b, ids[2], vec5d(f_r[0], f_r[1], f_r[2], zero, zero))


@wp.kernel
def shear_reference_matvec(
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
    """out += -h^2 J_ref p with the original hand-derived shear Jacobian (blocks transposed): without
    jamming its cross blocks d F_p / d x_r keep only (phi - pi/2) terms; with jamming the gradient of kx
    has the precedence slip; the O((phi - pi/2)^2) second derivatives of kx are left out (negligible)."""
    bw, e = wp.tid()
    ids = stencil_nodes[e]
    xa = position(q[bw, ids[0]])
    k0 = shear_stiffness[bw, e] * (wp.float64(1.0) + compression[bw, ids[0]] / compression_scale[bw, e])
    e1 = position(q[bw, ids[1]]) - xa
    e3 = position(q[bw, ids[2]]) - xa
    l1 = wp.length(e1)
    l3 = wp.length(e3)
    d1 = e1 / l1
    d3 = e3 / l3
    phi = wp.acos(wp.dot(d1, d3))
    s = wp.sin(phi)
    c = wp.cos(phi)
    dl = phi - HALF_PI
    eye = wp.identity(n=3, dtype=wp.float64)
    p1 = eye - wp.outer(d1, d1)
    p3 = eye - wp.outer(d3, d3)
    a1 = p1 * d3
    a3 = p3 * d1
    one = wp.float64(1.0)
    half = wp.float64(0.5)
    cs2 = c / (s * s)
    jam = stencil_jam[e]
    kx, dkx = shear_stiffness_fn(phi, k0, jam, spacing, radius, lock_angle)
    L = spacing
    f11 = (kx * L / (l1 * l1 * s)) * (dl * (-wp.outer(a1, d1) + cs2 * (wp.outer(a1, d3) * p1) - c * p1
                                             - wp.outer(d1, d3) * p1) - (one / s) * (wp.outer(a1, d3) * p1))
    f33 = (kx * L / (l3 * l3 * s)) * (dl * (-wp.outer(a3, d3) + cs2 * (wp.outer(a3, d1) * p3) - c * p3
                                             - wp.outer(d3, d1) * p3) - (one / s) * (wp.outer(a3, d1) * p3))
    f13 = wp.mat33d()
    f31 = wp.mat33d()
    if jam == 0:
        f13 = (kx * L / (l1 * l3 * s)) * ((dl * (cs2 * wp.outer(a1, d1) - (one / s) * wp.outer(a1, d1))) * p3)
        f31 = (kx * L / (l1 * l3 * s)) * ((dl * (cs2 * wp.outer(a3, d3) - (one / s) * wp.outer(a3, d3))) * p1)
    else:
        cross_scale = kx * L / (l1 * l3 * s)
        f13 = cross_scale * (dl * (cs2 * (wp.outer(a1, d1) * p3) + p1 * p3) - (one / s) * (wp.outer(a1, d1) * p3))
        f31 = cross_scale * (dl * (cs2 * (wp.outer(a3, d3) * p1) + p3 * p1) - (one / s) * (wp.outer(a3, d3) * p1))
        phi_x1 = -a1 / (l1 * s)
        phi_x3 = -a3 / (l3 * s)
        g3, dg3, th, dx = jamming_terms(phi, L, radius, lock_angle)
        ones = wp.vec3d(one, one, one)
        kx1 = half * k0 * (dg3 * (one - th) * phi_x1 + (one - g3) * (ones - (th * th * dx) * phi_x1))
        kx3 = half * k0 * (dg3 * (one - th) * phi_x3 + (one - g3) * (ones - (th * th * dx) * phi_x3))
        two = wp.float64(2.0)
        f11 = f11 - (two * L * dl) * wp.outer(kx1, phi_x1)
        f33 = f33 - (two * L * dl) * wp.outer(kx3, phi_x3)
        f13 = f13 - (L * dl) * (wp.outer(kx1, phi_x3) + wp.outer(phi_x1, kx3))
        f31 = f31 - (L * dl) * (wp.outer(kx3, phi_x1) + wp.outer(phi_x3, kx1))
    add_transposed_product(out, bw, p, ids[0], ids[1], ids[2], f11, f13, f31, f33, -h * h)


@wp.func
def friction_force_original(delta: wp.float64, mu_n: wp.float64, kf: wp.float64, stick: wp.float64):
    """Friction of the original code: -1/2 (kf d - K(d) mu N) stick + 1/2 (kf d + K(d) mu N) with K = tanh(10 .)
    and stick = tanh(10 (mu N - F_u)); the sign of the second bracket makes the stick regime an anti-restoring
    spring (docs/PHYSICS.md section 5, item 1)."""
    half = wp.float64(0.5)
    coulomb = mu_n * wp.tanh(wp.float64(10.0) * delta)
    spring = kf * delta
    return -half * (spring - coulomb) * stick + half * (spring + coulomb)


@wp.func
def switches_original(f_u: wp.float64, mu_n: wp.float64, smoothing: wp.float64):
    """Indicators of the original code: tanh(10 (mu N - F)) with the signed F, and sigmoid(1e4 (|F| - mu N)),
    both with fixed, scale-unaware sharpness (``smoothing`` is not used: the original has none)."""
    z = wp.float64(1.0e4) * (mu_n - wp.abs(f_u))
    decay = wp.exp(-wp.abs(z))
    return wp.tanh(wp.float64(10.0) * (mu_n - f_u)), wp.where(z > wp.float64(0.0), decay, wp.float64(1.0)) / (
        wp.float64(1.0) + decay)


class ReferenceBending(Bending):
    """Bending whose system matrix is the original hand-derived Jacobian ("bend_jacobian")."""

    hessian_family = None

    def stiffness_product_launches(self, model, c, p, h, seed, out, ws=None):
        return [Launch(bending_reference_matvec, (model.world_count, model.triple_count),
                       [c.q, p, model.triple_nodes, model.triple_axis, model.triple_bend_stiffness, model.spacing, h],
                       [out])]


class BendingTheta(ForceTerm):
    """The original code's sliding bending force kb theta / span^2 in place of kb theta^2 / span^2 ("bend_theta":
    adds the difference, explicitly)."""

    name = "bending_theta"
    stage = Stage.SLIDING
    implicit = False
    parameter_names = ("triple_bend_stiffness",)

    def force_launches(self, model, c, out, ws=None):
        return [Launch(bending_theta_correction, (model.world_count, model.triple_count),
                       [c.q, model.triple_nodes, model.triple_axis, model.triple_bend_stiffness, model.spacing],
                       [out])]


class ReferenceShear(Shear):
    """Shear with the original code's force ("shear_precedence": the precedence slip in the gradient of the
    jamming stiffness) and/or its hand-derived Jacobian ("shear_jacobian"); without the latter the matrix is the
    exact Hessian of its force, as in the original (not the model's Gauss-Newton part)."""

    explicit_stiffness = False

    def __init__(self, *, precedence: bool, jacobian: bool):
        self.precedence = precedence
        self.jacobian = jacobian
        if precedence or jacobian:
            self.hessian_family = None

    def force_launches(self, model, c, out, ws=None):
        if not self.precedence:
            return super().force_launches(model, c, out, ws)
        return [Launch(eval_shear_forces_reference, (model.world_count, model.stencil_count),
                       [c.q, *self._parameters(model, c)], [out])]

    def stiffness_product_launches(self, model, c, p, h, seed, out, ws=None):
        if not self.jacobian:
            return ForceTerm.stiffness_product_launches(self, model, c, p, h, seed, out, ws)
        return [Launch(shear_reference_matvec, (model.world_count, model.stencil_count),
                       [c.q, p, *self._parameters(model, c), h], [out])]


class ReferenceCrossing(Crossing):
    """The crossings with the original code's friction force and stick/slip indicators ("friction")."""

    switch_kernel, force_kernel = friction_kernels(switches_original, friction_force_original)

    def block_launches(self, model, c, h, blocks, ws=None):
        return None


class BorderCoupling(ForceTerm):
    """The original code's missing x-s coupling blocks between crossings and border nodes ("border_coupling"):
    subtracted from every product of the system matrix (mass and stiffness) and from the momentum M qdot."""

    name = "border_coupling"
    stage = Stage.SLIDING
    implicit = False

    def _correction(self, model, c, p, h, stiffness: int, out):
        return Launch(border_coupling_correction, (model.world_count, model.segment_count),
                      [c.q, p, model.segment_nodes, model.segment_axis, model.dof_mask, model.segment_density,
                       model.segment_stretch_stiffness, model.gravity, model.spacing, h, stiffness], [out])

    def linear_product_launches(self, model, c, p, h, out, ws=None):
        return [self._correction(model, c, p, h, 1, out)]

    def momentum_launches(self, model, c, qd, out, ws=None):
        return [self._correction(model, c, qd, 0.0, 0, out)]

    def block_launches(self, model, c, h, blocks, ws=None):
        return None


class ExactStretch(Stretch):
    """Stretching whose share of the system matrix is the exact Hessian (its force kernel's adjoint), negative
    transverse stiffness of compressed segments included, as in the original ("stretch_hessian")."""

    explicit_stiffness = False

    def stiffness_product_launches(self, model, c, p, h, seed, out, ws=None):
        return ForceTerm.stiffness_product_launches(self, model, c, p, h, seed, out, ws)


def reference_terms(terms, quirks) -> tuple:
    """``terms`` with the substitutes of ``quirks`` (names from ``QUIRKS``) in place of the model's own."""
    quirks = frozenset(quirks)
    if not quirks:
        return tuple(terms)
    out = []
    for term in terms:
        if isinstance(term, Bending) and "bend_jacobian" in quirks:
            term = ReferenceBending()
        if isinstance(term, Shear) and quirks & {"shear_precedence", "shear_jacobian"}:
            term = ReferenceShear(precedence="shear_precedence" in quirks, jacobian="shear_jacobian" in quirks)
        if isinstance(term, Crossing) and "friction" in quirks:
            term = ReferenceCrossing()
        if isinstance(term, Stretch) and "stretch_hessian" in quirks:
            term = ExactStretch()
        out.append(term)
        if isinstance(term, Bending) and "bend_theta" in quirks:
            out.append(BendingTheta())
    if "border_coupling" in quirks:
        out.append(BorderCoupling())
    return tuple(out)


def requires_matrix_free(quirks) -> bool:
    """Whether the substitutes of ``quirks`` change the system matrix (then the solver applies it matrix-free)."""
    return bool(frozenset(quirks) & JACOBIAN_QUIRKS)
