"""Step throughput of the implicit solver: steps/s, crossing-steps/s, CG iterations, memory.

Usage: python benchmarks/step_throughput.py [--sizes 5 17 25 101] [--worlds 1 64] [--device cpu]
       [--seconds 5] [--warmup-steps 20] [--operator assembled matrix_free] [--profile K]

Runs the reference scene (plain weave, two top corners pinned, 5 m/s wind, dt = 1 ms) for each
cloth size N x N and batch size B, after warm-up steps that compile the kernels and set the cloth
swinging (the solver needs fewer iterations from rest), and prints one row each, per system operator
(``SolverImplicit(operator=...)``).
Timings are wall-clock and include the solver's host-side convergence checks. Peak memory is the
bytes of all Warp arrays owned by the model, the solver and two states (the step allocates nothing).
With ``--profile K`` on a CUDA device, each row is followed by the K kernels that take the most GPU
time per step (Warp's CUDA activity timing over the timed steps): where the time goes.
"""

import argparse
import itertools
import sys
import time
from pathlib import Path

import warp as wp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simulator  # noqa: E402
from tests.cloth_factory import hanging_spec  # noqa: E402


def measure(size: int, worlds: int, device: str, seconds: float, warmup_steps: int, operator: str,
            profile: bool = False) -> dict:
    spec = hanging_spec((size, size))
    model = simulator.build_model([spec] * worlds, device=device)
    solver = simulator.SolverImplicit(model, dt=1e-3, operator=operator)
    states = [model.state(), model.state()]
    for k in range(max(1, warmup_steps)):  # kernel compilation, then get the cloth moving
        solver.step(states[k % 2], states[(k + 1) % 2])
    if max(1, warmup_steps) % 2:
        states.reverse()
    wp.synchronize_device(device)
    if profile:
        wp.timing_begin(cuda_filter=wp.TIMING_KERNEL)
    steps, iterations = 0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or steps < 3:
        solver.step(states[steps % 2], states[(steps + 1) % 2])
        iterations += int(solver.iterations.numpy().max())
        steps += 1
    wp.synchronize_device(device)
    elapsed = time.perf_counter() - start
    kernels = {}
    if profile:
        for activity in wp.timing_end():
            name = activity.name.split()[-1].rsplit("_", 1)[0]  # "forward kernel NAME_HASH" -> NAME
            count, total = kernels.get(name, (0, 0.0))
            kernels[name] = (count + 1, total + activity.elapsed)
    crossings = (size - 2) ** 2 * worlds
    return {
        "size": size, "worlds": worlds, "steps_per_s": steps / elapsed,
        "crossing_steps_per_s": crossings * steps / elapsed, "iterations": iterations / steps,
        "memory_mb": simulator.array_bytes(model, solver, *states) / 2**20,
        "kernels": {name: (count / steps, total / steps) for name, (count, total) in kernels.items()},
    }


def print_profile(kernels: dict, top: int) -> None:
    """The ``top`` kernels by GPU milliseconds per step, with launches per step and their share."""
    total = sum(ms for _, ms in kernels.values())
    print(f"{'':>10}GPU kernel time {total:.3f} ms/step; largest:")
    for name, (launches, ms) in sorted(kernels.items(), key=lambda item: -item[1][1])[:top]:
        print(f"{'':>12}{name:<44} {ms:>9.3f} ms/step {100 * ms / max(total, 1e-30):>5.1f} % "
              f"{launches:>7.1f} launches/step {1e3 * ms / max(launches, 1e-30):>8.1f} us each")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 17, 25, 101])
    parser.add_argument("--worlds", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seconds", type=float, default=5.0, help="minimum timed wall time per row")
    parser.add_argument("--warmup-steps", type=int, default=20, help="untimed steps before timing")
    parser.add_argument("--operator", nargs="+", default=["assembled", "matrix_free"],
                        choices=["assembled", "matrix_free"], help="system operators to time")
    parser.add_argument("--profile", type=int, default=0, metavar="K",
                        help="on CUDA, also print the K kernels taking the most GPU time per step")
    args = parser.parse_args()
    wp.config.quiet = True
    wp.init()
    profile = args.profile > 0 and wp.get_device(args.device).is_cuda
    if args.profile > 0 and not profile:
        print("--profile: kernel timing needs a CUDA device; printing throughput only")
    print(f"device: {wp.get_device(args.device).name} ({args.device}), warp {wp.config.version}")
    print(f"{'cloth':>9} {'worlds':>6} {'operator':>11} {'steps/s':>9} {'crossing-steps/s':>17} {'CG it/step':>10} "
          f"{'memory MB':>10}")
    for size, worlds, operator in itertools.product(args.sizes, args.worlds, args.operator):
        row = measure(size, worlds, args.device, args.seconds, args.warmup_steps, operator, profile=profile)
        print(f"{size:>4}x{size:<4} {worlds:>6} {operator:>11} {row['steps_per_s']:>9.2f} "
              f"{row['crossing_steps_per_s']:>17.3e} {row['iterations']:>10.1f} {row['memory_mb']:>10.2f}", flush=True)
        if profile:
            print_profile(row["kernels"], args.profile)


if __name__ == "__main__":
    main()
