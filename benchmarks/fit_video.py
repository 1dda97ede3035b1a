"""Fitting from footage (issue 13): tracking time and accuracy, and fits from one and two cameras against the same fit
from node trajectories.

The example scene scenes/examples/filmed.toml (9 x 9 reference cloth in a 2 m/s wind, 150 ms, 1 ms steps) is
simulated with its own values (the truth), filmed by its cameras 'front' (look-at, 240 fps) and 'side' (OpenCV
calibration with distortion, 300 fps), speckle-painted, at the cameras' resolution (1280 x 960). Then:

- tracking: time per frame, points tracked, share kept to the last frame, median and 90th-percentile error [px]
  against the cameras' known projections of the tracked material points;
- fits of the yarns' density, Young's and bending moduli (6 parameters) started 30% off (alternately below and
  above), Gauss-Newton, dropping the tracked points the fit cannot explain as ``warpweave fit --video`` does: from
  both clips, from each clip alone, and from the node trajectory (every node, every frame) for comparison; and from
  the clips with every track kept; wall time and relative error of each parameter;
- robustness: the front clip with Gaussian noise of 3 grey levels and 5% of its frames dropped (their times given),
  and the side clip starting 2 frames before the time the fit is told, without and with fitting its time offset.

    python benchmarks/fit_video.py [--out out/bench_fit_video] [--scale 0.5]
"""

import argparse
import dataclasses
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np

import scenes
from learning import cloth
from scenes.footage import render_footage

SCENE = Path(scenes.__file__).parent / "examples" / "filmed.toml"
NAMES = [f"materials.{m}.{p}" for m in ("cotton", "polyester") for p in ("density", "young_modulus", "bending_modulus")]


def track(clip, camera, scene, trajectory, *, times=None):
    began = time.perf_counter()
    tracks = cloth.track_footage(clip, camera, scene, times=times)
    seconds = time.perf_counter() - began
    truth = cloth.tracks_from_trajectory(trajectory, camera, tracks.points)
    keep = np.isin(np.round(truth.times, 9), np.round(tracks.times, 9))
    error = np.linalg.norm(tracks.pixels - truth.pixels[keep], axis=-1)
    print(f"  {clip.name:<16} {1e3 * seconds / len(tracks.times):7.1f} ms/frame  {len(tracks.points):4d} points  "
          f"kept {tracks.seen[-1].mean():5.1%}  median {np.nanmedian(error):.3f} px  "
          f"p90 {np.nanpercentile(error, 90):.3f} px")
    return tracks


def fit(scene, observations, truth, label, *, extra=None, outliers=True):
    """Fit NAMES from 30% off (and ``extra`` = (name, true value) from the scene's value), dropping the tracked points
    the fit cannot explain as ``warpweave fit --video`` does unless ``outliers`` is False; print the errors."""
    initial = {n: v * (1.3 if k % 2 else 0.7) for k, (n, v) in enumerate(zip(NAMES, truth, strict=True))}
    names = NAMES + ([extra[0]] if extra else [])
    space = cloth.scene_parameter_space(scene, names, initial=initial)
    began = time.perf_counter()
    fitted = cloth.fit_scene(scene, observations, space, estimation="forward",
                             optimization=cloth.Optimization(optimizer="gauss-newton", iterations=30),
                             outliers=cloth.OutlierRejection() if outliers else None)
    seconds = time.perf_counter() - began
    result = fitted.result
    errors = result.values[: len(NAMES)] / truth - 1.0
    line = f"  {label:<46} {seconds:7.1f} s  " + "  ".join(f"{100 * e:+7.2f}%" for e in errors)
    line += f"   max {100 * np.abs(errors).max():.1f}%"
    if extra:
        line += f"   {extra[0]} {result.values[-1] * 1e3:.4f} ms (truth {extra[1] * 1e3:.4f} ms)"
    if fitted.rejections:
        kept = {c.camera: c.kept for c in fitted.rejections[-1]}
        dropped = {name: sum(c.dropped for cameras in fitted.rejections for c in cameras if c.camera == name)
                   for name in kept}
        line += f"   {len(fitted.rejections)} rounds dropped " + ", ".join(
            f"{name} {dropped[name] / (dropped[name] + kept[name]):.0%}" for name in kept)
    print(line)
    return seconds


