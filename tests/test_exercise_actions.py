"""Each exercise inject and decision behaves as specified, on the small hand-made town.

The small scenario (tests/conftest.py) is a 5x5 grid town with an incident site, two hospitals
("big" at r0c0, "small" at r4c3) and two stations. Each test applies one kind of action through
an :class:`ExerciseSession` and checks its effect in the event log or the model's state.
"""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest
from conftest import small_scenario_data

from mcsim.enums import EventKind, Resource, VehicleState
from mcsim.errors import InputError
from mcsim.exercise import ACTIONS, ExerciseSession, apply_action
from mcsim.exercise.runner import replay
from mcsim.invariants import check_invariants
from mcsim.region import build_region
from mcsim.scenario import parse_scenario

ARRIVALS = {
    EventKind.VEHICLE_AT_SCENE.value,
    EventKind.VEHICLE_AT_STATION.value,
    EventKind.HOSPITAL_ARRIVAL.value,
}
DEPARTURES = {
    EventKind.DISPATCHED.value,
    EventKind.DEPART_SCENE.value,
    EventKind.RETURN_TO_STATION.value,
}


def _session(data=None, seed: int = 1, **kw) -> ExerciseSession:
    return ExerciseSession(parse_scenario(data or small_scenario_data(40)), seed, **kw)


def _vehicle_rows(ev: pd.DataFrame) -> pd.DataFrame:
    """Rows about vehicles themselves (not the patients they carry)."""
    return ev[(ev.vehicle >= 0) & (ev.patient < 0)]


def test_every_kind_is_registered_with_a_category():
    """The registry holds each kind once, as an inject or a decision."""
    assert len(ACTIONS) == 15
    assert {t.category for t in ACTIONS.values()} == {"inject", "decision"}
    for kind, t in ACTIONS.items():
        assert t.model.model_fields["kind"].default == kind


def test_unknown_kind_is_one_input_error():
    """An unknown kind names the known ones."""
    with pytest.raises(InputError, match="unknown action kind 'meteor'; known: capacity_loss"):
        _session().apply({"kind": "meteor", "at_min": 3})


def test_each_action_writes_an_inject_or_decision_row():
    """The action's row has its category as kind and its kind first in the detail."""
    s = _session()
    s.apply({"kind": "hospital_diversion", "at_min": 5, "hospital": "big", "by": "cell"})
    s.apply({"kind": "surge_capacity", "at_min": 6, "hospital": "big", "resource": "ed_beds",
             "count": 2, "by": "IC"})  # fmt: skip
    ev = s.finish().events
    rows = ev[ev.kind.isin(["inject", "decision"])]
    assert list(rows.kind.astype(str)) == ["inject", "decision"]
    assert list(rows.time_min) == [5.0, 6.0]
    assert rows.detail.iloc[0].startswith("hospital_diversion: ")
    assert rows.detail.iloc[0].endswith("(by cell)")
    assert rows.detail.iloc[1].startswith("surge_capacity: ")


def test_an_action_applies_after_the_events_of_its_minute():
    """Applying at minute t first runs every event at t (what a paused facilitator sees)."""
    s = _session()
    s.apply({"kind": "hospital_diversion", "at_min": 3, "hospital": "big"})  # alert_ems at 3
    ev = s.finish().events
    kinds = ev[ev.time_min == 3.0].kind.astype(str).tolist()
    assert "dispatched" in kinds
    assert kinds[-1] == "inject"


def test_action_in_the_past_or_at_the_horizon_is_refused():
    """Time runs forward only, and nothing happens after the end."""
    s = _session()
    s.run(until=30)
    with pytest.raises(InputError, match="before now"):
        s.apply({"kind": "hospital_diversion", "at_min": 10, "hospital": "big"})
    with pytest.raises(InputError, match="not before the end"):
        s.apply({"kind": "hospital_diversion", "at_min": 480, "hospital": "big"})
    assert s.actions == []


