"""``warpweave posterior SCENE --observed OBS.npz --params P1,... --prior P1=LO:HI ... --noise SIGMA``: the posterior
of scene parameters given observed motion, by simulation-based inference (``learning.posterior.infer_posterior``).

Writes DIR/posterior.npz (posterior draws), DIR/posterior.json (marginals, the Gauss-Newton intervals, the check,
timings) and DIR/corner.png; the simulations are cached in DIR/simulations (or --cache), so a stopped run resumes.
Launched with ``torchrun --nproc-per-node P -m warpweave posterior ...`` the processes share out the simulations
(through the cache folder) and the first one reports and writes.
"""

import json
from pathlib import Path

from ._args import UsageError, positive_float, positive_int, trajectory_path
from ._choices import POSTERIOR_METHODS, POSTERIOR_RESTARTS, STATISTICS
from ._fit import _frame_count
from ._fitting import _bounds, _names, device_of

__all__ = ["add_parser", "run"]

FORMAT = "warpweave-posterior/1"
OUTPUT_FILES = ("posterior.npz", "posterior.json", "corner.png")


def add_parser(commands):
    parser = commands.add_parser(
        "posterior",
        help="the posterior of scene parameters given an observed trajectory (simulation-based inference)",
        description="Infer which values of scene parameters are compatible with observed motion: simulate the scene "
        "for draws of a uniform prior (batched worlds, cached), summarise, train a neural posterior (the sbi "
        "package), and write DIR/posterior.npz (draws), DIR/posterior.json (medians, 90%% intervals, the "
        "Gauss-Newton intervals of 'warpweave fit' for comparison) and DIR/corner.png. docs/POSTERIOR.md explains.",
    )
    parser.add_argument("scene", metavar="SCENE", help="scene file (.toml); it must save the observed frames")
    observed = parser.add_mutually_exclusive_group(required=True)
    observed.add_argument("--observed", type=trajectory_path, metavar="OBS",
                          help="observed trajectory (.npz, e.g. written by warpweave simulate)")
    observed.add_argument("--video", action="append", metavar="CLIP",
                          help="footage of the cloth, followed by the --camera that filmed it (tracked, as "
                          "'warpweave fit --video' tracks it; --noise is then in pixels; repeatable: several cameras)")
    parser.add_argument("--camera", action="append", metavar="NAME",
                        help="the scene's camera that filmed the --video before it")
    parser.add_argument("--frame-times", action="append", default=[], metavar="[CLIP=]TIMES",
                        help="a clip's frame times, one per line [s] (when frames were dropped); CLIP= names the "
                        "clip when there are several (repeatable)")
    parser.add_argument("--params", required=True, type=_names, metavar="P1,P2,...",
                        help="dotted names of scalar parameters (warpweave params SCENE lists them)")
    parser.add_argument("--prior", action="append", type=_bounds, default=[], metavar="NAME=LO:HI",
                        help="uniform prior of NAME on [LO, HI], which must hold the scene's value (one per "
                        "parameter)")
    parser.add_argument("--noise", required=True, type=positive_float, metavar="SIGMA",
                        help="standard deviation of the observed positions' Gaussian noise [m], or of the tracked "
                        "pixels' with --video [px] (the simulations are measured with the same noise)")
    parser.add_argument("--budget", type=positive_int, default=2000, metavar="N",
                        help="simulations in all rounds (default 2000)")
    parser.add_argument("--method", choices=POSTERIOR_METHODS, default="npe",
                        help="npe (neural posterior estimation, default), nle (neural likelihood estimation, the "
                        "posterior drawn by MCMC) or smc-abc (sequential Monte Carlo ABC with the statistic's "
                        "distance: half the budget is the first round, half moves the population)")
    parser.add_argument("--restarts", type=positive_int, default=POSTERIOR_RESTARTS, metavar="N",
                        help="trainings of the density estimator from different initial weights, the smallest "
                        "validation loss kept (default %(default)s: one training can stop in a poor optimum)")
    parser.add_argument("--particles", type=positive_int, metavar="N",
                        help="SMC-ABC's population (default a tenth of the first round)")
    parser.add_argument("--rounds", type=positive_int, default=1, metavar="R",
                        help="rounds of sequential estimation (default 1: amortised; later rounds are drawn from "
                        "the posterior given the observation)")
    parser.add_argument("--statistic", choices=STATISTICS, default="score",
                        help="summaries: score (the positions projected on their sensitivities to the parameters at "
                        "the prior's centre; default), handmade (centroid motion, spread, low frequencies), infomax "
                        "(learned, maximal mutual information) or mean (learned posterior-mean regression)")
    parser.add_argument("--check", type=positive_int, nargs="?", const=200, default=0, metavar="N",
                        help="check calibration on N held-out prior simulations (default N 200): interval "
                        "coverage, simulation-based calibration and TARP")
    parser.add_argument("--frames", type=_frame_count, metavar="K", help="use the first K >= 2 observed frames")
    parser.add_argument("--samples", type=positive_int, default=10000, metavar="M",
                        help="posterior draws written (default 10000)")
    parser.add_argument("--no-gauss-newton", dest="gauss_newton", action="store_false",
                        help="skip the Gauss-Newton fit whose intervals are reported for comparison")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: out/posterior-<scene name>)")
    parser.add_argument("--cache", metavar="DIR", help="simulation cache (default: DIR/simulations)")
    parser.add_argument("--seed", type=int, default=0, help="seed of draws, noise and training (default 0)")
    parser.add_argument("--device", metavar="D", help='"auto", "cpu", "cuda" or "cuda:N" (default: the scene\'s)')
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no result table")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    import numpy as np

    import scenes
    from learning import cloth, posterior

    from ._args import check_output_folder
    from ._fit import join_process_group

    leader = join_process_group()
    quiet = args.quiet or not leader
    scene = scenes.load_scene(args.scene, check_device=args.device is None)
    scene = scenes.with_parameters(scene, {"simulation.device": device_of(args.device, scene)})
    out_dir = Path(args.out) if args.out else Path("out") / f"posterior-{Path(args.scene).stem}"
    check_output_folder(out_dir)
    names, low, high = _prior_box(args.params, args.prior)
    trajectory, observed, steps, observations = _observations(args, scene, quiet=quiet)
    options = posterior.PosteriorOptions(budget=args.budget, method=args.method, rounds=args.rounds,
                                         statistic=args.statistic, samples=args.samples, check=args.check,
                                         particles=args.particles, restarts=args.restarts, seed=args.seed)
    scenes.init_warp_quietly()
    bar = None if quiet else _SimulationProgress()
    try:
        try:
            result = posterior.infer_posterior(
                scene, observed, steps, names=names, low=low, high=high,
                noise=args.noise, options=options, cache=Path(args.cache) if args.cache else out_dir / "simulations",
                progress=bar)
        finally:
            if bar is not None:
                bar.close()
    except ValueError as exc:  # a bad prior, budget or frames, or a cache of another setup
        raise UsageError(str(exc)) from None
    if not leader:
        return 0
    reference = None if trajectory is None else cloth.reference_values(trajectory, names)
    gauss_newton = None
    if args.gauss_newton:
        gauss_newton = posterior.gauss_newton_intervals(scene, observations, names, low=low, high=high,
                                                        noise=args.noise)
    given = args.observed or ", ".join(args.video)
    report = posterior_report(result, gauss_newton=gauss_newton, reference=reference, scene_path=str(args.scene),
                              observed_path=str(given), noise=args.noise)
    out_dir.mkdir(parents=True, exist_ok=True)
    with scenes.atomic_path(out_dir / "posterior.npz") as tmp, open(tmp, "wb") as handle:
        np.savez(handle, samples=result.samples, names=np.array(names), low=low, high=high,
                 observed_summaries=result.observed_summaries)
    with scenes.atomic_path(out_dir / "posterior.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1) + "\n")
    truth = None if reference is None else np.array([reference[n] for n in names])
    posterior.plot_corner(out_dir / "corner.png", result.samples, list(names), low=low, high=high, truth=truth,
                          gauss_newton=None if gauss_newton is None else gauss_newton.intervals,
                          title=f"posterior of {Path(args.scene).name} given "
                          f"{', '.join(Path(p).name for p in ([args.observed] if args.observed else args.video))}")
    if not args.quiet:
        print_report(report)
        print(f"wrote {out_dir}/{', '.join(OUTPUT_FILES)}")
    return 0


def posterior_report(result, *, gauss_newton, reference, scene_path: str, observed_path: str, noise: float) -> dict:
    """The JSON report of ``warpweave posterior``: per parameter the prior box, the posterior's median and 90%
    interval, the Gauss-Newton 90% interval and the truth (when known); the check; simulations and timings."""
    quantiles = result.marginals()
    parameters = {}
    for k, name in enumerate(result.names):
        entry = {"prior": [float(result.low[k]), float(result.high[k])], "median": float(quantiles[1, k]),
                 "interval_90": [float(quantiles[0, k]), float(quantiles[2, k])],
                 "width_90_of_prior": float((quantiles[2, k] - quantiles[0, k]) / (result.high[k] - result.low[k]))}
        if gauss_newton is not None:
            entry["gauss_newton"] = {"value": float(gauss_newton.values[k]), "std": float(gauss_newton.std[k]),
                                     "interval_90": [float(v) for v in gauss_newton.intervals[k]]}
        if reference is not None:
            entry["truth"] = reference[name]
            entry["truth_in_interval_90"] = bool(quantiles[0, k] <= reference[name] <= quantiles[2, k])
        parameters[name] = entry
    check, abc = result.check, result.abc
    return {
        "format": FORMAT, "scene": scene_path, "observed": observed_path, "noise": noise,
        "method": result.method, "parameters": parameters,
        "smc_abc": None if abc is None else {
            "particles": len(abc.weights), "tolerances": abc.epsilons,
            "effective_sample_size": abc.effective_sample_size},
        "simulations": {"rounds": result.simulations, "simulated_now": result.simulated,
                        "per_second": result.simulations_per_second},
        "seconds": result.seconds,
        "validation_losses": result.validation_losses,
        "check": None if check is None else {
            "simulations": check.simulations,
            "coverage": {f"{level:g}": dict(zip(result.names, values, strict=True))
                         for level, values in check.coverage.items()},
            "sbc_ks_pvalues": dict(zip(result.names, check.sbc_ks_pvalues, strict=True)),
            "tarp_atc": check.tarp_atc, "tarp_ks_pvalue": check.tarp_ks_pvalue,
            "width_90_of_prior": dict(zip(result.names, check.width_90, strict=True)),
            "log_density_of_truth": check.log_density},
    }


def print_report(report: dict) -> None:
    """The marginal table (median and 90% interval; the Gauss-Newton interval and the truth when known) and the
    check's coverage."""
    parameters = report["parameters"]
    width = max(len(name) for name in parameters)
    header = f"{'parameter':<{width}}  {'median':>11}  {'90% interval':>25}"
    if any("gauss_newton" in entry for entry in parameters.values()):
        header += f"  {'Gauss-Newton 90%':>25}"
    if any("truth" in entry for entry in parameters.values()):
        header += f"  {'truth':>11}"
    print(header)
    for name, entry in parameters.items():
        low, high = entry["interval_90"]
        line = f"{name:<{width}}  {entry['median']:11.4g}  [{low:11.4g}, {high:11.4g}]"
        if "gauss_newton" in entry:
            gn_low, gn_high = entry["gauss_newton"]["interval_90"]
            line += f"  [{gn_low:11.4g}, {gn_high:11.4g}]"
        if "truth" in entry:
            line += f"  {entry['truth']:11.4g}" + ("" if entry["truth_in_interval_90"] else " (outside)")
        print(line)
    check = report["check"]
    if check is not None:
        print(f"calibration on {check['simulations']} held-out simulations (coverage of the central intervals; "
              "a calibrated posterior covers each level's share):")
        for level, shares in check["coverage"].items():
            print(f"  {float(level):.0%}: " + ", ".join(f"{name} {share:.0%}" for name, share in shares.items()))
        print("  SBC rank uniformity p-values: " + ", ".join(f"{name} {p:.2g}" for name, p in
                                                          check["sbc_ks_pvalues"].items()))
        print(f"  TARP: area to curve {check['tarp_atc']:.3f}, KS p-value {check['tarp_ks_pvalue']:.2g}")
    simulations = report["simulations"]
    seconds = report["seconds"]
    abc = report["smc_abc"]
    if abc is not None:
        print(f"SMC-ABC: {len(abc['tolerances'])} populations of {abc['particles']} particles, tolerance "
              f"{abc['tolerances'][0]:.3g} -> {abc['tolerances'][-1]:.3g} (summary units), effective sample size "
              f"{abc['effective_sample_size']:.0f}")
    fitted = (f"density estimator {seconds['density']:.1f} s" if abc is None else
              f"SMC-ABC besides simulating {seconds['abc']:.1f} s")
    print(f"{sum(simulations['rounds'])} simulations in {len(simulations['rounds'])} "
          f"{'round(s)' if abc is None else 'phases (first round, populations)'} "
          f"({simulations['simulated_now']} simulated now, {simulations['per_second']:.1f}/s); statistic "
          f"{seconds['statistic']:.1f} s, {fitted}")


class _SimulationProgress:
    """A progress bar per simulation phase (round_1, round_2, ..., check)."""

    def __init__(self):
        self.phase, self.bar = None, None

    def __call__(self, phase: str, done: int, total: int) -> None:
        from ._progress import ProgressBar

        if phase != self.phase:
            self.close()
            self.phase, self.bar = phase, ProgressBar(label=f"simulating {phase.replace('_', ' ')}", unit="sim")
        self.bar(done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _observations(args, scene, *, quiet: bool):
    """(trajectory or None, what was observed, its engine steps or None, what the Gauss-Newton fit fits): an observed
    trajectory's positions at its frames, or the tracks of ``--video`` through ``--camera``."""
    import scenes

    from ._fit_footage import clip_frame_times, read_frame_times, track_clip
    from ._fitting import observations_of

    if args.video is None:
        unused = [flag for flag, value in (("--camera", args.camera), ("--frame-times", args.frame_times)) if value]
        if unused:
            raise UsageError(f"{' and '.join(unused)} go with --video: expected --video CLIP --camera NAME")
        trajectory = scenes.load_trajectory(args.observed)
        observations = observations_of(trajectory, scene, frames=args.frames, sliding=False)
        return trajectory, observations.positions, observations.steps, observations
    if args.camera is None:
        raise UsageError("--video needs --camera NAME: the scene's camera that filmed it")
    if len(args.camera) != len(args.video):
        raise UsageError(f"{len(args.video)} --video but {len(args.camera)} --camera: expected one --camera NAME "
                         "after each --video CLIP (the scene's camera that filmed it)")
    if args.frames is not None:
        raise UsageError("--frames selects observed trajectory frames: expected none with --video")
    if len(args.video) == 1 and len(args.frame_times) == 1 and "=" not in args.frame_times[0]:
        times = {args.video[0]: read_frame_times(args.frame_times[0])}
    else:
        times = clip_frame_times(args.frame_times, args.video)
    tracks = [track_clip(video, camera, scene, scene_path=args.scene, times=times.get(video), quiet=quiet)
              for video, camera in zip(args.video, args.camera, strict=True)]
    return None, tracks if len(tracks) > 1 else tracks[0], None, tracks


def _prior_box(params, priors):
    """(names, low [k], high [k]): the parameters and their boxes (one prior per parameter, none of another name)."""
    import numpy as np

    if len(set(params)) != len(params):
        raise UsageError(f"--params {','.join(params)} names a parameter twice")
    given = dict(priors)
    if len(given) != len(priors):
        raise UsageError("a parameter has two --prior options: give one per parameter")
    unknown = [name for name in given if name not in params]
    if unknown:
        raise UsageError(f"--prior {unknown[0]}=...: {unknown[0]} is not among --params {','.join(params)}")
    missing = [name for name in params if name not in given]
    if missing:
        raise UsageError(f"--params {missing[0]} has no prior: give --prior {missing[0]}=LO:HI")
    low = np.array([given[name][0] for name in params], dtype=float)
    high = np.array([given[name][1] for name in params], dtype=float)
    return tuple(params), low, high
