"""What ``warpweave fit`` and ``warpweave optimize`` share: the search options, the run, the printed table."""

import argparse
import sys
from pathlib import Path

from ._args import UsageError, positive_float, positive_int
from ._choices import ESTIMATORS, OPTIMIZERS
from ._progress import ProgressBar

__all__ = ["add_search_options", "finish", "observations_of", "print_table", "report_solves", "search", "start",
           "start_scene", "summary_line"]


def add_search_options(parser, *, default_estimator: str | None = "reverse", estimator_default_text: str = "") -> None:
    """The options of a parameter search: what to vary, how to estimate gradients and step, where to run.

    ``default_estimator`` None: forward mode over all directions for up to ``ALL_DIRECTIONS_UP_TO`` parameters
    (exact gradients whose rounds start with a Gauss–Newton step), reverse mode for more; ``estimator_default_text``
    replaces the help's words for the default.
    """
    parser.add_argument("--params", required=True, type=_names, metavar="P1,P2,...",
                        help="dotted names of the parameters (warpweave params SCENE lists them; a prefix such "
                        "as pins[0].path names every component under it)")
    default = estimator_default_text or (
        f"default {default_estimator}" if default_estimator else
        "default: forward over every parameter's direction for up to 16 parameters, reverse for more")
    parser.add_argument("--estimator", choices=ESTIMATORS, default=default_estimator,
                        help=f"gradient estimator ({default})")
    parser.add_argument("--optimizer", choices=OPTIMIZERS,
                        help="optimizer (default: lbfgs for exact gradients: reverse, and forward, zeroth and "
                        "two-phase over all directions; sgd for random directions and truncated; gauss-newton "
                        "takes its steps from residual Jacobians, not from the estimator)")
    parser.add_argument("--iters", type=positive_int, default=50, metavar="N",
                        help="the most iterations (default 50); the search stops earlier once converged")
    parser.add_argument("--initial", action="append", type=_assignment, default=[], metavar="NAME=VALUE",
                        help="start NAME at VALUE instead of the scene's value (repeatable)")
    parser.add_argument("--bounds", action="append", type=_bounds, default=[], metavar="NAME=LO:HI",
                        help="bounds of NAME (default: value/100 to 100*value for positive quantities; "
                        "repeatable)")
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


def start(args, *, trajectory_file, command: str):
    """Load what a search reads and check where it writes: (scene, output folder, trajectory) (see ``start_scene``)."""
    import scenes

    scene, out_dir = start_scene(args, command=command)
    return scene, out_dir, scenes.load_trajectory(trajectory_file)


def start_scene(args, *, command: str):
    """Load the scene and check where a search writes: (scene, output folder).

    The folder is ``args.out`` or out/<command>-<scene name>; bad files and unwritable folders are UsageErrors
    or the loaders' errors (exit status 2).
    """
    import scenes

    from ._args import check_output_folder

    scene = scenes.load_scene(args.scene, check_device=args.device is None)
    out_dir = Path(args.out) if args.out else Path("out") / f"{command}-{Path(args.scene).stem}"
    check_output_folder(out_dir)
    return scene, out_dir


def observations_of(trajectory, scene, **options):
    """``learning.cloth.observations_from_trajectory`` with its FitError (frames, nodes, mismatched scene) as a
    UsageError."""
    from learning import cloth
    from learning.fit import FitError

    try:
        return cloth.observations_from_trajectory(trajectory, scene, **options)
    except FitError as exc:
        raise UsageError(str(exc)) from None


def finish(fit, out_dir: Path, *, quiet: bool, reference=None, lines=(), files: str) -> int:
    """Print the result table, why the search stopped, ``lines`` and where ``files`` went (unless quiet), warn of
    unconverged solves; the exit status (130 when interrupted: the best result so far was written)."""
    minimization = fit.result.minimization
    if not quiet:
        print_table(fit, reference)
        print(f"stopped after {minimization.iterations} iterations: {minimization.reason}")
        for line in lines:
            print(line)
        print(summary_line(fit, out_dir, files))
    report_solves(fit)
    for message in fit.result.insensitive:
        print(f"warpweave: warning: {message}", file=sys.stderr)
    if minimization.interrupted:
        print(f"warpweave: interrupted: wrote the best result so far to {out_dir}", file=sys.stderr)
        return 130
    return 0


def search(args, scene, observations, *, label: str, outliers=None):
    """Run ``learning.cloth.fit_scene`` with the search options of ``args`` (and its ``outliers`` rejection); a
    progress bar unless quiet.

    Raises:
        UsageError: bad names, bounds, starts or options (the FitError, as one line).
    """
    import scenes
    from learning import cloth
    from learning.fit import ALL_DIRECTIONS_UP_TO, FitError

    scenes.init_warp_quietly()  # Warp starts here: with the command line's message settings
    device = device_of(args.device, scene)
    bar = None if args.quiet else _FitProgress(args.iters, label=label)
    try:
        try:
            space = cloth.scene_parameter_space(scene, args.params, bounds=dict(args.bounds),
                                                initial=dict(args.initial))
            estimator = args.estimator or ("forward" if space.dim <= ALL_DIRECTIONS_UP_TO else "reverse")
            return cloth.fit_scene(
                scene, observations, space,
                estimation=cloth.Estimation(estimator, directions=args.directions, window=args.window),
                optimization=cloth.Optimization(args.optimizer, iterations=args.iters, lr=args.lr,
                                                rewhiten=args.rewhiten, seed=args.seed),
                objective=cloth.ObjectiveOptions(device=device), callback=bar, outliers=outliers)
        finally:
            if bar is not None:
                bar.close()
    except FitError as exc:
        raise UsageError(str(exc)) from None


def summary_line(fit, out_dir: Path, files: str) -> str:
    """``wrote DIR/...: N iterations, loss a -> b, t s`` after a search."""
    minimization = fit.result.minimization
    return (f"wrote {out_dir}/{files}: {minimization.iterations} iterations, loss {minimization.initial_loss:.3e} "
            f"-> {minimization.loss:.3e}, {sum(fit.result.seconds.values()):.1f} s")


def report_solves(fit) -> None:
    """Warn on stderr when the search's simulations or gradients had linear solves that did not converge."""
    solves = fit.objective.solves
    for part, what in (("forward", "simulations"), ("adjoint", "gradients (adjoint solves)")):
        tally = solves[part]
        if tally.unconverged:
            print(f"warpweave: warning: the {what} had {tally.unconverged} linear solve(s) that did not converge "
                  f"(worst relative residual {tally.worst_residual:.3g}); the result may be off", file=sys.stderr)


class _FitProgress(ProgressBar):
    """The progress bar of a search: iterations done, the current and the best loss; "refit K" once the search
    starts again (outlier rejection's rounds: the iterations count from 0 again)."""

    def __init__(self, iterations: int, *, label: str):
        super().__init__(label=label, unit="it")
        self.iterations = iterations
        self.refits = 0
        self._last = -1

    def __call__(self, item) -> None:
        if item.iteration < self._last:
            self.refits += 1
        self._last = item.iteration
        refit = f"refit {self.refits}: " if self.refits else ""
        self.describe(f"{refit}loss {item.loss:.3e} (best {item.best:.3e})")
        super().__call__(min(item.iteration, self.iterations), self.iterations)


def print_table(fit, reference) -> None:
    """The table of starting and found values (and errors against ``reference``, when known)."""
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


def device_of(name, scene) -> str:
    """The resolved device of ``--device`` (default the scene's), or a UsageError."""
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
