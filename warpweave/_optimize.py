"""``warpweave optimize SCENE --target SHAPE.npz --params pins[0].path``: find the inputs that shape the cloth.

The scene's scripted inputs (handle keyframes, gust keyframes) or any other parameters are searched so that
the simulated cloth matches a target shape at one time: the positions of a frame of SHAPE.npz (by default its
last). Same estimators, optimizers and outputs as ``warpweave fit``: DIR/fit.json (with the target and the
RMS distance to it), DIR/loss.png, DIR/comparison.png, DIR/optimized.toml, and pictures of the cloth at that
time before (the scene's inputs) and after (the optimized ones) next to the target.
"""

from pathlib import Path

from ._args import UsageError, positive_float, trajectory_path
from ._fitting import add_search_options, finish, observations_of, search, start

__all__ = ["add_parser", "run"]

_PICTURE_SIZE = (640, 480)


def add_parser(commands):
    parser = commands.add_parser(
        "optimize",
        help="find inputs (handle or wind keyframes, or any parameter) that bring the cloth to a target shape",
        description="Search scene parameters, typically the keyframes of a handle (--params pins[0].path), so that "
        "the cloth matches a target shape (a frame of a trajectory.npz) at a given time; write DIR/fit.json, "
        "DIR/loss.png, DIR/comparison.png, DIR/optimized.toml and DIR/before.png, after.png, target.png.",
    )
    parser.add_argument("scene", metavar="SCENE", help="scene file (.toml); its values are the starting point")
    parser.add_argument("--target", required=True, type=trajectory_path, metavar="SHAPE",
                        help="trajectory (.npz) holding the target shape (e.g. written by warpweave simulate)")
    parser.add_argument("--time", type=positive_float, metavar="T",
                        help="time [s] of the target shape in SHAPE and of the match (default: SHAPE's last frame)")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: out/optimize-<scene name>)")
    parser.add_argument("--no-pictures", dest="pictures", action="store_false",
                        help="leave out before.png, after.png and target.png")
    add_search_options(parser, default_estimator=None)
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    import numpy as np

    import scenes
    from learning import cloth

    scene, out_dir, target = start(args, trajectory_file=args.target, command="optimize")
    frame = _target_frame(target, args.time)
    observations = observations_of(target, scene, frame_indices=[frame], sliding=False)
    fit = search(args, scene, observations, label="optimize")
    rest, _ = scenes.rest_state(scene)
    goal = target.x[0, frame]
    initial, optimized = fit.objective.positions(np.stack([fit.space.initial_theta(), fit.result.theta]))[:, -1]
    scale = float(np.sqrt(((goal - rest) ** 2).sum(-1).mean()))
    distances = [float(np.sqrt(((x - goal) ** 2).sum(-1).mean())) for x in (initial, optimized)]
    shape = {"target": {"file": str(args.target), "time_s": float(target.t[frame]), "frame": frame,
                        "rms_displacement_from_rest_m": scale},
             "rms_distance_to_target_m": {"initial": distances[0], "optimized": distances[1]},
             "relative_rms_distance": {"initial": distances[0] / scale if scale else None,
                                       "optimized": distances[1] / scale if scale else None}}
    pictures = _pictures(scene, fit.scene, target, frame) if args.pictures else None
    cloth.write_fit(out_dir, fit, scene_path=str(args.scene), observed_path=str(args.target), report_extra=shape,
                    scene_file="optimized.toml", more_files=pictures)
    lines = []
    if scale:
        relative = shape["relative_rms_distance"]
        lines.append(f"RMS distance to the target at t = {target.t[frame]:g} s: {100 * relative['initial']:.3g}% -> "
                     f"{100 * relative['optimized']:.3g}% of the target's RMS displacement from rest ({scale:.3g} m)")
    files = "fit.json, loss.png, comparison.png, optimized.toml" + (" and pictures" if args.pictures else "")
    return finish(fit, out_dir, quiet=args.quiet, lines=lines, files=files)


def _target_frame(target, time) -> int:
    """The frame of ``target`` at ``time`` [s] (default its last), or a UsageError naming the frames."""
    import numpy as np

    if time is None:
        return target.frames - 1
    matches = np.flatnonzero(np.isclose(target.t, time, rtol=1e-9, atol=1e-12))
    if matches.size == 0:
        raise UsageError(f"argument --time: {time:g} s is not a frame time of {target.path} (frames from "
                         f"{target.t[0]:g} to {target.t[-1]:g} s, every {target.t[1] - target.t[0]:g} s)"
                         if target.frames > 1 else f"argument --time: {time:g} s: {target.path} has one frame")
    return int(matches[0])


def _pictures(start_scene, optimized_scene, target, frame):
    """A writer of before.png, after.png and target.png: the cloth at the target's time with the scene's
    inputs, with the optimized ones, and the target itself, from one camera framed on all three."""

    def write(folder: Path) -> None:
        import imageio.v3 as iio
        import numpy as np

        import scenes
        from scenes.render import ClothRenderer

        time = float(target.t[frame])
        steps = max(1, int(round(time / start_scene.simulation.dt)))
        shapes = []
        for scene in (start_scene, optimized_scene):
            short = scenes.with_parameters(scene, {"simulation.steps": steps, "simulation.save_every": steps})
            shapes.append(scenes.simulate_scene(short).trajectory)
        # one world whose three frames are before, after and the target: one renderer, one camera for all
        x = np.stack([shapes[0].x[0, -1], shapes[1].x[0, -1], target.x[0, frame]])[None]
        u = np.stack([shapes[0].u[0, -1], shapes[1].u[0, -1], target.u[0, frame]])[None]
        together = scenes.Trajectory(x=x, u=u, t=np.array([time, time * (1 + 1e-12), time * (1 + 2e-12)]),
                                     scene_json=shapes[0].scene_json)
        with ClothRenderer(together, size=_PICTURE_SIZE, annotations=False) as renderer:
            for k, name in enumerate(("before", "after", "target")):
                iio.imwrite(folder / f"{name}.png", renderer.image(k), extension=".png")

    return write
