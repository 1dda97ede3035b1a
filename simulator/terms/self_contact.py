"""Self-contact: layers of a folded or crumpled cloth repel each other and rub with smooth Coulomb friction.

Each crossing is the middle of a stack of two yarns, so the cloth is 4R thick there: two layers touch when two
nodes come within the contact distance d = max(4R, L) of each other (at least the spacing L, so that the node
grid of a layer has no hole another node fits through). Nodes that are near each other on the cloth itself
(rest distance under ``EXCLUDED_REST`` d: the same crossing, its yarn neighbours and their neighbours) never
count; the crossings between them stay the crossing model's.

Every step (``collide``) a hash grid of all nodes of all worlds (grouped by world) finds the candidate pairs
within ``SEARCH`` d in float64; they are filtered by distance, by the exclusion and by facing (the line between
the two nodes within 60 degrees of the cloth's normal at both, so that one layer compressed in its own plane,
as a sheet draped on a sphere is at its rim, is not taken for two layers), and written to the term's
``simulator.Contacts`` (at most ``capacity`` pairs per world: more stops the step with a clear error). Then,
as for obstacles, each pair's direction u = (x_i - x_j) / |x_i - x_j| is frozen for the step and the pair feels

    V = 1/2 k relu_w(d - u . (x_i - x_j))^2   (relu smoothed over w = 2% of d),

whose Hessian is positive semi-definite by construction, plus the lagged smooth Coulomb drag c (I - u u^T) on
the relative velocity (c = mu N f(|v_t|) / |v_t|, N the penalty's push). The couplings between the two nodes
are outside the 13-point stencil: the pair's blocks go to the assembled operator through ``Contacts``.
"""

import numpy as np
import warp as wp

from .._contacts import Contacts
from .._coords import position
from .._health import SimulationError
from .._penalty import heaviest_weight, lagged_drag, penalty_curvature, penalty_energy, penalty_push
from .._terms import ForceTerm, Launch, Stage
from .._types import vec5d

__all__ = ["EXCLUDED_REST", "SEARCH", "SelfContact", "contact_distance"]

mat55d = wp.types.matrix(shape=(5, 5), dtype=wp.float64)

#: node pairs closer than this many contact distances at rest are neighbours on the cloth (never in contact)
EXCLUDED_REST = 1.5
#: candidate pairs are searched within this many contact distances (a margin for the step's motion)
SEARCH = 1.25
#: default capacity: contact pairs per node and world
PAIRS_PER_NODE = 4


def contact_distance(model) -> float:
    """The self-contact distance d = max(4R, L) [m] of a model's cloth."""
    return max(4.0 * model.yarn_radius, model.spacing)


@wp.kernel
def gather_points(q: wp.array2d(dtype=vec5d), points: wp.array(dtype=wp.vec3d)):
    """points[b N + n] = x of node n in world b (relative to the world's origin: worlds are grouped apart)."""
    b, n = wp.tid()
    points[b * q.shape[1] + n] = position(q[b, n])


@wp.kernel
def clear_counts(count: wp.array(dtype=wp.int32)):
    count[wp.tid()] = 0


@wp.func
def layer_normal(points: wp.array(dtype=wp.vec3d), base: int, n: int, width: int, height: int):
    """The cloth's unit normal at node n (of the world whose points start at ``base``): the cross product of the
    differences between its neighbours along the warp and along the weft (one-sided at the border)."""
    i = n % width
    j = n / width
    left = base + wp.max(i - 1, 0) + j * width
    right = base + wp.min(i + 1, width - 1) + j * width
    below = base + i + wp.max(j - 1, 0) * width
    above = base + i + wp.min(j + 1, height - 1) * width
    return wp.normalize(wp.cross(points[right] - points[left], points[above] - points[below]))


@wp.kernel
def layer_normals(points: wp.array(dtype=wp.vec3d), width: int, nodes: int, normals: wp.array(dtype=wp.vec3d)):
    """The cloth's unit normal at every node of every world (``layer_normal``)."""
    p = wp.tid()
    b = p / nodes
    normals[p] = layer_normal(points, b * nodes, p - b * nodes, width, nodes / width)


