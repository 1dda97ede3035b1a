"""Self-contact: a cloth folded onto itself by a handle keeps its two layers apart (no segment pair ever
intersects; without self-contact they pass through each other), the term passes the checks of every term (force =
-dE/dq, its share of the system matrix through ``Contacts``), its gradients match central differences, and
pairs beyond the capacity stop the step with a clear error."""

import numpy as np
import pytest

import simulator
from simulator.terms.self_contact import contact_distance

from .cloth_factory import hanging_spec
from .term_checks import force_energy_error, gradient_error, stiffness_error

WIDTH = 15


def fold_spec(*, self_contact=True, capacity=None, nodes=WIDTH, steps_time=0.3, hold=False, contact=None):
    """A flat cloth on a floor whose right edge a handle lifts, carries over and lays on its left half (with
    ``hold``, the handle stays where that path ends)."""
    plane = simulator.Obstacle.plane(point=(0, 0, 0), normal=(0, 0, 1), friction=0.5, thickness=1e-3)
    edge = [(nodes - 1, j) for j in range(nodes)]
    span = (nodes - 1) * 1e-3
    end = (-0.9 * span, 0, 0.0022)
    path = simulator.PinPath(nodes=edge, times=(0.0, steps_time / 2, steps_time),
                             offsets=((0, 0, 0), (-span / 2, 0, 0.008), end))
    if hold:
        path = simulator.PinPath(nodes=edge, times=(0.0,), offsets=(end,))
    return hanging_spec((nodes, nodes), pose="flat", origin=(0, 0, 0.0019), pins=edge, wind=(0, 0, 0),
                        wind_density=0.0, wind_drag=0.0, obstacles=(plane,), pin_paths=(path,),
                        self_contact=simulator.SelfContactSpec(capacity=capacity, **(contact or {}))
                        if self_contact else None)


def segment_distances(x, segments, pairs):
    """Smallest distance between the segments of each pair [P] (x: node positions [N, 3])."""
    p1, q1 = x[segments[pairs[:, 0], 0]], x[segments[pairs[:, 0], 1]]
    p2, q2 = x[segments[pairs[:, 1], 0]], x[segments[pairs[:, 1], 1]]
    d1, d2, r = q1 - p1, q2 - p2, p1 - p2
    a, e = (d1 * d1).sum(-1), (d2 * d2).sum(-1)
    b, c, f = (d1 * d2).sum(-1), (d1 * r).sum(-1), (d2 * r).sum(-1)
    denominator = np.maximum(a * e - b * b, 1e-30)
    s = np.clip((b * f - c * e) / denominator, 0.0, 1.0)
    t = np.clip((b * s + f) / e, 0.0, 1.0)
    s = np.clip((b * t - c) / a, 0.0, 1.0)
    return np.linalg.norm(p1 + d1 * s[:, None] - p2 - d2 * t[:, None], axis=-1)


def distant_segment_pairs(model):
    """Pairs of segments that share no node and are more than two spacings apart on the cloth at rest."""
    segments = model.segment_np
    rest = model.initial_q_np[0, :, :3]
    middle = rest[segments].mean(axis=1)
    i, j = np.triu_indices(len(segments), k=1)
    far = np.linalg.norm(middle[i] - middle[j], axis=-1) > 2.5 * model.spacing
    return segments, np.stack([i[far], j[far]], axis=1)


def fold(self_contact: bool, steps=450):
    model = simulator.build_model(fold_spec(self_contact=self_contact))
    solver = simulator.SolverImplicit(model, dt=1e-3)
    segments, pairs = distant_segment_pairs(model)
    closest = []
    for _k, _previous, current in simulator.advance(model, solver, steps=steps):  # checked every step
        closest.append(segment_distances(current.q.numpy()[0, :, :3], segments, pairs).min())
    return model, current, np.array(closest)


