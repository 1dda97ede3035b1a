"""Derivatives that say a parameter cannot be fitted (NaN/Inf, or zero because nothing it touches reaches the
loss) are named: by the shared check, by ``warpweave gradcheck`` and by fits."""

import json
from pathlib import Path

import numpy as np
import pytest

import scenes
from learning import cloth
from learning.fit import derivative_problems
from warpweave.cli import main

from .test_cloth_objective import synthetic

ROOT = Path(__file__).resolve().parents[1]
INCLINE = ROOT / "scenes" / "examples" / "incline.toml"


def test_the_check_names_non_finite_and_zero_derivatives():
    bad, zero = derivative_problems(["a", "b", "c", "d"], [1.0, np.nan, 3e-12, -np.inf])
    assert [m.split(":")[0] for m in bad] == ["b", "d"]
    assert [m.split(":")[0] for m in zero] == ["c"]
    assert derivative_problems(["a", "b"], [2.0, -1e-3]) == ([], [])
    _, all_zero = derivative_problems(["a", "b"], [0.0, 0.0])
    assert len(all_zero) == 2 and "every other" in all_zero[0]


def test_gradcheck_warns_of_a_parameter_the_motion_does_not_depend_on(tmp_path, capsys):
    """On the incline the crossings never slip, so their friction has no effect: gradcheck still agrees three
    ways and passes, and warns that the loss does not depend on it (the obstacle's friction is fine)."""
    out = tmp_path / "gc"
    status = main(["gradcheck", str(INCLINE), "--params", "obstacles[0].friction,weave.friction", "--steps", "6",
                   "--out", str(out)])
    assert status == 0
    err = capsys.readouterr().err
    assert "weave.friction: its derivative is zero to rounding" in err
    assert "obstacles[0].friction:" not in err
    report = json.loads((out / "gradcheck.json").read_text())
    assert [m.split(":")[0] for m in report["insensitive"]] == ["weave.friction"] and report["nonfinite"] == []


def test_a_fit_names_the_parameter_its_data_cannot_determine():
    """A plane 5 cm below a hanging cloth is never touched: its friction's Jacobian column is zero at the start,
    and the fit says so (and still fits the density)."""
    base = scenes.load_scene(ROOT / "scenes" / "examples" / "hanging_wind.toml", check_device=False)
    text = scenes.scene_to_toml(scenes.with_parameters(base, {"cloth.nodes": [5, 5], "simulation.device": "cpu"}))
    text += ('\n[[obstacles]]\ntype = "plane"\npoint = [0.0, 0.0, 4.9]\nnormal = [0.0, 0.0, 1.0]\n'
             'friction = 0.3\nthickness = 0.001\n')
    scene = scenes.parse_scene(__import__("tomllib").loads(text), source="below.toml")
    observations = cloth.observations_from_trajectory(synthetic(scene, 8), scene)
    names = ["materials.cotton.density", "obstacles[0].friction"]
    space = cloth.scene_parameter_space(scene, names, initial={"materials.cotton.density": 0.0024})
    fit = cloth.fit_scene(scene, observations, space, estimation=cloth.Estimation("reverse"),
                          optimization=cloth.Optimization("lbfgs", iterations=6))
    assert [m.split(":")[0] for m in fit.result.insensitive] == ["obstacles[0].friction"]
    assert fit.result.values[0] == pytest.approx(0.002, rel=1e-4)
