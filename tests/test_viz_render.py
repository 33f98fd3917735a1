"""Every page and component renders, and reacts, without a browser (solara.render)."""

from __future__ import annotations

import time

import ipyvuetify as v
import ipywidgets as widgets
import plotly.graph_objects as go
import pytest
import solara

import mcsim
from mcsim.policies import default_registry
from tests import app_state
from tests.app_state import reset_app_state
from viz import runner
from viz.app import Page
from viz.components import explore, store
from viz.components.compare import Compare
from viz.components.explore import Explore
from viz.components.setup import SetupPanel, accept_upload
from viz.components.sweeps import Sweeps
from viz.runner import SetUp

WAIT_S = 30


@pytest.fixture(autouse=True)
def fresh_state():
    """Each test starts from the app's initial state (reactive variables are module-level)."""
    reset_app_state()  # one seed, as these tests expect (tests/test_viz_replications.py: more)
    yield
    store.playing.value = False


def texts(rc, cls: str) -> list[str]:
    return [str(x.widget.children[0]) for x in rc.find(v.Html, class_=cls)]


def images(rc, cls: str) -> list[bytes]:
    return [bytes(x.widget.value) for x in rc.find(widgets.Image) if cls in x.widget._dom_classes]


def figure_widgets(rc, cls: str) -> list[go.FigureWidget]:
    """The plotly figure widgets inside the elements of class ``cls``."""

    def walk(w):
        if isinstance(w, go.FigureWidget):
            yield w
        for c in getattr(w, "children", ()) or ():
            if isinstance(c, widgets.Widget):
                yield from walk(c)

    return [f for x in rc.find(v.Html, class_=cls) for f in walk(x.widget)]


def map_titles(rc, cls: str) -> list[str]:
    """The titles (minute, deaths, …) of the plotly figures inside the element of class ``cls``."""
    return [str(f.layout.title.text) for f in figure_widgets(rc, cls)]


#: The Explore tab's plotly figures (the map, hospital load, casualty flow).
EXPLORE_FIGURES = ("mcsim-map-image", "mcsim-hospital-load", "mcsim-sankey")


settle = app_state.settle


def run_default(rc) -> None:
    rc.find(v.Btn, children=["Run"]).widget.click()
    rc.find(v.Html, class_="mcsim-kpi-value").wait_for(timeout=WAIT_S)
    settle(store.explore_run)


def test_page_renders_set_up_panel_tabs_and_hint_before_any_run():
    box, rc = solara.render(Page(), handle_error=False)
    rc.find(v.Btn, children=["Run"]).assert_single()
    for tab in ("Explore", "Compare", "Sweeps"):
        rc.find(v.Tab, children=[tab]).assert_single()
    selects = {s.widget.label: s.widget.items for s in rc.find(v.Select)}
    assert selects["Triage"] == default_registry().names("triage")
    assert selects["Destination"] == default_registry().names("destination")
    stems = [item["value"] for item in selects["Scenario"]]
    assert mcsim.default_scenario_path().stem in stems
    rc.find(v.Alert, class_="mcsim-hint").assert_single()  # no run yet: the hint, at once
    rc.close()


def test_run_shows_progress_then_kpi_cards_map_caption_and_charts():
    box, rc = solara.render(Page(), handle_error=False)
    rc.find(v.Btn, children=["Run"]).widget.click()
    # the run is in a worker thread: the page shows progress meanwhile and stays live
    rc.find(v.ProgressLinear).assert_single()
    rc.find(v.Html, class_="mcsim-running").assert_single()
    rc.find(v.Html, class_="mcsim-kpi-value").wait_for(timeout=WAIT_S)
    settle(store.explore_run)
    rc.find(v.ProgressLinear).assert_empty()
    metrics = store.explore_run.latest.view.metrics
    assert texts(rc, "mcsim-kpi-value") == [
        f"{100 * metrics['critical_mortality']:.1f} %",
        str(metrics["deaths"]),
        f"{metrics['first_hospital_arrival_min']:.1f} min",
        f"{metrics['scene_clear_min']:.1f} min" if metrics["scene_clear_min"] else "–",
    ]
    assert map_titles(rc, "mcsim-map-image")[0].startswith("<b>minute 0</b>")
    assert images(rc, "mcsim-charts")
    assert texts(rc, "mcsim-map-caption")[0].startswith("minute 0:")
    # the planner's views: hospital load against capacity, and the casualty flow
    assert map_titles(rc, "mcsim-hospital-load")[0].startswith("Hospital load")
    assert "Casualty flow" in map_titles(rc, "mcsim-sankey")[0]
    rc.close()


