"""Property test: any sequence of actions keeps the model consistent and replays bit for bit.

Hypothesis draws sequences of injects and decisions (some of which do not fit the model at
that moment and are refused); after the run the model's invariants hold, refused actions left
no trace, and the exported log replays to the same event log.
"""

from __future__ import annotations

import copy

from conftest import small_scenario_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcsim.errors import InputError
from mcsim.exercise import ExerciseSession, replay
from mcsim.invariants import check_invariants
from mcsim.scenario import parse_scenario

DATA = small_scenario_data(30)
HOSPITALS = ["big", "small"]
ROADS = [("r1c1", "r1c2"), ("r2c2", "r2c1"), ("r0c0", "r0c1"), ("r3c3", "r4c3"), ("site", "r2c2")]
RESOURCES = ["resus_bays", "ed_beds", "operating_rooms", "icu_beds", "teams"]
ONLY = {"immediate": 50, "delayed": 50, "minor": 50}

ROAD = st.sampled_from(ROADS)

action = st.one_of(
    st.builds(lambda r: {"kind": "road_closed", "from": r[0], "to": r[1]}, ROAD),
    st.builds(lambda r: {"kind": "road_reopened", "from": r[0], "to": r[1]}, ROAD),
    st.builds(lambda h: {"kind": "hospital_diversion", "hospital": h}, st.sampled_from(HOSPITALS)),
    st.builds(lambda h: {"kind": "hospital_closed", "hospital": h}, st.sampled_from(HOSPITALS)),
    st.builds(lambda h: {"kind": "hospital_reopened", "hospital": h}, st.sampled_from(HOSPITALS)),
    st.builds(
        lambda h, r, n: {"kind": "capacity_loss", "hospital": h, "resource": r, "count": n},
        st.sampled_from(HOSPITALS), st.sampled_from(RESOURCES), st.integers(1, 4),
    ),
    st.builds(
        lambda h, r, n: {"kind": "surge_capacity", "hospital": h, "resource": r, "count": n},
        st.sampled_from(HOSPITALS), st.sampled_from(RESOURCES), st.integers(1, 4),
    ),
    st.builds(
        lambda n: {"kind": "second_incident", "incident": {
            "id": "second", "node": "r4c0", "casualties": n, "injury_profile": "blast_open_air"}},
        st.integers(1, 10),
    ),
    st.builds(lambda n: {"kind": "mutual_aid_ambulances", "node": "r0c4", "count": n},
              st.integers(1, 3)),
    st.builds(lambda r: {"kind": "mutual_aid_staff", "role": r, "count": 1, "node": "r0c4",
                         "to": "blast" if r != "hospital_team" else "small"},
              st.sampled_from(["paramedic", "triage_officer", "hospital_team"])),
    st.builds(lambda h: {"kind": "staff_call_in", "hospital": h, "teams": 1},
              st.sampled_from(HOSPITALS)),
    st.builds(lambda k, n: {"kind": "set_policy", "policy": k, "name": n},
              st.sampled_from(["destination"]),
              st.sampled_from(["nearest", "balance", "quota", "trauma", "nearest_free"])),
    st.builds(lambda n: {"kind": "set_policy", "policy": "triage", "name": n},
              st.sampled_from(["start", "salt", "perfect"])),
    st.builds(lambda h: {"kind": "set_quotas", "quotas": {h: ONLY}}, st.sampled_from(HOSPITALS)),
    st.builds(lambda hs: {"kind": "set_reserve", "hospitals": hs},
              st.lists(st.sampled_from(HOSPITALS), max_size=2, unique=True)),
    st.builds(lambda v, h: {"kind": "send_ambulance", "vehicle": v, "hospital": h},
              st.integers(0, 5), st.sampled_from(HOSPITALS)),
    st.builds(lambda v, i: {"kind": "send_ambulance", "vehicle": v, "incident": i},
              st.integers(0, 5), st.sampled_from(["blast", "second"])),
)  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 50),
    steps=st.lists(st.tuples(st.floats(0.0, 25.0), action), min_size=1, max_size=10),
)
def test_random_actions_keep_invariants_and_replay_identically(seed, steps):
    """Whatever the facilitator does, the model stays consistent and the log replays."""
    s = ExerciseSession(parse_scenario(copy.deepcopy(DATA)), seed)
    t = 0.0
    refused = 0
    for gap, a in steps:
        t += gap
        try:
            s.apply({**a, "at_min": round(t, 3)})
        except InputError:
            refused += 1
        assert check_invariants(s.model) == []
    result = s.finish()
    assert check_invariants(s.model) == []
    assert len(s.actions) + refused == len(steps)
    assert replay(s.export()).events.equals(result.events)
