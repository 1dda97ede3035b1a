"""The yarn-level woven-cloth engine: Model, State, the implicit solver and rollouts (Warp, float64)."""

from ._model import Model, State, build_model
from ._rollout import SimulationError, rollout
from ._solver import SolverImplicit
from ._spec import POSES, ClothSpec

__all__ = ["POSES", "ClothSpec", "Model", "SimulationError", "SolverImplicit", "State", "build_model", "rollout"]
