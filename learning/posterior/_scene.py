"""The posterior of a scene's parameters given observed motion, by simulation-based inference end to end.

1. Draw ``budget / rounds`` parameter vectors from the uniform prior on a box and simulate them as the worlds of
   batched rollouts (``simulate_prior``, cached and resumable).
2. Measure them as the observations were measured (``_measurements``): the observed frames, with Gaussian noise of
   the observations' standard deviation added to every position; or the pixels of tracked material points at the
   footage's frame times, with pixel noise.
3. Summarise: the score compression (the positions projected on their sensitivities to the parameters at the prior
   box's centre, from 2k + 1 more simulations), hand-made summaries, or a statistic learned on part of the
   simulations (the InfoMax statistic or the posterior-mean regression, on ``trajectory_features`` or
   ``track_features``). A learned statistic is trained on its own share of the first round, and the density
   estimator on the rest: summaries of the pairs a statistic was fitted to are more informative than those of new
   data, and a posterior trained on them would be overconfident.
4. Train q(theta | s) by neural posterior estimation; with ``rounds`` > 1, draw each later round from the current
   posterior given the observed summaries and train on all rounds (sbi's sequential NPE).
5. Optionally check calibration on held-out prior simulations (interval coverage, simulation-based calibration and
   TARP, ``sbi.diagnostics``), with the first round's amortised posterior.

With ``method = "smc-abc"`` steps 4 and 5 are SMC-ABC instead: half the budget is the first round, whose
simulations closest to the observation in summary space are the first population, and the other half moves the
population to ever smaller tolerances (``smc_abc``); there is no amortised posterior to check.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ._abc import AbcPosterior, smc_abc
from ._calibration import coverage_of
from ._features import SensitivityProjection
from ._measurements import measurement_of
from ._nle import SequentialLikelihood
from ._npe import RESTARTS, BoxPosterior, SequentialPosterior
from ._simulations import check_prior, prior_draws, simulate_draws, simulate_prior

__all__ = ["METHODS", "MIN_ROUND_BUDGET", "STATISTICS", "BudgetError", "PosteriorCheck", "PosteriorOptions",
           "ScenePosterior", "calibration_check", "infer_posterior"]

#: the statistics a scene posterior can summarise its simulations with
STATISTICS = ("score", "handmade", "infomax", "mean")
#: how the posterior is inferred from the summaries: neural posterior or likelihood estimation, or SMC-ABC
METHODS = ("npe", "nle", "smc-abc")
#: the neural estimators, each method's
ESTIMATORS = {"npe": SequentialPosterior, "nle": SequentialLikelihood}
#: draws per held-out simulation of the calibration check (NLE's come from MCMC chains, ``_nle.MCMC_BATCHED``)
CHECK_DRAWS = {"npe": 1000, "nle": 200}
#: the statistics trained on simulations (on their own share of the first round)
LEARNED = ("infomax", "mean")
#: the score statistic's central-difference steps, as a share of the prior box
SCORE_STEP = 1e-3
#: the fewest simulations per round that a statistic and a density estimator can be trained on
MIN_ROUND_BUDGET = 100


class BudgetError(ValueError):
    """A simulation budget too small to train on."""


@dataclass(frozen=True)
class PosteriorOptions:
    """How a scene posterior is inferred.

    Attributes:
        budget: simulations in all rounds together (the check's are extra).
        method: "npe" (neural posterior estimation, default), "nle" (neural likelihood estimation, posterior drawn
            by MCMC) or "smc-abc" (``METHODS``).
        rounds: 1 (amortised neural posterior estimation) or more (later rounds drawn from the posterior given the
            observation); SMC-ABC's populations are its rounds (rounds = 1).
        statistic: "score", "handmade", "infomax" or "mean" (``STATISTICS``).
        statistic_share: the share of the first round a learned statistic is trained on (the rest trains q).
        summary_dim: summaries of the InfoMax statistic (default two per parameter).
        samples: posterior draws reported.
        check: held-out prior simulations for the calibration check (0: no check).
        chunk: simulations per batched rollout.
        density_estimator: sbi's name of the density estimator ("maf": a masked autoregressive flow, default;
            "nsf", "mdn", ...).
        restarts: trainings of the density estimator from different initial weights, the one with the smallest
            validation loss kept (``RestartedTraining``: one training can stop in a poor optimum).
        particles: SMC-ABC's population (default a tenth of the first round's simulations it starts from).
        abc_quantile: each SMC-ABC tolerance is this quantile of the last population's distances.
        seed: the seed of draws, noise, splits and training.
    """

    budget: int = 2000
    method: str = "npe"
    rounds: int = 1
    statistic: str = "score"
    statistic_share: float = 0.5
    summary_dim: int | None = None
    samples: int = 10000
    check: int = 0
    chunk: int = 100
    density_estimator: str = "maf"
    restarts: int = RESTARTS
    particles: int | None = None
    abc_quantile: float = 0.5
    seed: int = 0

    @property
    def first_round(self) -> int:
        """Simulations of the first round (from the prior)."""
        return self.budget // 2 if self.method == "smc-abc" else self.budget // self.rounds

    @property
    def trained(self) -> int:
        """Of the first round's simulations, those the density estimator (or SMC-ABC's first population) is drawn
        from: all but a learned statistic's share."""
        if self.statistic in LEARNED:
            return self.first_round - int(round(self.statistic_share * self.first_round))
        return self.first_round

    @property
    def population(self) -> int:
        """SMC-ABC's population size."""
        return self.particles or max(2, self.trained // 10)

    def validate(self) -> None:
        if self.statistic not in STATISTICS:
            raise ValueError(f"statistic = {self.statistic!r} is unknown: expected one of {', '.join(STATISTICS)}")
        if self.method not in METHODS:
            raise ValueError(f"method = {self.method!r} is unknown: expected one of {', '.join(METHODS)}")
        if self.rounds < 1 or self.restarts < 1:
            raise ValueError(f"rounds = {self.rounds!r}, restarts = {self.restarts!r}: expected integers >= 1")
        learned = self.statistic in LEARNED
        if min(self.first_round, self.trained) < MIN_ROUND_BUDGET:
            raise BudgetError(f"a budget of {self.budget} simulations in {self.rounds} round(s) is too small to train "
                              f"on: expected at least {MIN_ROUND_BUDGET} per round for the density estimator"
                              + (" besides the statistic's share" if learned else ""))
        if self.method == "smc-abc":
            self._validate_abc()
        elif self.particles is not None:
            raise ValueError(f"particles = {self.particles}: a population size is for method smc-abc, not "
                             f"{self.method}")
        if not 0.0 < self.statistic_share < 1.0:
            raise ValueError(f"statistic_share = {self.statistic_share!r}: expected a share in (0, 1)")
        if self.check < 0 or self.samples < 10:
            raise ValueError(f"check = {self.check!r}, samples = {self.samples!r}: expected >= 0 and >= 10")

    def _validate_abc(self) -> None:
        if self.restarts != RESTARTS:
            raise ValueError(f"restarts = {self.restarts}: trainings are for methods npe and nle; SMC-ABC trains no "
                             "density estimator")
        if self.rounds != 1:
            raise ValueError(f"rounds = {self.rounds}: SMC-ABC's populations are its rounds; give rounds = 1")
        if self.check:
            raise ValueError("the calibration check needs an amortised posterior (method npe or nle); SMC-ABC infers "
                             "one observation's posterior only")
        if not 1 < self.population <= self.trained:  # then the other half of the budget holds a population too
            raise BudgetError(f"particles = {self.population}: expected 2 to the {self.trained} first-round "
                              "simulations SMC-ABC starts from")
        if not 0.0 < self.abc_quantile < 1.0:
            raise ValueError(f"abc_quantile = {self.abc_quantile!r}: expected a share in (0, 1)")


@dataclass(frozen=True)
class PosteriorCheck:
    """Calibration on held-out simulations from the prior (of the first round's amortised posterior).

    Attributes:
        simulations: held-out simulations.
        coverage: {level: share of simulations whose truth lies in the central marginal interval, per parameter}.
        sbc_ks_pvalues: Kolmogorov-Smirnov p-values of the simulation-based-calibration ranks' uniformity, per
            parameter (small: miscalibrated).
        tarp_atc, tarp_ks_pvalue: TARP's area to curve (0 for a calibrated posterior) and its KS p-value.
        width_90: the mean width of the 90% intervals as a share of the prior box, per parameter (how much the data
            say: 0.9 for a posterior that learned nothing).
        log_density: the mean log posterior density of the true parameters (in the box's units scaled to 1: the
            prior's is 0; larger is better).
    """

    simulations: int
    coverage: dict
    sbc_ks_pvalues: list
    tarp_atc: float
    tarp_ks_pvalue: float
    width_90: list
    log_density: float


@dataclass(frozen=True)
class ScenePosterior:
    """The posterior of a scene's parameters given an observation.

    Attributes:
        names, low, high: the parameters and their prior box.
        samples: posterior draws [m, k].
        observed_summaries: the observation's summaries [d].
        posterior: the trained q(theta | s) (``BoxPosterior``) of the last round (None for SMC-ABC).
        simulations: simulations per round (from the cache or simulated now; for SMC-ABC the first round, then
            each population's).
        simulated: of these, simulated by this call.
        seconds: wall time per phase: "simulation", "statistic", "density", "check" (or for SMC-ABC "abc": its own
            work besides simulating) [s].
        check: the calibration check, or None.
        abc: SMC-ABC's last population (its tolerances, particles and weights), or None.
        method: how it was inferred (``METHODS``).
        validation_losses: the density estimator's validation loss per round, one per training (the smallest was
            kept); empty for SMC-ABC.
    """

    names: tuple
    low: np.ndarray
    high: np.ndarray
    samples: np.ndarray
    observed_summaries: np.ndarray
    posterior: BoxPosterior | None
    simulations: list
    simulated: int
    seconds: dict = field(default_factory=dict)
    check: PosteriorCheck | None = None
    abc: AbcPosterior | None = None
    method: str = "npe"
    validation_losses: list = field(default_factory=list)

    def marginals(self, levels=(0.05, 0.5, 0.95)) -> np.ndarray:
        """Quantiles [len(levels), k] of each parameter's posterior marginal (default 5%, median, 95%)."""
        return np.quantile(self.samples, levels, axis=0)

    @property
    def simulations_per_second(self) -> float:
        seconds = self.seconds.get("simulation", 0.0)
        return self.simulated / seconds if seconds > 0 else math.nan


class _Summaries:
    """S: measurements (positions [n, F, W, H, 3], pixels [n, F, P, 2]) -> standardised summaries [n, d] (float32
    tensors), set up on the first round."""

    def __init__(self, options: PosteriorOptions, dim: int, measurement,
                 projection: SensitivityProjection | None = None):
        self.options = options
        self.dim = dim
        self.measurement = measurement
        self.projection = projection
        self.statistic = None
        self.scale = None

    def _fixed(self, x: np.ndarray) -> np.ndarray:
        return self.measurement.handmade(x) if self.projection is None else self.projection(x)

    def fit(self, theta: np.ndarray, x: np.ndarray) -> None:
        options = self.options
        if options.statistic not in LEARNED:
            values = self._fixed(x)
            self.scale = (values.mean(axis=0), values.std(axis=0) + 1e-300)
            return
        from learning.summaries import InfoMaxStatistic, MeanStatistic

        torch.manual_seed(options.seed)
        if options.statistic == "infomax":
            self.statistic = InfoMaxStatistic(summary_dim=options.summary_dim or 2 * self.dim)
        else:
            self.statistic = MeanStatistic(summary_dim=self.dim)
        self.statistic.fit(torch.as_tensor(theta), torch.as_tensor(self.measurement.features(x)), epochs=500,
                           patience=50,
                           generator=torch.Generator().manual_seed(options.seed))

    def __call__(self, x: np.ndarray) -> torch.Tensor:
        if self.statistic is None:
            mean, scale = self.scale
            return torch.as_tensor((self._fixed(x) - mean) / scale, dtype=torch.float32)
        return self.statistic.encode(torch.as_tensor(self.measurement.features(x))).to(torch.float32)


def _through_last_observed_step(scene, last_step: int):
    """The scene cut after the engine step ``last_step`` of its last observed instant (observations of the first
    frames of a long scene, e.g. ``--frames``, need no more): ``simulation.steps`` of dt reaching it."""
    import scenes

    sim = scene.simulation
    steps = -(-int(last_step) // sim.substeps)
    return scenes.with_parameters(scene, {"simulation.steps": steps}) if 0 < steps < sim.steps else scene


def infer_posterior(scene, observed, observed_steps=None, *, names, low, high, noise: float,
                    options: PosteriorOptions | None = None, cache: str | Path | None = None,
                    progress: Callable[[str, int, int], None] | None = None) -> ScenePosterior:
    """The posterior of the scene parameters ``names`` (uniform prior on the box [low, high]) given ``observed``:
    node positions [F, W, H, 3] [m] at the engine steps ``observed_steps`` [F] (frames the scene saves), or
    ``learning.cloth.PointTracks`` (pixels of material points tracked through a camera; no steps: the tracks carry
    their frames' times), or a list of them (several cameras, every simulation measured through each).

    Args:
        noise: the standard deviation of the observations' Gaussian noise, [m] for positions, [px] for tracks (> 0:
            the simulator's likelihood; a noiseless simulator has a point posterior that no density estimator
            represents).
        options: budget, method (NPE, NLE or SMC-ABC), statistic, rounds, check, ... (``PosteriorOptions``).
        cache: a folder for the simulations (``round_1``, ``round_2``, ..., ``check``, the score statistic's
            ``score``, SMC-ABC's ``abc_STATISTIC_N_PP_CCC``: N particles, population PP, batch CCC): a stopped run
            resumes.
        progress: called as ``progress(phase, done, total)`` while simulating.

    Raises:
        ValueError: a bad prior (naming the parameter), options, noise, or observed frames; ``BudgetError`` for a
            budget too small to train on.
    """
    options = options or PosteriorOptions()
    options.validate()
    names = tuple(names)
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    check_prior(scene, names, low.tolist(), high.tolist())
    measurement = measurement_of(observed, observed_steps, noise=noise)
    scene = _through_last_observed_step(scene, measurement.last_step_of(scene.simulation.solver_dt))
    folder = None if cache is None else Path(cache)
    per_round = options.first_round
    seconds = {"simulation": 0.0, "statistic": 0.0, "density": 0.0, "check": 0.0}
    simulated, counts = 0, []

    def simulate(label, function, **arguments):
        nonlocal simulated
        report = None if progress is None else (lambda done, total: progress(label, done, total))
        result = function(scene, names=names, chunk=options.chunk, cache=None if folder is None else folder / label,
                          progress=report, **arguments)
        seconds["simulation"] += result.seconds
        simulated += result.simulated
        return result

    box = {"low": low.tolist(), "high": high.tolist(), "seed": options.seed}
    first = simulate("round_1", simulate_prior, low=low, high=high, count=per_round, seed=options.seed)
    measurement.prepare(first.t, scene.simulation.solver_dt)

    def measured(result, round_index):
        return measurement(result.x, result.t, seed=options.seed + 7919 * round_index)

    x1 = measured(first, 1)
    projection = None
    if options.statistic == "score":
        step = SCORE_STEP * (high - low)
        centre = 0.5 * (low + high)
        sensitivity = simulate("score", simulate_draws, theta=SensitivityProjection.stencil(centre, step),
                               manifest={**box, "step": SCORE_STEP})
        noiseless = measurement(sensitivity.x, sensitivity.t, seed=None)
        projection = SensitivityProjection.from_differences(noiseless, step)
    began = time.perf_counter()
    summaries = _Summaries(options, len(names), measurement, projection)
    rows = np.arange(per_round)
    if options.statistic in LEARNED:
        order = np.random.default_rng(options.seed).permutation(per_round)
        cut = int(round(options.statistic_share * per_round))
        summaries.fit(first.theta[order[:cut]], x1[order[:cut]])
        rows = order[cut:]
    else:
        summaries.fit(first.theta, x1)
    s_observed = summaries(measurement.observed)[0]
    seconds["statistic"] = time.perf_counter() - began
    if options.method == "smc-abc":
        began, simulation_seconds_before = time.perf_counter(), seconds["simulation"]

        def simulate_summaries(theta, population, call):
            label = f"abc_{options.statistic}_{options.population}_{population:02d}_{call:03d}"
            result = simulate(label, simulate_draws, theta=theta,
                              manifest={**box, "population": population, "call": call})
            if not np.allclose(result.theta, theta, rtol=1e-12, atol=0.0):
                raise ValueError(f"{folder / label}: holds other SMC-ABC candidates than this run draws (a cache "
                                 "of another version or setup): use another cache folder")
            return summaries(measured(result, 1000 * population + call + 2)).numpy()

        abc = smc_abc(first.theta[rows], summaries(x1[rows]).numpy(), s_observed.numpy(), low=low, high=high,
                      simulate=simulate_summaries, budget=options.budget - per_round, particles=options.population,
                      quantile=options.abc_quantile, batch=max(options.population, options.chunk), seed=options.seed)
        seconds["abc"] = time.perf_counter() - began - (seconds["simulation"] - simulation_seconds_before)
        counts.extend([per_round, *abc.simulations])
        samples = abc.sample(options.samples, seed=options.seed)
        return ScenePosterior(names=names, low=low, high=high, samples=samples,
                              observed_summaries=s_observed.numpy(), posterior=None, simulations=counts,
                              simulated=simulated, seconds=seconds, abc=abc, method=options.method)
    began = time.perf_counter()
    estimator = ESTIMATORS[options.method](low=low, high=high, density_estimator=options.density_estimator,
                                           seed=options.seed, restarts=options.restarts)
    posterior = estimator.train(first.theta[rows], summaries(x1[rows]))
    amortised = posterior
    seconds["density"] = time.perf_counter() - began
    counts.append(per_round)
    for index in range(2, options.rounds + 1):
        estimator.propose(posterior, s_observed)
        torch.manual_seed(options.seed + index)
        draws = posterior.sample((per_round,), x=s_observed).numpy().astype(np.float64)
        result = simulate(f"round_{index}", simulate_draws, theta=draws, manifest={**box, "round": index})
        began = time.perf_counter()
        posterior = estimator.train(result.theta, summaries(measured(result, index)))
        seconds["density"] += time.perf_counter() - began
        counts.append(per_round)
    torch.manual_seed(options.seed)
    samples = posterior.sample((options.samples,), x=s_observed).numpy().astype(np.float64)
    check = None
    if options.check:
        draws = prior_draws(low, high, options.check, seed=options.seed + 104729)
        held = simulate("check", simulate_draws, theta=draws, manifest={**box, "check": options.check})
        began = time.perf_counter()
        check = calibration_check(amortised, held.theta, summaries(measured(held, 0)),
                                  samples=CHECK_DRAWS[options.method])
        seconds["check"] = time.perf_counter() - began
    return ScenePosterior(names=names, low=low, high=high, samples=samples,
                          observed_summaries=s_observed.numpy(), posterior=posterior, simulations=counts,
                          simulated=simulated, seconds=seconds, check=check, method=options.method,
                          validation_losses=estimator.validation_losses)


class _Drawn:
    """A posterior whose draws are already made ([m, n, k] for the n summaries asked next): lets ``sbi.diagnostics``
    read the draws the coverage was computed from instead of drawing again."""

    def __init__(self, draws: torch.Tensor):
        self.draws = draws

    def sample_batched(self, sample_shape, x, **_) -> torch.Tensor:
        if tuple(sample_shape) + tuple(x.shape[:1]) != tuple(self.draws.shape[:2]):
            raise ValueError(f"draws {tuple(self.draws.shape)} are not {tuple(sample_shape)} per row of x")
        return self.draws


def calibration_check(posterior: BoxPosterior, theta: np.ndarray, summaries: torch.Tensor, *,
                      samples: int = 1000) -> PosteriorCheck:
    """Interval coverage (50% and 90%), simulation-based calibration and TARP of ``posterior`` on held-out pairs
    (theta [n, k] from the prior, their summaries [n, d]), all from the same ``samples`` draws per pair."""
    import warnings

    from sbi.diagnostics import check_sbc, check_tarp, run_tarp

    theta = torch.as_tensor(theta, dtype=torch.float32)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sbi says it draws in batches of 1000
        draws = posterior.sample_batched((samples,), x=summaries)  # [m, n, k]
    coverage = coverage_of(draws, theta, levels=(0.5, 0.9))
    box = posterior.high - posterior.low
    bounds = torch.quantile(draws.to(torch.float64), torch.tensor([0.05, 0.95], dtype=torch.float64), dim=0)
    width = ((bounds[1] - bounds[0]) / box).mean(dim=0)
    log_density = torch.stack([posterior.log_prob(t, x=s)[0] for t, s in zip(theta, summaries, strict=True)])
    log_density = log_density + torch.log(box).sum()  # the density of theta in units of the box
    ranks = (draws < theta[None]).sum(dim=0).to(torch.float32)  # [n, k]: the truth's rank among the draws
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sbi warns of fewer than 100 held-out simulations: the report says how many
        sbc = check_sbc(ranks, theta, draws[0], num_posterior_samples=samples)
        ecp, alpha = run_tarp(theta, summaries, _Drawn(draws), num_posterior_samples=samples, show_progress_bar=False)
        atc, ks = check_tarp(ecp, alpha)
    return PosteriorCheck(simulations=int(theta.shape[0]),
                          coverage={level: value.tolist() for level, value in coverage.items()},
                          sbc_ks_pvalues=[float(v) for v in sbc["ks_pvals"]], tarp_atc=float(atc),
                          tarp_ks_pvalue=float(ks), width_90=width.tolist(), log_density=float(log_density.mean()))
