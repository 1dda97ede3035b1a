"""The warp and the weft yarns as two pyvista tube meshes whose points are updated in place frame by frame.

Each yarn is a tube around its crimped, Catmull-Rom-smoothed centreline (``scenes._yarns``), with
``samples`` rings per segment between nodes and ``sides`` points per ring; the rings carry analytic
outward normals for smooth shading. The connectivity is fixed, so an animation only moves points.
"""

import numpy as np

from ._mesh import cell_array, grid_quads
from ._yarns import interpolate_linear, interpolate_smooth, node_normals, tube_rings, yarn_centrelines

__all__ = ["YarnTubes"]


class YarnTubes:
    """Tube meshes of the warp yarns (``warp``) and the weft yarns (``weft``) of one cloth.

    Args:
        pv: the pyvista module.
        flips: True where the weft lies over the warp, shape [W, H].
        crimp: how far [m] each yarn passes from the node at a crossing (the yarn radius R).
        tube_radius: radius [m] of the drawn tubes (a little under R, so that neighbours stay apart).
        samples: rings per segment between two nodes (>= 1).
        sides: points per ring (>= 3).
    """

    def __init__(self, pv, flips: np.ndarray, *, crimp: float, tube_radius: float, samples: int = 6, sides: int = 12):
        self.flips = np.asarray(flips, dtype=bool)
        self.crimp = crimp
        self.tube_radius = tube_radius
        self.samples = samples
        self.sides = sides
        width, height = self.flips.shape
        self.warp = self._empty_mesh(pv, yarns=height, nodes_per_yarn=width)
        self.weft = self._empty_mesh(pv, yarns=width, nodes_per_yarn=height)

    def update(self, x: np.ndarray, values: np.ndarray | None = None) -> None:
        """Move the tubes to node positions ``x`` [m], shape [W, H, 3], and colour them by ``values``.

        Args:
            values: a per-node quantity, shape [W, H], interpolated along the yarns into the point array
                "value" of both meshes; None leaves the meshes without it.
        """
        warp, weft = yarn_centrelines(x, self.flips, self.crimp)
        normals = node_normals(x)
        for mesh, centrelines, reference, transpose in (
            (self.warp, warp, normals.transpose(1, 0, 2), True),
            (self.weft, weft, normals, False),
        ):
            points, outward = tube_rings(
                interpolate_smooth(centrelines, self.samples),
                interpolate_linear(reference, self.samples),
                self.tube_radius,
                self.sides,
            )
            mesh.points = points.reshape(-1, 3)
            mesh.point_data.set_array(outward.reshape(-1, 3), "normals")
            mesh.point_data.active_normals_name = "normals"
            if values is not None:
                mesh.point_data["value"] = self._along_rings(values.T if transpose else values)

    def _along_rings(self, values: np.ndarray) -> np.ndarray:
        """Per-node values of the yarns, shape [Y, N], as one value per tube point, shape [points]."""
        along = interpolate_linear(values[..., None], self.samples)  # [Y, S, 1]
        return np.repeat(along, self.sides + 1, axis=-1).ravel()

    def _empty_mesh(self, pv, *, yarns: int, nodes_per_yarn: int):
        """A tube mesh with its quads (rings s, s+1 and sides k, k+1 of each yarn) and points at the origin."""
        rings = (nodes_per_yarn - 1) * self.samples + 1
        per_yarn = grid_quads((rings, self.sides + 1))
        quads = (per_yarn[None] + (np.arange(yarns) * rings * (self.sides + 1))[:, None, None]).reshape(-1, 4)
        return pv.PolyData(np.zeros((yarns * rings * (self.sides + 1), 3)), faces=cell_array(quads))
