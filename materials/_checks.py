"""Value checks that raise a ValueError naming the parameter, the value and the valid range, and the type
check of the packages' entry points (a TypeError that says what to pass instead)."""

import math


def require_instance(name: str, value, expected: type, *, hint: str = ""):
    """Return ``value``, or raise TypeError naming the argument, the type given and the type expected.

    Args:
        name: the argument as the caller knows it, e.g. "build_model(specs)".
        expected: the class wanted.
        hint: how to make one from what users commonly pass instead, e.g. "build one with scenes.build_spec(scene)".
    """
    if isinstance(value, expected):
        return value
    given = type(value)
    text = f"{name}: expected a {expected.__module__.split('.')[0]}.{expected.__name__}, got {given.__module__}." \
           f"{given.__qualname__}"
    raise TypeError(f"{text}; {hint}" if hint else text)


def require_finite(name: str, value: float) -> float:
    """Return ``value`` as float, or raise if it is NaN or infinite."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} = {value!r} is not a finite number")
    return value


def require_positive(name: str, value: float) -> float:
    """Return ``value`` as float, or raise unless it is finite and > 0."""
    value = require_finite(name, value)
    if value <= 0.0:
        raise ValueError(f"{name} = {value!r} is out of range: expected a value > 0")
    return value


def require_range(name: str, value: float, low: float, high: float = math.inf, *, low_open=False) -> float:
    """Return ``value`` as float, or raise unless ``low <= value <= high`` (``low < value`` if low_open)."""
    value = require_finite(name, value)
    below = value <= low if low_open else value < low
    if below or value > high:
        lo = "(" if low_open else "["
        raise ValueError(f"{name} = {value!r} is out of range: expected a value in {lo}{low}, {high}]")
    return value
