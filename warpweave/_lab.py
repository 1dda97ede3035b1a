"""``warpweave lab SCENE --test cantilever|tensile|shear|bias|drape``: standard textile tests on the scene's fabric."""

import json
import math
import sys
from pathlib import Path

from ._args import UsageError, check_output_folder, positive_int

__all__ = ["TESTS", "add_parser", "run"]

#: the virtual tests ``warpweave lab`` runs
TESTS = ("cantilever", "tensile", "shear", "bias", "drape")


def add_parser(commands):
    parser = commands.add_parser(
        "lab",
        help="run a standard textile test (cantilever bending length, strip tensile, shear, bias extension, drape) "
        "on a scene's fabric",
        description="Cut a specimen from the scene's fabric in the warp and the weft direction, run it to rest "
        "and report the standard's quantities beside the values the yarn parameters imply. cantilever (ASTM "
        "D1388): bending length c and flexural rigidity per width G = m g c^3, read from the chord angle against "
        "the exact heavy elastica (Peirce's formula beside it). tensile (ISO 13934-1 strip, 200 mm gauge): "
        "tensile stiffness per width. shear (KES-FB1, 5 cm between 20 cm clamps): shear rigidity per clamp "
        "length. bias (150 x 50 mm, yarns at 45 degrees): force over clamp displacement against the pin-jointed "
        "net's three-region prediction, and the shear of each region. drape (Cusick, BS 5058: a 30 cm disc of "
        "fabric held between 18 cm discs): drape coefficient and folds. Writes DIR/lab.json and DIR/TEST.png.",
    )
    parser.add_argument("scene", metavar="SCENE", help="scene file (.toml)")
    parser.add_argument("--test", required=True, choices=TESTS, help="the test to run")
    parser.add_argument("--direction", choices=("warp", "weft", "both"), default="both",
                        help="the yarns along the specimen (default both; the bias and drape specimens have none)")
    parser.add_argument("--segments", type=positive_int, default=None, metavar="N",
                        help="segments along the specimen (default: 20 for cantilever, bending length within 0.2%%; "
                        "10 between the grips for tensile and shear; for bias: 10 diagonal rows of cells across its "
                        "width; for drape: 30 cells across the specimen's diameter, an even number)")
    parser.add_argument("--overhang", type=float, default=2.0, metavar="RATIO",
                        help="cantilever overhang in expected bending lengths, in (0, 4] (default 2: the "
                        "standard's 41.5 degrees)")
    parser.add_argument("--specimen-diameter", type=float, default=0.30, metavar="M",
                        help="drape: the specimen's diameter [m] (default 0.30; the standard's others are 0.24 for "
                        "limp and 0.36 for stiff fabrics)")
    parser.add_argument("--support-diameter", type=float, default=0.18, metavar="M",
                        help="drape: the diameter of the discs that hold the specimen [m] (default 0.18)")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="drape: seed of the small random lift that starts the folds (default 0)")
    parser.add_argument("--device", default="cpu", metavar="D", help='"cpu" (default) or "cuda[:N]"')
    parser.add_argument("--out", metavar="DIR", help="output folder (default: out/<scene name>)")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    import scenes

    if not 0.0 < args.overhang <= 4.0:
        raise UsageError(f"argument --overhang: {args.overhang:g} is out of range: expected a ratio in (0, 4]")
    if args.test == "bias" and args.direction != "both":
        raise UsageError(f"argument --direction: {args.direction!r}: the bias specimen's yarns run at 45 degrees "
                         "both ways: it has no direction (leave --direction out)")
    if args.test == "drape":
        _check_drape_arguments(args)
    if args.segments is not None and args.segments < 4:
        raise UsageError(f"argument --segments: {args.segments} is out of range: expected at least 4")
    try:
        scenes.check_device(args.device)
    except ValueError as exc:
        raise UsageError(f"argument --device: {args.device!r}: {exc}") from None
    scene = scenes.load_scene(args.scene, check_device=False)
    gravity = scene.simulation.gravity
    if args.test in ("cantilever", "drape") and not any(gravity):
        raise scenes.SceneError(f"{scene.source}: simulation.gravity = {list(gravity)}: the {args.test} test needs "
                                "gravity (the specimen bends under its own weight)")
    out_dir = Path(args.out) if args.out else Path("out") / Path(args.scene).stem
    check_output_folder(out_dir)
    scenes.init_warp_quietly()  # Warp starts here: with the command line's message settings
    import lab

    if args.test == "bias":
        return _run_bias(scene, args, out_dir)
    if args.test == "drape":
        return _run_drape(scene, args, out_dir)
    directions = lab.DIRECTIONS if args.direction == "both" else (args.direction,)
    results = []
    for direction in directions:
        segments = args.segments or (20 if args.test == "cantilever" else 10)
        print(f"lab {args.scene}: {args.test} along the {direction}, {segments} segments", file=sys.stderr)
        fabric = lab.strip_fabric(scene, direction)
        with scenes.quiet_module_loading():
            if args.test == "cantilever":
                results.append(lab.cantilever_test(fabric, direction=direction, ratio=args.overhang,
                                                   segments=segments, device=args.device))
            else:
                run_test = lab.tensile_test if args.test == "tensile" else lab.shear_test
                results.append(run_test(fabric, direction=direction, segments=segments, device=args.device))
    if args.test == "cantilever":
        _print_cantilever(results)
        figure = _plot_cantilever(results, out_dir / "cantilever.png")
    else:
        _print_in_plane(results)
        figure = _plot_in_plane(results, out_dir / f"{args.test}.png")
    return _write_report(args, results, figure, out_dir)


