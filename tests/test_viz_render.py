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
    default = mcsim.default_scenario_path().stem
    store.scenario_name.value = default
    store.uploaded.value = None
    store.upload_error.value = ""
    store.setup.value = SetUp()
    store.minute.value = 0
    store.playing.value = False
    store.compare_b.value = SetUp()
    store.sweep_folder.value = ""
    store.compare_minute.value = 30
    yield
    store.playing.value = False


def texts(rc, cls: str) -> list[str]:
    return [str(x.widget.children[0]) for x in rc.find(v.Html, class_=cls)]


def images(rc, cls: str) -> list[bytes]:
    return [bytes(x.widget.value) for x in rc.find(widgets.Image) if cls in x.widget._dom_classes]


def map_titles(rc, cls: str) -> list[str]:
    """The titles (minute, deaths, …) of the plotly figures inside the element of class ``cls``."""

    def figures(w):
        if isinstance(w, go.FigureWidget):
            yield w
        for c in getattr(w, "children", ()) or ():
            if isinstance(c, widgets.Widget):
                yield from figures(c)

    return [
        str(f.layout.title.text) for x in rc.find(v.Html, class_=cls) for f in figures(x.widget)
    ]


def settle(task) -> None:
    """Wait for a task's worker thread, which re-renders the page when it finishes.

    Without a browser there is no kernel lock between that render and the test's own changes
    (the server has one), so a test changes state only once the worker is done.
    """
    thread = task._instance.value._current_thread  # solara (pinned) internals
    if thread is not None:
        thread.join(WAIT_S)
        assert not thread.is_alive()


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
    assert mcsim.default_scenario_path().stem in selects["Scenario"]
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
    box, rc = solara.render(Explore(), handle_error=False)
    rc.find(v.Html, class_="mcsim-kpi-value").wait_for(timeout=WAIT_S)
    settle(store.explore_run)
    assert len(texts(rc, "mcsim-kpi-value")) == 4
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


def wait_until(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def play_button(rc):
    return rc.find(v.Btn, class_="mcsim-play").widget


def test_play_advances_the_scrubber_and_pause_stops_it():
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
    time.sleep(2 * explore.PLAY_TICK_S)  # a tick already under way may still land
    stopped = store.minute.value
    time.sleep(3 * explore.PLAY_TICK_S)
    assert store.minute.value == stopped
    rc.close()


def test_broken_upload_shows_the_error_inline_and_keeps_the_scenario():
    box, rc = solara.render(SetupPanel(), handle_error=False)
    accept_upload("broken.yaml", b"schema_version: 1\nname: x\nhospitals: 3\n")
    rc.find(v.Alert).wait_for(timeout=WAIT_S)
    (alert,) = [a.widget for a in rc.find(v.Alert)]
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


def test_sweeps_page_opens_a_folder_and_plots(tmp_path):
    import pandas as pd

    pd.DataFrame(
        {"destination": ["a", "a", "b", "b"], "casualties": [100, 200, 100, 200],
         "deaths": [1.0, 2.0, 3.0, 5.0]}
    ).to_parquet(tmp_path / "runs.parquet")  # fmt: skip
    box, rc = solara.render(Sweeps(), handle_error=False)
    store.sweep_folder.value = str(tmp_path / "missing")
    rc.find(v.Btn, children=["Open"]).widget.click()
    rc.find(v.Alert).assert_single()
    store.sweep_folder.value = str(tmp_path)
    rc.find(v.Btn, children=["Open"]).widget.click()
    rc.find(v.Alert).assert_empty()
    assert images(rc, "mcsim-sweep-plot")
    rc.close()
