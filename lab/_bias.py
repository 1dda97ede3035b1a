"""The bias-extension test: a rectangular specimen cut with its yarns at +-45 degrees to its length, pulled.

Clamped at both ends and pulled along its length, a bias specimen deforms in three kinds of region (Harrison et
al. 2004, Cao et al. 2008): in front of each clamp a triangle C whose yarns both end on that clamp stays
undeformed; in the middle a region A whose yarns end on neither clamp shears by gamma; the regions B between
them, whose yarns of one family end on a clamp, shear by gamma / 2. With yarns that do not stretch (a pin-jointed
net) the clamp displacement d and gamma are tied by

    cos((pi/2 - gamma) / 2) = (D + d) / (sqrt(2) D),   D = L - W  (free length L, width W),

so gamma = 2 d / D at small strain. The regions' areas are A_A = W (L - 3 W / 2), A_B = W^2, A_C = W^2 / 2 (for
L >= 2 W), and with a shear energy 1/2 G_s gamma^2 per area (G_s the shear rigidity per width) the work of the
clamp force gives its small-strain slope

    F / d = 4 G_s W (L - 5 W / 4) / (L - W)^2      [N/m]

(``bias_stiffness``; a long specimen, L >> W, tends to the strip's 4 G_s W / L: axial strain e shears 45-degree
yarns by 2 e). The yarn-level specimen lies on the square grid of the fabric turned by 45 degrees: the cells
whose centres lie within the rectangle are the specimen, its edges are staircases of cut yarns (as a real bias
cut), and the rest of the grid is held still and has no stiffness. The yarns of the model also resist bending in
the plane of the fabric, which the pin-jointed net ignores: it rounds the kinks between the regions over a
length about sqrt(G / G_s) (G the bending rigidity per width) and stiffens the specimen where that length is not
small against W, and some percent remain below the net's prediction even where it is small (docs/LAB.md gives the
figures).
"""

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ._inplane import expected_shear_rigidity, small_strain_slope
from ._settle import settle
from ._specimen import StripFabric, cell_nodes, cut_to_cells, specimen_spec

__all__ = ["BiasResult", "bias_extension_test", "bias_stiffness"]


def bias_stiffness(shear_rigidity: float, *, length: float, width: float) -> float:
    """Small-strain slope F / d [N/m] of a bias-extension specimen of free ``length`` L and ``width`` W [m], L >= 2 W,
    of a pin-jointed net with shear rigidity per width ``shear_rigidity`` G_s [N/m per rad] (module docstring)."""
    if length < 2.0 * width:
        raise ValueError(f"length = {length!r} is out of range: expected at least twice the width {width!r} (the "
                         "three-region kinematics)")
    return 4.0 * shear_rigidity * width * (length - 1.25 * width) / (length - width) ** 2


@dataclass(frozen=True)
class _BiasGrid:
    """The square grid a bias specimen is cut from (``_bias_grid``).

    Attributes:
        n: nodes along each grid axis.
        active: the specimen's cells [n-1, n-1]; cell (i, j) has the corner nodes (i, j) to (i+1, j+1).
        centres: every cell's centre (s, t) [n-1, n-1, 2] [m]: s along the specimen from the first clamp edge, t
            across it from its centre line.
        row: the diagonal row k of every node [N] (node index i + j n): s = k * width / rows.
        rows_along: the row of the second clamp edge, length / step.
        spacing: the grid spacing L' [m].
    """

    n: int
    active: np.ndarray
    centres: np.ndarray
    row: np.ndarray
    rows_along: int
    spacing: float


