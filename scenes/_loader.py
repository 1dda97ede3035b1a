"""Reading and validating scene files (TOML) into a Scene."""

import dataclasses
import math
import os
import re
import tomllib
from functools import partial

import numpy as np

from materials import (
    BENDING_INPUTS,
    RENAMED_YARN_PRESETS,
    WEAVE_PATTERNS,
    YARN_PRESETS,
    CrossingProperties,
    FabricSpec,
    YarnMaterial,
    require_positive,
    require_range,
    weave_flips,
)
from simulator import POSES

from ._devices import check_device as _check_device_name
from ._errors import SceneError, format_value, suggestion
from ._reader import MISSING, TableReader
from ._schema import (
    CAMERA_LOOK_AT_KEYS,
    CAMERA_OPENCV_KEYS,
    MAX_STEPS,
    MAX_SUBSTEPS,
    OBSTACLE_SHAPES,
    PIN_SELECTORS,
    PRECISIONS,
    Cloth,
    Keyframe,
    PinGroup,
    Scene,
    SceneCamera,
    SceneObstacle,
    SelfContactTable,
    Simulation,
    Wind,
)

__all__ = ["load_scene", "parse_scene"]

_TOP_KEYS = ("simulation", "cloth", "fabric", "materials", "weave", "pins", "wind", "obstacles", "self_contact",
             "cameras")
_CAMERA_KEYS = ("name", "resolution", "fps", "start_time", "time_offset")
_SELF_CONTACT_KEYS = ("enabled", "friction", "stiffness", "capacity")
_OBSTACLE_CONTACT_KEYS = ("type", "friction", "thickness", "stiffness", "path")
_SIMULATION_KEYS = ("dt", "steps", "gravity", "device", "precision", "save_every", "substeps", "tolerance",
                    "max_iterations")
_CLOTH_KEYS = ("nodes", "spacing", "yarn_radius", "pattern", "pose", "origin", "warp_yarns", "weft_yarns")
_MATERIAL_FIELDS = tuple(f.name for f in dataclasses.fields(YarnMaterial))
_WEAVE_FIELDS = tuple(f.name for f in dataclasses.fields(CrossingProperties))
_FABRIC_FIELDS = tuple(f.name for f in dataclasses.fields(FabricSpec))
#: [fabric] keys that hold a (warp, weft) pair (one number: the same in both directions)
_FABRIC_PAIRS = ("tex", "yarn_modulus", "crimp", *BENDING_INPUTS)
#: the materials a [fabric] scene's yarns get
FABRIC_MATERIALS = ("warp", "weft")
#: the grid spacing [m] the default per-crossing weave values (anchor spring, sliding damping, parallel contact) were
#: made for; a [fabric] scene on another grid gets them at the same values per length of yarn
FABRIC_WEAVE_GRID = 1.0e-3
_PIN_KEYS = ("nodes", "stiffness", "path")
_WIND_KEYS = ("velocity", "density", "drag", "path")
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")

_positive = require_positive
_non_negative = partial(require_range, low=0.0)


