"""Cost of gradients through a rollout: reverse mode, forward mode as worlds, memory against T.

Usage: python benchmarks/gradient_cost.py [--sizes 17 25 101] [--steps 20] [--tangents 1 8 64]
       [--memory-steps 250 1000 4000] [--device cpu] [--budget 600]

For each N x N reference cloth (plain weave, two top corners pinned, wind; dt = 1 ms):
  * reverse/forward: wall time of rollout_gradient (forward pass, checkpoint recomputation and
    backward pass) over a plain rollout of the same steps and loss;
  * jvp k: wall time of rollout_jvp with k tangents (2k + 1 worlds in one batch) over one rollout;
  * peak array memory of rollout_gradient for several horizons T (checkpointing, ~sqrt(T)) on a
    small cloth.
Rows whose estimated time exceeds --budget seconds are skipped and say so. Timings are wall-clock.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import warp as wp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simulator  # noqa: E402
from tests.cloth_factory import hanging_spec  # noqa: E402


def make_loss_factory(model, steps):
    rest = model.positions(model.state())[:, None]
    observed = [steps // 2, steps]
    target = np.repeat(rest, len(observed), axis=1)
    return lambda m: simulator.TrajectoryLoss(m, steps=observed, positions=target)


def timed_rollout(model, solver, loss, steps):
    start = time.perf_counter()
    current, nxt = model.state(), model.state()
    for t in range(1, steps + 1):
        solver.step(current, nxt)
        loss.value(t, nxt)
        current, nxt = nxt, current
    wp.synchronize_device(model.device)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[17, 25, 101])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--tangents", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--memory-steps", type=int, nargs="+", default=[250, 1000, 4000])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--budget", type=float, default=600.0, help="skip rows estimated to take longer [s]")
    args = parser.parse_args()
    wp.config.quiet = True
    wp.init()
    print(f"device: {wp.get_device(args.device).name} ({args.device}), warp {wp.config.version}, "
          f"{args.steps} steps, dt = 1 ms")
    print(f"{'cloth':>9} {'forward s':>10} {'fwd+bwd s':>10} {'ratio':>6}   " + "  ".join(
        f"{'jvp k=' + str(k):>12}" for k in args.tangents))
    for size in args.sizes:
        spec = hanging_spec((size, size))
        model = simulator.build_model(spec, device=args.device)
        solver = simulator.SolverImplicit(model, dt=1e-3)
        make_loss = make_loss_factory(model, args.steps)
        loss = make_loss(model)
        solver.step(model.state(), model.state())  # compile
        forward = timed_rollout(model, solver, loss, args.steps)
        row = f"{size:>4}x{size:<4} {forward:>10.3f} "
        if 4 * forward > args.budget:
            print(row + "  (gradient skipped: over budget)")
            continue
        start = time.perf_counter()
        simulator.rollout_gradient(model, solver, loss, steps=args.steps)
        both = time.perf_counter() - start
        row += f"{both:>10.3f} {both / forward:>6.2f}   "
        cells = []
        for k in args.tangents:
            if (2 * k + 1) * forward * 1.2 > args.budget and args.device == "cpu":
                cells.append(f"{'(skipped)':>12}")
                continue
            tangents = {"segment_stretch_stiffness": np.random.default_rng(0).normal(
                size=(k, model.segment_count)) * model.parameter("segment_stretch_stiffness")[0]}
            start = time.perf_counter()
            simulator.rollout_jvp(model, make_loss, steps=args.steps, tangents=tangents, dt=1e-3,
                                  tolerance=solver.tolerance)
            cells.append(f"{(time.perf_counter() - start) / forward:>11.2f}x")
        print(row + "  ".join(cells), flush=True)
    print("\npeak array memory of rollout_gradient (5x5 cloth, checkpoint segments of ceil(sqrt(T)) steps):")
    model = simulator.build_model(hanging_spec((5, 5)), device=args.device)
    solver = simulator.SolverImplicit(model, dt=1e-3)
    rest = model.positions(model.state())[:, None]
    base = None
    for steps in args.memory_steps:
        loss = simulator.TrajectoryLoss(model, steps=[steps], positions=rest)
        start = time.perf_counter()
        result = simulator.rollout_gradient(model, solver, loss, steps=steps)
        base = base or result.peak_bytes
        print(f"  T = {steps:>6}: {result.peak_bytes / 1024:>9.1f} KiB ({result.peak_bytes / base:.2f}x), "
              f"segment {result.checkpoint_every}, {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
