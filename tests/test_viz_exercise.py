"""The app's Exercise and Replay tabs: forms from the action models, live play, replay.

Rendered without a browser (``solara.render``); the browser test is in test_app_browser.py.
"""

from __future__ import annotations

import json

import ipyvuetify as v
import ipywidgets as widgets
import pytest
import solara

import mcsim
from mcsim.errors import InputError
from mcsim.exercise import (
    ACTIONS,
    ExerciseSession,
    events_digest,
    load_log,
    parse_action,
    parse_log,
    replay,
)
from mcsim.policies import default_registry
from mcsim.scenario import load_scenario, parse_scenario
from tests.app_state import reset_app_state
from tests.test_viz_render import figure_widgets, map_titles
from viz import exercise as ex
from viz.components import exercise as comp
from viz.components import store
from viz.runner import SetUp


@pytest.fixture(autouse=True)
def fresh_state(tmp_path, monkeypatch):
    """Each test starts with no exercise; saved files go to a temporary folder."""
    monkeypatch.setenv(ex.FOLDER_ENV, str(tmp_path / "saved"))
    comp.reset()
    reset_app_state()
    yield
    comp.reset()
    store.tab.value = 0


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(mcsim.default_scenario_path())


def texts(rc, cls: str) -> list[str]:
    return [str(x.widget.children[0]) for x in rc.find(v.Html, class_=cls)]


def images(rc, cls: str) -> list[bytes]:
    return [bytes(x.widget.value) for x in rc.find(widgets.Image) if cls in x.widget._dom_classes]


def select(rc, label: str):
    return next(s for s in rc.find(v.Select) if s.widget.label == label).widget


def click(rc, cls: str) -> None:
    rc.find(v.Btn, class_=cls).widget.click()


# ----------------------------------------------------------------------- forms


def test_every_action_kind_has_a_form_whose_defaults_apply_or_are_refused_cleanly(scenario):
    """Each registered kind gets fields; its default form either applies or is an InputError."""
    for kind in ACTIONS:
        s = ExerciseSession(scenario, 0)
        s.run(until=30)
        ctx = ex.FormContext.of(s.model)
        specs = ex.field_specs(kind, ctx, scenario)
        keys = [f.key for f in specs]
        assert keys[-2:] == ["by", "note"] and "at_min" not in keys and "kind" not in keys
        data = ex.build_action(kind, specs, ex.initial_values(specs))
        try:
            action = s.apply(data)
        except InputError as exc:
            assert exc.path and exc.path.startswith("actions[0]")
            assert s.actions == []
        else:
            assert action.kind == kind and action.at_min == 30
            assert s.actions == [action]


def test_form_offers_the_scenarios_names_where_a_field_names_something(scenario):
    s = ExerciseSession(scenario, 0)
    ctx = ex.FormContext.of(s.model)
    by_key = {f.key: f for f in ex.field_specs("hospital_diversion", ctx)}
    assert list(by_key["hospital"].choices) == [h.id for h in scenario.hospitals]
    assert by_key["reroute_en_route"].widget == "bool"
    road = {f.key: f for f in ex.field_specs("road_closed", ctx)}
    assert len(road["from"].choices) == s.model.region.n_nodes and "r8c8" in road["from"].choices
    loss = {f.key: f for f in ex.field_specs("capacity_loss", ctx)}
    assert "icu_beds" in loss["resource"].choices and loss["count"].widget == "int"
    assert loss["count"].default == 1  # the field's lower bound
    send = {f.key: f for f in ex.field_specs("send_ambulance", ctx)}
    assert send["incident"].choices[0] == ex.NONE and send["incident"].optional
    staff = {f.key: f for f in ex.field_specs("mutual_aid_staff", ctx)}
    assert "stadium_blast" in staff["to"].choices and "city_general" in staff["to"].choices
    names = ex.field_choices("set_policy", "name", ctx, {"policy": "destination"})
    assert names == default_registry().names("destination")
    second = {f.key: f for f in ex.field_specs("second_incident", ctx, scenario)}
    assert second["incident"].widget == "json"
    assert json.loads(second["incident"].default)["injury_profile"] == (
        scenario.incidents[0].injury_profile
    )


