"""Two-phase scheduling: a cheap (possibly biased) estimator first, then a refining one."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ._objective import Estimate, GradientEstimator, Objective

__all__ = ["TwoPhase"]

SwitchRule = int | Callable[[int, Estimate | None], bool]


class TwoPhase:
    """Use ``first`` until a switch, then ``second`` for good ((FG)²U's two-phase paradigm).

    Args:
        first: estimator of phase one (e.g. :class:`Truncated`).
        second: estimator of phase two (e.g. :class:`ForwardGradient`).
        switch_at: an int k: calls 0..k−1 use ``first`` and every later call ``second``; or a callable
            ``rule(calls, last)`` asked before each phase-one call with the number of calls so far
            and the previous :class:`Estimate` (None before the first); the first True switches.

    The estimator keeps its own call counter (``calls``) and current ``phase`` (1 or 2); ``reset()``
    returns to phase one. ``info["phase"]`` of every estimate says which phase produced it.
    """

    def __init__(self, first: GradientEstimator, second: GradientEstimator, *, switch_at: SwitchRule) -> None:
        if isinstance(switch_at, int) and switch_at < 0:
            raise ValueError(f"switch_at must be >= 0, got {switch_at}")
        if not isinstance(switch_at, int) and not callable(switch_at):
            raise TypeError(f"switch_at must be an int or a callable, got {type(switch_at).__name__}")
        self.first = first
        self.second = second
        self.switch_at = switch_at
        self.reset()

    def reset(self) -> None:
        """Forget the history: back to phase one with zero calls."""
        self.calls = 0
        self.phase = 1
        self._last: Estimate | None = None

    def _should_switch(self) -> bool:
        if isinstance(self.switch_at, int):
            return self.calls >= self.switch_at
        return bool(self.switch_at(self.calls, self._last))

    def __call__(
        self, objective: Objective, theta: Tensor, *, generator: torch.Generator | None = None
    ) -> Estimate:
        if self.phase == 1 and self._should_switch():
            self.phase = 2
        estimator = self.first if self.phase == 1 else self.second
        estimate = estimator(objective, theta, generator=generator)
        estimate = Estimate(
            value=estimate.value, grad=estimate.grad, info={**estimate.info, "phase": self.phase}
        )
        self.calls += 1
        self._last = estimate
        return estimate

    def __repr__(self) -> str:
        return f"TwoPhase({self.first!r}, {self.second!r}, switch_at={self.switch_at!r})"
