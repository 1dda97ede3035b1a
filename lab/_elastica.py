"""The heavy elastica: an inextensible strip clamped horizontally at one end and bent by its own weight.

With theta(s) the angle below the horizontal at arc length s, the moment balance EI theta' = integral of the
weight beyond s times its lever gives, in s/l (l the overhang, c = (EI / w)^(1/3) the bending length, w the
weight per length),

    theta'' = -(l/c)^3 (1 - s) cos(theta),   theta(0) = 0,   theta'(1) = 0.

``heavy_cantilever`` solves it by shooting on theta'(0) (Illinois regula falsi; classical fourth-order Runge-Kutta
on theta, theta' and the position). The ASTM D1388 cantilever reads the chord
angle from the clamp edge to the tip: at 41.5 degrees l/c = 2 (Peirce's approximation
c = l (cos(angle/2) / (8 tan(angle)))^(1/3) gives 1.9% more there).
"""

import math
from dataclasses import dataclass

#: the longest overhang, in bending lengths, that ``heavy_cantilever`` solves
MAX_RATIO = 6.0

__all__ = ["MAX_RATIO", "CantileverShape", "bending_length_from_chord", "heavy_cantilever", "peirce_bending_length"]


@dataclass(frozen=True)
class CantileverShape:
    """The equilibrium of the heavy elastica at overhang ratio l/c.

    Attributes:
        ratio: overhang over bending length l/c [-].
        tip: (horizontal, downward) position of the tip from the clamp, in units of the overhang [-].
        clamp_curvature: theta'(0) in units of 1/l [-].
        curve: (horizontal, downward) points of the centre line from the clamp to the tip, about 100 of them, in
            units of the overhang [-].
    """

    ratio: float
    tip: tuple[float, float]
    clamp_curvature: float
    curve: tuple[tuple[float, float], ...] = ()

    @property
    def chord_angle(self) -> float:
        """Angle below the horizontal of the line from the clamp to the tip [rad]."""
        return math.atan2(self.tip[1], self.tip[0])


def _shoot(load: float, slope: float, steps: int, curve: list | None = None) -> tuple[float, float, float]:
    """Integrate from s = 0 with theta'(0) = slope; return the miss at the tip and the tip (x, drop).

    The miss is theta'(1) on the physical branch (theta' >= 0, theta <= pi/2: the weight beyond any point lies
    ahead of it); a shot that turns back up at s < 1 returns -(1 - s) and one that passes the vertical
    returns 1, so that the miss changes sign once, at the solution, whatever the load. ``curve``, if given,
    receives (x, drop) at s = 0, 1/steps, ..., 1.
    """
    h = 1.0 / steps

    def rate(s, theta, bend):  # d/ds of (theta, theta', x, drop)
        return bend, -load * (1.0 - s) * math.cos(theta), math.cos(theta), math.sin(theta)

    theta, bend, x, drop = 0.0, slope, 0.0, 0.0
    if curve is not None:
        curve.append((x, drop))
    for k in range(steps):
        s = k * h
        k1 = rate(s, theta, bend)
        k2 = rate(s + h / 2, theta + h / 2 * k1[0], bend + h / 2 * k1[1])
        k3 = rate(s + h / 2, theta + h / 2 * k2[0], bend + h / 2 * k2[1])
        k4 = rate(s + h, theta + h * k3[0], bend + h * k3[1])
        theta += h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        bend += h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        x += h / 6 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2])
        drop += h / 6 * (k1[3] + 2 * k2[3] + 2 * k3[3] + k4[3])
        if curve is not None:
            curve.append((x, drop))
        if bend < 0.0 and k + 1 < steps:
            return -(1.0 - (k + 1) * h), x, drop
        if theta > math.pi / 2:
            return 1.0, x, drop
    return bend, x, drop


def _root(function, low: float, high: float, *, tolerance: float) -> float:
    """A root of ``function`` in [low, high] (opposite signs at the ends) by the Illinois variant of regula falsi
    (superlinear, never leaves the bracket)."""
    f_low, f_high = function(low), function(high)
    if f_low * f_high > 0.0:
        raise ValueError("no sign change in the bracket")
    side = 0
    middle = low
    for _ in range(300):
        middle = (low * f_high - high * f_low) / (f_high - f_low)
        f_middle = function(middle)
        if f_middle == 0.0:
            return middle
        if f_middle * f_high > 0.0:  # the new point replaces the high end
            high, f_high = middle, f_middle
            if side == -1:
                f_low /= 2.0
            side = -1
        else:
            low, f_low = middle, f_middle
            if side == 1:
                f_high /= 2.0
            side = 1
        if abs(high - low) <= tolerance * max(1.0, abs(middle)):
            break
    return middle


def heavy_cantilever(ratio: float, *, steps: int = 400) -> CantileverShape:
    """The clamped heavy elastica at l/c = ``ratio`` in (0, 6] (beyond, the strip hangs nearly vertical and the
    chord angle no longer measures anything), to ~1e-10 of the overhang with the default 400 steps."""
    if not (0.0 < ratio <= MAX_RATIO):
        raise ValueError(f"ratio = {ratio!r} is out of range: expected l/c in (0, {MAX_RATIO:g}]")
    load = ratio**3
    # theta'(0) = load * (mean horizontal lever of the weight) lies in (0, load / 2]
    def tip_moment(slope):
        return _shoot(load, slope, steps)[0]

    low, high = 0.0, 0.5 * load * (1.0 + 1e-6)
    slope = _root(tip_moment, low, high, tolerance=1e-14)
    curve = []
    _, x, drop = _shoot(load, slope, steps, curve)
    return CantileverShape(ratio=ratio, tip=(x, drop), clamp_curvature=slope,
                           curve=tuple(curve[::max(1, steps // 100)]))


def bending_length_from_chord(overhang: float, angle: float) -> float:
    """The bending length c [m] at which the heavy elastica of overhang l [m] has chord angle ``angle`` [rad]
    (in (0, pi/2)): the exact inverse of ``heavy_cantilever``, for the cantilever test's reading."""
    if not 0.0 < angle < math.pi / 2:
        raise ValueError(f"angle = {angle!r} rad is out of range: expected a chord angle in (0, pi/2)")

    def excess(log_ratio):
        return heavy_cantilever(math.exp(log_ratio)).chord_angle - angle

    # Peirce's formula is within 15% of the exact ratio up to l/c = 6: bracket the root around it when it can
    guess = 1.0 / (math.cos(angle / 2) / (8.0 * math.tan(angle))) ** (1.0 / 3.0)
    if 0.8 * guess < MAX_RATIO:
        low, high = math.log(0.8 * guess), math.log(min(1.3 * guess, MAX_RATIO))
        if excess(low) <= 0.0 <= excess(high):
            return overhang / math.exp(_root(excess, low, high, tolerance=1e-13))
    low, high = math.log(1e-3), math.log(MAX_RATIO)
    if excess(high) < 0.0:
        raise ValueError(f"angle = {angle!r} rad is out of range: the heavy elastica droops that far only beyond "
                         f"l/c = {MAX_RATIO:g}")
    return overhang / math.exp(_root(excess, low, high, tolerance=1e-13))


def peirce_bending_length(overhang: float, angle: float) -> float:
    """Peirce's formula of ASTM D1388 (angle method): c = l (cos(angle/2) / (8 tan(angle)))^(1/3) [m]."""
    if not 0.0 < angle < math.pi / 2:
        raise ValueError(f"angle = {angle!r} rad is out of range: expected a chord angle in (0, pi/2)")
    return overhang * (math.cos(angle / 2) / (8.0 * math.tan(angle))) ** (1.0 / 3.0)
