"""``[fabric]`` scenes: a fabric given in textile terms becomes yarn-level parameters that keep every fabric-level
quantity at its specified value whatever the model's grid spacing; bad specs are refused with the key named."""

import math
import tomllib

import numpy as np
import pytest

import lab
import scenes
from materials import FabricSpec, fabric_measures
from tests.test_cli import assert_user_error, run_cli

GRAVITY = 9.81

#: a light shirting-like fabric (illustrative values of the right magnitude)
FABRIC = """
[simulation]
dt = 0.001
steps = 10
gravity = [0.0, 0.0, -9.81]

[cloth]
nodes = [5, 5]
spacing = {spacing}

[fabric]
ends_per_cm = 40
picks_per_cm = 30
tex = [15, 20]
crimp = [0.08, 0.05]
yarn_diameter = 0.0002
yarn_modulus = [3.0, 2.5]
{bending}
shear_rigidity = 50.0
friction = 0.3
"""
BENDING_LENGTH = "bending_length = [0.02, 0.025]"


def fabric_scene(*, spacing=0.01, bending=BENDING_LENGTH, extra="") -> scenes.Scene:
    return scenes.parse_scene(tomllib.loads(FABRIC.format(spacing=spacing, bending=bending) + extra),
                              source="fabric.toml")


def measures(scene: scenes.Scene):
    cloth = scene.cloth
    return fabric_measures(spacing=cloth.spacing, yarn_radius=cloth.yarn_radius,
                           warp=[scene.materials[n] for n in scene.warp_material_names()],
                           weft=[scene.materials[n] for n in scene.weft_material_names()],
                           shear_modulus=scene.weave.shear_modulus, gravity=GRAVITY)


@pytest.mark.parametrize("spacing", [2.5e-4, 1e-3, 0.01, 0.05])
def test_fabric_level_quantities_are_the_specified_ones_at_any_spacing(spacing):
    fabric = measures(fabric_scene(spacing=spacing))
    # the mass of the real yarns: ends tex (1 + crimp) + picks tex (1 + crimp), 1 tex = 1e-6 kg/m
    areal = 4000 * 15e-6 * 1.08 + 3000 * 20e-6 * 1.05
    assert fabric.areal_density == pytest.approx(areal, rel=1e-12)
    assert fabric.bending_length == pytest.approx((0.02, 0.025), rel=1e-12)
    # straight yarns: every thread of a width carries its E tex
    assert fabric.tensile_stiffness == pytest.approx((4000 * 3.0 * 15, 3000 * 2.5 * 20), rel=1e-12)
    assert fabric.shear_rigidity == pytest.approx(50.0, rel=1e-12)


def test_the_three_ways_of_giving_bending_agree():
    by_length = measures(fabric_scene())
    rigidity = by_length.bending_rigidity
    by_rigidity = measures(fabric_scene(bending=f"bending_rigidity = [{rigidity[0]!r}, {rigidity[1]!r}]"))
    per_yarn = (rigidity[0] / 4000, rigidity[1] / 3000)  # G = ends per m * EI
    by_yarn = measures(fabric_scene(bending=f"yarn_flexural_rigidity = [{per_yarn[0]!r}, {per_yarn[1]!r}]"))
    for other in (by_rigidity, by_yarn):
        assert other.bending_rigidity == pytest.approx(rigidity, rel=1e-12)
    # the bending length is G = m g c^3 with the fabric's own areal density
    assert rigidity[0] == pytest.approx(by_length.areal_density * GRAVITY * 0.02**3, rel=1e-12)


def test_scene_keys_that_the_fabric_derives():
    scene = fabric_scene()
    assert scene.cloth.yarn_radius == 1e-4
    assert scene.cloth.warp_yarns == ("warp",) and scene.cloth.weft_yarns == ("weft",)
    assert scene.weave.friction == 0.3
    # per-crossing weave values keep the defaults' values per length of yarn (made for a 1 mm grid): 10x on 1 cm
    assert scene.weave.friction_stiffness == pytest.approx(1e4, rel=1e-12)
    assert scene.weave.friction_damping == pytest.approx(1e4, rel=1e-12)
    assert scene.weave.contact_stiffness == pytest.approx(0.1, rel=1e-12)
    # a scene without friction or shear rigidity in [fabric] keeps those of [weave]
    plain = FABRIC.format(spacing=0.01, bending=BENDING_LENGTH).replace("shear_rigidity = 50.0\n", "").replace(
        "friction = 0.3\n", "")
    kept = scenes.parse_scene(tomllib.loads(plain + "\n[weave]\nfriction = 0.2\nshear_modulus = 700.0\n"
                                                    "friction_stiffness = 50.0\n"))
    assert (kept.weave.friction, kept.weave.shear_modulus, kept.weave.friction_stiffness) == (0.2, 700.0, 50.0)


