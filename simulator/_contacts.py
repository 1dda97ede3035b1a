"""Contacts: the interactions of one step between pairs of nodes that the 13-point stencil does not hold.

Self-contact (two layers of a folded cloth) or a yarn pulled against a distant part of the cloth couple
nodes far apart in the grid. A collision pass (a ``collide`` call of the term that owns the contacts) fills
``Contacts`` before each step: the node pairs in contact in every world, at most ``capacity`` per world. The
owning force term computes their forces from the pairs and, at assembly, writes each pair's share of the
system matrix into ``blocks``: A_ii, A_ij and A_jj (5x5, A_ji = A_ij^T). The assembled operator then adds the
diagonal blocks into its stencil and applies the off-diagonal ones from this list in every product, and the
yarn-line preconditioner takes their diagonals; the matrix-free operator needs no blocks (the owning term's
force adjoint gives its product, as for any term). ``solver.step(..., contacts=contacts)`` passes them on.
"""

from __future__ import annotations

import numpy as np
import warp as wp

from ._assembled import mat55d
from ._types import vec5d

__all__ = ["Contacts"]


@wp.kernel
def add_contact_diagonals(pairs: wp.array2d(dtype=wp.vec2i), count: wp.array(dtype=wp.int32),
                          blocks: wp.array3d(dtype=mat55d), stencil: wp.array3d(dtype=mat55d)):
    """Add each active pair's A_ii and A_jj to the nodes' own stencil blocks (slot 0)."""
    b, k = wp.tid()
    if k >= count[b]:
        return
    pair = pairs[b, k]
    wp.atomic_add(stencil, b, pair[0], 0, blocks[b, k, 0])
    wp.atomic_add(stencil, b, pair[1], 0, blocks[b, k, 2])


@wp.kernel
def contact_product(pairs: wp.array2d(dtype=wp.vec2i), count: wp.array(dtype=wp.int32),
                    blocks: wp.array3d(dtype=mat55d), p: wp.array2d(dtype=vec5d), out: wp.array2d(dtype=vec5d)):
    """out_i += A_ij p_j and out_j += A_ij^T p_i for every active pair (the couplings outside the stencil)."""
    b, k = wp.tid()
    if k >= count[b]:
        return
    pair = pairs[b, k]
    coupling = blocks[b, k, 1]
    wp.atomic_add(out, b, pair[0], coupling * p[b, pair[1]])
    wp.atomic_add(out, b, pair[1], wp.transpose(coupling) * p[b, pair[0]])


@wp.kernel
def add_contact_preconditioner(pairs: wp.array2d(dtype=wp.vec2i), count: wp.array(dtype=wp.int32),
                               blocks: wp.array3d(dtype=mat55d), frame: wp.array2d(dtype=wp.mat33d),
                               diag: wp.array2d(dtype=vec5d)):
    """Add the diagonals of each active pair's A_ii and A_jj, in the nodes' local frames, to the preconditioner."""
    b, k = wp.tid()
    if k >= count[b]:
        return
    pair = pairs[b, k]
    for side in range(2):
        node = pair[side]
        block = blocks[b, k, 2 * side]
        f = frame[b, node]
        position = wp.mat33d(block[0, 0], block[0, 1], block[0, 2], block[1, 0], block[1, 1], block[1, 2],
                             block[2, 0], block[2, 1], block[2, 2])
        wp.atomic_add(diag, b, node, vec5d(wp.dot(f[0], position * f[0]), wp.dot(f[1], position * f[1]),
                                           wp.dot(f[2], position * f[2]), block[3, 3], block[4, 4]))


class Contacts:
    """Node pairs in contact in every world, and each pair's share of the system matrix.

    Args:
        model: the model (worlds, device).
        capacity: the most pairs a world can hold.

    Attributes:
        pairs: node indices (i, j) of each pair [B, capacity] (vec2i).
        count: pairs in use per world [B] (int32); pairs k >= count[b] are ignored.
        blocks: A_ii, A_ij, A_jj of each pair [B, capacity, 3] (5x5), written by the owning term at assembly.
    """

    def __init__(self, model, *, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity = {capacity!r} is out of range: expected >= 1")
        self.capacity = int(capacity)
        worlds, dev = model.world_count, model.device
        self.pairs = wp.zeros((worlds, self.capacity), dtype=wp.vec2i, device=dev)
        self.count = wp.zeros(worlds, dtype=wp.int32, device=dev)
        self.blocks = wp.zeros((worlds, self.capacity, 3), dtype=mat55d, device=dev)

    def assign(self, pairs) -> None:
        """Set the pairs from a list per world of (i, j) node pairs (host side; a collision kernel writes
        ``pairs`` and ``count`` directly instead)."""
        worlds = self.count.shape[0]
        if len(pairs) != worlds:
            raise ValueError(f"pairs for {len(pairs)} worlds: expected {worlds}")
        table = np.zeros((worlds, self.capacity, 2), dtype=np.int32)
        count = np.zeros(worlds, dtype=np.int32)
        for b, world in enumerate(pairs):
            world = np.asarray(world, dtype=np.int32).reshape(-1, 2)
            if len(world) > self.capacity:
                raise ValueError(f"world {b} has {len(world)} contact pairs: expected at most {self.capacity}")
            table[b, : len(world)] = world
            count[b] = len(world)
        self.pairs.assign(table)
        self.count.assign(count)

    def diagonal_launch(self, stencil):
        """The launch adding the pairs' diagonal blocks into the assembled ``stencil`` blocks."""
        from ._terms import Launch

        return Launch(add_contact_diagonals, self.pairs.shape, [self.pairs, self.count, self.blocks], [stencil])

    def product_launch(self, p, out):
        """The launch adding the couplings outside the stencil, A_offdiagonal p, into ``out``."""
        from ._terms import Launch

        return Launch(contact_product, self.pairs.shape, [self.pairs, self.count, self.blocks, p], [out])

    def preconditioner_launch(self, frame, diag):
        """The launch adding the pairs' diagonals to the yarn-line preconditioner."""
        from ._terms import Launch

        return Launch(add_contact_preconditioner, self.pairs.shape, [self.pairs, self.count, self.blocks, frame],
                      [diag])
