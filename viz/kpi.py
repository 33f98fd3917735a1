"""Key performance indicators as the app shows them: labels, units, formatting, differences.

Which metrics, their labels, kinds and directions come from the one headline list,
:func:`mcsim.metrics.headline_metrics`: its first four (critical mortality, deaths, first
hospital arrival, scene clearance) are the cards, all of it is the comparison table; the values
come from a run's metrics dict. Undefined values (``None``: nobody critical, the scene never
cleared) show as an en dash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from mcsim.metrics import Better, Metric, MetricKind, headline_metrics

Unit = Literal["pct", "count", "min", "num"]

DASH = "–"

__all__ = [
    "Better",
    "DiffRow",
    "cards",
    "compare",
    "format_diff",
    "format_value",
    "headline",
    "values",
]

#: How many headline metrics the app shows as cards: the first ones of the headline list.
CARDS = 4

#: The format of each kind of metric.
_UNIT: dict[MetricKind, Unit] = {
    MetricKind.SHARE: "pct",
    MetricKind.COUNT: "count",
    MetricKind.MINUTES: "min",
    MetricKind.NUMBER: "num",
}


def _title(m: Metric) -> str:
    """The metric's label with a capital first letter, as a card or table row says it."""
    return m.label[:1].upper() + m.label[1:]


def cards() -> list[Metric]:
    """The metrics shown as cards: the first :data:`CARDS` headline metrics."""
    return headline_metrics()[:CARDS]


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
    """The cards: (label, formatted value, help line) of each of :func:`cards`."""
    return [
        (_title(m), format_value(metrics.get(m.name), _UNIT[m.kind]), m.description)
        for m in cards()
    ]


def values(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, formatted value) of every headline metric, for a one-run table or report."""
    return [
        (_title(m), format_value(metrics.get(m.name), _UNIT[m.kind])) for m in headline_metrics()
    ]


@dataclass(frozen=True)
class DiffRow:
    """One line of the comparison table."""

    label: str
    a: str
    b: str
    diff: str
    better: Literal["A", "B", ""]


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[DiffRow]:
    """The comparison table of two runs' headline metrics (B − A)."""
    rows = []
    for m in headline_metrics():
        va, vb, unit = a.get(m.name), b.get(m.name), _UNIT[m.kind]
        rows.append(
            DiffRow(
                _title(m),
                format_value(va, unit),
                format_value(vb, unit),
                format_diff(va, vb, unit),
                better_side(va, vb, m.better),
            )
        )
    return rows
