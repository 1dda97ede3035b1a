"""Contact with rigid obstacles (planes, spheres, boxes, capsules, closed meshes; static or moved by their
keyframes through the step's Control): a smooth penalty with smooth Coulomb friction.

Once per step (``linearize_launches``) every node finds, for every obstacle, the signed distance of its surface
to the obstacle, g = d(x) - r, and the outward normal n of the obstacle there (float64, in the obstacle's frame;
r is the cloth's half thickness at the node: 2R at a crossing, where two yarns lie on each other, R at a yarn
end; a mesh's nearest face and side come from its BVH in float32, the distance to that face in float64). The
step then holds the tangent plane fixed, gap(x) = n . x - o with o frozen so that gap = g at the
start of the step, and the node feels

    V = 1/2 k relu_w(t - gap)^2   (t the contact thickness, relu smoothed over w = 2% of t),

a penalty whose Hessian k (sigma^2 + relu sigma') n n^T is positive semi-definite by construction (the
obstacle's curvature enters from one step to the next, through the frozen plane, never as an indefinite
term). Friction is the lagged smooth Coulomb law: a damping h c (I - n n^T) in the system with
c = mu N f(|v_t|) / |v_t| frozen at the step's start, N = k relu sigma the normal force and v_t the tangential
velocity relative to the obstacle; f(y) = 2 y / eps - y^2 / eps^2 below eps = ``STICK_SPEED`` and 1 above, so
that a node slides with force mu N and sticks (creeps slower than eps / 2 tan(alpha) / mu) below the
friction cone.

Tunnelling: a single linearized step could carry a fast node through the thin contact layer before the
penalty acts. After the solve, each node's approach speed towards each obstacle is bounded so that it closes
at most half of its gap in one step (``APPROACH_FRACTION``): the node can never reach the obstacle, whatever
the speed or the time step (the bound is a projection of the velocity, differentiated exactly in reverse mode).
"""

import functools

import numpy as np
import warp as wp

from .._coords import position
from .._penalty import heaviest_weight, lagged_drag, penalty_curvature, penalty_energy, penalty_push
from .._terms import Configuration, ForceTerm, Launch, Stage
from .._types import vec5d

__all__ = ["APPROACH_FRACTION", "ObstacleContact", "mesh_signed_distance", "shape_distance"]

mat55d = wp.types.matrix(shape=(5, 5), dtype=wp.float64)

#: the most of its gap to an obstacle a node may close in one step (the bound against tunnelling)
APPROACH_FRACTION = 0.5
#: default stiffness: the heaviest node's weight sinks this fraction of the thickness into the contact layer
DEFAULT_SINK = 0.1


@wp.func
def closest_on_triangle(p: wp.vec3d, a: wp.vec3d, b: wp.vec3d, c: wp.vec3d):
    """The point of triangle (a, b, c) closest to p (float64; by the Voronoi regions of its vertices, edges and
    face)."""
    ab = b - a
    ac = c - a
    ap = p - a
    d1 = wp.dot(ab, ap)
    d2 = wp.dot(ac, ap)
    bp = p - b
    d3 = wp.dot(ab, bp)
    d4 = wp.dot(ac, bp)
    cp = p - c
    d5 = wp.dot(ab, cp)
    d6 = wp.dot(ac, cp)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    zero = wp.float64(0.0)
    closest = a + (vb / (va + vb + vc)) * ab + (vc / (va + vb + vc)) * ac  # inside the face
    if d1 <= zero and d2 <= zero:
        closest = a
    elif d3 >= zero and d4 <= d3:
        closest = b
    elif d6 >= zero and d5 <= d6:
        closest = c
    elif vc <= zero and d1 >= zero and d3 <= zero:
        closest = a + (d1 / (d1 - d3)) * ab
    elif vb <= zero and d2 >= zero and d6 <= zero:
        closest = a + (d2 / (d2 - d6)) * ac
    elif va <= zero and (d4 - d3) >= zero and (d5 - d6) >= zero:
        closest = b + ((d4 - d3) / ((d4 - d3) + (d5 - d6))) * (c - b)
    return closest


