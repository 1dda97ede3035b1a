"""Dotted parameter names, scene_to_toml and build_spec: a scene's values survive every round trip."""

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

import scenes
from scenes import SceneError

DEMO_SCENE = Path(scenes.__file__).parent / "examples" / "demo.toml"
REFERENCE_SCENE = Path(__file__).parent / "data" / "reference" / "plain_10x10" / "scene.toml"
EXAMPLES = sorted((Path(scenes.__file__).parent / "examples").glob("*.toml"))


@pytest.fixture(scope="module")
def scene():
    return scenes.load_scene(DEMO_SCENE)


def test_get_parameter_reads_the_value_at_the_files_dotted_path(scene):
    assert scenes.get_parameter(scene, "materials.cotton.density") == 0.002
    assert scenes.get_parameter(scene, "weave.friction") == 0.5
    assert scenes.get_parameter(scene, "simulation.steps") == 300
    assert scenes.get_parameter(scene, "wind.velocity") == [0.0, 5.0, 0.0]
    assert scenes.get_parameter(scene, "wind.velocity.1") == 5.0
    assert (
        scenes.get_parameter(scene, "pins[0].stiffness")
        == scenes.get_parameter(scene, "pins.0.stiffness")
        == 1e4
    )


def test_every_numeric_parameter_round_trips_through_with_parameters(scene):
    numeric = [n for n in scenes.parameter_names(scene) if type(scenes.get_parameter(scene, n)) is float]
    assert {
        "materials.polyester.young_modulus",
        "weave.friction_damping",
        "pins[0].stiffness",
        "wind.drag",
    } <= set(numeric)
    for name in numeric:
        value = scenes.get_parameter(scene, name)
        changed = scenes.with_parameters(scene, {name: value * 0.75})
        assert scenes.get_parameter(changed, name) == value * 0.75, name
        assert scenes.get_parameter(scene, name) == value  # the original scene is untouched


def test_with_parameters_accepts_numpy_values_and_several_paths_at_once(scene):
    changed = scenes.with_parameters(
        scene,
        {
            "materials.cotton.young_modulus": np.float64(4.2e5),
            "wind.velocity": np.array([1.0, 2.0, 3.0]),
            "cloth.nodes": (12, 8),
        },
    )
    assert changed.materials["cotton"].young_modulus == 4.2e5
    assert changed.wind.velocity == (1.0, 2.0, 3.0)
    assert changed.cloth.nodes == (12, 8) and changed.simulation == scene.simulation
    assert changed.source == scene.source


def test_with_parameters_validates_like_the_file(scene):
    with pytest.raises(SceneError, match=r"demo\.toml: weave\.friction = -1\.0 is out of range"):
        scenes.with_parameters(scene, {"weave.friction": -1.0})
    if scenes.cuda_device_count() <= 7:
        with pytest.raises(SceneError, match=r'simulation\.device = "cuda:7": expected a device that exists'):
            scenes.with_parameters(scene, {"simulation.device": "cuda:7"})


def test_unknown_parameter_names_suggest_the_closest(scene):
    with pytest.raises(
        SceneError, match=r"weave\.frction: unknown parameter .*did you mean 'weave\.friction'\?"
    ):
        scenes.get_parameter(scene, "weave.frction")
    with pytest.raises(SceneError, match=r"materials\.yarn3\.density: unknown parameter"):
        scenes.with_parameters(scene, {"materials.yarn3.density": 1.0})
    with pytest.raises(SceneError, match=r"pins\[4\]\.stiffness: unknown parameter"):
        scenes.get_parameter(scene, "pins[4].stiffness")


@pytest.mark.parametrize(
    "path",
    [*EXAMPLES, *([REFERENCE_SCENE] if REFERENCE_SCENE.exists() else [])],
    ids=lambda p: p.stem if p.stem != "scene" else "reference",
)
def test_scene_to_toml_loads_back_to_an_equal_scene(tmp_path, path):
    scene = scenes.load_scene(path, check_device=False)
    text = scenes.scene_to_toml(scene, header="written by a test\nsecond line")
    assert text.startswith("# written by a test\n# second line\n")
    written = tmp_path / "scene.toml"
    written.write_text(text)
    assert scenes.load_scene(written, check_device=False) == scene


def test_scene_to_toml_writes_matrices_explicit_pins_and_odd_strings(tmp_path, scene):
    fitted = scenes.with_parameters(
        scene,
        {
            "cloth.pattern": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
            "pins[0].nodes": [[0, 0], [4, 0], [9, 9]],
            "materials.cotton.bending_modulus": 1.0 / 3.0,
            "simulation.gravity": [0.0, -1e-20, -9.81],
        },
    )
    text = scenes.scene_to_toml(fitted)
    assert scenes.parse_scene(tomllib.loads(text)) == fitted
    assert (
        scenes.get_parameter(scenes.parse_scene(tomllib.loads(text)), "materials.cotton.bending_modulus")
        == 1 / 3
    )


def test_scene_json_is_the_same_resolved_scene(scene):
    assert scenes.parse_scene(json.loads(scenes.scene_to_json(scene))) == scene


def test_build_spec_carries_every_value_into_the_cloth_spec(scene):
    spec = scenes.build_spec(scene)
    assert spec.nodes == (10, 10) and spec.spacing == 1e-3 and spec.yarn_radius == 5e-4
    assert [m.density for m in spec.warp_materials[:3]] == [0.002, 0.0025, 0.002]
    assert spec.crossing == scene.weave
    assert spec.pins == ((0, 0), (9, 0)) and spec.pin_stiffness == 1e4
    assert spec.gravity == (0.0, 0.0, -9.8) and spec.origin == (0.0, 0.0, 5.0)
    assert spec.wind_velocity == (0.0, 5.0, 0.0) and spec.wind_density == 2.0 and spec.wind_drag == 0.5
    i, j = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    interior = (i > 0) & (i < 9) & (j > 0) & (j < 9)
    np.testing.assert_array_equal(spec.flips, interior & ((i + j) % 2 == 1))


def test_rest_state_places_nodes_on_the_grid_with_arc_length_coordinates(scene):
    x, u = scenes.rest_state(scene)
    assert x.shape == (10, 10, 3) and u.shape == (10, 10, 2)
    np.testing.assert_allclose(x[3, 4], [0.003, 0.0, 5.0 - 0.004])
    np.testing.assert_allclose(u[3, 4], [0.003, 0.004])


def test_equal_scenes_are_equal_and_hash_alike(scene):
    same = scenes.with_parameters(scene, {"weave.friction": 0.5})
    assert same == scene and hash(same) == hash(scene) and len({same, scene}) == 1
    assert scenes.with_parameters(scene, {"weave.friction": 0.4}) != scene
