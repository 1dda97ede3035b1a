"""Yarn-line preconditioner for the implicit system (M + h D + h^2 K).

The system is stiff along the yarns: the stretching stiffness h^2 ks / L is ~100x the nodal mass,
so point-Jacobi CG needs O(100) iterations. Stretching a warp segment acts on the position
component along the warp, and a weft segment on the component along the weft. With a local
orthonormal frame per node (warp tangent t1, weft tangent t2, normal n), the preconditioner solves
exactly the tridiagonal chains of the t1 components along warp lines and of the t2 components along
weft lines (mass + stretching + pins), and uses diagonals for the normal component (mass,
stretching tension, bending, pins) and for the sliding coordinates (mass, damping, friction,
stretching). It is R blockdiag(T_warp, T_weft, D) R^T with orthonormal R and positive definite
blocks, hence symmetric positive definite, as CG requires.
"""

import warp as wp

from ._kernels import material_length, position
from ._launch import LaunchCache, ReductionLayout
from ._types import vec5d


@wp.func
def unit_or(v: wp.vec3d, fallback: wp.vec3d):
    n = wp.length(v)
    if n > wp.float64(0.0):
        return v / n
    return fallback


@wp.kernel
def eval_frames(q: wp.array2d(dtype=vec5d), width: int, height: int, frame: wp.array2d(dtype=wp.mat33d)):
    """Rows of frame[b, n]: warp tangent t1, weft tangent t2 (orthogonalised), normal t1 x t2."""
    b, n = wp.tid()
    i = n % width
    j = n // width
    lo = wp.max(i - 1, 0)
    hi = wp.min(i + 1, width - 1)
    t1 = unit_or(position(q[b, hi + j * width]) - position(q[b, lo + j * width]), wp.vec3d(1.0, 0.0, 0.0))
    lo = wp.max(j - 1, 0)
    hi = wp.min(j + 1, height - 1)
    t2 = position(q[b, i + hi * width]) - position(q[b, i + lo * width])
    t2 = unit_or(t2 - wp.dot(t2, t1) * t1, wp.vec3d(0.0, 0.0, -1.0))
    nrm = wp.cross(t1, t2)
    frame[b, n] = wp.mat33d(t1[0], t1[1], t1[2], t2[0], t2[1], t2[2], nrm[0], nrm[1], nrm[2])


@wp.func
def project(frame: wp.mat33d, m: wp.mat33d, c: int, other: wp.mat33d, c2: int):
    """frame[c] . m . other[c2]."""
    return wp.dot(frame[c], m * other[c2])


@wp.kernel
def accumulate_segment_blocks(
    q: wp.array2d(dtype=vec5d),
    frame: wp.array2d(dtype=wp.mat33d),
    segment_nodes: wp.array(dtype=wp.vec2i),
    segment_axis: wp.array(dtype=wp.int32),
    density: wp.array2d(dtype=wp.float64),
    stretch_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    h: wp.float64,
    diag: wp.array2d(dtype=vec5d),
    chain: wp.array2d(dtype=wp.vec2d),
):
    """Mass and stretching of each segment projected on the node frames: diagonal entries of the five
    local components, and the chain coupling of the along-yarn component with the next node."""
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
    m = density[b, e] * ds / wp.float64(6.0)
    ks = stretch_stiffness[b, e]
    ident = wp.identity(n=3, dtype=wp.float64)
    outer = wp.outer(dn, dn)
    tension = wp.max(wp.float64(1.0) - ds / l, wp.float64(0.0))
    stiff = (h * h * ks / ds) * (outer + tension * (ident - outer))
    diag_block = wp.float64(2.0) * m * ident + stiff
    off_block = m * ident - stiff
    fa = frame[b, ends[0]]
    fb = frame[b, ends[1]]
    s_diag = wp.float64(2.0) * m * w * w + h * h * ks * w * w / ds
    out_a = vec5d(project(fa, diag_block, 0, fa, 0), project(fa, diag_block, 1, fa, 1),
                  project(fa, diag_block, 2, fa, 2), wp.float64(0.0), wp.float64(0.0))
    out_b = vec5d(project(fb, diag_block, 0, fb, 0), project(fb, diag_block, 1, fb, 1),
                  project(fb, diag_block, 2, fb, 2), wp.float64(0.0), wp.float64(0.0))
    out_a[3 + axis] = s_diag
    out_b[3 + axis] = s_diag
    wp.atomic_add(diag, b, ends[0], out_a)
    wp.atomic_add(diag, b, ends[1], out_b)
    coupling = wp.vec2d()
    coupling[axis] = project(fa, off_block, axis, fb, axis)
    wp.atomic_add(chain, b, ends[0], coupling)


