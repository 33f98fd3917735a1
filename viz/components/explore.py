"""The Explore tab: KPI cards, the map with its time scrubber and play button, the charts.

Moving the scrubber never re-runs anything: the map is redrawn from the run's
:class:`~viz.state.Replay` (a binary search in the records) by the run's
:class:`~viz.mapview.InteractiveMap`, which sends only the moving traces to the browser.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import solara
import solara.hooks

from viz import charts, kpi
from viz.components import store
from viz.components.flows import FlowsPanel
from viz.components.mapview import MapFigure
from viz.runner import RunView

#: Play: simulated minutes per tick, and seconds between ticks.
PLAY_STEP_MIN = 2
PLAY_TICK_S = 0.25


@solara.component
def KpiCards(metrics: dict[str, Any]):
    """The four headline KPIs as cards."""
    with solara.Row(classes=["mcsim-kpis"], gap="8px", style={"flex-wrap": "wrap"}):
        for label, value, help_ in kpi.headline(metrics):
            with solara.Div(
                classes=["mcsim-kpi"],
                style={
                    "border": "1px solid #ddd",
                    "border-radius": "6px",
                    "padding": "6px 12px",
                    "min-width": "150px",
                    "background": "#fafafa",
                },
            ):
                solara.Div(children=[label], classes=["mcsim-kpi-label"],
                           style={"font-size": "0.8em", "color": "#555"})  # fmt: skip
                solara.Div(children=[value], classes=["mcsim-kpi-value"],
                           style={"font-size": "1.5em", "font-weight": "bold"})  # fmt: skip
                solara.Div(children=[help_], style={"font-size": "0.7em", "color": "#888"})


def caption(explored: store.Explored, t: float) -> str:
    """One line saying what the map shows at minute ``t``."""
    return view_caption(explored.view, t)


def view_caption(view: RunView, t: float) -> str:
    """One line saying what the map of ``view`` shows at minute ``t``."""
    rp = view.replay
    waiting = sum(sum(rp.scene_counts(t, i).values()) for i in rp.incidents)
    moving = sum(v.moving for v in rp.vehicles_at(t))
    return (
        f"minute {t:.0f}: {waiting} waiting at the scene, {moving} ambulances moving, "
        f"{rp.deaths_at(t)} deaths"
    )


@solara.component
def Player(last: int):
    """Advances the scrubber while playing (a worker thread ticking every PLAY_TICK_S)."""

    def tick(cancel: threading.Event) -> None:
        while store.playing.value and not cancel.wait(PLAY_TICK_S):
            nxt = store.minute.value + PLAY_STEP_MIN
            if nxt >= last:
                store.minute.value = last
                store.playing.value = False
                return
            store.minute.value = nxt

    solara.hooks.use_thread(tick, [store.playing.value, last])

    def toggle() -> None:
        if not store.playing.value and store.minute.value >= last:
            store.minute.value = 0
        store.playing.value = not store.playing.value

    solara.Button(
        "Pause" if store.playing.value else "Play",
        icon_name="mdi-pause" if store.playing.value else "mdi-play",
        on_click=toggle,
        classes=["mcsim-play"],
        outlined=True,
    )


@solara.component
def MapPanel(explored: store.Explored):
    """The map at the scrubber's minute, the scrubber, play/pause and step buttons."""
    last = int(math.ceil(explored.view.last_min))
    t = min(store.minute.value, last)
    assert explored.map is not None
    with solara.Column(gap="2px", classes=["mcsim-map"]):
        MapFigure(explored.map, t, classes=["mcsim-map-image"])
        with solara.Row(gap="6px", style={"align-items": "center"}):
            Player(last)
            solara.Button(
                "−10", on_click=lambda: store.minute.set(max(0, t - 10)), text=True,
                classes=["mcsim-minus10"],
            )  # fmt: skip
            with solara.Div(style={"flex-grow": "1"}, classes=["mcsim-scrubber"]):
                solara.SliderInt("minute", value=store.minute, min=0, max=last, step=1)
            solara.Button(
                "+10", on_click=lambda: store.minute.set(min(last, t + 10)), text=True,
                classes=["mcsim-plus10"],
            )  # fmt: skip
        solara.Text(caption(explored, t), classes=["mcsim-map-caption"],
                    style={"font-size": "0.85em"})  # fmt: skip


@solara.component
def ChartsPanel(series: charts.TimeseriesRenderer):
    """The four time series, with a cursor at the scrubber's minute."""
    solara.Image(series.png(store.minute.value), classes=["mcsim-charts"])


@solara.component
def Explore():
    """KPI cards on top, then the map and the charts side by side."""
    explored = store.explore_run.latest
    if explored is None:
        solara.Info(
            "Choose a scenario and the policies on the left, then press Run.",
            classes=["mcsim-hint"],
        )
        return
    m = explored.view.metrics
    with solara.Column(gap="8px"):
        solara.Text(
            f"{explored.view.scenario.name} — seed {explored.view.setup.seed}; "
            f"{store.policy_label(explored.view)}",
            style={"font-size": "0.9em", "color": "#444"},
            classes=["mcsim-run-title"],
        )
        KpiCards(m)
        with solara.Row(gap="8px", style={"align-items": "flex-start", "flex-wrap": "wrap"}):
            if explored.map is None:
                solara.Text("drawing the map…", classes=["mcsim-drawing"])
            else:
                MapPanel(explored)
            if explored.charts is not None:
                ChartsPanel(explored.charts)
        if explored.charts is not None:
            FlowsPanel(explored.view)
