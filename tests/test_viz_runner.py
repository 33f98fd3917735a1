"""The app's run logic (viz.runner) and KPI formatting (viz.kpi)."""

from __future__ import annotations

import pandas as pd
import pytest

import mcsim
from mcsim.errors import InputError
from mcsim.metrics import Metric, MetricKind
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data
from viz import kpi, runner
from viz.runner import SetUp


@pytest.fixture(scope="module")
def small():
    return parse_scenario(small_scenario_data(casualties=50))


def test_shipped_scenarios_start_with_the_default():
    names = list(runner.shipped_scenarios())
    assert names[0] == mcsim.default_scenario_path().stem
    assert runner.load_shipped(names[0]).name


def test_unknown_shipped_scenario_is_an_input_error():
    with pytest.raises(InputError, match="unknown scenario"):
        runner.load_shipped("no_such_thing")


def test_run_in_slices_gives_the_same_event_log_as_simulate(small):
    view = runner.run(small, SetUp(seed=4), slices=7)
    whole = mcsim.simulate(small, seed=4)
    pd.testing.assert_frame_equal(view.result.events, whole.events)
    assert view.metrics == whole.metrics


def test_run_reports_progress_up_to_one_and_can_be_stopped(small):
    seen = []
    runner.run(small, SetUp(), progress=seen.append, slices=5)
    assert seen == [0.2, 0.4, 0.6, 0.8, 1.0]
    with pytest.raises(runner.Cancelled):
        runner.run(small, SetUp(), should_stop=lambda: True)


def test_run_with_policies_records_them(small):
    view = runner.run(small, SetUp(destination="nearest", triage="start"))
    assert view.result.policies["destination"] == "nearest"


def test_apply_setup_scales_casualties_vehicles_capacity_and_sets_callin(small):
    sc = runner.apply_setup(
        small,
        SetUp(casualties=120, ambulance_factor=2.0, capacity_factor=0.5, callin_delay_min=7.5),
    )
    assert sum(i.casualties for i in sc.incidents) == 120
    before = [g.count for st in small.stations for g in st.vehicles]
    after = [g.count for st in sc.stations for g in st.vehicles]
    assert after == [2 * n for n in before]
    for h0, h1 in zip(small.hospitals, sc.hospitals, strict=True):
        assert h1.ed_beds == max(1, int(h0.ed_beds * 0.5 + 0.5))
        assert h1.occupied.ed_beds <= h1.ed_beds
        assert h1.callin_delay_min == 7.5


def test_the_capacity_multiplier_scales_every_counted_resource_a_study_adds():
    """Item 2 of issue 14: a resource added as data (a CT scanner) and an explicit theatre-team
    count scale with the app's capacity multiplier like the built-in beds."""
    data = small_scenario_data()
    data["hospitals"][0]["resources"] = {"ct_scanners": 2}
    data["hospitals"][0]["surgical_teams_on_duty"] = 3
    sc = runner.apply_setup(parse_scenario(data), SetUp(capacity_factor=2.0))
    big = sc.hospitals[0]
    assert big.resources == {"ct_scanners": 4}
    assert big.surgical_teams_on_duty == 6
    assert sc.hospitals[1].surgical_teams_on_duty is None  # a derived count stays derived
    assert set(runner.OCCUPIED_FIELDS) <= set(runner.CAPACITY_FIELDS)


def test_apply_setup_shares_casualties_among_incidents_in_proportion():
    data = small_scenario_data(casualties=30)
    second = dict(data["incidents"][0], id="second", casualties=10)
    data["incidents"].append(second)
    sc = runner.apply_setup(parse_scenario(data), SetUp(casualties=80))
    assert [i.casualties for i in sc.incidents] == [60, 20]


def test_apply_setup_refuses_negative_multipliers(small):
    with pytest.raises(InputError, match="multipliers"):
        runner.apply_setup(small, SetUp(capacity_factor=-1))


def test_unknown_policy_in_setup_is_an_input_error(small):
    with pytest.raises(InputError, match="unknown triage policy"):
        runner.run(small, SetUp(triage="no_such_policy"))


def test_parse_upload_accepts_a_valid_scenario():
    data = mcsim.default_scenario_path().read_bytes()
    sc = runner.parse_upload("mine.yaml", data)
    assert sc.name == mcsim.load_scenario(mcsim.default_scenario_path()).name


