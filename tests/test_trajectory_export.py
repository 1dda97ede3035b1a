"""Export: the ParaView series and the OBJ files hold the trajectory's positions, frame by frame."""

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import scenes
from scenes import ExportError

DEMO_SCENE = Path(scenes.__file__).parent / "examples" / "demo.toml"


def small_trajectory(frames=4) -> scenes.Trajectory:
    scene = scenes.with_parameters(scenes.load_scene(DEMO_SCENE), {"cloth.nodes": [5, 4]})
    rest = scenes.rest_trajectory(scene)
    x = np.repeat(rest.x, frames, axis=1)
    x[0, :, :, :, 1] += 1e-3 * np.arange(frames)[:, None, None]
    xdot = np.zeros_like(x)
    xdot[..., 1] = 0.1
    return scenes.Trajectory(
        x=x,
        u=np.repeat(rest.u, frames, axis=1),
        t=np.arange(frames) * 0.01,
        xdot=xdot,
        scene_json=rest.scene_json,
    )


def test_vtk_export_is_a_paraview_time_series_of_the_frames(tmp_path):
    pv = pytest.importorskip("pyvista")
    trajectory = small_trajectory()
    files = scenes.export_vtk(trajectory, tmp_path / "vtk", every=2)
    assert [f.name for f in files] == ["cloth_0000.vtp", "cloth_0002.vtp", "cloth_0003.vtp", "cloth.pvd"]
    datasets = ET.parse(files[-1]).getroot().findall("./Collection/DataSet")
    assert [d.get("file") for d in datasets] == ["cloth_0000.vtp", "cloth_0002.vtp", "cloth_0003.vtp"]
    assert [float(d.get("timestep")) for d in datasets] == pytest.approx([0.0, 0.02, 0.03])
    mesh = pv.read(files[1])
    np.testing.assert_allclose(mesh.points, trajectory.x[0, 2].reshape(-1, 3))
    assert mesh.n_cells == 4 * 3
    for name in ("u", "strain", "sliding", "speed", "xdot"):
        assert name in mesh.point_data.keys()
    np.testing.assert_allclose(mesh.point_data["speed"], 0.1)


def test_obj_export_writes_one_mesh_per_frame(tmp_path):
    trajectory = small_trajectory()
    files = scenes.export_obj(trajectory, tmp_path / "obj")
    assert [f.name for f in files] == [f"cloth_{k:04d}.obj" for k in range(4)]
    lines = files[3].read_text().splitlines()
    vertices = np.array([[float(v) for v in line.split()[1:]] for line in lines if line.startswith("v ")])
    faces = [line for line in lines if line.startswith("f ")]
    np.testing.assert_array_equal(vertices, trajectory.x[0, 3].reshape(-1, 3))
    assert len(faces) == 4 * 3 and faces[0] == "f 1 5 6 2"


def test_export_into_an_existing_folder_replaces_files_and_leaves_no_temporary_folder(tmp_path):
    out = tmp_path / "obj"
    out.mkdir()
    (out / "notes.txt").write_text("kept")
    scenes.export_obj(small_trajectory(frames=2), out)
    assert sorted(os.listdir(out)) == ["cloth_0000.obj", "cloth_0001.obj", "notes.txt"]
    assert os.listdir(tmp_path) == ["obj"]


def test_a_failing_export_leaves_nothing_behind(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", fail)
    with pytest.raises(OSError, match="disk full"):
        scenes.export_obj(small_trajectory(), tmp_path / "obj")
    assert os.listdir(tmp_path) == []


def test_bad_export_requests_are_refused(tmp_path):
    with pytest.raises(ExportError, match="format = 'stl': expected one of vtk, obj"):
        scenes.export_trajectory(small_trajectory(), tmp_path / "x", format="stl")
    with pytest.raises(ExportError, match="world = 3: expected 0 <= world < 1"):
        scenes.export_obj(small_trajectory(), tmp_path / "x", world=3)
    (tmp_path / "file").write_text("")
    with pytest.raises(ExportError, match="exists and is not a folder"):
        scenes.export_obj(small_trajectory(), tmp_path / "file")