def test_explore_alone_shows_the_finished_run():
    store.explore_run(store.current_scenario(), SetUp())
    settle(store.explore_run)  # finished before the tab is drawn: shown at once
    box, rc = solara.render(Explore(), handle_error=False)
    assert len(texts(rc, "mcsim-kpi-value")) == 4
    rc.find(v.Alert, class_="mcsim-hint").assert_empty()
    rc.close()


def test_moving_the_scrubber_redraws_the_map_without_running_again():
    box, rc = solara.render(Page(), handle_error=False)
    run_default(rc)
    done = store.explore_run.latest
    assert map_titles(rc, "mcsim-map-image")[0].startswith("<b>minute 0</b>")
    charts_before = images(rc, "mcsim-charts")[0]
    store.minute.value = 30
    assert map_titles(rc, "mcsim-map-image")[0].startswith("<b>minute 30</b>")
    assert images(rc, "mcsim-charts")[0] != charts_before  # the charts' cursor moved
    assert texts(rc, "mcsim-map-caption")[0].startswith("minute 30:")
    assert store.explore_run.latest is done  # same run object: nothing re-ran
    rc.close()


def test_a_new_run_refills_the_same_figure_widgets_and_keeps_them_open(monkeypatch):
    """A plotly widget unmounted while its browser model still loaded made anywidget log
    "Failed to initialize model". A second Run (another seed) shows its own run in the very
    widgets of the first, none closed; while it draws its map (the cards come first), the
    first run's map stays on screen, its caption saying so."""
    import threading

    from viz import mapview

    box, rc = solara.render(Page(), handle_error=False)
    run_default(rc)
    first = {cls: figure_widgets(rc, cls) for cls in EXPLORE_FIGURES}
    assert all(len(f) == 1 for f in first.values()), first
    old_caption = texts(rc, "mcsim-map-caption")[0]
    drawing, go_on = threading.Event(), threading.Event()
    real = mapview.InteractiveMap

    def held(view, **kw):  # the worker, between handing over the cards and the map
        drawing.set()
        go_on.wait(WAIT_S)
        return real(view, **kw)

    monkeypatch.setattr(mapview, "InteractiveMap", held)
    store.setup.value = SetUp(seed=5)
    rc.find(v.Btn, children=["Run"]).widget.click()
    assert drawing.wait(WAIT_S)
    assert store.explore_run.latest.view.setup.seed == 5 and store.explore_run.latest.map is None
    assert figure_widgets(rc, "mcsim-map-image") == first["mcsim-map-image"]
    caption = texts(rc, "mcsim-map-caption")[0]
    assert caption.startswith(old_caption) and "drawing the new run's map" in caption
    go_on.set()
    settle(store.explore_run)
    second = store.explore_run.latest
    assert second.view.setup.seed == 5 and second.map is not None
    for cls in EXPLORE_FIGURES:
        [w] = figure_widgets(rc, cls)
        assert w is first[cls][0], f"{cls}: a new widget"
        assert w.comm is not None, f"{cls}: closed"
    assert "drawing" not in texts(rc, "mcsim-map-caption")[0]
    store.minute.value = 700  # the new run's deaths, on the refilled map
    [w] = figure_widgets(rc, "mcsim-map-image")
    assert f"deaths {second.view.replay.deaths_at(700)}" in str(w.layout.title.text)
    rc.close()