def test_build_action_converts_numbers_json_and_leaves_empty_optionals_out(scenario):
    ctx = ex.FormContext.of(ExerciseSession(scenario, 0).model)
    specs = ex.field_specs("staff_call_in", ctx)
    data = ex.build_action(
        "staff_call_in", specs, {"hospital": "riverside", "teams": "3", "delay_min": ""}
    )
    assert data["teams"] == 3 and "delay_min" not in data and data["by"] == "facilitator"
    assert parse_action({**data, "at_min": 0}).teams == 3
    with pytest.raises(InputError) as err:
        ex.build_action("staff_call_in", specs, {"hospital": "riverside", "teams": "two"})
    assert err.value.path == "teams"
    pol = ex.field_specs("set_policy", ctx)
    with pytest.raises(InputError) as err:
        ex.build_action("set_policy", pol, {"policy": "destination", "name": "balance",
                                            "params": "{oops"})  # fmt: skip
    assert err.value.path == "params" and "JSON" in err.value.message
    with pytest.raises(InputError):
        ex.field_specs("no_such_kind", ctx)


# ----------------------------------------------------------------------- live exercise


def start_default(rc) -> comp.Live:
    click(rc, "mcsim-ex-start")
    assert comp.live.value is not None
    return comp.live.value


def test_exercise_tab_starts_advances_and_shows_the_run_up_to_now():
    box, rc = solara.render(comp.Exercise(), handle_error=False)
    assert "Exercise scenario" in [s.widget.label for s in rc.find(v.Select)]
    cur = start_default(rc)
    assert cur.session.now == 0
    assert texts(rc, "mcsim-ex-now")[0].startswith("minute 0 of 720")
    assert map_titles(rc, "mcsim-ex-map")[0].startswith("<b>minute 0</b>")
    click(rc, "mcsim-ex-plus15")
    click(rc, "mcsim-ex-plus5")
    assert comp.live.value.session is cur.session and cur.session.now == 20
    assert texts(rc, "mcsim-ex-now")[0].startswith("minute 20 of 720")
    comp.run_to.value = 30
    click(rc, "mcsim-ex-run-to")
    assert cur.session.now == 30
    assert texts(rc, "mcsim-ex-caption")[0].startswith("minute 30:")
    assert map_titles(rc, "mcsim-ex-map")[0].startswith("<b>minute 30</b>")
    # the events shown are exactly the model's so far: nothing beyond minute 30
    shown = comp.live.value.view.result.events
    assert shown["time_min"].max() <= 30 and len(shown) == len(cur.session.model.log)
    # going back is refused inline
    comp.run_to.value = 10
    click(rc, "mcsim-ex-run-to")
    error = str(rc.find(v.Alert, class_="mcsim-ex-error").widget.children)
    assert "minute 10 is not after now (30)" in error
    assert cur.session.now == 30
    rc.close()


def test_form_applies_a_decision_which_appears_in_the_log_and_the_exported_log_replays_equal():
    box, rc = solara.render(comp.Exercise(), handle_error=False)
    cur = start_default(rc)
    comp.run_to.value = 30
    click(rc, "mcsim-ex-run-to")
    select(rc, "Action").v_model = "set_policy"
    select(rc, "policy").v_model = "destination"
    # the policy names follow the chosen policy kind
    assert select(rc, "name").items == default_registry().names("destination")
    select(rc, "name").v_model = "balance"
    next(t for t in rc.find(v.TextField) if t.widget.label == "by").widget.v_model = "IC"
    click(rc, "mcsim-ex-apply")
    rc.find(v.Alert, class_="mcsim-ex-action-error").assert_empty()
    (action,) = cur.session.actions
    assert (action.kind, action.at_min, action.by) == ("set_policy", 30, "IC")
    assert (action.policy, action.name) == ("destination", "balance")
    assert cur.session.model.policy_names["destination"] == "balance"
    table = str(rc.find(v.Html, class_="mcsim-ex-actions").widget.children)
    assert "set_policy" in table and "name=balance" in table
    click(rc, "mcsim-ex-export")
    saved = texts(rc, "mcsim-ex-saved")[0].removeprefix("Log saved to ")
    log = load_log(saved)
    assert [a.kind for a in log.actions] == ["set_policy"]
    live_events = cur.session.finish().events
    assert events_digest(replay(log).events) == events_digest(live_events) == log.result_digest
    rc.close()


