"""A force term added from this file alone (no edit under simulator/) joins the model's physics and passes the
checks of the built-in terms: force = -dE/dq, its share of the system matrix against force differences, and
reverse-mode gradients of its own parameters against central differences; with or without an assembled form.
"""

import numpy as np
import pytest
import warp as wp

import simulator
from simulator._types import vec5d

from .cloth_factory import hanging_spec
from .term_checks import deformed_state, force_energy_error, gradient_error, stiffness_error

mat55d = wp.types.matrix(shape=(5, 5), dtype=wp.float64)


@wp.kernel
def tether_forces(q: wp.array2d(dtype=vec5d), stiffness: wp.array2d(dtype=wp.float64),
                  point: wp.array3d(dtype=wp.float64), f: wp.array2d(dtype=vec5d)):
    """-k (x - p) on every node (k = 0 where a node is not tethered)."""
    b, n = wp.tid()
    qn = q[b, n]
    k = stiffness[b, n]
    zero = wp.float64(0.0)
    wp.atomic_add(f, b, n, vec5d(-k * (qn[0] - point[b, n, 0]), -k * (qn[1] - point[b, n, 1]),
                                 -k * (qn[2] - point[b, n, 2]), zero, zero))


@wp.kernel
def tether_energy(q: wp.array2d(dtype=vec5d), stiffness: wp.array2d(dtype=wp.float64),
                  point: wp.array3d(dtype=wp.float64), energy: wp.array2d(dtype=wp.float64)):
    b, n = wp.tid()
    qn = q[b, n]
    d = wp.vec3d(qn[0] - point[b, n, 0], qn[1] - point[b, n, 1], qn[2] - point[b, n, 2])
    energy[b, n] = wp.float64(0.5) * stiffness[b, n] * wp.dot(d, d)


@wp.kernel
def tether_blocks(stiffness: wp.array2d(dtype=wp.float64), h: wp.float64, blocks: wp.array3d(dtype=mat55d)):
    b, n = wp.tid()
    block = blocks[b, n, 0]
    for r in range(3):
        block[r, r] = block[r, r] + h * h * stiffness[b, n]
    blocks[b, n, 0] = block


class Tether(simulator.ForceTerm):
    """Springs from chosen nodes to fixed points (relative to the model origin) [N/m]: a term with parameter
    arrays of its own (``tether_stiffness`` [B, nodes], ``tether_point`` [B, nodes, 3])."""

    name = "tether"
    stage = simulator.Stage.CROSSING
    parameter_names = ("tether_stiffness", "tether_point")

    def __init__(self, nodes, *, stiffness: float, offset):
        self.nodes, self.stiffness, self.offset = list(nodes), float(stiffness), np.asarray(offset, dtype=float)

    def parameters(self, model):
        k = np.zeros((model.world_count, model.node_count))
        k[:, self.nodes] = self.stiffness
        point = model.initial_q_np[..., :3] + self.offset
        return {"tether_stiffness": k, "tether_point": point}

    def _inputs(self, model, c):
        return [c.q, model.tether_stiffness, model.tether_point]

    def force_launches(self, model, c, out, ws=None):
        return [simulator.Launch(tether_forces, (model.world_count, model.node_count), self._inputs(model, c), [out])]

    def energy_launches(self, model, c, ws=None):
        return [simulator.Launch(tether_energy, (model.world_count, model.node_count), self._inputs(model, c))]

    def block_launches(self, model, c, h, blocks, ws=None):
        return [simulator.Launch(tether_blocks, (model.world_count, model.node_count),
                                 [model.tether_stiffness, h], [blocks])]


class MatrixFreeTether(Tether):
    """The same springs without an assembled form (the assembled operator applies them matrix-free)."""

    def block_launches(self, model, c, h, blocks, ws=None):
        return None


def tethered_model(term_class, worlds=1):
    spec = hanging_spec((6, 5), pins=[(0, 0)])
    term = term_class([7, 13, 22], stiffness=40.0, offset=(2e-5, -1e-5, 3e-5))
    return simulator.build_model([spec] * worlds, terms=[*simulator.terms.default_terms(), term]), term


def test_the_new_terms_parameters_join_the_model():
    model, term = tethered_model(Tether, worlds=2)
    assert model.terms[-1] is term and "tether_stiffness" in model.parameter_names
    assert model.parameter("tether_stiffness").shape == (2, 30)
    assert model.parameter("tether_point").shape == (2, 30, 3)
    with pytest.raises(ValueError, match="appear more than once"):
        simulator.build_model(hanging_spec((5, 5)), terms=[*simulator.terms.default_terms(), Tether([1], stiffness=1,
                                                                                                    offset=0)] * 2)


@pytest.mark.parametrize("term_class", [Tether, MatrixFreeTether])
def test_the_new_term_passes_the_checks_of_the_built_in_terms(term_class):
    model, term = tethered_model(term_class)
    solver = simulator.SolverImplicit(model, dt=1e-3)
    state = deformed_state(model, solver)
    assert force_energy_error(model, solver, state, term) <= 1e-6
    errors = stiffness_error(model, solver, state, term)
    assert ("assembled" in errors) == (term_class is Tether)
    assert max(errors.values()) <= 1e-6, errors
    for name in ("tether_stiffness", "tether_point"):
        reverse, error = gradient_error(model, name)
        assert reverse != 0.0 and error <= 1e-5, (name, reverse, error)


def test_the_new_term_changes_the_motion_and_both_operators_agree():
    """The tethers hold their nodes near their points, and the assembled operator (with the term's blocks, or
    with the term matrix-free inside it) steps like the matrix-free one."""
    finals = {}
    for term_class, operator in ((Tether, "assembled"), (MatrixFreeTether, "assembled"), (Tether, "matrix_free")):
        model, term = tethered_model(term_class)
        solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-12, operator=operator)
        finals[(term_class.__name__, operator)] = simulator.rollout(model, solver, steps=30).x[0, -1]
    reference = finals[("Tether", "matrix_free")]
    for key, x in finals.items():
        np.testing.assert_allclose(x, reference, rtol=0.0, atol=1e-12, err_msg=str(key))
    free = simulator.build_model(hanging_spec((6, 5), pins=[(0, 0)]))
    untethered = simulator.rollout(free, simulator.SolverImplicit(free, dt=1e-3, tolerance=1e-12), steps=30).x[0, -1]
    node = (7 % 6, 7 // 6)
    assert np.abs(untethered[node] - reference[node]).max() > 1e-6
