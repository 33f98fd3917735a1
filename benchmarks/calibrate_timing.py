"""Calibration throughput: evaluations and runs per second, and where the time goes.

Runs a small calibration in this process (one worker, so that every second is accounted
for) and splits its sampling wall time into (the simulation's CPU share is printed too, which
other load on the machine does not change):

- ``simulation``: inside ``mcsim.simulate`` (the model itself);
- ``evaluation overhead``: the rest of each evaluation (applying the parameter values to the
  scenario data, validating the scenario, computing the figures);
- ``inference``: everything else while sampling: pyabc (proposals, perturbation kernel, prior
  densities, weights, threshold) and its SQLite database, plus our seeded sampler;
- ``outputs``: posterior-predictive runs, plots and the report (reported apart).

The issue's target: inference < 10 % of the calibration's time.

Usage: ``.venv/bin/python benchmarks/calibrate_timing.py [--calibration historical]
[--populations 2] [--size 20]`` (default: the five historical incidents, 2 populations of 20).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import mcsim.simulate
import mcsim.uncertainty.calibration_report as report_module
from mcsim.uncertainty.calibrate import calibrate
from mcsim.uncertainty.calibration_file import load_calibration


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calibration", default="historical")
    ap.add_argument("--populations", type=int, default=2)
    ap.add_argument("--size", type=int, default=20)
    args = ap.parse_args()

    cal = load_calibration(args.calibration)
    budget = cal.budget.model_copy(
        update={
            "populations": args.populations,
            "population_size": args.size,
            "ppc_draws": 2,
            "min_epsilon": 0.0,
            "max_runs": 1_000_000,
        }  # fmt: skip
    )
    cal = replace(cal, budget=budget)

    sim = {"wall": 0.0, "cpu": 0.0, "calls": 0}
    real_simulate = mcsim.simulate.simulate

    def timed_simulate(*a, **k):
        w, c = time.perf_counter(), time.process_time()
        try:
            return real_simulate(*a, **k)
        finally:
            sim["wall"] += time.perf_counter() - w
            sim["cpu"] += time.process_time() - c
            sim["calls"] += 1

    out_t = {"wall": 0.0, "cpu": 0.0, "sims": 0}
    real_write = report_module.write_outputs

    def timed_write(*a, **k):
        w, c, n = time.perf_counter(), time.process_time(), sim["calls"]
        try:
            return real_write(*a, **k)
        finally:
            out_t["wall"] += time.perf_counter() - w
            out_t["cpu"] += time.process_time() - c
            out_t["sims"] = sim["calls"] - n

    mcsim.simulate.simulate = timed_simulate
    report_module.write_outputs = timed_write
    try:
        with tempfile.TemporaryDirectory() as tmp:
            w0, c0 = time.perf_counter(), time.process_time()
            r = calibrate(cal, Path(tmp) / "out", workers=1)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    finally:
        mcsim.simulate.simulate = real_simulate
        report_module.write_outputs = real_write
    # the outputs' own simulations (posterior-predictive runs) are counted with the outputs
    per_sim_wall = sim["wall"] / max(sim["calls"], 1)
    per_sim_cpu = sim["cpu"] / max(sim["calls"], 1)
    sim_out_wall, sim_out_cpu = out_t["sims"] * per_sim_wall, out_t["sims"] * per_sim_cpu
    sampling_wall, sampling_cpu = wall - out_t["wall"], cpu - out_t["cpu"]
    sim_wall, sim_cpu = sim["wall"] - sim_out_wall, sim["cpu"] - sim_out_cpu
    eval_wall = r.simulation_seconds
    runs = sim["calls"] - out_t["sims"]

    print(f"calibration: {cal.name}, {len(cal.incidents)} incidents, {len(cal.parameters)} "
          f"parameters, {r.populations} populations of {args.size}")  # fmt: skip
    print(f"evaluations: {r.evaluations} ({runs} simulation runs) in {sampling_wall:.1f} s "
          f"sampling: {r.evaluations / sampling_wall:.2f} evaluations/s, "
          f"{runs / sampling_wall:.2f} runs/s")  # fmt: skip

    def share(x: float) -> str:
        return f"{x:7.1f} s wall {100 * x / sampling_wall:5.1f} %"

    ov_w = eval_wall - sim_wall
    inf_w = sampling_wall - eval_wall
    print(f"  simulation (mcsim.simulate)  {share(sim_wall)}"
          f"   (cpu {sim_cpu:.1f} s, {100 * sim_cpu / sampling_cpu:.1f} % of the cpu)")  # fmt: skip
    print(f"  evaluation overhead          {share(ov_w)}")
    print(f"  inference (pyabc + database) {share(inf_w)}   (target < 10 %)")
    print(f"outputs (posterior-predictive runs, plots, report): {out_t['wall']:.1f} s wall")


if __name__ == "__main__":
    main()
