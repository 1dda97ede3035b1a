"""Posteriors of four cloth parameters, friction among them, by simulation-based inference: calibration on held-out
simulations and sharpness, per summary statistic, in a scene whose crossings stick and one whose crossings slip.

Usage: python benchmarks/posterior_cloth.py [--budget 3000] [--check 300] [--noise 1e-5] [--density-estimator maf]
           [--statistics score,handmade,infomax,mean] [--scenes hanging_wind,slipping_wind] [--cache DIR]
           [--methods npe,nle,smc-abc] [--restarts 2]

Each scene (scenes/examples/NAME.toml) at 9 x 9 nodes, 100 steps of 1 ms, 51 frames; parameters: friction, and the
cotton yarns' density, Young's modulus and bending modulus, with a uniform prior (friction 0.05 to 0.8, the others
50% to 150% of the scene's value). The observation is the scene at its own values with Gaussian noise of --noise
metres on every position. Per statistic it prints the coverage of the 50% and 90% intervals over --check held-out
prior simulations (a calibrated posterior covers 50% and 90%, within +-5 points for 300), their mean 90% width as a
share of the prior box, the mean log density of the truth, and on the observation: the 90% intervals, whether they
hold the truth, and the Gauss-Newton intervals; with --methods nle the same by neural likelihood estimation (the
posterior drawn by MCMC). With --methods smc-abc, per statistic SMC-ABC, with twice the budget
(the first half is the same first round, read from the cache): its 90% widths on the observation, whether they hold
the truth, its tolerances and effective sample size. Simulations are cached in --cache (default
out/posterior-benchmark), so a second run (or another statistic) reuses them.
"""

import argparse
import time
from pathlib import Path

import numpy as np

import scenes
from learning.posterior import PosteriorOptions, gauss_newton_intervals, infer_posterior, observe

NAMES = ("weave.friction", "materials.cotton.density", "materials.cotton.young_modulus",
         "materials.cotton.bending_modulus")
SHORT = ("friction", "density", "young", "bending")


def scene_of(name: str):
    base = scenes.load_scene(f"{scenes.__path__[0]}/examples/{name}.toml", check_device=False)
    return scenes.with_parameters(base, {"cloth.nodes": [9, 9], "simulation.steps": 100, "simulation.save_every": 2,
                                         "simulation.device": "cpu"})


def prior_of(scene):
    values = np.array([scenes.get_parameter(scene, name) for name in NAMES], dtype=float)
    low, high = 0.5 * values, 1.5 * values
    low[0], high[0] = 0.05, 0.8
    return values, low, high


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=3000)
    parser.add_argument("--check", type=int, default=300)
    parser.add_argument("--noise", type=float, default=1e-5)
    parser.add_argument("--statistics", default="score,handmade,infomax,mean")
    parser.add_argument("--scenes", default="hanging_wind,slipping_wind")
    parser.add_argument("--cache", default="out/posterior-benchmark")
    parser.add_argument("--density-estimator", default="maf")
    parser.add_argument("--no-gauss-newton", dest="gauss_newton", action="store_false")
    parser.add_argument("--methods", default="npe", help="npe, nle, smc-abc (twice the budget), comma-separated")
    parser.add_argument("--restarts", type=int, default=2, help="trainings per posterior, the best kept")
    args = parser.parse_args()
    scenes.set_warp_messages(verbose=False)
    scenes.init_warp_quietly()
    for name in args.scenes.split(","):
        scene = scene_of(name)
        truth, low, high = prior_of(scene)
        simulated = scenes.simulate_scene(scene).trajectory
        observed = observe(simulated.x[0], args.noise, seed=123)
        steps = np.rint(simulated.t / scene.simulation.solver_dt).astype(np.int64)
        print(f"\n## {name} (9 x 9, {len(steps)} frames, noise {args.noise:g} m, budget {args.budget}, "
              f"{args.check} held out, {args.density_estimator})\n")
        for method in ("npe", "nle"):
            if method in args.methods.split(","):
                neural_table(scene, observed, steps, truth, low, high, args, Path(args.cache) / name, method=method)
        if "smc-abc" in args.methods.split(","):
            smc_abc_table(scene, observed, steps, truth, low, high, args, Path(args.cache) / name)
        if args.gauss_newton:
            from learning import cloth

            observations = cloth.Observations(steps=steps, positions=observed, source="observed")
            fit = gauss_newton_intervals(scene, observations, NAMES, low=low, high=high, noise=args.noise)
            print("\nGauss-Newton 90% width / prior on the observation: "
                  + ", ".join(f"{s}: {w:.4f}" for s, w in zip(SHORT, 2 * 1.6449 * fit.std / (high - low),
                                                               strict=True)))


