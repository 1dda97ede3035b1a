"""Element energies and forces of the yarn-level model, as Warp functions (float64, SI units).

Every conservative term has an energy function ``*_energy`` and a force function ``*_forces`` that
returns its negative gradient; the tests check each pair by central finite differences. Angles use
atan2 and a small-angle series, so that forces and their derivatives stay finite at straight yarns.
See docs/PHYSICS.md, section 2, for the model.
"""

import warp as wp

HALF_PI = wp.constant(wp.float64(1.5707963267948966))
SMALL_ANGLE_SIN2 = wp.constant(wp.float64(1.0e-8))
MIN_LENGTH = wp.constant(wp.float64(1.0e-12))


@wp.func
def bend_angle_sq_grads(e1: wp.vec3d, e2: wp.vec3d):
    """Squared turning angle theta^2 between consecutive edges e1, e2 (0 for a straight yarn) and its
    gradients with respect to e1 and e2. Smooth at theta = 0 (series in tan^2)."""
    one = wp.float64(1.0)
    two = wp.float64(2.0)
    l1 = wp.length(e1)
    l2 = wp.length(e2)
    u1 = e1 / l1
    u2 = e2 / l2
    cs = wp.dot(u1, u2)
    cr = wp.cross(u1, u2)
    s2 = wp.dot(cr, cr)
    theta_sq = wp.float64(0.0)
    ratio = one  # theta / sin(theta)
    if s2 < SMALL_ANGLE_SIN2 and cs > wp.float64(0.0):
        t2 = s2 / (cs * cs)
        theta_sq = t2 * (one - t2 * (wp.float64(2.0 / 3.0) - t2 * wp.float64(23.0 / 45.0)))
        ratio = one + theta_sq * (wp.float64(1.0 / 6.0) + theta_sq * wp.float64(7.0 / 360.0))
    else:
        s = wp.sqrt(s2)
        theta = wp.atan2(s, cs)
        theta_sq = theta * theta
        ratio = theta / wp.max(s, MIN_LENGTH)
    g1 = (-two * ratio / l1) * (u2 - cs * u1)
    g2 = (-two * ratio / l2) * (u1 - cs * u2)
    return theta_sq, g1, g2


@wp.func
def angle_grads(e1: wp.vec3d, e2: wp.vec3d):
    """Angle phi in (0, pi) between e1 and e2 and its gradients (for shear, where phi ~ pi/2)."""
    l1 = wp.length(e1)
    l2 = wp.length(e2)
    u1 = e1 / l1
    u2 = e2 / l2
    cs = wp.dot(u1, u2)
    s = wp.length(wp.cross(u1, u2))
    phi = wp.atan2(s, cs)
    inv_s = wp.float64(1.0) / wp.max(s, MIN_LENGTH)
    g1 = (-inv_s / l1) * (u2 - cs * u1)
    g2 = (-inv_s / l2) * (u1 - cs * u2)
    return phi, g1, g2


# ----------------------------------------------------------------------------------------------
# Stretching, gravity and parallel-yarn contact: one segment a-b along one yarn, coordinate s.
# ----------------------------------------------------------------------------------------------


@wp.func
def stretch_energy(xa: wp.vec3d, xb: wp.vec3d, material_length: wp.float64, ks: wp.float64):
    """V = 1/2 ks (l - ds)^2 / ds [J], with l = |xb - xa| and ds = sb - sa the material length."""
    ds = wp.max(material_length, MIN_LENGTH)
    stretch = wp.length(xb - xa) - ds
    return wp.float64(0.5) * ks * stretch * stretch / ds


@wp.func
def stretch_forces(xa: wp.vec3d, xb: wp.vec3d, material_length: wp.float64, ks: wp.float64):
    """Stretching forces (on xa, on sb) [N]; the forces on xb and sa are their negatives."""
    ds = wp.max(material_length, MIN_LENGTH)
    e = xb - xa
    l = wp.length(e)
    w = l / ds
    f_xa = (ks * (w - wp.float64(1.0)) / l) * e
    f_sb = wp.float64(0.5) * ks * (w * w - wp.float64(1.0))
    return f_xa, f_sb


@wp.func
def gravity_energy(xa: wp.vec3d, xb: wp.vec3d, material_length: wp.float64, rho: wp.float64, gravity: wp.vec3d):
    """V = -rho ds g.(xa + xb)/2 [J] (segment mass rho*ds at its midpoint)."""
    return -rho * material_length * wp.float64(0.5) * wp.dot(gravity, xa + xb)


