"""Key performance indicators, as pure functions of a run's records, in a registry.

Metrics read the event log and the patients table (plus static facts about the resources),
never live agents, so they can be recomputed from Parquet files years later. Definitions follow
SCIENCE.md §5 (Frykberg 1988 for critical mortality and over/under-triage). All times are
minutes from the onset of the patient's incident. Values that are undefined (no critical
casualty, nobody reached a hospital) are ``None`` in the JSON object.

Deaths split as ``deaths = immediate_deaths + deaths_prehospital + deaths_in_hospital``:
killed outright, died at the scene or on the way, died at a hospital. ``deaths`` counts the
deaths recorded by the horizon (and those already decided by care); patients still waiting at
the horizon are ``unresolved``, and ``expected_deaths`` adds their risk, so that a change that
leaves more patients waiting cannot look better.

Every metric is a function ``(records) -> value`` registered with :func:`metric` (STYLE.md §8,
as policies are); :func:`compute_metrics` evaluates them in registration order. A study adds a
KPI without editing mcsim::

    from mcsim.enums import DeathPlace
    from mcsim.metrics import MetricKind, metric

    @metric("critical_deaths_prehospital", kind=MetricKind.COUNT)
    def critical_deaths_prehospital(r):
        \"\"\"Critical casualties who died before reaching a hospital.\"\"\"
        return int((r.died & r.critical & (r.place != DeathPlace.HOSPITAL)).sum())

A metric given ``headline=`` joins :func:`headline_metrics`, the one list that the CLI summary,
``mcsim compare``'s default metrics, ``mcsim analyze``'s report, the app's KPI cards and
comparison table and the sweeps page read. Its label, kind (count, share shown in %, minutes)
and unit say how every one of them shows it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from mcsim.enums import (
    AT_SCENE,
    DeathPlace,
    EventKind,
    LeaveMode,
    Severity,
    TriageTag,
    VehicleState,
)

Better = Literal["lower", "higher", "neither"]

# The enums' values as the records hold them (categorical text columns).
_PREHOSPITAL = [DeathPlace.SCENE.value, DeathPlace.TRANSPORT.value]
_WITHOUT_EMS = [LeaveMode.SELF.value, LeaveMode.BYSTANDER.value]
_AT_SCENE = [st.value for st in AT_SCENE]


class MetricKind(StrEnum):
    """What a metric's value is, which says how it is shown."""

    COUNT = "count"  #: whole patients: ``7``
    SHARE = "share"  #: a share in [0, 1], shown in %: ``25.0 %``
    MINUTES = "minutes"  #: minutes: ``12.3 min``
    NUMBER = "number"  #: any other number: ``233.1``
    TABLE = "table"  #: a nested mapping (per tag, per hospital); never a headline


_DEFAULT_UNIT = {MetricKind.SHARE: "%", MetricKind.MINUTES: "min"}


@dataclass(frozen=True)
class Records:
    """What a metric reads: one run's event log, patients table and resources.

    The cached properties are intermediate columns that several metrics share; each is computed
    once per :func:`compute_metrics` call.

    Attributes:
        events: the event log (:mod:`mcsim.records`).
        patients: one row per casualty.
        resources: static facts (``vehicles``, ``hospitals``, ``onset_min`` or ``onsets``).
    """

    events: pd.DataFrame
    patients: pd.DataFrame
    resources: dict[str, Any]

    @cached_property
    def onsets(self) -> dict[str, float]:
        """Onset minute of each incident."""
        return self.resources.get("onsets") or {
            inc: self.resources["onset_min"]
            for inc in self.patients["incident"].astype(str).unique()
        }

    @cached_property
    def died(self) -> pd.Series:
        """Whether each patient died."""
        return self.patients["outcome"].astype(str) == "died"

    @cached_property
    def survivors(self) -> np.ndarray:
        """Whether each patient survived the blast (not killed outright)."""
        return self.patients["immediate_survivor"].to_numpy(bool)

    @cached_property
    def killed_outright(self) -> np.ndarray:
        """Whether each patient was dead at onset (the mortally wounded die later)."""
        return (self.patients["severity"].astype(str) == Severity.DEAD_ON_SCENE.value).to_numpy()

    @cached_property
    def place(self) -> pd.Series:
        """Where each patient died (``scene``, ``transport``, ``hospital`` or empty)."""
        return self.patients["death_place"].astype(str)

    @cached_property
    def critical(self) -> np.ndarray:
        """Truly critical immediate survivors (ISS > 15)."""
        return self.patients["critical"].to_numpy(bool) & self.survivors

    @cached_property
    def tag(self) -> pd.Series:
        """Each patient's triage tag."""
        return self.patients["tag"].astype(str)

    @cached_property
    def triaged(self) -> pd.Series:
        """Whether each patient was triaged."""
        return ~self.patients["triaged_min"].isna()

    @cached_property
    def tagged_immediate(self) -> pd.Series:
        """Whether each patient was tagged immediate."""
        return self.tag == TriageTag.IMMEDIATE.value

    @cached_property
    def arrival(self) -> pd.Series:
        """Minutes from onset to hospital arrival (NaN: never arrived)."""
        return _minutes_since_onset(self.patients, "hospital_arrival_min", self.onsets)

    @cached_property
    def definitive(self) -> pd.Series:
        """Minutes from onset to definitive care (NaN: never reached it)."""
        return _minutes_since_onset(self.patients, "definitive_care_min", self.onsets)

    @cached_property
    def left(self) -> pd.Series:
        """Minutes from onset to leaving the scene (NaN: never left)."""
        return _minutes_since_onset(self.patients, "left_scene_min", self.onsets)

    @cached_property
    def onset(self) -> float:
        """The first incident's onset minute."""
        return float(min(self.onsets.values())) if self.onsets else 0.0


