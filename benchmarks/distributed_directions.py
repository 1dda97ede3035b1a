"""Forward-gradient directions shared out over processes: seconds per estimate with 1 and 2 processes (torchrun,
gloo, one thread each) on the hyper-cleaning problem (600 example weights, T = 100, b = 64 directions).

    python benchmarks/distributed_directions.py [--processes 1 2] [--directions 64] [--depth 100]

Prints the seconds per estimate for each process count and the speed-up over one process; every count gives the
same estimate (tests/test_distributed.py checks it to 1e-12).
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(directions: int, depth: int, repeats: int = 3) -> None:
    import torch
    import torch.distributed as dist

    from learning.bilevel import bilevel_objective
    from learning.estimators import ForwardGradient
    from learning.tasks._digits import flip_labels, load_digits_split
    from learning.tasks.hypercleaning import HyperCleaning

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    data = load_digits_split(train=600, validation=300, seed=0)
    labels, _ = flip_labels(data.y_train, fraction=0.5, generator=torch.Generator().manual_seed(0))
    problem = HyperCleaning(data, labels, batch_size=128, step_size=1.0, l2=1e-3)
    objective = bilevel_objective(problem, steps=depth, generator=torch.Generator().manual_seed(1))
    estimator = ForwardGradient(directions=directions, distributed=True)
    phi = torch.zeros(problem.dim, dtype=torch.float64)
    estimator(objective, phi, generator=torch.Generator().manual_seed(2))  # warm-up
    dist.barrier()
    start = time.perf_counter()
    for k in range(repeats):
        estimator(objective, phi, generator=torch.Generator().manual_seed(3 + k))
    dist.barrier()
    if dist.get_rank() == 0:
        print(f"SECONDS {(time.perf_counter() - start) / repeats:.4f}", flush=True)
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--directions", type=int, default=64)
    parser.add_argument("--depth", type=int, default=100)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    timings = {}
    for processes in args.processes:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes),
                   __file__, "--worker", str(args.directions), str(args.depth)]
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        timings[processes] = float(re.search(r"SECONDS ([0-9.]+)", result.stdout).group(1))
        print(f"{processes} process(es): {timings[processes]:.3f} s per estimate of {args.directions} directions, "
              f"speed-up {timings[args.processes[0]] / timings[processes]:.2f}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
