"""PDE coefficient discovery: the viscosity (and advection coefficient) of Burgers' equation from 64 noisy points.

    u_t + a u u_x = ν u_xx  on x in [0, 2π) (periodic), u(x, 0) = sin x + ½ sin 2x

is solved by a black-box numerical solver (second-order central differences, classical Runge-Kutta, written with
torch and run without any graph), and 64 noisy observations of u (8 times x 8 points, Gaussian noise) are all the
data. The zeroth-order variant of (FG)²U estimates the gradient of the misfit over log ν (and log a) from central
differences of the solver along Rademacher directions (every perturbed solve in one batch) and Adam descends it
from a start twice too viscous. The solver is the inner "unroll" (T time steps); the estimator needs only its
values.

    python -m learning.tasks.pde_discovery [--fit viscosity|both] [--meta-steps N] [--noise 0.01] [--seed 0]

Writes OUT/pde_discovery.json and OUT/pde_discovery.png (default OUT: out/pde_discovery).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor

from learning.estimators import ZerothOrder, assign_grad

__all__ = ["BurgersDiscovery", "Settings", "main", "run", "solve_burgers"]


def solve_burgers(viscosity: Tensor, advection: Tensor, *, points: int, steps: int, duration: float,
                  save_every: int) -> Tensor:
    """u(x, t) of u_t + a u u_x = ν u_xx for a batch of coefficients [b], on ``points`` periodic grid points over
    [0, 2π), by ``steps`` classical Runge-Kutta steps of central differences; every ``save_every``-th step kept:
    [b, steps // save_every, points] (the initial state not included)."""
    dx = 2.0 * math.pi / points
    dt = duration / steps
    x = torch.arange(points, dtype=viscosity.dtype) * dx
    u = (torch.sin(x) + 0.5 * torch.sin(2.0 * x)).expand(len(viscosity), points)
    nu, a = viscosity[:, None], advection[:, None]

    def rate(v: Tensor) -> Tensor:
        right, left = torch.roll(v, -1, dims=1), torch.roll(v, 1, dims=1)
        return -a * v * (right - left) / (2.0 * dx) + nu * (right - 2.0 * v + left) / dx**2

    saved = []
    with torch.no_grad():
        for step in range(1, steps + 1):
            k1 = rate(u)
            k2 = rate(u + 0.5 * dt * k1)
            k3 = rate(u + 0.5 * dt * k2)
            k4 = rate(u + dt * k3)
            u = u + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            if step % save_every == 0:
                saved.append(u)
    return torch.stack(saved, dim=1)


@dataclass(frozen=True)
class Settings:
    """One discovery run.

    Attributes:
        fit: "viscosity" (log ν only; a known) or "both" (log ν and log a).
        viscosity, advection: the true ν [-] and a [-].
        start: the initial guess's factor on the true values (2: twice too large).
        noise: standard deviation of the observation noise (u is of order 1).
        meta_steps: Adam steps.
        meta_lr: Adam's learning rate on the log coefficients.
        directions: b Rademacher directions per estimate; step: the central differences' μ on the logs.
        points, steps, duration: the solver's grid points, Runge-Kutta steps and final time.
        seed: observation points and noise, and the directions.
    """

    fit: str = "viscosity"
    viscosity: float = 0.05
    advection: float = 1.0
    start: float = 2.0
    noise: float = 0.01
    meta_steps: int = 150
    meta_lr: float = 0.05
    directions: int = 4
    step: float = 1e-3
    points: int = 128
    steps: int = 200
    duration: float = 2.0
    seed: int = 0


class BurgersDiscovery:
    """The misfit h(θ) = mean (u(θ) − observed)² over the 64 observations, θ the log coefficients being fitted: an
    objective with values only (``value``, batched ``values``) for ``ZerothOrder``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dim = 1 if settings.fit == "viscosity" else 2
        generator = torch.Generator().manual_seed(settings.seed)
        self.times = torch.arange(8)  # the 8 saved frames, t = duration / 8 ... duration
        self.where = torch.randperm(settings.points, generator=generator)[:8]
        truth = torch.tensor([[settings.viscosity, settings.advection]], dtype=torch.float64)
        clean = self._observe(truth)[0]
        self.observed = clean + settings.noise * torch.randn(clean.shape, generator=generator, dtype=torch.float64)

    def coefficients(self, thetas: Tensor) -> Tensor:
        """(ν, a) [b, 2] of log-coefficient vectors [b, dim]."""
        values = torch.exp(thetas)
        if self.dim == 1:
            advection = torch.full_like(values, self.settings.advection)
            return torch.cat([values, advection], dim=1)
        return values

    def _observe(self, coefficients: Tensor) -> Tensor:
        s = self.settings
        u = solve_burgers(coefficients[:, 0], coefficients[:, 1], points=s.points, steps=s.steps, duration=s.duration,
                          save_every=s.steps // 8)
        return u[:, self.times][:, :, self.where].reshape(len(coefficients), -1)  # [b, 64]

    def values(self, thetas: Tensor) -> Tensor:
        """h at each row of ``thetas`` [b, dim] (one batched solve)."""
        return (self._observe(self.coefficients(thetas)) - self.observed).square().mean(dim=1)

    def value(self, theta: Tensor) -> float:
        """h(θ)."""
        return float(self.values(theta[None])[0])


def run(settings: Settings) -> dict:
    """Discover the coefficients; the report (JSON-ready)."""
    if settings.fit not in ("viscosity", "both"):
        raise ValueError(f"fit = {settings.fit!r} is unknown: expected 'viscosity' or 'both'")
    objective = BurgersDiscovery(settings)
    truth = torch.tensor([settings.viscosity, settings.advection], dtype=torch.float64)[: objective.dim]
    theta = torch.nn.Parameter(torch.log(truth * settings.start))
    optimizer = torch.optim.Adam([theta], lr=settings.meta_lr)
    estimator = ZerothOrder(directions=settings.directions, step=settings.step, distribution="rademacher")
    generator = torch.Generator().manual_seed(settings.seed + 1)
    losses, evaluations = [], 0
    start = time.perf_counter()
    for _ in range(settings.meta_steps):
        estimate = estimator(objective, theta.detach(), generator=generator)
        losses.append(estimate.value)
        evaluations += estimate.info["evaluations"]
        optimizer.zero_grad()
        assign_grad([theta], estimate.grad)
        optimizer.step()
    fitted = torch.exp(theta.detach())
    names = ("viscosity", "advection")[: objective.dim]
    return {"settings": asdict(settings),
            "coefficients": {name: {"true": float(truth[k]), "initial": float(truth[k] * settings.start),
                                    "fitted": float(fitted[k]), "relative_error": float(fitted[k] / truth[k] - 1.0)}
                             for k, name in enumerate(names)},
            "losses": losses, "final_loss": objective.value(theta.detach()), "noise_floor": settings.noise**2,
            "solver_evaluations": evaluations, "seconds": time.perf_counter() - start}


def _plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.semilogy(report["losses"], label="misfit")
    axes.axhline(report["noise_floor"], color="black", linestyle="--", label="noise variance")
    axes.set_xlabel("meta step")
    axes.set_ylabel("mean squared misfit")
    text = ", ".join(f"{name} {c['fitted']:.4g} (true {c['true']:.4g})" for name, c in report["coefficients"].items())
    axes.set_title(f"Burgers discovery by (FG)²U-ZO: {text}", fontsize=9)
    axes.legend()
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    """Run one discovery (module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m learning.tasks.pde_discovery",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--fit", choices=("viscosity", "both"), default=Settings.fit)
    parser.add_argument("--meta-steps", type=int, default=None,
                        help="Adam steps (default 150 for the viscosity, 400 for both coefficients)")
    parser.add_argument("--noise", type=float, default=Settings.noise)
    parser.add_argument("--seed", type=int, default=Settings.seed)
    parser.add_argument("--out", type=Path, default=Path("out/pde_discovery"))
    args = parser.parse_args(argv)
    meta_steps = args.meta_steps or (Settings.meta_steps if args.fit == "viscosity" else 400)
    report = run(Settings(fit=args.fit, meta_steps=meta_steps, noise=args.noise, seed=args.seed))
    print(f"{'coefficient':<12}{'true':>10}{'initial':>10}{'fitted':>12}{'rel. error':>12}")
    for name, c in report["coefficients"].items():
        print(f"{name:<12}{c['true']:10.4g}{c['initial']:10.4g}{c['fitted']:12.6g}{c['relative_error']:12.2e}")
    print(f"misfit {report['final_loss']:.3e} (noise variance {report['noise_floor']:.1e}), "
          f"{report['solver_evaluations']} solves in {report['seconds']:.1f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pde_discovery.json").write_text(json.dumps(report, indent=2) + "\n")
    _plot(report, args.out / "pde_discovery.png")
    print(f"wrote {args.out / 'pde_discovery.json'} and {args.out / 'pde_discovery.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
