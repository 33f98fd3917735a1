"""``mcsim calibrate``: fit uncertain parameters to real incidents with ABC-SMC (pyabc).

Why pyabc: the model has no likelihood (a discrete-event simulation of hundreds of patients),
its figures are noisy, and the parameters number a handful; approximate Bayesian computation
with sequential Monte Carlo (Toni et al. 2009, Beaumont et al. 2009) gives a weighted sample
of the posterior from simulations alone, and pyabc is a maintained implementation that
stores every population in a database (which is what makes a calibration resumable) and runs
on Dask. docs/howto-uncertainty.md ("Calibration") says how to read the output.

How a calibration runs (every step decided by the seed, see :mod:`.sampler`):

1. Population 0 is drawn from the prior and accepted whole (threshold infinite); population
   ``t > 0`` is proposed by perturbing population ``t - 1`` (pyabc's multivariate normal
   kernel) and accepted below the weighted median of ``t - 1``'s distances (pyabc's
   ``QuantileEpsilon``); the distance is :class:`~.abc_model.StandardisedDistance`.
2. Each population is one call of pyabc's ``run`` on an ABCSMC object loaded afresh from the
   database, with numpy's global generator seeded from ``(seed, t)``. An uninterrupted
   calibration therefore takes the very path a resumed one takes: after ``kill -9`` the
   population in progress is lost (the database keeps whole populations only) and
   ``--resume`` samples it again from the same seeds, giving the same result.
3. It stops after ``budget.populations``, once the threshold is at or below
   ``budget.min_epsilon``, or when the next population would pass ``budget.max_runs``
   evaluations (that population is dropped, the previous one is the posterior).
4. The output (:mod:`.calibration_report`): ``posterior.parquet``, ``populations.csv``,
   ``ppc.csv`` and ``report.html`` with its PNGs, beside pyabc's ``abc.db`` and the
   ``calibration.json`` manifest.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mcsim.errors import InputError
from mcsim.uncertainty.calibration_file import Calibration
from mcsim.uncertainty.registry import Prior, PriorKind

DB_NAME = "abc.db"
MANIFEST = "calibration.json"
POSTERIOR = "posterior.parquet"
POPULATIONS = "populations.csv"
PPC = "ppc.csv"
REPORT = "report.html"
#: The weight column of ``posterior.parquet`` (every other column is a parameter).
WEIGHT = "weight"
MANIFEST_VERSION = 1


class Backend(StrEnum):
    """Where the evaluations run."""

    LOCAL = "local"  # a process pool (or this process, with one worker)
    DASK = "dask"  # a Dask distributed client


class StopReason(StrEnum):
    """Why the calibration ended."""

    POPULATIONS = "populations"  # budget.populations reached
    EPSILON = "min_epsilon"  # the threshold reached budget.min_epsilon
    MAX_RUNS = "max_runs"  # the run budget would have been exceeded


@dataclass
class CalibrationResult:
    """What a calibration produced.

    Attributes:
        out: the output folder.
        populations: populations in the database.
        evaluations: parameter sets evaluated (counted as pyabc does, up to each population's
            last acceptance).
        stopped: why it ended.
        seconds: wall time of this call.
        simulation_seconds: time spent inside the model's evaluations (summed over workers).
        ran_populations: populations sampled by this call (0: all were in the database).
        posterior: the last population: one column per parameter and ``weight``.
        written: the output files.
    """

    out: Path
    populations: int
    evaluations: int
    stopped: StopReason
    seconds: float
    simulation_seconds: float
    ran_populations: int
    posterior: pd.DataFrame
    written: list[Path] = field(default_factory=list)


def output_paths(out: Path) -> list[Path]:
    """Every file a calibration writes into ``out`` (the PNGs of the report included)."""
    from mcsim.uncertainty.calibration_report import PNG_NAMES

    names = [DB_NAME, MANIFEST, POSTERIOR, POPULATIONS, PPC, "summary.csv", REPORT, *PNG_NAMES]
    return [out / n for n in names]


def pyabc_prior(prior: Prior) -> Any:
    """The pyabc random variable of one of our priors (same support and shape)."""
    import pyabc

    if prior.kind is PriorKind.UNIFORM:
        return pyabc.RV("uniform", prior.low, prior.high - prior.low)
    if prior.kind is PriorKind.LOGUNIFORM:
        return pyabc.RV("loguniform", prior.low, prior.high)
    a = (prior.low - prior.mu) / prior.sigma  # type: ignore[operator]
    b = (prior.high - prior.mu) / prior.sigma  # type: ignore[operator]
    return pyabc.RV("truncnorm", a, b, loc=prior.mu, scale=prior.sigma)


def _epsilon() -> Any:
    """Pyabc's weighted-median threshold, infinite for population 0 (the prior, whole).

    pyabc's ``QuantileEpsilon`` with a numeric initial threshold would apply that number again
    to the first population of every resumed run; with ``from_sample`` it would spend a whole
    population of runs on a calibration sample. This one takes the quantile of the previous
    population whenever there is one, from the database on a resume.
    """
    from pyabc.epsilon import QuantileEpsilon

    class PriorFirstQuantileEpsilon(QuantileEpsilon):
        def requires_calibration(self) -> bool:
            return False

        def initialize(self, t, get_weighted_distances, get_all_records, max_nr_populations,
                       acceptor_config):  # fmt: skip
            if t == 0:
                self._look_up = {0: np.inf}
            else:
                self._update(t, get_weighted_distances())

    return PriorFirstQuantileEpsilon(alpha=0.5, weighted=True)


def _abc(cal: Calibration, sampler: Any) -> Any:
    import pyabc

    from mcsim.uncertainty.abc_model import IncidentsModel, StandardisedDistance

    model = IncidentsModel(
        cal.incidents, cal.observed, cal.parameters, cal.budget.seeds_per_evaluation
    )
    prior = pyabc.Distribution(**{p.name: pyabc_prior(p.prior) for p in cal.parameters})
    return pyabc.ABCSMC(
        model,
        prior,
        StandardisedDistance(cal.observed),
        population_size=cal.budget.population_size,
        sampler=sampler,
        eps=_epsilon(),
    )


def _db_url(out: Path) -> str:
    return "sqlite:///" + str((out / DB_NAME).resolve())


def _read_manifest(out: Path) -> dict[str, Any] | None:
    from mcsim.safeio import read_json

    p = out / MANIFEST
    if not p.exists():
        return None
    data = read_json(p, what="calibration manifest")
    if not isinstance(data, dict) or data.get("manifest_version") != MANIFEST_VERSION:
        raise InputError("not a calibration manifest of this mcsim", file=str(p))
    return data


def _write_manifest(out: Path, cal: Calibration, seed: int, status: str) -> None:
    import json

    from mcsim import __version__
    from mcsim.safeio import write_file

    data = {
        "manifest_version": MANIFEST_VERSION,
        "name": cal.name,
        "calibration_file": cal.file,
        "digest": cal.digest(),
        "seed": seed,
        "batch_size": cal.budget.batch_size,
        "parameters": cal.parameter_names,
        "observed": [o.key for o in cal.observed],
        "status": status,
        "mcsim_version": __version__,
    }
    write_file(out / MANIFEST, json.dumps(data, indent=1) + "\n", force=True)


def prepare_output(out: Path, cal: Calibration, seed: int, *, resume: bool, force: bool) -> bool:
    """Check ``out`` before any work; True if an existing calibration is to be continued.

    Raises:
        InputError: ``out`` holds a calibration and neither ``--resume`` nor ``--force`` was
            given, or ``--resume`` meets a calibration of another file or seed.
    """
    from mcsim.safeio import check_output_folder, check_outputs

    check_output_folder(out)
    manifest = _read_manifest(out) if out.is_dir() else None
    if manifest is not None and resume:
        if manifest.get("digest") != cal.digest() or manifest.get("seed") != seed:
            raise InputError(
                "holds a calibration of another file, scenario data or seed: --resume continues "
                "only the same one (use another --out, or --force to start over)",
                file=str(out),
                path="--resume",
            )
        return True
    if not force:
        existing = [p for p in output_paths(out) if p.exists()]
        if existing and not resume:
            raise InputError(
                "already holds a calibration: add --resume to continue it or --force to start over",
                file=str(out),
                path="--out",
            )
        check_outputs(output_paths(out), force=False)
    for p in output_paths(out):
        if p.exists() and p.is_file():
            p.unlink()
    for suffix in ("-journal", "-wal", "-shm"):
        (out / (DB_NAME + suffix)).unlink(missing_ok=True)
    return False


def _executor(backend: Backend, workers: int, scheduler: str | None) -> tuple[Any, int, Callable]:
    """(executor or None, workers, close)."""
    if backend is Backend.DASK:
        from mcsim.sweep.execute import _dask_backend  # the sweeps' Dask set-up, shared

        b = _dask_backend(workers, scheduler)
        return b.executor, b.workers, b.close
    if workers <= 1:
        return None, 1, lambda: None
    import os

    from mcsim.parallel import process_pool
    from mcsim.sweep.execute import _worker_init  # workers leave when a kill -9 ends us

    pool = process_pool(
        workers,
        initializer=_worker_init,
        initargs=(os.getpid(),),
        preload=["mcsim.uncertainty.sampler", "mcsim.validation"],
    )
    return pool, workers, lambda: pool.shutdown(wait=True, cancel_futures=True)


def _history(out: Path) -> Any | None:
    """Pyabc's history of the calibration in ``out``, or None when nothing was stored yet."""
    from pyabc import History

    if not (out / DB_NAME).is_file():
        return None
    h = History(_db_url(out))
    h.id = 1
    try:
        h.max_t  # noqa: B018 (a database killed while being created has no run 1)
    except Exception:  # noqa: BLE001 (sqlalchemy's errors: an empty or partial database)
        return None
    return h


