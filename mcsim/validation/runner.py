"""Replaying the historical scenarios over replications and setting the model beside the record.

Each record file's scenario runs with seeds ``0..N-1`` and its own policies; every figure is
computed per replication (:mod:`mcsim.validation.figures`) and summarised as the median and
the 90 % interval (5th-95th percentile) over the replications, with the band's pass or fail.
Replications run on a stdlib process pool (``workers`` processes, default every core, as
:mod:`mcsim.sweep.execute` does) or, with ``workers=1``, in this process. Results are put
back in task order, so the same seeds give the same report whatever the number of workers.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import BaseModel

from mcsim.validation.figures import FigureKind, FigureName, compute_figures, figure_key
from mcsim.validation.record import FigureRecord, LoadedRecord

#: Replications per scenario when none is given (``mcsim validation --seeds``).
DEFAULT_SEEDS = 10
#: The interval shown beside the median: 5th to 95th percentile.
INTERVAL_PERCENTILES = (5.0, 95.0)


class CheckStatus(StrEnum):
    """The verdict on one figure."""

    PASS = "pass"  # the model's median (or modal hospital) lies in the band
    FAIL = "fail"  # it does not, or the model never gives the figure
    RECORD_ONLY = "record only"  # no band: shown beside the model, not checked


class FigureResult(BaseModel):
    """One figure: the record, the model over the replications and the verdict.

    Attributes:
        figure: the figure's name.
        hospital: its hospital, for per-hospital figures.
        record: the published value (number, [low, high], hospital id(s) or null).
        band: the band checked, or null.
        source: the source keys of the record.
        note: the record file's note.
        n: replications in which the model gives the figure.
        median: the median over those replications (numeric figures).
        low: their 5th percentile.
        high: their 95th percentile.
        modal: the hospital most often largest (``largest_hospital``).
        modal_share: the share of replications in which ``modal`` is largest.
        values: the figure in each replication, in seed order (None where undefined).
        status: the verdict.
    """

    figure: FigureName
    hospital: str | None = None
    record: Any = None
    band: Any = None
    source: str
    note: str | None = None
    n: int
    median: float | None = None
    low: float | None = None
    high: float | None = None
    modal: str | None = None
    modal_share: float | None = None
    values: list[Any]
    status: CheckStatus


class IncidentResult(BaseModel):
    """Every figure of one historical incident.

    Attributes:
        scenario: the scenario's stem.
        incident: the incident's name.
        record_file: the record file's name (in ``scenarios/records``).
        policies: the policies the scenario ran with, by kind.
        seeds: the seeds of the replications.
        sources: key → citation, as in the record file.
        figures: one result per figure of the record file, in its order.
    """

    scenario: str
    incident: str
    record_file: str
    policies: dict[str, str]
    seeds: list[int]
    sources: dict[str, str]
    figures: list[FigureResult]

    @property
    def checks(self) -> int:
        """Figures with a band."""
        return sum(f.status is not CheckStatus.RECORD_ONLY for f in self.figures)

    @property
    def passed(self) -> int:
        """Figures whose band holds the model."""
        return sum(f.status is CheckStatus.PASS for f in self.figures)


class ValidationReport(BaseModel):
    """The model beside the record for every historical incident.

    Attributes:
        schema_version: version of this report's JSON layout.
        seeds: replications per scenario (seeds 0..seeds-1).
        checks: figures with a band, over all incidents.
        passed: those that pass.
        incidents: one result per record file.
    """

    schema_version: int = 1
    seeds: int
    checks: int
    passed: int
    incidents: list[IncidentResult]

    def summary(self) -> str:
        """One line: how many checks pass."""
        n = len(self.incidents)
        return (
            f"{self.passed} of {self.checks} checks pass ({n} historical scenario"
            f"{'s' if n != 1 else ''}, {self.seeds} seed{'s' if self.seeds != 1 else ''} each)"
        )


@lru_cache(maxsize=8)
def _scenario(path: str) -> Any:
    from mcsim.scenario import load_scenario

    return load_scenario(path)


def replicate(task: tuple[str, int]) -> tuple[dict[str, Any], dict[str, str]]:
    """Run one scenario with one seed: every figure of the run, and the policies used.

    Args:
        task: ``(scenario file, seed)``.
    """
    path, seed = task
    return scenario_figures(_scenario(path), seed)


def scenario_figures(sc: Any, seed: int) -> tuple[dict[str, Any], dict[str, str]]:
    """Run a :class:`~mcsim.scenario.Scenario` once: every figure of the run, and its policies.

    Calibration (:mod:`mcsim.uncertainty.calibrate`) calls this on scenarios with parameter
    values applied, so that the figures it fits are exactly those this report shows.
    """
    from mcsim.simulate import simulate

    result = simulate(sc, seed)
    hospitals = [h.id for h in sc.hospitals]
    onsets = {inc.id: float(inc.onset_min) for inc in sc.incidents}
    return compute_figures(result.patients, result.metrics, hospitals, onsets), dict(
        result.policies
    )


def _ignore_sigint() -> None:
    # Ctrl-C is the main process's business; workers just stop with the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def map_in_order(fn: Callable[[Any], Any], tasks: Sequence[Any], workers: int | None) -> list:
    """``[fn(t) for t in tasks]``, on a process pool unless ``workers`` is 1 (order kept)."""
    from mcsim.parallel import default_workers, process_pool

    n = min(workers or default_workers(), len(tasks))
    if n <= 1:
        return [fn(t) for t in tasks]
    # forkserver where it exists (clean workers with mcsim preloaded, as sweeps do), else spawn
    with process_pool(n, initializer=_ignore_sigint, preload=["mcsim.validation.runner"]) as pool:
        return list(pool.map(fn, tasks, chunksize=1))


def _in_band(value: float, band: tuple[float, float]) -> bool:
    return band[0] <= value <= band[1]


def summarise(fig: FigureRecord, values: Iterable[Any]) -> FigureResult:
    """The model's summary of one figure over the replications, and the band's verdict."""
    values = list(values)
    known = [v for v in values if v is not None]
    out: dict[str, Any] = {
        "figure": fig.figure,
        "hospital": fig.hospital,
        "record": list(fig.record) if isinstance(fig.record, tuple) else fig.record,
        "band": list(fig.band) if isinstance(fig.band, tuple) else fig.band,
        "source": fig.source,
        "note": fig.note,
        "n": len(known),
        "values": values,
    }
    passed = False
    if fig.figure.kind is FigureKind.HOSPITAL:
        if known:
            # The modal hospital; ties go to the one that first was largest (seed order).
            counts = Counter(known)
            top = max(counts.values())
            out["modal"] = next(v for v in known if counts[v] == top)
            out["modal_share"] = top / len(values)
            passed = fig.band is not None and out["modal"] in fig.band
    elif known:
        x = np.asarray(known, dtype=float)
        lo, med, hi = np.percentile(x, [INTERVAL_PERCENTILES[0], 50.0, INTERVAL_PERCENTILES[1]])
        out.update(median=float(med), low=float(lo), high=float(hi))
        passed = fig.band is not None and _in_band(float(med), fig.band)
    if fig.band is None:
        out["status"] = CheckStatus.RECORD_ONLY
    else:
        out["status"] = CheckStatus.PASS if passed else CheckStatus.FAIL
    return FigureResult(**out)


def run_validation(
    records: Sequence[LoadedRecord], seeds: int = DEFAULT_SEEDS, workers: int | None = None
) -> ValidationReport:
    """Replay every record's scenario over ``seeds`` replications and check its figures.

    Args:
        records: the loaded record files (:func:`~mcsim.validation.record.load_records`).
        seeds: replications per scenario, seeds ``0..seeds-1``.
        workers: processes (default: every core; 1 runs in this process).

    Returns:
        The report: per incident and figure, the record, the model and the verdict.
    """
    if seeds < 1:
        raise ValueError("seeds must be at least 1")
    tasks = [(str(r.scenario_path), s) for r in records for s in range(seeds)]
    outputs = map_in_order(replicate, tasks, workers)
    incidents = []
    for i, rec in enumerate(records):
        runs = outputs[i * seeds : (i + 1) * seeds]
        figures = [
            summarise(fig, (values[figure_key(fig.figure, fig.hospital)] for values, _ in runs))
            for fig in rec.record.figures
        ]
        incidents.append(
            IncidentResult(
                scenario=rec.record.scenario,
                incident=rec.record.incident,
                record_file=rec.path.name,
                policies=runs[0][1],
                seeds=list(range(seeds)),
                sources=dict(rec.record.sources),
                figures=figures,
            )
        )
    return ValidationReport(
        seeds=seeds,
        checks=sum(inc.checks for inc in incidents),
        passed=sum(inc.passed for inc in incidents),
        incidents=incidents,
    )
