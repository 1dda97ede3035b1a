"""Sequential Monte Carlo ABC: a posterior under a uniform prior on a box from simulations alone, with the distance
between summaries (any statistic's) as the only link to the observation.

Population Monte Carlo ABC (Beaumont, Cornuet, Marin and Robert 2009) with adaptive tolerances (Del Moral, Doucet
and Jasra 2012): population 0 is the ``particles`` prior simulations closest to the observation; population t draws
a particle by weight, moves it by a Gaussian kernel of twice the population's weighted covariance, simulates it and
keeps it when its summaries lie within epsilon_t of the observed ones, epsilon_t being the ``quantile`` of the last
population's distances. A kept particle weighs prior(theta) / sum_j w_j K(theta | theta_j); a move that leaves the box
has prior density 0 and is dropped unsimulated, which keeps the weights exact (the kernel is not truncated).
Candidates are simulated ``batch`` at a time, so that a batched simulator runs full batches.

sbi's SMCABC implements the same algorithm, but draws its own initial population and simulates each population's
remaining particles in ever smaller batches (one world at a time at the end); here the first round of simulations
that fitted the statistic is population 0's pool and every batch is full.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["AbcPosterior", "smc_abc"]


@dataclass(frozen=True)
class AbcPosterior:
    """The last complete population of an SMC-ABC run.

    Attributes:
        particles: [N, k] parameter values in the prior box.
        weights: [N] importance weights (sum 1).
        distances: [N] distances of their summaries to the observed ones.
        epsilons: the tolerance of each population (population 0's is its largest distance).
        simulations: simulations spent per population after the pool (the last entry may be an incomplete
            population's, dropped when the budget ran out).
    """

    particles: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    epsilons: list
    simulations: list

    @property
    def effective_sample_size(self) -> float:
        return float(1.0 / np.sum(self.weights ** 2))

    def sample(self, count: int, *, seed: int = 0) -> np.ndarray:
        """``count`` draws [count, k] of the particles by weight (with replacement)."""
        rows = np.random.default_rng(seed).choice(len(self.weights), size=count, p=self.weights)
        return self.particles[rows]


def smc_abc(theta: np.ndarray, summaries: np.ndarray, observed: np.ndarray, *, low, high,
            simulate: Callable[[np.ndarray, int, int], np.ndarray], budget: int, particles: int,
            quantile: float = 0.5, batch: int | None = None, seed: int = 0) -> AbcPosterior:
    """SMC-ABC under the uniform prior on [low, high] (k parameters).

    Args:
        theta, summaries: the pool of prior simulations [n, k] and their summaries [n, d] (population 0 is its
            ``particles`` members closest to ``observed``).
        observed: the observation's summaries [d]; distances are Euclidean, so standardise the summaries.
        simulate: ``simulate(theta [b, k], population, batch) -> summaries [b, d]``.
        budget: simulations after the pool; a population the budget cannot complete is dropped.
        particles: the population size N (<= n).
        quantile: each tolerance is this quantile of the last population's distances (smaller: fewer populations
            to the same tolerance, lower acceptance).
        batch: candidates simulated per call (default N).
        seed: the seed of the moves.
    """
    theta = np.asarray(theta, dtype=np.float64)
    summaries = np.asarray(summaries, dtype=np.float64)
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    if not 1 < particles <= len(theta):
        raise ValueError(f"particles = {particles!r}: expected 2 to the pool's {len(theta)} simulations")
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile = {quantile!r}: expected a share in (0, 1)")
    batch = batch or particles
    rng = np.random.default_rng(seed)
    scale = high - low  # moves and weights in box units: parameters of different units would make the kernel's
    unit = (theta - low) / scale  # covariance too ill-conditioned to factor
    distances = np.linalg.norm(summaries - observed, axis=1)
    best = np.argsort(distances, kind="stable")[:particles]
    population = (unit[best], np.full(particles, 1.0 / particles), distances[best])
    epsilons, spent_per_population, spent = [float(distances[best[-1]])], [], 0
    index = 1
    while budget - spent >= particles:
        points, weights, dists = population
        epsilon = float(np.quantile(dists, quantile))
        covariance = 2.0 * np.cov(points, rowvar=False, aweights=weights).reshape(len(low), len(low))
        covariance += 1e-12 * np.eye(len(low))  # a parameter the population agrees on exactly
        chosen, chosen_distances, used = [], [], 0
        calls = 0
        while sum(len(c) for c in chosen) < particles and budget - spent - used > 0:
            size = min(batch, budget - spent - used)
            candidates = _moves(rng, points, weights, covariance, size)
            found = np.linalg.norm(simulate(low + scale * candidates, index, calls) - observed, axis=1)
            used += size
            calls += 1
            keep = found <= epsilon
            chosen.append(candidates[keep])
            chosen_distances.append(found[keep])
        spent += used
        spent_per_population.append(used)
        kept = np.concatenate(chosen)
        if len(kept) < particles:
            break
        kept, kept_distances = kept[:particles], np.concatenate(chosen_distances)[:particles]
        population = (kept, _weights(kept, points, weights, covariance), kept_distances)
        epsilons.append(epsilon)
        index += 1
    points, weights, dists = population
    return AbcPosterior(particles=low + scale * points, weights=weights, distances=dists, epsilons=epsilons,
                        simulations=spent_per_population)


def _moves(rng, points, weights, covariance, size) -> np.ndarray:
    """``size`` moved particles inside the unit box (moves outside it have prior density 0: drawn again)."""
    moved = []
    while sum(len(m) for m in moved) < size:
        rows = rng.choice(len(weights), size=2 * size, p=weights)
        steps = rng.standard_normal((2 * size, len(covariance))) @ np.linalg.cholesky(covariance).T
        candidates = points[rows] + steps
        moved.append(candidates[np.all((candidates >= 0.0) & (candidates <= 1.0), axis=1)])
    return np.concatenate(moved)[:size]


def _weights(kept, points, weights, covariance) -> np.ndarray:
    """Importance weights prior(theta_i) / sum_j w_j K(theta_i | theta_j), normalised (the prior is constant on the
    box, and the kernel's normalisation is common to all)."""
    factor = np.linalg.cholesky(covariance)
    difference = np.linalg.solve(factor, (kept[:, None, :] - points[None, :, :]).reshape(-1, len(factor)).T)
    squared = np.sum(difference ** 2, axis=0).reshape(len(kept), len(points))
    log_mixture = np.log(weights)[None, :] - 0.5 * squared
    top = log_mixture.max(axis=1, keepdims=True)
    log_density = top[:, 0] + np.log(np.exp(log_mixture - top).sum(axis=1))
    log_weights = -log_density
    log_weights -= log_weights.max()
    result = np.exp(log_weights)
    return result / result.sum()
