"""Warp kernels that evaluate the yarn-level forces of all worlds (one launch per term).

Every kernel runs over (world, element). Forces are scattered into ``f`` [B, nodes] (vec5d:
force on x [N] and generalized force on u, v [N]). The kernels whose forces depend on q
implicitly (segment, bending, shear and node terms) are also launched in adjoint mode by the
solver: with the force seed ``-h^2 p`` their adjoint gives the stiffness product h^2 K p.
"""

import warp as wp

from ._forces import (
    bending_forces,
    contact_force_sb,
    friction_force,
    friction_force_original,
    gravity_forces,
    shear_forces,
    stretch_forces,
)
from ._types import vec5d


@wp.func
def position(q: vec5d):
    return wp.vec3d(q[0], q[1], q[2])


@wp.func
def slide(q: vec5d, axis: int):
    return q[3 + axis]


@wp.func
def material_length(qa: vec5d, qb: vec5d, axis: int, rest: wp.float64):
    """Material length sb - sa [m] of the yarn between two nodes whose rest arc-length distance is
    ``rest``; the state stores sliding displacements from rest, so this keeps full precision."""
    return rest + (qb[3 + axis] - qa[3 + axis])


@wp.func
def pack(fx: wp.vec3d, axis: int, fs: wp.float64):
    """A vec5d with force fx on x and fs on the sliding coordinate of ``axis``."""
    out = vec5d(fx[0], fx[1], fx[2], wp.float64(0.0), wp.float64(0.0))
    out[3 + axis] = fs
    return out


@wp.kernel
def eval_segment_forces(
    q: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    segment_reach: wp.array(dtype=wp.float64),
    density: wp.array2d(dtype=wp.float64),
    stretch_stiffness: wp.array2d(dtype=wp.float64),
    contact_stiffness: wp.array2d(dtype=wp.float64),
    gravity: wp.array(dtype=wp.vec3d),
    spacing: wp.float64,
    f: wp.array2d(dtype=vec5d),
):
    """Stretching, gravity and parallel-yarn contact of every segment."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    xa = position(qa)
    xb = position(qb)
    ds = material_length(qa, qb, axis, spacing)
    f_xa, f_sb = stretch_forces(xa, xb, ds, stretch_stiffness[b, e])
    g_x, g_sb = gravity_forces(xa, xb, ds, density[b, e], gravity[b])
    c_sb = contact_force_sb(ds, contact_stiffness[b, e], spacing, segment_reach[e])
    wp.atomic_add(f, b, ends[0], pack(f_xa + g_x, axis, -f_sb - g_sb - c_sb))
    wp.atomic_add(f, b, ends[1], pack(g_x - f_xa, axis, f_sb + g_sb + c_sb))


@wp.kernel
def eval_bending_forces(
    q: wp.array2d(dtype=vec5d),
    triple_nodes: wp.array(dtype=wp.vec3i),
    triple_axis: wp.array(dtype=wp.int32),
    bend_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    f: wp.array2d(dtype=vec5d),
):
    """Bending of every triple c-a-b of consecutive nodes along a yarn."""
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
def eval_shear_forces(
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
    """Shear of every stencil (crossing a, warp neighbour p, weft neighbour r); stiffness (N + 1) S pi R^2
    with the crossing's compression N [N] frozen for the step."""
    b, e = wp.tid()
    ids = stencil_nodes[e]
    xa = position(q[b, ids[0]])
    k0 = shear_stiffness[b, e] * (compression[b, ids[0]] + wp.float64(1.0))
    f_p, f_r = shear_forces(xa, position(q[b, ids[1]]), position(q[b, ids[2]]), k0, stencil_jam[e], spacing,
                            radius, lock_angle)
    zero = wp.float64(0.0)
    wp.atomic_add(f, b, ids[0], vec5d(-f_p[0] - f_r[0], -f_p[1] - f_r[1], -f_p[2] - f_r[2], zero, zero))
    wp.atomic_add(f, b, ids[1], vec5d(f_p[0], f_p[1], f_p[2], zero, zero))
    wp.atomic_add(f, b, ids[2], vec5d(f_r[0], f_r[1], f_r[2], zero, zero))