def load_scene(path, *, check_device: bool = True) -> Scene:
    """Read and validate a scene file.

    Args:
        path: the TOML file.
        check_device: also check that ``simulation.device`` exists on this machine (this
            initialises Warp); with False only its spelling is checked.

    Raises:
        SceneError: one line naming the file, the key, the value and what was expected.
    """
    if isinstance(path, str) and "\n" in path:
        raise TypeError("load_scene(path): got TOML text, expected the path of a scene file; parse text with "
                        "scenes.parse_scene(tomllib.loads(text))")
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"load_scene(path): expected the path of a scene file (str or os.PathLike), got "
                        f"{type(path).__module__}.{type(path).__qualname__}")
    source = os.fspath(path)
    try:
        with open(source, "rb") as f:
            data = tomllib.loads(f.read().decode("utf-8-sig"))  # a UTF-8 byte order mark is accepted
    except FileNotFoundError:
        raise SceneError(f"{source}: no such scene file") from None
    except IsADirectoryError:
        raise SceneError(f"{source}: is a directory, expected a scene file (.toml)") from None
    except OSError as exc:
        raise SceneError(f"{source}: cannot read the scene file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SceneError(f"{source}: invalid TOML: the file is not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SceneError(f"{source}: invalid TOML: {exc}") from None
    return parse_scene(data, source=source, check_device=check_device)


def parse_scene(data, *, source: str = "<scene>", check_device: bool = True) -> Scene:
    """Validate a scene given as nested dicts (parsed TOML or JSON) and return the Scene.

    Args:
        data: the scene's tables, as ``tomllib`` gives them.
        source: the name used in error messages.
        check_device: see ``load_scene``.
    """
    top = TableReader(data, source=source, path="", keys=_TOP_KEYS)
    simulation = _read_simulation(top.table("simulation", keys=_SIMULATION_KEYS, required=True), check_device)
    cloth_table = top.table("cloth", keys=_CLOTH_KEYS, required=True)
    weave_table = top.table("weave", keys=_WEAVE_FIELDS)
    fabric = _read_fabric(top.table("fabric", keys=_FABRIC_FIELDS)) if top.has("fabric") else None
    if fabric is None:
        cloth = _read_cloth(cloth_table)
        materials = _read_materials(top, cloth)
        weave = _read_weave(weave_table)
    else:
        cloth, materials, weave = _fabric_cloth(fabric, top=top, cloth_table=cloth_table, weave_table=weave_table,
                                                gravity=float(np.linalg.norm(simulation.gravity)))
    pins = _read_pins(top, cloth.nodes)
    wind = _read_wind(top.table("wind", keys=_WIND_KEYS))
    return Scene(
        simulation=simulation,
        cloth=cloth,
        materials=materials,
        weave=weave,
        pins=pins,
        wind=wind,
        obstacles=_read_obstacles(top),
        self_contact=_read_self_contact(top.table("self_contact", keys=_SELF_CONTACT_KEYS)),
        cameras=_read_cameras(top),
        fabric=fabric,
        source=source,
    )


def _read_simulation(table: TableReader, check_device: bool) -> Simulation:
    device = table.get("device", Simulation.device, expected="a device name")
    try:
        _check_device_name(device, available=check_device)
    except ValueError as exc:
        raise table.error("device", device, str(exc)) from None
    steps = table.integer("steps", minimum=1, maximum=MAX_STEPS)
    save_every = table.integer("save_every", Simulation.save_every, minimum=1)
    if save_every > steps:
        raise table.error("save_every", save_every, f"expected at most simulation.steps = {steps}: no state after "
                          "the initial one would be saved")
    return Simulation(
        dt=table.number("dt", check=_positive),
        steps=steps,
        gravity=table.vector("gravity", Simulation.gravity),
        device=device,
        precision=table.choice("precision", PRECISIONS, Simulation.precision),
        save_every=save_every,
        substeps=table.integer("substeps", Simulation.substeps, minimum=1, maximum=MAX_SUBSTEPS),
        tolerance=table.number("tolerance", Simulation.tolerance,
                               check=partial(require_range, low=0.0, high=0.5, low_open=True)),
        max_iterations=table.integer("max_iterations", Simulation.max_iterations, minimum=1, maximum=100_000),
    )


def _read_cloth(table: TableReader, *, yarn_radius: float | None = None) -> Cloth:
    """``[cloth]``; with ``yarn_radius`` given (a [fabric] scene) the radius and the yarn lists are derived."""
    nodes = table.get("nodes", expected="[W, H] with W, H >= 3")
    if (
        not isinstance(nodes, list)
        or len(nodes) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 3 for n in nodes)
    ):
        raise table.error(
            "nodes", nodes, "expected [W, H]: two integers >= 3 (nodes along the warp and the weft)"
        )
    nodes = (nodes[0], nodes[1])
    spacing = table.number("spacing", check=_positive)
    if yarn_radius is None:
        radius = table.number("yarn_radius", check=partial(require_range, low=0.0, high=spacing, low_open=True))
        yarns = table.names("warp_yarns"), table.names("weft_yarns")
    else:
        radius, yarns = yarn_radius, (FABRIC_MATERIALS[:1], FABRIC_MATERIALS[1:])
    return Cloth(
        nodes=nodes,
        spacing=spacing,
        yarn_radius=radius,
        warp_yarns=yarns[0],
        weft_yarns=yarns[1],
        pattern=_read_pattern(table, nodes),
        pose=table.choice("pose", POSES, Cloth.pose),
        origin=table.vector("origin", Cloth.origin),
    )