@wp.kernel
def find_pairs(
    grid: wp.uint64,
    points: wp.array(dtype=wp.vec3d),
    normals: wp.array(dtype=wp.vec3d),
    groups: wp.array(dtype=wp.int32),
    width: int,
    nodes: int,
    reach: wp.float64,
    excluded: int,
    capacity: int,
    pairs: wp.array2d(dtype=wp.vec2i),
    count: wp.array(dtype=wp.int32),
):
    """Every pair (n, m), n < m, of nodes of one world within ``reach`` [m], more than ``excluded`` (squared grid
    distance) apart on the cloth, and facing each other (the line between them within 60 degrees of the cloth's
    normal at both: two layers, not one layer compressed in its plane), appended to its world's list (``count``
    may exceed ``capacity``: the caller checks)."""
    p = wp.tid()
    b = groups[p]
    n = p - b * nodes
    x = points[p]
    normal = normals[p]
    facing = wp.float64(0.5)
    query = wp.hash_grid_query(grid, x, reach, b)
    other = wp.int32(0)  # a variable (hash_grid_query_next writes it), not a literal
    while wp.hash_grid_query_next(query, other):
        m = other - b * nodes
        if m > n:
            di = m % width - n % width
            dj = m / width - n / width
            e = points[other] - x
            length = wp.length(e)
            if di * di + dj * dj > excluded and length < reach and length > wp.float64(0.0):
                across = wp.abs(wp.dot(e, normal)) > facing * length
                across = across and wp.abs(wp.dot(e, normals[other])) > facing * length
                if across:
                    slot = wp.atomic_add(count, b, 1)
                    if slot < capacity:
                        pairs[b, slot] = wp.vec2i(n, m)


@wp.func
def add_to_pair(out: wp.array2d(dtype=vec5d), b: int, pair: wp.vec2i, v: wp.vec3d):
    """out[b, i] += v and out[b, j] -= v on the positions of the pair's nodes (i, j)."""
    zero = wp.float64(0.0)
    wp.atomic_add(out, b, pair[0], vec5d(v[0], v[1], v[2], zero, zero))
    wp.atomic_add(out, b, pair[1], vec5d(-v[0], -v[1], -v[2], zero, zero))


@wp.kernel
def eval_pair_state(
    q: wp.array2d(dtype=vec5d),
    qd: wp.array2d(dtype=vec5d),
    pairs: wp.array2d(dtype=wp.vec2i),
    count: wp.array(dtype=wp.int32),
    distance: wp.float64,
    stiffness: wp.array(dtype=wp.float64),
    friction: wp.array(dtype=wp.float64),
    direction: wp.array2d(dtype=wp.vec3d),
    drag: wp.array2d(dtype=wp.float64),
):
    """The frozen state of pair k: direction u from node j to node i, and the friction drag [N s/m] at their
    relative tangential velocity."""
    b, k = wp.tid()
    if k >= count[b]:
        return
    pair = pairs[b, k]
    e = position(q[b, pair[0]]) - position(q[b, pair[1]])
    u = e / wp.length(e)
    direction[b, k] = u
    push = penalty_push(distance - wp.dot(u, e), distance, stiffness[b])
    v = position(qd[b, pair[0]]) - position(qd[b, pair[1]])
    drag[b, k] = friction[b] * push * lagged_drag(v - wp.dot(v, u) * u)


@wp.kernel
def eval_pair_forces(
    q: wp.array2d(dtype=vec5d),
    pairs: wp.array2d(dtype=wp.vec2i),
    count: wp.array(dtype=wp.int32),
    direction: wp.array2d(dtype=wp.vec3d),
    distance: wp.float64,
    stiffness: wp.array(dtype=wp.float64),
    f: wp.array2d(dtype=vec5d),
):
    """Penalty forces +-k relu sigma u of pair k on its two nodes [N] (frozen direction)."""
    b, k = wp.tid()
    if k >= count[b]:
        return
    pair = pairs[b, k]
    u = direction[b, k]
    gap = wp.dot(u, position(q[b, pair[0]]) - position(q[b, pair[1]]))
    add_to_pair(f, b, pair, penalty_push(distance - gap, distance, stiffness[b]) * u)


@wp.kernel
def eval_pair_energy(
    q: wp.array2d(dtype=vec5d),
    pairs: wp.array2d(dtype=wp.vec2i),
    count: wp.array(dtype=wp.int32),
    direction: wp.array2d(dtype=wp.vec3d),
    distance: wp.float64,
    stiffness: wp.array(dtype=wp.float64),
    energy: wp.array2d(dtype=wp.float64),
):
    """Penalty energy 1/2 k relu(d - u . (x_i - x_j))^2 [J] of pair k."""
    b, k = wp.tid()
    if k >= count[b]:
        return
    pair = pairs[b, k]
    gap = wp.dot(direction[b, k], position(q[b, pair[0]]) - position(q[b, pair[1]]))
    energy[b, k] = penalty_energy(distance - gap, distance, stiffness[b])


