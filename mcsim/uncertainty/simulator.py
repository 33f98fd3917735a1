"""The simulator as a model function: parameter values in, one metric per design point out.

A design point is a set of values of registry parameters. Each point becomes a scenario
(:func:`mcsim.uncertainty.apply_values` on the base scenario's raw data) and is run with the
same seeds as every other point — common random numbers, so that two points differ only by
their parameters, never by who was injured how — and its output is the metric's mean over those
seeds. The runs go through the sweep engine's task function
(:func:`mcsim.sweep.execute.run_batch`) on its process pool (:mod:`mcsim.parallel`), in
batches, and come back in a fixed order whatever order they finish in, so the outputs do not
depend on the number of workers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mcsim.errors import InputError
from mcsim.uncertainty.registry import UncertainParameter, apply_values


def metric_value(row: dict[str, Any], metric: str) -> float | None:
    """The metric's value in a run's flattened row, None if the run leaves it undefined.

    Raises:
        InputError: the runs compute no numeric metric of that name (the message lists some).
    """
    if metric not in row:

        known = sorted(k for k, v in row.items() if isinstance(v, float) and "." not in k)
        raise InputError(
            f"unknown metric {metric!r}: a run computes no number of that name (numeric "
            f"metrics: {', '.join(known)}; nested ones as a.b.c, e.g. "
            "time_to_hospital_min.immediate.median)",
            path="--metric",
        )
    v = row[metric]
    if v is None:
        return None
    if not isinstance(v, float):
        raise InputError(f"metric {metric!r} is not a number", path="--metric")
    return v


@dataclass
class RunStats:
    """Where the time went, for the benchmark and the summary."""

    runs: int = 0
    wall_seconds: float = 0.0  # inside __call__, pool start-up included
    sim_seconds: float = 0.0  # summed over workers, inside the sweep task function
    workers: int = 1


@dataclass
class SimulationModel:
    """``values (points x d) -> metric means (points,)`` by simulation.

    Args:
        data: the base scenario as raw data (validated by the caller).
        label: the scenario's label for the runs table.
        params: the registry parameters, in the order of the value columns.
        metric: a metric name, nested ones dotted (``time_to_hospital_min.immediate.median``).
        seeds: the seeds every design point is run with (common random numbers).
        workers: worker processes; 1 runs in this process (no pool).
        progress: called with (runs done, runs in all) after each batch.
    """

    data: dict[str, Any]
    label: str
    params: Sequence[UncertainParameter]
    metric: str
    seeds: Sequence[int]
    workers: int = 1
    progress: Callable[[int, int], None] | None = None
    stats: RunStats = field(default_factory=RunStats)
    runs_table: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        text = json.dumps(self.data, sort_keys=True, default=str)
        self._base_id = hashlib.sha256(text.encode("utf-8")).hexdigest()

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Run every design point (rows of ``values``) with every seed; the points' means."""
        from mcsim.sweep.execute import BatchTask, CellPayload, auto_batch_size, run_batch

        t0 = time.perf_counter()
        values = np.asarray(values, dtype=float)
        names = [p.name for p in self.params]
        # The workers' scenario cache is keyed by this id and the point's index, so the id
        # is a hash of everything that makes the points' scenarios (a counter would collide
        # with another model's points in a process that ran one before).
        digest = hashlib.sha256(self._base_id.encode())
        digest.update(json.dumps(names).encode())
        digest.update(np.ascontiguousarray(values).tobytes())
        call_id = f"sens-{digest.hexdigest()[:16]}"
        k = len(self.seeds)
        points = len(values)
        total = points * k
        size = auto_batch_size(total, self.workers)

        def tasks() -> Iterator[BatchTask]:
            # built as they are submitted: a point's scenario data (a copy of the whole
            # scenario) exists only while its batch is waiting or running
            runs = (
                (i * k + r, i, r, int(s)) for i in range(points) for r, s in enumerate(self.seeds)
            )
            while chunk := list(itertools.islice(runs, size)):
                cells: dict[int, CellPayload] = {}
                for _, i, _, _ in chunk:
                    if i not in cells:
                        point = dict(zip(names, (float(v) for v in values[i]), strict=True))
                        cells[i] = CellPayload(self.label, point, self._point_data(i, point))
                yield BatchTask(call_id, chunk, cells)

        results = (
            map(run_batch, tasks()) if self.workers <= 1 else self._pool_results(tasks(), run_batch)
        )
        rows: list[dict[str, Any]] = []
        for res in results:
            rows += res.rows
            self.stats.sim_seconds += res.seconds
            if self.progress:
                self.progress(len(rows), total)
        out = self._collect(rows, points, k)
        self.stats.runs += total
        self.stats.workers = max(1, self.workers)
        self.stats.wall_seconds += time.perf_counter() - t0
        return out

    def _point_data(self, i: int, point: dict[str, float]) -> dict[str, Any]:
        """The scenario of design point ``i``, validated here (a worker's error is a traceback).

        Values inside their priors can still make a scenario the schema refuses together with
        the scenario's own settings; that is bad input, reported as one line.
        """
        from mcsim.scenario import parse_scenario

        data = apply_values(self.data, point)
        try:
            parse_scenario(data)
        except InputError as exc:
            values = ", ".join(f"{k}={v:g}" for k, v in point.items())
            where = f" at {exc.path}" if exc.path else ""
            raise InputError(
                f"design point {i} ({values}) is not a valid scenario{where}: {exc.message}",
                path="--params",
            ) from None
        return data

    def _pool_results(self, tasks: Iterator[Any], fn: Callable[[Any], Any]) -> Iterator[Any]:
        """``fn`` of every task on a process pool, a bounded number in flight, as they finish."""
        from mcsim.parallel import process_pool
        from mcsim.sweep.execute import IN_FLIGHT_PER_WORKER, _worker_init

        pool = process_pool(
            self.workers,
            initializer=_worker_init,
            initargs=(os.getpid(),),
            preload=["mcsim.sweep.execute"],
        )
        window = self.workers * IN_FLIGHT_PER_WORKER
        in_flight: set[Future] = set()
        exhausted = False
        try:
            while not exhausted or in_flight:
                while not exhausted and len(in_flight) < window:
                    task = next(tasks, None)
                    if task is None:
                        exhausted = True
                    else:
                        in_flight.add(pool.submit(fn, task))
                if not in_flight:
                    break
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for f in finished:
                    yield f.result()
        finally:
            for f in in_flight:
                f.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    def _collect(self, rows: list[dict[str, Any]], points: int, k: int) -> np.ndarray:
        """Per-point means in point order; the runs table (point, seed, value) is kept."""
        rows.sort(key=lambda r: r["run_id"])
        vals = np.empty(len(rows))
        undefined = 0
        for j, row in enumerate(rows):
            v = metric_value(row, self.metric)
            if v is None:
                undefined += 1
                vals[j] = np.nan
            else:
                vals[j] = v
        if undefined:
            raise InputError(
                f"metric {self.metric!r} is undefined in {undefined} of {len(rows)} runs (e.g. "
                "a mortality with no casualty of that kind): choose a metric every run defines",
                path="--metric",
            )
        table = pd.DataFrame(
            {
                "point": [r["cell_id"] for r in rows],
                "seed": [r["seed"] for r in rows],
                **{p.name: [r[p.name] for r in rows] for p in self.params},
                self.metric: vals,
            }
        )
        self.runs_table = (
            table if self.runs_table is None else pd.concat([self.runs_table, table])
        )
        return vals.reshape(points, k).mean(axis=1)

    def noise_share(self) -> float | None:
        """Seed noise left in the design points' means, as a share of their variance.

        With common random numbers a seed's own effect (its casualties) is the same at every
        point and cancels from their differences; what is left is the point x seed
        interaction. A two-way analysis of the runs (points x seeds, one run per cell) gives
        its variance; divided by the number of seeds, it is the noise each point's mean still
        carries. A share near 1 means the indices measure seed noise, not the parameters.
        None: fewer than two seeds or points, or no variance at all.
        """
        t = self.runs_table
        k = len(self.seeds)
        if t is None or k < 2:
            return None
        grid = t.pivot_table(index="point", columns="seed", values=self.metric).to_numpy()
        p = grid.shape[0]
        if p < 2:
            return None
        resid = grid - grid.mean(axis=1, keepdims=True) - grid.mean(axis=0, keepdims=True)
        resid += grid.mean()
        interaction = float((resid**2).sum()) / ((p - 1) * (k - 1))
        total = float(grid.mean(axis=1).var(ddof=1))
        if not np.isfinite(total) or total <= 0:
            return None
        return float(min(1.0, interaction / k / total))
