"""Fit a scene's parameters to observations: the cloth task end to end (objective, space, fit)."""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import scenes
from learning.estimators import DirectionCount, GradientEstimator
from learning.fit import (
    MAX_STEP,
    SWITCH_AT,
    FitResult,
    Iterate,
    ParameterSpace,
    default_optimizer,
    fit,
    make_estimator,
)

from ._objective import ClothObjective
from ._observations import Observations
from ._outliers import CameraRejection, OutlierRejection, measurement_errors, reject_outliers
from ._space import scene_parameter_space

__all__ = ["Estimation", "ObjectiveOptions", "Optimization", "SceneFit", "fit_scene"]


@dataclass(frozen=True)
class SceneFit:
    """The outcome of :func:`fit_scene`.

    Attributes:
        result: the fit (values, history, uncertainty, timings).
        scene: the scene with the fitted values.
        objective: the objective (to simulate the initial or fitted parameters again).
        space: the fitted parameters with their bounds and transforms.
        rejections: per round of outlier rejection (``OutlierRejection``), what it dropped of each camera's
            measurements before the fit was repeated; empty when none ran or nothing was dropped.
        observations: the observations as given, before any rejection (``objective`` holds what was fitted last).
    """

    result: FitResult
    scene: scenes.Scene
    objective: ClothObjective
    space: ParameterSpace
    rejections: tuple[tuple[CameraRejection, ...], ...] = ()
    observations: tuple = ()


@dataclass(frozen=True)
class Estimation:
    """How a fit estimates gradients.

    Attributes:
        name: "reverse" (exact reverse mode), "truncated", "forward" ((FG)²U forward gradients), "zeroth" or
            "two-phase" (forward gradients, then reverse mode).
        directions: directions per estimate of "forward" and "zeroth": "all" (the exact gradient from 2N + 1
            worlds), a number of random ones, or None: "all" for at most ``learning.fit.ALL_DIRECTIONS_UP_TO``
            parameters, else a few random ones.
        switch_at: estimates after which "two-phase" switches to reverse mode (None: ``learning.fit.SWITCH_AT``).
        window: steps through which "truncated" back-propagates each frame's loss.
    """

    name: str = "reverse"
    directions: DirectionCount | None = None
    switch_at: int | None = None
    window: int = 10

    def estimator(self, dim: int) -> GradientEstimator:
        """The estimator for ``dim`` parameters."""
        switch = SWITCH_AT if self.switch_at is None else self.switch_at
        return make_estimator(self.name, dim=dim, directions=self.directions, switch_at=switch, window=self.window)


@dataclass(frozen=True)
class Optimization:
    """How a fit steps and when it stops (see ``learning.fit.fit``).

    Attributes:
        optimizer: "sgd", "adam", "pnm", "adapnm", "lbfgs" or "gauss-newton" (None: L-BFGS for exact gradients,
            SGD for sampled or truncated ones; see ``learning.fit.default_optimizer``).
        iterations: the most iterations (the fit stops earlier when it has converged).
        lr: learning rate (None: the optimizer's default in whitened coordinates).
        precondition, rewhiten: run in Gauss–Newton-whitened coordinates, refreshed every ``rewhiten``
            iterations (None: every iteration for forward and zeroth-order estimates over all directions,
            else every 5).
        max_step: largest change of a θ coordinate per first-order step.
        seed: seed of random directions.
    """

    optimizer: str | None = None
    iterations: int = 50
    lr: float | None = None
    precondition: bool = True
    rewhiten: int | None = None
    max_step: float | None = MAX_STEP
    seed: int = 0


@dataclass(frozen=True)
class ObjectiveOptions:
    """How a fit simulates and compares (see :class:`ClothObjective`).

    Attributes:
        slide_weight: weight of the sliding term of the loss (when sliding is observed).
        tolerance: relative tolerance of the linear solves (tight, so that differences are smooth).
        device: Warp device (None: the scene's, resolved).
        reference_quirks: the original code's behaviour to reproduce (reverse mode is then refused).
    """

    slide_weight: float = 1.0
    tolerance: float = 1e-10
    device: object = None
    reference_quirks: tuple = ()


