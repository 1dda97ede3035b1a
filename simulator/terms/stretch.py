"""Stretching of every yarn segment: V = 1/2 ks (l - ds)^2 / ds, ks = Y pi R^2 (Cirio et al. 2014).

l = |xb - xa| is the segment's length in space and ds = sb - sa its material length, so stretching acts on
the positions and on the sliding coordinates (it pulls yarn through a crossing towards the taut side).

In the system matrix the Hessian's transverse stiffness ks/ds (1 - ds/l), negative for a compressed segment, fades
to zero under compression (``tension_factor``): the step stays a descent step when the cloth buckles, drapes or
folds, and is exact under tension and at rest.
The product is its own kernel (``explicit_stiffness``), so reverse mode differentiates the matrix the step uses.
"""

import warp as wp

from .._coords import material_length, pack, position
from .._forces import MIN_LENGTH, stretch_energy, stretch_forces
from .._hessians import pack_local, unpack_local, vec7d
from .._terms import ForceTerm, Launch, Stage
from .._types import vec5d

__all__ = ["Stretch", "TENSION_SMOOTHING", "stretch_hessian", "tension_factor"]

#: the compressive strain over which the transverse stretching stiffness of the step's matrix fades to zero
#: (``tension_factor``)
TENSION_SMOOTHING = wp.constant(wp.float64(1.0e-3))


@wp.func
def tension_factor(strain: wp.float64):
    """The factor of the transverse stiffness ks/ds in the step's matrix at x = 1 - ds/l: x under tension (exact),
    x exp(-(x/w)^4) under compression (w = TENSION_SMOOTHING), which fades to zero beyond a strain of 2w.

    Exact under tension and at rest, so a slack or lightly tensioned segment gets exactly its geometric stiffness.
    A ReLU smoothed to be positive at rest (softplus of width w: 0.69 w at x = 0) gave every slack segment a
    fictitious tension 0.69 w ks in the matrix: for a real yarn (ks ~ 30 N, a cloth's own tensions ~1e-6 ks) that
    stiffness dominated bending and acted as a drag h (0.69 w ks / ds) on every bend, so such a cloth crept
    instead of falling. This factor is three times differentiable at rest (forward mode's central differences and
    reverse mode agree there) and at least -0.55 w: the matrix is never more than 0.55 w ks / ds short of
    positive semi-definite, where the exact one is x ks / ds < 0 for any compression x."""
    out = strain
    if strain < wp.float64(0.0):
        y = strain / TENSION_SMOOTHING
        y2 = y * y
        out = strain * wp.exp(-(y2 * y2))
    return out


@wp.kernel
def eval_stretch_forces(
    q: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    stretch_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    f: wp.array2d(dtype=vec5d),
):
    """Stretching forces of every segment on both nodes' positions and sliding coordinates [N]."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    f_xa, f_sb = stretch_forces(position(qa), position(qb), material_length(qa, qb, axis, spacing),
                                stretch_stiffness[b, e])
    wp.atomic_add(f, b, ends[0], pack(f_xa, axis, -f_sb))
    wp.atomic_add(f, b, ends[1], pack(-f_xa, axis, f_sb))


@wp.kernel
def eval_stretch_energy(
    q: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    stretch_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    energy: wp.array2d(dtype=wp.float64),
):
    """Stretching energy [J] of every segment."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    energy[b, e] = stretch_energy(position(qa), position(qb), material_length(qa, qb, axis, spacing),
                                  stretch_stiffness[b, e])


@wp.func
def stretch_hessian(edge: wp.vec3d, material: wp.float64, ks: wp.float64):
    """d^2V/dy^2 of stretching, y = (e = xb - xa, ds), with its transverse part faded out under compression:
    d^2/de^2 = ks/ds (u u^T + f(1 - ds/l) (I - u u^T)), d^2/de dds = -ks l/ds^2 u, d^2/dds^2 = ks l^2/ds^3
    (u = e / l, f = ``tension_factor``; the exact Hessian has f(x) = x, whose negative transverse stiffness under
    compression could make the system indefinite)."""
    ds = wp.max(material, MIN_LENGTH)
    l = wp.length(edge)
    u = edge / l
    along = wp.outer(u, u)
    tension = tension_factor(wp.float64(1.0) - ds / l)
    hee = (ks / ds) * (along + tension * (wp.identity(n=3, dtype=wp.float64) - along))
    hes = (-ks * l / (ds * ds)) * u
    return hee, hes, ks * l * l / (ds * ds * ds)


@wp.kernel
def add_stretch_rows(
    local: wp.array2d(dtype=vec7d),
    stretch_stiffness: wp.array2d(dtype=wp.float64),
    rows: wp.array3d(dtype=vec7d),
):
    """Add d^2V/dy^2 of stretching (``stretch_hessian``) in the family's y = (e, xa + xb, ds)."""
    b, e = wp.tid()
    edge, unused, length = unpack_local(local[b, e], vec7d())
    hee, hes, hss = stretch_hessian(edge, length, stretch_stiffness[b, e])
    zero = wp.vec3d()
    for r in range(3):
        rows[b, e, r] = rows[b, e, r] + pack_local(hee[r], zero, hes[r])
    rows[b, e, 6] = rows[b, e, 6] + pack_local(hes, zero, hss)


