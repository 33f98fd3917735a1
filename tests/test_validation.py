"""``mcsim validation``: figures on hand-made tables, strict record files, reports, docs."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mcsim.cli import main
from mcsim.errors import InputError
from mcsim.simulate import scenarios_dir, simulate
from mcsim.validation import (
    CheckStatus,
    FigureName,
    compute_figures,
    load_record,
    load_records,
    run_validation,
)
from mcsim.validation.figures import FigureKind, figure_key, largest_hospital
from mcsim.validation.record import FigureRecord
from mcsim.validation.render import BEGIN, END, generated_block, report_markdown, splice
from mcsim.validation.runner import DEFAULT_SEEDS, summarise
from tests.conftest import small_scenario_data

REPO = Path(__file__).resolve().parents[1]
NAN = math.nan

# ------------------------------------------------------------------------- figures by hand

# One row per patient; incident "b" starts 5 min after "a". Columns are the patients
# table's (mcsim/patients_table.py) that the figures read.
ROWS = [
    # patient, incident, critical, survivor, outcome, death_place, hospital, arrival, left, mode
    (0, "a", False, False, "died", "scene", "", NAN, NAN, ""),  # killed outright
    (1, "a", True, True, "survived", "", "h1", 30.0, 20.0, "ambulance"),
    (2, "b", True, True, "died", "hospital", "h1", 50.0, 40.0, "ambulance"),
    (3, "a", True, True, "survived", "", "h2", 25.0, 10.0, "self"),
    (4, "a", True, True, "died", "scene", "", NAN, NAN, ""),
    (5, "a", False, True, "died", "transport", "h2", NAN, 60.0, "bystander"),
    (6, "a", False, True, "survived", "", "", NAN, 15.0, "released"),
    (7, "b", False, True, "unresolved", "", "h1", 12.0, 5.0, "self"),
    (8, "a", False, True, "unresolved", "", "", NAN, NAN, ""),
    (9, "b", True, True, "survived", "", "h1", 110.0, 104.0, "ambulance"),
    (10, "a", True, True, "survived", "", "", NAN, 200.0, "released"),
]
COLUMNS = (
    "patient incident critical immediate_survivor outcome death_place hospital "
    "hospital_arrival_min left_scene_min leave_mode"
).split()
HOSPITALS = ["h1", "h2", "h3"]
ONSETS = {"a": 0.0, "b": 5.0}
METRICS = {"critical": 6, "critical_mortality": 2 / 6, "first_hospital_arrival_min": 7.0}


def hand_table() -> pd.DataFrame:
    df = pd.DataFrame(ROWS, columns=COLUMNS)
    for c in ("incident", "outcome", "death_place", "hospital", "leave_mode"):
        df[c] = pd.Categorical(df[c])  # as the real table has them
    return df


EXPECTED = {
    "deaths": 4,  # 0, 2, 4, 5
    "deaths_prehospital": 3,  # 0 (killed outright), 4 (scene), 5 (transport)
    "deaths_in_hospital": 1,  # 2
    "critical": 6,  # from the metrics
    "critical_mortality": 2 / 6,
    "hospital_arrivals": 5,  # 1, 2, 7, 9 at h1; 3 at h2 (5 died on the way)
    "ambulance_arrivals": 3,  # 1, 2, 9
    "hospitals_receiving": 2,
    "largest_hospital": "h1",
    "largest_hospital_share": 0.8,
    "first_hospital_arrival_min": 7.0,
    # patient 9 (incident b) left at 104: minutes from the first onset (a, 0), not its own
    "last_critical_transported_min": 104.0,
    "unresolved_share": 2 / 10,  # 7 and 8 of the 10 immediate survivors
    "hospital_patients:h1": 4,
    "hospital_patients:h2": 1,
    "hospital_patients:h3": 0,
    "hospital_ambulance_patients:h1": 3,
    "hospital_ambulance_patients:h2": 0,
    "hospital_ambulance_patients:h3": 0,
    "hospital_share:h1": 0.8,
    "hospital_share:h2": 0.2,
    "hospital_share:h3": 0.0,
}


def test_every_figure_on_a_hand_made_table():
    got = compute_figures(hand_table(), METRICS, HOSPITALS, ONSETS)
    assert set(got) == set(EXPECTED)
    for key, want in EXPECTED.items():
        assert got[key] == pytest.approx(want) if isinstance(want, float) else got[key] == want, key


def test_every_figure_name_is_computed():
    got = compute_figures(hand_table(), METRICS, HOSPITALS, ONSETS)
    for name in FigureName:
        key = figure_key(name, "h1" if name.per_hospital else None)
        assert key in got, name


def test_figures_without_any_hospital_arrival_are_undefined_not_zero():
    df = hand_table()
    df["hospital_arrival_min"] = NAN
    got = compute_figures(df, {**METRICS, "first_hospital_arrival_min": None}, HOSPITALS, ONSETS)
    assert got["hospital_arrivals"] == 0 and got["hospitals_receiving"] == 0
    assert got["largest_hospital"] is None and got["largest_hospital_share"] is None
    assert got["hospital_share:h1"] is None and got["first_hospital_arrival_min"] is None


def test_last_critical_transport_counts_from_the_first_onset():
    got = compute_figures(hand_table(), METRICS, HOSPITALS, {"a": 10.0, "b": 15.0})
    assert got["last_critical_transported_min"] == 94.0
    assert compute_figures(hand_table(), METRICS, HOSPITALS)["last_critical_transported_min"] == 104


def test_largest_hospital_ties_go_to_the_first_listed():
    assert largest_hospital({"x": 2, "y": 3, "z": 3}) == "y"
    assert largest_hospital({"x": 0, "y": 0}) is None


def test_figures_agree_with_the_metrics_on_a_real_run():
    """Two independent codings of the same definitions (mcsim.metrics and the figures)."""
    r = simulate(scenarios_dir() / "boston_marathon_bombing.yaml", 1)
    m = r.metrics
    got = compute_figures(r.patients, m, list(m["hospitals"]), r.resources["onsets"])
    assert got["deaths"] == m["deaths"]
    assert got["deaths_prehospital"] == m["deaths_prehospital"] + m["immediate_deaths"]
    assert got["deaths_in_hospital"] == m["deaths_in_hospital"]
    for h, row in m["hospitals"].items():
        assert got[f"hospital_patients:{h}"] == row["patients"], h
    assert got["hospital_arrivals"] == sum(row["patients"] for row in m["hospitals"].values())


# ------------------------------------------------------------------------------ summaries


def fig(**kw) -> FigureRecord:
    return FigureRecord.model_validate({"source": "X", "record": None, **kw})


def test_summary_is_median_and_5th_95th_percentile():
    res = summarise(fig(figure="deaths", band=[5, 5]), list(range(11)))
    assert (res.median, res.low, res.high, res.n) == (5.0, 0.5, 9.5, 11)
    assert res.status is CheckStatus.PASS


@pytest.mark.parametrize(
    ("band", "status"),
    [
        ([2, 3], "pass"),
        ([1, 2], "pass"),
        ([2.5, 9], "fail"),
        ([0, 1.9], "fail"),
        (None, "record only"),
    ],
)
def test_band_is_inclusive_at_both_edges(band, status):
    res = summarise(fig(figure="deaths", band=band, record=2), [1, 2, 3])
    assert res.median == 2.0 and res.status.value == status


def test_replications_without_a_value_are_left_out_and_none_at_all_fails():
    res = summarise(fig(figure="first_hospital_arrival_min", band=[0, 60]), [None, 10.0, 20.0])
    assert res.n == 2 and res.median == 15.0 and res.values == [None, 10.0, 20.0]
    empty = summarise(fig(figure="critical_mortality", band=[0, 1]), [None, None])
    assert empty.n == 0 and empty.median is None and empty.status is CheckStatus.FAIL


def test_largest_hospital_is_the_modal_id_with_its_share_of_replications():
    res = summarise(fig(figure="largest_hospital", band="b"), ["a", "b", "a", None])
    assert (res.modal, res.modal_share, res.status) == ("a", 0.5, CheckStatus.FAIL)
    ok = summarise(fig(figure="largest_hospital", band=["a", "c"]), ["b", "a", "a"])
    assert ok.modal == "a" and ok.modal_share == pytest.approx(2 / 3) and ok.status.value == "pass"
    tie = summarise(fig(figure="largest_hospital", record="a", band=None), ["b", "a"])
    assert tie.modal == "b" and tie.status is CheckStatus.RECORD_ONLY


# --------------------------------------------------------------------------- record files

GOOD = {
    "schema_version": 1,
    "scenario": "small",
    "incident": "a small blast",
    "sources": {"P1": "Someone et al., J Test 2020 [paper]", "S": "a news item [secondary]"},
    "figures": [
        {"figure": "deaths", "record": 3, "band": [0, 400], "source": "P1"},
        {"figure": "deaths_in_hospital", "record": [0, 2], "band": None, "source": "P1, S"},
        {
            "figure": "hospital_patients",
            "hospital": "big",
            "record": 9,
            "band": None,
            "source": "S",
        },
        {"figure": "largest_hospital", "record": "big", "band": ["big", "small"], "source": "S"},
        {"figure": "critical_mortality", "record": None, "band": [0, 1], "source": "P1"},
    ],
}


@pytest.fixture
def records(tmp_path):
    """A records folder beside a small scenario; ``write(data)`` puts one record file in it."""
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(small_scenario_data(casualties=30)))
    folder = tmp_path / "records"
    folder.mkdir()

    def write(data, name="small.yaml") -> Path:
        p = folder / name
        p.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
        return p

    write.folder = folder
    return write


def test_a_good_record_file_loads_with_its_scenario(records):
    loaded = load_record(records(GOOD))
    assert loaded.hospitals == ("big", "small")
    assert loaded.scenario_path.name == "small.yaml"
    assert loaded.record.figures[1].record == (0.0, 2.0)
    assert loaded.record.figures[3].band == ("big", "small")


def bad(path_in_file: str, value):
    """GOOD with one value replaced (``figures[0].band``-style path; None deletes the key)."""
    data = copy.deepcopy(GOOD)
    *parents, last = path_in_file.replace("[", ".").replace("]", "").split(".")
    node = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is None:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return data


REFUSED = [
    ("figures.0.figure", "death_toll", "figures[0].figure", "'deaths'"),
    ("figures.0.colour", "red", "figures[0].colour", "valid keys: figure, hospital"),
    ("figures.2.hospital", "nowhere", "figures[2].hospital", "unknown hospital 'nowhere'"),
    ("figures.3.band", ["big", "gone"], "figures[3].band", "unknown hospital 'gone'"),
    ("figures.0.band", [5, 2], "figures[0].band", "low 5 > high 2"),
    ("figures.0.band", 3, "figures[0].band", "band must be [low, high]"),
    ("figures.0.record", [1, 2, 3], "figures[0].record", "got 3 items"),
    ("figures.4.band", [0, 1.5], "figures[4].band", "share must lie in 0-1"),
    ("figures.2.hospital", None, "figures[2].hospital", "name the hospital id"),
    ("figures.0.hospital", "big", "figures[0].hospital", "not a per-hospital figure"),
    ("figures.0.source", "P1, NOPE", "figures[0].source", "unknown source 'NOPE'"),
    ("figures.4.band", None, "figures[4].band", "Field required"),
    ("sources.S", "a news item", "sources", "needs a marker"),
    ("scenario", "atlantis", "scenario", "'atlantis' is not this file's name"),
    ("schema_version", 2, "schema_version", "reads schema_version 1"),
]


@pytest.mark.parametrize(("where", "value", "path", "message"), REFUSED)
def test_bad_record_files_are_refused_naming_file_and_field(records, where, value, path, message):
    f = records(bad(where, value))
    with pytest.raises(InputError) as exc:
        load_record(f)
    assert exc.value.file == str(f) and exc.value.path == path
    assert message in exc.value.message


def test_a_record_of_a_missing_scenario_is_refused(records):
    data = copy.deepcopy(GOOD)
    data["scenario"] = "atlantis"
    f = records(data, name="atlantis.yaml")
    with pytest.raises(InputError) as exc:
        load_record(f)
    assert exc.value.file == str(f) and exc.value.path == "scenario"
    assert "no scenario file atlantis.yaml" in exc.value.message


def test_a_figure_twice_and_a_figure_with_neither_record_nor_band_are_refused(records):
    twice = copy.deepcopy(GOOD)
    twice["figures"].append(dict(twice["figures"][2]))
    with pytest.raises(InputError, match="hospital_patients for big appears twice"):
        load_record(records(twice))
    empty = bad("figures.0.band", None)
    empty["figures"][0].update(band=None, record=None)
    with pytest.raises(InputError, match="needs a record, a band or both"):
        load_record(records(empty))


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str, *parts: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for p in parts:
        assert p in lines[0], (p, lines[0])


@pytest.mark.parametrize(("where", "value", "path", "message"), REFUSED[:6])
def test_cli_reports_a_bad_record_file_in_one_line_exit_2(
    records, monkeypatch, capsys, where, value, path, message
):
    f = records(bad(where, value))
    monkeypatch.setattr("mcsim.validation.record.records_dir", lambda: records.folder)
    code, _, err = run_cli(capsys, "validation", "--workers", "1", "--seeds", "1")
    assert code == 2
    one_error_line(err, str(f), path, message)


def test_cli_bad_yaml_unknown_stem_and_bad_out_exit_2(records, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("mcsim.validation.record.records_dir", lambda: records.folder)
    records(GOOD)
    code, _, err = run_cli(capsys, "validation", "nowhere_city", "--workers", "1")
    assert code == 2
    one_error_line(err, str(records.folder), "no record file for scenario 'nowhere_city'", "small")
    code, _, err = run_cli(capsys, "validation", "--out", str(tmp_path / "report.html"))
    assert code == 2
    one_error_line(err, "report.html", "--out", "use a .md or .json file")
    code, _, err = run_cli(capsys, "validation", "--out", str(tmp_path / "no" / "r.md"))
    assert code == 2
    one_error_line(err, "r.md", "folder does not exist")
    f = records("figures: [\n  - {figure: deaths\n", name="broken.yaml")
    code, _, err = run_cli(capsys, "validation", "--workers", "1")
    assert code == 2
    one_error_line(err, str(f), "YAML syntax error")


# ------------------------------------------------------------------------- reports, CLI


def test_cli_writes_json_and_markdown_reports(records, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("mcsim.validation.record.records_dir", lambda: records.folder)
    records(GOOD)
    js = tmp_path / "report.json"
    code, out, err = run_cli(
        capsys, "validation", "--seeds", "2", "--workers", "1", "--out", str(js)
    )
    assert code == 0, err
    assert "checks pass" in out and "deaths_in_hospital" in out
    data = json.loads(js.read_text())
    assert (
        data["seeds"] == 2
        and data["checks"] == 3
        and data["summary"].startswith(f"{data['passed']} of 3 checks pass")
    )
    (inc,) = data["incidents"]
    assert inc["scenario"] == "small" and inc["seeds"] == [0, 1]
    assert set(inc["policies"]) == {"triage", "dispatch", "destination"}
    assert inc["sources"] == GOOD["sources"]
    assert [f["figure"] for f in inc["figures"]] == [f["figure"] for f in GOOD["figures"]]
    for f in inc["figures"]:
        assert len(f["values"]) == 2 and f["status"] in {"pass", "fail", "record only"}
    deaths = inc["figures"][0]
    assert deaths["median"] == float(np.median(deaths["values"]))
    assert deaths["status"] == "pass"  # band [0, 400] holds any death count of 30 casualties
    assert inc["figures"][3]["modal"] in {"big", "small"}

    md = tmp_path / "report.md"
    code, _, err = run_cli(capsys, "validation", "--seeds", "2", "--workers", "1", "--out", str(md))
    assert code == 0, err
    text = md.read_text()
    assert text.startswith("# ") and BEGIN in text and text.rstrip().endswith(END)
    assert "| figure | record | model: median [5-95 %] | band | check | source |" in text
    assert "| hospital_patients (big) | 9 |" in text
    assert "- P1: Someone et al., J Test 2020 [paper]" in text


def test_markdown_out_keeps_everything_outside_the_markers(records, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("mcsim.validation.record.records_dir", lambda: records.folder)
    records(GOOD)
    md = tmp_path / "doc.md"
    md.write_text(f"# My page\n\nbefore\n\n{BEGIN}\nold table\n{END}\n\nafter, by hand\n")
    assert main(["validation", "--seeds", "1", "--workers", "1", "--out", str(md)]) == 0
    text = md.read_text()
    assert text.startswith("# My page\n\nbefore\n\n" + BEGIN)
    assert text.endswith(END + "\n\nafter, by hand\n")
    assert "old table" not in text and "### a small blast" in text
    with pytest.raises(ValueError, match="markers"):
        splice("no markers here", "x")


def test_same_seeds_give_the_same_report_in_process_and_on_a_pool(records):
    recs = load_records(folder=records(GOOD).parent)
    one = run_validation(recs, seeds=3, workers=1)
    again = run_validation(recs, seeds=3, workers=1)
    pooled = run_validation(recs, seeds=3, workers=2)
    assert one.model_dump() == again.model_dump() == pooled.model_dump()
    assert report_markdown(one) == report_markdown(pooled)


def test_seeds_change_the_runs(records):
    recs = load_records(folder=records(GOOD).parent)
    values = run_validation(recs, seeds=4, workers=1).incidents[0].figures[0].values
    assert len(values) == 4 and len(set(values)) > 1


# ----------------------------------------------------------------- shipped record files


def test_every_shipped_record_file_loads_against_its_scenario():
    loaded = load_records()
    stems = {r.record.scenario for r in loaded}
    assert {"boston_marathon_bombing", "manchester_arena_bombing"} <= stems
    assert "las_vegas_concert_shooting" in stems
    for r in loaded:
        assert r.scenario_path == scenarios_dir() / f"{r.record.scenario}.yaml"


def test_every_shipped_band_overlaps_its_record():
    """A band that excludes the record it was set from is a typing mistake."""
    for r in load_records():
        for f in r.record.figures:
            if f.band is None or f.record is None:
                continue
            if f.figure.kind is FigureKind.HOSPITAL:
                assert set(f.record) & set(f.band), (r.path.name, f.figure)
                continue
            lo, hi = f.record if isinstance(f.record, tuple) else (f.record, f.record)
            assert lo <= f.band[1] and hi >= f.band[0], (r.path.name, f.figure)


@pytest.mark.slow
def test_docs_validation_md_table_is_what_the_current_model_gives():
    """docs/validation.md's generated block = `mcsim validation --out docs/validation.md`."""
    doc = (REPO / "docs" / "validation.md").read_text(encoding="utf-8")
    block = generated_block(doc)
    assert block, "docs/validation.md has no generated block"
    fresh = report_markdown(run_validation(load_records(), seeds=DEFAULT_SEEDS))
    assert block == fresh, (
        "docs/validation.md is out of date: run `mcsim validation --out docs/validation.md`"
    )


