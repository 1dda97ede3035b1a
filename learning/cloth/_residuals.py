"""The fitting loss as weighted residuals of the engine's states against observations.

    L = (1/F) Σ_f  mean over observed nodes of ( |x_f − x*_f|² + w_s |s_f − s*_f|² ) / L²

(F observed frames, spacing L, sliding weight w_s; the sliding term on observed crossings only, when
sliding is observed): the mean squared position error in units of the spacing, dimensionless.
It equals ``simulator.TrajectoryLoss`` with weights divided by F (used for reverse mode); the
residual vector r with L = |r|² serves forward differences and the Gauss–Newton matrix.
"""

import numpy as np

import simulator

from ._observations import Observations

__all__ = ["ObservationLoss"]


class ObservationLoss:
    """Residuals r (L = |r|²) of observed states against ``observations``.

    Args:
        model: any model of the scene (its grid, origin and rest sliding coordinates are used).
        observations: what was observed.
        slide_weight: weight w_s of the sliding term (ignored when sliding is not observed).
    """

    def __init__(self, model: simulator.Model, observations: Observations, *, slide_weight: float = 1.0):
        self.observations = observations
        self.steps = [int(t) for t in observations.steps]
        self.position_weight = 1.0 / observations.frames
        self.slide_weight = float(slide_weight) / observations.frames
        mask = np.ones(model.nodes, dtype=bool) if observations.nodes is None else observations.nodes
        flat = model.from_grid(mask[None])[0]
        scale = 1.0 / (flat.sum() * model.spacing**2)
        weight = np.zeros((model.node_count, 5))
        weight[flat, :3] = scale * self.position_weight
        target = np.zeros((observations.frames, model.node_count, 5))
        target[..., :3] = model.from_grid(observations.positions) - model.origin_np[0]
        if observations.sliding is not None:
            weight[flat & model.crossing_mask_np, 3:] = scale * self.slide_weight
            target[..., 3:] = model.from_grid(observations.sliding) - model.rest_sliding_np
        self._selected = weight > 0.0  # [nodes, 5]
        self._sqrt_weight = np.sqrt(weight[self._selected])
        self._target = target[:, self._selected]  # [F, M per frame]
        self._is_position = np.nonzero(self._selected)[1] < 3  # [M per frame]

    @property
    def size(self) -> int:
        """Number of scalar residuals M."""
        return self._target.size

    def residuals(self, states: np.ndarray) -> np.ndarray:
        """r [B, M] from the generalized coordinates q of the observed steps [B, F, nodes, 5]."""
        states = np.asarray(states)
        r = (states[:, :, self._selected] - self._target[None]) * self._sqrt_weight
        return r.reshape(states.shape[0], -1)

    def residual_scales(self) -> np.ndarray:
        """Each residual over the position (or sliding) error it holds, d [M] (r = d (x - x*))."""
        return np.tile(self._sqrt_weight, self.observations.frames)

    def position_errors(self, r: np.ndarray) -> np.ndarray:
        """Position errors [m] x − x* from residuals r [..., M], shape [..., F, observed nodes · 3]."""
        per_frame = r.reshape(*r.shape[:-1], self.observations.frames, -1)
        return per_frame[..., self._is_position] / self._sqrt_weight[self._is_position]

    def engine_loss(self, model: simulator.Model) -> simulator.TrajectoryLoss:
        """The same loss for reverse mode (the observation-model interface of ``ClothObjective``)."""
        return self.trajectory_loss(model)

    def trajectory_loss(self, model: simulator.Model) -> simulator.TrajectoryLoss:
        """The same loss as a ``simulator.TrajectoryLoss`` of ``model`` (for ``simulator.rollout_gradient``)."""
        obs = self.observations
        return simulator.TrajectoryLoss(
            model, steps=self.steps, positions=obs.positions[None],
            sliding=None if obs.sliding is None else obs.sliding[None], nodes=obs.nodes,
            slide_weight=self.slide_weight, position_weight=self.position_weight)
