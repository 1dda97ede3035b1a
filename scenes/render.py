"""Off-screen pictures of a trajectory with pyvista: one frame to PNG, all frames to GIF or MP4.

Styles (``style``):

- "tubes": each warp yarn j (nodes (0..W-1, j)) and weft yarn i (nodes (i, 0..H-1)) is a tube of radius
  0.9 R around its crimped centreline, which passes R below or above the cloth at every crossing by the
  scene's weave (``scenes._yarns``, the engine's convention), so that plain, twill and satin look different
  up close. R is the scene's yarn radius. A trajectory without a scene (``trajectory.scene()`` is None) is
  drawn as a plain weave with R = half the median distance between neighbouring nodes.
- "surface": a smooth surface over the W x H node grid, optionally with the yarns as lines (``yarns``).
- "speckle": the surface painted with a random speckle pattern fixed in material coordinates, bilinear in each
  cell (``scenes._speckle``): footage that optical tracking can follow (the weave's own texture is periodic).
- "auto" (the default): tubes, unless a tube would be under 2 pixels wide in the picture (e.g. the
  501 x 501 sheet at 800 x 600 pixels), where the surface shows the same shape. An explicit "tubes" is
  always honoured.

Colours (``color``): None (the default) draws the warp and the weft tubes in two colours (the surface in
one); "strain", "sliding" or "speed" (see ``scenes.QUANTITIES``) colours by that per-node quantity,
interpolated along the tubes. The colour range spans the frames shown but never less than the quantity's
``floor``, so a cloth at rest (strain ~1e-16 from rounding) is drawn in one colour.

The camera looks at the cloth in a three-quarter view: turned 40 degrees about its up axis and raised 25
degrees from the normal of its best-fit plane, so the billow shows as depth; it is framed on every frame
shown. ``zoom`` > 1 narrows its field of view on the centre of the cloth, e.g. to see a few crossings.
Shading is smooth (per-point normals) under a light kit. Pinned nodes (from the scene) are marked with dots.
"""

import importlib.util
import math
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from materials import weave_flips

from ._atomic import atomic_path
from ._build import scene_flips
from ._lens import CameraLens
from ._mesh import cell_array, grid_quads, point_indices, warp_yarn_lines, weft_yarn_lines
from ._offscreen import import_pyvista
from ._quantities import QUANTITIES, node_quantity
from ._speckle import SpeckledSurface
from ._tubes import YarnTubes
from ._yarns import node_normals, spacing_estimate
from .cameras import Camera
from .trajectory import Trajectory

