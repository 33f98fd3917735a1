"""The Explore tab: KPI cards, the map with its time scrubber and play button, the charts.

Moving the scrubber never re-runs anything: the map is redrawn from the run's
:class:`~viz.state.Replay` (a binary search in the records) by the run's
:class:`~viz.mapview.InteractiveMap`, which sends only the moving traces to the browser.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import solara
import solara.hooks

from viz import charts, kpi
from viz import replications as vr
from viz.components import posterior, store
from viz.components import replications as reps
from viz.components.downloads import RunDownloads
from viz.components.drivers import DrivesPanel
from viz.components.flows import FlowsPanel
from viz.components.mapview import MapFigure
from viz.runner import RunView

#: Play: the speeds offered (simulated minutes per wall second), and seconds between redraws.
PLAY_SPEEDS = (2, 4, 8, 16, 32)
PLAY_TICK_S = 0.25


@solara.component
def KpiCards(
    metrics: dict[str, Any], over_runs: list | None = None, under: str = "", note: str = ""
):
    """The four headline KPIs as cards: one run's values, or means with intervals over runs.

    Args:
        metrics: the run's metrics (shown while ``over_runs`` is None).
        over_runs: :func:`viz.replications.cards` of the replications, once they are done.
        under: the line under a single run's value (e.g. that more runs are on their way).
        note: follows each label; a live exercise passes "so far (minute 120)": its figures
            are of the run up to now, not of the whole incident.
    """
    if over_runs is None:
        shown = [(label, value, under, help_) for label, value, help_ in kpi.headline(metrics)]
    else:
        shown = [(c.label, c.value, c.interval, c.help) for c in over_runs]
    with solara.Row(classes=["mcsim-kpis"], gap="8px", style={"flex-wrap": "wrap"}):
        for label, value, interval, help_ in shown:
            label = f"{label} {note}" if note else label
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
                if interval:
                    solara.Div(children=[interval], classes=["mcsim-kpi-interval"],
                               style={"font-size": "0.8em", "color": "#333"})  # fmt: skip
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


def play_minute(start_minute: int, speed: float, elapsed_s: float, last: int) -> int:
    """The minute Play shows ``elapsed_s`` wall seconds after it started at ``start_minute``.

    Play follows the wall clock, not a count of ticks: each tick's redraw takes time, so
    adding a fixed step per tick ran at 3.3 simulated min/s where 8 were meant. Frames may
    be skipped on a slow machine; the speed holds.
    """
    return min(last, start_minute + int(speed * elapsed_s))


#: Set while a Play loop runs (after Pause it may move the scrubber once more, then ends).
_PLAYER_RUNNING = threading.Event()


def player_running() -> bool:
    """Whether a Play loop is still running (the scrubber may still move until it ends)."""
    return _PLAYER_RUNNING.is_set()


def set_playing(on: bool) -> None:
    """Play or pause (the loop stops at its next tick; :func:`player_running` says when)."""
    store.playing.value = on


@solara.component
def Player(last: int):
    """Advances the scrubber while playing, at the chosen simulated minutes per second."""

    def tick(cancel: threading.Event) -> None:
        _PLAYER_RUNNING.set()
        try:
            t0, m0 = time.monotonic(), store.minute.value
            shown = m0
            while store.playing.value and not cancel.wait(PLAY_TICK_S):
                if not store.playing.value:
                    return
                if store.minute.value != shown:  # the user moved the scrubber: go on from there
                    t0, m0 = time.monotonic(), store.minute.value
                shown = play_minute(m0, store.play_speed.value, time.monotonic() - t0, last)
                store.minute.value = shown
                if shown >= last:
                    store.playing.value = False
                    return
        finally:
            _PLAYER_RUNNING.clear()

    solara.hooks.use_thread(tick, [store.playing.value, last, store.play_speed.value])

    def toggle() -> None:
        if not store.playing.value and store.minute.value >= last:
            store.minute.value = 0
        set_playing(not store.playing.value)

    solara.Button(
        "Pause" if store.playing.value else "Play",
        icon_name="mdi-pause" if store.playing.value else "mdi-play",
        on_click=toggle,
        classes=["mcsim-play"],
        outlined=True,
    )


def speed_label(speed: int) -> str:
    """How the speed select shows a speed."""
    return f"{speed} min/s"


@solara.component
def TimeBar(last: int):
    """Play/pause, ±10 min, the scrubber (the full width of the tab) and the Play speed."""
    t = min(store.minute.value, last)
    labels = [speed_label(x) for x in PLAY_SPEEDS]
    with solara.Row(gap="6px", style={"align-items": "center", "width": "100%"},
                    classes=["mcsim-timebar"]):  # fmt: skip
        Player(last)
        solara.Button(
            "−10", on_click=lambda: store.minute.set(max(0, t - 10)), text=True,
            classes=["mcsim-minus10"],
        )  # fmt: skip
        with solara.Div(style={"flex-grow": "1", "min-width": "300px"},
                        classes=["mcsim-scrubber"]):  # fmt: skip
            solara.SliderInt("minute", value=store.minute, min=0, max=last, step=1)
        solara.Button(
            "+10", on_click=lambda: store.minute.set(min(last, t + 10)), text=True,
            classes=["mcsim-plus10"],
        )  # fmt: skip
        with solara.Div(style={"width": "120px"}, classes=["mcsim-speed"]):
            solara.Select(
                "Play speed", values=labels, value=speed_label(store.play_speed.value),
                on_value=lambda v: store.play_speed.set(PLAY_SPEEDS[labels.index(v)]),
            )  # fmt: skip


@solara.component
def MapPanel(explored: store.Explored, drawing: bool = False):
    """The map at the scrubber's minute and its caption.

    ``drawing``: a newer run is on the cards while its map is still being drawn; this one
    (the previous run's) stays on screen until then, so its widget is never unmounted.
    """
    last = int(math.ceil(explored.view.last_min))
    t = min(store.minute.value, last)
    assert explored.map is not None
    note = " (the previous run: drawing the new run's map…)" if drawing else ""
    with solara.Column(gap="2px", classes=["mcsim-map"]):
        MapFigure(explored.map, t, classes=["mcsim-map-image"], follow=store.minute,
                  last=last).key("figure")  # fmt: skip
        solara.Text(caption(explored, t) + note, classes=["mcsim-map-caption"],
                    style={"font-size": "0.85em"}).key("caption")  # fmt: skip


@solara.component
def ChartsPanel(series: charts.TimeseriesRenderer):
    """The four time series, with a cursor at the scrubber's minute."""
    solara.Image(series.png(store.minute.value), classes=["mcsim-charts"])


@solara.component
def Explore():
    """KPI cards on top, then the map and the charts side by side, then the bands over runs.

    The first seed shows at once; the other seeds run after it (:mod:`.replications`), and
    once they are done the cards show means with intervals and the map and charts show the
    most typical run.

    Only the parts that show the scrubber's minute (time bar, map, charts, bands, downloads)
    read it, each in its own component, so a scrub re-renders those and not the whole tab.

    Every part has a key and the map and the plotly figures below it are never unmounted
    once shown: while a new run is still drawing its map or charts, the previous run's stay
    on screen, and a new run refills the same widgets in place. (Unmounting a plotly widget
    whose browser model is still loading made anywidget log "Failed to initialize model".)
    """
    first = store.explore_run.latest
    reps.use_explore_replications(first, store.explore_run.finished)
    with_map = solara.use_ref(None)  # the latest run shown whose map is drawn
    with_charts = solara.use_ref(None)  # ... and whose charts are drawn
    if first is None:
        solara.Info(
            "Choose a scenario and the policies on the left, then press Run.",
            classes=["mcsim-hint"],
        )
        reps.CountInput()  # how many seeds, chosen before the first Run too
        return
    done = reps.explore_result(first)
    explored = first if done is None else done.median
    if explored.map is not None:
        with_map.current = explored
    if explored.charts is not None:
        with_charts.current = explored
    on_map, on_charts = with_map.current, with_charts.current
    m = explored.view.metrics
    with solara.Column(gap="8px"):
        if done is None:
            title = f"seed {explored.view.setup.seed}"
        else:
            title = f"the most typical of {done.reps.n} runs: seed {explored.view.setup.seed}"
        solara.Text(
            f"{explored.view.scenario.name} — {title}; {store.policy_label(explored.view)}",
            style={"font-size": "0.9em", "color": "#444"},
            classes=["mcsim-run-title"],
        ).key("title")
        with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}).key(
            "reps"
        ):
            reps.CountInput().key("count")
            reps.Progress(reps.explore_reps, reps.explore_done.value,
                          None if done is None else done.reps, "replicating")  # fmt: skip
        pending = reps.count.value > 1 and done is None
        KpiCards(m, None if done is None else reps.cards(done),
                 under="this run; more runs on the way" if pending else "").key("kpis")  # fmt: skip
        posterior.UncertaintyNote(None if done is None else done.plan).key("uncertainty")
        if on_map is not None:
            TimeBar(int(math.ceil(on_map.view.last_min))).key("timebar")
        with solara.Row(gap="8px", style={"align-items": "flex-start", "flex-wrap": "wrap"}).key(
            "views"
        ):
            if on_map is None:
                solara.Text("drawing the map…", classes=["mcsim-drawing"]).key("drawing")
            else:
                MapPanel(on_map, drawing=on_map is not explored).key("map")
            if on_charts is not None:
                ChartsPanel(on_charts.charts).key("charts")
        if done is not None:
            BandsPanel(done.bands).key("bands")
        if on_charts is not None:
            FlowsPanel(on_charts.view).key("flows")
        if explored.map is not None and explored.charts is not None:
            MinuteDownloads(explored).key("downloads")
        DrivesPanel("explore").key("drivers")


@solara.component
def BandsPanel(bands: vr.BandsRenderer):
    """The bands over runs, with a cursor at the scrubber's minute."""
    solara.Image(bands.png(store.minute.value), classes=["mcsim-bands"])


@solara.component
def MinuteDownloads(explored: store.Explored):
    """The run's downloads, the charts at the scrubber's minute among them."""
    t = min(store.minute.value, int(math.ceil(explored.view.last_min)))
    # drawn only when a download asks for them, so scrubbing stays fast
    # (the map's own tool bar saves it as a PNG at the zoom on screen)
    shown = {f"charts-minute{t}": lambda t=t: explored.charts.png(t)}
    RunDownloads(explored.view, shown)