@wp.func
def gravity_forces(xa: wp.vec3d, xb: wp.vec3d, material_length: wp.float64, rho: wp.float64, gravity: wp.vec3d):
    """Gravity forces (on each of xa and xb, on sb) [N]; the force on sa is minus the one on sb."""
    f_x = (wp.float64(0.5) * rho * material_length) * gravity
    f_sb = rho * wp.float64(0.5) * wp.dot(gravity, xa + xb)
    return f_x, f_sb


@wp.func
def soft_relu(x: wp.float64, width: wp.float64):
    """width * log(1 + exp(x / width)): a C-infinity ReLU, exact to ~width * exp(-|x| / width).

    Written with one smooth branch per sign of x (no abs or max), so that reverse mode also gives the
    exact derivative at x = 0 (where segments at rest sit in satin weaves)."""
    z = x / width
    out = wp.float64(0.0)
    if z > wp.float64(0.0):
        out = width * (z + wp.log(wp.float64(1.0) + wp.exp(-z)))
    else:
        out = width * wp.log(wp.float64(1.0) + wp.exp(z))
    return out


@wp.func
def soft_step(x: wp.float64, width: wp.float64):
    """Derivative of soft_relu: the logistic function of x / width, without overflow (smooth branches,
    as in soft_relu)."""
    z = x / width
    out = wp.float64(0.0)
    if z > wp.float64(0.0):
        out = wp.float64(1.0) / (wp.float64(1.0) + wp.exp(-z))
    else:
        decay = wp.exp(z)
        out = decay / (wp.float64(1.0) + decay)
    return out


CONTACT_SMOOTHING = wp.constant(wp.float64(1.0e-2))  # ReLU width of the contact barrier / spacing


@wp.func
def contact_energy(material_length: wp.float64, kc: wp.float64, spacing: wp.float64, reach: wp.float64):
    """Parallel-yarn contact V = 1/2 kc L relu(d - ds)^2 [J]: keeps neighbouring crossings apart.

    The ReLU is smoothed over 1% of the spacing: in a plain weave with L = 2R, segments between
    crossings with the same flip rest exactly at ds = d = 2R, where a hard ReLU has a stiffness jump."""
    gap = soft_relu(reach - material_length, CONTACT_SMOOTHING * spacing)
    return wp.float64(0.5) * kc * spacing * gap * gap


@wp.func
def contact_force_sb(material_length: wp.float64, kc: wp.float64, spacing: wp.float64, reach: wp.float64):
    """Repulsive contact force on sb [N] (the force on sa is its negative)."""
    width = CONTACT_SMOOTHING * spacing
    x = reach - material_length
    return kc * spacing * soft_relu(x, width) * soft_step(x, width)


# ----------------------------------------------------------------------------------------------
# Bending: three consecutive nodes c-a-b along one yarn; V = kb theta^2 / (sb - sc).
# ----------------------------------------------------------------------------------------------


@wp.func
def bending_energy(xc: wp.vec3d, xa: wp.vec3d, xb: wp.vec3d, material_span: wp.float64, kb: wp.float64):
    """V = kb theta^2 / (sb - sc) [J], theta the turning angle at a, sb - sc the material span."""
    theta_sq, g1, g2 = bend_angle_sq_grads(xa - xc, xb - xa)
    return kb * theta_sq / wp.max(material_span, MIN_LENGTH)


@wp.func
def bending_forces(xc: wp.vec3d, xa: wp.vec3d, xb: wp.vec3d, material_span: wp.float64, kb: wp.float64):
    """Bending forces (on xc, xa, xb, sb) [N]; the force on sc is minus the one on sb."""
    theta_sq, g1, g2 = bend_angle_sq_grads(xa - xc, xb - xa)
    span = wp.max(material_span, MIN_LENGTH)
    k = kb / span
    f_c = k * g1
    f_b = -k * g2
    f_a = -(f_c + f_b)
    return f_c, f_a, f_b, k * theta_sq / span


# ----------------------------------------------------------------------------------------------
# Shear at a crossing a with a warp neighbour p and a weft neighbour r (4 stencils per crossing).
# ----------------------------------------------------------------------------------------------


