"""Behaviours that planted bugs slipped past before (issue 14, "tests that catch wrong models").

Each test states one thing the model must do and checks it through a real run, so that a
resource never given back, two metrics swapped, patients immortal in ambulances or deaths lost
after the horizon fail a test with a name, not only the opaque baseline digest.
"""

from __future__ import annotations

import numpy as np

import mcsim
from mcsim.enums import EventKind
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data


def test_every_resource_returns_to_its_start_after_the_last_discharge():
    data = small_scenario_data(casualties=120, self_transport_share=0.3)
    data["duration_min"] = 4000
    data["hospital_care"] = {"icu_stay_min": 300.0, "occupied_clear_min": 60.0}
    for h in data["hospitals"]:
        h["occupied"] = {}
    m = mcsim.MCIModel(parse_scenario(data), seed=4)
    m.run()
    for p in m.patients:
        assert p.held == [], f"patient {p.pid} still holds {p.held}"
    for h in m.hospital_list:
        for r, cap in h.capacity.items():
            assert h.free[r] == cap - h.occupied[r], f"{h.hid} {r}: {h.free[r]} free of {cap}"


def test_time_to_hospital_and_to_definitive_care_are_what_the_patients_table_says():
    r = mcsim.simulate(parse_scenario(small_scenario_data(casualties=100)), seed=3)
    p, m = r.patients, r.metrics
    for metric, column in (
        ("time_to_hospital_min", "hospital_arrival_min"),
        ("time_to_definitive_care_min", "definitive_care_min"),
    ):
        assert m[metric], metric
        for tag, stats in m[metric].items():
            sel = (p["tag"].astype(str) == tag) & p[column].notna()
            assert stats["n"] == int(sel.sum())
            assert np.isclose(stats["median"], np.median(p.loc[sel, column]))
    # Definitive care never comes before arrival, so the two cannot be swapped unnoticed.
    both = p["definitive_care_min"].notna() & p["hospital_arrival_min"].notna()
    assert (p.loc[both, "definitive_care_min"] >= p.loc[both, "hospital_arrival_min"]).all()
    assert (p.loc[both, "definitive_care_min"] > p.loc[both, "hospital_arrival_min"]).any()


def test_bleeding_patients_die_in_the_ambulance_when_the_drive_is_long():
    """A long drive on a bleeding clock: some die on the way, recorded as transport deaths."""
    data = small_scenario_data(casualties=150, injury_profile="gunshot", self_transport_share=0.0)
    data["region"]["generator"]["speed_kmh"] = 3  # 20 min a block: an hour or more to hospital
    data["stations"][0]["vehicles"][0]["count"] = 30
    r = mcsim.simulate(parse_scenario(data), seed=1)
    p = r.patients
    transport = p[p["death_place"].astype(str) == "transport"]
    assert len(transport) > 0
    assert transport["haemorrhage"].all()
    assert (transport["vehicle"] >= 0).all()  # in an ambulance: nobody else drives them
    assert (transport["hospital_arrival_min"].isna()).all()


def test_deaths_decided_by_care_but_due_after_the_horizon_are_recorded():
    data = small_scenario_data(casualties=120, self_transport_share=0.0)
    data["duration_min"] = 90
    data["physiology"] = {  # nobody survives
        "triss_blunt": [-20.0, 0.8085, -0.0835, -1.743],
        "serious_survival_probability": None,
    }
    r = mcsim.simulate(parse_scenario(data), seed=2)
    ev, p = r.events, r.patients
    end = float(ev.loc[ev["kind"] == EventKind.END.value, "time_min"].iloc[0])
    late = ev[(ev["kind"] == EventKind.DEATH.value) & (ev["time_min"] > end)]
    assert len(late) > 0
    assert (late["detail"].astype(str).str.contains("after the horizon")).all()
    treated = p[p["definitive_care_min"].notna() & (p["severity"].astype(str) != "minor")]
    assert (treated["outcome"].astype(str) == "died").all()
    assert r.metrics["deaths"] == int((p["outcome"].astype(str) == "died").sum())


#: Event kinds that start hospital care (a pathway step beginning).
_CARE_STARTS = {
    EventKind.RESUS_START.value,
    EventKind.DEFINITIVE_CARE.value,
    EventKind.OR_START.value,
    EventKind.ICU_ADMIT.value,
}


def test_no_hospital_care_starts_after_the_horizon():
    """Deaths recorded after the horizon free beds, but nobody waiting is treated in them.

    The run ends at the horizon: a death decided by care and recorded afterwards gives its
    resources back without starting the next patient's care, so every care start is at or
    before the end and nobody reaches definitive care after it.
    """
    data = small_scenario_data(casualties=120, self_transport_share=0.0)
    data["duration_min"] = 90
    data["physiology"] = {"triss_blunt": [-20.0, 0.8085, -0.0835, -1.743]}  # nobody survives
    data["physiology"]["serious_survival_probability"] = None
    r = mcsim.simulate(parse_scenario(data), seed=2)
    ev = r.events
    end = float(ev.loc[ev["kind"] == EventKind.END.value, "time_min"].iloc[0])
    assert (ev["time_min"] > end).any(), "the run records deaths after the horizon"
    p = r.patients
    cared = p["definitive_care_min"].fillna(np.inf)
    waiting = (p["hospital_arrival_min"] <= end) & (cared > end)
    assert waiting.any(), "some patients still wait for care at the horizon"
    late = ev[ev["kind"].astype(str).isin(_CARE_STARTS) & (ev["time_min"] > end)]
    assert late.empty, late[["time_min", "kind", "patient", "hospital"]].to_string()
    assert (p["definitive_care_min"].dropna() <= end).all()
