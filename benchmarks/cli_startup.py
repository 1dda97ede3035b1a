"""How fast the command line answers: wall time of warpweave commands as a ratio to ``python -c pass``.

Usage: python benchmarks/cli_startup.py [--repeats 7]

Each command runs ``--repeats`` times in a fresh interpreter (``python -m warpweave ...``), interleaved
with the bare interpreter so that both see the same machine load; the median of each is printed with
their ratio. ``--help`` and argument errors import no engine; ``params`` reads the scene only (numpy);
``info`` starts Warp to measure the engine's memory.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = str(ROOT / "scenes" / "examples" / "demo.toml")
COMMANDS = {
    "warpweave --help": ["--help"],
    "warpweave simulate (bad flag)": ["simulate", DEMO, "--steps", "0"],
    "warpweave params SCENE": ["params", DEMO],
    "warpweave info SCENE": ["info", DEMO],
}


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    bare = [sys.executable, "-c", "pass"]
    print(f"{'command':<32} {'median [s]':>10} {'python -c pass [s]':>18} {'ratio':>7}")
    for label, extra in COMMANDS.items():
        ours, theirs = [], []
        for _ in range(args.repeats):
            theirs.append(seconds(bare))
            ours.append(seconds([sys.executable, "-m", "warpweave", *extra]))
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"{label:<32} {a:>10.3f} {b:>18.3f} {a / b:>7.1f}")


if __name__ == "__main__":
    main()
