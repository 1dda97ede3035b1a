"""How neural posterior estimation on score summaries changes with the simulation budget: coverage, width and log
density of the truth on held-out simulations of the sticking scene, for 1500, 3000 and 6000 prior simulations.

Usage: python benchmarks/posterior_budget.py [--budgets 1500,3000,6000] [--check 300] [--noise 1e-5] [--scene NAME]
           [--cache DIR]

The scene, parameters and prior are those of benchmarks/posterior_cloth.py; the pool is its first round (3000 prior
draws, seed 0) and 3000 more (seed 1), read from --cache when they are there; the held-out simulations are 300 more
prior draws (seed 2). Each budget trains one MAF on the first N of the pool's summaries (score compression at the box
centre, standardised on those N) and checks it on the held-out ones (learning.posterior.calibration_check).
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from posterior_cloth import NAMES, SHORT, prior_of, scene_of

import scenes
from learning.posterior import (
    SensitivityProjection,
    SequentialPosterior,
    calibration_check,
    observe,
    simulate_draws,
    simulate_prior,
)

STEP = 1e-3  # central-difference steps of the score statistic, as a share of the prior box


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="1500,3000,6000")
    parser.add_argument("--check", type=int, default=300)
    parser.add_argument("--noise", type=float, default=1e-5)
    parser.add_argument("--scene", default="hanging_wind")
    parser.add_argument("--cache", default="out/posterior-benchmark")
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    scenes.set_warp_messages(verbose=False)
    scenes.init_warp_quietly()
    scene = scene_of(args.scene)
    _, low, high = prior_of(scene)
    cache = Path(args.cache) / args.scene
    pools = [simulate_prior(scene, names=NAMES, low=low, high=high, count=3000, chunk=100, seed=seed,
                            cache=cache / folder) for seed, folder in ((0, "round_1"), (1, "prior_seed1"))]
    held = simulate_prior(scene, names=NAMES, low=low, high=high, count=args.check, chunk=100, seed=2,
                          cache=cache / "held_out_seed2")
    centre, step = 0.5 * (low + high), STEP * (high - low)
    stencil = SensitivityProjection.stencil(centre, step)
    projection = SensitivityProjection.from_differences(
        simulate_draws(scene, names=NAMES, theta=stencil, chunk=100, cache=cache / "budget_stencil").x, step)
    theta = np.concatenate([pool.theta for pool in pools])
    summaries = np.concatenate([projection(observe(pool.x, args.noise, seed=1 + k)) for k, pool in enumerate(pools)])
    held_summaries = projection(observe(held.x, args.noise, seed=3))
    print(f"\n{args.scene}: score summaries, MAF, {args.check} held out, noise {args.noise:g} m; per parameter "
          f"({', '.join(SHORT)})\n")
    print("| simulations | coverage 50% | coverage 90% | 90% width / prior | log density of truth | training s |")
    print("|---|---|---|---|---|---|")
    for budget in budgets:
        mean, std = summaries[:budget].mean(axis=0), summaries[:budget].std(axis=0)
        began = time.perf_counter()
        posterior = SequentialPosterior(low=low, high=high).train(
            theta[:budget], torch.tensor((summaries[:budget] - mean) / std, dtype=torch.float32))
        seconds = time.perf_counter() - began
        check = calibration_check(posterior, held.theta, torch.tensor((held_summaries - mean) / std,
                                                                        dtype=torch.float32))
        print(f"| {budget} | " + ", ".join(f"{v:.0%}" for v in check.coverage[0.5]) + " | "
              + ", ".join(f"{v:.0%}" for v in check.coverage[0.9]) + " | "
              + ", ".join(f"{v:.3f}" for v in check.width_90) + f" | {check.log_density:.2f} | {seconds:.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