def test_apply_action_needs_the_model_at_the_actions_minute():
    """The low-level function refuses an action that is not for now."""
    s = _session()
    s.run(until=10)
    with pytest.raises(InputError, match="stands at minute 10"):
        apply_action(s.model, {"kind": "hospital_diversion", "at_min": 12, "hospital": "big"})


# ------------------------------------------------------------------------- roads


def _legs(ev: pd.DataFrame, vid: int) -> list[dict]:
    """A vehicle's legs in order: departure rows and re-route rows, each with its arrival."""
    rows = _vehicle_rows(ev)
    rows = rows[rows.vehicle == vid]
    legs = []
    for r in rows.itertuples():
        kind = str(r.kind)
        if kind in ("inject", "decision") and r.to_node >= 0:
            legs[-1]["superseded"] = True
        if kind in DEPARTURES or (kind in ("inject", "decision") and r.to_node >= 0):
            legs.append({"t": r.time_min, "kind": kind, "from": r.node, "to": r.to_node,
                         "arrive": r.arrive_min, "detail": r.detail})  # fmt: skip
        elif kind in ARRIVALS:
            legs[-1]["arrived"] = r.time_min
    return legs


def _closure_setup():
    """Baseline run; the first ambulance to hospital, and the last road on its way there."""
    data = small_scenario_data(40)
    base = _session(data).finish().events
    dep = base[base.kind == "depart_scene"]
    dep = dep[dep.patient < 0].iloc[0]
    region = build_region(parse_scenario(data).region)
    path = region.path(int(dep.node), int(dep.to_node))
    assert len(path) >= 3
    t_close = dep.time_min + 0.1  # the vehicle is on its first road
    return data, base, dep, region, path, t_close


def test_closed_road_reroutes_vehicles_on_their_way_and_is_never_driven_after():
    """The vehicle whose path uses the road is re-routed; no later trip uses the road.

    Every leg that starts after the closure takes exactly the shortest time on the roads
    left open; the re-routed vehicle arrives when its new leg says (the stale arrival does
    nothing); arrivals match legs one to one.
    """
    data, base, dep, region, path, t_close = _closure_setup()
    a, b = region.name(path[-2]), region.name(path[-1])
    s = _session(data)
    s.apply({"kind": "road_closed", "at_min": t_close, "from": a, "to": b})
    ev = s.finish().events
    closed = build_region(parse_scenario(data).region)
    closed.close_road(path[-2], path[-1])
    legs = _legs(ev, int(dep.vehicle))
    reroutes = [leg for leg in legs if leg["kind"] == "inject"]
    assert len(reroutes) == 1
    rr = reroutes[0]
    assert rr["from"] == path[1] and rr["to"] == path[-1]  # from the next node, same target
    assert rr["arrived"] == rr["arrive"] >= dep.arrive_min  # a detour is never shorter
    t_node = rr["arrive"] - closed.travel_min(rr["from"], rr["to"])
    assert t_close <= t_node < dep.arrive_min
    closed_arcs = {(path[-2], path[-1]), (path[-1], path[-2])}
    for vid in sorted(set(_vehicle_rows(ev).vehicle)):
        for leg in _legs(ev, vid):
            if leg.get("superseded"):
                assert "arrived" not in leg  # the stale arrival did nothing
            else:
                assert "arrived" in leg or leg["arrive"] >= 480, leg
            if leg["t"] < t_close or leg["kind"] == "inject":
                continue
            route = closed.path(leg["from"], leg["to"])
            assert not any(arc in closed_arcs for arc in zip(route, route[1:], strict=False))
            assert leg["arrive"] - leg["t"] == pytest.approx(
                closed.travel_min(leg["from"], leg["to"])
            )


def test_reopened_road_is_used_again():
    """After reopening, trips take the shortest time on the full network again."""
    data, base, dep, region, path, t_close = _closure_setup()
    a, b = region.name(path[-2]), region.name(path[-1])
    s = _session(data)
    s.apply({"kind": "road_closed", "at_min": t_close, "from": a, "to": b})
    s.apply({"kind": "road_reopened", "at_min": t_close + 30, "from": a, "to": b})
    ev = s.finish().events
    later = ev[(ev.kind == "depart_scene") & (ev.patient < 0) & (ev.time_min > t_close + 30)]
    assert len(later)
    for r in later.itertuples():
        assert r.arrive_min - r.time_min == pytest.approx(region.travel_min(r.node, r.to_node))
    assert s.model.region.closed_roads == []


