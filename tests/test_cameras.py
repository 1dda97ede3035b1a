"""Pinhole cameras (scenes.cameras): the look-at form's geometry, the OpenCV form's projection and distortion, the
projection's Jacobian against central differences, and refusals of cameras that are not cameras."""

import json
import math

import numpy as np
import pytest

import scenes
from scenes import SceneError
from scenes.cameras import Camera

from .test_scenes_loader import VALID, load_text, write_scene

FRONT = dict(name="front", resolution=(640, 480), position=(0.0, -1.0, 5.0), look_at=(0.0, 0.0, 5.0),
             up=(0.0, 0.0, 1.0), fov_y=40.0)


def test_a_look_at_camera_sees_its_target_at_the_centre_up_as_up_and_its_field_of_view_at_the_edges():
    camera = Camera.look_at(**FRONT)
    np.testing.assert_allclose(camera.project([0.0, 0.0, 5.0]), [319.5, 239.5], atol=1e-9)
    above, right = camera.project([[0.0, 0.0, 5.1], [0.1, 0.0, 5.0]])
    assert above[1] < 239.5 and above[0] == pytest.approx(319.5)  # up the world is up the picture (v decreases)
    assert right[0] > 319.5 and right[1] == pytest.approx(239.5)  # +x is on the right seen along +y with z up
    half = math.tan(math.radians(20.0))  # a point fov_y / 2 above the axis lies on the picture's top edge
    np.testing.assert_allclose(camera.project([0.0, 0.0, 5.0 + half])[1], -0.5, atol=1e-9)
    np.testing.assert_allclose(camera.to_camera([0.0, -1.0, 5.0]), 0.0, atol=1e-12)  # at the origin of its frame
    assert np.isnan(camera.project([0.0, -2.0, 5.0])).all()  # behind it


def test_without_distortion_a_pixel_is_k_times_the_camera_point_over_its_depth():
    camera = Camera.look_at(**FRONT)
    points = np.random.default_rng(0).normal(scale=0.2, size=(20, 3)) + [0.0, 0.0, 5.0]
    camera_points = camera.to_camera(points)
    homogeneous = camera_points @ camera.K.T
    np.testing.assert_allclose(camera.project(points), homogeneous[:, :2] / homogeneous[:, 2:], rtol=1e-12)
    opencv_form = Camera(name="same", resolution=(640, 480), K=camera.K, R=camera.R, t=camera.t, dist=(0, 0, 0, 0))
    np.testing.assert_allclose(opencv_form.project(points), camera.project(points), rtol=1e-12)


def test_radial_distortion_moves_points_along_their_radius_and_tangential_distortion_across_it():
    base = Camera.look_at(**FRONT)
    point = np.array([0.2, 0.0, 5.15])  # up and to the right of the axis
    barrel = Camera(name="k1", resolution=(640, 480), K=base.K, R=base.R, t=base.t, dist=(0.1, 0.0, 0.0, 0.0))
    offset, moved = base.project(point) - base.K[:2, 2], barrel.project(point) - base.K[:2, 2]
    a, b = base.to_camera(point)[:2] / base.to_camera(point)[2]
    np.testing.assert_allclose(moved, offset * (1.0 + 0.1 * (a * a + b * b)), rtol=1e-12)  # k1 > 0: outwards
    tangential = Camera(name="p1", resolution=(640, 480), K=base.K, R=base.R, t=base.t, dist=(0.0, 0.0, 0.01, 0.0))
    on_axis = base.project([0.0, 0.0, 5.0])
    np.testing.assert_allclose(tangential.project([0.0, 0.0, 5.0]), on_axis, atol=1e-9)  # the centre stays
    assert not np.allclose(tangential.project(point), base.project(point))


@pytest.mark.parametrize("dist", [(), (0.1, -0.05, 0.003, -0.002), (0.1, -0.05, 0.003, -0.002, 0.02)])
def test_the_projection_jacobian_matches_central_differences(dist):
    base = Camera.look_at(**FRONT)
    K = base.K.copy()
    K[0, 1] = 2.0  # skew
    camera = Camera(name="c", resolution=(640, 480), K=K, R=base.R, t=base.t, dist=dist)
    points = np.random.default_rng(1).normal(scale=0.2, size=(8, 3)) + [0.0, 0.0, 5.0]
    _, jacobian = camera.project_with_jacobian(points)
    h = 1e-6
    for axis in range(3):
        step = np.zeros(3)
        step[axis] = h
        central = (camera.project(points + step) - camera.project(points - step)) / (2 * h)
        np.testing.assert_allclose(jacobian[:, :, axis], central, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Camera.look_at(**{**FRONT, "fov_y": 180.0}), "camera 'front': fov_y = 180.0: expected degrees in"),
    (lambda: Camera.look_at(**{**FRONT, "up": (0.0, 2.0, 0.0)}), "is parallel to the view direction"),
    (lambda: Camera.look_at(**{**FRONT, "look_at": FRONT["position"]}), "expected the point it looks at away"),
    (lambda: Camera.look_at(**{**FRONT, "resolution": (640, 0)}), r"resolution = \[640, 0\]: expected \[width, "),
    (lambda: Camera(name="c", resolution=(4, 3), K=np.eye(3) * [1, -1, 1], R=np.eye(3), t=np.zeros(3)),
     "expected \\[\\[fx, s, cx\\], \\[0, fy, cy\\], \\[0, 0, 1\\]\\] with fx, fy > 0"),
    (lambda: Camera(name="c", resolution=(4, 3), K=np.eye(3), R=np.diag([1.0, 1.0, -1.0]), t=np.zeros(3)),
     "expected a rotation"),
    (lambda: Camera(name="c", resolution=(4, 3), K=np.eye(3), R=np.eye(3), t=np.zeros(3), dist=(0.1, 0.2)),
     "dist = \\[0.1, 0.2\\]: expected \\(k1, k2, p1, p2\\)"),
    (lambda: Camera(name="c", resolution=(4, 3), K=np.eye(3), R=np.eye(3), t=np.zeros(3), fps=0.0),
     "fps = 0.0: expected frames per second > 0"),
])
def test_a_camera_that_is_not_one_is_refused_with_its_name_field_and_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# -- [[cameras]] in scene files ----------------------------------------------------------------------------------
LOOK_AT_TABLE = """
[[cameras]]
name = "front"
resolution = [640, 480]
fps = 100.0
position = [0.0, -1.0, 5.0]
look_at = [0.0, 0.0, 5.0]
up = [0.0, 0.0, 1.0]
fov_y = 40.0
"""
OPENCV_TABLE = """
[[cameras]]
name = "side"
resolution = [320, 240]
start_time = 0.01
K = [[400.0, 0.0, 159.5], [0.0, 400.0, 119.5], [0.0, 0.0, 1.0]]
R = [[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]]
t = [0.0, 5.0, 1.0]
dist = [0.01, -0.002, 0.0, 0.0]
"""


