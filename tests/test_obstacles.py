"""Contact with rigid obstacles: the shapes' distances, the term's checks (force = -dE/dq, its share of the system
matrix), friction on an incline on both sides of the friction angle, no penetration (also at impact speeds that
would tunnel through the contact layer in one step), and reverse-mode gradients through contact."""

import numpy as np
import pytest
import warp as wp

import simulator

from .cloth_factory import hanging_spec
from .term_checks import deformed_state, force_energy_error, gradient_error, stiffness_error

THICKNESS = 1e-3


def flat_spec(obstacles, *, nodes=(7, 7), height=0.0019, gravity=(0.0, 0.0, -9.8)):
    """A flat cloth (1 mm spacing, yarn radius 0.5 mm: its surface 1 mm below the crossings) whose crossings
    lie ``height`` above z = 0, without wind or pins."""
    return hanging_spec(nodes, pose="flat", origin=(0.0, 0.0, height), pins=[], wind=(0.0, 0.0, 0.0),
                        wind_density=0.0, wind_drag=0.0, gravity=gravity, obstacles=tuple(obstacles))


def floor(*, friction=0.5, thickness=THICKNESS, level=0.0, **extra):
    return simulator.Obstacle.plane(point=(0.0, 0.0, level), normal=(0.0, 0.0, 1.0), friction=friction,
                                    thickness=thickness, name="obstacles[0]", **extra)


def contact_term(model):
    return next(term for term in model.terms if term.name == "obstacles")


SHAPES = {
    "plane": simulator.Obstacle.plane(point=(0.01, 0.0, -0.02), normal=(0.3, -0.2, 1.0), friction=0.1,
                                      thickness=THICKNESS),
    "sphere": simulator.Obstacle.sphere(center=(0.003, 0.003, -0.03), radius=0.02, friction=0.1,
                                        thickness=THICKNESS),
    "box": simulator.Obstacle.box(center=(0.002, 0.004, -0.03), half_extents=(0.004, 0.006, 0.01),
                                  rotation=(20.0, -10.0, 35.0), friction=0.1, thickness=THICKNESS),
    "capsule": simulator.Obstacle.capsule(start=(-0.01, 0.002, -0.02), end=(0.012, 0.005, -0.015), radius=0.004,
                                          friction=0.1, thickness=THICKNESS),
}


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_device_distances_match_the_host_shapes(kind):
    """The contact kernel's float64 signed distance (minus the cloth's half thickness) equals the host's at points
    inside and outside the shape, near faces, edges and corners."""
    obstacle = SHAPES[kind]
    model = simulator.build_model(flat_spec([obstacle], height=0.01))
    term = contact_term(model)
    rng = np.random.default_rng(3)
    points = np.asarray(obstacle.position) + rng.normal(scale=0.012, size=(model.node_count, 3))
    state = model.state()
    q = state.q.numpy()
    q[0, :, :3] = points - model.origin_np[0]
    state.q.assign(q)
    radius = model.yarn_radius * np.where(model.crossing_mask_np, 2.0, 1.0)
    device = term.gaps(model, state)[0, :, 0]
    host = obstacle.signed_distance(points) - radius
    assert (host < 0).any() and (host > 0).any()
    np.testing.assert_allclose(device, host, rtol=0, atol=1e-15)


def test_the_contact_term_passes_the_checks_of_every_term():
    """In contact (every node deep in the layer, a sliding velocity for the friction drag), the penalty force is
    -dE/dq and the term's share of the system matrix equals force differences, matrix-free and assembled."""
    model = simulator.build_model(flat_spec([floor()], height=0.0012))
    solver = simulator.SolverImplicit(model, dt=1e-3)
    state = deformed_state(model, solver)
    qd = state.qd.numpy()
    qd[..., 0] = 0.01
    state.qd.assign(qd)
    solver.eval_forces(state)
    term = contact_term(model)
    assert force_energy_error(model, solver, state, term) < 1e-6
    errors = stiffness_error(model, solver, state, term)
    assert set(errors) == {"matrix_free", "assembled"}
    assert max(errors.values()) < 1e-6, errors


