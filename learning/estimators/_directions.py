"""Probe directions v with E[v vᵀ] = I (random ones, or all N coordinate directions at once), and the
average (1/b) Σ_i d_i v_i built from them."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Literal

import torch
from torch import Tensor

__all__ = ["ALL_DIRECTIONS", "DirectionCount", "DirectionDistribution", "draw_directions", "sample_directions"]

#: ``directions=ALL_DIRECTIONS``: every coordinate direction once, so the average is exact (no sampling)
ALL_DIRECTIONS = "all"
DirectionCount = int | Literal["all"]


class DirectionDistribution(StrEnum):
    """Distributions of probe directions; each has E[v vᵀ] = I.

    For the forward-gradient estimate ĝ = (1/b) Σ (∇h·v_i) v_i with b directions and N parameters,
    E‖ĝ − ∇h‖² = c/b · ‖∇h‖², with c = N − 1 for Rademacher and coordinate directions (‖v‖² = N
    always) and c = N + 1 for Gaussian ones (E‖v vᵀ g‖² = (N + 2)‖g‖²).
    """

    RADEMACHER = "rademacher"
    """Entries ±1 with probability ½ each."""
    GAUSSIAN = "gaussian"
    """Entries standard normal."""
    COORDINATE = "coordinate"
    """√N·e_i with i uniform in {1..N}."""


def sample_directions(
    count: int,
    dim: int,
    *,
    distribution: DirectionDistribution | str,
    generator: torch.Generator | None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> Tensor:
    """Draw ``count`` i.i.d. directions in R^dim [shape (count, dim)] from ``generator``.

    Raises ValueError when ``generator`` is None: estimators never touch the global random state.
    """
    if generator is None:
        raise ValueError(
            "random directions need an explicit generator=torch.Generator (seeded by the caller)"
        )
    if count < 1 or dim < 1:
        raise ValueError(f"count and dim must be >= 1, got count={count}, dim={dim}")
    kind = DirectionDistribution(distribution)
    source = generator.device
    if kind is DirectionDistribution.RADEMACHER:
        directions = torch.randint(0, 2, (count, dim), generator=generator, device=source).to(dtype) * 2 - 1
    elif kind is DirectionDistribution.GAUSSIAN:
        directions = torch.randn((count, dim), generator=generator, device=source, dtype=dtype)
    else:
        index = torch.randint(0, dim, (count,), generator=generator, device=source)
        directions = torch.zeros((count, dim), dtype=dtype, device=source)
        directions[torch.arange(count, device=source), index] = math.sqrt(dim)
    return directions.to(device) if device is not None else directions


def all_coordinate_directions(dim: int, *, dtype: torch.dtype = torch.float64,
                              device: torch.device | str | None = None) -> Tensor:
    """The N directions √N·e_i, i = 1..N [shape (N, N)]: the support of the "coordinate" distribution,
    each point once. Their (1/N) Σ v vᵀ is exactly I, so (1/N) Σ (∇h·v_i) v_i = ∇h with no sampling error."""
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    return math.sqrt(dim) * torch.eye(dim, dtype=dtype, device=device)


def check_direction_count(directions: DirectionCount) -> DirectionCount:
    """``directions`` if it is an int >= 1 or "all", else ValueError."""
    if directions == ALL_DIRECTIONS:
        return ALL_DIRECTIONS
    if isinstance(directions, bool) or not isinstance(directions, int) or directions < 1:
        raise ValueError(f"directions must be an int >= 1 or {ALL_DIRECTIONS!r}, got {directions!r}")
    return int(directions)


def draw_directions(
    directions: DirectionCount,
    dim: int,
    *,
    distribution: DirectionDistribution | str,
    generator: torch.Generator | None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> Tensor:
    """The probe directions of one estimate [shape (b, dim)]: ``directions`` i.i.d. draws from
    ``distribution`` (see :func:`sample_directions`), or for "all" the N = dim directions of
    :func:`all_coordinate_directions` (b = N; no generator needed, ``distribution`` not used)."""
    if directions == ALL_DIRECTIONS:
        return all_coordinate_directions(dim, dtype=dtype, device=device)
    return sample_directions(directions, dim, distribution=distribution, generator=generator, dtype=dtype,
                             device=device)


def directional_average(directions: Tensor, derivatives: Tensor) -> Tensor:
    """(1/b) Σ_i d_i v_i for directions v_i [shape (b, N)] and derivatives d_i [shape (b,)] → [shape (N,)]."""
    if tuple(derivatives.shape) != (directions.shape[0],):
        raise ValueError(
            f"expected {directions.shape[0]} directional derivatives, got shape {tuple(derivatives.shape)}"
        )
    return derivatives.to(directions.dtype) @ directions / directions.shape[0]
