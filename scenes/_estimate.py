"""Rough memory estimates for a scene (reported by ``warpweave info``)."""

from dataclasses import dataclass

from ._schema import Scene

__all__ = ["MemoryEstimate", "estimate_memory"]

_FLOAT = 8  # bytes per float64
# Engine arrays per node per world, in float64 values: state q, qd (5 each) for two states,
# anchors (2), forces and the solver's work vectors (about 8 vectors of 5).
_ENGINE_VALUES_PER_NODE = 2 * (5 + 5) + 2 + 8 * 5
# Per-segment parameter arrays (density, moduli, rest data; two segments per node).
_SEGMENT_VALUES_PER_NODE = 2 * 6
# Saved per node and frame: x, u, xdot, udot.
_FRAME_VALUES_PER_NODE = 3 + 2 + 3 + 2


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated bytes: the engine's arrays (all worlds) and the returned trajectory (all frames)."""

    engine_bytes: int
    trajectory_bytes: int


def estimate_memory(scene: Scene, *, worlds: int = 1) -> MemoryEstimate:
    """A lower-bound style estimate of memory use, from the array sizes of the engine and the output.

    The engine's true footprint depends on its solver (an assembled sparse matrix adds to it);
    this counts the per-node state, velocity, anchor, force and solver vectors, and per-segment
    parameter arrays.
    """
    nodes = scene.cloth.nodes[0] * scene.cloth.nodes[1]
    engine = worlds * nodes * (_ENGINE_VALUES_PER_NODE + _SEGMENT_VALUES_PER_NODE) * _FLOAT
    trajectory = worlds * scene.simulation.frames * nodes * _FRAME_VALUES_PER_NODE * _FLOAT
    return MemoryEstimate(engine_bytes=engine, trajectory_bytes=trajectory)
