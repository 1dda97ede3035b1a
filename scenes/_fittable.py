"""The scene values that reach the engine's parameter arrays (the fittable ones), their arrays and units.

A scene parameter named by its dotted path (``materials.cotton.young_modulus``, ``weave.friction``,
``wind.velocity.1``) enters the engine linearly: each element it owns in one of the model's parameter
arrays (``simulator.PARAMETER_ARRAYS``) gets ``factor * value``, the factor being the yarn
cross-section pi R^2 [m^2] for the moduli and 1 otherwise. This module is plain data (no engine
import), so that ``warpweave params`` can list the parameters at once.
"""

import re
from dataclasses import dataclass

from ._schema import Scene

__all__ = ["FittableParameter", "canonical_name", "expand_names", "fittable_names", "fittable_parameter",
           "parameter_unit"]

MATERIAL_NAME = re.compile(r"^materials\.([^.\[\]]+)\.(density|young_modulus|bending_modulus)$")
VECTOR_NAME = re.compile(r"^(wind\.velocity|simulation\.gravity)\.([012])$")
PIN_PATH_NAME = re.compile(r"^pins\[(\d+)\]\.path\[(\d+)\]\.offset\.([012])$")
WIND_PATH_NAME = re.compile(r"^wind\.path\[(\d+)\]\.velocity\.([012])$")
OBSTACLE_NAME = re.compile(r"^obstacles\[(\d+)\]\.(friction|thickness|stiffness)$")
OBSTACLE_POSITION_NAME = re.compile(r"^obstacles\[(\d+)\]\.(center|point|position)\.([012])$")
OBSTACLE_PATH_NAME = re.compile(r"^obstacles\[(\d+)\]\.path\[(\d+)\]\.offset\.([012])$")
CAMERA_OFFSET_NAME = re.compile(r"^cameras\[(\d+)\]\.time_offset$")


@dataclass(frozen=True)
class FittableParameter:
    """Where a fittable scene parameter goes in the engine.

    Attributes:
        array: the model parameter array (a name of ``simulator.PARAMETER_ARRAYS``); "" for a camera's time offset,
            which no engine array holds.
        family: which elements of the array it can own: "segment", "triple", "stencil", "node" (per
            element), "world" (one value per world), "vector" (one component of a per-world vector), "keyframe"
            (one component of one keyframe), "obstacle" (one obstacle's value), "obstacle_vector" (one
            component of one obstacle's position) or "camera" (a camera's time offset).
        cross_section: the array holds value * pi R^2 (moduli), else the value itself.
        unit: SI unit of the scene value.
        signed: the value may be negative (wind and gravity components); the others are > 0 or >= 0.
    """

    array: str
    family: str
    cross_section: bool
    unit: str
    signed: bool = False


MATERIAL_FIELDS = {
    "density": FittableParameter("segment_density", "segment", False, "kg/m"),
    "young_modulus": FittableParameter("segment_stretch_stiffness", "segment", True, "Pa"),
    "bending_modulus": FittableParameter("triple_bend_stiffness", "triple", True, "Pa*m^2"),
}
NAMED = {
    "weave.shear_modulus": FittableParameter("stencil_shear_stiffness", "stencil", True, "Pa"),
    "weave.friction": FittableParameter("node_friction", "node", False, "-"),
    "weave.friction_stiffness": FittableParameter("node_friction_stiffness", "node", False, "N/m"),
    "weave.friction_damping": FittableParameter("node_friction_damping", "node", False, "N*s/m"),
    "weave.friction_smoothing": FittableParameter("node_friction_smoothing", "node", False, "-"),
    "weave.contact_stiffness": FittableParameter("segment_contact_stiffness", "segment", False, "N/m^2"),
    "weave.shear_compression_scale": FittableParameter("stencil_compression_scale", "stencil", False, "N"),
    "pins[0].stiffness": FittableParameter("node_pin_stiffness", "node", False, "N/m"),
    "wind.density": FittableParameter("wind_density", "world", False, "kg/m^3"),
    "wind.drag": FittableParameter("wind_drag", "world", False, "kg/(m^2*s)"),
}
VECTORS = {
    "wind.velocity": FittableParameter("wind_velocity", "vector", False, "m/s", signed=True),
    "simulation.gravity": FittableParameter("gravity", "vector", False, "m/s^2", signed=True),
}
#: keyframes of scripted inputs: one component of one keyframe's 3-vector (element = the keyframe's index)
PIN_PATH = FittableParameter("pin_path_offset", "keyframe", False, "m", signed=True)
WIND_PATH = FittableParameter("wind_path_velocity", "keyframe", False, "m/s", signed=True)
#: obstacles: friction, thickness and stiffness of one obstacle; one component of its position
OBSTACLE_FIELDS = {
    "friction": FittableParameter("obstacle_friction", "obstacle", False, "-"),
    "thickness": FittableParameter("obstacle_thickness", "obstacle", False, "m"),
    "stiffness": FittableParameter("obstacle_stiffness", "obstacle", False, "N/m"),
}
OBSTACLE_POSITION = FittableParameter("obstacle_position", "obstacle_vector", False, "m", signed=True)
OBSTACLE_PATH = FittableParameter("obstacle_path_offset", "keyframe", False, "m", signed=True)
#: a camera's time offset: not in the engine's arrays (array ""): the observation models of its footage read it
CAMERA_OFFSET = FittableParameter("", "camera", False, "s", signed=True)
#: the scene key that is an obstacle's position (its frame's origin), by type (a capsule's ends are not one)
POSITION_KEYS = {"plane": "point", "sphere": "center", "box": "center", "mesh": "position"}


