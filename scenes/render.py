"""Off-screen pictures of a trajectory with pyvista: one frame to PNG, all frames to GIF or MP4.

The cloth is drawn as a surface over the W x H node grid, coloured by a per-node quantity
("strain", "sliding" or "speed", see ``scenes.QUANTITIES``), optionally with the warp and weft
yarns as polylines; pinned nodes (from the scene stored in the trajectory) are marked with dots.
The camera looks at the cloth across its plane, framed on the bounding box of every frame shown.
"""

import importlib.util
from pathlib import Path

import numpy as np

from ._atomic import atomic_path
from ._mesh import cell_array, grid_quads, point_indices, warp_yarn_lines, weft_yarn_lines
from ._offscreen import import_pyvista
from ._quantities import QUANTITIES, node_quantity
from .trajectory import Trajectory

__all__ = [
    "ANIMATION_SUFFIXES",
    "IMAGE_SUFFIXES",
    "ClothRenderer",
    "RenderError",
    "camera_for",
    "check_frame",
    "render_animation",
    "render_file",
    "render_image",
]

IMAGE_SUFFIXES = (".png",)
ANIMATION_SUFFIXES = (".gif", ".mp4")
_BACKGROUND = "white"
_WARP_COLOR = "#203864"
_WEFT_COLOR = "#7f2020"
_VIEW_ANGLE = 30.0  # vertical field of view [deg]


class RenderError(ValueError):
    """A render request that cannot be met (bad frame, world, colour, output type, missing encoder)."""


def camera_for(points: np.ndarray, *, view_angle: float = _VIEW_ANGLE):
    """Camera (position, focal point, view up) that keeps every point in view.

    The camera looks along the normal of the best-fit plane of ``points``, raised 20 degrees and
    turned 30 degrees for depth; a roughly horizontal cloth is seen from above with -y up (the
    edge j = 0 at the top, as for an upright cloth). The distance fits the bounding sphere of the
    points' box in the vertical field of view.

    Args:
        points: positions [m], shape [N, 3] (all frames that will be shown).
        view_angle: vertical field of view [deg].
    """
    lo, hi = points.min(axis=0), points.max(axis=0)
    center = 0.5 * (lo + hi)
    radius = max(0.5 * float(np.linalg.norm(hi - lo)), 1e-9)
    normal = np.linalg.svd(points - points.mean(axis=0), full_matrices=False)[2][-1]
    z = np.array([0.0, 0.0, 1.0])
    if abs(normal @ z) > 0.8:  # lying flat: look down from above, from the +y side, so j = 0 is at the top
        up_hint = np.array([0.0, -1.0, 0.0])
        front = np.cos(np.radians(35.0)) * z - np.sin(np.radians(35.0)) * up_hint
    else:  # hanging: look across it, from the side where the normal has a negative y (or x) part
        up_hint = z
        horizontal = normal - (normal @ z) * z
        horizontal /= np.linalg.norm(horizontal)
        key = horizontal[1] if abs(horizontal[1]) > 1e-6 else horizontal[0]
        horizontal *= -np.sign(key) if key != 0 else 1.0
        side = np.cross(z, horizontal)
        azimuth, elevation = np.radians(30.0), np.radians(20.0)
        front = (
            np.cos(elevation) * (np.cos(azimuth) * horizontal + np.sin(azimuth) * side)
            + np.sin(elevation) * z
        )
    front /= np.linalg.norm(front)
    up = up_hint - (up_hint @ front) * front
    up /= np.linalg.norm(up)
    distance = 1.05 * radius / np.sin(np.radians(view_angle) / 2.0)
    return tuple(center + distance * front), tuple(center), tuple(up)


