"""``warpweave gradcheck SCENE --params P1,P2``: verify the engine's gradients on a scene."""

import json
import sys
from pathlib import Path

from ._args import UsageError, check_output_folder, positive_float, positive_int
from ._choices import LOSSES

__all__ = ["add_parser", "run"]

_COLUMNS = (
    "adjoint: reverse mode (adjoint solve through the rollout)",
    "tangent diff.: central differences along each parameter's tangent, all tangents as worlds of one rollout",
    "central diff.: central differences of the loss, one pair of rollouts per parameter",
)


def add_parser(commands):
    parser = commands.add_parser(
        "gradcheck",
        help="check adjoint (reverse-mode), tangent and finite-difference derivatives on a scene",
        description="Differentiate a rollout loss of the scene with respect to scene parameters three ways "
        "(the adjoint, i.e. reverse mode; central differences along tangents batched as worlds, i.e. the "
        "engine's forward mode; float64 central differences of the loss), print the table, write "
        "DIR/gradcheck.json, and exit with status 0 when all agree within the tolerance (1 otherwise).",
    )
    parser.add_argument("scene", metavar="SCENE", help="scene file (.toml)")
    parser.add_argument("--params", required=True, metavar="P1,P2,...",
                        help="dotted scene parameter names, e.g. materials.cotton.young_modulus,weave.friction "
                        "('warpweave params SCENE' lists them)")
    parser.add_argument("--steps", type=positive_int, default=20, metavar="N", help="rollout steps (default 20)")
    parser.add_argument("--loss", choices=LOSSES, default="trajectory",
                        help="compare at the final step or over the whole trajectory (default)")
    parser.add_argument("--tolerance", type=positive_float, default=1e-4, metavar="TOL",
                        help="largest accepted relative disagreement (default 1e-4)")
    parser.add_argument("--step", type=positive_float, default=1e-4, metavar="H",
                        help="relative finite-difference step (default 1e-4, Richardson-extrapolated)")
    parser.add_argument("--out", metavar="DIR", help="folder for gradcheck.json (default: out/gradcheck-<scene name>)")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    import scenes
    from learning.fit import FitError
    from learning.gradcheck import check_scene_gradients, step_warnings

    scenes.init_warp_quietly()  # Warp starts here: with the command line's message settings
    scene = scenes.load_scene(args.scene, check_device=False)
    names = [name.strip() for name in args.params.split(",") if name.strip()]
    if not names:
        raise UsageError("argument --params: expected at least one parameter name")
    out = Path(args.out) if args.out else Path("out") / f"gradcheck-{Path(args.scene).stem}"
    check_output_folder(out)
    try:
        for warning in step_warnings(scene, names, relative_step=args.step):
            print(f"warpweave: warning: {warning}", file=sys.stderr)
        result = check_scene_gradients(scene, names, steps=args.steps, loss=args.loss, relative_step=args.step,
                                       tolerance=args.tolerance, device="cpu")
    except FitError as exc:
        raise UsageError(str(exc)) from None
    width = max(36, *(len(row.name) for row in result.rows))
    print(f"{scene.source}: {args.steps} steps, {args.loss} loss; relative disagreements, tolerance {args.tolerance:g}")
    print(f"{'parameter':<{width}} {'value':>11} {'adjoint':>14} {'tangent diff.':>14} {'central diff.':>14} "
          f"{'adj/central':>11} {'tangent/adj':>11}")
    for row in result.rows:
        print(f"{row.name:<{width}} {row.value:>11.4g} {row.adjoint:>14.7e} {row.tangent_differences:>14.7e} "
              f"{row.central_differences:>14.7e} {row.adjoint_vs_central:>11.1e} {row.tangent_vs_adjoint:>11.1e}")
    for line in _COLUMNS:
        print(f"  {line}")
    if result.unconverged:
        print(f"warpweave: warning: {result.unconverged} linear solve(s) did not converge (forward "
              f"{result.solver['forward']['unconverged']}, adjoint {result.solver['adjoint']['unconverged']}; worst "
              f"relative residual {max(p['worst_residual'] for p in result.solver.values()):.3g}): these gradients "
              "are not to be trusted", file=sys.stderr)
    for message in (*result.nonfinite, *result.insensitive):
        print(f"warpweave: warning: {message}", file=sys.stderr)
    with scenes.atomic_path(out / "gradcheck.json") as tmp:
        tmp.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    print(f"{'all agree' if result.passed else 'DISAGREEMENT'}; wrote {out / 'gradcheck.json'}")
    return 0 if result.passed else 1