@wp.func
def mesh_distance(mesh: wp.uint64, vertices: wp.array(dtype=wp.vec3d), faces: wp.array(dtype=wp.vec3i),
                  first_face: int, p: wp.vec3d):
    """Signed distance [m] of the local point ``p`` to a closed mesh and the outward normal: the BVH (float32)
    picks the nearest face and the side, the distance to that face is computed in float64."""
    query = wp.mesh_query_point_sign_normal(mesh, wp.vec3f(wp.float32(p[0]), wp.float32(p[1]), wp.float32(p[2])),
                                            wp.float32(1.0e6), wp.float32(1.0e-3))
    face = faces[first_face + query.face]
    a = vertices[face[0]]
    b = vertices[face[1]]
    c = vertices[face[2]]
    offset = p - closest_on_triangle(p, a, b, c)
    length = wp.length(offset)
    sign = wp.where(query.sign < wp.float32(0.0), wp.float64(-1.0), wp.float64(1.0))
    normal = wp.normalize(wp.cross(b - a, c - a))
    if length > wp.float64(0.0):
        normal = (sign / length) * offset
    return sign * length, normal


@wp.func
def shape_distance(kind: int, p: wp.vec3d, dims: wp.vec3d, mesh: wp.uint64, vertices: wp.array(dtype=wp.vec3d),
                   faces: wp.array(dtype=wp.vec3i), first_face: int):
    """Signed distance [m] of the local point ``p`` to a shape (0 plane z = 0, 1 sphere, 2 box, 3 capsule along
    x, with sizes ``dims``; 4 a closed mesh: ``mesh_distance``), and the outward unit normal at the closest
    surface point (local frame)."""
    zero = wp.float64(0.0)
    one = wp.float64(1.0)
    distance = p[2]
    normal = wp.vec3d(zero, zero, one)
    if kind == 1:
        length = wp.length(p)
        distance = length - dims[0]
        if length > zero:
            normal = p / length
    elif kind == 2:
        sign = wp.vec3d(wp.where(p[0] < zero, -one, one), wp.where(p[1] < zero, -one, one),
                        wp.where(p[2] < zero, -one, one))
        excess = wp.vec3d(wp.abs(p[0]) - dims[0], wp.abs(p[1]) - dims[1], wp.abs(p[2]) - dims[2])
        outside = wp.vec3d(wp.max(excess[0], zero), wp.max(excess[1], zero), wp.max(excess[2], zero))
        reach = wp.length(outside)
        if reach > zero:
            distance = reach
            normal = wp.cw_mul(sign, outside) / reach
        else:
            axis = 0
            if excess[1] > excess[axis]:
                axis = 1
            if excess[2] > excess[axis]:
                axis = 2
            distance = excess[axis]
            normal = wp.vec3d(zero, zero, zero)
            normal[axis] = sign[axis]
    elif kind == 4:
        distance, normal = mesh_distance(mesh, vertices, faces, first_face, p)
    elif kind == 3:
        along = wp.clamp(p[0], -dims[0], dims[0])
        offset = wp.vec3d(p[0] - along, p[1], p[2])
        length = wp.length(offset)
        distance = length - dims[1]
        if length > zero:
            normal = offset / length
    return distance, normal


