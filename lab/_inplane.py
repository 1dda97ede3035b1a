"""In-plane tests: the strip tensile test (ISO 13934-1, ASTM D5035) and the shear test (KES-FB1).

A flat specimen of ``segments`` cells between two grips (node columns 0 and W-1, i along the tested direction,
cut edges, no gravity) is loaded step by step: the moving grip's pins go to their next position, the specimen
starts from the affine deformation of that load and comes to rest (``lab.settle``), and the force the grip's pins
exert is read. Tensile: the grip moves along the yarns by strain * gauge; the force per width over the measured
strain is the tensile stiffness per width [N/m]. Shear: the grip turns about the other one by the shear angle
gamma (the yarns between the grips keep their length, so the specimen trellises: the crossings' angles change and
nothing stretches), and the force along its path per clamp length over gamma is the shear rigidity [N/m per rad].
"""

import math
from dataclasses import dataclass

import numpy as np

from ._settle import settle
from ._specimen import StripFabric, cut_edges, specimen_spec

__all__ = ["InPlaneResult", "expected_shear_rigidity", "shear_test", "small_strain_slope", "tensile_test"]


def small_strain_slope(strains: np.ndarray, forces: np.ndarray) -> float:
    """The small-strain slope a of a least-squares force = a strain + b strain^2 through the origin."""
    return float(np.linalg.lstsq(np.stack([strains, strains**2], axis=1), forces, rcond=None)[0][0])


@dataclass(frozen=True)
class InPlaneResult:
    """The outcome of a tensile or shear test.

    Attributes:
        test: "tensile" or "shear".
        direction: "warp" or "weft" (the yarns from grip to grip).
        gauge: distance between the grips [m].
        segments: cells between the grips.
        strains: the measured strain [-] (tensile) or shear angle [rad] (shear) at each load.
        forces: force per width [N/m] (tensile) or per clamp length (shear) at each load.
        stiffness: the small-strain slope of force over strain [N/m] (per rad for shear): a of a least-squares
            force = a strain + b strain^2.
        expected: the value the yarn parameters imply for this specimen [N/m]: tensile ks / L; shear
            ``expected_shear_rigidity`` times the specimen's mean compression stiffening (1 + N / N0).
        seconds: wall time of all loads [s].
        compression: the specimen's mean crossing compression at rest [N] (the shear stiffness of the yarn-level
            model grows as 1 + N / N0; see ``shear_test``).
    """

    test: str
    direction: str
    gauge: float
    segments: int
    strains: np.ndarray
    forces: np.ndarray
    stiffness: float
    expected: float
    seconds: float
    compression: float = 0.0

    @property
    def error(self) -> float:
        """Measured over expected stiffness, minus 1 [-]."""
        return self.stiffness / self.expected - 1.0

    def summary(self) -> dict:
        """The reported values, JSON-ready (SI units)."""
        return {"test": self.test, "direction": self.direction, "gauge_m": self.gauge, "segments": self.segments,
                "strains": self.strains.tolist(), "forces_N_per_m": self.forces.tolist(),
                "stiffness_N_per_m": self.stiffness, "expected_N_per_m": self.expected, "error": self.error,
                "rest_compression_N": self.compression, "seconds": self.seconds}


def expected_shear_rigidity(fabric: StripFabric) -> float:
    """Small-strain shear rigidity per width [N/m per rad] of a plain weave: ``fabric_measures``' 4 S pi R^2 / L times
    the jammed stencil's factor at right angles, (1 + tanh(X0)) / 2 with X0 = (pi/2) (pi/2 - phi_lock) / 0.36 (the
    smooth jamming law of ``simulator._forces.shear_stiffness`` at phi = pi/2, where g = 0), at small compression."""
    lock = 2.0 * math.asin(fabric.yarn_radius / fabric.spacing)
    jam = 0.5 * (1.0 + math.tanh(0.5 * math.pi * (0.5 * math.pi - lock) / 0.36))
    return fabric.measures().shear_rigidity * jam


