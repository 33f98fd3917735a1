"""Sweep throughput: runs/s with 1 and 2 workers, and the per-run overhead of the sweep machinery.

For the default scenario (replications of one cell, seeds base_seed + r) this times:

- ``loop``: ``mcsim.simulate(scenario, seed)`` called in a loop in this process (the reference);
- ``sweep``: ``mcsim.sweep.run_sweep`` into a fresh folder with 1 and 2 worker processes.

Sweep rates are taken from the first task submitted to the last batch stored (start-up, i.e.
validation, pool and manifest, is reported apart). Per-run overhead is given two ways: CPU (what
the task function spends outside ``simulate()`` per run, measured in this process, plus the main
process's CPU per run during a sweep, over the loop's CPU per run; insensitive to other load on
the machine) and wall (seconds per run of a 1-worker sweep against the loop's). Parallel
efficiency = runs/s with 2 workers / (2 × runs/s with 1 worker); it needs otherwise idle cores.
Worker occupancy (the share of the workers' wall time spent inside tasks) shows what the sweep
machinery itself allows, whatever else runs on the machine. The variants are interleaved within
each repeat, and every figure is the median over ``--repeats`` repeats.

Usage: ``.venv/bin/python benchmarks/sweep_scaling.py [--runs 48] [--repeats 3]``
(targets: efficiency ≥ 80 % on 2 cores, overhead < 5 %).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from mcsim import load_scenario, simulate
from mcsim.simulate import default_scenario_path
from mcsim.sweep import Plan, parse_sweep, run_sweep
from mcsim.sweep.execute import BatchTask, CellPayload, run_batch


def make_sweep(runs: int):
    data = {
        "sweep_version": 1,
        "name": f"benchmark {runs}",
        "scenarios": ["default"],
        "replications": runs,
        "base_seed": 0,
    }
    return parse_sweep(data, file="<benchmark>", base_dir=Path("."))


def time_loop(runs: int) -> tuple[float, float]:
    """(wall, CPU) seconds per run of simulate() in a loop."""
    sc = load_scenario(default_scenario_path())
    t, c = time.perf_counter(), time.process_time()
    for seed in range(runs):
        simulate(sc, seed)
    return (time.perf_counter() - t) / runs, (time.process_time() - c) / runs


def task_extra(runs: int) -> float:
    """CPU seconds per run that the task function spends outside simulate(), in this process.

    ``mcsim.simulate.simulate`` is wrapped to add up its own CPU time; the rest of run_batch's
    CPU time is the sweep's work per run (scenario cache, rows, flattening metrics).
    """
    plan = Plan(make_sweep(runs))
    cell = plan.cells[0]
    task = BatchTask(
        plan.sweep_id,
        [(r.run_id, r.cell_id, r.replication, r.seed) for r in plan.runs()],
        {0: CellPayload(cell.scenario, {}, plan.cell_data(cell))},
    )
    inner = [0.0]
    module = importlib.import_module("mcsim.simulate")  # (mcsim.simulate is the function)
    original = module.simulate

    def timed(*args, **kwargs):
        c = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            inner[0] += time.process_time() - c

    module.simulate = timed
    try:
        c = time.process_time()
        run_batch(task)
        total = time.process_time() - c
    finally:
        module.simulate = original
    return (total - inner[0]) / runs


def time_sweep(runs: int, workers: int) -> tuple[float, float, float, float]:
    """(s/run without start-up, s/run with it, main-process CPU s/run, worker occupancy)."""
    sweep = make_sweep(runs)
    with tempfile.TemporaryDirectory() as d:
        c = time.process_time()
        s = run_sweep(sweep, Path(d) / "out", workers=workers)
        cpu = time.process_time() - c
    assert s.ran == runs
    return 1 / s.run_rate, s.seconds / runs, cpu / runs, s.occupancy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=48, help="runs per measurement")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    n, reps = args.runs, args.repeats
    cores = len(os.sched_getaffinity(0))
    print(
        f"default scenario, {n} runs per measurement, median of {reps} repeats, {cores} cores; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    time_sweep(2, 2)  # start the fork server once, as a long sweep would have
    med = statistics.median
    rows = []
    for _ in range(reps):
        # interleaved, so that a change in the machine's load hits every variant alike
        loop_wall, loop_cpu = time_loop(n)
        extra = task_extra(n)
        s1, s1_total, main_cpu, _ = time_sweep(n, 1)
        s2, s2_total, _, occupancy = time_sweep(n, 2)
        rows.append(
            {
                "loop_wall": loop_wall,
                "loop_cpu": loop_cpu,
                "extra": extra,
                "main_cpu": main_cpu,
                "s1": s1,
                "s1_total": s1_total,
                "s2": s2,
                "s2_total": s2_total,
                "overhead_cpu": (extra + main_cpu) / loop_cpu,
                "overhead_wall": s1 / loop_wall - 1,
                "efficiency": s1 / (2 * s2),
                "efficiency_total": s1_total / (2 * s2_total),
                "occupancy": occupancy,
            }
        )

    def m(key: str) -> float:
        return med(r[key] for r in rows)

    print(
        f"simulate() loop:  {m('loop_wall') * 1000:7.1f} ms/run wall "
        f"{1 / m('loop_wall'):6.2f} runs/s"
    )
    print(f"                  {m('loop_cpu') * 1000:7.1f} ms/run CPU")
    print(f"task function:    {m('extra') * 1000:7.2f} ms/run CPU outside simulate()")
    print(f"main process:     {m('main_cpu') * 1000:7.2f} ms/run CPU during a 1-worker sweep")
    for w, key in ((1, "s1"), (2, "s2")):
        print(
            f"sweep, {w} worker{'s' if w > 1 else ' '}: {m(key) * 1000:7.1f} ms/run wall "
            f"{1 / m(key):6.2f} runs/s   (start-up included: {1 / m(key + '_total'):.2f} runs/s)"
        )
    print(
        f"per-run overhead, CPU (task + main vs loop): {100 * m('overhead_cpu'):+.1f} %"
        "  (target < 5 %)"
    )
    print(f"per-run overhead, wall (1 worker vs loop):   {100 * m('overhead_wall'):+.1f} %")
    print(
        f"parallel efficiency (2 workers vs 1):        {100 * m('efficiency'):.1f} %"
        "  (target >= 80 %)"
    )
    print(f"  with start-up (pool, validation, manifest): {100 * m('efficiency_total'):.1f} %")
    print(
        f"worker occupancy (2 workers):                {100 * m('occupancy'):.1f} %  "
        "(time inside tasks / workers x wall; the machinery's own limit on efficiency)"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f} (other processes skew wall-clock figures)")


if __name__ == "__main__":
    main()
