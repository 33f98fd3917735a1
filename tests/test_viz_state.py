"""State at any minute from the records (viz.state): places, trips, busy vehicles."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from mcsim.enums import EventKind
from mcsim.model import MCIModel
from mcsim.records import EventLog
from mcsim.region import Region
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data
from viz.state import DEAD, ROAD, Replay, hospital_key, scene_key


def line_region() -> Region:
    """Four nodes on a line, 1 km apart, 5 minutes per road."""
    g = nx.Graph()
    for i in range(4):
        g.add_node(i, name=f"n{i}", x=float(i), y=0.0)
    for i in range(3):
        g.add_edge(i, i + 1, travel_min=5.0)
    return Region.from_graph(g)


def one_patient_log() -> EventLog:
    """A patient's whole story, and a vehicle trip 0 → 2 between minutes 10 and 20."""
    log = EventLog()
    add = log.add
    kw = {"patient": 0, "incident": "inc"}
    add(0.0, EventKind.CASUALTY, state="awaiting_triage", tag="untriaged", node=3, **kw)
    add(2.0, EventKind.DISPATCHED, vehicle=0, node=0, to_node=2, arrive_min=12.0, state="to_scene")
    add(5.0, EventKind.TRIAGED, state="awaiting_transport", tag="minor", node=3, **kw)
    add(12.0, EventKind.VEHICLE_AT_SCENE, vehicle=0, node=2, state="at_scene")
    add(12.0, EventKind.LOAD_START, state="loading", tag="minor", vehicle=0, **kw)
    add(15.0, EventKind.DEPART_SCENE, state="in_transport", tag="minor", node=2, to_node=0,
        arrive_min=25.0, **kw)  # fmt: skip
    add(15.0, EventKind.DEPART_SCENE, vehicle=0, node=2, to_node=0, arrive_min=25.0,
        state="to_hospital")  # fmt: skip
    add(25.0, EventKind.HOSPITAL_ARRIVAL, state="awaiting_care", tag="minor", hospital="H",
        node=0, **kw)  # fmt: skip
    add(25.0, EventKind.HOSPITAL_ARRIVAL, vehicle=0, node=0, state="at_hospital", hospital="H")
    add(40.0, EventKind.DEFINITIVE_CARE, state="definitive_care", tag="minor", hospital="H", **kw)
    add(70.0, EventKind.ED_DISCHARGE, state="definitive_care", tag="minor", hospital="H", **kw)
    add(80.0, EventKind.END, detail="horizon")
    return log


def replay_of(log: EventLog, region: Region, **kw) -> Replay:
    args = {"vehicle_homes": [1], "staff_count": 0, "hospitals": ["H"], "incidents": ["inc"]}
    args.update(kw)
    return Replay(log.to_frame(), region, **args)


def test_patient_moves_from_scene_tag_to_road_to_hospital_and_out():
    rp = replay_of(one_patient_log(), line_region())
    assert rp.scene_counts(1.0, "inc")["untriaged"] == 1
    assert rp.scene_counts(5.0, "inc") == {
        "immediate": 0, "delayed": 0, "minor": 1, "expectant": 0, "dead": 0, "untriaged": 0,
    }  # fmt: skip
    assert rp.scene_counts(13.0, "inc")["minor"] == 1  # loading is still at the scene
    assert rp.counts_at(16.0)[ROAD] == 1
    assert sum(rp.scene_counts(16.0, "inc").values()) == 0
    assert rp.hospital_occupancy(24.9) == {"H": 0}
    assert rp.hospital_occupancy(25.0) == {"H": 1}
    assert rp.hospital_occupancy(69.0) == {"H": 1}
    assert rp.hospital_occupancy(70.0) == {"H": 0}
    assert rp.deaths_at(80.0) == 0


def test_a_death_counts_once_and_leaves_its_place():
    log = EventLog()
    log.add(0.0, EventKind.CASUALTY, patient=0, incident="inc", state="awaiting_triage")
    log.add(0.0, EventKind.CASUALTY, patient=1, incident="inc", state="dead", tag="dead")
    log.add(9.0, EventKind.DEATH, patient=0, incident="inc", state="dead", tag="immediate")
    rp = replay_of(log, line_region())
    assert rp.deaths_at(0.0) == 1
    assert rp.scene_counts(8.9, "inc")["untriaged"] == 1
    assert rp.deaths_at(9.0) == 2
    assert sum(rp.scene_counts(9.0, "inc").values()) == 0


