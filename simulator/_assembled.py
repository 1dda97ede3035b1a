"""Assembled system matrix A = M + h D + h^2 K of the implicit step on the structured node grid.

Node n = i + j*W couples to the 13 nodes (i + di, j + dj) of a fixed stencil (``OFFSETS``): the
segment neighbours (+-1, 0), (0, +-1), the bending neighbours (+-2, 0), (0, +-2) and the shear
diagonals (+-1, +-1). A is stored as 5x5 blocks ``blocks[b, n, k]`` (row node n, column node
n + offset k) in the generalized coordinates (x, y, z, u, v), so that a product is one gather per
node (no atomics). Assembly per step, at the frozen N and stick indicators of the step:

* node terms (diagonal): pins h^2 kh I, sliding damping h df and friction springs h^2 kf' on the
  free sliding coordinates (``node_blocks``, which also zeroes every block of the node);
* mass: M_e = rho ds / 6 [[2 Bw, Bw], [Bw, 2 Bw]], Bw = [[I, -w], [-w^T, w.w]] per segment;
* stiffness: h^2 J^T (d^2V/dy^2) J per element from ``LocalHessians`` (exact, by reverse mode).

A equals the matrix-free product of ``SolverImplicit.apply_system`` to rounding.
"""

import numpy as np
import warp as wp

from ._forces import friction_stiffness
from ._hessians import element_types, vec7d
from ._kernels import material_length, position
from ._launch import LaunchCache, ReductionLayout
from ._types import vec5d

mat55d = wp.types.matrix(shape=(5, 5), dtype=wp.float64)

#: Stencil offsets (di, dj) of the 13 blocks of a node, in the order of ``stencil_slot``.
OFFSETS = ((0, 0), (1, 0), (-1, 0), (2, 0), (-2, 0), (0, 1), (0, -1), (0, 2), (0, -2), (1, 1), (-1, 1), (1, -1),
           (-1, -1))
STENCIL = len(OFFSETS)


@wp.func
def stencil_slot(di: int, dj: int):
    """Index in ``OFFSETS`` of the offset (di, dj) (which must be one of them)."""
    if dj == 0:
        if di == 0:
            return 0
        if di == 1:
            return 1
        if di == -1:
            return 2
        if di == 2:
            return 3
        return 4
    if di == 0:
        if dj == 1:
            return 5
        if dj == -1:
            return 6
        if dj == 2:
            return 7
        return 8
    return 9 + wp.where(di < 0, 1, 0) + wp.where(dj < 0, 2, 0)


