"""``warpweave fit SCENE --observed OBS.npz --params P1,P2,...``: fit scene parameters to observed motion.

Writes DIR/fit.json, DIR/loss.png, DIR/comparison.png and DIR/fitted.toml (atomically); Ctrl-C
stops the fit and writes the best result so far (exit status 130).
"""

import argparse
import sys
from pathlib import Path

from ._args import UsageError, check_output_folder, positive_float, positive_int
from ._choices import ESTIMATORS, OPTIMIZERS
from ._progress import ProgressBar

__all__ = ["add_parser", "run"]


def add_parser(commands):
    parser = commands.add_parser(
        "fit",
        help="fit scene parameters to an observed trajectory",
        description="Fit yarn and crossing parameters of a scene to observed motion (a trajectory.npz); write "
        "DIR/fit.json (values, loss history, uncertainty), DIR/loss.png, DIR/comparison.png, DIR/fitted.toml.",
    )
    parser.add_argument("scene", metavar="SCENE", help="scene file (.toml); its values are the starting point")
    parser.add_argument("--observed", required=True, type=_trajectory_path, metavar="OBS",
                        help="observed trajectory (.npz, e.g. written by warpweave simulate)")
    parser.add_argument("--params", required=True, type=_names, metavar="P1,P2,...",
                        help="dotted names of the parameters to fit, e.g. materials.cotton.young_modulus")
    parser.add_argument("--frames", type=_frame_count, metavar="K",
                        help="use the first K >= 2 frames (default all; the first is the initial state)")
    parser.add_argument("--estimator", choices=ESTIMATORS, default="reverse",
                        help="gradient estimator (default reverse)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS,
                        help="optimizer (default: lbfgs for exact gradients: reverse, and forward, zeroth and "
                        "two-phase over all directions; sgd for random directions and truncated; gauss-newton "
                        "takes its steps from residual Jacobians, not from the estimator)")
    parser.add_argument("--iters", type=positive_int, default=50, metavar="N",
                        help="the most iterations (default 50); the fit stops earlier once converged")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: out/fit-<scene name>)")
    parser.add_argument("--initial", action="append", type=_assignment, default=[], metavar="NAME=VALUE",
                        help="start NAME at VALUE instead of the scene's value (repeatable)")
    parser.add_argument("--bounds", action="append", type=_bounds, default=[], metavar="NAME=LO:HI",
                        help="bounds of NAME (default: value/100 to 100*value; repeatable)")
    parser.add_argument("--nodes", type=_fraction, metavar="FRACTION",
                        help="observe only this fraction of the crossings, drawn at random (default all nodes)")
    parser.add_argument("--noise", type=_noise, default=0.0, metavar="SIGMA",
                        help="add Gaussian noise of SIGMA metres to the observed positions (default 0)")
    parser.add_argument("--no-sliding", dest="sliding", action="store_false",
                        help="compare positions only, not the observed sliding coordinates")
    parser.add_argument("--directions", type=_direction_count, metavar="B",
                        help="directions per forward/zeroth-order estimate: 'all' (every parameter: an exact "
                        "gradient from 2N+1 simulations) or a number of random ones (default: all for up to 16 "
                        "parameters, else 4)")
    parser.add_argument("--window", type=positive_int, default=10, metavar="S",
                        help="steps through which --estimator truncated back-propagates each frame's loss "
                        "(default 10)")
    parser.add_argument("--lr", type=positive_float, metavar="LR", help="learning rate (default per optimizer)")
    parser.add_argument("--rewhiten", type=_count, metavar="K",
                        help="refresh the Gauss-Newton coordinates every K iterations (0: once; default 1 for "
                        "forward, zeroth and two-phase over all directions, else 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of node choice, noise and directions (default 0)")
    parser.add_argument("--device", metavar="D", help='"auto", "cpu", "cuda" or "cuda:N" (default: the scene\'s)')
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no result table")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    import scenes
    from learning import cloth
    from learning.fit import FitError

    scene = scenes.load_scene(args.scene, check_device=args.device is None)
    device = _device(args.device, scene)
    out_dir = Path(args.out) if args.out else Path("out") / f"fit-{Path(args.scene).stem}"
    check_output_folder(out_dir)
    trajectory = scenes.load_trajectory(args.observed)
    try:
        nodes = None if args.nodes is None else cloth.random_crossings(scene.cloth.nodes, args.nodes, seed=args.seed)
        observations = cloth.observations_from_trajectory(
            trajectory, scene, frames=args.frames, nodes=nodes, noise=args.noise, sliding=args.sliding,
            seed=args.seed)
        names = [cloth.canonical_name(n) for n in args.params]
        bar = None if args.quiet else _FitProgress(args.iters)
        try:
            fit = cloth.fit_scene(
                scene, observations,
                cloth.scene_parameter_space(scene, names, bounds=dict(args.bounds), initial=dict(args.initial)),
                estimation=cloth.Estimation(args.estimator, directions=args.directions, window=args.window),
                optimization=cloth.Optimization(args.optimizer, iterations=args.iters, lr=args.lr,
                                                rewhiten=args.rewhiten, seed=args.seed),
                objective=cloth.ObjectiveOptions(device=device), callback=bar)
        finally:
            if bar is not None:
                bar.close()
    except FitError as exc:
        raise UsageError(str(exc)) from None
    reference = cloth.reference_values(trajectory, fit.result.names)
    cloth.write_fit(out_dir, fit, scene_path=str(args.scene), observed_path=str(args.observed), reference=reference)
    minimization = fit.result.minimization
    if not args.quiet:
        _print_table(fit, reference)
        print(f"stopped after {minimization.iterations} iterations: {minimization.reason}")
        print(f"wrote {out_dir}/fit.json, loss.png, comparison.png and fitted.toml: {minimization.iterations} "
              f"iterations, loss {minimization.initial_loss:.3e} -> {minimization.loss:.3e}, "
              f"{sum(fit.result.seconds.values()):.1f} s")
    solves = fit.objective.solves
    for part, what in (("forward", "simulations"), ("adjoint", "gradients (adjoint solves)")):
        tally = solves[part]
        if tally.unconverged:
            print(f"warpweave: warning: the fit's {what} had {tally.unconverged} linear solve(s) that did not "
                  f"converge (worst relative residual {tally.worst_residual:.3g}); the result may be off",
                  file=sys.stderr)
    if minimization.interrupted:
        print(f"warpweave: interrupted: wrote the best result so far to {out_dir}", file=sys.stderr)
        return 130
    return 0