def test_closing_a_road_that_does_not_exist_is_refused_and_changes_nothing():
    """A bad road is an InputError naming the action; no row is written."""
    s = _session()
    with pytest.raises(InputError) as err:
        s.apply({"kind": "road_closed", "at_min": 5, "from": "r0c0", "to": "r4c4"})
    assert err.value.path == "actions[0]"
    assert s.actions == []
    assert not (s.model.log.to_frame().kind == "inject").any()


# ------------------------------------------------------------------------- hospitals


def test_diverted_hospital_receives_no_ambulance_patient_while_diverted():
    """Between diversion and reopening nobody arrives by ambulance at the diverted hospital."""
    base = _session().finish().events
    arr = base[(base.kind == "hospital_arrival") & (base.patient >= 0) & (base.vehicle >= 0)]
    busiest = arr.hospital.astype(str).value_counts().index[0]
    t0 = float(arr.time_min.iloc[0]) - 1  # ambulances are on their way to it
    s = _session()
    s.apply({"kind": "hospital_diversion", "at_min": t0, "hospital": busiest})
    s.apply({"kind": "hospital_reopened", "at_min": t0 + 90, "hospital": busiest})
    ev = s.finish().events
    arr = ev[(ev.kind == "hospital_arrival") & (ev.patient >= 0) & (ev.vehicle >= 0)]
    at = arr[arr.hospital.astype(str) == busiest]
    assert not ((at.time_min > t0) & (at.time_min < t0 + 90)).any()
    assert (at.time_min >= t0 + 90).any()  # and it receives again once reopened
    assert (ev[ev.kind == "inject"].detail.str.contains(" to ")).any()  # someone was re-routed


def test_closed_hospital_receives_nobody_not_even_walking_wounded():
    """A closed hospital gets no arrival at all; those driving there go on elsewhere."""
    data = small_scenario_data(60, self_transport_share=1.0)
    base = _session(data).finish().events
    arr = base[(base.kind == "hospital_arrival") & (base.patient >= 0)]
    busiest = arr.hospital.astype(str).value_counts().index[0]
    t0 = float(arr.time_min.iloc[0]) - 0.5
    s = _session(data)
    s.apply({"kind": "hospital_closed", "at_min": t0, "hospital": busiest})
    ev = s.finish().events
    arr = ev[(ev.kind == "hospital_arrival") & (ev.patient >= 0)]
    assert not ((arr.hospital.astype(str) == busiest) & (arr.time_min > t0)).any()
    turned = ev[(ev.kind == "inject") & ev.detail.str.contains("turned away")]
    assert len(turned) >= 1
    for r in turned.itertuples():  # they arrive where and when their row says
        got = arr[arr.patient == r.patient]
        assert got.hospital.astype(str).iloc[0] == str(r.hospital)
        assert got.time_min.iloc[0] == r.arrive_min
    assert check_invariants(s.model) == []


def test_the_last_open_hospital_cannot_close():
    """Closing every hospital would leave the ambulances nowhere to go."""
    s = _session()
    s.apply({"kind": "hospital_closed", "at_min": 1, "hospital": "big"})
    with pytest.raises(InputError, match="last one open"):
        s.apply({"kind": "hospital_closed", "at_min": 2, "hospital": "small"})


def _tight_data() -> dict:
    data = small_scenario_data(80)
    for h in data["hospitals"]:
        h.update(ed_beds=2, minor_treatment_spaces=1, occupied={})
    return data


def _busiest(data: dict) -> str:
    ev = _session(copy.deepcopy(data)).finish().events
    arr = ev[(ev.kind == "hospital_arrival") & (ev.patient >= 0)]
    return str(arr.hospital.astype(str).value_counts().index[0])


