"""The drape test (Cusick's drape tester, BS 5058; ISO 9073-9): a circular specimen held between two horizontal
discs hangs in folds around them, and the drape coefficient is the share of the overhanging annulus that its
shadow covers,

    DC = (A_shadow - A_disc) / (A_specimen - A_disc)

(1 for a specimen that stays flat, 0 for one that hangs straight down from the discs' edge). The standard's discs
are 18 cm across and its specimens 30 cm (24 cm for limp fabrics, 36 cm for stiff ones). Besides the coefficient
the test reports the number of folds (nodes) around the shadow's outline.

The virtual specimen is cut from the fabric's square grid (``lab.cut_to_cells``): the cells whose centres lie
within the specimen's circle, ``cells`` of them across its diameter, the warp along grid axis i; the rest of the
grid is held still and has no stiffness. The nodes within the discs' radius are held where they lie (the clamp);
the specimen starts flat with a small seeded random lift of its free nodes (a flat specimen of a square weave
would otherwise fold by the symmetry of its grid alone) and comes to rest by ``lab.settle``. The shadow is the
vertical projection of every cell of the specimen at rest; its outline is traced along rays from the centre
(the shadow of a draped specimen is star-shaped about its centre: each ray leaves it once), and its area is
that of the outline, exact to the rays' spacing. The clamp's and the cut's outlines are staircases of the grid,
so the coefficient converges at first order in the spacing (docs/LAB.md gives the figures).
"""

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ._settle import SettleBlowUp, SettleResult, settle
from ._specimen import StripFabric, cell_nodes, cut_to_cells, specimen_spec

__all__ = ["DrapeResult", "count_folds", "drape_coefficient", "drape_test", "shadow_outline"]

#: rays from the centre along which the shadow's outline is traced
OUTLINE_RAYS = 1440
#: implicit steps per slowest period 2 pi sqrt(overhang / g) (at 40, as the cantilever takes, the linearized step
#: of light_fabric.toml's disc starting to fold blew up at 16 cells; at 80 it came to rest in twice the steps of 160)
STEPS_PER_PERIOD = 160
#: times the step is halved and the test started again when the simulation blows up
HALVINGS = 2
#: harmonics of the outline that ``count_folds`` keeps (a 30 cm specimen forms at most about a dozen folds)
FOLD_HARMONICS = 24


@dataclass(frozen=True)
class DrapeResult:
    """The outcome of a drape test.

    Attributes:
        specimen_diameter, support_diameter: the specimen's and the discs' diameters [m].
        cells: cells across the specimen's diameter (the resolution).
        positions: the grid's nodes at rest [n, n, 3] (node (i, j) at [i, j]; the centre at the origin) [m].
        active: the specimen's cells [n-1, n-1].
        outline: the shadow's outline, radius [m] along each of ``OUTLINE_RAYS`` rays from the centre (the first
            along the warp, counter-clockwise).
        flat: the flat specimen's outline on the same rays [m].
        shadow_area: the area inside the outline [m^2].
        drape_coefficient: (A_shadow - A_disc) / (A_specimen - A_disc) [-], with the area of the specimen's cells
            (within a few percent of the circle's at coarse resolutions) and the discs' nominal area.
        folds: the folds (nodes) of the outline (``count_folds``).
        time_step: the implicit step the specimen came to rest with [s] (``STEPS_PER_PERIOD``, halved after a
            blow-up).
        settle: how the rest was reached.
    """

    specimen_diameter: float
    support_diameter: float
    cells: int
    positions: np.ndarray
    active: np.ndarray
    outline: np.ndarray
    flat: np.ndarray
    shadow_area: float
    drape_coefficient: float
    folds: int
    time_step: float
    settle: SettleResult

    @property
    def lowest_point(self) -> float:
        """How far the specimen's lowest node hangs below the discs [m]."""
        return float(-self.positions[..., 2].min())

    def summary(self) -> dict:
        """The reported values, JSON-ready (SI units)."""
        return {"test": "drape", "specimen_diameter_m": self.specimen_diameter,
                "support_diameter_m": self.support_diameter, "cells_across": self.cells,
                "drape_coefficient": self.drape_coefficient, "shadow_area_m2": self.shadow_area, "folds": self.folds,
                "outline_radius_m": {"min": float(self.outline.min()), "max": float(self.outline.max())},
                "lowest_point_m": self.lowest_point, "time_step_s": self.time_step, "settle_steps": self.settle.steps,
                "settle_residual": float(self.settle.residual.max()), "seconds": self.settle.seconds}