@wp.func
def add_block(blocks: wp.array3d(dtype=mat55d), b: int, row: int, col: int, width: int, block: mat55d):
    """blocks[b, row, slot of col - row] += block (atomic: elements share nodes)."""
    k = stencil_slot(col % width - row % width, col // width - row // width)
    wp.atomic_add(blocks, b, row, k, block)


@wp.kernel
def node_blocks(
    q: wp.array2d(dtype=vec5d),
    anchor: wp.array2d(dtype=wp.vec2d),
    dof_mask: wp.array(dtype=vec5d),
    pin_stiffness: wp.array2d(dtype=wp.float64),
    friction: wp.array2d(dtype=wp.float64),
    friction_stiffness_: wp.array2d(dtype=wp.float64),
    damping: wp.array2d(dtype=wp.float64),
    compression: wp.array2d(dtype=wp.float64),
    stick: wp.array2d(dtype=wp.vec2d),
    h: wp.float64,
    blocks: wp.array3d(dtype=mat55d),
):
    """Zero the node's 13 blocks and set its diagonal: h^2 kh on x, mask (h df + h^2 kf') on u, v."""
    b, n = wp.tid()
    for k in range(STENCIL):
        blocks[b, n, k] = mat55d()
    qn = q[b, n]
    a = anchor[b, n]
    st = stick[b, n]
    mask = dof_mask[n]
    mu_n = friction[b, n] * compression[b, n]
    kf = friction_stiffness_[b, n]
    hd = h * damping[b, n]
    kp = h * h * pin_stiffness[b, n]
    diag = mat55d()
    for r in range(3):
        diag[r, r] = kp
    diag[3, 3] = mask[3] * (hd + h * h * friction_stiffness(qn[3] - a[0], mu_n, kf, st[0]))
    diag[4, 4] = mask[4] * (hd + h * h * friction_stiffness(qn[4] - a[1], mu_n, kf, st[1]))
    blocks[b, n, 0] = diag


@wp.kernel
def mass_blocks(
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


@wp.kernel
def stiffness_blocks(
    rows: wp.array3d(dtype=vec7d),
    nodes: wp.array(dtype=wp.vec3i),
    axis: wp.array(dtype=wp.int32),
    slots: int,
    coefficients: wp.mat33d,
    h2: wp.float64,
    width: int,
    blocks: wp.array3d(dtype=mat55d),
):
    """Add h^2 J_s^T H J_t for every node pair (s, t) of the element, H = d^2V/dy^2 (rows [b, e, :]) and
    J_t = dy/dq_t = (c_t0 I, c_t1 I, c_t2 e_axis) (see ``simulator._hessians``)."""
    b, e = wp.tid()
    ids = nodes[e]
    sa = 3 + axis[e]
    for s in range(slots):
        cs = coefficients[s]
        for t in range(slots):
            ct = coefficients[t]
            blk = mat55d()
            for r in range(3):
                row_g1 = rows[b, e, r]
                row_g2 = rows[b, e, 3 + r]
                for c in range(3):
                    blk[r, c] = h2 * (cs[0] * (ct[0] * row_g1[c] + ct[1] * row_g1[3 + c])
                                      + cs[1] * (ct[0] * row_g2[c] + ct[1] * row_g2[3 + c]))
                blk[r, sa] = h2 * ct[2] * (cs[0] * row_g1[6] + cs[1] * row_g2[6])
            row_s = rows[b, e, 6]
            for c in range(3):
                blk[sa, c] = h2 * cs[2] * (ct[0] * row_s[c] + ct[1] * row_s[3 + c])
            blk[sa, sa] = h2 * cs[2] * ct[2] * row_s[6]
            add_block(blocks, b, ids[s], ids[t], width, blk)


@wp.kernel
def block_product(
    blocks: wp.array3d(dtype=mat55d),
    p: wp.array2d(dtype=vec5d),
    offsets: wp.array(dtype=wp.vec2i),
    width: int,
    height: int,
    span: int,
    with_dot: int,
    out: wp.array2d(dtype=vec5d),
    dot: wp.array(dtype=wp.float64),
):
    """out = A p over ``span`` consecutive nodes per thread; with_dot != 0 also adds p . A p of these
    nodes into dot[b] (summed over the thread block first: one atomic per block, see ReductionLayout)."""
    b, c = wp.tid()
    count = width * height
    acc = wp.float64(0.0)
    for n in range(c * span, wp.min((c + 1) * span, count)):
        i = n % width
        j = n // width
        y = vec5d()
        for k in range(STENCIL):
            o = offsets[k]
            ii = i + o[0]
            jj = j + o[1]
            if ii >= 0 and ii < width and jj >= 0 and jj < height:
                y += blocks[b, n, k] * p[b, ii + jj * width]
        out[b, n] = y
        acc += wp.dot(p[b, n], y)
    if with_dot != 0:
        wp.tile_atomic_add(dot, wp.tile_sum(wp.tile(acc)), offset=b)


class AssembledOperator:
    """A = M + h D + h^2 K as stencil blocks [B, nodes, 13] of 5x5, rebuilt by ``assemble`` each step.

    Args:
        model: the cloth model.
        compression: the solver's frozen compression N [N], shape [B, nodes] (read at assembly).
        stick: the solver's frozen stick indicators, shape [B, nodes] (read at assembly).
    """

    def __init__(self, model, *, compression: wp.array, stick: wp.array):
        self.model = model
        self._launcher = LaunchCache(model.device)
        self.compression = compression
        self.stick = stick
        dev = model.device
        self.blocks = wp.zeros((model.world_count, model.node_count, STENCIL), dtype=mat55d, device=dev)
        self.offsets = wp.array(np.asarray(OFFSETS, dtype=np.int32), dtype=wp.vec2i, device=dev)
        self.elements = element_types(model, compression)
        self.hessians = [el.hessians(model, el) for el in self.elements]
        self._layout = ReductionLayout.for_device(dev, model.node_count)
        self._no_dot = wp.zeros(model.world_count, dtype=wp.float64, device=dev)

    def assemble(self, q: wp.array2d, anchor: wp.array2d, h: float) -> None:
        """Build A at configuration q (anchors ``anchor``) for time step h [s]."""
        m = self.model
        dev = m.device
        width = m.nodes[0]
        wp.launch(node_blocks, dim=(m.world_count, m.node_count),
                  inputs=[q, anchor, m.dof_mask, m.node_pin_stiffness, m.node_friction, m.node_friction_stiffness,
                          m.node_friction_damping, self.compression, self.stick, h], outputs=[self.blocks],
                  device=dev)
        wp.launch(mass_blocks, dim=(m.world_count, m.segment_count),
                  inputs=[q, m.segment_nodes, m.segment_axis, m.segment_density, m.spacing, width],
                  outputs=[self.blocks], device=dev)
        for el, hessians in zip(self.elements, self.hessians, strict=True):
            rows = hessians.update(q)
            wp.launch(stiffness_blocks, dim=(m.world_count, el.nodes.shape[0]),
                      inputs=[rows, el.nodes, el.axis, el.slots, el.coefficients, h * h, width], outputs=[self.blocks],
                      device=dev)

    def apply(self, p: wp.array2d, out: wp.array2d, dot: wp.array = None) -> None:
        """out = A p; if ``dot`` [B] is given, also dot[b] += p . A p (fused reduction)."""
        m = self.model
        width, height = m.nodes
        layout = self._layout
        self._launcher.launch(block_product, (m.world_count, layout.threads),
                              [self.blocks, p, self.offsets, width, height, layout.span, int(dot is not None)],
                              [out, self._no_dot if dot is None else dot], block_dim=layout.block_dim)
