"""Each defect found while rebuilding the outcome model (issue 11), as a behaviour that holds now.

Every test here failed on the first model: it states what a planner relies on and checks it
through a real run.
"""

from __future__ import annotations

import numpy as np

import mcsim
from mcsim.enums import EventKind, TriageTag
from mcsim.policies.destination import nearest_free
from mcsim.policies.views import HospitalView, PatientView
from mcsim.scenario import load_scenario, parse_scenario
from mcsim.simulate import scenarios_dir
from tests.conftest import small_scenario_data


def _stadium(*overrides: str):
    return load_scenario(scenarios_dir() / "stadium_explosion.yaml", list(overrides))


def test_critical_patients_at_a_hospital_without_resus_bays_are_still_treated():
    """No bay: ED staff resuscitate in an ED bed; nobody waits for a bay that never comes."""
    sc = _stadium(
        "hospitals[2].resus_bays=0",
        "hospitals[2].surge.resus_bays=0",
        "policies.destination=random",
    )
    hid = sc.hospitals[2].id
    r = mcsim.simulate(sc, seed=1)
    p = r.patients
    crit = p[(p["hospital"].astype(str) == hid) & p["critical"] & p["hospital_arrival_min"].notna()]
    assert len(crit) > 0
    treated = crit["definitive_care_min"].notna() | (crit["outcome"].astype(str) == "died")
    assert treated.all()
    ev = r.events
    resus = ev[(ev["kind"] == EventKind.RESUS_START.value) & (ev["hospital"].astype(str) == hid)]
    assert set(resus["detail"].astype(str)) <= {"resuscitation_ed"}


def test_icu_beds_are_freed_by_step_down_not_only_by_death():
    data = small_scenario_data(casualties=120, self_transport_share=0.0)
    data["hospital_care"] = {"icu_stay_min": 60.0}
    data["duration_min"] = 600
    ev = mcsim.simulate(parse_scenario(data), seed=3).events
    admits = ev[ev["kind"] == EventKind.ICU_ADMIT.value]
    leaves = ev[ev["kind"] == EventKind.ICU_DISCHARGE.value]
    assert len(leaves) > 0
    icu_beds = sum(h["icu_beds"] for h in data["hospitals"])
    assert len(admits) > icu_beds  # beds were reused after step-down


def test_two_sites_alerted_together_share_the_fleet_by_need():
    """Need-based dispatch: with both Boston sites alerted at once, the second (107 casualties)
    gets about its share of the first wave of ambulances instead of none (the first model
    filled the first listed scene first)."""
    sc = load_scenario(
        scenarios_dir() / "boston_marathon_bombing.yaml", ["incidents[1].onset_min=0"]
    )
    ev = mcsim.simulate(sc, seed=1).events
    disp = ev[(ev["kind"] == EventKind.DISPATCHED.value) & (ev["patient"] < 0)]
    first_wave = disp[disp["time_min"] <= disp["time_min"].min() + 1e-9]
    share = (first_wave["incident"].astype(str) == "bomb2").mean()
    assert 0.3 <= share <= 0.5  # 107 / 267 = 0.40


def test_serious_patients_who_need_surgery_get_an_operation():
    r = mcsim.simulate(_stadium(), seed=2)
    ev, p = r.events, r.patients
    need = p[(p["care_need"].astype(str) == "serious_surgical") & p["definitive_care_min"].notna()]
    assert len(need) > 0
    operated = set(ev.loc[ev["kind"] == EventKind.OR_START.value, "patient"])
    assert operated and operated <= set(need["patient"])


def test_no_living_casualty_is_tagged_dead_at_first_look():
    """Living casualties breathe and have a pulse at onset, so START never tags them dead."""
    for seed in range(3):
        p = mcsim.simulate(_stadium(), seed=seed).patients
        alive = p[p["immediate_survivor"]]
        assert (alive["rr0"] > 0).all() and (alive["pulse0"] > 0).all()


