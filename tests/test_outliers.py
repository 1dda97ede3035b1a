"""Dropping what a fit to tracks cannot explain (learning.cloth._outliers): the measurement errors are the simulated
minus the measured pixels, the robust spread is that of the clean errors, a slipped track is dropped from the frame it
strays on, and a fit to tracks of which a sixth slipped comes back to the truth after the rejection, not before."""

import dataclasses

import numpy as np
import pytest

import scenes
from learning import cloth
from learning.fit import FitError

from .test_cloth_objective import MATERIALS
from .test_tracks import filmed  # noqa: F401 (a fixture)

NOISE = 0.05  # [px] the clean tracks' error in each coordinate


def slipped(tracks: cloth.PointTracks, *, share: float, seed: int = 0):
    """The tracks with Gaussian noise of NOISE px and a ``share`` of them slipping from a third of the clip on, by
    0.4 px more each frame (which tracks slipped, and where they were off by more than 0.5 px [F, P])."""
    rng = np.random.default_rng(seed)
    frames, points = tracks.pixels.shape[:2]
    which = rng.choice(points, size=int(round(share * points)), replace=False)
    drift = np.zeros((frames, points, 2))
    ramp = 0.4 * np.clip(np.arange(frames) - frames // 3, 0, None)
    drift[:, which] = ramp[:, None, None] * rng.choice([-1.0, 1.0], size=(1, len(which), 2)) / np.sqrt(2.0)
    pixels = tracks.pixels + rng.normal(scale=NOISE, size=tracks.pixels.shape) + drift
    return dataclasses.replace(tracks, pixels=pixels), which, np.linalg.norm(drift, axis=-1) > 0.5


def truth_and_start(scene):
    truth = np.array([float(scenes.get_parameter(scene, n)) for n in MATERIALS])
    initial = {n: value * (1.3 if k % 2 else 0.7) for k, (n, value) in enumerate(zip(MATERIALS, truth, strict=True))}
    return truth, cloth.scene_parameter_space(scene, MATERIALS, initial=initial)


def test_measurement_errors_are_the_simulated_minus_the_measured_values(filmed):  # noqa: F811
    scene, trajectory, tracks = filmed
    shift = np.random.default_rng(1).normal(size=tracks[1].pixels.shape)
    moved = dataclasses.replace(tracks[1], pixels=tracks[1].pixels + shift)
    nodes = cloth.observations_from_trajectory(trajectory, scene, sliding=False)
    space = cloth.scene_parameter_space(scene, MATERIALS[:1])
    objective = cloth.ClothObjective(scene, [nodes, moved], space)
    node_errors, errors = cloth.measurement_errors(objective, space.initial_theta())
    assert node_errors is None  # node trajectories are not dropped
    seen = moved.seen
    assert seen.sum() > 100 and np.isnan(errors[~seen]).all()
    np.testing.assert_allclose(errors[seen], -shift[seen], atol=1e-8)


def test_slipped_tracks_are_dropped_from_the_frame_they_stray_on(filmed):  # noqa: F811
    _, _, tracks = filmed
    measured, which, off = slipped(tracks[0], share=0.2)
    errors = measured.pixels - tracks[0].pixels  # as measurement_errors gives them, with the opposite sign
    nodes = object()  # not tracks: passed through
    kept, report = cloth.reject_outliers([nodes, measured], [None, -errors], threshold=3.0)
    assert kept[0] is nodes and len(report) == 1
    camera = report[0]
    assert camera.camera == "front" and camera.kind == "pixels"
    assert camera.sigma == pytest.approx(NOISE, rel=0.15)  # the clean tracks' spread: the slipped ones do not move it
    seen = measured.seen
    dropped = seen & ~kept[1].seen
    assert camera.dropped == dropped.sum() and camera.kept == kept[1].seen.sum()
    assert not (off & kept[1].seen).any()  # nothing kept where a track was off by more than 10 sigma
    assert dropped[:, which].any(axis=0).all()  # every slipped track lost its slipped frames
    first = dropped.argmax(axis=0)
    for p in which:  # and it stays dropped from the first frame it strayed on
        assert dropped[first[p]:, p][seen[first[p]:, p]].all()
    clean = np.setdiff1d(np.arange(seen.shape[1]), which)
    assert kept[1].seen[:, clean].sum() >= 0.8 * seen[:, clean].sum()  # few clean measurements lost by chance


def test_a_fit_to_partly_slipped_tracks_recovers_the_truth_after_dropping_them(filmed):  # noqa: F811
    """A fifth of the tracks slip by up to several pixels: the plain least-squares fit of the six moduli and
    densities is pulled 23% off; with the rejection (two rounds) every parameter comes back within 3.4%, against
    2.5% from the clean tracks alone (the 0.05 px noise's share)."""
    scene, _, tracks = filmed
    truth, space = truth_and_start(scene)
    measured, which, off = slipped(tracks[0], share=0.2)
    optimization = cloth.Optimization(optimizer="gauss-newton", iterations=20)
    plain = cloth.fit_scene(scene, [measured], space, estimation="forward", optimization=optimization)
    robust = cloth.fit_scene(scene, [measured], space, estimation="forward", optimization=optimization,
                             outliers=cloth.OutlierRejection())
    plain_error = np.abs(plain.result.values / truth - 1.0).max()
    robust_error = np.abs(robust.result.values / truth - 1.0).max()
    assert plain_error > 0.1 and robust_error < 0.05, (plain_error, robust_error)
    assert 1 <= len(robust.rejections) <= 4 and robust.rejections[0][0].dropped > 0
    assert {r[0].sigma for r in robust.rejections} == {robust.rejections[0][0].sigma}  # the first round's spread
    assert robust.observations == (measured,)  # as given
    assert not (off & robust.objective.models[0].tracks.seen).any()
    np.testing.assert_allclose(robust.result.initial, space.initial)  # reported against the user's start
    assert robust.space is space and set(robust.result.seconds) == set(plain.result.seconds)  # every round summed


def test_rejection_that_would_drop_most_of_a_camera_is_an_error(filmed):  # noqa: F811
    scene, _, tracks = filmed
    truth, space = truth_and_start(scene)
    measured, _, _ = slipped(tracks[0], share=0.2)
    with pytest.raises(FitError, match=r"camera 'front'\): the fit explains only \d+% of its measurements within 0.01 "
                                       r"standard deviations: expected at least 30%: the simulation does not follow"):
        cloth.fit_scene(scene, [measured], space.started_at(truth), estimation="forward",
                        optimization=cloth.Optimization(optimizer="gauss-newton", iterations=3),
                        outliers=cloth.OutlierRejection(threshold=0.01))
    for bad, fragment in [({"threshold": 0.0}, "outlier threshold 0.0"), ({"rounds": 0}, "outlier rounds 0"),
                          ({"settled": 1.0}, "outlier settled 1.0"), ({"max_dropped": 1.0}, "outlier max_dropped 1.0")]:
        with pytest.raises(FitError, match=fragment):
            cloth.OutlierRejection(**bad)