def _care_started(ev: pd.DataFrame, hospital: str, by: float) -> int:
    sel = (ev.kind == "definitive_care") & (ev.hospital.astype(str) == hospital)
    return int((sel & (ev.time_min <= by)).sum())


def test_surge_capacity_raises_throughput():
    """More ED beds at a saturated hospital: more patients in definitive care by 4 h."""
    hid = _busiest(_tight_data())
    base = _session(_tight_data()).finish().events
    s = _session(_tight_data())
    s.apply({"kind": "surge_capacity", "at_min": 2, "hospital": hid, "resource": "ed_beds",
             "count": 10})  # fmt: skip
    ev = s.finish().events
    assert s.model.hospitals[hid].capacity[Resource.ED_BED] == 12
    assert _care_started(ev, hid, 240) > _care_started(base, hid, 240)
    assert check_invariants(s.model) == []


def test_capacity_loss_takes_free_units_then_those_freed_later():
    """Units in use are lost when freed; pre-incident occupancy cannot be lost."""
    hid = _busiest(_tight_data())
    s = _session(_tight_data())
    s.run(until=120)
    h = s.model.hospitals[hid]
    in_use = h.capacity[Resource.ED_BED] - h.free[Resource.ED_BED]
    assert in_use == 2  # both ED beds busy
    s.apply({"kind": "capacity_loss", "at_min": 120, "hospital": hid, "resource": "ed_beds",
             "count": 5})  # fmt: skip
    assert h.capacity[Resource.ED_BED] == 0
    assert h.view_free(Resource.ED_BED) == 0
    assert check_invariants(s.model) == []
    ev = s.finish().events
    starts = ev[(ev.kind == "definitive_care") & (ev.hospital.astype(str) == hid)]
    assert not (starts[starts.time_min > 120].detail == "ed_beds").any()
    assert h.free[Resource.ED_BED] == 0  # both freed beds were lost
    row = ev[ev.kind == "inject"].detail.iloc[0]
    assert "loses 2 of 5 ed_beds" in row
    assert check_invariants(s.model) == []


# ------------------------------------------------------------------------- more resources


def test_second_incident_adds_casualties_without_changing_the_first():
    """The new scene's casualties come from their own stream; the first's are unchanged."""
    base = _session().finish().patients
    s = _session()
    s.apply({"kind": "second_incident", "at_min": 20, "by": "cell",
             "incident": {"id": "crash", "node": "r4c0", "casualties": 15,
                          "injury_profile": "blast_open_air"}})  # fmt: skip
    res = s.finish()
    pts = res.patients
    first = pts[pts.incident.astype(str) == "blast"].reset_index(drop=True)
    cols = ["patient", "severity", "rpm0", "age", "u_survival", "untreated_death_min"]
    pd.testing.assert_frame_equal(first[cols], base[cols])
    crash = pts[pts.incident.astype(str) == "crash"]
    assert len(crash) == 15
    ev = res.events
    onset = ev[(ev.kind == "incident") & (ev.incident.astype(str) == "crash")]
    assert list(onset.time_min) == [20.0]
    assert ((ev.kind == "triaged") & (ev.incident.astype(str) == "crash")).any()
    assert res.resources["onsets"]["crash"] == 20


def test_second_incident_with_a_taken_id_is_refused():
    """Incident ids stay unique."""
    with pytest.raises(InputError, match="already exists"):
        _session().apply(
            {
                "kind": "second_incident",
                "at_min": 5,
                "incident": {
                    "id": "blast",
                    "node": "r4c0",
                    "casualties": 3,
                    "injury_profile": "blast_open_air",
                },
            }
        )


