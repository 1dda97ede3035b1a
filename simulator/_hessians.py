"""Element families of the grid and the local coordinates in which terms give their exact Hessians.

Every implicit element energy of the built-in terms depends on the nodal coordinates only through a
linear map to 7 local coordinates y = (G1, G2, s) of its element family: two 3-vectors and one scalar,

* segment a-b:      G1 = xb - xa,  G2 = xa + xb,  s = L + sb - sa   (material length ds),
* triple c-a-b:     G1 = xa - xc,  G2 = xb - xa,  s = 2L + sb - sc  (material span),
* stencil a, p, r:  G1 = xp - xa,  G2 = xr - xa,  s unused (0),

i.e. y = sum over the element's nodes (slots) t of (c_t0 x_t, c_t1 x_t, c_t2 s_t) plus (0, 0, rest), with a
3x3 coefficient table c per family. A term adds its d^2V/dy^2 [J per unit of y^2] into the family's rows
(``ForceTerm.hessian_rows_launches``: in closed form, or by reverse mode on a kernel of dV/dy launched in
adjoint mode over (world, element, k), thread k getting row k); the assembled operator then adds
h^2 J^T (d^2V/dy^2) J into the node blocks once per family (``stiffness_blocks``).
"""

from dataclasses import dataclass

import numpy as np
import warp as wp

from ._types import vec5d

__all__ = ["ElementFamily", "element_families", "gather_local", "pack_local", "unpack_local", "vec7d"]

#: Local coordinates (G1, G2, s) of one element.
vec7d = wp.types.vector(length=7, dtype=wp.float64)


@wp.func
def pack_local(g1: wp.vec3d, g2: wp.vec3d, s: wp.float64):
    """The vec7d (G1, G2, s)."""
    return vec7d(g1[0], g1[1], g1[2], g2[0], g2[1], g2[2], s)


@wp.func
def unpack_local(y0: vec7d, dy: vec7d):
    """(G1, G2, s) of y0 + dy."""
    y = y0 + dy
    return wp.vec3d(y[0], y[1], y[2]), wp.vec3d(y[3], y[4], y[5]), y[6]


@wp.kernel
def gather_local(
    q: wp.array2d(dtype=vec5d),
    nodes: wp.array(dtype=wp.vec3i),
    axis: wp.array(dtype=wp.int32),
    slots: int,
    coefficients: wp.mat33d,
    rest: wp.float64,
    y: wp.array2d(dtype=vec7d),
):
    """y[b, e] = sum_t (c_t0 x_t, c_t1 x_t, c_t2 s_t) + (0, 0, rest) over the element's ``slots`` nodes."""
    b, e = wp.tid()
    ids = nodes[e]
    sa = 3 + axis[e]
    g1 = wp.vec3d()
    g2 = wp.vec3d()
    s = wp.float64(0.0)
    for t in range(slots):
        qt = q[b, ids[t]]
        xt = wp.vec3d(qt[0], qt[1], qt[2])
        g1 += coefficients[t, 0] * xt
        g2 += coefficients[t, 1] * xt
        s += coefficients[t, 2] * qt[sa]
    y[b, e] = pack_local(g1, g2, rest + s)


@dataclass(frozen=True)
class ElementFamily:
    """One family of elements: its nodes (padded to 3 slots), yarn axis, and local-coordinate map.

    Attributes:
        name: "segment", "triple" or "stencil".
        nodes: node indices per element, [E] vec3i (unused slots 0).
        axis: yarn axis of each element (0 warp, 1 weft), [E] int32.
        slots: nodes per element (2 or 3).
        coefficients: c[t] = (c_t0, c_t1, c_t2) of slot t.
        rest: the constant added to s (the rest material length of the element).
    """

    name: str
    nodes: wp.array
    axis: wp.array
    slots: int
    coefficients: wp.mat33d
    rest: float

    @property
    def count(self) -> int:
        return self.nodes.shape[0]


def element_families(model) -> dict:
    """The segment, triple and stencil families of ``model`` by name."""
    dev = model.device
    segments = np.zeros((model.segment_count, 3), dtype=np.int32)
    segments[:, :2] = model.segment_np
    spacing = model.spacing
    return {
        "segment": ElementFamily("segment", wp.array(segments, dtype=wp.vec3i, device=dev), model.segment_axis, 2,
                                 wp.mat33d(-1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0), spacing),
        "triple": ElementFamily("triple", model.triple_nodes, model.triple_axis, 3,
                                wp.mat33d(-1.0, 0.0, -1.0, 1.0, -1.0, 0.0, 0.0, 1.0, 1.0), 2.0 * spacing),
        "stencil": ElementFamily("stencil", model.stencil_nodes,
                                 wp.zeros(model.stencil_count, dtype=wp.int32, device=dev), 3,
                                 wp.mat33d(-1.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0), 0.0),
    }