def _read_pattern(table: TableReader, nodes: tuple[int, int]):
    value = table.get("pattern", Cloth.pattern, expected="a pattern name or matrix")
    if isinstance(value, str):
        if value not in WEAVE_PATTERNS:
            raise table.error(
                "pattern",
                value,
                f"expected one of {', '.join(WEAVE_PATTERNS)} or an over/under "
                f"matrix{suggestion(value, WEAVE_PATTERNS)}",
            )
        return value
    rows = value if isinstance(value, list) else None
    if (
        not rows
        or not all(isinstance(r, list) and r and len(r) == len(rows[0]) for r in rows)
        or not all(type(v) is int and v in (0, 1) for r in rows for v in r)
    ):
        raise table.error(
            "pattern", value, "expected a pattern name or a rectangular matrix of 0 and 1 (1: weft over warp)"
        )
    matrix = tuple(tuple(r) for r in rows)
    table.checked(weave_flips, pattern_matrix(matrix, nodes), nodes)
    return matrix


def pattern_matrix(matrix, nodes: tuple[int, int]) -> np.ndarray:
    """The over/under matrix for ``weave_flips``: [W, H] and [W-2, H-2] as given, a smaller repeat tiled.

    Args:
        matrix: pattern[i][j] of 0/1, shape [a, b].
        nodes: (W, H).
    Returns:
        int array of shape [W, H] or [W-2, H-2].
    """
    matrix = np.asarray(matrix, dtype=int)
    width, height = nodes
    if matrix.shape in ((width, height), (width - 2, height - 2)):
        return matrix
    i, j = np.meshgrid(np.arange(width - 2), np.arange(height - 2), indexing="ij")
    return matrix[i % matrix.shape[0], j % matrix.shape[1]]


def _read_materials(top: TableReader, cloth: Cloth) -> dict[str, YarnMaterial]:
    tables = top.get("materials", {}, expected="a table of materials")
    if not isinstance(tables, dict):
        raise top.error("materials", tables, "expected tables [materials.NAME]")
    materials = {}
    for name, entry in tables.items():
        path = f"materials.{name}"
        if not _NAME_RE.match(name):
            raise SceneError(
                f"{top.source}: {path}: expected a material name of letters, digits, '_' and '-'"
            )
        materials[name] = _read_material(
            TableReader(entry, source=top.source, path=path, keys=("preset", *_MATERIAL_FIELDS))
        )
    for key in ("warp_yarns", "weft_yarns"):
        for k, name in enumerate(getattr(cloth, key)):
            if name not in materials:
                defined = ", ".join(materials) or "none"
                raise SceneError(
                    f"{top.source}: cloth.{key}[{k}] = {format_value(name)}: unknown material: expected one "
                    f"of the [materials.NAME] tables (defined: {defined}){suggestion(name, materials)}"
                )
    return materials


def _read_material(table: TableReader) -> YarnMaterial:
    preset_name = table.get("preset", None, expected="a preset name")
    preset = None
    if preset_name is not None:
        if preset_name in RENAMED_YARN_PRESETS:
            raise table.error("preset", preset_name, f"renamed \"{RENAMED_YARN_PRESETS[preset_name]}\" (the original "
                              "experiments' yarn: with them a cloth weighs about 4.5 kg/m^2 and hangs like a chain; "
                              "give a real fabric as [fabric] instead)")
        if not isinstance(preset_name, str) or preset_name not in YARN_PRESETS:
            hint = suggestion(preset_name, YARN_PRESETS) if isinstance(preset_name, str) else ""
            raise table.error(
                "preset", preset_name, f"unknown preset: expected one of {', '.join(YARN_PRESETS)}{hint}"
            )
        preset = YARN_PRESETS[preset_name]
    values = {
        name: table.number(name, MISSING if preset is None else getattr(preset, name))
        for name in _MATERIAL_FIELDS
    }
    return table.checked(_named(YarnMaterial, table.path), **values)