def test_a_bad_form_shows_the_error_inline_and_changes_nothing():
    box, rc = solara.render(comp.Exercise(), handle_error=False)
    cur = start_default(rc)
    click(rc, "mcsim-ex-plus15")
    before = len(cur.session.model.log)
    select(rc, "Action").v_model = "staff_call_in"
    next(t for t in rc.find(v.TextField) if t.widget.label == "teams").widget.v_model = "lots"
    click(rc, "mcsim-ex-apply")
    error = str(rc.find(v.Alert, class_="mcsim-ex-action-error").widget.children)
    assert "actions[0].teams" in error and "whole number" in error
    # a form that reads fine but does not fit the model: reopening an open hospital
    select(rc, "Action").v_model = "hospital_reopened"
    click(rc, "mcsim-ex-apply")
    error = str(rc.find(v.Alert, class_="mcsim-ex-action-error").widget.children)
    assert "actions[0].hospital" in error and "neither closed nor on diversion" in error
    assert cur.session.actions == [] and len(cur.session.model.log) == before
    rc.close()


def test_start_from_the_set_up_panel_uses_its_knobs_and_policies():
    store.setup.value = SetUp(casualties=40, destination="balance")
    comp.ex_scenario.value = comp.FROM_SETUP
    comp.ex_seed.value = 3
    box, rc = solara.render(comp.Exercise(), handle_error=False)
    cur = start_default(rc)
    assert sum(i.casualties for i in cur.session.scenario.incidents) == 40
    assert cur.session.model.policy_names["destination"] == "balance"
    assert cur.session.seed == 3
    rc.close()


def test_report_button_writes_the_after_action_report():
    box, rc = solara.render(comp.Exercise(), handle_error=False)
    cur = start_default(rc)
    comp.run_to.value = 40
    click(rc, "mcsim-ex-run-to")
    cur.session.apply({"kind": "hospital_diversion", "hospital": "riverside"})
    click(rc, "mcsim-ex-report")
    path = texts(rc, "mcsim-ex-report-saved")[0].removeprefix("Report saved to ")
    html = open(path, encoding="utf-8").read()
    assert html.lstrip().lower().startswith("<!doctype html") and "hospital_diversion" in html
    assert any("Download report" in str(b.widget.children) for b in rc.find(v.Btn))
    rc.close()


def test_report_at_minute_40_says_where_the_exercise_stopped_and_kpis_say_so_far():
    """Defect 8: exporting before the end records the minute played to; the report says the
    rest ran with no further action; the live KPI cards say they are figures so far."""
    box, rc = solara.render(comp.Exercise(), handle_error=False)
    cur = start_default(rc)
    comp.run_to.value = 40
    click(rc, "mcsim-ex-run-to")
    labels = texts(rc, "mcsim-kpi-label")
    assert labels and all(lab.endswith("so far (minute 40)") for lab in labels)
    note = texts(rc, "mcsim-ex-export-note")[0]
    assert "Paused at minute 40 of 720" in note and "no further action" in note
    click(rc, "mcsim-ex-report")
    path = texts(rc, "mcsim-ex-report-saved")[0].removeprefix("Report saved to ")
    html = open(path, encoding="utf-8").read()
    assert "The facilitator stopped the exercise at minute 40 of 720." in html
    assert "Minutes 40 to 720 ran on with no further action" in html
    click(rc, "mcsim-ex-export")
    log = load_log(texts(rc, "mcsim-ex-saved")[0].removeprefix("Log saved to "))
    assert log.played_to_min == 40
    assert events_digest(replay(log).events) == log.result_digest  # still verified
    # played to the end: no "stopped" line, no "so far" labels
    comp.run_to.value = 720
    click(rc, "mcsim-ex-run-to")
    assert not any("so far" in lab for lab in texts(rc, "mcsim-kpi-label"))
    rc.find(v.Html, class_="mcsim-ex-export-note").assert_empty()
    assert cur.session.export().played_to_min is None
    rc.close()


def test_the_stop_minute_is_covered_by_the_log_digest(scenario):
    s = ExerciseSession(scenario, 0)
    s.run(until=20)
    data = s.export().to_data()
    assert data["played_to_min"] == 20
    data["played_to_min"] = 700  # claiming the players went on to minute 700
    with pytest.raises(InputError, match="digest: does not match"):
        replay(parse_log(data))