def _write_report(args, results, figure: Path, out_dir: Path) -> int:
    """Write DIR/lab.json (the scene, the test and each result's summary) and say what was written."""
    import scenes

    report = {"scene": str(args.scene), "test": args.test, "results": [r.summary() for r in results]}
    with scenes.atomic_path(out_dir / "lab.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out_dir / 'lab.json'} and {figure}")
    return 0


def _run_bias(scene, args, out_dir: Path) -> int:
    import lab
    import scenes

    cells = args.segments or 10
    print(f"lab {args.scene}: bias extension, {cells} rows of cells across", file=sys.stderr)
    with scenes.quiet_module_loading():
        result = lab.bias_extension_test(lab.strip_fabric(scene, "warp"), cells_across=cells, device=args.device)
    regions = result.region_shear()
    print(f"{'stiffness N/m':>14}{'expected':>12}{'error':>10}{'shear A':>9}{'B':>7}{'C':>7}{'slip mm':>10}"
          f"{'seconds':>9}")
    print(f"{result.stiffness:14.5g}{result.expected:12.5g}{result.error:10.2%}{regions['A']:9.3f}{regions['B']:7.3f}"
          f"{regions['C']:7.3f}{result.slip * 1e3:10.3g}{result.seconds:9.2f}")
    print("(shear of each region over the pin-jointed net's middle-region angle: 1, 1/2 and 0 for the net)")
    return _write_report(args, [result], _plot_bias(result, out_dir / "bias.png"), out_dir)


def _check_drape_arguments(args) -> None:
    if args.direction != "both":
        raise UsageError(
            f"argument --direction: {args.direction!r}: the drape specimen is a disc with both yarn "
            "families: it has no direction (leave --direction out)"
        )
    if args.segments is not None and (args.segments < 8 or args.segments % 2):
        raise UsageError(
            f"argument --segments: {args.segments} is out of range: expected an even number of at least "
            "8 cells across the drape specimen (its centre is a node)"
        )
    for name, value in (("--specimen-diameter", args.specimen_diameter), ("--support-diameter", args.support_diameter)):
        if not (math.isfinite(value) and value > 0.0):
            raise UsageError(f"argument {name}: {value:g} is out of range: expected a diameter > 0 m")
    if args.seed < 0:
        raise UsageError(f"argument --seed: {args.seed} is out of range: expected a seed >= 0")
    if args.support_diameter >= args.specimen_diameter:
        raise UsageError(
            f"argument --support-diameter: {args.support_diameter:g} m is out of range: expected less "
            f"than the specimen's {args.specimen_diameter:g} m"
        )


def _run_drape(scene, args, out_dir: Path) -> int:
    import lab
    import scenes

    cells = args.segments or 30
    print(
        f"lab {args.scene}: drape, {args.specimen_diameter:g} m specimen over {args.support_diameter:g} m discs, "
        f"{cells} cells across",
        file=sys.stderr,
    )
    with scenes.quiet_module_loading():
        result = lab.drape_test(
            lab.strip_fabric(scene, "warp"),
            specimen_diameter=args.specimen_diameter,
            support_diameter=args.support_diameter,
            cells=cells,
            seed=args.seed,
            device=args.device,
        )
    print(f"{'drape coefficient':>18}{'folds':>7}{'shadow m^2':>12}{'lowest mm':>11}{'steps':>7}{'seconds':>9}")
    print(
        f"{result.drape_coefficient:18.4f}{result.folds:7d}{result.shadow_area:12.5g}"
        f"{result.lowest_point * 1e3:11.4g}{result.settle.steps:7d}{result.settle.seconds:9.2f}"
    )
    return _write_report(args, [result], _plot_drape(result, out_dir / "drape.png"), out_dir)


