"""How much device memory a set of engine objects holds."""

import warp as wp

__all__ = ["array_bytes"]


def array_bytes(*owners) -> int:
    """Bytes of the distinct Warp arrays reachable from ``owners`` through the attributes of engine
    objects (the model, solver, preconditioner, assembled operator, states, adjoints, losses, the force
    terms' workspaces) and through lists, tuples and dict values."""
    seen, total, stack = set(), 0, list(owners)
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, wp.array):
            total += value.capacity
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif hasattr(value, "__dict__") and type(value).__module__.startswith("simulator"):
            stack.extend(vars(value).values())
    return total
