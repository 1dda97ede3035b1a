"""Inertia of the yarn: the integrated Eulerian-on-Lagrangian mass M(q) and its velocity-quadratic forces.

The kinetic energy of a segment, integrated along its material length ds with linear density rho, is
T = rho ds / 6 (|A|^2 + A.B + |B|^2) with A = xdot_a - w sdot_a, B = xdot_b - w sdot_b and the stretch
vector w = (xb - xa) / ds (Cirio et al. 2014): the mass couples positions and sliding. This term gives M to
the system (the solver's M + h D + h^2 K and the momentum M qdot) and the explicit forces dT/dq - (dM/dt) qdot.
"""

import warp as wp

from .._assembled import add_block
from .._coords import material_length, pack, position, slide
from .._terms import ForceTerm, Launch, Stage
from .._types import vec5d

__all__ = ["Inertia", "mass_matvec"]

mat55d = wp.types.matrix(shape=(5, 5), dtype=wp.float64)


@wp.kernel
def mass_matvec(
    q: wp.array2d(dtype=vec5d),
    v: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    density: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    out: wp.array2d(dtype=vec5d),
):
    """out += M v for the integrated mass of every segment: M_e = rho ds / 6 [[2 Bw, Bw], [Bw, 2 Bw]],
    Bw = [[I, -w], [-w^T, w.w]]."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    ds = material_length(qa, qb, axis, spacing)
    w = (position(qb) - position(qa)) / ds
    m = density[b, e] * ds / wp.float64(6.0)
    va = v[b, ends[0]]
    vb = v[b, ends[1]]
    ya = position(va) - w * slide(va, axis)
    yb = position(vb) - w * slide(vb, axis)
    ma = m * (wp.float64(2.0) * ya + yb)
    mb = m * (ya + wp.float64(2.0) * yb)
    out_a = vec5d(ma[0], ma[1], ma[2], wp.float64(0.0), wp.float64(0.0))
    out_b = vec5d(mb[0], mb[1], mb[2], wp.float64(0.0), wp.float64(0.0))
    out_a[3 + axis] = -wp.dot(w, ma)
    out_b[3 + axis] = -wp.dot(w, mb)
    wp.atomic_add(out, b, ends[0], out_a)
    wp.atomic_add(out, b, ends[1], out_b)


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
    """Velocity-quadratic forces of the Eulerian-on-Lagrangian mass: dT/dq - (dM/dt) qdot, per segment."""
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
def add_mass_blocks(
    q: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    density: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    width: int,
    blocks: wp.array3d(dtype=mat55d),
):
    """Add the segment mass matrix rho ds / 6 [[2 Bw, Bw], [Bw, 2 Bw]] (as ``mass_matvec``)."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    ds = material_length(qa, qb, axis, spacing)
    w = (position(qb) - position(qa)) / ds
    m = density[b, e] * ds / wp.float64(6.0)
    sa = 3 + axis
    bw = mat55d()
    for r in range(3):
        bw[r, r] = wp.float64(1.0)
        bw[r, sa] = -w[r]
        bw[sa, r] = -w[r]
    bw[sa, sa] = wp.dot(w, w)
    add_block(blocks, b, ends[0], ends[0], width, wp.float64(2.0) * m * bw)
    add_block(blocks, b, ends[0], ends[1], width, m * bw)
    add_block(blocks, b, ends[1], ends[0], width, m * bw)
    add_block(blocks, b, ends[1], ends[1], width, wp.float64(2.0) * m * bw)


@wp.func
def project(frame: wp.mat33d, c: int, other: wp.mat33d, c2: int):
    """frame[c] . other[c2]."""
    return wp.dot(frame[c], other[c2])


@wp.kernel
def add_mass_preconditioner(
    q: wp.array2d(dtype=vec5d),
    frame: wp.array2d(dtype=wp.mat33d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    density: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    diag: wp.array2d(dtype=vec5d),
    chain: wp.array2d(dtype=wp.vec2d),
):
    """The segment mass m = rho ds / 6 in the node frames: 2m on the diagonal of the three position components
    and 2 m w^2 on the sliding coordinate of each node, and the along-yarn chain coupling m t_a . t_b."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    ds = material_length(qa, qb, axis, spacing)
    w = wp.length(position(qb) - position(qa)) / ds
    m = density[b, e] * ds / wp.float64(6.0)
    two_m = wp.float64(2.0) * m
    fa = frame[b, ends[0]]
    fb = frame[b, ends[1]]
    out_a = vec5d(two_m * project(fa, 0, fa, 0), two_m * project(fa, 1, fa, 1), two_m * project(fa, 2, fa, 2),
                  wp.float64(0.0), wp.float64(0.0))
    out_b = vec5d(two_m * project(fb, 0, fb, 0), two_m * project(fb, 1, fb, 1), two_m * project(fb, 2, fb, 2),
                  wp.float64(0.0), wp.float64(0.0))
    out_a[3 + axis] = two_m * w * w
    out_b[3 + axis] = two_m * w * w
    wp.atomic_add(diag, b, ends[0], out_a)
    wp.atomic_add(diag, b, ends[1], out_b)
    coupling = wp.vec2d()
    coupling[axis] = m * project(fa, axis, fb, axis)
    wp.atomic_add(chain, b, ends[0], coupling)


class Inertia(ForceTerm):
    """The yarn's mass (``segment_density`` rho [kg/m] per segment): M in the system and the momentum, and the
    explicit velocity-quadratic forces."""

    name = "inertia"
    stage = Stage.SLIDING
    implicit = False
    parameter_names = ("segment_density",)

    def _mass(self, model, c, v, out):
        return Launch(mass_matvec, (model.world_count, model.segment_count),
                      [c.q, v, model.segment_nodes, model.segment_axis, model.segment_density, model.spacing], [out])

    def force_launches(self, model, c, out, ws=None):
        return [Launch(eval_inertial_forces, (model.world_count, model.segment_count),
                       [c.q, c.qd, model.segment_nodes, model.segment_axis, model.segment_density, model.spacing],
                       [out])]

    def linear_product_launches(self, model, c, p, h, out, ws=None):
        return [self._mass(model, c, p, out)]

    def momentum_launches(self, model, c, qd, out, ws=None):
        return [self._mass(model, c, qd, out)]

    def block_launches(self, model, c, h, blocks, ws=None):
        return [Launch(add_mass_blocks, (model.world_count, model.segment_count),
                       [c.q, model.segment_nodes, model.segment_axis, model.segment_density, model.spacing,
                        model.nodes[0]], [blocks])]

    def preconditioner_launches(self, model, c, h, frame, diag, chain, ws=None):
        return [Launch(add_mass_preconditioner, (model.world_count, model.segment_count),
                       [c.q, frame, model.segment_nodes, model.segment_axis, model.segment_density, model.spacing],
                       [diag, chain])]
