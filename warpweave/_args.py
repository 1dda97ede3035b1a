"""Argument types and the CLI's own user error."""

import argparse
import os
import tempfile
from pathlib import Path

__all__ = ["MAX_WORLDS", "UsageError", "check_output_file", "check_output_folder", "positive_int",
           "positive_float", "trajectory_path", "window_size", "world_count"]


class UsageError(ValueError):
    """A bad command line (flag value, missing argument, unusable output path, not enough memory)."""


def check_output_folder(out_dir: Path, *, flag: str = "--out") -> None:
    """Raise UsageError, before any work, when results could not be written into the folder ``out_dir``."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"argument {flag}: {out_dir}: exists and is not a folder")
    _check_creatable(out_dir, flag=flag)


def check_output_file(path: Path, *, flag: str = "--out") -> None:
    """Raise UsageError, before any work, when the file ``path`` could not be written (or replaced)."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"argument {flag}: {path}: is a folder: expected a file name")
    _check_creatable(path.parent, flag=flag, target=path)


def _check_creatable(folder: Path, *, flag: str, target: Path | None = None) -> None:
    """UsageError unless ``folder`` exists or can be created, and a file can be written into it.

    Writing is tried (a probe file is made and removed in the nearest existing folder), so that
    read-only file systems and permissions are caught whoever runs the command.
    """
    target = folder if target is None else target
    existing = folder.absolute()
    while not existing.exists() and not existing.is_symlink():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"argument {flag}: {target}: cannot be created: {existing} is a file, not a folder")
    try:
        handle, probe = tempfile.mkstemp(dir=existing, prefix=".warpweave-write-check-")
    except OSError as exc:
        raise UsageError(f"argument {flag}: {target}: cannot write into {existing} "
                         f"({exc.strerror or exc})") from None
    os.close(handle)
    os.unlink(probe)


def positive_int(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer >= 1")
    return value


#: Most worlds one command may ask for (each world is a whole cloth; more is a typo, not a batch).
MAX_WORLDS = 100_000


def world_count(text: str) -> int:
    """A number of worlds, 1 to MAX_WORLDS."""
    value = positive_int(text)
    if value > MAX_WORLDS:
        raise argparse.ArgumentTypeError(f"{text!r}: expected at most {MAX_WORLDS:_} worlds")
    return value


def trajectory_path(text: str) -> str:
    """A path that does not name a scene file (a common slip: the scene given where a trajectory is wanted)."""
    if text.lower().endswith(".toml"):
        raise argparse.ArgumentTypeError(f"{text!r} is a scene file: expected a trajectory (.npz), such as the one "
                                         "'warpweave simulate SCENE' writes")
    return text


def positive_float(text: str) -> float:
    """A finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number > 0")
    return value


def window_size(text: str) -> tuple[int, int]:
    """WIDTHxHEIGHT in pixels, e.g. 800x600."""
    parts = text.lower().split("x")
    if len(parts) == 2 and all(p.isdigit() and 16 <= int(p) <= 8192 for p in parts):
        return int(parts[0]), int(parts[1])
    raise argparse.ArgumentTypeError(
        f"{text!r}: expected WIDTHxHEIGHT in pixels, e.g. 800x600 (16 to 8192 each)"
    )
