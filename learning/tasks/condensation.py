"""Data condensation by performance matching on digits: learn a few synthetic images per class such that a network
trained on them alone does well on the real data.

Meta parameters: k synthetic 8 x 8 images per class (their pixels, N = 640 k), labels fixed. Inner problem: a
one-hidden-layer network (64 - 32 tanh - 10) from a random initialisation drawn once per meta step, trained by T
full-batch gradient steps on the synthetic images; outer problem: the cross-entropy of the trained network on the
real training digits. Each estimator of the shared learning layer drives Adam on the images (the (FG)²U paper's
Table 1: TRGU, Hessian-free, Neumann, (FG)²U, RGU), and the condensed set is judged by training fresh networks on
it (5 random initialisations, the same T) and testing them on held-out digits; "whole data" trains on every real
training digit instead, and "random real" on k real images per class. Mean ± std over seeds.

    python -m learning.tasks.condensation [--per-class 1 10] [--seeds 0 1 2] [--meta-steps 100]

Writes OUT/condensation.json and OUT/condensation.png (default OUT: out/condensation).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor

from learning.bilevel import HessianFree, ImplicitNeumann, bilevel_objective
from learning.estimators import ForwardGradient, ReverseUnroll, Truncated, assign_grad

from ._digits import CLASSES, FEATURES, DigitsSplit, cross_entropy, load_digits_split

__all__ = ["METHODS", "Condensation", "Settings", "main", "run"]

#: the condensation estimators, in the order of the (FG)²U paper's Table 1, and the two references
METHODS = ("TRGU", "HF", "Neumann", "FG2U", "RGU", "random real", "whole data")
HIDDEN = 32


@dataclass(frozen=True)
class Settings:
    """One condensation run.

    Attributes:
        method: a name of ``METHODS``.
        per_class: synthetic images per class k.
        depth: inner (and evaluation) training steps T.
        meta_steps: Adam steps on the images.
        step_size: inner gradient step η.
        meta_lr: Adam's learning rate on the pixels.
        directions: b of (FG)²U.
        truncation: s of TRGU.
        neumann_terms: terms of the Neumann series.
        evaluations: fresh networks trained on the condensed set.
        train: real training digits (the rest test).
        seed: split, initial images, network initialisations and directions.
    """

    method: str
    per_class: int = 1
    depth: int = 50
    meta_steps: int = 100
    step_size: float = 0.5
    meta_lr: float = 0.05
    directions: int = 32
    truncation: int = 10
    neumann_terms: int = 10
    evaluations: int = 5
    train: int = 1200
    seed: int = 0


def network_size() -> int:
    """Parameters of the 64 - 32 - 10 network."""
    return (FEATURES + 1) * HIDDEN + (HIDDEN + 1) * CLASSES


def predict(w: Tensor, x: Tensor) -> Tensor:
    """Class scores [n, 10] of the network w [network_size()] on images x [n, 64]."""
    first = (FEATURES + 1) * HIDDEN
    w1, w2 = w[:first].reshape(FEATURES + 1, HIDDEN), w[first:].reshape(HIDDEN + 1, CLASSES)
    hidden = torch.tanh(x @ w1[:FEATURES] + w1[FEATURES])
    return hidden @ w2[:HIDDEN] + w2[HIDDEN]


def random_network(generator: torch.Generator, dtype=torch.float64) -> Tensor:
    """A network's parameters, Gaussian with variance 1 / fan-in, biases zero."""
    first = torch.randn(FEATURES, HIDDEN, generator=generator, dtype=dtype) / FEATURES**0.5
    second = torch.randn(HIDDEN, CLASSES, generator=generator, dtype=dtype) / HIDDEN**0.5
    return torch.cat([first.ravel(), torch.zeros(HIDDEN, dtype=dtype), second.ravel(),
                      torch.zeros(CLASSES, dtype=dtype)])


