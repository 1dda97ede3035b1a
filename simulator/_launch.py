"""Replay of recorded kernel launches for loops that launch the same kernels with the same arrays.

``wp.launch`` packs every argument on every call (~15 us on the CPU); a recorded launch
(``record_cmd=True``) replays in ~5 us. A CG iteration launches a handful of small kernels with the
same arrays every time, so replaying them saves several milliseconds per step on small cloths.
"""

from collections import OrderedDict

import warp as wp

from ._types import vec5d

__all__ = ["LaunchCache", "ReductionLayout", "vector_dot"]


class ReductionLayout:
    """Threads of a kernel that walks ``span`` consecutive nodes per thread and sums a per-world value.

    On the CPU a thread takes 256 nodes (few, long threads; Warp runs one thread a block there). On a
    GPU a thread takes 8 nodes, and the threads of each world are padded to whole blocks of 256, so
    that a block never holds two worlds: the kernel sums its block's values in shared memory
    (``wp.tile_sum``) and adds one value per block, not one per thread, to the world's total.
    """

    def __init__(self, node_count: int, *, span: int, block_dim: int):
        self.span = int(span)
        self.block_dim = int(block_dim)
        blocks = -(-node_count // (self.span * self.block_dim))
        self.threads = blocks * self.block_dim

    @classmethod
    def for_device(cls, device, node_count: int) -> "ReductionLayout":
        """The layout for ``device``: 256 nodes a thread, blocks of one on the CPU; 8 and 256 on a GPU."""
        if device.is_cpu:
            return cls(node_count, span=256, block_dim=1)
        return cls(node_count, span=8, block_dim=256)


class LaunchCache:
    """Records each distinct launch once (arrays by identity, other arguments by value) and replays it.

    The cache keeps the recorded arrays alive (so their identities stay unique) and holds at most
    ``capacity`` launches, dropping the least recently used.
    """

    def __init__(self, device, *, capacity: int = 64):
        self.device = device
        self.capacity = int(capacity)
        self._launches: OrderedDict = OrderedDict()

    def launch(self, kernel, dim, inputs, outputs=(), *, block_dim: int | None = None) -> None:
        """Like ``wp.launch(kernel, dim=dim, inputs=inputs, outputs=outputs, block_dim=block_dim)`` on the
        cache's device."""
        key = (kernel, tuple(dim) if isinstance(dim, tuple) else dim,
               tuple(id(a) if isinstance(a, wp.array) else a for a in inputs),
               tuple(id(a) for a in outputs), block_dim)
        entry = self._launches.get(key)
        if entry is None:
            command = wp.launch(kernel, dim=dim, inputs=inputs, outputs=outputs, device=self.device, record_cmd=True,
                                block_dim=block_dim)
            entry = (command, list(inputs), list(outputs))
            self._launches[key] = entry
            if len(self._launches) > self.capacity:
                self._launches.popitem(last=False)
        else:
            self._launches.move_to_end(key)
        entry[0].launch()


@wp.kernel
def vector_dot(p: wp.array2d(dtype=vec5d), q: wp.array2d(dtype=vec5d), node_count: int, span: int,
               out: wp.array(dtype=wp.float64)):
    """out[world] += p . q over ``span`` consecutive nodes per thread, summed over the thread block first
    (one atomic per block, see ReductionLayout)."""
    b, c = wp.tid()
    acc = wp.float64(0.0)
    for n in range(c * span, wp.min((c + 1) * span, node_count)):
        acc += wp.dot(p[b, n], q[b, n])
    wp.tile_atomic_add(out, wp.tile_sum(wp.tile(acc)), offset=b)
