"""Metric definitions on hand-built records (SCIENCE.md §5)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mcsim.metrics import ambulance_utilization, compute_metrics, peak_per_hour


def test_peak_per_hour_counts_the_busiest_sixty_minutes():
    assert peak_per_hour(np.array([])) == 0
    assert peak_per_hour(np.array([0, 10, 59.9, 60, 61, 200])) == 4  # 10, 59.9, 60, 61
    assert peak_per_hour(np.array([0, 60, 120])) == 1


def test_utilization_counts_time_away_from_station_within_the_window():
    ev = pd.DataFrame(
        {
            "vehicle": [0, 0, 0, 0, 1, -1],
            "patient": [-1, -1, 7, -1, -1, -1],
            "time_min": [10.0, 40.0, 75.0, 70.0, 20.0, 30.0],
            "state": ["to_scene", "to_station", "in_transport", "at_station", "to_scene", "x"],
        }
    )
    # (the patient row naming vehicle 0 at minute 75 is not the vehicle's own and is ignored)
    # vehicle 0 busy 10→70 (60 min); vehicle 1 busy 20→end=100 (80 min); fleet 3, window 0-100
    assert ambulance_utilization(ev, 3, 0.0, 100.0) == pytest.approx(140 / 300)
    # window 30-60 clips both: 30 + 30 busy minutes of 3 x 30
    assert ambulance_utilization(ev, 3, 30.0, 60.0) == pytest.approx(60 / 90)
    assert ambulance_utilization(ev, 0, 0.0, 100.0) == 0.0


def _patients(rows):
    cols = [
        "patient",
        "incident",
        "severity",
        "critical",
        "immediate_survivor",
        "tag",
        "triaged_min",
        "left_scene_min",
        "leave_mode",
        "hospital",
        "hospital_arrival_min",
        "definitive_care_min",
        "p_survival",
        "death_place",
        "outcome",
        "state",
    ]
    df = pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])
    return df


def test_critical_mortality_and_triage_rates_follow_frykberg():
    nan = math.nan
    p = _patients(
        [
            # id inc sev crit surv tag triaged left mode hosp arr dc p place outcome state
            (
                0,
                "i",
                "critical",
                True,
                True,
                "immediate",
                5,
                20,
                "ambulance",
                "h",
                30,
                50,
                0.8,
                "",
                "survived",
                "definitive_care",
            ),
            (
                1,
                "i",
                "critical",
                True,
                True,
                "delayed",
                6,
                40,
                "ambulance",
                "h",
                55,
                nan,
                0.0,
                "hospital",
                "died",
                "dead",
            ),
            (
                2,
                "i",
                "serious",
                False,
                True,
                "immediate",
                7,
                25,
                "ambulance",
                "h",
                35,
                40,
                0.9,
                "",
                "survived",
                "definitive_care",
            ),
            (
                3,
                "i",
                "minor",
                False,
                True,
                "minor",
                2,
                10,
                "self",
                "h",
                15,
                20,
                1.0,
                "",
                "survived",
                "definitive_care",
            ),
            (
                4,
                "i",
                "dead_on_scene",
                False,
                False,
                "untriaged",
                nan,
                nan,
                "",
                "",
                nan,
                nan,
                0.0,
                "scene",
                "died",
                "dead",
            ),
        ]
    )
    ev = pd.DataFrame(
        {
            "vehicle": pd.Series([], dtype=int),
            "time_min": [],
            "state": [],
            "kind": [],
            "patient": pd.Series([], dtype=int),
        }
    )
    m = compute_metrics(
        ev, p, {"hospitals": {"h": {}}, "vehicles": 1, "onset_min": 0.0, "onsets": {"i": 0.0}}
    )
    assert m["casualties"] == 5
    assert m["deaths"] == 2 and m["immediate_deaths"] == 1 and m["deaths_in_hospital"] == 1
    assert m["critical"] == 2 and m["critical_mortality"] == 0.5
    assert m["overtriage_rate"] == 0.5  # of 2 tagged immediate, 1 not critical
    assert m["undertriage_rate"] == 0.5  # of 2 triaged non-immediate survivors, 1 critical
    assert m["first_hospital_arrival_min"] == 15
    assert m["scene_clear_min"] == 40
    assert m["expected_survivors"] == pytest.approx(0.8 + 0.0 + 0.9 + 1.0)
    assert m["hospitals"]["h"] == {
        "patients": 4,
        "critical": 2,
        "peak_critical_per_hour": 2,
        "deaths": 1,
    }
    assert m["critical_definitive_care_60min_share"] == 0.5
