"""Scene files: valid files load into the documented values, and every kind of bad input gives one
clear line naming the file, the key, the value and what was expected."""

from pathlib import Path

import numpy as np
import pytest

import scenes
from materials import YARN_PRESETS
from scenes import SceneError

REFERENCE = Path(__file__).parent / "data" / "reference"
REFERENCE_SCENES = sorted(REFERENCE.glob("*/scene.toml"))
EXAMPLES = sorted((Path(scenes.__file__).parent / "examples").glob("*.toml"))

VALID = """\
[simulation]
dt = 0.001
steps = 10
device = "cpu"

[cloth]
nodes = [6, 5]
spacing = 0.001
yarn_radius = 0.0005
pattern = "plain"
warp_yarns = ["yarn1", "yarn2"]
weft_yarns = ["yarn1"]

[materials.yarn1]
density = 0.002
young_modulus = 500000.0
bending_modulus = 0.00014

[materials.yarn2]
preset = "gong2022_polyester"

[[pins]]
nodes = "top_corners"
stiffness = 10000.0
"""


def write_scene(folder: Path, text: str, name: str = "scene.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def load_text(folder: Path, text: str, **options) -> scenes.Scene:
    return scenes.load_scene(write_scene(folder, text), **options)


@pytest.mark.parametrize("path", REFERENCE_SCENES, ids=lambda p: p.parent.name)
def test_reference_scene_files_load_unchanged_with_their_values(path):
    scene = scenes.load_scene(path)
    width = int(path.parent.name.split("x")[-1])
    assert scene.cloth.nodes == (width, width)
    assert scene.simulation.dt == 0.001 and scene.simulation.device == "cpu"
    assert scene.materials["yarn1"].young_modulus == 5.0e5
    assert scene.materials["yarn2"].density == 0.0025
    assert scene.weave.friction == 0.5 and scene.weave.shear_modulus == 1000.0
    assert scene.pinned_nodes() == ((0, 0), (width - 1, 0)) and scene.pin_stiffness == 1.0e4
    assert scene.wind.velocity == (0.0, 5.0, 0.0) and scene.wind.density == 2.0 and scene.wind.drag == 0.5
    assert scene.cloth.origin == (0.0, 0.0, 5.0) and scene.cloth.pose == "upright"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_scene_files_load_and_build(path):
    scene = scenes.load_scene(path, check_device=False)
    spec = scenes.build_spec(scene)
    assert spec.nodes == scene.cloth.nodes
    assert len(spec.pins) >= 2 or spec.obstacles  # something holds the cloth


def test_example_scenes_cover_the_documented_set():
    assert {p.stem for p in EXAMPLES} >= {
        "hanging_wind",
        "twill_wind",
        "satin_wind",
        "slipping_wind",
        "large_flat_sheet",
        "demo",
        "incline",
        "sphere_drop",
        "table_drape",
        "fold",
        "pullout",
        "light_fabric",
    }
    hanging = scenes.load_scene(EXAMPLES[0].parent / "hanging_wind.toml", check_device=False)
    assert hanging.cloth.nodes == (17, 17) and hanging.simulation.steps == 500
    assert hanging.materials["cotton"] == YARN_PRESETS["gong2022_cotton"]
    demo = scenes.load_scene(EXAMPLES[0].parent / "demo.toml")
    assert demo.cloth.nodes[0] * demo.cloth.nodes[1] <= 100 and demo.simulation.steps <= 300


def test_presets_fill_fields_and_explicit_fields_override_them(tmp_path):
    text = VALID.replace('preset = "gong2022_polyester"', 'preset = "gong2022_polyester"\ndensity = 0.003')
    scene = load_text(tmp_path, text)
    assert scene.materials["yarn2"].density == 0.003
    assert scene.materials["yarn2"].young_modulus == YARN_PRESETS["gong2022_polyester"].young_modulus


def test_the_original_experiments_presets_name_where_they_come_from(tmp_path):
    # the old names suggested real fabrics; they name the new ones and what these yarns describe
    text = VALID.replace('preset = "gong2022_polyester"', 'preset = "polyester"')
    with pytest.raises(SceneError, match=r'materials.yarn2.preset = "polyester": renamed "gong2022_polyester" '
                                         r"\(the original experiments' yarn"):
        load_text(tmp_path, text)


def test_yarn_names_repeat_cyclically_over_rows_and_columns(tmp_path):
    scene = load_text(tmp_path, VALID)
    spec = scenes.build_spec(scene)
    assert scene.warp_material_names() == ("yarn1", "yarn2", "yarn1", "yarn2", "yarn1")  # H = 5 rows
    assert scene.weft_material_names() == ("yarn1",) * 6  # W = 6 columns
    assert spec.warp_materials[1] == YARN_PRESETS["gong2022_polyester"]
    assert len(spec.weft_materials) == 6


def test_defaults_fill_the_optional_tables(tmp_path):
    scene = load_text(tmp_path, VALID)
    assert (
        scene.weave
        == scenes.parse_scene(  # [weave] defaults are materials.CrossingProperties()
            scenes.scene_to_dict(scene)
        ).weave
    )
    assert scene.wind == scenes.Wind() and scene.simulation.gravity == (0.0, 0.0, -9.8)
    assert scene.simulation.save_every == 1 and scene.simulation.frames == 11


def test_a_small_pattern_matrix_is_tiled_over_the_crossings(tmp_path):
    scene = load_text(tmp_path, VALID.replace('pattern = "plain"', "pattern = [[0, 1], [1, 0]]"))
    plain = scenes.build_spec(load_text(tmp_path, VALID)).flips
    np.testing.assert_array_equal(scenes.build_spec(scene).flips, plain)


def test_pins_from_several_tables_are_merged(tmp_path):
    text = VALID + "\n[[pins]]\nnodes = [[2, 0], [0, 0]]\nstiffness = 10000.0\n"
    assert load_text(tmp_path, text).pinned_nodes() == ((0, 0), (5, 0), (2, 0))
    edge = load_text(tmp_path, VALID.replace('nodes = "top_corners"', 'nodes = "top_edge"'))
    assert edge.pinned_nodes() == tuple((i, 0) for i in range(6))


# (test id, replace this, with this, fragments the one-line message must contain)
BAD_VALUES = [
    ("negative", "spacing = 0.001", "spacing = -0.001", ["cloth.spacing = -0.001", "> 0"]),
    ("zero", "dt = 0.001", "dt = 0.0", ["simulation.dt = 0.0", "> 0"]),
    ("nan", "density = 0.002", "density = nan", ["materials.yarn1.density = nan", "finite"]),
    ("wrong-type", "spacing = 0.001", 'spacing = "1mm"', ['cloth.spacing = "1mm"', "expected a number"]),
    ("bool-number", "dt = 0.001", "dt = true", ["simulation.dt = true", "expected a number"]),
    ("float-steps", "steps = 10", "steps = 2.5", ["simulation.steps = 2.5", "expected an integer from 1 to"]),
    ("absurd-steps", "steps = 10", "steps = 1_000_000_000_000", ["simulation.steps = 1000000000000",
                                                                  "expected an integer from 1 to 100000000"]),
    ("save-every", "steps = 10", "steps = 10\nsave_every = 11", ["simulation.save_every = 11",
                                                                 "expected at most simulation.steps = 10"]),
    ("substeps", "steps = 10", "steps = 10\nsubsteps = 0", ["simulation.substeps = 0", "expected an integer from 1"]),
    ("radius", "yarn_radius = 0.0005", "yarn_radius = 0.002", ["cloth.yarn_radius = 0.002", "0.001"]),
    ("nodes", "nodes = [6, 5]", "nodes = [2, 5]", ["cloth.nodes = [2, 5]", "integers >= 3"]),
    (
        "unknown-key",
        "spacing = 0.001",
        "spcing = 0.001",
        ["cloth.spcing", "unknown key", "did you mean 'spacing'?"],
    ),
    (
        "unknown-table",
        "[simulation]",
        "[simulaton]",
        ["simulaton", "unknown key", "did you mean 'simulation'?"],
    ),
    ("missing-key", "spacing = 0.001\n", "", ["cloth.spacing is missing", "a number"]),
    (
        "material",
        'warp_yarns = ["yarn1", "yarn2"]',
        'warp_yarns = ["yarn1", "yarn3"]',
        ['cloth.warp_yarns[1] = "yarn3"', "unknown material", "yarn1, yarn2"],
    ),
    ("pattern", 'pattern = "plain"', 'pattern = "twil"', ['cloth.pattern = "twil"', "did you mean 'twill'?"]),
    ("pattern-matrix", 'pattern = "plain"', "pattern = [[0, 2]]", ["cloth.pattern", "0 and 1"]),
    (
        "preset",
        'preset = "gong2022_polyester"',
        'preset = "gong2022_polyster"',
        ['materials.yarn2.preset = "gong2022_polyster"', "unknown preset", "did you mean 'gong2022_polyester'?"],
    ),
    (
        "material-missing-field",
        "bending_modulus = 0.00014\n",
        "",
        ["materials.yarn1.bending_modulus is missing"],
    ),
    (
        "material-range",
        "young_modulus = 500000.0",
        "young_modulus = -5.0",
        ["materials.yarn1.young_modulus = -5.0", "> 0"],
    ),
    (
        "pin-outside",
        'nodes = "top_corners"',
        "nodes = [[0, 0], [6, 0]]",
        ["pins[0].nodes[1] = [6, 0]", "outside the cloth", "0 <= i < 6"],
    ),
    ("pin-selector", 'nodes = "top_corners"', 'nodes = "top_corner"', ["did you mean 'top_corners'?"]),
    (
        "precision",
        'device = "cpu"',
        'device = "cpu"\nprecision = "float32"',
        ['simulation.precision = "float32"', '"float64"'],
    ),
    ("device-unknown", 'device = "cpu"', 'device = "gpu"', ['simulation.device = "gpu"', '"cuda:N"']),
    (
        "vector",
        "[[pins]]",
        "[wind]\nvelocity = [0.0, 5.0]\n\n[[pins]]",
        ["wind.velocity = [0.0, 5.0]", "a list of 3 numbers"],
    ),
    ("wind-density", "[[pins]]", "[wind]\ndensity = -2.0\n\n[[pins]]", ["wind.density = -2.0", "[0.0, inf]"]),
    ("weave", "[[pins]]", "[weave]\nfriction = -0.5\n\n[[pins]]", ["weave.friction = -0.5", "out of range"]),
    ("weave-key", "[[pins]]", "[weave]\nfriction_coef = 0.5\n\n[[pins]]", ["did you mean 'friction'?"]),
]


@pytest.mark.parametrize(
    ("old", "new", "fragments"), [c[1:] for c in BAD_VALUES], ids=[c[0] for c in BAD_VALUES]
)
def test_bad_value_gives_one_line_naming_file_key_value_and_expectation(tmp_path, old, new, fragments):
    assert old in VALID
    path = write_scene(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(SceneError) as info:
        scenes.load_scene(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_different_pin_stiffnesses_are_rejected(tmp_path):
    text = VALID + "\n[[pins]]\nnodes = [[2, 0]]\nstiffness = 500.0\n"
    with pytest.raises(
        SceneError, match=r"pins\[1\]\.stiffness = 500.0: expected the same stiffness as pins\[0\]"
    ):
        load_text(tmp_path, text)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(SceneError, match=r"nowhere\.toml: no such scene file"):
        scenes.load_scene(tmp_path / "nowhere.toml")


def test_invalid_toml_reports_the_line(tmp_path):
    path = write_scene(tmp_path, VALID.replace("steps = 10", "steps = = 10"))
    with pytest.raises(SceneError) as info:
        scenes.load_scene(path)
    assert str(info.value).startswith(f"{path}: invalid TOML:")
    assert "line 3" in str(info.value)


def test_cuda_device_that_does_not_exist_is_rejected(tmp_path):
    count = scenes.cuda_device_count()
    for device in ("cuda:7",) + (("cuda",) if count == 0 else ()):
        if device == "cuda:7" and count > 7:
            continue
        path = write_scene(tmp_path, VALID.replace('device = "cpu"', f'device = "{device}"'))
        with pytest.raises(
            SceneError, match=rf'simulation\.device = "{device}": expected a device that exists'
        ):
            scenes.load_scene(path)
        assert scenes.load_scene(path, check_device=False).simulation.device == device


def test_auto_device_resolves_to_something_warp_has():
    assert scenes.resolve_device("auto") == ("cuda:0" if scenes.cuda_device_count() else "cpu")
    assert scenes.resolve_device("cpu") == "cpu"
