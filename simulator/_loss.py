"""Rollout losses evaluated on chosen steps, with their adjoints (Warp kernels, float64)."""

from collections.abc import Sequence

import numpy as np
import warp as wp

from ._launch import ReductionLayout
from ._model import Model, State
from ._types import vec5d


@wp.kernel
def position_loss(
    q: wp.array2d(dtype=vec5d),
    target: wp.array2d(dtype=vec5d),
    weight: wp.array(dtype=vec5d),
    node_count: int,
    span: int,
    value: wp.array(dtype=wp.float64),
):
    """value[world] += sum_n sum_k weight[n, k] (q[n, k] - target[n, k])^2 over ``span`` consecutive nodes
    per thread, summed over the thread block first (one atomic per block, see ReductionLayout)."""
    b, c = wp.tid()
    acc = wp.float64(0.0)
    for n in range(c * span, wp.min((c + 1) * span, node_count)):
        d = q[b, n] - target[b, n]
        acc += wp.dot(wp.cw_mul(weight[n], d), d)
    wp.tile_atomic_add(value, wp.tile_sum(wp.tile(acc)), offset=b)


@wp.kernel
def position_loss_adjoint(
    q: wp.array2d(dtype=vec5d),
    target: wp.array2d(dtype=vec5d),
    weight: wp.array(dtype=vec5d),
    adj_q: wp.array2d(dtype=vec5d),
):
    """adj_q += 2 weight (q - target)."""
    b, n = wp.tid()
    adj_q[b, n] = adj_q[b, n] + wp.float64(2.0) * wp.cw_mul(weight[n], q[b, n] - target[b, n])


class TrajectoryLoss:
    """Weighted squared distance of positions (and optionally sliding coordinates) to targets.

    L = sum over observed steps t of  mean over observed nodes of
        (|x_t - x*_t|^2 + slide_weight |s_t - s*_t|^2) / spacing^2      (dimensionless, per world)

    Args:
        model: the model whose states are compared.
        steps: the step indices t (0 = initial state) at which targets are given, length F.
        positions: target absolute positions [m], shape [B or 1, F, W, H, 3].
        sliding: optional target sliding coordinates [m], shape [B or 1, F, W, H, 2].
        nodes: optional boolean mask [W, H] of observed nodes (default: all).
        slide_weight: weight of the sliding term (used only with ``sliding``).
        position_weight: weight of the position term.
    """

    def __init__(self, model: Model, *, steps: Sequence[int], positions: np.ndarray, sliding=None, nodes=None,
                 slide_weight: float = 1.0, position_weight: float = 1.0):
        self.model = model
        steps = [int(t) for t in steps]
        positions = np.asarray(positions, dtype=np.float64)
        width, height = model.nodes
        frames = len(steps)
        if positions.ndim != 5 or positions.shape[1:] != (frames, width, height, 3):
            raise ValueError(f"positions have shape {positions.shape}: expected (B, {frames}, {width}, {height}, 3)")
        worlds = model.world_count
        if positions.shape[0] not in (1, worlds):
            raise ValueError(f"positions have {positions.shape[0]} worlds: expected 1 or {worlds}")
        if len(set(steps)) != frames or min(steps, default=0) < 0:
            raise ValueError("steps must be distinct step indices >= 0")
        mask = np.ones((width, height), dtype=bool) if nodes is None else np.asarray(nodes, dtype=bool)
        if mask.shape != (width, height) or not mask.any():
            raise ValueError(f"nodes mask must have shape {(width, height)} and select at least one node")
        flat_mask = model.from_grid(mask[None])[0]
        count = flat_mask.sum()
        scale = 1.0 / (count * model.spacing**2)
        weight = np.zeros((model.node_count, 5))
        weight[flat_mask, :3] = scale * float(position_weight)
        target = np.zeros((worlds, frames, model.node_count, 5))
        rel = positions - model.origin_np[:, None, None, None, :]  # [B, F, W, H, 3] relative to the origin
        for f in range(frames):
            target[:, f, :, :3] = model.from_grid(rel[:, f])
        if sliding is not None:
            sliding = np.asarray(sliding, dtype=np.float64)
            if sliding.shape[1:] != (frames, width, height, 2) or sliding.shape[0] not in (1, worlds):
                raise ValueError(f"sliding has shape {sliding.shape}: expected (B, {frames}, {width}, {height}, 2)")
            crossing = flat_mask & model.crossing_mask_np
            weight[crossing, 3:] = scale * float(slide_weight)
            for f in range(frames):
                absolute = model.from_grid(np.broadcast_to(sliding[:, f], (worlds, width, height, 2)))
                target[:, f, :, 3:] = absolute - model.rest_sliding_np[None]
        dev = model.device
        self.steps = steps
        self._frame_of_step = {t: f for f, t in enumerate(steps)}
        self._weight = wp.array(weight, dtype=vec5d, device=dev)
        self._targets = [wp.array(np.ascontiguousarray(target[:, f]), dtype=vec5d, device=dev) for f in range(frames)]
        self._value = wp.zeros(worlds, dtype=wp.float64, device=dev)
        self._layout = ReductionLayout.for_device(model.device, model.node_count)

    def observes(self, step: int) -> bool:
        return step in self._frame_of_step

    def value(self, step: int, state: State) -> np.ndarray:
        """Loss contribution [B] of ``state`` at ``step`` (zero if the step is not observed)."""
        if step not in self._frame_of_step:
            return np.zeros(self.model.world_count)
        self._value.zero_()
        layout = self._layout
        wp.launch(position_loss, dim=(self.model.world_count, layout.threads),
                  inputs=[state.q, self._targets[self._frame_of_step[step]], self._weight, self.model.node_count,
                          layout.span], outputs=[self._value], device=self.model.device, block_dim=layout.block_dim)
        return self._value.numpy().copy()

    def add_adjoint(self, step: int, state: State, adj_q: wp.array2d) -> None:
        """Add dL/dq of the contribution at ``step`` into ``adj_q``."""
        if step not in self._frame_of_step:
            return
        wp.launch(position_loss_adjoint, dim=(self.model.world_count, self.model.node_count),
                  inputs=[state.q, self._targets[self._frame_of_step[step]], self._weight], outputs=[adj_q],
                  device=self.model.device)


class LossSum:
    """The sum of rollout losses (each with ``observes``, ``value(step, state)`` and ``add_adjoint``), as one.

    Args:
        losses: the terms; every one sees every step of a pass (``value`` is called for each).
    """

    def __init__(self, losses: Sequence):
        self.losses = tuple(losses)
        if not self.losses:
            raise ValueError("LossSum needs at least one loss")
        self.steps = sorted(set().union(*(loss.steps for loss in self.losses)))

    def observes(self, step: int) -> bool:
        """Whether any term reads the state at ``step``."""
        return any(loss.observes(step) for loss in self.losses)

    def value(self, step: int, state: State) -> np.ndarray:
        """The terms' contributions [B] at ``step``, summed."""
        return sum(np.asarray(loss.value(step, state), dtype=np.float64) for loss in self.losses)

    def add_adjoint(self, step: int, state: State, adj_q: wp.array2d) -> None:
        """Add every term's dL/dq at ``step`` into ``adj_q``."""
        for loss in self.losses:
            loss.add_adjoint(step, state, adj_q)