#: "Billion laughs": nine lines of YAML anchors that stand for 10**9 values.
LAUGHS = b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
    b"a%d: &a%d [%s]\n" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 10)) for i in range(1, 9)
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"schema_version: 1\nname: [unclosed\n", "mine.yaml: line 3, column 1: YAML syntax"),
        (b"- just\n- a list\n", "mine.yaml: a scenario must be a mapping"),
        (b"\xff\xfe", "mine.yaml: not a UTF-8 text file"),
        (b"a: " + b"[" * 5000 + b"]" * 5000, "mine.yaml: nested deeper than 64 levels"),
        (LAUGHS, "mine.yaml: too many values: more than 2,000,000"),
    ],
)
def test_parse_upload_errors_name_the_file_and_the_problem(text, expected):
    with pytest.raises(InputError) as info:
        runner.parse_upload("mine.yaml", text)
    assert str(info.value).startswith(expected)


def test_parse_upload_names_the_field_path_of_a_bad_value():
    text = mcsim.default_scenario_path().read_text().replace("trauma_level: 1", "trauma_level: 9")
    with pytest.raises(InputError) as info:
        runner.parse_upload("mine.yaml", text.encode())
    assert "hospitals[0].trauma_level" in str(info.value)


def test_surge_capacity_counts_free_places_at_onset(small):
    cap = runner.surge_capacity(small)
    h = small.hospitals[0]
    free = (
        h.resus_bays - h.occupied.resus_bays + h.ed_beds - h.occupied.ed_beds
        + h.minor_treatment_spaces - h.occupied.minor_treatment_spaces
    )  # fmt: skip
    assert cap[h.id] == free


# --------------------------------------------------------------------------- KPIs


def _metric(kind: MetricKind, unit: str | None = None) -> Metric:
    """A metric as @metric registers one (its default unit by kind), not registered."""
    default = {MetricKind.SHARE: "%", MetricKind.MINUTES: "min"}.get(kind, "")
    return Metric("m", len, "m", kind, default if unit is None else unit, None, "neither", "")


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (0.25, MetricKind.SHARE, "25.0 %"),
        (None, MetricKind.SHARE, "–"),
        (float("nan"), MetricKind.MINUTES, "–"),
        (12.345, MetricKind.MINUTES, "12.3 min"),
        (7, MetricKind.COUNT, "7"),
        (233.09, MetricKind.NUMBER, "233.1"),
    ],
)
def test_a_metric_formats_its_value_by_its_kind(value, kind, text):
    """The app's cards and table write values with the metric's own format (one formatter)."""
    assert _metric(kind).format(value) == text


@pytest.mark.parametrize(
    ("a", "b", "kind", "text"),
    [
        (0.5, 0.25, MetricKind.SHARE, "-25.0 pp"),
        (10, 12, MetricKind.COUNT, "+2"),
        (None, 3.0, MetricKind.MINUTES, "–"),
        (30.0, 27.5, MetricKind.MINUTES, "-2.5 min"),
    ],
)
def test_format_diff_is_b_minus_a(a, b, kind, text):
    """A difference is b − a, signed, in percentage points for shares."""
    assert _metric(kind).format_diff(a, b) == text


def test_a_user_unit_shows_on_cards_and_in_differences():
    """A metric with its own unit (km) is written with it, value and difference alike."""
    m = _metric(MetricKind.NUMBER, "km")
    assert m.format(3.0) == "3.0 km" and m.format_diff(3.0, 4.5) == "+1.5 km"


def test_better_side_follows_the_metric_direction():
    assert kpi.better_side(10, 8, "lower") == "B"
    assert kpi.better_side(10, 8, "higher") == "A"
    assert kpi.better_side(10, 10, "lower") == ""
    assert kpi.better_side(None, 10, "lower") == ""
    assert kpi.better_side(1, 2, "neither") == ""


def test_headline_has_the_four_cards_in_order():
    m = {"critical_mortality": 0.5, "deaths": 3, "first_hospital_arrival_min": 11.0}
    cards = kpi.headline(m)
    assert [c[0] for c in cards] == [
        "Critical mortality", "Deaths", "First hospital arrival", "Scene cleared",
    ]  # fmt: skip
    assert [c[1] for c in cards] == ["50.0 %", "3", "11.0 min", "–"]


