"""Invariants over random small scenarios (hypothesis), checked after every event time.

Every patient is in exactly one state that agrees with where they are; no capacity goes below
zero or above its size; no vehicle carries more than its capacity or holds a patient another
vehicle holds; the event log never goes back in time; every patient is accounted for at the end.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcsim.casualties import builtin_profiles
from mcsim.enums import Outcome, PatientState
from mcsim.invariants import check_invariants
from mcsim.model import MCIModel
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data


@st.composite
def small_scenarios(draw):
    data = small_scenario_data(
        casualties=draw(st.integers(1, 60)),
        injury_profile=draw(st.sampled_from(sorted(builtin_profiles()))),
        self_transport_share=draw(st.floats(0, 1)),
        extraction_share=draw(st.sampled_from([0.0, 0.3])),
        extraction_min_range=[5.0, 40.0],
        child_share=draw(st.floats(0, 0.5)),
        treat_and_release_share=draw(st.sampled_from([0.0, 0.5])),
        carried_by_bystanders_share=draw(st.sampled_from([0.0, 0.4])),
    )
    for h in data["hospitals"]:
        h["resus_bays"] = draw(st.integers(0, 3))
        h["ed_beds"] = draw(st.integers(1, 6))
        h["minor_treatment_spaces"] = draw(st.integers(0, 4))
        h["operating_rooms"] = draw(st.integers(0, 2))
        h["icu_beds"] = draw(st.integers(0, 3))
        h["teams_on_duty"] = draw(st.integers(0, 2))
        h["teams_on_call"] = draw(st.integers(0, 2))
        h["occupied"] = {"ed_beds": draw(st.integers(0, h["ed_beds"]))}
    for s in data["stations"]:
        for g in s["vehicles"]:
            g["count"] = draw(st.integers(0, 3))
            g["capacity"] = draw(st.integers(1, 3))
    data["response"] = {
        "triage_officers": draw(st.integers(0, 3)),
        "paramedics": draw(st.integers(0, 3)),
        "loading_min": draw(st.sampled_from([0.0, 2.0, 5.0])),
    }
    data["duration_min"] = draw(st.sampled_from([60, 240, 600]))
    data["policies"] = {
        "triage": draw(st.sampled_from(["start", "salt", "jumpstart", "sieve", "stm", "perfect"])),
        "dispatch": draw(st.sampled_from(["priority", "stm", "nearest_first"])),
        "destination": draw(
            st.sampled_from(
                [
                    "nearest",
                    "nearest_free",
                    "trauma",
                    "balance",
                    "random",
                    "coordinated",
                    "field_triage",
                ]
            )
        ),
        "strategy": {
            "minor_seats": draw(st.integers(0, 4)),
            "prehospital": draw(st.sampled_from(["scoop_and_run", "stay_and_play"])),
        },
    }
    return parse_scenario(data, file="hypothesis.yaml"), draw(st.integers(0, 2**31 - 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_scenarios())
def test_invariants_hold_after_every_event_time(case):
    scenario, seed = case
    model = MCIModel(scenario, seed)
    steps = 0
    while model.step():
        steps += 1
        problems = check_invariants(model)
        assert not problems, f"after step {steps} at t={model.now}: {problems[:5]}"
    assert not check_invariants(model)
    # every patient accounted for at the end, in exactly one final state
    n = scenario.incidents[0].casualties
    assert len(model.patients) == n
    outcomes = {o: 0 for o in Outcome}
    for p in model.patients:
        outcomes[p.outcome] += 1
        if p.outcome is Outcome.SURVIVED:
            assert p.state in (PatientState.DEFINITIVE_CARE, PatientState.RELEASED)
    assert sum(outcomes.values()) == n
    result = model.result()
    m = result.metrics
    assert m["casualties"] == n
    assert m["deaths"] == outcomes[Outcome.DIED]
    assert m["deaths"] == m["immediate_deaths"] + m["deaths_prehospital"] + m["deaths_in_hospital"]
    assert m["unresolved"] == outcomes[Outcome.UNRESOLVED]
    assert result.events["time_min"].is_monotonic_increasing
    assert (result.events["seq"].diff().dropna() == 1).all()


@st.composite
def wider_scenarios(draw):
    """small_scenarios plus what the rebuilt model added: children refused by a hospital,
    few destination candidates, access delays, going home, bleeding mixes, pathways that need
    transfers (a hospital without theatres), short horizons that cut care short."""
    scenario, seed = draw(small_scenarios())
    data = scenario.model_dump(mode="json", by_alias=True)
    data["hospitals"][1]["accepts_children"] = draw(st.booleans())
    data["response"]["destination_candidates"] = draw(st.sampled_from([0, 1, 2]))
    inc = data["incidents"][0]
    inc["access_delay_min"] = draw(st.sampled_from([0.0, 10.0]))
    inc["went_home_share"] = draw(st.sampled_from([0.0, 0.5]))
    data["duration_min"] = draw(st.sampled_from([30, 120, 600]))
    data["physiology"]["outcome_model"] = draw(st.sampled_from(["triss", "triss", "sacco"]))
    return parse_scenario(data, file="hypothesis.yaml"), seed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wider_scenarios())
def test_three_hundred_random_valid_scenarios_run_to_the_end(case):
    """No crash, every patient once, no care after the end, invariants at the end."""
    scenario, seed = case
    model = MCIModel(scenario, seed)
    model.run()
    assert not check_invariants(model)
    result = model.result()
    patients, events = result.patients, result.events
    assert patients["patient"].is_unique
    assert len(patients) == scenario.incidents[0].casualties
    end = float(events.loc[events["kind"] == "end", "time_min"].iloc[0])
    after = events[events["time_min"] > end]
    assert set(after["kind"].astype(str)) <= {"death"}
    assert not (patients["definitive_care_min"] > end).any()
