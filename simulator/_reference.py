"""Optional reproductions of documented behaviours of the original implementation (Gong et al. 2022 code,
commit 7b51b74), used only to compare with trajectories that it produced. None of these is physics that
the default engine should have; each flag of ``SolverImplicit(reference_quirks=...)`` names one:

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
  with K(x) = tanh(10 x) and the signed F_u, and the anchor rate sigmoid(1e4 (|F_u| - mu N)).
* "bend_theta": the bending force on the sliding coordinates uses theta instead of theta^2.
* "shear_jacobian": the system matrix uses the original hand-derived shear Jacobian (shear_reference_matvec).
* "shear_precedence": the jamming shear force uses the original d kx / dx with its precedence slip.
"""

import warp as wp

from ._forces import HALF_PI, angle_grads
from ._forces import shear_stiffness as shear_stiffness_fn
from ._kernels import material_length, pack, position, slide
from ._types import vec5d

QUIRKS = ("bend_jacobian", "border_coupling", "friction", "bend_theta", "shear_precedence", "shear_jacobian")


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
    b10 = -(b11 + b12)
    b20 = -(b21 + b22)
    b01 = -(b11 + b21)
    b02 = -(b12 + b22)
    b00 = -(b10 + b20)
    pb = _xv(p[bw, ids[2]])
    pc = _xv(p[bw, ids[0]])
    pa = _xv(p[bw, ids[1]])
    s = -h * h
    ob = s * (wp.transpose(b11) * pb + wp.transpose(b12) * pc + wp.transpose(b10) * pa)
    oc = s * (wp.transpose(b21) * pb + wp.transpose(b22) * pc + wp.transpose(b20) * pa)
    oa = s * (wp.transpose(b01) * pb + wp.transpose(b02) * pc + wp.transpose(b00) * pa)
    zero = wp.float64(0.0)
    wp.atomic_add(out, bw, ids[2], vec5d(ob[0], ob[1], ob[2], zero, zero))
    wp.atomic_add(out, bw, ids[0], vec5d(oc[0], oc[1], oc[2], zero, zero))
    wp.atomic_add(out, bw, ids[1], vec5d(oa[0], oa[1], oa[2], zero, zero))


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


@wp.func
def friction_force_reference(delta: wp.float64, mu_n: wp.float64, kf: wp.float64, stick: wp.float64):
    """Friction of the original code: -1/2 (kf d - K(d) mu N) stick + 1/2 (kf d + K(d) mu N), K = tanh(10 .),
    stick = tanh(10 (mu N - F_u)) frozen for the step."""
    half = wp.float64(0.5)
    coulomb = mu_n * wp.tanh(wp.float64(10.0) * delta)
    spring = kf * delta
    return -half * (spring - coulomb) * stick + half * (spring + coulomb)


@wp.kernel
def eval_node_forces_reference(
    q: wp.array2d(dtype=vec5d),
    anchor: wp.array2d(dtype=wp.vec2d),
    dof_mask: wp.array(dtype=vec5d),
    pin_stiffness: wp.array2d(dtype=wp.float64),
    pin_target: wp.array2d(dtype=wp.vec3d),
    friction: wp.array2d(dtype=wp.float64),
    friction_stiffness: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    stick: wp.array2d(dtype=wp.vec2d),
    f: wp.array2d(dtype=vec5d),
):
    """Soft pins and the original code's friction (see friction_force_reference)."""
    b, n = wp.tid()
    qn = q[b, n]
    fx = -pin_stiffness[b, n] * (position(qn) - pin_target[b, n])
    mu_n = friction[b, n] * compression[b, n]
    kf = friction_stiffness[b, n]
    mask = dof_mask[n]
    a = anchor[b, n]
    st = stick[b, n]
    fu = mask[3] * friction_force_reference(qn[3] - a[0], mu_n, kf, st[0])
    fv = mask[4] * friction_force_reference(qn[4] - a[1], mu_n, kf, st[1])
    wp.atomic_add(f, b, n, vec5d(fx[0], fx[1], fx[2], fu, fv))


@wp.kernel
def eval_friction_switches_reference(
    f: wp.array2d(dtype=vec5d),
    compression: wp.array2d(dtype=wp.float64),
    friction: wp.array2d(dtype=wp.float64),
    smoothing: wp.array2d(dtype=wp.float64),
    stick: wp.array2d(dtype=wp.vec2d),
    slide_rate: wp.array2d(dtype=wp.vec2d),
):
    """Original switches: stick = tanh(10 (mu N - F_u)) with the signed F_u, slide = sigmoid(1e4 (|F_u| - mu N))."""
    b, n = wp.tid()
    mu_n = friction[b, n] * compression[b, n]
    fn = f[b, n]
    ten = wp.float64(10.0)
    big = wp.float64(1.0e4)
    one = wp.float64(1.0)
    stick[b, n] = wp.vec2d(wp.tanh(ten * (mu_n - fn[3])), wp.tanh(ten * (mu_n - fn[4])))
    slide_rate[b, n] = wp.vec2d(one / (one + wp.exp(-big * (wp.abs(fn[3]) - mu_n))),
                                one / (one + wp.exp(-big * (wp.abs(fn[4]) - mu_n))))


