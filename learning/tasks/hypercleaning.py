"""Data hyper-cleaning on digits: learn a weight per training example, half of whose labels are wrong.

Inner problem: a softmax classifier w (64 pixels and a bias to 10 classes) trained by T steps of mini-batch gradient
descent on the weighted cross-entropy mean_i σ(φ_i) CE_i + ½ λ ‖w‖²; outer problem: the cross-entropy of w_T on a
clean validation set, minimised over the example weights φ by Adam. Every estimator of the shared learning layer
computes the meta-gradient (RGU, TRGU, (FG)²U, its zeroth-order variant, Neumann, CG, Hessian-free); the table
reports the test accuracy of w_T under the learned weights, the fraction of flipped labels down-weighted (σ(φ) <
1/2) and of clean ones kept, the peak memory the meta-training added (each run in its own process: its resident
set's peak during the meta loop over its size at the start) and the wall time.

    python -m learning.tasks.hypercleaning [--depths 50 200] [--meta-steps 100] [--estimators RGU FG2U ...]
    python -m learning.tasks.hypercleaning --memory-sweep --depths 25 50 100 200 400 --estimators RGU TRGU FG2U

Writes OUT/hypercleaning.json and OUT/hypercleaning.png (default OUT: out/hypercleaning).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor

from learning.bilevel import HessianFree, ImplicitCG, ImplicitNeumann, bilevel_objective
from learning.estimators import ForwardGradient, ReverseUnroll, Truncated, ZerothOrder, assign_grad

from ._digits import CLASSES, FEATURES, DigitsSplit, cross_entropy, flip_labels, load_digits_split

__all__ = ["ESTIMATORS", "HyperCleaning", "Settings", "main", "make_estimator", "run"]

#: the estimators the task compares, by the names of the (FG)²U paper's tables
ESTIMATORS = ("RGU", "TRGU", "FG2U", "FG2U-ZO", "Neumann", "CG", "HF")


@dataclass(frozen=True)
class Settings:
    """One hyper-cleaning run.

    Attributes:
        estimator: a name of ``ESTIMATORS``, or "none": the example weights stay equal (the baseline without
            cleaning; no meta steps).
        depth: inner steps T.
        meta_steps: Adam steps on the example weights.
        train, validation: sizes of the training and the clean validation set (the rest of the 1797 digits test).
        flipped: fraction of training labels replaced by a wrong class.
        batch_size: inner mini-batch (drawn once per meta step).
        step_size: inner gradient step η.
        l2: inner weight decay λ.
        meta_lr: Adam's learning rate on φ.
        directions: b of the forward-gradient estimators.
        truncation: s of TRGU (back-propagated steps).
        implicit_terms: Neumann terms and CG iterations.
        seed: data split, label flips, batches and directions.
    """

    estimator: str
    depth: int = 50
    meta_steps: int = 100
    train: int = 600
    validation: int = 300
    flipped: float = 0.5
    batch_size: int = 128
    step_size: float = 1.0
    l2: float = 1e-3
    meta_lr: float = 0.1
    directions: int = 32
    truncation: int = 10
    implicit_terms: int = 10
    seed: int = 0


class HyperCleaning:
    """The bilevel problem (module docstring) as a ``learning.bilevel.BilevelProblem``; φ: one weight per example."""

    def __init__(self, data: DigitsSplit, labels: Tensor, *, batch_size: int, step_size: float, l2: float) -> None:
        self.data, self.labels = data, labels
        self.batch_size, self.step_size, self.l2 = batch_size, step_size, l2
        self.dim = len(labels)

    def logits(self, w: Tensor, x: Tensor) -> Tensor:
        """Class scores [n, 10] of images x [n, 64] under the classifier w [650]."""
        weights = w.reshape(FEATURES + 1, CLASSES)
        return x @ weights[:FEATURES] + weights[FEATURES]

    def init_inner(self, meta: Tensor) -> Tensor:
        """w_0 = 0."""
        return torch.zeros((FEATURES + 1) * CLASSES, dtype=self.data.x_train.dtype)

    def inner_loss(self, w: Tensor, meta: Tensor, batch: Tensor) -> Tensor:
        """g: the batch's mean of σ(φ_i) CE_i plus ½ λ ‖w‖²."""
        losses = cross_entropy(self.logits(w, self.data.x_train[batch]), self.labels[batch])
        return (torch.sigmoid(meta[batch]) * losses).mean() + 0.5 * self.l2 * w.square().sum()

    def inner_step(self, w: Tensor, meta: Tensor, step: int, batch: Tensor) -> Tensor:
        """One gradient step of size η on g."""
        return w - self.step_size * torch.func.grad(self.inner_loss)(w, meta, batch)

    def outer_loss(self, w: Tensor, meta: Tensor) -> Tensor:
        """f: the mean cross-entropy on the clean validation set."""
        return cross_entropy(self.logits(w, self.data.x_val), self.data.y_val).mean()

    def sample_inner_batches(self, steps: int, generator: torch.Generator | None) -> list[Tensor]:
        """``steps`` random mini-batches of example indices."""
        n = self.dim
        return [torch.randperm(n, generator=generator)[: self.batch_size] for _ in range(steps)]

    def train_inner(self, meta: Tensor, *, steps: int, generator: torch.Generator) -> Tensor:
        """w_T under the example weights φ = ``meta`` (no graph)."""
        with torch.no_grad():
            w = self.init_inner(meta)
            for step, batch in enumerate(self.sample_inner_batches(steps, generator), start=1):
                w = self.inner_step(w, meta, step, batch)
        return w


