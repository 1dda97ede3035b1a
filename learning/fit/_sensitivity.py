"""Derivatives that say a parameter cannot be fitted: not finite (NaN or Inf) or zero.

Users of differentiable simulators meet both, most often through contact: a NaN from a distance at a
degenerate point, or an all-zero gradient because nothing the parameter touches reaches the loss. This module
names such parameters for ``warpweave gradcheck`` and for fits (which check the Jacobian of their residuals
at the start).
"""

import numpy as np

__all__ = ["NEGLIGIBLE", "derivative_problems"]

#: a sensitivity this small relative to the largest one counts as zero (float64 rounding of the others)
NEGLIGIBLE = 1e-10


def derivative_problems(names, sensitivities) -> tuple[list[str], list[str]]:
    """(non-finite, zero) messages, one per parameter of ``names`` whose sensitivity (a derivative times the
    parameter's scale, or the norm of a Jacobian column in normalised coordinates) is NaN/Inf, or zero to
    float64 rounding (at most ``NEGLIGIBLE`` of the largest finite one, or all exactly zero)."""
    values = np.asarray(sensitivities, dtype=np.float64).reshape(-1)
    names = list(names)
    if len(names) != len(values):
        raise ValueError(f"{len(values)} sensitivities for {len(names)} names")
    finite = np.isfinite(values)
    bad = [f"{name}: its derivative is {value} (not finite)" for name, value, ok in zip(names, values, finite,
                                                                                         strict=True) if not ok]
    top = float(np.max(np.abs(values[finite]))) if finite.any() else 0.0
    zero = []
    for name, value, ok in zip(names, values, finite, strict=True):
        if not ok:
            continue
        if top == 0.0:
            zero.append(f"{name}: its derivative is exactly zero, as every other's: the loss does not depend on "
                        "the parameters")
        elif abs(value) <= NEGLIGIBLE * top:
            zero.append(f"{name}: its derivative is zero to rounding ({abs(value) / top:.1e} of the largest): "
                        "the loss does not depend on it here, so it cannot be determined from this data")
    return bad, zero
