"""Fit a scene's parameters to observations: the cloth task end to end (objective, space, fit)."""

from collections.abc import Callable, Mapping
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
from ._space import scene_parameter_space

__all__ = ["SceneFit", "fit_scene"]


@dataclass(frozen=True)
class SceneFit:
    """The outcome of :func:`fit_scene`.

    Attributes:
        result: the fit (values, history, uncertainty, timings).
        scene: the scene with the fitted values.
        objective: the objective (to simulate the initial or fitted parameters again).
        space: the fitted parameters with their bounds and transforms.
    """

    result: FitResult
    scene: scenes.Scene
    objective: ClothObjective
    space: ParameterSpace


def fit_scene(
    scene: scenes.Scene,
    observations: Observations,
    names,
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    initial: Mapping[str, float] | None = None,
    estimator: str | GradientEstimator = "reverse",
    optimizer: str | None = None,
    iterations: int = 50,
    lr: float | None = None,
    directions: DirectionCount | None = None,
    switch_at: int | None = None,
    window: int = 10,
    precondition: bool = True,
    rewhiten: int | None = None,
    max_step: float | None = MAX_STEP,
    seed: int = 0,
    slide_weight: float = 1.0,
    tolerance: float = 1e-10,
    device=None,
    reference_quirks=(),
    callback: Callable[[Iterate], bool | None] | None = None,
) -> SceneFit:
    """Fit the scene parameters ``names`` so that the simulated scene matches ``observations``.

    Args:
        scene: the scene; not-fitted values stay as they are, fitted ones start at the scene's
            values unless ``initial`` gives others.
        observations: see :func:`observations_from_trajectory`.
        names: dotted names of the parameters to fit (see :func:`fittable_names`).
        bounds, initial: per-parameter bounds and starting values (see :func:`scene_parameter_space`).
        estimator: "reverse", "truncated", "forward", "zeroth", "two-phase" or an estimator object.
        optimizer: "sgd", "adam", "pnm", "adapnm", "lbfgs" or "gauss-newton" (default: L-BFGS for exact
            gradients, SGD for sampled or truncated ones; see ``learning.fit.default_optimizer``).
        iterations, lr: see ``learning.fit.fit``.
        directions: directions per estimate of the forward and zeroth-order estimators: "all" (the exact
            gradient from 2N + 1 worlds), a number of random ones, or None (default): "all" for at most
            ``learning.fit.ALL_DIRECTIONS_UP_TO`` parameters, else a few random ones.
        switch_at: estimates after which "two-phase" switches from forward gradients to reverse mode
            (default: ``learning.fit.SWITCH_AT``, 10).
        window: steps through which "truncated" back-propagates each frame's loss.
        precondition, rewhiten: run in Gauss–Newton-whitened coordinates, refreshed every ``rewhiten``
            iterations (default: every iteration for forward and zeroth-order estimates over all
            directions, else every 5; see ``learning.fit.fit``).
        max_step: largest change of a θ coordinate per first-order step (see ``learning.fit.fit``).
        seed: seed of random directions.
        slide_weight, tolerance, device, reference_quirks: see :class:`ClothObjective`.
        callback: called with every evaluated point; returning True stops.

    Raises:
        FitError: bad names, bounds, initial values or estimator/optimizer names.
    """
    space = scene_parameter_space(scene, names, bounds=bounds, initial=initial)
    objective = ClothObjective(scene, observations, space, slide_weight=slide_weight, tolerance=tolerance,
                               device=device, reference_quirks=reference_quirks)
    if isinstance(estimator, str):
        switch = SWITCH_AT if switch_at is None else switch_at
        estimator = make_estimator(estimator, dim=space.dim, directions=directions, switch_at=switch, window=window)
    if optimizer is None:
        optimizer = default_optimizer(estimator)
    result = fit(objective, space, estimator=estimator, optimizer=optimizer, iterations=iterations, lr=lr,
                 precondition=precondition, rewhiten=rewhiten, max_step=max_step, seed=seed, callback=callback)
    return SceneFit(result=result, scene=objective.parameters.with_values(result.values), objective=objective,
                    space=space)
