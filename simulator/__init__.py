"""The yarn-level woven-cloth engine: Model, State, the implicit solver and rollouts (Warp, float64)."""

from ._adjoint import ModelGradient, StateAdjoint, StepAdjoint
from ._gradient import INITIAL_STATE, RolloutGradient, RolloutJvp, rollout_gradient, rollout_jvp
from ._loss import TrajectoryLoss
from ._model import PARAMETER_ARRAYS, Model, State, build_model
from ._rollout import SimulationError, rollout
from ._solver import SolverImplicit
from ._spec import POSES, ClothSpec

__all__ = [
    "INITIAL_STATE",
    "PARAMETER_ARRAYS",
    "POSES",
    "ClothSpec",
    "Model",
    "ModelGradient",
    "RolloutGradient",
    "RolloutJvp",
    "SimulationError",
    "SolverImplicit",
    "State",
    "StateAdjoint",
    "StepAdjoint",
    "TrajectoryLoss",
    "build_model",
    "rollout",
    "rollout_gradient",
    "rollout_jvp",
]
