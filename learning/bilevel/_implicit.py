"""Implicit-function hypergradients: treat w_T as the inner minimiser and differentiate its optimality condition.

At an inner minimum ∇_w g(w*, φ) = 0, so dw*/dφ = −H⁻¹ ∂²g/∂w∂φ with H = ∇²_ww g, and

    ∇h ≈ c − (∂²g/∂φ∂w) H⁻¹ d,      d = ∂f/∂w, c = ∂f/∂φ, all at w_T.

The estimators differ in how they apply H⁻¹ to d: conjugate gradients (``ImplicitCG``; Rajeswaran et al. 2019),
a truncated Neumann series α Σ_{k=0}^{K} (I − αH)^k (``ImplicitNeumann``; Lorraine et al. 2020), or its first term
αI (``HessianFree``: the inverse Hessian replaced by a multiple of the identity). Their memory does not grow with T
(no unrolled graph); their bias comes from w_T not being the inner minimum and from the approximate inverse.
"""

from __future__ import annotations

import torch
from torch import Tensor

from learning.estimators import Estimate
from learning.estimators._objective import check_parameters, require

from ._problem import ImplicitParts, ObjectiveWithImplicitParts

__all__ = ["HessianFree", "ImplicitCG", "ImplicitNeumann"]


def _parts(objective, theta: Tensor, estimator: str) -> tuple[Tensor, ImplicitParts]:
    theta = check_parameters(objective, theta)
    require(objective, ObjectiveWithImplicitParts, "value_and_implicit_parts", estimator,
            "Build the objective from a BilevelProblem with learning.bilevel.bilevel_objective.")
    return theta, objective.value_and_implicit_parts(theta)


def _estimate(parts: ImplicitParts, solved: Tensor, name: str, **info) -> Estimate:
    grad = parts.outer_meta_grad - parts.cross(solved)
    return Estimate(value=parts.value, grad=grad, info={"estimator": name, "inverse_hessian_times_d": solved, **info})


class ImplicitCG:
    """Implicit hypergradient with H q = d solved by conjugate gradients (H symmetric positive definite).

    Args:
        iterations: at most this many CG iterations.
        tolerance: stop when ‖H q − d‖ ≤ tolerance ‖d‖.

    ``info`` holds ``iterations`` (taken) and ``residual`` (relative).
    """

    def __init__(self, *, iterations: int = 20, tolerance: float = 1e-10) -> None:
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        self.iterations = int(iterations)
        self.tolerance = float(tolerance)

    def __call__(self, objective, theta: Tensor, *, generator: torch.Generator | None = None) -> Estimate:
        _, parts = _parts(objective, theta, "ImplicitCG")
        d = parts.outer_state_grad
        q = torch.zeros_like(d)
        residual = d.clone()
        direction = residual.clone()
        norm_d = float(d.norm())
        rho = residual @ residual
        taken = 0
        while taken < self.iterations and float(residual.norm()) > self.tolerance * norm_d:
            product = parts.hvp(direction)
            curvature = direction @ product
            if float(curvature) <= 0.0:
                raise ValueError("ImplicitCG: the inner Hessian is not positive definite along a CG direction "
                                 f"(curvature {float(curvature):.3g}): w_T is not at an inner minimum")
            step = rho / curvature
            q = q + step * direction
            residual = residual - step * product
            rho_next = residual @ residual
            direction = residual + (rho_next / rho) * direction
            rho = rho_next
            taken += 1
        relative = float(residual.norm()) / norm_d if norm_d > 0.0 else 0.0
        return _estimate(parts, q, "implicit_cg", iterations=taken, residual=relative)

    def __repr__(self) -> str:
        return f"ImplicitCG(iterations={self.iterations}, tolerance={self.tolerance:g})"


class ImplicitNeumann:
    """Implicit hypergradient with H⁻¹ d ≈ α Σ_{k=0}^{K} (I − αH)^k d (converges for 0 < α < 2 / λ_max(H)).

    Args:
        alpha: α, typically the inner step size.
        terms: K, the number of Neumann terms after the first (0: ``HessianFree``).
    """

    def __init__(self, *, alpha: float, terms: int = 10) -> None:
        if not alpha > 0.0:
            raise ValueError(f"alpha must be > 0, got {alpha!r}")
        if terms < 0:
            raise ValueError(f"terms must be >= 0, got {terms}")
        self.alpha = float(alpha)
        self.terms = int(terms)

    def __call__(self, objective, theta: Tensor, *, generator: torch.Generator | None = None) -> Estimate:
        _, parts = _parts(objective, theta, type(self).__name__)
        term = parts.outer_state_grad
        total = term
        for _ in range(self.terms):
            term = term - self.alpha * parts.hvp(term)
            total = total + term
        return _estimate(parts, self.alpha * total, "implicit_neumann" if self.terms else "hessian_free",
                         terms=self.terms)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha:g}, terms={self.terms})"


class HessianFree(ImplicitNeumann):
    """Implicit hypergradient with H⁻¹ replaced by αI: ∇h ≈ c − α (∂²g/∂φ∂w) d (the first Neumann term).

    Args:
        alpha: α, typically the inner step size.
    """

    def __init__(self, *, alpha: float) -> None:
        super().__init__(alpha=alpha, terms=0)

    def __repr__(self) -> str:
        return f"HessianFree(alpha={self.alpha:g})"
