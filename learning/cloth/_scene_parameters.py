"""Which elements of the engine's parameter arrays a scene parameter sets, and with what factor.

A scene parameter p (named by its dotted path, e.g. ``materials.cotton.young_modulus``) enters the
model linearly: every element e it owns in one parameter array gets ``factor * p`` (Young's,
bending and shear moduli times the yarn cross-section pi R^2 [m^2], the other values as they are).
So a model array is set from a parameter vector by assignment, and the gradient of a loss with
respect to p is ``factor`` times the sum of the per-element gradients of the elements it owns.
"""

import re
from dataclasses import dataclass

import numpy as np

import scenes
import simulator
from learning.fit import FitError

__all__ = ["ParameterTarget", "SceneParameters", "canonical_name", "fittable_names", "resolve_names"]

_MATERIAL = re.compile(r"^materials\.([^.\[\]]+)\.(density|young_modulus|bending_modulus)$")
_VECTOR = re.compile(r"^(wind\.velocity|simulation\.gravity)\.([012])$")
# scene path -> (array, factor is the yarn cross-section)
_WEAVE = {
    "weave.shear_modulus": ("stencil_shear_stiffness", True),
    "weave.friction": ("node_friction", False),
    "weave.friction_stiffness": ("node_friction_stiffness", False),
    "weave.friction_damping": ("node_friction_damping", False),
    "weave.friction_smoothing": ("node_friction_smoothing", False),
    "weave.contact_stiffness": ("segment_contact_stiffness", False),
    "pins[0].stiffness": ("node_pin_stiffness", False),
    "wind.density": ("wind_density", False),
    "wind.drag": ("wind_drag", False),
}
_MATERIAL_ARRAYS = {
    "density": ("segment_density", "segment", False),
    "young_modulus": ("segment_stretch_stiffness", "segment", True),
    "bending_modulus": ("triple_bend_stiffness", "triple", True),
}
_VECTOR_ARRAYS = {"wind.velocity": "wind_velocity", "simulation.gravity": "gravity"}


@dataclass(frozen=True)
class ParameterTarget:
    """The elements of one model parameter array that a scene parameter sets.

    Attributes:
        array: a name of ``simulator.PARAMETER_ARRAYS``.
        elements: indices along the array's element axis (after the world axis); empty for
            per-world scalars (``wind_density``).
        component: the vector component (0, 1, 2) for per-world vectors (``gravity``), else None.
        factor: array value per unit of the scene parameter (pi R^2 [m^2] for moduli, else 1).
    """

    array: str
    elements: np.ndarray
    component: int | None
    factor: float


def canonical_name(name: str) -> str:
    """``pins.0.stiffness`` -> ``pins[0].stiffness``; ``wind.velocity[1]`` -> ``wind.velocity.1``."""
    name = str(name).strip()
    name = re.sub(r"^pins\.(\d+)\.", r"pins[\1].", name)
    return re.sub(r"^(wind\.velocity|simulation\.gravity)\[(\d)\]$", r"\1.\2", name)


def fittable_names(scene: scenes.Scene) -> tuple[str, ...]:
    """Dotted names of the scene parameters that can be fitted (those that reach the engine's arrays)."""
    used = set(scene.warp_material_names()) | set(scene.weft_material_names())
    names = [f"materials.{m}.{field}" for m in scene.materials if m in used for field in _MATERIAL_ARRAYS]
    names += [name for name in _WEAVE if name != "pins[0].stiffness" or scene.pins]
    names += [f"{vector}.{k}" for vector in _VECTOR_ARRAYS for k in range(3)]
    return tuple(names)


def resolve_names(scene: scenes.Scene, names) -> tuple[str, ...]:
    """The canonical spellings of ``names``, checked against the scene.

    Raises:
        FitError: no name, a repeated one, an unknown one (with a suggestion) or one that cannot be fitted.
    """
    names = tuple(canonical_name(n) for n in names)
    if not names:
        raise FitError("no parameters to fit: expected at least one name, e.g. weave.shear_modulus")
    allowed = fittable_names(scene)
    for name in names:
        if names.count(name) > 1:
            raise FitError(f"parameter {name} is listed twice")
        if name not in allowed:
            known = name in scenes.parameter_names(scene)
            what = "cannot be fitted (it does not enter the engine's parameter arrays)" if known else \
                "unknown parameter"
            raise FitError(f"{scene.source}: {name}: {what}{scenes.suggestion(name, allowed)}; fittable: "
                           f"{', '.join(allowed)}")
    return names


