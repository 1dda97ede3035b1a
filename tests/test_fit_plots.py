"""The pictures of `warpweave fit` read well: the error axis starts at the first motion with a finite range
that brackets the errors, the cloth panels are drawn in the cloth's own plane, legends and titles are
inside the picture and off the data."""

import matplotlib
import numpy as np
import pytest

from learning.cloth._plots import (
    comparison_figure,
    first_moving_frame,
    log_limits,
    loss_figure,
    plot_comparison,
    plot_loss,
)

matplotlib.use("Agg", force=True)
import matplotlib.pyplot as plt  # noqa: E402

SPACING = 0.001


def billowing_cloth(*, nodes=(7, 5), frames=6, still=2, billow=0.002, rotation=None) -> np.ndarray:
    """Positions [F, W, H, 3] of an upright cloth (i along x, j down along -z) that stays at rest for ``still``
    frames and then bulges out of its plane (+y) up to ``billow`` [m] at its centre; optionally rotated."""
    width, height = nodes
    i, j = np.meshgrid(np.arange(width), np.arange(height), indexing="ij")
    rest = np.stack([i * SPACING, np.zeros_like(i, dtype=float), -j * SPACING], axis=-1) + [0.0, 0.0, 5.0]
    shape = np.sin(np.pi * i / (width - 1)) * np.sin(np.pi * j / (height - 1))
    x = np.repeat(rest[None], frames, axis=0)
    for k in range(still, frames):
        x[k, ..., 1] += billow * shape * (k - still + 1) / (frames - still)
    return x if rotation is None else x @ rotation.T


def comparison(observed, *, initial_gap=1e-4, fitted_gap=1e-8, title="observed vs simulated", **options):
    """The comparison figure of runs that miss the observed motion by a fraction of it."""
    motion = observed - observed[:1]
    times = np.arange(len(observed)) * 0.01
    return comparison_figure(times=times, observed=observed, initial=observed + initial_gap / 0.002 * motion,
                             fitted=observed + fitted_gap / 0.002 * motion, title=title, **options), times


def lines_by_label(ax) -> dict:
    return {line.get_label(): line for line in ax.get_lines()}


def test_the_error_axis_starts_at_the_first_motion_and_brackets_the_errors():
    observed = billowing_cloth(still=2)
    fig, times = comparison(observed)
    try:
        error = fig.axes[2]
        assert error.get_xlim()[0] == pytest.approx(times[2])  # frames 0 and 1 have no motion and no error
        drawn = np.concatenate([line.get_ydata() for line in error.get_lines()])
        drawn = drawn[np.isfinite(drawn)]
        low, high = error.get_ylim()
        assert error.get_yscale() == "log" and np.isfinite([low, high]).all()
        assert low <= drawn.min() and drawn.max() <= high
        assert high / low < 10 * drawn.max() / drawn.min(), "the range should follow the data"
        assert drawn.min() > 1e-10  # the fitted run's error (~1e-8 m at the end), not 1e-300
    finally:
        plt.close(fig)


def test_errors_that_are_all_zero_get_a_finite_linear_axis():
    observed = billowing_cloth()
    times = np.arange(len(observed)) * 0.01
    fig = comparison_figure(times=times, observed=observed, initial=observed, fitted=observed)
    try:
        assert fig.axes[2].get_yscale() == "linear" and np.isfinite(fig.axes[2].get_ylim()).all()
    finally:
        plt.close(fig)


