"""warpweave fit SCENE --video CLIP --camera NAME: footage rendered from a simulation is tracked and fitted, the
results land in the output folder (fit.json with each camera's tracks and reprojection errors, the tracks and the
overlays as clips), and bad requests are one-line errors with exit status 2; warpweave posterior --video: the same
footage's posterior."""

import json
import re
from pathlib import Path

import imageio.v3 as iio
import pytest

import scenes
from warpweave.cli import main

FILMED = Path(scenes.__file__).parent / "examples" / "filmed.toml"


@pytest.fixture(scope="module")
def filmed(tmp_path_factory):
    """The example scene shortened to 60 steps, simulated and filmed by its camera 'front' (speckle) at 640 x 480 (a
    quarter of its pixels: quicker)."""
    folder = tmp_path_factory.mktemp("filmed")
    scene = folder / "filmed.toml"
    scene.write_text(FILMED.read_text().replace("steps = 150", "steps = 60").replace(
        'name = "front"\nresolution = [1280, 960]', 'name = "front"\nresolution = [640, 480]'))
    assert main(["simulate", str(scene), "--out", str(folder / "run"), "--quiet"]) == 0
    clip = folder / "front.mp4"
    assert main(["render", str(folder / "run" / "trajectory.npz"), "--camera", "front", "--style", "speckle",
                 "--out", str(clip), "--quiet"]) == 0
    return scene, clip


def test_a_fit_to_footage_writes_the_results_and_lowers_the_reprojection_error(filmed, tmp_path, capsys):
    scene, clip = filmed
    out = tmp_path / "fit"
    name = "materials.cotton.young_modulus"
    assert main(["fit", str(scene), "--video", str(clip), "--camera", "front", "--params", name,
                 "--initial", f"{name}=2.5e5", "--out", str(out), "--quiet"]) == 0
    assert {p.name for p in out.iterdir()} == {"fit.json", "loss.png", "fitted.toml", "tracks.mp4", "overlay.mp4"}
    report = json.loads((out / "fit.json").read_text())
    camera = report["observations"]["cameras"][0]
    assert camera["camera"] == "front" and camera["frames"] == 15 and camera["points"] > 40
    assert camera["kept_to_last_frame"] > 0.8  # by the tracker
    assert 0.3 * camera["measurements"] <= camera["measurements_fitted"] < camera["measurements"]  # outliers dropped
    errors = camera["rms_reprojection_error_px"]
    assert errors["fitted"] < 0.7 * errors["initial"]
    assert report["parameters"][name]["fitted"] == pytest.approx(5e5, rel=0.1)  # the truth: gong2022_cotton
    rounds = report["outliers"]  # what the fit could not explain: dropped, and fitted again
    assert 1 <= len(rounds) <= 4 and all(r[0]["camera"] == "front" and r[0]["kind"] == "pixels" for r in rounds)
    assert 0 < rounds[0][0]["dropped"] and 0 < rounds[0][0]["sigma"] < 0.5
    assert sum(r[0]["dropped"] for r in rounds) == camera["measurements"] - camera["measurements_fitted"]
    overlay = iio.imread(out / "overlay.mp4")
    assert overlay.shape == (15, 480, 1280, 3)  # initial and fitted side by side
    assert iio.imread(out / "tracks.mp4").shape == (15, 480, 640, 3)


@pytest.mark.parametrize(("extra", "fragment"), [
    (["--camera", "front", "--camera", "side"], "1 --video but 2 --camera: expected one --camera NAME after each"),
    (["--camera", "top"], "argument --camera: 'top' is not a camera of"),
    (["--camera", "front", "--nodes", "0.5"], "--nodes with --video: these select and perturb observed trajectories"),
    (["--camera", "front", "--video", "missing.mp4", "--camera", "front"], "missing.mp4: no such video file"),
])
def test_bad_footage_fits_are_one_line_errors(filmed, tmp_path, capsys, extra, fragment):
    scene, clip = filmed
    code = main(["fit", str(scene), "--video", str(clip), "--params", "materials.cotton.density",
                 "--out", str(tmp_path / "fit"), "--quiet", *extra])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(error) == 1 and fragment in error[0], error
    assert not (tmp_path / "fit").exists()


