"""The parameter space of a cloth fit: scene parameters by dotted name, with bounds and transforms."""

from collections.abc import Mapping

import scenes
from learning.fit import Bounded, FitError, ParameterSpace, default_bounds

from ._scene_parameters import canonical_name, resolve_names

__all__ = ["scene_parameter_space"]

#: scene parameters that may be negative (fitted with the box transform)
_SIGNED = ("wind.velocity.", "simulation.gravity.")


def scene_parameter_space(
    scene: scenes.Scene,
    names,
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    initial: Mapping[str, float] | None = None,
    transforms: Mapping[str, str] | None = None,
) -> ParameterSpace:
    """A :class:`ParameterSpace` over scene parameters.

    Args:
        scene: the scene; its values are the initial values unless ``initial`` overrides them.
        names: dotted names (``learning.cloth.fittable_names(scene)`` lists them).
        bounds: {name: (lower, upper)}; default: initial/100 to 100·initial (log transform) for
            positive parameters, initial ± 10·max(|initial|, 1) (box) for wind and gravity components.
        initial: {name: starting value} overriding the scene's.
        transforms: {name: "log" | "box"}; default "log" when the lower bound is > 0, else "box".

    Raises:
        FitError: unknown or unfittable names (with a suggestion), options naming a parameter
            that is not fitted, bounds that exclude the initial value.
    """
    names = resolve_names(scene, names)
    options = {"bounds": bounds or {}, "initial": initial or {}, "transforms": transforms or {}}
    options = {key: {canonical_name(k): v for k, v in table.items()} for key, table in options.items()}
    for key, table in options.items():
        for name in table:
            if name not in names:
                raise FitError(f"{key} given for {name}, which is not among the fitted parameters "
                               f"({', '.join(names) or 'none'})")
    parameters = []
    for name in names:
        start = float(options["initial"].get(name, scenes.get_parameter(scene, name)))
        if name in options["bounds"]:
            lower, upper = (float(v) for v in options["bounds"][name])
        else:
            default = default_bounds(name, start, signed=name.startswith(_SIGNED))
            lower, upper = default.lower, default.upper
        transform = options["transforms"].get(name, "log" if lower > 0.0 else "box")
        parameters.append(Bounded(name, start, lower, upper, transform))
    return ParameterSpace(parameters)
