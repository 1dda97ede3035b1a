"""``warpweave fit SCENE --lab MEASUREMENTS.toml --params ...``: yarn parameters from measured lab values."""

import json
import sys
from pathlib import Path

from ._args import UsageError, check_output_folder

__all__ = ["fit_lab"]


def fit_lab(args) -> int:
    """Fit ``args.params`` of the scene so that the virtual tests reproduce ``args.lab`` (``lab.LabObjective``,
    Gauss-Newton); write DIR/fit.json and DIR/fitted.toml; exit status."""
    import numpy as np

    import lab
    import scenes
    from learning import cloth
    from learning.fit import FitError, fit

    if args.optimizer not in (None, "gauss-newton"):
        raise UsageError(f"argument --optimizer: {args.optimizer} with --lab: lab values are fitted by Gauss-Newton "
                         "steps (--optimizer gauss-newton, the default)")
    scene = scenes.load_scene(args.scene, check_device=False)
    out_dir = Path(args.out) if args.out else Path("out") / f"fit-{Path(args.scene).stem}"
    check_output_folder(out_dir)
    try:
        measurements = lab.load_measurements(args.lab)
        space = cloth.scene_parameter_space(scene, args.params, bounds=dict(args.bounds), initial=dict(args.initial))
    except (lab.MeasurementsError, FitError) as exc:
        raise UsageError(str(exc)) from None
    scenes.init_warp_quietly()  # Warp starts here: with the command line's message settings
    objective = lab.LabObjective(scene, measurements, space, segments=args.segments)
    if not args.quiet:
        print(f"fit {args.scene} to {args.lab}: {', '.join(name for name, _ in measurements.items())} by "
              f"{', '.join(space.names)}", file=sys.stderr)
    with scenes.quiet_module_loading():
        result = fit(objective, space, optimizer="gauss-newton", iterations=args.iters)
        virtual = objective.outcomes(result.theta)
    fitted = scenes.with_parameters(scene, dict(zip(result.names, map(float, result.values), strict=True)))
    relative_std = (result.uncertainty.relative_std.tolist() if result.uncertainty is not None
                    else [None] * len(result.names))
    report = {
        "scene": str(args.scene), "lab": str(args.lab), "optimizer": "gauss-newton",
        "parameters": [{"name": n, "initial": float(i), "value": float(v), "relative_std": s}
                       for n, i, v, s in zip(result.names, result.initial, result.values, relative_std, strict=True)],
        "measurements": [{"name": name, "measured": value, "virtual": float(got)}
                         for (name, value), got in zip(measurements.items(), virtual, strict=True)],
        "loss": {"initial": result.minimization.initial_loss, "final": result.minimization.loss},
        "iterations": result.minimization.iterations, "reason": result.minimization.reason,
        "virtual_test_runs": objective.evaluations, "seconds": result.seconds,
    }
    with scenes.atomic_path(out_dir / "fit.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    with scenes.atomic_path(out_dir / "fitted.toml") as tmp:
        tmp.write_text(scenes.scene_to_toml(fitted))
    if not args.quiet:
        width = max(len(n) for n in result.names)
        print(f"{'parameter':<{width}}  {'initial':>12}  {'fitted':>12}  {'rel. std':>9}")
        for row in report["parameters"]:
            std = "" if row["relative_std"] is None else f"{row['relative_std']:9.2e}"
            print(f"{row['name']:<{width}}  {row['initial']:12.6g}  {row['value']:12.6g}  {std:>9}")
        for row in report["measurements"]:
            print(f"{row['name']}: measured {row['measured']:.6g}, virtual {row['virtual']:.6g} "
                  f"({row['virtual'] / row['measured'] - 1.0:+.2%})")
        print(f"stopped after {result.minimization.iterations} iterations: {result.minimization.reason}")
        print(f"wrote {out_dir / 'fit.json'} and {out_dir / 'fitted.toml'} ({objective.evaluations} virtual test "
              f"runs, {sum(result.seconds.values()):.1f} s)")
    return 0 if np.isfinite(result.minimization.loss) else 1
