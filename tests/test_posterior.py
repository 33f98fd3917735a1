"""Posterior draws and ``run/compare/sweep --posterior``: seeded, weighted, the same draw for
every policy, and KPIs whose spread includes parameter uncertainty."""

from __future__ import annotations

import json
import math
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mcsim.cli import main
from mcsim.errors import InputError
from mcsim.uncertainty.posterior import (
    draw_parameter_sets,
    from_frame,
    load_posterior,
    values_for_scenario,
)
from mcsim.uncertainty.posterior_runs import p_better
from tests.conftest import REPO, small_scenario_data

PARAM = "haemorrhage_death_median_min"  # uniform [30, 180]


def posterior_dir(tmp_path: Path, values=(70.0, 170.0), weights=(0.9, 0.1)) -> Path:
    folder = tmp_path / "calib"
    folder.mkdir()
    pd.DataFrame({PARAM: list(values), "weight": list(weights)}).to_parquet(
        folder / "posterior.parquet", index=False
    )
    return folder


def test_draws_are_seeded_weighted_and_prefix_stable(tmp_path):
    post = load_posterior(posterior_dir(tmp_path))
    a = draw_parameter_sets(post, 2000, seed=11)
    assert a == draw_parameter_sets(post, 2000, seed=11)
    assert a[:50] == draw_parameter_sets(post, 50, seed=11)  # draw i does not depend on n
    assert [s for s, _ in a[:3]] == [11, 12, 13]
    share = np.mean([v[PARAM] == 70.0 for _, v in a])
    assert abs(share - 0.9) < 0.03
    assert draw_parameter_sets(post, 50, seed=12) != a[:50]


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (pd.DataFrame({PARAM: [70.0]}), "no 'weight' column"),
        (pd.DataFrame({PARAM: [20.0], "weight": [1.0]}), "outside the registry's prior"),
        (pd.DataFrame({"no_such": [1.0], "weight": [1.0]}), "unknown uncertain parameter"),
        (pd.DataFrame({PARAM: [70.0], "weight": [-1.0]}), "weights must be"),
    ],
)
def test_a_bad_posterior_file_is_refused_naming_it(tmp_path, frame, words):
    path = tmp_path / "posterior.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(InputError) as exc:
        load_posterior(tmp_path)
    assert words in str(exc.value) and str(path) in str(exc.value)


def test_per_scenario_copies_go_to_their_own_scenario_only():
    values = {"a": 1.0, "b@town": 2.0, "b@city": 3.0}
    assert values_for_scenario(values, "town") == {"a": 1.0, "b": 2.0}
    assert values_for_scenario(values, "village") == {"a": 1.0}


def test_p_better_counts_draws_won_in_the_metrics_direction_ties_half():
    runs = pd.DataFrame(
        {
            "combination": [0, 0, 0, 0, 1, 1, 1, 1],
            "replication": [0, 1, 2, 3, 0, 1, 2, 3],
            "deaths": [10, 10, 10, 10, 8, 12, 10, 9],  # lower is better: wins 0 and 3, tie 2
        }
    )
    assert p_better(runs, "deaths", 1) == pytest.approx(2.5 / 4)
    assert math.isnan(p_better(runs, "casualties", 1))  # no better direction


def _town(tmp_path: Path) -> Path:
    path = tmp_path / "town.yaml"
    path.write_text(yaml.safe_dump(small_scenario_data(casualties=30)))
    return path


def test_compare_with_posterior_pairs_draws_across_policies(tmp_path, capsys):
    post = posterior_dir(tmp_path, values=(65.0, 175.0), weights=(0.5, 0.5))
    out = tmp_path / "cmp"
    code = main(["compare", str(_town(tmp_path)), "--posterior", str(post), "--replications",
                 "4", "--destination", "nearest,balance", "--metric", "deaths", "--json",
                 "--out", str(out), "--seed", "3"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = json.loads(captured.out)
    assert doc["posterior"] == str(post)
    rows = {r["combination"]: r for r in doc["results"]}
    assert rows[0]["p_better"] is None and 0.0 <= rows[1]["p_better"] <= 1.0
    runs = pd.read_parquet(out / "runs.parquet")
    expected = draw_parameter_sets(post, 4, 3)
    for c in (0, 1):
        sub = runs[runs["combination"] == c].sort_values("replication")
        assert sub["seed"].tolist() == [s for s, _ in expected]
        assert sub[f"param.{PARAM}"].tolist() == [v[PARAM] for _, v in expected]


def test_run_with_posterior_prints_a_median_inside_its_interval(tmp_path, capsys):
    post = posterior_dir(tmp_path, values=(60.0, 180.0), weights=(0.5, 0.5))
    code = main(["run", str(_town(tmp_path)), "--posterior", str(post), "--draws", "5",
                 "--json"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = json.loads(captured.out)
    deaths = doc["metrics"]["deaths"]
    assert deaths["n"] == 5 and deaths["low"] <= deaths["median"] <= deaths["high"]


def test_run_with_posterior_refuses_out(tmp_path, capsys):
    post = posterior_dir(tmp_path)
    code = main(["run", "--posterior", str(post), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "--posterior" in err and err.count("\n") == 1


def test_sweep_with_posterior_gives_replication_r_draw_r_in_every_cell(tmp_path, capsys):
    post = posterior_dir(tmp_path, values=(65.0, 175.0), weights=(0.5, 0.5))
    town = _town(tmp_path)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({
        "sweep_version": 1, "name": "posterior sweep", "scenarios": [str(town)],
        "replications": 3, "base_seed": 40,
        "factors": {"policies.destination": ["nearest", "balance"]},
    }))  # fmt: skip
    out = tmp_path / "sw"
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1", "--quiet",
                 "--posterior", str(post)]) == 0  # fmt: skip
    from mcsim.sweep.store import read_runs

    runs = read_runs(out)
    expected = {r: v[PARAM] for r, (_, v) in enumerate(draw_parameter_sets(post, 3, 40))}
    assert len(runs) == 6
    for _, row in runs.iterrows():
        assert row[f"param.{PARAM}"] == expected[int(row["replication"])]
        assert row["seed"] == 40 + row["replication"]
    # the same folder without the posterior is another sweep: refused
    capsys.readouterr()
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1", "--resume"]) == 2


@pytest.mark.slow
def test_howto_uncertainty_calibration_examples_run(tmp_path, monkeypatch, capsys):
    # docs/howto-uncertainty.md: every `$ mcsim` line of the "Calibration" and "Posterior runs"
    # sections exits 0, in order, in one folder (the sensitivity tests run the other sections)
    text = (REPO / "docs" / "howto-uncertainty.md").read_text()
    mine = "\n".join(
        part
        for part in re.split(r"^## ", text, flags=re.M)
        if part.startswith(("Calibration", "Posterior runs"))
    )
    blocks = re.findall(r"```console\n(.*?)```", mine, re.S)
    commands = [ln.strip()[2:] for b in blocks for ln in b.splitlines() if ln.startswith("$ ")]
    assert len(commands) == 3 and commands[0].startswith("mcsim calibrate")
    monkeypatch.chdir(tmp_path)
    for command in commands:
        assert main(shlex.split(command)[1:]) == 0, f"{command}: {capsys.readouterr().err}"
    assert from_frame(pd.read_parquet(tmp_path / "calib-tiny" / "posterior.parquet")).names == [
        "haemorrhage_death_median_min"
    ]
