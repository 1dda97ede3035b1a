"""When a least-squares fit has converged: the Gauss–Newton step still left is negligible.

For h(θ) = |r(θ)|² with M residuals, gradient g = 2Jᵀr and Gauss–Newton matrix G = 2JᵀJ, the
Gauss–Newton step Δθ = −G⁺g is predicted to lower h by d = ½ gᵀG⁺g = |JΔθ|². A fit has converged
when that step is negligible in either of two senses:

- it moves no coordinate θ by more than ``step`` (θ units; for a log-box parameter with the default
  bounds a relative change of at most 2.3·step): the floor of noise-free data, where only rounding
  and finite-difference errors are left;
- it is shorter than ``deviations`` standard deviations of the fitted parameters: with the residual
  variance σ̂² = (h − d)/(M − K) of the K determined directions, the length of Δθ in the metric of
  the Gauss–Newton covariance σ̂²(JᵀJ)⁻¹ is √(d/σ̂²): the minimum of noisy data, where more steps
  would move the estimate by a small fraction of its uncertainty.

Both are read off one Jacobian, the one the fit's whitening takes anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_CONVERGENCE", "Convergence"]


@dataclass(frozen=True)
class Convergence:
    """Tolerances on the Gauss–Newton step left (see the module notes).

    Attributes:
        step: largest change of any θ coordinate the step may make (θ units).
        deviations: largest length of the step in standard deviations of the fitted parameters.
    """

    step: float = 1e-6
    deviations: float = 1e-2

    def __post_init__(self):
        if not (self.step >= 0.0 and self.deviations >= 0.0):
            raise ValueError(f"tolerances must be >= 0, got step={self.step!r}, deviations={self.deviations!r}")

    def reason(self, *, step, decrease: float, loss: float, dof: int) -> str | None:
        """Why a fit at loss h whose Gauss–Newton step left is ``step`` [N] (θ units), predicted to lower h
        by ``decrease``, with ``dof`` = M − K residual degrees of freedom, has converged; None if it has not."""
        largest = float(np.max(np.abs(step)))
        if largest <= self.step:
            return f"the Gauss-Newton step left moves no coordinate by more than {largest:.2g} <= {self.step:g}"
        spread = loss - decrease  # the residual sum of squares the step is predicted to leave
        if dof > 0 and spread > 0.0 and decrease * dof <= self.deviations**2 * spread:
            length = float(np.sqrt(decrease * dof / spread))
            return (f"the Gauss-Newton step left is {length:.2g} standard deviations of the parameters "
                    f"<= {self.deviations:g}")
        return None


#: the tolerances a fit uses unless told otherwise
DEFAULT_CONVERGENCE = Convergence()