class _FitProgress(ProgressBar):
    """The progress bar of a fit: iterations done, the current and the best loss."""

    def __init__(self, iterations: int):
        super().__init__(label="fit", unit="it")
        self.iterations = iterations

    def __call__(self, item) -> None:
        self.describe(f"loss {item.loss:.3e} (best {item.best:.3e})")
        super().__call__(min(item.iteration, self.iterations), self.iterations)


def _print_table(fit, reference) -> None:
    result = fit.result
    spread = result.uncertainty.relative_std if result.uncertainty is not None else [None] * len(result.names)
    width = max(len(n) for n in result.names)
    header = f"{'parameter':<{width}}  {'initial':>12}  {'fitted':>12}  {'rel. std':>9}"
    print(header + ("  rel. error" if reference else ""))
    for k, name in enumerate(result.names):
        std = "-" if spread[k] is None else f"{spread[k]:9.2e}"
        line = f"{name:<{width}}  {result.initial[k]:12.6g}  {result.values[k]:12.6g}  {std:>9}"
        if reference:
            line += f"  {result.values[k] / reference[name] - 1.0:+10.2e}" if reference[name] else ""
        print(line)
    undetermined = result.uncertainty.undetermined(result.names) if result.uncertainty is not None else []
    if undetermined:
        print(f"undetermined: {', '.join(undetermined)} (standard deviation above the value): the observed motion "
              "does not depend on it measurably, so its fitted value means nothing")


def _device(name, scene) -> str:
    import scenes

    if name is None:
        try:
            return scenes.resolve_device(scene.simulation.device)
        except ValueError as exc:
            raise UsageError(f"{scene.source}: simulation.device: {exc}") from None
    try:
        return scenes.resolve_device(name)
    except ValueError as exc:
        raise UsageError(f"argument --device: {name!r}: {exc}") from None


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated parameter names")
    return names


def _assignment(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        sep = ""
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE, e.g. weave.friction=0.4")
    return name.strip(), number


def _bounds(text: str) -> tuple[str, tuple[float, float]]:
    name, sep, value = text.partition("=")
    low, colon, high = value.partition(":")
    try:
        pair = (float(low), float(high))
    except ValueError:
        colon = ""
    if not sep or not colon or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=LO:HI, e.g. weave.friction=0.1:2")
    return name.strip(), pair


def _trajectory_path(text: str) -> str:
    """A path that does not name a scene file (a common slip: the scene given twice)."""
    if text.lower().endswith(".toml"):
        raise argparse.ArgumentTypeError(f"{text!r} is a scene file: expected an observed trajectory (.npz), "
                                          "such as the one 'warpweave simulate SCENE' writes")
    return text


def _frame_count(text: str) -> int:
    """An integer >= 2: the initial state and at least one frame of motion."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 2:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer >= 2 (the first frame is the initial "
                                          "state; the fit needs motion after it)")
    return value


def _noise(text: str) -> float:
    """A finite number >= 0 (a standard deviation in metres)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a standard deviation >= 0 in metres")
    return value


def _direction_count(text: str) -> int | str:
    """"all" or an integer >= 1."""
    if text.strip().lower() == "all":
        return "all"
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 'all' or an integer >= 1") from None


def _count(text: str) -> int:
    """An integer >= 0."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer >= 0")
    return int(text)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a fraction in (0, 1]")
    return value
