"""(FG)²U: the forward-gradient estimate from Jacobian-vector products along random directions."""

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
from ._distributed import DirectionGroup, default_group
from ._objective import Estimate, Objective, ObjectiveWithJvp, check_parameters, require

__all__ = ["ForwardGradient"]


class ForwardGradient:
    """Forward gradient ĝ = (1/b) Σ_i (∇h·v_i) v_i, i.i.d. directions with E[v vᵀ] = I.

    (FG)²U of Shen et al., "Memory-efficient gradient unrolling for large-scale bilevel optimization",
    NeurIPS 2024 (arXiv 2406.14095).

    Unbiased, E ĝ = ∇h. Error E‖ĝ − ∇h‖² = (N−1)/b·‖∇h‖² for Rademacher and coordinate directions,
    (N+1)/b·‖∇h‖² for Gaussian ones. All b directional derivatives come from one batched
    ``objective.value_and_jvp`` call, so memory does not grow with the unrolled depth.

    With ``directions="all"`` the tangents are the N coordinate directions √N·e_i (b = N): ĝ is the
    exact forward-mode gradient ∇h, still from one batched call, and no generator is needed.

    Args:
        directions: number b of random directions per estimate, or "all".
        distribution: "rademacher", "gaussian" or "coordinate" (see :class:`DirectionDistribution`);
            not used with "all".
        distributed: share the b directions out over the processes of the default ``torch.distributed`` group
            (when one is initialised with several processes; see ``learning.estimators.DirectionGroup``), or over
            the given ``DirectionGroup``. Every process gets the same estimate, the one a single process gets.

    ``info`` holds ``directions`` [shape (b, N)] and ``derivatives`` ∇h·v_i [shape (b,)].
    """

    def __init__(
        self,
        *,
        directions: DirectionCount = 1,
        distribution: DirectionDistribution | str = "rademacher",
        distributed: bool | DirectionGroup = False,
    ) -> None:
        self.directions = check_direction_count(directions)
        self.distribution = DirectionDistribution(distribution)
        self.distributed = distributed

    @property
    def sampled(self) -> bool:
        """True when the directions are drawn at random (an estimate with sampling error); False for "all"."""
        return self.directions != ALL_DIRECTIONS

    def __call__(
        self, objective: Objective, theta: Tensor, *, generator: torch.Generator | None = None
    ) -> Estimate:
        theta = check_parameters(objective, theta)
        require(
            objective,
            ObjectiveWithJvp,
            "value_and_jvp",
            "ForwardGradient",
            "Use ZerothOrder, which needs only values.",
        )
        directions = draw_directions(
            self.directions,
            objective.dim,
            distribution=self.distribution,
            generator=generator,
            dtype=theta.dtype,
            device=theta.device,
        )
        group = default_group() if self.distributed is True else self.distributed or None
        if group is None:
            value, derivatives = objective.value_and_jvp(theta, directions)
        else:
            value, derivatives = group.derivatives(
                directions, lambda share: objective.value_and_jvp(theta, share), lambda: objective.value(theta)
            )
        return Estimate(
            value=value,
            grad=directional_average(directions, derivatives),
            info={"estimator": "forward", "directions": directions, "derivatives": derivatives},
        )

    def __repr__(self) -> str:
        if not self.sampled:
            return f"ForwardGradient(directions={ALL_DIRECTIONS!r})"
        return f"ForwardGradient(directions={self.directions}, distribution={self.distribution.value!r})"
