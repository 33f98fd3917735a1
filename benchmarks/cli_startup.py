"""How fast the command line answers: ``mcsim --help``, the quick commands, ``import mcsim``.

Each figure is the median wall time of several fresh processes (start-up is what is measured,
so nothing is warm but the operating system's file cache). The quick commands should answer in
under a second (issue 16): they import the scenario schema, not Mesa, and ``import mcsim`` loads
its names on first use. ``import mcsim; mcsim.MCIModel`` is there for comparison: it is what
every command paid before the imports were made lazy.

    .venv/bin/python benchmarks/cli_startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import mcsim

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = str(mcsim.default_scenario_path())
CLI = [sys.executable, "-c", "import sys; from mcsim.cli import main; sys.exit(main())"]

CASES: list[tuple[str, list[str]]] = [
    ("python -c pass", [sys.executable, "-c", "pass"]),
    ("import mcsim", [sys.executable, "-c", "import mcsim"]),
    ("mcsim --help", [*CLI, "--help"]),
    ("mcsim --version", [*CLI, "--version"]),
    ("mcsim scenarios", [*CLI, "scenarios"]),
    ("mcsim validate DEFAULT", [*CLI, "validate", DEFAULT]),
    ("mcsim schema", [*CLI, "schema"]),
    ("mcsim policies", [*CLI, "policies"]),
    ("import mcsim; mcsim.MCIModel", [sys.executable, "-c", "import mcsim; mcsim.MCIModel"]),
]


def median_seconds(argv: list[str], repeats: int) -> float:
    """Median wall time of ``repeats`` runs of ``argv`` (output discarded; must exit 0)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT, env=os.environ)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    """Print one line per case: its median, and its ratio to importing the model."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    print(f"median of {args.repeats} fresh processes each ({sys.executable})")
    print(f"{'case':<30} {'median s':>9} {'vs full import':>15}")
    medians = {}
    for name, argv in reversed(CASES):  # the full import first: the others are relative to it
        median_seconds(argv, 1)  # warm the file cache
        medians[name] = median_seconds(argv, args.repeats)
    full = medians[CASES[-1][0]]
    for name, _ in CASES:
        print(f"{name:<30} {medians[name]:>9.3f} {medians[name] / full:>14.2f}x")


if __name__ == "__main__":
    main()
