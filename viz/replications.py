"""Replications as the app shows them: KPI intervals, bands over time, the paired B − A table.

The numbers come from :mod:`mcsim.replications` (intervals from :mod:`mcsim.stats`); this module
only formats and draws them, and re-runs the most typical draw so that the map can show it
(the runs are deterministic, so the re-run is the very run that was summarised).

Wording follows what a planner can rely on: a mean with its 95 % interval ("4.5 [2.9, 6.1]"), a
constant as one number ("same in every run", never "315 [315, 315]"), and in Compare a winner
only where the paired interval of B − A excludes 0; otherwise "within noise", never in bold.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mcsim.metrics import Metric, MetricKind, headline_metrics
from mcsim.replications import (
    BAND,
    CHANNEL_LABELS,
    CHANNELS,
    Draw,
    PairedDifference,
    Replications,
    apply_draw,
    paired,
)
from viz import kpi
from viz.charts import CHART_CURSOR, CursorChart, _style, png
from viz.runner import RunView, run_view_of

#: Replications per run unless the user asks for another number.
DEFAULT_COUNT = 10
#: The most the app runs at once (each default-scenario run takes a few tenths of a second).
MAX_COUNT = 100

_FMT = {"pct": "{:.1f} %", "count": "{:.1f}", "min": "{:.1f} min", "num": "{:.1f}"}
_DIFF = {"pct": "{:+.1f} pp", "count": "{:+.1f}", "min": "{:+.1f} min", "num": "{:+.1f}"}


#: How each kind of metric is written in an estimate (the formats above).
Unit = Literal["pct", "count", "min", "num"]
_UNIT: dict[MetricKind, Unit] = {
    MetricKind.SHARE: "pct",
    MetricKind.COUNT: "count",
    MetricKind.MINUTES: "min",
    MetricKind.NUMBER: "num",
}


def _unit(m: Metric) -> Unit:
    return _UNIT[m.kind]


def _scale(unit: str) -> float:
    return 100.0 if unit == "pct" else 1.0


def format_estimate(mean: float, low: float, high: float, unit: str) -> tuple[str, str]:
    """A mean and its interval as two texts: ``("4.5", "95 % CI [2.9, 6.1]")``.

    Undefined → en dashes; no spread (``low == high == mean``) → the value and "same in every
    run"; a single run (NaN interval) → the value and "one run: no interval". Counts and
    minutes cannot be negative, so their interval is cut at 0.
    """
    if not math.isfinite(mean):
        return kpi.DASH, kpi.DASH
    k = _scale(unit)
    value = _FMT[unit].format(k * mean)
    if not (math.isfinite(low) and math.isfinite(high)):
        return value, "one run: no interval"
    if low == high:
        if unit == "count" and float(mean).is_integer():
            value = f"{int(mean)}"
        return value, "same in every run"
    if unit in ("count", "min"):  # never negative: a t interval may run below 0, the truth not
        low = max(0.0, low)
    return value, f"95 % CI [{k * low:.1f}, {k * high:.1f}]"


def _signed(x: float) -> str:
    """``+1.2``; a small nonzero bound gets another decimal, so it never reads as ``+0.0``."""
    text = f"{x:+.1f}"
    return f"{x:+.2f}" if x != 0 and text in ("+0.0", "-0.0") else text


def format_difference(d: PairedDifference, unit: str) -> str:
    """``"-3.4 pp [-7.4, +0.6]"``: the mean of B − A and its interval (pp for shares)."""
    if d.n == 0 or not math.isfinite(d.mean):
        return kpi.DASH
    k = _scale(unit)
    text = _DIFF[unit].format(k * d.mean)
    if not (math.isfinite(d.low) and math.isfinite(d.high)):
        return text
    if d.low == d.high == 0:
        return "0 in every run"
    if d.low == d.high:
        return f"{text} in every run"
    return f"{text} [{_signed(k * d.low)}, {_signed(k * d.high)}]"


@dataclass(frozen=True)
class Card:
    """One KPI card over the replications."""

    label: str
    value: str
    interval: str
    help: str


def cards(reps: Replications) -> list[Card]:
    """The KPI cards (:func:`viz.kpi.cards`) as mean and 95 % interval over the runs."""
    out = []
    for m in kpi.cards():
        n, mean, _, lo, hi = reps.interval(m.name)
        value, interval = format_estimate(mean, lo, hi, _unit(m))
        if n and n < reps.n:
            interval += f" · defined in {n} of {reps.n} runs"
        out.append(Card(kpi._title(m), value, interval, m.description))
    return out


def median_index(reps: Replications) -> int:
    """The run the map shows: the most typical one on the KPI cards' metrics."""
    return reps.median_index([m.name for m in kpi.cards() if m.name in reps.metric_names])