@pytest.mark.parametrize("turned", [False, True])
def test_the_cloth_panels_are_in_the_cloths_own_plane(turned):
    """Whatever the cloth's orientation, the first panel shows its width and height and the second its billow."""
    rotation = None
    if turned:  # 30 degrees about z, then 50 degrees about x: no world axis is in the cloth's plane
        a, b = np.radians(30.0), np.radians(50.0)
        about_z = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
        about_x = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(b), -np.sin(b)], [0.0, np.sin(b), np.cos(b)]])
        rotation = about_x @ about_z
    observed = billowing_cloth(nodes=(7, 5), billow=0.002, rotation=rotation)
    fig, _ = comparison(observed)
    try:
        plane, edge_on = (lines_by_label(ax)["observed nodes"] for ax in fig.axes[:2])
        span = np.ptp(plane.get_xdata()), np.ptp(plane.get_ydata())
        np.testing.assert_allclose(span, [6 * SPACING, 4 * SPACING], rtol=1e-9)  # along the warp, the weft
        np.testing.assert_allclose(np.ptp(edge_on.get_xdata()), 0.002, rtol=1e-9)  # the billow at the centre
        assert fig.axes[0].yaxis_inverted() and fig.axes[1].yaxis_inverted()  # j = 0 at the top
    finally:
        plt.close(fig)


def overlaps(one, other) -> bool:
    return one.x0 < other.x1 and other.x0 < one.x1 and one.y0 < other.y1 and other.y0 < one.y1


def inside(box, outer, *, slack=1.0) -> bool:
    return (box.x0 >= outer.x0 - slack and box.x1 <= outer.x1 + slack and box.y0 >= outer.y0 - slack
            and box.y1 <= outer.y1 + slack)


def test_legend_is_off_the_data_and_titles_are_inside_the_picture():
    long_title = "observed (" + "/a/rather/long/folder" * 8 + "/trajectory.npz) vs simulated"
    fig, _ = comparison(billowing_cloth(), title=long_title)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        (legend,) = fig.legends
        assert [t.get_text() for t in legend.get_texts()] == [
            "simulated, initial values", "simulated, fitted values", "observed nodes"]
        for ax in fig.axes:
            assert not overlaps(legend.get_window_extent(renderer), ax.get_window_extent(renderer))
            assert inside(ax.title.get_window_extent(renderer), fig.bbox)
        assert inside(fig._suptitle.get_window_extent(renderer), fig.bbox)
        assert inside(legend.get_window_extent(renderer), fig.bbox)
    finally:
        plt.close(fig)


def test_the_loss_plot_has_a_finite_log_axis_and_its_title_inside():
    losses = np.array([1.0, 0.3, 0.5, 1e-3, 0.0, 1e-7])  # an exact zero must not stretch the axis
    fig = loss_figure(losses=losses, best=np.minimum.accumulate(losses), noise_level=1e-5,
                      title="a, b, c\n" + "materials.cotton.young_modulus, " * 6)
    try:
        ax = fig.axes[0]
        low, high = ax.get_ylim()
        assert ax.get_yscale() == "log" and 1e-8 < low <= 1e-7 and 1.0 <= high < 10.0
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        assert inside(fig._suptitle.get_window_extent(renderer), fig.bbox)
        assert not overlaps(fig.legends[0].get_window_extent(renderer), ax.get_window_extent(renderer))
    finally:
        plt.close(fig)


def test_plots_are_written_as_png(tmp_path):
    observed = billowing_cloth()
    times = np.arange(len(observed)) * 0.01
    plot_comparison(tmp_path / "comparison.png", times=times, observed=observed, initial=observed * 1.001,
                    fitted=observed, nodes=np.eye(7, 5, dtype=bool))
    plot_loss(tmp_path / "loss.png", losses=[1.0, 0.1], best=[1.0, 0.1])
    for name in ("comparison.png", "loss.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert plt.get_fignums() == []  # closed


def test_log_limits_and_first_motion_helpers():
    assert log_limits([0.0, -1.0, np.nan, np.inf]) is None
    assert log_limits([0.0, 1e-6, 1e-2], margin=2.0) == pytest.approx((5e-7, 2e-2))
    still = np.zeros((4, 2, 2, 3))
    assert first_moving_frame(still) == 3  # nothing moves: the last frame
    moving = still.copy()
    moving[2, 1, 0, 2] = 1e-12
    assert first_moving_frame(moving) == 2
    assert first_moving_frame(still[:1]) == 0