@wp.func
def jamming_terms(phi: wp.float64, spacing: wp.float64, radius: wp.float64, lock_angle: wp.float64):
    """Terms of the smooth shear-jamming stiffness (Gong et al. 2022) at shear angle phi:
    g^3 and d(g^3)/dphi with g = (sqrt(2) L - 2 L sin(phi/2)) / R, tanh(X) and dX/dphi with
    X = pi/2^5 (phi - phi_l) / (phi_s^2 + pi/2^4 sigma^2), phi_s = phi (phi - phi_l)(phi - pi/2), sigma = 0.6."""
    half = wp.float64(0.5)
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
    return g3, dg3, wp.tanh(x), dx


@wp.func
def shear_stiffness(phi: wp.float64, k0: wp.float64, jam: int, spacing: wp.float64, radius: wp.float64,
                    lock_angle: wp.float64):
    """Shear stiffness kx(phi) [N*m/rad^2 per m] and d kx / d phi.

    Without jamming kx = k0. With smooth jamming, kx = k0/2 [(1 + g^3) + (1 - g^3) tanh(X)]
    (see ``jamming_terms``): about k0 above the jamming angle phi_l, about g^3 k0 below it.
    """
    if jam == 0:
        return k0, wp.float64(0.0)
    half = wp.float64(0.5)
    one = wp.float64(1.0)
    g3, dg3, th, dx = jamming_terms(phi, spacing, radius, lock_angle)
    kx = half * k0 * ((one + g3) + (one - g3) * th)
    dkx = half * k0 * (dg3 - dg3 * th + (one - g3) * (one - th * th) * dx)
    return kx, dkx


@wp.func
def shear_energy(xa: wp.vec3d, xp: wp.vec3d, xr: wp.vec3d, k0: wp.float64, jam: int, spacing: wp.float64,
                 radius: wp.float64, lock_angle: wp.float64):
    """V = 1/2 kx(phi) L (phi - pi/2)^2 [J], phi the angle between the warp and weft edges at a."""
    phi, gp, gr = angle_grads(xp - xa, xr - xa)
    kx, dkx = shear_stiffness(phi, k0, jam, spacing, radius, lock_angle)
    d = phi - HALF_PI
    return wp.float64(0.5) * kx * spacing * d * d


@wp.func
def shear_moment(phi: wp.float64, k0: wp.float64, jam: int, spacing: wp.float64, radius: wp.float64,
                 lock_angle: wp.float64):
    """dV/dphi [J/rad] of the shear energy (``shear_energy``) at shear angle phi."""
    kx, dkx = shear_stiffness(phi, k0, jam, spacing, radius, lock_angle)
    d = phi - HALF_PI
    return spacing * d * (kx + wp.float64(0.5) * dkx * d)


@wp.func
def jamming_stiffness_curvature(phi: wp.float64, k0: wp.float64, spacing: wp.float64, radius: wp.float64,
                                lock_angle: wp.float64):
    """d^2 kx / dphi^2 [N*m/rad^4 per m] of the smooth jamming stiffness (``shear_stiffness`` with jamming), in
    closed form from the terms of ``jamming_terms``."""
    half = wp.float64(0.5)
    one = wp.float64(1.0)
    two = wp.float64(2.0)
    g3, dg3, th, dx = jamming_terms(phi, spacing, radius, lock_angle)
    g = (wp.sqrt(two) * spacing - two * spacing * wp.sin(half * phi)) / radius
    dg = -spacing * wp.cos(half * phi) / radius
    d2g = half * spacing * wp.sin(half * phi) / radius
    d2g3 = wp.float64(6.0) * g * dg * dg + wp.float64(3.0) * g * g * d2g
    # X = C a / den with a = phi - phi_l, den = phi_s^2 + 0.36 (pi/2)^4, phi_s = phi a b, b = phi - pi/2
    a = phi - lock_angle
    b = phi - HALF_PI
    phi_s = phi * a * b
    dphi_s = a * b + phi * b + phi * a
    d2phi_s = two * (a + b + phi)
    bar4 = HALF_PI * HALF_PI * HALF_PI * HALF_PI
    den = phi_s * phi_s + bar4 * wp.float64(0.36)
    dden = two * phi_s * dphi_s
    d2den = two * (dphi_s * dphi_s + phi_s * d2phi_s)
    numerator = den - a * dden
    d2x = bar4 * HALF_PI * (-a * d2den * den - two * numerator * dden) / (den * den * den)
    sech2 = one - th * th
    dth = sech2 * dx
    d2th = -two * th * sech2 * dx * dx + sech2 * d2x
    return half * k0 * (d2g3 * (one - th) - two * dg3 * dth + (one - g3) * d2th)


