"""How calibration varies from one training of a posterior to the next, with one training per posterior and with the
best of several (``learning.posterior.RestartedTraining``), on the Gaussian toy whose sufficient statistic is known.

Usage: python benchmarks/posterior_restarts.py [--simulations 1000] [--held-out 200] [--seeds 8] [--restarts 1,2]
           [--method npe|nle]

The same simulations (mean and standard deviation of 10 draws of N(mu, sigma^2), the uniform prior of
``learning.summaries.gaussian``) train a posterior from --seeds seeds, once per --restarts count; each is checked on
the same held-out simulations: the coverage of its central 50% and 90% intervals (a calibrated posterior covers 50%
and 90%, within the binomial noise 3.5 and 2.1 points for 200) and the kept training's validation loss. The last
lines count the posteriors whose coverage is off by more than 10 points, per restart count.
"""

import argparse
import time

import torch

from learning.posterior import SequentialLikelihood, SequentialPosterior, interval_coverage
from learning.summaries import gaussian

ESTIMATORS = {"npe": SequentialPosterior, "nle": SequentialLikelihood}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=1000)
    parser.add_argument("--held-out", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--restarts", default="1,2")
    parser.add_argument("--method", choices=tuple(ESTIMATORS), default="npe")
    args = parser.parse_args()
    low, high = [b[0] for b in gaussian.PRIOR], [b[1] for b in gaussian.PRIOR]
    generator = torch.Generator().manual_seed(0)
    theta = gaussian.prior_sample(args.simulations, generator=generator)
    summaries = gaussian.sufficient_statistic(gaussian.simulate(theta, draws=10, generator=generator))
    held_theta = gaussian.prior_sample(args.held_out, generator=generator)
    held = gaussian.sufficient_statistic(gaussian.simulate(held_theta, draws=10, generator=generator))
    print(f"{args.method.upper()} on {args.simulations} simulations, checked on {args.held_out} held out\n")
    print("| restarts | seed | coverage 50% (mu, sigma) | coverage 90% | worst deviation | validation losses | s |")
    print("|---|---|---|---|---|---|---|")
    off = {}
    for restarts in (int(r) for r in args.restarts.split(",")):
        off[restarts] = 0
        for seed in range(args.seeds):
            began = time.perf_counter()
            estimator = ESTIMATORS[args.method](low=low, high=high, seed=seed, restarts=restarts)
            posterior = estimator.train(theta, summaries)

            def sample(m, s, posterior=posterior):
                return posterior.sample((m,), x=s)

            torch.manual_seed(seed)
            coverage = interval_coverage(sample, held_theta, held, samples=400)
            worst = max(float((covered - level).abs().max()) for level, covered in coverage.items())
            off[restarts] += worst > 0.10
            print(f"| {restarts} | {seed} | " + ", ".join(f"{v:.0%}" for v in coverage[0.5].tolist()) + " | "
                  + ", ".join(f"{v:.0%}" for v in coverage[0.9].tolist()) + f" | {worst:.0%} | "
                  + ", ".join(f"{v:.3f}" for v in estimator.validation_losses[0])
                  + f" | {time.perf_counter() - began:.0f} |", flush=True)
    print()
    for restarts, count in off.items():
        print(f"{restarts} training(s) per posterior: {count} of {args.seeds} posteriors off by more than 10 points")


if __name__ == "__main__":
    main()