def wait_until(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def play_button(rc):
    return rc.find(v.Btn, class_="mcsim-play").widget


def test_play_advances_the_scrubber_and_pause_stops_it():
    """Waits on state, never on a sleep: after Pause, once the Play loop has ended, the
    minute no longer moves."""
    box, rc = solara.render(Page(), handle_error=False)
    run_default(rc)
    assert "Play" in play_button(rc).children
    play_button(rc).click()
    assert store.playing.value
    wait_until(lambda: "Pause" in play_button(rc).children, "the Pause button")
    wait_until(lambda: store.minute.value > 0, "the scrubber to advance")
    play_button(rc).click()
    assert not store.playing.value
    wait_until(lambda: "Play" in play_button(rc).children, "the Play button")
    wait_until(lambda: not explore.player_running(), "the Play loop to end")
    stopped = store.minute.value  # the loop has ended: nothing moves the scrubber any more
    assert store.minute.value == stopped
    play_button(rc).click()  # and Play again goes on from there
    wait_until(lambda: store.minute.value > stopped, "the scrubber to advance again")
    play_button(rc).click()
    wait_until(lambda: not explore.player_running(), "the Play loop to end")
    rc.close()


def test_play_follows_the_wall_clock_at_the_chosen_speed():
    """Defect 9: Play ran at 3.3 min/s (a fixed step per tick, slowed by each redraw)."""
    assert explore.play_minute(10, 8, 1.0, 600) == 18
    assert explore.play_minute(10, 8, 0.2, 600) == 11
    assert explore.play_minute(590, 32, 2.0, 600) == 600  # stops at the end
    assert store.play_speed.value == 8 and 8 in explore.PLAY_SPEEDS


def test_speed_select_sets_the_play_speed_and_a_new_run_starts_at_minute_0():
    box, rc = solara.render(Page(), handle_error=False)
    run_default(rc)
    speed = rc.find(v.Select, label="Play speed").widget
    assert speed.v_model == "8 min/s"
    speed.v_model = "32 min/s"
    assert store.play_speed.value == 32
    store.minute.value = 200
    rc.find(v.Btn, children=["Run"]).widget.click()
    assert store.minute.value == 0  # the minute does not carry over into the next run
    settle(store.explore_run)
    rc.close()


def test_broken_upload_shows_the_error_inline_and_keeps_the_scenario():
    box, rc = solara.render(SetupPanel(), handle_error=False)
    accept_upload("broken.yaml", b"schema_version: 1\nname: x\nhospitals: 3\n")
    # accept_upload is synchronous: the alert is there at once (no waiting on a timeout, and
    # no other Alert, such as an earlier run's error, is mistaken for it)
    (alert,) = [a.widget for a in rc.find(v.Alert, class_="mcsim-upload-error")]
    text = str(alert.children)
    assert "broken.yaml" in text and "Scenario refused" in text
    assert store.scenario_name.value == mcsim.default_scenario_path().stem
    rc.close()


def test_choosing_another_scenario_resets_the_casualty_count_to_its_own():
    box, rc = solara.render(SetupPanel(), handle_error=False)
    store.setup.value = SetUp(casualties=999)
    others = [n for n in runner.shipped_scenarios() if n != store.scenario_name.value]
    if not others:
        pytest.skip("only one shipped scenario")
    select = next(s for s in rc.find(v.Select) if s.widget.label == "Scenario").widget
    select.v_model = others[0]
    assert store.scenario_name.value == others[0]
    assert store.setup.value.casualties is None
    total = sum(i.casualties for i in runner.load_shipped(others[0]).incidents)
    field = next(t for t in rc.find(v.TextField) if t.widget.label == "Casualties").widget
    assert field.v_model == str(total)
    rc.close()


def test_good_upload_is_selected_with_its_policies():
    box, rc = solara.render(SetupPanel(), handle_error=False)
    accept_upload("mine.yaml", mcsim.default_scenario_path().read_bytes())
    assert store.uploaded.value[0] == "mine.yaml"
    assert store.scenario_name.value == ""
    assert store.current_scenario() is store.uploaded.value[1]  # what Run will use
    scenario_select = next(s for s in rc.find(v.Select) if s.widget.label == "Scenario")
    assert scenario_select.widget.v_model == "uploaded: mine.yaml"
    rc.find(v.Alert).assert_empty()
    rc.close()


def test_compare_runs_both_policy_sets_and_shows_the_differences():
    box, rc = solara.render(Compare(), handle_error=False)
    names = default_registry().names("destination")
    other = next(n for n in names if n != "nearest")
    store.compare_b.value = SetUp(destination=other)
    rc.find(v.Btn, children=["Run comparison"]).widget.click()
    rc.find(v.Html, class_="mcsim-compare-table").wait_for(timeout=WAIT_S)
    settle(store.compare_run)
    done = store.compare_run.value
    assert done.a.setup.seed == done.b.setup.seed
    assert done.b.result.policies["destination"] == other
    md = str(rc.find(v.Html, class_="mcsim-compare-table").widget.children)
    assert "B − A" in md or "B \u2212 A" in md
    assert images(rc, "mcsim-compare-charts")
    assert map_titles(rc, "mcsim-compare-map-a")[0].startswith("<b>minute 30</b>")
    assert map_titles(rc, "mcsim-compare-map-b")[0].startswith("<b>minute 30</b>")
    store.compare_minute.value = 60
    assert map_titles(rc, "mcsim-compare-map-a")[0].startswith("<b>minute 60</b>")
    assert map_titles(rc, "mcsim-compare-map-b")[0].startswith("<b>minute 60</b>")
    rc.close()


def test_compare_b_starts_on_another_destination_policy_and_runs_what_it_shows():
    box, rc = solara.render(Compare(), handle_error=False)
    shown = next(s for s in rc.find(v.Select) if s.widget.label == "B: Destination").widget.v_model
    assert shown != "nearest"  # the default scenario's destination policy
    rc.find(v.Btn, children=["Run comparison"]).widget.click()
    wait_until(lambda: store.compare_run.finished, "the comparison")
    settle(store.compare_run)
    assert store.compare_run.value.b.result.policies["destination"] == shown
    assert store.compare_run.value.a.result.policies["destination"] == "nearest"
    rc.close()


def test_sweeps_page_lists_the_results_root_opens_one_with_a_busy_indicator_and_plots(
    tmp_path, monkeypatch
):
    """Defect 6: no typed server path; the sweeps under the root are listed and opened."""
    import pandas as pd

    from viz import sweeps as sweeps_mod

    root = tmp_path / "results"
    (root / "fleet").mkdir(parents=True)
    pd.DataFrame(
        {"destination": ["a", "a", "b", "b"], "casualties": [100, 200, 100, 200],
         "deaths": [1.0, 2.0, 3.0, 5.0]}
    ).to_parquet(root / "fleet" / "runs.parquet")  # fmt: skip
    monkeypatch.setenv(sweeps_mod.RESULTS_ENV, str(root))
    box, rc = solara.render(Sweeps(), handle_error=False)
    rc.find(v.TextField, label="Sweep folder").assert_empty()  # no free-typed path any more
    select = rc.find(v.Select, label="Sweep").widget
    assert [i["value"] for i in select.items] == ["fleet"]
    rc.find(v.Alert, class_="mcsim-sweep-none").assert_empty()
    select.v_model = "fleet"
    gate = store.sweep_load._instance.value._start_event  # solara's hook to hold a task
    gate.clear()
    try:
        rc.find(v.Btn, children=["Open"]).widget.click()
        rc.find(v.Html, class_="mcsim-sweep-loading").assert_single()  # busy while reading
    finally:
        gate.set()
    rc.find(v.Html, class_="mcsim-sweep-size").wait_for(timeout=WAIT_S)
    settle(store.sweep_load)
    rc.find(v.Html, class_="mcsim-sweep-loading").assert_empty()
    assert images(rc, "mcsim-sweep-plot")
    # a name from outside the list (as a hand-made request would send) is refused
    store.sweep_load("../")
    rc.find(v.Alert, class_="mcsim-sweep-error").wait_for(timeout=WAIT_S)
    settle(store.sweep_load)
    error = rc.find(v.Alert, class_="mcsim-sweep-error").widget
    assert "'..' is not allowed" in str(error.children)
    rc.close()


def field(rc, label: str):
    return next(t for t in rc.find(v.TextField) if t.widget.label == label).widget


@pytest.mark.parametrize(
    ("label", "typed", "named"),
    [
        ("Casualties", "-50", "Casualties: 1 or more is needed, not -50"),
        ("Seed", "1.5", "Seed: a whole number is needed, not '1.5'"),
        ("Call-in delay (min)", "xyz", "Call-in delay (min): a number is needed, not 'xyz'"),
    ],
)
def test_a_bad_typed_field_is_refused_inline_by_name_and_nothing_runs(label, typed, named):
    """Defect 5: the field turns red saying why, Run names it and does not run old values."""
    box, rc = solara.render(SetupPanel(), handle_error=False)
    before, last_run = store.setup.value, store.explore_run.latest
    field(rc, label).v_model = typed
    assert field(rc, label).error  # red, inline, as typed (not clamped)
    assert field(rc, label).v_model == typed
    rc.find(v.Btn, children=["Run"]).widget.click()
    (alert,) = [a.widget for a in rc.find(v.Alert, class_="mcsim-setup-error")]
    assert named in str(alert.children)
    assert not store.explore_run.pending and store.explore_run.latest is last_run
    assert store.setup.value == before
    rc.close()


def test_good_typed_fields_are_what_the_run_uses():
    box, rc = solara.render(SetupPanel(), handle_error=False)
    field(rc, "Seed").v_model = "3"
    field(rc, "Casualties").v_model = "40"
    rc.find(v.Btn, children=["Run"]).widget.click()
    wait_until(lambda: store.explore_run.latest is not None, "the run")
    settle(store.explore_run)
    view = store.explore_run.latest.view
    assert view.setup.seed == 3 and view.setup.casualties == 40
    assert sum(i.casualties for i in view.scenario.incidents) == 40
    rc.find(v.Alert, class_="mcsim-setup-error").assert_empty()
    rc.close()


def button_texts(rc) -> list[str]:
    return [" ".join(map(str, b.widget.children)) for b in rc.find(v.Btn)]


def test_explore_and_compare_offer_tables_figures_and_a_report_to_download():
    box, rc = solara.render(Page(), handle_error=False)
    run_default(rc)
    shown = button_texts(rc)
    # (the interactive map saves itself as a PNG from its own tool bar)
    for label in ("Tables (CSV)", "Tables (Parquet)", "Figure: charts-minute0 (PNG)",
                  "Report (HTML)"):  # fmt: skip
        assert any(label in t for t in shown), label
    rc.close()
    box, rc = solara.render(Compare(), handle_error=False)
    rc.find(v.Btn, children=["Run comparison"]).widget.click()
    wait_until(lambda: store.compare_run.finished, "the comparison")
    settle(store.compare_run)
    wait_until(lambda: any("Report (HTML)" in t for t in button_texts(rc)), "the downloads")
    assert any("Tables (CSV)" in t for t in button_texts(rc))
    rc.close()


def test_the_app_renders_with_reacton_fast_renderer():
    """viz.app turns on reacton's fast renderer (a scrub then skips the unchanged tabs), for
    `mcsim app` and `solara run viz/app.py` alike; REACTON_FAST=0 still turns it off."""
    import os
    import subprocess
    import sys

    probe = (
        "import viz.app, reacton.core as c; "
        "print(c._render_context_class().__name__)"
    )
    # a fresh process, without what earlier tests of this worker left in the environment
    # (`mcsim app` run in-process records its results root, posterior and plugins there)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REACTON_", "MCSIM_"))}

    def renderer(extra: dict[str, str]) -> str:
        out = subprocess.run([sys.executable, "-c", probe], env={**env, **extra},
                             capture_output=True, text=True, check=False)  # fmt: skip
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert renderer({}) == "_RenderContextFast"
    assert renderer({"REACTON_FAST": "0"}) == "_RenderContext"


def test_the_map_moves_as_the_minute_changes_before_the_page_re_renders():
    """The map follows the scrubber's reactive minute directly: its update leaves from the
    handler that moved the scrubber, before the re-render (whose widget messages wait for the
    end of the render), so the browser starts redrawing the map sooner."""
    box, rc = solara.render(Page(), handle_error=False)
    run_default(rc)
    assert map_titles(rc, "mcsim-map-image")[0].startswith("<b>minute 0</b>")
    captions = texts(rc, "mcsim-map-caption")
    with rc:  # as in an event handler: the page re-renders when the block ends
        store.minute.value = 40
        assert map_titles(rc, "mcsim-map-image")[0].startswith("<b>minute 40</b>")
        assert texts(rc, "mcsim-map-caption") == captions  # the page has not re-rendered yet
    assert texts(rc, "mcsim-map-caption")[0].startswith("minute 40:")
    rc.close()


def test_the_set_up_panel_holds_hospitals_in_reserve_and_a_new_scenario_forgets_them():
    """The "Held in reserve" select lists the scenario's hospitals and shows its reserve;
    choosing hospitals puts them in the set-up (scenario order) and the run's policies (one held
    until a minute is then held all run); another scenario starts again from its own reserve."""
    store.scenario_name.value = "paris_november_2015_attacks"
    box, rc = solara.render(SetupPanel(), handle_error=False)
    scenario = store.current_scenario()
    (select,) = [s.widget for s in rc.find(v.Select, class_="mcsim-reserve")]
    assert [i for i in select.items] == [h.id for h in scenario.hospitals]
    assert select.v_model == ["beaujon", "bichat", "avicenne"]  # the SAMU's reserve [PA5]
    timed = rc.find(v.Html, class_="mcsim-reserve-until").widget.children[0]
    assert "begin until minute 194" in timed and "percy until minute 194" in timed  # [PA14]
    select.v_model = ["begin", "bichat"]  # Bégin held all run instead of until 00:30
    run_with = runner.apply_setup(scenario, store.setup.value)
    assert run_with.policies.reserve == ["bichat", "begin"]  # scenario order
    assert run_with.policies.reserve_until_min == {"percy": 194}
    select.v_model = ["hegp", "bichat"]
    assert store.setup.value.reserve == ("hegp", "bichat")
    run_with = runner.apply_setup(scenario, store.setup.value)
    assert run_with.policies.reserve == ["hegp", "bichat"]
    select.v_model = []
    assert runner.apply_setup(scenario, store.setup.value).policies.reserve == []
    other = next(s for s in rc.find(v.Select) if s.widget.label == "Scenario").widget
    other.v_model = mcsim.default_scenario_path().stem
    assert store.setup.value.reserve is None
    rc.close()