def test_vehicle_is_interpolated_along_its_path_between_departure_and_arrival():
    rp = replay_of(one_patient_log(), line_region())
    (v,) = rp.vehicles_at(1.0)
    assert (v.x, v.y, v.state, v.moving) == (1.0, 0.0, "at_station", False)  # home: node 1
    (v,) = rp.vehicles_at(7.0)  # the trip 0 -> 2 runs from minute 2 to 12
    assert v.moving and v.state == "to_scene"
    assert v.x == pytest.approx(1.0)  # 5 of 10 minutes along 0-1-2: at node 1
    (v,) = rp.vehicles_at(9.5)
    assert v.x == pytest.approx(1.5)
    (v,) = rp.vehicles_at(12.0)
    assert (v.x, v.moving) == (2.0, False)
    (v,) = rp.vehicles_at(13.0)  # the patient's own rows (loading, vehicle=0) do not count
    assert (v.x, v.state) == (2.0, "at_scene")
    (v,) = rp.vehicles_at(20.0)  # back 2 -> 0 between 15 and 25
    assert v.x == pytest.approx(1.0) and v.state == "to_hospital"
    (v,) = rp.vehicles_at(30.0)
    assert (v.x, v.state, v.moving) == (0.0, "at_hospital", False)


def test_staff_are_hidden_until_their_first_row_then_follow_their_trip():
    log = EventLog()
    log.add(3.0, EventKind.STAFF_DEPART, staff=0, node=0, to_node=3, arrive_min=18.0,
            state="travelling")  # fmt: skip
    log.add(18.0, EventKind.STAFF_ARRIVE, staff=0, node=3, state="working")
    rp = replay_of(log, line_region(), vehicle_homes=[], staff_count=2)
    assert rp.staff_at(2.0) == []
    (s,) = rp.staff_at(10.5)
    assert s.moving and s.x == pytest.approx(1.5)
    (s,) = rp.staff_at(30.0)
    assert (s.x, s.state, s.moving) == (3.0, "working", False)


def test_busy_counts_vehicles_away_from_their_station():
    log = EventLog()
    for vid in (0, 1):
        log.add(2.0 + vid, EventKind.DISPATCHED, vehicle=vid, node=0, to_node=2,
                arrive_min=12.0 + vid, state="to_scene")  # fmt: skip
    log.add(40.0, EventKind.VEHICLE_AT_STATION, vehicle=0, node=0, state="at_station")
    rp = replay_of(log, line_region(), vehicle_homes=[0, 0, 0])
    assert [rp.busy_at(t) for t in (0, 2, 3, 39, 40)] == [0, 1, 2, 2, 1]
    s = rp.series(np.array([0.0, 2.5, 50.0]))
    assert s["busy"].tolist() == [0, 1, 1]


def test_time_grid_covers_every_trip_to_its_arrival():
    rp = replay_of(one_patient_log(), line_region())
    g = rp.time_grid(1.0)
    assert g[0] == 0.0 and g[-1] >= 70.0


def run_and_replay(data: dict, seed: int):
    """A finished model, its result and the app's replay of its event log."""
    m = MCIModel(parse_scenario(data), seed=seed)
    m.run()
    r = m.result()
    return m, r, Replay.of_model(m, r.events)


@pytest.fixture(scope="module")
def small_run():
    return run_and_replay(small_scenario_data(casualties=60), 3)


def test_every_casualty_is_in_exactly_one_place_at_every_minute(small_run):
    m, r, rp = small_run
    s = rp.series(rp.time_grid(1.0)).drop(columns=["busy"])
    assert (s.to_numpy() >= 0).all()
    appeared = s.sum(axis=1)
    assert appeared.iloc[-1] == len(r.patients)
    assert appeared.is_monotonic_increasing