def _read_fabric(table: TableReader) -> FabricSpec:
    """``[fabric]``: the spec's keys; pairs (warp, weft) may be one number for both directions."""
    values = {name: (_read_pair(table, name) if name in _FABRIC_PAIRS else table.number(name))
              for name in _FABRIC_FIELDS if table.has(name)}
    for name in ("ends_per_cm", "picks_per_cm", "tex", "yarn_diameter", "yarn_modulus"):
        if name not in values:  # required: the "is missing" error
            table.get(name, expected="a number" if name not in _FABRIC_PAIRS else "a number or [warp, weft]")
    return table.checked(_named(FabricSpec, table.path), **values)


def _read_pair(table: TableReader, name: str) -> tuple[float, float]:
    """A (warp, weft) pair: one number for both, or a list of two."""
    value = table.get(name, expected="a number or [warp, weft]")
    if isinstance(value, list):
        return table.vector(name, length=2)
    number = table.number(name)
    return number, number


def _fabric_cloth(fabric: FabricSpec, *, top: TableReader, cloth_table: TableReader, weave_table: TableReader,
                  gravity: float):
    """The cloth, its two materials ("warp", "weft") and the weave of a [fabric] scene."""
    derived = [(cloth_table, "yarn_radius"), (cloth_table, "warp_yarns"), (cloth_table, "weft_yarns"),
               (top, "materials")]
    derived += [(weave_table, "shear_modulus")] if fabric.shear_rigidity is not None else []
    derived += [(weave_table, "friction")] if fabric.friction is not None else []
    for table, key in derived:
        if table.has(key):
            raise table.error(key, table.data[key], "expected no value: the [fabric] table derives it (remove one "
                              "of the two)")
    spacing = cloth_table.number("spacing", check=_positive)
    try:
        yarns = fabric.yarn_level(spacing=spacing, gravity=gravity)
    except ValueError as exc:
        message = str(exc)
        raise SceneError(f"{top.source}: {'cloth' if message.startswith('spacing') else 'fabric'}.{message}") from None
    cloth = _read_cloth(cloth_table, yarn_radius=yarns.yarn_radius)
    weave = _read_weave(weave_table)
    replaced = {"shear_modulus": yarns.shear_modulus, "friction": fabric.friction}
    # per-crossing values not given: the defaults' per-length values (those of the 1 mm grid they were made for)
    scale = spacing / FABRIC_WEAVE_GRID
    defaults = CrossingProperties()
    replaced |= {name: getattr(defaults, name) * (scale if name != "contact_stiffness" else 1.0 / scale)
                 for name in ("friction_stiffness", "friction_damping", "contact_stiffness")
                 if not weave_table.has(name)}
    weave = dataclasses.replace(weave, **{k: v for k, v in replaced.items() if v is not None})
    return cloth, dict(zip(FABRIC_MATERIALS, (yarns.warp, yarns.weft), strict=True)), weave


def _read_weave(table: TableReader) -> CrossingProperties:
    defaults = CrossingProperties()
    values = {name: table.number(name, getattr(defaults, name)) for name in _WEAVE_FIELDS}
    return table.checked(_named(CrossingProperties, table.path), **values)


def _named(cls, path: str):
    """Wrap a materials dataclass so the ValueError of its own checks names the dotted key."""

    def construct(**values):
        try:
            return cls(**values)
        except ValueError as exc:
            raise ValueError(f"{path}.{exc}") from None

    return construct


def _read_pins(top: TableReader, nodes: tuple[int, int]) -> tuple[PinGroup, ...]:
    entries = top.get("pins", [], expected="[[pins]] tables")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise top.error("pins", entries, "expected an array of tables [[pins]]")
    groups = []
    for k, entry in enumerate(entries):
        table = TableReader(entry, source=top.source, path=f"pins[{k}]", keys=_PIN_KEYS)
        group = PinGroup(
            nodes=_read_pin_nodes(table, nodes),
            stiffness=table.number("stiffness", PinGroup.stiffness, check=_positive),
            path=_read_path(table, "offset"),
        )
        if groups and group.stiffness != groups[0].stiffness:
            raise table.error(
                "stiffness",
                group.stiffness,
                f"expected the same stiffness as pins[0] "
                f"({groups[0].stiffness!r} N/m): one pin stiffness "
                "per cloth is supported",
            )
        groups.append(group)
    return tuple(groups)


