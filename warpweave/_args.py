"""Argument types and the CLI's own user error."""

import argparse

__all__ = ["UsageError", "positive_int", "positive_float", "window_size"]


class UsageError(ValueError):
    """A bad command line (flag value, missing argument, unusable output path)."""


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