def test_compare_rows_mark_the_run_that_lost_fewer_patients():
    rows = kpi.compare({"deaths": 10, "critical_mortality": 0.4}, {"deaths": 7})
    deaths = next(r for r in rows if r.label == "Deaths")
    assert (deaths.a, deaths.b, deaths.diff, deaths.better) == ("10", "7", "-3", "B")
    cm = next(r for r in rows if r.label == "Critical mortality")
    assert cm.b == "–" and cm.better == ""


# ---------------------------------------------------------------- typed set-up fields (defect 5)


def test_typed_fields_are_read_without_clamping_and_every_bad_one_is_named():
    """-50 casualties, seed "1.5" and call-in "xyz" are refused by name, not clamped or dropped."""
    with pytest.raises(runner.SetupInvalid) as err:
        runner.read_entries(
            SetUp(seed=7), {"casualties": "-50", "seed": "1.5", "callin_delay_min": "xyz"}
        )
    assert set(err.value.problems) == {"casualties", "seed", "callin_delay_min"}
    text = str(err.value)
    assert "Casualties: 1 or more is needed, not -50" in text
    assert "Seed: a whole number is needed, not '1.5'" in text
    assert "Call-in delay (min): a number is needed, not 'xyz'" in text


def test_typed_fields_that_are_good_replace_the_old_values():
    got = runner.read_entries(
        SetUp(seed=7, casualties=10), {"casualties": " 120 ", "seed": "3", "callin_delay_min": ""}
    )
    assert (got.casualties, got.seed, got.callin_delay_min) == (120, 3, None)
    assert runner.read_entries(SetUp(seed=7), {}).seed == 7  # untouched fields keep theirs
    assert runner.read_entries(SetUp(), {"seed": "4.0"}).seed == 4
    assert runner.entry_problem("seed", "") == "a value is needed"
    assert runner.entry_problem("casualties", "") == ""  # empty: the scenario's own count


def test_fewer_casualties_than_incidents_is_refused_on_the_casualty_field():
    """Before the fix, 1 casualty over two incidents failed on incidents[1].casualties."""
    data = small_scenario_data(casualties=30)
    data["incidents"].append(dict(data["incidents"][0], id="second", casualties=10))
    sc = parse_scenario(data)
    with pytest.raises(runner.SetupInvalid, match="Casualties: at least 2 are needed"):
        runner.read_entries(SetUp(), {"casualties": "1"}, n_incidents=2)
    with pytest.raises(InputError) as err:
        runner.apply_setup(sc, SetUp(casualties=1))
    assert err.value.path == "set-up.casualties"
    # a tiny count still gives every incident one casualty, whatever the proportions
    data["incidents"][1]["casualties"] = 1
    data["incidents"][0]["casualties"] = 300
    got = runner.apply_setup(parse_scenario(data), SetUp(casualties=2))
    assert [i.casualties for i in got.incidents] == [1, 1]


def test_knob_meanings_say_what_the_multiplier_gives_on_this_scenario(small):
    vehicles = sum(g.count for st in small.stations for g in st.vehicles)
    expected = f"× 2: {2 * vehicles} vehicles ({vehicles} in the scenario)"
    assert runner.fleet_meaning(small, 2.0) == expected
    places = sum(runner.surge_capacity(small).values())
    assert runner.capacity_meaning(small, 1.0).startswith(f"× 1: {places} free treatment places")
    half = runner.capacity_meaning(small, 0.5)
    assert half.startswith("× 0.5: ") and f"({places} in the scenario)" in half


def test_scenario_titles_come_from_the_files():
    stem = mcsim.default_scenario_path().stem
    assert runner.scenario_title(stem) == runner.load_shipped(stem).name
    assert runner.scenario_title("no_such_file") == "no_such_file"


def test_apply_setup_sets_the_reserve_or_keeps_the_scenarios(small):
    """None keeps the scenario's reserve, a tuple replaces it, an unknown hospital is refused."""
    assert runner.apply_setup(small, SetUp()).policies.reserve == small.policies.reserve
    held = runner.apply_setup(small, SetUp(reserve=(small.hospitals[0].id,)))
    assert held.policies.reserve == [small.hospitals[0].id]
    with pytest.raises(InputError, match="unknown hospital 'atlantis'") as err:
        runner.apply_setup(small, SetUp(reserve=("atlantis",)))
    assert err.value.path == "policies.reserve[0]"
