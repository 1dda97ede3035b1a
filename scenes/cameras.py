"""Pinhole cameras in OpenCV's convention: the one convention for footage rendered of a scene and for fitting to it.

World to camera: x_cam = R x_world + t (R a rotation [3, 3], t [m]); the camera looks along +z_cam, with x_cam to
the right of the picture and y_cam down it. A point in front of the camera (z_cam > 0) has normalised coordinates
x' = x_cam / z_cam, y' = y_cam / z_cam, distorted by the Brown-Conrady coefficients (k1, k2, p1, p2[, k3]) as in
OpenCV's ``projectPoints``:

    r^2 = x'^2 + y'^2,   radial = 1 + k1 r^2 + k2 r^4 + k3 r^6
    x'' = x' radial + 2 p1 x' y' + p2 (r^2 + 2 x'^2)
    y'' = y' radial + p1 (r^2 + 2 y'^2) + 2 p2 x' y'

and lands on pixel (u, v) = (fx x'' + s y'' + cx, fy y'' + cy) with K = [[fx, s, cx], [0, fy, cy], [0, 0, 1]] [px].
Pixel (0, 0) is the centre of the top-left pixel, so a picture W x H pixels wide spans u in [-0.5, W - 0.5].

The look-at form (``Camera.look_at``) places a camera at ``position`` looking at ``look_at`` with ``up`` pointing up
the picture and a vertical field of view ``fov_y`` spanning the picture's H pixels: square pixels, principal point
at the picture's centre ((W - 1) / 2, (H - 1) / 2), no distortion.
"""

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Camera"]

#: how far R may be from a rotation (|R R^T - I|, |det R - 1|) before it is refused
_ROTATION_TOLERANCE = 1e-6
#: Newton's method undoing the distortion: iterations, and how close [normalised units] it must come
_NEWTON_ITERATIONS = 20
_NEWTON_TOLERANCE = 1e-12


def _resolution(name: str, resolution) -> tuple[int, int]:
    """(width, height) in whole pixels > 0, or a ValueError naming the camera."""
    values = tuple(resolution) if isinstance(resolution, (list, tuple)) else ()
    if len(values) != 2 or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in values):
        shown = list(resolution) if isinstance(resolution, (list, tuple)) else resolution
        raise ValueError(f"camera {name!r}: resolution = {shown!r}: expected [width, height] in whole pixels > 0")
    return values