def test_self_transport_drive_applies_the_travel_factor_once():
    sc = _stadium("response.self_transport_travel_factor=1.0")
    m = mcsim.MCIModel(sc, seed=1)
    m.run()
    ev = m.result().events
    starts = ev[ev["kind"] == EventKind.SELF_TRANSPORT_START.value].head(20)
    assert len(starts) > 0
    for _, row in starts.iterrows():
        minutes = m.region.travel_min(int(row["node"]), int(row["to_node"]))
        assert np.isclose(row["arrive_min"] - row["time_min"], minutes)


def test_nearest_free_needs_a_free_trauma_team_as_well_as_a_bay():
    def view(hid: str, travel: float, teams: int) -> HospitalView:
        return HospitalView(hid, 0, travel, 1, True, False, 2, 5, 1, 0, 0, 0.0, {}, teams, 1)

    pt = PatientView(
        id=0, tag=TriageTag.IMMEDIATE, age=30, walking=False, rr=30, pulse=130, sbp=85,
        gcs=14, triaged_min=5.0, observed_rpm=9, u_destination=0.5,
    )  # fmt: skip
    assert nearest_free([pt], [view("near", 3.0, 0), view("far", 8.0, 1)]) == "far"


def test_no_care_starts_after_the_horizon():
    """Deaths decided before the end are recorded after it, but free no bed for anyone."""
    data = small_scenario_data(casualties=300, self_transport_share=0.0)
    data["duration_min"] = 120
    for h in data["hospitals"]:
        h.update(icu_beds=1, resus_bays=1, occupied={})
    ev = mcsim.simulate(parse_scenario(data), seed=4).events
    end = float(ev.loc[ev["kind"] == EventKind.END.value, "time_min"].iloc[0])
    late = ev[ev["time_min"] > end]
    assert set(late["kind"].astype(str)) <= {EventKind.DEATH.value}


def test_expected_deaths_count_the_patients_left_waiting():
    """A run cut short leaves patients unresolved: deaths miss them, expected deaths do not."""
    sc = _stadium("duration_min=45")
    m = mcsim.simulate(sc, seed=1).metrics
    assert m["unresolved"] > 0
    assert m["expected_deaths"] > m["deaths"]
    full = mcsim.simulate(_stadium(), seed=1)
    p = full.patients
    before_care = (p["outcome"].astype(str) == "died") & p["definitive_care_min"].isna()
    assert full.metrics["expected_deaths"] >= before_care.sum() - 1e-9


def test_nobody_leaves_or_is_triaged_before_the_scene_is_accessible():
    """An active shooter: casualties wait until access_delay_min, then leave and are triaged."""
    data = small_scenario_data(
        casualties=80, access_delay_min=15.0, carried_by_bystanders_share=0.5
    )
    p = mcsim.simulate(parse_scenario(data), seed=2).patients
    left = p["left_scene_min"].dropna()
    assert len(left) > 0 and (left >= 15.0).all()
    assert (p["triaged_min"].dropna() >= 15.0).all()
    open_scene = mcsim.simulate(parse_scenario(small_scenario_data(casualties=80)), seed=2)
    assert (open_scene.patients["left_scene_min"].dropna() < 15.0).any()


def test_walking_wounded_who_go_home_never_reach_a_hospital():
    data = small_scenario_data(casualties=80, self_transport_share=1.0, went_home_share=1.0)
    p = mcsim.simulate(parse_scenario(data), seed=2).patients
    home = p[p["leave_mode"].astype(str) == "home"]
    assert len(home) > 0
    assert (home["hospital"].astype(str) == "").all()
    assert (home["outcome"].astype(str) == "survived").all()
    assert not (p["leave_mode"].astype(str) == "self").any()
    none = small_scenario_data(casualties=80, self_transport_share=1.0)
    q = mcsim.simulate(parse_scenario(none), seed=2).patients
    assert not (q["leave_mode"].astype(str) == "home").any()


