"""The simulator's behaviour on small, understandable situations, and its reproducibility."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import mcsim
from mcsim.enums import EventKind, Resource, TriageTag
from mcsim.policies.registry import PolicyKind, register
from mcsim.scenario import parse_scenario
from mcsim.tables import EVENTS, read_table
from tests.conftest import small_scenario_data

TRUE_STATE_COLUMNS = [
    "patient",
    "severity",
    "critical",
    "age",
    "penetrating",
    "needs_surgery",
    "rpm0",
    "rr0",
    "pulse0",
    "sbp0",
    "gcs0",
    "walking0",
    "untreated_death_min",
]


@register(PolicyKind.TRIAGE, "test_behaviour_all_immediate", "Test-only: everyone is immediate.")
def _all_immediate(v, **_):
    return TriageTag.IMMEDIATE if v.breathing else TriageTag.DEAD


@register(PolicyKind.DESTINATION, "test_farthest", "Test-only: the farthest reachable hospital.")
def _farthest(patients, hospitals):
    return max(hospitals, key=lambda h: (h.travel_min, h.id)).id


def small(**kw):
    return parse_scenario(small_scenario_data(**kw), file="small.yaml")


def test_same_seed_same_event_log_bit_for_bit():
    a = mcsim.simulate(small(casualties=50), seed=7)
    b = mcsim.simulate(small(casualties=50), seed=7)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.patients, b.patients)
    assert a.metrics == b.metrics


def test_different_seeds_give_different_runs():
    a = mcsim.simulate(small(casualties=50), seed=1)
    b = mcsim.simulate(small(casualties=50), seed=2)
    assert not a.patients["rpm0"].equals(b.patients["rpm0"])


def test_event_log_is_identical_in_a_fresh_process(tmp_path):
    """Bit-for-bit across processes (no dependence on hash seeds or object ids)."""
    out = tmp_path / "run"
    code = subprocess.run(
        [sys.executable, "-m", "mcsim.cli", "run", "--seed", "3", "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    )
    assert code.returncode == 0, code.stderr
    here = mcsim.simulate(None, seed=3)
    there = read_table(out / "events.parquet", EVENTS)  # the file has nulls for missing ids
    pd.testing.assert_frame_equal(here.events, there, check_categorical=False)


@pytest.mark.parametrize(
    "change", [{"triage": "test_behaviour_all_immediate"}, {"destination": "test_farthest"}]
)
def test_changing_a_policy_keeps_every_casualty_and_untreated_trajectory(change):
    """Common random numbers: policies change what happens, never who is hurt or how badly."""
    base = mcsim.simulate(small(casualties=60), seed=11)
    other = mcsim.simulate(small(casualties=60), seed=11, **change)
    pd.testing.assert_frame_equal(
        base.patients[TRUE_STATE_COLUMNS], other.patients[TRUE_STATE_COLUMNS]
    )
    assert not base.events.equals(other.events), "the policy should change the run"


def test_without_any_response_everyone_dies_at_their_untreated_time():
    """No responders, no vehicles, nobody leaves: deaths follow the RPM table exactly."""
    data = small_scenario_data(casualties=40, self_transport_share=0.0)
    data["response"] = {"triage_officers": 0, "paramedics": 0}
    for s in data["stations"]:
        for g in s["vehicles"]:
            g["count"] = 0
    data["duration_min"] = 2000
    r = mcsim.simulate(parse_scenario(data), seed=5)
    p = r.patients
    survivors = p[p["immediate_survivor"]]
    dies_in_time = survivors["untreated_death_min"] <= 2000
    np.testing.assert_allclose(
        survivors.loc[dies_in_time, "death_min"], survivors.loc[dies_in_time, "untreated_death_min"]
    )
    assert (survivors.loc[~dies_in_time, "outcome"] == "unresolved").all()
    assert r.metrics["deaths_prehospital"] == int(dies_in_time.sum())


def test_walking_self_transport_reaches_the_nearest_hospital_before_ambulances():
    """With a steep distance decay every self-presenter picks the nearest hospital ("small",
    4 blocks from the site; "big" is 5) and gets there before the first ambulance."""
    data = small_scenario_data(casualties=80, self_transport_share=1.0)
    data["response"] = {"hospital_choice": {"decay_per_min": 50.0}}
    r = mcsim.simulate(parse_scenario(data), seed=2)
    p = r.patients
    selfs = p[p["leave_mode"] == "self"]
    amb = p[p["leave_mode"] == "ambulance"]
    assert len(selfs) > 0 and len(amb) > 0
    assert set(selfs["hospital"].astype(str)) == {"small"}
    assert selfs["hospital_arrival_min"].min() < amb["hospital_arrival_min"].min()


def test_self_presenters_spread_over_nearby_hospitals_by_the_choice_model():
    """With the default (gentle) decay both hospitals receive self-presenters, the nearer
    one more of them; making "big" well known moves the majority there."""
    data = small_scenario_data(casualties=200, self_transport_share=1.0)
    near = mcsim.simulate(parse_scenario(data), seed=2).patients
    near = near[near["leave_mode"] == "self"]["hospital"].astype(str).value_counts()
    assert set(near.index) == {"big", "small"}
    data["hospitals"][0]["known_utility"] = 3.0  # "big"
    known = mcsim.simulate(parse_scenario(data), seed=2).patients
    known = known[known["leave_mode"] == "self"]["hospital"].astype(str).value_counts()
    assert known["big"] > known["small"]
    assert known["big"] > near["big"]


def test_start_tags_match_observed_vitals_in_the_patients_table():
    r = mcsim.simulate(small(casualties=80), seed=4)
    p = r.patients[~r.patients["triaged_min"].isna()]
    for _, row in p.iterrows():
        if row["obs_walking"]:
            expected = "minor"
        elif row["obs_rr"] == 0:
            expected = "dead"
        elif row["obs_rr"] > 30 or row["obs_sbp"] < 90 or row["obs_gcs"] < 13:
            expected = "immediate"
        else:
            expected = "delayed"
        assert row["tag"] == expected, row.to_dict()


def test_immediate_patients_leave_before_delayed_and_minor():
    """Priority loading: nobody is loaded while a more urgent patient waits at the scene.

    Whenever a delayed patient is loaded, no immediate one triaged earlier still waits; whenever
    a minor one is, no immediate or delayed one does. Both cases occur in this run.
    """
    r = mcsim.simulate(small(casualties=80, self_transport_share=0.0), seed=9)
    p = r.patients.set_index("patient")
    ev = r.events
    loads = ev[(ev["kind"] == EventKind.LOAD_START.value) & (ev["patient"] >= 0)]
    loaded_at = loads.groupby("patient")["time_min"].min()
    tag = p["tag"].astype(str)
    gone = p["left_scene_min"].fillna(p["death_min"]).fillna(np.inf)
    loaded = loaded_at.reindex(p.index).fillna(np.inf)
    rank = {"immediate": 0, "delayed": 1, "minor": 2}
    checked = {"delayed": 0, "minor": 0}
    for pid, t in loaded_at.items():
        mine = rank.get(tag[pid])
        if mine is None or mine == 0:
            continue
        waiting = (p["triaged_min"] < t) & (loaded > t) & (gone > t)
        urgent = waiting & tag.map(rank).lt(mine)
        assert not urgent.any(), (
            f"patient {pid} ({tag[pid]}) loaded at {t} while {list(p.index[urgent])} waited"
        )
        checked[tag[pid]] += 1
    assert checked["delayed"] > 0 and checked["minor"] > 0, checked


def test_vehicles_never_exceed_capacity_and_immediates_travel_alone():
    r = mcsim.simulate(small(casualties=80, self_transport_share=0.0), seed=3)
    loads = r.events[r.events["kind"] == EventKind.LOAD_START.value]
    vehicle_rows = loads[loads["patient"] < 0]
    patient_rows = loads[loads["patient"] >= 0]
    tags = patient_rows.groupby("time_min")
    for _, row in vehicle_rows.iterrows():
        ids = [int(x) for x in row["detail"].split(",")]
        assert len(ids) <= 2
        tagged = r.patients.set_index("patient").loc[ids, "tag"].astype(str).tolist()
        if "immediate" in tagged:
            assert len(ids) == 1
    assert len(tags) > 0


def test_more_ambulances_and_hospital_capacity_lower_critical_mortality():
    """Literature direction (Hirshberg 2005): more capacity, fewer critical deaths."""
    scarce, ample = [], []
    for seed in range(6):
        s = small_scenario_data(casualties=120)
        scarce.append(mcsim.simulate(parse_scenario(s), seed=seed).metrics)
        a = small_scenario_data(casualties=120)
        for h in a["hospitals"]:
            h.update(resus_bays=20, teams_on_duty=20, operating_rooms=10, icu_beds=40, ed_beds=60)
        a["stations"][0]["vehicles"][0]["count"] = 30
        ample.append(mcsim.simulate(parse_scenario(a), seed=seed).metrics)
    deaths_scarce = sum(m["critical_deaths"] for m in scarce)
    deaths_ample = sum(m["critical_deaths"] for m in ample)
    assert sum(m["critical"] for m in scarce) == sum(m["critical"] for m in ample)
    assert deaths_ample < deaths_scarce


def test_model_steps_by_hand_to_the_same_log_as_run():
    sc = small(casualties=30)
    stepped = mcsim.MCIModel(sc, 8)
    while stepped.step():
        pass
    ran = mcsim.MCIModel(sc, 8).run()
    pd.testing.assert_frame_equal(stepped.result().events, ran.result().events)
    assert math.isclose(stepped.now, sc.duration_min)


def test_walking_wounded_do_not_deteriorate_and_survive_treatment():
    """minor_deterioration_factor 0 and minor_survival_probability 1 (the defaults)."""
    r = mcsim.simulate(small(casualties=120), seed=6)
    minor = r.patients[r.patients["severity"] == "minor"]
    assert len(minor) > 0
    assert np.isinf(minor["untreated_death_min"]).all()
    assert (minor["outcome"] != "died").all()
    treated = minor[minor["outcome"] == "survived"]
    assert (treated["p_survival"] == 1.0).all()


def test_walking_wounded_deteriorate_when_the_scenario_says_so():
    data = small_scenario_data(casualties=120)
    data["physiology"] = {"minor_deterioration_factor": 1.0, "minor_survival_probability": 0.5}
    r = mcsim.simulate(parse_scenario(data), seed=6)
    minor = r.patients[r.patients["severity"] == "minor"]
    assert np.isfinite(minor["untreated_death_min"]).all()
    treated = minor[minor["outcome"] != "unresolved"]
    assert set(treated.loc[treated["definitive_care_min"].notna(), "p_survival"]) == {0.5}


def test_surge_plan_opens_capacity_after_the_hospital_alert():
    data = small_scenario_data(casualties=60)
    data["hospitals"][0]["surge"] = {"resus_bays": 2, "icu_beds": 3}
    data["hospitals"][0]["surge_delay_min"] = 15
    data["response"] = {"hospital_alert_delay_min": 10}
    model = mcsim.MCIModel(parse_scenario(data), 1)
    big = model.hospitals["big"]
    model.run(until=24.9)
    assert big.capacity[Resource.RESUS_BAY] == 3 and big.capacity[Resource.ICU_BED] == 6
    model.run(until=25.0)
    assert big.capacity[Resource.RESUS_BAY] == 5 and big.capacity[Resource.ICU_BED] == 9
    rows = model.result().events
    surge = rows[rows["kind"] == EventKind.SURGE_OPENED.value]
    assert list(surge["detail"]) == ["resus_bays+2", "icu_beds+3"]
    assert (surge["time_min"] == 25.0).all()


def test_treat_and_release_keeps_that_share_of_minor_casualties_off_the_ambulances():
    base = mcsim.simulate(small(casualties=150, self_transport_share=0.0), seed=4)
    rel = mcsim.simulate(
        small(casualties=150, self_transport_share=0.0, treat_and_release_share=0.6), seed=4
    )
    p = rel.patients
    released = p[p["leave_mode"] == "released"]
    minor_triaged = (p["tag"] == "minor").sum()
    assert 0.4 * minor_triaged < len(released) < 0.8 * minor_triaged
    assert (released["tag"] == "minor").all()
    assert (released["outcome"] == "survived").all()
    assert released["hospital_arrival_min"].isna().all()
    conveyed = lambda r: (r.patients["leave_mode"] == "ambulance").sum()  # noqa: E731
    assert conveyed(rel) < conveyed(base)
    pd.testing.assert_frame_equal(
        base.patients[TRUE_STATE_COLUMNS], rel.patients[TRUE_STATE_COLUMNS]
    )


def test_bystanders_carry_non_walking_casualties_to_the_nearest_hospital():
    base = mcsim.simulate(small(casualties=150), seed=8)
    carried = mcsim.simulate(small(casualties=150, carried_by_bystanders_share=0.5), seed=8)
    p = carried.patients
    by = p[p["leave_mode"] == "bystander"]
    assert len(by) > 0
    assert not by["walking0"].any()
    assert set(by["hospital"].astype(str)) <= {"big", "small"}
    nearest = p.loc[p["leave_mode"] == "self", "hospital"].astype(str).unique()
    assert set(by["hospital"].astype(str)) == set(nearest)
    left_alone = p["leave_mode"].isin(["self", "bystander"])
    assert carried.metrics["self_transported"] == int(left_alone.sum())
    pd.testing.assert_frame_equal(
        base.patients[TRUE_STATE_COLUMNS], carried.patients[TRUE_STATE_COLUMNS]
    )