@wp.kernel
def eval_node_forces(
    q: wp.array2d(dtype=vec5d),
    anchor: wp.array2d(dtype=wp.vec2d),
    dof_mask: wp.array(dtype=vec5d),
    pin_stiffness: wp.array2d(dtype=wp.float64),
    pin_target: wp.array2d(dtype=wp.vec3d),
    friction: wp.array2d(dtype=wp.float64),
    friction_stiffness: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    stick: wp.array2d(dtype=wp.vec2d),
    original_friction: int,
    f: wp.array2d(dtype=vec5d),
):
    """Soft pins on x and the stick/slip anchor springs on the sliding coordinates of crossings
    (``original_friction`` != 0: the original code's friction form, for reference comparisons)."""
    b, n = wp.tid()
    qn = q[b, n]
    fx = -pin_stiffness[b, n] * (position(qn) - pin_target[b, n])
    mu_n = friction[b, n] * compression[b, n]
    kf = friction_stiffness[b, n]
    mask = dof_mask[n]
    a = anchor[b, n]
    st = stick[b, n]
    fu = friction_force(qn[3] - a[0], mu_n, kf, st[0])
    fv = friction_force(qn[4] - a[1], mu_n, kf, st[1])
    if original_friction != 0:
        fu = friction_force_original(qn[3] - a[0], mu_n, kf, st[0])
        fv = friction_force_original(qn[4] - a[1], mu_n, kf, st[1])
    wp.atomic_add(f, b, n, vec5d(fx[0], fx[1], fx[2], mask[3] * fu, mask[4] * fv))


@wp.kernel
def eval_inertial_forces(
    q: wp.array2d(dtype=vec5d),
    qd: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    density: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    f: wp.array2d(dtype=vec5d),
):
    """Velocity-quadratic forces of the Eulerian-on-Lagrangian mass: dT/dq - (dM/dt) qdot, per segment.

    Kinetic energy of a segment: T = rho ds / 6 (|A|^2 + A.B + |B|^2), with A = xdot_a - w sdot_a,
    B = xdot_b - w sdot_b, w = (xb - xa) / ds the stretch vector.
    """
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    va = qd[b, ends[0]]
    vb = qd[b, ends[1]]
    sixth = density[b, e] / wp.float64(6.0)
    ds = material_length(qa, qb, axis, spacing)
    w = (position(qb) - position(qa)) / ds
    sda = slide(va, axis)
    sdb = slide(vb, axis)
    big_a = position(va) - w * sda
    big_b = position(vb) - w * sdb
    two = wp.float64(2.0)
    kin = wp.dot(big_a, big_a) + wp.dot(big_a, big_b) + wp.dot(big_b, big_b)
    grad_w = sixth * ds * (-(two * big_a + big_b) * sda - (two * big_b + big_a) * sdb)
    dt_x = grad_w / ds
    dt_sb = sixth * kin - wp.dot(grad_w, w) / ds
    ds_dot = sdb - sda
    w_dot = ((position(vb) - position(va)) - w * ds_dot) / ds
    a_dot = -w_dot * sda
    b_dot = -w_dot * sdb
    pxa = sixth * ds * (two * big_a + big_b)
    pxb = sixth * ds * (two * big_b + big_a)
    pxa_dot = sixth * ds_dot * (two * big_a + big_b) + sixth * ds * (two * a_dot + b_dot)
    pxb_dot = sixth * ds_dot * (two * big_b + big_a) + sixth * ds * (two * b_dot + a_dot)
    psa_dot = -wp.dot(w_dot, pxa) - wp.dot(w, pxa_dot)
    psb_dot = -wp.dot(w_dot, pxb) - wp.dot(w, pxb_dot)
    wp.atomic_add(f, b, ends[0], pack(-dt_x - pxa_dot, axis, -dt_sb - psa_dot))
    wp.atomic_add(f, b, ends[1], pack(dt_x - pxb_dot, axis, dt_sb - psb_dot))


@wp.kernel
def eval_wind_forces(
    q: wp.array2d(dtype=vec5d),
    qd: wp.array2d(dtype=vec5d),
    face_nodes: wp.array(dtype=wp.vec3i),
    wind_velocity: wp.array(dtype=wp.vec3d),
    wind_density: wp.array(dtype=wp.float64),
    wind_drag: wp.array(dtype=wp.float64),
    f: wp.array2d(dtype=vec5d),
):
    """Quadratic wind pressure rho_w A |vn| vn n plus linear tangential drag d_w A vt per triangle,
    shared equally by its three nodes (explicit)."""
    b, e = wp.tid()
    ids = face_nodes[e]
    x0 = position(q[b, ids[0]])
    c = wp.cross(position(q[b, ids[1]]) - x0, position(q[b, ids[2]]) - x0)
    twice_area = wp.length(c)
    if twice_area <= wp.float64(0.0):
        return
    normal = c / twice_area
    area = wp.float64(0.5) * twice_area
    mean_v = (position(qd[b, ids[0]]) + position(qd[b, ids[1]]) + position(qd[b, ids[2]])) / wp.float64(3.0)
    rel = wind_velocity[b] - mean_v
    vn = wp.dot(normal, rel)
    vt = rel - vn * normal
    force = (area / wp.float64(3.0)) * (wind_density[b] * wp.abs(vn) * vn * normal + wind_drag[b] * vt)
    out = vec5d(force[0], force[1], force[2], wp.float64(0.0), wp.float64(0.0))
    wp.atomic_add(f, b, ids[0], out)
    wp.atomic_add(f, b, ids[1], out)
    wp.atomic_add(f, b, ids[2], out)
