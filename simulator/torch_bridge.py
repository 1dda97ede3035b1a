"""A rollout loss as a differentiable torch operation (the engine's only torch adapter).

``RolloutProblem`` fixes a single-world model, a loss and a horizon, and exposes a flat parameter
vector theta of *multipliers* of chosen parameter arrays (theta = 1 is the model as built; multipliers
keep every component of theta of order one). ``rollout_loss(theta, problem)`` is a torch op:

* backward: exact reverse mode (``rollout_gradient``), dL/dtheta_k = sum_e dL/dp_e * p0_e;
* forward mode (``torch.func.jvp``, ``torch.autograd.forward_ad``): grad . tangent with the exact
  gradient of the forward pass (the loss is a scalar);
* ``RolloutProblem.value_and_jvp``: many tangents at once as worlds of one batch (``rollout_jvp``,
  float64 central differences, relative error ~1e-8), for forward-gradient estimators.

Tensors may live on any device; the values cross to the engine's device as float64 numpy arrays.
Importing this module imports torch; ``simulator`` itself never does.
"""

from collections.abc import Callable, Sequence

import numpy as np
import torch

from ._gradient import rollout_gradient, rollout_jvp
from ._model import Model
from ._solver import SolverImplicit


class RolloutProblem:
    """A loss on a rollout as a function of multipliers of some parameter arrays.

    Args:
        model: single-world model; its current parameter arrays are the reference values p0.
        make_loss: ``make_loss(model)`` returns a ``TrajectoryLoss``-like object for a model of any
            number of worlds built from the same spec.
        steps: rollout length.
        parameters: names of the parameter arrays that theta scales, in order.
        dt: time step [s]; tolerance: CG tolerance (tight, so that gradients are smooth).
    """

    def __init__(self, model: Model, make_loss: Callable, *, steps: int, parameters: Sequence[str], dt: float,
                 tolerance: float = 1.0e-12):
        if model.world_count != 1:
            raise ValueError(f"RolloutProblem needs a single-world model, got {model.world_count} worlds")
        unknown = [name for name in parameters if name not in model.parameter_names]
        if unknown or not parameters:
            raise ValueError(f"parameters {unknown or '[]'} invalid: expected names from "
                             f"{', '.join(model.parameter_names)}")
        self.model = model
        self.make_loss = make_loss
        self.loss = make_loss(model)
        self.steps = int(steps)
        self.parameters = tuple(parameters)
        self.dt = float(dt)
        self.tolerance = float(tolerance)
        self.solver = SolverImplicit(model, dt=dt, tolerance=tolerance, max_iterations=3000)
        self.reference = {name: model.parameter(name) for name in self.parameters}

    @property
    def dim(self) -> int:
        """Number of multipliers theta."""
        return len(self.parameters)

    def apply(self, theta: np.ndarray) -> None:
        """Set the model's parameter arrays to theta_k * p0_k."""
        for value, name in zip(np.asarray(theta, dtype=np.float64), self.parameters, strict=True):
            self.model.set_parameter(name, value * self.reference[name])

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """The loss at multipliers ``theta`` and its exact gradient (reverse mode) [dim]."""
        self.apply(theta)
        result = rollout_gradient(self.model, self.solver, self.loss, steps=self.steps)
        grads = result.parameters.numpy()
        grad = np.array([(grads[name] * self.reference[name]).sum() for name in self.parameters])
        return float(result.loss[0]), grad

    def value_and_jvp(self, theta: np.ndarray, tangents: np.ndarray) -> tuple[float, np.ndarray]:
        """Loss and its derivatives along the rows of ``tangents`` [k, dim]."""
        self.apply(theta)
        tangents = np.atleast_2d(np.asarray(tangents, dtype=np.float64))
        arrays = {name: tangents[:, k].reshape(-1, *([1] * (self.reference[name].ndim - 1)))
                  * self.reference[name][0][None] for k, name in enumerate(self.parameters)}
        result = rollout_jvp(self.model, self.solver, self.make_loss, steps=self.steps, tangents=arrays)
        return result.loss, result.jvp


class _RolloutLoss(torch.autograd.Function):
    @staticmethod
    def forward(theta: torch.Tensor, problem: RolloutProblem) -> torch.Tensor:
        value, grad = problem.value_and_grad(theta.detach().cpu().double().numpy())
        return theta.new_tensor(value), theta.new_tensor(grad)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.mark_non_differentiable(output[1])
        ctx.save_for_backward(output[1])
        ctx.save_for_forward(output[1])
        ctx.set_materialize_grads(False)

    @staticmethod
    def backward(ctx, grad_value, _grad_of_grad):
        if grad_value is None:
            return None, None
        (grad,) = ctx.saved_tensors
        return grad_value * grad, None

    @staticmethod
    def jvp(ctx, theta_tangent, _problem_tangent):
        # The loss is a scalar and its exact gradient is already known from the forward pass, so the
        # directional derivative is grad . tangent (torch ops, hence valid under torch.func transforms).
        (grad,) = ctx.saved_tensors
        return (grad * theta_tangent).sum(), None


def rollout_loss(theta: torch.Tensor, problem: RolloutProblem) -> torch.Tensor:
    """The problem's rollout loss at multipliers ``theta`` [dim] as a differentiable scalar tensor."""
    if theta.shape != (problem.dim,):
        raise ValueError(f"theta has shape {tuple(theta.shape)}: expected ({problem.dim},)")
    value, _ = _RolloutLoss.apply(theta, problem)
    return value
