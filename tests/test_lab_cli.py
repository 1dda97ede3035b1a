"""``warpweave lab``: each test from a scene file, its report and picture, and its user errors."""

import json

from tests.test_cli import DEMO_SCENE, assert_user_error, run_cli
from warpweave.cli import main

#: a light plain weave (0.2 kg/m^2, bending lengths 2 and 3 cm, yarn stiffness 30 N; tests/test_lab.py's fabric)
LIGHT = """
[simulation]
dt = 0.001
steps = 10

[cloth]
nodes = [5, 5]
spacing = 0.00025
yarn_radius = 0.0001
warp_yarns = ["a"]
weft_yarns = ["b"]

[materials.a]
density = 2.5e-5
young_modulus = 9.549296585513721e8
bending_modulus = 0.1248

[materials.b]
density = 2.5e-5
young_modulus = 9.549296585513721e8
bending_modulus = 0.4212
"""


def test_lab_cantilever_reports_both_directions(tmp_path, capsys):
    out = tmp_path / "lab"
    assert main(["lab", str(DEMO_SCENE), "--test", "cantilever", "--segments", "8", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:2] == ["direction", "overhang"]
    report = json.loads((out / "lab.json").read_text())
    assert [r["direction"] for r in report["results"]] == ["warp", "weft"]
    for result in report["results"]:
        # the demo's yarns imply c = 1.306 mm (docs/LAB.md); 8 segments read it within 1%
        assert result["expected_bending_length_m"] == result["overhang_m"] / 2
        assert abs(result["bending_length_error"]) < 0.01
        assert abs(result["chord_angle_deg"] - 41.5) < 0.6
    assert (out / "cantilever.png").stat().st_size > 10_000


def test_lab_tensile_and_shear_write_their_reports(tmp_path, capsys):
    scene = tmp_path / "light.toml"
    scene.write_text(LIGHT)
    for test in ("tensile", "shear"):
        out = tmp_path / test
        assert main(["lab", str(scene), "--test", test, "--segments", "4", "--out", str(out)]) == 0
        report = json.loads((out / "lab.json").read_text())
        assert [r["direction"] for r in report["results"]] == ["warp", "weft"]
        for result in report["results"]:
            assert result["test"] == test and abs(result["error"]) < 0.01
        assert (out / f"{test}.png").stat().st_size > 10_000
    assert "expected" in capsys.readouterr().out


def test_lab_refuses_what_does_not_apply(tmp_path):
    weightless = tmp_path / "weightless.toml"
    weightless.write_text(DEMO_SCENE.read_text().replace("[simulation]", "[simulation]\ngravity = [0.0, 0.0, 0.0]"))
    assert_user_error(run_cli("lab", weightless, "--test", "cantilever", "--out", tmp_path / "o"),
                      "simulation.gravity = [0.0, 0.0, 0.0]: the cantilever test needs gravity")
    assert_user_error(run_cli("lab", weightless, "--test", "drape", "--out", tmp_path / "o"),
                      "simulation.gravity = [0.0, 0.0, 0.0]: the drape test needs gravity")
    assert_user_error(run_cli("lab", DEMO_SCENE, "--test", "drape2"), "argument --test: invalid choice: 'drape2'")
    assert_user_error(run_cli("lab", DEMO_SCENE, "--test", "cantilever", "--overhang", "5"),
                      "argument --overhang: 5 is out of range")


def test_lab_bias_reports_the_regions(tmp_path, capsys):
    scene = tmp_path / "sticky.toml"
    scene.write_text(LIGHT + "\n[weave]\nfriction = 1000.0\nshear_modulus = 3.0e5\nfriction_stiffness = 250.0\n")
    out = tmp_path / "bias"
    assert main(["lab", str(scene), "--test", "bias", "--segments", "6", "--out", str(out)]) == 0
    assert "shear A" in capsys.readouterr().out
    (result,) = json.loads((out / "lab.json").read_text())["results"]
    assert result["test"] == "bias" and result["cells_across"] == 6
    assert result["region_shear_over_pin_jointed"]["A"] > 0.8 > 0.4 > result["region_shear_over_pin_jointed"]["C"]
    assert abs(result["error"]) < 0.1
    assert (out / "bias.png").stat().st_size > 10_000


def test_lab_bias_has_no_direction(tmp_path):
    scene = tmp_path / "light.toml"
    scene.write_text(LIGHT)
    assert_user_error(run_cli("lab", scene, "--test", "bias", "--direction", "warp", "--out", tmp_path / "o"),
                      "the bias specimen's yarns run at 45 degrees both ways")


def test_lab_drape_reports_the_coefficient_and_folds(tmp_path, capsys):
    scene = tmp_path / "light.toml"
    scene.write_text(LIGHT)
    out = tmp_path / "drape"
    assert main(["lab", str(scene), "--test", "drape", "--segments", "8", "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[0].split()[:2] == ["drape", "coefficient"]
    (result,) = json.loads((out / "lab.json").read_text())["results"]
    assert result["test"] == "drape" and result["cells_across"] == 8
    # bending lengths 2 and 3 cm: the specimen hangs in folds (tests/test_lab_drape.py checks the physics)
    assert 0.1 < result["drape_coefficient"] < 0.7 and result["folds"] >= 3
    assert result["settle_residual"] <= 1e-5
    assert (out / "drape.png").stat().st_size > 10_000


def test_lab_drape_refuses_what_does_not_apply(tmp_path):
    scene = tmp_path / "light.toml"
    scene.write_text(LIGHT)
    for options, message in (
            (["--direction", "warp"], "the drape specimen is a disc with both yarn families"),
            (["--segments", "9"], "argument --segments: 9 is out of range: expected an even number of at least 8"),
            (["--support-diameter", "0.3"], "argument --support-diameter: 0.3 m is out of range"),
            (["--specimen-diameter", "-1"], "argument --specimen-diameter: -1 is out of range"),
            (["--seed", "-3"], "argument --seed: -3 is out of range")):
        assert_user_error(run_cli("lab", scene, "--test", "drape", *options, "--out", tmp_path / "o"), message)
