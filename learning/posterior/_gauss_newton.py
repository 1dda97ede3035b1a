"""For comparison with a posterior: the 90% intervals of a Gauss-Newton fit, the fitted value plus or minus 1.645 of its
standard deviation, from a local linear, Gaussian view of the residuals. ``warpweave fit`` estimates the noise from
the residuals left at the fit; here it is known (the posterior's noise), and the covariance is sigma^2 (J^T J)^-1
with sigma the noise in the residuals' units, or with several cameras (each weighed by its mean squared error) the
least-squares sandwich of those weights (``_covariance``)."""

from dataclasses import dataclass

import numpy as np

__all__ = ["GaussNewtonIntervals", "gauss_newton_intervals"]

#: the standard normal's 95% quantile: value +- Z90 std is a 90% interval
Z90 = 1.6448536269514722


@dataclass(frozen=True)
class GaussNewtonIntervals:
    """A Gauss-Newton fit's values [k], standard deviations [k] and 90% intervals [k, 2]; iterations and loss."""

    values: np.ndarray
    std: np.ndarray
    iterations: int
    loss: float

    @property
    def intervals(self) -> np.ndarray:
        return np.stack([self.values - Z90 * self.std, self.values + Z90 * self.std], axis=1)


def gauss_newton_intervals(scene, observations, names, *, low, high, noise: float, iterations: int = 20,
                           device=None) -> GaussNewtonIntervals:
    """Fit ``names`` (bounded by the prior box [low, high], started at the scene's values) to ``observations``
    (``learning.cloth.Observations`` of positions, or a list of ``PointTracks``, one per camera) by Gauss-Newton
    steps with exact forward-mode Jacobians, and return the fitted values with their Gauss-Newton standard
    deviations for noise of standard deviation ``noise`` ([m] on positions, [px] on tracks)."""
    from learning import cloth

    bounds = {name: (float(lo), float(hi)) for name, lo, hi in zip(names, low, high, strict=True)}
    space = cloth.scene_parameter_space(scene, list(names), bounds=bounds)
    fit = cloth.fit_scene(scene, observations, space, estimation=cloth.Estimation("forward", directions="all"),
                          optimization=cloth.Optimization("gauss-newton", iterations=iterations),
                          objective=cloth.ObjectiveOptions(device=device))
    result = fit.result
    _, jacobian = fit.objective.residual_jacobian(result.theta)
    scales = np.concatenate([model.residual_scales() for model in fit.objective.models])
    std = np.abs(space.derivative(result.theta)) * np.sqrt(np.diag(_covariance(jacobian, scales, noise)))
    return GaussNewtonIntervals(values=np.asarray(result.values, dtype=float), std=std,
                                iterations=result.minimization.iterations, loss=float(result.minimization.loss))


def _covariance(jacobian: np.ndarray, scales: np.ndarray, noise: float) -> np.ndarray:
    """Cov(theta) of the least-squares fit of residuals r = D e (e the measurement errors, independent, of standard
    deviation ``noise``; D = diag(``scales``)) with Jacobian J = dr/dtheta [M, N]: the sandwich
    noise^2 A^+ J^T D^2 J A^+, A = J^T J. With one scale (one camera, or node positions) it is
    (noise d)^2 (J^T J)^-1; with several (cameras weighed by their mean squared error) the sandwich is the fit's."""
    inverse = np.linalg.pinv(jacobian.T @ jacobian)
    return noise**2 * inverse @ ((jacobian * scales[:, None] ** 2).T @ jacobian) @ inverse