def test_docs_validation_md_documents_every_figure():
    text = (REPO / "docs" / "validation.md").read_text(encoding="utf-8")
    section = text.split("## Record files", 1)[1]
    for name in FigureName:
        assert f"| `{name.value}` |" in section, name


def test_cli_runs_only_the_named_scenarios(records, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("mcsim.validation.record.records_dir", lambda: records.folder)
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(small_scenario_data(casualties=20)))
    records({**GOOD, "scenario": "other", "incident": "the other one"}, name="other.yaml")
    records("not: [valid", name="wip.yaml")  # a broken file nobody asked for
    js = tmp_path / "r.json"
    code, out, err = run_cli(
        capsys, "validation", "other", "--seeds", "1", "--workers", "1", "--out", str(js)
    )
    assert code == 0, err
    assert [i["scenario"] for i in json.loads(js.read_text())["incidents"]] == ["other"]
    assert "the other one" in out and "a small blast" not in out


def test_paris_casualties_are_as_young_and_its_hospitals_graded_as_the_sources_say() -> None:
    """Paris's ages match the published 33 +- 7 / 34 +- 8 (PA35, PA36); its university
    hospitals are level 3 and only the two without a trauma-capable ED level 4 (README)."""
    from mcsim.scenario import load_scenario

    sc = load_scenario(scenarios_dir() / "paris_november_2015_attacks.yaml")
    for inc in sc.incidents:
        lo, hi = inc.adult_age_range
        ages = np.arange(lo, hi + 1)
        assert 33 <= ages.mean() <= 34 and 7 <= ages.std() <= 8.5, inc.id
        assert hi < 55  # TRISS's age index: < 1 % of a 33 +- 7 crowd is 55 or older
    levels = {h.id: h.trauma_level for h in sc.hospitals}
    assert sorted(h for h, lv in levels.items() if lv == 4) == ["delafontaine", "hotel_dieu"]
    assert {levels[h] for h in ("saint_louis", "saint_antoine", "lariboisiere", "begin")} == {3}


