"""Replications of one scenario: many draws, the KPIs' intervals, bands over time, paired B − A.

One run of a stochastic simulation is one draw, not the answer. A planner who sees "6 deaths"
needs to know whether another casualty set gives 3 or 12. :func:`run_replications` runs the
scenario once per :class:`Draw` and keeps, per run, the headline metrics and four counts on a
common minute grid (:data:`CHANNELS`: patients waiting at the scene, on the road to a hospital,
in a hospital, and deaths so far). From these:

- :meth:`Replications.interval` gives each KPI's mean with the interval of :mod:`mcsim.stats`
  (a Wilson interval for rates, a Student-t interval otherwise);
- :meth:`Replications.bands` gives, per channel and minute, the median and a 10-90 % band over
  the runs (a spread of outcomes, not a confidence interval of the mean);
- :meth:`Replications.median_index` picks the most typical run, the one the app draws on the
  map (:func:`typical_index`);
- :func:`paired` compares two policy sets replicated on the same draws (common random numbers):
  the per-draw differences B − A, their t interval, and in how many draws B did better.

A draw is a seed plus parameter overrides (scenario field path → value, the paths of
``mcsim run --set``). With no posterior every draw is a bare seed (:func:`seed_draws`, seed
``base + r`` for replication ``r``, as :mod:`mcsim.compare` does); a parameter posterior
(issue 12) supplies one override set per draw (:func:`posterior_draws`) and flows through the
same engine, the same intervals and the same pairing. The runs are
deterministic: the same scenario, policies and draws give the same :class:`Replications`,
whether they run in this process or in a process pool.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mcsim.enums import EventKind, PatientState
from mcsim.errors import InputError
from mcsim.scenario import Scenario
from mcsim.stats import rate_interval, t_interval

#: The counts over time kept per run, in column order of :attr:`Replications.series`.
CHANNELS = ("at_scene", "in_transport", "in_hospital", "deaths")
#: What each channel counts, for chart titles and legends.
CHANNEL_LABELS = {
    "at_scene": "Waiting at the scene",
    "in_transport": "On the way to hospital",
    "in_hospital": "In hospital",
    "deaths": "Deaths so far",
}
#: The band drawn over time: these quantiles of the runs at each minute.
BAND = (0.1, 0.9)

_SCENE, _ROAD, _HOSPITAL, _DEAD, _GONE = range(5)
_STATE_CODE = {
    PatientState.TRAPPED.value: _SCENE,
    PatientState.AWAITING_TRIAGE.value: _SCENE,
    PatientState.AWAITING_TRANSPORT.value: _SCENE,
    PatientState.LOADING.value: _SCENE,
    PatientState.IN_TRANSPORT.value: _ROAD,
    PatientState.SELF_TRANSPORT.value: _ROAD,
    PatientState.AWAITING_CARE.value: _HOSPITAL,
    PatientState.IN_RESUSCITATION.value: _HOSPITAL,
    PatientState.DEFINITIVE_CARE.value: _HOSPITAL,
    PatientState.DEAD.value: _DEAD,
    PatientState.RELEASED.value: _GONE,
}


@dataclass(frozen=True)
class Draw:
    """One replication's inputs: the seed and the parameter overrides it runs with.

    Attributes:
        seed: the run's seed (casualties, service times, every named random stream).
        overrides: scenario field path (``hospitals[0].callin_delay_min``,
            ``incidents[0].self_transport_share``) → value, applied to the scenario before the
            run; empty for a plain seed replication.
    """

    seed: int
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[int, str]:
        """A hashable, order-independent identity (two draws pair iff their keys are equal)."""
        return self.seed, json.dumps(dict(self.overrides), sort_keys=True, default=str)


def seed_draws(seed: int, n: int) -> list[Draw]:
    """``n`` plain-seed draws ``seed, seed + 1, ...`` (the convention of ``mcsim compare``)."""
    if n < 1:
        raise InputError("needs at least 1 replication", path="replications")
    if seed < 0:
        raise InputError("seed must be >= 0", path="seed")
    return [Draw(seed + r) for r in range(n)]


def posterior_draws(seed: int, samples: Sequence[Mapping[str, Any]]) -> list[Draw]:
    """One draw per parameter sample: sample ``r`` runs with seed ``seed + r``.

    ``samples`` are parameter sets (field path → value), e.g. draws from a calibration's
    posterior. Pass the same list for every policy set compared: each sample then meets every
    policy with the same casualties and the same parameters (common random numbers), so the
    paired B − A carries the parameters' uncertainty as well as the seeds'.
    """
    if seed < 0:
        raise InputError("seed must be >= 0", path="seed")
    return as_draws([(seed + r, dict(p)) for r, p in enumerate(samples)])


def as_draws(pairs: Iterable[Draw | int | tuple[int, Mapping[str, Any]]]) -> list[Draw]:
    """Draws from draws, bare seeds or ``(seed, overrides)`` pairs (e.g. posterior samples)."""
    out = []
    for p in pairs:
        if isinstance(p, Draw):
            out.append(p)
        elif isinstance(p, tuple):
            seed, overrides = p
            out.append(Draw(int(seed), dict(overrides)))
        else:
            out.append(Draw(int(p)))
    if not out:
        raise InputError("needs at least 1 replication", path="replications")
    return out


def apply_draw(scenario: Scenario, draw: Draw) -> Scenario:
    """``scenario`` with the draw's overrides applied and validated again (itself if none).

    The values go through :func:`mcsim.scenario.apply_overrides` (as ``--set PATH=VALUE``
    with the value written as JSON, which YAML reads back as the same number, string or list),
    so a draw can set exactly what the command line can, and is refused the same way.

    Raises:
        InputError: an unknown path or a value the schema refuses.
    """
    if not draw.overrides:
        return scenario
    from mcsim.scenario import apply_overrides, parse_scenario

    data = scenario.model_dump(mode="json", by_alias=True)
    items = [f"{path}={json.dumps(value)}" for path, value in draw.overrides.items()]
    return parse_scenario(apply_overrides(data, items, file="draw"), file="draw")


def time_grid(scenario: Scenario, step_min: float = 1.0) -> np.ndarray:
    """The minutes every run's series is read at: 0 to the scenario's horizon, every step."""
    n = int(math.floor(scenario.duration_min / step_min + 1e-9)) + 1
    return step_min * np.arange(n, dtype=float)


def state_series(events: pd.DataFrame, grid: np.ndarray) -> np.ndarray:
    """Patients per :data:`CHANNELS` at each minute of ``grid`` (changes at a minute included).

    A patient is where the last of their log rows put them: at the scene (trapped, awaiting
    triage or transport, loading), on the road (in an ambulance or on their own), in a hospital
    (queueing, in resuscitation, in definitive care, until an ED discharge), dead, or gone
    (released on scene, discharged). Rows that say nothing about the patient's place (a state
    not listed, e.g. a vehicle's) change nothing.

    Returns:
        An int array of shape ``(len(grid), len(CHANNELS))``.
    """
    grid = np.asarray(grid, float)
    rows = events[events["patient"] >= 0]
    kinds = rows["kind"].astype(str).to_numpy()
    codes = np.array([_STATE_CODE.get(s, -1) for s in rows["state"].astype(str)], dtype=int)
    codes[kinds == EventKind.ED_DISCHARGE.value] = _GONE
    keep = codes >= 0
    pid = rows["patient"].to_numpy(int)[keep]
    times = rows["time_min"].to_numpy(float)[keep]
    codes = codes[keep]
    out = np.zeros((len(grid), len(CHANNELS)), dtype=int)
    if not len(codes):
        return out
    # log order within each patient (a stable sort keeps ties in the order they happened)
    order = np.lexsort((np.arange(len(pid)), pid))
    pid, times, codes = pid[order], times[order], codes[order]
    first = np.r_[True, pid[1:] != pid[:-1]]
    prev = np.r_[-1, codes[:-1]]
    prev[first] = -1
    changed = codes != prev
    for c in range(len(CHANNELS)):
        came = np.sort(times[changed & (codes == c)])
        left = np.sort(times[changed & (prev == c)])
        out[:, c] = np.searchsorted(came, grid, side="right") - np.searchsorted(
            left, grid, side="right"
        )
    return out


@dataclass(frozen=True)
class RunSummary:
    """What a replication keeps of its run: the headline metrics and the channel series."""

    draw: Draw
    metrics: dict[str, float]
    series: np.ndarray


def summarize_run(result: Any, draw: Draw, metrics: Sequence[str], grid: np.ndarray) -> RunSummary:
    """The :class:`RunSummary` of a finished run (a :class:`~mcsim.records.RunResult`)."""
    values = {}
    for m in metrics:
        v = result.metrics.get(m)
        if isinstance(v, dict):
            raise InputError(f"metric {m!r} is not a single number", path="metrics")
        values[m] = math.nan if v is None else float(v)
    return RunSummary(draw, values, state_series(result.events, grid))


def typical_index(values: np.ndarray) -> int:
    """The row of ``values`` (runs × metrics) closest to the per-metric medians.

    Each metric's distance is ``|x - median| / spread``, the spread being the interquartile
    range (or, where that is 0, the range), so that minutes and percentages weigh alike; a
    metric with no spread or undefined in some run (NaN) is left out of the sum for that run
    only when undefined, and altogether when constant. Ties go to the earlier run. With one
    metric and an odd number of runs this is the median run itself.
    """
    x = np.asarray(values, float)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError("needs a runs × metrics array with at least one run")
    total = np.zeros(x.shape[0])
    for j in range(x.shape[1]):
        col = x[:, j]
        ok = np.isfinite(col)
        if ok.sum() < 2:
            continue
        q1, med, q3 = np.quantile(col[ok], [0.25, 0.5, 0.75])
        spread = q3 - q1 or float(col[ok].max() - col[ok].min())
        if spread == 0:
            continue
        d = np.abs(col - med) / spread
        # undefined for this run: as far as the farthest defined run, so it is not "typical"
        total += np.where(ok, d, np.nanmax(d[ok]))
    return int(np.argmin(total))


@dataclass
class Replications:
    """The runs of one scenario and policy set over a list of draws.

    Attributes:
        draws: the draws, in run order.
        policies: the policy names the runs used (triage, dispatch, destination).
        metric_names: the headline metrics kept, column order of :attr:`values`.
        values: runs × metrics (NaN where undefined, e.g. nobody critical).
        grid: the minutes of the series.
        series: runs × minutes × :data:`CHANNELS`.
    """

    draws: list[Draw]
    policies: dict[str, str]
    metric_names: tuple[str, ...]
    values: np.ndarray
    grid: np.ndarray
    series: np.ndarray

    @property
    def n(self) -> int:
        """How many runs."""
        return len(self.draws)

    def frame(self) -> pd.DataFrame:
        """One row per run: ``replication``, ``seed``, ``overrides`` (JSON), the metrics."""
        df = pd.DataFrame(self.values, columns=list(self.metric_names))
        df.insert(0, "overrides", [d.key()[1] for d in self.draws])
        df.insert(0, "seed", [d.seed for d in self.draws])
        df.insert(0, "replication", range(self.n))
        return df

    def metric(self, name: str) -> np.ndarray:
        """One metric over the runs."""
        return self.values[:, self.metric_names.index(name)]

    def interval(self, name: str, level: float = 0.95) -> tuple[int, float, float, float, float]:
        """``(n, mean, sd, low, high)`` of a metric over the runs (:mod:`mcsim.stats`).

        A rate (:func:`mcsim.stats.is_rate`, or a share in the metric registry) gets the Wilson
        interval that stays inside [0, 1]; anything else the Student-t interval.
        """
        x = self.metric(name)
        return (rate_interval if _is_rate(name) else t_interval)(x, level)

    def median_index(self, metrics: Sequence[str] | None = None) -> int:
        """The most typical run (:func:`typical_index`) on ``metrics`` (default: all kept)."""
        names = list(self.metric_names if metrics is None else metrics)
        cols = [self.metric_names.index(m) for m in names]
        return typical_index(self.values[:, cols])

    def bands(self, low: float = BAND[0], high: float = BAND[1]) -> np.ndarray:
        """Per minute and channel: the ``low`` quantile, the median and the ``high`` quantile.

        Returns:
            An array of shape ``(3, len(grid), len(CHANNELS))`` (low, median, high).
        """
        if not 0.0 <= low <= 0.5 <= high <= 1.0:
            raise ValueError("needs 0 <= low <= 0.5 <= high <= 1")
        return np.quantile(self.series.astype(float), [low, 0.5, high], axis=0)

    def band_frame(self, channel: str) -> pd.DataFrame:
        """One channel's band as a table: ``low``, ``median``, ``high`` indexed by minute."""
        c = CHANNELS.index(channel)
        b = self.bands()
        return pd.DataFrame(
            {"low": b[0, :, c], "median": b[1, :, c], "high": b[2, :, c]},
            index=pd.Index(self.grid, name="time_min"),
        )