def _stop_reason(cal: Calibration, h: Any) -> StopReason | None:
    b = cal.budget
    n = h.n_populations
    if n >= b.populations:
        return StopReason.POPULATIONS
    if n > 0:
        eps = float(h.get_all_populations().query("t == @n - 1")["epsilon"].iloc[0])
        if eps <= b.min_epsilon:
            return StopReason.EPSILON
    if h.total_nr_simulations >= b.max_runs:
        return StopReason.MAX_RUNS
    return None


def posterior_frame(h: Any, names: list[str], t: int | None = None) -> pd.DataFrame:
    """Population ``t`` (default: the last) as one column per parameter plus ``weight``.

    Rows are sorted by the parameter values, so that the file does not depend on the order
    in which the database returns particles.
    """
    df, w = h.get_distribution(m=0, t=t)
    out = pd.DataFrame({n: df[n].to_numpy(float) for n in names})
    out[WEIGHT] = np.asarray(w, dtype=float) / float(np.sum(w))
    return out.sort_values(names, kind="mergesort").reset_index(drop=True)


def calibrate(
    cal: Calibration,
    out: str | Path,
    *,
    workers: int = 1,
    backend: str | Backend = Backend.LOCAL,
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CalibrationResult:
    """Run (or continue) a calibration and write its output into ``out``.

    Args:
        cal: the validated calibration file (:func:`~.calibration_file.load_calibration`).
        out: the output folder.
        workers: processes (local) or Dask workers for a LocalCluster; the result does not
            depend on it.
        backend: ``local`` or ``dask``.
        scheduler: a Dask scheduler's address (default: a LocalCluster).
        resume: continue the calibration already in ``out``.
        force: start over, deleting the calibration in ``out``.
        seed: overrides the file's seed.
        progress: called as ``progress(done, total)`` with accepted particles over all
            populations.

    Raises:
        InputError: bad options or output folder (before any simulation runs).
    """
    try:
        import pyabc  # noqa: F401
    except ImportError:  # pragma: no cover (a declared extra)
        raise InputError("calibration needs pyabc (pip install 'mcsim[calibrate]')") from None
    from mcsim.uncertainty.calibration_report import write_outputs
    from mcsim.uncertainty.sampler import SeededBatchSampler, batch_seed

    try:
        backend = Backend(backend)
    except ValueError:
        raise InputError(
            f"unknown backend {backend!r}; use local or dask", path="--backend"
        ) from None
    if workers < 1:
        raise InputError("must be at least 1", path="--workers")
    if scheduler is not None and backend is not Backend.DASK:
        raise InputError("--scheduler needs --backend dask", path="--scheduler")
    seed = cal.seed if seed is None else int(seed)
    out = Path(out)
    prepare_output(out, cal, seed, resume=resume, force=force)
    out.mkdir(parents=True, exist_ok=True)
    _write_manifest(out, cal, seed, "running")
    logging.getLogger("ABC").setLevel(logging.WARNING)  # pyabc logs every population at INFO

    n = cal.budget.population_size
    total = cal.budget.populations * n
    start = time.perf_counter()
    executor, workers, close = _executor(backend, workers, scheduler)
    done_before = 0

    def report(t: int, accepted: int, size: int) -> None:
        if progress is not None:
            progress(min(t * n + accepted, total), total)

    sampler = SeededBatchSampler(
        seed, executor, workers=workers, batch_size=cal.budget.batch_size, progress=report
    )
    ran = 0
    try:
        while True:
            h = _history(out)
            abc = _abc(cal, sampler)
            if h is None:
                (out / DB_NAME).unlink(missing_ok=True)
                abc.new(_db_url(out), {o.key: o.value for o in cal.observed})
            else:
                abc.load(_db_url(out), 1)
            h = abc.history
            stop = _stop_reason(cal, h)
            t = h.n_populations
            if ran == 0:
                done_before = t
            if stop is not None:
                break
            sampler.max_evaluations = cal.budget.max_runs - h.total_nr_simulations
            # pyabc's main-process draws (none at present) come from the same seeds too
            np.random.seed(batch_seed(seed, t, -1))
            random.seed(batch_seed(seed, t, -1))
            with np.errstate(invalid="ignore"):  # pyabc subtracts population 0's inf - inf
                abc.run(max_nr_populations=1, minimum_epsilon=cal.budget.min_epsilon)
            if abc.history.n_populations == t:  # the run budget ended the population early
                stop = StopReason.MAX_RUNS
                break
            ran += 1
        if h.n_populations == 0:
            raise InputError(
                f"budget.max_runs {cal.budget.max_runs} is too small for one population of "
                f"{n} particles",
                file=cal.file,
                path="budget.max_runs",
            )
        posterior = posterior_frame(h, cal.parameter_names)
        written = write_outputs(out, cal, h, posterior, seed, executor)
    finally:
        close()
    _write_manifest(out, cal, seed, f"done ({stop.value})")
    return CalibrationResult(
        out=out,
        populations=h.n_populations,
        evaluations=int(h.total_nr_simulations),
        stopped=stop,
        seconds=time.perf_counter() - start,
        simulation_seconds=sampler.simulation_seconds,
        ran_populations=h.n_populations - done_before,
        posterior=posterior,
        written=written,
    )
