"""Running a sweep: batches of runs on a process pool or a Dask cluster, stored as they finish.

Runs are grouped into batches (several runs per task) so that the cost of shipping a task and
storing its rows stays small next to the runs themselves. The same task function,
:func:`run_batch`, runs on both back ends and returns plain rows:

- ``local`` (default): a stdlib :class:`~concurrent.futures.ProcessPoolExecutor` with
  ``workers`` processes (default: every core this process may use);
- ``dask``: a ``dask.distributed`` client, on a ``LocalCluster`` (processes, one thread per
  worker) or on the scheduler at ``scheduler``. Dask's own logs are kept to errors.

Only a bounded number of batches is in flight at a time, and each finished batch is written to
the store at once and dropped, so memory stays flat however many runs the sweep has.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from mcsim.errors import InputError
from mcsim.parallel import default_workers, process_pool
from mcsim.safeio import check_output_folder
from mcsim.sweep.plan import Plan, Run
from mcsim.sweep.spec import Sweep, load_sweep
from mcsim.sweep.store import SweepStore

#: Largest automatic batch (runs per task); bounds what a kill can lose per worker.
MAX_AUTO_BATCH = 20
#: Batches per worker the automatic batch size aims for (load balance at the end of a sweep).
TASKS_PER_WORKER = 8
#: Batches in flight per worker (keeps workers busy while the main process stores results).
IN_FLIGHT_PER_WORKER = 2


@dataclass
class CellPayload:
    """What a worker needs to know about a cell: its scenario and its row values."""

    scenario: str
    factors: dict[str, Any]
    data: dict[str, Any]


@dataclass
class BatchTask:
    """Several runs, shipped to a worker as one task."""

    sweep_id: str
    runs: list[tuple[int, int, int, int]]  # (run_id, cell_id, replication, seed)
    cells: dict[int, CellPayload]
    imports: list[str] = field(default_factory=list)
    import_paths: list[str] = field(default_factory=list)
    store_patients: bool = False
    # replication -> parameter values of its posterior draw (``--posterior``), else empty
    parameter_sets: dict[int, dict[str, float]] = field(default_factory=dict)


@dataclass
class BatchResult:
    """The rows (one per run) and optionally the patients tables of a batch."""

    rows: list[dict[str, Any]]
    patients: pd.DataFrame | None = None
    seconds: float = 0.0  # wall time the worker spent on the batch


def flatten_metrics(metrics: dict[str, Any], prefix: str = "") -> dict[str, float | None]:
    """Scalar metrics as ``{column: float}``; nested dicts become ``a.b.c`` columns.

    Non-numeric leaves (lists, strings) are left out: the runs table holds numbers only.
    """
    out: dict[str, float | None] = {}
    for k, v in metrics.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten_metrics(v, name + "."))
        elif v is None:
            out[name] = None
        elif isinstance(v, bool | int | float):
            out[name] = float(v)
    return out


_SCENARIOS: OrderedDict[tuple[str, int], Any] = OrderedDict()
_SCENARIO_CACHE_SIZE = 32


def _scenario(sweep_id: str, cell_id: int, data: dict[str, Any]) -> Any:
    """The cell's validated Scenario, parsed once per worker process (small LRU cache)."""
    from mcsim.scenario import Scenario

    key = (sweep_id, cell_id)
    sc = _SCENARIOS.get(key)
    if sc is None:
        # Cells were fully validated (references included) before the sweep started.
        sc = Scenario.model_validate(data)
        _SCENARIOS[key] = sc
        if len(_SCENARIOS) > _SCENARIO_CACHE_SIZE:
            _SCENARIOS.popitem(last=False)
    else:
        _SCENARIOS.move_to_end(key)
    return sc


def _scenario_with(cell: CellPayload, values: dict[str, float]) -> Any:
    """The cell's scenario with one posterior draw's parameter values applied."""
    from mcsim.scenario import parse_scenario
    from mcsim.uncertainty.posterior import values_for_scenario
    from mcsim.uncertainty.registry import apply_values

    return parse_scenario(apply_values(cell.data, values_for_scenario(values, cell.scenario)))