def neural_table(scene, observed, steps, truth, low, high, args, cache: Path, *, method: str) -> None:
    """Neural posterior (``method`` "npe") or likelihood ("nle") estimation per statistic: calibration on held-out
    simulations, the observation's intervals, and each training's validation loss."""
    print(f"\n{method.upper()}, {args.restarts} training(s) per posterior, the best kept\n")
    print("| statistic | coverage 50% (" + ", ".join(SHORT) + ") | coverage 90% | mean 90% width / prior | "
          "log density of truth | observed: 90% width / prior | truth inside | statistic s | density s | check s | "
          "validation losses |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for statistic in args.statistics.split(","):
        options = PosteriorOptions(budget=args.budget, method=method, statistic=statistic, check=args.check,
                                   chunk=100, density_estimator=args.density_estimator, restarts=args.restarts)
        began = time.perf_counter()
        result = infer_posterior(scene, observed, steps, names=NAMES, low=low, high=high, noise=args.noise,
                                 options=options, cache=cache)
        quantiles = result.marginals()
        check = result.check
        inside = (quantiles[0] <= truth) & (truth <= quantiles[2])
        print(f"| {statistic} | " + ", ".join(f"{v:.0%}" for v in check.coverage[0.5]) + " | "
              + ", ".join(f"{v:.0%}" for v in check.coverage[0.9]) + " | "
              + ", ".join(f"{v:.3f}" for v in check.width_90) + f" | {check.log_density:.2f} | "
              + ", ".join(f"{v:.3f}" for v in (quantiles[2] - quantiles[0]) / (high - low)) + " | "
              + ", ".join("yes" if v else "no" for v in inside)
              + f" | {result.seconds['statistic']:.0f} | {result.seconds['density']:.0f} | "
              + f"{result.seconds['check']:.0f} | " + ", ".join(f"{v:.3f}" for v in result.validation_losses[0])
              + " |", flush=True)
        if result.simulated:
            print(f"(simulated {result.simulated} now at {result.simulations_per_second:.1f}/s; whole call "
                  f"{time.perf_counter() - began:.0f} s)")


def smc_abc_table(scene, observed, steps, truth, low, high, args, cache: Path) -> None:
    """SMC-ABC with each statistic's distance: twice the budget (the first half is NPE's first round)."""
    print(f"\nSMC-ABC, budget {2 * args.budget} (the first {args.budget} are the first round above)\n")
    print("| statistic | observed: 90% width / prior (" + ", ".join(SHORT) + ") | truth inside | populations | "
          "tolerance first -> last | effective sample size | ABC s besides simulating |")
    print("|---|---|---|---|---|---|---|")
    for statistic in args.statistics.split(","):
        options = PosteriorOptions(budget=2 * args.budget, method="smc-abc", statistic=statistic, chunk=100)
        result = infer_posterior(scene, observed, steps, names=NAMES, low=low, high=high, noise=args.noise,
                                 options=options, cache=cache)
        quantiles = result.marginals()
        inside = (quantiles[0] <= truth) & (truth <= quantiles[2])
        abc = result.abc
        print(f"| {statistic} | " + ", ".join(f"{v:.3f}" for v in (quantiles[2] - quantiles[0]) / (high - low))
              + " | " + ", ".join("yes" if v else "no" for v in inside)
              + f" | {len(abc.epsilons) - 1} | {abc.epsilons[0]:.3g} -> {abc.epsilons[-1]:.3g} | "
              f"{abc.effective_sample_size:.0f} | {result.seconds['abc']:.1f} |", flush=True)
        if result.simulated:
            print(f"(simulated {result.simulated} now at {result.simulations_per_second:.1f}/s)")


if __name__ == "__main__":
    main()
