"""Test specimens cut from a scene's fabric: a strip along the warp or the weft, at the test's own resolution.

A specimen is resolved by its own number of segments, not by the scene's crossing spacing (a 5 cm cantilever of a
fabric with 40 threads per cm would have 200 crossings along it; a scene with the original experiments' 1 mm
spacing would have 3). The strip keeps the fabric's fabric-level quantities (``materials.fabric_measures``) at the
specimen spacing L' = f L: each yarn stands for f of the fabric's yarns, so per yarn

    rho' = f rho,  R' = f R,  Y' = Y / f,  B' = B / f,  S' = S / f,  kf' = f kf,  df' = f df,  kc' = kc / f

keep the areal density, the rigidities and stiffnesses per width, the shear rigidity (at small compression), R/L
(the jamming angle), a yarn's anchor spring per length and the parallel-contact energy per area. Yarns that vary
across the fabric are replaced by the mean of their direction. The strip runs along i (the specimen's "warp" is
the tested direction) and lies flat.

A cut strip is a finite-width sample of a larger fabric: the yarns along its two cut edges stand for half a
spacing of width each, and the cross yarn at its free end for half a spacing of length, so ``cut_edges`` halves
their mass (and the edge yarns' stiffnesses), and gives the cells on the border the shear stiffness of the
crossings they lack. With that the strip's weight, rigidities and shear stiffness per width are the fabric's
whatever its width (trapezoid rule across and along).
"""

from dataclasses import dataclass

import numpy as np

from materials import CrossingProperties, FabricMeasures, YarnMaterial, fabric_measures, weave_flips

__all__ = ["DIRECTIONS", "StripFabric", "cell_nodes", "cut_edges", "cut_to_cells", "specimen_spec", "strip_fabric",
           "strip_spec"]

#: the test directions: a strip cut along the warp bends and stretches the warp yarns
DIRECTIONS = ("warp", "weft")


@dataclass(frozen=True)
class StripFabric:
    """What a specimen needs of a scene's fabric, for one direction (SI).

    Attributes:
        spacing: the fabric's crossing spacing L [m].
        yarn_radius: R [m].
        along: mean material of the yarns along the strip (the tested direction).
        across: mean material of the yarns across it.
        weave: the crossing properties.
        gravity: magnitude of the gravitational acceleration [m/s^2].
    """

    spacing: float
    yarn_radius: float
    along: YarnMaterial
    across: YarnMaterial
    weave: CrossingProperties
    gravity: float

    def measures(self) -> FabricMeasures:
        """The fabric-level quantities of ``materials.fabric_measures``, this direction first in every pair."""
        return fabric_measures(spacing=self.spacing, yarn_radius=self.yarn_radius, warp=[self.along],
                               weft=[self.across], shear_modulus=self.weave.shear_modulus, gravity=self.gravity)

    @property
    def areal_density(self) -> float:
        """Mass per area [kg/m^2]."""
        return self.measures().areal_density

    @property
    def bending_rigidity(self) -> float:
        """Flexural rigidity per width of the strip G = B pi R^2 / L [N m]."""
        return self.measures().bending_rigidity[0]

    @property
    def bending_length(self) -> float:
        """Peirce's bending length c = (G / (m g))^(1/3) [m] the yarn parameters imply."""
        return self.measures().bending_length[0]


def _mean_material(materials) -> YarnMaterial:
    materials = list(materials)
    return YarnMaterial(**{name: float(np.mean([getattr(m, name) for m in materials]))
                           for name in ("density", "young_modulus", "bending_modulus")})