class ClothRenderer:
    """Draws frames of one world of a trajectory off-screen; reuse it for every frame of an animation.

    Args:
        trajectory: the frames.
        world: which world b to draw, 0 <= b < B.
        color: "strain", "sliding" or "speed".
        yarns: also draw the yarns as polylines.
        frames: the frames that will be drawn (sets the colour range and the camera); default all.
        size: image (width, height) [pixels].
        annotations: draw the colour bar and the time caption.
    """

    def __init__(
        self,
        trajectory: Trajectory,
        *,
        world: int = 0,
        color: str = "strain",
        yarns: bool = False,
        frames=None,
        size: tuple[int, int] = (800, 600),
        annotations: bool = True,
    ):
        if not -trajectory.worlds <= world < trajectory.worlds:
            raise RenderError(
                f"world = {world}: expected 0 <= world < {trajectory.worlds} "
                f"({trajectory.path or 'the trajectory'} has {trajectory.worlds} world(s))"
            )
        if color not in QUANTITIES:
            raise RenderError(f"color = {color!r}: expected one of {', '.join(QUANTITIES)}")
        self.trajectory = trajectory
        self.world = world % trajectory.worlds
        self.frames = [
            check_frame(trajectory, k) for k in (range(trajectory.frames) if frames is None else frames)
        ]
        self.quantity = QUANTITIES[color]
        self.annotations = annotations
        self._x = trajectory.x[self.world]
        self._values = node_quantity(trajectory, color, world=self.world)
        scene = trajectory.scene()
        self._pins = point_indices(trajectory.nodes, scene.pinned_nodes() if scene else [])
        self._pv = import_pyvista()
        self._plotter = self._pv.Plotter(off_screen=True, window_size=list(size), lighting="none")
        self._plotter.add_light(self._pv.Light(light_type="headlight"))
        try:
            self._build_scene(yarns)
        except BaseException:
            self._plotter.close()
            raise

    def _build_scene(self, yarns: bool) -> None:
        pv, plotter = self._pv, self._plotter
        nodes = self.trajectory.nodes
        first = self._x[self.frames[0]].reshape(-1, 3)
        plotter.set_background(_BACKGROUND)
        self._surface = pv.PolyData(first.copy(), faces=cell_array(grid_quads(nodes)))
        self._surface.point_data["value"] = self._values[self.frames[0]].ravel()
        actor = plotter.add_mesh(
            self._surface,
            scalars="value",
            cmap="coolwarm" if self.quantity.signed else "viridis",
            clim=self._color_range(),
            nan_color="gray",
            ambient=0.4,
            diffuse=0.6,
            specular=0.1,
            show_scalar_bar=self.annotations,
            scalar_bar_args=self._scalar_bar_args(),
        )
        actor.mapper.SetResolveCoincidentTopologyToPolygonOffset()
        self._overlays = []
        if yarns:
            for lines, color in (
                (warp_yarn_lines(nodes), _WARP_COLOR),
                (weft_yarn_lines(nodes), _WEFT_COLOR),
            ):
                mesh = pv.PolyData(first.copy(), lines=cell_array(lines))
                plotter.add_mesh(mesh, color=color, line_width=2.0)
                self._overlays.append((mesh, None))
        if len(self._pins):
            mesh = pv.PolyData(first[self._pins].copy())
            plotter.add_mesh(mesh, color="black", point_size=12.0, render_points_as_spheres=True)
            self._overlays.append((mesh, self._pins))
        position, focal, up = camera_for(self._x[self.frames].reshape(-1, 3))
        plotter.camera_position = [position, focal, up]
        plotter.camera.view_angle = _VIEW_ANGLE
        plotter.reset_camera_clipping_range()

    def _color_range(self) -> tuple[float, float]:
        values = self._values[self.frames]
        finite = values[np.isfinite(values)]
        if self.quantity.signed:
            top = float(np.abs(finite).max()) if finite.size else 0.0
            return (-top, top) if top > 0 else (-1e-12, 1e-12)
        top = float(finite.max()) if finite.size else 0.0
        return (0.0, top) if top > 0 else (0.0, 1e-12)

    def _scalar_bar_args(self) -> dict:
        return {
            "title": f"{self.quantity.label} [{self.quantity.unit}]",
            "vertical": True,
            "position_x": 0.8,
            "position_y": 0.15,
            "width": 0.06,
            "height": 0.7,
            "fmt": "%.2e",
            "n_labels": 3,
            "color": "black",
            "title_font_size": 14,
            "label_font_size": 12,
        }

    def image(self, frame: int) -> np.ndarray:
        """The picture of ``frame`` (negative counts from the end), RGB uint8, shape [height, width, 3]."""
        frame = check_frame(self.trajectory, frame)
        points = self._x[frame].reshape(-1, 3)
        self._surface.points = points
        self._surface.point_data["value"] = self._values[frame].ravel()
        self._surface.point_data.set_array(_grid_normals(self._x[frame]).reshape(-1, 3), "normals")
        self._surface.point_data.active_normals_name = "normals"
        for mesh, index in self._overlays:
            mesh.points = points if index is None else points[index]
        if self.annotations:
            caption = f"t = {self.trajectory.t[frame]:.4g} s   frame {frame}/{self.trajectory.frames - 1}"
            if self.trajectory.worlds > 1:
                caption += f"   world {self.world}/{self.trajectory.worlds - 1}"
            self._plotter.add_text(
                caption, position="upper_left", font_size=10, color="black", name="caption"
            )
        self._plotter.render()
        return np.asarray(self._plotter.screenshot(return_img=True))[..., :3].copy()

    def close(self) -> None:
        self._plotter.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def check_frame(trajectory: Trajectory, frame: int) -> int:
    """``frame`` as an index 0..F-1 (negative counts from the end), or a RenderError."""
    count = trajectory.frames
    if not -count <= frame < count:
        raise RenderError(
            f"frame = {frame}: expected a frame index from {-count} to {count - 1} "
            f"({trajectory.path or 'the trajectory'} has {count} frame(s))"
        )
    return frame % count


