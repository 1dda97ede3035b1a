"""``warpweave render TRAJ --out FILE``: a PNG of one frame, or a GIF/MP4 of the whole trajectory."""

from pathlib import Path

from ._args import UsageError, check_output_file, positive_float, positive_int, window_size
from ._choices import COLORS, STYLES
from ._progress import ProgressBar

__all__ = ["add_parser", "run"]


def add_parser(commands):
    parser = commands.add_parser(
        "render",
        help="render a trajectory to .png, .gif or .mp4",
        description="Render a trajectory off-screen: FILE.png shows one frame (the last by default); "
        "FILE.gif and FILE.mp4 animate all frames. A scene file (.toml) renders its initial state.",
    )
    parser.add_argument("trajectory", metavar="TRAJ", help="trajectory file (.npz) or scene file (.toml)")
    parser.add_argument("--out", required=True, metavar="FILE", help="output picture: .png, .gif or .mp4")
    parser.add_argument(
        "--frame",
        type=int,
        metavar="K",
        help="frame to show in a .png (negative counts from the end; default the last)",
    )
    parser.add_argument(
        "--color",
        choices=COLORS,
        help="colour the cloth by yarn strain, sliding distance or node speed "
        "(default: the warp and the weft yarns in two colours)",
    )
    parser.add_argument(
        "--style",
        choices=STYLES,
        default="auto",
        help="tubes: every yarn as a tube over and under its crossings; surface: a smooth sheet; speckle: the "
        "sheet painted with a random speckle pattern that optical tracking can follow; "
        "auto (default): tubes unless they would be under 2 pixels wide",
    )
    parser.add_argument(
        "--zoom", type=positive_float, help="magnify the view of the cloth's centre (default 1)"
    )
    parser.add_argument(
        "--camera",
        metavar="NAME",
        help="film the cloth with the scene's camera NAME ([[cameras]]): FILE.mp4 or FILE.gif is its footage at "
        "its resolution and frame rate from its start time, states interpolated between the saved frames; "
        "FILE.npz its depth maps (z along its axis [m], NaN where nothing is seen: a depth camera's frames); "
        "FILE.png shows frame K as it sees it. No annotations; --size, --zoom, --fps and --every do not apply",
    )
    parser.add_argument(
        "--background",
        metavar="COLOR|FILE",
        help="behind the cloth: a colour (white, '#d0d0c8') or, with --camera, a picture (.png, .jpg) at the "
        "camera's resolution (default white)",
    )
    parser.add_argument("--yarns", action="store_true", help="with the surface, draw the yarns as lines")
    parser.add_argument(
        "--no-annotations",
        dest="annotations",
        action="store_false",
        help="leave out the colour bar and the time caption",
    )
    parser.add_argument("--world", type=int, default=0, metavar="b", help="world to show (default 0)")
    parser.add_argument(
        "--every", type=positive_int, metavar="N", help="animate every N-th frame (default 1)"
    )
    parser.add_argument(
        "--fps", type=positive_float, help="animation frames per second (default 20)"
    )
    parser.add_argument(
        "--size",
        type=window_size,
        metavar="WxH",
        help="picture size in pixels (default 800x600 for .png, 640x480 for animations)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no final message")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    import scenes

    check_output_file(Path(args.out))
    trajectory = load_input(args.trajectory)
    bar = None if args.quiet else ProgressBar(label="render", unit="frame")
    options = {"color": args.color, "style": args.style, "world": args.world}
    try:
        if args.camera is not None:
            path = _render_camera(args, trajectory, options, progress=bar)
        else:
            given = {"every": args.every, "fps": args.fps, "size": args.size, "zoom": args.zoom}
            if args.background is not None:
                from scenes.footage import read_background

                given["background"] = read_background(args.background)
            path = scenes.render_file(
                trajectory,
                args.out,
                frame=args.frame,
                yarns=args.yarns,
                annotations=args.annotations,
                progress=bar,
                **options,
                **{key: value for key, value in given.items() if value is not None},
            )
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        print(f"wrote {path}")
    return 0


def _render_camera(args, trajectory, options: dict, *, progress) -> Path:
    """``--camera NAME``: the camera's footage (.mp4, .gif) or its picture of one frame (.png)."""
    from scenes import footage
    from scenes.render import ANIMATION_SUFFIXES, render_image

    unused = [flag for flag, value in (("--size", args.size), ("--zoom", args.zoom), ("--fps", args.fps),
                                       ("--every", args.every), ("--yarns", args.yarns or None)) if value is not None]
    if unused:
        raise UsageError(f"{', '.join(unused)} with --camera {args.camera}: the camera sets the picture's size, "
                         "view and frame rate: expected none of them")
    camera = footage.scene_camera(trajectory, args.camera)
    if Path(args.out).suffix.lower() == ".npz":
        if args.color or args.background or args.frame is not None:
            raise UsageError(f"--color, --background or --frame with depth maps ({args.out}): a depth camera sees "
                             "distances, every frame: expected none of them")
        return footage.render_depth(trajectory, args.out, camera=camera, world=args.world, progress=progress)
    background = footage.read_background(args.background or "white", camera)
    if Path(args.out).suffix.lower() in ANIMATION_SUFFIXES:
        if args.frame is not None:
            raise UsageError(f"--frame {args.frame} with an animation ({args.out}): a camera's footage shows every "
                             "frame of its own; expected --frame with a .png only")
        return footage.render_footage(trajectory, args.out, camera=camera, background=background,
                                      progress=progress, **options)
    frame = -1 if args.frame is None else args.frame
    return render_image(trajectory, args.out, frame=frame, camera=camera, background=background, **options)


def load_input(name: str):
    """A ``scenes.Trajectory`` from a trajectory file, or the one-frame initial state of a scene file (.toml)."""
    import scenes

    if Path(name).suffix.lower() == ".toml":
        return scenes.rest_trajectory(scenes.load_scene(name, check_device=False))
    return scenes.load_trajectory(name)
