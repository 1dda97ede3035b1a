"""(FG)²U-ZO: the forward-gradient estimate with directional derivatives from finite differences."""

from __future__ import annotations

import torch
from torch import Tensor

from ._directions import (
    ALL_DIRECTIONS,
    DirectionCount,
    DirectionDistribution,
    check_direction_count,
    directional_average,
    draw_directions,
)
from ._objective import Estimate, Objective, check_parameters, evaluate_values

__all__ = ["ZerothOrder"]


class ZerothOrder:
    """Zeroth-order estimate ĝ = (1/b) Σ_i δ_i v_i with δ_i a finite difference of h along v_i.

    Central: δ_i = (h(θ + μv_i) − h(θ − μv_i)) / (2μ), bias O(μ²) on smooth h.
    Forward: δ_i = (h(θ + μv_i) − h(θ)) / μ, bias O(μ).
    Needs only ``objective.value``; uses ``objective.values`` to evaluate all points in one batch
    when present. Directions are drawn exactly as :class:`ForwardGradient` draws them, so the
    same generator state gives the same directions.

    With ``directions="all"`` the directions are the N coordinate directions √N·e_i (each point is
    moved by μ√N along one coordinate): ĝ is the central- (or forward-) difference gradient, with no
    sampling error and no generator needed.

    Args:
        directions: number b of random directions per estimate, or "all".
        step: finite-difference step μ > 0, in the units of θ (per unit length of v).
        distribution: "rademacher", "gaussian" or "coordinate"; not used with "all".
        central: central differences (2b + 1 evaluations) instead of forward ones (b + 1).

    ``info`` holds ``directions`` [shape (b, N)], ``derivatives`` δ_i [shape (b,)] and ``evaluations``.
    """

    def __init__(
        self,
        *,
        directions: DirectionCount = 1,
        step: float = 1e-4,
        distribution: DirectionDistribution | str = "gaussian",
        central: bool = True,
    ) -> None:
        self.directions = check_direction_count(directions)
        if not step > 0.0:
            raise ValueError(f"step must be > 0, got {step}")
        self.step = float(step)
        self.distribution = DirectionDistribution(distribution)
        self.central = bool(central)

    @property
    def sampled(self) -> bool:
        """True when the directions are drawn at random (an estimate with sampling error); False for "all"."""
        return self.directions != ALL_DIRECTIONS

    def __call__(
        self, objective: Objective, theta: Tensor, *, generator: torch.Generator | None = None
    ) -> Estimate:
        theta = check_parameters(objective, theta)
        directions = draw_directions(
            self.directions,
            objective.dim,
            distribution=self.distribution,
            generator=generator,
            dtype=theta.dtype,
            device=theta.device,
        )
        shift = directions * self.step
        shifted = [theta + shift, theta - shift] if self.central else [theta + shift]
        points = torch.cat([theta.unsqueeze(0), *shifted])
        values = evaluate_values(objective, points)
        b = directions.shape[0]
        if self.central:
            derivatives = (values[1 : b + 1] - values[b + 1 :]) / (2.0 * self.step)
        else:
            derivatives = (values[1:] - values[0]) / self.step
        return Estimate(
            value=float(values[0]),
            grad=directional_average(directions, derivatives),
            info={
                "estimator": "zeroth_order",
                "directions": directions,
                "derivatives": derivatives,
                "evaluations": points.shape[0],
            },
        )

    def __repr__(self) -> str:
        if not self.sampled:
            return f"ZerothOrder(directions={ALL_DIRECTIONS!r}, step={self.step}, central={self.central})"
        return (
            f"ZerothOrder(directions={self.directions}, step={self.step}, "
            f"distribution={self.distribution.value!r}, central={self.central})"
        )