def run_batch(task: BatchTask) -> BatchResult:
    """Run every run of ``task`` and return one row per run (the task function of all back ends)."""
    from mcsim.simulate import simulate

    t0 = time.perf_counter()
    from mcsim.plugins import load_plugins

    for p in task.import_paths:
        if p not in sys.path:
            sys.path.insert(0, p)
    base = Path(task.import_paths[0]) if task.import_paths else None
    load_plugins(task.imports, base_dir=base, path="imports")
    rows: list[dict[str, Any]] = []
    patients: list[pd.DataFrame] = []
    for run_id, cell_id, replication, seed in task.runs:
        cell = task.cells[cell_id]
        values = task.parameter_sets.get(replication)
        if values is None:
            result = simulate(_scenario(task.sweep_id, cell_id, cell.data), seed)
        else:
            result = simulate(_scenario_with(cell, values), seed)
        row: dict[str, Any] = {
            "sweep_id": task.sweep_id,
            "run_id": run_id,
            "cell_id": cell_id,
            "scenario": cell.scenario,
            "replication": replication,
            "seed": seed,
            **cell.factors,
        }
        for kind in ("triage", "dispatch", "destination"):
            row[f"policy.{kind}"] = result.policies.get(kind)
        if values is not None:
            row.update({f"param.{k}": float(v) for k, v in values.items()})
        row.update(flatten_metrics(result.metrics))
        rows.append(row)
        if task.store_patients:
            p = result.patients.copy()
            p.insert(0, "replication", replication)
            p.insert(0, "cell_id", cell_id)
            p.insert(0, "run_id", run_id)
            patients.append(p)
    return BatchResult(
        rows,
        pd.concat(patients, ignore_index=True) if patients else None,
        time.perf_counter() - t0,
    )


#: Seconds between a worker's checks that the sweep's main process is still alive.
PARENT_CHECK_S = 1.0


def _worker_init(main_pid: int | None = None) -> None:
    # Ctrl-C is the main process's business; workers just stop with the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if main_pid is not None:
        import threading

        threading.Thread(
            target=_exit_when_gone, args=(main_pid,), name="mcsim-parent-watch", daemon=True
        ).start()