def incline_motion(angle_degrees, *, friction=0.5, steps=400):
    """Mean displacement [m] and late acceleration [m/s^2] down an incline (gravity turned by the angle)."""
    angle = np.radians(angle_degrees)
    spec = flat_spec([floor(friction=friction)], nodes=(9, 9), height=0.00191,
                     gravity=(9.8 * np.sin(angle), 0.0, -9.8 * np.cos(angle)))
    model = simulator.build_model(spec)
    solver = simulator.SolverImplicit(model, dt=1e-3)
    run = simulator.rollout(model, solver, steps=steps, save_every=10)
    along = run.x[0, ..., 0].mean(axis=(1, 2))
    speed = run.xdot[0, ..., 0].mean(axis=(1, 2))
    late = len(run.t) // 2
    return along[-1] - along[0], (speed[-1] - speed[late]) / (run.t[-1] - run.t[late])


def test_a_cloth_on_an_incline_sticks_below_the_friction_angle_and_slides_above_it():
    """mu = 0.5 (friction angle 26.57 degrees): 3 degrees below it the cloth creeps less than 0.05 mm in 0.4 s;
    3 degrees above it slides with g (sin a - mu cos a) within 5% (the lagged friction's bias, O(h a / v), is
    2% here)."""
    mu = 0.5
    critical = np.degrees(np.arctan(mu))
    stuck, _ = incline_motion(critical - 3.0, friction=mu)
    assert abs(stuck) < 5e-5
    slid, acceleration = incline_motion(critical + 3.0, friction=mu)
    angle = np.radians(critical + 3.0)
    expected = 9.8 * (np.sin(angle) - mu * np.cos(angle))
    assert slid > 0.02
    assert acceleration == pytest.approx(expected, rel=0.05)


def smallest_gaps(model, solver, *, steps, state=None):
    """The smallest gap [m] between the cloth's surface and the obstacles over every step."""
    term = contact_term(model)
    ws = solver.workspaces[term]
    smallest = []
    for _k, _previous, current in simulator.advance(model, solver, steps=steps, state=state):
        smallest.append(term.gaps(model, current, ws).min())
    return np.array(smallest)


def test_a_cloth_dropped_on_a_sphere_never_penetrates_it():
    """A 9 x 9 cloth dropped 2 mm onto a sphere rests on it: its surface never comes closer than -5% of the
    contact thickness, and it settles inside the contact layer."""
    sphere = simulator.Obstacle.sphere(center=(0.004, 0.004, -0.02), radius=0.02, friction=0.3,
                                       thickness=THICKNESS, name="obstacles[0]")
    model = simulator.build_model(flat_spec([sphere], nodes=(9, 9), height=0.004))
    solver = simulator.SolverImplicit(model, dt=1e-3)
    gaps = smallest_gaps(model, solver, steps=200)
    assert gaps.min() > -0.05 * THICKNESS
    assert gaps[-1] < THICKNESS


def test_a_fast_cloth_does_not_tunnel_through_a_thin_contact_layer():
    """At 5 m/s a node crosses 5 mm per step, fifty times a 0.1 mm contact layer: the bound on the approach
    speed keeps every node outside the plane, and the cloth stops on it."""
    model = simulator.build_model(flat_spec([floor(thickness=1e-4)], height=0.004))
    solver = simulator.SolverImplicit(model, dt=1e-3)
    state = model.state()
    qd = state.qd.numpy()
    qd[..., 2] = -5.0
    state.qd.assign(qd)
    gaps = smallest_gaps(model, solver, steps=60, state=state)
    assert gaps.min() > -0.05 * 1e-4
    assert gaps[-1] < 2e-4


@pytest.mark.parametrize("name", ["obstacle_friction", "obstacle_position", "obstacle_thickness",
                                  "segment_density"])
def test_reverse_gradients_through_contact_match_central_differences(name):
    """A cloth sliding on a tilted floor (friction acting, crossings in the layer) for 8 steps: dL/dp of the
    obstacle's friction, position, thickness and the yarn density by reverse mode equals central differences."""
    angle = np.radians(30.0)
    spec = flat_spec([floor(friction=0.4, level=-0.0005)], nodes=(5, 5), height=0.00135,
                     gravity=(9.8 * np.sin(angle), 0.0, -9.8 * np.cos(angle)))  # the floor's height is not 0
    model = simulator.build_model(spec)
    reverse, error = gradient_error(model, name, steps=8)
    assert np.isfinite(reverse) and reverse != 0.0
    assert error < 1e-4, (reverse, error)


