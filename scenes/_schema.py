"""The Scene dataclasses: a validated scene file, in SI units.

Build them with ``scenes.load_scene`` / ``scenes.parse_scene`` (which validate every value);
the classes themselves only hold data.
"""

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from materials import CrossingProperties, FabricSpec, YarnMaterial

__all__ = [
    "Keyframe",
    "MAX_STEPS",
    "MAX_SUBSTEPS",
    "PIN_SELECTORS",
    "PRECISIONS",
    "Cloth",
    "PinGroup",
    "Scene",
    "Simulation",
    "Wind",
]

#: Named pin sets: "top_corners" = nodes (0, 0) and (W-1, 0); "top_edge" = every node (i, 0).
PIN_SELECTORS = ("top_corners", "top_edge")
#: Floating-point precisions the engine supports.
PRECISIONS = ("float64",)
#: Most steps (and substeps per step) a scene may ask for: more is a typo, not a simulation (1e8 steps of a
#: 17 x 17 cloth take days on a CPU).
MAX_STEPS = 100_000_000
MAX_SUBSTEPS = 1000


@dataclass(frozen=True)
class Simulation:
    """``[simulation]``: time stepping and where to run.

    Attributes:
        dt: time step [s].
        steps: number of steps.
        gravity: gravitational acceleration [m/s^2], 3 components.
        device: "auto", "cpu", "cuda" or "cuda:N".
        precision: "float64".
        save_every: store every k-th state in the trajectory (frame 0 is the initial state), 1 <= k <= steps.
        substeps: the engine takes each step of ``dt`` as this many steps of dt / substeps (fixed and
            differentiable like any step); steps, save_every and frame times stay in units of ``dt``.
        tolerance: relative residual at which each step's linear solve stops (in the preconditioner's norm).
        max_iterations: iteration cap of each linear solve; a solve that hits it is reported as unconverged.
    """

    dt: float
    steps: int
    gravity: tuple[float, float, float] = (0.0, 0.0, -9.8)
    device: str = "auto"
    precision: str = "float64"
    save_every: int = 1
    substeps: int = 1
    tolerance: float = 1.0e-6
    max_iterations: int = 500

    @property
    def frames(self) -> int:
        """Number of stored frames F = steps // save_every + 1."""
        return self.steps // self.save_every + 1

    @property
    def duration(self) -> float:
        """Simulated time steps*dt [s]."""
        return self.steps * self.dt

    @property
    def solver_dt(self) -> float:
        """The engine's time step dt / substeps [s]."""
        return self.dt / self.substeps

    @property
    def solver_steps(self) -> int:
        """Steps the engine takes: steps * substeps."""
        return self.steps * self.substeps


@dataclass(frozen=True)
class Cloth:
    """``[cloth]``: the grid of nodes, its weave, pose and yarn assignment.

    Attributes:
        nodes: (W, H) node counts; node (i, j) has i along the warp, j along the weft.
        spacing: crossing spacing L [m].
        yarn_radius: yarn radius R [m], 0 < R <= L.
        warp_yarns: material names, repeated cyclically: warp yarn j (row j) uses warp_yarns[j % len].
        weft_yarns: material names: weft yarn i (column i) uses weft_yarns[i % len].
        pattern: "plain", "twill", "satin", or an over/under matrix pattern[i][j] (1: weft over
            warp) of shape [W-2][H-2] (crossings), [W][H] (all nodes), or any smaller repeat that
            is tiled over the crossings.
        pose: "upright" (x = origin + (iL, 0, -jL)) or "flat" (x = origin + (iL, jL, 0)).
        origin: position of node (0, 0) [m].
    """

    nodes: tuple[int, int]
    spacing: float
    yarn_radius: float
    warp_yarns: tuple[str, ...]
    weft_yarns: tuple[str, ...]
    pattern: str | tuple[tuple[int, ...], ...] = "plain"
    pose: str = "upright"
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def crossings(self) -> int:
        """Number of crossings (interior nodes with sliding DOFs), (W-2)*(H-2)."""
        return (self.nodes[0] - 2) * (self.nodes[1] - 2)

    @property
    def dofs(self) -> int:
        """Degrees of freedom per world, 3*W*H + 2*(W-2)*(H-2)."""
        return 3 * self.nodes[0] * self.nodes[1] + 2 * self.crossings


@dataclass(frozen=True)
class Keyframe:
    """One keyframe of a scripted input (piecewise linear in time, constant outside the keyframes).

    Attributes:
        time: when [s].
        value: the input then, a 3-vector: a pin group's offset from rest [m] or the wind velocity [m/s].
    """

    time: float
    value: tuple[float, float, float]


