"""Local uncertainty of fitted parameters from the Gauss–Newton approximation.

For a least-squares loss h = |r|² with M residuals and N parameters, near the minimum
r(θ) ≈ r̂ + J (θ − θ̂); with independent residual noise of equal variance σ², estimated as
σ̂² = |r̂|² / (M − N), the covariance of θ̂ is σ̂² (JᵀJ)⁻¹. Values p(θ) get the delta-method
standard deviation |dp/dθ| · std(θ). Directions the data do not determine have tiny eigenvalues of
JᵀJ and show as huge standard deviations (never hidden by a pseudo-inverse).
"""

from dataclasses import dataclass

import numpy as np

from ._preconditioned import normal_eigen
from ._space import ParameterSpace

__all__ = ["UNDETERMINED_RELATIVE_STD", "Uncertainty", "gauss_newton_uncertainty"]

#: eigenvalues of JᵀJ below this fraction of the largest are floored to it (finite, huge variances)
_EIGEN_FLOOR = 1e-30
#: the largest standard deviation reported (keeps JSON finite)
_MAX_REPORTED = 1e300
#: a parameter whose standard deviation exceeds this fraction of its value is not determined by the data
UNDETERMINED_RELATIVE_STD = 1.0


@dataclass(frozen=True)
class Uncertainty:
    """Gauss–Newton uncertainty at a fitted point.

    Attributes:
        std: standard deviation of each parameter value (its SI units), shape [N].
        relative_std: std / |value|, shape [N].
        correlation: correlation matrix of the parameters [N, N].
        residual_rms: σ̂, the root-mean-square residual per degree of freedom (residual units).
        residuals: M; parameters: N.
    """

    std: np.ndarray
    relative_std: np.ndarray
    correlation: np.ndarray
    residual_rms: float
    residuals: int
    parameters: int

    def undetermined(self, names) -> list[str]:
        """The ``names`` (in parameter order) whose standard deviation exceeds UNDETERMINED_RELATIVE_STD of
        their value: the observations do not determine them, and their fitted values mean nothing."""
        return [n for n, s in zip(names, self.relative_std, strict=True) if s > UNDETERMINED_RELATIVE_STD]


def gauss_newton_uncertainty(residuals, jacobian, *, space: ParameterSpace, theta) -> Uncertainty:
    """Uncertainty of p(θ) from residuals r [M] and their Jacobian J = ∂r/∂θ [M, N] at θ [N]."""
    r = np.asarray(residuals, dtype=np.float64)
    jacobian = np.asarray(jacobian, dtype=np.float64)
    count, dim = jacobian.shape
    sigma2 = float(r @ r) / max(count - dim, 1)
    eigenvalues, vectors = normal_eigen(jacobian)
    floor = _EIGEN_FLOOR * max(float(eigenvalues.max()), np.finfo(float).tiny)
    covariance = sigma2 * (vectors / np.maximum(eigenvalues, floor)) @ vectors.T
    std_theta = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    values = space.to_values(theta)
    std = np.minimum(np.abs(space.derivative(theta)) * std_theta, _MAX_REPORTED)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.minimum(std / np.abs(values), _MAX_REPORTED)
        correlation = covariance / np.outer(std_theta, std_theta)
    correlation = np.nan_to_num(np.clip(correlation, -1.0, 1.0))
    return Uncertainty(std=std, relative_std=np.nan_to_num(relative, nan=_MAX_REPORTED), correlation=correlation,
                       residual_rms=float(np.sqrt(sigma2)), residuals=count, parameters=dim)
