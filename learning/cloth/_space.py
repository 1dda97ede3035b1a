"""The parameter space of a cloth fit: scene parameters by dotted name, with bounds and transforms."""

from collections.abc import Mapping

import numpy as np

import scenes
from learning.fit import Bounded, FitError, ParameterSpace, default_bounds

from ._scene_parameters import canonical_name, resolve_names

__all__ = ["scene_parameter_space"]

#: default bounds of a camera's time offset: this many of its frames either way
_OFFSET_FRAMES = 3.0


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
            positive parameters, initial ± 10·max(|initial|, 1) (box) for wind and gravity components and wind
            keyframes, initial ± the cloth's larger side (box) for the offsets of pin-path keyframes, initial ± 3
            frames (box) for a camera's time offset.
        initial: {name: starting value} overriding the scene's.
        transforms: {name: "log" | "box"}; default "log" when the lower bound is > 0, else "box".

    The scene file's rules say which values a parameter may take: initial values must be among them,
    and bounds must not reach zero for a quantity that must be > 0 (densities, moduli, stiffnesses)
    nor below it for one that must be >= 0 (friction coefficient, wind density).

    Raises:
        FitError: unknown or unfittable names (with a suggestion), options naming a parameter
            that is not fitted, initial values the scene does not accept, bounds that are empty,
            exclude the initial value or reach values the parameter cannot take.
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
        _check_value(scene, name, start)
        if name in options["bounds"]:
            lower, upper = (float(v) for v in options["bounds"][name])
            _check_sign(scene, name, lower, upper)
        elif scenes.fittable_parameter(name).family == "camera":  # a few frames either way
            reach = _OFFSET_FRAMES / scene.cameras[int(name.split("[", 1)[1].split("]", 1)[0])].fps
            lower, upper = start - reach, start + reach
        elif scenes.fittable_parameter(name).array == "pin_path_offset":
            reach = max(scene.cloth.nodes) * scene.cloth.spacing  # a handle moves on the scale of the cloth
            lower, upper = start - reach, start + reach
        else:
            default = default_bounds(name, start, signed=scenes.fittable_parameter(name).signed)
            lower, upper = default.lower, default.upper
        transform = options["transforms"].get(name, "log" if lower > 0.0 else "box")
        parameters.append(Bounded(name, start, lower, upper, transform))
    return ParameterSpace(parameters)


def _rejection(scene: scenes.Scene, name: str, value: float) -> str | None:
    """Why the scene file would not accept ``value`` for ``name`` ("... expected a value > 0"); None if it would."""
    try:
        scenes.with_parameters(scene, {name: value})
    except scenes.SceneError as exc:
        return str(exc).removeprefix(f"{scene.source}: ")
    return None


def _check_value(scene: scenes.Scene, name: str, value: float) -> None:
    """FitError unless the scene accepts ``value`` as the initial value of ``name``."""
    reason = _rejection(scene, name, value)
    if reason is not None:
        raise FitError(f"initial value: {reason}")


def _check_sign(scene: scenes.Scene, name: str, lower: float, upper: float) -> None:
    """FitError when the bounds (lower, upper) of ``name`` reach zero for a quantity that must be > 0, or
    below zero for one that must be >= 0 (empty or non-finite bounds are left to :class:`Bounded`)."""
    if not (np.isfinite(lower) and np.isfinite(upper) and lower < upper) or _rejection(scene, name, lower) is None:
        return
    if _rejection(scene, name, 0.0) is not None:
        raise FitError(f"{name}: bounds [{lower:g}, {upper:g}] reach values <= 0, but it must be > 0: expected "
                       "0 < lower < upper (it is fitted on a log scale)")
    raise FitError(f"{name}: bounds [{lower:g}, {upper:g}] reach values < 0, but it must be >= 0: expected "
                   "0 <= lower < upper")
