"""The cloth-fitting objective h(θ): simulate the scene with parameters p(θ), compare with observations.

It offers every capability of ``learning.estimators.Objective``, with batched worlds:

- ``value`` / ``values``: one rollout of B worlds, one per parameter vector;
- ``value_and_grad``: exact reverse mode (``simulator.rollout_gradient``), chained through the
  scene-parameter map and the reparameterisation;
- ``value_and_jvp``: directional derivatives along b tangents, from one rollout of 2b + 1 worlds
  (central differences of the residuals; ``residual_jvp`` is the one place to swap for an
  engine JVP); in the processes of a ``torch.distributed`` group each simulates its share of the
  tangents and every process gets all the derivatives (``learning.estimators.DirectionGroup``);
- ``residual_jacobian``: the Jacobian of the residuals (Gauss–Newton matrix, uncertainty). The last
  one is kept: JVPs at the same θ (a fit's first estimate after each whitening) are read off it
  instead of simulated again.

Forward differences and values work with any solver, including ``reference_quirks`` ones, for
which the engine refuses reverse mode.
"""

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

import scenes
import simulator
from learning.estimators import EvaluationFailed, default_group
from learning.fit import FitError, ParameterSpace

from ._observations import Observations
from ._residuals import ObservationLoss
from ._scene_parameters import SceneParameters
from ._tracks import CameraPoints, PointTracks, TrackModel

__all__ = ["ClothObjective", "observed_states"]


def observed_states(model: simulator.Model, solver: simulator.SolverImplicit, steps: Sequence[int],
                    health: simulator.SolveHealth | None = None) -> np.ndarray:
    """Generalized coordinates q of every world at the given steps [B, F, nodes, 5], from the rest state.

    Raises:
        simulator.SimulationError: a state became NaN/Inf or a step was unresolved (``simulator.StepMonitor``).
    """
    wanted = {int(t): k for k, t in enumerate(steps)}
    out = np.empty((model.world_count, len(wanted), model.node_count, 5))
    start = model.state()
    if 0 in wanted:
        out[:, wanted[0]] = start.q.numpy()
    for t, _previous, current in simulator.advance(model, solver, steps=max(wanted), state=start, health=health):
        if t in wanted:
            out[:, wanted[t]] = current.q.numpy()
    return out