def canonical_name(name: str) -> str:
    """``pins.0.stiffness`` -> ``pins[0].stiffness``; ``wind.velocity[1]`` -> ``wind.velocity.1``."""
    name = str(name).strip()
    name = re.sub(r"^(pins|obstacles|cameras)\.(\d+)\.", r"\1[\2].", name)
    name = re.sub(r"\.path\.(\d+)(?=\.|$)", r".path[\1]", name)
    name = re.sub(r"\.(offset|velocity|center|point|position)\[(\d)\]$", r".\1.\2", name)
    return re.sub(r"^(wind\.velocity|simulation\.gravity)\[(\d)\]$", r"\1.\2", name)


def fittable_names(scene: Scene) -> tuple[str, ...]:
    """Dotted names of the scene parameters that can be fitted (those that reach the engine's arrays):
    the density and moduli of every material some yarn uses, the crossing properties, the pin stiffness
    (when something is pinned), wind density and drag, the components of wind and gravity, keyframes, each
    obstacle's friction, thickness, stiffness (when given), position (planes, spheres, boxes) and keyframes, and
    each camera's time offset (which the fit of its footage reads, not the engine)."""
    used = set(scene.warp_material_names()) | set(scene.weft_material_names())
    names = [f"materials.{m}.{field}" for m in scene.materials if m in used for field in MATERIAL_FIELDS]
    names += [name for name in NAMED if name != "pins[0].stiffness" or scene.pins]
    names += [f"{vector}.{k}" for vector in VECTORS for k in range(3)]
    names += [f"pins[{g}].path[{k}].offset.{c}" for g, group in enumerate(scene.pins) for k in range(len(group.path))
              for c in range(3)]
    names += [f"wind.path[{k}].velocity.{c}" for k in range(len(scene.wind.path)) for c in range(3)]
    for k, obstacle in enumerate(scene.obstacles):
        names += [f"obstacles[{k}].{field}" for field in OBSTACLE_FIELDS
                  if field != "stiffness" or obstacle.stiffness is not None]
        if obstacle.type in POSITION_KEYS:
            names += [f"obstacles[{k}].{POSITION_KEYS[obstacle.type]}.{c}" for c in range(3)]
        names += [f"obstacles[{k}].path[{m}].offset.{c}" for m in range(len(obstacle.path)) for c in range(3)]
    names += [f"cameras[{k}].time_offset" for k in range(len(scene.cameras))]
    return tuple(names)


def expand_names(scene: Scene, names) -> tuple[str, ...]:
    """``names`` in canonical spelling, each name that is a prefix of fittable ones (``pins[0].path``,
    ``wind.path[2]``, ``wind.velocity``) replaced by all of them, in order."""
    allowed = fittable_names(scene)
    out = []
    for name in (canonical_name(n) for n in names):
        covered = [n for n in allowed if n.startswith(name + ".") or n.startswith(name + "[")]
        out += covered if covered and name not in allowed else [name]
    return tuple(out)


def fittable_parameter(name: str) -> FittableParameter | None:
    """Where the (canonical) dotted ``name`` goes in the engine, or None when it is not fittable."""
    material = MATERIAL_NAME.match(name)
    if material:
        return MATERIAL_FIELDS[material.group(2)]
    vector = VECTOR_NAME.match(name)
    if vector:
        return VECTORS[vector.group(1)]
    if PIN_PATH_NAME.match(name):
        return PIN_PATH
    if WIND_PATH_NAME.match(name):
        return WIND_PATH
    obstacle = OBSTACLE_NAME.match(name)
    if obstacle:
        return OBSTACLE_FIELDS[obstacle.group(2)]
    if OBSTACLE_POSITION_NAME.match(name):
        return OBSTACLE_POSITION
    if OBSTACLE_PATH_NAME.match(name):
        return OBSTACLE_PATH
    if CAMERA_OFFSET_NAME.match(name):
        return CAMERA_OFFSET
    return NAMED.get(name)


def parameter_unit(name: str) -> str:
    """SI unit of the fittable scene parameter ``name`` ("" when it is not fittable)."""
    found = fittable_parameter(canonical_name(name))
    return found.unit if found is not None else ""