def test_a_clip_with_dropped_frames_is_fitted_at_the_times_given(filmed, tmp_path, capsys):
    scene, clip = filmed
    frames = iio.imread(clip)
    kept = [k for k in range(len(frames)) if k not in (4, 9)]  # two frames dropped
    dropped = tmp_path / "dropped.mp4"
    iio.imwrite(dropped, frames[kept], extension=".mp4", fps=240.0, quality=9, macro_block_size=1)
    times = tmp_path / "times.txt"
    times.write_text("\n".join(f"{k / 240.0:.12g}" for k in kept) + "\n")
    name = "materials.cotton.young_modulus"
    out = tmp_path / "fit"
    assert main(["fit", str(scene), "--video", str(dropped), "--camera", "front", "--frame-times",
                 f"{dropped}={times}", "--params", name, "--initial", f"{name}=2.5e5", "--out", str(out),
                 "--outliers", "0", "--quiet"]) == 0
    report = json.loads((out / "fit.json").read_text())
    assert report["observations"]["cameras"][0]["frames"] == 13 and report["outliers"] == []  # every track kept
    assert report["parameters"][name]["fitted"] == pytest.approx(5e5, rel=0.1)
    capsys.readouterr()
    short = tmp_path / "short.txt"
    short.write_text("0.0\n0.01\n")
    for times_file, fragment in ((short, "13 frames but 2 frame times"), (tmp_path / "none.txt", "none.txt: not a "
                                 "readable list of times")):
        code = main(["fit", str(scene), "--video", str(dropped), "--camera", "front", "--frame-times",
                     f"{dropped}={times_file}", "--params", name, "--out", str(tmp_path / "bad"), "--quiet"])
        error = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(error) == 1 and fragment in error[0], error


def test_a_depth_cameras_maps_locate_its_tracks_in_the_fit(filmed, tmp_path, capsys):
    scene, clip = filmed
    trajectory = clip.parent / "run" / "trajectory.npz"
    depth = tmp_path / "front_depth.npz"
    assert main(["render", str(trajectory), "--camera", "front", "--out", str(depth), "--quiet"]) == 0
    name = "materials.cotton.young_modulus"
    out = tmp_path / "fit"
    capsys.readouterr()
    assert main(["fit", str(scene), "--video", str(clip), "--camera", "front", "--depth", f"front={depth}",
                 "--params", name, "--initial", f"{name}=2.5e5", "--out", str(out)]) == 0
    said = capsys.readouterr().err
    assert re.search(r"outliers, round 1: dropped \d+\.\d% of the tracks of camera 'front' \(sigma [\d.e-]+ px\); "
                     r"\d+\.\d% of the depth points of camera 'front' \(sigma [\d.e-]+ m\)", said), said
    cameras = json.loads((out / "fit.json").read_text())["observations"]["cameras"]
    assert [c["camera"] for c in cameras] == ["front", "front"] and cameras[1]["depth"] == str(depth)
    errors = cameras[1]["rms_point_error_m"]
    assert errors["fitted"] < errors["initial"] and errors["fitted"] < 2e-5  # 0.02 spacings
    capsys.readouterr()
    code = main(["fit", str(scene), "--video", str(clip), "--camera", "front", "--depth", f"side={depth}",
                 "--params", name, "--out", str(tmp_path / "bad"), "--quiet"])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(error) == 1 and "camera 'side' has no --video" in error[0], error


def test_a_cameras_time_offset_is_fitted_by_default_with_video(filmed, tmp_path):
    """With --video the default estimator is forward over every direction, which fits a time offset (here the
    truth is 0: the clip starts when the scene says) together with a modulus."""
    scene, clip = filmed
    name = "materials.cotton.young_modulus"
    out = tmp_path / "fit"
    assert main(["fit", str(scene), "--video", str(clip), "--camera", "front", "--params",
                 f"{name},cameras[0].time_offset", "--initial", f"{name}=3.5e5", "--initial",
                 "cameras[0].time_offset=0.002", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "fit.json").read_text())
    assert report["estimator"].startswith("ForwardGradient")
    assert abs(report["fitted"]["cameras[0].time_offset"]) < 0.1 / 240.0  # within a tenth of a frame
    assert report["fitted"][name] == pytest.approx(5e5, rel=0.1)


