"""Linear changes of coordinates θ = θ0 + M z for any objective, and the Gauss–Newton whitening M.

In coordinates z where the Gauss–Newton matrix 2 JᵀJ of a least-squares objective h = |r|² is the
identity, every direction the data determine is equally well scaled: a gradient step of length 1
is a Gauss–Newton step, forward-gradient noise is spread evenly over the parameters, and learning
rates need no tuning to the problem. (The yarn densities of the reference scene are 99.6%
correlated and its Gauss–Newton matrix has a condition number of 1e5 in log coordinates.)
Directions the data do not determine (eigenvalues below ``cutoff`` of the largest) are left out:
the fit does not move along them, and the uncertainty report says they are undetermined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from learning.estimators import ObjectiveWithGrad, ObjectiveWithJvp, ObjectiveWithTruncatedGrad, ObjectiveWithValues

__all__ = ["Preconditioned", "Whitening", "first_axis_along", "normal_eigen", "whitening"]


@dataclass(frozen=True)
class Whitening:
    """Coordinates z for a least-squares objective h = |r|² near θ0.

    Attributes:
        matrix: M [N, K] with θ = θ0 + M z.
        value_scale: c; the whitened objective is h(θ0 + M z) / c, whose Gauss–Newton matrix at θ0
            is the identity and whose Gauss–Newton step from z = 0 has length 1.
        eigenvalues: eigenvalues of 2 JᵀJ at θ0 [N], largest first.
        kept: K, the number of directions kept.
    """

    matrix: np.ndarray
    value_scale: float
    eigenvalues: np.ndarray
    kept: int


def normal_eigen(jacobian) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (largest first) and eigenvectors [N, N] of JᵀJ for J [M, N].

    From the singular values of J when M ≥ N (accurate down to the smallest ones, where forming JᵀJ
    would square the condition number), else from JᵀJ itself.
    """
    jacobian = np.asarray(jacobian, dtype=np.float64)
    count, dim = jacobian.shape
    if count >= dim:
        _, singular, rows = np.linalg.svd(jacobian, full_matrices=False)  # J = U S Vᵀ, JᵀJ = V S² Vᵀ
        return singular**2, rows.T
    eigenvalues, vectors = np.linalg.eigh(jacobian.T @ jacobian)
    return np.clip(eigenvalues[::-1], 0.0, None), vectors[:, ::-1]


def whitening(residuals, jacobian, *, cutoff: float = 1e-12) -> Whitening:
    """Whitened, normalised coordinates from residuals r [M] and their Jacobian J = ∂r/∂θ [M, N] at θ0.

    With G = 2 JᵀJ = V Λ Vᵀ (see :func:`normal_eigen`) and g = 2 Jᵀr: M = s V_K Λ_K^{-1/2} and c = s²,
    where V_K keeps the eigenvectors with λ ≥ cutoff · λ_max and s = |Λ_K^{-1/2} V_Kᵀ g| is the length
    of the Gauss–Newton step in whitened units (1 when g = 0).
    """
    r = np.asarray(residuals, dtype=np.float64)
    jacobian = np.asarray(jacobian, dtype=np.float64)
    eigenvalues, vectors = normal_eigen(jacobian)
    eigenvalues = 2.0 * eigenvalues
    top = float(eigenvalues[0])
    if not top > 0.0:
        raise ValueError("the Jacobian is zero: the residuals do not depend on the parameters")
    keep = eigenvalues >= cutoff * top
    basis = vectors[:, keep] / np.sqrt(eigenvalues[keep])
    step = float(np.linalg.norm(basis.T @ (2.0 * jacobian.T @ r)))
    scale = step if step > 0.0 else 1.0
    return Whitening(matrix=scale * basis, value_scale=scale**2, eigenvalues=eigenvalues, kept=int(keep.sum()))


def first_axis_along(matrix, direction) -> np.ndarray:
    """``matrix`` [N, K] times the Householder reflection H [K, K] with H·d = ∓|d|·e_1 for ``direction``
    d [K] (``matrix`` itself when d = 0). H is orthogonal and symmetric, so coordinates z' = H z of
    whitened ones are whitened too, and a gradient d in z is ∓|d|·e_1 in z': all along the first axis."""
    matrix = np.asarray(matrix, dtype=np.float64)
    length = float(np.linalg.norm(direction))
    if not length > 0.0:
        return matrix
    mirror = np.asarray(direction, dtype=np.float64) / length
    mirror[0] += 1.0 if mirror[0] >= 0.0 else -1.0  # the stable choice: no cancellation in mirror[0]
    return matrix - np.outer(matrix @ mirror, mirror) * (2.0 / float(mirror @ mirror))