@dataclass(frozen=True)
class Camera:
    """A calibrated camera (OpenCV's convention, see the module).

    Attributes:
        name: what the scene calls it (used in error messages).
        resolution: picture (width, height) [px].
        K: intrinsics [3, 3] [px].
        R: world-to-camera rotation [3, 3].
        t: world-to-camera translation [3] [m].
        dist: distortion coefficients (k1, k2, p1, p2) or (k1, k2, p1, p2, k3); () for none.
        fps: frames per second of its footage [1/s].
        start_time: simulation time of its first frame [s].
        time_offset: a correction to ``start_time`` [s] (e.g. fitted to footage whose start is not known exactly):
            frame k is at start_time + time_offset + k / fps.
    """

    name: str
    resolution: tuple[int, int]
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    dist: tuple[float, ...] = ()
    fps: float = 30.0
    start_time: float = 0.0
    time_offset: float = 0.0

    def __post_init__(self):
        K = np.asarray(self.K, dtype=np.float64)
        R = np.asarray(self.R, dtype=np.float64)
        t = np.asarray(self.t, dtype=np.float64)
        where = f"camera {self.name!r}"
        object.__setattr__(self, "resolution", _resolution(self.name, self.resolution))
        if K.shape != (3, 3) or not np.all(np.isfinite(K)) or K[1, 0] != 0 or K[2, 0] != 0 or K[2, 1] != 0 \
                or K[2, 2] != 1 or K[0, 0] <= 0 or K[1, 1] <= 0:
            raise ValueError(f"{where}: K = {K.tolist()}: expected [[fx, s, cx], [0, fy, cy], [0, 0, 1]] with "
                             "fx, fy > 0 [px]")
        if R.shape != (3, 3) or not np.all(np.isfinite(R)) \
                or np.abs(R @ R.T - np.eye(3)).max() > _ROTATION_TOLERANCE \
                or abs(np.linalg.det(R) - 1.0) > _ROTATION_TOLERANCE:
            raise ValueError(f"{where}: R = {R.tolist()}: expected a rotation (R R^T = I, det R = 1) within "
                             f"{_ROTATION_TOLERANCE:g}")
        if t.shape != (3,) or not np.all(np.isfinite(t)):
            raise ValueError(f"{where}: t = {t.tolist()}: expected 3 finite numbers [m]")
        if len(self.dist) not in (0, 4, 5) or not all(math.isfinite(c) for c in self.dist):
            raise ValueError(f"{where}: dist = {list(self.dist)}: expected (k1, k2, p1, p2) or (k1, k2, p1, p2, k3), "
                             "finite")
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"{where}: fps = {self.fps!r}: expected frames per second > 0")
        if not math.isfinite(self.start_time):
            raise ValueError(f"{where}: start_time = {self.start_time!r}: expected a finite time [s]")
        if not math.isfinite(self.time_offset):
            raise ValueError(f"{where}: time_offset = {self.time_offset!r}: expected a finite time [s]")
        for attribute, value in (("K", K), ("R", R), ("t", t)):
            value.setflags(write=False)
            object.__setattr__(self, attribute, value)
        object.__setattr__(self, "dist", tuple(float(c) for c in self.dist))

    @classmethod
    def look_at(cls, *, name: str, resolution, position, look_at, up, fov_y: float, fps: float = 30.0,
                start_time: float = 0.0, time_offset: float = 0.0) -> "Camera":
        """A camera at ``position`` [m] looking at ``look_at`` [m], ``up`` [3] pointing up the picture, with a
        vertical field of view of ``fov_y`` degrees over the picture's height (square pixels, centred, undistorted).
        """
        position, target, up = (np.asarray(v, dtype=np.float64) for v in (position, look_at, up))
        where = f"camera {name!r}"
        if not 0.0 < fov_y < 180.0:
            raise ValueError(f"{where}: fov_y = {fov_y!r}: expected degrees in (0, 180)")
        forward = target - position
        if not np.linalg.norm(forward) > 0.0:
            raise ValueError(f"{where}: position = look_at = {position.tolist()}: expected the point it looks at "
                             "away from the camera")
        forward = forward / np.linalg.norm(forward)
        right = np.cross(forward, up)
        if not np.linalg.norm(right) > 1e-9 * np.linalg.norm(up):
            raise ValueError(f"{where}: up = {up.tolist()} is parallel to the view direction "
                             f"{forward.tolist()}: expected a direction across it")
        right = right / np.linalg.norm(right)
        down = np.cross(forward, right)
        rotation = np.stack([right, down, forward])
        width, height = _resolution(name, resolution)
        focal = 0.5 * height / math.tan(math.radians(fov_y) / 2.0)
        intrinsics = np.array([[focal, 0.0, 0.5 * (width - 1)], [0.0, focal, 0.5 * (height - 1)], [0.0, 0.0, 1.0]])
        return cls(name=name, resolution=(width, height), K=intrinsics, R=rotation, t=-rotation @ position,
                   fps=fps, start_time=start_time, time_offset=time_offset)

    def to_camera(self, points) -> np.ndarray:
        """Camera coordinates R x + t [..., 3] [m] of world points [..., 3] [m]."""
        return np.asarray(points, dtype=np.float64) @ self.R.T + self.t

    def project(self, points) -> np.ndarray:
        """Pixels (u, v) [..., 2] [px] of world points [..., 3] [m]; NaN for points not in front of the camera."""
        return self._project(points, jacobian=False)[0]

    def project_with_jacobian(self, points) -> tuple[np.ndarray, np.ndarray]:
        """Pixels [..., 2] [px] and their derivatives d(u, v)/d(x, y, z)_world [..., 2, 3] [px/m] (NaN behind)."""
        return self._project(points, jacobian=True)

    @property
    def first_frame_time(self) -> float:
        """Simulation time of the first frame, start_time + time_offset [s]."""
        return self.start_time + self.time_offset

    def frame_times(self, until: float) -> np.ndarray:
        """Times [s] of this camera's frames from ``first_frame_time`` up to ``until`` [s] (within 1e-9 of a frame's
        period), one every 1 / fps; empty when ``until`` is before the first."""
        period = 1.0 / self.fps
        count = math.floor((until - self.first_frame_time) / period + 1e-9) + 1
        return self.first_frame_time + period * np.arange(max(count, 0))

    def normalised(self, pixels) -> np.ndarray:
        """The rays that pixels (u, v) [..., 2] [px] see, as undistorted normalised coordinates (x_cam / z_cam,
        y_cam / z_cam) [..., 2]: K inverted, then the distortion by Newton's method.

        Raises:
            ValueError: the distortion folds over at some pixel (no unique ray), naming the camera and the pixel.
        """
        pixels = np.asarray(pixels, dtype=np.float64)
        (fx, skew, cx), (_, fy, cy) = self.K[0], self.K[1]
        y_distorted = (pixels[..., 1] - cy) / fy
        distorted = np.stack([(pixels[..., 0] - cx - skew * y_distorted) / fx, y_distorted], axis=-1)
        if not self.dist:
            return distorted
        rays = distorted.copy()
        with np.errstate(all="ignore"):  # a singular derivative leaves NaN, refused below
            for _ in range(_NEWTON_ITERATIONS):
                where, derivative = self._distort(rays, jacobian=True)
                a, b, c, d = (derivative[..., row, column] for row in (0, 1) for column in (0, 1))
                rx, ry = (distorted - where)[..., 0], (distorted - where)[..., 1]
                determinant = a * d - b * c
                rays = rays + np.stack([d * rx - b * ry, a * ry - c * rx], axis=-1) / determinant[..., None]
            miss = np.abs(self._distort(rays, jacobian=False)[0] - distorted).max(axis=-1)
        if not np.all(miss < _NEWTON_TOLERANCE):
            worst = np.unravel_index(np.argmax(np.where(np.isfinite(miss), miss, np.inf)), miss.shape)
            raise ValueError(f"camera {self.name!r}: dist = {list(self.dist)} cannot be undone at pixel "
                             f"{pixels[worst].tolist()}: expected a distortion that does not fold over in the picture")
        return rays

    def _distort(self, normalised: np.ndarray, *, jacobian: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Distorted normalised coordinates (x'', y'') [..., 2] of (x', y') [..., 2] and, with ``jacobian``, their
        derivatives d(x'', y'')/d(x', y') [..., 2, 2] (symmetric off the diagonal)."""
        a, b = normalised[..., 0], normalised[..., 1]
        k1, k2, p1, p2, k3 = (*self.dist, 0.0, 0.0, 0.0, 0.0, 0.0)[:5]
        r2 = a * a + b * b
        radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
        xd = a * radial + 2.0 * p1 * a * b + p2 * (r2 + 2.0 * a * a)
        yd = b * radial + p1 * (r2 + 2.0 * b * b) + 2.0 * p2 * a * b
        distorted = np.stack([xd, yd], axis=-1)
        if not jacobian:
            return distorted, None
        radial_r2 = k1 + r2 * (2.0 * k2 + 3.0 * r2 * k3)  # d radial / d r^2
        dxd_da = radial + 2.0 * a * a * radial_r2 + 2.0 * p1 * b + 6.0 * p2 * a
        cross = 2.0 * a * b * radial_r2 + 2.0 * p1 * a + 2.0 * p2 * b
        dyd_db = radial + 2.0 * b * b * radial_r2 + 6.0 * p1 * b + 2.0 * p2 * a
        return distorted, np.stack([np.stack([dxd_da, cross], -1), np.stack([cross, dyd_db], -1)], -2)

    def _project(self, points, *, jacobian: bool) -> tuple[np.ndarray, np.ndarray | None]:
        camera = self.to_camera(points)
        z = camera[..., 2]
        in_front = z > 0.0
        z_safe = np.where(in_front, z, 1.0)
        a, b = camera[..., 0] / z_safe, camera[..., 1] / z_safe
        distorted, distortion = self._distort(np.stack([a, b], axis=-1), jacobian=jacobian)
        pixel_of_distorted = self.K[:2, :2]  # [[fx, s], [0, fy]]
        pixels = distorted @ pixel_of_distorted.T + self.K[:2, 2]
        pixels[~in_front] = np.nan
        if not jacobian:
            return pixels, None
        # d(a, b)/d camera = [[1/z, 0, -a/z], [0, 1/z, -b/z]]
        zeros = np.zeros_like(a)
        normalised = np.stack([np.stack([1.0 / z_safe, zeros, -a / z_safe], -1),
                               np.stack([zeros, 1.0 / z_safe, -b / z_safe], -1)], -2)  # [..., 2, 3]
        derivative = pixel_of_distorted @ distortion @ normalised @ self.R
        derivative[~in_front] = np.nan
        return pixels, derivative