@dataclass(frozen=True)
class PinGroup:
    """One ``[[pins]]`` table.

    Attributes:
        nodes: "top_corners", "top_edge", or explicit (i, j) pairs.
        stiffness: pin spring stiffness [N/m].
        path: keyframes of the group's offset from its rest positions [m] (``[[pins.path]]``: ``time``,
            ``offset``): a handle that moves the pinned nodes together; empty: they stay put.
    """

    nodes: str | tuple[tuple[int, int], ...]
    stiffness: float = 1.0e4
    path: tuple[Keyframe, ...] = ()

    def resolve(self, nodes: tuple[int, int]) -> tuple[tuple[int, int], ...]:
        """The (i, j) pairs this group pins on a cloth of (W, H) nodes."""
        width, _ = nodes
        if self.nodes == "top_corners":
            return ((0, 0), (width - 1, 0))
        if self.nodes == "top_edge":
            return tuple((i, 0) for i in range(width))
        return tuple(self.nodes)


@dataclass(frozen=True)
class Wind:
    """``[wind]``: a uniform wind.

    Attributes:
        velocity: wind velocity [m/s], 3 components.
        density: normal pressure coefficient rho_w [kg/m^3] (force rho_w*A*|vn|*vn).
        drag: tangential drag coefficient d_w [kg/(m^2*s)] (force d_w*A*vt).
        path: keyframes of the wind velocity [m/s] (``[[wind.path]]``: ``time``, ``velocity``) replacing
            ``velocity`` (a gust); empty: the constant ``velocity``.
    """

    velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    density: float = 0.0
    drag: float = 0.0
    path: tuple[Keyframe, ...] = ()


#: the shape keys of each obstacle type, as a scene file names them (required unless a default is given)
OBSTACLE_SHAPES = {
    "plane": ("point", "normal"),
    "sphere": ("center", "radius"),
    "box": ("center", "half_extents", "rotation"),
    "capsule": ("start", "end", "radius"),
    "mesh": ("file", "scale", "position", "rotation"),
}


@functools.cache
def _read_mesh(path: str, modified: float) -> tuple[np.ndarray, np.ndarray]:
    import trimesh

    loaded = trimesh.load(path, force="mesh", process=False)
    if not isinstance(loaded, trimesh.Trimesh):
        raise ValueError("it holds no triangles")
    return np.asarray(loaded.vertices, dtype=np.float64), np.asarray(loaded.faces, dtype=np.int64)


