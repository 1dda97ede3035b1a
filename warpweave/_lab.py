"""``warpweave lab SCENE --test cantilever``: standard textile tests on the scene's fabric."""

import json
import math
import sys
from pathlib import Path

from ._args import UsageError, check_output_folder, positive_int

__all__ = ["TESTS", "add_parser", "run"]

#: the virtual tests ``warpweave lab`` runs
TESTS = ("cantilever",)


def add_parser(commands):
    parser = commands.add_parser(
        "lab",
        help="run a standard textile test (cantilever bending length) on a scene's fabric",
        description="Cut a specimen from the scene's fabric in the warp and the weft direction, run it to rest "
        "and report the standard's quantities. cantilever (ASTM D1388): bending length c and flexural rigidity "
        "per width G = m g c^3, read from the chord angle against the exact heavy elastica (Peirce's formula "
        "beside it), with the value the yarn parameters imply. Writes DIR/lab.json and DIR/cantilever.png.",
    )
    parser.add_argument("scene", metavar="SCENE", help="scene file (.toml)")
    parser.add_argument("--test", required=True, choices=TESTS, help="the test to run")
    parser.add_argument("--direction", choices=("warp", "weft", "both"), default="both",
                        help="the yarns along the specimen (default both)")
    parser.add_argument("--segments", type=positive_int, default=20, metavar="N",
                        help="segments along the specimen (default 20: bending length within 0.2%%)")
    parser.add_argument("--overhang", type=float, default=2.0, metavar="RATIO",
                        help="cantilever overhang in expected bending lengths, in (0, 4] (default 2: the "
                        "standard's 41.5 degrees)")
    parser.add_argument("--device", default="cpu", metavar="D", help='"cpu" (default) or "cuda[:N]"')
    parser.add_argument("--out", metavar="DIR", help="output folder (default: out/<scene name>)")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    import scenes

    if not 0.0 < args.overhang <= 4.0:
        raise UsageError(f"argument --overhang: {args.overhang:g} is out of range: expected a ratio in (0, 4]")
    if args.segments < 4:
        raise UsageError(f"argument --segments: {args.segments} is out of range: expected at least 4")
    try:
        scenes.check_device(args.device)
    except ValueError as exc:
        raise UsageError(f"argument --device: {args.device!r}: {exc}") from None
    scene = scenes.load_scene(args.scene, check_device=False)
    gravity = scene.simulation.gravity
    if not any(gravity):
        raise scenes.SceneError(f"{scene.source}: simulation.gravity = {list(gravity)}: the cantilever test needs "
                                "gravity (a strip bends under its own weight)")
    out_dir = Path(args.out) if args.out else Path("out") / Path(args.scene).stem
    check_output_folder(out_dir)
    scenes.init_warp_quietly()  # Warp starts here: with the command line's message settings
    import lab

    directions = lab.DIRECTIONS if args.direction == "both" else (args.direction,)
    results = []
    for direction in directions:
        print(f"lab {args.scene}: cantilever along the {direction}, {args.segments} segments", file=sys.stderr)
        fabric = lab.strip_fabric(scene, direction)
        with scenes.quiet_module_loading():
            results.append(lab.cantilever_test(fabric, direction=direction, ratio=args.overhang,
                                               segments=args.segments, device=args.device))
    _print_table(results)
    report = {"scene": str(args.scene), "test": "cantilever", "results": [r.summary() for r in results]}
    with scenes.atomic_path(out_dir / "lab.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    figure = _plot(results, out_dir / "cantilever.png")
    print(f"wrote {out_dir / 'lab.json'} and {figure}")
    return 0


def _print_table(results) -> None:
    print(f"{'direction':<10}{'overhang mm':>12}{'angle deg':>10}{'c mm':>9}{'Peirce c mm':>12}{'expected c mm':>14}"
          f"{'G N*m':>11}{'seconds':>9}")
    for r in results:
        print(f"{r.direction:<10}{r.overhang * 1e3:12.4g}{math.degrees(r.chord_angle):10.3f}"
              f"{r.bending_length * 1e3:9.4g}{r.peirce_bending_length * 1e3:12.4g}"
              f"{r.expected_bending_length * 1e3:14.4g}{r.flexural_rigidity:11.3e}{r.settle.seconds:9.2f}")


def _plot(results, path: Path) -> Path:
    """The specimens at rest beside the heavy elastica of their expected bending length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    import lab
    import scenes

    figure, axes = plt.subplots(figsize=(6, 4.5))
    for r, color in zip(results, ("tab:blue", "tab:orange"), strict=False):
        axes.plot(r.profile[:, 0] * 1e3, r.profile[:, 1] * 1e3, "o-", color=color, markersize=3,
                  label=f"{r.direction}: c = {r.bending_length * 1e3:.4g} mm, {math.degrees(r.chord_angle):.2f} deg")
        curve = np.asarray(lab.heavy_cantilever(r.overhang / r.expected_bending_length).curve) * r.overhang * 1e3
        axes.plot(curve[:, 0], -curve[:, 1], "--", color="black", linewidth=1,
                  label=f"{r.direction}: heavy elastica at the expected c = {r.expected_bending_length * 1e3:.4g} mm")
    axes.set_xlabel("x from the clamp edge [mm]")
    axes.set_ylabel("z [mm]")
    axes.set_aspect("equal")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title("cantilever bending test (ASTM D1388)")
    with scenes.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path
