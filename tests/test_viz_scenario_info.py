"""The Scenario tab: description, assumptions, header and the published record (issue 13)."""

from __future__ import annotations

import ipywidgets as widgets
import solara

from viz import runner, scenario_info
from viz.components import store
from viz.components.scenario import ScenarioTab
from viz.runner import SetUp

HEADER = """# Title line
#
# What it represents: a blast [BO10, BO18]. Casualties 267 [BO11], split 160 / 107
# [assumption]; at least 16 amputations [BO7].
# - Roads: 15 km/h [assumption].
# Travel times: straight lines [approximation; no road network].
schema_version: 2
name: x
"""


def test_header_comments_assumptions_and_cited_sources_are_read_from_the_file_text():
    head = scenario_info.header_comments(HEADER)
    assert head.splitlines()[0] == "Title line" and "schema_version" not in head
    found = scenario_info.assumptions(head)
    assert any(a.startswith("Casualties 267 [BO11], split 160 / 107 [assumption]") for a in found)
    assert "Roads: 15 km/h [assumption]." in found
    assert any(a.startswith("Travel times: straight lines [approximation") for a in found)
    assert not any("What it represents" in a for a in found)  # no marker, not an assumption
    assert scenario_info.cited_keys(head) == ["BO10", "BO18", "BO11", "BO7"]


def test_a_historical_scenario_shows_its_record_beside_the_run():
    stem = "manchester_arena_bombing"
    sc = runner.load_shipped(stem)
    info = scenario_info.scenario_info(stem, sc)
    assert info.title == sc.name and info.description
    assert info.incident.startswith("Manchester Arena bombing")
    deaths = next(r for r in info.record if r.figure == "deaths")
    assert (deaths.record, deaths.band, deaths.this_run) == ("22", "18–30", "(run it)")
    assert "MA2" in info.sources and info.assumptions
    view = runner.run(sc, SetUp(seed=0))
    with_run = scenario_info.scenario_info(stem, sc, view)
    deaths = next(r for r in with_run.record if r.figure == "deaths")
    assert deaths.this_run == str(view.metrics["deaths"])
    assert deaths.in_band == (18 <= view.metrics["deaths"] <= 30)
    md = scenario_info.info_markdown(with_run)
    assert "| figure | record | band | this run | source |\n|---|" in md  # one table block


def test_a_synthetic_scenario_has_no_record_table():
    stem = next(iter(runner.shipped_scenarios()))
    info = scenario_info.scenario_info(stem, runner.load_shipped(stem))
    assert info.record == [] and "Published record" not in scenario_info.info_markdown(info)


def test_the_scenario_tab_renders_the_set_up_panels_scenario():
    store.scenario_name.value = "manchester_arena_bombing"
    store.uploaded.value = None
    try:
        box, rc = solara.render(ScenarioTab(), handle_error=False)
        shown = " ".join(str(w.widget) for w in rc.find(widgets.Widget))
        assert "Arena bombing, Greater Manchester" in shown
        assert "Published record: Manchester Arena bombing" in shown
        rc.close()
    finally:
        store.scenario_name.value = next(iter(runner.shipped_scenarios()))