@wp.func
def shear_curvature(phi: wp.float64, k0: wp.float64, jam: int, spacing: wp.float64, radius: wp.float64,
                    lock_angle: wp.float64):
    """d^2V/dphi^2 [J/rad^2] of the shear energy (``shear_energy``) at shear angle phi:
    L (kx + 2 kx' d + kx'' d^2 / 2) with d = phi - pi/2."""
    kx, dkx = shear_stiffness(phi, k0, jam, spacing, radius, lock_angle)
    d2kx = wp.float64(0.0)
    if jam != 0:
        d2kx = jamming_stiffness_curvature(phi, k0, spacing, radius, lock_angle)
    d = phi - HALF_PI
    return spacing * (kx + wp.float64(2.0) * dkx * d + wp.float64(0.5) * d2kx * d * d)


@wp.func
def shear_forces(xa: wp.vec3d, xp: wp.vec3d, xr: wp.vec3d, k0: wp.float64, jam: int, spacing: wp.float64,
                 radius: wp.float64, lock_angle: wp.float64):
    """Shear forces (on xp, on xr) [N]; the force on xa is minus their sum."""
    phi, gp, gr = angle_grads(xp - xa, xr - xa)
    dv = shear_moment(phi, k0, jam, spacing, radius, lock_angle)
    return -dv * gp, -dv * gr


# ----------------------------------------------------------------------------------------------
# Node terms: soft pins and the stick/slip friction spring of one sliding coordinate.
# ----------------------------------------------------------------------------------------------


@wp.func
def pin_energy(x: wp.vec3d, target: wp.vec3d, kh: wp.float64):
    """V = 1/2 kh |x - target|^2 [J]."""
    d = x - target
    return wp.float64(0.5) * kh * wp.dot(d, d)


@wp.func
def friction_width(mu_n: wp.float64, kf: wp.float64):
    """Displacement delta0 = mu N / kf [m] at which the stick spring reaches the Coulomb limit (mu N floored at
    1e-15 N only here, against a division by zero and overflowing adjoints: the Coulomb force and its stiffness are
    mu N times a function of delta / delta0, so a crossing without compression has none, whatever the units)."""
    return wp.max(mu_n, wp.float64(1.0e-15)) / kf


@wp.func
def friction_energy(delta: wp.float64, mu_n: wp.float64, kf: wp.float64, stick: wp.float64):
    """Energy of the smooth stick/slip anchor spring [J] at frozen stick indicator ``stick`` in [-1, 1]:
    V = (1+stick)/2 * 1/2 kf delta^2 + (1-stick)/2 * mu N delta0 log cosh(delta/delta0)."""
    half = wp.float64(0.5)
    d0 = friction_width(mu_n, kf)
    z = wp.abs(delta / d0)
    log_cosh = z + wp.log(wp.float64(1.0) + wp.exp(wp.float64(-2.0) * z)) - wp.log(wp.float64(2.0))
    return half * (wp.float64(1.0) + stick) * half * kf * delta * delta + half * (
        wp.float64(1.0) - stick) * mu_n * d0 * log_cosh


@wp.func
def friction_force(delta: wp.float64, mu_n: wp.float64, kf: wp.float64, stick: wp.float64):
    """Physically consistent Eq. 4 of Gong et al. (2022) without damping [N]:
    F = -[1/2 (kf delta - K mu N) stick + 1/2 (kf delta + K mu N)], K = tanh(delta / delta0).
    stick -> +1 gives the anchor spring -kf delta; stick -> -1 gives Coulomb sliding -mu N tanh(.)."""
    half = wp.float64(0.5)
    d0 = friction_width(mu_n, kf)
    coulomb = mu_n * wp.tanh(delta / d0)
    spring = kf * delta
    return -(half * (spring - coulomb) * stick + half * (spring + coulomb))


@wp.func
def friction_stiffness(delta: wp.float64, mu_n: wp.float64, kf: wp.float64, stick: wp.float64):
    """-d friction_force / d delta [N/m] at frozen stick (the friction spring's diagonal stiffness):
    1/2 (kf - C') stick + 1/2 (kf + C') with C' = mu N (1 - tanh^2(delta / delta0)) / delta0."""
    half = wp.float64(0.5)
    d0 = friction_width(mu_n, kf)
    t = wp.tanh(delta / d0)
    slope = mu_n * (wp.float64(1.0) - t * t) / d0
    return half * (kf - slope) * stick + half * (kf + slope)