def render_image(
    trajectory: Trajectory,
    path,
    *,
    frame: int = -1,
    color: str = "strain",
    yarns: bool = False,
    world: int = 0,
    size: tuple[int, int] = (800, 600),
    annotations: bool = True,
) -> Path:
    """Write one frame (default the last) as a PNG, atomically. Returns the path."""
    path = _check_suffix(path, IMAGE_SUFFIXES)
    import imageio.v3 as iio

    with ClothRenderer(
        trajectory, world=world, color=color, yarns=yarns, frames=[frame], size=size, annotations=annotations
    ) as renderer:
        picture = renderer.image(frame)
    with atomic_path(path) as tmp:
        iio.imwrite(tmp, picture, extension=path.suffix)
    return path


def render_animation(
    trajectory: Trajectory,
    path,
    *,
    color: str = "strain",
    yarns: bool = False,
    world: int = 0,
    every: int = 1,
    fps: float = 20.0,
    size: tuple[int, int] = (640, 480),
    annotations: bool = True,
) -> Path:
    """Write every ``every``-th frame (and the last) as a GIF or MP4 animation, atomically. Returns the path.

    MP4 needs the imageio-ffmpeg (or PyAV) package; without it a RenderError says so.
    """
    path = _check_suffix(path, ANIMATION_SUFFIXES)
    if every < 1:
        raise RenderError(f"every = {every}: expected an integer >= 1")
    if not fps > 0:
        raise RenderError(f"fps = {fps}: expected a number > 0")
    if path.suffix.lower() == ".mp4" and not any(
        importlib.util.find_spec(m) for m in ("imageio_ffmpeg", "av")
    ):
        raise RenderError(
            f"{path}: writing .mp4 needs the imageio-ffmpeg package (pip install imageio-ffmpeg); "
            "write a .gif instead"
        )
    import imageio.v3 as iio

    frames = trajectory.frame_indices(every)
    with ClothRenderer(
        trajectory, world=world, color=color, yarns=yarns, frames=frames, size=size, annotations=annotations
    ) as renderer:
        pictures = np.stack([renderer.image(k) for k in frames])
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".gif":
            iio.imwrite(tmp, pictures, extension=".gif", duration=1000.0 / fps, loop=0)
        else:
            iio.imwrite(tmp, pictures, extension=".mp4", fps=fps)
    return path


def render_file(
    trajectory: Trajectory,
    path,
    *,
    frame: int | None = None,
    color: str = "strain",
    yarns: bool = False,
    world: int = 0,
    every: int = 1,
    fps: float = 20.0,
    size: tuple[int, int] | None = None,
    annotations: bool = True,
) -> Path:
    """Render to ``path`` by its suffix: .png one frame (default the last), .gif/.mp4 an animation."""
    suffix = Path(path).suffix.lower()
    common = {"color": color, "yarns": yarns, "world": world, "annotations": annotations}
    common |= {"size": size} if size else {}
    if suffix in ANIMATION_SUFFIXES:
        if frame is not None:
            raise RenderError(f"{path}: a frame number applies to .png pictures, not to {suffix} animations")
        return render_animation(trajectory, path, every=every, fps=fps, **common)
    return render_image(trajectory, path, frame=-1 if frame is None else frame, **common)


def _check_suffix(path, suffixes) -> Path:
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        known = ", ".join(IMAGE_SUFFIXES + ANIMATION_SUFFIXES)
        raise RenderError(
            f"{path}: unknown picture type {path.suffix or '(no suffix)'!r}: expected one of {known}"
        )
    return path


def _grid_normals(x: np.ndarray) -> np.ndarray:
    """Unit surface normals at the nodes of a [W, H, 3] grid (for smooth shading)."""
    normal = np.cross(np.gradient(x, axis=0), np.gradient(x, axis=1))
    length = np.linalg.norm(normal, axis=-1, keepdims=True)
    return np.divide(normal, length, out=np.zeros_like(normal), where=length > 0)
