"""What contact costs: the sphere drop (a flat cloth landing on a 3 cm sphere, as in scenes/examples/sphere_drop.toml,
started touching it) with obstacle contact and self-contact, against the same cloth with no contact, in one run.

Usage: python benchmarks/contact.py [--size 101] [--steps 20] [--device cpu]

Prints steps/s with obstacle contact and self-contact (after 20 steps of landing) and without any contact (the
same cloth falling freely), and the share of the contact step that the contact terms' own work takes: obstacle
contact's launches (frozen state, forces, assembled blocks, preconditioner diagonal, velocity bound) and
self-contact's (hash grid build, pair search with its readback of the pair counts, frozen state, forces,
blocks), each timed alone as many times.
"""

import argparse
import time

import numpy as np
import warp as wp

import simulator
from materials import YarnMaterial, weave_flips
from simulator._terms import run_launches

COTTON = YarnMaterial(density=0.002, young_modulus=5.0e5, bending_modulus=1.4e-4)


def cloth(size: int, device: str, *, contact: bool):
    sphere = simulator.Obstacle.sphere(center=(0.0, 0.0, 0.0), radius=0.03, friction=0.3, thickness=1e-3)
    half = (size - 1) * 1e-3 / 2.0  # the cloth's centre over the sphere's top, its surface 0.5 mm above it
    spec = simulator.ClothSpec(nodes=(size, size), spacing=1e-3, yarn_radius=5e-4,
                               flips=weave_flips("plain", (size, size)), warp_materials=[COTTON] * size,
                               weft_materials=[COTTON] * size, pose="flat", origin=(-half, -half, 0.0315),
                               obstacles=(sphere,) if contact else (),
                               self_contact=simulator.SelfContactSpec() if contact else None)
    return simulator.build_model(spec, device=device)


def seconds_per_step(model, solver, steps: int):
    states = [model.state(), model.state()]
    for _ in range(20):  # warm-up: compile, land on the sphere
        solver.step(states[0], states[1])
        states.reverse()
    wp.synchronize_device(model.device)
    start = time.perf_counter()
    for _ in range(steps):
        solver.step(states[0], states[1])
        states.reverse()
    wp.synchronize_device(model.device)
    return (time.perf_counter() - start) / steps, states[0]


def timed(work, steps: int, device) -> float:
    work()
    wp.synchronize_device(device)
    start = time.perf_counter()
    for _ in range(steps):
        work()
    wp.synchronize_device(device)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=101)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    wp.config.quiet = True
    model = cloth(args.size, args.device, contact=True)
    solver = simulator.SolverImplicit(model, dt=1e-3)
    contact_step, state = seconds_per_step(model, solver, args.steps)
    free = cloth(args.size, args.device, contact=False)
    free_step, _ = seconds_per_step(free, simulator.SolverImplicit(free, dt=1e-3), args.steps)

    c, h, dev = solver.configuration(state), solver.dt, model.device
    scratch = wp.zeros_like(state.qd)
    blocks = solver.assembled.blocks
    pre = solver.preconditioner
    shares = {}
    for name in ("obstacles", "self_contact"):
        term = next(t for t in model.terms if t.name == name)
        ws = solver.workspaces[term]
        launches = term.linearize_launches(model, c, ws) + term.force_launches(model, c, scratch, ws)
        launches += term.block_launches(model, c, h, blocks, ws)
        launches += term.preconditioner_launches(model, c, h, pre.frame, pre.diag, pre.chain, ws)
        if term.bounds_velocity:
            launches += term.velocity_bound_launches(model, c, h, state.qd, scratch, ws)

        def work(term=term, ws=ws, launches=launches):
            term.collide(model, c, ws)
            run_launches(launches, dev)

        shares[name] = timed(work, args.steps, dev)
    pairs = int(solver.owned_contacts.count.numpy().max())
    iterations = float(np.mean(solver.iterations.numpy()))
    print(f"{args.size}x{args.size} cloth on {model.device}, dt = 1 ms:")
    print(f"  landing on the sphere, obstacle contact and self-contact: {1.0 / contact_step:.1f} steps/s "
          f"({contact_step * 1e3:.1f} ms/step, {iterations:.0f} CG iterations, {pairs} self-contact pairs)")
    print(f"  falling freely, no contact terms: {1.0 / free_step:.1f} steps/s ({free_step * 1e3:.1f} ms/step)")
    for name, seconds in shares.items():
        print(f"  {name}: {seconds * 1e3:.2f} ms/step = {100 * seconds / contact_step:.1f}% of the contact step")
    total = sum(shares.values())
    print(f"  contact in all: {100 * total / contact_step:.1f}% of the step (goal <= 30%)")


if __name__ == "__main__":
    main()