def test_obstacles_in_every_world_share_their_shapes():
    """Worlds may differ in an obstacle's position and friction (parameters) but not in its shape."""
    worlds = [flat_spec([floor(friction=0.2)]), flat_spec([floor(friction=0.6)])]
    model = simulator.build_model(worlds)
    np.testing.assert_array_equal(model.parameter("obstacle_friction"), [[0.2], [0.6]])
    other = simulator.Obstacle.sphere(center=(0.0, 0.0, -1.0), radius=0.5, friction=0.2, thickness=THICKNESS)
    with pytest.raises(ValueError, match="obstacle shapes differ"):
        simulator.build_model([flat_spec([floor()]), flat_spec([other])])


def test_a_model_refuses_a_cloth_that_starts_inside_an_obstacle():
    with pytest.raises(ValueError, match=r"intersects the cloth at t = 0: .* node \(1, 1\) is 0.0005 m inside"):
        simulator.build_model(flat_spec([floor()], height=0.0005))


def test_bad_obstacle_values_are_refused_with_their_names():
    with pytest.raises(ValueError, match=r"obstacles\[2\]\.thickness = -0\.001"):
        simulator.Obstacle.sphere(center=(0, 0, 0), radius=1.0, friction=0.1, thickness=-1e-3, name="obstacles[2]")
    with pytest.raises(ValueError, match="normal = \\[0, 0, 0\\]"):
        simulator.Obstacle.plane(point=(0, 0, 0), normal=(0, 0, 0), friction=0.1, thickness=1e-3)
    with pytest.raises(ValueError, match="start and end coincide"):
        simulator.Obstacle.capsule(start=(1, 2, 3), end=(1, 2, 3), radius=0.1, friction=0.1, thickness=1e-3)


def test_the_velocity_bound_leaves_a_free_fall_alone():
    """Far from the obstacle (gaps of centimetres) the bound never acts: the motion equals that without it."""
    far = simulator.Obstacle.plane(point=(0.0, 0.0, -0.5), normal=(0.0, 0.0, 1.0), friction=0.5,
                                   thickness=THICKNESS)
    with_plane = simulator.build_model(flat_spec([far]))
    without = simulator.build_model(flat_spec([]))
    runs = [simulator.rollout(m, simulator.SolverImplicit(m, dt=1e-3), steps=20).x for m in (with_plane, without)]
    np.testing.assert_allclose(runs[0], runs[1], rtol=0, atol=1e-15)



def moving_floor(times, offsets, *, friction=0.5, level=0.0):
    path = simulator.ObstaclePath(times=times, offsets=offsets)
    return floor(friction=friction, level=level, path=path)


def test_a_sliding_floor_drags_the_cloth_on_it_along():
    """A floor that moves sideways at 5 cm/s (keyframes at 0 and 1 s) carries a cloth resting on it by friction:
    after 0.3 s the cloth moves with the floor (within 1%) and has come along by almost all of its travel."""
    speed = 0.05
    model = simulator.build_model(flat_spec([moving_floor((0.0, 1.0), ((0.0, 0.0, 0.0), (speed, 0.0, 0.0)))],
                                            nodes=(7, 7), height=0.0019))
    solver = simulator.SolverImplicit(model, dt=1e-3)
    run = simulator.rollout(model, solver, steps=300, save_every=100)
    velocity = run.xdot[0, -1, ..., 0].mean()
    travel = run.x[0, -1, ..., 0].mean() - run.x[0, 0, ..., 0].mean()
    assert velocity == pytest.approx(speed, rel=0.01)
    assert 0.9 * speed * 0.3 < travel < speed * 0.3