@wp.kernel
def eval_obstacle_state(
    q: wp.array2d(dtype=vec5d),
    qd: wp.array2d(dtype=vec5d),
    kind: wp.array(dtype=wp.int32),
    rotation: wp.array(dtype=wp.mat33d),
    dims: wp.array(dtype=wp.vec3d),
    meshes: wp.array(dtype=wp.uint64),
    mesh_vertices: wp.array(dtype=wp.vec3d),
    mesh_faces: wp.array(dtype=wp.vec3i),
    first_face: wp.array(dtype=wp.int32),
    radius: wp.array(dtype=wp.float64),
    world_origin: wp.array(dtype=wp.vec3d),
    centre: wp.array3d(dtype=wp.float64),
    moved: wp.array2d(dtype=wp.vec3d),
    motion: wp.array2d(dtype=wp.vec3d),
    thickness: wp.array2d(dtype=wp.float64),
    stiffness: wp.array2d(dtype=wp.float64),
    friction: wp.array2d(dtype=wp.float64),
    normal: wp.array3d(dtype=wp.vec3d),
    offset: wp.array3d(dtype=wp.float64),
    gap: wp.array3d(dtype=wp.float64),
    drag: wp.array3d(dtype=wp.float64),
):
    """The frozen contact state of node n against obstacle k (at its position plus its offset ``moved``):
    outward normal, plane offset, gap [m] between the cloth's surface and the obstacle, and the friction drag
    c = mu N f(|v_t|) / |v_t| [N s/m] at the node's tangential velocity v_t relative to the obstacle's ``motion``
    (the lagged smooth Coulomb law)."""
    b, n, k = wp.tid()
    x = position(q[b, n])
    turn = rotation[k]
    origin = wp.vec3d(centre[b, k, 0], centre[b, k, 1], centre[b, k, 2]) + moved[b, k] - world_origin[b]
    distance, local_normal = shape_distance(kind[k], wp.transpose(turn) * (x - origin), dims[k], meshes[k],
                                            mesh_vertices, mesh_faces, first_face[k])
    out = turn * local_normal
    g = distance - radius[n]
    normal[b, n, k] = out
    offset[b, n, k] = wp.dot(out, x) - g
    gap[b, n, k] = g
    mu_n = friction[b, k] * penalty_push(thickness[b, k] - g, thickness[b, k], stiffness[b, k])
    v = position(qd[b, n]) - motion[b, k]
    tangential_velocity = v - wp.dot(v, out) * out
    drag[b, n, k] = mu_n * lagged_drag(tangential_velocity)


@wp.func
def frozen_depth(x: wp.vec3d, normal: wp.vec3d, offset: wp.float64, thickness: wp.float64):
    """Depth t - gap [m] of position x into the contact layer of the frozen tangent plane."""
    return thickness - (wp.dot(normal, x) - offset)


@wp.func
def drag_matrix(normal: wp.vec3d, drag: wp.float64):
    """Friction drag D = c (I - n n^T) [N s/m] in the tangent plane (positive semi-definite)."""
    return drag * (wp.identity(n=3, dtype=wp.float64) - wp.outer(normal, normal))


@wp.kernel
def eval_obstacle_forces(
    q: wp.array2d(dtype=vec5d),
    normal: wp.array3d(dtype=wp.vec3d),
    offset: wp.array3d(dtype=wp.float64),
    drag: wp.array3d(dtype=wp.float64),
    motion: wp.array2d(dtype=wp.vec3d),
    thickness: wp.array2d(dtype=wp.float64),
    stiffness: wp.array2d(dtype=wp.float64),
    f: wp.array2d(dtype=vec5d),
):
    """Force of obstacle k on node n [N]: the penalty k relu sigma n (frozen tangent plane), and the pull c (I - n
    n^T) v_o of a moving obstacle's friction (its drag -c (I - n n^T) v is in the system matrix)."""
    b, n, k = wp.tid()
    out = normal[b, n, k]
    depth = frozen_depth(position(q[b, n]), out, offset[b, n, k], thickness[b, k])
    push = penalty_push(depth, thickness[b, k], stiffness[b, k]) * out
    push = push + drag_matrix(out, drag[b, n, k]) * motion[b, k]
    zero = wp.float64(0.0)
    wp.atomic_add(f, b, n, vec5d(push[0], push[1], push[2], zero, zero))


