"""Every linear solve reports whether it converged: unconverged steps are counted in summary.json and
gradcheck.json and warned about, and --strict (or a strict solver) stops at the first one with a one-line error
(exit status 1, nothing written)."""

import json
from pathlib import Path

import numpy as np
import pytest

import scenes
import simulator
from warpweave.cli import main

from .cloth_factory import hanging_spec
from .test_cli import TINY


@pytest.fixture
def capped_scene(tmp_path) -> Path:
    """The tiny scene (5 x 5, 5 steps) with at most 2 CG iterations per solve."""
    path = tmp_path / "capped.toml"
    path.write_text(TINY.replace('save_every = 2', 'save_every = 2\nmax_iterations = 2'))
    return path


def test_summary_counts_the_unconverged_solves_and_warns(capped_scene, tmp_path, capsys):
    assert main(["simulate", str(capped_scene), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    solver = json.loads((tmp_path / "out" / "summary.json").read_text())["solver"]
    assert solver["max_iterations"] == 2 and solver["iterations_max"] == 2
    assert solver["solves"] == 5 and solver["unconverged"] == 5
    assert solver["worst_residual"] > 1e-6
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "5 linear solve(s) of (step, world) did not reach the tolerance" in warning[0]


def test_a_converged_run_reports_none(tmp_path, capsys):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    assert main(["simulate", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    solver = json.loads((tmp_path / "out" / "summary.json").read_text())["solver"]
    assert solver["unconverged"] == 0 and 0.0 < solver["worst_residual"] <= 1e-6
    assert capsys.readouterr().err == ""


def test_strict_stops_at_the_first_unconverged_solve(capped_scene, tmp_path, capsys):
    assert main(["simulate", str(capped_scene), "--out", str(tmp_path / "out"), "--strict", "--quiet"]) == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"warpweave: error: simulation failed: {capped_scene}: step 1: the linear solve did "
                                "not converge in world 0: relative residual ")
    assert "after 2 iterations (tolerance 1e-06, max_iterations 2)" in errors[0]
    assert not (tmp_path / "out").exists()


def test_gradients_report_their_adjoint_solves_and_a_strict_solver_stops():
    model = simulator.build_model([hanging_spec((5, 5))] * 2)
    solver = simulator.SolverImplicit(model, dt=1e-3, max_iterations=2)
    target = simulator.rollout(model, solver, steps=4).x[:, [4]]
    loss = simulator.TrajectoryLoss(model, steps=[4], positions=target + 1e-5)
    result = simulator.rollout_gradient(model, solver, loss, steps=4)
    assert result.health.unconverged == 8 and result.adjoint_health.unconverged == 8  # 4 steps x 2 worlds
    iterations, residual, converged = result.adjoint_health.arrays()
    assert iterations.shape == (4, 2) and np.all(iterations == 2) and not converged.any()
    strict = simulator.SolverImplicit(model, dt=1e-3, max_iterations=2, strict=True)
    with pytest.raises(simulator.SimulationError, match=r"step 1: the linear solve did not converge in world 0"):
        simulator.rollout(model, strict, steps=4)


def test_gradcheck_json_reports_the_solves(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    assert main(["gradcheck", str(path), "--params", "wind.drag", "--steps", "3", "--out", str(tmp_path / "g")]) == 0
    report = json.loads((tmp_path / "g" / "gradcheck.json").read_text())
    assert set(report["solver"]) == {"forward", "adjoint"}
    assert report["solver"]["adjoint"]["solves"] == 3 and report["solver"]["adjoint"]["unconverged"] == 0
    scenes.load_scene(path)  # still a valid scene


def test_fit_json_reports_the_solves_of_the_fits_simulations_and_gradients(tmp_path, capsys):
    scene = tmp_path / "scene.toml"
    scene.write_text(TINY.replace("save_every = 2", "save_every = 1"))
    assert main(["simulate", str(scene), "--out", str(tmp_path / "sim"), "--quiet"]) == 0
    assert main(["fit", str(scene), "--observed", str(tmp_path / "sim" / "trajectory.npz"), "--params",
                 "weave.shear_modulus", "--initial", "weave.shear_modulus=1200", "--iters", "2", "--out",
                 str(tmp_path / "fit"), "--quiet"]) == 0
    solver = json.loads((tmp_path / "fit" / "fit.json").read_text())["solver"]
    assert solver["forward"]["solves"] > 0 and solver["adjoint"]["solves"] > 0
    assert solver["forward"]["unconverged"] == 0 and solver["adjoint"]["unconverged"] == 0
    assert solver["adjoint"]["worst_residual"] <= 1e-10