def test_final_counts_agree_with_the_patients_table(small_run):
    m, r, rp = small_run
    end = rp.end_min
    assert rp.deaths_at(end) == r.metrics["deaths"]
    assert rp.deaths_at(end) == int((r.patients["outcome"].astype(str) == "died").sum())
    arrived = r.patients[r.patients["hospital_arrival_min"].notna()]  # not those who died en route
    received = arrived.groupby(arrived["hospital"].astype(str)).size()
    c = rp.counts_at(end)
    for h in rp.hospitals:
        inside_or_out = c[hospital_key(h)] + c[f"discharged:{h}"]
        died_there = int(
            (
                (r.patients["hospital"].astype(str) == h)
                & (r.patients["death_place"].astype(str) == "hospital")
            ).sum()
        )
        assert inside_or_out + died_there == received.get(h, 0)


def test_vehicle_positions_stay_on_the_map_and_move_during_trips(small_run):
    m, r, rp = small_run
    pos = m.region.positions
    lo, hi = pos.min(axis=0) - 1e-9, pos.max(axis=0) + 1e-9
    trips = r.events[(r.events["vehicle"] >= 0) & (r.events["to_node"] >= 0)]
    assert len(trips) > 0
    for t in np.linspace(0, rp.end_min, 40):
        for v in rp.vehicles_at(float(t)):
            assert lo[0] <= v.x <= hi[0] and lo[1] <= v.y <= hi[1]
    row = trips.iloc[0]
    mid = (row["time_min"] + row["arrive_min"]) / 2
    v = rp.vehicles_at(float(mid))[int(row["vehicle"])]
    assert v.moving
    start = m.region.xy(int(row["node"]))
    assert not (math.isclose(v.x, start[0]) and math.isclose(v.y, start[1]))


def test_scene_keys_and_dead_key_are_distinct():
    assert scene_key("a", "") == "scene:a:untriaged"
    assert len({scene_key("a", "minor"), hospital_key("a"), DEAD, ROAD}) == 4


def test_patients_released_on_scene_or_gone_home_no_longer_wait_at_the_scene():
    """Issue 13 defect 1: treat-and-release and going home move a patient off the scene."""
    from viz.state import RELEASED

    data = small_scenario_data(
        casualties=80, self_transport_share=0.6, went_home_share=0.5, treat_and_release_share=1.0
    )
    _, r, rp = run_and_replay(data, 2)
    released = int((r.patients["state"].astype(str) == "released").sum())
    assert released > 0
    end = rp.counts_at(rp.end_min)
    assert end[RELEASED] == released
    waiting = sum(rp.scene_counts(rp.end_min, "blast").values())
    at_scene = ["trapped", "awaiting_triage", "awaiting_transport", "loading"]
    still = r.patients["state"].astype(str).isin(at_scene).sum()
    assert waiting == still


def test_injects_are_replayed_on_the_map_closed_roads_and_diversions():
    """Issue 13 defect 4: a closed road and a hospital on diversion show from their minute on;
    roads closed from the start (region.closed) show from minute 0."""
    from mcsim.exercise import ExerciseSession

    data = small_scenario_data(casualties=40)
    data["region"]["closed"] = [{"from": "r0c0", "to": "r0c1"}]
    s = ExerciseSession(parse_scenario(data), 1)
    s.apply({"kind": "road_closed", "at_min": 9, "from": "r1c1", "to": "r1c2"})
    s.apply({"kind": "hospital_diversion", "at_min": 12, "hospital": "small"})
    s.run()
    m = s.model
    rp = Replay.of_model(m)
    start = tuple(sorted((m.region.index("r0c0"), m.region.index("r0c1"))))
    bridge = tuple(sorted((m.region.index("r1c1"), m.region.index("r1c2"))))
    assert rp.closed_roads_at(0.0) == {start}
    assert rp.closed_roads_at(8.9) == {start}
    assert rp.closed_roads_at(9.0) == {start, bridge}
    assert rp.hospital_status_at(11.0) == {}
    assert rp.hospital_status_at(12.0) == {"small": "diversion"}


def test_the_map_draws_the_roads_closed_at_the_minute_shown():
    from viz import charts, runner

    v = runner.run(runner.load_shipped("earthquake_metro"), runner.SetUp(casualties=200))
    r = charts.MapRenderer(v, size=(4, 4), dpi=40)
    r.png(10.0)
    assert len(r._closed.get_segments()) == len(v.replay.closed_roads_at(10.0)) == 5
    assert r._closed in r._dynamic  # redrawn with every frame, not lost in the background