def load_mesh_file(path: str, *, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The vertices [V, 3] and triangles [F, 3] of a mesh file (OBJ, STL, PLY, ... as trimesh reads them; cached
    while the file is unchanged). Raises ValueError naming ``name.file`` when it cannot be read as a mesh."""
    try:
        modified = os.path.getmtime(path)
    except OSError:
        raise ValueError(f"{name}.file = {path!r}: no such file") from None
    try:
        return _read_mesh(path, modified)
    except Exception as exc:  # trimesh raises many kinds for a file that is not a mesh
        raise ValueError(f"{name}.file = {path!r} is not a triangle mesh (OBJ, STL or PLY expected): "
                         f"{exc or type(exc).__name__}") from None


@dataclass(frozen=True)
class SceneObstacle:
    """One ``[[obstacles]]`` table, as written (see ``simulator.Obstacle`` for the shapes).

    Attributes:
        type: "plane", "sphere", "box", "capsule" or "mesh" (a closed triangle mesh read from ``file``, its path
            resolved against the scene file's folder).
        shape: the type's keys and values (``OBSTACLE_SHAPES``), e.g. (("center", (0, 0, 0)), ("radius", 0.1)).
        friction: Coulomb friction coefficient between cloth and obstacle [-].
        thickness: contact thickness [m]: contact starts when the cloth's surface comes this close.
        stiffness: contact stiffness per node [N/m], or None for the default (from the cloth's weight).
        path: keyframes of its displacement from its position [m] (``path = [{time, offset}, ...]``): a moving
            obstacle, constant velocity between keyframes; empty: it stays put.
    """

    type: str
    shape: tuple[tuple[str, object], ...]
    friction: float
    thickness: float
    stiffness: float | None = None
    path: tuple[Keyframe, ...] = ()

    def build(self, name: str):
        """The engine's ``simulator.Obstacle`` (raises ValueError naming ``name`` for a bad shape)."""
        from simulator._obstacle import Obstacle, ObstaclePath

        path = ObstaclePath(times=[k.time for k in self.path], offsets=[k.value for k in self.path]) \
            if self.path else None
        shape = dict(self.shape)
        contact = dict(friction=self.friction, thickness=self.thickness, stiffness=self.stiffness, name=name,
                       path=path)
        if self.type == "mesh":
            vertices, faces = load_mesh_file(shape.pop("file"), name=name)
            return Obstacle.from_mesh(vertices=vertices, faces=faces, **shape, **contact)
        return getattr(Obstacle, self.type)(**shape, **contact)


#: the keys of a ``[[cameras]]`` table's two forms (see ``scenes.cameras``)
CAMERA_LOOK_AT_KEYS = ("position", "look_at", "up", "fov_y")
CAMERA_OPENCV_KEYS = ("K", "R", "t", "dist")


@dataclass(frozen=True)
class SceneCamera:
    """One ``[[cameras]]`` table, as written: a name, the footage's resolution, frame rate and start, and either the
    look-at form (position, look_at, up [m], fov_y [deg]) or the OpenCV form (K [px], R, t [m], dist).

    Attributes:
        name: the camera's name (unique in the scene).
        resolution: (width, height) [px].
        fps: frames per second of its footage [1/s].
        start_time: simulation time of its first frame [s].
        time_offset: a correction to the start [s] (fittable as ``cameras[k].time_offset``).
        form: "look_at" or "opencv".
        values: the form's keys and values, e.g. (("position", (0, -1, 5)), ..., ("fov_y", 40.0)); matrices as
            tuples of rows.
    """

    name: str
    resolution: tuple[int, int]
    fps: float
    start_time: float
    form: str
    values: tuple[tuple[str, object], ...]
    time_offset: float = 0.0

    def build(self):
        """The ``scenes.cameras.Camera`` (raises ValueError naming the camera for one that is not a camera)."""
        from .cameras import Camera

        values = dict(self.values)
        common = dict(name=self.name, resolution=self.resolution, fps=self.fps, start_time=self.start_time,
                      time_offset=self.time_offset)
        if self.form == "look_at":
            return Camera.look_at(**values, **common)
        return Camera(K=values["K"], R=values["R"], t=values["t"], dist=values.get("dist", ()), **common)


@dataclass(frozen=True)
class SelfContactTable:
    """``[self_contact]``: contact between layers of the cloth (folds, crumpling).

    Attributes:
        enabled: on or off; None (absent): on when the scene has obstacles (a cloth that lands on something
            folds), off otherwise.
        friction: friction coefficient between layers [-]; None: ``weave.friction``.
        stiffness: penalty stiffness per node pair [N/m]; None: from the cloth's weight.
        capacity: the most node pairs in contact per world; None: 4 per node.
    """

    enabled: bool | None = None
    friction: float | None = None
    stiffness: float | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class Scene:
    """A validated scene (all values SI).

    Attributes:
        simulation: time stepping.
        cloth: grid, weave and yarn assignment.
        materials: yarn materials by name (treat as read-only).
        weave: crossing properties (shear, friction, contact).
        pins: pinned node groups.
        wind: the wind.
        obstacles: rigid obstacles.
        cameras: calibrated cameras (``[[cameras]]``) that film the scene.
        self_contact: contact between layers of the cloth.
        fabric: the ``[fabric]`` table the cloth's yarn radius, materials and weave were derived from, or None;
            not compared (the derived values are) and not written back by ``scene_to_dict``.
        source: where the scene came from (a file name), used in error messages; not compared.
    """

    simulation: Simulation
    cloth: Cloth
    materials: Mapping[str, YarnMaterial]
    weave: CrossingProperties = field(default_factory=CrossingProperties)
    pins: tuple[PinGroup, ...] = ()
    wind: Wind = field(default_factory=Wind)
    obstacles: tuple[SceneObstacle, ...] = ()
    self_contact: SelfContactTable = field(default_factory=SelfContactTable)
    cameras: tuple[SceneCamera, ...] = ()
    fabric: FabricSpec | None = field(default=None, compare=False)
    source: str = field(default="<scene>", compare=False)

    def __hash__(self):
        return hash(
            (self.simulation, self.cloth, tuple(self.materials.items()), self.weave, self.pins, self.wind,
             self.obstacles, self.self_contact, self.cameras)
        )

    @property
    def has_self_contact(self) -> bool:
        """Whether layers of the cloth collide: ``self_contact.enabled``, or by default when there are obstacles."""
        enabled = self.self_contact.enabled
        return bool(self.obstacles) if enabled is None else enabled

    def pinned_nodes(self) -> tuple[tuple[int, int], ...]:
        """All pinned (i, j) nodes, in order of first appearance, without repeats."""
        seen = dict.fromkeys(node for group in self.pins for node in group.resolve(self.cloth.nodes))
        return tuple(seen)

    @property
    def pin_stiffness(self) -> float:
        """The (single) pin stiffness [N/m]; 1e4 when nothing is pinned."""
        return self.pins[0].stiffness if self.pins else PinGroup.stiffness

    def warp_material_names(self) -> tuple[str, ...]:
        """Material name of each warp yarn (row j), length H."""
        names = self.cloth.warp_yarns
        return tuple(names[j % len(names)] for j in range(self.cloth.nodes[1]))

    def weft_material_names(self) -> tuple[str, ...]:
        """Material name of each weft yarn (column i), length W."""
        names = self.cloth.weft_yarns
        return tuple(names[i % len(names)] for i in range(self.cloth.nodes[0]))
