"""The figures a historical record can be checked on, computed from one run.

Each figure is a pure function of a run's patients table (plus the metrics object for the few
figures the metrics already define, and the incidents' onset minutes), so that a change of the
outcome model changes the numbers but not the instrument. Columns read: ``immediate_survivor``,
``critical``, ``outcome``, ``death_place``, ``hospital``, ``hospital_arrival_min``,
``left_scene_min``, ``leave_mode`` and ``incident``. Times are minutes from the onset of the
patient's own incident, as in :mod:`mcsim.metrics`.

A figure that is undefined in a run (no hospital arrival, no critical casualty) is ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd


class FigureKind(StrEnum):
    """What a figure's values are, which decides how records, bands and summaries read."""

    COUNT = "count"  # a number of patients or hospitals
    SHARE = "share"  # a fraction 0-1
    MINUTES = "minutes"  # minutes from the incident's onset
    HOSPITAL = "hospital"  # a hospital id


class FigureName(StrEnum):
    """Every figure a record file may name (docs/validation.md lists their meanings)."""

    DEATHS = "deaths"
    DEATHS_PREHOSPITAL = "deaths_prehospital"
    DEATHS_IN_HOSPITAL = "deaths_in_hospital"
    CRITICAL = "critical"
    CRITICAL_MORTALITY = "critical_mortality"
    HOSPITAL_PATIENTS = "hospital_patients"
    HOSPITAL_AMBULANCE_PATIENTS = "hospital_ambulance_patients"
    HOSPITAL_SHARE = "hospital_share"
    LARGEST_HOSPITAL = "largest_hospital"
    LARGEST_HOSPITAL_SHARE = "largest_hospital_share"
    HOSPITALS_RECEIVING = "hospitals_receiving"
    HOSPITAL_ARRIVALS = "hospital_arrivals"
    AMBULANCE_ARRIVALS = "ambulance_arrivals"
    FIRST_HOSPITAL_ARRIVAL_MIN = "first_hospital_arrival_min"
    LAST_CRITICAL_TRANSPORTED_MIN = "last_critical_transported_min"
    UNRESOLVED_SHARE = "unresolved_share"

    @property
    def kind(self) -> FigureKind:
        """The kind of value this figure has."""
        return _KINDS[self]

    @property
    def per_hospital(self) -> bool:
        """Whether the figure is about one hospital (the record names its id)."""
        return self in _PER_HOSPITAL


_KINDS = {
    FigureName.DEATHS: FigureKind.COUNT,
    FigureName.DEATHS_PREHOSPITAL: FigureKind.COUNT,
    FigureName.DEATHS_IN_HOSPITAL: FigureKind.COUNT,
    FigureName.CRITICAL: FigureKind.COUNT,
    FigureName.CRITICAL_MORTALITY: FigureKind.SHARE,
    FigureName.HOSPITAL_PATIENTS: FigureKind.COUNT,
    FigureName.HOSPITAL_AMBULANCE_PATIENTS: FigureKind.COUNT,
    FigureName.HOSPITAL_SHARE: FigureKind.SHARE,
    FigureName.LARGEST_HOSPITAL: FigureKind.HOSPITAL,
    FigureName.LARGEST_HOSPITAL_SHARE: FigureKind.SHARE,
    FigureName.HOSPITALS_RECEIVING: FigureKind.COUNT,
    FigureName.HOSPITAL_ARRIVALS: FigureKind.COUNT,
    FigureName.AMBULANCE_ARRIVALS: FigureKind.COUNT,
    FigureName.FIRST_HOSPITAL_ARRIVAL_MIN: FigureKind.MINUTES,
    FigureName.LAST_CRITICAL_TRANSPORTED_MIN: FigureKind.MINUTES,
    FigureName.UNRESOLVED_SHARE: FigureKind.SHARE,
}
_PER_HOSPITAL = frozenset(
    {
        FigureName.HOSPITAL_PATIENTS,
        FigureName.HOSPITAL_AMBULANCE_PATIENTS,
        FigureName.HOSPITAL_SHARE,
    }
)

#: What each figure means, for the docs and the ``--help`` of the command.
MEANINGS: dict[FigureName, str] = {
    FigureName.DEATHS: "all deaths within the horizon, those killed outright included",
    FigureName.DEATHS_PREHOSPITAL: "died at the scene or in transport, killed outright included",
    FigureName.DEATHS_IN_HOSPITAL: "died after arriving at a hospital",
    FigureName.CRITICAL: "critical immediate survivors (metric `critical`)",
    FigureName.CRITICAL_MORTALITY: "deaths among critical immediate survivors ÷ those survivors "
    "(metric `critical_mortality`)",
    FigureName.HOSPITAL_PATIENTS: "patients who arrived at the hospital",
    FigureName.HOSPITAL_AMBULANCE_PATIENTS: "patients who arrived at the hospital by ambulance",
    FigureName.HOSPITAL_SHARE: "the hospital's share of all hospital arrivals",
    FigureName.LARGEST_HOSPITAL: "the hospital with most arrivals (model: the modal one over "
    "replications, with the share of replications in which it is largest)",
    FigureName.LARGEST_HOSPITAL_SHARE: "the largest hospital's share of all hospital arrivals",
    FigureName.HOSPITALS_RECEIVING: "hospitals with at least one arrival",
    FigureName.HOSPITAL_ARRIVALS: "patients who arrived at any hospital",
    FigureName.AMBULANCE_ARRIVALS: "patients who arrived at a hospital by ambulance",
    FigureName.FIRST_HOSPITAL_ARRIVAL_MIN: "first arrival at any hospital, minutes after onset "
    "(metric `first_hospital_arrival_min`)",
    FigureName.LAST_CRITICAL_TRANSPORTED_MIN: "latest minute (from the first incident's onset) "
    "at which a critical patient left the scene for a hospital, by any means",
    FigureName.UNRESOLVED_SHARE: "share of immediate survivors whose outcome is still "
    "unresolved at the horizon",
}

