"""FitError: a fitting request that cannot be met (parameters, bounds, observations)."""

__all__ = ["FitError"]


class FitError(ValueError):
    """A bad fitting request: unknown or unfittable parameter, bounds, or observations that do not
    match the scene. The message is one line naming the input, the value and what was expected."""
