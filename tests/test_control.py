"""The model's public API for changes during a run (``model.control``) and user actions.

What an exercise action does is one call of :class:`mcsim.control.Control`; these tests call it
directly (as a study script would), check that it keeps its state in declared attributes, and
register an action from outside mcsim with :func:`register_action`.
"""

from __future__ import annotations

from typing import Literal

import pytest
from conftest import small_scenario_data

from mcsim.control import Cause
from mcsim.enums import EventKind, PatientState, VehicleState
from mcsim.errors import InputError
from mcsim.exercise import ACTIONS, Action, ExerciseSession
from mcsim.exercise.actions import cause_of, register_action, unregister_action
from mcsim.model import MCIModel
from mcsim.scenario import parse_scenario


def _model(casualties: int = 40) -> MCIModel:
    return MCIModel(parse_scenario(small_scenario_data(casualties)), 1)


def test_closing_a_hospital_from_a_script_reroutes_and_logs_under_the_cause():
    """control.close_hospital: nobody arrives there later; its rows carry the cause's label."""
    m = _model(60)
    m.run(until=20)
    heading = [
        v.vid
        for v in m.vehicles
        if v.state is VehicleState.TO_HOSPITAL and v.destination == "small"
    ]
    assert heading, "seed 1 has ambulances on their way to small at minute 20"
    m.control.close_hospital("small", cause=Cause(EventKind.INJECT, "flood", "script"))
    assert m.control.closed_hospitals == {"small"}
    assert [h.hid for h in m.receiving_hospitals] == ["big"]
    m.run()
    ev = m.result().events
    rows = ev[ev.kind == "inject"]
    assert (
        rows.detail.str.startswith("flood: ").all()
        and rows.detail.str.endswith("(by script)").all()
    )
    late = ev[(ev.kind == "hospital_arrival") & (ev.time_min > 20) & (ev.patient >= 0)]
    assert (late.hospital.astype(str) == "big").all() and len(late) > 0
    assert not any(v.destination == "small" for v in m.vehicles if v.vid in heading)


def test_a_refused_change_names_its_argument_and_changes_nothing():
    """The last open hospital cannot close; an unknown hospital lists the known ones."""
    m = _model()
    m.run(until=5)
    m.control.close_hospital("big")
    n = len(m.log)
    with pytest.raises(InputError, match="last one open") as err:
        m.control.close_hospital("small")
    assert err.value.path == "hospital"
    with pytest.raises(InputError, match="known: big, small"):
        m.control.divert_hospital("nope")
    assert len(m.log) == n and m.control.closed_hospitals == {"big"}


def test_changes_keep_their_state_in_declared_attributes():
    """Closing roads and hospitals adds no attribute to the model (state lives in control)."""
    m = _model()
    m.run(until=10)
    before = set(vars(m))
    m.control.close_road("r0c0", "r0c1")
    m.control.close_hospital("big")
    m.control.reopen_hospital("big")
    m.control.add_ambulances("r4c4", 2)
    m.run()
    assert set(vars(m)) == before
    assert m.control.closed_hospitals == set()


def test_added_ambulances_join_the_fleet_and_are_dispatched():
    """add_ambulances returns the new vehicles, numbered after the fleet, free or sent."""
    m = _model(80)
    m.run(until=15)
    n = len(m.vehicles)
    new = m.control.add_ambulances("r4c4", 3, station="neighbours")
    assert [v.vid for v in new] == [n, n + 1, n + 2]
    assert all(v.vid in m.free_vehicles or v.state is VehicleState.TO_SCENE for v in new)


class Aftershock(Action):
    """A user's inject: an aftershock damages a hospital, which goes on diversion."""

    kind: Literal["test_quake_aftershock"] = "test_quake_aftershock"
    hospital: str


def test_an_action_registered_from_outside_applies_logs_and_replays():
    """register_action adds a kind; its changes go through control; a replay is identical."""

    @register_action(Aftershock)
    def _apply(model, a):
        model.control.divert_hospital(a.hospital, cause=cause_of(a))

    try:
        assert "test_quake_aftershock" in ACTIONS
        s = ExerciseSession(parse_scenario(small_scenario_data(40)), 1)
        s.apply({"kind": "test_quake_aftershock", "at_min": 12, "hospital": "small"})
        assert s.model.hospitals["small"].on_diversion
        log = s.export()
        ev = s.finish().events
        row = ev[ev.kind == "inject"].detail.iloc[0]
        assert row == "test_quake_aftershock: hospital=small (by facilitator)"
        from mcsim.exercise import replay

        assert replay(log).events.equals(ev)
        with pytest.raises(ValueError, match="already registered"):
            register_action(type("Other", (Aftershock,), {}))(_apply)
    finally:
        unregister_action("test_quake_aftershock")
    assert "test_quake_aftershock" not in ACTIONS


def test_a_self_presenter_turned_away_arrives_when_the_new_event_says():
    """Closing their hospital cancels their arrival; they arrive at the other at its time."""
    m = _model(60)
    m.run(until=8)
    driving = [
        p for p in m.patients if p.state is PatientState.SELF_TRANSPORT and p.hospital == "big"
    ]
    assert driving, "seed 1 has walking wounded driving to big at minute 8"
    p = driving[0]
    old = p.arrival_event
    m.control.close_hospital("big")
    assert old.cancelled and p.arrival_event is not old
    due = p.arrival_event.time
    m.run()
    ev = m.result().events
    arr = ev[(ev.kind == "hospital_arrival") & (ev.patient == p.pid)]
    assert arr.hospital.astype(str).iloc[0] == "small" and arr.time_min.iloc[0] == due
