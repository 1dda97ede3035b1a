"""The virtual lab's drape test: the shadow's outline and area against exact polygons, the drape coefficient's
limits, the folds of an outline, and the specimen at rest (clamp held, stiff fabrics flat, limp ones folded)."""

import math

import numpy as np
import pytest
import warp as wp

import lab
import lab._drape
from tests.test_lab import fabric

wp.config.quiet = True


def flat_grid(n: int, spacing: float, *, angle: float = 0.0) -> np.ndarray:
    """An n x n grid of nodes centred on the origin, turned by ``angle`` [rad] about z: [n, n, 3]."""
    coordinate = (np.arange(n) - (n - 1) / 2) * spacing
    x, y = np.meshgrid(coordinate, coordinate, indexing="ij")
    c, s = math.cos(angle), math.sin(angle)
    return np.stack([c * x - s * y, s * x + c * y, np.zeros_like(x)], axis=-1)


def test_shadow_outline_of_a_square_is_exact():
    n, spacing = 9, 0.01
    half = 0.5 * (n - 1) * spacing
    for angle in (0.0, 0.3):
        outline = lab.shadow_outline(flat_grid(n, spacing, angle=angle), np.ones((n - 1, n - 1), dtype=bool),
                                     rays=720)
        rays = 2.0 * math.pi * np.arange(720) / 720 - angle
        expected = half / np.maximum(np.abs(np.cos(rays)), np.abs(np.sin(rays)))
        np.testing.assert_allclose(outline, expected, rtol=1e-12)
        area = 0.5 * np.sum(outline**2) * 2.0 * math.pi / 720
        assert area == pytest.approx((2.0 * half) ** 2, rel=1e-4)


def test_shadow_outline_ignores_cells_outside_the_specimen_and_sees_overhangs():
    n, spacing = 9, 0.01
    positions = flat_grid(n, spacing)
    active = np.zeros((n - 1, n - 1), dtype=bool)
    active[2:6, 2:6] = True  # the middle 4 x 4 cells: a square of half side 2 spacings
    outline = lab.shadow_outline(positions, active, rays=8)
    np.testing.assert_allclose(outline[::2], 2 * spacing, rtol=1e-12)  # along the axes
    np.testing.assert_allclose(outline[1::2], 2 * math.sqrt(2.0) * spacing, rtol=1e-12)  # to the corners
    lifted = positions.copy()
    lifted[6, 2:7, 0] += 0.5 * spacing  # the specimen's +x edge pushed out (a fold seen from above)
    assert lab.shadow_outline(lifted, active, rays=8)[0] == pytest.approx(2.5 * spacing, rel=1e-12)


def test_drape_coefficient_is_one_flat_and_zero_hanging_straight_down():
    area = 0.0712
    assert lab.drape_coefficient(area, specimen_area=area, support_diameter=0.18) == pytest.approx(1.0, abs=1e-15)
    disc = 0.25 * math.pi * 0.18**2
    assert lab.drape_coefficient(disc, specimen_area=area, support_diameter=0.18) == pytest.approx(0.0, abs=1e-15)


def drooped(cells: int, share) -> tuple[np.ndarray, np.ndarray]:
    """The outlines (draped, flat) of a 30 cm specimen whose overhang beyond 9 cm is pulled in to ``share`` (of the
    polar angle phi) of its length along every radius: a drape without folds when ``share`` is constant."""
    n, _, active, grid = lab._drape._specimen_grid(cells=cells, specimen_diameter=0.30)
    radius, phi = np.hypot(grid[..., 0], grid[..., 1]), np.arctan2(grid[..., 1], grid[..., 0])
    pulled = np.where(radius > 0.09, 0.09 + (radius - 0.09) * share(phi), radius)
    positions = np.stack([pulled * np.cos(phi), pulled * np.sin(phi), -(radius - pulled)], axis=-1)
    flat = np.concatenate([grid, np.zeros((n, n, 1))], axis=-1)
    return lab.shadow_outline(positions, active), lab.shadow_outline(flat, active)


def test_count_folds_of_drooped_specimens_on_the_grid():
    for cells in (10, 16, 30):
        for share in (0.05, 0.2, 0.5):  # an even droop, however deep: no folds, whatever the cut's staircase
            outline, flat = drooped(cells, lambda phi, share=share: np.full_like(phi, share))
            assert lab.count_folds(outline, flat=flat, support_radius=0.09) == 0
        for folds in (4, 6, 8):
            outline, flat = drooped(cells, lambda phi, folds=folds: 0.3 + 0.2 * np.cos(folds * phi + 0.2))
            assert lab.count_folds(outline, flat=flat, support_radius=0.09) == folds


def test_count_folds_ignores_small_waves():
    theta = 2.0 * math.pi * np.arange(1440) / 1440
    circle = np.full(1440, 0.15)
    assert lab.count_folds(0.12 + 0.01 * np.cos(6 * theta), flat=circle, support_radius=0.09) == 6
    assert lab.count_folds(0.12 + 0.001 * np.cos(6 * theta), flat=circle, support_radius=0.09) == 0  # 1.7% of it


def test_drape_of_stiff_and_limp_fabrics():
    stiff = lab.drape_test(fabric(0.3, 0.3), cells=10, tolerance=1e-4)
    limp = lab.drape_test(fabric(0.02, 0.02), cells=10, tolerance=1e-4)
    rest = flat_grid(11, 0.03)
    clamped = np.hypot(rest[..., 0], rest[..., 1]) <= 0.09
    for result in (stiff, limp):
        # the discs hold the middle flat: the clamp gives way by at most a millionth of a spacing (3 cm)
        np.testing.assert_allclose(result.positions[clamped], rest[clamped], atol=1e-6 * 0.03)
        assert result.settle.residual.max() <= 1e-4
    # a fabric whose bending length is five overhangs hardly droops: no folds and almost all of its shadow
    assert stiff.drape_coefficient > 0.98 and stiff.folds == 0
    assert stiff.lowest_point < 1e-3
    # a 2 cm bending length hangs in folds well below the discs
    assert limp.drape_coefficient < 0.6 and limp.folds >= 3
    assert limp.lowest_point > 0.04


def test_drape_test_halves_its_step_when_the_simulation_blows_up(monkeypatch):
    settle, steps = lab._drape.settle, []

    def blows_up_at_first(model, solver, state, *, dt, **options):
        steps.append(dt)
        if len(steps) < blow_ups + 1:
            raise lab.SettleBlowUp("blew up")
        return settle(model, solver, state, dt=dt, **options)

    monkeypatch.setattr(lab._drape, "settle", blows_up_at_first)
    period = 2.0 * math.pi * math.sqrt(0.06 / 9.81)
    blow_ups = 1
    result = lab.drape_test(fabric(0.3, 0.3), cells=10, tolerance=1e-4)
    assert steps == pytest.approx([period / 160, period / 320], rel=1e-12)
    assert result.time_step == steps[-1] and result.drape_coefficient > 0.98  # started again from the flat disc
    steps.clear()
    blow_ups = 3  # a third halving is not tried
    with pytest.raises(lab.SettleBlowUp):
        lab.drape_test(fabric(0.3, 0.3), cells=10, tolerance=1e-4)
    assert len(steps) == 3


def test_drape_test_refuses_what_it_cannot_run():
    with pytest.raises(ValueError, match="cells = 9 is out of range"):
        lab.drape_test(fabric(), cells=9)
    with pytest.raises(ValueError, match="support_diameter = 0.3 is out of range"):
        lab.drape_test(fabric(), support_diameter=0.3)
