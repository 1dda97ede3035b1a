"""``[[obstacles]]`` in scene files: every shape loads, writes back to the same scene and simulates; bad values,
unknown types and a cloth that starts inside an obstacle get one line naming the file and field (exit status 2
from the command line)."""

import tomllib

import numpy as np
import pytest

import scenes
import simulator
from warpweave.cli import main

BASE = """
[simulation]
dt = 0.001
steps = 20
device = "cpu"

[cloth]
nodes = [5, 5]
spacing = 0.001
yarn_radius = 0.0005
pose = "flat"
origin = [0.0, 0.0, 0.002]
warp_yarns = ["cotton"]
weft_yarns = ["cotton"]

[materials.cotton]
preset = "gong2022_cotton"
"""

SHAPES = {
    "plane": 'point = [0.0, 0.0, 0.0]\nnormal = [0.0, 0.0, 2.0]',
    "sphere": 'center = [0.002, 0.002, -0.02]\nradius = 0.02',
    "box": 'center = [0.0, 0.0, -0.01]\nhalf_extents = [0.01, 0.01, 0.01]\nrotation = [0.0, 0.0, 30.0]',
    "capsule": 'start = [-0.01, 0.002, -0.005]\nend = [0.01, 0.002, -0.005]\nradius = 0.005',
}


def scene_text(kind: str, *, extra: str = "", thickness: str = "0.001") -> str:
    return f'{BASE}\n[[obstacles]]\ntype = "{kind}"\n{SHAPES[kind]}\nfriction = 0.3\nthickness = {thickness}\n{extra}'


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_every_shape_loads_writes_back_and_holds_the_cloth_up(kind, tmp_path):
    path = tmp_path / f"{kind}.toml"
    path.write_text(scene_text(kind))
    scene = scenes.load_scene(path)
    assert scene.obstacles[0].type == kind
    again = tmp_path / "again.toml"
    again.write_text(scenes.scene_to_toml(scene))
    assert scenes.load_scene(again) == scene
    trajectory = scenes.simulate_scene(scene).trajectory
    lowest = trajectory.x[..., 2].min()
    free_fall = 0.002 - 0.5 * 9.8 * (scene.simulation.steps * scene.simulation.dt) ** 2
    assert lowest > free_fall + 1e-4  # the obstacle caught the cloth


