"""Cantilever test (ASTM D1388) against the exact heavy elastica: bending-length error by resolution and overhang.

    python benchmarks/lab_cantilever.py [SCENE] [--segments 10 20 40 80] [--ratios 1 2 3 4]

Prints, for each overhang ratio l/c and number of segments, the measured bending length's relative error against
the one the yarn parameters imply, the observed order of convergence between successive resolutions, and the
wall time of each test (CPU).
"""

import argparse
import math

import lab
import scenes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scene", nargs="?", default="scenes/examples/demo.toml")
    parser.add_argument("--segments", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--ratios", type=float, nargs="+", default=[1.0, 2.0, 3.0, 4.0])
    parser.add_argument("--direction", default="warp", choices=lab.DIRECTIONS)
    args = parser.parse_args()
    scenes.set_warp_messages(verbose=False)
    scenes.init_warp_quietly()
    fabric = lab.strip_fabric(scenes.load_scene(args.scene), args.direction)
    print(f"{args.scene}, {args.direction}: expected bending length {fabric.bending_length * 1e3:.4g} mm")
    print(f"{'l/c':>5} {'segments':>8} {'angle deg':>10} {'c error':>11} {'order':>6} {'steps':>6} {'seconds':>8}")
    for ratio in args.ratios:
        previous = None
        for segments in args.segments:
            result = lab.cantilever_test(fabric, direction=args.direction, ratio=ratio, segments=segments)
            error = result.bending_length_error
            order = "" if previous is None else f"{math.log2(abs(previous / error)):6.2f}"
            print(f"{ratio:5.2f} {segments:8d} {math.degrees(result.chord_angle):10.4f} {error:11.3e} {order:>6} "
                  f"{result.settle.steps:6d} {result.settle.seconds:8.2f}", flush=True)
            previous = error


if __name__ == "__main__":
    main()
