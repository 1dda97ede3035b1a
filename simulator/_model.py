"""Model (immutable topology, rest values, per-element parameters) and State (what a step changes)."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import warp as wp

from materials import require_instance

from ._spec import ClothSpec
from ._types import vec5d

WARP, WEFT = 0, 1

#: Names of the Model's per-world parameter arrays (leading dimension: world). Each has a gradient
#: array of the same shape in ``ModelGradient``.
PARAMETER_ARRAYS = (
    "segment_density",  # rho [kg/m] per segment
    "segment_stretch_stiffness",  # ks = Y pi R^2 [N] per segment
    "segment_contact_stiffness",  # kc [N/m^2] per segment
    "triple_bend_stiffness",  # kb = B pi R^2 per bending triple
    "stencil_shear_stiffness",  # S pi R^2 per shear stencil (times 1 + N / N0 in the step)
    "stencil_compression_scale",  # N0 [N] per shear stencil: the compression that doubles the shear stiffness
    "node_friction",  # mu [-] per node
    "node_friction_stiffness",  # kf [N/m] per node
    "node_friction_damping",  # df [N s/m] per node
    "node_friction_smoothing",  # stick/slip switch width relative to mu N [-] per node
    "node_pin_stiffness",  # kh [N/m] per node (0: not pinned)
    "node_pin_target",  # pin target relative to the origin [m] per node
    "gravity",  # [m/s^2] per world
    "wind_velocity",  # [m/s] per world
    "wind_density",  # rho_w [kg/m^3] per world
    "wind_drag",  # d_w [kg/(m^2 s)] per world
)


@dataclass
class State:
    """Mutable state of all worlds.

    Attributes:
        q: generalized coordinates per node (x, y, z, du, dv) [m], shape [worlds, nodes]: positions
            relative to ``Model.origin`` and sliding displacements from the rest arc-length coordinates
            ``Model.rest_sliding_np`` (both keep float64 precision for micrometre sliding and
            millimetre motion far from the world origin; ``Model.positions``/``sliding`` give
            absolute values).
        qd: generalized velocities [m/s], shape [worlds, nodes].
        anchor: friction anchors of the (u, v) coordinates, as displacements from rest [m], shape
            [worlds, nodes].
    """

    q: wp.array2d
    qd: wp.array2d
    anchor: wp.array2d

    def assign(self, other: "State") -> None:
        """Copy another state's values into this one (no allocation)."""
        wp.copy(self.q, other.q)
        wp.copy(self.qd, other.qd)
        wp.copy(self.anchor, other.anchor)


