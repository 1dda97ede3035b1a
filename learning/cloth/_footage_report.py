"""The results of a fit to footage on disk: fit.json, loss.png, fitted.toml and, per camera, the tracks drawn on
the footage (tracks.mp4) and the initial and fitted cloth drawn over it side by side (overlay.mp4); written
atomically. With several cameras the clips are named per camera: tracks-NAME.mp4, overlay-NAME.mp4.

fit.json has what a fit to trajectories has (``learning.cloth.fit_report``: values, bounds, errors against known
values, the search, the loss history, the solves, the uncertainty) and, instead of the position errors, per camera:
the video, its frames, frame rate, the points tracked and the share the tracker kept to the last frame, the (frame,
point) measurements and how many the last fit compared (outlier rejection drops the others), and the RMS
reprojection error [px] of the initial and the fitted values over those; ``outliers``: per round of outlier
rejection, what it dropped of each camera's measurements (``learning.cloth.CameraRejection``).
"""

import dataclasses
import json
import textwrap
from pathlib import Path

import numpy as np

import scenes

from ._fit import SceneFit
from ._plots import plot_loss
from ._report import common_report, fitted_header
from ._tracking import read_footage
from ._tracks import material_positions

__all__ = ["clip_names", "write_footage_fit"]

_TRACK_COLOR = (40, 200, 40)  # RGB
_INITIAL_COLOR = (230, 140, 40)
_FITTED_COLOR = (40, 110, 230)
_TRAIL = 8  # frames of each track's trail drawn behind it


def clip_names(cameras: list[str]) -> dict[str, tuple[str, str]]:
    """The (tracks, overlay) clip names of each camera: tracks.mp4 and overlay.mp4 for one camera, else per name."""
    if len(cameras) == 1:
        return {cameras[0]: ("tracks.mp4", "overlay.mp4")}
    return {name: (f"tracks-{name}.mp4", f"overlay-{name}.mp4") for name in cameras}


def write_footage_fit(directory, fit: SceneFit, *, videos: list[str], scene_path: str = "",
                      reference: dict[str, float] | None = None) -> Path:
    """Write DIR/fit.json, DIR/loss.png, DIR/fitted.toml and each camera's tracks and overlay clips, atomically.

    Simulates the initial and the fitted values once more (two worlds of one rollout) for the overlays and the
    reprojection errors.

    Args:
        fit: a fit whose observations are ``PointTracks`` (and ``CameraPoints`` of depth cameras).
        videos: the file each observation model's measurements came from (same order): the clip of tracks, the
            depth file of camera points.
        reference: known values by name (reported with the relative errors of the fit), or None.
    """
    directory = Path(directory)
    objective, result = fit.objective, fit.result
    positions = objective.positions(np.stack([fit.space.initial_theta(), result.theta]))  # [2, S, W, H, 3]
    shifts = objective.frame_shifts(np.stack([fit.space.initial_theta(), result.theta]))
    names = clip_names([m.tracks.camera.name for m in objective.models if m.tracks.kind == "pixels"])
    cameras, drawings = [], []
    for model, given, shift, video in zip(objective.models, fit.observations, shifts, videos, strict=True):
        tracks, camera = model.tracks, model.tracks.camera
        at_frames = model.at_frames(positions, objective.read_steps, shifts=shift[0] if shift else None)
        points = material_positions(at_frames, tracks.points)  # [2, F, P, 3]
        seen = tracks.seen  # what the last fit compared (outliers dropped)
        entry = {"camera": camera.name, "frames": int(len(tracks.times)), "points": int(len(tracks.points)),
                 "kept_to_last_frame": float(given.seen[-1].mean()), "measurements": int(given.seen.sum()),
                 "measurements_fitted": int(seen.sum())}
        if tracks.kind == "pixels":
            rms = [float(np.sqrt(((p - tracks.pixels) ** 2).sum(-1)[seen].mean())) for p in camera.project(points)]
            entry |= {"video": str(video), "fps": camera.fps, "rms_reprojection_error_px": {"initial": rms[0],
                                                                                          "fitted": rms[1]}}
            drawings.append((video, tracks, at_frames, names[camera.name]))
        else:
            rms = [float(np.sqrt(((p - tracks.positions) ** 2).sum(-1)[seen].mean())) for p in
                   camera.to_camera(points)]
            entry |= {"depth": str(video), "rms_point_error_m": {"initial": rms[0], "fitted": rms[1]}}
        cameras.append(entry)
    report = common_report(fit, scene_path=scene_path, observed_path=", ".join(map(str, videos)), reference=reference,
                           loss_definition="sum over cameras of the mean over tracked (frame, point) pairs of the "
                           "squared reprojection error [px^2] (and, for depth cameras, of the squared distance in "
                           "the camera's frame in units of the spacing)")
    report["observations"] = {"cameras": cameras, "steps": objective.steps}
    report["outliers"] = [[dataclasses.asdict(camera) for camera in cameras] for cameras in fit.rejections]
    title = f"{textwrap.fill(', '.join(result.names), 100)}\n{result.estimator} + {result.optimizer}"
    history = result.minimization.history
    with scenes.atomic_directory(directory, last=("fit.json",)) as tmp:
        plot_loss(tmp / "loss.png", losses=[item.loss for item in history], best=[item.best for item in history],
                  title=title)
        for video, tracks, at_frames, (tracks_name, overlay_name) in drawings:
            footage = read_footage(video, tracks.camera)
            _write_clip(tmp / tracks_name, _draw_tracks(footage, tracks), fps=tracks.camera.fps)
            _write_clip(tmp / overlay_name, _draw_overlay(footage, tracks.camera, at_frames), fps=tracks.camera.fps)
        (tmp / "fitted.toml").write_text(scenes.scene_to_toml(fit.scene, header=fitted_header(report)))
        (tmp / "fit.json").write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    return directory


