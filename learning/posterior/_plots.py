"""The corner plot of a posterior: each parameter's marginal histogram on the diagonal, each pair's joint density
below it, with the 90% interval, the truth (when known) and the Gauss-Newton interval (when given) marked."""

from pathlib import Path

import numpy as np

__all__ = ["corner_figure", "plot_corner"]

_POSTERIOR_COLOR = "C0"
_TRUTH_COLOR = "C3"
_GAUSS_NEWTON_COLOR = "0.35"


def corner_figure(samples: np.ndarray, names, *, low, high, truth=None, gauss_newton=None, title: str = ""):
    """A matplotlib figure of posterior ``samples`` [m, k] over the prior box [low, high].

    Args:
        truth: the true values [k] (or None).
        gauss_newton: the Gauss-Newton 90% intervals [k, 2] (or None).
    """
    from learning.cloth._plots import _pyplot

    plt = _pyplot()
    k = samples.shape[1]
    fig, axes = plt.subplots(k, k, figsize=(2.4 * k + 0.8, 2.4 * k + 0.6), squeeze=False)
    for row in range(k):
        for col in range(k):
            ax = axes[row, col]
            if col > row:
                ax.set_visible(False)
                continue
            if row == col:
                _marginal(ax, samples[:, col], low[col], high[col],
                          None if truth is None else truth[col],
                          None if gauss_newton is None else gauss_newton[col])
            else:
                ax.hist2d(samples[:, col], samples[:, row], bins=40, range=[[low[col], high[col]],
                                                                             [low[row], high[row]]], cmap="Blues")
                if truth is not None:
                    ax.plot(truth[col], truth[row], "+", color=_TRUTH_COLOR, markersize=10, markeredgewidth=2)
            if row == k - 1:
                ax.set_xlabel(names[col], fontsize=8)
            else:
                ax.set_xticklabels([])
            if col == 0 and row > 0:
                ax.set_ylabel(names[row], fontsize=8)
            elif col > 0 or row == 0:
                ax.set_yticklabels([])
            ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def _marginal(ax, values, low, high, truth, interval) -> None:
    ax.hist(values, bins=40, range=(low, high), color=_POSTERIOR_COLOR, alpha=0.6)
    for q in np.quantile(values, [0.05, 0.95]):
        ax.axvline(q, color=_POSTERIOR_COLOR, linestyle="--", linewidth=1)
    if interval is not None:
        ax.axvspan(max(interval[0], low), min(interval[1], high), color=_GAUSS_NEWTON_COLOR, alpha=0.2,
                   label="Gauss-Newton 90%")
    if truth is not None:
        ax.axvline(truth, color=_TRUTH_COLOR, linewidth=1.5, label="truth")
    ax.set_xlim(low, high)


def plot_corner(path: Path, samples, names, **options) -> None:
    """Write :func:`corner_figure` to ``path`` (png)."""
    from learning.cloth._plots import _save

    _save(corner_figure(samples, names, **options), path)
