"""Analytic oracle: a hospital's minor-treatment area under Poisson arrivals is an M/M/c queue.

Walking-wounded patients are fed to one hospital at Poisson times, with exponential service
times and ``c`` minor-treatment spaces; the mean wait for a space must match Erlang's C formula
(STYLE.md §10: analytic oracles on degenerate settings). The patients go through the real
``Hospital.admit`` → queue → treatment code path.
"""

from __future__ import annotations

import math

import numpy as np

import mcsim
from mcsim.agents.patient import Patient
from mcsim.enums import Phase, Severity
from mcsim.scenario import parse_scenario
from tests.conftest import patient_row, small_scenario_data


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C)."""
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def _minor_row() -> dict:
    return patient_row(severity=Severity.MINOR, walking0=True, critical=False, iss=4)


def mean_wait_in_model(lam: float, service_min: float, c: int, n: int, seed: int) -> float:
    data = small_scenario_data(casualties=1, self_transport_share=0.0)
    data["duration_min"] = min(20_160, n / lam * 1.2 + 50 * service_min)
    data["hospitals"][0].update(minor_treatment_spaces=c, occupied={})
    data["hospital_care"] = {"ed_minor_min": service_min, "service_distribution": "exponential"}
    data["response"] = {"triage_officers": 0, "paramedics": 0}
    for s in data["stations"]:
        for g in s["vehicles"]:
            g["count"] = 0
    model = mcsim.MCIModel(parse_scenario(data), seed)
    model.run(until=0.0)  # the incident starts; its one casualty stays at the scene
    hospital = model.hospitals["big"]
    scene = model.scenes[0]
    arrivals = np.cumsum(np.random.default_rng(seed).exponential(1 / lam, n)) + 1.0
    patients = []
    for t in arrivals:
        p = Patient(model, len(model.patients), scene, _minor_row())
        model.patients.append(p)
        patients.append(p)
        model.schedule(float(t), Phase.ARRIVAL, hospital.admit, p)
    model.run()
    waits = np.array([p.definitive_care_min - p.hospital_arrival_min for p in patients])
    assert not np.isnan(waits).any(), "every patient was treated"
    return float(waits[n // 10 :].mean())  # without the warm-up from an empty system


def test_minor_treatment_area_waits_match_erlang_c():
    lam, service, c = 1.6, 1.5, 3  # utilisation 0.8
    expected = erlang_c_wait(lam, 1 / service, c)
    waits = [mean_wait_in_model(lam, service, c, n=25_000, seed=s) for s in range(2)]
    assert abs(np.mean(waits) - expected) / expected < 0.08, (waits, expected)


def test_one_space_is_an_mm1_queue():
    lam, service = 1.0, 0.75  # rho = 0.75: Wq = rho / (mu - lam) = 2.25 min
    expected = erlang_c_wait(lam, 1 / service, 1)
    assert math.isclose(expected, 0.75 / (1 / 0.75 - 1.0))
    waits = [mean_wait_in_model(lam, service, 1, n=15_000, seed=s) for s in range(2)]
    assert abs(np.mean(waits) - expected) / expected < 0.10, (waits, expected)