def test_a_tourniquet_at_triage_buys_a_limb_bleeder_time():
    """Same casualties, no ambulances: with tourniquets at triage the controlled limb bleeders
    die later than without (their clock runs at haemorrhage_control_factor), others unchanged."""
    base = small_scenario_data(casualties=200, injury_profile="limbs", self_transport_share=0.0)
    base["injury_profiles"] = {
        "limbs": {
            "description": "shrapnel to the limbs",
            "immediate_death_share": 0.0,
            "critical_share": 0.2,
            "serious_share": 0.2,
            "haemorrhage_share": 1.0,
            "compressible_share": 1.0,
            "surgery_share_critical": 1.0,
            "surgery_share_serious": 0.0,
            "source": "test",
        }
    }
    for s in base["stations"]:
        for g in s["vehicles"]:
            g["count"] = 0
    base["response"] = {"triage_officers": 4, "paramedics": 0, "tourniquets_at_triage": True}
    without = {**base, "response": {**base["response"], "tourniquets_at_triage": False}}
    a = mcsim.simulate(parse_scenario(base), seed=3).patients.set_index("patient")
    b = mcsim.simulate(parse_scenario(without), seed=3).patients.set_index("patient")
    controlled = a.index[a["bleed_controlled"]]
    assert len(controlled) > 0 and not b["bleed_controlled"].any()
    died_without = b.loc[controlled, "death_min"].notna()
    assert died_without.any()
    later = a.loc[controlled, "death_min"].fillna(np.inf) > b.loc[controlled, "death_min"]
    assert later[died_without].all()
    others = a.index[~a["bleed_controlled"] & a["immediate_survivor"]]
    pd_equal = a.loc[others, "death_min"].fillna(-1) == b.loc[others, "death_min"].fillna(-1)
    assert pd_equal.all()


def test_a_hospital_that_cannot_operate_transfers_the_patients_who_need_surgery():
    data = small_scenario_data(casualties=120, self_transport_share=0.0)
    for h in data["hospitals"]:
        if h["id"] == "small":
            h.update(operating_rooms=0, surge={})
    data["policies"] = {"destination": "nearest"}
    r = mcsim.simulate(parse_scenario(data), seed=3)
    p, ev = r.patients, r.events
    moved = p[p["first_hospital"].astype(str) == "small"]
    moved = moved[moved["hospital"].astype(str) == "big"]
    assert len(moved) > 0
    assert moved["needs_surgery"].all()
    transfers = ev[ev["kind"] == EventKind.TRANSFER.value]
    assert set(moved["patient"]) <= set(transfers["patient"])
    operated = ev[
        ev["kind"].isin([EventKind.DEFINITIVE_CARE.value, EventKind.OR_START.value])
        & (ev["detail"].astype(str) == "surgery")
    ]
    at_big = operated[operated["patient"].isin(moved["patient"])]
    assert (at_big["hospital"].astype(str) == "big").all() and len(at_big) > 0
    assert not (
        (p["hospital"].astype(str) == "small")
        & p["needs_surgery"]
        & p["critical"]
        & p["definitive_care_min"].notna()
        & (p["care_need"].astype(str) == "critical_surgical")
    ).any()


def test_treated_serious_casualties_survive_unless_triss_is_asked_for():
    """ISS 9-15 casualties do not die after care by default (registries: every death has
    ISS > 15); with serious_survival_probability null they get TRISS like critical ones."""
    data = small_scenario_data(casualties=150)
    data["schema_version"] = 2
    p = mcsim.simulate(parse_scenario(data), seed=1).patients
    serious = p[(p.severity.astype(str) == "serious") & p.definitive_care_min.notna()]
    assert len(serious) > 10
    assert (serious.p_survival == 1.0).all()
    assert (serious.outcome.astype(str) == "survived").all()
    data["physiology"] = {"serious_survival_probability": None}
    p2 = mcsim.simulate(parse_scenario(data), seed=1).patients
    serious2 = p2[(p2.severity.astype(str) == "serious") & p2.definitive_care_min.notna()]
    assert (serious2.p_survival < 1.0).any()
    assert serious2.p_survival.between(0.5, 1.0).all()