def trace(fig, name: str):
    return next(tr for tr in fig.data if tr.name == name)


def segments(tr) -> int:
    """Line segments in a trace drawn as x/y with None between segments."""
    return sum(1 for x in tr.x if x is None)


DIVERTED, CLOSED = "hospital on diversion / closed", "road closed"


def test_exercise_map_draws_an_inject_at_once_in_the_same_interactive_map(scenario):
    """Issue 13 defect 4: a hospital on diversion is marked and a closed road drawn closed
    as soon as the inject is applied (the run stays paused), in the map widget already shown."""
    box, rc = solara.render(comp.Exercise(), handle_error=False)
    start_default(rc)
    comp.run_to.value = 30
    click(rc, "mcsim-ex-run-to")
    [fig] = figure_widgets(rc, "mcsim-ex-map")
    assert list(trace(fig, DIVERTED).x) == [] and segments(trace(fig, CLOSED)) == 0
    comp.action_kind.value = "hospital_diversion"
    comp.form_values.value = {"hospital": "riverside"}
    click(rc, "mcsim-ex-apply")
    assert comp.action_error.value == "" and comp.live.value.session.now == 30
    assert figure_widgets(rc, "mcsim-ex-map") == [fig]  # refilled in place, not replaced
    marked = trace(fig, DIVERTED)
    assert list(marked.hovertext) == ["riverside: diversion"]
    imap = comp.live.value.map
    assert (marked.x[0], marked.y[0]) == imap._hxy["riverside"]
    comp.action_kind.value = "road_closed"
    comp.form_values.value = {"from": "r8c8", "to": "r8c9"}
    click(rc, "mcsim-ex-apply")
    assert comp.action_error.value == ""
    closed = trace(fig, CLOSED)
    assert segments(closed) == 1
    region = comp.live.value.view.region
    ends = {float(imap.xy[region.index(n)][0]) for n in ("r8c8", "r8c9")}
    assert {closed.x[0], closed.x[1]} == ends  # drawn where the road is
    rc.close()


# ----------------------------------------------------------------------- replay


def test_page_has_exercise_and_replay_tabs_and_replay_it_switches_to_the_replay():
    from viz.app import Page

    box, rc = solara.render(Page(), handle_error=False)
    for tab in ("Exercise", "Replay"):
        rc.find(v.Tab, children=[tab]).assert_single()
    cur = start_default(rc)
    cur.session.run(until=25)
    cur.session.apply({"kind": "road_closed", "from": "r8c8", "to": "r8c9", "by": "police"})
    comp.live.value = comp.show_live(cur.session, cur)
    click(rc, "mcsim-ex-replay")
    assert store.tab.value == store.TABS.index("Replay")
    sh = comp.shown.value
    assert sh.replayed.source == "the live exercise"
    assert [(m["at_min"], m["by"]) for m in sh.replayed.marks] == [(25, "police")]
    assert cur.session.now == 25  # the live exercise is left where it was
    rc.close()


def test_replay_of_a_shipped_script_scrubs_and_jumps_between_actions():
    box, rc = solara.render(comp.Replay(), handle_error=False)
    rc.find(v.Alert, class_="mcsim-replay-hint").assert_single()
    comp.replay_script.value = "bridge_closed_hospital_full"
    click(rc, "mcsim-replay-shipped")
    sh = comp.shown.value
    assert sh is not None and [m["at_min"] for m in sh.replayed.marks] == [25, 40, 45, 55, 180]
    assert texts(rc, "mcsim-replay-caption")[0].startswith("minute 0:")
    timeline0 = images(rc, "mcsim-replay-timeline")[0]
    assert map_titles(rc, "mcsim-replay-map")[0].startswith("<b>minute 0</b>")
    [fig] = figure_widgets(rc, "mcsim-replay-map")
    assert segments(trace(fig, CLOSED)) == 0
    click(rc, "mcsim-replay-next")
    assert comp.replay_minute.value == 25
    assert segments(trace(fig, CLOSED)) == 1  # the bridge, closed at minute 25
    click(rc, "mcsim-replay-next")
    assert "riverside: diversion" in trace(fig, DIVERTED).hovertext  # minute 40
    assert comp.replay_minute.value == 40
    click(rc, "mcsim-replay-prev")
    assert comp.replay_minute.value == 25
    assert images(rc, "mcsim-replay-timeline")[0] != timeline0
    assert map_titles(rc, "mcsim-replay-map")[0].startswith("<b>minute 25</b>")
    comp.replay_minute.value = 5  # backwards
    assert texts(rc, "mcsim-replay-caption")[0].startswith("minute 5:")
    table = str(rc.find(v.Html, class_="mcsim-replay-actions").widget.children)
    assert "road_closed" in table and "mutual_aid_ambulances" in table
    rc.close()


