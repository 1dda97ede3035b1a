"""Check the engine's gradients on a user's scene: reverse mode, forward mode and central differences.

The loss compares a rollout of the scene with the rollout of the same scene whose checked parameters
are changed by a few percent (so the residuals are systematic, not noise), over the final step or
the whole trajectory: positions for most parameters, sliding coordinates for the friction and contact
parameters (which hardly move the nodes, so a position loss would drown their effect in roundoff);
each of the two groups is compared with a rollout in which only its own parameters changed.
Its derivative with respect to each scene parameter is computed three ways:

* ``adjoint``: reverse mode (``simulator.rollout_gradient``: adjoint solve, checkpointing), reduced
  from the per-element gradients to the scene parameter;
* ``tangent_differences``: central differences along one tangent per parameter, all tangents as
  worlds of one batched rollout (``simulator.rollout_jvp``, the engine's forward mode);
* ``central_differences``: float64 central differences of the loss, one pair of rollouts per parameter.
"""

from dataclasses import asdict, dataclass

import numpy as np

import scenes
import simulator

from .cloth import SceneParameters, resolve_names
from .fit import FitError, derivative_problems

__all__ = ["GradientCheck", "GradientRow", "LOSSES", "check_scene_gradients", "step_warnings"]

LOSSES = ("final", "trajectory")
#: parameters checked on the sliding coordinates (they hardly move the nodes), the others on positions
SLIDING_ARRAYS = ("node_friction", "node_friction_stiffness", "node_friction_damping", "node_friction_smoothing",
                  "segment_contact_stiffness")


@dataclass(frozen=True)
class GradientRow:
    """Derivatives of the loss with respect to one scene parameter, three ways, and their agreement.

    Attributes:
        name: dotted scene name; value: its value in the scene; step: relative finite-difference step.
        adjoint: reverse mode; tangent_differences: central differences along the parameter's tangent,
            batched as worlds; central_differences: central differences of the loss, one rollout pair each.
        adjoint_vs_central: relative disagreement |a - c| / max(|a|, |c|); tangent_vs_adjoint likewise.
    """

    name: str
    value: float
    step: float
    adjoint: float
    tangent_differences: float
    central_differences: float
    adjoint_vs_central: float
    tangent_vs_adjoint: float


@dataclass(frozen=True)
class GradientCheck:
    """The result of ``check_scene_gradients``.

    Attributes:
        solver: health of the linear solves: "forward" (the reverse-mode passes' rollouts) and "adjoint" (their
            adjoint solves), each a ``simulator.SolveHealth.summary()``.
        nonfinite: one message per parameter whose reverse-mode derivative is NaN or Inf (the check fails).
        insensitive: one message per parameter whose derivative (times its value) is zero to rounding next to
            the others': the loss does not depend on it (a warning).
    """

    scene: str
    steps: int
    loss_kind: str
    loss: float
    tolerance: float
    rows: tuple[GradientRow, ...]
    solver: dict
    nonfinite: tuple[str, ...] = ()
    insensitive: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """Every parameter's three derivatives are finite and agree within the tolerance."""
        return not self.nonfinite and all(max(r.adjoint_vs_central, r.tangent_vs_adjoint) <= self.tolerance
                                          for r in self.rows)

    @property
    def unconverged(self) -> int:
        """Linear solves (forward and adjoint, per world) that did not reach their tolerance."""
        return sum(part["unconverged"] for part in self.solver.values())

    def to_dict(self) -> dict:
        """The contents of gradcheck.json."""
        return {"scene": self.scene, "steps": self.steps, "loss": self.loss_kind, "loss_value": self.loss,
                "tolerance": self.tolerance, "passed": self.passed, "solver": self.solver,
                "nonfinite": list(self.nonfinite), "insensitive": list(self.insensitive),
                "parameters": [asdict(r) for r in self.rows]}


def _relative(a: float, b: float) -> float:
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale > 0 else 0.0


