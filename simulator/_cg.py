"""Batched preconditioned conjugate gradients with per-world scalars, and the health of every solve.

Each world has its own CG scalars and stops on its own (so B worlds give exactly B separate runs): a
world is done when sqrt(r.Pr / b.Pb) <= tolerance, in the norm of the preconditioner P. The dot
products are fused into the operator and preconditioner kernels (``dot`` arguments). After every
solve, ``residual`` [B] holds each world's final relative residual sqrt(r.Pr / b.Pb) and ``converged``
[B] whether it reached the tolerance (a world that hit ``max_iterations``, or broke down on a
non-positive curvature p.Ap, has not).
"""

import numpy as np
import warp as wp

from ._launch import LaunchCache
from ._types import vec5d

__all__ = ["ConjugateGradient"]


@wp.kernel
def cg_residual(rhs: wp.array2d(dtype=vec5d), a_v: wp.array2d(dtype=vec5d), dof_mask: wp.array(dtype=vec5d),
                r: wp.array2d(dtype=vec5d)):
    """r = mask * (b - A v)."""
    b, n = wp.tid()
    r[b, n] = wp.cw_mul(dof_mask[n], rhs[b, n] - a_v[b, n])


@wp.kernel
def cg_update(
    v: wp.array2d(dtype=vec5d),
    p: wp.array2d(dtype=vec5d),
    ap: wp.array2d(dtype=vec5d),
    r: wp.array2d(dtype=vec5d),
    dof_mask: wp.array(dtype=vec5d),
    rz: wp.array(dtype=wp.float64),
    pap: wp.array(dtype=wp.float64),
    done: wp.array(dtype=wp.int32),
):
    """v += alpha p and r -= alpha A p with alpha = r.z / p.Ap (worlds that are done stay put)."""
    b, n = wp.tid()
    if done[b] != 0 or pap[b] <= wp.float64(0.0):
        return
    alpha = rz[b] / pap[b]
    v[b, n] = v[b, n] + alpha * p[b, n]
    r[b, n] = r[b, n] - alpha * wp.cw_mul(dof_mask[n], ap[b, n])


@wp.kernel
def cg_direction(p: wp.array2d(dtype=vec5d), z: wp.array2d(dtype=vec5d), rz: wp.array(dtype=wp.float64),
                 rz_new: wp.array(dtype=wp.float64), done: wp.array(dtype=wp.int32)):
    """p = z + beta p with beta = r.z (new) / r.z (old)."""
    b, n = wp.tid()
    if done[b] != 0 or rz[b] <= wp.float64(0.0):
        return
    p[b, n] = z[b, n] + (rz_new[b] / rz[b]) * p[b, n]


@wp.kernel
def cg_advance(rz: wp.array(dtype=wp.float64), rz_new: wp.array(dtype=wp.float64),
               pap: wp.array(dtype=wp.float64), bz: wp.array(dtype=wp.float64), tolerance_sq: wp.float64,
               done: wp.array(dtype=wp.int32), iterations: wp.array(dtype=wp.int32)):
    """Per world: count the iteration, stop on a small residual (or a non-positive curvature p.Ap)."""
    b = wp.tid()
    if done[b] != 0:
        return
    iterations[b] = iterations[b] + 1
    if rz_new[b] <= tolerance_sq * bz[b] or pap[b] <= wp.float64(0.0):
        done[b] = 1
    rz[b] = rz_new[b]
    rz_new[b] = wp.float64(0.0)
    pap[b] = wp.float64(0.0)


@wp.kernel
def cg_mark_converged(rz: wp.array(dtype=wp.float64), bz: wp.array(dtype=wp.float64),
                      tolerance_sq: wp.float64, done: wp.array(dtype=wp.int32)):
    b = wp.tid()
    if rz[b] <= tolerance_sq * bz[b]:
        done[b] = 1


@wp.kernel
def cg_health(rz: wp.array(dtype=wp.float64), bz: wp.array(dtype=wp.float64), tolerance_sq: wp.float64,
              residual: wp.array(dtype=wp.float64), converged: wp.array(dtype=wp.int32)):
    """Final relative residual sqrt(r.Pr / b.Pb) (0 for a zero right-hand side) and whether it is within the
    tolerance."""
    b = wp.tid()
    relative = wp.float64(0.0)
    if bz[b] > wp.float64(0.0):
        relative = wp.sqrt(wp.max(rz[b], wp.float64(0.0)) / bz[b])
    residual[b] = relative
    converged[b] = wp.where(rz[b] <= tolerance_sq * bz[b], 1, 0)