@wp.kernel
def eval_obstacle_energy(
    q: wp.array2d(dtype=vec5d),
    normal: wp.array3d(dtype=wp.vec3d),
    offset: wp.array3d(dtype=wp.float64),
    drag: wp.array3d(dtype=wp.float64),
    motion: wp.array2d(dtype=wp.vec3d),
    thickness: wp.array2d(dtype=wp.float64),
    stiffness: wp.array2d(dtype=wp.float64),
    energy: wp.array3d(dtype=wp.float64),
):
    """Penalty energy 1/2 k relu(t - gap)^2 [J] of obstacle k on node n (friction is not conservative)."""
    b, n, k = wp.tid()
    depth = frozen_depth(position(q[b, n]), normal[b, n, k], offset[b, n, k], thickness[b, k])
    energy[b, n, k] = penalty_energy(depth, thickness[b, k], stiffness[b, k])


@wp.kernel
def obstacle_drag_product(
    p: wp.array2d(dtype=vec5d),
    normal: wp.array3d(dtype=wp.vec3d),
    drag: wp.array3d(dtype=wp.float64),
    h: wp.float64,
    out: wp.array2d(dtype=vec5d),
):
    """out += h D p: the friction drag of obstacle k on node n's position."""
    b, n, k = wp.tid()
    t = h * (drag_matrix(normal[b, n, k], drag[b, n, k]) * position(p[b, n]))
    zero = wp.float64(0.0)
    wp.atomic_add(out, b, n, vec5d(t[0], t[1], t[2], zero, zero))


@wp.func
def position_block(q: vec5d, normal: wp.vec3d, offset: wp.float64, drag: wp.float64, thickness: wp.float64,
                   stiffness: wp.float64, h: wp.float64):
    """h^2 K + h D of one node and obstacle on the position block: h^2 V'' n n^T + h D."""
    depth = frozen_depth(position(q), normal, offset, thickness)
    curvature = penalty_curvature(depth, thickness, stiffness)
    return (h * h * curvature) * wp.outer(normal, normal) + h * drag_matrix(normal, drag)


@wp.kernel
def add_obstacle_blocks(
    q: wp.array2d(dtype=vec5d),
    normal: wp.array3d(dtype=wp.vec3d),
    offset: wp.array3d(dtype=wp.float64),
    drag: wp.array3d(dtype=wp.float64),
    thickness: wp.array2d(dtype=wp.float64),
    stiffness: wp.array2d(dtype=wp.float64),
    h: wp.float64,
    blocks: wp.array3d(dtype=mat55d),
):
    """Add each obstacle's h^2 K + h D into the node's own block (slot 0)."""
    b, n, k = wp.tid()
    local = position_block(q[b, n], normal[b, n, k], offset[b, n, k], drag[b, n, k], thickness[b, k],
                           stiffness[b, k], h)
    block = mat55d()
    for r in range(3):
        for s in range(3):
            block[r, s] = local[r, s]
    wp.atomic_add(blocks, b, n, 0, block)


@wp.kernel
def add_obstacle_preconditioner(
    q: wp.array2d(dtype=vec5d),
    normal: wp.array3d(dtype=wp.vec3d),
    offset: wp.array3d(dtype=wp.float64),
    drag: wp.array3d(dtype=wp.float64),
    thickness: wp.array2d(dtype=wp.float64),
    stiffness: wp.array2d(dtype=wp.float64),
    h: wp.float64,
    frame: wp.array2d(dtype=wp.mat33d),
    diag: wp.array2d(dtype=vec5d),
):
    """Add the diagonal of each obstacle's position block, in the node's local frame, to the preconditioner."""
    b, n, k = wp.tid()
    local = position_block(q[b, n], normal[b, n, k], offset[b, n, k], drag[b, n, k], thickness[b, k],
                           stiffness[b, k], h)
    f = frame[b, n]
    zero = wp.float64(0.0)
    wp.atomic_add(diag, b, n, vec5d(wp.dot(f[0], local * f[0]), wp.dot(f[1], local * f[1]),
                                    wp.dot(f[2], local * f[2]), zero, zero))


@wp.kernel
def eval_mesh_distances(mesh: wp.uint64, vertices: wp.array(dtype=wp.vec3d), faces: wp.array(dtype=wp.vec3i),
                        points: wp.array(dtype=wp.vec3d), distance: wp.array(dtype=wp.float64)):
    """Signed distance [m] of every local point to a closed mesh (``mesh_distance``)."""
    i = wp.tid()
    d, unused = mesh_distance(mesh, vertices, faces, 0, points[i])
    distance[i] = d


