"""The quasi-static mode: run a model to rest and stop on the residual forces, not after a fixed number of steps.

Dynamic relaxation with kinetic damping: the engine's implicit steps move the cloth as it would move, and each
time its kinetic energy passes a maximum every velocity is set to zero (the cloth is then at the bottom of the
energy valley it was crossing, in its slowest mode). It stops when the largest residual force on a free degree
of freedom is below ``tolerance`` times a force scale (by default the largest node weight). The engine's matrix
is the step's, never a statics-only Newton matrix, so what comes to rest is exactly the dynamic model's
equilibrium (friction and sliding included).
"""

import time
from dataclasses import dataclass

import numpy as np

__all__ = ["BLOW_UP", "SettleBlowUp", "SettleError", "SettleResult", "node_masses", "settle"]

#: a residual force this many times the force scale means the simulation blew up (a settling specimen's largest
#: transients in the lab's tests, a flat disc starting to fold included, stay below 1e6; a drape whose linearized
#: step is too long turns chaotic and passes 1e8 within ten steps)
BLOW_UP = 1e8


class SettleError(RuntimeError):
    """A specimen did not come to rest (or its simulation failed) within the step budget."""


class SettleBlowUp(SettleError):
    """The specimen's simulation blew up (non-finite values, or residual forces above ``BLOW_UP`` times the force
    scale): a smaller time step may hold."""


@dataclass(frozen=True)
class SettleResult:
    """How a settle ended.

    Attributes:
        steps: implicit steps taken.
        resets: kinetic-damping velocity resets.
        residual: largest residual force on a free degree of freedom over the largest node weight [-] per world.
        seconds: wall time [s].
    """

    steps: int
    resets: int
    residual: np.ndarray
    seconds: float


def node_masses(model) -> np.ndarray:
    """Lumped node masses [kg], shape [B, N]: half of each segment's rho ds at either end (at rest lengths)."""
    density = model.parameter("segment_density")
    ends = model.segment_np
    mass = np.zeros((model.world_count, model.node_count))
    half = 0.5 * density * model.spacing
    np.add.at(mass, (slice(None), ends[:, 0]), half)
    np.add.at(mass, (slice(None), ends[:, 1]), half)
    return mass


def settle(model, solver, state, *, free: np.ndarray, dt: float, tolerance: float = 1e-6, max_steps: int = 20000,
           check_every: int = 10, force_scale=None) -> SettleResult:
    """Run ``state`` (modified in place) to rest.

    Args:
        free: bool per node, the nodes whose residual force counts (the clamped or pinned ones carry reactions).
        dt: the implicit step [s]: about a fortieth of the slowest period of the specimen.
        tolerance: the largest residual force on a free DOF, relative to ``force_scale``.
        force_scale: the force [N] (one, or one per world) the residual is measured against; default the largest
            node weight (for loads other than gravity, the load per node).
        max_steps: the step budget.
        check_every: steps between residual checks.

    Raises:
        SettleBlowUp: non-finite values, or a residual above ``BLOW_UP`` times the force scale.
        SettleError: no rest within ``max_steps`` (the message gives the residual).
    """
    mass = node_masses(model)
    if force_scale is None:
        force_scale = mass.max(axis=1) * np.linalg.norm(model.gravity.numpy(), axis=-1)  # largest node weight [N]
    scale = np.maximum(np.broadcast_to(np.asarray(force_scale, dtype=float), (model.world_count,)), 1e-300)
    mask = model.dof_mask.numpy()  # [N, 5]: 0 on the sliding DOFs of yarn ends
    other = model.state()
    start = time.perf_counter()
    previous_energy = np.zeros(model.world_count)
    resets = 0
    residual = np.full(model.world_count, np.inf)
    current, spare = state, other
    for step in range(1, max_steps + 1):
        solver.step(current, spare, dt=dt)
        current, spare = spare, current
        velocity = current.qd.numpy()
        if not np.all(np.isfinite(velocity)):
            raise SettleBlowUp(f"the specimen's simulation produced non-finite values at step {step}")
        energy = 0.5 * (mass * np.sum(velocity**2, axis=-1)).sum(axis=1)  # sliding too, with the node mass
        falling = energy < previous_energy
        if falling.any():
            velocity[falling] = 0.0
            current.qd.assign(velocity)
            energy[falling] = 0.0
            resets += int(falling.sum())
        previous_energy = energy
        if step % check_every == 0:
            force = solver.eval_forces(current).numpy() * mask[None]
            residual = np.abs(force[:, free]).max(axis=(1, 2)) / scale
            if not np.all(residual < BLOW_UP):
                raise SettleBlowUp(f"the specimen's simulation blew up at step {step} of {dt:g} s: residual force "
                                  f"{residual.max():.3g} of the force scale (a smaller time step may hold)")
            if np.all(residual <= tolerance):
                break
    else:
        raise SettleError(f"the specimen did not come to rest within {max_steps} steps of {dt:g} s: residual force "
                          f"{residual.max():.3g} of the force scale (tolerance {tolerance:g})")
    if current is not state:
        state.assign(current)
    return SettleResult(steps=step, resets=resets, residual=residual, seconds=time.perf_counter() - start)
