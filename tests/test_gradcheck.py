"""`warpweave gradcheck`: reverse, forward and finite-difference derivatives agree on a user's scene."""

import json
from pathlib import Path

import pytest

import scenes
from learning.gradcheck import check_scene_gradients
from warpweave.cli import main

DEMO = Path(scenes.__file__).parent / "examples" / "demo.toml"
PARAMS = ["materials.cotton.density", "materials.polyester.young_modulus", "weave.shear_modulus", "weave.friction",
          "wind.velocity.1"]


@pytest.fixture(scope="module")
def small_scene(tmp_path_factory):
    scene = scenes.with_parameters(scenes.load_scene(DEMO), {"cloth.nodes": [6, 6]})
    path = tmp_path_factory.mktemp("scene") / "small.toml"
    path.write_text(scenes.scene_to_toml(scene))
    return path


def test_three_ways_agree_on_the_demo_scene(small_scene):
    result = check_scene_gradients(scenes.load_scene(small_scene), PARAMS, steps=30, loss="trajectory")
    for row in result.rows:
        assert row.adjoint != 0.0, row
        assert row.adjoint_vs_central <= 1e-4, row
        assert row.tangent_vs_adjoint <= 1e-4, row
    assert result.passed


def test_cli_writes_json_and_exits_zero(small_scene, tmp_path, capsys):
    status = main(["gradcheck", str(small_scene), "--params", ",".join(PARAMS[:2]), "--steps", "6", "--loss", "final",
                   "--out", str(tmp_path)])
    assert status == 0
    report = json.loads((tmp_path / "gradcheck.json").read_text())
    assert report["passed"] and [p["name"] for p in report["parameters"]] == PARAMS[:2]
    assert "all agree" in capsys.readouterr().out


def test_cli_unknown_parameter_is_a_user_error(small_scene, tmp_path, capsys):
    status = main(["gradcheck", str(small_scene), "--params", "materials.cotton.youngs_modulus", "--out",
                   str(tmp_path)])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did you mean" in err[0] and "young_modulus" in err[0]
    assert not (tmp_path / "gradcheck.json").exists()
