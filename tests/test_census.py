"""A twin of today: ``mcsim run --census`` starts from the region's current occupancy and fleet."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mcsim.census import apply_census, load_census, read_census
from mcsim.cli import main
from mcsim.enums import Resource
from mcsim.errors import InputError
from mcsim.model import MCIModel
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
FRESH = "2026-11-29T07:45:00Z"


def _census(tmp_path: Path, rows: list[str], header: str = "as_of,kind,id,resource,count") -> Path:
    p = tmp_path / "census.csv"
    p.write_text("\n".join([header, *rows]) + "\n")
    return p


@pytest.fixture
def small():
    return parse_scenario(small_scenario_data(), file="small.yaml")


def test_census_sets_occupied_beds_and_available_vehicles(small, tmp_path):
    """Hospital rows set occupied counts; station rows set vehicles available; rest unchanged."""
    path = _census(
        tmp_path,
        [
            f"{FRESH},hospital,big,ed_beds,11",
            f"{FRESH},hospital,big,resus_bays,2",
            "2026-11-29T08:40:00+01:00,hospital,small,icu_beds,2",
            f"{FRESH},station,b,als,1",
            f"{FRESH},station,b,bls,0",
        ],
    )
    sc = load_census(small, path, now=NOW)
    big, little = sc.hospitals
    assert (big.occupied.ed_beds, big.occupied.resus_bays, big.occupied.icu_beds) == (11, 2, 2)
    assert little.occupied.icu_beds == 2
    assert [(v.type.value, v.count) for v in sc.stations[1].vehicles] == [("als", 1), ("bls", 0)]
    assert sc.stations[0].vehicles[0].count == 3  # not in the census: unchanged
    # the original scenario is not modified
    assert small.hospitals[0].occupied.ed_beds == 4
    assert small.stations[1].vehicles[0].count == 2


def test_census_state_reaches_the_model(small, tmp_path):
    """The model starts with the census's free beds and only the available ambulances."""
    path = _census(
        tmp_path,
        [f"{FRESH},hospital,big,ed_beds,12", f"{FRESH},station,a,als,1"],
    )
    sc = load_census(small, path, now=NOW)
    model = MCIModel(sc, seed=0)
    assert model.hospitals["big"].free[Resource.ED_BED] == 0
    base = MCIModel(small, seed=0)
    assert len(base.vehicles) - len(model.vehicles) == 2


def test_full_hospitals_and_few_ambulances_worsen_outcomes(small, tmp_path):
    """Starting from a busy day (beds full, one ambulance) delays care compared with the plan."""
    from mcsim import simulate

    rows = [f"{FRESH},hospital,big,{r},{n}" for r, n in (("ed_beds", 12), ("resus_bays", 3))]
    rows += [f"{FRESH},hospital,small,ed_beds,6", f"{FRESH},station,b,als,0"]
    rows += [f"{FRESH},station,b,bls,0", f"{FRESH},station,a,als,1"]
    busy = simulate(load_census(small, _census(tmp_path, rows), now=NOW), seed=3).metrics
    calm = simulate(small, seed=3).metrics
    assert busy["scene_clear_min"] is None or busy["scene_clear_min"] > calm["scene_clear_min"]
    assert busy["expected_survivors"] < calm["expected_survivors"]


def _error(tmp_path, rows, header="as_of,kind,id,resource,count", small=None, **kw):
    sc = small or parse_scenario(small_scenario_data())
    path = _census(tmp_path, rows, header)
    with pytest.raises(InputError) as exc:
        load_census(sc, path, now=NOW, **kw)
    assert exc.value.file == str(path)
    return exc.value


