"""Yarn-line preconditioner for the implicit system (M + h D + h^2 K).

The system is stiff along the yarns: the stretching stiffness h^2 ks / L is ~100x the nodal mass,
so point-Jacobi CG needs O(100) iterations. Stretching a warp segment acts on the position
component along the warp, and a weft segment on the component along the weft. With a local
orthonormal frame per node (warp tangent t1, weft tangent t2, normal n), the preconditioner solves
exactly the tridiagonal chains of the t1 components along warp lines and of the t2 components along
weft lines, and uses diagonals for the normal component and for the sliding coordinates. The force terms
give the coefficients (``ForceTerm.preconditioner_launches``: mass and stretching the chains and diagonals,
bending, pins, friction springs and damping diagonals). It is R blockdiag(T_warp, T_weft, D) R^T with
orthonormal R and positive definite blocks, hence symmetric positive definite, as CG requires.
"""

import warp as wp

from ._coords import position
from ._launch import LaunchCache, PlanCache, ReductionLayout
from ._terms import Launch, Zero
from ._types import vec5d


@wp.func
def unit_or(v: wp.vec3d, fallback: wp.vec3d):
    n = wp.length(v)
    if n > wp.float64(0.0):
        return v / n
    return fallback


@wp.kernel
def eval_frames(q: wp.array2d(dtype=vec5d), width: int, height: int, frame: wp.array2d(dtype=wp.mat33d)):
    """Rows of frame[b, n]: warp tangent t1, weft tangent t2 (orthogonalised), normal t1 x t2."""
    b, n = wp.tid()
    i = n % width
    j = n // width
    lo = wp.max(i - 1, 0)
    hi = wp.min(i + 1, width - 1)
    t1 = unit_or(position(q[b, hi + j * width]) - position(q[b, lo + j * width]), wp.vec3d(1.0, 0.0, 0.0))
    lo = wp.max(j - 1, 0)
    hi = wp.min(j + 1, height - 1)
    t2 = position(q[b, i + hi * width]) - position(q[b, i + lo * width])
    t2 = unit_or(t2 - wp.dot(t2, t1) * t1, wp.vec3d(0.0, 0.0, -1.0))
    nrm = wp.cross(t1, t2)
    frame[b, n] = wp.mat33d(t1[0], t1[1], t1[2], t2[0], t2[1], t2[2], nrm[0], nrm[1], nrm[2])


@wp.kernel
def fix_fixed_coordinates(dof_mask: wp.array(dtype=vec5d), diag: wp.array2d(dtype=vec5d)):
    """Fixed sliding coordinates (yarn ends) get a unit diagonal: their residual is always zero."""
    b, n = wp.tid()
    d = diag[b, n]
    mask = dof_mask[n]
    for k in range(3, 5):
        if mask[k] == wp.float64(0.0):
            d[k] = wp.float64(1.0)
    diag[b, n] = d


@wp.kernel
def factor_chains(
    diag: wp.array2d(dtype=vec5d),
    chain: wp.array2d(dtype=wp.vec2d),
    axis: int,
    length: int,
    stride: int,
    line_stride: int,
    ratio: wp.array3d(dtype=wp.float64),
    pivot_inverse: wp.array3d(dtype=wp.float64),
):
    """Thomas factorisation of one yarn line's tridiagonal system per thread (once per step): the pivots'
    inverses 1/d'_k and the eliminated upper coefficients c'_k = c_k / d'_k along axis ``axis``."""
    b, line = wp.tid()
    start = line * line_stride
    prev_c = wp.float64(0.0)
    for k in range(length):
        n = start + k * stride
        lower = wp.float64(0.0)
        if k > 0:
            lower = chain[b, n - stride][axis]
        inverse = wp.float64(1.0) / (diag[b, n][axis] - lower * prev_c)
        prev_c = chain[b, n][axis] * inverse
        ratio[axis, b, n] = prev_c
        pivot_inverse[axis, b, n] = inverse


@wp.kernel
def solve_chains(
    r: wp.array2d(dtype=vec5d),
    frame: wp.array2d(dtype=wp.mat33d),
    chain: wp.array2d(dtype=wp.vec2d),
    ratio: wp.array3d(dtype=wp.float64),
    pivot_inverse: wp.array3d(dtype=wp.float64),
    axis: int,
    length: int,
    stride: int,
    line_stride: int,
    out: wp.array2d(dtype=wp.float64),
):
    """Forward and back substitution along one yarn line per thread for the along-yarn component
    r . t_axis, with the factors of ``factor_chains`` (no division in the dependent chain)."""
    b, line = wp.tid()
    start = line * line_stride
    prev_y = wp.float64(0.0)
    for k in range(length):
        n = start + k * stride
        rhs = wp.dot(frame[b, n][axis], position(r[b, n]))
        lower = wp.float64(0.0)
        if k > 0:
            lower = chain[b, n - stride][axis]
        prev_y = (rhs - lower * prev_y) * pivot_inverse[axis, b, n]
        out[b, n] = prev_y
    for kk in range(length - 1):
        k = length - 2 - kk
        n = start + k * stride
        out[b, n] = out[b, n] - ratio[axis, b, n] * out[b, n + stride]