def make_estimator(settings: Settings):
    """The estimator ``settings.estimator`` names, with the run's b, s and implicit terms (None for "none")."""
    name = settings.estimator
    if name == "none":
        return None
    if name == "RGU":
        return ReverseUnroll()
    if name == "TRGU":
        return Truncated(steps=settings.truncation)
    if name == "FG2U":
        return ForwardGradient(directions=settings.directions)
    if name == "FG2U-ZO":
        return ZerothOrder(directions=settings.directions, step=1e-3, distribution="rademacher")
    if name == "Neumann":
        return ImplicitNeumann(alpha=settings.step_size, terms=settings.implicit_terms)
    if name == "CG":
        return ImplicitCG(iterations=settings.implicit_terms)
    if name == "HF":
        return HessianFree(alpha=settings.step_size)
    raise ValueError(f"estimator = {name!r} is unknown: expected none or one of {', '.join(ESTIMATORS)}")


class _PeakMemory:
    """The growth of this process's resident set during a block [bytes]: Linux's peak-RSS counter (VmHWM) is reset
    to the current resident set at the start (``/proc/self/clear_refs``) and read at the end; elsewhere the
    high-water mark's growth (``resource.getrusage``), which misses what stays below an earlier peak."""

    def __enter__(self):
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
            self.start, self.linux = self._status("VmRSS"), True
        except OSError:
            self.start, self.linux = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, False
        return self

    def __exit__(self, *exc):
        peak = self._status("VmHWM") if self.linux else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.bytes = max(peak - self.start, 0)
        return False

    @staticmethod
    def _status(key: str) -> int:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        raise OSError(f"no {key} in /proc/self/status")


