"""The cantilever bending test (ASTM D1388, Peirce): a strip clamped horizontally droops under its own weight.

The standard slides the strip over a platform edge until its tip meets a plane inclined at 41.5 degrees, where
the overhang l is twice the bending length c. The virtual test clamps a strip of overhang l = ratio * c_expected
(c_expected from the yarn parameters, ``StripFabric.bending_length``; ratio 2 by default, the standard's angle),
lets it come to rest (``lab.settle``) and reads the chord angle from the clamp edge to the tip. The bending length
is the one at which the exact heavy elastica has that angle (``lab.bending_length_from_chord``); Peirce's formula
of the standard is reported beside it. The flexural rigidity per width is G = m g c^3 (m the areal density).
"""

import math
from dataclasses import dataclass

import numpy as np

from ._elastica import bending_length_from_chord, heavy_cantilever, peirce_bending_length
from ._settle import SettleResult, settle
from ._specimen import StripFabric, cut_edges, strip_spec

__all__ = ["CantileverResult", "cantilever_test"]


@dataclass(frozen=True)
class CantileverResult:
    """The outcome of one cantilever test.

    Attributes:
        direction: "warp" or "weft" (the yarns along the strip).
        overhang: l [m].
        segments: segments along the overhang.
        profile: the strip's centre line at rest, (x, z) from the clamp edge [m], shape [segments + 1, 2].
        chord_angle: angle below the horizontal from the clamp edge to the tip [rad].
        bending_length: c from the exact heavy elastica at the measured angle [m].
        peirce_bending_length: c from Peirce's formula of ASTM D1388 at the measured angle [m].
        expected_bending_length: c the yarn parameters imply, (G / (m g))^(1/3) [m].
        flexural_rigidity: G = m g c^3 per width [N m], from the measured c.
        areal_density: m [kg/m^2].
        elastica_tip: the heavy elastica's tip (x, drop) at l / c_expected [m].
        settle: how the rest was reached.
    """

    direction: str
    overhang: float
    segments: int
    profile: np.ndarray
    chord_angle: float
    bending_length: float
    peirce_bending_length: float
    expected_bending_length: float
    flexural_rigidity: float
    areal_density: float
    elastica_tip: tuple[float, float]
    settle: SettleResult

    @property
    def tip(self) -> tuple[float, float]:
        """The simulated tip (x, drop) from the clamp edge [m]."""
        return float(self.profile[-1, 0]), float(-self.profile[-1, 1])

    @property
    def bending_length_error(self) -> float:
        """Measured over expected bending length, minus 1 [-]: the test's discretisation error."""
        return self.bending_length / self.expected_bending_length - 1.0

    def summary(self) -> dict:
        """The reported values, JSON-ready (SI units)."""
        return {"direction": self.direction, "overhang_m": self.overhang, "segments": self.segments,
                "chord_angle_deg": math.degrees(self.chord_angle), "bending_length_m": self.bending_length,
                "peirce_bending_length_m": self.peirce_bending_length,
                "expected_bending_length_m": self.expected_bending_length,
                "bending_length_error": self.bending_length_error, "flexural_rigidity_N_m": self.flexural_rigidity,
                "areal_density_kg_m2": self.areal_density, "tip_m": list(self.tip),
                "elastica_tip_m": list(self.elastica_tip), "settle_steps": self.settle.steps,
                "settle_residual": float(self.settle.residual.max()), "seconds": self.settle.seconds}


def cantilever_test(fabric: StripFabric, *, direction: str, ratio: float = 2.0, segments: int = 20,
                    width_nodes: int = 3, tolerance: float = 1e-6, max_steps: int = 20000,
                    device: str = "cpu") -> CantileverResult:
    """Clamp a strip of ``fabric`` with overhang ``ratio`` times its expected bending length and measure it.

    Args:
        direction: "warp" or "weft", recorded with the result (``fabric`` is already that direction's strip).
        ratio: overhang over expected bending length l / c, in (0, 4] (2: the standard's 41.5 degrees).
        segments: segments along the overhang (the test's resolution).
        width_nodes: nodes across the strip (the result does not depend on it: ``cut_edges``).
        tolerance: rest criterion of ``settle``.
    """
    import simulator

    if not 0.0 < ratio <= 4.0:
        raise ValueError(f"ratio = {ratio!r} is out of range: expected an overhang of (0, 4] bending lengths")
    if fabric.gravity <= 0.0:
        raise ValueError("the cantilever test needs gravity: the scene's simulation.gravity is zero")
    expected = fabric.bending_length
    overhang = ratio * expected
    # the strip's slowest period is about 2 pi sqrt(l / g); a fortieth of it per step
    dt = 2.0 * math.pi * math.sqrt(overhang / fabric.gravity) / 40.0
    spec = strip_spec(fabric, length=overhang, segments=segments, width_nodes=width_nodes, sliding_time=0.1 * dt)
    model = simulator.build_model(spec, device=device)
    cut_edges(model, clamp_column=1)
    solver = simulator.SolverImplicit(model, dt=dt, tolerance=1e-7, max_iterations=10000)
    state = model.state()
    free = np.ones(model.node_count, dtype=bool)
    width, height = model.nodes
    free[[i + j * width for i in (0, 1) for j in range(height)]] = False
    result = settle(model, solver, state, free=free, dt=dt, tolerance=tolerance, max_steps=max_steps)
    x = model.positions(state)[0]  # [W, H, 3]
    line = x[1:, :, :].mean(axis=1)  # from the clamp edge (column 1) to the tip, averaged across
    profile = np.stack([line[:, 0] - line[0, 0], line[:, 2] - line[0, 2]], axis=-1)
    angle = math.atan2(-profile[-1, 1], profile[-1, 0])
    measured = bending_length_from_chord(overhang, angle)
    shape = heavy_cantilever(ratio)
    return CantileverResult(
        direction=direction, overhang=overhang, segments=segments, profile=profile, chord_angle=angle,
        bending_length=measured, peirce_bending_length=peirce_bending_length(overhang, angle),
        expected_bending_length=expected,
        flexural_rigidity=fabric.areal_density * fabric.gravity * measured**3,
        areal_density=fabric.areal_density, elastica_tip=(shape.tip[0] * overhang, shape.tip[1] * overhang),
        settle=result)