@wp.kernel
def compose(
    r: wp.array2d(dtype=vec5d),
    frame: wp.array2d(dtype=wp.mat33d),
    diag: wp.array2d(dtype=vec5d),
    along_warp: wp.array2d(dtype=wp.float64),
    along_weft: wp.array2d(dtype=wp.float64),
    dof_mask: wp.array(dtype=vec5d),
    node_count: int,
    span: int,
    with_dot: int,
    z: wp.array2d(dtype=vec5d),
    dot: wp.array(dtype=wp.float64),
):
    """z = t1 z1 + t2 z2 + n (r . n) / d_n on positions, r_s / d_s on sliding coordinates, over ``span``
    consecutive nodes per thread; with_dot != 0 also adds r . z of these nodes into dot[b] (summed over
    the thread block first: one atomic per block, see ReductionLayout)."""
    b, c = wp.tid()
    acc = wp.float64(0.0)
    for n in range(c * span, wp.min((c + 1) * span, node_count)):
        rn = r[b, n]
        f = frame[b, n]
        d = diag[b, n]
        zn = wp.dot(f[2], position(rn)) / d[2]
        zx = along_warp[b, n] * f[0] + along_weft[b, n] * f[1] + zn * f[2]
        mask = dof_mask[n]
        out = vec5d(zx[0], zx[1], zx[2], mask[3] * rn[3] / d[3], mask[4] * rn[4] / d[4])
        z[b, n] = out
        acc += wp.dot(rn, out)
    if with_dot != 0:
        wp.tile_atomic_add(dot, wp.tile_sum(wp.tile(acc)), offset=b)


class LinePreconditioner:
    """Yarn-line preconditioner of one solver (arrays allocated once, updated every step).

    Args:
        model: the cloth model.
        terms: the solver's force terms; workspaces: each term's workspace, by term.
    """

    def __init__(self, model, *, terms=(), workspaces=None):
        self.model = model
        self.terms = tuple(terms)
        self.workspaces = workspaces or {}
        self._plans = PlanCache(model.device)
        self._launcher = LaunchCache(model.device)
        shape = (model.world_count, model.node_count)
        dev = model.device
        self.frame = wp.zeros(shape, dtype=wp.mat33d, device=dev)
        self.diag = wp.zeros(shape, dtype=vec5d, device=dev)
        self.chain = wp.zeros(shape, dtype=wp.vec2d, device=dev)
        self._ratio = wp.zeros((2, *shape), dtype=wp.float64, device=dev)
        self._pivot_inverse = wp.zeros((2, *shape), dtype=wp.float64, device=dev)
        self._warp = wp.zeros(shape, dtype=wp.float64, device=dev)
        self._weft = wp.zeros(shape, dtype=wp.float64, device=dev)
        self._layout = ReductionLayout.for_device(dev, model.node_count)
        self._no_dot = wp.zeros(model.world_count, dtype=wp.float64, device=dev)
        width, height = model.nodes
        # (axis, line count, line length, node stride along a line, node stride between lines, solution) of
        # the warp lines (axis 0: rows j, along i) and the weft lines (axis 1: columns i, along j)
        self._lines = ((0, height, width, 1, width, self._warp), (1, width, height, width, 1, self._weft))

    def update(self, c, h: float) -> None:
        """Rebuild frames and coefficients at the configuration ``c`` (``simulator.Configuration``) for time
        step h [s]."""
        self._plans.run((h, *c.key()), lambda: self._update_launches(c, h))

    def _update_launches(self, c, h: float) -> list:
        m = self.model
        width, height = m.nodes
        nodes = (m.world_count, m.node_count)
        launches = [Zero(self.diag), Zero(self.chain),
                    Launch(eval_frames, nodes, [c.q, width, height], [self.frame])]
        for term in self.terms:
            launches += term.preconditioner_launches(m, c, h, self.frame, self.diag, self.chain,
                                                     self.workspaces.get(term))
        if c.contacts is not None:
            launches.append(c.contacts.preconditioner_launch(self.frame, self.diag))
        launches.append(Launch(fix_fixed_coordinates, nodes, [m.dof_mask], [self.diag]))
        for axis, lines, length, stride, line_stride, _ in self._lines:
            launches.append(Launch(factor_chains, (m.world_count, lines),
                                   [self.diag, self.chain, axis, length, stride, line_stride],
                                   [self._ratio, self._pivot_inverse]))
        return launches

    def apply(self, r: wp.array2d, z: wp.array2d, dot: wp.array = None) -> None:
        """z = P^-1 r; if ``dot`` [B] is given, also dot[b] += r . z (fused reduction)."""
        m = self.model
        launch = self._launcher.launch
        for axis, lines, length, stride, line_stride, out in self._lines:
            launch(solve_chains, (m.world_count, lines),
                   [r, self.frame, self.chain, self._ratio, self._pivot_inverse, axis, length, stride, line_stride],
                   [out])
        layout = self._layout
        launch(compose, (m.world_count, layout.threads),
               [r, self.frame, self.diag, self._warp, self._weft, m.dof_mask, m.node_count, layout.span,
                int(dot is not None)], [z, self._no_dot if dot is None else dot], block_dim=layout.block_dim)
