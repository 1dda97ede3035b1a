"""Which elements of the engine's parameter arrays a scene parameter sets, and with what factor.

A scene parameter p (named by its dotted path, e.g. ``materials.cotton.young_modulus``) enters the
model linearly: every element e it owns in one parameter array gets ``factor * p`` (Young's,
bending and shear moduli times the yarn cross-section pi R^2 [m^2], the other values as they are).
So a model array is set from a parameter vector by assignment, and the gradient of a loss with
respect to p is ``factor`` times the sum of the per-element gradients of the elements it owns.
"""

from dataclasses import dataclass

import numpy as np

import scenes
import simulator
from learning.fit import FitError
from scenes import canonical_name, fittable_names, fittable_parameter

__all__ = ["ParameterTarget", "SceneParameters", "canonical_name", "fittable_names", "resolve_names"]


@dataclass(frozen=True)
class ParameterTarget:
    """The elements of one model parameter array that a scene parameter sets.

    Attributes:
        array: a name of ``simulator.Model.parameter_names``.
        index: where in the array after its world axis: () for a per-world scalar (``wind_density``),
            (component,) for a per-world vector (``gravity``), (elements,) for per-element values, and
            (elements, component) for one component of per-element vectors (keyframes).
        factor: array value per unit of the scene parameter (pi R^2 [m^2] for moduli, else 1).
    """

    array: str
    index: tuple
    factor: float

    def select(self) -> tuple:
        """The numpy index of the owned entries in an array with a leading world axis."""
        return (slice(None), *self.index)


def resolve_names(scene: scenes.Scene, names) -> tuple[str, ...]:
    """The canonical spellings of ``names``, checked against the scene.

    Raises:
        FitError: no name, a repeated one, an unknown one (with a suggestion) or one that cannot be fitted.
    """
    names = scenes.expand_names(scene, names)
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
        #: the engine elements of each parameter; None for a camera's time offset (no engine array holds it)
        self.targets = tuple(None if fittable_parameter(name).family == "camera" else _target(scene, name, model)
                             for name in self.names)
        self.arrays = tuple(dict.fromkeys(t.array for t in self.targets if t is not None))
        #: {column: camera index} of the cameras' time offsets among the parameters
        self.camera_offsets = {k: int(name.split("[", 1)[1].split("]", 1)[0]) for k, name in enumerate(self.names)
                               if self.targets[k] is None}

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
            if target is None:
                continue
            array = arrays[target.array]
            owned = array[target.select()]
            array[target.select()] = (target.factor * values[:, k]).reshape(-1, *([1] * (owned.ndim - 1)))
        for name, array in arrays.items():
            model.set_parameter(name, array)

    def reduce(self, gradients: dict[str, np.ndarray]) -> np.ndarray:
        """Gradients with respect to the scene parameters [B, N] from per-element ones ({array: [B, ...]}); the
        engine has none for a camera's time offset (its column is left to the caller: NaN here)."""
        worlds = len(next(iter(gradients.values())))
        columns = []
        for target in self.targets:
            if target is None:
                columns.append(np.full(worlds, np.nan))
                continue
            owned = np.asarray(gradients[target.array])[target.select()]
            columns.append(target.factor * owned.reshape(owned.shape[0], -1).sum(axis=1))
        return np.stack(columns, axis=1)

    def tangents(self, base: dict[str, np.ndarray], which=None) -> dict[str, np.ndarray]:
        """Unit tangents in array space, one per parameter k in ``which`` (default all): {array: [k, ...]}
        with the factor of parameter k on the entries it owns (the direction d(arrays)/d(value_k))."""
        chosen = range(len(self)) if which is None else [k for k in range(len(self)) if which[k]]
        out = {}
        for row, k in enumerate(chosen):
            target = self.targets[k]
            if target is None:
                continue
            array = out.setdefault(target.array, np.zeros((len(chosen), *base[target.array].shape[1:])))
            array[(row, *target.index)] = target.factor
        return out

    def with_values(self, values) -> scenes.Scene:
        """The scene with the parameters set to ``values`` [N] (validated)."""
        return scenes.with_parameters(self.scene, {n: float(v) for n, v in zip(self.names, values, strict=True)})


def _target(scene: scenes.Scene, name: str, model: simulator.Model) -> ParameterTarget:
    where = fittable_parameter(name)
    factor = np.pi * scene.cloth.yarn_radius**2 if where.cross_section else 1.0
    component = int(name.rsplit(".", 1)[1]) if where.family in ("vector", "keyframe") else None
    if where.family == "vector":
        return ParameterTarget(where.array, (component,), factor)
    if where.family == "world":
        return ParameterTarget(where.array, (), factor)
    if where.family == "keyframe":
        return ParameterTarget(where.array, (np.array([_keyframe_index(scene, name)]), component), factor)
    if where.family in ("obstacle", "obstacle_vector"):
        obstacle = np.array([int(name.split("[", 1)[1].split("]", 1)[0])])
        index = (obstacle, int(name.rsplit(".", 1)[1])) if where.family == "obstacle_vector" else (obstacle,)
        return ParameterTarget(where.array, index, factor)
    if name.startswith("materials."):
        segment = where.family == "segment"
        axis = model.segment_axis_np if segment else model.triple_axis_np
        yarn = np.asarray(model.segment_yarn_np if segment else model.triple_yarn_np)
        warp, weft = scene.warp_material_names(), scene.weft_material_names()
        owner = np.array([(warp if a == 0 else weft)[y] for a, y in zip(axis, yarn, strict=True)])
        return ParameterTarget(where.array, (np.flatnonzero(owner == name.split(".")[1]),), factor)
    if where.array == "node_pin_stiffness":
        return ParameterTarget(where.array, (np.flatnonzero(model.parameter(where.array)[0] > 0.0),), factor)
    return ParameterTarget(where.array, (np.arange(model.parameter(where.array).shape[1]),), factor)


def _keyframe_index(scene: scenes.Scene, name: str) -> int:
    """Index of a keyframe in the model's keyframe arrays: the pin paths' keyframes follow one another in the
    order of the scene's pin groups that have a path, the obstacles' in the order of the obstacles; the wind
    path's are its own."""
    parts = name.replace("[", ".").replace("]", "").split(".")
    if parts[0] == "wind":
        return int(parts[2])
    if parts[0] == "obstacles":  # the paths of the obstacles that have one, one after another
        obstacle, frame = int(parts[1]), int(parts[3])
        return sum(len(o.path) for o in scene.obstacles[:obstacle]) + frame
    group, frame = int(parts[1]), int(parts[3])
    return sum(len(g.path) for g in scene.pins[:group]) + frame
