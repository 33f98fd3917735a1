"""How long one run takes, in-process: the default scenario and larger casualty counts.

Prints the median wall time of repeated `mcsim.simulate` calls (model construction, the event
loop and building the result tables and metrics), the median CPU time (``process_time``, far
less sensitive than wall time to other users of the cores), events per second, and the cost per
casualty relative to the default scenario. Machines here are shared and noisy: compare medians
and ratios, not single figures.

    .venv/bin/python benchmarks/simulate_timing.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import mcsim


def time_runs(scenario: mcsim.Scenario, repeats: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of ``repeats`` runs (seeds 0..repeats-1), first's events."""
    times = []
    cpu = []
    events = 0
    for seed in range(repeats):
        t0 = time.perf_counter()
        c0 = time.process_time()
        result = mcsim.simulate(scenario, seed=seed)
        cpu.append(time.process_time() - c0)
        times.append(time.perf_counter() - t0)
        if seed == 0:
            events = len(result.events)
    return statistics.median(times), statistics.median(cpu), events


def main() -> None:
    """Print the timing table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    path = mcsim.default_scenario_path()
    base = mcsim.load_scenario(path)
    mcsim.simulate(base, seed=0)  # warm-up: imports, caches
    rows = []
    for label, n, repeats in (
        ("default (300)", None, args.repeats),
        ("1k casualties", 1_000, max(3, args.repeats // 2)),
        ("10k casualties", 10_000, 3),
    ):
        sc = (
            base
            if n is None
            else mcsim.load_scenario(path, overrides=[f"incidents[0].casualties={n}"])
        )
        median, cpu, events = time_runs(sc, repeats)
        rows.append((label, sc.incidents[0].casualties, median, cpu, events))
    print(
        f"{'run':<16}{'casualties':>11}{'median s':>10}{'cpu s':>8}{'events':>9}{'events/s':>11}"
        f"{'ms/casualty':>13}{'vs default':>11}"
    )
    per_default = rows[0][2] / rows[0][1]
    for label, n, median, cpu, events in rows:
        per = median / n
        print(
            f"{label:<16}{n:>11,}{median:>10.3f}{cpu:>8.3f}{events:>9,}{events / median:>11,.0f}"
            f"{1000 * per:>13.3f}{per / per_default:>10.2f}x"
        )


if __name__ == "__main__":
    main()