#: Ways of leaving the scene that end at a hospital (``released`` patients stay out of it).
TO_HOSPITAL_MODES = ("ambulance", "self", "bystander")


def figure_key(name: FigureName, hospital: str | None = None) -> str:
    """The key of one figure in a replication's values, e.g. ``hospital_patients:sunrise``."""
    return f"{name.value}:{hospital}" if hospital else name.value


def _arrived(patients: pd.DataFrame) -> np.ndarray:
    hosp = patients["hospital"].astype(str).to_numpy()
    return patients["hospital_arrival_min"].notna().to_numpy() & (hosp != "")


def arrivals_by_hospital(
    patients: pd.DataFrame, hospitals: Sequence[str], *, ambulance_only: bool = False
) -> dict[str, int]:
    """Patients who arrived at each hospital of ``hospitals`` (in that order; zeros kept)."""
    sel = _arrived(patients)
    if ambulance_only:
        sel &= patients["leave_mode"].astype(str).to_numpy() == "ambulance"
    counts = patients.loc[sel, "hospital"].astype(str).value_counts()
    return {h: int(counts.get(h, 0)) for h in hospitals}


def largest_hospital(counts: Mapping[str, int]) -> str | None:
    """The hospital with most arrivals; ties go to the first in ``counts``' order."""
    best, most = None, 0
    for h, n in counts.items():
        if n > most:
            best, most = h, n
    return best


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else float(num) / float(den)


def compute_figures(
    patients: pd.DataFrame,
    metrics: Mapping[str, Any],
    hospitals: Sequence[str],
    onsets: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Every figure of one run, keyed by :func:`figure_key`.

    Args:
        patients: the run's patients table (:mod:`mcsim.patients_table`).
        metrics: the run's metrics object (:mod:`mcsim.metrics`).
        hospitals: the scenario's hospital ids, in scenario order (per-hospital figures are
            given for each; ties for the largest hospital go to the first).
        onsets: onset minute of each incident id (missing incidents count from minute 0).

    Returns:
        ``{key: value}``: ints for counts, floats for shares and minutes, a hospital id for
        ``largest_hospital``; ``None`` where the figure is undefined in this run.
    """
    onsets = onsets or {}
    survivor = patients["immediate_survivor"].to_numpy(bool)
    critical = patients["critical"].to_numpy(bool) & survivor
    outcome = patients["outcome"].astype(str).to_numpy()
    place = patients["death_place"].astype(str).to_numpy()
    died = outcome == "died"
    # Killed outright (no death place of their own) or died at the scene or on the way; the
    # mortally wounded who die at a hospital count there, as the records count them.
    prehospital = (
        died & (place != "hospital") & (~survivor | np.isin(place, ["scene", "transport"]))
    )

    counts = arrivals_by_hospital(patients, hospitals)
    by_ambulance = arrivals_by_hospital(patients, hospitals, ambulance_only=True)
    total = sum(counts.values())
    largest = largest_hospital(counts)

    # Minutes from the first onset: a record's "last casualty left at +4 h" counts from the
    # first attack, whichever site the casualty was at.
    first_onset = min(onsets.values()) if onsets else 0.0
    left = patients["left_scene_min"].astype(float).to_numpy() - first_onset
    to_hospital = (
        np.isin(patients["leave_mode"].astype(str).to_numpy(), TO_HOSPITAL_MODES)
        & (patients["hospital"].astype(str).to_numpy() != "")
        & ~np.isnan(left)
    )
    crit_left = left[critical & to_hospital]

    first = metrics.get("first_hospital_arrival_min")
    mortality = metrics.get("critical_mortality")
    out: dict[str, Any] = {
        figure_key(FigureName.DEATHS): int(died.sum()),
        figure_key(FigureName.DEATHS_PREHOSPITAL): int(prehospital.sum()),
        figure_key(FigureName.DEATHS_IN_HOSPITAL): int((died & (place == "hospital")).sum()),
        figure_key(FigureName.CRITICAL): int(metrics["critical"]),
        figure_key(FigureName.CRITICAL_MORTALITY): None if mortality is None else float(mortality),
        figure_key(FigureName.LARGEST_HOSPITAL): largest,
        figure_key(FigureName.LARGEST_HOSPITAL_SHARE): (
            None if largest is None else _ratio(counts[largest], total)
        ),
        figure_key(FigureName.HOSPITALS_RECEIVING): sum(1 for n in counts.values() if n > 0),
        figure_key(FigureName.HOSPITAL_ARRIVALS): total,
        figure_key(FigureName.AMBULANCE_ARRIVALS): sum(by_ambulance.values()),
        figure_key(FigureName.FIRST_HOSPITAL_ARRIVAL_MIN): None if first is None else float(first),
        figure_key(FigureName.LAST_CRITICAL_TRANSPORTED_MIN): (
            float(crit_left.max()) if crit_left.size else None
        ),
        figure_key(FigureName.UNRESOLVED_SHARE): _ratio(
            int(((outcome == "unresolved") & survivor).sum()), int(survivor.sum())
        ),
    }
    for h in hospitals:
        out[figure_key(FigureName.HOSPITAL_PATIENTS, h)] = counts[h]
        out[figure_key(FigureName.HOSPITAL_AMBULANCE_PATIENTS, h)] = by_ambulance[h]
        out[figure_key(FigureName.HOSPITAL_SHARE, h)] = _ratio(counts[h], total)
    return out
