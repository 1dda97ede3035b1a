"""Replay of recorded kernel launches for loops that launch the same kernels with the same arrays.

``wp.launch`` packs every argument on every call (~15 us on the CPU); a recorded launch
(``record_cmd=True``) replays in ~5 us. A CG iteration launches a handful of small kernels with the
same arrays every time, so replaying them saves several milliseconds per step on small cloths.
"""

from collections import OrderedDict

import warp as wp

from ._terms import Launch
from ._types import vec5d

__all__ = ["LaunchCache", "PlanCache", "ReductionLayout", "array_key", "vector_dot"]


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


class PlanCache:
    """Sequences of launches built once per key and replayed: forward launches as recorded commands (~5 us
    each on the CPU instead of ~15 us for ``wp.launch``), other items (adjoint launches, ``Zero``) as they are.

    A step launches the same kernels with the same arrays every time its states and controls are the same
    objects (a rollout alternates two states), so the solver, the preconditioner and the assembled operator
    keep their launch sequences here, keyed by the identities of the arrays involved. Each plan holds its
    arrays alive (so their identities stay unique); at most ``capacity`` plans are kept, least recently
    used dropped first.
    """

    def __init__(self, device, *, capacity: int = 128):
        self.device = device
        self.capacity = int(capacity)
        self._plans: OrderedDict = OrderedDict()

    def run(self, key, build) -> None:
        """Replay the plan for ``key``, building it from ``build()`` (a list of launches) the first time."""
        plan = self._plans.get(key)
        if plan is None:
            plan = self._record(build())
            self._plans[key] = plan
            if len(self._plans) > self.capacity:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(key)
        for replay in plan[0]:
            replay()

    def _record(self, launches) -> tuple:
        replays = []
        for item in launches:
            if isinstance(item, Launch) and not item.adjoint:
                command = wp.launch(item.kernel, dim=item.dim, inputs=item.inputs, outputs=item.outputs,
                                    device=self.device, record_cmd=True)
                replays.append(command.launch)
            else:
                replays.append(lambda item=item: item.run(self.device))
        return replays, list(launches)


def array_key(*arrays) -> tuple:
    """The identities of ``arrays`` (None for a missing one), as a plan key."""
    return tuple(None if a is None else id(a) for a in arrays)