def test_paris_military_hospitals_get_their_first_ambulance_at_00_30() -> None:
    """The first ambulances reached Bégin at 00:30, +194 min [PA14], about two hours after the
    military hospitals' alert [PA13]: the replay holds Bégin and Percy in reserve until then,
    so no ambulance patient arrives there before (walking wounded may)."""
    r = simulate(scenarios_dir() / "paris_november_2015_attacks.yaml", seed=0)
    p = r.patients
    military = p[p.first_hospital.isin(["begin", "percy"]) & (p.leave_mode == "ambulance")]
    assert len(military) > 0 and (military.left_scene_min >= 194).all()
    assert (military.hospital_arrival_min > 194).all()


def test_the_readme_quotes_the_pass_count_of_docs_validation() -> None:
    """README's "N of the M checks pass" is docs/validation.md's (generated, kept in sync by
    the test above), so a model change that moves a check cannot leave the README behind."""
    import re

    root = Path(__file__).resolve().parents[1]
    validation_md = (root / "docs/validation.md").read_text()
    generated = re.search(r"\*\*(\d+) of (\d+) checks pass", validation_md)
    quoted = re.search(r"(\d+) of the (\d+) checks pass", (root / "README.md").read_text())
    assert generated and quoted
    assert quoted.groups() == generated.groups()