def _exit_when_gone(main_pid: int) -> None:
    """Exit the worker once the sweep's main process is gone (killed with SIGKILL, say).

    A pool worker waits on its task queue, whose write end it holds itself, so it never sees
    the main process die; with forkserver its parent is the fork server, not the main process,
    so the parent-death signal does not help either. Polling the main process's pid does.
    """
    while True:
        time.sleep(PARENT_CHECK_S)
        try:
            os.kill(main_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # the pid was taken by another user's process: ours is gone
            os._exit(1)


def _row_value(value: Any, typ: pa.DataType) -> Any:
    if pa.types.is_string(typ) and not isinstance(value, str):
        return json.dumps(value, sort_keys=True)
    return value


def auto_batch_size(pending: int, workers: int) -> int:
    """Runs per task: about :data:`TASKS_PER_WORKER` tasks per worker, 1..MAX_AUTO_BATCH."""
    return max(1, min(MAX_AUTO_BATCH, math.ceil(pending / (workers * TASKS_PER_WORKER))))


@dataclass
class SweepSummary:
    """What a call of :func:`run_sweep` did."""

    sweep_id: str
    out: Path
    n_runs: int
    stored_before: int
    ran: int
    seconds: float
    workers: int
    batch_size: int
    run_seconds: float = 0.0
    busy_seconds: float = 0.0

    @property
    def occupancy(self) -> float:
        """Share of the workers' time spent inside tasks (1.0 = never waiting for work)."""
        if self.run_seconds <= 0 or self.workers <= 0:
            return 0.0
        return self.busy_seconds / (self.workers * self.run_seconds)

    @property
    def rate(self) -> float:
        """Runs per second in this call, start-up included."""
        return self.ran / self.seconds if self.seconds > 0 else 0.0

    @property
    def run_rate(self) -> float:
        """Runs per second from the first task submitted to the last stored (no start-up)."""
        return self.ran / self.run_seconds if self.run_seconds > 0 else 0.0


class _Backend:
    """An executor plus its worker count, and how to shut it down."""

    def __init__(self, executor: Executor, workers: int, close: Callable[[], None]) -> None:
        self.executor = executor
        self.workers = workers
        self._close = close

    def close(self) -> None:
        self._close()


def _local_backend(workers: int) -> _Backend:
    # forkserver where it exists, else spawn (Windows): mcsim.parallel.start_method
    pool = process_pool(
        workers,
        initializer=_worker_init,
        initargs=(os.getpid(),),
        preload=["mcsim.sweep.execute"],
    )

    def close() -> None:
        pool.shutdown(wait=True, cancel_futures=True)

    return _Backend(pool, workers, close)


def _quiet_dask_logs() -> None:
    for name in ("distributed", "dask", "tornado", "bokeh"):
        logging.getLogger(name).setLevel(logging.ERROR)


def check_dashboard(dashboard: str | None, backend: str) -> None:
    """Refuse ``--dashboard`` without Dask or without bokeh, before any work.

    Dask's dashboard is a bokeh application: without bokeh the scheduler starts without it and
    only logs a warning, which a user asking for the dashboard must not miss.
    """
    if dashboard is None:
        return
    if backend != "dask":
        raise InputError("--dashboard needs --backend dask", path="--dashboard")
    from importlib.util import find_spec

    if find_spec("bokeh") is None:
        raise InputError(
            "the Dask dashboard needs bokeh (pip install 'mcsim[sweep]')", path="--dashboard"
        )


def _dask_backend(
    workers: int | None,
    scheduler: str | None,
    dashboard: str | None = None,
    on_dashboard: Callable[[str], None] | None = None,
) -> _Backend:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover (dask is a declared extra)
        raise InputError(
            "the dask backend needs dask[distributed] (pip install 'mcsim[sweep]')",
            path="--backend",
        ) from None
    _quiet_dask_logs()
    cluster = None
    if scheduler is None:
        # Without a dashboard: none, and the scheduler's bare HTTP server on a free port rather
        # than 8787 (or a warning). With one: bokeh's server at ``dashboard`` (host:port).
        where = (
            {"dashboard_address": dashboard}
            if dashboard is not None
            else {"dashboard_address": None, "scheduler_kwargs": {"dashboard_address": ":0"}}
        )
        cluster = LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            silence_logs=logging.ERROR,
            **where,
        )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler {scheduler!r}: {exc}", path="--scheduler"
            ) from None
    n = sum(client.nthreads().values()) or 1

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    if dashboard is not None and on_dashboard is not None:
        link = client.dashboard_link if _has_dashboard(client) else None
        if link is None:
            close()
            raise InputError("the Dask scheduler serves no dashboard", path="--dashboard")
        on_dashboard(link)

    return _Backend(client.get_executor(pure=False), n, close)


def _has_dashboard(client: Any) -> bool:
    """Whether the client's scheduler serves a bokeh dashboard (its services name it)."""
    try:
        info = client.scheduler_info()
    except (OSError, TimeoutError):  # pragma: no cover (a scheduler lost while asking)
        return False
    return "dashboard" in info.get("services", {})


