"""Calibration from lab values (``warpweave fit SCENE --lab``): the measurements file, the objective's residuals, and
(slow) recovery of a fabric's yarn bending moduli and density from its bending lengths and areal density."""

import json

import numpy as np
import pytest

import lab
import scenes
from learning import cloth
from tests.test_cli import assert_user_error, run_cli
from tests.test_lab_cli import LIGHT
from warpweave.cli import main

#: what a lab would report for LIGHT's fabric: 0.2 kg/m^2, bending lengths 2 cm (warp) and 3 cm (weft)
MEASURED = """
areal_density = 0.2
uncertainty = 0.01

[bending_length]
warp = 0.02
weft = 0.03
"""
PARAMS = ["materials.a.bending_modulus", "materials.b.bending_modulus", "materials.a.density"]


@pytest.fixture
def files(tmp_path):
    scene, measured = tmp_path / "light.toml", tmp_path / "measured.toml"
    scene.write_text(LIGHT)
    measured.write_text(MEASURED)
    return scene, measured


def test_measurements_are_read_and_checked(tmp_path, files):
    _, measured = files
    values = lab.load_measurements(measured)
    assert values.items() == [("areal_density", 0.2), ("bending_length.warp", 0.02), ("bending_length.weft", 0.03)]
    bad = tmp_path / "bad.toml"
    for text, message in (("areal_density = -1", "areal_density = -1 is out of range: expected a number > 0"),
                          ("[bending_length]\nwarpp = 0.02", "bending_length.warpp: unknown key (expected warp or "
                                                             "weft)"),
                          ("density = 0.2", "density: unknown key"),
                          ("uncertainty = 0.1", "no measurements")):
        bad.write_text(text)
        with pytest.raises(lab.MeasurementsError, match=message.replace("(", r"\(").replace(")", r"\)")):
            lab.load_measurements(bad)


def test_fit_lab_user_errors_are_one_line_and_status_2(tmp_path, files):
    scene, measured = files
    assert_user_error(run_cli("fit", scene, "--lab", tmp_path / "none.toml", "--params", PARAMS[0],
                              "--out", tmp_path / "o"), "no such measurements file")
    assert_user_error(run_cli("fit", scene, "--params", PARAMS[0]), "give one of --observed")
    assert_user_error(run_cli("fit", scene, "--lab", measured, "--params", "materials.c.density"),
                      "materials.c.density: unknown parameter")


def test_residuals_at_the_true_values_are_the_virtual_tests_reading_error(files):
    scene_path, measured = files
    scene = scenes.load_scene(scene_path)
    space = cloth.scene_parameter_space(scene, PARAMS)
    objective = lab.LabObjective(scene, lab.load_measurements(measured), space, segments=10)
    residuals = objective.residuals(space.initial_theta())
    # in units of the 1% uncertainty: the areal density exactly, the bending lengths 0.42% low at 10 segments
    assert residuals[0] == pytest.approx(0.0, abs=1e-12)
    assert residuals[1:] == pytest.approx([-0.42, -0.42], abs=0.02)


@pytest.mark.slow
def test_fit_lab_recovers_bending_moduli_and_density(tmp_path, files):
    scene_path, measured = files
    scene = scenes.load_scene(scene_path)
    truth = np.array([scenes.get_parameter(scene, name) for name in PARAMS])
    start = truth * np.array([1.3, 0.7, 1.3])
    out = tmp_path / "fit"
    assert main(["fit", str(scene_path), "--lab", str(measured), "--params", ",".join(PARAMS), "--segments", "20",
                 *[f"--initial={n}={float(v)!r}" for n, v in zip(PARAMS, start, strict=True)], "--out", str(out),
                 "--quiet"]) == 0
    report = json.loads((out / "fit.json").read_text())
    fitted = np.array([row["value"] for row in report["parameters"]])
    assert np.abs(fitted / truth - 1.0).max() < 0.02  # within 2% (the cantilever reads c 0.11% low: B 0.3% high)
    assert scenes.load_scene(out / "fitted.toml").materials["a"].density == pytest.approx(fitted[2])