@wp.func
def pair_block(q: wp.array2d(dtype=vec5d), b: int, pair: wp.vec2i, u: wp.vec3d, drag: wp.float64,
               distance: wp.float64, stiffness: wp.float64, h: wp.float64):
    """The pair's 3x3 block h^2 V'' u u^T + h c (I - u u^T): A_ii = A_jj = block, A_ij = -block."""
    gap = wp.dot(u, position(q[b, pair[0]]) - position(q[b, pair[1]]))
    across = wp.outer(u, u)
    curvature = penalty_curvature(distance - gap, distance, stiffness)
    return (h * h * curvature) * across + (h * drag) * (wp.identity(n=3, dtype=wp.float64) - across)


@wp.kernel
def write_pair_blocks(
    q: wp.array2d(dtype=vec5d),
    pairs: wp.array2d(dtype=wp.vec2i),
    count: wp.array(dtype=wp.int32),
    direction: wp.array2d(dtype=wp.vec3d),
    drag: wp.array2d(dtype=wp.float64),
    distance: wp.float64,
    stiffness: wp.array(dtype=wp.float64),
    h: wp.float64,
    blocks: wp.array3d(dtype=mat55d),
):
    """Write each active pair's A_ii, A_ij, A_jj into the Contacts blocks."""
    b, k = wp.tid()
    if k >= count[b]:
        return
    local = pair_block(q, b, pairs[b, k], direction[b, k], drag[b, k], distance, stiffness[b], h)
    block = mat55d()
    for r in range(3):
        for s in range(3):
            block[r, s] = local[r, s]
    blocks[b, k, 0] = block
    blocks[b, k, 1] = -block
    blocks[b, k, 2] = block


@wp.kernel
def pair_drag_product(
    p: wp.array2d(dtype=vec5d),
    pairs: wp.array2d(dtype=wp.vec2i),
    count: wp.array(dtype=wp.int32),
    direction: wp.array2d(dtype=wp.vec3d),
    drag: wp.array2d(dtype=wp.float64),
    h: wp.float64,
    out: wp.array2d(dtype=vec5d),
):
    """out += h D p for the friction drag of every pair on the relative motion of its nodes."""
    b, k = wp.tid()
    if k >= count[b]:
        return
    pair = pairs[b, k]
    u = direction[b, k]
    relative = position(p[b, pair[0]]) - position(p[b, pair[1]])
    add_to_pair(out, b, pair, (h * drag[b, k]) * (relative - wp.dot(relative, u) * u))


class SelfContactWorkspace:
    """The hash grid, the pairs (a ``simulator.Contacts``) and the frozen state of the pairs, for one model.

    Attributes:
        contacts: the pairs of the step and their blocks of the system matrix.
        direction, drag: frozen per pair [B, capacity] (see ``eval_pair_state``).
    """

    def __init__(self, model, capacity: int):
        dev, worlds, nodes = model.device, model.world_count, model.node_count
        self.contacts = Contacts(model, capacity=capacity)
        self.points = wp.zeros(worlds * nodes, dtype=wp.vec3d, device=dev)
        self.normals = wp.zeros(worlds * nodes, dtype=wp.vec3d, device=dev)
        self.groups = wp.array(np.repeat(np.arange(worlds, dtype=np.int32), nodes), dtype=wp.int32, device=dev)
        side = int(np.clip(np.ceil(np.sqrt(nodes)), 16, 256))
        self.grid = wp.HashGrid(side, side, side, device=dev, dtype=wp.float64)
        self.direction = wp.zeros((worlds, capacity), dtype=wp.vec3d, device=dev)
        self.drag = wp.zeros((worlds, capacity), dtype=wp.float64, device=dev)


