"""The written tables as GIS and dataset tools read them: the dictionary matches the files,
missing values are nulls, metrics.json says where it came from, a sweep folder is one table."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

import mcsim
from mcsim.cli import main
from mcsim.compare import SUMMARY_COLUMNS
from mcsim.metrics import METRIC_KEYS
from mcsim.provenance import scenario_sha256
from mcsim.sweep.store import ID_COLUMNS, MANIFEST, PATIENTS, POLICY_COLUMNS, SweepStore
from mcsim.tables import COMPARE_RUNS, COMPARE_SUMMARY, EVENTS, METRICS, SWEEP_RUNS, read_table
from mcsim.tables import PATIENTS as PATIENTS_TABLE
from tests.conftest import REPO, small_scenario_data

ARROW_TO_DICTIONARY = {
    "double": "float64",
    "float": "float32",
    "int64": "int64",
    "int32": "int32",
    "bool": "bool",
    "string": "string",
    "large_string": "string",
}


def _type(arrow_type) -> str:
    name = str(arrow_type)
    return "category" if name.startswith("dictionary<") else ARROW_TO_DICTIONARY[name]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    assert main(["run", "stadium_explosion", "--seed", "2", "--out", str(out), "--json"]) == 0
    return out


@pytest.mark.parametrize(("file", "table"), [("events", EVENTS), ("patients", PATIENTS_TABLE)])
def test_written_files_have_exactly_the_dictionary_columns_and_types(run_dir, file, table):
    schema = pq.read_schema(run_dir / f"{file}.parquet")
    written = [(f.name, _type(f.type)) for f in schema]
    listed = [(c.name, c.type) for c in table.columns]
    assert written == listed, (
        f"{file}.parquet and mcsim/tables.py disagree: update the dictionary there and run "
        "tools/gen_data_doc.py"
    )


def test_missing_ids_are_nulls_on_disk_and_sentinels_in_memory(run_dir):
    result = mcsim.simulate("stadium_explosion", seed=2)
    events = pd.read_parquet(run_dir / "events.parquet")
    patients = pd.read_parquet(run_dir / "patients.parquet")
    for df, table in ((events, EVENTS), (patients, PATIENTS_TABLE)):
        for col in table.columns:
            if col.sentinel is not None:
                assert not (df[col.name] == col.sentinel).fillna(False).any(), col.name
    assert events["vehicle"].isna().any() and events["hospital"].isna().any()
    assert patients["obs_walking"].isna().sum() == patients["obs_rr"].isna().sum() > 0
    # the nulls are exactly the in-memory sentinels, and read_table gives the memory form back
    assert events["vehicle"].isna().sum() == (result.events["vehicle"] == -1).sum()
    pd.testing.assert_frame_equal(read_table(run_dir / "events.parquet", EVENTS), result.events)
    pd.testing.assert_frame_equal(
        read_table(run_dir / "patients.parquet", PATIENTS_TABLE), result.patients
    )


def test_metrics_json_carries_its_provenance(run_dir, tmp_path, capsys):
    doc = json.loads((run_dir / "metrics.json").read_text())
    prov = doc.pop("provenance")
    sc = mcsim.load_scenario("stadium_explosion")
    assert prov["mcsim_version"] == mcsim.__version__
    assert prov["scenario"] == sc.name and prov["scenario_file"] == "stadium_explosion"
    assert prov["scenario_sha256"] == scenario_sha256(sc)
    assert prov["seed"] == 2
    assert prov["policies"] == {"triage": "start", "dispatch": "priority", "destination": "nearest"}
    assert set(doc) == set(METRIC_KEYS)  # the rest is the metrics, as --json prints them
    capsys.readouterr()
    assert main(["run", "stadium_explosion", "--seed", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == doc
    other = tmp_path / "other"
    args = ["run", "stadium_explosion", "--out", str(other), "--set", "incidents[0].casualties=50"]
    assert main([*args, "--json"]) == 0
    changed = json.loads((other / "metrics.json").read_text())["provenance"]
    assert changed["scenario_sha256"] != prov["scenario_sha256"]
    assert changed["overrides"] == ["incidents[0].casualties=50"]


def test_the_dictionary_lists_every_metric_and_the_sweep_identity_columns():
    assert [c.name for c in METRICS.columns] == [*METRIC_KEYS, "provenance"]
    assert [c.name for c in SWEEP_RUNS.columns] == [*ID_COLUMNS, *POLICY_COLUMNS]


def test_compare_out_files_have_the_dictionary_columns(tmp_path):
    out = tmp_path / "cmp"
    args = ["compare", "highway_bus_crash_rural", "--replications", "2", "--metric", "deaths"]
    assert main([*args, "--triage", "start,salt", "--out", str(out), "--json"]) == 0
    schema = pq.read_schema(out / "runs.parquet")
    fixed = [(f.name, _type(f.type)) for f in schema][: len(COMPARE_RUNS.columns)]
    assert fixed == [(c.name, c.type) for c in COMPARE_RUNS.columns]
    assert [f.name for f in schema][len(COMPARE_RUNS.columns) :] == ["deaths"]
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == [c.name for c in COMPARE_SUMMARY.columns]
    assert list(SUMMARY_COLUMNS) == [c.name for c in COMPARE_SUMMARY.columns]


def test_data_md_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("gen_data_doc", REPO / "tools/gen_data_doc.py")
    tool = importlib.util.module_from_spec(spec)
    sys.modules["gen_data_doc"] = tool
    spec.loader.exec_module(tool)
    assert (REPO / "docs" / "data.md").read_text(encoding="utf-8") == tool.render(), (
        "docs/data.md is out of date: run .venv/bin/python tools/gen_data_doc.py"
    )


# ---------------------------------------------------------------------------------------------
# A sweep folder reads as its runs table


def _store(out: Path) -> SweepStore:
    manifest = {"hash": "h", "sweep_id": "s", "name": "t", "n_runs": 3, "factors": []}
    return SweepStore.open(out, manifest, resume=False)


def _row(run_id: int, **metrics: float) -> dict:
    return {
        "sweep_id": "s", "run_id": run_id, "cell_id": 0, "scenario": "town",
        "replication": run_id, "seed": run_id, "policy.triage": "start",
        "policy.dispatch": "priority", "policy.destination": "nearest", **metrics,
    }  # fmt: skip


def test_pd_read_parquet_of_a_sweep_folder_is_its_runs_table(tmp_path):
    from mcsim.sweep import read_runs

    out = tmp_path / "sweep"
    store = _store(out)
    store.write_batch([_row(0, deaths=1.0)], None)
    # a later batch brings a metric the first one lacks: the first file is widened
    store.write_batch([_row(1, deaths=2.0, **{"time_to_hospital_min.expectant.n": 3.0})], None)
    store.write_batch([_row(2, deaths=3.0)], None)
    store.close()
    direct = pd.read_parquet(out).sort_values("run_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(direct, read_runs(out), check_like=False)
    assert direct["time_to_hospital_min.expectant.n"].isna().tolist() == [True, False, True]
    assert (out / MANIFEST).is_file() and MANIFEST.startswith("_")
    assert PATIENTS.startswith("_")


def test_a_real_sweep_folder_reads_with_pandas_patients_apart(tmp_path):
    from mcsim.sweep import read_patients, read_runs, run_sweep

    (tmp_path / "town.yaml").write_text(yaml.safe_dump(small_scenario_data(15)))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        yaml.safe_dump(
            {
                "sweep_version": 1, "name": "direct", "scenarios": ["town.yaml"],
                "replications": 2, "factors": {"policies.triage": ["start", "salt"]},
                "store": {"patients": True},
            }
        )
    )  # fmt: skip
    run_sweep(sweep, tmp_path / "out", workers=1, batch_size=1)
    direct = pd.read_parquet(tmp_path / "out").sort_values("run_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(direct, read_runs(tmp_path / "out"))
    patients = read_patients(tmp_path / "out")
    assert len(patients) == 4 * 15 and not (patients["vehicle"] == -1).fillna(False).any()


def test_a_folder_of_the_first_layout_is_read_and_migrated_on_resume(tmp_path):
    from mcsim.sweep import read_manifest, read_patients, read_runs, run_sweep

    (tmp_path / "town.yaml").write_text(yaml.safe_dump(small_scenario_data(15)))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        yaml.safe_dump(
            {
                "sweep_version": 1, "name": "old", "scenarios": ["town.yaml"],
                "replications": 2, "factors": {"policies.triage": ["start", "salt"]},
                "store": {"patients": True},
            }
        )
    )  # fmt: skip
    new = tmp_path / "new"
    run_sweep(sweep, new, workers=1, batch_size=1)
    runs, patients = read_runs(new), read_patients(new)
    old = tmp_path / "old"
    shutil.copytree(new, old)
    (old / MANIFEST).rename(old / "manifest.json")
    (old / PATIENTS).rename(old / "patients")
    assert read_manifest(old)["name"] == "old"
    pd.testing.assert_frame_equal(read_runs(old), runs)
    pd.testing.assert_frame_equal(read_patients(old), patients)
    summary = run_sweep(sweep, old, workers=1, resume=True)
    assert summary.ran == 0
    assert (old / MANIFEST).is_file() and not (old / "manifest.json").exists()
    assert (old / PATIENTS).is_dir() and not (old / "patients").exists()
