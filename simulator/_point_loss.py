"""Losses on measurements of material points of the cloth at arbitrary times, with their adjoints (Warp, float64).

A material point p is a fixed point of the cloth's parameter grid: a bilinear combination of the four nodes of
a cell, x_p(q) = origin + sum_k w_pk q[n_pk].xyz (a crossing has one weight 1). A measurement frame f is taken at
a time between steps: x_pf = (1 - alpha_f) x_p(q at step n_f) + alpha_f x_p(q at step n_f + 1), linear in time
across one step. A measurement m(x) of each point is compared with its target:

- "pixels": the pixel (u, v) of x in a pinhole camera in OpenCV's convention (x_cam = R x + t, Brown-Conrady
  distortion k1, k2, p1, p2, k3, K with skew; see scenes.cameras) [px];
- "camera_points": the point in the camera's frame, x_cam = R x + t [m] (a depth camera's back-projected points).

    L = sum_f sum_p w_fp |m(x_pf) - m*_fp|^2        (w_fp >= 0; 0 where the point was not seen)

``MaterialPointLoss`` follows the protocol of ``rollout_gradient``: ``value(step, state)`` is called for every
step of the forward pass, in order, and accumulates each frame's points; a frame's loss and its gradient with
respect to its points are computed when its last step has been seen. ``add_adjoint(step, state, adj_q)`` then
gathers, per node, the gradients of the frames that read that step (node-major, no atomics).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import warp as wp

from ._launch import ReductionLayout
from ._model import Model, State
from ._types import vec5d

__all__ = ["MEASUREMENTS", "MaterialPointLoss", "PointMeasurement"]

MEASUREMENTS = ("pixels", "camera_points")


@wp.kernel
def accumulate_material_points(
    q: wp.array2d(dtype=vec5d),
    origin: wp.array(dtype=wp.vec3d),
    nodes: wp.array2d(dtype=wp.int32),
    weights: wp.array2d(dtype=wp.float64),
    frame: int,
    coefficient: wp.float64,
    points: wp.array3d(dtype=wp.vec3d),
):
    """points[b, frame, p] += coefficient (origin[b] + sum_k weights[p, k] q[b, nodes[p, k]].xyz)."""
    b, p = wp.tid()
    x = origin[b]
    for k in range(4):
        node = q[b, nodes[p, k]]
        x += weights[p, k] * wp.vec3d(node[0], node[1], node[2])
    points[b, frame, p] = points[b, frame, p] + coefficient * x


@wp.kernel
def measurement_loss(
    points: wp.array3d(dtype=wp.vec3d),
    frame: int,
    targets: wp.array2d(dtype=wp.vec3d),
    weights: wp.array2d(dtype=wp.float64),
    rotation: wp.mat33d,
    translation: wp.vec3d,
    intrinsics: vec5d,
    distortion: vec5d,
    kind: int,
    point_count: int,
    span: int,
    gradient: wp.array3d(dtype=wp.vec3d),
    value: wp.array(dtype=wp.float64),
):
    """value[b] += sum_p w (m(x) - m*)^2 over ``span`` points per thread (summed over the block first), and
    gradient[b, frame, p] = dL/dx of each point. kind 0: pixels; 1: camera points. A point measured as pixels
    that is not in front of the camera adds +inf (the rollout's loss is then not finite)."""
    b, c = wp.tid()
    zero = wp.float64(0.0)
    two = wp.float64(2.0)
    acc = zero
    for p in range(c * span, wp.min((c + 1) * span, point_count)):
        w = weights[frame, p]
        camera = rotation * points[b, frame, p] + translation
        target = targets[frame, p]
        if w == zero:
            gradient[b, frame, p] = wp.vec3d(zero, zero, zero)
        elif kind == 1:
            d = camera - target
            acc += w * wp.dot(d, d)
            gradient[b, frame, p] = wp.transpose(rotation) * (two * w * d)
        elif camera[2] <= zero:
            acc += wp.float64(wp.inf)
            gradient[b, frame, p] = wp.vec3d(zero, zero, zero)
        else:
            z = camera[2]
            xn = camera[0] / z
            yn = camera[1] / z
            k1, k2, p1, p2, k3 = distortion[0], distortion[1], distortion[2], distortion[3], distortion[4]
            r2 = xn * xn + yn * yn
            radial = wp.float64(1.0) + r2 * (k1 + r2 * (k2 + r2 * k3))
            xd = xn * radial + two * p1 * xn * yn + p2 * (r2 + two * xn * xn)
            yd = yn * radial + p1 * (r2 + two * yn * yn) + two * p2 * xn * yn
            fx, skew, cx, fy, cy = intrinsics[0], intrinsics[1], intrinsics[2], intrinsics[3], intrinsics[4]
            du = fx * xd + skew * yd + cx - target[0]
            dv = fy * yd + cy - target[1]
            acc += w * (du * du + dv * dv)
            # back through K, the distortion (symmetric cross term) and the perspective division, then R
            g_xd = two * w * du * fx
            g_yd = two * w * (du * skew + dv * fy)
            radial_r2 = k1 + r2 * (two * k2 + wp.float64(3.0) * r2 * k3)
            dxd_dx = radial + two * xn * xn * radial_r2 + two * p1 * yn + wp.float64(6.0) * p2 * xn
            cross = two * xn * yn * radial_r2 + two * p1 * xn + two * p2 * yn
            dyd_dy = radial + two * yn * yn * radial_r2 + wp.float64(6.0) * p1 * yn + two * p2 * xn
            g_x = g_xd * dxd_dx + g_yd * cross
            g_y = g_xd * cross + g_yd * dyd_dy
            g_camera = wp.vec3d(g_x / z, g_y / z, -(g_x * xn + g_y * yn) / z)
            gradient[b, frame, p] = wp.transpose(rotation) * g_camera
    wp.tile_atomic_add(value, wp.tile_sum(wp.tile(acc)), offset=b)


@wp.kernel
def material_points_adjoint(
    gradient: wp.array3d(dtype=wp.vec3d),
    frame: int,
    coefficient: wp.float64,
    touched: wp.array(dtype=wp.int32),
    start: wp.array(dtype=wp.int32),
    entry_point: wp.array(dtype=wp.int32),
    entry_weight: wp.array(dtype=wp.float64),
    adj_q: wp.array2d(dtype=vec5d),
):
    """adj_q[b, n].xyz += coefficient sum over the points p that node n carries (weight w) of w dL/dx_p."""
    b, k = wp.tid()
    g = wp.vec3d(wp.float64(0.0), wp.float64(0.0), wp.float64(0.0))
    for e in range(start[k], start[k + 1]):
        g += entry_weight[e] * gradient[b, frame, entry_point[e]]
    g = coefficient * g
    n = touched[k]
    adj_q[b, n] = adj_q[b, n] + vec5d(g[0], g[1], g[2], wp.float64(0.0), wp.float64(0.0))


@dataclass(frozen=True)
class PointMeasurement:
    """How points are measured: through a calibrated camera.

    Attributes:
        kind: "pixels" or "camera_points" (see the module).
        rotation: world-to-camera rotation R [3, 3].
        translation: world-to-camera translation t [3] [m].
        intrinsics: K [3, 3] [px] (pixels only).
        distortion: (k1, k2, p1, p2[, k3]) or () (pixels only).
    """

    kind: str
    rotation: np.ndarray
    translation: np.ndarray
    intrinsics: np.ndarray = field(default_factory=lambda: np.eye(3))
    distortion: tuple[float, ...] = ()

    def __post_init__(self):
        if self.kind not in MEASUREMENTS:
            raise ValueError(f"kind = {self.kind!r}: expected one of {', '.join(MEASUREMENTS)}")

    @property
    def components(self) -> int:
        """Numbers per measurement: 2 (pixels) or 3 (camera points)."""
        return 2 if self.kind == "pixels" else 3


class MaterialPointLoss:
    """L = sum_f sum_p w_fp |m(x_pf) - m*_fp|^2 over frames between steps (see the module), per world.

    Args:
        model: the model whose states are measured.
        nodes: the four nodes of each material point (flat node indices, n = i + j W), shape [P, 4].
        node_weights: their bilinear weights (summing to 1), shape [P, 4].
        frame_steps: the step n_f before each frame, shape [F] (frame f is at (n_f + alpha_f) dt).
        frame_fractions: alpha_f in [0, 1), shape [F].
        targets: the measurements m*, shape [F, P, 2 or 3] (any finite value where the weight is 0).
        weights: w_fp >= 0, shape [F, P].
        measurement: how the points are measured.
    """

    def __init__(self, model: Model, *, nodes: np.ndarray, node_weights: np.ndarray, frame_steps: Sequence[int],
                 frame_fractions: Sequence[float], targets: np.ndarray, weights: np.ndarray,
                 measurement: PointMeasurement):
        nodes = np.asarray(nodes, dtype=np.int32)
        node_weights = np.asarray(node_weights, dtype=np.float64)
        frame_steps = np.asarray(frame_steps, dtype=np.int64)
        frame_fractions = np.asarray(frame_fractions, dtype=np.float64)
        weights = np.asarray(weights, dtype=np.float64)
        points, frames = len(nodes), len(frame_steps)
        components = measurement.components
        targets = np.asarray(targets, dtype=np.float64)
        if nodes.shape != (points, 4) or node_weights.shape != (points, 4) or points == 0:
            raise ValueError(f"nodes {nodes.shape} and node_weights {node_weights.shape}: expected [P, 4], P >= 1")
        if nodes.min() < 0 or nodes.max() >= model.node_count:
            raise ValueError(f"nodes outside 0..{model.node_count - 1}")
        if frame_fractions.shape != (frames,) or np.any(frame_fractions < 0) or np.any(frame_fractions >= 1) \
                or np.any(frame_steps < 0):
            raise ValueError("frame_steps >= 0 and frame_fractions in [0, 1), one of each per frame")
        if targets.shape != (frames, points, components) or weights.shape != (frames, points):
            raise ValueError(f"targets {targets.shape} and weights {weights.shape}: expected "
                             f"[{frames}, {points}, {components}] and [{frames}, {points}]")
        if not (np.all(np.isfinite(weights)) and np.all(weights >= 0) and np.all(np.isfinite(targets))):
            raise ValueError("weights must be finite and >= 0 and targets finite")
        self.model = model
        self.measurement = measurement
        # per step: (frame, coefficient) contributions; a frame is complete at the last step it reads
        self._reads: dict[int, list[tuple[int, float]]] = {}
        self._completes: dict[int, list[int]] = {}
        for f, (n, alpha) in enumerate(zip(frame_steps.tolist(), frame_fractions.tolist(), strict=True)):
            reads = [(n, 1.0 - alpha)] + ([(n + 1, alpha)] if alpha > 0.0 else [])
            for step, coefficient in reads:
                self._reads.setdefault(step, []).append((f, coefficient))
            self._completes.setdefault(reads[-1][0], []).append(f)
        self.steps = sorted(self._reads)
        dev = model.device
        padded = np.zeros((frames, points, 3))
        padded[..., :components] = targets
        self._nodes = wp.array(nodes, dtype=wp.int32, device=dev)
        self._node_weights = wp.array(node_weights, dtype=wp.float64, device=dev)
        self._targets = wp.array(padded, dtype=wp.vec3d, device=dev)
        self._weights = wp.array(weights, dtype=wp.float64, device=dev)
        self._points = wp.zeros((model.world_count, frames, points), dtype=wp.vec3d, device=dev)
        self._gradient = wp.zeros((model.world_count, frames, points), dtype=wp.vec3d, device=dev)
        self._value = wp.zeros(model.world_count, dtype=wp.float64, device=dev)
        self._layout = ReductionLayout.for_device(dev, points)
        self._camera = _camera_arguments(measurement)
        self._inverse = _node_major(nodes, node_weights, dev)
        self._last_step = None

    def observes(self, step: int) -> bool:
        """Whether a frame reads the state at ``step``."""
        return step in self._reads

    def value(self, step: int, state: State) -> np.ndarray:
        """Loss [B] of the frames completed at ``step`` (their last step read); accumulates the frames' points.

        The steps of a pass must come in increasing order; a step at or before the last one seen starts a new
        pass (the accumulated points are cleared).
        """
        if self._last_step is None or step <= self._last_step:
            self._points.zero_()
        self._last_step = step
        worlds = self.model.world_count
        for frame, coefficient in self._reads.get(step, ()):
            wp.launch(accumulate_material_points, dim=(worlds, self._nodes.shape[0]),
                      inputs=[state.q, self.model.origin, self._nodes, self._node_weights, frame,
                              wp.float64(coefficient)], outputs=[self._points], device=self.model.device)
        completed = self._completes.get(step, ())
        if not completed:
            return np.zeros(worlds)
        layout = self._layout
        self._value.zero_()
        for frame in completed:  # the frames' losses add up on the device; one read for the step
            wp.launch(measurement_loss, dim=(worlds, layout.threads),
                      inputs=[self._points, frame, self._targets, self._weights, *self._camera,
                              self._nodes.shape[0], layout.span], outputs=[self._gradient, self._value],
                      device=self.model.device, block_dim=layout.block_dim)
        return self._value.numpy().copy()

    def add_adjoint(self, step: int, state: State, adj_q: wp.array2d) -> None:
        """Add dL/dq at ``step`` into ``adj_q`` (after the forward pass's ``value`` calls)."""
        touched, start, entry_point, entry_weight = self._inverse
        for frame, coefficient in self._reads.get(step, ()):
            wp.launch(material_points_adjoint, dim=(self.model.world_count, touched.shape[0]),
                      inputs=[self._gradient, frame, wp.float64(coefficient), touched, start, entry_point,
                              entry_weight], outputs=[adj_q], device=self.model.device)


def _camera_arguments(measurement: PointMeasurement) -> list:
    """The camera's kernel arguments: R, t, (fx, s, cx, fy, cy), (k1, k2, p1, p2, k3), kind."""
    K = np.asarray(measurement.intrinsics, dtype=np.float64)
    dist = (*measurement.distortion, 0.0, 0.0, 0.0, 0.0, 0.0)[:5]
    return [wp.mat33d(*np.asarray(measurement.rotation, dtype=np.float64).ravel()),
            wp.vec3d(*np.asarray(measurement.translation, dtype=np.float64)),
            vec5d(K[0, 0], K[0, 1], K[0, 2], K[1, 1], K[1, 2]), vec5d(*dist), MEASUREMENTS.index(measurement.kind)]


def _node_major(nodes: np.ndarray, weights: np.ndarray, device) -> tuple:
    """For each node that carries a point: (touched nodes [T], start [T + 1], entry point [E], entry weight [E])."""
    flat_nodes = nodes.ravel()
    flat_points = np.repeat(np.arange(len(nodes)), 4)
    flat_weights = weights.ravel()
    keep = flat_weights != 0.0
    flat_nodes, flat_points, flat_weights = flat_nodes[keep], flat_points[keep], flat_weights[keep]
    order = np.argsort(flat_nodes, kind="stable")
    touched, counts = np.unique(flat_nodes[order], return_counts=True)
    start = np.concatenate([[0], np.cumsum(counts)])
    return (wp.array(touched.astype(np.int32), dtype=wp.int32, device=device),
            wp.array(start.astype(np.int32), dtype=wp.int32, device=device),
            wp.array(flat_points[order].astype(np.int32), dtype=wp.int32, device=device),
            wp.array(flat_weights[order], dtype=wp.float64, device=device))
