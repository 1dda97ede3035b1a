"""Obstacle: a rigid shape the cloth rests on, slides over or drapes across (pure data, SI units, validated).

Every obstacle is a shape in its own frame, placed by a translation ``position`` and a rotation ``rotation``
(local to world, x_world = rotation x_local + position):

* plane: the half-space below local z = 0 (its outward normal is the local z axis);
* sphere: radius ``dims[0]`` about the local origin;
* box: half extents ``dims`` along the local axes;
* capsule: the points within ``dims[1]`` of the segment from -``dims[0]`` to +``dims[0]`` along the local x axis;
* mesh: the inside of a closed triangle mesh (``MeshShape``, vertices in the local frame).

The constructors ``Obstacle.plane``, ``sphere``, ``box`` and ``capsule`` take the quantities a scene file
names (a plane's point and normal, a capsule's two ends, ...). Contact (``simulator.terms.ObstacleContact``)
starts when the cloth's surface comes within ``thickness`` of the obstacle and rubs with the friction
coefficient ``friction``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from materials import require_finite, require_positive, require_range

from ._keyframes import keyframe_times, keyframe_vectors

__all__ = ["MAX_MESH_FACES", "OBSTACLE_KINDS", "MeshShape", "Obstacle", "ObstaclePath", "SelfContactSpec",
           "euler_rotation"]

#: the obstacle shapes, in the order of their integer codes in the contact kernels
OBSTACLE_KINDS = ("plane", "sphere", "box", "capsule", "mesh")
#: the most triangles a mesh obstacle may have
MAX_MESH_FACES = 200_000


def _vector(name: str, values, *, length: int = 3) -> tuple[float, ...]:
    values = tuple(values)
    if len(values) != length:
        raise ValueError(f"{name} has {len(values)} components: expected {length}")
    return tuple(require_finite(f"{name}[{k}]", v) for k, v in enumerate(values))


def euler_rotation(degrees) -> np.ndarray:
    """The rotation matrix of angles (rx, ry, rz) [degrees] about the fixed x, then y, then z axes (Rz Ry Rx)."""
    rx, ry, rz = np.radians(_vector("rotation", degrees))
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    about_x = np.array([[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]])
    about_y = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    about_z = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    return about_z @ about_y @ about_x


def _frame_with_axis(axis: np.ndarray, column: int) -> np.ndarray:
    """A right-handed rotation whose ``column``-th column is the unit vector ``axis``."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    second = np.cross(axis, helper)
    second /= np.linalg.norm(second)
    frame = np.empty((3, 3))
    frame[:, column] = axis
    frame[:, (column + 1) % 3] = second
    frame[:, (column + 2) % 3] = np.cross(axis, second)
    return frame


@dataclass(frozen=True, eq=False)
class MeshShape:
    """A closed triangle mesh: ``vertices`` [V, 3] (float64, m, in the obstacle's frame) and ``faces`` [F, 3] (int,
    counter-clockwise seen from outside). Checked: finite, indices in range, at most ``MAX_MESH_FACES`` faces,
    and closed and manifold (every edge shared by exactly two faces), so that inside and outside are defined."""

    vertices: np.ndarray
    faces: np.ndarray
    name: str = "mesh"

    def __post_init__(self):
        vertices = np.ascontiguousarray(self.vertices, dtype=np.float64)
        faces = np.ascontiguousarray(self.faces, dtype=np.int64)
        if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
            raise ValueError(f"{self.name} is empty: expected a triangle mesh with at least one face")
        if vertices.ndim != 2 or vertices.shape[1] != 3 or not np.all(np.isfinite(vertices)):
            raise ValueError(f"{self.name}: its vertices must be finite 3-vectors")
        if len(faces) > MAX_MESH_FACES:
            raise ValueError(f"{self.name} has {len(faces)} faces: expected at most {MAX_MESH_FACES} (simplify it)")
        if faces.min() < 0 or faces.max() >= len(vertices):
            raise ValueError(f"{self.name}: a face refers to a vertex that does not exist")
        edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
        _, uses = np.unique(edges, axis=0, return_counts=True)
        if np.any(uses != 2):
            raise ValueError(f"{self.name} is not a closed manifold mesh: {int(np.sum(uses == 1))} edge(s) bound one "
                             f"face and {int(np.sum(uses > 2))} more than two; expected every edge shared by exactly "
                             "two faces (a watertight mesh), so that its inside is defined")
        object.__setattr__(self, "vertices", vertices)
        object.__setattr__(self, "faces", faces.astype(np.int32))

    def __eq__(self, other):
        return isinstance(other, MeshShape) and np.array_equal(self.vertices, other.vertices) and np.array_equal(
            self.faces, other.faces)

    def __hash__(self):
        return hash((self.vertices.tobytes(), self.faces.tobytes()))