def _bias_grid(*, length: float, width: float, rows: int, clamp_rows: int = 2) -> _BiasGrid:
    """The grid of a bias specimen with ``rows`` diagonal rows of cells across its width, in integer row indices.

    Node (i, j) lies on diagonal row k = i + j - first along the specimen, at s = k * step from the first clamp edge
    (step = width / rows = L' / sqrt(2)), and at t = (j - i) * step + offset across it (offset = step / 2 for an even
    number of rows, so that the rows of cells fill the width exactly). The clamp edges are the node rows k = 0 and
    k = length / step; each clamp holds ``clamp_rows`` rows of cells behind its edge.
    """
    step = width / rows
    along = length / step
    m = int(round(along))
    if abs(along - m) > 1e-9 * along:
        raise ValueError(f"length = {length!r} is not a whole number of diagonal rows of width / cells_across = "
                         f"{step:.6g} m: choose cells_across so that length / width * cells_across is an integer")
    first = clamp_rows + (rows + 1) // 2 + 2  # node (0, 0) off the rectangle's near corners
    n = (first + m + clamp_rows + (rows + 1) // 2 + 2 + 1) // 2 + 2
    i, j = np.meshgrid(np.arange(n - 1), np.arange(n - 1), indexing="ij")
    centre_row = i + j + 1 - first
    across = 2 * (j - i) + (0 if rows % 2 else 1)  # twice the centre's t / step
    active = (centre_row >= -clamp_rows) & (centre_row <= m + clamp_rows) & (np.abs(across) < rows)
    centres = np.stack([centre_row * step, 0.5 * across * step], axis=-1)
    node_i, node_j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return _BiasGrid(n=n, active=active, centres=centres, row=(node_i + node_j - first).T.ravel(), rows_along=m,
                     spacing=math.sqrt(2.0) * step)


@dataclass(frozen=True)
class BiasResult:
    """The outcome of a bias-extension test.

    Attributes:
        length, width: the specimen's free length L and width W [m].
        cells_across: diagonal rows of cells across the width (the resolution).
        extensions: measured clamp displacement at each load [m].
        forces: clamp force at each load [N].
        stiffness: small-strain slope of force over displacement [N/m] (``small_strain_slope``).
        expected: the pin-jointed net's ``bias_stiffness`` of ``expected_shear_rigidity`` times the specimen's mean
            rest compression stiffening 1 + N / N0 [N/m].
        compression: that mean rest compression N [N].
        slip: the largest slip of a yarn through a crossing at the largest load [m] (the prediction assumes none).
        shear: the cells' centres (s, t) [m] and their shear angle over the middle region's pin-jointed value
            gamma = 2 d / (L - W), at the largest load: shape [cells, 3].
        seconds: wall time of all loads [s].
    """

    length: float
    width: float
    cells_across: int
    extensions: np.ndarray
    forces: np.ndarray
    stiffness: float
    expected: float
    compression: float
    slip: float
    shear: np.ndarray
    seconds: float

    @property
    def error(self) -> float:
        """Measured over expected stiffness, minus 1 [-]."""
        return self.stiffness / self.expected - 1.0

    def region_shear(self) -> dict:
        """Mean shear over the pin-jointed value in the three regions (1, 1/2 and 0 for the pin-jointed net): "A"
        (both yarns end on no clamp), "B" (one does), "C" (both end on the same clamp), cells of the free length."""
        s, t, ratio = self.shear.T
        half = 0.5 * self.width
        left = (s - t <= half) & (s + t <= half)  # both yarns through the cell reach the first clamp
        right = (s - t >= self.length - half) & (s + t >= self.length - half)
        one = ((s - t <= half) | (s + t <= half) | (s - t >= self.length - half) | (s + t >= self.length - half))
        free = (s > 0.0) & (s < self.length)
        regions = {"A": free & ~one, "B": free & one & ~left & ~right, "C": free & (left | right)}
        return {name: float(ratio[mask].mean()) for name, mask in regions.items()}

    def summary(self) -> dict:
        """The reported values, JSON-ready (SI units)."""
        return {"test": "bias", "length_m": self.length, "width_m": self.width, "cells_across": self.cells_across,
                "extensions_m": self.extensions.tolist(), "forces_N": self.forces.tolist(),
                "stiffness_N_per_m": self.stiffness, "expected_N_per_m": self.expected, "error": self.error,
                "rest_compression_N": self.compression, "slip_m": self.slip,
                "region_shear_over_pin_jointed": self.region_shear(), "seconds": self.seconds}


def bias_extension_test(fabric: StripFabric, *, extensions=(0.001, 0.002, 0.003), length: float = 0.15,
                        width: float = 0.05, cells_across: int = 10, tolerance: float = 1e-5, max_steps: int = 20000,
                        device: str = "cpu") -> BiasResult:
    """Pull a bias specimen of ``fabric`` (free ``length`` x ``width`` [m], yarns at +-45 degrees, ``fabric.along``
    the yarns of grid axis i) by each of ``extensions`` (clamp displacement over free length) and read the
    small-strain slope of the clamp force over its displacement [N/m] against the pin-jointed net's
    (``BiasResult.expected``).

    Args:
        cells_across: the resolution: cells_across diagonal rows of cells across the width (grid spacing
            sqrt(2) width / cells_across); length / width * cells_across must be a whole number.
    """
    import simulator

    if cells_across < 4:
        raise ValueError(f"cells_across = {cells_across!r} is out of range: expected at least 4")
    grid = _bias_grid(length=length, width=width, rows=cells_across)
    n, active, row, spacing = grid.n, grid.active, grid.row, grid.spacing
    inside = cell_nodes(active).T.ravel()  # node index i + j * n
    left, right = inside & (row <= 0), inside & (row >= grid.rows_along)
    fraction = np.clip(row / grid.rows_along, 0.0, 1.0)  # of the way from clamp to clamp, for the first guess
    shear_rigidity = expected_shear_rigidity(fabric)
    expected = bias_stiffness(shear_rigidity, length=length, width=width)
    # the clamps' springs a thousand times the specimen's stiffness per clamp node; the rest of the grid held still
    spec = specimen_spec(fabric, spacing=spacing, nodes=(n, n), pinned_columns=(),
                         pin_stiffness=1e3 * expected / int(right.sum()), gravity=False, sliding_time=1e-6)
    held = np.flatnonzero(~inside | left | right)
    spec = dataclasses.replace(spec, pins=[(k % n, k // n) for k in held])
    model = simulator.build_model(spec, device=device)
    cut_to_cells(model, active)
    rest_q = model.state().q.numpy()[0].copy()
    rest = rest_q[:, :3]
    axis = np.array([1.0, 1.0, 0.0]) / math.sqrt(2.0)  # along the specimen, in the flat grid's frame
    mass = model.parameter("segment_density").sum() * spacing / int(inside.sum())  # per node [kg]
    # the slowest mode, a shear wave along the specimen: about 40 steps of its period
    dt = length * math.sqrt(mass / (4.0 * shear_rigidity)) / (20.0 * spacing)
    solver = simulator.SolverImplicit(model, dt=dt, tolerance=1e-12, max_iterations=10000)
    kh = model.parameter("node_pin_stiffness")[0]
    solver.eval_forces(model.state())  # the crossing state at rest: the compression N of every crossing
    crossings = model.crossing_mask_np & inside
    compression = float(solver.frozen.compression.numpy()[0][crossings].mean())
    expected *= 1.0 + compression / fabric.weave.shear_compression_scale
    near, far = np.flatnonzero(left), np.flatnonzero(right)
    measured, forces, seconds, previous = [], [], 0.0, None
    for level in extensions:
        displacement = level * length * axis
        target = model.parameter("node_pin_target")
        target[0, far] = rest[far] + displacement
        model.set_parameter("node_pin_target", target)
        state = model.state()
        q = state.q.numpy()
        if previous is None:  # the affine stretch of the free length, then the last load's shape (and slip) scaled
            q[0, :, :3] = rest + np.where(inside[:, None], np.outer(fraction, displacement), 0.0)
        else:
            q[0] = rest_q + (previous[0] - rest_q) * (level / previous[1])
        state.q.assign(q)
        per_node = max(expected * level * length * spacing / width, 1e-300)
        result = settle(model, solver, state, free=np.ones(model.node_count, dtype=bool), dt=dt,
                        tolerance=tolerance, max_steps=max_steps, force_scale=per_node)
        seconds += result.seconds
        q = state.q.numpy()[0]
        x = q[:, :3]
        forces.append((kh[far, None] * (target[0, far] - x[far])).sum(axis=0) @ axis)  # the clamp's pull [N]
        measured.append(((x[far] - rest[far]) @ axis).mean() - ((x[near] - rest[near]) @ axis).mean())
        previous = (q.copy(), level)
    measured, forces = np.asarray(measured), np.asarray(forces)
    slip = float(np.abs(q[crossings, 3:] - rest_q[crossings, 3:]).max())
    return BiasResult(length=length, width=width, cells_across=cells_across, extensions=measured, forces=forces,
                      stiffness=small_strain_slope(measured, forces), expected=expected, compression=compression,
                      slip=slip, shear=_shear_field(x, grid, length=length, width=width, extension=measured[-1]),
                      seconds=seconds)


def _shear_field(x: np.ndarray, grid: _BiasGrid, *, length: float, width: float, extension: float) -> np.ndarray:
    """Each specimen cell's centre (s, t) [m] and shear angle (pi/2 minus the angle between its yarns at its first
    corner) over the pin-jointed net's gamma of the middle region at this ``extension`` [m]: [cells, 3]."""
    ci, cj = np.nonzero(grid.active)
    corner = ci + cj * grid.n
    warp, weft = x[corner + 1] - x[corner], x[corner + grid.n] - x[corner]
    cosine = np.einsum("ck,ck->c", warp, weft) / (np.linalg.norm(warp, axis=1) * np.linalg.norm(weft, axis=1))
    gamma = 0.5 * math.pi - np.arccos(np.clip(cosine, -1.0, 1.0))
    free = length - width
    pin_jointed = 0.5 * math.pi - 2.0 * math.acos((free + extension) / (math.sqrt(2.0) * free))
    return np.concatenate([grid.centres[ci, cj], (gamma / pin_jointed)[:, None]], axis=-1)