class _Progress:
    """A rich progress bar (runs done, rate, ETA), or nothing."""

    def __init__(self, enabled: bool, name: str, total: int, done: int) -> None:
        self.enabled = enabled
        self._bar: Any = None
        if not enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._start = time.perf_counter()
        self._done0 = done
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs  {task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            transient=False,
        )
        self._task = self._bar.add_task(name, total=total, completed=done, rate="– runs/s")
        self._bar.start()

    def advance(self, n: int) -> None:
        if self._bar is None:
            return
        completed = self._bar.tasks[0].completed + n
        elapsed = time.perf_counter() - self._start
        rate = (completed - self._done0) / elapsed if elapsed > 0 else 0.0
        self._bar.update(self._task, completed=completed, rate=f"{rate:.1f} runs/s")

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _batches(plan: Plan, done: set[int], size: int) -> Iterator[list[Run]]:
    batch: list[Run] = []
    for run in plan.runs():
        if run.run_id in done:
            continue
        batch.append(run)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_sweep(
    sweep: Sweep | str | Path,
    out: str | Path,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    batch_size: int | None = None,
    progress: bool = False,
    max_runs: int | None = None,
    dashboard: str | None = None,
    on_dashboard: Callable[[str], None] | None = None,
    posterior: str | Path | None = None,
) -> SweepSummary:
    """Run (or finish, with ``resume``) a sweep into the folder ``out``.

    Args:
        sweep: a validated :class:`Sweep` or the path of a sweep file.
        out: the sweep folder (created if missing).
        workers: worker processes (default: every core); for ``dask`` with a ``scheduler``,
            the cluster's own workers are used.
        backend: ``"local"`` (process pool) or ``"dask"``.
        scheduler: address of a Dask scheduler (``tcp://host:8786``); None = a LocalCluster.
        resume: take up a sweep folder holding part of this sweep; only missing runs run.
        batch_size: runs per task (default: automatic, see :func:`auto_batch_size`).
        progress: show a progress bar on the terminal.
        max_runs: refuse a sweep of more runs (default :data:`mcsim.sweep.spec.MAX_RUNS`).
        dashboard: serve Dask's dashboard (``dask`` backend, bokeh installed) at this
            ``host:port`` of the LocalCluster (port 0: any free one); with a ``scheduler``, its
            own dashboard is used. It lives as long as the sweep runs.
        on_dashboard: called with the dashboard's URL once it is up, before the first run.
        posterior: a calibration folder: replication ``r`` of every cell runs with posterior
            draw ``r``'s parameter values (and seed ``base_seed + r`` as always), stored as
            ``param.<name>`` columns (:mod:`mcsim.uncertainty.posterior`).

    Returns:
        What was done: runs stored before, runs run now, time, workers, batch size.

    Raises:
        InputError: a bad sweep file, option, or an ``out`` folder that cannot take this sweep.
    """
    if backend not in ("local", "dask"):
        raise InputError(f"unknown backend {backend!r}; known: local, dask", path="--backend")
    if scheduler is not None and backend != "dask":
        raise InputError("--scheduler needs --backend dask", path="--scheduler")
    if workers is not None and workers < 1:
        raise InputError("must be at least 1", path="--workers")
    if batch_size is not None and batch_size < 1:
        raise InputError("must be at least 1", path="--batch-size")
    if max_runs is not None and max_runs < 1:
        raise InputError("must be at least 1", path="--max-runs")
    check_dashboard(dashboard, backend)
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep, max_runs=max_runs)
    t0 = time.perf_counter()
    plan = Plan(sweep, max_runs=max_runs)
    plan.validate_cells()
    if posterior is not None:
        _attach_posterior(plan, posterior)
    check_output_folder(out, option="--out")
    try:
        store = SweepStore.open(out, plan.manifest(), resume=resume)
    except OSError as exc:  # a read-only or full file system, /proc/...
        raise _cannot_write(out, exc, "nothing was stored") from None
    try:
        done = store.done_run_ids()
        pending = plan.n_runs - len(done)
        if pending == 0:
            return SweepSummary(
                plan.sweep_id, store.out, plan.n_runs, len(done), 0, 0.0, workers or 0, 0
            )
        be = (
            _local_backend(workers or default_workers())
            if backend == "local"
            else _dask_backend(workers, scheduler, dashboard, on_dashboard)
        )
        try:
            size = batch_size or auto_batch_size(pending, be.workers)
            bar = _Progress(progress, sweep.name, plan.n_runs, len(done))
            t_run = time.perf_counter()
            try:
                ran, busy = _drive(plan, store, be, done, size, bar)
            finally:
                bar.stop()
            t_run = time.perf_counter() - t_run
        finally:
            be.close()
        return SweepSummary(
            plan.sweep_id,
            store.out,
            plan.n_runs,
            len(done),
            ran,
            time.perf_counter() - t0,
            be.workers,
            size,
            t_run,
            busy,
        )
    finally:
        store.close()