def _read_pin_nodes(table: TableReader, nodes: tuple[int, int]):
    width, height = nodes
    value = table.get("nodes", expected='"top_corners", "top_edge" or a list of [i, j]')
    if isinstance(value, str):
        return table.choice("nodes", PIN_SELECTORS)
    if not isinstance(value, list) or not value:
        raise table.error("nodes", value, 'expected "top_corners", "top_edge" or a non-empty list of [i, j]')
    pairs = []
    for k, pair in enumerate(value):
        name = f"nodes[{k}]"
        if not (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in pair)
        ):
            raise table.error(name, pair, "expected a node [i, j] of two integers")
        i, j = pair
        if not (0 <= i < width and 0 <= j < height):
            raise table.error(
                name, pair, f"pin outside the cloth: expected 0 <= i < {width} and 0 <= j < {height}"
            )
        pairs.append((i, j))
    return tuple(pairs)


def _read_wind(table: TableReader) -> Wind:
    return Wind(
        velocity=table.vector("velocity", Wind.velocity),
        density=table.number("density", Wind.density, check=_non_negative),
        drag=table.number("drag", Wind.drag, check=_non_negative),
        path=_read_path(table, "velocity"),
    )


def _read_obstacles(top: TableReader) -> tuple[SceneObstacle, ...]:
    """``[[obstacles]]`` tables: a type, its shape keys, friction, thickness, an optional stiffness and path."""
    entries = top.get("obstacles", [], expected="[[obstacles]] tables")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise top.error("obstacles", entries, "expected an array of tables [[obstacles]]")
    obstacles = []
    for k, entry in enumerate(entries):
        path = f"obstacles[{k}]"
        kind = TableReader(entry, source=top.source, path=path, keys=entry.keys()).choice("type", OBSTACLE_SHAPES)
        keys = OBSTACLE_SHAPES[kind]
        table = TableReader(entry, source=top.source, path=path, keys=_OBSTACLE_CONTACT_KEYS + keys)
        shape = tuple((key, _read_shape_value(table, key)) for key in keys)
        obstacle = SceneObstacle(
            type=kind,
            shape=shape,
            friction=table.number("friction", check=_non_negative),
            thickness=table.number("thickness", check=_positive),
            stiffness=table.number("stiffness", check=_positive) if table.has("stiffness") else None,
            path=_read_path(table, "offset"),
        )
        try:
            obstacle.build(path)
        except ValueError as exc:
            raise SceneError(f"{top.source}: {exc}") from None
        obstacles.append(obstacle)
    return tuple(obstacles)


def _read_cameras(top: TableReader) -> tuple[SceneCamera, ...]:
    """``[[cameras]]`` tables: a unique name, resolution, fps (default 30), start_time (default 0), and either the
    look-at keys (position, look_at, up, fov_y) or the OpenCV keys (K, R, t, optional dist)."""
    entries = top.get("cameras", [], expected="[[cameras]] tables")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise top.error("cameras", entries, "expected an array of tables [[cameras]]")
    cameras = []
    for k, entry in enumerate(entries):
        table = TableReader(entry, source=top.source, path=f"cameras[{k}]",
                            keys=_CAMERA_KEYS + CAMERA_LOOK_AT_KEYS + CAMERA_OPENCV_KEYS)
        name = table.get("name", expected="a name (letters, digits, _ or -)")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise table.error("name", name, "expected a name (letters, digits, _ or -)")
        if any(c.name == name for c in cameras):
            raise table.error("name", name, "expected a name no other camera has")
        look_at = [key for key in CAMERA_LOOK_AT_KEYS if table.has(key)]
        opencv = [key for key in CAMERA_OPENCV_KEYS if table.has(key)]
        if bool(look_at) == bool(opencv):
            given = ", ".join(look_at + opencv) or "neither"
            raise SceneError(f"{top.source}: cameras[{k}] ({name}): has {given}: expected either position, look_at, "
                             "up and fov_y (look-at form) or K, R, t and optionally dist (OpenCV form)")
        if look_at:
            form, values = "look_at", tuple((key, table.vector(key)) for key in CAMERA_LOOK_AT_KEYS[:3]) \
                + (("fov_y", table.number("fov_y")),)
        else:
            form, values = "opencv", (("K", _matrix(table, "K")), ("R", _matrix(table, "R")), ("t", table.vector("t")),
                                      ("dist", _coefficients(table, "dist")))
        resolution = table.get("resolution", expected="[width, height] in pixels")
        camera = SceneCamera(name=name, resolution=tuple(resolution) if isinstance(resolution, list) else resolution,
                             fps=table.number("fps", 30.0, check=_positive),
                             start_time=table.number("start_time", 0.0), form=form, values=values,
                             time_offset=table.number("time_offset", 0.0))
        try:
            camera.build()
        except ValueError as exc:
            raise SceneError(f"{top.source}: cameras[{k}]: {exc}") from None
        cameras.append(camera)
    return tuple(cameras)


