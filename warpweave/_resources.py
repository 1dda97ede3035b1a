"""Refusing runs that cannot fit in memory, before they start (and the byte counts the commands print)."""

from ._args import UsageError

__all__ = ["check_memory", "format_bytes"]


def check_memory(scene, *, worlds: int, device: str, what: str) -> None:
    """Raise UsageError when simulating ``scene`` in ``worlds`` worlds on the resolved ``device`` needs more
    memory than is available (host memory, and the device's own for CUDA); ``what`` names the run in the
    message (e.g. "3 world(s) of 101 frames")."""
    import scenes

    estimate = scenes.estimate_memory(scene, worlds=worlds)
    host, on_device = estimate.peak_bytes(device)
    for place, needed in (("cpu", host), (device, on_device)):
        if not needed:
            continue
        free = scenes.available_memory(place)
        if free is not None and needed > free:
            where = "memory" if place == "cpu" else f"memory on {place}"
            raise UsageError(
                f"{scene.source}: {what} needs about {format_bytes(needed)} of {where} (engine "
                f"{format_bytes(estimate.engine_bytes)}, trajectory {format_bytes(estimate.trajectory_bytes)} "
                f"kept {scenes.TRAJECTORY_COPIES} times while it is collected) but {format_bytes(free)} is "
                "available: use fewer worlds, fewer steps or a larger simulation.save_every")


def format_bytes(count: float) -> str:
    """``count`` bytes as B, KiB, MiB, GiB or TiB with one decimal."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"
