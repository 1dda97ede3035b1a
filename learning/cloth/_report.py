"""The results of a scene fit on disk: fit.json, loss.png, comparison.png and fitted.toml, written atomically.

fit.json (``format`` "warpweave-fit/1"):

- ``initial``, ``fitted``: values by dotted name (SI units of each parameter);
- ``parameters``: per name ``initial``, ``fitted``, ``lower``, ``upper``, ``transform``, and when computed
  ``std`` (same units) and ``relative_std`` (Gauss–Newton), and when the observations carry the scene
  that made them, ``reference`` (its value), ``relative_error`` and ``initial_relative_error``;
- ``loss``: ``initial``, ``fitted`` and ``history`` (one entry per evaluated point: evaluation,
  iteration, loss, best so far, seconds), the loss being the mean squared position error per observed
  node and frame in units of the spacing (plus the weighted sliding term);
- ``estimator``, ``optimizer``, ``learning_rate``, ``iterations``, ``evaluations``, ``world_rollouts``,
  ``stopped`` ("iterations", "converged", "callback" or "interrupted") and ``stop_reason`` (why, in words),
  ``wall_seconds``, ``seconds``, ``failed_evaluations`` (trial points whose simulation was unstable; the
  fit went back to its best point with smaller steps), ``insensitive`` (one message per parameter whose
  derivative was zero at the start: the data does not determine it);
- ``rms_position_error_m``: RMS distance [m] between observed and simulated nodes, initial and fitted;
- ``solver``: the linear solves of all the fit's rollouts (``forward``) and reverse-mode passes (``adjoint``):
  solves, unconverged (solve, world) pairs, worst final relative residual; gradients from unconverged adjoint
  solves are not to be trusted;
- ``observations``: frames, last step, observed nodes, whether sliding was compared, added noise [m];
- ``uncertainty``: method, residual count and RMS, relative standard deviations, correlation matrix,
  and the names whose relative standard deviation exceeds 1 (``undetermined``); null when interrupted;
- ``whitening``: directions kept and eigenvalues of the last Gauss–Newton whitening (when used).
"""

import json
import math
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np

import scenes

from ._fit import SceneFit
from ._plots import plot_comparison, plot_loss

__all__ = ["FORMAT", "OUTPUT_FILES", "common_report", "fitted_header", "fit_report", "reference_values",
           "write_fit"]

FORMAT = "warpweave-fit/1"
OUTPUT_FILES = ("fit.json", "loss.png", "comparison.png", "fitted.toml")


def reference_values(trajectory: scenes.Trajectory, names) -> dict[str, float] | None:
    """The values of ``names`` in the scene stored with a trajectory (e.g. the truth of synthetic
    observations), or None when the file holds no scene or the scene lacks one of the names."""
    try:
        scene = trajectory.scene()
        return None if scene is None else {n: float(scenes.get_parameter(scene, n)) for n in names}
    except (ValueError, TypeError):
        return None


def fit_report(fit: SceneFit, *, positions: np.ndarray, scene_path: str = "", observed_path: str = "",
               reference: dict[str, float] | None = None) -> dict:
    """The contents of fit.json of a fit to node trajectories.

    Args:
        fit: the fit.
        positions: simulated positions with the initial and the fitted values [2, F, W, H, 3] [m].
        scene_path, observed_path: where the scene and the observations came from.
        reference: known values by name (reported with the relative errors of the fit), or None.
    """
    obs = fit.objective.observations
    mask = np.ones(obs.positions.shape[1:3], dtype=bool) if obs.nodes is None else obs.nodes
    rms = [float(np.sqrt(((p - obs.positions) ** 2).sum(-1)[:, mask].mean())) for p in positions]
    report = common_report(
        fit, scene_path=scene_path, observed_path=observed_path, reference=reference,
        loss_definition="mean over observed frames and nodes of |x - x_observed|^2 / spacing^2 (+ sliding term)")
    report["rms_position_error_m"] = {"initial": rms[0], "fitted": rms[1]}
    report["observations"] = {"frames": obs.frames, "steps": obs.last_step, "observed_nodes": obs.node_count,
                              "sliding": obs.sliding is not None, "noise_m": obs.noise}
    return report


