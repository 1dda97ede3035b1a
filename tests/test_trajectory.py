"""Trajectory files: what is saved loads back exactly, writes are atomic, and bad files are named."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import scenes
from scenes import TrajectoryError
from scenes.trajectory import FORMAT

REFERENCE = Path(__file__).parent / "data" / "reference"
DEMO_SCENE = Path(scenes.__file__).parent / "examples" / "demo.toml"
needs_reference = pytest.mark.skipif(not REFERENCE.exists(), reason="the reference test data is not here")


def random_arrays(worlds=2, frames=4, nodes=(5, 3), seed=0):
    rng = np.random.default_rng(seed)
    shape = (worlds, frames, *nodes)
    return {
        "x": rng.normal(size=(*shape, 3)),
        "u": rng.normal(size=(*shape, 2)),
        "xdot": rng.normal(size=(*shape, 3)),
        "udot": rng.normal(size=(*shape, 2)),
        "t": np.arange(frames) * 0.005,
    }


def test_save_then_load_gives_back_every_array_and_the_scene(tmp_path):
    scene = scenes.load_scene(DEMO_SCENE)
    arrays = random_arrays()
    path = scenes.save_trajectory(
        tmp_path / "trajectory.npz", scene_json=scenes.scene_to_json(scene), **arrays
    )
    loaded = scenes.load_trajectory(path)
    for key, value in arrays.items():
        np.testing.assert_array_equal(getattr(loaded, key), value)
    assert (loaded.worlds, loaded.frames, loaded.nodes) == (2, 4, (5, 3))
    assert loaded.scene() == scene
    assert str(np.load(path)["format"]) == FORMAT
    assert sorted(os.listdir(tmp_path)) == ["trajectory.npz"]


def test_velocities_are_optional(tmp_path):
    arrays = random_arrays()
    del arrays["xdot"], arrays["udot"]
    loaded = scenes.load_trajectory(scenes.save_trajectory(tmp_path / "t.npz", **arrays))
    assert loaded.xdot is None and loaded.udot is None and loaded.scene() is None


@needs_reference
@pytest.mark.parametrize("name", ["plain_10x10", "plain_17x17"])
def test_reference_trajectories_load(name):
    trajectory = scenes.load_trajectory(REFERENCE / name / "trajectory.npz")
    width = int(name.split("x")[-1])
    assert trajectory.nodes == (width, width) and trajectory.worlds == 1
    assert trajectory.t.shape == (trajectory.frames,) and trajectory.xdot is None
    assert trajectory.scene() is None  # the reference files store ground truth, not a warpweave scene


def test_a_failing_write_leaves_nothing_under_the_final_name(tmp_path, monkeypatch):
    target = tmp_path / "trajectory.npz"

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        scenes.save_trajectory(target, **random_arrays())
    assert os.listdir(tmp_path) == []


def test_a_failing_write_keeps_the_previous_file(tmp_path, monkeypatch):
    target = scenes.save_trajectory(tmp_path / "trajectory.npz", **random_arrays(seed=1))
    before = target.read_bytes()
    monkeypatch.setattr(np, "savez", lambda file, **arrays: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        scenes.save_trajectory(target, **random_arrays(seed=2))
    assert target.read_bytes() == before and os.listdir(tmp_path) == ["trajectory.npz"]


def test_inconsistent_arrays_are_refused_before_writing(tmp_path):
    arrays = random_arrays()
    arrays["u"] = arrays["u"][:, :3]
    with pytest.raises(
        TrajectoryError, match=r"array 'u' has shape \(2, 3, 5, 3, 2\): expected .*\(2, 4, 5, 3, 2\)"
    ):
        scenes.save_trajectory(tmp_path / "t.npz", **arrays)
    assert os.listdir(tmp_path) == []


def write_npz(path: Path, **arrays) -> Path:
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda a: a.pop("x"), "array 'x' is missing: expected node positions [m], shape [B, F, W, H, 3]"),
        (lambda a: a.pop("t"), "array 't' is missing"),
        (
            lambda a: a.update(x=a["x"][0]),
            "array 'x' has shape (4, 5, 3, 3): expected node positions of shape",
        ),
        (
            lambda a: a.update(t=a["t"][:2]),
            "array 't' has shape (2,): expected frame times of shape [F] = (4,)",
        ),
        (lambda a: a.update(xdot=a["xdot"][..., :2]), "array 'xdot' has shape (2, 4, 5, 3, 2)"),
        (lambda a: a.update(format=np.str_("something-else/2")), "format = 'something-else/2': expected"),
        (lambda a: a.update(x=np.full(a["x"].shape, "a")), "array 'x' has dtype <U1: expected numbers"),
    ],
)
def test_bad_trajectory_files_are_named_with_the_array(tmp_path, change, fragment):
    arrays = random_arrays()
    change(arrays)
    path = write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(TrajectoryError) as info:
        scenes.load_trajectory(path)
    assert str(info.value).startswith(f"{path}: ") and fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_and_unreadable_files_are_named(tmp_path):
    with pytest.raises(TrajectoryError, match=r"none\.npz: no such trajectory file"):
        scenes.load_trajectory(tmp_path / "none.npz")
    text = tmp_path / "text.npz"
    text.write_text("not a zip file")
    with pytest.raises(TrajectoryError, match=r"text\.npz: not a readable trajectory file"):
        scenes.load_trajectory(text)


def test_rest_trajectory_is_the_scenes_initial_state():
    scene = scenes.load_scene(DEMO_SCENE)
    trajectory = scenes.rest_trajectory(scene, worlds=3)
    assert trajectory.x.shape == (3, 1, 10, 10, 3) and trajectory.frames == 1
    np.testing.assert_array_equal(trajectory.x[2, 0], scenes.build_spec(scene).rest_positions())
    assert json.loads(trajectory.scene_json)["cloth"]["nodes"] == [10, 10]


def test_frame_indices_step_through_and_end_on_the_last_frame():
    trajectory = scenes.Trajectory(**{k: v for k, v in random_arrays(frames=10).items()})
    assert trajectory.frame_indices(4) == [0, 4, 8, 9]
    assert trajectory.frame_indices(3) == [0, 3, 6, 9]