class Model:
    """Immutable description of B woven cloths that share one grid (topology) on one device.

    Node n = i + j*W. Segments, bending triples, shear stencils and wind triangles are index lists
    shared by all worlds; every physical parameter is a per-world, per-element array so that
    parameter gradients never accumulate into one address. ``terms`` are the force terms of the model
    (``simulator.terms.default_terms()`` unless given); a term may add parameter arrays of its own.
    """

    def __init__(self, specs: Sequence[ClothSpec], *, device=None, terms=None):
        if isinstance(specs, ClothSpec):
            specs = [specs]
        hint = "build one from a scene with scenes.build_spec(scene)"
        if not isinstance(specs, list | tuple):
            require_instance("build_model(specs)", specs, ClothSpec, hint=hint)
        specs = list(specs)
        if not specs:
            raise ValueError("build_model needs at least one ClothSpec")
        for k, spec in enumerate(specs):
            require_instance(f"build_model(specs[{k}])", spec, ClothSpec, hint=hint)
        first = specs[0]
        for k, spec in enumerate(specs[1:], start=1):
            for name in ("nodes", "spacing", "yarn_radius", "pose", "pins", "self_contact"):
                if getattr(spec, name) != getattr(first, name):
                    raise ValueError(f"world {k}: {name} = {getattr(spec, name)!r} differs from world 0 "
                                     f"({getattr(first, name)!r}); worlds must share one grid")
            if not np.array_equal(spec.flips, first.flips):
                raise ValueError(f"world {k}: weave pattern differs from world 0; worlds must share one grid")
        self.device = wp.get_device(device)
        self.specs = tuple(specs)
        self.world_count = len(specs)
        self.nodes = first.nodes
        width, height = first.nodes
        self.node_count = width * height
        self.spacing = first.spacing
        self.yarn_radius = first.yarn_radius
        self.lock_angle = 2.0 * np.arcsin(first.yarn_radius / first.spacing)
        self._build_topology(first)
        self._build_parameters(specs)
        self._build_schedule(specs)
        self._add_terms(terms)

    # -- topology ---------------------------------------------------------------------------
    def _node(self, i, j):
        return i + j * self.nodes[0]

    def _build_topology(self, spec: ClothSpec):
        width, height = self.nodes
        flips = spec.flips
        segs, seg_axis, seg_yarn = [], [], []
        for j in range(height):
            for i in range(width - 1):
                segs.append((self._node(i, j), self._node(i + 1, j)))
                seg_axis.append(WARP)
                seg_yarn.append(j)
        for i in range(width):
            for j in range(height - 1):
                segs.append((self._node(i, j), self._node(i, j + 1)))
                seg_axis.append(WEFT)
                seg_yarn.append(i)
        segs = np.asarray(segs, dtype=np.int32)
        flat_flips = flips.T.reshape(-1)  # node order n = i + j*W
        reach = np.where(flat_flips[segs[:, 0]] != flat_flips[segs[:, 1]], 4.0, 2.0) * self.yarn_radius

        tris, tri_axis, tri_yarn = [], [], []
        for j in range(height):
            for i in range(1, width - 1):
                tris.append((self._node(i - 1, j), self._node(i, j), self._node(i + 1, j)))
                tri_axis.append(WARP)
                tri_yarn.append(j)
        for i in range(width):
            for j in range(1, height - 1):
                tris.append((self._node(i, j - 1), self._node(i, j), self._node(i, j + 1)))
                tri_axis.append(WEFT)
                tri_yarn.append(i)

        stencils, jam = [], []
        for j in range(1, height - 1):
            for i in range(1, width - 1):
                for di in (-1, 1):
                    for dj in (-1, 1):
                        stencils.append((self._node(i, j), self._node(i + di, j), self._node(i, j + dj)))
                        jam.append(int(flips[i, j] != flips[i + di, j] and flips[i, j] != flips[i, j + dj]))

        faces = []
        for cj in range(height - 1):
            for ci in range(width - 1):
                n00, n10 = self._node(ci, cj), self._node(ci + 1, cj)
                n01, n11 = self._node(ci, cj + 1), self._node(ci + 1, cj + 1)
                if (ci + cj) % 2 == 0:
                    faces += [(n00, n10, n11), (n00, n11, n01)]
                else:
                    faces += [(n00, n10, n01), (n10, n11, n01)]

        interior = np.zeros((width, height), dtype=bool)
        interior[1:-1, 1:-1] = True
        self.crossing_mask_np = interior.T.reshape(-1)
        dof_mask = np.ones((self.node_count, 5))
        dof_mask[~self.crossing_mask_np, 3:] = 0.0

        dev = self.device
        self.segment_count, self.triple_count = len(segs), len(tris)
        self.stencil_count, self.face_count = len(stencils), len(faces)
        self.segment_np, self.segment_axis_np, self.segment_yarn_np = segs, np.asarray(seg_axis), seg_yarn
        self.triple_np, self.triple_axis_np, self.triple_yarn_np = np.asarray(tris), np.asarray(tri_axis), tri_yarn
        self.segment_nodes = wp.array(segs, dtype=wp.vec2i, device=dev)
        self.segment_axis = wp.array(np.asarray(seg_axis, dtype=np.int32), dtype=wp.int32, device=dev)
        self.segment_reach = wp.array(reach, dtype=wp.float64, device=dev)
        self.triple_nodes = wp.array(np.asarray(tris, dtype=np.int32), dtype=wp.vec3i, device=dev)
        self.triple_axis = wp.array(np.asarray(tri_axis, dtype=np.int32), dtype=wp.int32, device=dev)
        self.stencil_nodes = wp.array(np.asarray(stencils, dtype=np.int32).reshape(-1, 3), dtype=wp.vec3i,
                                      device=dev)
        self.stencil_jam = wp.array(np.asarray(jam, dtype=np.int32), dtype=wp.int32, device=dev)
        self.face_nodes = wp.array(np.asarray(faces, dtype=np.int32), dtype=wp.vec3i, device=dev)
        self.node_flip = wp.array(flat_flips.astype(np.int32), dtype=wp.int32, device=dev)
        self.dof_mask = wp.array(dof_mask, dtype=vec5d, device=dev)

    # -- parameters -------------------------------------------------------------------------
    def _build_parameters(self, specs: Sequence[ClothSpec]):
        area = np.pi * self.yarn_radius**2
        worlds, dev = self.world_count, self.device

        def per_yarn(spec, axis_np, yarn_idx, attr, scale):
            warp_vals = np.array([getattr(m, attr) for m in spec.warp_materials]) * scale
            weft_vals = np.array([getattr(m, attr) for m in spec.weft_materials]) * scale
            yarn_idx = np.asarray(yarn_idx)
            values = np.empty(len(yarn_idx))
            is_warp = axis_np == WARP
            values[is_warp] = warp_vals[yarn_idx[is_warp]]
            values[~is_warp] = weft_vals[yarn_idx[~is_warp]]
            return values

        seg_rho = np.stack([per_yarn(s, self.segment_axis_np, self.segment_yarn_np, "density", 1.0) for s in specs])
        seg_ks = np.stack([per_yarn(s, self.segment_axis_np, self.segment_yarn_np, "young_modulus", area)
                           for s in specs])
        tri_kb = np.stack([per_yarn(s, self.triple_axis_np, self.triple_yarn_np, "bending_modulus", area)
                           for s in specs])
        seg_kc = np.stack([np.full(self.segment_count, s.crossing.contact_stiffness) for s in specs])
        st_k0 = np.stack([np.full(self.stencil_count, s.crossing.shear_modulus * area) for s in specs])
        st_n0 = np.stack([np.full(self.stencil_count, s.crossing.shear_compression_scale) for s in specs])
        node = self.node_count
        mu = np.stack([np.full(node, s.crossing.friction) for s in specs])
        kf = np.stack([np.full(node, s.crossing.friction_stiffness) for s in specs])
        df = np.stack([np.full(node, s.crossing.friction_damping) for s in specs])
        smooth = np.stack([np.full(node, s.crossing.friction_smoothing) for s in specs])
        pin_k = np.zeros((worlds, node))
        rest = np.stack([s.rest_positions() for s in specs])  # [B, W, H, 3]
        self.origin_np = np.stack([np.asarray(s.origin) for s in specs])
        rest_rel = (rest - self.origin_np[:, None, None, :]).transpose(0, 2, 1, 3).reshape(worlds, node, 3)
        for b, spec in enumerate(specs):
            for i, j in spec.pins:
                pin_k[b, self._node(i, j)] = spec.pin_stiffness
        width, height = self.nodes
        i, j = np.meshgrid(np.arange(width), np.arange(height), indexing="xy")  # [H, W] -> n = i + j*W
        self.rest_sliding_np = np.stack([i.reshape(-1), j.reshape(-1)], axis=-1) * self.spacing  # [N, 2]
        q0 = np.zeros((worlds, node, 5))
        q0[..., :3] = rest_rel
        self.initial_q_np = q0

        def f64(a):
            return wp.array(np.ascontiguousarray(a, dtype=np.float64), dtype=wp.float64, device=dev)

        def v3(a):
            return wp.array(np.ascontiguousarray(a, dtype=np.float64), dtype=wp.vec3d, device=dev)

        self.segment_density = f64(seg_rho)
        self.segment_stretch_stiffness = f64(seg_ks)
        self.segment_contact_stiffness = f64(seg_kc)
        self.triple_bend_stiffness = f64(tri_kb)
        self.stencil_shear_stiffness = f64(st_k0)
        self.stencil_compression_scale = f64(st_n0)
        self.node_friction = f64(mu)
        self.node_friction_stiffness = f64(kf)
        self.node_friction_damping = f64(df)
        self.node_friction_smoothing = f64(smooth)
        self.node_pin_stiffness = f64(pin_k)
        self.node_pin_target = v3(rest_rel)
        self.gravity = v3(np.stack([s.gravity for s in specs]))
        self.wind_velocity = v3(np.stack([s.wind_velocity for s in specs]))
        self.wind_density = f64(np.array([s.wind_density for s in specs]))
        self.wind_drag = f64(np.array([s.wind_drag for s in specs]))
        self.origin = v3(self.origin_np)

    # -- keyframed inputs --------------------------------------------------------------------------
    def _build_schedule(self, specs: Sequence[ClothSpec]) -> None:
        """Keyframe tables of the pin paths, the wind path and the obstacles' paths (``schedule`` is None without
        any), and the obstacles' resting inputs (no offset, no velocity)."""
        first = specs[0]
        dev, worlds = self.device, self.world_count
        self.obstacle_count = len(first.obstacles)
        resting = (worlds, max(self.obstacle_count, 1))
        self.obstacle_rest_offset = wp.zeros(resting, dtype=wp.vec3d, device=dev)
        self.obstacle_rest_velocity = wp.zeros(resting, dtype=wp.vec3d, device=dev)
        self.schedule = None
        self.schedule_parameters = ()

        def keyframed(spec):
            return bool(spec.pin_paths) or spec.wind_path is not None or any(o.path for o in spec.obstacles)

        def timing(spec):
            return ([(p.nodes, p.times) for p in spec.pin_paths], None if spec.wind_path is None else
                    spec.wind_path.times, [None if o.path is None else o.path.times for o in spec.obstacles])

        for k, spec in enumerate(specs[1:], start=1):
            if keyframed(spec) != keyframed(first) or (keyframed(first) and timing(spec) != timing(first)):
                raise ValueError(f"world {k}: keyframed inputs differ from world 0 in nodes or times: worlds must "
                                 "share them (their values may differ)")
        if not keyframed(first):
            return
        group = np.full(self.node_count, -1, dtype=np.int32)
        count, offsets = 0, [[] for _ in specs]
        for g, path in enumerate(first.pin_paths):
            for i, j in path.nodes:
                group[self._node(i, j)] = g
            count += len(path.times)
            for b, spec in enumerate(specs):
                offsets[b] += list(spec.pin_paths[g].offsets)
        self.node_pin_group = wp.array(group, dtype=wp.int32, device=dev)
        self.pin_path_offset = wp.array(np.asarray(offsets if count else [[[0.0] * 3]] * worlds, dtype=np.float64),
                                        dtype=wp.vec3d, device=dev)
        wind = first.wind_path
        velocities = [spec.wind_path.velocities if wind else [[0.0] * 3] for spec in specs]
        self.wind_path_velocity = wp.array(np.asarray(velocities, dtype=np.float64), dtype=wp.vec3d, device=dev)
        moves = [[o.path.offsets for o in spec.obstacles if o.path is not None] for spec in specs]
        moved = [sum((list(path) for path in world), []) for world in moves]
        self.obstacle_path_offset = wp.array(np.asarray([m or [[0.0] * 3] for m in moved], dtype=np.float64),
                                             dtype=wp.vec3d, device=dev)
        self.schedule_parameters = (("pin_path_offset",) if count else ()) + (
            ("wind_path_velocity",) if wind else ()) + (("obstacle_path_offset",) if moved[0] else ())
        from ._control import ControlSchedule

        self.schedule = ControlSchedule(self)

    # -- force terms ----------------------------------------------------------------------------
    def _add_terms(self, terms) -> None:
        from .terms import ObstacleContact, SelfContact, default_terms

        if terms is None:
            first = self.specs[0]
            terms = default_terms() + ((ObstacleContact(),) if first.obstacles else ())
            if first.self_contact is not None:
                options = first.self_contact
                terms += (SelfContact(friction=options.friction, stiffness=options.stiffness,
                                      capacity=options.capacity),)
        self.terms = tuple(terms)
        names = [term.name for term in self.terms]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"force terms {repeated} appear more than once: expected one of each")
        self.parameter_names = PARAMETER_ARRAYS + self.schedule_parameters
        for term in self.terms:
            for name, values in term.parameters(self).items():
                if name in self.parameter_names or hasattr(self, name):
                    raise ValueError(f"term {term.name!r} adds parameter {name!r}, which the model already has")
                values = np.ascontiguousarray(values, dtype=np.float64)
                if values.ndim < 1 or values.shape[0] != self.world_count:
                    raise ValueError(f"term {term.name!r}: parameter {name!r} has shape {values.shape}: expected "
                                     f"a leading world dimension of {self.world_count}")
                setattr(self, name, wp.array(values, dtype=wp.float64, device=self.device))
                self.parameter_names = (*self.parameter_names, name)
        if any(spec.obstacles for spec in self.specs) and "obstacles" not in names:
            raise ValueError("the cloth has obstacles but the force terms have no obstacle contact: add "
                             "simulator.terms.ObstacleContact() to the terms")
        for term in self.terms:
            term.check(self)

    def control(self):
        """The constant inputs of a step (``simulator.Control``): the model's ``wind_velocity`` and
        ``node_pin_target`` arrays themselves and resting obstacles (write into ``Control.like(model)`` to vary
        them)."""
        from ._control import Control

        return Control(wind_velocity=self.wind_velocity, pin_target=self.node_pin_target,
                       obstacle_offset=self.obstacle_rest_offset, obstacle_velocity=self.obstacle_rest_velocity)

    # -- states -----------------------------------------------------------------------------
    def parameter(self, name: str) -> np.ndarray:
        """A copy of the parameter array ``name`` (one of ``parameter_names``), leading dimension world."""
        if name not in self.parameter_names:
            raise ValueError(f"unknown model parameter {name!r}: expected one of {', '.join(self.parameter_names)}")
        return getattr(self, name).numpy().copy()

    def set_parameter(self, name: str, values) -> None:
        """Overwrite the parameter array ``name`` with ``values`` of the same shape (no reallocation)."""
        current = getattr(self, name) if name in self.parameter_names else None
        if current is None:
            raise ValueError(f"unknown model parameter {name!r}: expected one of {', '.join(self.parameter_names)}")
        values = np.asarray(values, dtype=np.float64)
        expected = current.numpy().shape
        if values.shape != expected:
            raise ValueError(f"parameter {name!r} has shape {values.shape}: expected {expected}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"parameter {name!r} holds NaN or Inf values")
        current.assign(values)

    def state(self, *, requires_grad: bool = False) -> State:
        """A new state at the rest configuration (zero velocity, anchors at the rest u, v)."""
        q = wp.array(self.initial_q_np, dtype=vec5d, device=self.device, requires_grad=requires_grad)
        qd = wp.zeros_like(q, requires_grad=requires_grad)
        anchor = wp.zeros((self.world_count, self.node_count), dtype=wp.vec2d, device=self.device,
                          requires_grad=requires_grad)
        return State(q=q, qd=qd, anchor=anchor)

    def to_grid(self, values: np.ndarray) -> np.ndarray:
        """Reshape per-node values [B, W*H, ...] (node n = i + j*W) to [B, W, H, ...]."""
        width, height = self.nodes
        values = np.asarray(values)
        out = values.reshape(values.shape[0], height, width, *values.shape[2:])
        return np.swapaxes(out, 1, 2)

    def from_grid(self, values: np.ndarray) -> np.ndarray:
        """Inverse of ``to_grid``: [B, W, H, ...] -> [B, W*H, ...]."""
        values = np.swapaxes(np.asarray(values), 1, 2)
        return values.reshape(values.shape[0], self.node_count, *values.shape[3:])

    def positions(self, state: State) -> np.ndarray:
        """Absolute node positions [m], shape [B, W, H, 3]."""
        q = state.q.numpy()
        return self.to_grid(q[..., :3] + self.origin_np[:, None, :])

    def sliding(self, state: State) -> np.ndarray:
        """Sliding coordinates (u, v) [m] (rest arc length plus displacement), shape [B, W, H, 2]."""
        return self.to_grid(state.q.numpy()[..., 3:] + self.rest_sliding_np[None])


def build_model(specs, *, device=None, terms=None) -> Model:
    """Build a Model from one ClothSpec or a list of them (one world each, sharing the grid), with the force
    ``terms`` (default ``simulator.terms.default_terms()``)."""
    return Model(specs, device=device, terms=terms)