def mesh_signed_distance(mesh, points: np.ndarray) -> np.ndarray:
    """Signed distance [m] of local ``points`` [..., 3] to a ``simulator.MeshShape`` (negative inside), with the
    contact kernels' own query, on the CPU."""
    points = np.asarray(points, dtype=np.float64)
    bvh = wp.Mesh(points=wp.array(mesh.vertices.astype(np.float32), dtype=wp.vec3f, device="cpu"),
                  indices=wp.array(mesh.faces.reshape(-1), dtype=wp.int32, device="cpu"))
    flat = wp.array(points.reshape(-1, 3), dtype=wp.vec3d, device="cpu")
    out = wp.zeros(flat.shape[0], dtype=wp.float64, device="cpu")
    wp.launch(eval_mesh_distances, flat.shape[0],
              inputs=[bvh.id, wp.array(mesh.vertices, dtype=wp.vec3d, device="cpu"),
                      wp.array(mesh.faces, dtype=wp.vec3i, device="cpu"), flat], outputs=[out], device="cpu")
    return out.numpy().reshape(points.shape[:-1])


@functools.cache
def approach_bound_kernel(count: int):
    """The kernel bounding the approach speed of every node towards each of ``count`` obstacles."""

    @wp.kernel(module="unique")
    def bound_approach(
        velocity: wp.array2d(dtype=vec5d),
        normal: wp.array3d(dtype=wp.vec3d),
        gap: wp.array3d(dtype=wp.float64),
        motion: wp.array2d(dtype=wp.vec3d),
        rate: wp.float64,
        out: wp.array2d(dtype=vec5d),
    ):
        """out = velocity with n . (xdot - v_o) >= -rate gap for every obstacle the node is outside of (v_o its
        velocity, rate = the approach fraction / h): the node closes at most that fraction of its gap."""
        b, n = wp.tid()
        v = velocity[b, n]
        x = position(v)
        for k in range(wp.static(count)):
            out_normal = normal[b, n, k]
            g = gap[b, n, k]
            floor = wp.dot(out_normal, motion[b, k]) - rate * g
            approach = wp.dot(out_normal, x)
            if g > wp.float64(0.0) and approach < floor:
                x = x + (floor - approach) * out_normal
        out[b, n] = vec5d(x[0], x[1], x[2], v[3], v[4])

    return bound_approach


