"""Step throughput of this checkout against another one, as ratios measured in one run (A/B).

Usage: python benchmarks/engine_ab.py --other DIR [--cases 17x1 25x1 101x1 25x64] [--rounds 3] [--seconds 3]
       [--operator assembled]

DIR is another checkout of warpweave (e.g. ``git worktree add ../before <commit>``). Each case SIZExWORLDS (the
reference scene of ``step_throughput.py``: plain weave, two top corners pinned, 5 m/s wind, dt = 1 ms) runs
``--rounds`` times in each checkout, alternating A and B in fresh processes so that both see the same load;
the printed figures are medians of steps/s and their ratio this/other (> 1: this checkout is faster).
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_MEASURE = """
import importlib.util, json, sys
sys.path.insert(0, sys.argv[1])
spec = importlib.util.spec_from_file_location("step_throughput", sys.argv[1] + "/benchmarks/step_throughput.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
import warp as wp
wp.config.quiet = True
row = module.measure(int(sys.argv[2]), int(sys.argv[3]), "cpu", float(sys.argv[4]), 20, sys.argv[5])
print(json.dumps({"steps_per_s": row["steps_per_s"], "iterations": row["iterations"]}))
"""


def measure(tree: Path, size: int, worlds: int, seconds: float, operator: str) -> dict:
    result = subprocess.run([sys.executable, "-c", _MEASURE, str(tree), str(size), str(worlds), str(seconds), operator],
                            cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", required=True, type=Path, help="the other checkout")
    parser.add_argument("--cases", nargs="+", default=["17x1", "25x1", "101x1", "25x64"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="timed wall time per measurement")
    parser.add_argument("--operator", default="assembled", choices=["assembled", "matrix_free"])
    args = parser.parse_args()
    print(f"this: {ROOT}   other: {args.other.resolve()}   operator: {args.operator}, {args.rounds} rounds")
    print(f"{'case':>8} {'this steps/s':>13} {'other steps/s':>14} {'ratio':>7} {'CG it/step (this, other)':>26}")
    for case in args.cases:
        size, worlds = (int(v) for v in case.split("x"))
        this, other = [], []
        for _ in range(args.rounds):
            this.append(measure(ROOT, size, worlds, args.seconds, args.operator))
            other.append(measure(args.other, size, worlds, args.seconds, args.operator))
        a = statistics.median(r["steps_per_s"] for r in this)
        b = statistics.median(r["steps_per_s"] for r in other)
        print(f"{case:>8} {a:>13.2f} {b:>14.2f} {a / b:>7.3f} {this[0]['iterations']:>12.1f} "
              f"{other[0]['iterations']:>12.1f}", flush=True)


if __name__ == "__main__":
    main()