def _matrix(table: TableReader, key: str) -> tuple[tuple[float, ...], ...]:
    """A 3 x 3 matrix of finite numbers, as a list of 3 rows."""
    value = table.get(key, expected="a 3 x 3 matrix [[a, b, c], [d, e, f], [g, h, i]]")
    if not isinstance(value, list) or len(value) != 3 or not all(isinstance(row, list) and len(row) == 3
                                                                  for row in value) \
            or not all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
                       for row in value for x in row):
        raise table.error(key, value, "expected a 3 x 3 matrix [[a, b, c], [d, e, f], [g, h, i]] of finite numbers")
    return tuple(tuple(float(x) for x in row) for row in value)


def _coefficients(table: TableReader, key: str) -> tuple[float, ...]:
    """Distortion coefficients: [] (default), [k1, k2, p1, p2] or [k1, k2, p1, p2, k3]."""
    value = table.get(key, [], expected="[k1, k2, p1, p2] or [k1, k2, p1, p2, k3]")
    if not isinstance(value, list) or len(value) not in (0, 4, 5):
        raise table.error(key, value, "expected [k1, k2, p1, p2] or [k1, k2, p1, p2, k3] (finite numbers)")
    return table.vector(key, length=len(value)) if value else ()


def _read_shape_value(table: TableReader, key: str):
    """One shape key of an obstacle: a rotation (default none), a radius or scale (> 0; scale default 1), a mesh
    file (a path, resolved against the scene file's folder) or a point."""
    if key == "rotation":
        return table.vector(key, (0.0, 0.0, 0.0))
    if key in ("radius", "scale"):
        return table.number(key, 1.0 if key == "scale" else MISSING, check=_positive)
    if key == "file":
        value = table.get(key, expected="the path of a mesh file (OBJ, STL, PLY)")
        if not isinstance(value, str) or not value:
            raise table.error(key, value, "expected the path of a mesh file (OBJ, STL, PLY)")
        folder = os.path.dirname(table.source) if os.path.exists(table.source) else ""
        return os.path.normpath(os.path.join(folder, os.path.expanduser(value)))
    return table.vector(key)


def _read_self_contact(table: TableReader) -> SelfContactTable:
    """``[self_contact]``: enabled, friction, stiffness, capacity (each optional)."""
    return SelfContactTable(
        enabled=table.boolean("enabled") if table.has("enabled") else None,
        friction=table.number("friction", check=_non_negative) if table.has("friction") else None,
        stiffness=table.number("stiffness", check=_positive) if table.has("stiffness") else None,
        capacity=table.integer("capacity", minimum=1) if table.has("capacity") else None,
    )


def _read_path(table: TableReader, key: str) -> tuple[Keyframe, ...]:
    """Keyframes ``path = [{time = t, KEY = [a, b, c]}, ...]`` (or ``[[...path]]`` tables): times >= 0, strictly
    increasing, one 3-vector each."""
    entries = table.get("path", [], expected="a list of keyframes")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise table.error("path", entries, f"expected a list of keyframes {{time = t, {key} = [x, y, z]}}")
    frames = []
    for k, entry in enumerate(entries):
        frame = TableReader(entry, source=table.source, path=f"{table.key('path')}[{k}]", keys=("time", key))
        time = frame.number("time", check=_non_negative)
        if frames and time <= frames[-1].time:
            raise frame.error("time", time, f"expected a time after the previous keyframe's {frames[-1].time!r} s")
        frames.append(Keyframe(time=time, value=frame.vector(key)))
    return tuple(frames)
