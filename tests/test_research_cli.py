"""Research conveniences: compare on several workers with --out, analyze as JSON or CSV, and
tables that keep every character when piped."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mcsim.analysis import analyze_sweep, ranking_with_differences
from mcsim.cli import main
from mcsim.compare import compare_runs
from mcsim.scenario import load_scenario
from mcsim.sweep import run_sweep
from tests.conftest import small_scenario_data


@pytest.fixture
def town(tmp_path) -> Path:
    path = tmp_path / "town.yaml"
    path.write_text(yaml.safe_dump(small_scenario_data(25)))
    return path


def test_compare_on_two_workers_gives_the_rows_of_one(town):
    sc = load_scenario(town)
    kw = dict(triage="start,salt", replications=3, seed=4, metrics=["deaths", "critical"])
    calls: list[tuple[int, int]] = []
    serial = compare_runs(sc, workers=1, progress=lambda d, t: calls.append((d, t)), **kw)
    parallel = compare_runs(sc, workers=2, **kw)
    pd.testing.assert_frame_equal(serial, parallel)
    assert calls == [(i, 6) for i in range(1, 7)]


def test_compare_out_writes_runs_summary_and_the_json_object(town, tmp_path, capsys):
    out = tmp_path / "cmp"
    args = ["compare", str(town), "--triage", "start,salt", "--replications", "2"]
    assert main([*args, "--workers", "2", "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads((out / "compare.json").read_text()) == printed
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 4 and set(runs["triage"]) == {"start", "salt"}
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == len(printed["results"])
    assert main([*args, "--out", str(out / "compare.json")]) == 2  # a file, not a folder
    assert "--out" in capsys.readouterr().err


@pytest.fixture
def sweep_dir(tmp_path, town) -> Path:
    sw = tmp_path / "sweep.yaml"
    sw.write_text(
        yaml.safe_dump(
            {
                "sweep_version": 1,
                "name": "analysis formats",
                "scenarios": [town.name],
                "replications": 2,
                "factors": {
                    "policies.destination": ["nearest", "balance"],
                    "stations[0].vehicles[0].count": [1, 3],
                },
            }
        )
    )
    run_sweep(sw, tmp_path / "out", workers=1)
    return tmp_path / "out"


def test_analyze_json_is_one_object_with_the_ranking(sweep_dir, capsys):
    assert main(["analyze", str(sweep_dir), "--json"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert out.count("\n") == 1
    assert doc["runs_stored"] == doc["n_runs"] == 8 and doc["n_cells"] == 4
    assert [r["rank"] for r in doc["ranking"]] == [1, 2, 3, 4]
    assert {r["cell_id"] for r in doc["ranking"]} == {0, 1, 2, 3}
    baseline = next(r for r in doc["ranking"] if r["cell_id"] == doc["baseline"])
    assert baseline["diff_mean"] is None  # no difference of the baseline to itself


def test_analyze_csv_is_the_ranking_table(sweep_dir, capsys):
    assert main(["analyze", str(sweep_dir), "--csv", "--metric", "deaths"]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out))
    want = ranking_with_differences(analyze_sweep(sweep_dir, metric="deaths"))
    assert list(got.columns) == list(want.columns)
    assert got["cell_id"].tolist() == want["cell_id"].tolist()
    assert main(["analyze", str(sweep_dir), "--csv", "--json"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_piped_tables_are_not_truncated(sweep_dir):
    done = subprocess.run(
        [sys.executable, "-m", "mcsim.cli", "analyze", str(sweep_dir)],
        capture_output=True, text=True, check=True, env={"COLUMNS": "60", "PATH": ""},
    )  # fmt: skip
    labels = analyze_sweep(sweep_dir).ranking["label"]
    assert "…" not in done.stdout
    for label in labels:
        assert label in done.stdout