def check_scene_gradients(scene: scenes.Scene, names, *, steps: int, loss: str = "trajectory",
                          relative_step: float = 1.0e-4, tolerance: float = 1.0e-4, change: float = 0.05,
                          device: str = "cpu") -> GradientCheck:
    """Reverse, forward and central-difference derivatives of a rollout loss for scene parameters.

    Args:
        scene: the scene (its own values are the point of the check).
        names: dotted scene parameter names (``learning.cloth`` lists the fittable ones).
        steps: rollout length.
        loss: "final" (positions and sliding at the last step) or "trajectory" (at every step).
        relative_step: central-difference step h relative to each parameter's value (also used by
            forward mode); every difference is Richardson-extrapolated from steps h and h/2, so its
            truncation error is O(h^4) while roundoff stays at the level of a step of h/2.
        tolerance: largest accepted relative disagreement.
        change: relative change of the parameters in the rollout that the loss compares with.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss = {loss!r}: expected one of {', '.join(LOSSES)}")
    if steps < 1:
        raise ValueError(f"steps = {steps!r}: expected >= 1")
    spec = scenes.build_spec(scene)
    dt = scene.simulation.solver_dt  # the engine's step (dt / substeps)
    model = simulator.build_model(spec, device=device)
    params = SceneParameters(scene, names, model)
    base = {name: model.parameter(name) for name in params.arrays}
    values = params.values()
    if np.any(values == 0.0):
        zero = [n for n, v in zip(params.names, values, strict=True) if v == 0.0]
        raise FitError(f"{scene.source}: {', '.join(zero)} = 0 in the scene: the check takes relative steps, so it "
                       "needs nonzero values (check the parameter in a scene where it is not 0)")

    def rollout_with(model_values) -> dict:
        shifted = simulator.build_model(spec, device=device)
        params.apply(shifted, model_values[None], base)
        return simulator.rollout(shifted, simulator.SolverImplicit(shifted, dt=dt, tolerance=1e-13), steps=steps)

    observed = [steps] if loss == "final" else list(range(1, steps + 1))

    def loss_factory(kind, which):
        """The loss on positions (or sliding) against a rollout with the parameters ``which`` changed."""
        changed = np.where(which, values * (1.0 + change), values)
        target = rollout_with(changed)
        weights = {"positions": (1.0, 0.0), "sliding": (0.0, 1.0)}[kind]
        return lambda m: simulator.TrajectoryLoss(m, steps=observed, positions=target.x[:, observed],
                                                  sliding=target.u[:, observed], position_weight=weights[0],
                                                  slide_weight=weights[1])

    kinds = ["sliding" if t.array in SLIDING_ARRAYS else "positions" for t in params.targets]
    solver = simulator.SolverImplicit(model, dt=dt, tolerance=1e-13, max_iterations=3000)
    reverse, loss_values, steps_k, forward, central = (np.zeros(len(params)) for _ in range(5))
    health = {"forward": simulator.SolveHealth(), "adjoint": simulator.SolveHealth()}
    for kind in dict.fromkeys(kinds):
        which = np.array([k == kind for k in kinds])
        make_loss = loss_factory(kind, which)
        result = simulator.rollout_gradient(model, solver, make_loss(model), steps=steps)
        health["forward"].extend(result.health)
        health["adjoint"].extend(result.adjoint_health)
        grad = params.reduce(result.parameters.numpy())[0]
        reverse[which] = grad[which]
        loss_values[which] = float(result.loss[0])
        steps_k[which] = relative_step
        forward[which] = _forward_mode(model, solver, make_loss, params, base, which, steps_k, steps=steps)[which]
        loss_of = make_loss(model)
        for k in np.flatnonzero(which):
            central[k] = _central_difference(model, solver, loss_of, params, base, values, k, steps_k[k], steps)
    params.apply(model, values[None], base)
    rows = tuple(GradientRow(name=name, value=float(values[k]), step=float(steps_k[k]), adjoint=float(reverse[k]),
                             tangent_differences=float(forward[k]), central_differences=float(central[k]),
                             adjoint_vs_central=_relative(reverse[k], central[k]),
                             tangent_vs_adjoint=_relative(forward[k], reverse[k]))
                 for k, name in enumerate(params.names))
    bad, zero = derivative_problems(params.names, reverse * values)
    return GradientCheck(scene=str(scene.source), steps=steps, loss_kind=loss, loss=float(loss_values.max()),
                         tolerance=tolerance, rows=rows, solver={k: v.summary() for k, v in health.items()},
                         nonfinite=tuple(bad), insensitive=tuple(zero))


def step_warnings(scene: scenes.Scene, names, *, relative_step: float, change: float = 0.05) -> list[str]:
    """Why the rollouts of ``check_scene_gradients`` would leave the physical range of a parameter: one line
    per parameter whose value times (1 - relative_step), (1 + relative_step) or (1 + change) the scene
    file would refuse (e.g. a negative density), naming the value and what is expected."""
    warnings = []
    for name in resolve_names(scene, names):
        value = float(scenes.get_parameter(scene, name))
        for factor in (1.0 - relative_step, 1.0 + relative_step, 1.0 + change):
            try:
                scenes.with_parameters(scene, {name: value * factor})
            except scenes.SceneError as exc:
                reason = str(exc).split(": ", 1)[-1]
                warnings.append(f"{name}: the check evaluates it at {value * factor:g} ({factor:g} x {value:g}), "
                                f"outside its physical range ({reason}); use a smaller --step")
                break
    return warnings


def _forward_mode(model, solver, make_loss, params, base, which, steps_k, *, steps) -> np.ndarray:
    """Central differences along one tangent per parameter ``which``, all as worlds of one batch (the engine's
    forward mode), Richardson-extrapolated from steps h and h/2."""
    tangents = params.tangents(base, which)
    step = steps_k[which]

    def at(h):
        jvp = np.zeros(len(params))
        jvp[which] = simulator.rollout_jvp(model, solver, make_loss, steps=steps, tangents=tangents,
                                           relative_step=h).jvp
        return jvp[which]

    result = np.zeros(len(params))
    result[which] = (4 * at(step / 2) - at(step)) / 3
    return result


def _central_difference(model, solver, loss, params, base, values, k, step, steps) -> float:
    """Central difference of the loss for parameter k, Richardson-extrapolated from ``step`` and step/2."""

    def at(h):
        totals = []
        for sign in (1.0, -1.0):
            shifted = values.copy()
            shifted[k] += sign * h * abs(values[k])
            params.apply(model, shifted[None], base)
            start = model.state()
            total = loss.value(0, start)[0]
            for t, _previous, current in simulator.advance(model, solver, steps=steps, state=start):
                total += loss.value(t, current)[0]
            totals.append(total)
        params.apply(model, values[None], base)
        return (totals[0] - totals[1]) / (2 * h * abs(values[k]))

    return (4 * at(step / 2) - at(step)) / 3
