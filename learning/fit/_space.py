"""Bounded, well-scaled coordinates for fitted parameters: log-box and box-sigmoid reparameterisations.

Every fitted parameter p has bounds lower < p < upper and is optimised through an unconstrained
coordinate θ with σ(θ) = 1 / (1 + exp(−θ)):

- ``log``:  log p = log lower + (log upper − log lower)·σ(θ)   (positive scale parameters: moduli,
  densities, stiffnesses; a step in θ is a relative change of p, whatever p's units);
- ``box``:  p = lower + (upper − lower)·σ(θ)                     (signed values: wind, gravity).

So optimisers see O(1) coordinates for values of any magnitude (no learning rate of 1e17 for a
Young's modulus), and no step can leave the bounds.
"""

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ._errors import FitError

__all__ = ["TRANSFORMS", "Bounded", "ParameterSpace", "default_bounds"]

TRANSFORMS = ("log", "box")
#: default bounds of a positive parameter: initial value divided / multiplied by this factor
POSITIVE_RANGE = 100.0
#: default half-width of the bounds of a signed parameter, in units of max(|initial|, 1)
SIGNED_RANGE = 10.0


@dataclass(frozen=True)
class Bounded:
    """One fitted parameter.

    Attributes:
        name: its dotted name (e.g. ``materials.cotton.young_modulus``).
        initial: the starting value (SI units of the parameter).
        lower, upper: bounds, lower < initial < upper (lower > 0 for ``log``).
        transform: "log" or "box".
    """

    name: str
    initial: float
    lower: float
    upper: float
    transform: str = "log"

    def __post_init__(self):
        values = (self.initial, self.lower, self.upper)
        if not all(math.isfinite(v) for v in values):
            raise FitError(f"{self.name}: initial value {self.initial!r} and bounds [{self.lower!r}, "
                           f"{self.upper!r}] must be finite numbers")
        if self.transform not in TRANSFORMS:
            raise FitError(f"{self.name}: transform {self.transform!r} is unknown: expected one of "
                           f"{', '.join(TRANSFORMS)}")
        if not self.lower < self.upper:
            raise FitError(f"{self.name}: bounds [{self.lower:g}, {self.upper:g}] are empty: expected lower < upper")
        if not self.lower < self.initial < self.upper:
            raise FitError(f"{self.name}: bounds [{self.lower:g}, {self.upper:g}] exclude the initial value "
                           f"{self.initial:g}: expected lower < initial < upper")
        if self.transform == "log" and not self.lower > 0.0:
            raise FitError(f"{self.name}: log transform needs bounds > 0, got lower = {self.lower:g}")


def default_bounds(name: str, initial: float, *, signed: bool = False) -> Bounded:
    """Bounds for a parameter started at ``initial``.

    A positive parameter gets [initial / 100, 100·initial] with the log transform; a signed one
    (``signed=True``) gets initial ± 10·max(|initial|, 1) with the box transform.

    Raises:
        FitError: a non-signed parameter whose initial value is not > 0 (it needs explicit bounds).
    """
    initial = float(initial)
    if signed:
        half = SIGNED_RANGE * max(abs(initial), 1.0)
        return Bounded(name, initial, initial - half, initial + half, "box")
    if not initial > 0.0:
        raise FitError(f"{name}: initial value {initial:g} is not > 0: give its bounds explicitly "
                       f"(e.g. --bounds {name}=0:1)")
    return Bounded(name, initial, initial / POSITIVE_RANGE, initial * POSITIVE_RANGE, "log")


class ParameterSpace:
    """Maps unconstrained coordinates θ [shape (..., N)] to parameter values p [shape (..., N)] and back."""

    def __init__(self, parameters):
        self.parameters = tuple(parameters)
        if not self.parameters:
            raise FitError("no parameters to fit")
        self.names = tuple(p.name for p in self.parameters)
        self._log = np.array([p.transform == "log" for p in self.parameters])
        lower = np.array([p.lower for p in self.parameters])
        upper = np.array([p.upper for p in self.parameters])
        self._lower, self._upper = lower, upper
        self._lo = np.where(self._log, np.log(np.where(self._log, lower, 1.0)), lower)
        self._width = np.where(self._log, np.log(np.where(self._log, upper, 1.0)), upper) - self._lo

    @property
    def dim(self) -> int:
        return len(self.parameters)

    @property
    def initial(self) -> np.ndarray:
        """Initial values [N]."""
        return np.array([p.initial for p in self.parameters])

    def started_at(self, values) -> "ParameterSpace":
        """The same parameters and bounds started at ``values`` [N] (moved a millionth of the range inside a bound
        they touch)."""
        values = np.clip(np.asarray(values, dtype=np.float64), self._lower, self._upper)
        scaled = np.where(self._log, np.log(np.where(self._log, values, 1.0)), values)
        fraction = np.clip((scaled - self._lo) / self._width, 1e-6, 1.0 - 1e-6)
        inside = self.to_values(np.log(fraction) - np.log1p(-fraction))
        return ParameterSpace(dataclasses.replace(p, initial=float(v)) for p, v in zip(self.parameters, inside,
                                                                                         strict=True))

    def initial_theta(self) -> np.ndarray:
        """θ of the initial values [N]."""
        return self.to_theta(self.initial)

    def to_values(self, theta) -> np.ndarray:
        """p(θ), same shape as θ (within the bounds, also after rounding)."""
        scaled = self._lo + self._width * _sigmoid(np.asarray(theta, dtype=np.float64))
        return np.clip(np.where(self._log, np.exp(scaled), scaled), self._lower, self._upper)

    def to_theta(self, values) -> np.ndarray:
        """θ(p), same shape as p (values must lie strictly inside the bounds)."""
        values = np.asarray(values, dtype=np.float64)
        scaled = np.where(self._log, np.log(np.where(self._log, values, 1.0)), values)
        fraction = (scaled - self._lo) / self._width
        return np.log(fraction) - np.log1p(-fraction)

    def derivative(self, theta) -> np.ndarray:
        """dp/dθ, same shape as θ (elementwise: each p depends on its own θ only)."""
        theta = np.asarray(theta, dtype=np.float64)
        s = _sigmoid(theta)
        slope = self._width * s * (1.0 - s)
        return np.where(self._log, slope * self.to_values(theta), slope)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))