class ConjugateGradient:
    """Work vectors and scalars of a batched PCG on [B, nodes] vec5d systems (allocated once).

    Args:
        model: the model (worlds, nodes, device, DOF mask).
        tolerance: relative residual in the preconditioner norm.
        max_iterations: iteration cap per solve.
        check_every: iterations between host-side checks that every world is done; 0 never reads back (the
            solve always runs ``max_iterations`` iterations, done worlds frozen) and is CUDA-graph capturable.
    """

    def __init__(self, model, *, tolerance: float, max_iterations: int, check_every: int):
        if not (0.0 < tolerance < 1.0):
            raise ValueError(f"tolerance = {tolerance!r} is out of range: expected a value in (0, 1)")
        if max_iterations < 1:
            raise ValueError(f"max_iterations = {max_iterations!r} is out of range: expected >= 1")
        if check_every < 0:
            raise ValueError(f"check_every = {check_every!r} is out of range: expected >= 0")
        self.model = model
        self.tolerance = float(tolerance)
        self.max_iterations = int(max_iterations)
        self.check_every = int(check_every)
        worlds, dev = model.world_count, model.device
        shape = (worlds, model.node_count)
        self.residual_vector, self.preconditioned, self.direction, self.product = (
            wp.zeros(shape, dtype=vec5d, device=dev) for _ in range(4))
        self._rz, self._rz_new, self._bz, self._pap = (wp.zeros(worlds, dtype=wp.float64, device=dev)
                                                       for _ in range(4))
        self._done = wp.zeros(worlds, dtype=wp.int32, device=dev)
        self.iterations = wp.zeros(worlds, dtype=wp.int32, device=dev)
        self.residual = wp.zeros(worlds, dtype=wp.float64, device=dev)
        self.converged = wp.zeros(worlds, dtype=wp.int32, device=dev)
        self._launcher = LaunchCache(dev)

    def solve(self, apply, precondition, rhs: wp.array2d, x: wp.array2d) -> None:
        """Solve A x = rhs from the initial ``x`` (overwritten).

        Args:
            apply: ``apply(p, out, dot)``: out = A p, and dot[b] += p . A p when ``dot`` is given.
            precondition: ``precondition(r, z, dot)``: z = P^-1 r, and dot[b] += r . z when ``dot`` is given.
        """
        m = self.model
        dev = m.device
        tol_sq = self.tolerance**2
        nodes = (m.world_count, m.node_count)
        r, z, p, ap = self.residual_vector, self.preconditioned, self.direction, self.product
        for arr in (self._rz, self._rz_new, self._bz, self._pap, self._done, self.iterations):
            arr.zero_()
        precondition(rhs, z, self._bz)
        apply(x, ap, None)
        wp.launch(cg_residual, dim=nodes, inputs=[rhs, ap, m.dof_mask], outputs=[r], device=dev)
        precondition(r, z, self._rz)
        wp.copy(p, z)
        wp.launch(cg_mark_converged, dim=m.world_count, inputs=[self._rz, self._bz, tol_sq], outputs=[self._done],
                  device=dev)
        launch = self._launcher.launch
        for it in range(self.max_iterations):
            apply(p, ap, self._pap)
            launch(cg_update, nodes, [x, p, ap, r, m.dof_mask, self._rz, self._pap, self._done])
            precondition(r, z, self._rz_new)
            launch(cg_direction, nodes, [p, z, self._rz, self._rz_new, self._done])
            launch(cg_advance, m.world_count, [self._rz, self._rz_new, self._pap, self._bz, tol_sq],
                   [self._done, self.iterations])
            if self.check_every and (it + 1) % self.check_every == 0 and bool(self._done.numpy().all()):
                break
        launch(cg_health, m.world_count, [self._rz, self._bz, tol_sq], [self.residual, self.converged])

    def health(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(iterations [B], final relative residual [B], converged [B] bool) of the last solve (reads back)."""
        return self.iterations.numpy().copy(), self.residual.numpy().copy(), self.converged.numpy().astype(bool)
