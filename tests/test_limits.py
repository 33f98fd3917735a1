"""Documented limits, checked where they are cheap to check (issue 15, defects 4, 6 and 12).

Sweep plans are counted from their sizes before a cell is built; counts in the scenario have
sane maxima that the JSON Schema shows; rate intervals stay inside [0, 1]; a count a facilities
file gets wrong is blamed on its row.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from test_analyze import synthetic

from mcsim.analysis import cell_summary
from mcsim.errors import InputError, echo
from mcsim.region_import import Place, _blame_source
from mcsim.scenario import scenario_json_schema
from mcsim.stats import is_rate, rate_interval, t_interval
from mcsim.sweep.spec import MAX_RUNS, count_runs, parse_sweep


def test_runs_are_counted_from_sizes_and_refused_past_the_limit():
    assert count_runs(2, [3, 4], 5, 10) == 2 * 3 * 4 * 5 * 10
    assert count_runs(1, [2], 1, 2, max_runs=4) == 4
    with pytest.raises(InputError, match=r"plans 4 runs \(2 cells x 2 replications\); at most 3"):
        count_runs(1, [2], 1, 2, max_runs=3)
    with pytest.raises(InputError, match="at most 1,000,000 .--max-runs"):
        count_runs(1, [10, 10], 1, MAX_RUNS)


def test_a_sweep_of_10_to_the_12_cells_is_refused_at_once(tmp_path):
    data = {
        "sweep_version": 1,
        "name": "huge",
        "scenarios": ["default"],
        "replications": 1,
        "factors": {
            p: {"start": 1, "stop": 10_000, "step": 1}
            for p in ("duration_min", "incidents[0].casualties", "response.paramedics")
        },
    }
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="plans 1,000,000,000,000 cells") as info:
        parse_sweep(data, file="huge.yaml", base_dir=tmp_path)
    assert info.value.path == "factors"
    assert time.perf_counter() - t0 < 30  # seconds, not the hours a built plan would take


def test_counts_have_maxima_in_the_json_schema():
    defs = scenario_json_schema()["$defs"]
    response = defs["ResponseSpec"]["properties"]
    for field in ("triage_officers", "paramedics", "destination_candidates"):
        assert "maximum" in response[field], field
    grid = defs["GridCitySpec"]["properties"]
    assert grid["rows"]["maximum"] == grid["cols"]["maximum"] == 300
    assert defs["VehicleSpec"]["properties"]["count"]["maximum"] == 10_000


@pytest.mark.parametrize(
    "values",
    [
        [0, 0, 0, 0.1, 0, 0, 0, 0, 0.05, 0],
        [1, 1, 0.95, 1, 1],
        [0.2, 0.5, 0.9, 0.4, 0.7],
        [0.0, 1.0],
    ],
)
def test_rate_intervals_stay_inside_0_1_and_contain_the_mean(values):
    n, mean, _sd, lo, hi = rate_interval(values)
    assert 0.0 <= lo <= mean <= hi <= 1.0
    assert n == len(values)


def test_rate_interval_is_the_t_interval_far_from_the_bounds():
    values = list(np.linspace(0.45, 0.55, 30))
    _, _, _, lo, hi = rate_interval(values)
    _, _, _, tlo, thi = t_interval(values)
    assert lo == pytest.approx(tlo, abs=2e-3) and hi == pytest.approx(thi, abs=2e-3)
    # near zero the t-interval goes below it; the rate interval does not
    near = [0, 0, 0, 0.1, 0, 0, 0, 0, 0.05, 0]
    assert t_interval(near)[3] < 0 <= rate_interval(near)[3]


def test_analyze_uses_rate_intervals_for_rates_only():
    assert is_rate("critical_mortality") and is_rate("overtriage_rate")
    assert is_rate("hospitals.big.critical_share") and not is_rate("deaths")
    runs, man = synthetic({0: [0, 0, 0, 0.1, 0, 0, 0, 0, 0.05, 0]})
    s = cell_summary(runs, man, ["critical_mortality"]).iloc[0]
    assert 0 <= s["ci_low"] < s["mean"] < s["ci_high"] <= 1


def test_a_count_the_scenario_refuses_is_blamed_on_the_facilities_row():
    hospitals = [Place("a", "A", 13.4, 52.5, {}, "row 2"), Place("b", "B", 13.5, 52.5, {}, "row 3")]
    exc = InputError("Input should be less than 5", file="out.yaml", path="hospitals[1].resus_bays")
    moved = _blame_source(exc, hospitals, [], ("h.csv", "s.csv"))
    assert str(moved) == "h.csv: row 3, column resus_bays: Input should be less than 5"
    other = InputError("bad", file="out.yaml", path="incidents[0].node")
    assert _blame_source(other, hospitals, [], ("h.csv", "s.csv")) is other


def test_echoed_values_are_short_and_errors_are_one_line():
    assert len(echo("x" * 10**6)) <= 80
    assert len(echo([[0] * 10**4] * 10**3)) <= 80
    err = InputError("line one\nline two " + "y" * 5000, file="f.yaml", path="a")
    text = str(err)
    assert "\n" not in text and len(text) <= 1000 and text.startswith("f.yaml: a: line one line")


def test_hospital_counts_have_a_documented_maximum():
    """Issue 15 defect 4: 10^9 on-call teams ran for minutes; now one error naming the field."""
    import pytest

    from mcsim.errors import InputError
    from mcsim.scenario import MAX_UNITS, parse_scenario
    from tests.conftest import small_scenario_data

    for field in ("teams_on_call", "teams_on_duty", "resus_bays", "icu_beds", "operating_rooms"):
        data = small_scenario_data()
        data["hospitals"][0][field] = 10**9
        with pytest.raises(InputError, match=f"hospitals\\[0\\].{field}"):
            parse_scenario(data, file="big.yaml")
    data = small_scenario_data()
    data["hospitals"][0]["resources"] = {"ct_scanners": MAX_UNITS + 1}
    with pytest.raises(InputError, match="hospitals\\[0\\].resources"):
        parse_scenario(data, file="big.yaml")
