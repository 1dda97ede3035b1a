"""Fitting parameters with the gradient estimators: bounded parameter spaces, Gauss–Newton whitening,
the optimisation loop and Gauss–Newton uncertainty. Generic (numpy and torch only): the cloth task
lives in ``learning.cloth``.

    space = ParameterSpace([Bounded("k", 1.0, 1e-2, 1e2, "log")])
    result = fit(objective, space, estimator=make_estimator("reverse"), optimizer="lbfgs", iterations=30)
"""

from ._choices import (
    ALL_DIRECTIONS_UP_TO,
    ESTIMATOR_OPTIMIZERS,
    ESTIMATORS,
    OPTIMIZERS,
    REWHITEN,
    SWITCH_AT,
    default_directions,
    default_learning_rate,
    default_optimizer,
    default_rewhiten,
    exact_gradients,
    make_estimator,
    make_optimizer,
)
from ._convergence import Convergence
from ._errors import FitError
from ._fit import MAX_STEP, FitResult, fit
from ._gauss_newton import gauss_newton
from ._minimize import Iterate, Minimization, minimize
from ._preconditioned import Preconditioned, Whitening, first_axis_along, whitening
from ._sensitivity import NEGLIGIBLE, derivative_problems
from ._space import TRANSFORMS, Bounded, ParameterSpace, default_bounds
from ._uncertainty import UNDETERMINED_RELATIVE_STD, Uncertainty, gauss_newton_uncertainty

__all__ = [
    "ALL_DIRECTIONS_UP_TO",
    "MAX_STEP",
    "NEGLIGIBLE",
    "ESTIMATOR_OPTIMIZERS",
    "ESTIMATORS",
    "OPTIMIZERS",
    "REWHITEN",
    "SWITCH_AT",
    "TRANSFORMS",
    "UNDETERMINED_RELATIVE_STD",
    "Bounded",
    "Convergence",
    "FitError",
    "FitResult",
    "Iterate",
    "Minimization",
    "ParameterSpace",
    "Preconditioned",
    "Uncertainty",
    "Whitening",
    "default_bounds",
    "derivative_problems",
    "default_directions",
    "default_learning_rate",
    "default_optimizer",
    "default_rewhiten",
    "exact_gradients",
    "first_axis_along",
    "fit",
    "gauss_newton",
    "gauss_newton_uncertainty",
    "make_estimator",
    "make_optimizer",
    "minimize",
    "whitening",
]
