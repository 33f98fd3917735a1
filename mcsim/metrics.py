"""Key performance indicators, as pure functions of a run's records.

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
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mcsim.enums import EventKind, PatientState, TriageTag, VehicleState

#: Keys every metrics object has (DESIGN.md "Metrics"); more may follow.
METRIC_KEYS = (
    "casualties",
    "deaths",
    "immediate_deaths",
    "deaths_prehospital",
    "deaths_in_hospital",
    "expected_survivors",
    "expected_deaths",
    "critical",
    "critical_deaths",
    "critical_mortality",
    "overtriage_rate",
    "undertriage_rate",
    "first_hospital_arrival_min",
    "scene_clear_min",
    "time_to_hospital_min",
    "time_to_definitive_care_min",
    "critical_definitive_care_60min_share",
    "ambulance_utilization",
    "self_transported",
    "unresolved",
    "hospitals",
)


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


def compute_metrics(
    events: pd.DataFrame, patients: pd.DataFrame, resources: dict[str, Any]
) -> dict[str, Any]:
    """All KPIs of one run as a JSON-ready dict (keys: :data:`METRIC_KEYS`)."""
    onsets = resources.get("onsets") or {
        inc: resources["onset_min"] for inc in patients["incident"].astype(str).unique()
    }
    died = patients["outcome"].astype(str) == "died"
    survivors = patients["immediate_survivor"].to_numpy(bool)
    place = patients["death_place"].astype(str)
    critical = patients["critical"].to_numpy(bool) & survivors
    tag = patients["tag"].astype(str)
    triaged = ~patients["triaged_min"].isna()
    tagged_immediate = tag == TriageTag.IMMEDIATE.value

    arrival = _minutes_since_onset(patients, "hospital_arrival_min", onsets)
    definitive = _minutes_since_onset(patients, "definitive_care_min", onsets)
    left = _minutes_since_onset(patients, "left_scene_min", onsets)

    at_scene = (
        PatientState.TRAPPED,
        PatientState.AWAITING_TRIAGE,
        PatientState.AWAITING_TRANSPORT,
        PatientState.LOADING,
    )
    still_at_scene = patients["state"].astype(str).isin([st.value for st in at_scene])
    if still_at_scene.any() or left.isna().all():
        scene_clear = None
    else:
        scene_clear = float(left.max())

    per_tag = _median_p90_by_tag(arrival, tag)
    definitive_per_tag = _median_p90_by_tag(definitive, tag)

    hospitals: dict[str, dict[str, Any]] = {}
    hosp = patients["hospital"].astype(str)
    for hid in resources["hospitals"]:
        sel = (hosp == hid) & arrival.notna()
        crit_times = patients.loc[sel & critical, "hospital_arrival_min"].to_numpy()
        hospitals[hid] = {
            "patients": int(sel.sum()),
            "critical": int((sel & critical).sum()),
            "peak_critical_per_hour": peak_per_hour(crit_times),
            "deaths": int((sel & died).sum()),
        }

    onset = float(min(onsets.values())) if onsets else 0.0
    amb_arrivals = events[
        (events["kind"] == EventKind.HOSPITAL_ARRIVAL.value)
        & (events["vehicle"] >= 0)
        & (events["patient"] < 0)
    ]
    end = float(amb_arrivals["time_min"].max()) if len(amb_arrivals) else onset
    n_crit = int(critical.sum())
    crit_dc = definitive[critical]
    metrics: dict[str, Any] = {
        "casualties": int(len(patients)),
        "deaths": int(died.sum()),
        "immediate_deaths": int((~survivors).sum()),
        "deaths_prehospital": int((died & survivors & place.isin(["scene", "transport"])).sum()),
        "deaths_in_hospital": int((died & survivors & (place == "hospital")).sum()),
        "expected_survivors": float(patients.loc[survivors, "p_survival"].fillna(0.0).sum()),
        # Deaths recorded plus those still to come: 1 - P(survive) of every immediate survivor
        # (care begun: its drawn probability; unresolved at the horizon: if treated then; died
        # before care: 1). Unlike ``deaths`` it counts the patients left waiting at the end.
        "expected_deaths": float(
            (~survivors).sum() + (1.0 - patients.loc[survivors, "p_survival"].fillna(0.0)).sum()
        ),
        "critical": n_crit,
        "critical_deaths": int((died & critical).sum()),
        "critical_mortality": _ratio(int((died & critical).sum()), n_crit),
        "overtriage_rate": _ratio(
            int((tagged_immediate & ~critical & survivors).sum()),
            int((tagged_immediate & survivors).sum()),
        ),
        "undertriage_rate": _ratio(
            int((triaged & ~tagged_immediate & critical).sum()),
            int((triaged & ~tagged_immediate & survivors).sum()),
        ),
        "first_hospital_arrival_min": _num(float(arrival.min())) if arrival.notna().any() else None,
        "scene_clear_min": scene_clear,
        "time_to_hospital_min": per_tag,
        "time_to_definitive_care_min": definitive_per_tag,
        "critical_definitive_care_60min_share": _ratio(int((crit_dc <= 60).sum()), n_crit),
        "ambulance_utilization": ambulance_utilization(events, resources["vehicles"], onset, end),
        "self_transported": int(
            patients["leave_mode"].astype(str).isin(["self", "bystander"]).sum()
        ),
        "unresolved": int((patients["outcome"].astype(str) == "unresolved").sum()),
        "hospitals": hospitals,
    }
    return metrics
