"""Bilevel problems on the shared gradient estimators.

``BilevelProblem`` is an inner optimisation (functional steps on an inner loss g, mini-batches drawn once per meta
step) and an outer loss f; ``bilevel_objective`` turns one meta step of it into an objective that every estimator
of ``learning.estimators`` consumes (``ReverseUnroll``, ``Truncated``, ``ForwardGradient``, ``ZerothOrder``,
``TwoPhase``), and that the implicit-function estimators of this package (``ImplicitCG``, ``ImplicitNeumann``,
``HessianFree``) differentiate through the inner optimality condition.
"""

from ._implicit import HessianFree, ImplicitCG, ImplicitNeumann
from ._problem import BilevelObjective, BilevelProblem, ImplicitParts, ObjectiveWithImplicitParts, bilevel_objective

__all__ = [
    "BilevelObjective",
    "BilevelProblem",
    "HessianFree",
    "ImplicitCG",
    "ImplicitNeumann",
    "ImplicitParts",
    "ObjectiveWithImplicitParts",
    "bilevel_objective",
]
