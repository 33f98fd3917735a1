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
import importlib
import tempfile
import time
from dataclasses import replace
from pathlib import Path

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

    # import what a calibration imports before the clocks start: start-up is not throughput
    import pyabc  # noqa: F401

    sim_module = importlib.import_module("mcsim.simulate")  # the module, not the function
    from mcsim.uncertainty.abc_model import IncidentsModel

    clocks = {k: {"wall": 0.0, "cpu": 0.0, "calls": 0} for k in ("sim", "eval", "out")}

    def timed(kind: str, fn):
        def wrapper(*a, **k):
            w, c = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **k)
            finally:
                clocks[kind]["wall"] += time.perf_counter() - w
                clocks[kind]["cpu"] += time.process_time() - c
                clocks[kind]["calls"] += 1

        return wrapper

    real = (sim_module.simulate, IncidentsModel.run_seeds, report_module.write_outputs)
    sim_module.simulate = timed("sim", real[0])
    IncidentsModel.run_seeds = timed("eval", real[1])
    report_module.write_outputs = timed("out", real[2])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            w0, c0 = time.perf_counter(), time.process_time()
            r = calibrate(cal, Path(tmp) / "out", workers=1)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            # the outputs' own runs (posterior-predictive check), timed apart
            snap = {k: dict(v) for k, v in clocks.items()}
    finally:
        sim_module.simulate, IncidentsModel.run_seeds, report_module.write_outputs = real
    ppc_evals = cal.budget.ppc_draws
    per = {k: {c: snap[k][c] / max(snap[k]["calls"], 1) for c in ("wall", "cpu")}
           for k in ("sim", "eval")}  # fmt: skip
    ppc_runs = ppc_evals * len(cal.incidents)
    totals = {"wall": wall - snap["out"]["wall"], "cpu": cpu - snap["out"]["cpu"]}
    parts = {}
    for c in ("wall", "cpu"):
        sim_t = snap["sim"][c] - ppc_runs * per["sim"][c]
        eval_t = snap["eval"][c] - ppc_evals * per["eval"][c]
        parts[c] = {"simulation": sim_t, "overhead": eval_t - sim_t,
                    "inference": totals[c] - eval_t}  # fmt: skip
    runs = snap["sim"]["calls"] - ppc_runs

    print(f"calibration: {cal.name}, {len(cal.incidents)} incidents, {len(cal.parameters)} "
          f"parameters, {r.populations} populations of {args.size}")  # fmt: skip
    for c in ("cpu", "wall"):
        t = totals[c]
        print(f"{c:>4}: {r.evaluations} evaluations ({runs} runs) in {t:.1f} s: "
              f"{r.evaluations / t:.2f} evaluations/s, {runs / t:.2f} runs/s")  # fmt: skip
    labels = {
        "simulation": "simulation (mcsim.simulate)",
        "overhead": "evaluation overhead (apply values, validate, figures)",
        "inference": "inference (pyabc, its database, our sampler)",
    }
    for key, label in labels.items():
        cpu_t, wall_t = parts["cpu"][key], parts["wall"][key]
        print(f"  {label:<55} cpu {cpu_t:7.1f} s {100 * cpu_t / totals['cpu']:5.1f} %   "
              f"wall {wall_t:7.1f} s {100 * wall_t / totals['wall']:5.1f} %")  # fmt: skip
    print("  (issue 12 target: inference < 10 %; cpu shares are what other load cannot change)")
    print(f"outputs (posterior-predictive runs, plots, report): {snap['out']['wall']:.1f} s wall")


if __name__ == "__main__":
    main()