def _plot_drape(result, path: Path) -> Path:
    """The shadow seen from above (its outline, the discs and the flat specimen) and the specimen at rest."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    import lab
    import scenes

    figure = plt.figure(figsize=(11, 5))
    top = figure.add_subplot(1, 2, 1)
    side = figure.add_subplot(1, 2, 2, projection="3d")
    angles = 2.0 * np.pi * np.arange(len(result.outline) + 1) / len(result.outline)
    outline = np.append(result.outline, result.outline[0]) * 1e3
    top.fill(outline * np.cos(angles), outline * np.sin(angles), color="0.75", label="shadow")
    for diameter, style, label in (
        (result.specimen_diameter, "--", "specimen"),
        (result.support_diameter, "-", "discs"),
    ):
        top.plot(
            0.5e3 * diameter * np.cos(angles),
            0.5e3 * diameter * np.sin(angles),
            style,
            color="black",
            linewidth=1,
            label=label,
        )
    top.set_aspect("equal")
    top.set_xlabel("x (warp) [mm]")
    top.set_ylabel("y (weft) [mm]")
    top.set_title(f"drape coefficient {result.drape_coefficient:.3f}, {result.folds} folds")
    top.legend(fontsize=8, loc="upper right")
    x = result.positions * 1e3
    inside = lab.cell_nodes(result.active)
    shown = np.where(inside[..., None], x, np.nan)
    side.plot_surface(
        shown[..., 0], shown[..., 1], shown[..., 2], color="tab:blue", edgecolor="navy", linewidth=0.2, alpha=0.9
    )
    side.set_box_aspect((1.0, 1.0, max(0.2, float(np.ptp(x[inside][:, 2])) / float(np.ptp(x[inside][:, 0])))))
    side.set_xlabel("x [mm]")
    side.set_ylabel("y [mm]")
    side.set_zlabel("z [mm]")
    side.set_title("the specimen at rest")
    with scenes.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path


def _plot_bias(result, path: Path) -> Path:
    """The specimen's shear at the largest load, region by region, and force over clamp displacement."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    import scenes

    figure, (field, curve) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [2.2, 1]})
    s, t, ratio = result.shear.T
    points = field.scatter(s * 1e3, t * 1e3, c=ratio, cmap="viridis", vmin=0.0, vmax=1.2, marker="D",
                           s=max(4.0, 2400.0 / result.cells_across**2))
    figure.colorbar(points, ax=field, shrink=0.6, label="shear / pin-jointed middle region's")
    for edge in (0.0, result.length):
        field.axvline(edge * 1e3, color="black", linewidth=1)
    field.set_xlabel("along the specimen from the clamp edge [mm]")
    field.set_ylabel("across [mm]")
    field.set_aspect("equal")
    field.set_title("bias extension: shear at the largest load")
    curve.plot(result.extensions * 1e3, result.forces, "o", label=f"measured: {result.stiffness:.4g} N/m")
    line = np.linspace(0.0, result.extensions.max(), 20)
    curve.plot(line * 1e3, result.expected * line, "--", label=f"pin-jointed net: {result.expected:.4g} N/m")
    curve.set_xlabel("clamp displacement [mm]")
    curve.set_ylabel("clamp force [N]")
    curve.grid(alpha=0.3)
    curve.legend(fontsize=8)
    with scenes.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path


def _print_cantilever(results) -> None:
    print(f"{'direction':<10}{'overhang mm':>12}{'angle deg':>10}{'c mm':>9}{'Peirce c mm':>12}{'expected c mm':>14}"
          f"{'G N*m':>11}{'seconds':>9}")
    for r in results:
        print(f"{r.direction:<10}{r.overhang * 1e3:12.4g}{math.degrees(r.chord_angle):10.3f}"
              f"{r.bending_length * 1e3:9.4g}{r.peirce_bending_length * 1e3:12.4g}"
              f"{r.expected_bending_length * 1e3:14.4g}{r.flexural_rigidity:11.3e}{r.settle.seconds:9.2f}")


def _plot_cantilever(results, path: Path) -> Path:
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


def _print_in_plane(results) -> None:
    unit = "N/m per rad" if results[0].test == "shear" else "N/m"
    print(f"{'direction':<10}{'stiffness ' + unit:>22}{'expected':>12}{'error':>10}{'seconds':>9}")
    for r in results:
        print(f"{r.direction:<10}{r.stiffness:22.5g}{r.expected:12.5g}{r.error:10.2%}{r.seconds:9.2f}")


def _plot_in_plane(results, path: Path) -> Path:
    """Force per width against strain (tensile) or shear angle (shear), with the expected small-strain line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    import scenes

    shear = results[0].test == "shear"
    figure, axes = plt.subplots(figsize=(6, 4.5))
    for r, color in zip(results, ("tab:blue", "tab:orange"), strict=False):
        scale = 1.0 if shear else 100.0
        axes.plot(r.strains * scale, r.forces, "o", color=color, label=f"{r.direction}: {r.stiffness:.4g}")
        line = np.linspace(0.0, r.strains.max(), 20)
        axes.plot(line * scale, r.expected * line, "--", color=color, alpha=0.6,
                  label=f"{r.direction}: expected {r.expected:.4g}")
    axes.set_xlabel("shear angle [rad]" if shear else "strain [%]")
    axes.set_ylabel("force per clamp length [N/m]" if shear else "force per width [N/m]")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title("shear test (KES-FB1)" if shear else "strip tensile test (ISO 13934-1)")
    with scenes.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path