@pytest.mark.parametrize(
    ("row", "where", "words"),
    [
        ("2026-11-27T07:00:00Z,hospital,big,ed_beds,3", "row 2, column as_of", "stale"),
        ("2026-11-29T09:00:00Z,hospital,big,ed_beds,3", "row 2, column as_of", "future"),
        ("2026-11-29T07:45:00,hospital,big,ed_beds,3", "row 2, column as_of", "time zone"),
        ("yesterday,hospital,big,ed_beds,3", "row 2, column as_of", "ISO 8601"),
        (f"{FRESH},clinic,big,ed_beds,3", "row 2, column kind", "hospital or station"),
        (f"{FRESH},hospital,nowhere,ed_beds,3", "row 2, column id", "unknown hospital id"),
        (f"{FRESH},station,nowhere,als,1", "row 2, column id", "unknown station id"),
        (f"{FRESH},hospital,big,helipads,1", "row 2, column resource", "unknown hospital"),
        (f"{FRESH},station,a,helicopter,1", "row 2, column resource", "unknown station"),
        (f"{FRESH},hospital,big,ed_beds,-1", "row 2, column count", ">= 0"),
        (f"{FRESH},hospital,big,ed_beds,2.5", "row 2, column count", "whole number"),
        (f"{FRESH},hospital,big,ed_beds,13", "row 2, column count", "which has 12"),
        (f"{FRESH},station,a,als,4", "row 2, column count", "fleet has 3"),
        (f"{FRESH},station,a,bls,1", "row 2, column count", "fleet has 0"),
        (f"{FRESH},hospital,big", "row 2", "has 3 values"),
    ],
)
def test_bad_rows_are_refused_naming_file_row_and_column(tmp_path, row, where, words):
    """Stale, future, zone-less, unknown, negative, over-capacity values: one clear error."""
    err = _error(tmp_path, [row])
    assert err.path == where
    assert words in err.message


def test_duplicate_row_is_refused(tmp_path):
    """The same hospital resource twice is ambiguous: refused, naming both rows."""
    err = _error(tmp_path, [f"{FRESH},hospital,big,ed_beds,3", f"{FRESH},hospital,big,ed_beds,4"])
    assert err.path == "row 3, column resource" and "row 2" in err.message


def test_bad_header_and_empty_file(tmp_path):
    """A missing or unknown column, or no rows, is refused."""
    assert (
        "missing column(s) as_of" in _error(tmp_path, [], header="kind,id,resource,count").message
    )
    assert (
        "unknown column 'ward'"
        in _error(tmp_path, [], header="as_of,kind,id,resource,count,ward").message
    )
    assert "no census rows" in _error(tmp_path, []).message


def test_max_age_is_a_parameter(tmp_path):
    """A 3-hour-old row passes with the default 24 h and is refused with a 2 h limit."""
    row = "2026-11-29T05:00:00Z,hospital,big,ed_beds,3"
    rows = read_census(_census(tmp_path, [row]), now=NOW)
    assert rows[0].count == 3
    err = _error(tmp_path, [row], max_age_h=2)
    assert "2 h" in err.message


def test_apply_census_rejects_rows_for_another_scenario(small):
    """apply_census works on rows already read (API use) and checks them against the scenario."""
    from mcsim.census import CensusRow

    rows = [CensusRow(2, NOW, "hospital", "elsewhere", "ed_beds", 1)]
    with pytest.raises(InputError, match="unknown hospital id 'elsewhere'"):
        apply_census(small, rows, file="c.csv")


def _fresh_census_for_default(tmp_path: Path) -> Path:
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = (now - timedelta(minutes=10)).isoformat()
    return _census(
        tmp_path,
        [f"{stamp},hospital,city_general,ed_beds,40", f"{stamp},station,central,als,2"],
    )


def test_cli_run_with_census(tmp_path, capsys):
    """`mcsim run --census FILE --json` runs the default scenario from the census state."""
    code = main(["run", "--census", str(_fresh_census_for_default(tmp_path)), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out)["casualties"] == 300


def test_cli_stale_census_is_one_line_error(tmp_path, capsys):
    """A stale census: exit 2 and one line naming the file, row and column."""
    path = _census(tmp_path, ["2020-01-01T00:00:00Z,hospital,city_general,ed_beds,3"])
    code = main(["run", "--census", str(path), "--json"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(f"error: {path}: row 2, column as_of: stale")
    assert "\n" not in err


def test_cli_census_max_age_option(tmp_path, capsys):
    """--census-max-age-h widens the limit: a 30-hour-old census is then accepted."""
    stamp = (datetime.now(UTC) - timedelta(hours=30)).replace(microsecond=0).isoformat()
    path = _census(tmp_path, [f"{stamp},hospital,city_general,ed_beds,3"])
    assert main(["run", "--census", str(path), "--json"]) == 2
    capsys.readouterr()
    assert main(["run", "--census", str(path), "--census-max-age-h", "48", "--json"]) == 0
