"""Memory a simulation of a scene needs (reported by ``warpweave info``), from the engine's own arrays."""

from dataclasses import dataclass

import numpy as np

from ._build import build_spec
from ._devices import init_warp_quietly
from ._parameters import with_parameters
from ._schema import Scene

__all__ = ["MemoryEstimate", "estimate_memory"]

_FLOAT = 8  # bytes per float64
# Saved per node and frame: x, u, xdot, udot.
_FRAME_VALUES_PER_NODE = 3 + 2 + 3 + 2
# Small grids (W, H) at which the engine is built and measured; with sizes in W + H and W * H both
# varying, an affine law in (1, W + H, W * H) per world and for the shared topology is determined.
_PROBE_GRIDS = ((5, 5), (5, 9), (9, 9))


#: copies of the trajectory a rollout holds at its end: the frames collected, stacked, and reshaped per field
TRAJECTORY_COPIES = 3


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a simulation holds: the engine's arrays (all worlds) and the returned trajectory (all frames)."""

    engine_bytes: int
    trajectory_bytes: int

    def peak_bytes(self, device: str) -> tuple[int, int]:
        """(host, device) bytes at the peak of a run on the resolved ``device``: the engine's arrays live on
        the device (the host for "cpu"); the trajectory is collected on the host, ``TRAJECTORY_COPIES``
        times over while its frames are stacked and split into fields. Device bytes are 0 for "cpu"."""
        host = TRAJECTORY_COPIES * self.trajectory_bytes
        if device == "cpu":
            return host + self.engine_bytes, 0
        return host, self.engine_bytes


def estimate_memory(scene: Scene, *, worlds: int = 1) -> MemoryEstimate:
    """Memory of simulating ``scene`` in ``worlds`` worlds.

    The engine's part counts every Warp array a simulation holds: the model (topology and per-element
    parameters), the solver (assembled 5x5 stencil blocks, yarn-line preconditioner, work vectors) and
    two states. It is measured on the CPU by building the scene's engine (plain weave, no pins, no obstacles:
    none changes the arrays much) at three small grids with one and two worlds, and extrapolated to the scene's
    grid and world count with the law every array follows: shared topology plus worlds times per-world
    arrays, each affine in W + H (per yarn line) and W * H (per node and element). It leaves out the
    CUDA context and the compiled kernels.
    """
    init_warp_quietly()
    import simulator

    def measured(grid: tuple[int, int], count: int) -> int:
        small = with_parameters(scene, {"cloth.nodes": list(grid), "cloth.pattern": "plain", "pins": [],
                                        "obstacles": []})
        model = simulator.build_model([build_spec(small)] * count, device="cpu")
        solver = simulator.SolverImplicit(model, dt=scene.simulation.dt)
        return simulator.array_bytes(model, solver, model.state(), model.state())

    design = np.array([[1.0, w + h, w * h] for w, h in _PROBE_GRIDS])
    one = np.array([measured(g, 1) for g in _PROBE_GRIDS], dtype=float)
    two = np.array([measured(g, 2) for g in _PROBE_GRIDS], dtype=float)
    per_world = np.linalg.solve(design, two - one)
    shared = np.linalg.solve(design, one) - per_world
    width, height = scene.cloth.nodes
    row = np.array([1.0, width + height, width * height])
    engine = float(row @ shared) + worlds * float(row @ per_world)
    trajectory = worlds * scene.simulation.frames * width * height * _FRAME_VALUES_PER_NODE * _FLOAT
    return MemoryEstimate(engine_bytes=int(round(engine)), trajectory_bytes=trajectory)