def scaled(camera, scale: float):
    """The camera with pictures ``scale`` times as wide and high (pixel centres at whole numbers: u' = s (u + 1/2)
    - 1/2)."""
    if scale == 1.0:
        return camera
    resize = np.array([[scale, 0.0, 0.5 * scale - 0.5], [0.0, scale, 0.5 * scale - 0.5], [0.0, 0.0, 1.0]])
    width, height = camera.resolution
    return dataclasses.replace(camera, K=resize @ camera.K, resolution=(round(scale * width), round(scale * height)))


def degrade(clip: Path, out: Path, camera, *, noise: float, drop: float, seed: int = 0):
    """A copy of a clip with Gaussian noise of ``noise`` grey levels and a share ``drop`` of its frames (not the
    first) left out; returns its path and the kept frames' times."""
    frames = np.asarray(iio.imread(clip)).astype(np.float64)
    rng = np.random.default_rng(seed)
    times = camera.start_time + np.arange(len(frames)) / camera.fps
    kept = np.ones(len(frames), dtype=bool)
    kept[1 + rng.choice(len(frames) - 1, size=int(round(drop * len(frames))), replace=False)] = False
    noisy = np.clip(np.rint(frames[kept] + rng.normal(scale=noise, size=frames[kept].shape)), 0, 255).astype(np.uint8)
    iio.imwrite(out, noisy, extension=".mp4", fps=camera.fps, quality=9, macro_block_size=1,
                ffmpeg_log_level="error")
    return out, times[kept]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/bench_fit_video", type=Path)
    parser.add_argument("--scale", default=1.0, type=float, help="the cameras' pictures at this fraction of their "
                        "resolution (0.5: 640 x 480)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    scenes.init_warp_quietly()
    scene = scenes.load_scene(SCENE)
    trajectory = scenes.simulate_scene(scene).trajectory
    cameras = {c.name: scaled(c.build(), args.scale) for c in scene.cameras}
    clips = {}
    print(f"{SCENE.name}: {scene.cloth.nodes[0]} x {scene.cloth.nodes[1]} nodes, {scene.simulation.steps} steps")
    width, height = next(iter(cameras.values())).resolution
    print(f"footage (speckle, {width} x {height}):")
    for name, camera in cameras.items():
        began = time.perf_counter()
        clips[name] = render_footage(trajectory, args.out / f"{name}.mp4", camera=camera, style="speckle")
        print(f"  {name}: {len(iio.imread(clips[name]))} frames at {camera.fps:g} fps in "
              f"{time.perf_counter() - began:.1f} s")
    print("tracking:")
    tracks = {name: track(clips[name], cameras[name], scene, trajectory) for name in cameras}
    noisy_clip, noisy_times = degrade(clips["front"], args.out / "front_noisy.mp4", cameras["front"], noise=3.0,
                                      drop=0.05)
    noisy = track(noisy_clip, cameras["front"], scene, trajectory, times=noisy_times)
    truth = np.array([float(scenes.get_parameter(scene, n)) for n in NAMES])
    print("fits from 30% off, Gauss-Newton; relative errors of " + ", ".join(n.split("materials.")[1] for n in NAMES))
    nodes = cloth.observations_from_trajectory(trajectory, scene, sliding=False)
    reference = fit(scene, nodes, truth, "node trajectories (all nodes)")
    both = fit(scene, [tracks["front"], tracks["side"]], truth, "footage: front + side")
    fit(scene, [tracks["front"]], truth, "footage: front")
    fit(scene, [tracks["side"]], truth, "footage: side")
    fit(scene, [tracks["front"], tracks["side"]], truth, "front + side, every track kept", outliers=False)
    fit(scene, [tracks["front"]], truth, "front, every track kept", outliers=False)
    fit(scene, [noisy, tracks["side"]], truth, "front noisy 3 grey, 5% dropped + side")
    early = 2.0 / cameras["side"].fps  # the side clip started 2 frames before the time the fit is told
    told = cloth.PointTracks(camera=cameras["side"], points=tracks["side"].points,
                             times=tracks["side"].times + early, pixels=tracks["side"].pixels)
    fit(scene, [tracks["front"], told], truth, "side 2 frames off, offset not fitted", outliers=False)
    fit(scene, [tracks["front"], told], truth, "side 2 frames off, offset fitted",
        extra=("cameras[1].time_offset", -early))
    print(f"wall time, two cameras / node trajectories: {both / reference:.2f}")


if __name__ == "__main__":
    main()
