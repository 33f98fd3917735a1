"""Sensitivity analysis throughput: runs/s, and the share of time spent outside simulation.

Runs ``mcsim sensitivity``'s code path (:func:`mcsim.uncertainty.sensitivity_run.run_sensitivity`
plus writing its outputs) on a scenario and splits its wall time:

- ``simulation``: the worker seconds inside the sweep engine's task function (validating each
  design point's scenario, ``simulate``, flattening its metrics), divided by the workers;
- everything else: loading and checking the scenario and the corners of the priors, the pilot
  run, SALib's design and the prior's ``ppf`` for every value, applying values to the scenario
  data, shipping tasks, SALib's analysis with its bootstrap, and writing the outputs.

The share outside simulation is what the sensitivity machinery costs on top of the runs
themselves (with more than one worker it also holds the pool's start-up and idle workers).

Usage: ``.venv/bin/python benchmarks/sensitivity_timing.py [--scenario stadium_explosion]
[--method morris] [--n 4] [--seeds 2] [--workers 1] [--params a,b,...]``
"""

from __future__ import annotations

import argparse
import tempfile
import time

from mcsim.uncertainty.sensitivity_run import run_sensitivity, write_outputs

DEFAULT_PARAMS = (
    "haemorrhage_death_median_min,haemorrhage_compensated_share,onscene_care_factor,"
    "alert_delay_min,loading_min,hospital_alert_delay_min"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="stadium_explosion")
    ap.add_argument("--metric", default="expected_deaths")
    ap.add_argument("--method", default="morris")
    ap.add_argument("--params", default=DEFAULT_PARAMS)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()

    t0 = time.perf_counter()
    run = run_sensitivity(
        args.scenario,
        args.metric,
        method=args.method,
        params=args.params,
        n=args.n,
        seeds=args.seeds,
        workers=args.workers,
        seed=0,
    )
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_outputs(run, tmp)
    t2 = time.perf_counter()
    total = t2 - t0
    st = run.model.stats
    sim = st.sim_seconds / max(1, st.workers)
    phases = {**run.timing, "write outputs": t2 - t1}
    print(
        f"{args.scenario}, {args.metric}: {args.method} n={args.n}, {len(run.params)} "
        f"parameters, {args.seeds} seeds, {st.workers} worker(s)"
    )
    print(f"runs:                 {st.runs} (+1 pilot)")
    print(f"total wall:           {total:.2f} s")
    print(f"runs/s (design runs): {st.runs / st.wall_seconds:.2f}")
    print(f"runs/s (end to end):  {st.runs / total:.2f}")
    print(f"simulation:           {sim:.2f} s (worker seconds / workers)")
    print(f"outside simulation:   {total - sim:.2f} s = {100 * (total - sim) / total:.1f} %")
    for name, sec in phases.items():
        print(f"  {name:<19} {sec:.3f} s")


if __name__ == "__main__":
    main()