@wp.kernel
def eval_shear_forces_reference(
    q: wp.array2d(dtype=vec5d),
    stencil_nodes: wp.array(dtype=wp.vec3i),
    stencil_jam: wp.array(dtype=wp.int32),
    shear_stiffness: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    radius: wp.float64,
    lock_angle: wp.float64,
    f: wp.array2d(dtype=vec5d),
):
    """Shear forces of the original code: with jamming, the gradient of kx has the precedence slip
    (1 - tanh^2 * dX/dx) instead of (1 - tanh^2) dX/dx (yarn-model.md section 2.5 / 5 item 4)."""
    b, e = wp.tid()
    ids = stencil_nodes[e]
    xa = position(q[b, ids[0]])
    k0 = shear_stiffness[b, e] * (compression[b, ids[0]] + wp.float64(1.0))
    phi, gp, gr = angle_grads(position(q[b, ids[1]]) - xa, position(q[b, ids[2]]) - xa)
    kx, dkx = shear_stiffness_fn(phi, k0, stencil_jam[e], spacing, radius, lock_angle)
    d = phi - HALF_PI
    f_p = -(spacing * d * kx) * gp
    f_r = -(spacing * d * kx) * gr
    if stencil_jam[e] != 0:
        half = wp.float64(0.5)
        one = wp.float64(1.0)
        bar = HALF_PI
        g = (wp.sqrt(wp.float64(2.0)) * spacing - wp.float64(2.0) * spacing * wp.sin(half * phi)) / radius
        dg = -spacing * wp.cos(half * phi) / radius
        g3 = g * g * g
        dg3 = wp.float64(3.0) * g * g * dg
        d_lock = phi - lock_angle
        d_bar = phi - bar
        phi_s = phi * d_lock * d_bar
        dphi_s = d_lock * d_bar + phi * d_bar + phi * d_lock
        bar4 = bar * bar * bar * bar
        den = phi_s * phi_s + bar4 * wp.float64(0.36)
        x = bar4 * bar * d_lock / den
        dx = bar4 * bar * (den - d_lock * wp.float64(2.0) * phi_s * dphi_s) / (den * den)
        th = wp.tanh(x)
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
    k0 = shear_stiffness[bw, e] * (compression[bw, ids[0]] + wp.float64(1.0))
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
        bar = HALF_PI
        g = (wp.sqrt(wp.float64(2.0)) * L - wp.float64(2.0) * L * wp.sin(half * phi)) / radius
        dg = -L * wp.cos(half * phi) / radius
        g3 = g * g * g
        dg3 = wp.float64(3.0) * g * g * dg
        d_lock = phi - lock_angle
        d_bar = phi - bar
        phi_s = phi * d_lock * d_bar
        dphi_s = d_lock * d_bar + phi * d_bar + phi * d_lock
        bar4 = bar * bar * bar * bar
        den = phi_s * phi_s + bar4 * wp.float64(0.36)
        x = bar4 * bar * d_lock / den
        dx = bar4 * bar * (den - d_lock * wp.float64(2.0) * phi_s * dphi_s) / (den * den)
        th = wp.tanh(x)
        ones = wp.vec3d(one, one, one)
        kx1 = half * k0 * (dg3 * (one - th) * phi_x1 + (one - g3) * (ones - (th * th * dx) * phi_x1))
        kx3 = half * k0 * (dg3 * (one - th) * phi_x3 + (one - g3) * (ones - (th * th * dx) * phi_x3))
        two = wp.float64(2.0)
        f11 = f11 - (two * L * dl) * wp.outer(kx1, phi_x1)
        f33 = f33 - (two * L * dl) * wp.outer(kx3, phi_x3)
        f13 = f13 - (L * dl) * (wp.outer(kx1, phi_x3) + wp.outer(phi_x1, kx3))
        f31 = f31 - (L * dl) * (wp.outer(kx3, phi_x1) + wp.outer(phi_x3, kx1))
    f10 = -(f11 + f13)
    f30 = -(f31 + f33)
    f01 = -(f11 + f31)
    f03 = -(f13 + f33)
    f00 = -(f10 + f30)
    pa = _xv(p[bw, ids[0]])
    pp = _xv(p[bw, ids[1]])
    pr = _xv(p[bw, ids[2]])
    sc = -h * h
    oa = sc * (wp.transpose(f00) * pa + wp.transpose(f01) * pp + wp.transpose(f03) * pr)
    op = sc * (wp.transpose(f10) * pa + wp.transpose(f11) * pp + wp.transpose(f13) * pr)
    orr = sc * (wp.transpose(f30) * pa + wp.transpose(f31) * pp + wp.transpose(f33) * pr)
    zero = wp.float64(0.0)
    wp.atomic_add(out, bw, ids[0], vec5d(oa[0], oa[1], oa[2], zero, zero))
    wp.atomic_add(out, bw, ids[1], vec5d(op[0], op[1], op[2], zero, zero))
    wp.atomic_add(out, bw, ids[2], vec5d(orr[0], orr[1], orr[2], zero, zero))