@dataclass(frozen=True)
class Metric:
    """A registered metric: its name, how it is shown, and the function that computes it.

    Attributes:
        name: the key in the metrics dict.
        func: ``(records) -> value``, a pure function of :class:`Records`.
        label: what a summary or card says (lower case; a card capitalises the first letter).
        kind: what the value is (:class:`MetricKind`).
        unit: the unit a heading names (``%``, ``min`` or empty).
        headline: position in :func:`headline_metrics` (``None``: not a headline metric).
        better: which direction is an improvement (the app's comparison table).
        description: one line on what it means (the function's docstring summary).
    """

    name: str
    func: Callable[[Records], Any]
    label: str
    kind: MetricKind
    unit: str
    headline: float | None
    better: Better
    description: str

    def format(self, value: Any, *, unit: bool = True) -> str:
        """``value`` as text: ``25.0 %``, ``7``, ``12.3 min`` (``unit=False``: ``12.3``).

        Undefined values (None, NaN) are an en dash.
        """
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if self.kind is MetricKind.SHARE:
            return f"{100 * float(value):.1f} %"
        if self.kind is MetricKind.COUNT:
            return f"{int(value)}"
        text = f"{float(value):.1f}"
        return f"{text} {self.unit}" if unit and self.unit else text

    def format_diff(self, a: Any, b: Any) -> str:
        """``b − a`` with a sign, as :meth:`format` writes values: ``-25.0 pp``, ``+2``.

        Shares differ in percentage points; minutes and numbers carry the metric's unit
        (``-2.5 min``); an en dash if either value is undefined.
        """
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (a, b)):
            return "–"
        d = float(b) - float(a)
        if self.kind is MetricKind.SHARE:
            return f"{100 * d:+.1f} pp"
        if self.kind is MetricKind.COUNT:
            return f"{int(round(d)):+d}"
        text = f"{d:+.1f}"
        return f"{text} {self.unit}" if self.unit else text


_REGISTRY: dict[str, Metric] = {}


