"""For comparison with a posterior: the 90% intervals of a Gauss-Newton fit, the fitted value plus or minus 1.645 of its
standard deviation, from a local linear, Gaussian view of the residuals. ``warpweave fit`` estimates the noise from
the residuals left at the fit; here it is known (the posterior's noise), and the covariance is
sigma^2 (J^T J)^-1 with sigma the position noise in the residuals' units."""

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
    (``learning.cloth.Observations`` of positions, or a list of one ``PointTracks``) by Gauss-Newton steps with exact
    forward-mode Jacobians, and return the fitted values with their Gauss-Newton standard deviations for noise of
    standard deviation ``noise`` ([m] on positions, [px] on tracks)."""
    from learning import cloth

    if isinstance(observations, list) and len(observations) != 1:
        raise ValueError(f"Gauss-Newton intervals from {len(observations)} cameras' tracks: expected one (the fit "
                         "weighs each camera's mean squared error, so one pixel noise does not give the covariance)")
    bounds = {name: (float(lo), float(hi)) for name, lo, hi in zip(names, low, high, strict=True)}
    space = cloth.scene_parameter_space(scene, list(names), bounds=bounds)
    fit = cloth.fit_scene(scene, observations, space, estimation=cloth.Estimation("forward", directions="all"),
                          optimization=cloth.Optimization("gauss-newton", iterations=iterations),
                          objective=cloth.ObjectiveOptions(device=device))
    result, uncertainty = fit.result, fit.result.uncertainty
    std = np.full(len(names), np.nan)
    if uncertainty is not None and uncertainty.residual_rms > 0.0:
        sigma = noise * _residual_scale(observations, scene)
        std = np.asarray(uncertainty.std) * sigma / uncertainty.residual_rms
    return GaussNewtonIntervals(values=np.asarray(result.values, dtype=float), std=std,
                                iterations=result.minimization.iterations, loss=float(result.minimization.loss))


def _residual_scale(observations, scene) -> float:
    """A residual's share of its measurement's error: position residuals are (x - x_observed) / (sqrt(F n) L) (F
    frames, n observed nodes, spacing L); track residuals (pixel - observed) / sqrt(S) (S points seen in frames)."""
    if isinstance(observations, list):
        (tracks,) = observations
        return 1.0 / np.sqrt(tracks.seen.sum())
    return 1.0 / (np.sqrt(observations.frames * observations.node_count) * scene.cloth.spacing)
