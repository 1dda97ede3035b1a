"""Weave patterns: which yarn lies on top at each crossing.

``flip[i, j]`` is True where the weft lies over the warp at node (i, j) (i along the warp, j along the
weft). Border nodes are yarn ends, not crossings, and always have ``flip = False``.
"""

import numpy as np

WEAVE_PATTERNS = ("plain", "twill", "satin")
_SATIN_OFFSETS = (0, 2, 3, 5)


def weave_flips(pattern, nodes: tuple[int, int]) -> np.ndarray:
    """Return the boolean over/under matrix, shape [W, H], for a named pattern or a user matrix.

    Args:
        pattern: "plain", "twill", "satin", or an array-like of 0/1 of shape [W-2, H-2] (crossings
            only) or [W, H] (border entries are ignored).
        nodes: (W, H) node counts along the warp and the weft.
    """
    width, height = nodes
    i, j = np.meshgrid(np.arange(width), np.arange(height), indexing="ij")
    if isinstance(pattern, str):
        if pattern == "plain":
            flips = (i + j) % 2 == 1
        elif pattern == "twill":
            flips = ((i + (j % 4)) % 4) < 2
        elif pattern == "satin":
            offsets = np.asarray(_SATIN_OFFSETS)[(j - 1) % 4]
            flips = (i - 1 + offsets) % 4 == 0
        else:
            raise ValueError(f"pattern = {pattern!r} is unknown: expected one of {', '.join(WEAVE_PATTERNS)} "
                             "or an over/under matrix")
    else:
        matrix = np.asarray(pattern)
        if matrix.shape == (width - 2, height - 2):
            flips = np.zeros((width, height), dtype=bool)
            flips[1:-1, 1:-1] = matrix != 0
        elif matrix.shape == (width, height):
            flips = matrix != 0
        else:
            raise ValueError(f"pattern matrix has shape {matrix.shape}: expected {(width - 2, height - 2)} "
                             f"(crossings) or {(width, height)} (all nodes)")
        if not np.all((matrix == 0) | (matrix == 1)):
            raise ValueError("pattern matrix must hold only 0 and 1 (1: weft over warp)")
    flips = flips.astype(bool)
    flips[0, :] = flips[-1, :] = False
    flips[:, 0] = flips[:, -1] = False
    return flips