def test_a_rising_floor_lifts_the_cloth_without_letting_it_through():
    """A floor that rises 3 mm in 0.1 s (from under a resting cloth) lifts it by as much; the cloth's surface
    never goes into it."""
    model = simulator.build_model(flat_spec([moving_floor((0.05, 0.15), ((0.0, 0.0, 0.0), (0.0, 0.0, 0.003)))],
                                            nodes=(7, 7), height=0.0019))
    solver = simulator.SolverImplicit(model, dt=1e-3)
    term = contact_term(model)
    gaps, heights = [], []
    control = model.schedule.control()
    for _k, _previous, current in simulator.advance(model, solver, steps=250, control=control):
        gaps.append(term.gaps(model, current, solver.workspaces[term]).min())
        heights.append(current.q.numpy()[0, :, 2].mean())
    assert min(gaps) > -0.05 * THICKNESS
    assert heights[-1] - heights[40] == pytest.approx(0.003, rel=0.05)


@pytest.mark.parametrize("name", ["obstacle_path_offset", "obstacle_friction"])
def test_gradients_through_a_moving_obstacle_match_central_differences(name):
    """A tilted floor that slides and rises under a cloth (keyframes at 0 and 10 ms): dL/dp of its keyframe
    offsets and its friction by reverse mode equals central differences."""
    angle = np.radians(30.0)
    obstacle = moving_floor((0.0, 0.01), ((0.0, 0.0, 0.0), (0.0005, 0.0002, 0.0001)), friction=0.4, level=-0.0005)
    spec = flat_spec([obstacle], nodes=(5, 5), height=0.00135,
                     gravity=(9.8 * np.sin(angle), 0.0, -9.8 * np.cos(angle)))
    model = simulator.build_model(spec)
    reverse, error = gradient_error(model, name, steps=8)
    assert np.isfinite(reverse) and reverse != 0.0
    assert error < 1e-4, (reverse, error)


@pytest.mark.parametrize("worlds", [150, pytest.param(1000, marks=pytest.mark.slow)])
def test_no_nan_anywhere_in_random_contact_scenes(worlds):
    """1000 (150 in the fast suite) random small scenes as the worlds of one batch (5 x 5 cloths thrown at a
    sphere of random place, friction and thickness, at random speeds, under gravity in random directions): every
    state and every reverse-mode gradient (parameters and initial state) of a 30-step trajectory loss is finite,
    and contact happened in most of them."""
    rng = np.random.default_rng(2026)
    specs = []
    for _ in range(worlds):
        centre = (0.002 + rng.uniform(-0.004, 0.004), 0.002 + rng.uniform(-0.004, 0.004),
                  -0.01 - rng.uniform(0.0, 0.002))  # the cloth's surface 0 to 2 mm above the sphere's top
        sphere = simulator.Obstacle.sphere(center=centre, radius=0.01, friction=rng.uniform(0.0, 1.0),
                                           thickness=rng.uniform(2e-4, 2e-3))
        tilt = rng.normal(scale=0.3, size=2)
        specs.append(flat_spec([sphere], nodes=(5, 5), height=0.001 + 1e-5,
                               gravity=(9.8 * tilt[0], 9.8 * tilt[1], -9.8)))
    model = simulator.build_model(specs)
    solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-9, max_iterations=1000)
    start = model.state()
    qd = start.qd.numpy()
    qd[..., :3] = rng.normal(scale=0.3, size=(worlds, 1, 3)) + np.array([0.0, 0.0, -0.5])
    start.qd.assign(qd)
    steps = 30
    run = simulator.rollout(model, solver, steps=steps, state=start)
    assert np.isfinite(run.x).all() and np.isfinite(run.u).all()
    loss = simulator.TrajectoryLoss(model, steps=list(range(1, steps + 1)), positions=run.x[:, 1:] + 1e-5)
    result = simulator.rollout_gradient(model, solver, loss, steps=steps, state=start)
    for name, gradient in result.parameters.numpy().items():
        assert np.isfinite(gradient).all(), name
    assert np.isfinite(result.initial_state.q.numpy()).all() and np.isfinite(result.initial_state.qd.numpy()).all()
    touched = [spec.obstacles[0].signed_distance(run.x[b]).min() - 2 * spec.yarn_radius < spec.obstacles[0].thickness
               for b, spec in enumerate(specs)]
    assert np.mean(touched) > 0.5


@pytest.mark.parametrize("name", ["obstacle_friction", "obstacle_position", "segment_density",
                                  "segment_stretch_stiffness"])
