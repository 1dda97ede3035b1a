"""Footage: a trajectory as one of the scene's calibrated cameras films it, at the camera's frame rate and resolution.

Frame k of a camera's clip shows the cloth at time ``start_time + k / fps`` (``Camera.frame_times``), the states
between saved frames interpolated by ``Trajectory.at_times`` (cubic Hermite through positions and velocities; the
straight line between frames one integrator step apart, as the implicit step moves), so the clip's frame rate need
not divide the simulation's. The clip runs from the camera's ``start_time`` (not before
the trajectory's first frame) to its last frame. Pictures are drawn by ``scenes.render.ClothRenderer`` with the
camera (``scenes._lens`` for fx != fy, skew and distortion), without annotations, over a background colour or
picture.
"""

import importlib.util
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._atomic import atomic_path
from .cameras import Camera
from .render import ANIMATION_SUFFIXES, ClothRenderer, RenderError
from .trajectory import Trajectory

__all__ = ["DEPTH_FORMAT", "DepthMaps", "footage_times", "load_depth", "read_background", "render_depth",
           "render_footage", "scene_camera"]

#: the format of depth files (``render_depth``): arrays ``depth`` [F, H, W] float32 [m] (z along the camera's
#: optical axis, NaN where nothing is seen), ``times`` [F] [s], ``camera`` (its name), ``format``
DEPTH_FORMAT = "warpweave-depth/1"

_PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg")
_MP4_QUALITY = 9  # imageio-ffmpeg's scale 1..10: near lossless, so that tracking sees the drawn edges


def scene_camera(trajectory: Trajectory, name: str) -> Camera:
    """The camera called ``name`` in the trajectory's scene (``[[cameras]]``), or a RenderError listing them."""
    scene = trajectory.scene()
    cameras = scene.cameras if scene is not None else ()
    for camera in cameras:
        if camera.name == name:
            return camera.build()
    where = trajectory.path or "the trajectory"
    known = ", ".join(repr(c.name) for c in cameras) or "none ([[cameras]] in the scene file adds them)"
    raise RenderError(f"{where}: camera = {name!r} is not in its scene: expected one of its cameras: {known}")


def footage_times(trajectory: Trajectory, camera: Camera) -> np.ndarray:
    """The times [s] of the camera's frames within the trajectory, shape [K]; a RenderError when there are none
    or the camera starts before the trajectory."""
    where = trajectory.path or "the trajectory"
    first, last = float(trajectory.t[0]), float(trajectory.t[-1])
    start = camera.first_frame_time
    if start < first - 1e-9 * max(last - first, 1e-12):
        raise RenderError(f"camera {camera.name!r}: start_time + time_offset = {start:g} s is before {where}'s first "
                          f"frame at {first:g} s: expected a start within {first:g} .. {last:g} s")
    times = camera.frame_times(last)
    if times.size == 0:
        raise RenderError(f"camera {camera.name!r}: start_time + time_offset = {start:g} s is after {where}'s last "
                          f"frame at {last:g} s: expected a start within {first:g} .. {last:g} s")
    return times


def _camera_states(trajectory: Trajectory, camera: Camera) -> Trajectory:
    """The states at the camera's frame times (between frames one integrator step apart on the straight line)."""
    times = footage_times(trajectory, camera)
    scene = trajectory.scene()
    try:
        return trajectory.at_times(times, integrator_step=scene.simulation.solver_dt if scene else None)
    except ValueError as exc:
        raise RenderError(str(exc)) from None


def read_background(value: str, camera: Camera | None = None):
    """A background for ``ClothRenderer``: a picture file (.png, .jpg) read as RGB uint8, or a colour (a name or
    "#rrggbb"); a RenderError for a file that cannot be read or a colour that is not one."""
    if Path(value).suffix.lower() in _PICTURE_SUFFIXES:
        import imageio.v3 as iio

        try:
            picture = np.asarray(iio.imread(value))
        except (OSError, ValueError) as exc:
            raise RenderError(f"background = {value}: not a readable picture ({exc})") from None
        if picture.ndim == 2:
            picture = np.repeat(picture[..., None], 3, axis=-1)
        if picture.ndim != 3 or picture.shape[-1] not in (3, 4) or picture.dtype != np.uint8:
            raise RenderError(f"background = {value}: a picture of shape {list(picture.shape)} ({picture.dtype}): "
                              "expected 8-bit grey, RGB or RGBA")
        picture = np.ascontiguousarray(picture[..., :3])
        if camera is not None and picture.shape[:2] != camera.resolution[::-1]:
            raise RenderError(f"background = {value}: {picture.shape[1]} x {picture.shape[0]} pixels: expected "
                              f"camera {camera.name!r}'s resolution {camera.resolution[0]} x {camera.resolution[1]}")
        return picture
    from ._offscreen import import_pyvista

    try:
        import_pyvista().Color(value)
    except ValueError:
        raise RenderError(f"background = {value!r}: neither a picture file ({', '.join(_PICTURE_SUFFIXES)}) nor a "
                          "colour: expected e.g. white, '#d0d0c8' or lab.png") from None
    return value


