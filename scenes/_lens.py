"""Drawing what a calibrated camera (``scenes.cameras.Camera``) sees with VTK, whose camera is an ideal pinhole.

VTK draws with square pixels, no skew and no distortion, and its principal point is set through the window
centre. A camera that is such a pinhole is drawn directly at its resolution. Any other (fx != fy, skew, lens
distortion) is drawn as an ideal picture that covers every ray the camera's pixels see, then resampled: each
of the camera's pixels takes the bilinear interpolation of the ideal picture at the point where its ray
lands (``Camera.normalised`` undoes K and the distortion).

VTK's projection, for an ideal pinhole of focal length f [px] and principal point (cx, cy) [px] in a W x H
picture, with the camera's R, t (OpenCV's convention, x_cam = R x + t):

    position = -R^T t,   direction of view = R[2],   view up = -R[1],
    view angle = 2 atan((H / 2) / f),   window centre = (1 - 2 (cx + 1/2) / W, 2 (cy + 1/2) / H - 1),

the window centre being where VTK puts the optical axis's opposite in normalised device coordinates
(its frustum spans (centre - 1, centre + 1) times the half-size; OpenCV's pixel centres are at integers).
"""

import math
from dataclasses import dataclass

import numpy as np

from .cameras import Camera

__all__ = ["CameraLens", "PinholeView"]

_MARGIN = 2  # pixels of the ideal picture kept beyond the outermost ray, for bilinear interpolation
_MAX_PIXELS_RATIO = 16.0  # the ideal picture may have at most this many times the camera's pixels


@dataclass(frozen=True)
class PinholeView:
    """An ideal pinhole camera as VTK draws it.

    Attributes:
        size: picture (width, height) [px].
        focal: focal length [px] (square pixels).
        centre: principal point (cx, cy) [px], pixel centres at integers.
        R, t: world to camera (x_cam = R x + t) [-], [m].
    """

    size: tuple[int, int]
    focal: float
    centre: tuple[float, float]
    R: np.ndarray
    t: np.ndarray

    @property
    def position(self) -> np.ndarray:
        """Where the camera is in the world [m]."""
        return -self.R.T @ self.t

    def vtk_camera(self, *, distance: float) -> tuple[tuple, float, tuple[float, float]]:
        """(position, focal point, view up) [m], the vertical view angle [deg] and the window centre for VTK.

        Args:
            distance: how far in front of the camera VTK's focal point is put [m] (> 0; it does not change the
                picture, only where VTK's interaction would pivot).
        """
        width, height = self.size
        position = self.position
        focal_point = position + distance * self.R[2]
        view_angle = math.degrees(2.0 * math.atan(0.5 * height / self.focal))
        window_centre = (1.0 - 2.0 * (self.centre[0] + 0.5) / width, 2.0 * (self.centre[1] + 0.5) / height - 1.0)
        return (tuple(position), tuple(focal_point), tuple(-self.R[1])), view_angle, window_centre

    def pixels(self, points) -> np.ndarray:
        """Pixels (u, v) [..., 2] of world points [..., 3] [m] in this view's picture (NaN behind the camera)."""
        camera = np.asarray(points, dtype=np.float64) @ self.R.T + self.t
        z = camera[..., 2:3]
        pixels = self.focal * camera[..., :2] / np.where(z > 0.0, z, np.nan) + np.asarray(self.centre)
        return pixels


class CameraLens:
    """How to draw a camera's pictures with VTK: the ideal view to draw, and the resampling into the camera's pixels.

    Args:
        camera: the calibrated camera.

    Attributes:
        camera: the camera.
        view: the ideal pinhole VTK draws (the camera itself when it is one).
        direct: True when the camera is an ideal pinhole and the drawn picture is its picture.

    Raises:
        ValueError: the camera's distortion folds over, or needs an ideal picture over 16 times its pixel count
            (a field of view too wide to draw through a pinhole), naming the camera.
    """

    def __init__(self, camera: Camera):
        self.camera = camera
        (fx, skew, cx), (_, fy, cy) = camera.K[0], camera.K[1]
        self.direct = fx == fy and skew == 0.0 and not any(camera.dist)
        if self.direct:
            self.view = PinholeView(camera.resolution, float(fy), (float(cx), float(cy)), camera.R, camera.t)
            self._corners = self._weights = None
            return
        width, height = camera.resolution
        columns, rows = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
        rays = camera.normalised(np.stack([columns, rows], axis=-1))  # [H, W, 2]
        focal = float(max(fx, fy))
        low, high = rays.reshape(-1, 2).min(axis=0), rays.reshape(-1, 2).max(axis=0)
        size = np.ceil(focal * (high - low)).astype(int) + 2 * _MARGIN + 1
        if size[0] * size[1] > _MAX_PIXELS_RATIO * width * height:
            raise ValueError(
                f"camera {camera.name!r}: its pixels see rays over {np.degrees(2 * np.arctan(np.abs(rays).max())):.0f}"
                f" degrees: drawing them needs a {size[0]} x {size[1]} pinhole picture, over {_MAX_PIXELS_RATIO:g} "
                f"times its {width} x {height} pixels: expected a narrower field of view or weaker distortion")
        centre = _MARGIN - focal * low
        self.view = PinholeView((int(size[0]), int(size[1])), focal, (float(centre[0]), float(centre[1])),
                                camera.R, camera.t)
        where = focal * rays + centre  # [H, W, 2] in the ideal picture
        corner = np.floor(where).astype(np.int64)
        self._corners = (corner[..., 0], corner[..., 1])
        self._weights = where - corner  # [H, W, 2] in [0, 1)

    def picture(self, drawn: np.ndarray) -> np.ndarray:
        """The camera's picture [H, W, C] (the input's dtype) from the ideal view's picture ``drawn`` [h, w, C]."""
        if self.direct:
            return drawn
        column, row = self._corners
        wx, wy = self._weights[..., :1], self._weights[..., 1:]
        values = drawn.astype(np.float64)
        blended = ((1.0 - wy) * ((1.0 - wx) * values[row, column] + wx * values[row, column + 1])
                   + wy * ((1.0 - wx) * values[row + 1, column] + wx * values[row + 1, column + 1]))
        if np.issubdtype(drawn.dtype, np.integer):
            return np.clip(np.rint(blended), 0, np.iinfo(drawn.dtype).max).astype(drawn.dtype)
        return blended.astype(drawn.dtype)

    def depth(self, drawn: np.ndarray) -> np.ndarray:
        """The camera's depth map [H, W] (z along its optical axis [m], NaN where nothing is seen) from the ideal
        view's [h, w]: the same rays, so the same z; bilinear where the four neighbours are seen, else NaN (no
        blending across an edge of the cloth)."""
        if self.direct:
            return drawn
        return self.picture(drawn[..., None])[..., 0]