@wp.kernel
def stretch_stiffness_product(
    q: wp.array2d(dtype=vec5d),
    p: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    stretch_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    h: wp.float64,
    out: wp.array2d(dtype=vec5d),
):
    """out += h^2 K p of every segment with the Hessian of ``stretch_hessian`` (a kernel of q, ks and p, so that
    reverse mode differentiates the product the step uses)."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    hee, hes, hss = stretch_hessian(position(qb) - position(qa), material_length(qa, qb, axis, spacing),
                                    stretch_stiffness[b, e])
    pa = p[b, ends[0]]
    pb = p[b, ends[1]]
    pe = position(pb) - position(pa)
    pds = pb[3 + axis] - pa[3 + axis]
    h2 = h * h
    out_e = h2 * (hee * pe + hes * pds)
    out_ds = h2 * (wp.dot(hes, pe) + hss * pds)
    wp.atomic_add(out, b, ends[0], pack(-out_e, axis, -out_ds))
    wp.atomic_add(out, b, ends[1], pack(out_e, axis, out_ds))


@wp.func
def project(frame: wp.mat33d, m: wp.mat33d, c: int, other: wp.mat33d, c2: int):
    """frame[c] . m . other[c2]."""
    return wp.dot(frame[c], m * other[c2])


@wp.kernel
def add_stretch_preconditioner(
    q: wp.array2d(dtype=vec5d),
    frame: wp.array2d(dtype=wp.mat33d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    stretch_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    h: wp.float64,
    diag: wp.array2d(dtype=vec5d),
    chain: wp.array2d(dtype=wp.vec2d),
):
    """Stretching stiffness h^2 ks/ds (u u^T + tension (I - u u^T)) of each segment projected on the node
    frames (diagonal entries, and the along-yarn chain coupling -stiffness with the next node), plus
    h^2 ks w^2 / ds on the sliding coordinate (w = l / ds)."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    ds = material_length(qa, qb, axis, spacing)
    d = position(qb) - position(qa)
    l = wp.length(d)
    dn = d / l
    w = l / ds
    ks = stretch_stiffness[b, e]
    outer = wp.outer(dn, dn)
    tension = wp.max(wp.float64(1.0) - ds / l, wp.float64(0.0))
    stiff = (h * h * ks / ds) * (outer + tension * (wp.identity(n=3, dtype=wp.float64) - outer))
    fa = frame[b, ends[0]]
    fb = frame[b, ends[1]]
    s_diag = h * h * ks * w * w / ds
    out_a = vec5d(project(fa, stiff, 0, fa, 0), project(fa, stiff, 1, fa, 1), project(fa, stiff, 2, fa, 2),
                  wp.float64(0.0), wp.float64(0.0))
    out_b = vec5d(project(fb, stiff, 0, fb, 0), project(fb, stiff, 1, fb, 1), project(fb, stiff, 2, fb, 2),
                  wp.float64(0.0), wp.float64(0.0))
    out_a[3 + axis] = s_diag
    out_b[3 + axis] = s_diag
    wp.atomic_add(diag, b, ends[0], out_a)
    wp.atomic_add(diag, b, ends[1], out_b)
    coupling = wp.vec2d()
    coupling[axis] = -project(fa, stiff, axis, fb, axis)
    wp.atomic_add(chain, b, ends[0], coupling)


class Stretch(ForceTerm):
    """Stretching of every segment (``segment_stretch_stiffness`` ks = Y pi R^2 [N] per segment)."""

    name = "stretch"
    stage = Stage.SLIDING
    parameter_names = ("segment_stretch_stiffness",)
    hessian_family = "segment"
    explicit_stiffness = True

    def _inputs(self, model, c):
        return [c.q, model.segment_nodes, model.segment_axis, model.segment_stretch_stiffness, model.spacing]

    def force_launches(self, model, c, out, ws=None):
        return [Launch(eval_stretch_forces, (model.world_count, model.segment_count), self._inputs(model, c), [out])]

    def energy_launches(self, model, c, ws=None):
        return [Launch(eval_stretch_energy, (model.world_count, model.segment_count), self._inputs(model, c))]

    def stiffness_product_launches(self, model, c, p, h, seed, out, ws=None):
        return [Launch(stretch_stiffness_product, (model.world_count, model.segment_count),
                       [c.q, p, model.segment_nodes, model.segment_axis, model.segment_stretch_stiffness,
                        model.spacing, h], [out])]

    def hessian_rows_launches(self, model, c, local, rows, ws=None):
        return [Launch(add_stretch_rows, local.shape, [local, model.segment_stretch_stiffness], [rows])]

    def preconditioner_launches(self, model, c, h, frame, diag, chain, ws=None):
        return [Launch(add_stretch_preconditioner, (model.world_count, model.segment_count),
                       [c.q, frame, model.segment_nodes, model.segment_axis, model.segment_stretch_stiffness,
                        model.spacing, h], [diag, chain])]
