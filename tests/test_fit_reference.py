"""Recovery on the reference scene and on the original implementation's 10x10 trajectory (slow: minutes).

Run with ``pytest -m slow tests/test_fit_reference.py``; ``benchmarks/fit_reference.py`` prints the
same experiments with timings for more estimator/optimizer pairs.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import scenes
from learning import cloth
from warpweave.cli import main

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "scenes" / "examples" / "hanging_wind.toml"
SLIPPING = ROOT / "scenes" / "examples" / "slipping_wind.toml"
DATA = ROOT / "tests" / "data" / "reference" / "plain_10x10"
MATERIALS = [f"materials.{m}.{p}" for m in ("cotton", "polyester") for p in ("density", "young_modulus",
                                                                              "bending_modulus")]
NAMES = [*MATERIALS, "weave.shear_modulus", "weave.friction"]
ORIGINAL_BEHAVIOUR = ("bend_jacobian", "border_coupling", "shear_jacobian", "shear_precedence", "friction",
                      "stretch_hessian")

pytestmark = pytest.mark.slow


def started_30_percent_off(scene, names) -> list[str]:
    """--initial flags: every value 30% above or below the scene's, alternately."""
    return started_at(scene, names, [1.3 if k % 2 == 0 else 0.7 for k in range(len(names))])


def started_at(scene, names, factors) -> list[str]:
    """--initial flags: each value the scene's times its factor."""
    flags = []
    for name, factor in zip(names, factors, strict=True):
        flags += ["--initial", f"{name}={float(scenes.get_parameter(scene, name)) * factor!r}"]
    return flags


def simulated_50_frames(source: Path, folder: Path):
    """``source`` simulated for 49 steps with every step saved (50 frames): scene, its file, trajectory."""
    scene = scenes.with_parameters(scenes.load_scene(source), {"simulation.steps": 49, "simulation.save_every": 1})
    path = folder / source.name
    path.write_text(scenes.scene_to_toml(scene))
    assert main(["simulate", str(path), "--out", str(folder / "sim"), "--quiet"]) == 0
    return scene, path, folder / "sim" / "trajectory.npz"


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    """The reference scene (17 x 17), 50 frames."""
    return simulated_50_frames(REFERENCE, tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="module")
def observed_slipping(tmp_path_factory):
    """The reference scene with slippery, lightly damped crossings (slipping_wind.toml), 50 frames."""
    return simulated_50_frames(SLIPPING, tmp_path_factory.mktemp("slipping"))


def fit_from_30_percent_off(label, observed, out, estimator, optimizer, iterations, extra):
    """``warpweave fit`` of the 7 material/crossing parameters and friction, started 30% off, on 50 frames;
    the fit.json report and the relative errors in NAMES order (printed with the iterations and time)."""
    scene = observed[0]
    return fit_on_50_frames(f"{label}, {estimator} + {optimizer} {extra}", observed, out, NAMES,
                            ["--estimator", estimator, "--optimizer", optimizer, "--iters", str(iterations),
                             *started_30_percent_off(scene, NAMES), *extra])


def fit_on_50_frames(label, observed, out, names, options):
    """``warpweave fit`` of ``names`` on 50 frames with ``options``; the fit.json report and the relative
    errors in ``names`` order (printed with the iterations, the time and why it stopped)."""
    _, scene_path, trajectory = observed
    status = main(["fit", str(scene_path), "--observed", str(trajectory), "--params", ",".join(names), "--frames",
                   "50", "--out", str(out), "--quiet", *options])
    assert status == 0
    report = json.loads((out / "fit.json").read_text())
    errors = np.array([report["parameters"][n]["relative_error"] for n in names])
    print(f"{label}: {report['iterations']} iterations, {report['wall_seconds']:.0f} s, relative errors "
          f"{np.round(100 * errors, 4)} %, worst {100 * np.abs(errors).max():.2g} %; {report['stop_reason']}")
    return report, errors


#: starts of the six material parameters (MATERIALS order): factors on the true values
MATERIAL_STARTS = {
    "density +30%, Young -30%, bending +30%": [1.3, 0.7, 1.3] * 2,
    "alternately +30% and -30%": [1.3, 0.7] * 3,
}


@pytest.mark.parametrize("start", list(MATERIAL_STARTS))
@pytest.mark.parametrize("estimator", ["forward", "zeroth", "two-phase"])
def test_forward_zeroth_and_two_phase_defaults_recover_the_six_material_parameters(observed, tmp_path, estimator,
                                                                                   start):
    """Densities, Young's and bending moduli of both yarns from 50 frames, started 30% off, with nothing but
    --estimator: all six coordinate directions per estimate (exact gradients), L-BFGS, and a stop of its own
    once converged — within 2% in at most 50 iterations."""
    scene = observed[0]
    report, errors = fit_on_50_frames(f"{estimator} from {start}", observed, tmp_path / "fit", MATERIALS,
                                      ["--estimator", estimator, *started_at(scene, MATERIALS, MATERIAL_STARTS[start])])
    assert "directions='all'" in report["estimator"] and report["optimizer"] == "lbfgs"
    assert report["stopped"] == "converged" and report["iterations"] <= 50
    assert np.all(np.abs(errors) <= 0.02), errors


