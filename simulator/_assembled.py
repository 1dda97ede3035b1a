"""Assembled system matrix A = M + h D + h^2 K of the implicit step on the structured node grid.

Node n = i + j*W couples to the 13 nodes (i + di, j + dj) of a fixed stencil (``OFFSETS``): the
segment neighbours (+-1, 0), (0, +-1), the bending neighbours (+-2, 0), (0, +-2) and the shear
diagonals (+-1, +-1). A is stored as 5x5 blocks ``blocks[b, n, k]`` (row node n, column node
n + offset k) in the generalized coordinates (x, y, z, u, v), so that a product is one gather per
node (no atomics). Assembly per step, at the frozen crossing state of the step, loops over the model's
force terms:

* per element family (segment, triple, stencil; ``simulator._hessians``), the terms on that family add their
  exact local Hessians d^2V/dy^2 into one row buffer, and h^2 J^T (d^2V/dy^2) J is scattered into the blocks
  once per family;
* every term adds its other blocks (the mass, the diagonals of pins, friction springs and damping);
* a term without an assembled form (``ForceTerm.block_launches`` returns None) is applied matrix-free in
  every product, so any term works here;
* ``Contacts`` add couplings between nodes outside the stencil (e.g. self-contact): their diagonal blocks go
  into the stencil at assembly, their off-diagonal blocks are applied from the contact list in every product.

A equals the matrix-free product of ``SolverImplicit.apply_system`` to rounding.
"""

import numpy as np
import warp as wp

from ._hessians import element_families, gather_local, vec7d
from ._launch import LaunchCache, PlanCache, ReductionLayout, vector_dot
from ._terms import Launch, Zero, run_launches
from ._types import vec5d

__all__ = ["OFFSETS", "STENCIL", "AssembledOperator", "add_block", "mat55d", "stencil_slot"]

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
        terms: the solver's force terms (``Model.terms``, possibly with substitutes).
        workspaces: each term's workspace, by term.
    """

    def __init__(self, model, *, terms, workspaces: dict):
        self.model = model
        self.terms = tuple(terms)
        self.workspaces = workspaces
        self._launcher = LaunchCache(model.device)
        dev = model.device
        self.blocks = wp.zeros((model.world_count, model.node_count, STENCIL), dtype=mat55d, device=dev)
        self.offsets = wp.array(np.asarray(OFFSETS, dtype=np.int32), dtype=wp.vec2i, device=dev)
        families = element_families(model)
        used = dict.fromkeys(t.hessian_family for t in self.terms if t.hessian_family is not None)
        self.families = []
        for name in used:
            family = families[name]
            shape = (model.world_count, family.count)
            self.families.append((family, [t for t in self.terms if t.hessian_family == name],
                                  wp.zeros(shape, dtype=vec7d, device=dev), wp.zeros((*shape, 7), dtype=vec7d,
                                                                                      device=dev)))
        self._layout = ReductionLayout.for_device(dev, model.node_count)
        self._no_dot = wp.zeros(model.world_count, dtype=wp.float64, device=dev)
        self._configuration = None
        self._h = None
        self._matrix_free = None  # terms added matrix-free in every product (no assembled form), known at assembly
        self._plans = PlanCache(dev)

    def assemble(self, c, h: float) -> None:
        """Build A at the configuration ``c`` (``simulator.Configuration``, its frozen state filled) for time
        step h [s]."""
        self._plans.run((h, *c.key()), lambda: self._assembly_launches(c, h))
        self._configuration = c
        self._h = h

    def _assembly_launches(self, c, h: float) -> list:
        m = self.model
        width = m.nodes[0]
        launches = [Zero(self.blocks)]
        for family, terms, local, rows in self.families:
            launches.append(Launch(gather_local, local.shape,
                                   [c.q, family.nodes, family.axis, family.slots, family.coefficients, family.rest],
                                   [local]))
            launches.append(Zero(rows))
            for term in terms:
                launches += term.hessian_rows_launches(m, c, local, rows, self.workspaces[term])
            launches.append(Launch(stiffness_blocks, local.shape,
                                   [rows, family.nodes, family.axis, family.slots, family.coefficients, h * h, width],
                                   [self.blocks]))
        matrix_free = []
        for term in self.terms:
            blocks = term.block_launches(m, c, h, self.blocks, self.workspaces[term])
            if blocks is None:
                matrix_free.append(term)
            else:
                launches += blocks
        if c.contacts is not None:
            launches.append(c.contacts.diagonal_launch(self.blocks))
        self._matrix_free = tuple(matrix_free)
        return launches

    @property
    def matrix_free_terms(self) -> tuple:
        """The terms without an assembled form, added matrix-free in every product (after ``assemble``)."""
        return self._matrix_free

    def apply(self, p: wp.array2d, out: wp.array2d, dot: wp.array = None, *, seed: wp.array2d = None) -> None:
        """out = A p; if ``dot`` [B] is given, also dot[b] += p . A p (fused reduction). ``seed`` (-h^2 p, a
        scratch array) is needed when some term has no assembled form."""
        m = self.model
        width, height = m.nodes
        layout = self._layout
        c, h = self._configuration, self._h
        fused = dot is not None and not self._matrix_free and c.contacts is None
        self._launcher.launch(block_product, (m.world_count, layout.threads),
                              [self.blocks, p, self.offsets, width, height, layout.span, int(fused)],
                              [out, dot if fused else self._no_dot], block_dim=layout.block_dim)
        if c.contacts is not None:
            contact = c.contacts.product_launch(p, out)
            self._launcher.launch(contact.kernel, contact.dim, contact.inputs, contact.outputs)
        if self._matrix_free:
            seed_product(p, h, seed, m)
            for term in self._matrix_free:
                ws = self.workspaces[term]
                run_launches(term.linear_product_launches(m, c, p, h, out, ws), m.device)
                run_launches(term.stiffness_product_launches(m, c, p, h, seed, out, ws), m.device)
        if dot is not None and not fused:
            self._launcher.launch(vector_dot, (m.world_count, layout.threads), [p, out, m.node_count, layout.span],
                                  [dot], block_dim=layout.block_dim)


@wp.kernel
def negative_scaled(p: wp.array2d(dtype=vec5d), scale: wp.float64, out: wp.array2d(dtype=vec5d)):
    """out = -scale p."""
    b, n = wp.tid()
    out[b, n] = -scale * p[b, n]


def seed_product(p, h: float, seed, model) -> None:
    """seed = -h^2 p: the force seed whose adjoint through the force kernels gives h^2 K p."""
    wp.launch(negative_scaled, dim=(model.world_count, model.node_count), inputs=[p, h * h], outputs=[seed],
              device=model.device)
