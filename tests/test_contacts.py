"""Contacts couple nodes outside the 13-point stencil (as self-contact will): a term defined here alone links
distant node pairs through ``simulator.Contacts``; the assembled operator (diagonal blocks in the stencil,
couplings from the contact list) equals the matrix-free one, the preconditioner takes their diagonals, both
operators roll out alike, and gradients through the contacts match central differences."""

import numpy as np
import warp as wp

import simulator
from simulator._assembled import mat55d
from simulator._types import vec5d

from .cloth_factory import hanging_spec
from .term_checks import gradient_error

PAIRS = [(7, 40), (12, 33)]  # far apart in the 9 x 5 grid: not stencil neighbours


@wp.kernel
def pair_forces(q: wp.array2d(dtype=vec5d), pairs: wp.array2d(dtype=wp.vec2i), count: wp.array(dtype=wp.int32),
                rest: wp.array3d(dtype=wp.float64), stiffness: wp.array(dtype=wp.float64),
                f: wp.array2d(dtype=vec5d)):
    """-k ((x_i - x_j) - d0) on node i and the opposite on node j for every active pair."""
    b, k = wp.tid()
    if k >= count[b]:
        return
    i = pairs[b, k][0]
    j = pairs[b, k][1]
    qi = q[b, i]
    qj = q[b, j]
    kk = stiffness[b]
    zero = wp.float64(0.0)
    fx = -kk * (qi[0] - qj[0] - rest[b, k, 0])
    fy = -kk * (qi[1] - qj[1] - rest[b, k, 1])
    fz = -kk * (qi[2] - qj[2] - rest[b, k, 2])
    wp.atomic_add(f, b, i, vec5d(fx, fy, fz, zero, zero))
    wp.atomic_add(f, b, j, vec5d(-fx, -fy, -fz, zero, zero))


@wp.kernel
def pair_blocks(count: wp.array(dtype=wp.int32), stiffness: wp.array(dtype=wp.float64), h: wp.float64,
                blocks: wp.array3d(dtype=mat55d)):
    """A_ii = A_jj = h^2 k I3 and A_ij = -h^2 k I3 on the positions."""
    b, k = wp.tid()
    if k >= count[b]:
        return
    kk = h * h * stiffness[b]
    diagonal = mat55d()
    for r in range(3):
        diagonal[r, r] = kk
    blocks[b, k, 0] = diagonal
    blocks[b, k, 1] = -diagonal
    blocks[b, k, 2] = diagonal


class PairSprings(simulator.ForceTerm):
    """Springs between the node pairs of the step's Contacts, at their rest offsets (``pair_stiffness`` [N/m]
    per world, a parameter of its own)."""

    name = "pair_springs"
    stage = simulator.Stage.CROSSING
    parameter_names = ("pair_stiffness",)

    def __init__(self, rest_offsets: np.ndarray, stiffness: float):
        self.rest_offsets, self.stiffness = rest_offsets, stiffness

    def parameters(self, model):
        return {"pair_stiffness": np.full(model.world_count, self.stiffness)}

    def workspace(self, model):
        rest = np.broadcast_to(self.rest_offsets, (model.world_count, *self.rest_offsets.shape))
        return wp.array(np.ascontiguousarray(rest), dtype=wp.float64, device=model.device)

    def force_launches(self, model, c, out, ws=None):
        contacts = c.contacts
        if contacts is None:  # no pairs this step
            return []
        return [simulator.Launch(pair_forces, contacts.pairs.shape,
                                 [c.q, contacts.pairs, contacts.count, ws, model.pair_stiffness], [out])]

    def block_launches(self, model, c, h, blocks, ws=None):
        contacts = c.contacts
        if contacts is None:
            return []
        return [simulator.Launch(pair_blocks, contacts.pairs.shape, [contacts.count, model.pair_stiffness, h],
                                 [contacts.blocks])]