def test_written_back_scene_is_the_yarn_level_scene():
    scene = fabric_scene()
    again = scenes.parse_scene(scenes.scene_to_dict(scene))
    assert again == scene and scene.fabric is not None and again.fabric is None
    # yarn-level parameters of a [fabric] scene are fittable like any others
    assert "materials.warp.bending_modulus" in scenes.fittable_names(scene)


def test_the_lab_measures_the_specified_bending_length():
    fabric = lab.strip_fabric(fabric_scene(), "weft")
    result = lab.cantilever_test(fabric, direction="weft", segments=10)
    assert result.expected_bending_length == pytest.approx(0.025, rel=1e-12)
    assert result.bending_length == pytest.approx(0.025, rel=0.01)  # 10 segments: -0.4% (docs/LAB.md)


@pytest.mark.parametrize("change, message", [
    (("ends_per_cm = 40", "ends_per_cm = 0"), "fabric.ends_per_cm = 0.0 is out of range: expected a value > 0"),
    (("yarn_diameter = 0.0002", "yarn_diameter = 0.0003"),
     "fabric.yarn_diameter = 0.0003 is larger than the thread spacing 1 cm / ends_per_cm = 0.00025 m"),
    (("crimp = [0.08, 0.05]", "crimp = 1.2"), "fabric.crimp (warp) = 1.2 is out of range"),
    (("tex = [15, 20]", "tex = [15, 20, 25]"), "fabric.tex = [15, 20, 25]: expected a list of 2 numbers"),
    (("tex = [15, 20]\n", ""), "fabric.tex is missing"),
    (("shear_rigidity", "bending_rigidity = 1e-5\nshear_rigidity"), "fabric.bending_rigidity and bending_length: "
                                                                    "expected exactly one of"),
    ((BENDING_LENGTH, ""), "fabric.bending_rigidity is missing: expected exactly one of"),
    (("spacing = 0.01", "spacing = 0.01\nyarn_radius = 0.001"), "cloth.yarn_radius = 0.001: expected no value: the "
                                                                "[fabric] table derives it"),
    (("spacing = 0.01", "spacing = 0.00005"), "cloth.spacing = 5e-05 is smaller than the yarn radius"),
    (("gravity = [0.0, 0.0, -9.81]", "gravity = [0.0, 0.0, 0.0]"), "fabric.bending_length: a bending length means a "
                                                                    "rigidity only under gravity"),
    (("friction = 0.3", "friction = 0.3\n[weave]\nfriction = 0.2"), "weave.friction = 0.2: expected no value"),
    (("friction = 0.3", "friction = 0.3\n[materials.a]\ndensity = 1.0"), "materials = "),
])
def test_inconsistent_fabric_specs_are_refused(tmp_path, change, message):
    text = FABRIC.format(spacing=0.01, bending=BENDING_LENGTH).replace(*change)
    path = tmp_path / "fabric.toml"
    path.write_text(text)
    with pytest.raises(scenes.SceneError) as caught:
        scenes.load_scene(path)
    assert str(caught.value).startswith(f"{path}: {message}")


def test_cli_refuses_an_inconsistent_fabric_with_status_2(tmp_path):
    path = tmp_path / "fabric.toml"
    text = FABRIC.format(spacing=0.01, bending=BENDING_LENGTH)
    path.write_text(text.replace("picks_per_cm = 30", "picks_per_cm = 0"))
    assert_user_error(run_cli("info", str(path)), "fabric.picks_per_cm = 0.0 is out of range: expected a value > 0")


def test_spec_alone_checks_its_values():
    spec = FabricSpec(ends_per_cm=40, picks_per_cm=30, tex=(15, 20), yarn_diameter=2e-4, yarn_modulus=(3, 3),
                      bending_rigidity=(1e-5, 2e-5))
    yarns = spec.yarn_level(spacing=1e-3, gravity=0.0)
    assert yarns.threads == pytest.approx((4.0, 3.0))
    assert yarns.warp.bending_modulus * math.pi * 1e-8 == pytest.approx(1e-5 * 1e-3, rel=1e-12)  # kb = G L
    assert yarns.shear_modulus is None
    assert np.isclose(spec.areal_density, 4000 * 15e-6 + 3000 * 20e-6)