def train_network(w: Tensor, images: Tensor, labels: Tensor, *, steps: int, step_size: float) -> Tensor:
    """``steps`` full-batch gradient steps on the cross-entropy of (images, labels) from the network w."""
    for _ in range(steps):
        w = w - step_size * torch.func.grad(lambda v: cross_entropy(predict(v, images), labels).mean())(w)
    return w


class Condensation:
    """The bilevel problem (module docstring) as a ``learning.bilevel.BilevelProblem``: φ, the synthetic images
    [10 k x 64] flattened. Drawing a meta step's batches also draws its network initialisation (the "batch" of every
    inner step is that initialisation, so that one meta step is one pure function of φ)."""

    def __init__(self, data: DigitsSplit, *, per_class: int, step_size: float) -> None:
        self.data, self.per_class, self.step_size = data, per_class, step_size
        self.labels = torch.arange(CLASSES).repeat_interleave(per_class)
        self.dim = CLASSES * per_class * FEATURES

    def images(self, meta: Tensor) -> Tensor:
        """The synthetic images [10 k, 64] of φ."""
        return meta.reshape(CLASSES * self.per_class, FEATURES)

    def init_inner(self, meta: Tensor) -> Tensor:
        """A placeholder w_0; the first inner step starts from the meta step's drawn initialisation."""
        return torch.zeros(network_size(), dtype=meta.dtype)

    def inner_loss(self, w: Tensor, meta: Tensor, batch: Tensor) -> Tensor:
        """g: the cross-entropy of the network on the synthetic images."""
        return cross_entropy(predict(w, self.images(meta)), self.labels).mean()

    def inner_step(self, w: Tensor, meta: Tensor, step: int, batch: Tensor) -> Tensor:
        """One gradient step (the first from the drawn initialisation ``batch``)."""
        start = batch if step == 1 else w
        return start - self.step_size * torch.func.grad(self.inner_loss)(start, meta, batch)

    def outer_loss(self, w: Tensor, meta: Tensor) -> Tensor:
        """f: the cross-entropy of the trained network on the real training digits."""
        return cross_entropy(predict(w, self.data.x_train), self.data.y_train).mean()

    def sample_inner_batches(self, steps: int, generator: torch.Generator | None) -> list[Tensor]:
        """The meta step's network initialisation, as every step's batch."""
        start = random_network(generator if generator is not None else torch.Generator(),
                               dtype=self.data.x_train.dtype)
        return [start] * steps


def _estimator(settings: Settings):
    name = settings.method
    return {"TRGU": lambda: Truncated(steps=settings.truncation),
            "HF": lambda: HessianFree(alpha=settings.step_size),
            "Neumann": lambda: ImplicitNeumann(alpha=settings.step_size, terms=settings.neumann_terms),
            "FG2U": lambda: ForwardGradient(directions=settings.directions),
            "RGU": lambda: ReverseUnroll()}[name]()


def _test_accuracy(images: Tensor, labels: Tensor, data: DigitsSplit, settings: Settings,
                   generator: torch.Generator) -> float:
    accuracies = []
    for _ in range(settings.evaluations):
        w = train_network(random_network(generator, dtype=images.dtype), images, labels, steps=settings.depth,
                          step_size=settings.step_size)
        accuracies.append(float((predict(w, data.x_test).argmax(dim=1) == data.y_test).double().mean()))
    return sum(accuracies) / len(accuracies)


