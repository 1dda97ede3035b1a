"""Crossing normals and the yarn compression N from crimp (the crossing term freezes both for a step).

The compression at a crossing (Gong et al. 2022) is N = relu(1/2 n . (F_warp - F_weft)), where
F_warp is the force that the warp yarn's stretching (on the node positions) and bending of its
crimped centreline (x - R n at crossings, x at yarn ends) exert on the node, and F_weft likewise
with the weft centreline x + R n. Crimp bending enters only N, never the dynamics.
"""

import warp as wp

from ._coords import material_length, position
from ._forces import bending_forces, stretch_forces
from ._types import vec5d


@wp.func
def grid_node(axis: int, t: int, other: int, width: int):
    """Node index of the node at position t along a yarn of ``axis`` with index ``other``."""
    if axis == 0:
        return t + other * width
    return other + t * width


@wp.func
def yarn_segment(axis: int, t: int, other: int, width: int, height: int):
    """Index of the segment from position t to t + 1 along a yarn (topology order of Model)."""
    if axis == 0:
        return other * (width - 1) + t
    return height * (width - 1) + other * (height - 1) + t


@wp.func
def yarn_triple(axis: int, t: int, other: int, width: int, height: int):
    """Index of the bending triple centred at position t (1 <= t <= length - 2) along a yarn."""
    if axis == 0:
        return other * (width - 2) + t - 1
    return height * (width - 2) + other * (height - 2) + t - 1


@wp.kernel
def eval_normals(
    q: wp.array2d(dtype=vec5d),
    node_flip: wp.array(dtype=wp.int32),
    width: int,
    height: int,
    normal: wp.array2d(dtype=wp.vec3d),
):
    """Unit normal at crossings, oriented (x_right - x_left) x (x_below - x_above) and flipped where the
    weft lies over the warp; zero at border nodes."""
    b, n = wp.tid()
    i = n % width
    j = n // width
    if i == 0 or j == 0 or i == width - 1 or j == height - 1:
        normal[b, n] = wp.vec3d()
        return
    du = position(q[b, n + 1]) - position(q[b, n - 1])
    dv = position(q[b, n + width]) - position(q[b, n - width])
    nrm = wp.normalize(wp.cross(du, dv))
    if node_flip[n] != 0:
        nrm = -nrm
    normal[b, n] = nrm


@wp.func
def crimp_point(q: wp.array2d(dtype=vec5d), normal: wp.array2d(dtype=wp.vec3d), b: int, n: int,
                offset: wp.float64):
    return position(q[b, n]) + offset * normal[b, n]


@wp.func
def yarn_force_on_node(
    q: wp.array2d(dtype=vec5d),
    normal: wp.array2d(dtype=wp.vec3d),
    stretch_stiffness: wp.array2d(dtype=wp.float64),
    bend_stiffness: wp.array2d(dtype=wp.float64),
    b: int,
    axis: int,
    t: int,
    other: int,
    length: int,
    width: int,
    height: int,
    spacing: wp.float64,
    offset: wp.float64,
):
    """Force [N] on the node at position t of one yarn from that yarn's stretching (uncrimped) and
    the bending of its crimped centreline (points x + offset * n)."""
    total = wp.vec3d()
    for k in range(2):  # segments t-1..t and t..t+1
        t0 = t - 1 + k
        na = grid_node(axis, t0, other, width)
        nb = grid_node(axis, t0 + 1, other, width)
        qa = q[b, na]
        qb = q[b, nb]
        f_xa, f_sb = stretch_forces(position(qa), position(qb), material_length(qa, qb, axis, spacing),
                                    stretch_stiffness[b, yarn_segment(axis, t0, other, width, height)])
        if k == 0:
            total = total - f_xa
        else:
            total = total + f_xa
    for k in range(3):  # triples centred at t-1, t, t+1
        tc = t - 1 + k
        if tc >= 1 and tc <= length - 2:
            nc = grid_node(axis, tc - 1, other, width)
            na = grid_node(axis, tc, other, width)
            nb = grid_node(axis, tc + 1, other, width)
            f_c, f_a, f_b, f_sb = bending_forces(
                crimp_point(q, normal, b, nc, offset), crimp_point(q, normal, b, na, offset),
                crimp_point(q, normal, b, nb, offset),
                material_length(q[b, nc], q[b, nb], axis, wp.float64(2.0) * spacing),
                bend_stiffness[b, yarn_triple(axis, tc, other, width, height)])
            if k == 0:
                total = total + f_b
            elif k == 1:
                total = total + f_a
            else:
                total = total + f_c
    return total


@wp.kernel
def eval_compression(
    q: wp.array2d(dtype=vec5d),
    normal: wp.array2d(dtype=wp.vec3d),
    stretch_stiffness: wp.array2d(dtype=wp.float64),
    bend_stiffness: wp.array2d(dtype=wp.float64),
    width: int,
    height: int,
    spacing: wp.float64,
    radius: wp.float64,
    compression: wp.array2d(dtype=wp.float64),
):
    """Yarn-yarn compression N [N] at every crossing (zero at border nodes)."""
    b, n = wp.tid()
    i = n % width
    j = n // width
    if i == 0 or j == 0 or i == width - 1 or j == height - 1:
        compression[b, n] = wp.float64(0.0)
        return
    f_warp = yarn_force_on_node(q, normal, stretch_stiffness, bend_stiffness, b, 0, i, j, width, width, height,
                                spacing, -radius)
    f_weft = yarn_force_on_node(q, normal, stretch_stiffness, bend_stiffness, b, 1, j, i, height, width, height,
                                spacing, radius)
    compression[b, n] = wp.max(wp.float64(0.5) * wp.dot(normal[b, n], f_warp - f_weft), wp.float64(0.0))
