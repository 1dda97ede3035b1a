"""Drape test (Cusick, BS 5058): drape coefficient and folds by resolution and seed, with wall times.

    python benchmarks/lab_drape.py [SCENE] [--cells 16 20 24 30 40] [--seeds 0 1 2]

Prints, for each resolution (cells across the 30 cm specimen's diameter) and seed of the random lift that starts
the folds, the drape coefficient, the number of folds, the lowest point, the settle's steps and the wall time of
the test (CPU), then each resolution's mean and spread of the coefficient over the seeds. The drape of a flat
disc is a bifurcation: the number of folds it picks depends on small differences (a real specimen's as much as
the lift's), and the coefficient with it.
"""

import argparse

import numpy as np

import lab
import scenes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scene", nargs="?", default="scenes/examples/light_fabric.toml")
    parser.add_argument("--cells", type=int, nargs="+", default=[16, 20, 24, 30, 40])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    scenes.set_warp_messages(verbose=False)
    scenes.init_warp_quietly()
    fabric = lab.strip_fabric(scenes.load_scene(args.scene), "warp")
    measures = fabric.measures()
    print(f"{args.scene}: areal density {measures.areal_density:.4g} kg/m^2, bending lengths "
          f"{measures.bending_length[0] * 1e3:.4g} / {measures.bending_length[1] * 1e3:.4g} mm")
    print(f"{'cells':>5} {'seed':>4} {'DC':>7} {'folds':>5} {'lowest mm':>9} {'steps':>6} {'seconds':>8}")
    for cells in args.cells:
        coefficients = []
        for seed in args.seeds:
            result = lab.drape_test(fabric, cells=cells, seed=seed)
            coefficients.append(result.drape_coefficient)
            print(f"{cells:5d} {seed:4d} {result.drape_coefficient:7.4f} {result.folds:5d} "
                  f"{result.lowest_point * 1e3:9.2f} {result.settle.steps:6d} {result.settle.seconds:8.2f}", flush=True)
        print(f"{cells:5d} mean {np.mean(coefficients):7.4f} spread {np.ptp(coefficients):.4f}", flush=True)


if __name__ == "__main__":
    main()