@wp.kernel
def accumulate_bending_diagonal(
    q: wp.array2d(dtype=vec5d),
    triple_nodes: wp.array(dtype=wp.vec3i),
    triple_axis: wp.array(dtype=wp.int32),
    bend_stiffness: wp.array2d(dtype=wp.float64),
    spacing: wp.float64,
    h: wp.float64,
    diag: wp.array2d(dtype=vec5d),
):
    """Transverse bending stiffness 2 kb / (span l^2) (1, 4, 1 on c, a, b) on the two transverse
    components of each node of the triple."""
    b, e = wp.tid()
    ids = triple_nodes[e]
    axis = triple_axis[e]
    qc = q[b, ids[0]]
    qb = q[b, ids[2]]
    span = material_length(qc, qb, axis, wp.float64(2.0) * spacing)
    half = wp.float64(0.5) * span
    k = h * h * wp.float64(2.0) * bend_stiffness[b, e] / (span * half * half)
    zero = wp.float64(0.0)
    side = vec5d(zero, k, k, zero, zero)
    if axis == 1:
        side = vec5d(k, zero, k, zero, zero)
    wp.atomic_add(diag, b, ids[0], side)
    wp.atomic_add(diag, b, ids[1], wp.float64(4.0) * side)
    wp.atomic_add(diag, b, ids[2], side)


@wp.kernel
def add_node_diagonal(
    dof_mask: wp.array(dtype=vec5d),
    pin_stiffness: wp.array2d(dtype=wp.float64),
    friction_stiffness: wp.array2d(dtype=wp.float64),
    damping: wp.array2d(dtype=wp.float64),
    h: wp.float64,
    diag: wp.array2d(dtype=vec5d),
):
    """Pins on the position components, damping and friction springs on free sliding coordinates;
    fixed sliding coordinates get a unit diagonal (their residual is always zero)."""
    b, n = wp.tid()
    kp = h * h * pin_stiffness[b, n]
    ks = h * h * friction_stiffness[b, n] + h * damping[b, n]
    d = diag[b, n] + vec5d(kp, kp, kp, ks, ks)
    mask = dof_mask[n]
    for k in range(3, 5):
        if mask[k] == wp.float64(0.0):
            d[k] = wp.float64(1.0)
    diag[b, n] = d


@wp.kernel
def factor_chains(
    diag: wp.array2d(dtype=vec5d),
    chain: wp.array2d(dtype=wp.vec2d),
    axis: int,
    length: int,
    stride: int,
    line_stride: int,
    ratio: wp.array3d(dtype=wp.float64),
    pivot_inverse: wp.array3d(dtype=wp.float64),
):
    """Thomas factorisation of one yarn line's tridiagonal system per thread (once per step): the pivots'
    inverses 1/d'_k and the eliminated upper coefficients c'_k = c_k / d'_k along axis ``axis``."""
    b, line = wp.tid()
    start = line * line_stride
    prev_c = wp.float64(0.0)
    for k in range(length):
        n = start + k * stride
        lower = wp.float64(0.0)
        if k > 0:
            lower = chain[b, n - stride][axis]
        inverse = wp.float64(1.0) / (diag[b, n][axis] - lower * prev_c)
        prev_c = chain[b, n][axis] * inverse
        ratio[axis, b, n] = prev_c
        pivot_inverse[axis, b, n] = inverse


@wp.kernel
def solve_chains(
    r: wp.array2d(dtype=vec5d),
    frame: wp.array2d(dtype=wp.mat33d),
    chain: wp.array2d(dtype=wp.vec2d),
    ratio: wp.array3d(dtype=wp.float64),
    pivot_inverse: wp.array3d(dtype=wp.float64),
    axis: int,
    length: int,
    stride: int,
    line_stride: int,
    out: wp.array2d(dtype=wp.float64),
):
    """Forward and back substitution along one yarn line per thread for the along-yarn component
    r . t_axis, with the factors of ``factor_chains`` (no division in the dependent chain)."""
    b, line = wp.tid()
    start = line * line_stride
    prev_y = wp.float64(0.0)
    for k in range(length):
        n = start + k * stride
        rhs = wp.dot(frame[b, n][axis], position(r[b, n]))
        lower = wp.float64(0.0)
        if k > 0:
            lower = chain[b, n - stride][axis]
        prev_y = (rhs - lower * prev_y) * pivot_inverse[axis, b, n]
        out[b, n] = prev_y
    for kk in range(length - 1):
        k = length - 2 - kk
        n = start + k * stride
        out[b, n] = out[b, n] - ratio[axis, b, n] * out[b, n + stride]


