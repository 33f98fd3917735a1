"""Key performance indicators as the app shows them: labels, units, formatting, differences.

The four headline cards (critical mortality, deaths, first hospital arrival, scene clearance)
and the longer comparison table both come from a run's metrics dict (:mod:`mcsim.metrics`).
Undefined values (``None``: nobody critical, the scene never cleared) show as an en dash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

Unit = Literal["pct", "count", "min", "num"]
Better = Literal["lower", "higher", "neither"]

DASH = "–"


@dataclass(frozen=True)
class Kpi:
    """How one metric is shown.

    Attributes:
        key: the metrics key.
        label: what the card says.
        unit: ``pct`` (a share shown in %), ``count``, ``min`` (minutes) or ``num``.
        better: which direction is an improvement (for the comparison).
        help: one line on what it means.
    """

    key: str
    label: str
    unit: Unit
    better: Better
    help: str = ""


HEADLINE = (
    Kpi(
        "critical_mortality",
        "Critical mortality",
        "pct",
        "lower",
        "deaths among the truly critical (Frykberg)",
    ),
    Kpi("deaths", "Deaths", "count", "lower", "all deaths, incl. killed outright"),
    Kpi(
        "first_hospital_arrival_min",
        "First hospital arrival",
        "min",
        "lower",
        "minutes from onset",
    ),
    Kpi("scene_clear_min", "Scene cleared", "min", "lower", "last patient left the scene"),
)

COMPARISON = (
    *HEADLINE,
    Kpi("deaths_prehospital", "Deaths before hospital", "count", "lower"),
    Kpi("deaths_in_hospital", "Deaths in hospital", "count", "lower"),
    Kpi("expected_survivors", "Expected survivors", "num", "higher"),
    Kpi(
        "critical_definitive_care_60min_share",
        "Critical in definitive care ≤ 60 min",
        "pct",
        "higher",
    ),
    Kpi("overtriage_rate", "Over-triage", "pct", "lower"),
    Kpi("undertriage_rate", "Under-triage", "pct", "lower"),
    Kpi("self_transported", "Self-transported", "count", "neither"),
    Kpi("ambulance_utilization", "Ambulance utilisation", "pct", "neither"),
)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: Any, unit: Unit) -> str:
    """``0.25, "pct"`` → ``"25.0 %"``; ``12.3, "min"`` → ``"12.3 min"``; None → ``"–"``."""
    if _missing(value):
        return DASH
    if unit == "pct":
        return f"{100 * float(value):.1f} %"
    if unit == "count":
        return f"{int(value)}"
    if unit == "min":
        return f"{float(value):.1f} min"
    return f"{float(value):.1f}"


def format_diff(a: Any, b: Any, unit: Unit) -> str:
    """``b − a`` with a sign, in the unit's terms (percentage points for shares)."""
    if _missing(a) or _missing(b):
        return DASH
    d = float(b) - float(a)
    if unit == "pct":
        return f"{100 * d:+.1f} pp"
    if unit == "count":
        return f"{int(round(d)):+d}"
    if unit == "min":
        return f"{d:+.1f} min"
    return f"{d:+.1f}"


def better_side(a: Any, b: Any, better: Better) -> Literal["A", "B", ""]:
    """Which run is better on this metric ("" when equal, undefined or neither)."""
    if better == "neither" or _missing(a) or _missing(b) or float(a) == float(b):
        return ""
    b_lower = float(b) < float(a)
    return "B" if b_lower == (better == "lower") else "A"


def headline(metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The four cards: (label, formatted value, help line)."""
    return [(k.label, format_value(metrics.get(k.key), k.unit), k.help) for k in HEADLINE]


@dataclass(frozen=True)
class DiffRow:
    """One line of the comparison table."""

    label: str
    a: str
    b: str
    diff: str
    better: Literal["A", "B", ""]


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[DiffRow]:
    """The comparison table of two runs' metrics (B − A)."""
    rows = []
    for k in COMPARISON:
        va, vb = a.get(k.key), b.get(k.key)
        rows.append(
            DiffRow(
                k.label,
                format_value(va, k.unit),
                format_value(vb, k.unit),
                format_diff(va, vb, k.unit),
                better_side(va, vb, k.better),
            )
        )
    return rows