def common_report(fit: SceneFit, *, scene_path: str, observed_path: str, reference: dict[str, float] | None,
                  loss_definition: str) -> dict:
    """What fit.json holds for every kind of observations: values, bounds, errors against ``reference``, the
    search, the loss history, the solves, the uncertainty and the whitening."""
    result, space = fit.result, fit.space
    uncertainty = result.uncertainty
    minimization = result.minimization
    parameters = {}
    for k, bounded in enumerate(space.parameters):
        entry = {"initial": bounded.initial, "fitted": float(result.values[k]), "lower": bounded.lower,
                 "upper": bounded.upper, "transform": bounded.transform}
        if uncertainty is not None:
            entry["std"] = float(uncertainty.std[k])
            entry["relative_std"] = float(uncertainty.relative_std[k])
        if reference is not None:
            entry["reference"] = reference[bounded.name]
            entry["relative_error"] = _relative(result.values[k], reference[bounded.name])
            entry["initial_relative_error"] = _relative(bounded.initial, reference[bounded.name])
        parameters[bounded.name] = entry
    report = {
        "format": FORMAT,
        "scene": scene_path,
        "observed": observed_path,
        "initial": dict(zip(result.names, map(float, result.initial), strict=True)),
        "fitted": dict(zip(result.names, map(float, result.values), strict=True)),
        "parameters": parameters,
        "estimator": result.estimator,
        "optimizer": result.optimizer,
        "learning_rate": result.lr,
        "iterations": minimization.iterations,
        "evaluations": len(minimization.history),
        "world_rollouts": fit.objective.evaluations,
        "stopped": minimization.stopped,
        "stop_reason": minimization.reason,
        "failed_evaluations": result.failed_evaluations,
        "insensitive": list(result.insensitive),
        "wall_seconds": float(sum(result.seconds.values())),
        "seconds": {k: float(v) for k, v in result.seconds.items()},
        "loss": {
            "definition": loss_definition,
            "initial": minimization.initial_loss,
            "fitted": minimization.loss,
            "history": [{"evaluation": item.estimates, "iteration": item.iteration, "loss": item.loss,
                         "best": item.best, "seconds": item.seconds} for item in minimization.history],
        },
        "solver": {part: tally.summary() for part, tally in fit.objective.solves.items()},
        "uncertainty": None,
    }
    if uncertainty is not None:
        report["uncertainty"] = {
            "method": "gauss-newton: covariance = sigma^2 (J^T J)^-1 in the fit's coordinates, sigma^2 = "
                      "|r|^2 / (M - N), mapped to values by the delta method",
            "residuals": uncertainty.residuals,
            "residual_rms": uncertainty.residual_rms,
            "relative_std": dict(zip(result.names, map(float, uncertainty.relative_std), strict=True)),
            "correlation": np.round(uncertainty.correlation, 6).tolist(),
            "undetermined": uncertainty.undetermined(result.names),
        }
    if result.whitening is not None:
        report["whitening"] = {"kept_directions": result.whitening.kept,
                               "eigenvalues": [float(v) for v in result.whitening.eigenvalues]}
    return report


def write_fit(directory, fit: SceneFit, *, scene_path: str = "", observed_path: str = "",
              reference: dict[str, float] | None = None, report_extra: dict | None = None,
              scene_file: str = "fitted.toml", more_files: Callable[[Path], None] | None = None) -> Path:
    """Write DIR/fit.json, DIR/loss.png, DIR/comparison.png and DIR/fitted.toml atomically.

    Simulates the initial and the fitted values once more (two worlds of one rollout) for the
    comparison. Every file appears complete or not at all; fit.json is moved into place last.

    Args:
        report_extra: entries added to fit.json.
        scene_file: the name of the scene file with the fitted values.
        more_files: called with the (temporary) folder to write further files into it, e.g. pictures.
    """
    directory = Path(directory)
    objective, result = fit.objective, fit.result
    positions = objective.positions(np.stack([fit.space.initial_theta(), result.theta]))
    report = fit_report(fit, positions=positions, scene_path=scene_path, observed_path=observed_path,
                        reference=reference) | (report_extra or {})
    obs = objective.observations
    history = result.minimization.history
    noise = None
    if obs.noise > 0.0:
        noise = 3.0 * obs.noise**2 / fit.scene.cloth.spacing**2
    title = f"{textwrap.fill(', '.join(result.names), 100)}\n{result.estimator} + {result.optimizer}"
    with scenes.atomic_directory(directory, last=("fit.json",)) as tmp:
        plot_loss(tmp / "loss.png", losses=[item.loss for item in history], best=[item.best for item in history],
                  noise_level=noise, title=title)
        plot_comparison(tmp / "comparison.png", times=obs.steps * fit.scene.simulation.solver_dt,
                        observed=obs.positions,
                        initial=positions[0], fitted=positions[1], nodes=obs.nodes,
                        title=f"observed ({obs.source}) vs simulated")
        (tmp / scene_file).write_text(scenes.scene_to_toml(fit.scene, header=fitted_header(report)))
        if more_files is not None:
            more_files(tmp)
        (tmp / "fit.json").write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    return directory


def _relative(value: float, reference: float) -> float:
    return float(value / reference - 1.0) if reference != 0.0 else float(value - reference)


def fitted_header(report: dict) -> str:
    """The comment at the top of fitted.toml: where the values came from, each with its spread."""
    lines = [f"Fitted by warpweave fit from {report['observed'] or 'observations'}: "
             f"{report['estimator']} + {report['optimizer']}, {report['iterations']} iterations."]
    for name, entry in report["parameters"].items():
        spread = entry.get("relative_std")
        note = f" (+-{100 * spread:.2g}%)" if spread is not None and math.isfinite(spread) and spread < 1 else ""
        lines.append(f"{name} = {entry['fitted']:.9g}{note}, initially {entry['initial']:.9g}")
    return "\n".join(lines)