def _attach_posterior(plan: Plan, posterior: str | Path) -> None:
    """Draw one parameter set per replication and check the first suits every cell."""
    from mcsim.scenario import parse_scenario
    from mcsim.uncertainty.posterior import draw_parameter_sets, values_for_scenario
    from mcsim.uncertainty.registry import apply_values

    pairs = draw_parameter_sets(posterior, plan.replications, plan.sweep.base_seed)
    plan.attach_posterior(pairs, str(posterior))
    for cell in plan.cells:
        values = values_for_scenario(pairs[0][1], cell.scenario)
        try:
            parse_scenario(apply_values(plan.cell_data(cell), values))
        except InputError as exc:
            raise InputError(
                f"cell {cell.cell_id} with posterior values: {exc.message}",
                file=str(posterior),
                path="--posterior",
            ) from None


def _drive(
    plan: Plan, store: SweepStore, be: _Backend, done: set[int], size: int, bar: _Progress
) -> tuple[int, float]:
    """Submit batches (a bounded number in flight), store each as it finishes.

    Returns:
        (runs stored, worker seconds spent inside tasks).
    """
    sweep = plan.sweep
    payloads: dict[int, CellPayload] = {}

    def payload(cell_id: int) -> CellPayload:
        p = payloads.get(cell_id)
        if p is None:
            cell = plan.cells[cell_id]
            row_factors = {k: _row_value(v, store.factor_types[k]) for k, v in cell.factors.items()}
            p = CellPayload(cell.scenario, row_factors, plan.cell_data(cell))
            payloads[cell_id] = p
            if len(payloads) > 4 * _SCENARIO_CACHE_SIZE:
                payloads.pop(next(iter(payloads)))
        return p

    def task(batch: list[Run]) -> BatchTask:
        cells = {r.cell_id: payload(r.cell_id) for r in batch}
        return BatchTask(
            plan.sweep_id,
            [(r.run_id, r.cell_id, r.replication, r.seed) for r in batch],
            cells,
            sweep.imports,
            sweep.import_paths,
            sweep.store_patients,
            {r.replication: plan.parameter_sets[r.replication] for r in batch}
            if plan.parameter_sets
            else {},
        )

    batches = _batches(plan, done, size)
    window = max(1, be.workers * IN_FLIGHT_PER_WORKER)
    in_flight: set[Future] = set()
    ran, busy = 0, 0.0
    try:
        for batch in batches:
            in_flight.add(be.executor.submit(run_batch, task(batch)))
            if len(in_flight) >= window:
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                n, b = _store(finished, store, bar)
                ran, busy = ran + n, busy + b
        while in_flight:
            finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            n, b = _store(finished, store, bar)
            ran, busy = ran + n, busy + b
    except BaseException:
        for f in in_flight:
            f.cancel()
        raise
    return ran, busy


def _cannot_write(out: str | Path, exc: OSError, kept: str) -> InputError:
    from mcsim.safeio import os_reason

    return InputError(f"cannot write: {os_reason(exc)}; {kept}", file=str(out), path="--out")


def _store(finished: set[Future], store: SweepStore, bar: _Progress) -> tuple[int, float]:
    n, busy = 0, 0.0
    for f in finished:
        res: BatchResult = f.result()
        try:
            store.write_batch(res.rows, res.patients)
        except OSError as exc:  # the disk filled up during the sweep
            kept = "the runs stored so far are kept: free some space and finish with --resume"
            raise _cannot_write(store.out, exc, kept) from None
        n += len(res.rows)
        busy += res.seconds
        bar.advance(len(res.rows))
    return n, busy
