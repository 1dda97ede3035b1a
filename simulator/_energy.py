"""Per-element potential energies of the implicit force terms (diagnostics and force checks).

With the compression N and the stick/slip indicators frozen, the implicit forces of a step are the
negative gradient of the sum of these energies; the tests check this by finite differences.
"""

import warp as wp

from ._forces import (
    bending_energy,
    contact_energy,
    friction_energy,
    gravity_energy,
    pin_energy,
    shear_energy,
    stretch_energy,
)
from ._kernels import material_length, position
from ._types import vec5d


@wp.kernel
def eval_segment_energy(
    q: wp.array2d(dtype=vec5d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    segment_reach: wp.array(dtype=wp.float64),
    density: wp.array2d(dtype=wp.float64),
    stretch_stiffness: wp.array2d(dtype=wp.float64),
    contact_stiffness: wp.array2d(dtype=wp.float64),
    gravity: wp.array(dtype=wp.vec3d),
    spacing: wp.float64,
    energy: wp.array2d(dtype=wp.float64),
):
    """Stretching + gravity + contact energy [J] of every segment."""
    b, e = wp.tid()
    ends = segment_nodes[e]
    axis = segment_axis[e]
    qa = q[b, ends[0]]
    qb = q[b, ends[1]]
    xa = position(qa)
    xb = position(qb)
    ds = material_length(qa, qb, axis, spacing)
    energy[b, e] = (stretch_energy(xa, xb, ds, stretch_stiffness[b, e])
                    + gravity_energy(xa, xb, ds, density[b, e], gravity[b])
                    + contact_energy(ds, contact_stiffness[b, e], spacing, segment_reach[e]))


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
def eval_shear_energy(
    q: wp.array2d(dtype=vec5d),
    stencil_nodes: wp.array(dtype=wp.vec3i),
    stencil_jam: wp.array(dtype=wp.int32),
    shear_stiffness: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    radius: wp.float64,
    lock_angle: wp.float64,
    energy: wp.array2d(dtype=wp.float64),
):
    """Shear energy [J] of every stencil at the frozen compression."""
    b, e = wp.tid()
    ids = stencil_nodes[e]
    k0 = shear_stiffness[b, e] * (compression[b, ids[0]] + wp.float64(1.0))
    energy[b, e] = shear_energy(position(q[b, ids[0]]), position(q[b, ids[1]]), position(q[b, ids[2]]), k0,
                                stencil_jam[e], spacing, radius, lock_angle)


@wp.kernel
def eval_node_energy(
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
    energy: wp.array2d(dtype=wp.float64),
):
    """Pin and friction-spring energy [J] of every node at the frozen indicators (the model's friction
    form; ``original_friction`` is accepted for a common argument list and ignored)."""
    b, n = wp.tid()
    qn = q[b, n]
    mu_n = friction[b, n] * compression[b, n]
    kf = friction_stiffness[b, n]
    mask = dof_mask[n]
    a = anchor[b, n]
    st = stick[b, n]
    energy[b, n] = (pin_energy(position(qn), pin_target[b, n], pin_stiffness[b, n])
                    + mask[3] * friction_energy(qn[3] - a[0], mu_n, kf, st[0])
                    + mask[4] * friction_energy(qn[4] - a[1], mu_n, kf, st[1]))
