"""Writing a Scene back out: as nested dicts, JSON text, or a TOML file that loads to the same Scene."""

import dataclasses
import json
import math
import re

from ._schema import Scene

__all__ = ["scene_to_dict", "scene_to_json", "scene_to_toml"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def scene_to_dict(scene: Scene) -> dict:
    """The resolved scene as nested dicts and lists, in the layout of a scene file.

    Every value is written out (defaults and presets resolved), so ``parse_scene`` of the result
    gives back an equal Scene and every parameter has a dotted path (``weave.friction``).
    """
    cloth = dataclasses.asdict(scene.cloth)
    cloth["nodes"] = list(scene.cloth.nodes)
    if not isinstance(scene.cloth.pattern, str):
        cloth["pattern"] = [list(row) for row in scene.cloth.pattern]
    return {
        "simulation": _lists(dataclasses.asdict(scene.simulation)),
        "cloth": _lists(cloth),
        "materials": {name: dataclasses.asdict(m) for name, m in scene.materials.items()},
        "weave": dataclasses.asdict(scene.weave),
        "pins": [
            {
                "nodes": g.nodes if isinstance(g.nodes, str) else [list(p) for p in g.nodes],
                "stiffness": g.stiffness,
                **({"path": _keyframes(g.path, "offset")} if g.path else {}),
            }
            for g in scene.pins
        ],
        "wind": {"velocity": list(scene.wind.velocity), "density": scene.wind.density, "drag": scene.wind.drag,
                 **({"path": _keyframes(scene.wind.path, "velocity")} if scene.wind.path else {})},
        "obstacles": [
            {"type": o.type, **{k: list(v) if isinstance(v, tuple) else v for k, v in o.shape},
             "friction": o.friction, "thickness": o.thickness,
             **({"stiffness": o.stiffness} if o.stiffness is not None else {}),
             **({"path": _keyframes(o.path, "offset")} if o.path else {})}
            for o in scene.obstacles
        ],
        "self_contact": {k: v for k, v in dataclasses.asdict(scene.self_contact).items() if v is not None},
        "cameras": [
            {"name": c.name, "resolution": list(c.resolution), "fps": c.fps, "start_time": c.start_time,
             "time_offset": c.time_offset, **{k: _nested_lists(v) for k, v in c.values}}
            for c in scene.cameras
        ],
    }


def _nested_lists(value):
    """Tuples (of tuples) as lists (of lists); anything else as it is."""
    return [_nested_lists(v) for v in value] if isinstance(value, tuple) else value


def _keyframes(path, key: str) -> list[dict]:
    """Keyframes as the scene file writes them: [{time = t, KEY = [a, b, c]}, ...]."""
    return [{"time": k.time, key: list(k.value)} for k in path]


def scene_to_json(scene: Scene) -> str:
    """The resolved scene as JSON text (what a trajectory file stores)."""
    return json.dumps(scene_to_dict(scene))


def scene_to_toml(scene: Scene, *, header: str = "") -> str:
    """The resolved scene as TOML text; ``load_scene`` of it gives back an equal Scene.

    Args:
        scene: the scene.
        header: optional comment placed at the top (each line is prefixed with "# ").
    """
    data = scene_to_dict(scene)
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for table in ("simulation", "cloth"):
        lines += _table([table], data[table])
    for name, material in data["materials"].items():
        lines += _table(["materials", name], material)
    lines += _table(["weave"], data["weave"])
    for group in data["pins"]:
        lines += ["", "[[pins]]"] + [f"{_key(k)} = {_value(v)}" for k, v in group.items()]
    lines += _table(["wind"], data["wind"])
    for obstacle in data["obstacles"]:
        lines += ["", "[[obstacles]]"] + [f"{_key(k)} = {_value(v)}" for k, v in obstacle.items()]
    if data["self_contact"]:
        lines += _table(["self_contact"], data["self_contact"])
    for camera in data["cameras"]:
        lines += ["", "[[cameras]]"] + [f"{_key(k)} = {_value(v)}" for k, v in camera.items()]
    return "\n".join(lines).lstrip("\n") + "\n"


def _lists(table: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in table.items()}


def _table(path: list[str], values: dict) -> list[str]:
    return ["", f"[{'.'.join(_key(p) for p in path)}]"] + [
        f"{_key(k)} = {_value(v)}" for k, v in values.items()
    ]


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
