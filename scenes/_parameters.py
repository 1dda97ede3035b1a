"""Scene parameters by dotted path: the path of a value in the scene file is its name everywhere.

Examples: ``materials.cotton.young_modulus``, ``weave.friction``, ``wind.velocity`` (a list),
``wind.velocity.1`` (one component), ``pins[0].stiffness`` (also written ``pins.0.stiffness``).
"""

import copy
import re
from collections.abc import Mapping

from ._errors import SceneError, suggestion
from ._loader import parse_scene
from ._schema import Scene
from ._writer import scene_to_dict

__all__ = ["get_parameter", "parameter_names", "with_parameters"]

_INDEX = re.compile(r"\[(\d+)\]")


def parameter_names(scene: Scene) -> tuple[str, ...]:
    """Dotted paths of every value of the scene, e.g. ``weave.friction``, ``pins[0].stiffness``.

    Lists of numbers (``wind.velocity``) count as one value; their items are ``wind.velocity.1``.
    """
    names = []

    def walk(node, prefix):
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            path = f"{prefix}[{key}]" if isinstance(node, list) else f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], dict)):
                walk(value, path)
            else:
                names.append(path)

    walk(scene_to_dict(scene), "")
    return tuple(names)


def get_parameter(scene: Scene, path: str):
    """The value at dotted ``path`` (a float, int, string or list).

    Raises:
        SceneError: the path names no value of this scene (with a suggestion).
    """
    parent, key = _locate(scene, scene_to_dict(scene), path)
    return copy.deepcopy(parent[key])


def with_parameters(scene: Scene, values: Mapping[str, object]) -> Scene:
    """A new validated Scene with the values at the given dotted paths replaced.

    Values may be Python or NumPy (or torch) scalars and arrays. Changing ``simulation.device``
    also checks that the device exists here.

    Raises:
        SceneError: an unknown path, or a value the scene file would not accept.
    """
    data = scene_to_dict(scene)
    for path, value in values.items():
        parent, key = _locate(scene, data, path)
        parent[key] = _plain(value)
    return parse_scene(data, source=scene.source, check_device="simulation.device" in values)


def _locate(scene: Scene, data: dict, path: str):
    """The container holding the value at ``path`` and its key or index there."""
    parts = _INDEX.sub(r".\1", str(path)).split(".")
    node = data
    for depth, part in enumerate(parts):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            key = int(part)
        elif isinstance(node, dict) and part in node:
            key = part
        else:
            options = parameter_names(scene)
            raise SceneError(
                f"{scene.source}: {path}: unknown parameter (no value at "
                f"'{'.'.join(parts[: depth + 1])}'){suggestion(path, options)}"
            )
        if depth == len(parts) - 1:
            return node, key
        node = node[key]
    raise SceneError(f"{scene.source}: {path!r}: expected a dotted parameter path")


def _plain(value):
    """NumPy/torch scalars and arrays as Python numbers and lists."""
    if hasattr(value, "tolist") and not isinstance(value, list | tuple | str):
        return value.tolist()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
