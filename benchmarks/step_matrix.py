"""What the step's matrix costs in accuracy: time-discretisation error of the model's matrix against the exact Hessian.

Usage: python benchmarks/step_matrix.py [--steps 200] [--refine 8]

The forces are the same in both variants; only the matrix of the linearised implicit step differs. The model's
matrix takes the Gauss-Newton part of the shear Hessian (``simulator.terms.shear``) and fades the transverse
stiffness of compressed segments (``simulator.terms.stretch``); "exact shear" puts the exact shear Hessian back.
On the reference scene (17 x 17 plain weave hung by two corners in a 5 m/s wind, 1 ms steps) each variant runs
``--steps`` steps and again with steps ``--refine`` times smaller; the printed error is the RMS distance between the
two final states, in percent of the RMS displacement, and the distance between the variants at the fine step.
"""

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np
import warp as wp

wp.config.quiet = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simulator  # noqa: E402
from simulator._terms import ForceTerm  # noqa: E402
from simulator.terms.shear import Shear  # noqa: E402
from tests.cloth_factory import hanging_spec  # noqa: E402


@contextlib.contextmanager
def exact_shear_hessian():
    """Within the block, Shear's share of the matrix is its force kernel's adjoint (the exact Hessian)."""
    saved = {name: Shear.__dict__[name] for name in ("explicit_stiffness", "stiffness_product_launches",
                                                     "hessian_rows_launches")}
    Shear.explicit_stiffness = False
    Shear.stiffness_product_launches = ForceTerm.stiffness_product_launches
    Shear.hessian_rows_launches = ForceTerm.hessian_rows_launches
    Shear.hessian_family = None  # applied matrix-free
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(Shear, name, value)
        Shear.hessian_family = "stencil"


def final_positions(steps: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(initial, final) node positions [m] of the reference scene after ``steps`` steps of ``dt``."""
    model = simulator.build_model(hanging_spec((17, 17)), device="cpu")
    solver = simulator.SolverImplicit(model, dt=dt, tolerance=1e-10, max_iterations=2000)
    start = model.positions(model.state())
    result = simulator.rollout(model, solver, steps=steps, save_every=steps)
    return start, result.x[:, -1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--refine", type=int, default=8)
    args = parser.parse_args()
    dt = 1e-3
    runs = {}
    for name, context in (("model", contextlib.nullcontext), ("exact shear", exact_shear_hessian)):
        with context():
            start, coarse = final_positions(args.steps, dt)
            _, fine = final_positions(args.steps * args.refine, dt / args.refine)
        runs[name] = (coarse, fine)
        scale = np.sqrt(np.mean(np.sum((fine - start) ** 2, axis=-1)))
        error = np.sqrt(np.mean(np.sum((coarse - fine) ** 2, axis=-1)))
        print(f"{name:12s}: {args.steps} steps of {dt * 1e3:g} ms against steps of {dt * 1e3 / args.refine:g} ms: "
              f"RMS error {100 * error / scale:.1f}% of the RMS displacement ({scale * 1e3:.2f} mm)")
    fine_model, fine_exact = runs["model"][1], runs["exact shear"][1]
    scale = np.sqrt(np.mean(np.sum((fine_exact - start) ** 2, axis=-1)))
    gap = np.sqrt(np.mean(np.sum((fine_model - fine_exact) ** 2, axis=-1)))
    print(f"at steps of {dt * 1e3 / args.refine:g} ms the two matrices differ by {100 * gap / scale:.2f}% "
          "of the RMS displacement")


if __name__ == "__main__":
    main()