class Preconditioned:
    """The objective h̃(z) = h(θ0 + M z) / c with every capability ``objective`` has, chained through M.

    Args:
        objective: any ``learning.estimators`` objective of θ [N].
        origin: θ0 [N].
        matrix: M [N, K] (K coordinates z).
        value_scale: c > 0 (values, gradients and JVPs are divided by it).
    """

    def __init__(self, objective, *, origin, matrix, value_scale: float = 1.0):
        self.objective = objective
        self.origin = torch.as_tensor(np.asarray(origin), dtype=torch.float64)
        self.matrix = torch.as_tensor(np.asarray(matrix), dtype=torch.float64)
        if self.matrix.ndim != 2 or self.matrix.shape[0] != self.origin.shape[0]:
            raise ValueError(f"matrix has shape {tuple(self.matrix.shape)}: expected ({self.origin.shape[0]}, K)")
        if not value_scale > 0.0:
            raise ValueError(f"value_scale = {value_scale!r} is out of range: expected > 0")
        self.value_scale = float(value_scale)
        self.dim = int(self.matrix.shape[1])

    def theta(self, z) -> Tensor:
        """θ0 + M z [N] (or [b, N] for rows z [b, K])."""
        return self.origin + torch.as_tensor(z, dtype=torch.float64) @ self.matrix.T

    def limit(self, step: Tensor, largest: float) -> Tensor:
        """``step`` in z changed so that no θ coordinate moves by more than ``largest``: the θ step is
        clipped coordinate by coordinate (a box trust region) and mapped back to z by least squares."""
        move = self.matrix @ step.to(torch.float64)
        if float(move.abs().max()) <= largest:
            return step
        clipped = move.clamp(-largest, largest)
        return torch.linalg.lstsq(self.matrix, clipped.unsqueeze(1)).solution.squeeze(1).to(step.dtype)

    def gauss_newton_step(self, grad) -> tuple[np.ndarray, float]:
        """(Δθ [N], d): the step −M ĝ in θ and the decrease d = ½ c |ĝ|² of h it predicts, for the gradient
        ĝ [K] of h̃ at some z, taking h̃'s Hessian to be the identity. In coordinates from :func:`whitening`
        at θ0 that is the Gauss–Newton step and its predicted decrease exactly at z = 0, and nearly so
        close to it."""
        grad = np.asarray(grad, dtype=np.float64)
        return -(self.matrix.numpy() @ grad), 0.5 * self.value_scale * float(grad @ grad)

    def value(self, z: Tensor) -> float:
        return self.objective.value(self.theta(z)) / self.value_scale

    def values(self, zs: Tensor) -> Tensor:
        if not isinstance(self.objective, ObjectiveWithValues):
            values = torch.tensor([self.objective.value(self.theta(z)) for z in zs], dtype=torch.float64)
        else:
            values = self.objective.values(self.theta(zs))
        return values / self.value_scale

    def value_and_grad(self, z: Tensor) -> tuple[float, Tensor]:
        """(h̃(z), Mᵀ ∇h(θ) / c)."""
        _require(self.objective, ObjectiveWithGrad, "value_and_grad")
        value, grad = self.objective.value_and_grad(self.theta(z))
        return value / self.value_scale, self.matrix.T @ grad.to(torch.float64) / self.value_scale

    @property
    def steps(self) -> int:
        """Unrolled steps of the wrapped objective (an AttributeError where it has none)."""
        return self.objective.steps

    def value_and_truncated_grad(self, z: Tensor, *, last_steps: int) -> tuple[float, Tensor]:
        """(h̃(z), Mᵀ g_s / c) with g_s the wrapped objective's truncated gradient."""
        _require(self.objective, ObjectiveWithTruncatedGrad, "value_and_truncated_grad")
        value, grad = self.objective.value_and_truncated_grad(self.theta(z), last_steps=last_steps)
        return value / self.value_scale, self.matrix.T @ grad.to(torch.float64) / self.value_scale

    def value_and_jvp(self, z: Tensor, tangents: Tensor) -> tuple[float, Tensor]:
        """(h̃(z), ∇h·(M v_i) / c) for tangents v_i [b, K]."""
        _require(self.objective, ObjectiveWithJvp, "value_and_jvp")
        value, jvp = self.objective.value_and_jvp(self.theta(z), tangents.to(torch.float64) @ self.matrix.T)
        return value / self.value_scale, jvp / self.value_scale


def _require(objective, capability, method: str) -> None:
    if not isinstance(objective, capability):
        raise TypeError(f"the preconditioned objective {type(objective).__name__} has no `{method}` method")
