"""Pictures of a fit (matplotlib, off-screen): the loss curve and observed versus simulated cloth.

``loss_figure`` and ``comparison_figure`` build the figures (to inspect them, e.g. in tests); ``plot_loss``
and ``plot_comparison`` write them as PNG. Layouts are constrained and saved with a tight bounding box, so
titles are never cut off; legends sit below the panels, outside the data. Log axes span the positive values
drawn (never down to the smallest double).

comparison.png has three panels:

- the last observed frame in the cloth's own plane: along the warp (i) against along the weft (j), on axes
  fixed by the observed first (rest) frame, with j = 0 at the top as in renders;
- the same frame seen edge-on: out of the plane (the billow) against along the weft;
- the RMS position error [m] per frame, from the first frame in which the observed cloth moved (before
  it every run starts from the same rest state, and the error is 0).
"""

import textwrap
from pathlib import Path

import numpy as np

__all__ = [
    "cloth_frame",
    "comparison_figure",
    "first_moving_frame",
    "log_limits",
    "loss_figure",
    "plot_comparison",
    "plot_loss",
    "rms_errors",
]

_INITIAL_COLOR = "0.6"
_FITTED_COLOR = "C0"
_OBSERVED_COLOR = "C3"
_TITLE_WIDTH = 110  # characters per line of the comparison's title
_LOSS_TITLE_WIDTH = 80  # and of the loss plot's (a narrower figure)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def log_limits(values, *, margin: float = 1.5) -> tuple[float, float] | None:
    """Limits for a log axis that shows every positive finite value, a factor ``margin`` beyond the extremes.

    Returns:
        (low, high), or None when no value is positive and finite (the axis should then be linear).
    """
    values = np.asarray(values, dtype=float).ravel()
    shown = values[np.isfinite(values) & (values > 0)]
    if not shown.size:
        return None
    return float(shown.min() / margin), float(shown.max() * margin)


def first_moving_frame(observed: np.ndarray) -> int:
    """The first frame k >= 1 whose positions differ from frame 0, shape [F, W, H, 3]; 0 for a single frame,
    the last frame when nothing moved."""
    moved = np.flatnonzero((observed[1:] != observed[:1]).any(axis=(1, 2, 3)))
    return int(moved[0]) + 1 if moved.size else observed.shape[0] - 1