def metric(
    name: str,
    *,
    headline: bool | float | None = None,
    label: str | None = None,
    unit: str | None = None,
    kind: MetricKind | str = MetricKind.NUMBER,
    better: Better = "neither",
) -> Callable[[Callable[[Records], Any]], Callable[[Records], Any]]:
    """Register the decorated ``(records) -> value`` function as the metric ``name``.

    Args:
        name: the key in :func:`compute_metrics`' dict; a name already registered is refused.
        headline: a number places the metric in :func:`headline_metrics` (lower first);
            ``True`` places it after the numbered ones; ``None`` or ``False``: not a headline.
        label: what summaries and cards say (default: the name with spaces).
        unit: the unit a heading names (default: ``%`` for shares, ``min`` for minutes).
        kind: what the value is (:class:`MetricKind`); a table cannot be a headline.
        better: ``lower``, ``higher`` or ``neither``: which direction is an improvement.

    Returns:
        The decorator; it returns the function unchanged.

    Raises:
        ValueError: the name is taken, or the options are inconsistent.
    """
    kind = MetricKind(kind)
    if better not in ("lower", "higher", "neither"):
        raise ValueError(
            f"metric {name!r}: better must be lower, higher or neither, not {better!r}"
        )
    rank: float | None
    if headline is None or headline is False:
        rank = None
    elif headline is True:
        rank = math.inf
    else:
        rank = float(headline)
    if rank is not None and kind is MetricKind.TABLE:
        raise ValueError(f"metric {name!r}: a table cannot be a headline metric")

    def register(func: Callable[[Records], Any]) -> Callable[[Records], Any]:
        existing = _REGISTRY.get(name)
        if existing is not None:
            where = f"{existing.func.__module__}.{existing.func.__qualname__}"
            raise ValueError(
                f"a metric named {name!r} is already registered (by {where}); "
                "choose another name, or unregister_metric() it first"
            )
        doc = (func.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Metric(
            name=name,
            func=func,
            label=label if label is not None else name.replace("_", " "),
            kind=kind,
            unit=unit if unit is not None else _DEFAULT_UNIT.get(kind, ""),
            headline=rank,
            better=better,
            description=doc[0].strip() if doc else "",
        )
        return func

    return register


def unregister_metric(name: str) -> None:
    """Remove the user metric ``name``; built-in metrics (:data:`METRIC_KEYS`) stay.

    Raises:
        ValueError: ``name`` is a built-in metric.
        KeyError: no metric of that name is registered.
    """
    if name in METRIC_KEYS:
        raise ValueError(f"{name!r} is a built-in metric and cannot be unregistered")
    if name not in _REGISTRY:
        raise KeyError(f"no metric named {name!r}; registered: {', '.join(_REGISTRY)}")
    del _REGISTRY[name]


@contextmanager
def restore_metrics() -> Iterator[None]:
    """Within the block, metrics may be registered; on leaving, the registry is as it was."""
    saved = dict(_REGISTRY)
    try:
        yield
    finally:
        _REGISTRY.clear()
        _REGISTRY.update(saved)


def registered_metrics() -> list[Metric]:
    """Every registered metric, in registration order (the order of the metrics dict)."""
    return list(_REGISTRY.values())


def get_metric(name: str) -> Metric:
    """The registered metric ``name`` (``KeyError`` naming the known ones if there is none)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no metric named {name!r}; registered: {', '.join(_REGISTRY)}") from None


def headline_metrics() -> list[Metric]:
    """The headline metrics, most important first (ties: in registration order).

    The one list that the CLI summary, ``mcsim compare``'s default metrics, the analysis
    report, the app's KPI cards (its first four) and comparison table, and the sweeps page's
    metric menu read.
    """
    ranked = [m for m in _REGISTRY.values() if m.headline is not None]
    return sorted(ranked, key=lambda m: m.headline)  # sorted is stable: ties keep their order


def headline_names() -> tuple[str, ...]:
    """The names of :func:`headline_metrics`, in order."""
    return tuple(m.name for m in headline_metrics())


def _num(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def _minutes_since_onset(patients: pd.DataFrame, column: str, onsets: dict[str, float]):
    onset = patients["incident"].astype(str).map(onsets).astype(float)
    return patients[column].astype(float) - onset


def peak_per_hour(times: np.ndarray) -> int:
    """Most arrivals in any 60-minute window [t, t + 60)."""
    if len(times) == 0:
        return 0
    t = np.sort(np.asarray(times, dtype=float))
    ends = np.searchsorted(t, t + 60.0, side="left")
    return int((ends - np.arange(len(t))).max())


def ambulance_utilization(events: pd.DataFrame, fleet: int, start: float, end: float) -> float:
    """Share of fleet-minutes in ``[start, end)`` spent away from the station.

    A vehicle is busy from each of its own rows (``patient`` = -1) whose state is not
    ``at_station`` until its next own row (or ``end``). Vectorised: one stable sort by
    vehicle, no per-vehicle Python loop.
    """
    if fleet == 0 or end <= start:
        return 0.0
    # The vehicle's own rows only: patient rows also name the vehicle they are in.
    v = events[(events["vehicle"].to_numpy() >= 0) & (events["patient"].to_numpy() < 0)]
    if v.empty:
        return 0.0
    vehicle = v["vehicle"].to_numpy()
    order = np.argsort(vehicle, kind="stable")  # rows are already in time order per vehicle
    vehicle = vehicle[order]
    times = v["time_min"].to_numpy()[order]
    busy_state = v["state"].to_numpy(dtype=object)[order] != VehicleState.AT_STATION.value
    same_next = np.append(vehicle[1:] == vehicle[:-1], False)
    t_next = np.where(same_next, np.append(times[1:], end), end)
    t0 = np.maximum(times, start)
    t1 = np.minimum(t_next, end)
    busy = np.where(busy_state & (t1 > t0), t1 - t0, 0.0).sum()
    return float(busy) / (fleet * (end - start))


def _median_p90_by_tag(minutes: pd.Series, tag: pd.Series) -> dict[str, dict[str, float | int]]:
    """``{tag: {median, p90, n}}`` of the known ``minutes``, for each tag that has any."""
    out: dict[str, dict[str, float | int]] = {}
    for t in [x.value for x in TriageTag]:
        sel = (tag == t) & minutes.notna()
        if sel.any():
            vals = minutes[sel].to_numpy()
            out[t] = {
                "median": float(np.median(vals)),
                "p90": float(np.percentile(vals, 90)),
                "n": int(sel.sum()),
            }
    return out


# The built-in metrics, in the order of the metrics dict (DESIGN.md "Metrics"). The headline
# numbers order headline_metrics(): the app's four cards are the first four.


@metric("casualties", headline=5, kind=MetricKind.COUNT)
def _casualties(r: Records) -> int:
    """Every casualty, incl. those killed outright."""
    return int(len(r.patients))


@metric("deaths", headline=2, kind=MetricKind.COUNT, better="lower")
def _deaths(r: Records) -> int:
    """All deaths, incl. killed outright."""
    return int(r.died.sum())


@metric(
    "immediate_deaths", headline=7, label="killed outright", kind=MetricKind.COUNT, better="lower"
)
def _immediate_deaths(r: Records) -> int:
    """Casualties killed outright (dead at onset; not the mortally wounded who die later)."""
    return int(r.killed_outright.sum())


@metric(
    "deaths_prehospital",
    headline=8,
    label="deaths before hospital",
    kind=MetricKind.COUNT,
    better="lower",
)
def _deaths_prehospital(r: Records) -> int:
    """Deaths at the scene or on the way, not killed outright (the mortally wounded count)."""
    return int((r.died & ~r.killed_outright & r.place.isin(_PREHOSPITAL)).sum())


@metric(
    "deaths_in_hospital", headline=9, label="deaths in hospital", kind=MetricKind.COUNT,
    better="lower",
)  # fmt: skip
def _deaths_in_hospital(r: Records) -> int:
    """Deaths at a hospital (the mortally wounded who die on arrival count)."""
    return int((r.died & (r.place == DeathPlace.HOSPITAL)).sum())


@metric("expected_survivors", headline=10, better="higher")
def _expected_survivors(r: Records) -> float:
    """Sum of the immediate survivors' probabilities of survival."""
    return float(r.patients.loc[r.survivors, "p_survival"].fillna(0.0).sum())


@metric("expected_deaths", better="lower")
def _expected_deaths(r: Records) -> float:
    """Deaths recorded plus those still to come (counts the patients left waiting)."""
    # 1 - P(survive) of every immediate survivor (care begun: its drawn probability; unresolved
    # at the horizon: if treated then; died before care: 1). Unlike ``deaths`` it counts the
    # patients left waiting at the end.
    p = r.patients.loc[r.survivors, "p_survival"].fillna(0.0)
    return float((~r.survivors).sum() + (1.0 - p).sum())


@metric("critical", headline=6, label="critical casualties", kind=MetricKind.COUNT)
def _critical(r: Records) -> int:
    """Truly critical immediate survivors (ISS > 15)."""
    return int(r.critical.sum())


@metric("critical_deaths", kind=MetricKind.COUNT, better="lower")
def _critical_deaths(r: Records) -> int:
    """Deaths among the truly critical."""
    return int((r.died & r.critical).sum())


@metric("critical_mortality", headline=1, kind=MetricKind.SHARE, better="lower")
def _critical_mortality(r: Records) -> float | None:
    """Deaths among the truly critical (Frykberg)."""
    return _ratio(int((r.died & r.critical).sum()), int(r.critical.sum()))


@metric("overtriage_rate", headline=12, label="over-triage", kind=MetricKind.SHARE, better="lower")
def _overtriage_rate(r: Records) -> float | None:
    """Share of those tagged immediate who are not critical."""
    return _ratio(
        int((r.tagged_immediate & ~r.critical & r.survivors).sum()),
        int((r.tagged_immediate & r.survivors).sum()),
    )


@metric(
    "undertriage_rate", headline=13, label="under-triage", kind=MetricKind.SHARE, better="lower"
)
def _undertriage_rate(r: Records) -> float | None:
    """Share of the triaged but not tagged immediate who are critical."""
    return _ratio(
        int((r.triaged & ~r.tagged_immediate & r.critical).sum()),
        int((r.triaged & ~r.tagged_immediate & r.survivors).sum()),
    )


@metric(
    "first_hospital_arrival_min",
    headline=3,
    label="first hospital arrival",
    kind=MetricKind.MINUTES,
    better="lower",
)
def _first_hospital_arrival_min(r: Records) -> float | None:
    """Minutes from onset."""
    return _num(float(r.arrival.min())) if r.arrival.notna().any() else None


@metric(
    "scene_clear_min", headline=4, label="scene cleared", kind=MetricKind.MINUTES, better="lower"
)
def _scene_clear_min(r: Records) -> float | None:
    """Last patient left the scene."""
    still_at_scene = r.patients["state"].astype(str).isin(_AT_SCENE)
    if still_at_scene.any() or r.left.isna().all():
        return None
    return float(r.left.max())


@metric("time_to_hospital_min", kind=MetricKind.TABLE)
def _time_to_hospital_min(r: Records) -> dict[str, dict[str, float | int]]:
    """Median, 90th percentile and count of minutes to hospital, per tag."""
    return _median_p90_by_tag(r.arrival, r.tag)


@metric("time_to_definitive_care_min", kind=MetricKind.TABLE)
def _time_to_definitive_care_min(r: Records) -> dict[str, dict[str, float | int]]:
    """Median, 90th percentile and count of minutes to definitive care, per tag."""
    return _median_p90_by_tag(r.definitive, r.tag)


@metric(
    "critical_definitive_care_60min_share",
    headline=11,
    label="critical in definitive care ≤ 60 min",
    kind=MetricKind.SHARE,
    better="higher",
)
def _critical_definitive_care_60min_share(r: Records) -> float | None:
    """Share of the critical in definitive care within an hour of onset."""
    return _ratio(int((r.definitive[r.critical] <= 60).sum()), int(r.critical.sum()))


@metric("ambulance_utilization", headline=15, kind=MetricKind.SHARE)
def _ambulance_utilization(r: Records) -> float:
    """Share of fleet-minutes away from the station, until the last hospital arrival."""
    ev = r.events
    amb_arrivals = ev[
        (ev["kind"] == EventKind.HOSPITAL_ARRIVAL.value)
        & (ev["vehicle"] >= 0)
        & (ev["patient"] < 0)
    ]
    end = float(amb_arrivals["time_min"].max()) if len(amb_arrivals) else r.onset
    return ambulance_utilization(ev, r.resources["vehicles"], r.onset, end)


@metric("self_transported", headline=14, label="self-transported", kind=MetricKind.COUNT)
def _self_transported(r: Records) -> int:
    """Casualties who left by themselves or with bystanders."""
    return int(r.patients["leave_mode"].astype(str).isin(_WITHOUT_EMS).sum())


@metric("unresolved", kind=MetricKind.COUNT)
def _unresolved(r: Records) -> int:
    """Patients still waiting at the horizon."""
    return int((r.patients["outcome"].astype(str) == "unresolved").sum())


@metric("hospitals", kind=MetricKind.TABLE)
def _hospitals(r: Records) -> dict[str, dict[str, Any]]:
    """Per hospital: patients, critical, peak critical per hour and deaths."""
    out: dict[str, dict[str, Any]] = {}
    hosp = r.patients["hospital"].astype(str)
    for hid in r.resources["hospitals"]:
        sel = (hosp == hid) & r.arrival.notna()
        crit_times = r.patients.loc[sel & r.critical, "hospital_arrival_min"].to_numpy()
        out[hid] = {
            "patients": int(sel.sum()),
            "critical": int((sel & r.critical).sum()),
            "peak_critical_per_hour": peak_per_hour(crit_times),
            "deaths": int((sel & r.died).sum()),
        }
    return out


#: Keys every metrics object has (DESIGN.md "Metrics"): the built-in metrics, in order. User
#: metrics registered with :func:`metric` follow them.
METRIC_KEYS: tuple[str, ...] = tuple(_REGISTRY)


def compute_metrics(
    events: pd.DataFrame, patients: pd.DataFrame, resources: dict[str, Any]
) -> dict[str, Any]:
    """All KPIs of one run as a JSON-ready dict: every registered metric, in registration order.

    The built-in keys are :data:`METRIC_KEYS`; user metrics follow.
    """
    records = Records(events, patients, resources)
    return {m.name: m.func(records) for m in _REGISTRY.values()}
