"""Validation of keyframed inputs (pin handles, gusts, moving obstacles): times and 3-vector values."""

from materials import require_finite, require_range

__all__ = ["keyframe_times", "keyframe_vectors"]


def keyframe_times(name: str, times) -> tuple[float, ...]:
    """Validated keyframe times [s]: at least one, >= 0, strictly increasing (``name`` for the messages)."""
    times = tuple(require_range(f"{name}.times[{k}]", t, 0.0) for k, t in enumerate(times))
    if not times:
        raise ValueError(f"{name}.times is empty: expected at least one keyframe")
    if any(b <= a for a, b in zip(times, times[1:], strict=False)):
        raise ValueError(f"{name}.times = {list(times)} do not increase: expected strictly increasing times [s]")
    return times


def keyframe_vectors(name: str, values, count: int) -> tuple[tuple[float, float, float], ...]:
    """Validated keyframe values: one finite 3-vector per keyframe (``count`` of them)."""
    values = tuple(tuple(require_finite(f"{name}[{k}][{c}]", v) for c, v in enumerate(row))
                   for k, row in enumerate(values))
    if len(values) != count or any(len(row) != 3 for row in values):
        raise ValueError(f"{name} has {len(values)} entries: expected one 3-vector per keyframe ({count})")
    return values