def _grip_test(fabric: StripFabric, *, test: str, direction: str, levels, gauge: float, segments: int,
               width_nodes: int, expected: float, tolerance: float, max_steps: int, device: str) -> InPlaneResult:
    import simulator

    if segments < 2:
        raise ValueError(f"segments = {segments!r} is out of range: expected at least 2")
    spacing = gauge / segments
    width, height = segments + 1, width_nodes
    clamp_length = (height - 1) * spacing
    # grip springs a thousand times stiffer than the specimen between the grips per node: stiff enough to move it,
    # soft enough that their pull is resolved to rounding (the strain is read from where the grips are, so their
    # give does not bias the reading)
    pin_stiffness = 1e3 * expected * spacing / gauge
    spec = specimen_spec(fabric, spacing=spacing, nodes=(width, height), pinned_columns=(0, width - 1),
                         pin_stiffness=pin_stiffness, gravity=False, sliding_time=1e-6)
    model = simulator.build_model(spec, device=device)
    cut_edges(model)
    rest = model.initial_q_np[0, :, :3].copy()  # positions relative to the origin [N, 3]
    grip = np.arange(width - 1, model.node_count, width)  # node column W-1
    near = np.arange(0, model.node_count, width)  # node column 0
    mass = model.parameter("segment_density").sum() * spacing / model.node_count  # per node [kg]
    # the slowest mode, a stretch or shear wave between the grips (speed L' sqrt(k / m) for a stiffness k per
    # width): period 2 gauge / speed, about 40 steps of it
    dt = gauge * math.sqrt(mass / expected) / (20.0 * spacing)
    solver = simulator.SolverImplicit(model, dt=dt, tolerance=1e-12, max_iterations=10000)
    # every node counts, the gripped ones too: their pins' pull is the reading, so it must balance the specimen
    free = np.ones(model.node_count, dtype=bool)
    kh = float(model.parameter("node_pin_stiffness")[0, grip[0]])
    solver.eval_forces(model.state())  # the crossing state at rest: the compression N of every crossing
    compression = solver.frozen.compression.numpy()[0][model.crossing_mask_np]
    if test == "shear":  # the shear stiffness of the yarn-level model is S pi R^2 (1 + N / N0)
        expected *= 1.0 + float(compression.mean()) / fabric.weave.shear_compression_scale
    strains, forces, seconds = [], [], 0.0
    for level in levels:
        displacement = np.zeros(3)
        along = rest[:, 0] - rest[0, 0]  # distance from the fixed grip [m]
        if test == "tensile":
            displacement[0] = level * gauge
            affine = rest + np.outer(along / gauge, displacement)
            path = np.array([1.0, 0.0, 0.0])
        else:
            affine = rest.copy()
            affine[:, 0] = rest[0, 0] + along * math.cos(level)
            affine[:, 1] = rest[:, 1] + along * math.sin(level)
            displacement[:2] = gauge * (math.cos(level) - 1.0), gauge * math.sin(level)
            path = np.array([-math.sin(level), math.cos(level), 0.0])  # the grip's direction of motion
        target = model.parameter("node_pin_target")
        target[0, grip] = rest[grip] + displacement
        model.set_parameter("node_pin_target", target)
        state = model.state()
        q = state.q.numpy()
        q[0, :, :3] = affine
        state.q.assign(q)
        per_node = max(abs(expected * level) * spacing, 1e-300)
        result = settle(model, solver, state, free=free, dt=dt, tolerance=tolerance, max_steps=max_steps,
                        force_scale=per_node)
        seconds += result.seconds
        x = state.q.numpy()[0, :, :3]
        force = (kh * (target[0, grip] - x[grip])).sum(axis=0) @ path  # the pins' pull on the specimen [N]
        span = x[grip].mean(axis=0) - x[near].mean(axis=0)
        measured = span[0] / gauge - 1.0 if test == "tensile" else math.atan2(span[1], span[0])
        strains.append(measured)
        forces.append(force / clamp_length)
    strains, forces = np.asarray(strains), np.asarray(forces)
    return InPlaneResult(test=test, direction=direction, gauge=gauge, segments=segments, strains=strains,
                         forces=forces, stiffness=small_strain_slope(strains, forces), expected=expected,
                         seconds=seconds, compression=float(compression.mean()))


def tensile_test(fabric: StripFabric, *, direction: str, strains=(0.001, 0.002, 0.003), gauge: float = 0.2,
                 segments: int = 10, width_nodes: int = 3, tolerance: float = 1e-5, max_steps: int = 20000,
                 device: str = "cpu") -> InPlaneResult:
    """Pull a strip of ``fabric`` to each of ``strains`` (ISO 13934-1: 200 mm gauge) and read the tensile stiffness
    per width; expected: ks / L, the yarns along the strip (straight at rest: crimp only enters the compression)."""
    expected = fabric.measures().tensile_stiffness[0]
    return _grip_test(fabric, test="tensile", direction=direction, levels=strains, gauge=gauge, segments=segments,
                      width_nodes=width_nodes, expected=expected, tolerance=tolerance, max_steps=max_steps,
                      device=device)


def shear_test(fabric: StripFabric, *, direction: str, angles=(0.002, 0.004, 0.006), gauge: float = 0.05,
               segments: int = 10, width_nodes: int = 41, tolerance: float = 1e-5, max_steps: int = 20000,
               device: str = "cpu") -> InPlaneResult:
    """Shear a specimen of ``fabric`` by each of ``angles`` [rad] and read the shear rigidity per clamp length;
    expected: ``expected_shear_rigidity`` times 1 + N / N0 at the specimen's mean rest compression N.

    The yarn-level model (Gong et al. 2022) stiffens shear by the crossing compression N over a force N0
    (``weave.shear_compression_scale``, 1 N in the original), so the reading depends on the specimen's resolution:
    its crimp-bending compression grows as 1/L' (0.022 N at 10 segments, 0.045 N at 20 for a 0.2 kg/m^2 fabric).
    The compression stiffening does not carry over from one resolution to another as the rigidities do
    (``strip_spec``). The default is KES-FB1's specimen, 5 cm between clamps 20 cm long. Where
    the yarns stretch easily the specimen's free edges relax some of the shear, in proportion to gauge / clamp
    length: the original experiments' yarns (tensile stiffness 90 times the shear rigidity) read 3.4%, 1.6% and 0.8%
    low with clamps 1, 2 and 4 gauges long; real yarns (10^5 times) do not."""
    return _grip_test(fabric, test="shear", direction=direction, levels=angles, gauge=gauge, segments=segments,
                      width_nodes=width_nodes, expected=expected_shear_rigidity(fabric), tolerance=tolerance,
                      max_steps=max_steps, device=device)
