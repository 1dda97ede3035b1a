"""``warpweave fit SCENE --video CLIP --camera NAME [--video CLIP2 --camera NAME2 ...] --params ...``: fit scene
parameters to footage of the cloth filmed by the scene's calibrated cameras.

Each clip is tracked (``learning.cloth.track_footage``: its first frame shows the scene's initial state), and the
fit compares the cameras' projections of the simulated material points with the tracks. Writes DIR/fit.json,
DIR/loss.png, DIR/fitted.toml and the tracks and the fitted cloth drawn over the footage
(``learning.cloth.write_footage_fit``).
"""

import sys
import time

from ._args import UsageError
from ._fitting import finish, search, start_scene

__all__ = ["fit_footage"]


def fit_footage(args) -> int:
    """Track ``args.video`` through the cameras ``args.camera``, fit ``args.params``; write the results."""
    from learning import cloth
    from learning.fit import FitError

    if len(args.video) != len(args.camera or []):
        raise UsageError(f"{len(args.video)} --video but {len(args.camera or [])} --camera: expected one --camera NAME "
                         "after each --video CLIP (the scene's camera that filmed it)")
    unused = [flag for flag, value in (("--frames", args.frames), ("--nodes", args.nodes),
                                       ("--noise", args.noise or None), ("--no-sliding", not args.sliding or None))
              if value is not None]
    if unused:
        raise UsageError(f"{', '.join(unused)} with --video: these select and perturb observed trajectories; "
                         "expected none of them")
    if args.frame_times and args.video is None:
        raise UsageError("--frame-times gives the frame times of a --video clip: expected --video CLIP too")
    times = _frame_times(args.frame_times, args.video)
    scene, out_dir = start_scene(args, command="fit")
    cameras = {camera.name: camera for camera in scene.cameras}
    tracks = []
    for video, name in zip(args.video, args.camera, strict=True):
        if name not in cameras:
            known = ", ".join(repr(n) for n in cameras) or "none ([[cameras]] in the scene file adds them)"
            raise UsageError(f"argument --camera: {name!r} is not a camera of {args.scene}: expected one of {known}")
        began = time.perf_counter()
        try:
            tracked = cloth.track_footage(video, cameras[name].build(), scene, times=times.get(video))
        except FitError as exc:
            raise UsageError(str(exc)) from None
        if not args.quiet:
            print(f"tracked {len(tracked.points)} points of {video} through {len(tracked.times)} frames "
                  f"({tracked.seen[-1].mean():.0%} to the last) in {time.perf_counter() - began:.1f} s",
                  file=sys.stderr)
        tracks.append(tracked)
    fit = search(args, scene, tracks, label="fit")
    cloth.write_footage_fit(out_dir, fit, videos=list(args.video), scene_path=str(args.scene))
    clips = ", ".join(name for pair in cloth.clip_names(list(args.camera)).values() for name in pair)
    return finish(fit, out_dir, quiet=args.quiet, files=f"fit.json, loss.png, fitted.toml, {clips}")


def _frame_times(pairs: list[str], videos: list[str]) -> dict:
    """{clip: frame times [s]} from ``--frame-times CLIP=TIMES`` (a text file, one time per line), or a UsageError."""
    import numpy as np

    times = {}
    for pair in pairs:
        clip, sep, path = pair.partition("=")
        if not sep or not path:
            raise UsageError(f"argument --frame-times: {pair!r}: expected CLIP=TIMES (a text file of frame times)")
        if clip not in videos:
            raise UsageError(f"argument --frame-times: {clip} is not a --video clip: expected one of "
                             f"{', '.join(videos)}")
        try:
            values = np.atleast_1d(np.loadtxt(path, dtype=np.float64, ndmin=1))
        except (OSError, ValueError) as exc:
            raise UsageError(f"argument --frame-times: {path}: not a readable list of times ({exc})") from None
        if values.ndim != 1 or not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
            raise UsageError(f"argument --frame-times: {path}: expected one finite time [s] per line, increasing")
        times[clip] = values
    return times