def test_mutual_aid_ambulances_join_the_pool_and_carry_patients():
    """With one ambulance of its own, the town's patients also ride in the new ones."""
    data = small_scenario_data(40)
    data["stations"] = [{"id": "a", "node": "r1c1", "vehicles": [{"type": "als", "count": 1}]}]
    s = _session(data)
    s.apply({"kind": "mutual_aid_ambulances", "at_min": 10, "node": "r4c0", "count": 3,
             "station": "county"})  # fmt: skip
    res = s.finish()
    assert [v.station for v in s.model.vehicles] == ["a", "county", "county", "county"]
    loads = res.events[(res.events.kind == "load_start") & (res.events.patient >= 0)]
    assert set(loads.vehicle) >= {1, 2, 3}
    first = res.events[(res.events.vehicle == 1) & (res.events.patient < 0)].iloc[0]
    assert str(first.kind) == "dispatched" and first.node == s.model.region.index("r4c0")
    assert res.resources["vehicles"] == 4


def test_staff_call_in_and_mutual_aid_staff_arrive_and_work():
    """Called-in teams add hospital teams; mutual-aid paramedics reach the scene."""
    s = _session()
    h = s.model.hospitals["small"]
    teams0 = h.capacity[Resource.TEAM]
    n0 = len(s.model.staff)
    s.apply({"kind": "staff_call_in", "at_min": 1, "hospital": "small", "teams": 2,
             "delay_min": 5})  # fmt: skip
    s.apply({"kind": "mutual_aid_staff", "at_min": 2, "role": "paramedic", "count": 2,
             "node": "r4c4", "to": "blast"})  # fmt: skip
    s.apply({"kind": "mutual_aid_staff", "at_min": 2, "role": "hospital_team", "count": 1,
             "node": "r4c4", "to": "small"})  # fmt: skip
    new = [st.sid for st in s.model.staff[n0:]]
    assert len(new) == 5
    ev = s.finish().events
    assert h.capacity[Resource.TEAM] == teams0 + 3  # called in once each (not again at alert)
    arrived = ev[(ev.kind == "staff_arrive") & ev.staff.isin(new)]
    assert len(arrived) == 5
    assert (arrived.incident.astype(str) == "blast").sum() == 2


# ------------------------------------------------------------------------- decisions


def _lead_destinations(ev: pd.DataFrame, after: float, before: float = math.inf) -> set[str]:
    dep = ev[(ev.kind == "depart_scene") & (ev.patient < 0)]
    dep = dep[(dep.time_min > after) & (dep.time_min < before)]
    return set(dep.hospital.astype(str))


def test_set_policy_and_set_quotas_steer_the_destination():
    """A quota table sending everyone to 'small', then one sending everyone to 'big'."""
    s = _session()
    only = {"immediate": 99, "delayed": 99, "minor": 99}
    s.apply({"kind": "set_policy", "at_min": 1, "policy": "destination", "name": "quota",
             "params": {"quotas": {"small": only}}})  # fmt: skip
    s.apply({"kind": "set_quotas", "at_min": 40, "quotas": {"big": only}})
    ev = s.finish().events
    assert s.model.policy_names["destination"] == "quota"
    assert _lead_destinations(ev, 1, 40) == {"small"}
    assert _lead_destinations(ev, 40) == {"big"}


def test_set_quotas_needs_a_quota_policy_and_known_hospitals():
    """Quota tables only make sense for the quota policy, and name real hospitals."""
    s = _session()
    with pytest.raises(InputError, match="no quota table"):
        s.apply({"kind": "set_quotas", "at_min": 1, "quotas": {"big": {"immediate": 3}}})
    s.apply({"kind": "set_policy", "at_min": 1, "policy": "destination", "name": "quota"})
    with pytest.raises(InputError, match="unknown hospital 'nope'"):
        s.apply({"kind": "set_quotas", "at_min": 2, "quotas": {"nope": {"immediate": 3}}})


def test_set_reserve_holds_a_hospital_back_and_an_empty_list_releases_it():
    """Every load goes to the nearest, 'small', until it is held in reserve at minute 1: then
    to 'big'; released at 40, loads go to 'small' again. Unknown hospitals are refused."""
    s = _session()
    assert _lead_destinations(_session().finish().events, 0) == {"small"}
    s.apply({"kind": "set_reserve", "at_min": 1, "hospitals": ["small"], "by": "SAMU"})
    s.apply({"kind": "set_reserve", "at_min": 40, "hospitals": []})
    ev = s.finish().events
    assert _lead_destinations(ev, 1, 40) == {"big"}
    assert _lead_destinations(ev, 41) == {"small"}
    rows = ev[ev.kind == "decision"].detail.astype(str).tolist()
    assert any("reserve: small" in r for r in rows) and any("reserve: none" in r for r in rows)
    with pytest.raises(InputError, match="unknown hospital 'nope'") as err:
        _session().apply({"kind": "set_reserve", "at_min": 1, "hospitals": ["nope"]})
    assert err.value.path == "actions[0].hospitals"