class SelfContact(ForceTerm):
    """Contact between layers of the cloth (see the module notes).

    Parameters it adds (per world): ``self_contact_friction`` mu [-] and ``self_contact_stiffness`` k [N/m] (by
    default the heaviest node's weight, under the model's gravity or 9.81 m/s^2 if larger, pressed on a pair
    sinks it a tenth of the contact distance).

    Args:
        friction: mu between layers (default: the crossings' friction of each world).
        stiffness: k [N/m], or None for the default.
        capacity: the most pairs per world (default 4 per node); more stop the step with ``SimulationError``.
    """

    name = "self_contact"
    stage = Stage.CROSSING
    parameter_names = ("self_contact_friction", "self_contact_stiffness")

    def __init__(self, *, friction: float | None = None, stiffness: float | None = None, capacity: int | None = None):
        self.friction, self.stiffness, self.capacity = friction, stiffness, capacity

    def parameters(self, model):
        weight = heaviest_weight(model)
        distance = contact_distance(model)
        friction = [spec.crossing.friction if self.friction is None else self.friction for spec in model.specs]
        stiffness = weight / (0.1 * distance) if self.stiffness is None else np.full(model.world_count,
                                                                                     float(self.stiffness))
        return {"self_contact_friction": np.asarray(friction, dtype=np.float64),
                "self_contact_stiffness": np.asarray(stiffness, dtype=np.float64)}

    def workspace(self, model):
        capacity = self.capacity if self.capacity is not None else PAIRS_PER_NODE * model.node_count
        return SelfContactWorkspace(model, int(capacity))

    def owned_contacts(self, ws):
        return ws.contacts

    def frozen_arrays(self, ws):
        return [ws.direction, ws.drag]

    def collide(self, model, c, ws) -> None:
        """Find the pairs of the step at ``c`` (hash grid of every world's nodes; no gradient: the pairs are
        discrete). Raises ``SimulationError`` when a world has more than ``capacity`` pairs."""
        dev = model.device
        distance = contact_distance(model)
        reach = SEARCH * distance
        wp.launch(gather_points, (model.world_count, model.node_count), inputs=[c.q], outputs=[ws.points], device=dev)
        ws.grid.build(ws.points, reach, groups=ws.groups)
        wp.launch(layer_normals, model.world_count * model.node_count,
                  inputs=[ws.points, model.nodes[0], model.node_count], outputs=[ws.normals], device=dev)
        contacts = ws.contacts
        wp.launch(clear_counts, model.world_count, outputs=[contacts.count], device=dev)
        excluded = int(np.floor((EXCLUDED_REST * distance / model.spacing) ** 2))
        wp.launch(find_pairs, model.world_count * model.node_count,
                  inputs=[ws.grid.id, ws.points, ws.normals, ws.groups, model.nodes[0], model.node_count, reach,
                          excluded, contacts.capacity], outputs=[contacts.pairs, contacts.count], device=dev)
        count = contacts.count.numpy()
        if count.max() > contacts.capacity:
            world = int(np.argmax(count))
            raise SimulationError(f"self-contact: world {world} has {int(count[world])} node pairs in contact, more "
                                  f"than the capacity of {contacts.capacity}: raise self_contact.capacity (pairs "
                                  "per node)")

    def _dim(self, model, ws):
        return (model.world_count, ws.contacts.capacity)

    def linearize_launches(self, model, c, ws=None):
        contacts = ws.contacts
        return [Launch(eval_pair_state, self._dim(model, ws),
                       [c.q, c.qd, contacts.pairs, contacts.count, contact_distance(model),
                        model.self_contact_stiffness, model.self_contact_friction], [ws.direction, ws.drag])]

    def _inputs(self, model, c, ws):
        contacts = ws.contacts
        return [c.q, contacts.pairs, contacts.count, ws.direction, contact_distance(model),
                model.self_contact_stiffness]

    def force_launches(self, model, c, out, ws=None):
        return [Launch(eval_pair_forces, self._dim(model, ws), self._inputs(model, c, ws), [out])]

    def energy_launches(self, model, c, ws=None):
        return [Launch(eval_pair_energy, self._dim(model, ws), self._inputs(model, c, ws))]

    def linear_product_launches(self, model, c, p, h, out, ws=None):
        contacts = ws.contacts
        return [Launch(pair_drag_product, self._dim(model, ws),
                       [p, contacts.pairs, contacts.count, ws.direction, ws.drag, h], [out])]

    def _block_launch(self, model, c, h, ws):
        contacts = ws.contacts
        return Launch(write_pair_blocks, self._dim(model, ws),
                      [c.q, contacts.pairs, contacts.count, ws.direction, ws.drag, contact_distance(model),
                       model.self_contact_stiffness, h], [contacts.blocks])

    def block_launches(self, model, c, h, blocks, ws=None):
        return [self._block_launch(model, c, h, ws)]  # the Contacts add them to the operator

    def preconditioner_launches(self, model, c, h, frame, diag, chain, ws=None):
        return [self._block_launch(model, c, h, ws)]  # fresh blocks for the Contacts' share of the diagonal