@pytest.mark.parametrize(("estimator", "optimizer", "iterations", "extra", "tolerance"), [
    ("reverse", "lbfgs", 40, [], [0.02] * 6 + [0.1]),
    ("forward", "sgd", 60, ["--directions", "4"], [0.02] * 6 + [0.1]),
    ("reverse", "lbfgs", 40, ["--nodes", "0.2", "--noise", "1e-6", "--no-sliding"], [0.05] * 7),
    ("forward", "sgd", 60, ["--directions", "4", "--nodes", "0.2", "--noise", "1e-6", "--no-sliding"], [0.05] * 7),
])
def test_warpweave_fit_recovers_the_reference_scene(observed, tmp_path, estimator, optimizer, iterations, extra,
                                                    tolerance):
    """From 50 frames, started 30% off: densities, Young's and bending moduli of both yarns within 2% and the
    shear modulus within 10% (all within 5% from 20% of the crossings with 1e-6 m noise). The friction
    coefficient does not change this motion measurably (crossings stick: a 30% change moves nodes by
    picometres); the fit must say so through its Gauss–Newton uncertainty instead of claiming a value."""
    report, errors = fit_from_30_percent_off("reference", observed, tmp_path / "fit", estimator, optimizer,
                                             iterations, extra)
    assert np.all(np.abs(errors[:7]) <= tolerance), errors
    friction = report["parameters"]["weave.friction"]
    assert friction["relative_std"] > 0.1  # it cannot be claimed within the 10% asked for


@pytest.mark.parametrize(("estimator", "optimizer", "iterations", "extra", "tolerance"), [
    ("reverse", "lbfgs", 40, [], [0.02] * 6 + [0.1, 0.1]),
    ("forward", "sgd", 100, ["--directions", "4"], [0.02] * 6 + [0.1, 0.1]),
    ("reverse", "lbfgs", 80, ["--nodes", "0.2", "--noise", "1e-6", "--no-sliding"], [0.05] * 8),
    ("forward", "sgd", 80, ["--directions", "4", "--nodes", "0.2", "--noise", "1e-6", "--no-sliding"], [0.05] * 8),
])
def test_warpweave_fit_recovers_friction_where_the_yarns_slide(observed_slipping, tmp_path, estimator, optimizer,
                                                               iterations, extra, tolerance):
    """The reference scene with slippery, lightly damped crossings (friction 0.1, sliding damping
    0.01 N*s/m): the yarns slide, and the friction coefficient is recovered like the others — within
    10% from all crossings, within 5% from 20% of them with 1e-6 m noise — and known to better than 10%."""
    report, errors = fit_from_30_percent_off("slipping", observed_slipping, tmp_path / "fit", estimator, optimizer,
                                             iterations, extra)
    assert np.all(np.abs(errors) <= tolerance), errors
    assert report["parameters"]["weave.friction"]["relative_std"] < 0.1


def test_the_original_implementations_trajectory_is_recovered_with_its_physics():
    """10 x 10 data of the original code, 50 frames, started 30% off: the densities, Young's and bending
    moduli of both yarns within 2%, with the solver switches that reproduce the original code (reverse
    mode is refused for them, so Gauss–Newton steps from batched forward differences)."""
    scene = scenes.load_scene(DATA / "scene.toml")
    observations = cloth.observations_from_trajectory(scenes.load_trajectory(DATA / "trajectory.npz"), scene,
                                                      frames=50)
    names = [f"materials.yarn{k}.{p}" for k in (1, 2) for p in ("density", "young_modulus", "bending_modulus")]
    truth = np.array([float(scenes.get_parameter(scene, n)) for n in names])
    initial = {n: v * (1.3 if k % 2 == 0 else 0.7) for k, (n, v) in enumerate(zip(names, truth, strict=True))}
    fit = cloth.fit_scene(scene, observations, cloth.scene_parameter_space(scene, names, initial=initial),
                          optimization=cloth.Optimization("gauss-newton", iterations=10),
                          objective=cloth.ObjectiveOptions(reference_quirks=ORIGINAL_BEHAVIOUR))
    errors = fit.result.values / truth - 1.0
    print(f"original physics: relative errors {np.round(100 * errors, 3)} %")
    assert np.all(np.abs(errors) <= 0.02), errors