def run(settings: Settings) -> dict:
    """Meta-train the example weights with one estimator; the row of the results table (JSON-ready)."""
    torch.manual_seed(settings.seed)
    data = load_digits_split(train=settings.train, validation=settings.validation, seed=settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    labels, flipped = flip_labels(data.y_train, fraction=settings.flipped, generator=generator)
    problem = HyperCleaning(data, labels, batch_size=settings.batch_size, step_size=settings.step_size,
                            l2=settings.l2)
    estimator = make_estimator(settings)
    phi = torch.zeros(problem.dim, dtype=data.x_train.dtype, requires_grad=True)
    optimizer = torch.optim.Adam([phi], lr=settings.meta_lr)
    start = time.perf_counter()
    with _PeakMemory() as memory:
        for _ in range(settings.meta_steps if estimator is not None else 0):
            objective = bilevel_objective(problem, steps=settings.depth, generator=generator)
            estimate = estimator(objective, phi.detach(), generator=generator)
            optimizer.zero_grad()
            assign_grad([phi], estimate.grad)
            optimizer.step()
    seconds = time.perf_counter() - start
    peak = memory.bytes
    meta = phi.detach()
    w = problem.train_inner(meta, steps=settings.depth, generator=torch.Generator().manual_seed(settings.seed + 1))
    accuracy = (problem.logits(w, data.x_test).argmax(dim=1) == data.y_test).double().mean()
    weights = torch.sigmoid(meta)
    return {**asdict(settings), "test_accuracy": float(accuracy),
            "flipped_down_weighted": float((weights[flipped] < 0.5).double().mean()),
            "clean_kept": float((weights[~flipped] >= 0.5).double().mean()),
            "validation_loss": float(problem.outer_loss(w, meta)), "peak_memory_bytes": peak, "seconds": seconds}


def _run_isolated(settings: Settings) -> dict:
    """``run`` in a fresh process, so that its peak memory is its own."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(run, (settings,))


def _table(rows: list[dict]) -> str:
    lines = [f"{'estimator':<10}{'T':>5}{'test acc':>10}{'flipped down':>14}{'clean kept':>12}{'peak MiB':>10}"
             f"{'seconds':>9}"]
    for r in rows:
        lines.append(f"{r['estimator']:<10}{r['depth']:5d}{r['test_accuracy']:10.3f}{r['flipped_down_weighted']:14.3f}"
                     f"{r['clean_kept']:12.3f}{r['peak_memory_bytes'] / 2**20:10.1f}{r['seconds']:9.1f}")
    return "\n".join(lines)


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    depths = sorted({r["depth"] for r in rows})
    names = list(dict.fromkeys(r["estimator"] for r in rows))
    figure, (accuracy, memory) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(depths)
    for k, depth in enumerate(depths):
        values = [next((r["test_accuracy"] for r in rows if r["estimator"] == n and r["depth"] == depth), 0.0)
                  for n in names]
        accuracy.bar([i + k * width for i in range(len(names))], values, width=width, label=f"T = {depth}")
    accuracy.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names, rotation=30)
    accuracy.set_ylabel("test accuracy")
    accuracy.legend()
    for name in names:
        points = sorted((r["depth"], r["peak_memory_bytes"] / 2**20) for r in rows if r["estimator"] == name)
        memory.plot(*zip(*points, strict=True), "o-", label=name)
    memory.set_xlabel("inner depth T")
    memory.set_ylabel("peak memory added [MiB]")
    memory.legend(fontsize=8)
    figure.suptitle("data hyper-cleaning on digits, 50% flipped labels")
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    """Run the table (module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m learning.tasks.hypercleaning",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--estimators", nargs="+", default=list(ESTIMATORS), choices=ESTIMATORS)
    parser.add_argument("--depths", type=int, nargs="+", default=[50, 200], help="inner depths T (default 50 200)")
    parser.add_argument("--meta-steps", type=int, default=Settings.meta_steps)
    parser.add_argument("--train", type=int, default=Settings.train)
    parser.add_argument("--directions", type=int, default=Settings.directions, help="b of FG2U and FG2U-ZO")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-sweep", action="store_true",
                        help="only measure peak memory against T (2 meta steps per run)")
    parser.add_argument("--in-process", action="store_true",
                        help="run everything in this process (faster; the peak memory is then not each run's own)")
    parser.add_argument("--out", type=Path, default=Path("out/hypercleaning"))
    args = parser.parse_args(argv)
    rows = []
    for depth in args.depths:
        for name in args.estimators if args.memory_sweep else ["none", *args.estimators]:
            settings = Settings(estimator=name, depth=depth, train=args.train, directions=args.directions,
                                meta_steps=2 if args.memory_sweep else args.meta_steps, seed=args.seed)
            rows.append(run(settings) if args.in_process else _run_isolated(settings))
            print(_table(rows[-1:]).splitlines()[-1], flush=True)
    print(_table(rows))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "hypercleaning.json").write_text(json.dumps({"task": "hypercleaning", "rows": rows}, indent=2) + "\n")
    _plot(rows, args.out / "hypercleaning.png")
    print(f"wrote {args.out / 'hypercleaning.json'} and {args.out / 'hypercleaning.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
