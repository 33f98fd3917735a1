"""Batch sweeps: many runs over policies and scenario factors, stored as a Parquet dataset.

A sweep file names base scenarios, factors, replications and a base seed (:mod:`.spec`); the
plan turns it into cells and runs with common random numbers (:mod:`.plan`); runs execute in
batches on a process pool or a Dask cluster (:mod:`.execute`) and stream into a resumable folder
(:mod:`.store`). :mod:`mcsim.analysis` reads the folder back. The core simulator never imports
this package.

Example:
    >>> from mcsim.sweep import run_sweep, read_runs      # doctest: +SKIP
    >>> run_sweep("scenarios/sweeps/policies.yaml", "out/sweep", workers=2)
    >>> read_runs("out/sweep").groupby("cell_id")["critical_mortality"].mean()
"""

from mcsim.sweep.execute import SweepSummary, run_batch, run_sweep
from mcsim.sweep.plan import Cell, Plan, Run
from mcsim.sweep.spec import Sweep, load_sweep, parse_sweep
from mcsim.sweep.store import read_manifest, read_patients, read_runs

__all__ = [
    "Cell",
    "Plan",
    "Run",
    "Sweep",
    "SweepSummary",
    "load_sweep",
    "parse_sweep",
    "read_manifest",
    "read_patients",
    "read_runs",
    "run_batch",
    "run_sweep",
]
