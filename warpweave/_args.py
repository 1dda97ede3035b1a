"""Argument types and the CLI's own user error."""

import argparse
import os
from pathlib import Path

__all__ = ["UsageError", "check_output_folder", "positive_int", "positive_float", "window_size"]


class UsageError(ValueError):
    """A bad command line (flag value, missing argument, unusable output path)."""


def check_output_folder(out_dir: Path) -> None:
    """Raise UsageError, before any work, when results could not be written into ``out_dir`` (--out)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"argument --out: {out_dir}: exists and is not a folder")
    existing = out_dir
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"argument --out: {out_dir}: cannot write into {existing}")


def positive_int(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer >= 1")
    return value


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