@wp.kernel
def compose(
    r: wp.array2d(dtype=vec5d),
    frame: wp.array2d(dtype=wp.mat33d),
    diag: wp.array2d(dtype=vec5d),
    along_warp: wp.array2d(dtype=wp.float64),
    along_weft: wp.array2d(dtype=wp.float64),
    dof_mask: wp.array(dtype=vec5d),
    node_count: int,
    span: int,
    with_dot: int,
    z: wp.array2d(dtype=vec5d),
    dot: wp.array(dtype=wp.float64),
):
    """z = t1 z1 + t2 z2 + n (r . n) / d_n on positions, r_s / d_s on sliding coordinates, over ``span``
    consecutive nodes per thread; with_dot != 0 also adds r . z of these nodes into dot[b] (summed over
    the thread block first: one atomic per block, see ReductionLayout)."""
    b, c = wp.tid()
    acc = wp.float64(0.0)
    for n in range(c * span, wp.min((c + 1) * span, node_count)):
        rn = r[b, n]
        f = frame[b, n]
        d = diag[b, n]
        zn = wp.dot(f[2], position(rn)) / d[2]
        zx = along_warp[b, n] * f[0] + along_weft[b, n] * f[1] + zn * f[2]
        mask = dof_mask[n]
        out = vec5d(zx[0], zx[1], zx[2], mask[3] * rn[3] / d[3], mask[4] * rn[4] / d[4])
        z[b, n] = out
        acc += wp.dot(rn, out)
    if with_dot != 0:
        wp.tile_atomic_add(dot, wp.tile_sum(wp.tile(acc)), offset=b)


class LinePreconditioner:
    """Yarn-line preconditioner of one solver (arrays allocated once, updated every step)."""

    def __init__(self, model):
        self.model = model
        self._launcher = LaunchCache(model.device)
        shape = (model.world_count, model.node_count)
        dev = model.device
        self.frame = wp.zeros(shape, dtype=wp.mat33d, device=dev)
        self.diag = wp.zeros(shape, dtype=vec5d, device=dev)
        self.chain = wp.zeros(shape, dtype=wp.vec2d, device=dev)
        self._ratio = wp.zeros((2, *shape), dtype=wp.float64, device=dev)
        self._pivot_inverse = wp.zeros((2, *shape), dtype=wp.float64, device=dev)
        self._warp = wp.zeros(shape, dtype=wp.float64, device=dev)
        self._weft = wp.zeros(shape, dtype=wp.float64, device=dev)
        self._layout = ReductionLayout.for_device(dev, model.node_count)
        self._no_dot = wp.zeros(model.world_count, dtype=wp.float64, device=dev)
        width, height = model.nodes
        # (axis, line count, line length, node stride along a line, node stride between lines, solution) of
        # the warp lines (axis 0: rows j, along i) and the weft lines (axis 1: columns i, along j)
        self._lines = ((0, height, width, 1, width, self._warp), (1, width, height, width, 1, self._weft))

    def update(self, q: wp.array2d, h: float) -> None:
        """Rebuild frames and coefficients at configuration q for time step h [s]."""
        m = self.model
        width, height = m.nodes
        dev = m.device
        self.diag.zero_()
        self.chain.zero_()
        wp.launch(eval_frames, dim=(m.world_count, m.node_count), inputs=[q, width, height], outputs=[self.frame],
                  device=dev)
        wp.launch(accumulate_segment_blocks, dim=(m.world_count, m.segment_count),
                  inputs=[q, self.frame, m.segment_nodes, m.segment_axis, m.segment_density,
                          m.segment_stretch_stiffness, m.spacing, h], outputs=[self.diag, self.chain], device=dev)
        wp.launch(accumulate_bending_diagonal, dim=(m.world_count, m.triple_count),
                  inputs=[q, m.triple_nodes, m.triple_axis, m.triple_bend_stiffness, m.spacing, h],
                  outputs=[self.diag],
                  device=dev)
        wp.launch(add_node_diagonal, dim=(m.world_count, m.node_count),
                  inputs=[m.dof_mask, m.node_pin_stiffness, m.node_friction_stiffness, m.node_friction_damping, h],
                  outputs=[self.diag], device=dev)
        for axis, lines, length, stride, line_stride, _ in self._lines:
            wp.launch(factor_chains, dim=(m.world_count, lines),
                      inputs=[self.diag, self.chain, axis, length, stride, line_stride],
                      outputs=[self._ratio, self._pivot_inverse], device=dev)

    def apply(self, r: wp.array2d, z: wp.array2d, dot: wp.array = None) -> None:
        """z = P^-1 r; if ``dot`` [B] is given, also dot[b] += r . z (fused reduction)."""
        m = self.model
        launch = self._launcher.launch
        for axis, lines, length, stride, line_stride, out in self._lines:
            launch(solve_chains, (m.world_count, lines),
                   [r, self.frame, self.chain, self._ratio, self._pivot_inverse, axis, length, stride, line_stride],
                   [out])
        layout = self._layout
        launch(compose, (m.world_count, layout.threads),
               [r, self.frame, self.diag, self._warp, self._weft, m.dof_mask, m.node_count, layout.span,
                int(dot is not None)], [z, self._no_dot if dot is None else dot], block_dim=layout.block_dim)
