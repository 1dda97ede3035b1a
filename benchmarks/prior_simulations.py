"""Simulations per second of a scene under a prior: draws as the worlds of one batched rollout against one at a time.

Usage: python benchmarks/prior_simulations.py [--nodes 9] [--steps 100] [--batch 64] [--single 8]

The example hanging_wind.toml scene at --nodes x --nodes, --steps steps of 1 ms (50 saved frames), with friction and
the cotton yarns' density and Young's modulus drawn from +-50% boxes: ``--batch`` draws in one rollout
(``learning.posterior.simulate_prior`` with chunk = batch) and ``--single`` draws one rollout each (chunk = 1).
"""

import argparse

import warp as wp

import scenes
from learning.posterior import simulate_prior

NAMES = ("weave.friction", "materials.cotton.density", "materials.cotton.young_modulus")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=9)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--single", type=int, default=8)
    args = parser.parse_args()
    wp.config.quiet = True
    base = scenes.load_scene(scenes.__path__[0] + "/examples/hanging_wind.toml", check_device=False)
    scene = scenes.with_parameters(base, {"cloth.nodes": [args.nodes, args.nodes], "simulation.steps": args.steps,
                                          "simulation.save_every": max(1, args.steps // 50),
                                          "simulation.device": "cpu"})
    values = [scenes.get_parameter(scene, name) for name in NAMES]
    low, high = [0.5 * v for v in values], [1.5 * v for v in values]
    simulate_prior(scene, names=NAMES, low=low, high=high, count=2, chunk=2)  # compile the kernels
    batched = simulate_prior(scene, names=NAMES, low=low, high=high, count=args.batch, chunk=args.batch)
    single = simulate_prior(scene, names=NAMES, low=low, high=high, count=args.single, chunk=1)
    print(f"{args.nodes}x{args.nodes} cloth, {args.steps} steps, {batched.x.shape[1]} frames, on cpu:")
    print(f"  {args.batch} draws as the worlds of one rollout: {batched.simulations_per_second:.2f} simulations/s")
    print(f"  one at a time ({args.single} draws): {single.simulations_per_second:.2f} simulations/s")
    print(f"  batched / one at a time: {batched.simulations_per_second / single.simulations_per_second:.2f}")


if __name__ == "__main__":
    main()