class SceneParameters:
    """Scene parameters to fit, and how they set a model's parameter arrays.

    Args:
        scene: the scene the model is built from.
        names: dotted names (see ``fittable_names``); ``pins.0.stiffness`` and ``wind.velocity[1]``
            are accepted spellings.
        model: a model built from the scene (for its element-to-yarn tables).

    Raises:
        FitError: an unknown name (with a suggestion), a repeated one, or one that cannot be fitted.
    """

    def __init__(self, scene: scenes.Scene, names, model: simulator.Model):
        self.names = resolve_names(scene, names)
        self.scene = scene
        self.targets = tuple(_target(scene, name, model) for name in self.names)
        self.arrays = tuple(dict.fromkeys(t.array for t in self.targets))

    def __len__(self) -> int:
        return len(self.names)

    def values(self) -> np.ndarray:
        """The scene's values of the parameters, shape [N]."""
        return np.array([float(scenes.get_parameter(self.scene, n)) for n in self.names])

    def apply(self, model: simulator.Model, values: np.ndarray, base: dict[str, np.ndarray]) -> None:
        """Set every world's arrays from ``values`` [B, N] (world b gets row b).

        Args:
            base: the arrays of the scene for one world, {array name: [1, ...]}: elements the
                parameters do not own keep these values.
        """
        values = np.asarray(values, dtype=np.float64)
        worlds = model.world_count
        if values.shape != (worlds, len(self)):
            raise ValueError(f"values have shape {values.shape}: expected ({worlds}, {len(self)})")
        arrays = {name: np.repeat(base[name], worlds, axis=0) for name in self.arrays}
        for k, target in enumerate(self.targets):
            array = arrays[target.array]
            scaled = target.factor * values[:, k]
            if target.component is not None:
                array[:, target.component] = scaled
            elif array.ndim == 1:
                array[:] = scaled
            else:
                array[:, target.elements] = scaled[:, None]
        for name, array in arrays.items():
            model.set_parameter(name, array)

    def reduce(self, gradients: dict[str, np.ndarray]) -> np.ndarray:
        """Gradients with respect to the scene parameters [B, N] from per-element ones ({array: [B, ...]})."""
        columns = []
        for target in self.targets:
            grad = np.asarray(gradients[target.array])
            if target.component is not None:
                column = grad[:, target.component]
            elif grad.ndim == 1:
                column = grad
            else:
                column = grad[:, target.elements].sum(axis=1)
            columns.append(target.factor * column)
        return np.stack(columns, axis=1)

    def with_values(self, values) -> scenes.Scene:
        """The scene with the parameters set to ``values`` [N] (validated)."""
        return scenes.with_parameters(self.scene, {n: float(v) for n, v in zip(self.names, values, strict=True)})


def _target(scene: scenes.Scene, name: str, model: simulator.Model) -> ParameterTarget:
    area = np.pi * scene.cloth.yarn_radius**2
    empty = np.zeros(0, dtype=np.int64)
    material = _MATERIAL.match(name)
    if material:
        array, family, moduli = _MATERIAL_ARRAYS[material.group(2)]
        axis = model.segment_axis_np if family == "segment" else model.triple_axis_np
        yarn = np.asarray(model.segment_yarn_np if family == "segment" else model.triple_yarn_np)
        warp, weft = scene.warp_material_names(), scene.weft_material_names()
        owner = np.array([(warp if a == 0 else weft)[y] for a, y in zip(axis, yarn, strict=True)])
        elements = np.flatnonzero(owner == material.group(1))
        return ParameterTarget(array, elements, None, area if moduli else 1.0)
    vector = _VECTOR.match(name)
    if vector:
        return ParameterTarget(_VECTOR_ARRAYS[vector.group(1)], empty, int(vector.group(2)), 1.0)
    array, moduli = _WEAVE[name]
    if array == "node_pin_stiffness":
        elements = np.flatnonzero(model.parameter(array)[0] > 0.0)
    elif array in ("wind_density", "wind_drag"):
        elements = empty
    else:
        elements = np.arange(model.parameter(array).shape[1])
    return ParameterTarget(array, elements, None, area if moduli else 1.0)
