"""``warpweave fit SCENE --observed OBS.npz --params P1,P2,...``: fit scene parameters to observed motion;
``warpweave fit SCENE --video CLIP --camera NAME --params ...``: to footage of it (``_fit_footage``);
``warpweave fit SCENE --lab MEASUREMENTS.toml --params ...``: to measured lab values (``_fit_lab``).

Writes DIR/fit.json, DIR/loss.png, DIR/comparison.png and DIR/fitted.toml (atomically); Ctrl-C
stops the fit and writes the best result so far (exit status 130). Launched with ``torchrun --nproc-per-node P
-m warpweave fit ...`` the processes share out the forward-mode directions (each simulates its share as worlds) and
the first one reports and writes.
"""

import argparse

from ._args import UsageError, positive_int, trajectory_path
from ._fit_footage import fit_footage
from ._fit_lab import fit_lab
from ._fitting import add_search_options, finish, observations_of, search, start

__all__ = ["add_parser", "join_process_group", "run"]


def join_process_group() -> bool:
    """Under ``torchrun`` (WORLD_SIZE > 1), join the process group (gloo) so that forward-mode directions are shared
    out over the processes; True for the process that reports and writes (rank 0, or the only one)."""
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return True
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return dist.get_rank() == 0


def add_parser(commands):
    parser = commands.add_parser(
        "fit",
        help="fit scene parameters to an observed trajectory or to measured lab values",
        description="Fit yarn and crossing parameters of a scene to observed motion (a trajectory.npz); write "
        "DIR/fit.json (values, loss history, uncertainty), DIR/loss.png, DIR/comparison.png, DIR/fitted.toml. "
        "With --lab, fit them so that the virtual lab tests reproduce measured fabric values (areal density, "
        "bending lengths, tensile stiffnesses; docs/LAB.md): DIR/fit.json and DIR/fitted.toml.",
    )
    parser.add_argument("scene", metavar="SCENE", help="scene file (.toml); its values are the starting point")
    parser.add_argument("--observed", type=trajectory_path, metavar="OBS",
                        help="observed trajectory (.npz, e.g. written by warpweave simulate)")
    parser.add_argument("--lab", metavar="MEASUREMENTS",
                        help="measured lab values (.toml: areal_density, [bending_length], [tensile_stiffness]) "
                        "instead of --observed; fitted by Gauss-Newton steps from the virtual tests")
    parser.add_argument("--video", action="append", metavar="CLIP",
                        help="footage of the cloth (.mp4) instead of --observed, its first frame the scene's initial "
                        "state; each --video is followed by the --camera that filmed it (repeatable: several "
                        "cameras). Points are tracked through it and the fit compares the cameras' projections "
                        "of the simulation with the tracks; also writes DIR/tracks.mp4 and DIR/overlay.mp4")
    parser.add_argument("--camera", action="append", metavar="NAME",
                        help="with --video: the scene's camera ([[cameras]]) that filmed the clip before it")
    parser.add_argument("--depth", action="append", default=[], metavar="NAME=DEPTH",
                        help="depth maps of camera NAME (.npz, as warpweave render --camera NAME --out DEPTH.npz "
                        "writes): its --video's tracks are located in 3D and the fit compares them too, in units "
                        "of the cloth's spacing (repeatable)")
    parser.add_argument("--frame-times", action="append", default=[], metavar="CLIP=TIMES",
                        help="the times [s] of a clip's frames, one per line of a text file (default: the camera's "
                        "start_time + time_offset + k / fps): for clips with dropped frames (repeatable)")
    parser.add_argument("--outliers", type=_threshold, metavar="K",
                        help="with --video: after the fit, drop each tracked point from the first frame its "
                        "reprojection error exceeds K robust standard deviations of its camera's errors, and fit "
                        "again from the fitted values (up to 4 rounds; default 2.5; 0 keeps every track)")
    parser.add_argument("--segments", type=positive_int, default=20, metavar="N",
                        help="with --lab: the cantilever's segments (default 20: bending lengths 0.1%% low)")
    parser.add_argument("--frames", type=_frame_count, metavar="K",
                        help="use the first K >= 2 frames (default all; the first is the initial state)")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: out/fit-<scene name>)")
    parser.add_argument("--nodes", type=_fraction, metavar="FRACTION",
                        help="observe only this fraction of the crossings, drawn at random (default all nodes)")
    parser.add_argument("--noise", type=_noise, default=0.0, metavar="SIGMA",
                        help="add Gaussian noise of SIGMA metres to the observed positions (default 0)")
    parser.add_argument("--no-sliding", dest="sliding", action="store_false",
                        help="compare positions only, not the observed sliding coordinates")
    add_search_options(parser, default_estimator=None, estimator_default_text=(
        "default reverse; with --video forward over every parameter's direction for up to 16 parameters, which "
        "also fits cameras' time offsets, reverse for more"))
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    given = [source for source in (args.observed, args.lab, args.video) if source is not None]
    if len(given) != 1:
        raise UsageError("give one of --observed OBS.npz (motion), --video CLIP --camera NAME (footage) or "
                         "--lab MEASUREMENTS.toml (lab values)")
    if args.camera is not None and args.video is None:
        raise UsageError("--camera names the camera of a --video clip: expected --video CLIP --camera NAME")
    if args.outliers is not None and args.video is None:
        raise UsageError("--outliers drops tracked points of --video clips: expected --video CLIP --camera NAME")
    if args.lab is not None:
        return fit_lab(args)
    if args.video is not None:
        return fit_footage(args)  # its estimator's default is search()'s: forward for up to 16 parameters
    args.estimator = args.estimator or "reverse"
    from learning import cloth

    leader = join_process_group()
    if not leader:
        args.quiet = True
    scene, out_dir, trajectory = start(args, trajectory_file=args.observed, command="fit")
    nodes = None
    if args.nodes is not None:
        nodes = cloth.random_crossings(scene.cloth.nodes, args.nodes, seed=args.seed)
    observations = observations_of(trajectory, scene, frames=args.frames, nodes=nodes, noise=args.noise,
                                   sliding=args.sliding, seed=args.seed)
    fit = search(args, scene, observations, label="fit")
    reference = cloth.reference_values(trajectory, fit.result.names)
    if not leader:  # the other processes of a torchrun launch only simulate their share of the directions
        return 0
    cloth.write_fit(out_dir, fit, scene_path=str(args.scene), observed_path=str(args.observed), reference=reference)
    return finish(fit, out_dir, quiet=args.quiet, reference=reference,
                  files="fit.json, loss.png, comparison.png and fitted.toml")


def _frame_count(text: str) -> int:
    """An integer >= 2: the initial state and at least one frame of motion."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 2:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer >= 2 (the first frame is the initial "
                                          "state; the fit needs motion after it)")
    return value


def _noise(text: str) -> float:
    """--noise SIGMA: a standard deviation in metres."""
    return _nonnegative(text, expected="a standard deviation >= 0 in metres")


def _threshold(text: str) -> float:
    """--outliers K: a number of standard deviations (0: no rejection)."""
    return _nonnegative(text, expected="a number of standard deviations >= 0 (0 keeps every track)")


def _nonnegative(text: str, *, expected: str) -> float:
    """A finite number >= 0, else an argparse error saying what was ``expected``."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected {expected}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a fraction in (0, 1]")
    return value