def test_set_policy_with_an_unknown_name_or_parameter_is_refused():
    """The registry's own error, as one line pointing at the action."""
    s = _session()
    with pytest.raises(InputError, match="unknown triage policy 'magic'") as err:
        s.apply({"kind": "set_policy", "at_min": 1, "policy": "triage", "name": "magic"})
    assert err.value.path == "actions[0].name"
    with pytest.raises(InputError, match="unknown parameter 'x'"):
        s.apply({"kind": "set_policy", "at_min": 1, "policy": "destination", "name": "balance",
                 "params": {"x": 1}})  # fmt: skip
    assert s.model.policy_names["triage"] == "start"


def test_triage_policy_switch_changes_later_tags_only():
    """Tags given before the switch stay; after it, the new tool decides."""
    data = small_scenario_data(120)
    base = _session(copy.deepcopy(data)).finish()
    t = float(base.patients.triaged_min.min())  # the global sort
    s = _session(data)
    s.apply({"kind": "set_policy", "at_min": t, "policy": "triage", "name": "perfect"})
    res = s.finish()
    b = base.patients.set_index("patient")
    p = res.patients.set_index("patient")
    bt, pt = b.tag.astype(str), p.tag.astype(str)
    early = b.triaged_min <= t
    late = ~early & p.triaged_min.notna()
    assert early.sum() >= 5 and late.sum() >= 5
    assert (pt[early] == bt[early]).all()
    assert (pt[late] != bt[late]).any()


def test_send_ambulance_dispatches_a_free_vehicle_to_the_named_scene():
    """A vehicle idle at its station goes to the scene the decision names."""
    data = small_scenario_data(10)
    s = _session(data)
    s.apply(
        {
            "kind": "second_incident",
            "at_min": 1,
            "incident": {
                "id": "crash",
                "node": "r4c0",
                "casualties": 2,
                "injury_profile": "blast_open_air",
            },
        }
    )
    s.run(until=2)
    free = sorted(s.model.free_vehicles)
    s.apply({"kind": "send_ambulance", "at_min": 2, "vehicle": free[-1], "incident": "crash"})
    v = s.model.vehicles[free[-1]]
    assert v.state is VehicleState.TO_SCENE and v.scene.id == "crash"
    ev = s.finish().events
    d = ev[(ev.vehicle == free[-1]) & (ev.kind == "dispatched")].iloc[0]
    assert d.time_min == 2 and str(d.incident) == "crash"


def test_send_ambulance_to_a_hospital_redirects_a_loaded_vehicle():
    """A vehicle carrying patients changes destination; its patients arrive there."""
    base = _session().finish().events
    dep = base[(base.kind == "depart_scene") & (base.patient < 0)].iloc[0]
    other = "small" if str(dep.hospital) == "big" else "big"
    s = _session()
    s.apply({"kind": "send_ambulance", "at_min": dep.time_min + 0.1, "vehicle": int(dep.vehicle),
             "hospital": other})  # fmt: skip
    ev = s.finish().events
    arr = ev[(ev.kind == "hospital_arrival") & (ev.vehicle == dep.vehicle) & (ev.patient >= 0)]
    assert str(arr.hospital.iloc[0]) == other
    assert check_invariants(s.model) == []


def test_send_ambulance_that_is_busy_is_logged_as_not_possible():
    """Loading or handing over cannot be interrupted; the log says so, nothing changes."""
    s = _session()
    s.run(until=0)
    s.apply({"kind": "send_ambulance", "at_min": 0.5, "vehicle": 0, "hospital": "small"})
    ev = s.model.log.to_frame()
    assert "not possible: vehicle 0 is at_station" in ev.detail.iloc[-1]


