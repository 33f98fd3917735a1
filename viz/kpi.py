"""Key performance indicators as the app shows them: labels, units, formatting, differences.

Which metrics, their labels, kinds and directions come from the one headline list,
:func:`mcsim.metrics.headline_metrics`: its first four (critical mortality, deaths, first
hospital arrival, scene clearance) are the cards, all of it is the comparison table; the values
come from a run's metrics dict and are written by each metric's own
:meth:`~mcsim.metrics.Metric.format` and :meth:`~mcsim.metrics.Metric.format_diff` (the same
text as the command line's). Undefined values (``None``: nobody critical, the scene never
cleared) show as an en dash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from mcsim.metrics import Better, Metric, headline_metrics

DASH = "–"

__all__ = [
    "Better",
    "DiffRow",
    "better_side",
    "cards",
    "compare",
    "headline",
    "values",
]

#: How many headline metrics the app shows as cards: the first ones of the headline list.
CARDS = 4


def _title(m: Metric) -> str:
    """The metric's label with a capital first letter, as a card or table row says it."""
    return m.label[:1].upper() + m.label[1:]


def cards() -> list[Metric]:
    """The metrics shown as cards: the first :data:`CARDS` headline metrics."""
    return headline_metrics()[:CARDS]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def better_side(a: Any, b: Any, better: Better) -> Literal["A", "B", ""]:
    """Which run is better on this metric ("" when equal, undefined or neither)."""
    if better == "neither" or _missing(a) or _missing(b) or float(a) == float(b):
        return ""
    b_lower = float(b) < float(a)
    return "B" if b_lower == (better == "lower") else "A"


def headline(metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The cards: (label, formatted value, help line) of each of :func:`cards`."""
    return [(_title(m), m.format(metrics.get(m.name)), m.description) for m in cards()]


def values(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, formatted value) of every headline metric, for a one-run table or report."""
    return [
        (_title(m), m.format(metrics.get(m.name))) for m in headline_metrics()
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
        va, vb = a.get(m.name), b.get(m.name)
        rows.append(
            DiffRow(
                _title(m),
                m.format(va),
                m.format(vb),
                m.format_diff(va, vb),
                better_side(va, vb, m.better),
            )
        )
    return rows