def strip_fabric(scene, direction: str) -> StripFabric:
    """The fabric of ``scene`` (a ``scenes.Scene``) as a strip along ``direction`` ("warp" or "weft") sees it."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction = {direction!r} is unknown: expected one of {', '.join(DIRECTIONS)}")
    warp = _mean_material(scene.materials[name] for name in scene.warp_material_names())
    weft = _mean_material(scene.materials[name] for name in scene.weft_material_names())
    along, across = (warp, weft) if direction == "warp" else (weft, warp)
    return StripFabric(spacing=scene.cloth.spacing, yarn_radius=scene.cloth.yarn_radius, along=along,
                       across=across, weave=scene.weave, gravity=float(np.linalg.norm(scene.simulation.gravity)))


def _scaled(material: YarnMaterial, factor: float) -> YarnMaterial:
    return YarnMaterial(density=material.density * factor, young_modulus=material.young_modulus / factor,
                        bending_modulus=material.bending_modulus / factor)


def specimen_spec(fabric: StripFabric, *, spacing: float, nodes: tuple[int, int], pinned_columns=(),
                  pin_stiffness: float, gravity: bool, sliding_time: float | None = None,
                  origin=(0.0, 0.0, 0.0)):
    """A flat specimen of ``fabric`` at spacing L' [m]: ``nodes`` = (W, H), i along the tested direction, every node
    of ``pinned_columns`` (node columns i) held by springs of ``pin_stiffness`` [N/m].

    Args:
        gravity: pull the specimen down (-z) with the fabric's gravity; False: no gravity.
        sliding_time: if given, the sliding damping df' = kf' * sliding_time instead of f df [s]: a quasi-static
            test sets it below its step so that yarn sliding (whose rest does not depend on df) settles at once.
    """
    import simulator

    factor = spacing / fabric.spacing
    weave = fabric.weave
    crossing = CrossingProperties(
        shear_modulus=weave.shear_modulus / factor, friction=weave.friction,
        friction_stiffness=weave.friction_stiffness * factor,
        friction_damping=weave.friction_damping * factor if sliding_time is None
        else weave.friction_stiffness * factor * sliding_time,
        contact_stiffness=weave.contact_stiffness / factor, friction_smoothing=weave.friction_smoothing,
        shear_compression_scale=weave.shear_compression_scale)
    width, height = nodes
    return simulator.ClothSpec(
        nodes=(width, height), spacing=spacing, yarn_radius=fabric.yarn_radius * factor,
        flips=weave_flips("plain", (width, height)),
        warp_materials=[_scaled(fabric.along, factor)] * height,
        weft_materials=[_scaled(fabric.across, factor)] * width,
        crossing=crossing, pose="flat", origin=origin,
        pins=[(i, j) for i in pinned_columns for j in range(height)], pin_stiffness=pin_stiffness,
        gravity=(0.0, 0.0, -fabric.gravity if gravity else 0.0))


def strip_spec(fabric: StripFabric, *, length: float, segments: int, width_nodes: int = 3, clamp: bool = True,
               pin_stiffness: float | None = None, gravity: bool = True, sliding_time: float | None = None):
    """The cantilever's strip: ``segments`` segments over ``length`` [m] along i in front of a clamp, ``width_nodes``
    nodes across.

    Args:
        clamp: hold columns 0 and 1 (node column 1 is the clamp edge, at x = 0; the strip starts at x = -L').
        pin_stiffness: the clamp springs [N/m]; default 1e9 times the strip's weight over L', so that the clamp
            gives way by a billionth of a spacing.
        gravity, sliding_time: as for ``specimen_spec``.

    Returns:
        a ``simulator.ClothSpec`` with ``segments + 2`` nodes along i.
    """
    if segments < 2:
        raise ValueError(f"segments = {segments!r} is out of range: expected at least 2")
    if width_nodes < 3:
        raise ValueError(f"width_nodes = {width_nodes!r} is out of range: expected at least 3")
    spacing = length / segments
    width, height = segments + 2, width_nodes
    if pin_stiffness is None:
        weight = fabric.areal_density * fabric.gravity * (width - 1) * spacing * (height - 1) * spacing
        pin_stiffness = 1e9 * max(weight, 1e-300) / spacing
    return specimen_spec(fabric, spacing=spacing, nodes=(width, height), pinned_columns=(0, 1) if clamp else (),
                         pin_stiffness=pin_stiffness, gravity=gravity, sliding_time=sliding_time,
                         origin=(-spacing, 0.0, 0.0))


def cut_edges(model, *, clamp_column: int | None = None) -> None:
    """Give a specimen model the cut edges of a sample of a larger fabric (module docstring): the yarns along its
    two long edges (rows 0 and H-1) at half mass and stiffness, the cross yarn of its last column at half mass, and
    every cell the full shear stiffness (a cell's four corners each hold one shear stencil of it when they are
    crossings; yarn ends on the border hold none, so the stencils of a border cell are scaled by 4 / its crossings).

    With ``clamp_column`` the bending triples centred on that column get twice the stiffness: a clamp edge bends only
    the half cell in front of it (with the full stiffness the clamp acts half a spacing behind its edge and a
    cantilever droops O(L') too far; with it the strip converges to the elastica at second order in L')."""
    width, height = model.nodes
    axis, yarn = model.segment_axis_np, np.asarray(model.segment_yarn_np)
    along_edge = (axis == 0) & ((yarn == 0) | (yarn == height - 1))
    free_end = (axis == 1) & (yarn == width - 1)
    density = model.parameter("segment_density")
    density[:, along_edge | free_end] *= 0.5
    model.set_parameter("segment_density", density)
    stretch = model.parameter("segment_stretch_stiffness")
    stretch[:, along_edge] *= 0.5
    model.set_parameter("segment_stretch_stiffness", stretch)
    bend = model.parameter("triple_bend_stiffness")
    t_axis, t_yarn = model.triple_axis_np, np.asarray(model.triple_yarn_np)
    bend[:, (t_axis == 0) & ((t_yarn == 0) | (t_yarn == height - 1))] *= 0.5
    if clamp_column is not None:
        bend[:, (t_axis == 0) & (model.triple_np[:, 1] % width == clamp_column)] *= 2.0
    model.set_parameter("triple_bend_stiffness", bend)
    stencils = model.stencil_nodes.numpy()  # (crossing a, its warp neighbour p, its weft neighbour r)
    a, p, r = stencils[:, 0], stencils[:, 1], stencils[:, 2]
    crossing = model.crossing_mask_np
    corners = crossing[a].astype(int) + crossing[p] + crossing[r] + crossing[p + r - a]
    shear = model.parameter("stencil_shear_stiffness")
    shear *= 4.0 / corners[None, :]
    model.set_parameter("stencil_shear_stiffness", shear)


def cell_nodes(active: np.ndarray) -> np.ndarray:
    """The nodes [n, n] (node (i, j) at [i, j]) that are a corner of any of the cells ``active`` [n-1, n-1]."""
    rows, columns = active.shape
    nodes = np.zeros((rows + 1, columns + 1), dtype=bool)
    for di in (0, 1):
        for dj in (0, 1):
            nodes[di:rows + di, dj:columns + dj] |= active
    return nodes


def cut_to_cells(model, active: np.ndarray) -> None:
    """Cut a specimen of any outline from a square model (n x n nodes): ``active`` [n-1, n-1] marks its cells (cell
    (i, j) has the corner nodes (i, j) to (i+1, j+1)). Only the specimen's cells keep stiffness: a segment counts by
    the share of its two sides that are specimen cells (a cut edge's yarn stands for half a spacing), a bending
    triple by its segments' mean, a shear stencil if its cell is a specimen cell; segments outside the specimen keep
    a little mass and no stiffness (the caller holds their nodes still)."""
    n = model.nodes[0]
    cell_active = np.zeros((n + 1, n + 1), dtype=bool)  # padded: cell (a, b) for a, b in -1..n-1 at [a+1, b+1]
    cell_active[1:n, 1:n] = active
    ends = model.segment_np
    lo = np.minimum(ends[:, 0], ends[:, 1])
    i, j = lo % n, lo // n
    along_i = model.segment_axis_np == 0  # from (i, j) to (i+1, j): cells (i, j) and (i, j-1)
    above = cell_active[i + 1, j + 1]  # cell (i, j) borders both kinds of segment starting at (i, j)
    below = np.where(along_i, cell_active[i + 1, j], cell_active[i, j + 1])  # cell (i, j-1) or (i-1, j)
    share = 0.5 * (above.astype(float) + below)
    for name in ("segment_stretch_stiffness", "segment_contact_stiffness"):
        values = model.parameter(name)
        values *= share[None, :]
        model.set_parameter(name, values)
    density = model.parameter("segment_density")
    density *= np.maximum(share, 1e-3)[None, :]
    model.set_parameter("segment_density", density)
    segment_of = {tuple(sorted(pair)): k for k, pair in enumerate(ends.tolist())}
    first = np.array([share[segment_of[tuple(sorted((a, b)))]] for a, b, _ in model.triple_np.tolist()])
    second = np.array([share[segment_of[tuple(sorted((b, c)))]] for _, b, c in model.triple_np.tolist()])
    bend = model.parameter("triple_bend_stiffness")  # a triple whose yarn ends at its centre node bends nothing
    bend *= np.where((first > 0.0) & (second > 0.0), 0.5 * (first + second), 0.0)[None, :]
    model.set_parameter("triple_bend_stiffness", bend)
    stencils = model.stencil_nodes.numpy()
    a, p, r = stencils[:, 0], stencils[:, 1], stencils[:, 2]
    corner = np.minimum(np.minimum(a, p), np.minimum(r, p + r - a))
    shear = model.parameter("stencil_shear_stiffness")
    shear *= cell_active[corner % n + 1, corner // n + 1][None, :]
    model.set_parameter("stencil_shear_stiffness", shear)