def render_footage(
    trajectory: Trajectory,
    path,
    *,
    camera: Camera,
    world: int = 0,
    color: str | None = None,
    style: str = "auto",
    background="white",
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the camera's clip of one world of a trajectory as .mp4 (or .gif), atomically. Returns the path.

    Args:
        camera: the camera that films.
        world, color, style: as for ``ClothRenderer``.
        background: a colour, or an RGB uint8 picture at the camera's resolution (``read_background``).
        progress: called as ``progress(done, total)`` after each frame is drawn.
    """
    path = Path(path)
    if path.suffix.lower() not in ANIMATION_SUFFIXES:
        raise RenderError(f"{path}: unknown footage type {path.suffix or '(no suffix)'!r}: expected one of "
                          f"{', '.join(ANIMATION_SUFFIXES)}")
    mp4 = path.suffix.lower() == ".mp4"
    width, height = camera.resolution
    if mp4 and (width % 2 or height % 2):
        raise RenderError(f"{path}: camera {camera.name!r} has {width} x {height} pixels: an .mp4 (H.264, 4:2:0) "
                          "needs an even width and height; write a .gif instead")
    if mp4 and not any(importlib.util.find_spec(m) for m in ("imageio_ffmpeg", "av")):
        raise RenderError(f"{path}: writing .mp4 needs the imageio-ffmpeg package (pip install imageio-ffmpeg)")
    states = _camera_states(trajectory, camera)
    import imageio.v3 as iio

    pictures = []
    with ClothRenderer(states, camera=camera, world=world, color=color, style=style, background=background) as r:
        for k in range(states.frames):
            pictures.append(r.image(k))
            if progress is not None:
                progress(len(pictures), states.frames)
    with atomic_path(path) as tmp:
        if mp4:
            iio.imwrite(tmp, np.stack(pictures), extension=".mp4", fps=camera.fps, quality=_MP4_QUALITY,
                        macro_block_size=1, ffmpeg_log_level="error")
        else:
            iio.imwrite(tmp, np.stack(pictures), extension=".gif", duration=1000.0 / camera.fps, loop=0)
    return path


@dataclass(frozen=True)
class DepthMaps:
    """A depth camera's frames.

    Attributes:
        camera: the name of the camera.
        times: simulation time of each frame [s], shape [F].
        depth: z along the camera's optical axis [m] at each pixel, NaN where nothing is seen, shape [F, H, W].
        path: the file they were read from.
    """

    camera: str
    times: np.ndarray
    depth: np.ndarray
    path: str = ""


def render_depth(trajectory: Trajectory, path, *, camera: Camera, world: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the camera's depth maps of one world of a trajectory at its frame times (as ``render_footage``) to a
    depth file (.npz, ``DEPTH_FORMAT``), atomically. Returns the path."""
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise RenderError(f"{path}: depth maps are written as .npz: expected FILE.npz")
    states = _camera_states(trajectory, camera)
    maps = []
    with ClothRenderer(states, camera=camera, world=world, style="surface") as renderer:
        for k in range(states.frames):
            maps.append(renderer.depth(k).astype(np.float32))
            if progress is not None:
                progress(len(maps), states.frames)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, format=np.str_(DEPTH_FORMAT), camera=np.str_(camera.name), times=states.t, depth=np.stack(maps))
    return path


def load_depth(path, camera: Camera) -> DepthMaps:
    """Read a depth file and check it against the camera (name and resolution).

    Raises:
        RenderError: a missing or unreadable file, another format, another camera's or another size's maps,
            naming the file.
    """
    name = str(path)
    try:
        with np.load(name, allow_pickle=False) as npz:
            contents = {key: npz[key] for key in npz.files}
    except FileNotFoundError:
        raise RenderError(f"{name}: no such depth file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise RenderError(f"{name}: not a readable depth file (.npz): {exc}") from None
    if str(contents.get("format", "")) != DEPTH_FORMAT or not {"camera", "times", "depth"} <= set(contents):
        raise RenderError(f"{name}: not a depth file: expected format {DEPTH_FORMAT!r} with arrays camera, times "
                          "and depth (warpweave render TRAJ --camera NAME --out DEPTH.npz writes one)")
    depth, times = np.asarray(contents["depth"], dtype=np.float64), np.asarray(contents["times"], dtype=np.float64)
    width, height = camera.resolution
    if str(contents["camera"]) != camera.name:
        raise RenderError(f"{name}: depth maps of camera {str(contents['camera'])!r}: expected camera {camera.name!r}")
    if depth.ndim != 3 or depth.shape[1:] != (height, width) or times.shape != (depth.shape[0],):
        raise RenderError(f"{name}: depth of shape {list(depth.shape)} and {times.size} times: expected [F, "
                          f"{height}, {width}] (camera {camera.name!r}'s resolution) and one time per map")
    return DepthMaps(camera=camera.name, times=times, depth=depth, path=name)
