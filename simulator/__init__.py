"""The yarn-level woven-cloth engine (NVIDIA Warp, float64): Model, State, implicit solver, gradients.

Physics (Cirio et al. 2014; Gong et al., ICLR 2022; docs/PHYSICS.md):
each crossing is a 5-DOF node (x and the sliding coordinates u, v of its warp and weft yarn), border
nodes are yarn ends (x only). Forces: stretching, bending (atan2 angles with a small-angle series),
shear with smooth jamming, crimp-based compression N, smooth stick/slip friction with anchors whose
sharpness scales with mu N, repulsive parallel-yarn contact, gravity on x and on u, v, soft pins,
per-triangle wind, and the integrated Eulerian-on-Lagrangian mass with its velocity-quadratic forces.
One linearized backward-Euler step solves (M + h D + h^2 K) v = M qdot + h F by CG with a yarn-line
preconditioner, on an operator assembled once per step from exact element Hessians (5x5 blocks on the
13-point node stencil) or matrix-free from the force kernels' adjoints. B worlds advance in one
launch per kernel. Each physical term is one unit (``simulator.terms``, interface ``simulator.ForceTerm``):
its parameters, forces, energy, share of the system matrix and of the preconditioner; the solver, the
operator, the preconditioner and the adjoint loop over ``Model.terms``, so a new term is one new class.
``solver.step(state_in, state_out, control, contacts, dt)`` takes the inputs that vary in time
(``simulator.Control``: wind, pin targets).

Deliberate differences from the public original code (its defects, docs/PHYSICS.md section 5): friction of
the right sign with |F_u| and scale-aware sharpness, theta^2 in the sliding bending force, repulsive
contact, exact Jacobians, a symmetric system. ``SolverImplicit(reference_quirks=...)`` reproduces the
original's behaviour for comparisons with its trajectories (``simulator._reference``).

Gradients: ``rollout_gradient`` (reverse mode, adjoint solve, sqrt(T) checkpointing), ``rollout_jvp``
(forward mode as worlds of one batch), ``simulator.torch_bridge`` (a rollout loss as a torch op).

Public names are imported on first use, so ``import simulator`` (and ``simulator.ClothSpec``) does not
import Warp; the first engine name used does.
"""

import importlib

#: public name -> the private module that defines it (imported on first use)
_ORIGIN = {
    "ModelGradient": "._adjoint",
    "StateAdjoint": "._adjoint",
    "StepAdjoint": "._adjoint",
    "INITIAL_STATE": "._gradient",
    "RolloutGradient": "._gradient",
    "RolloutJvp": "._gradient",
    "rollout_gradient": "._gradient",
    "rollout_jvp": "._gradient",
    "TrajectoryLoss": "._loss",
    "LossSum": "._loss",
    "MEASUREMENTS": "._point_loss",
    "MaterialPointLoss": "._point_loss",
    "PointMeasurement": "._point_loss",
    "array_bytes": "._memory",
    "Model": "._model",
    "PARAMETER_ARRAYS": "._model",
    "State": "._model",
    "build_model": "._model",
    "Configuration": "._terms",
    "ForceTerm": "._terms",
    "FrozenState": "._terms",
    "Launch": "._terms",
    "Stage": "._terms",
    "Contacts": "._contacts",
    "Control": "._control",
    "ControlAdjoint": "._control",
    "ControlSchedule": "._control",
    "Obstacle": "._obstacle",
    "OBSTACLE_KINDS": "._obstacle",
    "ObstaclePath": "._obstacle",
    "SelfContactSpec": "._obstacle",
    "PinPath": "._spec",
    "WindPath": "._spec",
    "Rollout": "._rollout",
    "SolveHealth": "._stepping",
    "SolveTally": "._stepping",
    "advance": "._stepping",
    "SimulationError": "._health",
    "StepLimits": "._health",
    "StepMonitor": "._health",
    "rollout": "._rollout",
    "SolverImplicit": "._solver",
    "ClothSpec": "._spec",
    "POSES": "._spec",
}

#: subpackages and modules reached as attributes (``simulator.terms.Stretch``)
_SUBMODULES = ("terms", "torch_bridge")

__all__ = sorted((*_ORIGIN, *_SUBMODULES))


def __getattr__(name: str):
    """Import a public name from its module on first use (PEP 562)."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _ORIGIN.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
