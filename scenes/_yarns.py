"""Geometry of the yarns as tubes: crimped centrelines through the crossings, smoothed, with rings around them.

The crimp follows the engine (``simulator/_crimp.py``): at an interior node (i, j) the crossing normal is
n ∝ (x[i+1, j] - x[i-1, j]) x (x[i, j+1] - x[i, j-1]), negated where the weft lies over the warp
(``flips[i, j]``); the warp yarn passes through x - R n and the weft yarn through x + R n, R being the yarn
radius. Border nodes are yarn ends, not crossings: both yarns pass through x there.

Numpy only; ``scenes._tubes`` turns these arrays into pyvista meshes.
"""

import numpy as np

__all__ = [
    "crossing_normals",
    "interpolate_linear",
    "interpolate_smooth",
    "node_normals",
    "spacing_estimate",
    "tube_rings",
    "yarn_centrelines",
]

# Uniform Catmull-Rom basis: a point at parameter s in [0, 1) between P1 and P2 of a window P0..P3 is
# 0.5 * [1, s, s^2, s^3] @ _CATMULL_ROM @ [P0, P1, P2, P3].
_CATMULL_ROM = 0.5 * np.array([[0.0, 2.0, 0.0, 0.0], [-1.0, 0.0, 1.0, 0.0], [2.0, -5.0, 4.0, -1.0],
                               [-1.0, 3.0, -3.0, 1.0]])


def crossing_normals(x: np.ndarray, flips: np.ndarray) -> np.ndarray:
    """The engine's crossing normals: unit vectors, shape [W, H, 3], negated where ``flips``; zero on the border.

    Args:
        x: node positions [m], shape [W, H, 3].
        flips: True where the weft lies over the warp, shape [W, H].
    """
    normal = np.zeros_like(x)
    across = np.cross(x[2:, 1:-1] - x[:-2, 1:-1], x[1:-1, 2:] - x[1:-1, :-2])
    normal[1:-1, 1:-1] = _unit(across)
    return np.where(np.asarray(flips, dtype=bool)[..., None], -normal, normal)


def node_normals(x: np.ndarray) -> np.ndarray:
    """Unit normals of the cloth surface at every node (border included), shape [..., W, H, 3], not flipped.

    Args:
        x: node positions [m], shape [..., W, H, 3].
    """
    return _unit(np.cross(np.gradient(x, axis=-3), np.gradient(x, axis=-2)))


def yarn_centrelines(x: np.ndarray, flips: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """The crimped centrelines of the warp and the weft yarns.

    Args:
        x: node positions [m], shape [W, H, 3].
        flips: True where the weft lies over the warp, shape [W, H].
        radius: yarn radius R [m]: how far each yarn passes from the node at a crossing.
    Returns:
        warp points [m], shape [H, W, 3] (warp yarn j through nodes (0..W-1, j)), and weft points [m],
        shape [W, H, 3] (weft yarn i through nodes (i, 0..H-1)).
    """
    offset = radius * crossing_normals(x, flips)
    return (x - offset).transpose(1, 0, 2), x + offset


def interpolate_smooth(points: np.ndarray, samples: int) -> np.ndarray:
    """A Catmull-Rom curve through each row of ``points``, ``samples`` points per segment.

    Args:
        points: shape [Y, N, C] (Y curves of N >= 2 points with C components).
        samples: points per segment (>= 1).
    Returns:
        shape [Y, (N - 1) * samples + 1, C]; every input point is on its curve (at index k * samples).
    """
    head = 2.0 * points[:, :1] - points[:, 1:2]  # mirrored end points: the curve ends with the end segments'
    tail = 2.0 * points[:, -1:] - points[:, -2:-1]  # direction instead of curling back
    padded = np.concatenate([head, points, tail], axis=1)
    windows = np.stack([padded[:, k : k + points.shape[1] - 1] for k in range(4)], axis=2)  # [Y, N-1, 4, C]
    s = np.arange(samples) / samples
    weights = np.stack([np.ones_like(s), s, s**2, s**3], axis=1) @ _CATMULL_ROM  # [samples, 4]
    return _sample_segments(windows, weights, points[:, -1:])


def interpolate_linear(values: np.ndarray, samples: int) -> np.ndarray:
    """Values on the segments between each row's points, ``samples`` per segment, by linear interpolation.

    Args:
        values: shape [Y, N, C].
        samples: points per segment (>= 1).
    Returns:
        shape [Y, (N - 1) * samples + 1, C], matching ``interpolate_smooth``.
    """
    windows = np.stack([values[:, :-1], values[:, 1:]], axis=2)  # [Y, N-1, 2, C]
    s = np.arange(samples) / samples
    return _sample_segments(windows, np.stack([1.0 - s, s], axis=1), values[:, -1:])


def tube_rings(centrelines: np.ndarray, reference: np.ndarray, radius: float, sides: int):
    """Rings of ``sides`` points around each centreline point, the first point repeated to close each ring.

    The ring's frame is the centreline's tangent and the ``reference`` direction (e.g. the cloth normal)
    made perpendicular to it, so that rings do not twist along a yarn.

    Args:
        centrelines: points [m], shape [Y, S, 3].
        reference: directions, shape [Y, S, 3], not parallel to the centrelines.
        radius: tube radius [m].
        sides: points per ring (>= 3).
    Returns:
        points [m] and unit outward normals, both shape [Y, S, sides + 1, 3].
    """
    tangent = _unit(np.gradient(centrelines, axis=1))
    side = np.cross(tangent, reference)
    weak = np.linalg.norm(side, axis=-1) < 1e-9  # reference along the tangent: any other direction will do
    if weak.any():
        other = np.where(np.abs(tangent[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
        side[weak] = np.cross(tangent[weak], other[weak])
    side = _unit(side)
    up = np.cross(side, tangent)
    angle = 2.0 * np.pi * np.arange(sides + 1) / sides
    normals = np.cos(angle)[:, None] * up[..., None, :] + np.sin(angle)[:, None] * side[..., None, :]
    return centrelines[..., None, :] + radius * normals, normals


def spacing_estimate(x: np.ndarray) -> float:
    """The median distance [m] between neighbouring nodes of a [W, H, 3] grid (a cloth's node spacing)."""
    lengths = np.concatenate([np.linalg.norm(np.diff(x, axis=k), axis=-1).ravel() for k in (0, 1)])
    return float(np.median(lengths))


def _sample_segments(windows: np.ndarray, weights: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Points sum_k weights[s, k] * windows[y, n, k] for every segment n and sample s, then the end ``last``."""
    samples = np.einsum("sk,ynkc->ynsc", weights, windows)
    count, segments, per_segment, components = samples.shape
    return np.concatenate([samples.reshape(count, segments * per_segment, components), last], axis=1)


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Vectors scaled to unit length along the last axis (zero vectors stay zero)."""
    length = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, length, out=np.zeros_like(vectors), where=length > 0)