def rerun(view: RunView, draw: Draw) -> RunView:
    """``view``'s scenario and policies run again with ``draw`` (its seed and overrides).

    ``view.scenario`` has the set-up applied already, so it is not applied twice.
    """
    from mcsim.model import MCIModel

    scenario = apply_draw(view.scenario, draw)
    setup = dataclasses.replace(view.setup, seed=draw.seed)
    model = MCIModel(scenario, draw.seed, **setup.policies())
    model.run()
    return run_view_of(model, scenario, setup)


@dataclass(frozen=True)
class PairedRow:
    """One line of the replicated comparison table."""

    label: str
    a: str
    b: str
    diff: str
    b_better: str
    verdict: str
    winner: str


def paired_rows(a: Replications, b: Replications) -> list[PairedRow]:
    """Every headline metric: A and B (mean [CI]), B − A [CI], "B better in k of N", verdict.

    The verdict names a winner only where the paired interval excludes 0
    (:attr:`mcsim.replications.PairedDifference.winner`).
    """
    rows = []
    for m in headline_metrics():
        if m.name not in a.metric_names:
            continue
        unit = _unit(m)
        texts = []
        for reps in (a, b):
            _, mean, _, lo, hi = reps.interval(m.name)
            value, interval = format_estimate(mean, lo, hi, unit)
            texts.append(value if interval in (kpi.DASH, "same in every run") else
                         f"{value} {interval.removeprefix('95 % CI ')}")  # fmt: skip
        d = paired(a, b, m.name)
        if m.better == "neither" or d.n == 0:
            better, verdict = kpi.DASH, kpi.DASH
        else:
            better = f"{d.b_better} of {d.n}"
            if d.low == d.high == 0:
                verdict = "same in every run"
            elif d.winner:
                verdict = f"{d.winner} better"
            else:
                verdict = "within noise"
        rows.append(PairedRow(kpi._title(m), texts[0], texts[1], format_difference(d, unit),
                              better, verdict, d.winner))  # fmt: skip
    return rows


def _band_end(reps_list: list[Replications]) -> float:
    """The last minute at which any run's counts still change (+10 %), at least 60."""
    end = 60.0
    for reps in reps_list:
        s = reps.series
        moving = np.any(np.diff(s, axis=1) != 0, axis=(0, 2))
        if moving.any():
            last = float(reps.grid[1:][moving][-1])
            end = max(end, min(float(reps.grid[-1]), 1.1 * last + 5))
    return end


BAND_COLOURS = ("#1f77b4", "#e6550d")


def _draw_bands(axes, reps_list, labels, shown: int | None, end: float) -> None:
    for k, (reps, lab) in enumerate(zip(reps_list, labels, strict=True)):
        colour = BAND_COLOURS[k % len(BAND_COLOURS)]
        keep = reps.grid <= end
        t = reps.grid[keep]
        b = reps.bands()[:, keep, :]
        band = f"{lab}: {int(100 * BAND[0])}-{int(100 * BAND[1])} % of runs"
        for c, ax in enumerate(axes):
            ax.fill_between(t, b[0, :, c], b[2, :, c], color=colour, alpha=0.22, lw=0, label=band)
            ax.plot(t, b[1, :, c], color=colour, lw=1.4, label=f"{lab}: median")
            if shown is not None:
                ax.plot(t, reps.series[shown, keep, c], color="#111111", lw=0.8, ls="--",
                        label=f"on the map (seed {reps.draws[shown].seed})")  # fmt: skip
    for c, ax in enumerate(axes):
        _style(ax, CHANNEL_LABELS[CHANNELS[c]], "patients")
        ax.set_xlim(0, end)
        ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=6, loc="upper right", frameon=False)


def _bands_figure(reps_list, labels, shown, size, dpi):
    fig = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    axes = [ax for row in fig.subplots(2, 2, sharex=True) for ax in row]
    _draw_bands(axes, reps_list, labels, shown, _band_end(reps_list))
    for ax in axes[2:]:
        ax.set_xlabel("minutes from onset", fontsize=7)
    n = reps_list[0].n
    fig.suptitle(f"Over {n} runs: median and {int(100 * BAND[0])}-{int(100 * BAND[1])} % band",
                 fontsize=9, x=0.02, ha="left")  # fmt: skip
    return fig, axes


class BandsRenderer(CursorChart):
    """The four channels' bands over the runs, the map's run dashed, a cursor at any minute.

    Args:
        reps: the replications.
        shown: the run drawn on the map (its series is drawn dashed).
        size: figure size in inches.
        dpi: resolution of the PNG.
    """

    def __init__(self, reps: Replications, shown: int, *, size=(9.0, 3.8), dpi: int = 90):
        fig, axes = _bands_figure([reps], ["runs"], shown, size, dpi)
        super().__init__(fig, axes, **CHART_CURSOR)


def compare_bands_png(a: Replications, b: Replications, size=(9.0, 3.8), dpi: int = 90) -> bytes:
    """A's and B's bands over time on the same axes (same draws, so the bands pair)."""
    fig, _ = _bands_figure([a, b], ["A", "B"], None, size, dpi)
    return png(fig)
