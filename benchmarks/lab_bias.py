"""Bias-extension test against the pin-jointed net's three-region prediction: error, region shear and slip by
resolution and aspect ratio.

    python benchmarks/lab_bias.py [SCENE] [--cells 10 20 40] [--aspects 2 3 4 6]

Prints, for each aspect ratio L/W (W = 5 cm) and number of diagonal rows of cells across the width, the measured
small-strain slope against ``lab.bias_stiffness`` of the fabric's shear rigidity (with its compression
stiffening), the mean shear of regions A, B and C over the net's middle-region angle (1, 1/2, 0 for the net), the
largest crossing slip and the wall time (CPU).
"""

import argparse

import lab
import scenes


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
    print(f"{'L/W':>4} {'cells':>6} {'slope N/m':>10} {'expected':>10} {'error':>8} {'A':>6} {'B':>6} {'C':>6} "
          f"{'slip um':>8} {'seconds':>8}")
    for aspect in args.aspects:
        for cells in args.cells:
            result = lab.bias_extension_test(fabric, cells_across=cells, length=0.05 * aspect, width=0.05)
            regions = result.region_shear()
            print(f"{aspect:4d} {cells:6d} {result.stiffness:10.4g} {result.expected:10.4g} {result.error:8.2%} "
                  f"{regions['A']:6.3f} {regions['B']:6.3f} {regions['C']:6.3f} {result.slip * 1e6:8.3g} "
                  f"{result.seconds:8.2f}", flush=True)


if __name__ == "__main__":
    main()
