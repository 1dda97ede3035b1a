"""``warpweave params SCENE`` lists every parameter fit and gradcheck accept, with value, unit and engine array."""

import json
from pathlib import Path

import numpy as np

import scenes
import simulator
from learning.cloth import SceneParameters, fittable_names
from warpweave.cli import main

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "scenes" / "examples" / "hanging_wind.toml"


def test_params_lists_every_fittable_parameter_with_value_and_unit(capsys):
    assert main(["params", str(REFERENCE), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    scene = scenes.load_scene(REFERENCE, check_device=False)
    assert [row["name"] for row in rows] == list(fittable_names(scene))
    by_name = {row["name"]: row for row in rows}
    assert by_name["materials.cotton.young_modulus"] == {"name": "materials.cotton.young_modulus", "value": 5e5,
                                                         "unit": "Pa", "array": "segment_stretch_stiffness"}
    assert by_name["weave.friction_damping"]["unit"] == "N*s/m" and by_name["wind.velocity.1"]["value"] == 5.0
    assert by_name["pins[0].stiffness"]["value"] == 1e4 and by_name["simulation.gravity.2"]["value"] == -9.8
    assert all(row["unit"] for row in rows)


def test_params_table_is_what_a_user_pastes_into_fit(capsys):
    assert main(["params", str(REFERENCE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["parameter", "value", "unit", "engine", "array"]
    assert lines[1].split() == ["materials.cotton.density", "0.002", "kg/m", "segment_density"]


def test_every_listed_parameter_sets_its_engine_array_and_nothing_else():
    """Each listed name changes only the array params names, to its value (times pi R^2 for moduli)."""
    scene = scenes.with_parameters(scenes.load_scene(REFERENCE, check_device=False), {"cloth.nodes": [5, 5]})
    names = fittable_names(scene)
    model = simulator.build_model(scenes.build_spec(scene), device="cpu")
    parameters = SceneParameters(scene, names, model)
    base = {array: model.parameter(array) for array in parameters.arrays}
    values = parameters.values()
    area = np.pi * scene.cloth.yarn_radius**2
    for k, name in enumerate(names):
        where = scenes.fittable_parameter(name)
        changed = values.copy()
        changed[k] = 1.5 * values[k] + 1.0
        parameters.apply(model, changed[None], base)
        for array in parameters.arrays:
            moved = model.parameter(array) != base[array]
            assert moved.any() == (array == where.array), (name, array)
            if array == where.array:
                factor = area if where.cross_section else 1.0
                np.testing.assert_allclose(model.parameter(array)[moved], factor * changed[k], rtol=1e-15)
    parameters.apply(model, values[None], base)
