"""Directional derivatives shared out over the processes of a torch.distributed group.

Every process draws the same b directions (the same generator state on every rank), computes the derivatives along
its contiguous share of them, and one all-reduce (a sum of vectors that are zero outside each rank's share, so the
sum adds nothing but zeros) gives every process all b derivatives. The estimate is then formed identically
everywhere, so a seed gives the same estimate whatever the number of processes (up to the last bits of a batched
evaluation whose batch size changed). Launch with ``torchrun --nproc-per-node P script.py``; gloo on CPU, NCCL on
GPU (the derivatives are moved to the group's device for the all-reduce).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["DirectionGroup", "default_group"]


class DirectionGroup:
    """Which share of b directions this process evaluates, and the all-reduce that gathers every derivative.

    Args:
        group: a ``torch.distributed`` process group (None: the default group, which must be initialised).
    """

    def __init__(self, group=None) -> None:
        import torch.distributed as dist

        if not dist.is_available() or not dist.is_initialized():
            raise RuntimeError("DirectionGroup needs an initialised torch.distributed process group (launch with "
                               "torchrun and call torch.distributed.init_process_group, or use distributed=False)")
        self.group = group
        self.rank = dist.get_rank(group)
        self.size = dist.get_world_size(group)
        backend = dist.get_backend(group)
        self.device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")

    def share(self, count: int) -> slice:
        """This rank's contiguous share of ``count`` directions (sizes differ by at most one)."""
        base, extra = divmod(count, self.size)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (1 if self.rank < extra else 0))

    def derivatives(self, directions: Tensor, evaluate: Callable[[Tensor], tuple[float, Tensor]],
                    value: Callable[[], float]) -> tuple[float, Tensor]:
        """(h(θ), all b derivatives [b]) from ``evaluate(this rank's directions) -> (h, their derivatives)``;
        ``value()`` gives h on a rank whose share is empty."""
        mine = self.share(directions.shape[0])
        if mine.stop > mine.start:
            h, local = evaluate(directions[mine])
        else:
            h, local = value(), directions.new_zeros(0)
        return h, self.gather_rows(local, count=directions.shape[0]).to(dtype=directions.dtype)

    def gather_rows(self, local, *, count: int, trailing: tuple[int, ...] = ()) -> Tensor:
        """Every rank's rows [share, *trailing] (a tensor or an array) stacked in rank order, [count, *trailing], on
        every rank; float64, on the device of ``local`` (the CPU for an array)."""
        import torch.distributed as dist

        local = torch.as_tensor(local)
        mine = self.share(count)
        gathered = torch.zeros((count, *trailing), dtype=torch.float64, device=self.device)
        if mine.stop > mine.start:
            gathered[mine] = local.to(device=self.device, dtype=torch.float64)
        dist.all_reduce(gathered, group=self.group)
        return gathered.to(device=local.device)


def default_group() -> DirectionGroup | None:
    """A ``DirectionGroup`` of the default process group when one is initialised with more than one process, else
    None (one process: nothing to share)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return DirectionGroup()
    return None