def _is_rate(name: str) -> bool:
    from mcsim.metrics import MetricKind, get_metric
    from mcsim.stats import is_rate

    try:
        return get_metric(name).kind is MetricKind.SHARE or is_rate(name)
    except KeyError:
        return is_rate(name)


def run_replications(
    scenario: Scenario,
    draws: Sequence[Draw | int | tuple[int, Mapping[str, Any]]],
    *,
    triage: str | None = None,
    dispatch: str | None = None,
    destination: str | None = None,
    metrics: Sequence[str] | None = None,
    step_min: float = 1.0,
    workers: int = 1,
    known: Mapping[int, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Replications:
    """Run ``scenario`` once per draw with the given policies and summarise every run.

    Args:
        scenario: the validated scenario (set-up already applied).
        draws: :class:`Draw` objects, bare seeds or ``(seed, overrides)`` pairs.
        triage: triage policy name (None keeps the scenario's).
        dispatch: dispatch policy name, likewise.
        destination: destination policy name, likewise.
        metrics: single-number metrics to keep (default: the headline metrics).
        step_min: the series' time step.
        workers: processes to run on (1: this process; see :mod:`mcsim.parallel`); the result
            does not depend on it.
        known: runs already done, by draw index (a :class:`~mcsim.records.RunResult` each,
            e.g. the first seed the app has just shown): summarised, not run again.
        progress: called as ``progress(done, total)`` after each run.
        should_stop: polled before each run; True abandons the replications
            (:class:`Stopped`).

    Raises:
        InputError: a bad draw, policy or metric.
        Stopped: ``should_stop`` said so.
    """
    from mcsim.metrics import headline_names

    ds = as_draws(draws)
    names = tuple(headline_names() if metrics is None else metrics)
    if workers < 1:
        raise InputError("must be at least 1", path="workers")
    policies = {"triage": triage, "dispatch": dispatch, "destination": destination}
    grid = time_grid(scenario, step_min)
    known = dict(known or {})
    todo = [i for i in range(len(ds)) if i not in known]
    summaries: dict[int, RunSummary] = {
        i: summarize_run(res, ds[i], names, grid) for i, res in known.items()
    }
    used: dict[str, str] | None = None
    for res in known.values():
        used = dict(res.policies)
    done = len(summaries)
    if progress is not None and done:
        progress(done, len(ds))
    for i, summary, pol in _run_all(
        scenario, ds, todo, policies, names, grid, workers, should_stop
    ):
        summaries[i] = summary
        used = pol
        done += 1
        if progress is not None:
            progress(done, len(ds))
    order = range(len(ds))
    return Replications(
        draws=ds,
        policies=used or {},
        metric_names=names,
        values=np.array([[summaries[i].metrics[m] for m in names] for i in order], float),
        grid=grid,
        series=np.stack([summaries[i].series for i in order]),
    )


class Stopped(Exception):
    """Replications abandoned because ``should_stop`` said so (a newer request superseded)."""


def _one(
    scenario: Scenario,
    draw: Draw,
    policies: dict[str, str | None],
    names: Sequence[str],
    grid: np.ndarray,
) -> tuple[RunSummary, dict[str, str]]:
    from mcsim.model import MCIModel

    model = MCIModel(apply_draw(scenario, draw), draw.seed, **policies)
    model.run()
    result = model.result()
    return summarize_run(result, draw, names, grid), dict(result.policies)


def _run_all(
    scenario: Scenario,
    ds: list[Draw],
    todo: list[int],
    policies: dict[str, str | None],
    names: Sequence[str],
    grid: np.ndarray,
    workers: int,
    should_stop: Callable[[], bool] | None,
) -> Iterator[tuple[int, RunSummary, dict[str, str]]]:
    """``(index, summary, policies)`` of each draw to run, in draw order."""

    def check() -> None:
        if should_stop is not None and should_stop():
            raise Stopped()

    if workers == 1 or len(todo) <= 1:
        for i in todo:
            check()
            yield (i, *_one(scenario, ds[i], policies, names, grid))
        return
    from mcsim.parallel import process_pool

    with process_pool(min(workers, len(todo)), preload=["mcsim"]) as pool:
        futures = [pool.submit(_one, scenario, ds[i], policies, names, grid) for i in todo]
        try:
            for i, f in zip(todo, futures, strict=True):  # in order, whichever worker was quick
                check()
                yield (i, *f.result())
        except BaseException:
            for f in futures:
                f.cancel()
            raise


@dataclass(frozen=True)
class PairedDifference:
    """B − A on one metric over draws both ran (common random numbers).

    Attributes:
        metric: the metric's name.
        n: pairs where both runs define the metric.
        mean, low, high: the mean difference and its t interval (NaN with fewer than 2 pairs).
        b_better: pairs where B did better (by the metric's direction); 0 if it has none.
        ties: pairs where both are equal.
        better: ``"lower"``, ``"higher"`` or ``"neither"``.
        level: the interval's confidence level.
    """

    metric: str
    n: int
    mean: float
    low: float
    high: float
    b_better: int
    ties: int
    better: str
    level: float

    @property
    def clear(self) -> bool:
        """Whether the interval excludes 0 (a winner may be named); False within noise."""
        return (
            self.n >= 2
            and self.better != "neither"
            and math.isfinite(self.low)
            and math.isfinite(self.high)
            and (self.low > 0 or self.high < 0)
        )

    @property
    def winner(self) -> str:
        """``"A"``, ``"B"``, or ``""`` when the difference is within noise or has no direction."""
        if not self.clear:
            return ""
        b_lower = self.high < 0
        return "B" if b_lower == (self.better == "lower") else "A"


def paired(a: Replications, b: Replications, metric: str, level: float = 0.95) -> PairedDifference:
    """The paired difference B − A on ``metric`` (see :class:`PairedDifference`).

    Raises:
        ValueError: A and B did not run on the same draws, so their runs do not pair.
    """
    from mcsim.metrics import get_metric

    if [d.key() for d in a.draws] != [d.key() for d in b.draws]:
        raise ValueError("A and B ran on different draws: their runs do not pair")
    try:
        better = get_metric(metric).better
    except KeyError:
        better = "neither"
    d = b.metric(metric) - a.metric(metric)
    d = d[np.isfinite(d)]
    n, mean, _, lo, hi = t_interval(d, level)
    if better == "lower":
        wins = int((d < 0).sum())
    elif better == "higher":
        wins = int((d > 0).sum())
    else:
        wins = 0
    return PairedDifference(metric, n, mean, lo, hi, wins, int((d == 0).sum()), better, level)
