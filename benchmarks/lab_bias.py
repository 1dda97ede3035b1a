"""Bias-extension test against the pin-jointed net's three-region prediction: error, region shear and slip by
resolution and aspect ratio.

    python benchmarks/lab_bias.py [SCENE] [--cells 10 20 40] [--aspects 2 3 4 6]

Prints, for each aspect ratio L/W (W = 5 cm) and number of diagonal rows of cells across the width, the measured
small-strain slope against ``lab.bias_stiffness`` of the fabric's shear rigidity (with its compression
stiffening), the least stiffness of an exact pin-jointed net on the same grid (inextensible yarns that stick at the
crossings and do not resist bending: "net", over the three-region value), the mean shear of regions A, B and C over
the net's middle-region angle (1, 1/2, 0 for the net), the largest crossing slip and the wall time (CPU).
"""

import argparse
import math

import numpy as np

import lab
import scenes
from lab._bias import _bias_grid


def pin_jointed_net(*, length: float, width: float, rows: int) -> float:
    """F / d of an inextensible, sticking, bending-free net on the bias specimen's grid over G_s (least squares).

    Linearised, such a net moves each warp yarn j along itself by a_j and each weft yarn i by b_i (u = a_j e_i +
    b_i e_j), so a cell shears by (a_{j+1} - a_j + b_{i+1} - b_i) / L'; the clamps fix the yarns through them (0 at the
    first, d / sqrt 2 at the second) and the others take the values of least shear energy.
    """
    grid = _bias_grid(length=length, width=width, rows=rows)
    n, active = grid.n, grid.active
    row = grid.row.reshape(n, n).T  # [i, j]
    inside = np.zeros((n, n), dtype=bool)
    for di in (0, 1):
        for dj in (0, 1):
            inside[di:n - 1 + di, dj:n - 1 + dj] |= active
    values = np.zeros(2 * n)  # b_0..b_{n-1}, a_0..a_{n-1}; d = 1
    fixed = np.zeros(2 * n, dtype=bool)
    for mask, value in ((inside & (row <= 0), 0.0), (inside & (row >= grid.rows_along), 1.0 / math.sqrt(2.0))):
        i, j = np.nonzero(mask)
        values[i], values[n + j] = value, value
        fixed[i], fixed[n + j] = True, True
    ci, cj = np.nonzero(active)
    shear = np.zeros((len(ci), 2 * n))
    cell = np.arange(len(ci))
    np.add.at(shear, (cell, ci + 1), 1.0)
    np.add.at(shear, (cell, ci), -1.0)
    np.add.at(shear, (cell, n + cj + 1), 1.0)
    np.add.at(shear, (cell, n + cj), -1.0)
    shear /= grid.spacing
    free = ~fixed & (np.abs(shear).sum(axis=0) > 0)
    offset = shear[:, ~free] @ values[~free]
    solution = np.linalg.lstsq(shear[:, free], -offset, rcond=None)[0]
    gamma = shear[:, free] @ solution + offset
    return float((gamma**2).sum() * grid.spacing**2)  # 2 E / d^2 with E = 1/2 G_s sum gamma^2 L'^2, G_s = 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scene", nargs="?", default="scenes/examples/light_fabric.toml")
    parser.add_argument("--cells", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--aspects", type=int, nargs="+", default=[3])
    args = parser.parse_args()
    scenes.set_warp_messages(verbose=False)
    scenes.init_warp_quietly()
    fabric = lab.strip_fabric(scenes.load_scene(args.scene), "warp")
    print(f"{args.scene}: shear rigidity {lab.expected_shear_rigidity(fabric):.4g} N/m per rad, bending rigidity "
          f"{fabric.bending_rigidity:.3g} N m")
    print(f"{'L/W':>4} {'cells':>6} {'slope N/m':>10} {'expected':>10} {'error':>8} {'net':>8} {'A':>6} {'B':>6} "
          f"{'C':>6} {'slip um':>8} {'seconds':>8}")
    for aspect in args.aspects:
        for cells in args.cells:
            result = lab.bias_extension_test(fabric, cells_across=cells, length=0.05 * aspect, width=0.05)
            regions = result.region_shear()
            net = pin_jointed_net(length=0.05 * aspect, width=0.05, rows=cells) / lab.bias_stiffness(
                1.0, length=0.05 * aspect, width=0.05) - 1.0
            print(f"{aspect:4d} {cells:6d} {result.stiffness:10.4g} {result.expected:10.4g} {result.error:8.2%} "
                  f"{net:8.2%} {regions['A']:6.3f} {regions['B']:6.3f} {regions['C']:6.3f} {result.slip * 1e6:8.3g} "
                  f"{result.seconds:8.2f}", flush=True)


if __name__ == "__main__":
    main()