@dataclass(frozen=True)
class ObstaclePath:
    """A keyframed motion of an obstacle: its displacement ``offsets`` [m] from its position at ``times`` [s],
    piecewise linear in time (so its velocity is constant between keyframes), constant outside the keyframes.
    The obstacle translates; it does not turn."""

    times: tuple[float, ...]
    offsets: tuple[tuple[float, float, float], ...]

    def __post_init__(self):
        object.__setattr__(self, "times", keyframe_times("obstacle path", self.times))
        object.__setattr__(self, "offsets", keyframe_vectors("obstacle path offsets", self.offsets, len(self.times)))


@dataclass(frozen=True)
class Obstacle:
    """One rigid obstacle (see the module notes for the shapes).

    Attributes:
        kind: one of ``OBSTACLE_KINDS``.
        position: the frame's origin [m] (a plane's point, a sphere's, box's or capsule's centre).
        rotation: local-to-world rotation, 3x3 (rows of floats).
        dims: shape sizes [m] (sphere: radius, 0, 0; box: half extents; capsule: half length, radius, 0; plane:
            zeros).
        friction: Coulomb friction coefficient between cloth and obstacle [-], >= 0.
        thickness: contact thickness [m] > 0: contact forces start when the cloth's surface comes this close.
        stiffness: contact stiffness per node [N/m] > 0, or None to derive one from the cloth's weight (see
            ``simulator.terms.ObstacleContact``).
        name: how error messages name it (``obstacles[k]``).
        path: its keyframed motion (a kinematic obstacle, moved through ``simulator.Control``), or None (static).
        mesh: the triangle mesh of a "mesh" obstacle (None for the others).
    """

    kind: str
    position: tuple[float, float, float]
    rotation: tuple[tuple[float, float, float], ...]
    dims: tuple[float, float, float]
    friction: float
    thickness: float
    stiffness: float | None = None
    name: str = "obstacle"
    path: ObstaclePath | None = None
    mesh: MeshShape | None = None

    def __post_init__(self):
        if self.kind not in OBSTACLE_KINDS:
            raise ValueError(f"{self.name}.type = {self.kind!r} is unknown: expected one of "
                             f"{', '.join(OBSTACLE_KINDS)}")
        object.__setattr__(self, "position", _vector(f"{self.name}.position", self.position))
        rotation = np.asarray(self.rotation, dtype=float)
        if rotation.shape != (3, 3) or not np.all(np.isfinite(rotation)):
            raise ValueError(f"{self.name}.rotation must be a finite 3x3 matrix")
        if not (np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-9) and np.linalg.det(rotation) > 0):
            raise ValueError(f"{self.name}.rotation is not a rotation: expected an orthonormal matrix, det +1")
        object.__setattr__(self, "rotation", tuple(tuple(float(v) for v in row) for row in rotation))
        object.__setattr__(self, "dims", _vector(f"{self.name}.dims", self.dims))
        object.__setattr__(self, "friction", require_range(f"{self.name}.friction", self.friction, 0.0))
        object.__setattr__(self, "thickness", require_positive(f"{self.name}.thickness", self.thickness))
        if self.stiffness is not None:
            object.__setattr__(self, "stiffness", require_positive(f"{self.name}.stiffness", self.stiffness))
        if (self.kind == "mesh") != isinstance(self.mesh, MeshShape):
            raise ValueError(f"{self.name}: a mesh obstacle needs a MeshShape (and only a mesh obstacle has one)")
        if self.path is not None and not isinstance(self.path, ObstaclePath):
            raise TypeError(f"{self.name}.path is a {type(self.path).__name__}: expected a simulator.ObstaclePath")

    # -- constructors with the quantities of a scene file -----------------------------------------------------
    @classmethod
    def plane(cls, *, point, normal, **contact) -> Obstacle:
        """The half-space behind the plane through ``point`` [m] with outward ``normal`` (any length > 0)."""
        name = contact.get("name", "obstacle")
        normal = np.asarray(_vector(f"{name}.normal", normal))
        length = np.linalg.norm(normal)
        if length == 0.0:
            raise ValueError(f"{name}.normal = [0, 0, 0]: expected a non-zero vector")
        return cls("plane", point, _frame_with_axis(normal / length, 2), (0.0, 0.0, 0.0), **contact)

    @classmethod
    def sphere(cls, *, center, radius, **contact) -> Obstacle:
        """A sphere of ``radius`` [m] about ``center`` [m]."""
        radius = require_positive(f"{contact.get('name', 'obstacle')}.radius", radius)
        return cls("sphere", center, np.eye(3), (radius, 0.0, 0.0), **contact)

    @classmethod
    def box(cls, *, center, half_extents, rotation=(0.0, 0.0, 0.0), **contact) -> Obstacle:
        """A box of ``half_extents`` [m] about ``center`` [m], turned by Euler angles ``rotation`` [degrees]."""
        name = contact.get("name", "obstacle")
        half = tuple(require_positive(f"{name}.half_extents[{k}]", v)
                     for k, v in enumerate(_vector(f"{name}.half_extents", half_extents)))
        return cls("box", center, euler_rotation(rotation), half, **contact)

    @classmethod
    def capsule(cls, *, start, end, radius, **contact) -> Obstacle:
        """The points within ``radius`` [m] of the segment from ``start`` to ``end`` [m]."""
        name = contact.get("name", "obstacle")
        start, end = np.asarray(_vector(f"{name}.start", start)), np.asarray(_vector(f"{name}.end", end))
        radius = require_positive(f"{name}.radius", radius)
        length = np.linalg.norm(end - start)
        if length == 0.0:
            raise ValueError(f"{name}: start and end coincide: expected a segment of length > 0 (or a sphere)")
        return cls("capsule", (start + end) / 2.0, _frame_with_axis((end - start) / length, 0),
                   (length / 2.0, radius, 0.0), **contact)

    @classmethod
    def from_mesh(cls, *, vertices, faces, position=(0.0, 0.0, 0.0), rotation=(0.0, 0.0, 0.0), scale=1.0,
                  **contact) -> Obstacle:
        """A closed triangle mesh (``vertices`` [V, 3] scaled by ``scale``, ``faces`` [F, 3]) placed at ``position``
        [m] and turned by Euler angles ``rotation`` [degrees]."""
        name = contact.get("name", "obstacle")
        scale = require_positive(f"{name}.scale", scale)
        shape = MeshShape(np.asarray(vertices, dtype=np.float64) * scale, faces, name=name)
        return cls("mesh", position, euler_rotation(rotation), (0.0, 0.0, 0.0), mesh=shape, **contact)

    @property
    def code(self) -> int:
        """The shape's integer code in the contact kernels."""
        return OBSTACLE_KINDS.index(self.kind)

    def signed_distance(self, points) -> np.ndarray:
        """Signed distance [m] of world ``points`` [..., 3] to the surface (negative inside), for checking a scene
        before any engine is built: on the host for the analytic shapes (the contact kernels compute it on the
        device, in ``simulator.terms.obstacles.shape_distance``; a test keeps the two equal), with the engine's
        BVH query on the CPU for a mesh."""
        rotation = np.asarray(self.rotation)
        local = (np.asarray(points, dtype=float) - np.asarray(self.position)) @ rotation
        dims = np.asarray(self.dims)
        if self.kind == "plane":
            return local[..., 2]
        if self.kind == "sphere":
            return np.linalg.norm(local, axis=-1) - dims[0]
        if self.kind == "mesh":  # the engine's own query (BVH, float64 distance to the nearest face)
            from .terms.obstacles import mesh_signed_distance

            return mesh_signed_distance(self.mesh, local)
        if self.kind == "box":
            excess = np.abs(local) - dims
            return np.linalg.norm(np.maximum(excess, 0.0), axis=-1) + np.minimum(excess.max(axis=-1), 0.0)
        along = np.clip(local[..., 0], -dims[0], dims[0])
        offset = local.copy()
        offset[..., 0] -= along
        return np.linalg.norm(offset, axis=-1) - dims[1]


@dataclass(frozen=True)
class SelfContactSpec:
    """Contact between layers of the cloth (``simulator.terms.SelfContact``).

    Attributes:
        friction: friction coefficient between layers [-] (None: the crossings' friction).
        stiffness: penalty stiffness per node pair [N/m] (None: from the cloth's weight).
        capacity: the most node pairs in contact per world (None: 4 per node).
    """

    friction: float | None = None
    stiffness: float | None = None
    capacity: int | None = None

    def __post_init__(self):
        if self.friction is not None:
            object.__setattr__(self, "friction", require_range("self_contact.friction", self.friction, 0.0))
        if self.stiffness is not None:
            object.__setattr__(self, "stiffness", require_positive("self_contact.stiffness", self.stiffness))
        if self.capacity is not None:
            if int(self.capacity) != self.capacity or self.capacity < 1:
                raise ValueError(f"self_contact.capacity = {self.capacity!r} is out of range: expected an integer "
                                 ">= 1 (node pairs per world)")
            object.__setattr__(self, "capacity", int(self.capacity))
