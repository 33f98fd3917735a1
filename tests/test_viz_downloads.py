"""Downloads from Explore and Compare: tables, figures and an HTML report (issue 13)."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest

from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data
from viz import downloads, kpi, runner
from viz.runner import SetUp


@pytest.fixture(scope="module")
def views():
    sc = parse_scenario(small_scenario_data(casualties=30))
    a = runner.run(sc, SetUp(seed=2, destination="nearest"))
    b = runner.run(sc, SetUp(seed=2, destination="balance"))
    return a, b


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tables_zip_holds_the_runs_events_patients_and_metrics(views, fmt):
    a, _ = views
    with zipfile.ZipFile(io.BytesIO(downloads.tables_zip(a, fmt))) as z:
        assert sorted(z.namelist()) == sorted([f"events.{fmt}", f"patients.{fmt}", "metrics.json"])
        read = pd.read_csv if fmt == "csv" else pd.read_parquet
        events = read(io.BytesIO(z.read(f"events.{fmt}")))
        patients = read(io.BytesIO(z.read(f"patients.{fmt}")))
        metrics = json.loads(z.read("metrics.json"))
    assert len(events) == len(a.result.events) and len(patients) == len(a.result.patients)
    assert list(events["kind"].astype(str)) == list(a.result.events["kind"].astype(str))
    assert metrics["deaths"] == a.metrics["deaths"] and metrics["provenance"]["seed"] == 2


def test_compare_zip_has_both_runs(views):
    with zipfile.ZipFile(io.BytesIO(downloads.compare_tables_zip(*views))) as z:
        names = set(z.namelist())
    assert {"A/events.csv", "B/events.csv", "A/metrics.json", "B/patients.csv"} <= names


def test_run_report_says_what_ran_its_kpis_hospitals_and_embeds_the_figures(views):
    a, _ = views
    png = b"\x89PNG\r\n\x1a\nfake"
    page = downloads.run_report_html(a, [("map at minute 30", png)])
    assert page.startswith("<!DOCTYPE html>") and "seed 2" in page
    assert "destination nearest" in page and "One run, one seed" in page
    for label, value in kpi.values(a.metrics):
        assert f"<td class=l>{label}</td><td>{value}</td>" in page.replace("&#x27;", "'")
    assert "small" in page and "big" in page  # the hospitals table
    assert "data:image/png;base64," in page and "http" not in page.split("<style>")[0]


def test_compare_report_has_both_policy_sets_and_the_differences(views):
    a, b = views
    page = downloads.compare_report_html(a, b, ("A set", "B set"), [("charts", b"png")])
    assert "destination nearest" in page and "destination balance" in page
    for r in kpi.compare(a.metrics, b.metrics):
        assert f"<td>{r.diff}</td>" in page


def test_download_list_offers_tables_figures_and_report_lazily(views):
    a, _ = views
    items = downloads.downloads(a, {"map-minute30": b"png"})
    labels = [i[0] for i in items]
    assert labels == ["Tables (CSV)", "Tables (Parquet)", "Figure: map-minute30 (PNG)",
                      "Report (HTML)"]  # fmt: skip
    assert items[2][1] == "small_town-seed2-map-minute30.png"
    assert callable(items[0][2]) and callable(items[3][2])  # built only when asked for
    assert items[3][2]().startswith("<!DOCTYPE html>")