def contact_model(worlds=1):
    spec = hanging_spec((9, 5))
    rest = np.stack([spec.rest_positions().transpose(1, 0, 2).reshape(-1, 3)[i]
                     - spec.rest_positions().transpose(1, 0, 2).reshape(-1, 3)[j] for i, j in PAIRS])
    rest = np.concatenate([rest, np.zeros((2, 3))]) + np.array([0.0, 2e-5, 0.0])  # a slight pull, spare slots
    model = simulator.build_model([spec] * worlds, terms=[*simulator.terms.default_terms(),
                                                          PairSprings(rest, stiffness=30.0)])
    contacts = simulator.Contacts(model, capacity=4)
    contacts.assign([PAIRS] * worlds)
    return model, contacts


def test_the_assembled_operator_with_contacts_equals_the_matrix_free_one():
    model, contacts = contact_model(worlds=2)
    state = model.state()
    q = state.q.numpy()
    q[..., :3] += np.random.default_rng(0).normal(scale=2e-5, size=q[..., :3].shape)
    state.q.assign(q)
    p = wp.array(np.random.default_rng(1).normal(size=q.shape) * model.dof_mask.numpy(), dtype=vec5d)
    products = {}
    for operator in ("assembled", "matrix_free"):
        solver = simulator.SolverImplicit(model, dt=1e-3, operator=operator)
        solver.eval_forces(state, contacts=contacts)
        solver.prepare_operator(solver.configuration(state, contacts=contacts), 1e-3)
        out = wp.zeros_like(p)
        dot = wp.zeros(model.world_count, dtype=wp.float64)
        solver.apply_operator(p, out, dot)
        products[operator] = (out.numpy(), dot.numpy())
    exact, assembled = products["matrix_free"][0], products["assembled"][0]
    assert np.abs(assembled - exact).max() <= 1e-12 * np.abs(exact).max()
    np.testing.assert_allclose(products["assembled"][1], products["matrix_free"][1], rtol=1e-12)
    without = simulator.SolverImplicit(model, dt=1e-3)
    without.eval_forces(state)
    without.prepare_operator(without.configuration(state), 1e-3)
    out = wp.zeros_like(p)
    without.apply_operator(p, out)
    coupling = exact - out.numpy()  # the pairs' share: h^2 k (p_i - p_j) on i, the opposite on j
    i, j = PAIRS[0]
    expected = 1e-6 * 30.0 * (p.numpy()[:, i, :3] - p.numpy()[:, j, :3])
    np.testing.assert_allclose(coupling[:, i, :3] + coupling[:, j, :3], 0.0, atol=1e-18)
    assert np.abs(coupling[:, i, :3]).max() > 0.5 * np.abs(expected).max()


def test_contacts_pull_the_pairs_together_alike_with_both_operators():
    finals = {}
    for operator in ("assembled", "matrix_free"):
        model, contacts = contact_model()
        solver = simulator.SolverImplicit(model, dt=1e-3, tolerance=1e-12, operator=operator)
        run = simulator.rollout(model, solver, steps=25, contacts=contacts)
        assert run.health.unconverged == 0
        finals[operator] = run.x[0, -1]
    np.testing.assert_allclose(finals["assembled"], finals["matrix_free"], rtol=0.0, atol=1e-12)
    free_model = simulator.build_model(hanging_spec((9, 5)))
    free = simulator.rollout(free_model, simulator.SolverImplicit(free_model, dt=1e-3, tolerance=1e-12), steps=25)
    i, j = PAIRS[0]
    width = 9
    gap = [np.linalg.norm(x[i % width, i // width] - x[j % width, j // width]) for x in (finals["assembled"],
                                                                                           free.x[0, -1])]
    assert gap[0] != gap[1]


def test_gradients_through_contacts_match_central_differences():
    model, contacts = contact_model()
    reverse, error = gradient_error(model, "pair_stiffness", contacts=contacts)
    assert reverse != 0.0 and error <= 1e-5, (reverse, error)