class ObstacleWorkspace:
    """The obstacles' fixed shapes and the frozen contact state of a step, for one model.

    Attributes:
        kind, rotation, dims: per obstacle (int code, local-to-world rotation, sizes [m]).
        meshes, first_face, mesh_vertices, mesh_faces: the mesh obstacles' BVH ids (0 for the others), where
            their faces start in ``mesh_faces``, and all their vertices [m] and faces (float64, int).
        radius: the cloth's half thickness at every node [m] (2R at crossings, R at yarn ends).
        normal, offset, gap, drag: the frozen state [B, nodes, obstacles] (see ``eval_obstacle_state``).
    """

    def __init__(self, model, obstacles):
        dev = model.device
        count = len(obstacles)
        self.count = count
        self.kind = wp.array(np.array([o.code for o in obstacles], dtype=np.int32), dtype=wp.int32, device=dev)
        self.rotation = wp.array(np.array([o.rotation for o in obstacles], dtype=np.float64), dtype=wp.mat33d,
                                 device=dev)
        self.dims = wp.array(np.array([o.dims for o in obstacles], dtype=np.float64), dtype=wp.vec3d, device=dev)
        self._bvh = []  # the wp.Mesh of each mesh obstacle (its BVH, float32 points), kept alive here
        ids, first, vertices, faces = [], [], [np.zeros((1, 3))], [np.zeros((1, 3), dtype=np.int32)]
        count_v, count_f = 1, 1
        for obstacle in obstacles:
            mesh = obstacle.mesh
            if mesh is None:
                ids.append(0)
                first.append(0)
                continue
            bvh = wp.Mesh(points=wp.array(mesh.vertices.astype(np.float32), dtype=wp.vec3f, device=dev),
                          indices=wp.array(mesh.faces.reshape(-1), dtype=wp.int32, device=dev))
            self._bvh.append(bvh)
            ids.append(bvh.id)
            first.append(count_f)
            vertices.append(mesh.vertices)
            faces.append(mesh.faces + count_v)
            count_v, count_f = count_v + len(mesh.vertices), count_f + len(mesh.faces)
        self.meshes = wp.array(np.array(ids, dtype=np.uint64), dtype=wp.uint64, device=dev)
        self.first_face = wp.array(np.array(first, dtype=np.int32), dtype=wp.int32, device=dev)
        self.mesh_vertices = wp.array(np.concatenate(vertices), dtype=wp.vec3d, device=dev)
        self.mesh_faces = wp.array(np.concatenate(faces).astype(np.int32), dtype=wp.vec3i, device=dev)
        radius = model.yarn_radius * np.where(model.crossing_mask_np, 2.0, 1.0)
        self.radius = wp.array(radius, dtype=wp.float64, device=dev)
        shape = (model.world_count, model.node_count, count)
        self.normal = wp.zeros(shape, dtype=wp.vec3d, device=dev)
        self.offset = wp.zeros(shape, dtype=wp.float64, device=dev)
        self.gap = wp.zeros(shape, dtype=wp.float64, device=dev)
        self.drag = wp.zeros(shape, dtype=wp.float64, device=dev)

    def frozen(self) -> list:
        """The frozen state's arrays, in the order ``eval_obstacle_state`` writes them."""
        return [self.normal, self.offset, self.gap, self.drag]


