"""Entry point of the ``warpweave`` command: one sub-command per job, user errors as one line, status 2.

Building the parser imports nothing heavy (no numpy, Warp, torch or pyvista): each command imports what
it needs when it runs, so ``warpweave --help`` and argument errors answer at once.
"""

import argparse
import os
import sys

from . import _export, _fit, _gradcheck, _info, _lab, _optimize, _params, _posterior, _render, _simulate
from ._args import UsageError

__all__ = ["build_parser", "main"]

_COMMANDS = (_simulate, _fit, _posterior, _optimize, _gradcheck, _render, _export, _info, _params, _lab)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become a UsageError (reported as one line by ``main``)."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command (each also takes ``--verbose``)."""
    parser = _Parser(
        prog="warpweave",
        description="Yarn-level woven-cloth simulation: simulate scene files, fit their parameters to observed "
        "motion, check gradients, render and export trajectories.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        sub = command.add_parser(commands)
        sub.add_argument("--verbose", action="store_true",
                         help="show Warp's start-up banner and its kernel-module load messages")
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit status.

    0: done; 1: the simulation failed (NaN/Inf, an unstable step); 2: user error (scene, trajectory,
    flags, output path, memory); 130: interrupted.
    """
    try:
        args = build_parser().parse_args(argv)
        _configure_warp_messages(verbose=args.verbose)
        return args.run(args) or 0
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:  # e.g. `warpweave info scene.toml | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        status = _exit_status(exc)
        if status is None:
            raise
        return _fail(f"simulation failed: {exc}" if status == 1 else str(exc), status)


def _configure_warp_messages(*, verbose: bool) -> None:
    """Hide Warp's informational messages for this run unless ``--verbose`` (imports no Warp)."""
    import scenes

    scenes.set_warp_messages(verbose=verbose)


def _exit_status(exc: Exception) -> int | None:
    """2 for a user error, 1 for a failed simulation, None for anything else (a bug: re-raised)."""
    if isinstance(exc, UsageError):
        return 2
    import scenes  # already imported by every command that can raise its errors
    import simulator

    user_errors = (scenes.SceneError, scenes.TrajectoryError, scenes.RenderError, scenes.ExportError)
    if isinstance(exc, user_errors):
        return 2
    if isinstance(exc, simulator.SimulationError):
        return 1
    lab = sys.modules.get("lab")  # loaded by 'warpweave lab'
    if lab is not None and isinstance(exc, lab.SettleError):
        return 1  # a specimen did not come to rest
    estimators = sys.modules.get("learning.estimators")  # loaded by the commands that fit (it imports torch)
    if estimators is not None and isinstance(exc, estimators.EvaluationFailed):
        return 1  # a fit's starting point could not be simulated
    return None


def _fail(message: str, status: int) -> int:
    print(f"warpweave: error: {' '.join(message.split())}", file=sys.stderr)
    return status
