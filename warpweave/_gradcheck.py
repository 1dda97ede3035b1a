"""``warpweave gradcheck SCENE --params P1,P2``: verify the engine's gradients on a scene."""

import json
from pathlib import Path

import scenes
from learning.gradcheck import LOSSES, check_scene_gradients

from ._args import UsageError, positive_float, positive_int

__all__ = ["add_parser", "run"]


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "gradcheck",
        help="check reverse-mode, forward-mode and finite-difference derivatives on a scene",
        description="Differentiate a rollout loss of the scene with respect to scene parameters three ways "
        "(reverse mode, forward mode, float64 central differences), print the table, write "
        "DIR/gradcheck.json, and exit with status 0 when all agree within the tolerance (1 otherwise).",
    )
    parser.add_argument("scene", metavar="SCENE", help="scene file (.toml)")
    parser.add_argument("--params", required=True, metavar="P1,P2,...",
                        help="dotted scene parameter names, e.g. materials.cotton.young_modulus,weave.friction")
    parser.add_argument("--steps", type=positive_int, default=20, metavar="N", help="rollout steps (default 20)")
    parser.add_argument("--loss", choices=LOSSES, default="trajectory",
                        help="compare at the final step or over the whole trajectory (default)")
    parser.add_argument("--tolerance", type=positive_float, default=1e-4, metavar="TOL",
                        help="largest accepted relative disagreement (default 1e-4)")
    parser.add_argument("--step", type=positive_float, default=1e-4, metavar="H",
                        help="relative finite-difference step (default 1e-4, Richardson-extrapolated)")
    parser.add_argument("--out", default=".", metavar="DIR", help="folder for gradcheck.json (default: .)")
    parser.set_defaults(run=run)


def run(args) -> int:
    scene = scenes.load_scene(args.scene, check_device=False)
    names = [name for name in args.params.split(",") if name.strip()]
    if not names:
        raise UsageError("argument --params: expected at least one parameter name")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"argument --out: {out} exists and is not a folder")
    from learning.fit import FitError

    scenes.init_warp_quietly()
    import warp as wp

    saved = wp.config.log_level
    wp.config.log_level = max(saved, wp.LOG_WARNING)  # no "Module ... load took ..." lines in the table
    try:
        result = check_scene_gradients(scene, names, steps=args.steps, loss=args.loss, relative_step=args.step,
                                       tolerance=args.tolerance, device="cpu")
    except FitError as exc:
        raise UsageError(str(exc)) from None
    finally:
        wp.config.log_level = saved
    header = f"{'parameter':<36} {'value':>11} {'reverse':>14} {'forward':>14} {'central diff.':>14} " \
             f"{'rev/cd':>8} {'fwd/rev':>8}"
    print(f"{scene.source}: {args.steps} steps, {args.loss} loss; relative disagreements, tolerance {args.tolerance:g}")
    print(header)
    for row in result.rows:
        print(f"{row.name:<36} {row.value:>11.4g} {row.reverse:>14.7e} {row.forward:>14.7e} {row.central:>14.7e} "
              f"{row.reverse_vs_central:>8.1e} {row.forward_vs_reverse:>8.1e}")
    with scenes.atomic_path(out / "gradcheck.json") as tmp:
        tmp.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    print(f"{'all agree' if result.passed else 'DISAGREEMENT'}; wrote {out / 'gradcheck.json'}")
    return 0 if result.passed else 1