class ObstacleContact(ForceTerm):
    """Contact of every node with the model's obstacles (``ClothSpec.obstacles``; see the module notes).

    Parameters it adds (per world and obstacle): ``obstacle_position`` [m] (the obstacle frame's origin, shape
    [B, K, 3]), ``obstacle_friction`` mu [-], ``obstacle_thickness`` t [m] and ``obstacle_stiffness`` k [N/m]
    (by default ``DEFAULT_SINK``: the heaviest node's weight, under the model's gravity or 9.81 m/s^2 if larger,
    compresses the layer by a tenth of its thickness).
    """

    name = "obstacles"
    stage = Stage.CROSSING
    parameter_names = ("obstacle_position", "obstacle_friction", "obstacle_thickness", "obstacle_stiffness")
    bounds_velocity = True

    def __init__(self, obstacles=None):
        self._obstacles = None if obstacles is None else tuple(obstacles)

    def obstacles(self, model) -> tuple:
        """The obstacles (shared by all worlds: kinds, rotations and sizes of world 0)."""
        return self._obstacles if self._obstacles is not None else model.specs[0].obstacles

    def parameters(self, model):
        obstacles = self.obstacles(model)
        if not obstacles:
            raise ValueError("ObstacleContact needs at least one obstacle (ClothSpec.obstacles)")
        per_world = [self._obstacles or spec.obstacles for spec in model.specs]
        for b, world in enumerate(per_world):
            shapes = [(o.kind, o.rotation, o.dims, o.mesh) for o in world]
            if shapes != [(o.kind, o.rotation, o.dims, o.mesh) for o in obstacles]:
                raise ValueError(f"world {b}: obstacle shapes differ from world 0: worlds must share kinds, "
                                 "rotations and sizes (positions, friction, thickness and stiffness may differ)")
        weight = heaviest_weight(model)
        return {
            "obstacle_position": np.array([[o.position for o in world] for world in per_world]),
            "obstacle_friction": np.array([[o.friction for o in world] for world in per_world]),
            "obstacle_thickness": np.array([[o.thickness for o in world] for world in per_world]),
            "obstacle_stiffness": np.array([[o.stiffness if o.stiffness is not None
                                             else weight[b] / (DEFAULT_SINK * o.thickness) for o in world]
                                            for b, world in enumerate(per_world)]),
        }

    def workspace(self, model):
        return ObstacleWorkspace(model, self.obstacles(model))

    def frozen_arrays(self, ws):
        return ws.frozen()

    def _dim(self, model, ws):
        return (model.world_count, model.node_count, ws.count)

    def linearize_launches(self, model, c, ws=None):
        return [Launch(eval_obstacle_state, self._dim(model, ws),
                       [c.q, c.qd, ws.kind, ws.rotation, ws.dims, ws.meshes, ws.mesh_vertices, ws.mesh_faces,
                        ws.first_face, ws.radius, model.origin, model.obstacle_position,
                        c.control.obstacle_offset, c.control.obstacle_velocity,
                        model.obstacle_thickness, model.obstacle_stiffness, model.obstacle_friction],
                       ws.frozen())]

    def _inputs(self, model, c, ws):
        return [c.q, ws.normal, ws.offset, ws.drag, c.control.obstacle_velocity, model.obstacle_thickness,
                model.obstacle_stiffness]

    def force_launches(self, model, c, out, ws=None):
        return [Launch(eval_obstacle_forces, self._dim(model, ws), self._inputs(model, c, ws), [out])]

    def energy_launches(self, model, c, ws=None):
        return [Launch(eval_obstacle_energy, self._dim(model, ws), self._inputs(model, c, ws))]

    def linear_product_launches(self, model, c, p, h, out, ws=None):
        return [Launch(obstacle_drag_product, self._dim(model, ws), [p, ws.normal, ws.drag, h], [out])]

    def _block_inputs(self, model, c, h, ws):
        return [c.q, ws.normal, ws.offset, ws.drag, model.obstacle_thickness, model.obstacle_stiffness, h]

    def block_launches(self, model, c, h, blocks, ws=None):
        return [Launch(add_obstacle_blocks, self._dim(model, ws), self._block_inputs(model, c, h, ws), [blocks])]

    def preconditioner_launches(self, model, c, h, frame, diag, chain, ws=None):
        return [Launch(add_obstacle_preconditioner, self._dim(model, ws),
                       [*self._block_inputs(model, c, h, ws), frame], [diag])]

    def velocity_bound_launches(self, model, c, h, velocity, out, ws=None):
        return [Launch(approach_bound_kernel(ws.count), (model.world_count, model.node_count),
                       [velocity, ws.normal, ws.gap, c.control.obstacle_velocity, APPROACH_FRACTION / h], [out])]

    def gaps(self, model, state, ws=None, *, control=None) -> np.ndarray:
        """The gap [m] between the cloth's surface and every obstacle at ``state`` (the obstacles moved as
        ``control`` says; default: at their positions), shape [B, nodes, K]."""
        ws = self.workspace(model) if ws is None else ws
        control = model.control() if control is None else control
        c = Configuration(q=state.q, qd=state.qd, anchor=state.anchor, control=control, frozen=None)
        for launch in self.linearize_launches(model, c, ws):
            launch.run(model.device)
        return ws.gap.numpy().copy()

    def check(self, model) -> None:
        """Refuse a model whose cloth already touches an obstacle at rest (negative gap at t = 0)."""
        control = None
        if model.schedule is not None:
            control = model.schedule.control()
            model.schedule.fill(control, time=0.0)
        gaps = self.gaps(model, model.state(), control=control)
        b, n, k = np.unravel_index(np.argmin(gaps), gaps.shape)
        if gaps[b, n, k] < 0.0:
            i, j = n % model.nodes[0], n // model.nodes[0]
            name = self.obstacles(model)[k].name
            raise ValueError(f"{name} intersects the cloth at t = 0: the cloth's surface at node ({i}, {j}) is "
                             f"{-gaps[b, n, k]:.3g} m inside it (world {b}); expected the cloth to start outside "
                             "every obstacle: move the obstacle or the cloth")

