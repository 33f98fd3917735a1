"""Replications in the app: cards with intervals, the typical run on the map, the paired table."""

from __future__ import annotations

import math
import time

import ipyvuetify as v
import ipywidgets as widgets
import numpy as np
import pytest
import solara

from mcsim.replications import Draw, Replications, run_replications, seed_draws
from tests.app_state import reset_app_state
from tests.test_viz_render import EXPLORE_FIGURES, figure_widgets
from viz import replications as vr
from viz import runner
from viz.app import Page
from viz.components import replications as reps
from viz.components import store
from viz.components.compare import Compare
from viz.runner import SetUp

#: Generous: the machine running the tests may be busy with other work.
WAIT_S = 180


@pytest.fixture(autouse=True)
def fresh_state():
    reset_app_state()
    reps.count.value = 3
    # runs left on screen by earlier tests are not replicated behind this test's back
    reps._explore_key.value = (id(store.explore_run.latest), 3)
    reps._compare_key.value = (id(store.compare_run.latest), 3)
    yield
    reps.count.value = 1


@pytest.fixture
def render():
    """solara.render that always closes its context, so a failed test leaves nothing live."""
    opened = []

    def _render(element):
        box, rc = solara.render(element, handle_error=False)
        opened.append(rc)
        return rc

    yield _render
    for rc in opened:
        rc.close()


def texts(rc, cls: str) -> list[str]:
    return [str(x.widget.children[0]) for x in rc.find(v.Html, class_=cls)]


def images(rc, cls: str) -> list[bytes]:
    return [bytes(x.widget.value) for x in rc.find(widgets.Image) if cls in x.widget._dom_classes]


def join(task) -> None:
    thread = task._instance.value._current_thread  # solara (pinned) internals
    if thread is not None:
        thread.join(WAIT_S)
        assert not thread.is_alive()


