"""``warpweave export TRAJ --format vtk|obj --out DIR``: files for ParaView, Blender and friends."""

from pathlib import Path

from ._args import check_output_folder, positive_int
from ._choices import EXPORT_FORMATS

__all__ = ["add_parser", "run"]


def add_parser(commands):
    parser = commands.add_parser(
        "export",
        help="export a trajectory as a ParaView .pvd series or OBJ files",
        description="Export a trajectory: --format vtk writes DIR/cloth.pvd (a ParaView time series of .vtp "
        "files with u, strain, sliding and speed per node); --format obj writes one OBJ per frame.",
    )
    parser.add_argument("trajectory", metavar="TRAJ", help="trajectory file (.npz) or scene file (.toml)")
    parser.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="vtk or obj")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--world", type=int, default=0, metavar="b", help="world to export (default 0)")
    parser.add_argument(
        "--every",
        type=positive_int,
        default=1,
        metavar="N",
        help="export every N-th frame and the last (default 1)",
    )
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    import scenes

    from ._render import load_input

    check_output_folder(Path(args.out))
    trajectory = load_input(args.trajectory)
    files = scenes.export_trajectory(
        trajectory, args.out, format=args.format, world=args.world, every=args.every
    )
    print(
        f"wrote {len(files)} file(s) to {args.out}" + (f" (open {files[-1]})" if args.format == "vtk" else "")
    )
    return 0
