"""Published directions the model must keep (issue 11, "the direction results still hold").

- more ambulances or hospital capacity never raise expected deaths;
- Sacco's resource-based triage (STM) does as well as START when transport is scarce (Sacco
  2005; Navin 2009 found it better, under their own deterioration model);
- START over-triages far more than it under-triages (Frykberg 1988: 59 % over-triage);
- one hospital fed critical casualties at rising rates gives a sigmoid: timely care holds, then
  collapses past the hospital's capacity (Hirshberg et al. 2005).
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import curve_fit

import mcsim
from mcsim.agents.patient import Patient
from mcsim.enums import Phase
from mcsim.scenario import load_scenario, parse_scenario
from mcsim.simulate import scenarios_dir
from tests.conftest import patient_row, small_scenario_data


def _mean(metric: str, data: dict, seeds=range(4)) -> float:
    return float(np.mean([mcsim.simulate(parse_scenario(data), s).metrics[metric] for s in seeds]))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    casualties=st.integers(60, 160),
    profile=st.sampled_from(["blast_confined", "gunshot"]),
    vehicles=st.integers(1, 4),
)
def test_more_ambulances_or_capacity_never_raise_expected_deaths(casualties, profile, vehicles):
    base = small_scenario_data(casualties=casualties, injury_profile=profile)
    base["stations"][0]["vehicles"][0]["count"] = vehicles
    more_vehicles = small_scenario_data(casualties=casualties, injury_profile=profile)
    more_vehicles["stations"][0]["vehicles"][0]["count"] = vehicles + 10
    more_beds = small_scenario_data(casualties=casualties, injury_profile=profile)
    more_beds["stations"][0]["vehicles"][0]["count"] = vehicles
    for h in more_beds["hospitals"]:
        h.update(resus_bays=h["resus_bays"] + 6, ed_beds=h["ed_beds"] + 20)
        h.update(teams_on_duty=h["teams_on_duty"] + 6, operating_rooms=h["operating_rooms"] + 4)
    e_base = _mean("expected_deaths", base)
    # Seed noise allowance: half a death on the mean of four runs.
    assert _mean("expected_deaths", more_vehicles) <= e_base + 0.5
    assert _mean("expected_deaths", more_beds) <= e_base + 0.5


def test_stm_triage_does_as_well_as_start_when_transport_is_scarce():
    """STM's tags (Sacco's salvage gain) are no worse than START's beyond seed noise with one
    ambulance per station. (Its greedy dispatch order is not: with the TRISS outcome model and
    with the Sacco one it loses lives against the priority order; docs/model.md, STM.)"""
    stadium = scenarios_dir() / "stadium_explosion.yaml"
    sc = load_scenario(stadium, ["response.loading_min=6"])
    for st_ in sc.stations:
        for g in st_.vehicles:
            g.count = min(g.count, 1)
    start = [mcsim.simulate(sc, s, triage="start").metrics["expected_deaths"] for s in range(8)]
    stm = [mcsim.simulate(sc, s, triage="stm").metrics["expected_deaths"] for s in range(8)]
    assert np.mean(stm) <= np.mean(start) + 0.5


def test_start_over_triage_is_far_above_under_triage():
    sc = load_scenario(scenarios_dir() / "stadium_explosion.yaml")
    over, under = [], []
    for seed in range(5):
        m = mcsim.simulate(sc, seed, triage="start").metrics
        over.append(m["overtriage_rate"])
        under.append(m["undertriage_rate"])
    assert np.mean(over) > 0.3
    assert np.mean(over) > 3 * np.mean(under)


def _critical_row() -> dict:
    return patient_row(iss=25)


def _timely_share(rate_per_h: float, seed: int, n: int = 80) -> float:
    """Share of critical arrivals whose definitive care starts within 30 min of arrival."""
    data = small_scenario_data(casualties=1, self_transport_share=0.0)
    data["duration_min"] = min(20_160, n / rate_per_h * 60 * 1.5 + 600)
    data["hospitals"][0].update(resus_bays=2, teams_on_duty=2, teams_on_call=0, occupied={})
    data["hospital_care"] = {"resus_min": 20.0}
    data["response"] = {"triage_officers": 0, "paramedics": 0}
    for s in data["stations"]:
        for g in s["vehicles"]:
            g["count"] = 0
    model = mcsim.MCIModel(parse_scenario(data), seed)
    model.run(until=0.0)
    hospital = model.hospitals["big"]
    gaps = np.random.default_rng(seed).exponential(60.0 / rate_per_h, n)
    patients = []
    for t in np.cumsum(gaps) + 1.0:
        p = Patient(model, len(model.patients), model.scenes[0], _critical_row())
        model.patients.append(p)
        patients.append(p)
        model.schedule(float(t), Phase.ARRIVAL, hospital.admit, p)
    model.run()
    waits = np.array([p.definitive_care_min - p.hospital_arrival_min for p in patients])
    return float(np.mean(waits <= 30.0))


def test_one_hospital_fed_at_rising_rates_follows_hirshbergs_sigmoid():
    """Two resus bays, 20-min resuscitations: capacity 6 critical/h; timely care collapses
    around it, and a logistic curve fits the share of timely care against the arrival rate."""
    rates = np.array([1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20], dtype=float)
    share = np.array([np.mean([_timely_share(r, s) for s in range(3)]) for r in rates])

    def logistic(x, x0, k):
        return 1.0 / (1.0 + np.exp(k * (x - x0)))

    (x0, k), _ = curve_fit(logistic, rates, share, p0=(6.0, 1.0))
    fitted = logistic(rates, x0, k)
    r2 = 1 - np.sum((share - fitted) ** 2) / np.sum((share - share.mean()) ** 2)
    assert share[0] > 0.95 and share[-1] < 0.3
    assert k > 0 and 3.0 <= x0 <= 12.0
    assert r2 > 0.9
