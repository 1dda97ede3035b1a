"""Entry point of the ``warpweave`` command: one sub-command per job, user errors as one line, status 2."""

import argparse
import os
import sys

import scenes
import simulator

from . import _export, _fit, _gradcheck, _info, _render, _simulate
from ._args import UsageError

__all__ = ["build_parser", "main"]

#: Errors caused by the input (scene, trajectory, flags): one line on stderr and exit status 2.
USER_ERRORS = (scenes.SceneError, scenes.TrajectoryError, scenes.RenderError, scenes.ExportError, UsageError)
_COMMANDS = (_simulate, _fit, _gradcheck, _render, _export, _info)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become a UsageError (reported as one line by ``main``)."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = _Parser(
        prog="warpweave",
        description="Yarn-level woven-cloth simulation: simulate scene files, "
        "render and export trajectories.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit status.

    0: done; 1: the simulation failed (NaN/Inf); 2: user error (scene, trajectory, flags); 130: interrupted.
    """
    try:
        args = build_parser().parse_args(argv)
        return args.run(args) or 0
    except USER_ERRORS as exc:
        return _fail(str(exc), 2)
    except simulator.SimulationError as exc:
        return _fail(f"simulation failed: {exc}", 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:  # e.g. `warpweave info scene.toml | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _fail(message: str, status: int) -> int:
    print(f"warpweave: error: {' '.join(message.split())}", file=sys.stderr)
    return status