__all__ = [
    "ANIMATION_SUFFIXES",
    "IMAGE_SUFFIXES",
    "STYLES",
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
STYLES = ("auto", "tubes", "surface", "speckle")
_BACKGROUND = "white"
_WARP_COLOR = "#4a7bd0"
_WEFT_COLOR = "#e8873a"
_SURFACE_COLOR = "#9fb8e0"
_OBSTACLE_COLOR = "#c8c8c8"  # obstacles: light grey, behind the yarn colours
_VIEW_ANGLE = 30.0  # vertical field of view [deg]
_AZIMUTH = 40.0  # camera turned about the cloth's up axis, away from its normal [deg]
_ELEVATION = 25.0  # camera raised towards the cloth's up axis [deg]
_BAR_LEFT = 0.78  # the colour bar (with its labels) is right of this fraction of the picture's width
_FILL = 0.9  # the cloth may use this fraction of the picture's half-width and half-height
_TUBE_FRACTION = 0.9  # tube radius / yarn radius: neighbouring tubes stay apart
_MIN_TUBE_PIXELS = 2.0  # "auto" draws tubes when a tube is at least this wide in the picture [pixels]


class RenderError(ValueError):
    """A render request that cannot be met (bad frame, world, colour, style, zoom, output type, missing encoder)."""


def camera_for(
    points: np.ndarray,
    *,
    view_angle: float = _VIEW_ANGLE,
    aspect: float = 4.0 / 3.0,
    fill: float = _FILL,
    azimuth: float = _AZIMUTH,
    elevation: float = _ELEVATION,
):
    """Camera (position, focal point, view up) in a three-quarter view that keeps every point in view.

    The view starts along the normal of the best-fit plane of ``points``, is turned ``azimuth`` about the
    cloth's up axis and raised ``elevation`` towards it. A hanging cloth has +z as up and is seen from the
    side where its normal has a negative y (or x) part; a cloth lying flat (normal within 37 degrees of z)
    is seen from above, from its +y side, with -y up (the edge j = 0 at the top, as for an upright cloth).
    The camera is as close as it can be with every point within ``fill`` of the half-width and the
    half-height of the picture, and centred on them (in perspective) in the direction that limits it.

    Args:
        points: positions [m], shape [N, 3] (all frames that will be shown).
        view_angle: vertical field of view [deg].
        aspect: width / height of the picture (or of the part of it the points may use).
        fill: the fraction of the picture's half-sizes the points may use, 0 < fill <= 1.
        azimuth, elevation: view angles from the normal [deg].
    """
    normal, up, tilt = _cloth_axes(points)
    side = np.cross(up, normal)
    azimuth, elevation = np.radians(azimuth), np.radians(elevation)
    front = np.cos(elevation) * (np.cos(azimuth) * normal + np.sin(azimuth) * side) + np.sin(elevation) * tilt
    front /= np.linalg.norm(front)  # from the focal point towards the camera
    view_up = _in_plane(up, front)
    right = np.cross(view_up, front)
    across = points @ np.stack([right, view_up], axis=1)  # [N, 2]
    depth = points @ front
    nearer = (depth - depth.mean())[:, None]  # towards the camera
    half = fill * np.tan(np.radians(view_angle) / 2.0) * np.array([aspect, 1.0])  # tangents of the half-sizes
    # with the camera at `middle` across and `distance` from the mean depth, a point is in view when
    # |across - middle| <= half * (distance - nearer): the closest camera and its centred position are
    high = np.max(across + half * nearer, axis=0)
    low = np.min(across - half * nearer, axis=0)
    distance = max(float(np.max((high - low) / (2.0 * half))), 1e-9)
    middle = 0.5 * (high + low)
    focal = middle[0] * right + middle[1] * view_up + depth.mean() * front
    return tuple(focal + distance * front), tuple(focal), tuple(view_up)


def _cloth_axes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors: the normal to look along, the cloth's up in its plane, and the in-plane way to raise the view."""
    normal = np.linalg.svd(points - points.mean(axis=0), full_matrices=False)[2][-1]
    z = np.array([0.0, 0.0, 1.0])
    if abs(normal @ z) > 0.8:  # lying flat: from above, from the +y side, with -y up
        normal = normal * np.sign(normal @ z)
        up_hint = np.array([0.0, -1.0, 0.0])
        tilt_hint = -up_hint
    else:  # hanging: from the side where the normal has a negative y (or x) part, with z up
        key = normal[1] if abs(normal[1]) > 1e-6 else normal[0]
        normal = normal * (-np.sign(key) if key != 0 else 1.0)
        up_hint = tilt_hint = z
    up = _in_plane(up_hint, normal)
    return normal, up, _in_plane(tilt_hint, normal)


def _in_plane(vector: np.ndarray, normal: np.ndarray) -> np.ndarray:
    along = vector - (vector @ normal) * normal
    return along / np.linalg.norm(along)


class ClothRenderer:
    """Draws frames of one world of a trajectory off-screen; reuse it for every frame of an animation.

    Args:
        trajectory: the frames.
        world: which world b to draw, 0 <= b < B.
        color: None (warp and weft in two colours), "strain", "sliding" or "speed".
        style: "auto", "tubes" or "surface" (see the module docstring).
        yarns: with the surface, also draw the yarns as lines (the tubes are the yarns already).
        frames: the frames that will be drawn (sets the colour range and the camera); default all.
        size: image (width, height) [pixels].
        zoom: camera magnification (> 0); 1 frames the whole cloth.
        annotations: draw the colour bar (when colouring by a quantity) and the time caption.
        camera: a calibrated camera (``scenes.cameras.Camera``) to draw what it sees instead of the three-quarter
            view: the pictures have its resolution (``size`` is ignored), K, R, t and distortion, and no
            annotations; ``zoom`` must be 1.
        background: a colour (name or "#rrggbb") or, with a camera, an RGB picture [H, W, 3] uint8 at the camera's
            resolution, seen wherever the cloth, the pins and the obstacles are not.

    Attributes:
        style: the style drawn, "tubes" or "surface".
        camera: (position, focal point, view up) [m] of VTK's camera (see ``camera_for``).
    """

    def __init__(
        self,
        trajectory: Trajectory,
        *,
        world: int = 0,
        color: str | None = None,
        style: str = "auto",
        yarns: bool = False,
        frames=None,
        size: tuple[int, int] = (800, 600),
        zoom: float = 1.0,
        annotations: bool = True,
        camera: Camera | None = None,
        background: str | np.ndarray = _BACKGROUND,
    ):
        _check_options(trajectory, world=world, color=color, style=style, zoom=zoom)
        if camera is not None and zoom != 1.0:
            raise RenderError(f"zoom = {zoom}: a calibrated camera ({camera.name!r}) sees what it sees: expected 1")
        annotations = annotations and camera is None
        self.trajectory = trajectory
        self.world = world % trajectory.worlds
        self.frames = [
            check_frame(trajectory, k) for k in (range(trajectory.frames) if frames is None else frames)
        ]
        self.quantity = None if color is None else QUANTITIES[color]
        self.annotations = annotations
        self._x = trajectory.x[self.world]
        self._values = None if color is None else node_quantity(trajectory, color, world=self.world)
        scene = trajectory.scene()
        self._spacing = spacing_estimate(self._x[self.frames[0]])
        self._flips, self._yarn_radius = _weave(trajectory, scene, self._spacing)
        self._pins = point_indices(trajectory.nodes, scene.pinned_nodes() if scene else [])
        self._obstacles = _drawable_obstacles(scene)
        self._usable_width = _BAR_LEFT if (annotations and color is not None) else 1.0
        self._lens = None if camera is None else self._camera_lens(camera)
        if self._lens is None:
            self.camera = camera_for(
                _outer_points(self._x[self.frames], (1.0 + _TUBE_FRACTION) * self._yarn_radius),
                aspect=self._usable_width * size[0] / size[1],
            )
            self._view_angle = _zoomed_view_angle(zoom)
            self._window_centre = (1.0 - self._usable_width, 0.0)  # the focal point mid-way left of the bar
            self._pixels_per_metre = _pixels_per_metre(self.camera, self._view_angle, height=size[1])
        else:
            depth = float(np.median(camera.to_camera(self._x[self.frames])[..., 2]))
            self.camera, self._view_angle, self._window_centre = self._lens.view.vtk_camera(distance=depth)
            self._pixels_per_metre = self._lens.view.focal / depth
            size = self._lens.view.size
        self._background = _background_picture(background, camera)
        self._tube_pixels = 2.0 * _TUBE_FRACTION * self._yarn_radius * self._pixels_per_metre  # tube diameter
        self.style = style if style != "auto" else ("tubes" if self._tube_pixels >= _MIN_TUBE_PIXELS else "surface")
        self._pv = import_pyvista()
        self._first_depth = True
        self._plotter = self._pv.Plotter(off_screen=True, window_size=list(size), lighting="light kit")
        try:
            self._build_scene(yarns)
        except BaseException:
            self._plotter.close()
            raise

    def _build_scene(self, yarns: bool) -> None:
        plotter = self._plotter
        plotter.set_background(_BACKGROUND if isinstance(self._background, np.ndarray) else self._background)
        self._tubes = self._surface = self._speckle = None
        self._overlays, self._obstacle_meshes = [], []
        if self.style == "tubes":
            self._add_tubes()
        elif self.style == "speckle":
            self._add_speckle()
        else:
            self._add_surface(yarns)
        self._add_pins()
        self._add_obstacles()
        plotter.camera_position = list(self.camera)
        plotter.camera.view_angle = self._view_angle
        plotter.camera.SetWindowCenter(*self._window_centre)
        plotter.reset_camera_clipping_range()

    def _add_tubes(self) -> None:
        samples, sides = _tube_resolution(self._spacing * self._pixels_per_metre, self._tube_pixels)
        self._tubes = YarnTubes(
            self._pv,
            self._flips,
            crimp=self._yarn_radius,
            tube_radius=_TUBE_FRACTION * self._yarn_radius,
            samples=samples,
            sides=sides,
        )
        self._move(self.frames[0])
        for mesh, color in ((self._tubes.warp, _WARP_COLOR), (self._tubes.weft, _WEFT_COLOR)):
            self._add_shaded(mesh, color, scalar_bar=mesh is self._tubes.warp)

    def _add_speckle(self) -> None:
        samples = int(np.clip(np.ceil(self._spacing * self._pixels_per_metre / 4.0), 1, 16))  # ~4 px sub-quads
        self._speckle = SpeckledSurface(self._pv, self.trajectory.nodes, samples=samples)
        self._move(self.frames[0])
        actor = self._plotter.add_mesh(self._speckle.mesh, texture=self._speckle.texture, ambient=0.45, diffuse=0.6,
                                       specular=0.05)
        actor.prop.interpolation = "phong"

    def _add_surface(self, yarns: bool) -> None:
        nodes = self.trajectory.nodes
        first = self._x[self.frames[0]].reshape(-1, 3)
        self._surface = self._pv.PolyData(first.copy(), faces=cell_array(grid_quads(nodes)))
        self._move(self.frames[0])
        actor = self._add_shaded(self._surface, _SURFACE_COLOR, scalar_bar=True)
        actor.mapper.SetResolveCoincidentTopologyToPolygonOffset()
        if yarns:
            for lines, color in ((warp_yarn_lines(nodes), _WARP_COLOR), (weft_yarn_lines(nodes), _WEFT_COLOR)):
                mesh = self._pv.PolyData(first.copy(), lines=cell_array(lines))
                self._plotter.add_mesh(mesh, color=color, line_width=2.0)
                self._overlays.append((mesh, None))

    def _add_shaded(self, mesh, color: str, *, scalar_bar: bool):
        """Add a mesh with smooth shading, coloured by the quantity's "value" array or else in ``color``."""
        colouring = {"color": color}
        if self.quantity is not None:
            colouring = {
                "scalars": "value",
                "cmap": "coolwarm" if self.quantity.signed else "viridis",
                "clim": self._color_range(),
                "nan_color": "gray",
                "show_scalar_bar": self.annotations and scalar_bar,
                "scalar_bar_args": self._scalar_bar_args(),
            }
        actor = self._plotter.add_mesh(
            mesh, ambient=0.4, diffuse=0.7, specular=0.2, specular_power=20.0, **colouring
        )
        actor.prop.interpolation = "phong"
        return actor

    def _add_pins(self) -> None:
        if not len(self._pins):
            return
        mesh = self._pv.PolyData(self._x[self.frames[0]].reshape(-1, 3)[self._pins].copy())
        dot = max(12.0, 1.2 * self._tube_pixels)  # wider than a tube
        self._plotter.add_mesh(mesh, color="black", point_size=dot, render_points_as_spheres=True)
        self._overlays.append((mesh, self._pins))

    def _add_obstacles(self) -> None:
        """Draw the scene's obstacles in grey (a plane as a square three times the cloth's extent), where they
        are at the first frame drawn; ``_move`` moves those that have a path."""
        extent = float(np.ptp(self._x[self.frames].reshape(-1, 3), axis=0).max())
        middle = self._x[self.frames].reshape(-1, 3).mean(axis=0)
        for obstacle in self._obstacles:
            mesh = obstacle_mesh(self._pv, obstacle, around=middle, size=3.0 * extent)
            self._obstacle_meshes.append((mesh, np.array(mesh.points), obstacle.path))
            self._plotter.add_mesh(mesh, color=_OBSTACLE_COLOR, ambient=0.3, diffuse=0.6, specular=0.1)
        self._move_obstacles(self.frames[0])

    def _move_obstacles(self, frame: int) -> None:
        """Put the moving obstacles where their paths have them at the time of ``frame``."""
        time = float(self.trajectory.t[frame])
        for mesh, points, path in self._obstacle_meshes:
            if path is not None:
                offsets = np.asarray(path.offsets)
                mesh.points = points + np.array([np.interp(time, path.times, offsets[:, c]) for c in range(3)])

    def _move(self, frame: int) -> None:
        """Put the drawn cloth (tubes or surface) in the shape and colours of ``frame``, and the moving obstacles
        where they are then."""
        x = self._x[frame]
        values = None if self._values is None else self._values[frame]
        self._move_obstacles(frame)
        if self._tubes is not None:
            self._tubes.update(x, values)
            return
        if self._speckle is not None:
            self._speckle.update(x)
            return
        self._surface.points = x.reshape(-1, 3)
        self._surface.point_data.set_array(node_normals(x).reshape(-1, 3), "normals")
        self._surface.point_data.active_normals_name = "normals"
        if values is not None:
            self._surface.point_data["value"] = values.ravel()

    def _color_range(self) -> tuple[float, float]:
        """The quantity's range over the frames shown, widened to at least its physical floor."""
        values = self._values[self.frames]
        finite = values[np.isfinite(values)]
        top = max(float(np.abs(finite).max()) if finite.size else 0.0, self.quantity.floor)
        return (-top, top) if self.quantity.signed else (0.0, top)

    def _scalar_bar_args(self) -> dict:
        return {
            "title": f"{self.quantity.label} [{self.quantity.unit}]",
            "vertical": True,
            "position_x": _BAR_LEFT + 0.02,
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
        self._draw(frame)
        drawn = np.asarray(self._plotter.screenshot(return_img=True))[..., :3].copy()
        if self._lens is None:
            return drawn
        picture = self._lens.picture(drawn)
        if isinstance(self._background, np.ndarray):
            depth = self._plotter.get_image_depth(fill_value=np.nan)
            cover = self._lens.picture(np.isfinite(depth).astype(np.float64)[..., None])
            picture = np.rint(cover * picture + (1.0 - cover) * self._background).astype(np.uint8)
        return picture

    def _draw(self, frame: int) -> None:
        """Put the cloth, its overlays and the caption in the state of ``frame`` and render (off-screen)."""
        frame = check_frame(self.trajectory, frame)
        self._move(frame)
        points = self._x[frame].reshape(-1, 3)
        for mesh, index in self._overlays:
            mesh.points = points if index is None else points[index]
        if self.annotations:
            caption = f"t = {self.trajectory.t[frame]:.4g} s   frame {frame}/{self.trajectory.frames - 1}"
            if self.trajectory.worlds > 1:
                caption += f"   world {self.world}/{self.trajectory.worlds - 1}"
            height = self._plotter.window_size[1]  # bottom-left corner in pixels: the whole line stays in view
            self._plotter.add_text(caption, position=(8, height - 22), font_size=10, color="black", name="caption")
        self._plotter.render()

    def depth(self, frame: int) -> np.ndarray:
        """The depth map of ``frame`` seen by the camera: z along its optical axis [m] of the nearest surface at each
        pixel, NaN where nothing is drawn, float64 [H, W] (a depth camera's picture; needs a camera). VTK's depth
        buffer limits its precision to about 1e-4 of the distance."""
        if self._lens is None:
            raise RenderError("a depth map needs a camera: expected ClothRenderer(..., camera=...)")
        self._draw(frame)
        if self._first_depth:  # pyvista reads depth only from a plotter that has been shown (off-screen here)
            self._plotter.show(auto_close=False)
            self._first_depth = False
        depth = -np.asarray(self._plotter.get_image_depth(fill_value=np.nan), dtype=np.float64)
        return self._lens.depth(depth)

    def _camera_lens(self, camera: Camera) -> CameraLens:
        """The lens that draws ``camera``'s pictures; a RenderError when it cannot, or when it sees no node of the
        cloth in any frame drawn."""
        try:
            lens = CameraLens(camera)
        except ValueError as exc:
            raise RenderError(str(exc)) from None
        pixels = camera.project(self._x[self.frames])
        width, height = camera.resolution
        seen = (pixels[..., 0] >= -0.5) & (pixels[..., 0] <= width - 0.5) & (pixels[..., 1] >= -0.5) \
            & (pixels[..., 1] <= height - 0.5)
        if not np.any(seen):
            middle = self._x[self.frames].reshape(-1, 3).mean(axis=0)
            raise RenderError(
                f"camera {camera.name!r} does not see the cloth: none of its nodes is in front of the camera and "
                f"inside its {width} x {height} pixels (the cloth's centre {np.round(middle, 6).tolist()} m lands "
                f"on {np.round(camera.project(middle), 1).tolist()}): expected a camera that looks at the cloth"
            )
        return lens

    def pixels(self, points: np.ndarray) -> np.ndarray:
        """Where VTK draws points in the picture it draws: (column, row) [pixels] from the centre of the top-left
        pixel (OpenCV's convention), shape [N, 2]. With a camera that is not an ideal pinhole this is the ideal
        picture before resampling (``scenes._lens``).

        Args:
            points: positions [m], shape [N, 3].
        """
        renderer = self._plotter.renderer
        height = self._plotter.window_size[1]
        where = []
        for point in np.asarray(points, dtype=float).reshape(-1, 3):
            renderer.SetWorldPoint(*point, 1.0)
            renderer.WorldToDisplay()
            column, row, _ = renderer.GetDisplayPoint()  # from the bottom-left corner of the window
            where.append((column - 0.5, height - row - 0.5))
        return np.array(where).reshape(-1, 2)

    def close(self) -> None:
        """Release the off-screen window."""
        self._plotter.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _background_picture(background, camera: Camera | None):
    """The background colour, or the background picture checked against the camera's resolution."""
    if not isinstance(background, np.ndarray):
        return background
    if camera is None:
        raise RenderError("a background picture needs a camera (its resolution): expected a colour without one")
    width, height = camera.resolution
    if background.shape != (height, width, 3) or background.dtype != np.uint8:
        raise RenderError(f"background picture of shape {list(background.shape)} ({background.dtype}): expected RGB "
                          f"uint8 of shape [{height}, {width}, 3], the resolution of camera {camera.name!r}")
    return background


def _drawable_obstacles(scene) -> list:
    """The scene's obstacles as ``simulator.Obstacle`` (a mesh obstacle whose file cannot be read here is left
    out of the picture with a warning)."""
    obstacles = []
    for k, obstacle in enumerate(scene.obstacles if scene else ()):
        try:
            obstacles.append(obstacle.build(f"obstacles[{k}]"))
        except ValueError as exc:
            warnings.warn(f"obstacles[{k}] is not drawn: {exc}", stacklevel=3)
    return obstacles


def obstacle_mesh(pv, obstacle, *, around: np.ndarray, size: float):
    """A pyvista mesh of a ``simulator.Obstacle`` [m]; a plane (infinite) as a square of side ``size`` centred
    where ``around`` projects onto it."""
    rotation = np.asarray(obstacle.rotation)
    position = np.asarray(obstacle.position)
    dims = obstacle.dims
    if obstacle.kind == "plane":
        normal = rotation[:, 2]
        centre = around - np.dot(around - position, normal) * normal
        return pv.Plane(center=centre, direction=normal, i_size=size, j_size=size)
    if obstacle.kind == "sphere":
        return pv.Sphere(radius=dims[0], center=position, theta_resolution=64, phi_resolution=64)
    if obstacle.kind == "mesh":
        faces = np.hstack([np.full((len(obstacle.mesh.faces), 1), 3), obstacle.mesh.faces]).ravel()
        return pv.PolyData(obstacle.mesh.vertices @ rotation.T + position, faces)
    if obstacle.kind == "capsule":
        return pv.Capsule(center=position, direction=rotation[:, 0], radius=dims[1], cylinder_length=2.0 * dims[0],
                          resolution=48)
    transform = np.eye(4)
    transform[:3, :3] = rotation
    transform[:3, 3] = position
    box = pv.Box(bounds=(-dims[0], dims[0], -dims[1], dims[1], -dims[2], dims[2]))
    return box.transform(transform, inplace=False)


def _check_options(trajectory: Trajectory, *, world: int, color, style: str, zoom: float) -> None:
    """Raise a RenderError naming the first option out of range."""
    if not -trajectory.worlds <= world < trajectory.worlds:
        raise RenderError(
            f"world = {world}: expected 0 <= world < {trajectory.worlds} "
            f"({trajectory.path or 'the trajectory'} has {trajectory.worlds} world(s))"
        )
    if color is not None and color not in QUANTITIES:
        raise RenderError(f"color = {color!r}: expected one of {', '.join(QUANTITIES)} (or None: yarn colours)")
    if style not in STYLES:
        raise RenderError(f"style = {style!r}: expected one of {', '.join(STYLES)}")
    if style == "speckle" and color is not None:
        raise RenderError(f"color = {color!r} with style = 'speckle': the speckle paints the cloth; expected a "
                          "colour quantity with tubes or surface only")
    if not (isinstance(zoom, int | float) and math.isfinite(zoom) and zoom > 0):
        raise RenderError(f"zoom = {zoom!r}: expected a finite number > 0")


def _weave(trajectory: Trajectory, scene, spacing: float) -> tuple[np.ndarray, float]:
    """The over/under flips [W, H] and the yarn radius R [m]: the scene's, or a plain weave with R = spacing / 2.

    Args:
        scene: the trajectory's scene, or None.
        spacing: the distance between neighbouring nodes [m] (for R when there is no scene).
    """
    if scene is None:
        return weave_flips("plain", trajectory.nodes), 0.5 * spacing
    if tuple(scene.cloth.nodes) != trajectory.nodes:
        raise RenderError(
            f"{trajectory.path or 'the trajectory'}: its scene has {scene.cloth.nodes[0]} x {scene.cloth.nodes[1]} "
            f"nodes: expected the trajectory's {trajectory.nodes[0]} x {trajectory.nodes[1]}"
        )
    return scene_flips(scene), float(scene.cloth.yarn_radius)


def _outer_points(x: np.ndarray, thickness: float) -> np.ndarray:
    """The points ``thickness`` [m] in front of and behind the nodes of every frame (what tubes reach), [2*F*W*H, 3].

    Args:
        x: node positions [m], shape [F, W, H, 3].
    """
    offset = thickness * node_normals(x)
    return np.concatenate([x + offset, x - offset]).reshape(-1, 3)


def _tube_resolution(spacing_pixels: float, diameter_pixels: float) -> tuple[int, int]:
    """Rings per segment and points per ring for tubes of a given size in the picture: a ring every ~3 pixels
    along a yarn (2 to 8 per segment) and a point every ~3 pixels around it (6 to 16), so that close-ups are
    smooth and large cloths stay fast to draw.

    Args:
        spacing_pixels: the distance between neighbouring nodes in the picture [pixels].
        diameter_pixels: a tube's diameter in the picture [pixels].
    """
    samples = int(np.clip(np.ceil(spacing_pixels / 3.0), 2, 8))
    sides = int(np.clip(np.ceil(np.pi * diameter_pixels / 3.0), 6, 16))
    return samples, sides


def _zoomed_view_angle(zoom: float) -> float:
    """The vertical field of view [deg] that magnifies the default one ``zoom`` times (a longer lens)."""
    return float(np.degrees(2.0 * np.arctan(np.tan(np.radians(_VIEW_ANGLE) / 2.0) / zoom)))


def _pixels_per_metre(camera, view_angle: float, *, height: int) -> float:
    """Picture pixels per metre at the camera's focal point, for a picture ``height`` pixels tall.

    Args:
        camera: (position, focal point, view up) [m].
        view_angle: vertical field of view [deg].
    """
    position, focal, _ = camera
    distance = float(np.linalg.norm(np.subtract(position, focal)))
    return height / (2.0 * distance * np.tan(np.radians(view_angle) / 2.0))


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
    color: str | None = None,
    style: str = "auto",
    yarns: bool = False,
    world: int = 0,
    size: tuple[int, int] = (800, 600),
    zoom: float = 1.0,
    annotations: bool = True,
    camera: Camera | None = None,
    background: str | np.ndarray = _BACKGROUND,
) -> Path:
    """Write one frame (default the last) as a PNG, atomically. Returns the path.

    The options are those of ``ClothRenderer`` (with a camera the picture has its resolution, not ``size``).
    """
    path = _check_suffix(path, IMAGE_SUFFIXES)
    import imageio.v3 as iio

    with ClothRenderer(
        trajectory,
        world=world,
        color=color,
        style=style,
        yarns=yarns,
        frames=[frame],
        size=size,
        zoom=zoom,
        annotations=annotations,
        camera=camera,
        background=background,
    ) as renderer:
        picture = renderer.image(frame)
    with atomic_path(path) as tmp:
        iio.imwrite(tmp, picture, extension=path.suffix)
    return path


def render_animation(
    trajectory: Trajectory,
    path,
    *,
    color: str | None = None,
    style: str = "auto",
    yarns: bool = False,
    world: int = 0,
    every: int = 1,
    fps: float = 20.0,
    size: tuple[int, int] = (640, 480),
    zoom: float = 1.0,
    annotations: bool = True,
    background: str | np.ndarray = _BACKGROUND,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write every ``every``-th frame (and the last) as a GIF or MP4 animation, atomically. Returns the path.

    MP4 needs the imageio-ffmpeg (or PyAV) package; without it a RenderError says so. The other options
    are those of ``ClothRenderer``.

    Args:
        every: the frame step (>= 1).
        fps: frames per second of the animation (> 0).
        progress: called as ``progress(done, total)`` after each frame is drawn (e.g. a progress bar).
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
        trajectory,
        world=world,
        color=color,
        style=style,
        yarns=yarns,
        frames=frames,
        size=size,
        zoom=zoom,
        annotations=annotations,
        background=background,
    ) as renderer:
        pictures = []
        for k in frames:
            pictures.append(renderer.image(k))
            if progress is not None:
                progress(len(pictures), len(frames))
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".gif":
            iio.imwrite(tmp, np.stack(pictures), extension=".gif", duration=1000.0 / fps, loop=0)
        else:
            iio.imwrite(tmp, np.stack(pictures), extension=".mp4", fps=fps, ffmpeg_log_level="error")
    return path


def render_file(
    trajectory: Trajectory,
    path,
    *,
    frame: int | None = None,
    color: str | None = None,
    style: str = "auto",
    yarns: bool = False,
    world: int = 0,
    every: int = 1,
    fps: float = 20.0,
    size: tuple[int, int] | None = None,
    zoom: float = 1.0,
    annotations: bool = True,
    background: str | np.ndarray = _BACKGROUND,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Render to ``path`` by its suffix: .png one frame (default the last), .gif/.mp4 an animation.

    ``progress(done, total)`` is called after each animation frame (not for a .png).
    """
    suffix = Path(path).suffix.lower()
    common = {"color": color, "style": style, "yarns": yarns, "world": world, "zoom": zoom,
              "annotations": annotations, "background": background}
    common |= {"size": size} if size else {}
    if suffix in ANIMATION_SUFFIXES:
        if frame is not None:
            raise RenderError(f"{path}: a frame number applies to .png pictures, not to {suffix} animations")
        return render_animation(trajectory, path, every=every, fps=fps, progress=progress, **common)
    return render_image(trajectory, path, frame=-1 if frame is None else frame, **common)


def _check_suffix(path, suffixes) -> Path:
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        known = ", ".join(IMAGE_SUFFIXES + ANIMATION_SUFFIXES)
        raise RenderError(
            f"{path}: unknown picture type {path.suffix or '(no suffix)'!r}: expected one of {known}"
        )
    return path

