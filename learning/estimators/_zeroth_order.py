"""(FG)²U-ZO: the forward-gradient estimate with directional derivatives from finite differences."""

from __future__ import annotations

import torch
from torch import Tensor

from ._directions import DirectionDistribution, directional_average, sample_directions
from ._objective import Estimate, Objective, check_parameters, evaluate_values

__all__ = ["ZerothOrder"]


class ZerothOrder:
    """Zeroth-order estimate ĝ = (1/b) Σ_i δ_i v_i with δ_i a finite difference of h along v_i.

    Central: δ_i = (h(θ + μv_i) − h(θ − μv_i)) / (2μ), bias O(μ²) on smooth h.
    Forward: δ_i = (h(θ + μv_i) − h(θ)) / μ, bias O(μ).
    Needs only ``objective.value``; uses ``objective.values`` to evaluate all points in one batch
    when present. Directions are drawn exactly as :class:`ForwardGradient` draws them, so the
    same generator state gives the same directions.

    Args:
        directions: number b of random directions per estimate.
        step: finite-difference step μ > 0, in the units of θ.
        distribution: "rademacher", "gaussian" or "coordinate".
        central: central differences (2b + 1 evaluations) instead of forward ones (b + 1).

    ``info`` holds ``directions`` [shape (b, N)], ``derivatives`` δ_i [shape (b,)] and ``evaluations``.
    """

    def __init__(
        self,
        *,
        directions: int = 1,
        step: float = 1e-4,
        distribution: DirectionDistribution | str = "gaussian",
        central: bool = True,
    ) -> None:
        if directions < 1:
            raise ValueError(f"directions must be >= 1, got {directions}")
        if not step > 0.0:
            raise ValueError(f"step must be > 0, got {step}")
        self.directions = int(directions)
        self.step = float(step)
        self.distribution = DirectionDistribution(distribution)
        self.central = bool(central)

    def __call__(
        self, objective: Objective, theta: Tensor, *, generator: torch.Generator | None = None
    ) -> Estimate:
        theta = check_parameters(objective, theta)
        directions = sample_directions(
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
        b = self.directions
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
        return (
            f"ZerothOrder(directions={self.directions}, step={self.step}, "
            f"distribution={self.distribution.value!r}, central={self.central})"
        )