def wait_until(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_explore_shows_the_first_seed_then_intervals_and_the_typical_run(render):
    store.setup.value = SetUp(seed=2)
    rc = render(Page())
    rc.find(v.Btn, children=["Run"]).widget.click()
    rc.find(v.Html, class_="mcsim-kpi-value").wait_for(timeout=WAIT_S)
    join(store.explore_run)
    first = store.explore_run.latest
    widgets_first = [figure_widgets(rc, cls) for cls in EXPLORE_FIGURES]
    # (a run left on screen by an earlier test may finish its own replications first)
    wait_until(lambda: texts(rc, "mcsim-reps-done") == ["3 runs, seeds 2–4"], "replications")
    join(reps.explore_reps)
    # the cards are the means and intervals of an independent replication of the same runs
    sc = runner.apply_setup(store.current_scenario(), SetUp(seed=2))
    expected = run_replications(sc, seed_draws(2, 3))
    assert texts(rc, "mcsim-kpi-value") == [c.value for c in vr.cards(expected)]
    intervals = texts(rc, "mcsim-kpi-interval")
    assert len(intervals) == 4 and any(i.startswith("95 % CI [") for i in intervals)
    # the map shows the typical run, re-run with its own seed
    done = reps.explore_reps.value
    assert done.source is first
    seed = 2 + vr.median_index(expected)
    assert done.median.view.setup.seed == seed
    assert f"seed {seed}" in texts(rc, "mcsim-run-title")[0]
    assert done.median.view.metrics["deaths"] == expected.metric("deaths")[seed - 2]
    # ... in the first seed's widgets, refilled (never unmounted while loading in the browser)
    assert [figure_widgets(rc, cls) for cls in EXPLORE_FIGURES] == widgets_first
    before = images(rc, "mcsim-bands")[0]
    store.minute.value = 40
    assert images(rc, "mcsim-bands")[0] != before  # the bands' cursor follows the scrubber


def test_compare_replicates_both_sides_on_the_same_seeds_and_pairs_them(render):
    rc = render(Compare())
    store.compare_b.value = SetUp(destination="balance")
    rc.find(v.Btn, children=["Run comparison"]).widget.click()
    rc.find(v.Html, class_="mcsim-compare-table").wait_for(timeout=WAIT_S)
    join(store.compare_run)
    maps = [figure_widgets(rc, f"mcsim-compare-map-{x}") for x in "ab"]
    wait_until(lambda: reps.compare_result(store.compare_run.value) is not None, "pairs")
    rc.find(v.Html, class_="mcsim-paired-table").wait_for(timeout=WAIT_S)
    join(reps.compare_reps)
    done = reps.compare_reps.value
    assert done.source is store.compare_run.value
    assert [d.seed for d in done.a.draws] == [d.seed for d in done.b.draws] == [0, 1, 2]
    assert done.b.policies["destination"] == "balance"
    deaths = next(r for r in done.rows if r.label == "Deaths")
    diffs = done.b.metric("deaths") - done.a.metric("deaths")
    assert deaths.b_better == f"{int((diffs < 0).sum())} of 3"
    md = str(rc.find(v.Html, class_="mcsim-paired-table").widget.children)
    assert "B − A [95 % CI]" in md and "B better in" in md
    assert images(rc, "mcsim-compare-bands")
    # the tables above the maps came in; the maps kept their widgets
    assert [figure_widgets(rc, f"mcsim-compare-map-{x}") for x in "ab"] == maps
    assert all(len(m) == 1 and m[0].comm is not None for m in maps)


def test_the_runs_count_refuses_a_bad_number_inline_and_keeps_the_last_good_one(render):
    rc = render(reps.CountInput())
    field = rc.find(v.TextField).widget
    field.v_model = "0"
    field.fire_event("focusout", None)  # the field reports its value when it loses focus
    rc.find(v.Html, class_="mcsim-reps-count-error").assert_single()
    assert reps.count.value == 3
    field.v_model = "12"
    field.fire_event("focusout", None)
    rc.find(v.Html, class_="mcsim-reps-count-error").assert_empty()
    assert reps.count.value == 12


def test_estimates_read_as_a_planner_reads_them():
    assert vr.format_estimate(4.5, 2.87, 6.13, "count") == ("4.5", "95 % CI [2.9, 6.1]")
    assert vr.format_estimate(0.2, -0.5, 1.0, "count") == ("0.2", "95 % CI [0.0, 1.0]")
    assert vr.format_estimate(0.146, 0.087, 0.236, "pct") == ("14.6 %", "95 % CI [8.7, 23.6]")
    assert vr.format_estimate(315.0, 315.0, 315.0, "count") == ("315", "same in every run")
    assert vr.format_estimate(5.0, math.nan, math.nan, "count") == ("5.0", "one run: no interval")
    assert vr.format_estimate(math.nan, math.nan, math.nan, "min") == ("–", "–")


def test_a_difference_bound_near_zero_keeps_its_sign():
    from mcsim.replications import PairedDifference

    d = PairedDifference("deaths", 10, -0.3, -0.62, 0.04, 3, 7, "lower", 0.95)
    assert vr.format_difference(d, "count") == "-0.3 [-0.6, +0.04]"  # not "[-0.6, +0.0]"
    same = PairedDifference("deaths", 10, 0.0, 0.0, 0.0, 0, 10, "lower", 0.95)
    assert vr.format_difference(same, "count") == "0 in every run"


def _reps(deaths: list[float], scene: list[float]) -> Replications:
    n = len(deaths)
    return Replications(
        draws=[Draw(s) for s in range(n)], policies={},
        metric_names=("deaths", "scene_clear_min"),
        values=np.column_stack([deaths, scene]).astype(float), grid=np.array([0.0]),
        series=np.zeros((n, 1, 4), int),
    )  # fmt: skip


def test_the_paired_table_bolds_a_winner_only_outside_noise(render):
    a = _reps([5, 6, 7, 5], [100, 120, 110, 90])
    b = _reps([6, 5, 7, 4], [80, 100, 95, 70])  # deaths: noise; scene cleared: B always sooner
    rows = {r.label: r for r in vr.paired_rows(a, b)}
    deaths, scene = rows["Deaths"], rows["Scene cleared"]
    assert deaths.verdict == "within noise" and deaths.winner == ""
    assert deaths.b_better == "2 of 4"
    assert scene.verdict == "B better" and scene.winner == "B" and scene.b_better == "4 of 4"
    assert scene.diff.startswith("-18.8 min [")
    rc = render(reps.PairedTable(list(rows.values()), ("x", "y"), 4))
    md = str(rc.find(v.Html, class_="mcsim-paired-table").widget.children)
    assert "<strong>B better</strong>" in md and "<strong>within noise</strong>" not in md
    assert "<strong>5.8" not in md and "<strong>5.5" not in md  # neither deaths value in bold


def test_a_new_run_stops_the_replications_under_way_without_an_error(render):
    reps.count.value = 8
    reps._explore_key.value = (id(store.explore_run.latest), 8)
    reps._compare_key.value = (id(store.compare_run.latest), 8)
    rc = render(Page())
    rc.find(v.Btn, children=["Run"]).widget.click()
    wait_until(lambda: reps.explore_reps.pending, "the replications to start")
    old = reps.explore_reps._instance.value._current_thread
    store.setup.value = SetUp(seed=5)
    rc.find(v.Btn, children=["Run"]).widget.click()
    old.join(WAIT_S)  # the old replications stop at their next run
    assert not old.is_alive()
    errors = []

    def finished_or_error() -> bool:
        errors.extend(texts(rc, "mcsim-reps-error"))
        return texts(rc, "mcsim-reps-done") == ["8 runs, seeds 5–12"] or bool(errors)

    wait_until(finished_or_error, "the new run's replications")
    assert not errors
    join(reps.explore_reps)


def test_the_typical_run_is_drawn_like_the_first_and_is_the_run_it_summarised():
    from viz import charts

    first = runner.run(store.current_scenario(), SetUp(seed=1))
    like = store.Explored(first, charts.MapRenderer(first), charts.TimeseriesRenderer(first))
    again = vr.rerun(first, Draw(4))
    drawn = reps._drawn(again, like)
    assert type(drawn.map) is type(like.map) and drawn.map.view is again
    assert type(drawn.charts) is type(like.charts)
    summarised = run_replications(first.scenario, [Draw(4)])
    assert again.metrics["deaths"] == summarised.metric("deaths")[0]
    assert again.setup.seed == 4 and again.setup.casualties == first.setup.casualties
