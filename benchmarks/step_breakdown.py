"""Where the time of one implicit step goes: force evaluation, right-hand side, preconditioner update, assembly,
the CG iterations (operator product, preconditioner apply, the rest), integration, and the rollout's checks.

Usage: python benchmarks/step_breakdown.py [--size 25] [--worlds 1] [--device cpu] [--repeats 50]

The reference scene (plain weave, two top corners pinned, 5 m/s wind, dt = 1 ms) is stepped 20 times to get the
cloth moving; then each phase of one step is run ``--repeats`` times on its own and timed (medians, with a device
synchronisation around each), as are a whole step and what a rollout adds to it (``simulator.advance``: the step
monitor and the read-back of the solve's health).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import warp as wp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simulator  # noqa: E402
from tests.cloth_factory import hanging_spec  # noqa: E402


def timed(call, repeats: int, device) -> float:
    """Median wall time of ``call()`` [ms]."""
    samples = []
    for _ in range(repeats):
        wp.synchronize_device(device)
        start = time.perf_counter()
        call()
        wp.synchronize_device(device)
        samples.append(1e3 * (time.perf_counter() - start))
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=25)
    parser.add_argument("--worlds", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    wp.config.quiet = True
    device = args.device
    model = simulator.build_model([hanging_spec((args.size, args.size))] * args.worlds, device=device)
    solver = simulator.SolverImplicit(model, dt=1e-3)
    states = [model.state(), model.state()]
    for k in range(20):
        solver.step(states[k % 2], states[(k + 1) % 2])
    state, out = states[0], states[1]
    h = solver.dt
    c = solver.configuration(state)
    solver.eval_forces(state)
    solver.preconditioner.update(c, h)
    solver.prepare_operator(c, h)
    velocity = wp.clone(state.qd)
    solver.cg.solve(solver.apply_operator, solver.preconditioner.apply, solver.rhs, velocity)
    iterations = int(solver.iterations.numpy().max())
    p, ap, z = solver.cg.direction, solver.cg.product, solver.cg.preconditioned
    dot = wp.zeros(model.world_count, dtype=wp.float64, device=device)
    rows = {
        "force evaluation (all terms, crossing state)": lambda: solver.eval_forces(state),
        "preconditioner update": lambda: solver.preconditioner.update(c, h),
        "assembly of A": lambda: solver.prepare_operator(c, h),
        "linear solve (all CG iterations)": lambda: (wp.copy(velocity, state.qd), solver.cg.solve(
            solver.apply_operator, solver.preconditioner.apply, solver.rhs, velocity)),
        "  one product A p (+ fused dot)": lambda: solver.apply_operator(p, ap, dot),
        "  one preconditioner apply (+ fused dot)": lambda: solver.preconditioner.apply(ap, z, dot),
    }
    monitor = simulator.StepMonitor(model, dt=h)
    health = simulator.SolveHealth()
    checks = {"step monitor (finite, strain, segment change)": lambda: monitor.check(state, out, 1),
              "solve health read-back": lambda: health.record(1, solver)}
    print(f"{args.size}x{args.size} cloth, {args.worlds} world(s), {device}, {solver.operator} operator, "
          f"{iterations} CG iterations in this step; medians of {args.repeats} runs [ms]")
    figures = {label: timed(call, args.repeats, device) for label, call in rows.items()}
    step = timed(lambda: solver.step(state, out), args.repeats, device)
    for label, ms in figures.items():
        share = "" if label.startswith("  ") else f"{100 * ms / step:6.1f} %"
        print(f"{label:<46} {ms:8.3f} {share}")
    per_iteration = figures["  one product A p (+ fused dot)"] + figures["  one preconditioner apply (+ fused dot)"]
    cg = figures["linear solve (all CG iterations)"]
    print(f"{'  the rest of the CG (vector updates, checks)':<46} {cg - iterations * per_iteration:8.3f}")
    print(f"{'one step (solver.step)':<46} {step:8.3f}  100.0 %")
    for label, call in checks.items():
        print(f"{'+ ' + label:<46} {timed(call, args.repeats, device):8.3f}")


if __name__ == "__main__":
    main()