def test_scene_file_cameras_load_in_both_forms_build_and_write_back(tmp_path):
    scene = load_text(tmp_path, VALID + LOOK_AT_TABLE + OPENCV_TABLE)
    front, side = (camera.build() for camera in scene.cameras)
    expected = Camera.look_at(**FRONT)
    np.testing.assert_allclose(front.K, expected.K)
    np.testing.assert_allclose(front.R, expected.R)
    assert front.fps == 100.0 and side.fps == 30.0 and side.start_time == 0.01 and side.dist == (0.01, -0.002, 0, 0)
    np.testing.assert_allclose(side.project([0.0, 0.0, 5.0]), [159.5, 119.5])  # on its optical axis
    again = scenes.load_scene(write_scene(tmp_path, scenes.scene_to_toml(scene), name="again.toml"))
    assert again == scene
    assert scenes.parse_scene(json.loads(scenes.scene_to_json(scene))) == scene  # as a trajectory stores it


def test_a_cameras_time_offset_shifts_its_frames_and_is_a_fittable_parameter(tmp_path):
    table = OPENCV_TABLE.replace("start_time = 0.01", "start_time = 0.01\ntime_offset = 0.004")
    scene = load_text(tmp_path, VALID + table)
    side = scene.cameras[0].build()
    assert side.time_offset == 0.004 and side.first_frame_time == pytest.approx(0.014)
    np.testing.assert_allclose(side.frame_times(0.1)[:2], [0.014, 0.014 + 1 / 30])
    assert "cameras[0].time_offset" in scenes.fittable_names(scene)
    assert scenes.parameter_unit("cameras.0.time_offset") == "s"
    shifted = scenes.with_parameters(scene, {"cameras[0].time_offset": -0.002})
    assert scenes.get_parameter(shifted, "cameras[0].time_offset") == -0.002
    assert scenes.load_scene(write_scene(tmp_path, scenes.scene_to_toml(shifted), name="again.toml")) == shifted
    with pytest.raises(SceneError, match='cameras\\[0\\].time_offset = "late": expected a number'):
        load_text(tmp_path, VALID + OPENCV_TABLE + 'time_offset = "late"\n')


@pytest.mark.parametrize(("table", "fragments"), [
    (LOOK_AT_TABLE + "K = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]\n",
     ["cameras[0] (front): has position, look_at, up, fov_y, K: expected either position"]),
    ('\n[[cameras]]\nname = "x"\nresolution = [4, 3]\n', ["cameras[0] (x): has neither: expected either"]),
    (LOOK_AT_TABLE + LOOK_AT_TABLE, ['cameras[1].name = "front": expected a name no other camera has']),
    (LOOK_AT_TABLE.replace("fov_y = 40.0", "fov_y = 0.0"), ["cameras[0]: camera 'front': fov_y = 0.0: expected"]),
    (OPENCV_TABLE.replace("[0.0, 0.0, 1.0]]\nR", "[0.0, 0.0]]\nR"), ["cameras[0].K = ", "expected a 3 x 3 matrix"]),
    (OPENCV_TABLE.replace("[-1.0, 0.0, 0.0]]", "[1.0, 0.0, 0.0]]"), ["camera 'side': R = ", "expected a rotation"]),
    (OPENCV_TABLE.replace("dist = [0.01, -0.002, 0.0, 0.0]", "dist = [0.01]"),
     ["cameras[0].dist = [0.01]: expected [k1, k2, p1, p2] or [k1, k2, p1, p2, k3]"]),
    (OPENCV_TABLE.replace("resolution = [320, 240]", "resolution = [320.5, 240]"),
     ["camera 'side': resolution = [320.5, 240]: expected [width, height] in whole pixels > 0"]),
    (LOOK_AT_TABLE.replace("fov_y", "fovy"), ["cameras[0].fovy = 40.0: unknown key"]),
])
def test_a_bad_scene_camera_is_one_line_naming_the_file_camera_and_value(tmp_path, table, fragments):
    with pytest.raises(SceneError) as error:
        load_text(tmp_path, VALID + table)
    message = str(error.value)
    assert message.startswith(str(tmp_path / "scene.toml")) and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_info_lists_the_scene_cameras(tmp_path, capsys):
    from warpweave.cli import main

    assert main(["info", str(write_scene(tmp_path, VALID + LOOK_AT_TABLE + OPENCV_TABLE))]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("cameras"))
    assert "front 640x480 px at 100 fps from 0 s (look-at)" in line and "side 320x240 px at 30 fps from 0.01 s" in line
