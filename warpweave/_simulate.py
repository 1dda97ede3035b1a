"""``warpweave simulate SCENE``: run a scene file and write trajectory.npz and summary.json."""

import json
import platform
import sys
from importlib import metadata
from pathlib import Path

from ._args import UsageError, check_output_folder, positive_int, world_count
from ._progress import ProgressBar
from ._resources import check_memory

__all__ = ["add_parser", "run"]


def add_parser(commands):
    parser = commands.add_parser(
        "simulate",
        help="simulate a scene file",
        description="Simulate a scene file; write DIR/trajectory.npz and DIR/summary.json.",
    )
    parser.add_argument("scene", metavar="SCENE", help="scene file (.toml)")
    parser.add_argument(
        "--steps", type=positive_int, metavar="N", help="number of steps (default: the scene's)"
    )
    parser.add_argument(
        "--device", metavar="D", help='"auto", "cpu", "cuda" or "cuda:N" (default: the scene\'s)'
    )
    parser.add_argument(
        "--worlds",
        type=world_count,
        default=1,
        metavar="B",
        help="simulate B identical worlds at once (default 1)",
    )
    parser.add_argument("--out", metavar="DIR", help="output folder (default: out/<scene name>)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no final message")
    parser.add_argument("--strict", action="store_true",
                        help="stop (exit status 1, nothing written) at the first linear solve that does not reach "
                        "its tolerance, instead of counting it in summary.json")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    import scenes

    scene = scenes.load_scene(args.scene, check_device=args.device is None)
    overrides = {}
    if args.steps is not None:
        if args.steps < scene.simulation.save_every:
            raise UsageError(f"argument --steps: {args.steps} is fewer than simulation.save_every = "
                             f"{scene.simulation.save_every} of {scene.source}: no state after the initial one "
                             "would be saved")
        overrides["simulation.steps"] = args.steps
    if args.device is not None:
        try:
            scenes.check_device(args.device)
        except ValueError as exc:
            raise UsageError(f"argument --device: {args.device!r}: {exc}") from None
        overrides["simulation.device"] = args.device
    scene = scenes.with_parameters(scene, overrides) if overrides else scene
    out_dir = Path(args.out) if args.out else Path("out") / Path(args.scene).stem
    check_output_folder(out_dir)
    check_memory(scene, worlds=args.worlds, device=_device(scene),
                 what=f"{args.worlds} world(s) of {scene.simulation.frames} frames")

    bar = None
    if not args.quiet:
        width, height = scene.cloth.nodes
        print(
            f"simulate {args.scene}: {width} x {height} nodes, {args.worlds} world(s), "
            f"{scene.simulation.steps} steps of {scene.simulation.dt:g} s on {_device(scene)}",
            file=sys.stderr,
        )
        bar = ProgressBar(label="simulate")
    try:
        result = scenes.simulate_scene(scene, worlds=args.worlds, progress=bar, strict=args.strict)
    finally:
        if bar is not None:
            bar.close()
    trajectory = result.trajectory
    path = scenes.save_trajectory(
        out_dir / "trajectory.npz",
        x=trajectory.x,
        u=trajectory.u,
        t=trajectory.t,
        xdot=trajectory.xdot,
        udot=trajectory.udot,
        scene_json=trajectory.scene_json,
    )
    from scenes.handles import write_handle_curves

    handles = write_handle_curves(trajectory, out_dir)  # the force-displacement curves of keyframed handles
    summary = _summary(args.scene, scene, result, worlds=args.worlds)
    with scenes.atomic_path(out_dir / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    if result.health.unconverged:
        print(f"warpweave: warning: {result.health.unconverged} linear solve(s) of (step, world) did not reach the "
              f"tolerance {scene.simulation.tolerance:g} (worst relative residual {result.health.worst_residual:.3g});"
              " raise simulation.max_iterations or lower dt (--strict stops at the first)", file=sys.stderr)
    if not args.quiet:
        extra = "".join(f", {file}" for file in handles)
        print(
            f"wrote {path} ({trajectory.frames} frames x {trajectory.worlds} world(s)){extra} and "
            f"{out_dir / 'summary.json'}: {result.steps} steps in {result.rollout_seconds:.2f} s "
            f"({result.steps_per_second:.3g} steps/s on {result.device})"
        )
    return 0


def _summary(scene_path: str, scene, result, *, worlds: int) -> dict:
    """The contents of summary.json for ``result`` (a ``scenes.SimulationRun``) of ``scene``."""
    import numpy as np

    iterations = np.asarray(result.iterations, dtype=float)
    return {
        "scene": str(scene_path),
        "steps": result.steps,
        "dt": scene.simulation.dt,
        "simulated_seconds": scene.simulation.duration,
        "save_every": scene.simulation.save_every,
        "substeps": scene.simulation.substeps,
        "frames": result.trajectory.frames,
        "worlds": worlds,
        "nodes": list(scene.cloth.nodes),
        "dofs_per_world": scene.cloth.dofs,
        "device": result.device,
        "build_seconds": round(result.build_seconds, 6),
        "wall_seconds": round(result.rollout_seconds, 6),
        "steps_per_second": result.steps_per_second,
        "world_steps_per_second": result.steps_per_second * worlds,
        "solver_iterations_mean": float(iterations.mean()) if iterations.size else 0.0,
        "solver_iterations_max": int(iterations.max()) if iterations.size else 0,
        "solver": {"tolerance": scene.simulation.tolerance, "max_iterations": scene.simulation.max_iterations,
                   **result.health.summary()},
        "warpweave_version": _version(),
        "python": platform.python_version(),
    }


def _version() -> str:
    try:
        return metadata.version("warpweave")
    except metadata.PackageNotFoundError:
        return "unknown"


def _device(scene) -> str:
    import scenes

    try:
        return scenes.resolve_device(scene.simulation.device)
    except ValueError:
        return scene.simulation.device  # simulate_scene reports it as a SceneError
