"""Calibration from lab values: fit a scene's yarn parameters so that the virtual tests reproduce measured values.

A measurements file (TOML, SI units) holds what a textile lab reports::

    areal_density = 0.2            # kg/m^2
    uncertainty = 0.01             # relative standard deviation of every value (default 1%)

    [bending_length]               # m, cantilever test (ASTM D1388)
    warp = 0.02
    weft = 0.03

    [tensile_stiffness]            # N/m per width, strip tensile test
    warp = 1.2e5

Each value becomes one residual log(virtual / measured) / uncertainty: the areal density from the yarn densities,
bending lengths from ``cantilever_test``, tensile stiffnesses from ``tensile_test``. ``LabObjective`` is a
``learning.estimators`` objective (values, batched values, residuals and their Jacobian by central differences of
the virtual tests), so ``learning.fit.fit`` runs any of its optimizers on it, Gauss-Newton by default.
"""

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._cantilever import cantilever_test
from ._inplane import tensile_test
from ._specimen import DIRECTIONS, strip_fabric

__all__ = ["LabMeasurements", "LabObjective", "MeasurementsError", "load_measurements"]

_TABLES = ("bending_length", "tensile_stiffness")
_KEYS = ("areal_density", "uncertainty", *_TABLES)


class MeasurementsError(ValueError):
    """A measurements file is invalid (the message names the file, the key, the value and what was expected)."""


@dataclass(frozen=True)
class LabMeasurements:
    """Measured fabric values (SI).

    Attributes:
        areal_density: kg/m^2, or None.
        bending_length: {"warp"|"weft": c [m]}.
        tensile_stiffness: {"warp"|"weft": [N/m]}.
        uncertainty: relative standard deviation of every value [-].
        source: where they came from (a file name), for messages.
    """

    areal_density: float | None = None
    bending_length: dict | None = None
    tensile_stiffness: dict | None = None
    uncertainty: float = 0.01
    source: str = "<measurements>"

    def items(self) -> list[tuple[str, float]]:
        """(name, value) of every measurement, e.g. ("bending_length.warp", 0.02)."""
        out = [("areal_density", self.areal_density)] if self.areal_density is not None else []
        for table in _TABLES:
            for direction, value in sorted((getattr(self, table) or {}).items()):
                out.append((f"{table}.{direction}", value))
        return out


def _positive(source: str, key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (0.0 < value < math.inf):
        raise MeasurementsError(f"{source}: {key} = {value!r} is out of range: expected a number > 0")
    return float(value)


def load_measurements(path) -> LabMeasurements:
    """Read and check a measurements file (module docstring)."""
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise MeasurementsError(f"{source}: no such measurements file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MeasurementsError(f"{source}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MeasurementsError(f"{source}: not valid TOML: {exc}") from None
    for key in data:
        if key not in _KEYS:
            raise MeasurementsError(f"{source}: {key}: unknown key (expected one of {', '.join(_KEYS)})")
    tables = {}
    for table in _TABLES:
        values = data.get(table)
        if values is None:
            continue
        if not isinstance(values, dict):
            raise MeasurementsError(f"{source}: {table} = {values!r}: expected a table with warp and/or weft")
        for direction, value in values.items():
            if direction not in DIRECTIONS:
                raise MeasurementsError(f"{source}: {table}.{direction}: unknown key (expected warp or weft)")
            _positive(source, f"{table}.{direction}", value)
        tables[table] = {d: float(v) for d, v in values.items()}
    density = data.get("areal_density")
    measurements = LabMeasurements(
        areal_density=None if density is None else _positive(source, "areal_density", density),
        uncertainty=_positive(source, "uncertainty", data.get("uncertainty", 0.01)), source=source, **tables)
    if not measurements.items():
        raise MeasurementsError(f"{source}: no measurements: expected areal_density, [bending_length] or "
                                "[tensile_stiffness]")
    return measurements


class LabObjective:
    """h(theta) = |r|^2, r = log(virtual / measured) / uncertainty over every measurement, theta in ``space``'s
    coordinates; the virtual tests run on ``scene`` with the space's parameter values.

    Args:
        segments: the cantilever's resolution (its bending length reads 0.43% low at 10, 0.11% at 20).
        step: central-difference step of the Jacobian in theta.
    """

    def __init__(self, scene, measurements: LabMeasurements, space, *, segments: int = 20, step: float = 1e-4,
                 device: str = "cpu"):
        self.scene, self.measurements, self.space = scene, measurements, space
        self.segments, self.step, self.device = segments, step, device
        self.dim = space.dim
        self.names = [name for name, _ in measurements.items()]
        self.targets = np.array([value for _, value in measurements.items()])
        self.evaluations = 0

    def outcomes(self, theta) -> np.ndarray:
        """The virtual value of every measurement at theta (SI), in ``names`` order."""
        import scenes

        values = self.space.to_values(np.asarray(theta, dtype=np.float64))
        scene = scenes.with_parameters(self.scene, dict(zip(self.space.names, map(float, values), strict=True)))
        self.evaluations += 1
        out = []
        for name in self.names:
            table, _, direction = name.partition(".")
            if table == "areal_density":
                out.append(strip_fabric(scene, "warp").areal_density)
            elif table == "bending_length":
                result = cantilever_test(strip_fabric(scene, direction), direction=direction,
                                         segments=self.segments, device=self.device)
                out.append(result.bending_length)
            else:
                out.append(tensile_test(strip_fabric(scene, direction), direction=direction, segments=4,
                                        device=self.device).stiffness)
        return np.array(out)

    def residuals(self, theta) -> np.ndarray:
        """r(theta) [M]."""
        return np.log(self.outcomes(theta) / self.targets) / self.measurements.uncertainty

    def value(self, theta) -> float:
        """h(theta) = |r|^2."""
        r = self.residuals(theta)
        return float(r @ r)

    def values(self, thetas) -> np.ndarray:
        """h at each row of ``thetas`` [b, N]."""
        return np.array([self.value(theta) for theta in np.asarray(thetas, dtype=np.float64)])

    def residual_jacobian(self, theta):
        """(r [M], dr/dtheta [M, N] by central differences of ``step``)."""
        theta = np.asarray(theta, dtype=np.float64)
        r = self.residuals(theta)
        jacobian = np.empty((len(r), self.dim))
        for k in range(self.dim):
            shift = np.zeros(self.dim)
            shift[k] = self.step
            jacobian[:, k] = (self.residuals(theta + shift) - self.residuals(theta - shift)) / (2.0 * self.step)
        return r, jacobian