def test_a_folded_cloth_keeps_its_layers_apart():
    """The handle lays the right half over the left one, 2.2 mm up, and holds it there: with self-contact no
    two distant segments come closer than half a yarn radius (the top layer rests on the bottom one about a
    contact distance above it); without it the top layer sags through the bottom one."""
    model, state, closest = fold(True)
    assert closest.min() > 0.5 * model.yarn_radius
    x = state.q.numpy()[0, :, :3]
    assert x[:, 0].max() < 0.6 * (WIDTH - 1) * model.spacing  # folded over: the right half lies on the left
    _, _, through = fold(False)
    assert through.min() < 0.1 * model.yarn_radius


STIFF = {"stiffness": 5.0, "friction": 0.5}  # stiffer layers than the default: their parameters matter more


@pytest.fixture(scope="module")
def folded():
    """A 9 x 9 cloth folded by its handle (moving path), then the same cloth held where the handle ended (one
    keyframe), its free top layer thrown down and sideways onto the bottom one at 0.1 m/s: the held model and
    that state (layers in contact and sliding)."""
    moving = simulator.build_model(fold_spec(nodes=9, contact=STIFF))
    solver = simulator.SolverImplicit(moving, dt=1e-3)
    *_, (_k, _previous, last) = simulator.advance(moving, solver, steps=400)
    held = simulator.build_model(fold_spec(nodes=9, hold=True, contact=STIFF))
    state = held.state()
    state.assign(last)
    q, qd = state.q.numpy(), state.qd.numpy()
    free = (q[0, :, 2] > 0.0005) & (np.arange(held.node_count) % 9 != 8)  # above the bottom layer, not held
    qd[0, free, 0] += 0.1
    qd[0, free, 2] -= 0.1
    state.qd.assign(qd)
    return held, state


def test_the_self_contact_term_passes_the_checks_of_every_term(folded):
    """At the folded state (pairs in contact, layers sliding), the penalty force is -dE/dq and the term's share
    of the system matrix (through Contacts in the assembled operator) equals force differences."""
    model, moving = folded
    solver = simulator.SolverImplicit(model, dt=1e-3)
    solver.eval_forces(moving)
    term = next(t for t in model.terms if t.name == "self_contact")
    assert int(solver.workspaces[term].contacts.count.numpy()[0]) > 0
    assert force_energy_error(model, solver, moving, term) < 1e-6
    errors = stiffness_error(model, solver, moving, term)
    # pairs at the edge of the contact distance sit where the smoothed penalty bends over 40 um: the differences'
    # truncation error is ~(0.1 um / 40 um)^2 there; the two operators agree with each other to rounding
    assert set(errors) == {"matrix_free", "assembled"} and max(errors.values()) < 1e-4, errors
    assert abs(errors["matrix_free"] - errors["assembled"]) < 1e-12


@pytest.mark.parametrize("name", ["self_contact_friction", "self_contact_stiffness", "segment_density"])
def test_gradients_through_self_contact_match_central_differences(name, folded):
    """8 steps of the top layer landing and sliding on the bottom one: reverse mode equals central differences
    (relative steps of 1e-4: these derivatives are 1e-5 of the density's, so smaller steps reach the rollouts'
    rounding) for the layers' friction and stiffness and the yarn density."""
    model, state = folded
    reverse, error = gradient_error(model, name, steps=8, state=state, relative_step=1e-4)
    assert np.isfinite(reverse) and reverse != 0.0
    assert error < 1e-4, (reverse, error)


def test_pairs_beyond_the_capacity_stop_the_step_with_a_clear_error():
    model = simulator.build_model(fold_spec(capacity=3))
    solver = simulator.SolverImplicit(model, dt=1e-3)
    with pytest.raises(simulator.SimulationError, match=r"self-contact: world 0 has \d+ node pairs .* capacity of 3"):
        for _ in simulator.advance(model, solver, steps=300):
            pass


def test_the_contact_distance_covers_the_cloth_thickness_and_the_spacing():
    model = simulator.build_model(hanging_spec((5, 5), self_contact=simulator.SelfContactSpec()))
    assert contact_distance(model) == pytest.approx(max(4 * model.yarn_radius, model.spacing))
