"""What obstacle contact costs: steps/s of a cloth resting on a plane (every node in contact, the worst case
for the contact kernels) with the contact term, and the share of the step its own launches take.

Usage: python benchmarks/contact.py [--size 101] [--steps 30] [--device cpu]

The cloth (plain-weave cotton, 1 mm spacing) lies flat 0.9 mm above a plane with friction 0.5; after a few
warm-up steps the script times ``--steps`` steps, then the contact term's launches alone (its frozen state,
forces, assembled blocks, preconditioner diagonal and velocity bound) as many times, and prints both and
their ratio. Self-contact is not implemented yet (it is not counted).
"""

import argparse
import time

import numpy as np
import warp as wp

import simulator
from materials import YarnMaterial, weave_flips
from simulator._terms import run_launches

COTTON = YarnMaterial(density=0.002, young_modulus=5.0e5, bending_modulus=1.4e-4)


def resting_model(size: int, device: str):
    plane = simulator.Obstacle.plane(point=(0.0, 0.0, 0.0), normal=(0.0, 0.0, 1.0), friction=0.5, thickness=1e-3)
    spec = simulator.ClothSpec(nodes=(size, size), spacing=1e-3, yarn_radius=5e-4,
                               flips=weave_flips("plain", (size, size)), warp_materials=[COTTON] * size,
                               weft_materials=[COTTON] * size, pose="flat", origin=(0.0, 0.0, 0.0019),
                               obstacles=(plane,))
    return simulator.build_model(spec, device=device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=101)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    wp.config.quiet = True
    model = resting_model(args.size, args.device)
    solver = simulator.SolverImplicit(model, dt=1e-3)
    states = [model.state(), model.state()]
    for _ in range(5):  # warm-up: compile, settle into the layer
        solver.step(states[0], states[1])
        states.reverse()
    wp.synchronize_device(model.device)
    start = time.perf_counter()
    for _ in range(args.steps):
        solver.step(states[0], states[1])
        states.reverse()
    wp.synchronize_device(model.device)
    step_seconds = (time.perf_counter() - start) / args.steps

    term = next(t for t in model.terms if t.name == "obstacles")
    ws = solver.workspaces[term]
    c = solver.configuration(states[0])
    h = solver.dt
    scratch = wp.zeros_like(states[0].qd)
    blocks = solver.assembled.blocks if solver.assembled is not None else None
    launches = term.linearize_launches(model, c, ws) + term.force_launches(model, c, scratch, ws)
    if blocks is not None:
        launches += term.block_launches(model, c, h, blocks, ws)
    launches += term.preconditioner_launches(model, c, h, solver.preconditioner.frame, solver.preconditioner.diag,
                                             None, ws)
    launches += term.velocity_bound_launches(model, c, h, states[0].qd, scratch, ws)
    run_launches(launches, model.device)
    wp.synchronize_device(model.device)
    start = time.perf_counter()
    for _ in range(args.steps):
        run_launches(launches, model.device)
    wp.synchronize_device(model.device)
    contact_seconds = (time.perf_counter() - start) / args.steps
    iterations = float(np.mean(solver.iterations.numpy()))
    print(f"{args.size}x{args.size} cloth resting on a plane, {model.device}: {1.0 / step_seconds:.1f} steps/s "
          f"({step_seconds * 1e3:.1f} ms/step, {iterations:.0f} CG iterations in the last step)")
    print(f"contact launches: {contact_seconds * 1e3:.2f} ms/step = {100 * contact_seconds / step_seconds:.1f}% "
          "of the step (the drag's share of the CG products is inside the assembled blocks)")


if __name__ == "__main__":
    main()
