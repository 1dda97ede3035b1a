"""ClothSpec: the authoring description of one woven cloth (pure data, SI units, validated)."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from materials import CrossingProperties, YarnMaterial, require_finite, require_positive, require_range

from ._keyframes import keyframe_times, keyframe_vectors
from ._obstacle import Obstacle, SelfContactSpec

POSES = ("upright", "flat")


@dataclass(frozen=True)
class PinPath:
    """A keyframed motion of pinned nodes (a handle): the pin targets of ``nodes`` move together by ``offsets``
    from their rest positions, piecewise linear in time, constant before the first and after the last keyframe.

    Attributes:
        nodes: the (i, j) nodes it moves (all pinned).
        times: keyframe times [s], strictly increasing, >= 0.
        offsets: displacement of the targets from rest at each keyframe [m], one 3-vector per time.
    """

    nodes: Sequence[tuple[int, int]]
    times: Sequence[float]
    offsets: Sequence[Sequence[float]]

    def __post_init__(self):
        object.__setattr__(self, "nodes", tuple((int(i), int(j)) for i, j in self.nodes))
        if not self.nodes:
            raise ValueError("a pin path needs at least one node")
        object.__setattr__(self, "times", keyframe_times("pin path", self.times))
        object.__setattr__(self, "offsets", keyframe_vectors("pin path offsets", self.offsets, len(self.times)))


@dataclass(frozen=True)
class WindPath:
    """A keyframed wind velocity [m/s], piecewise linear in time (constant outside the keyframes).

    Attributes:
        times: keyframe times [s], strictly increasing, >= 0.
        velocities: the wind velocity at each keyframe [m/s], one 3-vector per time.
    """

    times: Sequence[float]
    velocities: Sequence[Sequence[float]]

    def __post_init__(self):
        object.__setattr__(self, "times", keyframe_times("wind path", self.times))
        object.__setattr__(self, "velocities",
                           keyframe_vectors("wind path velocities", self.velocities, len(self.times)))


@dataclass(frozen=True)
class ClothSpec:
    """One rectangular woven cloth: grid, yarns, weave, boundary conditions and environment.

    Node (i, j) has i = 0..W-1 along the warp (u) and j = 0..H-1 along the weft (v). Interior
    nodes are crossings with 5 DOFs (x, u, v); border nodes are yarn ends with 3 DOFs (x).

    Attributes:
        nodes: (W, H) node counts, each >= 3.
        spacing: crossing spacing L [m].
        yarn_radius: yarn radius R [m], 0 < R <= L.
        flips: over/under matrix, shape [W, H] (see ``materials.weave_flips``).
        warp_materials: material of warp yarn j (the row j), length H.
        weft_materials: material of weft yarn i (the column i), length W.
        crossing: crossing properties (shear, friction, contact).
        pose: "upright" (x = origin + (iL, 0, -jL)) or "flat" (x = origin + (iL, jL, 0)).
        origin: position of node (0, 0) [m].
        pins: nodes held by soft springs at their initial positions, as (i, j) pairs.
        pin_stiffness: pin spring stiffness kh [N/m].
        gravity: gravitational acceleration [m/s^2].
        wind_velocity: wind velocity [m/s].
        wind_density: wind pressure coefficient rho_w [kg/m^3] (normal force rho_w*A*|vn|*vn).
        wind_drag: tangential drag coefficient d_w [kg/(m^2*s)] (force d_w*A*vt).
        pin_paths: keyframed motions of groups of pinned nodes (handles), see ``PinPath``.
        wind_path: a keyframed wind velocity replacing ``wind_velocity``, or None.
        obstacles: rigid obstacles the cloth collides with (``simulator.Obstacle``).
        self_contact: contact between layers of the cloth (``simulator.SelfContactSpec``), or None (off).
    """

    nodes: tuple[int, int]
    spacing: float
    yarn_radius: float
    flips: np.ndarray
    warp_materials: Sequence[YarnMaterial]
    weft_materials: Sequence[YarnMaterial]
    crossing: CrossingProperties = field(default_factory=CrossingProperties)
    pose: str = "upright"
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pins: Sequence[tuple[int, int]] = ()
    pin_stiffness: float = 1.0e4
    gravity: tuple[float, float, float] = (0.0, 0.0, -9.8)
    wind_velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    wind_density: float = 0.0
    wind_drag: float = 0.0
    pin_paths: Sequence[PinPath] = ()
    wind_path: WindPath | None = None
    obstacles: Sequence[Obstacle] = ()
    self_contact: SelfContactSpec | None = None

    def __post_init__(self):
        width, height = (int(n) for n in self.nodes)
        for name, n in (("nodes[0] (W)", width), ("nodes[1] (H)", height)):
            if n < 3:
                raise ValueError(f"{name} = {n} is out of range: expected at least 3 nodes along each side")
        object.__setattr__(self, "nodes", (width, height))
        spacing = require_positive("spacing", self.spacing)
        object.__setattr__(self, "spacing", spacing)
        object.__setattr__(self, "yarn_radius", require_range("yarn_radius", self.yarn_radius, 0.0, spacing,
                                                              low_open=True))
        flips = np.asarray(self.flips, dtype=bool)
        if flips.shape != (width, height):
            raise ValueError(f"flips has shape {flips.shape}: expected {(width, height)}")
        object.__setattr__(self, "flips", flips)
        if len(self.warp_materials) != height:
            raise ValueError(f"warp_materials has {len(self.warp_materials)} entries: expected H = {height}")
        if len(self.weft_materials) != width:
            raise ValueError(f"weft_materials has {len(self.weft_materials)} entries: expected W = {width}")
        if self.pose not in POSES:
            raise ValueError(f"pose = {self.pose!r} is unknown: expected one of {', '.join(POSES)}")
        for name in ("origin", "gravity", "wind_velocity"):
            vec = tuple(require_finite(f"{name}[{k}]", v) for k, v in enumerate(getattr(self, name)))
            if len(vec) != 3:
                raise ValueError(f"{name} has {len(vec)} components: expected 3")
            object.__setattr__(self, name, vec)
        pins = tuple((int(i), int(j)) for i, j in self.pins)
        for i, j in pins:
            if not (0 <= i < width and 0 <= j < height):
                raise ValueError(f"pin ({i}, {j}) is outside the cloth: expected 0 <= i < {width}, "
                                 f"0 <= j < {height}")
        object.__setattr__(self, "pins", pins)
        object.__setattr__(self, "pin_stiffness", require_positive("pin_stiffness", self.pin_stiffness))
        object.__setattr__(self, "wind_density", require_range("wind_density", self.wind_density, 0.0))
        object.__setattr__(self, "wind_drag", require_range("wind_drag", self.wind_drag, 0.0))
        paths = tuple(self.pin_paths)
        moved = [node for path in paths for node in path.nodes]
        for node in moved:
            if node not in pins:
                raise ValueError(f"pin path node {node} is not pinned: expected pinned nodes (pins)")
        if len(set(moved)) != len(moved):
            raise ValueError("a node is moved by two pin paths: expected each pinned node in one path at most")
        object.__setattr__(self, "pin_paths", paths)
        obstacles = tuple(self.obstacles)
        for k, obstacle in enumerate(obstacles):
            if not isinstance(obstacle, Obstacle):
                raise TypeError(f"obstacles[{k}] is a {type(obstacle).__name__}: expected a simulator.Obstacle")
        object.__setattr__(self, "obstacles", obstacles)
        if self.self_contact is not None and not isinstance(self.self_contact, SelfContactSpec):
            raise TypeError(f"self_contact is a {type(self.self_contact).__name__}: expected a "
                            "simulator.SelfContactSpec or None")

    @property
    def node_count(self) -> int:
        return self.nodes[0] * self.nodes[1]

    def rest_positions(self) -> np.ndarray:
        """Initial node positions [m], shape [W, H, 3]."""
        width, height = self.nodes
        i, j = np.meshgrid(np.arange(width), np.arange(height), indexing="ij")
        pos = np.zeros((width, height, 3))
        pos[..., 0] = i * self.spacing
        if self.pose == "upright":
            pos[..., 2] = -j * self.spacing
        else:
            pos[..., 1] = j * self.spacing
        return pos + np.asarray(self.origin)
