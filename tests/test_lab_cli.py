"""``warpweave lab``: the cantilever test from a scene file, its report and picture, and its user errors."""

import json

from tests.test_cli import DEMO_SCENE, assert_user_error, run_cli
from warpweave.cli import main


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


def test_lab_refuses_what_does_not_apply(tmp_path):
    weightless = tmp_path / "weightless.toml"
    weightless.write_text(DEMO_SCENE.read_text().replace("[simulation]", "[simulation]\ngravity = [0.0, 0.0, 0.0]"))
    assert_user_error(run_cli("lab", weightless, "--test", "cantilever", "--out", tmp_path / "o"),
                      "simulation.gravity = [0.0, 0.0, 0.0]: the cantilever test needs gravity")
    assert_user_error(run_cli("lab", DEMO_SCENE, "--test", "drape"), "argument --test: invalid choice: 'drape'")
    assert_user_error(run_cli("lab", DEMO_SCENE, "--test", "cantilever", "--overhang", "5"),
                      "argument --overhang: 5 is out of range")
