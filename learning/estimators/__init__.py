"""Gradient estimators behind one objective protocol.

An objective reports h(θ) and, when it can, reverse-mode gradients, batched forward-mode JVPs,
batched values or truncated unrolled gradients (see :class:`Objective`). Every estimator is called
as ``estimator(objective, theta, generator=...)`` and returns an :class:`Estimate`;
:func:`assign_grad` hands the estimate to any torch.optim optimizer.
"""

from ._assign import assign_grad
from ._directions import ALL_DIRECTIONS, DirectionCount, DirectionDistribution, sample_directions
from ._distributed import DirectionGroup, default_group
from ._forward_gradient import ForwardGradient
from ._objective import (
    Estimate,
    EvaluationFailed,
    GradientEstimator,
    Objective,
    ObjectiveWithGrad,
    ObjectiveWithJvp,
    ObjectiveWithTruncatedGrad,
    ObjectiveWithValues,
)
from ._reverse import ReverseUnroll, Truncated
from ._torch_objective import TorchObjective, UnrolledTorchObjective
from ._two_phase import TwoPhase
from ._zeroth_order import ZerothOrder

__all__ = [
    "EvaluationFailed",
    "Objective",
    "ObjectiveWithGrad",
    "ObjectiveWithJvp",
    "ObjectiveWithValues",
    "ObjectiveWithTruncatedGrad",
    "Estimate",
    "GradientEstimator",
    "TorchObjective",
    "UnrolledTorchObjective",
    "ALL_DIRECTIONS",
    "DirectionCount",
    "DirectionDistribution",
    "sample_directions",
    "DirectionGroup",
    "default_group",
    "ReverseUnroll",
    "Truncated",
    "ForwardGradient",
    "ZerothOrder",
    "TwoPhase",
    "assign_grad",
]