class ClothObjective:
    """h(θ) = the sum of the observation models' losses of the scene simulated at p = space.to_values(θ).

    An observation model maps the simulated states to predicted measurements and compares them with what was
    observed: ``steps`` (the engine steps it reads), ``size`` (its residuals), ``residuals(q)`` (numpy, the
    states at its steps [B, S, nodes, 5] -> r [B, M] with loss |r|^2) and ``engine_loss(model)`` (the same loss
    for reverse mode: ``observes``, ``value``, ``add_adjoint``). Node trajectories (``Observations`` ->
    ``ObservationLoss``), point tracks through a camera (``PointTracks`` -> ``TrackModel``) and a depth camera's
    points (``CameraPoints`` -> ``TrackModel``) are three.

    Args:
        scene: the scene (every value not fitted stays as in the scene).
        observations: what was observed: ``Observations``, ``PointTracks`` or a sequence of them (e.g. the tracks
            of several cameras); the last step any of them reads says how long each rollout is.
        space: the fitted parameters (dotted scene names), bounds and transforms.
        slide_weight: weight of the sliding term of the loss (when sliding is observed).
        tolerance: relative tolerance of the solver's linear solves; forward differences need
            a tight one (the default keeps their noise far below the differences of 1e-4 steps).
        jvp_step: central-difference step in θ (per unit of the largest tangent entry).
        device: Warp device (default: the scene's, resolved).
        reference_quirks: passed to ``simulator.SolverImplicit`` (reverse mode is then refused).
    """

    def __init__(self, scene: scenes.Scene, observations: Observations, space: ParameterSpace, *,
                 slide_weight: float = 1.0, tolerance: float = 1e-10, jvp_step: float = 1e-4, device=None,
                 reference_quirks=()):
        self.scene = scene
        self.observations = observations
        self.space = space
        self.dim = space.dim
        self.tolerance = float(tolerance)
        self.jvp_step = float(jvp_step)
        self.reference_quirks = tuple(reference_quirks)
        self.device = device if device is not None else scenes.resolve_device(scene.simulation.device)
        self._spec = scenes.build_spec(scene)
        self._models = {}
        model = self._model(1)[0]
        self.parameters = SceneParameters(scene, space.names, model)
        self._offsets = self._camera_offsets(observations)
        self.models = _observation_models(observations, model, slide_weight=slide_weight,
                                          dt=scene.simulation.solver_dt, reach=self._offsets)
        self._steps = sorted(set().union(*(m.steps for m in self.models)))
        if self._steps[-1] < 1:
            raise FitError("the observations hold no motion (only the initial state): expected at least one "
                           "observation after t = 0")
        self._base = {name: model.parameter(name) for name in self.parameters.arrays}
        self._trajectory_loss = None
        self._jacobian = None  # (θ, r, J) of the last residual_jacobian
        self.evaluations = 0  # world-rollouts so far (a gradient counts as one)
        #: the linear solves of every rollout ("forward") and of every reverse-mode pass ("adjoint")
        self.solves = {"forward": simulator.SolveTally(), "adjoint": simulator.SolveTally()}

    @property
    def steps(self) -> int:
        """Steps of every rollout (up to the last step an observation reads)."""
        return self._steps[-1]

    @property
    def read_steps(self) -> tuple[int, ...]:
        """The steps whose states the observation models read (``positions`` returns them), increasing."""
        return tuple(self._steps)

    # -- capabilities of learning.estimators.Objective -----------------------------------------
    def value(self, theta: Tensor) -> float:
        """h(θ) (one world)."""
        return float(self._loss_values(_numpy(theta)[None])[0])

    def values(self, thetas: Tensor) -> Tensor:
        """h(θ_i) for rows of ``thetas`` [b, N] → [b], as b worlds of one rollout."""
        return torch.as_tensor(self._loss_values(_numpy(thetas)), dtype=thetas.dtype)

    def value_and_grad(self, theta: Tensor) -> tuple[float, Tensor]:
        """(h(θ), ∇h(θ) [N]) by reverse mode through the rollout (about 3.3 rollouts of cost)."""
        return self._reverse(theta, truncate_every=None)

    def value_and_truncated_grad(self, theta: Tensor, *, last_steps: int) -> tuple[float, Tensor]:
        """(h(θ), truncated reverse-mode gradient [N]): every observed frame's loss is back-propagated
        through at most ``last_steps`` steps (windows counted back from the last observed step, see
        ``simulator.rollout_gradient``'s ``truncate_every``); ``last_steps`` ≥ steps is exact, 0 gives
        zero (the loss has no explicit dependence on θ)."""
        if last_steps < 0:
            raise ValueError(f"last_steps must be >= 0, got {last_steps}")
        if last_steps == 0:
            return self.value(theta), torch.zeros_like(theta)
        return self._reverse(theta, truncate_every=int(last_steps))

    def _reverse(self, theta: Tensor, *, truncate_every: int | None) -> tuple[float, Tensor]:
        if self._offsets:
            names = ", ".join(self.space.names[column] for column, _ in self._offsets.values())
            raise FitError(f"reverse mode does not fit cameras' time offsets ({names}) yet: expected the forward "
                           "estimator (--estimator forward, the default for up to 16 parameters) or Gauss-Newton")
        theta_np = _numpy(theta)
        model, solver = self._prepare(theta_np[None])
        if self._trajectory_loss is None:
            losses = [m.engine_loss(model) for m in self.models]
            self._trajectory_loss = losses[0] if len(losses) == 1 else simulator.LossSum(losses)
        try:
            result = simulator.rollout_gradient(model, solver, self._trajectory_loss, steps=self.steps,
                                                truncate_every=truncate_every)
        except simulator.SimulationError as exc:
            raise EvaluationFailed(str(exc)) from exc
        self.evaluations += 1
        self.solves["forward"].add(result.health)
        self.solves["adjoint"].add(result.adjoint_health)
        grad_values = self.parameters.reduce(result.parameters.numpy())[0]
        grad = grad_values * self.space.derivative(theta_np)
        return float(result.loss[0]), torch.as_tensor(grad, dtype=theta.dtype)

    def value_and_jvp(self, theta: Tensor, tangents: Tensor) -> tuple[float, Tensor]:
        """(h(θ), ∇h(θ)·v_i [b]) for tangents [b, N]: 2 rᵀ(J v_i) from one rollout of 2b + 1 worlds."""
        r, jv = self.residual_jvp(_numpy(theta), _numpy(tangents))
        return float(r @ r), torch.as_tensor(2.0 * jv @ r, dtype=tangents.dtype)

    # -- residuals -------------------------------------------------------------------------------
    def residuals(self, theta) -> np.ndarray:
        """Residuals r(θ) [M] with h = |r|²."""
        thetas = _numpy(theta)[None]
        return self._residuals(self._simulate(thetas), thetas)[0]

    def residual_jvp(self, theta: np.ndarray, tangents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(r(θ) [M], J(θ) v_i [b, M]) by central differences: worlds θ, θ ± ε_i v_i in one rollout (or from
        the kept Jacobian when it was taken at this θ).

        ε_i = jvp_step / max|v_i|, so no coordinate moves by more than ``jvp_step``.
        """
        tangents = np.atleast_2d(np.asarray(tangents, dtype=np.float64))
        scale = np.abs(tangents).max(axis=1)
        if not np.all(scale > 0.0):
            raise ValueError("tangents must be nonzero")
        if self._jacobian is not None and np.array_equal(self._jacobian[0], theta):
            _, r, jacobian = self._jacobian
            return r, tangents @ jacobian.T
        group = default_group()
        if group is None:
            return self._central_differences(theta, tangents, scale)
        # directions shared out over the processes of a torch.distributed group: each simulates its share
        mine = group.share(len(tangents))
        if mine.stop > mine.start:
            r, local = self._central_differences(theta, tangents[mine], scale[mine])
        else:
            r = self.residuals(theta)
            local = np.zeros((0, len(r)))
        return r, group.gather_rows(local, count=len(tangents), trailing=(len(r),)).numpy()

    def _central_differences(self, theta: np.ndarray, tangents: np.ndarray, scale: np.ndarray):
        """(r(θ), J v_i [b, M]) from one rollout of the worlds θ, θ ± ε_i v_i."""
        eps = self.jvp_step / scale
        shifted = eps[:, None] * tangents
        thetas = np.concatenate([theta[None], theta + shifted, theta - shifted])
        r = self._residuals(self._simulate(thetas), thetas)
        b = len(tangents)
        return r[0], (r[1 : b + 1] - r[b + 1 :]) / (2.0 * eps[:, None])

    def residual_jacobian(self, theta) -> tuple[np.ndarray, np.ndarray]:
        """(r(θ) [M], J(θ) = ∂r/∂θ [M, N]) from one rollout of 2N + 1 worlds (kept for JVPs at the same θ)."""
        theta = _numpy(theta).copy()
        self._jacobian = None
        r, jv = self.residual_jvp(theta, np.eye(self.dim))
        self._jacobian = (theta, r, jv.T)
        return r, jv.T

    def positions(self, thetas) -> np.ndarray:
        """Simulated positions [m] at the steps the observations read for rows of ``thetas`` [b, N] → [b, F, W, H,
        3]."""
        thetas = np.atleast_2d(_numpy(thetas))
        model = self._model(len(thetas))[0]
        q = self._simulate(thetas)  # [b, F, nodes, 5]
        b, frames = q.shape[:2]
        grid = model.to_grid(q[..., :3].reshape(b * frames, model.node_count, 3) + model.origin_np[0])
        return grid.reshape(b, frames, *grid.shape[1:])

    # -- engine ----------------------------------------------------------------------------------
    def _loss_values(self, thetas: np.ndarray) -> np.ndarray:
        r = self._residuals(self._simulate(thetas), thetas)
        return (r * r).sum(axis=1)

    def _residuals(self, states: np.ndarray, thetas: np.ndarray) -> np.ndarray:
        """Every observation model's residuals, concatenated [B, M], from the states at ``_steps`` of the worlds of
        ``thetas`` [B, N] (which also hold the fitted cameras' time offsets)."""
        index = {step: k for k, step in enumerate(self._steps)}
        shifts = self.frame_shifts(thetas)
        return np.concatenate([m.residuals(states[:, [index[t] for t in m.steps]], *shifts[k])
                               for k, m in enumerate(self.models)], axis=1)

    def frame_shifts(self, thetas: np.ndarray) -> list[tuple]:
        """Per observation model: () when its frames' times are fixed, else (shifts [B],) [s] of its frames from the
        tracked times: the fitted time offset of its camera less the one it was tracked with."""
        if not self._offsets:
            return [()] * len(self.models)
        values = self.space.to_values(np.atleast_2d(thetas))
        shifts = []
        for model in self.models:
            entry = self._offsets.get(model.tracks.camera.name) if isinstance(model, TrackModel) else None
            shifts.append(() if entry is None else (values[:, entry[0]] - model.tracks.camera.time_offset,))
        return shifts

    def _camera_offsets(self, observations) -> dict[str, tuple[int, tuple[float, float]]]:
        """{camera name: (column of its time offset among the fitted parameters, how far (lower, upper) [s] its
        frames may shift from the tracked times)} for the fitted offsets."""
        given = list(observations) if isinstance(observations, (list, tuple)) else [observations]
        tracked = {item.camera.name: item.camera.time_offset for item in given
                   if isinstance(item, PointTracks | CameraPoints)}
        offsets = {}
        for column, camera in self.parameters.camera_offsets.items():
            name = self.scene.cameras[camera].name
            if name not in tracked:
                raise FitError(f"{self.space.names[column]}: no footage of camera {name!r} among the observations: "
                               "expected its tracks, or not to fit its time offset")
            bounded = self.space.parameters[column]
            offsets[name] = (column, (bounded.lower - tracked[name], bounded.upper - tracked[name]))
        return offsets

    def _simulate(self, thetas: np.ndarray) -> np.ndarray:
        model, solver = self._prepare(thetas)
        self.evaluations += len(thetas)
        health = simulator.SolveHealth()
        try:
            states = observed_states(model, solver, self._steps, health=health)
        except simulator.SimulationError as exc:
            raise EvaluationFailed(str(exc)) from exc
        self.solves["forward"].add(health)
        return states

    def _prepare(self, thetas: np.ndarray):
        model, solver = self._model(len(thetas))
        self.parameters.apply(model, self.space.to_values(thetas), self._base)
        return model, solver

    def _model(self, worlds: int):
        if worlds not in self._models:
            model = simulator.build_model([self._spec] * worlds, device=self.device)
            solver = simulator.SolverImplicit(model, dt=self.scene.simulation.solver_dt, tolerance=self.tolerance,
                                              reference_quirks=self.reference_quirks)
            self._models[worlds] = (model, solver)
        return self._models[worlds]


def _observation_models(observations, model: simulator.Model, *, slide_weight: float, dt: float,
                        reach: dict) -> list:
    """The observation model of each kind of observations given (``reach``: {camera name: (column, (lower, upper))}
    of the cameras whose time offsets are fitted)."""
    given = list(observations) if isinstance(observations, (list, tuple)) else [observations]
    if not given:
        raise FitError("no observations: expected node trajectories or point tracks")
    models = []
    for item in given:
        if isinstance(item, Observations):
            models.append(ObservationLoss(model, item, slide_weight=slide_weight))
        elif isinstance(item, PointTracks | CameraPoints):
            models.append(item.model(model, dt=dt, reach=reach[item.camera.name][1] if item.camera.name in reach
                                     else None))
        else:
            raise TypeError(f"observations of type {type(item).__name__}: expected Observations, PointTracks or "
                            "CameraPoints")
    return models


def _numpy(x) -> np.ndarray:
    """θ (torch or numpy) as a float64 array, checked to be finite."""
    array = x.detach().cpu().numpy() if isinstance(x, Tensor) else x
    array = np.asarray(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError("parameters hold NaN or Inf (the optimizer diverged; try a smaller learning rate)")
    return array