@pytest.mark.parametrize(("text", "message"), [
    (scene_text("sphere", thickness="-0.001"), r"obstacles\[0\]\.thickness = -0\.001"),
    (scene_text("plane").replace('type = "plane"', 'type = "cone"'), r"obstacles\[0\]\.type = \"cone\""),
    (scene_text("sphere").replace("radius = 0.02", "radius = 0.0"), r"obstacles\[0\]\.radius = 0"),
    (scene_text("plane").replace("normal = [0.0, 0.0, 2.0]", "normal = [0.0, 0.0, 0.0]"),
     r"obstacles\[0\]\.normal = \[0, 0, 0\]"),
    (scene_text("box", extra="colour = 3"), r"obstacles\[0\]\.colour = 3: unknown key"),
    (scene_text("sphere").replace("center = [0.002, 0.002, -0.02]", "center = [0.002, 0.002, -0.019]"),
     r"obstacles\[0\] \(sphere\) intersects the cloth at t = 0: the cloth's surface at node \(2, 2\)"),
])
def test_bad_obstacles_are_refused_naming_the_field(text, message, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(scenes.SceneError, match=message):
        scenes.build_spec(scenes.load_scene(path))
    assert main(["simulate", str(path), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()



def test_a_moving_obstacle_loads_writes_back_is_fittable_and_moves_in_the_pictures(tmp_path):
    path = tmp_path / "moving.toml"
    path.write_text(scene_text("plane", extra="path = [{time = 0.0, offset = [0.0, 0.0, 0.0]}, "
                                              "{time = 0.02, offset = [0.001, 0.0, 0.001]}]"))
    scene = scenes.load_scene(path)
    again = tmp_path / "again.toml"
    again.write_text(scenes.scene_to_toml(scene))
    assert scenes.load_scene(again) == scene
    names = scenes.fittable_names(scene)
    assert "obstacles[0].path[1].offset.2" in names and "obstacles[0].point.2" in names
    trajectory = scenes.simulate_scene(scene).trajectory
    assert trajectory.x[0, -1, ..., 2].mean() > trajectory.x[0, 0, ..., 2].mean() + 5e-4  # lifted by the plane
    from scenes.render import ClothRenderer

    with ClothRenderer(trajectory, annotations=False) as renderer:
        first, last = renderer.image(0), renderer.image(trajectory.frames - 1)
    assert (first != last).any()


def test_an_obstacle_that_starts_inside_the_cloth_is_refused_where_its_path_puts_it(tmp_path):
    """The plane's first keyframe lifts it 2 mm, into the cloth: refused, though its position alone is clear."""
    path = tmp_path / "inside.toml"
    path.write_text(scene_text("plane", extra="path = [{time = 0.0, offset = [0.0, 0.0, 0.002]}]"))
    with pytest.raises(scenes.SceneError, match=r"obstacles\[0\] \(plane\) intersects the cloth at t = 0"):
        scenes.build_spec(scenes.load_scene(path))


def test_self_contact_is_on_with_obstacles_and_follows_its_table(tmp_path):
    """On by default when the scene has obstacles, off without; [self_contact] turns it on or off and sets its
    friction, stiffness and capacity, and writes back; bad values are refused with their names."""
    with_floor = scenes.parse_scene(tomllib.loads(scene_text("plane")), source="floor.toml")
    assert scenes.build_spec(with_floor).self_contact == simulator.SelfContactSpec()
    bare = scenes.parse_scene(tomllib.loads(BASE), source="bare.toml")
    assert scenes.build_spec(bare).self_contact is None
    text = BASE + "\n[self_contact]\nfriction = 0.2\nstiffness = 3.0\ncapacity = 50\nenabled = true\n"
    scene = scenes.parse_scene(tomllib.loads(text), source="on.toml")
    assert scenes.build_spec(scene).self_contact == simulator.SelfContactSpec(friction=0.2, stiffness=3.0,
                                                                              capacity=50)
    assert scenes.parse_scene(tomllib.loads(scenes.scene_to_toml(scene)), source="again.toml") == scene
    off = scenes.parse_scene(tomllib.loads(scene_text("plane") + "\n[self_contact]\nenabled = false\n"),
                             source="off.toml")
    assert scenes.build_spec(off).self_contact is None
    for bad, message in (("enabled = 1", r"self_contact\.enabled = 1: expected true or false"),
                         ("capacity = 0", r"self_contact\.capacity = 0: expected an integer >= 1"),
                         ("friction = -0.1", r"self_contact\.friction = -0\.1")):
        with pytest.raises(scenes.SceneError, match=message):
            scenes.parse_scene(tomllib.loads(BASE + f"\n[self_contact]\n{bad}\n"), source="bad.toml")


def write_mesh(path, mesh):
    mesh.export(path)
    return path


def mesh_scene(tmp_path, file: str, extra: str = "") -> str:
    return (f'{BASE}\n[[obstacles]]\ntype = "mesh"\nfile = "{file}"\nscale = 0.01\n'
            f'position = [0.002, 0.002, -0.01]\nfriction = 0.3\nthickness = 0.001\n{extra}')


def test_a_mesh_obstacle_loads_from_a_file_holds_the_cloth_like_the_sphere_it_approximates(tmp_path):
    """An icosphere (OBJ) of radius 1 scaled by 0.01 under the cloth: it loads (path relative to the scene file),
    writes back, is fittable by position, and the cloth rests on it within 0.1 mm of where it rests on the exact
    sphere; the contact kernel's signed distances (inside and outside) are the sphere's within its faceting."""
    import trimesh

    write_mesh(tmp_path / "ball.obj", trimesh.creation.icosphere(subdivisions=4, radius=1.0))
    path = tmp_path / "mesh.toml"
    path.write_text(mesh_scene(tmp_path, "ball.obj"))
    scene = scenes.load_scene(path)
    assert scenes.load_scene(path) == scenes.parse_scene(tomllib.loads(scenes.scene_to_toml(scene)), source="x")
    assert "obstacles[0].position.2" in scenes.fittable_names(scene)
    rests = []
    for text in (path.read_text(), scene_text("sphere")):
        sphere_scene = scenes.parse_scene(tomllib.loads(text), source=str(path))
        rests.append(scenes.simulate_scene(sphere_scene).trajectory.x[0, -1, 2, 2, 2])
    assert abs(rests[0] - rests[1]) < 1e-4
    spec = scenes.build_spec(scene)
    model = simulator.build_model(spec)
    term = next(t for t in model.terms if t.name == "obstacles")
    state = model.state()
    q = state.q.numpy()
    rng = np.random.default_rng(1)
    points = np.asarray(spec.obstacles[0].position) + rng.normal(scale=0.008, size=(model.node_count, 3))
    q[0, :, :3] = points - model.origin_np[0]
    state.q.assign(q)
    radius = model.yarn_radius * np.where(model.crossing_mask_np, 2.0, 1.0)
    device = term.gaps(model, state)[0, :, 0] + radius
    exact = np.linalg.norm(points - np.asarray(spec.obstacles[0].position), axis=-1) - 0.01
    assert (exact < 0).any() and (exact > 0).any()
    np.testing.assert_allclose(device, exact, atol=2e-5)  # the icosphere's faces lie up to 12 um inside


@pytest.mark.parametrize(("contents", "message"), [
    (None, r"obstacles\[0\]\.file = '.*missing\.obj': no such file"),
    ("this is not a mesh\n", r"obstacles\[0\]\.file = '.*bad\.obj' is not a triangle mesh|obstacles\[0\] is empty"),
    ("", r"obstacles\[0\]\.file = '.*bad\.obj' is not a triangle mesh|obstacles\[0\] is empty"),
    ("open", r"obstacles\[0\] is not a closed manifold mesh: \d+ edge\(s\) bound one face"),
])
def test_broken_mesh_files_are_refused_naming_the_field(tmp_path, contents, message):
    import trimesh

    name = "missing.obj" if contents is None else "bad.obj"
    if contents == "open":
        box = trimesh.creation.box()
        trimesh.Trimesh(box.vertices, box.faces[:-1], process=False).export(tmp_path / name)
    elif contents is not None:
        (tmp_path / name).write_text(contents)
    path = tmp_path / "scene.toml"
    path.write_text(mesh_scene(tmp_path, name))
    with pytest.raises(scenes.SceneError, match=message):
        scenes.load_scene(path)
    assert main(["simulate", str(path), "--out", str(tmp_path / "out")]) == 2


@pytest.mark.slow
@pytest.mark.parametrize("name", ["incline", "table_drape", "fold", "sphere_drop"])
def test_no_example_scene_lets_the_cloth_into_an_obstacle(name):
    """Every step of every example scene with obstacles: the cloth's surface stays above -5% of the contact
    thickness of every obstacle (the 101 x 101 sphere drop takes minutes on a CPU)."""
    scene = scenes.load_scene(scenes.__path__[0] + f"/examples/{name}.toml", check_device=False)
    spec = scenes.build_spec(scene)
    model = simulator.build_model(spec, device="cpu")
    solver = simulator.SolverImplicit(model, dt=scene.simulation.solver_dt)
    term = next(t for t in model.terms if t.name == "obstacles")
    thickness = np.array([o.thickness for o in spec.obstacles])
    worst = np.inf
    steps = scene.simulation.steps * scene.simulation.substeps
    for _k, _previous, current in simulator.advance(model, solver, steps=steps):
        worst = min(worst, float((term.gaps(model, current, solver.workspaces[term])[0] / thickness).min()))
    print(f"{name}: smallest gap {worst:.3g} contact thicknesses")
    assert worst > -0.05
