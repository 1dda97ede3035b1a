"""Check the engine's gradients on a user's scene: reverse mode, forward mode and central differences.

The loss compares a rollout of the scene with the rollout of the same scene whose checked parameters
are changed by a few percent (so the residuals are systematic, not noise), over the final step or
the whole trajectory: positions for most parameters, sliding coordinates for the friction and contact
parameters (which hardly move the nodes, so a position loss would drown their effect in roundoff);
each of the two groups is compared with a rollout in which only its own parameters changed.
Its derivative with respect to each scene parameter is computed three ways:

* reverse mode (``simulator.rollout_gradient``: adjoint solve, checkpointing), reduced from the
  per-element gradients to the scene parameter;
* forward mode (``simulator.rollout_jvp``: one tangent per parameter, all as worlds of one batch);
* float64 central differences of the loss, one pair of rollouts per parameter.
"""

from dataclasses import asdict, dataclass

import numpy as np

import scenes
import simulator

from .cloth import SceneParameters

__all__ = ["GradientCheck", "GradientRow", "LOSSES", "check_scene_gradients"]

LOSSES = ("final", "trajectory")
#: parameters checked on the sliding coordinates (they hardly move the nodes), the others on positions
SLIDING_ARRAYS = ("node_friction", "node_friction_stiffness", "node_friction_damping", "node_friction_smoothing",
                  "segment_contact_stiffness")


@dataclass(frozen=True)
class GradientRow:
    """Derivatives of the loss with respect to one scene parameter, three ways, and their agreement."""

    name: str
    value: float
    step: float
    reverse: float
    forward: float
    central: float
    reverse_vs_central: float
    forward_vs_reverse: float


@dataclass(frozen=True)
class GradientCheck:
    """The result of ``check_scene_gradients``."""

    scene: str
    steps: int
    loss_kind: str
    loss: float
    tolerance: float
    rows: tuple[GradientRow, ...]

    @property
    def passed(self) -> bool:
        return all(max(r.reverse_vs_central, r.forward_vs_reverse) <= self.tolerance for r in self.rows)

    def to_dict(self) -> dict:
        return {"scene": self.scene, "steps": self.steps, "loss": self.loss_kind, "loss_value": self.loss,
                "tolerance": self.tolerance, "passed": self.passed, "parameters": [asdict(r) for r in self.rows]}


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
    dt = scene.simulation.dt
    model = simulator.build_model(spec, device=device)
    params = SceneParameters(scene, names, model)
    base = {name: model.parameter(name) for name in params.arrays}
    values = params.values()
    if np.any(values == 0.0):
        zero = [n for n, v in zip(params.names, values, strict=True) if v == 0.0]
        raise ValueError(f"parameters {zero} are 0: relative steps need nonzero values")

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
        return lambda m: simulator.TrajectoryLoss(m, steps=observed, positions=target["x"][:, observed],
                                                  sliding=target["u"][:, observed], position_weight=weights[0],
                                                  slide_weight=weights[1])

    kinds = ["sliding" if t.array in SLIDING_ARRAYS else "positions" for t in params.targets]
    solver = simulator.SolverImplicit(model, dt=dt, tolerance=1e-13, max_iterations=3000)
    reverse, loss_values, steps_k, forward, central = (np.zeros(len(params)) for _ in range(5))
    for kind in dict.fromkeys(kinds):
        which = np.array([k == kind for k in kinds])
        make_loss = loss_factory(kind, which)
        result = simulator.rollout_gradient(model, solver, make_loss(model), steps=steps)
        grad = params.reduce(result.parameters.numpy())[0]
        reverse[which] = grad[which]
        loss_values[which] = float(result.loss[0])
        steps_k[which] = relative_step
        forward[which] = _forward_mode(model, make_loss, params, base, which, steps_k, steps=steps, dt=dt)[which]
        loss_of = make_loss(model)
        for k in np.flatnonzero(which):
            central[k] = _central_difference(model, solver, loss_of, params, base, values, k, steps_k[k], steps)
    params.apply(model, values[None], base)
    rows = tuple(GradientRow(name=name, value=float(values[k]), step=float(steps_k[k]), reverse=float(reverse[k]),
                             forward=float(forward[k]),
                             central=float(central[k]), reverse_vs_central=_relative(reverse[k], central[k]),
                             forward_vs_reverse=_relative(forward[k], reverse[k]))
                 for k, name in enumerate(params.names))
    return GradientCheck(scene=str(scene.source), steps=steps, loss_kind=loss, loss=float(loss_values.max()),
                         tolerance=tolerance, rows=rows)


def _forward_mode(model, make_loss, params, base, which, steps_k, *, steps, dt) -> np.ndarray:
    """Forward-mode derivatives for the parameters ``which``, one tangent each, as worlds of one batch,
    Richardson-extrapolated from steps h and h/2."""
    tangents = {}
    for k, t in enumerate(params.targets):
        if not which[k]:
            continue
        array = tangents.setdefault(t.array, np.zeros((len(params), *base[t.array].shape[1:])))
        if t.component is not None:
            array[k, t.component] = t.factor
        elif array.ndim == 1:
            array[k] = t.factor
        else:
            array[k, t.elements] = t.factor
    for name in tangents:  # rows of the other parameters stay zero
        tangents[name] = tangents[name][which]
    step = steps_k[which]

    def at(h):
        jvp = np.zeros(len(params))
        jvp[which] = simulator.rollout_jvp(model, make_loss, steps=steps, tangents=tangents, dt=dt,
                                           relative_step=h, tolerance=1e-13).jvp
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
            current, nxt = model.state(), model.state()
            total = loss.value(0, current)[0]
            for t in range(1, steps + 1):
                solver.step(current, nxt)
                total += loss.value(t, nxt)[0]
                current, nxt = nxt, current
            totals.append(total)
        params.apply(model, values[None], base)
        return (totals[0] - totals[1]) / (2 * h * abs(values[k]))

    return (4 * at(step / 2) - at(step)) / 3
