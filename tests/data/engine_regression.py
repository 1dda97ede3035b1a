"""Cases of the engine regression record (``engine_regression.npz``): trajectories and gradients the engine must
keep reproducing through refactors.

``python tests/data/engine_regression.py`` rewrites the record with the engine of the working tree; it was
made by the engine of commit 74b6466, before the force terms became units, and
``tests/test_engine_regression.py`` compares every later engine with it (positions within 1e-12 m). The
linear solves run to a relative residual of 1e-13, so that the comparison sees the physics and the system
matrix, not where a 1e-6 tolerance happens to stop an iteration (that alone moves nodes by ~1e-9 m). Rewrite
the record only for a deliberate change of the physics, and say so in the commit.
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import scenes  # noqa: E402
import simulator  # noqa: E402

EXAMPLES = ROOT / "scenes" / "examples"
RECORD = Path(__file__).with_name("engine_regression.npz")
ORIGINAL_BEHAVIOUR = ("bend_jacobian", "border_coupling", "friction", "bend_theta", "shear_precedence",
                      "shear_jacobian", "stretch_hessian")


def example(name: str, **values) -> simulator.ClothSpec:
    scene = scenes.load_scene(EXAMPLES / f"{name}.toml", check_device=False)
    return scenes.build_spec(scenes.with_parameters(scene, values) if values else scene)


def rollout_case(specs, *, steps: int, frames, **solver_options) -> dict[str, np.ndarray]:
    """Positions and sliding coordinates [B, F, W, H, .] at ``frames`` of a rollout from rest."""
    model = simulator.build_model(list(specs), device="cpu")
    solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-13, max_iterations=3000, **solver_options)
    result = simulator.rollout(model, solver, steps=steps)
    return {"x": result.x[:, frames], "u": result.u[:, frames]}


def gradient_case() -> dict[str, np.ndarray]:
    """Reverse-mode parameter gradients (summed per array) of a trajectory loss on a 6 x 6 cloth."""
    spec = example("hanging_wind", **{"cloth.nodes": [6, 6]})
    model = simulator.build_model(spec, device="cpu")
    solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-12)
    target = simulator.rollout(model, solver, steps=15).x[:, [5, 10, 15]] + 1e-5
    loss = simulator.TrajectoryLoss(model, steps=[5, 10, 15], positions=target)
    result = simulator.rollout_gradient(model, solver, loss, steps=15)
    grads = result.parameters.numpy()
    return {"loss": np.asarray(result.loss), **{f"grad_{k}": v.reshape(v.shape[0], -1).sum(axis=1)
                                                 for k, v in grads.items()}}


def cases() -> dict[str, dict[str, np.ndarray]]:
    two = [example("hanging_wind", **{"cloth.nodes": [5, 5]}),
           example("hanging_wind", **{"cloth.nodes": [5, 5], "materials.cotton.young_modulus": 2.5e5,
                                      "weave.friction": 0.3, "wind.velocity": [1.0, 3.0, 0.0]})]
    reference = scenes.build_spec(scenes.load_scene(ROOT / "tests" / "data" / "reference" / "plain_10x10" /
                                                    "scene.toml", check_device=False))
    return {
        "hanging_17": rollout_case([example("hanging_wind")], steps=60, frames=[20, 40, 60]),
        "twill_9": rollout_case([example("twill_wind", **{"cloth.nodes": [9, 9]})], steps=40, frames=[40]),
        "satin_9": rollout_case([example("satin_wind", **{"cloth.nodes": [9, 9]})], steps=40, frames=[40]),
        "slipping_9": rollout_case([example("slipping_wind", **{"cloth.nodes": [9, 9]})], steps=40, frames=[40]),
        "two_worlds_5": rollout_case(two, steps=30, frames=[10, 30]),
        "matrix_free_7": rollout_case([example("hanging_wind", **{"cloth.nodes": [7, 7]})], steps=20, frames=[20],
                                      operator="matrix_free"),
        "flat_sheet_9": rollout_case([example("large_flat_sheet", **{"cloth.nodes": [9, 9]})], steps=30,
                                     frames=[30]),
        "original_behaviour_10": rollout_case([reference], steps=30, frames=[30],
                                              reference_quirks=ORIGINAL_BEHAVIOUR),
        "gradient_6": gradient_case(),
    }


def flatten(record: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {f"{case}/{key}": value for case, arrays in record.items() for key, value in arrays.items()}


def unflatten(arrays) -> dict[str, dict[str, np.ndarray]]:
    record: dict[str, dict[str, np.ndarray]] = {}
    for name in arrays.files:
        case, key = name.split("/", 1)
        record.setdefault(case, {})[key] = arrays[name]
    return record


if __name__ == "__main__":
    np.savez_compressed(RECORD, **flatten(cases()))
    print(f"wrote {RECORD}")