def _draw_tracks(footage: np.ndarray, tracks) -> np.ndarray:
    """The footage [F, H, W] (grey) in colour with each tracked point and its trail drawn, [F, H, W, 3]."""
    import cv2

    pictures = []
    for k, grey in enumerate(footage):
        picture = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
        for p in np.flatnonzero(tracks.seen[k]):
            trail = tracks.pixels[max(0, k - _TRAIL): k + 1, p]
            trail = trail[np.isfinite(trail).all(axis=1)]
            if len(trail) > 1:
                cv2.polylines(picture, [np.rint(trail * 4).astype(np.int32)], False, _TRACK_COLOR, 1, cv2.LINE_AA,
                              shift=2)
            cv2.circle(picture, tuple(np.rint(tracks.pixels[k, p] * 4).astype(int)), 8, _TRACK_COLOR, -1,
                       cv2.LINE_AA, shift=2)
        pictures.append(picture)
    return np.stack(pictures)


def _draw_overlay(footage: np.ndarray, camera, at_frames: np.ndarray) -> np.ndarray:
    """The footage with the initial (left) and the fitted (right) cloth drawn over it as yarn lines, [F, H, 2W, 3]."""
    import cv2

    pictures = []
    for k, grey in enumerate(footage):
        panels = []
        for positions, color, label in ((at_frames[0, k], _INITIAL_COLOR, "initial"),
                                        (at_frames[1, k], _FITTED_COLOR, "fitted")):
            panel = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
            pixels = np.rint(camera.project(positions) * 4)  # [W, H, 2], 2 bits of sub-pixel
            lines = [pixels[:, j] for j in range(pixels.shape[1])] + [pixels[i] for i in range(pixels.shape[0])]
            lines = [line.astype(np.int32) for line in lines if np.isfinite(line).all()]
            cv2.polylines(panel, lines, False, color, 1, cv2.LINE_AA, shift=2)
            cv2.putText(panel, label, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1, cv2.LINE_AA)
            panels.append(panel)
        pictures.append(np.concatenate(panels, axis=1))
    return np.stack(pictures)


def _write_clip(path: Path, pictures: np.ndarray, *, fps: float) -> None:
    """An .mp4 of RGB pictures [F, H, W, 3]; an odd width or height is padded by one edge pixel (H.264, 4:2:0)."""
    import imageio.v3 as iio

    height, width = pictures.shape[1:3]
    pictures = np.pad(pictures, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    iio.imwrite(path, pictures, extension=".mp4", fps=fps, quality=8, macro_block_size=1, ffmpeg_log_level="error")