def rms_errors(positions: np.ndarray, observed: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """RMS distance [m] per frame between simulated and observed nodes where ``mask`` [W, H], shape [F].

    Args:
        positions, observed: node positions [m], shape [F, W, H, 3].
    """
    return np.sqrt(((positions - observed) ** 2).sum(-1)[:, mask].mean(axis=1))


def cloth_frame(rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cloth's own axes from a rest shape [W, H, 3]: its centroid [m] and unit vectors, shape [3, 3].

    Rows: along the warp (the mean direction of increasing i), along the weft (in the plane, towards
    increasing j) and the normal (warp x weft), so that coordinates (p - centroid) @ axes.T are (in-plane
    along i, in-plane along j, out of plane).
    """
    along_warp = _unit(np.diff(rest, axis=0).mean(axis=(0, 1)))
    weft = np.diff(rest, axis=1).mean(axis=(0, 1))
    normal = _unit(np.cross(along_warp, weft))
    along_weft = np.cross(normal, along_warp)
    return rest.reshape(-1, 3).mean(axis=0), np.stack([along_warp, along_weft, normal])


def loss_figure(*, losses, best, noise_level: float | None = None, title: str = ""):
    """The loss of every evaluated point and the best so far (log scale) against evaluations.

    Args:
        losses, best: loss per evaluation and the best so far, shape [E].
        noise_level: the loss the observation noise alone would give (drawn dashed), or None.
        title: figure title (wrapped to the figure's width).
    Returns:
        the matplotlib Figure (close it with ``matplotlib.pyplot.close``).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100, layout="constrained")
    count = np.arange(1, len(losses) + 1)
    ax.plot(count, _positive(losses), ".", color="0.6", label="evaluated")
    ax.plot(count, _positive(best), "-", color=_FITTED_COLOR, label="best so far")
    if noise_level:
        ax.axhline(noise_level, ls="--", color=_OBSERVED_COLOR, label="noise level")
    _log_axis(ax, [losses, best, [noise_level or 0.0]])
    ax.set_xlabel("evaluation")
    ax.set_ylabel("loss (mean squared error / spacing²)")
    ax.grid(True, which="both", alpha=0.3)
    fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    fig.suptitle(_wrapped(title, _LOSS_TITLE_WIDTH), fontsize=9)
    return fig


def comparison_figure(*, times, observed, initial, fitted, nodes=None, title: str = ""):
    """Observed vs simulated cloth at the last observed frame (in the cloth's plane and edge-on) and the RMS
    error per frame (see the module docstring).

    Args:
        times: frame times [s], shape [F].
        observed: observed positions [m], shape [F, W, H, 3].
        initial, fitted: simulated positions with the initial and the fitted values [m], same shape.
        nodes: mask [W, H] of the observed nodes (None: all).
        title: figure title (wrapped to the figure's width).
    Returns:
        the matplotlib Figure, axes in the order plane, edge-on, error (close it with
        ``matplotlib.pyplot.close``).
    """
    plt = _pyplot()
    mask = np.ones(observed.shape[1:3], dtype=bool) if nodes is None else np.asarray(nodes, dtype=bool)
    fig, axes = plt.subplots(1, 3, figsize=(13.0, 4.8), dpi=100, layout="constrained")
    _draw_cloth_panels(axes[:2], observed=observed, initial=initial, fitted=fitted, mask=mask)
    axes[0].set_title(f"t = {times[-1]:.4g} s, in the cloth's plane", fontsize=9)
    axes[1].set_title(f"t = {times[-1]:.4g} s, edge-on (billow)", fontsize=9)
    _draw_errors(axes[2], times=times, observed=observed, initial=initial, fitted=fitted, mask=mask)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8, frameon=False)
    fig.suptitle(_wrapped(title, _TITLE_WIDTH), fontsize=10)
    return fig


def plot_loss(path: Path, **options) -> None:
    """Write ``loss_figure(**options)`` to ``path`` (PNG)."""
    _save(loss_figure(**options), path)


def plot_comparison(path: Path, **options) -> None:
    """Write ``comparison_figure(**options)`` to ``path`` (PNG)."""
    _save(comparison_figure(**options), path)


def _draw_cloth_panels(axes, *, observed, initial, fitted, mask) -> None:
    """The last frame's warp and weft yarns (simulated) and observed nodes: in-plane, then edge-on."""
    origin, frame = cloth_frame(observed[0])

    def local(points):
        return (points - origin) @ frame.T  # [..., 3]: along the warp, along the weft, out of plane

    for ax, (horizontal, vertical) in zip(axes, [(0, 1), (2, 1)], strict=True):
        for positions, color, width, label in (
            (initial[-1], _INITIAL_COLOR, 0.8, "simulated, initial values"),
            (fitted[-1], _FITTED_COLOR, 1.0, "simulated, fitted values"),
        ):
            grid = local(positions)
            for k, line in enumerate([*grid, *grid.transpose(1, 0, 2)]):  # weft yarns, then warp yarns
                ax.plot(line[:, horizontal], line[:, vertical], color=color, lw=width, label=label if k == 0 else None)
        seen = local(observed[-1][mask])
        ax.plot(seen[:, horizontal], seen[:, vertical], "o", ms=3, color=_OBSERVED_COLOR, label="observed nodes")
        ax.invert_yaxis()  # j = 0 at the top
        ax.set_ylabel("along the weft (j) [m]")
        ax.grid(True, alpha=0.3)
    axes[0].set_xlabel("along the warp (i) [m]")
    axes[0].set_aspect("equal", adjustable="datalim")
    axes[1].set_xlabel("out of the plane [m]")


def _draw_errors(ax, *, times, observed, initial, fitted, mask) -> None:
    """RMS error per frame of both runs from the first frame with motion, on a log axis spanning the values."""
    start = first_moving_frame(observed)
    errors = []
    for positions, color, label in (
        (initial, _INITIAL_COLOR, "simulated, initial values"),
        (fitted, _FITTED_COLOR, "simulated, fitted values"),
    ):
        error = rms_errors(positions, observed, mask)[start:]
        ax.plot(times[start:], _positive(error), ".-", color=color, ms=3, label=label)
        errors.append(error)
    _log_axis(ax, errors)
    if len(times) - start > 1:
        ax.set_xlim(times[start], times[-1])
    ax.set_xlabel("t [s]")
    ax.set_ylabel("RMS position error [m]")
    ax.set_title(f"error per frame from t = {times[start]:.4g} s (first motion)", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)


def _log_axis(ax, curves) -> None:
    """A log y axis over the positive values of ``curves`` (a linear one when there are none)."""
    limits = log_limits(np.concatenate([np.ravel(c) for c in curves]))
    if limits is not None:
        ax.set_yscale("log")
        ax.set_ylim(*limits)


def _positive(values) -> np.ndarray:
    """Values with zeros and negatives as NaN (not drawn on a log axis)."""
    values = np.asarray(values, dtype=float)
    return np.where(values > 0, values, np.nan)


def _wrapped(title: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width) for line in title.splitlines())


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def _save(fig, path) -> None:
    plt = _pyplot()
    try:
        fig.savefig(path, bbox_inches="tight", pad_inches=0.1)
    finally:
        plt.close(fig)