def test_replay_of_an_uploaded_log_and_refusal_of_a_broken_or_tampered_one(scenario, tmp_path):
    s = ExerciseSession(scenario, 2, title="upload")
    s.run(until=20)
    s.apply({"kind": "road_closed", "from": "r8c8", "to": "r8c9"})
    path = s.export().write(tmp_path / "log.json")
    box, rc = solara.render(comp.Replay(), handle_error=False)
    comp.replay_upload("log.json", path.read_bytes())
    assert comp.replay_error.value == ""
    assert comp.shown.value.replayed.log.seed == 2
    assert "upload" in texts(rc, "mcsim-replay-title")[0]
    comp.replay_upload("broken.json", b"{not json")
    assert comp.replay_error.value.startswith("broken.json: line 1")
    rc.find(v.Alert, class_="mcsim-replay-error").assert_single()
    data = json.loads(path.read_text())
    data["seed"] = 3  # no longer the run its digest describes
    comp.replay_upload("tampered.json", json.dumps(data).encode())
    assert comp.replay_error.value.startswith("tampered.json: digest: does not match")
    data["digest"] = None  # as a log of an older mcsim: the replay itself then differs
    comp.replay_upload("tampered.json", json.dumps(data).encode())
    assert "replay differs" in comp.replay_error.value
    comp.replay_upload("deep.json", b"[" * 100_000 + b"]" * 100_000)
    assert comp.replay_error.value == "deep.json: nested deeper than 64 levels"
    rc.find(v.Alert, class_="mcsim-replay-error").assert_single()
    rc.close()


def test_model_view_of_a_paused_model_leaves_the_run_unchanged(scenario):
    """Indexing the events at each pause does not change what the run does afterwards."""
    a = ExerciseSession(scenario, 1)
    for t in (5, 25, 60):
        a.run(until=t)
        ex.model_view(a.model, scenario, 1)
    b = ExerciseSession(scenario, 1)
    assert events_digest(a.finish().events) == events_digest(b.finish().events)


def test_small_scenario_second_incident_from_the_form(tmp_path):
    from tests.conftest import small_scenario_data

    sc = parse_scenario(small_scenario_data())
    s = ExerciseSession(sc, 0)
    s.run(until=10)
    ctx = ex.FormContext.of(s.model)
    specs = ex.field_specs("second_incident", ctx, sc)
    values = ex.initial_values(specs)
    inc = json.loads(values["incident"])
    inc["node"] = ctx.nodes[-1]
    values["incident"] = json.dumps(inc)
    action = s.apply(ex.build_action("second_incident", specs, values))
    assert action.incident.onset_min == 10 and len(s.model.scenes) == 2


def test_set_policy_opens_on_the_policy_in_force_and_named_places_come_first(scenario):
    """Issue 13 defect 7: a stray Apply on the set_policy form must not switch triage, and a
    facilitator finds the hospitals and sites before the junction ids."""
    s = ExerciseSession(scenario, 0)
    ctx = ex.FormContext.of(s.model)
    pol = {f.key: f for f in ex.field_specs("set_policy", ctx)}
    assert pol["policy"].default == "triage"
    assert pol["name"].default == s.model.policy_names["triage"]
    road = {f.key: f for f in ex.field_specs("road_closed", ctx)}
    region = s.model.region
    kinds = [region.kind(region.index(n)).value for n in road["from"].choices]
    first_junction = kinds.index("junction")
    assert first_junction > 0 and "junction" not in set(kinds[:first_junction])
    assert all(k == "junction" for k in kinds[first_junction:])