def test_gradients_of_a_fifty_step_drop_onto_a_sphere_match_central_differences(name):
    """A 5 x 5 cloth falls 1 mm onto a sphere, lands and slides off its top for 50 steps (1 ms): dL/dp by reverse
    mode equals central differences for the sphere's friction and position and the yarns' density and stiffness."""
    sphere = simulator.Obstacle.sphere(center=(0.0035, 0.0015, -0.01), radius=0.01, friction=0.3,
                                       thickness=THICKNESS, name="obstacles[0]")
    model = simulator.build_model(flat_spec([sphere], nodes=(5, 5), height=0.003))
    reverse, error = gradient_error(model, name, steps=50)
    assert np.isfinite(reverse) and reverse != 0.0
    assert error < 1e-4, (reverse, error)


def test_the_initial_state_gradient_through_contact_matches_central_differences():
    """The 50-step drop onto a sphere: the reverse-mode gradient with respect to the initial positions and
    velocities, along a random direction, equals central differences."""
    sphere = simulator.Obstacle.sphere(center=(0.0035, 0.0015, -0.01), radius=0.01, friction=0.3,
                                       thickness=THICKNESS, name="obstacles[0]")
    model = simulator.build_model(flat_spec([sphere], nodes=(5, 5), height=0.003))
    solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-13, max_iterations=3000)
    steps = 50
    target = simulator.rollout(model, solver, steps=steps).x[:, 1:] + 2e-6
    loss = simulator.TrajectoryLoss(model, steps=list(range(1, steps + 1)), positions=target)
    result = simulator.rollout_gradient(model, solver, loss, steps=steps)
    rng = np.random.default_rng(8)
    start = model.state()
    q0, qd0 = start.q.numpy().copy(), start.qd.numpy().copy()
    dq, dqd = np.zeros_like(q0), np.zeros_like(qd0)
    dq[..., :3] = rng.normal(scale=1e-9, size=dq[..., :3].shape)
    dqd[..., :3] = rng.normal(scale=1e-6, size=dqd[..., :3].shape)
    reverse = float((result.initial_state.q.numpy() * dq).sum() + (result.initial_state.qd.numpy() * dqd).sum())

    def value(sign):
        start.q.assign(q0 + sign * dq)
        start.qd.assign(qd0 + sign * dqd)
        total = loss.value(0, start)
        for k, _previous, current in simulator.advance(model, solver, steps=steps, state=start):
            total = total + loss.value(k, current)
        return float(np.sum(total))

    central = (value(1.0) - value(-1.0)) / 2.0
    assert reverse != 0.0 and abs(reverse - central) <= 1e-4 * abs(central), (reverse, central)


@pytest.mark.skipif(not wp.is_cuda_available(), reason="needs a CUDA device")
def test_contact_on_cpu_and_cuda_agree():
    """The drop onto a sphere, a box and a mesh (obstacle contact, its BVH query and the approach bound) and a
    fold (self-contact's hash grid): the same trajectory on the CPU and on CUDA, to rounding."""
    import trimesh

    ball = trimesh.creation.icosphere(subdivisions=3, radius=0.006)
    obstacles = [
        simulator.Obstacle.sphere(center=(0.002, 0.002, -0.01), radius=0.01, friction=0.3, thickness=THICKNESS),
        simulator.Obstacle.box(center=(0.01, 0.0, -0.008), half_extents=(0.002, 0.01, 0.004), rotation=(0, 0, 20),
                               friction=0.4, thickness=THICKNESS),
        simulator.Obstacle.from_mesh(vertices=ball.vertices, faces=ball.faces, position=(-0.004, 0.004, -0.007),
                                     friction=0.2, thickness=THICKNESS),
    ]
    spec = flat_spec(obstacles, nodes=(9, 9), height=0.003)
    spec = type(spec)(**{**spec.__dict__, "self_contact": simulator.SelfContactSpec()})
    results = {}
    for device in ("cpu", "cuda:0"):
        model = simulator.build_model(spec, device=device)
        solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-12)
        results[device] = simulator.rollout(model, solver, steps=60).x
    assert np.abs(results["cpu"] - results["cuda:0"]).max() <= 1e-9
