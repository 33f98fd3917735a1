"""The ``mcsim`` command line end to end, bad input included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mcsim.cli import main
from mcsim.metrics import METRIC_KEYS
from tests.conftest import SCENARIOS, small_scenario_data


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_default_scenario_prints_summary(capsys):
    code, out, err = run_cli(capsys, "run")
    assert code == 0, err
    assert "Stadium explosion" in out
    assert "critical mortality" in out and "hospitals" in out


def test_run_json_prints_exactly_one_object_with_every_metric(capsys):
    code, out, _ = run_cli(capsys, "run", "--json", "--seed", "2")
    assert code == 0
    metrics = json.loads(out)  # fails if anything else was printed
    assert set(METRIC_KEYS) <= set(metrics)
    assert out.count("\n") == 1


def test_run_out_writes_parquet_and_metrics(tmp_path, capsys, write_yaml):
    path = write_yaml(small_scenario_data(casualties=30))
    code, out, err = run_cli(capsys, "run", str(path), "--out", str(tmp_path / "res"))
    assert code == 0, err
    events = pd.read_parquet(tmp_path / "res" / "events.parquet")
    patients = pd.read_parquet(tmp_path / "res" / "patients.parquet")
    metrics = json.loads((tmp_path / "res" / "metrics.json").read_text())
    assert len(patients) == 30 == metrics["casualties"]
    assert events["time_min"].is_monotonic_increasing


def test_set_and_policy_options_change_the_run(capsys, write_yaml):
    path = write_yaml(small_scenario_data(casualties=30))
    code, out, _ = run_cli(
        capsys,
        "run",
        str(path),
        "--json",
        "--set",
        "incidents[0].casualties=55",
        "--triage",
        "start",
        "--destination",
        "nearest",
        "--dispatch",
        "priority",
    )
    assert code == 0
    assert json.loads(out)["casualties"] == 55


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["run", "missing.yaml"], "missing.yaml: no such file"),
        (["run", "--triage", "coin_flip"], "--triage: unknown triage policy 'coin_flip'"),
        (["run", "--destination", "moon"], "unknown destination policy"),
        (["run", "--set", "hospitals[0].trauma_level=9"], "hospitals[0].trauma_level"),
        (["run", "--set", "nonsense"], "PATH=VALUE"),
        (["run", "--seed", "-1"], "--seed"),
        (["run", "--seed", "many"], "--seed"),
        (["run", "--frobnicate"], "No such option"),
        (["validate", "missing.yaml"], "no such file"),
        (["teleport"], "No such command"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, args, fragment):
    code, out, err = run_cli(capsys, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]
    assert "Traceback" not in err


def test_validate_lists_every_problem_one_per_line(capsys, write_yaml):
    data = small_scenario_data()
    data["hospitals"][0]["trauma_level"] = 9
    data["hospitals"][1]["bedz"] = 3
    bad = write_yaml(data, "bad.yaml")
    good = SCENARIOS / "stadium_explosion.yaml"
    code, out, err = run_cli(capsys, "validate", str(good), str(bad))
    assert code == 2
    assert f"ok: {good}" in out
    errors = err.strip().splitlines()
    assert len(errors) == 2
    assert any("hospitals[0].trauma_level" in e for e in errors)
    assert any("hospitals[1].bedz: unknown key; valid keys:" in e for e in errors)


def test_validate_accepts_every_shipped_scenario(capsys):
    files = sorted(str(p) for p in SCENARIOS.glob("*.yaml"))
    code, out, err = run_cli(capsys, "validate", *files)
    assert code == 0, err
    assert out.count("ok: ") == len(files)


def test_schema_is_json_schema(capsys):
    code, out, _ = run_cli(capsys, "schema")
    assert code == 0
    schema = json.loads(out)
    assert "hospitals" in schema["properties"]


def test_policies_lists_built_ins_with_parameters(capsys):
    code, out, _ = run_cli(capsys, "policies")
    assert code == 0
    assert "triage start" in out and "rr_max=30" in out
    assert "dispatch priority" in out and "destination nearest" in out


def test_console_script_exit_codes_in_a_real_process(tmp_path):
    """The installed `mcsim` script: 0 on success, 2 and one line on bad input, no traceback."""
    exe = Path(sys.executable).with_name("mcsim")
    assert exe.exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"schema_version": 1, "name": "x"}))
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([exe, "run", str(bad)], capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith(f"error: {bad}: region: Field required")
    ok = subprocess.run([exe, "run", "--json"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["casualties"] == 300
