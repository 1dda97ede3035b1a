"""Connectivity of the W x H node grid: quads of the cloth surface and the yarn polylines.

Points are numbered p = i*H + j, i.e. ``x.reshape(-1, 3)`` of a [W, H, 3] array.
"""

import numpy as np

__all__ = ["cell_array", "grid_quads", "point_indices", "warp_yarn_lines", "weft_yarn_lines"]


def grid_quads(nodes: tuple[int, int]) -> np.ndarray:
    """Quads (i, j), (i+1, j), (i+1, j+1), (i, j+1) as point indices, shape [(W-1)*(H-1), 4]."""
    width, height = nodes
    index = np.arange(width * height).reshape(width, height)
    return np.stack([index[:-1, :-1], index[1:, :-1], index[1:, 1:], index[:-1, 1:]], axis=-1).reshape(-1, 4)


def warp_yarn_lines(nodes: tuple[int, int]) -> np.ndarray:
    """Warp yarn j runs through (0, j) .. (W-1, j): point indices, shape [H, W]."""
    width, height = nodes
    return np.arange(width * height).reshape(width, height).T.copy()


def weft_yarn_lines(nodes: tuple[int, int]) -> np.ndarray:
    """Weft yarn i runs through (i, 0) .. (i, H-1): point indices, shape [W, H]."""
    width, height = nodes
    return np.arange(width * height).reshape(width, height)


def point_indices(nodes: tuple[int, int], pairs) -> np.ndarray:
    """Point indices of (i, j) node pairs, shape [len(pairs)]."""
    pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)
    return pairs[:, 0] * nodes[1] + pairs[:, 1]


def cell_array(rows: np.ndarray) -> np.ndarray:
    """VTK cell layout of equal-length index rows: [n, p0, .., p(n-1), n, ...], shape [rows * (n + 1)]."""
    rows = np.asarray(rows)
    return np.hstack([np.full((len(rows), 1), rows.shape[1]), rows]).ravel()
