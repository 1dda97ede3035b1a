"""Pictures of a fit (matplotlib, off-screen): the loss curve and observed versus fitted cloth."""

from pathlib import Path

import numpy as np

__all__ = ["plot_comparison", "plot_loss"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_loss(path: Path, *, losses, best, noise_level: float | None = None, title: str = "") -> None:
    """Loss of every evaluated point and the best so far (log scale) against evaluations, to ``path`` (PNG).

    Args:
        noise_level: the loss the observation noise alone would give (drawn dashed), or None.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    count = np.arange(1, len(losses) + 1)
    floor = np.finfo(float).tiny
    ax.semilogy(count, np.maximum(losses, floor), ".", color="0.6", label="evaluated")
    ax.semilogy(count, np.maximum(best, floor), "-", color="C0", label="best so far")
    if noise_level:
        ax.axhline(noise_level, ls="--", color="C3", label="noise level")
    ax.set_xlabel("evaluation")
    ax.set_ylabel("loss (mean squared error / spacing²)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_comparison(path: Path, *, times, observed, initial, fitted, nodes=None, title: str = "") -> None:
    """Observed vs simulated cloth at the last observed frame (two views) and the RMS error per frame.

    Args:
        times: frame times [s], shape [F].
        observed: observed positions [m], shape [F, W, H, 3].
        initial, fitted: simulated positions with the initial and the fitted values [m], same shape.
        nodes: mask [W, H] of the observed nodes (None: all).
    """
    plt = _pyplot()
    mask = np.ones(observed.shape[1:3], dtype=bool) if nodes is None else np.asarray(nodes, dtype=bool)
    rest = observed[0].reshape(-1, 3)
    spread = rest.max(axis=0) - rest.min(axis=0)
    order = np.argsort(spread)[::-1]  # the cloth's two in-plane axes first, its normal last
    views = [(order[0], order[1]), (order[2], order[1])]
    labels = "xyz"
    fig, axes = plt.subplots(1, 3, figsize=(13.0, 4.2), dpi=100)
    for ax, (horizontal, vertical) in zip(axes[:2], views, strict=True):
        for positions, style, label in ((initial[-1], dict(color="0.7", lw=0.8), "initial values"),
                                        (fitted[-1], dict(color="C0", lw=1.0), "fitted values")):
            for k, line in enumerate([*positions, *positions.transpose(1, 0, 2)]):  # warp and weft yarns
                ax.plot(line[:, horizontal], line[:, vertical], label=label if k == 0 else None, **style)
        seen = observed[-1][mask]
        ax.plot(seen[:, horizontal], seen[:, vertical], "o", ms=3, color="C3", label="observed")
        ax.set_xlabel(f"{labels[horizontal]} [m]")
        ax.set_ylabel(f"{labels[vertical]} [m]")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title(f"t = {times[-1]:.4g} s", fontsize=9)
    axes[0].legend(fontsize=8)
    for positions, color, label in ((initial, "0.6", "initial values"), (fitted, "C0", "fitted values")):
        error = np.sqrt(((positions - observed) ** 2).sum(-1)[:, mask].mean(axis=1))
        axes[2].semilogy(times, np.maximum(error, np.finfo(float).tiny), color=color, label=label)
    axes[2].set_xlabel("t [s]")
    axes[2].set_ylabel("RMS position error [m]")
    axes[2].grid(True, which="both", alpha=0.3)
    axes[2].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