def run(settings: Settings) -> dict:
    """Condense (or take the reference set) and evaluate; the row of the results table (JSON-ready)."""
    if settings.method not in METHODS:
        raise ValueError(f"method = {settings.method!r} is unknown: expected one of {', '.join(METHODS)}")
    data = load_digits_split(train=settings.train, validation=1, seed=settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    problem = Condensation(data, per_class=settings.per_class, step_size=settings.step_size)
    # k real images per class: the reference, and where the synthetic images start
    first = torch.cat([torch.nonzero(data.y_train == c)[: settings.per_class, 0] for c in range(CLASSES)])
    start = time.perf_counter()
    losses = []
    if settings.method == "whole data":
        images, labels = data.x_train, data.y_train
    elif settings.method == "random real":
        images, labels = data.x_train[first], problem.labels
    else:
        phi = torch.nn.Parameter(data.x_train[first].clone().ravel())
        optimizer = torch.optim.Adam([phi], lr=settings.meta_lr)
        estimator = _estimator(settings)
        for _ in range(settings.meta_steps):
            objective = bilevel_objective(problem, steps=settings.depth, generator=generator)
            estimate = estimator(objective, phi.detach(), generator=generator)
            losses.append(estimate.value)
            optimizer.zero_grad()
            assign_grad([phi], estimate.grad)
            optimizer.step()
        images, labels = problem.images(phi.detach()), problem.labels
    seconds = time.perf_counter() - start
    accuracy = _test_accuracy(images, labels, data, settings, torch.Generator().manual_seed(settings.seed + 100))
    return {**asdict(settings), "test_accuracy": accuracy, "outer_losses": losses, "seconds": seconds}


def _summary(rows: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds, per (per_class, method)."""
    groups: dict[tuple[int, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["per_class"], r["method"]), []).append(r)
    out = []
    for (per_class, method), members in groups.items():
        values = torch.tensor([m["test_accuracy"] for m in members], dtype=torch.float64)
        out.append({"per_class": per_class, "method": method, "mean": float(values.mean()),
                    "std": float(values.std()) if len(values) > 1 else 0.0, "seeds": len(values),
                    "seconds": sum(m["seconds"] for m in members) / len(members)})
    return out


def _plot(summary: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({s["per_class"] for s in summary})
    figure, axes = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(sizes)
    for k, size in enumerate(sizes):
        rows = [next(s for s in summary if s["per_class"] == size and s["method"] == m) for m in METHODS
                if any(s["per_class"] == size and s["method"] == m for s in summary)]
        axes.bar([i + k * width for i in range(len(rows))], [r["mean"] for r in rows], width=width,
                 yerr=[r["std"] for r in rows], label=f"{size} image(s) per class", capsize=3)
        axes.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))], [r["method"] for r in rows], rotation=20)
    axes.set_ylabel("test accuracy of fresh networks")
    axes.set_title("data condensation on digits")
    axes.legend()
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    """Run the table (module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m learning.tasks.condensation",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--meta-steps", type=int, default=Settings.meta_steps)
    parser.add_argument("--depth", type=int, default=Settings.depth)
    parser.add_argument("--directions", type=int, default=Settings.directions, help="b of (FG)²U (default 32)")
    parser.add_argument("--out", type=Path, default=Path("out/condensation"))
    args = parser.parse_args(argv)
    rows = []
    for per_class in args.per_class:
        for method in args.methods:
            for seed in args.seeds:
                rows.append(run(Settings(method=method, per_class=per_class, seed=seed, meta_steps=args.meta_steps,
                                         depth=args.depth, directions=args.directions)))
                r = rows[-1]
                print(f"k={per_class:<3} {method:<12} seed {seed}: test accuracy {r['test_accuracy']:.3f} "
                      f"({r['seconds']:.1f} s)", flush=True)
    summary = _summary(rows)
    print(f"{'images/class':>12}  " + "".join(f"{m:>14}" for m in args.methods))
    for per_class in args.per_class:
        cells = [next(s for s in summary if s["per_class"] == per_class and s["method"] == m) for m in args.methods]
        print(f"{per_class:>12}  " + "".join(f"{c['mean']:8.3f}±{c['std']:.3f}" for c in cells))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "condensation.json").write_text(json.dumps({"task": "condensation", "summary": summary,
                                                             "rows": rows}, indent=2) + "\n")
    _plot(summary, args.out / "condensation.png")
    print(f"wrote {args.out / 'condensation.json'} and {args.out / 'condensation.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