@pytest.mark.slow  # 9 s; tests/test_scene_posterior.py checks posteriors from tracks in the fast suite
def test_a_posterior_from_footage_holds_the_truth(filmed, tmp_path, capsys):
    """warpweave posterior --video: the clip is tracked, 100 prior simulations are measured as its tracks with 1 px of
    noise, and the 90% interval of Young's modulus holds the truth; the report names the clip and the method. (The
    tracker's error, 0.07 px median but correlated between frames and points, moves the posterior's median 2% high:
    told 0.1 px, the interval is [5.10, 5.16]e5 and misses the truth 5e5; told 0.3 px, [5.03, 5.19]e5.)"""
    scene, clip = filmed
    out = tmp_path / "posterior"
    name = "materials.cotton.young_modulus"
    assert main(["posterior", str(scene), "--video", str(clip), "--camera", "front", "--params", name,
                 "--prior", f"{name}=2.5e5:7.5e5", "--noise", "1.0", "--budget", "100", "--samples", "1000",
                 "--restarts", "1", "--no-gauss-newton", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "posterior.json").read_text())
    assert report["observed"] == str(clip) and report["noise"] == 1.0 and report["method"] == "npe"
    low, high = report["parameters"][name]["interval_90"]
    assert low <= 5e5 <= high and high - low < 0.9 * 5e5  # the truth: gong2022_cotton; narrower than the prior


@pytest.mark.slow  # 12 s
def test_a_posterior_from_two_clips_measures_every_simulation_through_both(filmed, tmp_path):
    """Two --video clips (here the same footage twice, each tracked and measured with its own noise draws): the
    report names both, and the truth lies inside the 90% interval and inside the Gauss-Newton comparison's."""
    scene, clip = filmed
    out = tmp_path / "posterior"
    name = "materials.cotton.young_modulus"
    assert main(["posterior", str(scene), "--video", str(clip), "--camera", "front", "--video", str(clip),
                 "--camera", "front", "--params", name, "--prior", f"{name}=2.5e5:7.5e5", "--noise", "1.0",
                 "--budget", "100", "--samples", "1000", "--restarts", "1", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "posterior.json").read_text())
    assert report["observed"] == f"{clip}, {clip}"
    low, high = report["parameters"][name]["interval_90"]
    assert low <= 5e5 <= high and high - low < 0.9 * 5e5
    gn_low, gn_high = report["parameters"][name]["gauss_newton"]["interval_90"]
    assert gn_low <= 5e5 <= gn_high


@pytest.mark.parametrize(("extra", "fragment"), [
    (["--video", "CLIP"], "--video needs --camera NAME"),
    (["--video", "CLIP", "--camera", "top"], "argument --camera: 'top' is not a camera of"),
    (["--video", "CLIP", "--camera", "front", "--frames", "5"], "--frames selects observed trajectory frames"),
    (["--observed", "TRAJ", "--camera", "front"], "--camera go with --video"),
    (["--observed", "TRAJ", "--video", "CLIP", "--camera", "front"], "not allowed with argument"),
    (["--video", "CLIP", "--camera", "front", "--video", "CLIP"], "2 --video but 1 --camera: expected one --camera"),
    (["--video", "CLIP", "--camera", "front", "--frame-times", "other.mp4=times.txt"],
     "argument --frame-times: other.mp4 is not a --video clip"),
    (["--video", "CLIP", "--camera", "front", "--frame-times", "none.txt"], "none.txt: not a readable list of times"),
])
def test_bad_footage_posteriors_are_one_line_errors(filmed, tmp_path, capsys, extra, fragment):
    scene, clip = filmed
    trajectory = scene.parent / "run" / "trajectory.npz"
    extra = [str(clip) if e == "CLIP" else str(trajectory) if e == "TRAJ" else e for e in extra]
    name = "materials.cotton.young_modulus"
    code = main(["posterior", str(scene), *extra, "--params", name, "--prior", f"{name}=2.5e5:7.5e5", "--noise",
                 "0.1", "--out", str(tmp_path / "posterior"), "--quiet"])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and fragment in error[-1], error
    assert not (tmp_path / "posterior").exists()