def shadow_outline(positions: np.ndarray, active: np.ndarray, *, rays: int = OUTLINE_RAYS) -> np.ndarray:
    """The outline of the vertical shadow of a specimen's cells: the farthest point of any cell edge, projected on
    the horizontal plane, along each of ``rays`` rays from the origin (the first along +x, counter-clockwise) [m].

    Args:
        positions: the grid's nodes [n, n, 3] [m].
        active: the specimen's cells [n-1, n-1].
    """
    xy = positions[..., :2]
    ci, cj = np.nonzero(active)
    corners = [xy[ci, cj], xy[ci + 1, cj], xy[ci + 1, cj + 1], xy[ci, cj + 1]]
    starts = np.concatenate(corners)
    ends = np.concatenate(corners[1:] + corners[:1])
    edge = starts - ends  # [S, 2]
    outline = np.empty(rays)
    for first in range(0, rays, 64):  # 64 rays at a time: [64, S] arrays whatever the resolution
        angles = 2.0 * math.pi * np.arange(first, min(first + 64, rays)) / rays
        dx, dy = np.cos(angles)[:, None], np.sin(angles)[:, None]
        # ray t d meets segment a + s (b - a): solve [d, a - b] (t, s) = a for every ray and segment
        det = dx * edge[None, :, 1] - dy * edge[None, :, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (starts[None, :, 0] * edge[None, :, 1] - starts[None, :, 1] * edge[None, :, 0]) / det
            s = (dx * starts[None, :, 1] - dy * starts[None, :, 0]) / det
        hit = (np.abs(det) > 0.0) & (s >= 0.0) & (s <= 1.0) & (t > 0.0)
        outline[first:first + len(angles)] = np.where(hit, t, 0.0).max(axis=1)
    return outline


def drape_coefficient(shadow_area: float, *, specimen_area: float, support_diameter: float) -> float:
    """(A_shadow - A_disc) / (A_specimen - A_disc) [-]: ``shadow_area`` and ``specimen_area`` [m^2], the discs'
    ``support_diameter`` [m]."""
    disc = 0.25 * math.pi * support_diameter**2
    return (shadow_area - disc) / (specimen_area - disc)


def count_folds(outline: np.ndarray, *, flat: np.ndarray, support_radius: float,
                harmonics: int = FOLD_HARMONICS) -> int:
    """The folds (nodes) of a shadow's ``outline`` (radius [m] on equally spaced rays): the maxima of the share of the
    overhang it reaches, (outline - r_disc) / (flat - r_disc) with ``flat`` the flat specimen's outline on the same
    rays (so that neither the cut's staircase nor an even droop is a fold) and r_disc the ``support_radius`` [m],
    smoothed to its first ``harmonics`` Fourier harmonics, that stand out by more than 0.05 on either side."""
    from scipy.signal import find_peaks

    share = (outline - support_radius) / (flat - support_radius)
    spectrum = np.fft.rfft(share)
    spectrum[harmonics + 1:] = 0.0
    smooth = np.fft.irfft(spectrum, n=len(outline))
    rays = len(outline)
    peaks, _ = find_peaks(np.concatenate([smooth, smooth, smooth]), prominence=0.05)
    return int(np.count_nonzero((peaks >= rays) & (peaks < 2 * rays)))


def _specimen_grid(*, cells: int, specimen_diameter: float) -> tuple[int, float, np.ndarray, np.ndarray]:
    """The grid of a circular specimen with ``cells`` cells across its diameter: (n, spacing, active cells
    [n-1, n-1], node coordinates [n, n, 2] about the centre node)."""
    spacing = specimen_diameter / cells
    n = cells + 1
    coordinate = (np.arange(n) - cells // 2) * spacing
    x, y = np.meshgrid(coordinate, coordinate, indexing="ij")
    centre = 0.5 * (coordinate[:-1] + coordinate[1:])
    cx, cy = np.meshgrid(centre, centre, indexing="ij")
    active = np.hypot(cx, cy) <= 0.5 * specimen_diameter
    return n, spacing, active, np.stack([x, y], axis=-1)


def drape_test(fabric: StripFabric, *, specimen_diameter: float = 0.30, support_diameter: float = 0.18,
               cells: int = 30, seed: int = 0, lift: float = 0.01, tolerance: float = 1e-5, max_steps: int = 20000,
               device: str = "cpu") -> DrapeResult:
    """Drape a circular specimen of ``fabric`` (``fabric.along`` the yarns along grid axis i, the warp) over discs
    of ``support_diameter`` and read its drape coefficient and folds.

    Args:
        specimen_diameter, support_diameter: [m]; the standard's are 0.30 (or 0.24, 0.36) and 0.18.
        cells: cells across the specimen's diameter, an even number (the centre is a node): the resolution.
        seed: the random lift's seed (the folds' positions, and sometimes their number, depend on it).
        lift: the random lift's amplitude, a share of the grid spacing.
        tolerance: rest criterion of ``settle`` (largest residual force over the largest node weight).
    """
    import simulator

    if cells < 8 or cells % 2:
        raise ValueError(f"cells = {cells!r} is out of range: expected an even number of at least 8 (the centre "
                         "is a node)")
    if not 0.0 < support_diameter < specimen_diameter:
        raise ValueError(f"support_diameter = {support_diameter!r} is out of range: expected a disc smaller than the "
                         f"specimen ({specimen_diameter!r} m across)")
    if fabric.gravity <= 0.0:
        raise ValueError("the drape test needs gravity: the scene's simulation.gravity is zero")
    n, spacing, active, grid = _specimen_grid(cells=cells, specimen_diameter=specimen_diameter)
    inside = cell_nodes(active)
    clamped = np.hypot(grid[..., 0], grid[..., 1]) <= 0.5 * support_diameter * (1.0 + 1e-12)
    free = (inside & ~clamped).T.ravel()  # node index i + j n
    held = np.flatnonzero(~free)
    weight = fabric.areal_density * fabric.gravity * spacing**2
    origin = (grid[0, 0, 0], grid[0, 0, 1], 0.0)
    # the clamp gives way by a millionth of a spacing under the whole specimen's weight on one node
    spec = specimen_spec(fabric, spacing=spacing, nodes=(n, n), pinned_columns=(),
                         pin_stiffness=1e6 * weight * n * n / spacing, gravity=True, origin=origin)
    overhang = 0.5 * (specimen_diameter - support_diameter)
    dt = 2.0 * math.pi * math.sqrt(overhang / fabric.gravity) / STEPS_PER_PERIOD
    spec = dataclasses.replace(spec, pins=[(k % n, k // n) for k in held])
    model = simulator.build_model(spec, device=device)
    cut_to_cells(model, active)
    mask = model.dof_mask.numpy()
    mask[:, 3:] = 0.0  # the yarns do not slide through their crossings (module docstring)
    model.dof_mask.assign(mask)
    lifted = model.state().q.numpy()
    lifted[0, free, 2] += lift * spacing * np.random.default_rng(seed).uniform(-1.0, 1.0, size=int(free.sum()))
    for halvings in range(HALVINGS + 1):  # a fabric that folds more abruptly may need a shorter step
        step = dt / 2**halvings
        # the solves need not be accurate: the rest is judged on the exact forces
        solver = simulator.SolverImplicit(model, dt=step, tolerance=1e-4, max_iterations=10000)
        state = model.state()
        state.q.assign(lifted)
        try:
            result = settle(model, solver, state, free=free, dt=step, tolerance=tolerance, max_steps=max_steps)
            break
        except SettleBlowUp:
            if halvings == HALVINGS:
                raise
    positions = model.positions(state)[0]  # [n, n, 3]
    outline = shadow_outline(positions, active)
    flat = shadow_outline(np.concatenate([grid, np.zeros((n, n, 1))], axis=-1), active)
    area = 0.5 * float(np.sum(outline**2)) * 2.0 * math.pi / len(outline)
    dc = drape_coefficient(area, specimen_area=int(active.sum()) * spacing**2, support_diameter=support_diameter)
    return DrapeResult(specimen_diameter=specimen_diameter, support_diameter=support_diameter, cells=cells,
                       positions=positions, active=active, outline=outline, flat=flat, shadow_area=area,
                       drape_coefficient=dc, time_step=step, settle=result,
                       folds=count_folds(outline, flat=flat, support_radius=0.5 * support_diameter))
