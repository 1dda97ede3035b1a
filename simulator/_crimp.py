"""Crossing normals, yarn compression N (from crimp) and the frozen stick/slip indicators of a step.

The compression at a crossing (Gong et al. 2022) is N = relu(1/2 n . (F_warp - F_weft)), where
F_warp is the force that the warp yarn's stretching (on the node positions) and bending of its
crimped centreline (x - R n at crossings, x at yarn ends) exert on the node, and F_weft likewise
with the weft centreline x + R n. Crimp bending enters only N, never the dynamics.
"""

import warp as wp

from ._forces import bending_forces, stretch_forces
from ._kernels import material_length, position
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


@wp.func
def switches(f_u: wp.float64, mu_n: wp.float64, smoothing: wp.float64):
    """Smooth stick indicator tanh((mu N - |F|) / (c mu N)) in [-1, 1] and slide indicator
    sigmoid((|F| - mu N) / (c mu N)) in [0, 1]; c is the friction smoothing width. |F| is smoothed
    as sqrt(F^2 + (0.01 c mu N)^2) so that the indicators are differentiable where F changes sign."""
    width = smoothing * wp.max(mu_n, wp.float64(1.0e-15))
    magnitude = wp.sqrt(f_u * f_u + wp.float64(1.0e-4) * width * width)  # |F| smoothed over 1% of the width
    z = (mu_n - magnitude) / width
    one = wp.float64(1.0)
    decay = wp.exp(-wp.abs(z))  # sigmoid(-z) written so that neither it nor its derivative overflows
    slide_rate = wp.where(z > wp.float64(0.0), decay, one) / (one + decay)
    return wp.tanh(z), slide_rate


@wp.func
def switches_original(f_u: wp.float64, mu_n: wp.float64):
    """Indicators of the original code (for reference comparisons only): tanh(10 (mu N - F)) with the
    signed F, and sigmoid(1e4 (|F| - mu N)), both with fixed, scale-unaware sharpness."""
    z = wp.float64(1.0e4) * (mu_n - wp.abs(f_u))
    decay = wp.exp(-wp.abs(z))
    return wp.tanh(wp.float64(10.0) * (mu_n - f_u)), wp.where(z > wp.float64(0.0), decay, wp.float64(1.0)) / (
        wp.float64(1.0) + decay)


@wp.kernel
def eval_friction_switches(
    f: wp.array2d(dtype=vec5d),
    compression: wp.array2d(dtype=wp.float64),
    friction: wp.array2d(dtype=wp.float64),
    smoothing: wp.array2d(dtype=wp.float64),
    original_friction: int,
    stick: wp.array2d(dtype=wp.vec2d),
    slide_rate: wp.array2d(dtype=wp.vec2d),
):
    """Stick and slide indicators of (u, v) from the non-friction Eulerian forces F_u, F_v already in f
    (``original_friction`` != 0: the original code's indicators, for reference comparisons)."""
    b, n = wp.tid()
    mu_n = friction[b, n] * compression[b, n]
    fn = f[b, n]
    s_u, r_u = switches(fn[3], mu_n, smoothing[b, n])
    s_v, r_v = switches(fn[4], mu_n, smoothing[b, n])
    if original_friction != 0:
        s_u, r_u = switches_original(fn[3], mu_n)
        s_v, r_v = switches_original(fn[4], mu_n)
    stick[b, n] = wp.vec2d(s_u, s_v)
    slide_rate[b, n] = wp.vec2d(r_u, r_v)
