"""``warpweave fit SCENE --video CLIP --camera NAME [--video CLIP2 --camera NAME2 ...] --params ...``: fit scene
parameters to footage of the cloth filmed by the scene's calibrated cameras.

Each clip is tracked (``learning.cloth.track_footage``: its first frame shows the scene's initial state), and the
fit compares the cameras' projections of the simulated material points with the tracks; then the tracked points the
fit cannot explain (slipped tracks) are dropped and it is repeated (``learning.cloth.OutlierRejection``). Writes
DIR/fit.json, DIR/loss.png, DIR/fitted.toml and the tracks and the fitted cloth drawn over the footage
(``learning.cloth.write_footage_fit``).
"""

import sys
import time

from ._args import UsageError
from ._fitting import finish, search, start_scene

__all__ = ["clip_frame_times", "fit_footage", "read_frame_times", "track_clip"]

#: what a measurement kind holds and its unit, for messages
_MEASURED = {"pixels": ("tracks", "px"), "camera_points": ("depth points", "m")}


def fit_footage(args) -> int:
    """Track ``args.video`` through the cameras ``args.camera``, fit ``args.params``; write the results."""
    from learning import cloth

    if len(args.video) != len(args.camera or []):
        raise UsageError(f"{len(args.video)} --video but {len(args.camera or [])} --camera: expected one --camera NAME "
                         "after each --video CLIP (the scene's camera that filmed it)")
    unused = [flag for flag, value in (("--frames", args.frames), ("--nodes", args.nodes),
                                       ("--noise", args.noise or None), ("--no-sliding", not args.sliding or None))
              if value is not None]
    if unused:
        raise UsageError(f"{', '.join(unused)} with --video: these select and perturb observed trajectories; "
                         "expected none of them")
    if (args.frame_times or args.depth) and args.video is None:
        raise UsageError("--frame-times and --depth go with a --video clip: expected --video CLIP --camera NAME too")
    times = clip_frame_times(args.frame_times, args.video)
    depth = _depth_pairs(args.depth, args.camera)
    scene, out_dir = start_scene(args, command="fit")
    tracks = [track_clip(video, name, scene, scene_path=args.scene, times=times.get(video), quiet=args.quiet)
              for video, name in zip(args.video, args.camera, strict=True)]
    observations = tracks + _depth_points(depth, tracks, args.camera)
    outliers = None  # --outliers 0: every track kept
    if args.outliers is None:
        outliers = cloth.OutlierRejection()
    elif args.outliers > 0.0:
        outliers = cloth.OutlierRejection(threshold=args.outliers)
    fit = search(args, scene, observations, label="fit", outliers=outliers)
    if not args.quiet:
        for number, cameras in enumerate(fit.rejections, start=1):
            dropped = "; ".join(f"{c.dropped / (c.dropped + c.kept):.1%} of the {_MEASURED[c.kind][0]} of camera "
                                f"{c.camera!r} (sigma {c.sigma:.3g} {_MEASURED[c.kind][1]})" for c in cameras)
            print(f"outliers, round {number}: dropped {dropped} beyond {outliers.threshold:g} sigma; fitted again from "
                  "the fitted values", file=sys.stderr)
        if fit.rejections:
            print("(what follows is the last fit's: its iterations and loss, over the measurements left)",
                  file=sys.stderr)
    cloth.write_footage_fit(out_dir, fit, videos=list(args.video) + [path for _, path in depth],
                            scene_path=str(args.scene))
    clips = ", ".join(name for pair in cloth.clip_names(list(args.camera)).values() for name in pair)
    return finish(fit, out_dir, quiet=args.quiet, files=f"fit.json, loss.png, fitted.toml, {clips}")


def track_clip(video: str, camera: str, scene, *, scene_path: str, times=None, quiet: bool = False):
    """The ``learning.cloth.PointTracks`` of ``video``, filmed by the scene's camera named ``camera``
    (``learning.cloth.track_footage``); a UsageError for an unknown camera or footage that cannot be tracked."""
    from learning import cloth
    from learning.fit import FitError

    cameras = {entry.name: entry for entry in scene.cameras}
    if camera not in cameras:
        known = ", ".join(repr(n) for n in cameras) or "none ([[cameras]] in the scene file adds them)"
        raise UsageError(f"argument --camera: {camera!r} is not a camera of {scene_path}: expected one of {known}")
    began = time.perf_counter()
    try:
        tracked = cloth.track_footage(video, cameras[camera].build(), scene, times=times)
    except FitError as exc:
        raise UsageError(str(exc)) from None
    if not quiet:
        print(f"tracked {len(tracked.points)} points of {video} through {len(tracked.times)} frames "
              f"({tracked.seen[-1].mean():.0%} to the last) in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return tracked


def _keyed(values: list[str], *, flag: str, form: str, known: list[str], unknown) -> list[tuple[str, str]]:
    """(key, path) of each ``flag KEY=PATH``; a UsageError for one not of that ``form`` or whose key is not ``known``
    (``unknown(key)`` says why)."""
    pairs = []
    for value in values:
        key, sep, path = value.partition("=")
        if not key or not sep or not path:
            raise UsageError(f"argument {flag}: {value!r}: expected {form}")
        if key not in known:
            raise UsageError(f"argument {flag}: {unknown(key)}")
        pairs.append((key, path))
    return pairs


def clip_frame_times(values: list[str], videos: list[str]) -> dict:
    """{clip: frame times [s]} from ``--frame-times CLIP=TIMES`` (a text file, one time per line), or a UsageError."""
    pairs = _keyed(values, flag="--frame-times", form="CLIP=TIMES (a text file of frame times)", known=videos,
                   unknown=lambda clip: f"{clip} is not a --video clip: expected one of {', '.join(videos)}")
    return {clip: read_frame_times(path) for clip, path in pairs}


def read_frame_times(path: str):
    """The frame times [s] in the text file ``path`` (one per line, increasing), or a UsageError."""
    import numpy as np

    try:
        found = np.atleast_1d(np.loadtxt(path, dtype=np.float64, ndmin=1))
    except (OSError, ValueError) as exc:
        raise UsageError(f"argument --frame-times: {path}: not a readable list of times ({exc})") from None
    if found.ndim != 1 or not np.all(np.isfinite(found)) or np.any(np.diff(found) <= 0):
        raise UsageError(f"argument --frame-times: {path}: expected one finite time [s] per line, increasing")
    return found


def _depth_pairs(values: list[str], cameras: list[str]) -> list[tuple[str, str]]:
    """(camera, depth file) of each ``--depth NAME=DEPTH.npz`` of a camera with a --video, or a UsageError."""
    return _keyed(values, flag="--depth", form="NAME=DEPTH.npz (a camera and its depth maps)", known=cameras,
                  unknown=lambda name: f"camera {name!r} has no --video: expected the depth camera's clip (--video "
                  f"CLIP --camera {name}), whose tracks the depth maps locate")


def _depth_points(pairs: list[tuple[str, str]], tracks: list, cameras: list[str]) -> list:
    """The ``CameraPoints`` of each (camera, depth file) from the tracks of the camera's clip."""
    from learning import cloth
    from learning.fit import FitError
    from scenes import RenderError
    from scenes.footage import load_depth

    points = []
    for name, path in pairs:
        tracked = tracks[cameras.index(name)]
        try:
            depth = load_depth(path, tracked.camera)
            points.append(cloth.camera_points(tracked, depth.depth, depth.times, source=path))
        except (RenderError, FitError) as exc:
            raise UsageError(str(exc)) from None
    return points