def fit_scene(
    scene: scenes.Scene,
    observations: Observations,
    parameters,
    *,
    estimation: Estimation | str | GradientEstimator = "reverse",
    optimization: Optimization | None = None,
    objective: ObjectiveOptions | None = None,
    callback: Callable[[Iterate], bool | None] | None = None,
    outliers: OutlierRejection | None = None,
) -> SceneFit:
    """Fit scene parameters so that the simulated scene matches ``observations``.

    Args:
        scene: the scene; not-fitted values stay as they are.
        observations: see :func:`observations_from_trajectory`.
        parameters: dotted names of the parameters to fit (see :func:`fittable_names`; prefixes such as
            ``pins[0].path`` name every component under them), started at the scene's values, or a
            ``ParameterSpace`` from :func:`scene_parameter_space` (with bounds and other starting values).
        estimation: an :class:`Estimation`, its name, or an estimator object.
        optimization: an :class:`Optimization` (default: its defaults).
        objective: :class:`ObjectiveOptions` (default: its defaults).
        callback: called with every evaluated point; returning True stops.
        outliers: when given, tracked measurements the fit cannot explain are dropped and the fit repeated from the
            fitted values (``OutlierRejection``; only tracks and depth points are dropped).

    Raises:
        FitError: bad names, bounds, initial values or estimator/optimizer names; outlier rejection that would drop
            more than its ``max_dropped`` share of a camera's measurements.
    """
    space = parameters if isinstance(parameters, ParameterSpace) else scene_parameter_space(scene, parameters)
    optimization = optimization or Optimization()
    options = objective or ObjectiveOptions()
    if isinstance(estimation, str):
        estimation = Estimation(estimation)

    def fit_once(measured, start: ParameterSpace) -> SceneFit:
        cloth_objective = ClothObjective(scene, measured, start, slide_weight=options.slide_weight,
                                         tolerance=options.tolerance, device=options.device,
                                         reference_quirks=options.reference_quirks)
        estimator = estimation.estimator(start.dim) if isinstance(estimation, Estimation) else estimation
        optimizer = optimization.optimizer or default_optimizer(estimator)
        result = fit(cloth_objective, start, estimator=estimator, optimizer=optimizer,
                     iterations=optimization.iterations, lr=optimization.lr, precondition=optimization.precondition,
                     rewhiten=optimization.rewhiten, max_step=optimization.max_step, seed=optimization.seed,
                     callback=callback)
        return SceneFit(result=result, scene=cloth_objective.parameters.with_values(result.values),
                        objective=cloth_objective, space=start)

    given = tuple(observations) if isinstance(observations, (list, tuple)) else (observations,)
    fitted = dataclasses.replace(fit_once(observations, space), observations=given)
    if outliers is None:
        return fitted
    return _refit_without_outliers(fitted, space, outliers=outliers, fit_once=fit_once)


def _refit_without_outliers(fitted: SceneFit, space: ParameterSpace, *, outliers: OutlierRejection,
                            fit_once) -> SceneFit:
    """Rounds of dropping what ``fitted`` cannot explain and fitting again from its values (see
    ``learning.cloth._outliers``); the last fit, reported against ``space``'s initial values, with every round's
    wall time."""
    given = list(fitted.observations)
    measured, rounds, seconds, sigmas = given, [], [fitted.result.seconds], None
    for _ in range(outliers.rounds):
        if fitted.result.minimization.interrupted:
            break
        errors = measurement_errors(fitted.objective, fitted.result.theta)
        trimmed, report = reject_outliers(measured, errors, threshold=outliers.threshold, sigmas=sigmas,
                                          originals=given, max_dropped=outliers.max_dropped)
        if sigmas is None:  # the first round's spreads, kept (see learning.cloth._outliers)
            spreads = iter(camera.sigma for camera in report)
            sigmas = [None if error is None else next(spreads) for error in errors]
        if not any(camera.dropped for camera in report):
            break
        rounds.append(tuple(report))
        measured = trimmed
        fitted = fit_once(measured, space.started_at(fitted.result.values))
        seconds.append(fitted.result.seconds)
        if all(camera.dropped < outliers.settled * (camera.dropped + camera.kept) for camera in report):
            break
    total = {key: sum(part.get(key, 0.0) for part in seconds) for key in seconds[-1]}
    result = dataclasses.replace(fitted.result, initial=space.initial, seconds=total)
    return dataclasses.replace(fitted, result=result, space=space, rejections=tuple(rounds),
                               observations=tuple(given))
