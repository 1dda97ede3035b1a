"""Fitting parameters with the gradient estimators: bounded parameter spaces, Gauss–Newton whitening,
the optimisation loop and Gauss–Newton uncertainty. Generic (numpy and torch only): the cloth task
lives in ``learning.cloth``.

    space = ParameterSpace([Bounded("k", 1.0, 1e-2, 1e2, "log")])
    result = fit(objective, space, estimator=make_estimator("reverse"), optimizer="lbfgs", iterations=30)
"""

from ._choices import (
    ESTIMATOR_OPTIMIZERS,
    ESTIMATORS,
    OPTIMIZERS,
    default_learning_rate,
    default_optimizer,
    make_estimator,
    make_optimizer,
)
from ._errors import FitError
from ._fit import MAX_STEP, FitResult, fit
from ._gauss_newton import gauss_newton
from ._minimize import Iterate, Minimization, minimize
from ._preconditioned import Preconditioned, Whitening, whitening
from ._space import TRANSFORMS, Bounded, ParameterSpace, default_bounds
from ._uncertainty import UNDETERMINED_RELATIVE_STD, Uncertainty, gauss_newton_uncertainty

__all__ = [
    "MAX_STEP",
    "ESTIMATOR_OPTIMIZERS",
    "ESTIMATORS",
    "OPTIMIZERS",
    "TRANSFORMS",
    "UNDETERMINED_RELATIVE_STD",
    "Bounded",
    "FitError",
    "FitResult",
    "Iterate",
    "Minimization",
    "ParameterSpace",
    "Preconditioned",
    "Uncertainty",
    "Whitening",
    "default_bounds",
    "default_learning_rate",
    "default_optimizer",
    "fit",
    "gauss_newton",
    "gauss_newton_uncertainty",
    "make_estimator",
    "make_optimizer",
    "minimize",
    "whitening",
]
