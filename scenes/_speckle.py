"""A speckle-painted cloth surface: the texture that optical tracking (and digital image correlation) needs.

The weave itself is a periodic texture: a tracker that sees a cloth move by more than half a yarn spacing between
two frames cannot tell one crossing from the next. Experiments paint a random speckle pattern on the fabric; this
draws one. The pattern is fixed in material coordinates: texture coordinates (s / (W - 1), t / (H - 1)) of the
grid coordinates (s, t), the same as ``learning.cloth.material_points``. The surface is each cell subdivided
``samples`` x ``samples`` times with positions bilinear in its four nodes (the observation model's material points
are bilinear in the same nodes, so a painted dot sits exactly where the model puts that material point), and
normals bilinear in the nodes' normals for smooth shading.

The pattern: random discs of random grey levels on a light background, anti-aliased, about 30 per cell of the grid
with radii from 3 to 14% of a cell, as many of each size on a log scale (dark over about 38% of the cloth), from a
fixed seed (the same cloth always wears the same paint). Digital image correlation asks for speckles a few pixels
across, densely spread; the spread of sizes keeps that true from 320 x 240 to 1280 x 960 pictures of a small cloth.
On the example scene's footage (``benchmarks/fit_video.py``) it tracks 2.8 times as many points as the coarser
paint before (6 dots per cell, radii 6 to 14%) at 1280 x 960, with 0.030 px median and 0.092 px 90th-percentile
error against 0.054 and 0.32: there, most tracking windows held one dot or none and trackers slipped along its
edges. Fine dots alone (40 per cell, 3 to 7%) did as well at 1280 x 960 but fell apart at 640 x 480 (an RMS error
of 2.3 px: a few tracks slipped by many pixels).
"""

import numpy as np

from ._mesh import cell_array, grid_quads
from ._yarns import node_normals

__all__ = ["SpeckledSurface", "speckle_pattern"]

_TEXELS_PER_CELL = 64
_MAX_TEXELS = 4096


def speckle_pattern(nodes: tuple[int, int], *, dots_per_cell: float = 30.0, radii: tuple[float, float] = (0.03, 0.14),
                    seed: int = 0) -> np.ndarray:
    """The speckle texture of a W x H grid, RGB uint8 [rows, columns, 3] (columns along s, rows along t): about
    ``dots_per_cell`` dots per cell, their radii log-uniform in ``radii`` (fractions of a cell's side)."""
    width, height = nodes
    per_cell = min(_TEXELS_PER_CELL, _MAX_TEXELS // max(width - 1, height - 1))
    columns, rows = (width - 1) * per_cell, (height - 1) * per_cell
    rng = np.random.default_rng(seed)
    count = int(dots_per_cell * (width - 1) * (height - 1))
    centres = rng.uniform([0, 0], [columns, rows], size=(count, 2))
    sizes = np.exp(rng.uniform(*np.log(radii), size=count)) * per_cell
    shades = rng.uniform(0.0, 0.55, size=count)
    grey = np.full((rows, columns), 0.92)
    for (cx, cy), radius, shade in zip(centres, sizes, shades, strict=True):
        low_x, high_x = max(int(cx - radius) - 1, 0), min(int(cx + radius) + 2, columns)
        low_y, high_y = max(int(cy - radius) - 1, 0), min(int(cy + radius) + 2, rows)
        y, x = np.mgrid[low_y:high_y, low_x:high_x] + 0.5
        inside = np.clip(radius + 0.5 - np.hypot(x - cx, y - cy), 0.0, 1.0)  # anti-aliased disc
        patch = grey[low_y:high_y, low_x:high_x]
        patch[:] = patch * (1.0 - inside) + shade * inside
    image = np.rint(255.0 * np.clip(grey, 0.0, 1.0)).astype(np.uint8)
    return np.repeat(image[..., None], 3, axis=-1)


class SpeckledSurface:
    """A pyvista mesh of the cloth surface with the speckle texture, moved frame by frame.

    Args:
        pv: the pyvista module.
        nodes: grid size (W, H).
        samples: subdivisions of each cell along each direction (>= 1).
    """

    def __init__(self, pv, nodes: tuple[int, int], *, samples: int):
        width, height = nodes
        fine = ((width - 1) * samples + 1, (height - 1) * samples + 1)
        s = np.linspace(0.0, width - 1, fine[0])
        t = np.linspace(0.0, height - 1, fine[1])
        self._cells = (np.minimum(np.floor(s), width - 2).astype(int), np.minimum(np.floor(t), height - 2).astype(int))
        self._fractions = (s - self._cells[0], t - self._cells[1])
        coordinates = np.stack(np.meshgrid(s / (width - 1), t / (height - 1), indexing="ij"), axis=-1)
        self.mesh = pv.PolyData(np.zeros((fine[0] * fine[1], 3)), faces=cell_array(grid_quads(fine)))
        self.mesh.active_texture_coordinates = coordinates.reshape(-1, 2)
        self.texture = pv.Texture(speckle_pattern(nodes)[::-1])  # VTK's texture rows go up from t = 0
        # filtered: a nearest-texel lookup makes the picture jump as the cloth moves by fractions of a pixel
        self.texture.interpolate = True
        self.texture.mipmap = True
        self.texture.SetMaximumAnisotropicFiltering(16)

    def update(self, x: np.ndarray) -> None:
        """Move the surface to node positions x [m], shape [W, H, 3]."""
        self.mesh.points = self._bilinear(x).reshape(-1, 3)
        normals = self._bilinear(node_normals(x)).reshape(-1, 3)
        self.mesh.point_data.set_array(normals / np.linalg.norm(normals, axis=1, keepdims=True), "normals")
        self.mesh.point_data.active_normals_name = "normals"

    def _bilinear(self, values: np.ndarray) -> np.ndarray:
        """Per-node values [W, H, C] at the fine grid's points, bilinear in each cell, [fine W, fine H, C]."""
        (i, j), (a, b) = self._cells, self._fractions
        a, b = a[:, None, None], b[None, :, None]
        return ((1 - a) * (1 - b) * values[i][:, j] + a * (1 - b) * values[i + 1][:, j]
                + (1 - a) * b * values[i][:, j + 1] + a * b * values[i + 1][:, j + 1])