def test_every_kind_replays_identically_in_one_session():
    """All fifteen kinds in one run; its exported log replays bit for bit."""
    data = small_scenario_data(50)
    s = _session(copy.deepcopy(data), seed=5)
    only = {"immediate": 99, "delayed": 99, "minor": 99}
    acts = [
        {"kind": "road_closed", "at_min": 9, "from": "r1c1", "to": "r1c2"},
        {"kind": "hospital_diversion", "at_min": 10, "hospital": "small"},
        {"kind": "capacity_loss", "at_min": 11, "hospital": "big", "resource": "resus_bays",
         "count": 1},
        {"kind": "second_incident", "at_min": 12, "incident": {
            "id": "crash", "node": "r4c0", "casualties": 8, "injury_profile": "blast_open_air"}},
        {"kind": "mutual_aid_ambulances", "at_min": 13, "node": "r0c4", "count": 2},
        {"kind": "mutual_aid_staff", "at_min": 14, "role": "triage_officer", "count": 1,
         "node": "r0c4", "to": "crash"},
        {"kind": "staff_call_in", "at_min": 15, "hospital": "big", "teams": 1},
        {"kind": "set_policy", "at_min": 16, "policy": "destination", "name": "quota",
         "params": {"quotas": {"big": only}}},
        {"kind": "set_quotas", "at_min": 30, "quotas": {"small": only, "big": only}},
        {"kind": "set_reserve", "at_min": 31, "hospitals": ["big"]},
        {"kind": "surge_capacity", "at_min": 31.5, "hospital": "small", "resource": "ed_beds",
         "count": 3},
        {"kind": "send_ambulance", "at_min": 32, "vehicle": 6, "incident": "crash"},
        {"kind": "hospital_closed", "at_min": 40, "hospital": "small"},
        {"kind": "hospital_reopened", "at_min": 90, "hospital": "small"},
        {"kind": "road_reopened", "at_min": 100, "from": "r1c1", "to": "r1c2"},
    ]  # fmt: skip
    for a in acts:
        s.run(until=a["at_min"] - 0.5)  # pauses in between, as in the app
        s.apply(a)
    assert {a.kind for a in s.actions} == set(ACTIONS)
    log = s.export()
    result = s.finish()
    assert replay(log).events.equals(result.events)
    assert check_invariants(s.model) == []


def test_vehicle_whose_hospital_is_cut_off_goes_to_another():
    """All roads into the hospital close: vehicles on their way go where they can arrive."""
    data = small_scenario_data(40)
    base = _session(copy.deepcopy(data)).finish().events
    dep = base[(base.kind == "depart_scene") & (base.patient < 0)].iloc[0]
    region = build_region(parse_scenario(data).region)
    target = int(dep.to_node)
    neighbours = sorted(
        set(region.graph.predecessors(target)) | set(region.graph.successors(target))
    )
    s = _session(copy.deepcopy(data))
    t = float(dep.time_min) + 0.1
    for n in neighbours:
        s.apply({"kind": "road_closed", "at_min": t, "from": region.name(n),
                 "to": region.name(target)})  # fmt: skip
    ev = s.finish().events
    arr = ev[(ev.kind == "hospital_arrival") & (ev.patient < 0)]
    assert not (arr.node == target).any() or not (arr[arr.node == target].time_min > t).any()
    mine = arr[arr.vehicle == dep.vehicle].iloc[0]
    assert mine.node != target and str(mine.hospital) != str(dep.hospital)
    assert check_invariants(s.model) == []


def test_a_closure_that_would_isolate_an_incident_is_refused():
    """The site's only road cannot close (nobody could reach or leave the scene)."""
    s = _session()
    with pytest.raises(InputError, match="would cut incident 'blast' off from every open"):
        s.apply({"kind": "road_closed", "at_min": 5, "from": "site", "to": "r2c2"})
    assert s.model.region.closed_roads == []
    assert s.actions == []
