"""Worker of tests/test_distributed.py, launched by torchrun: one forward-gradient estimate with its directions shared
out over the processes; every rank saves what it got to OUT_rank.pt."""

import sys

import torch
import torch.distributed as dist

from learning.bilevel import bilevel_objective
from learning.estimators import ForwardGradient
from tests.test_bilevel import RidgeProblem
from tests.test_estimators_bilevel import DTYPE, RidgeData


def estimate(*, distributed: bool) -> torch.Tensor:
    """The estimate of tests/test_distributed.py: 37 Rademacher directions (not a multiple of the process count) of
    the reweighting problem's meta-gradient, seed 11."""
    data = RidgeData.make(n=32, d=4, flipped=0.3, seed=1)
    objective = bilevel_objective(RidgeProblem(data, meta="weights", batch_size=8), steps=20,
                                  generator=torch.Generator().manual_seed(2))
    phi = torch.linspace(-0.5, 0.5, 32, dtype=DTYPE)
    estimator = ForwardGradient(directions=37, distributed=distributed)
    return estimator(objective, phi, generator=torch.Generator().manual_seed(11)).grad


if __name__ == "__main__":
    dist.init_process_group("gloo")
    grad = estimate(distributed=True)
    torch.save({"grad": grad, "world": dist.get_world_size()}, f"{sys.argv[1]}_{dist.get_rank()}.pt")
    dist.destroy_process_group()
