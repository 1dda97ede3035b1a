"""The yarn-level woven-cloth engine (NVIDIA Warp, float64): Model, State, implicit solver, gradients.

Physics (Cirio et al. 2014; Gong et al., ICLR 2022; see the project's design note yarn-model.md):
each crossing is a 5-DOF node (x and the sliding coordinates u, v of its warp and weft yarn), border
nodes are yarn ends (x only). Forces: stretching, bending (atan2 angles with a small-angle series),
shear with smooth jamming, crimp-based compression N, smooth stick/slip friction with anchors whose
sharpness scales with mu N, repulsive parallel-yarn contact, gravity on x and on u, v, soft pins,
per-triangle wind, and the integrated Eulerian-on-Lagrangian mass with its velocity-quadratic forces.
One linearized backward-Euler step solves (M + h D + h^2 K) v = M qdot + h F by CG with a yarn-line
preconditioner, on an operator assembled once per step from exact element Hessians (5x5 blocks on the
13-point node stencil) or matrix-free from the force kernels' adjoints. B worlds advance in one
launch per kernel.

Deliberate differences from the public original code (its defects, yarn-model.md section 5): friction of
the right sign with |F_u| and scale-aware sharpness, theta^2 in the sliding bending force, repulsive
contact, exact Jacobians, a symmetric system. ``SolverImplicit(reference_quirks=...)`` reproduces the
original's behaviour for comparisons with its trajectories (``simulator._reference``).

Gradients: ``rollout_gradient`` (reverse mode, adjoint solve, sqrt(T) checkpointing), ``rollout_jvp``
(forward mode as worlds of one batch), ``simulator.torch_bridge`` (a rollout loss as a torch op).
"""

from ._adjoint import ModelGradient, StateAdjoint, StepAdjoint
from ._gradient import INITIAL_STATE, RolloutGradient, RolloutJvp, rollout_gradient, rollout_jvp
from ._loss import TrajectoryLoss
from ._memory import array_bytes
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
    "array_bytes",
    "build_model",
    "rollout",
    "rollout_gradient",
    "rollout_jvp",
]
