"""Catastrophe-scale timing: 1k, 10k and 100k casualties on a ~2,000-node region.

The region has 100 hospitals and 1,000 ambulances (benchmarks/catastrophe_scenarios.py). For
each size the script runs ``mcsim.simulate`` in a fresh subprocess (so peak memory is that
size's alone) several times and prints the median simulate time, events per second, peak
resident memory, and the cost per casualty relative to the 1k case. Machines here are shared
and noisy: read medians and ratios, not single runs.

    .venv/bin/python benchmarks/scale.py [--sizes 1000 10000 100000] [--repeats 3]

Targets (issue 8): 100k casualties in under 20 s and 2 GB on 2 cores; cost per casualty at 100k
within 1.5x of that at 1k.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {here!r})
from catastrophe_scenarios import catastrophe
import mcsim
import mcsim.model  # mcsim imports lazily: load the model before the clock starts
scenario = catastrophe({n})
t0 = time.perf_counter()
result = mcsim.simulate(scenario, seed={seed})
elapsed = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"s": elapsed, "events": len(result.events), "peak_mb": peak_mb}}))
"""


def run_once(n: int, seed: int) -> dict:
    """One simulate of ``n`` casualties in a fresh interpreter."""
    code = CHILD.format(here=str(HERE), n=n, seed=seed)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print the scale table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(
        f"{'casualties':>10}{'median s':>10}{'events':>10}{'events/s':>11}{'peak MB':>9}"
        f"{'us/casualty':>13}{'vs first':>9}"
    )
    first = None
    for n in args.sizes:
        runs = [run_once(n, seed) for seed in range(args.repeats)]
        median = statistics.median(r["s"] for r in runs)
        events = runs[0]["events"]
        peak = max(r["peak_mb"] for r in runs)
        per = median / n
        first = first or per
        print(
            f"{n:>10,}{median:>10.2f}{events:>10,}{events / median:>11,.0f}{peak:>9.0f}"
            f"{1e6 * per:>13.1f}{per / first:>8.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
