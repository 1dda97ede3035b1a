"""Fit a parameter space to data: whiten with Gauss–Newton, minimise with an estimator, report uncertainty."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from learning.estimators import EvaluationFailed, GradientEstimator

from ._choices import default_learning_rate, default_rewhiten, exact_gradients
from ._convergence import DEFAULT_CONVERGENCE, Convergence
from ._gauss_newton import gauss_newton
from ._minimize import Iterate, Minimization, minimize
from ._preconditioned import Preconditioned, Whitening, first_axis_along, whitening
from ._sensitivity import derivative_problems
from ._space import ParameterSpace
from ._uncertainty import Uncertainty, gauss_newton_uncertainty

__all__ = ["BACKOFF", "MAX_BACKOFFS", "MAX_STEP", "FitResult", "fit"]

#: after a round that found no better point, the next one runs with the learning rate times this
BACKOFF = 0.25
#: rounds in a row without a better point (each with a smaller learning rate) before the fit stops
MAX_BACKOFFS = 3
#: default largest change of a coordinate θ in one first-order step (a factor of at most 1.26 for a
#: log-box parameter with the default bounds, near its initial value)
MAX_STEP = 0.1


@dataclass(frozen=True)
class FitResult:
    """The outcome of :func:`fit`.

    Attributes:
        names: fitted parameter names.
        initial: initial values [N]; ``values``: fitted values [N] (the best point evaluated).
        theta: the fitted point in the space's coordinates [N].
        minimization: the optimisation record; its history's ``theta`` are in the space's coordinates
            and each item's ``info["values"]`` holds the parameter values.
        uncertainty: Gauss–Newton uncertainty at the fitted point (None when not computed).
        estimator, optimizer, lr: what was used (lr: that of the last round, None for gauss-newton).
        whitening: the last coordinates it ran in (None: not preconditioned, or Gauss–Newton).
        seconds: wall time of each phase [s]: "minimize" (whitening included), "uncertainty".
        failed_evaluations: trial points whose evaluation raised ``EvaluationFailed`` (each made the fit go
            back to the best point so far with a smaller learning rate).
        insensitive: one message per parameter whose column of the residuals' Jacobian at the start was zero
            to rounding (the data does not determine it; see :func:`derivative_problems`).
    """

    names: tuple[str, ...]
    initial: np.ndarray
    values: np.ndarray
    theta: np.ndarray
    minimization: Minimization
    uncertainty: Uncertainty | None
    estimator: str
    optimizer: str
    lr: float | None
    whitening: Whitening | None
    seconds: dict
    failed_evaluations: int = 0
    insensitive: tuple[str, ...] = ()

    @property
    def value_history(self) -> np.ndarray:
        """Parameter values of every evaluated point [K, N]."""
        return np.array([item.info["values"] for item in self.minimization.history])


def fit(objective, space: ParameterSpace, *, estimator: GradientEstimator | None = None, optimizer: str = "lbfgs",
        iterations: int = 50, lr: float | None = None, precondition: bool = True, rewhiten: int | None = None,
        cutoff: float = 1e-12, max_step: float | None = MAX_STEP, convergence: Convergence | None = DEFAULT_CONVERGENCE,
        uncertainty: bool = True, seed: int = 0, callback: Callable[[Iterate], bool | None] | None = None,
        clock=time.perf_counter) -> FitResult:
    """Fit the parameters of ``space`` by minimising ``objective`` (a function of the space's θ).

    Args:
        objective: a ``learning.estimators`` objective of θ; with ``residual_jacobian(θ) -> (r, J)``
            (a least-squares objective h = |r|²) it is whitened and the uncertainty is computed.
        space: the fitted parameters; the fit starts at ``space.initial``.
        estimator: gradient estimator (see :func:`make_estimator`); not used by "gauss-newton".
        optimizer: "sgd", "adam", "pnm", "adapnm", "lbfgs" (torch optimizers fed by ``estimator``) or
            "gauss-newton" (:func:`gauss_newton`, from residual Jacobians).
        iterations: the most optimizer iterations in all (the fit stops earlier when converged).
        lr: learning rate (default: :func:`default_learning_rate` for the estimator and the coordinates).
        precondition: minimise in coordinates z with θ = θ_k + M z from :func:`whitening` of the
            Jacobian (N JVPs) at the start of every round of ``rewhiten`` iterations; the optimizer
            restarts from the best point so far in each round. For rounds of one L-BFGS iteration the
            whitened axes are turned (:func:`first_axis_along`) so that its step is the Gauss–Newton
            step (with its line search); longer L-BFGS rounds keep the eigen-axes.
        rewhiten: iterations per round (0: one round; None: :func:`default_rewhiten`, 1 for forward or
            zeroth-order estimates over all directions in whitened coordinates, else 5). A round that finds
            no better point is followed by one with the learning rate times ``BACKOFF``; after
            ``MAX_BACKOFFS`` such rounds in a row the fit stops ("converged": no progress left).
        cutoff: relative eigenvalue below which a direction counts as undetermined and is not fitted.
        max_step: largest change of any θ coordinate in one step of a first-order optimizer (a trust
            region: a noisy estimate cannot throw a weakly determined parameter to its bounds, where
            the loss is far from its local model); None: no limit.
        convergence: for a whitened (least-squares) objective, stop ("converged") when the Gauss–Newton
            step left is negligible (see :class:`Convergence`): tested at the start of every round with
            the whitening's Jacobian, and at every exact gradient (reverse mode, all directions) of a
            best point so far, with the round's Gauss–Newton matrix; None: run all ``iterations``.
        uncertainty: compute the Gauss–Newton uncertainty at the end (one more Jacobian).
        seed: seed of the estimator's random directions.
        callback: called with every evaluated :class:`Iterate` (θ in the space's coordinates,
            ``info["values"]`` the parameter values); returning True stops.
    """
    tick = clock()
    theta0 = space.initial_theta()
    has_residuals = callable(getattr(objective, "residual_jacobian", None))
    history: list[Iterate] = []

    def relay(item: Iterate):
        item = replace(item, estimates=len(history) + 1, info={**item.info, "values": space.to_values(item.theta)})
        history.append(item)
        return callback(item) if callback is not None else None

    white, rate, failed, insensitive = None, None, 0, ()
    if optimizer == "gauss-newton":
        if not has_residuals:
            raise TypeError(f"gauss-newton needs an objective with `residual_jacobian`; {type(objective).__name__}"
                            " has none")
        outcome = gauss_newton(objective, theta0, iterations=iterations, cutoff=cutoff, convergence=convergence,
                               callback=relay, clock=clock)
        done, stopped, reason = outcome.iterations, outcome.stopped, outcome.reason
    else:
        if estimator is None:
            raise TypeError(f"optimizer {optimizer!r} needs a gradient estimator")
        whiten = precondition and has_residuals
        rounds = _Rounds(objective, estimator=estimator, optimizer=optimizer, lr=lr, seed=seed, relay=relay,
                         history=history, whiten=whiten, cutoff=cutoff, max_step=max_step,
                         convergence=convergence, clock=clock, names=space.names)
        length = default_rewhiten(estimator, whitened=whiten) if rewhiten is None else rewhiten
        done, stopped, reason = rounds.run(theta0, iterations=iterations, length=length)
        white, rate, failed = rounds.whitening, rounds.rate, rounds.failed_evaluations
        insensitive = rounds.insensitive
    best = min(history, key=lambda item: item.loss)
    result = Minimization(theta=best.theta, loss=best.loss, initial_loss=history[0].loss, history=history,
                          iterations=done, seconds=clock() - tick, stopped=stopped, reason=reason)
    seconds = {"minimize": clock() - tick, "uncertainty": 0.0}
    report = None
    if uncertainty and has_residuals and not result.interrupted:
        tick = clock()
        try:
            residuals, jacobian = objective.residual_jacobian(best.theta)
            report = gauss_newton_uncertainty(residuals, jacobian, space=space, theta=best.theta)
        except KeyboardInterrupt:
            result = replace(result, stopped="interrupted", reason="interrupted (Ctrl-C) in the uncertainty")
        seconds["uncertainty"] = clock() - tick
    uses_estimator = optimizer != "gauss-newton"
    return FitResult(names=space.names, initial=space.initial, values=space.to_values(best.theta), theta=best.theta,
                     minimization=result, uncertainty=report,
                     estimator=repr(estimator) if uses_estimator else "residual Jacobian (forward mode)",
                     optimizer=optimizer, lr=rate, whitening=white, seconds=seconds, failed_evaluations=failed,
                     insensitive=tuple(insensitive))


class _Rounds:
    """Rounds of a torch optimizer in coordinates whitened at the best point so far (see :func:`fit`)."""

    def __init__(self, objective, *, estimator, optimizer, lr, seed, relay, history, whiten, cutoff, max_step,
                 convergence, clock, names):
        self.objective, self.estimator, self.optimizer, self.lr = objective, estimator, optimizer, lr
        self.generator = torch.Generator().manual_seed(int(seed))
        self.relay, self.history, self.whiten, self.cutoff, self.clock = relay, history, whiten, cutoff, clock
        self.max_step, self.convergence = max_step, convergence
        self.whitening, self.rate = None, None
        self.failed_evaluations = 0  # trial points whose evaluation failed (each followed by smaller steps)
        self._start_gradient, self._start_loss, self._dof = None, math.inf, 0
        self.names, self.insensitive, self._checked = tuple(names), [], False

    def run(self, theta, *, iterations: int, length: int) -> tuple[int, str, str]:
        """Run rounds of ``length`` iterations (0: one round) from θ; returns (iterations done, why stopped,
        the reason in words)."""
        start, done, stopped, reason, failures = self.clock(), 0, "iterations", "", 0
        try:
            while done < iterations and stopped == "iterations":
                problem = self._problem(theta, turn=self.optimizer == "lbfgs" and length == 1)
                reason = self._converged_at_start(problem)
                if reason:
                    stopped = "converged"
                    break
                limit = None if self.max_step is None else lambda step, p=problem: p.limit(step, self.max_step)
                before = min((item.loss for item in self.history), default=math.inf)
                rate = self.lr if self.lr is not None else default_learning_rate(
                    self.optimizer, estimator=self.estimator, dim=problem.dim)
                self.rate = rate * BACKOFF**failures
                try:
                    result = minimize(problem, np.zeros(problem.dim), estimator=self.estimator,
                                      optimizer=self.optimizer,
                                      iterations=iterations - done if length <= 0 else min(length, iterations - done),
                                      lr=self.rate, generator=self.generator, clock=self.clock, step_limit=limit,
                                      converged=self._converged_inside(problem),
                                      callback=_in_space(problem, self.relay, iteration=done,
                                                         seconds=self.clock() - start))
                    stopped, reason, done = result.stopped, result.reason, done + result.iterations
                except EvaluationFailed as exc:  # a trial point could not be evaluated: back off from the best
                    if not self.history:
                        raise  # not even the start could be evaluated: nothing to go back to
                    self.failed_evaluations += 1
                    done += 1
                    reason = f"a trial point could not be evaluated ({exc})"
                best = min(self.history, key=lambda item: item.loss)
                failures = 0 if best.loss < before else failures + 1
                if stopped == "iterations" and failures > MAX_BACKOFFS:
                    stopped = "converged"  # no round found anything better, even with smaller steps
                    reason = (f"no better point in {failures} rounds in a row, the last with learning rate "
                              f"{self.rate:g}" + (f"; {reason}" if reason else ""))
                theta = best.theta
        except KeyboardInterrupt:
            if not self.history:
                raise
            stopped, reason = "interrupted", "interrupted (Ctrl-C)"
        if stopped == "iterations":
            reason = f"the iteration limit ({iterations}) was reached"
        return done, stopped, reason

    def _problem(self, theta, *, turn: bool) -> Preconditioned:
        """The round's problem at θ: whitened when possible; with ``turn``, its first axis along the
        Gauss–Newton step (a round of one L-BFGS iteration is that one step: min(1, 1/|ĝ|₁)·lr along −ĝ,
        which is the Gauss–Newton step when ĝ lies along an axis)."""
        if not self.whiten:
            return Preconditioned(self.objective, origin=theta, matrix=np.eye(len(theta)))
        residuals, jacobian = self.objective.residual_jacobian(theta)
        if not self._checked:  # the start: name the parameters the data cannot determine, refuse NaN/Inf
            self._checked = True
            bad, self.insensitive = derivative_problems(self.names, np.linalg.norm(jacobian, axis=0))
            if bad:
                raise EvaluationFailed("the residuals' Jacobian at the start is not finite: " + "; ".join(bad))
        self.whitening = whitening(residuals, jacobian, cutoff=self.cutoff)
        matrix, scale = self.whitening.matrix, self.whitening.value_scale
        gradient = 2.0 * jacobian.T @ residuals  # of h in θ
        if turn:
            matrix = first_axis_along(matrix, matrix.T @ gradient)
        problem = Preconditioned(self.objective, origin=theta, matrix=matrix, value_scale=scale)
        self._start_gradient = matrix.T @ gradient / scale
        self._start_loss = float(residuals @ residuals)
        self._dof = len(residuals) - self.whitening.kept
        return problem

    def _converged_at_start(self, problem: Preconditioned) -> str | None:
        """Why the best point so far (the round's origin) has converged, from the whitening's exact
        Gauss–Newton step; None if it has not, or cannot be told (no whitening, or no point yet)."""
        if self.convergence is None or not self.whiten or not self.history:
            return None
        step, decrease = problem.gauss_newton_step(self._start_gradient)
        return self.convergence.reason(step=step, decrease=decrease, loss=self._start_loss, dof=self._dof)

    def _converged_inside(self, problem: Preconditioned):
        """The ``converged`` test of :func:`minimize` within a round: exact gradients of a whitened objective
        only (a sampled estimate says nothing reliable about the step left)."""
        if self.convergence is None or not self.whiten or not exact_gradients(self.estimator):
            return None

        def converged(estimate) -> str | None:
            step, decrease = problem.gauss_newton_step(estimate.grad.numpy())
            return self.convergence.reason(step=step, decrease=decrease, loss=estimate.value * problem.value_scale,
                                           dof=self._dof)

        return converged


def _in_space(problem: Preconditioned, relay, *, iteration: int, seconds: float):
    """A callback for :func:`minimize` on ``problem`` that hands ``relay`` iterates in the space's θ and values."""

    def convert(item: Iterate):
        theta = problem.theta(torch.as_tensor(item.theta)).numpy()
        scale = problem.value_scale
        return relay(replace(item, theta=theta, loss=item.loss * scale, best=item.best * scale,
                             iteration=item.iteration + iteration, seconds=item.seconds + seconds))

    return convert
