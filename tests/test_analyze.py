"""Sweep analysis: t-intervals, paired differences, ranking, the HTML report and the CLI."""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import small_scenario_data

from mcsim.analysis import (
    analyze_sweep,
    cell_summary,
    marginal,
    paired_differences,
    ranking,
    t_interval,
)
from mcsim.cli import main
from mcsim.errors import InputError
from mcsim.sweep import run_sweep


def synthetic(values: dict[int, list[float]]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A runs table and manifest by hand: cell id → one metric value per replication."""
    rows = []
    for cell, ys in values.items():
        for r, y in enumerate(ys):
            rows.append(
                {
                    "sweep_id": "x",
                    "run_id": cell * len(ys) + r,
                    "cell_id": cell,
                    "scenario": "s",
                    "replication": r,
                    "seed": r,
                    "k": cell * 10,
                    "policy.triage": "start" if cell % 2 == 0 else "other",
                    "policy.dispatch": "priority",
                    "policy.destination": "nearest",
                    "critical_mortality": y,
                }
            )
    manifest = {
        "factors": [{"path": "k", "kind": "levels", "levels": [c * 10 for c in values]}],
        "scenarios": [{"label": "s"}],
        "cells": [{"cell_id": c, "scenario": "s", "factors": {"k": c * 10}} for c in values],
    }
    return pd.DataFrame(rows), manifest


def test_t_interval_matches_the_textbook_formula() -> None:
    """[1, 2, 3, 4]: mean 2.5, s = 1.291, half-width t(0.975, 3) · s / 2 = 2.054."""
    n, mean, sd, lo, hi = t_interval([1, 2, 3, 4, np.nan])
    assert n == 4 and mean == 2.5
    assert sd == pytest.approx(1.2909944)
    assert (hi - lo) / 2 == pytest.approx(3.1824463 * 1.2909944 / 2)
    n, mean, _sd, lo, _hi = t_interval([7.0])
    assert n == 1 and mean == 7.0 and math.isnan(lo)


def test_paired_differences_use_the_pairing_of_replications() -> None:
    """Cell 1 = cell 0 + 0.1 in every replication: the paired difference is exactly 0.1."""
    base = [0.2, 0.5, 0.9, 0.4, 0.7]
    runs, man = synthetic({0: base, 1: [b + 0.1 for b in base], 2: [b - 0.05 for b in base]})
    d = paired_differences(runs, man)
    d = d.set_index("cell_id")
    assert d.loc[1, "mean"] == pytest.approx(0.1)
    assert d.loc[1, "ci_high"] - d.loc[1, "ci_low"] == pytest.approx(0.0, abs=1e-9)
    assert d.loc[2, "mean"] == pytest.approx(-0.05)
    # the unpaired intervals of the same cells overlap widely
    s = cell_summary(runs, man).set_index("cell_id")
    assert s.loc[1, "ci_low"] < s.loc[0, "ci_high"]
    # another baseline
    d2 = paired_differences(runs, man, baseline=2).set_index("cell_id")
    assert d2.loc[0, "mean"] == pytest.approx(0.05)
    with pytest.raises(InputError, match="no cell 9"):
        paired_differences(runs, man, baseline=9)


def test_ranking_orders_cells_by_mean_lowest_first_with_factor_values() -> None:
    runs, man = synthetic({0: [0.5, 0.6], 1: [0.1, 0.2], 2: [0.9, 0.8]})
    r = ranking(runs, man, "critical_mortality")
    assert list(r["cell_id"]) == [1, 0, 2] and list(r["rank"]) == [1, 2, 3]
    assert list(r["k"]) == [10, 0, 20]
    with pytest.raises(InputError, match="unknown metric 'nope'"):
        ranking(runs, man, "nope")


def test_marginal_averages_cells_within_a_replication_first() -> None:
    """Per policy: mean over its cells per replication, then the interval over replications."""
    runs, _ = synthetic({0: [0.2, 0.4], 1: [0.0, 0.0], 2: [0.6, 0.8]})
    m = marginal(runs, "critical_mortality", "policy.triage").set_index("value")
    assert m.loc["start", "n"] == 2  # two replications, not four runs
    assert m.loc["start", "mean"] == pytest.approx(0.5)
    assert m.loc["other", "mean"] == 0.0


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory) -> Path:
    """A finished 2-cell x 3-replication sweep of the small test scenario."""
    d = tmp_path_factory.mktemp("analyze")
    (d / "town.yaml").write_text(yaml.safe_dump(small_scenario_data(30)))
    sw = d / "sweep.yaml"
    sw.write_text(
        yaml.safe_dump(
            {
                "sweep_version": 1,
                "name": "analysis test",
                "scenarios": ["town.yaml"],
                "replications": 3,
                "factors": {"stations[0].vehicles[0].count": [1, 4]},
            }
        )
    )
    run_sweep(sw, d / "out", workers=2)
    return d / "out"


def test_analyze_sweep_returns_tables_for_every_cell_and_metric(small_sweep: Path) -> None:
    a = analyze_sweep(small_sweep)
    assert len(a.runs) == 6
    assert set(a.summary["cell_id"]) == {0, 1}
    crit = a.summary[a.summary["metric"] == "casualties"]
    assert list(crit["mean"]) == [30.0, 30.0] and list(crit["n"]) == [3, 3]
    assert set(a.differences["cell_id"]) == {1} and a.baseline == 0
    # CRN: the casualty count of paired replications is identical
    d = a.differences.set_index("metric")
    assert d.loc["casualties", "mean"] == 0.0 and d.loc["critical", "sd"] == 0.0
    assert list(a.ranking["rank"]) == [1, 2]


def test_analyze_cli_writes_a_self_contained_html_report_with_png_plots(
    small_sweep: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "report.html"
    assert main(["analyze", str(small_sweep), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ranking by critical_mortality" in printed
    text = out.read_text()
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(pngs) == 2  # by policy, and against the fleet-size factor
    for p in pngs:
        assert base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Paired differences against cell 0" in text
    assert "stations[0].vehicles[0].count=4" in text
    assert "http://" not in text and "https://" not in text  # nothing fetched when opened


def test_analyze_cli_refuses_unknown_metric_and_non_sweep_folder(
    small_sweep: Path, tmp_path: Path, capsys
) -> None:
    assert main(["analyze", str(small_sweep), "--metric", "nope"]) == 2
    assert capsys.readouterr().err.startswith("error: --metric: unknown metric 'nope'")
    assert main(["analyze", str(tmp_path)]) == 2
    assert "not a sweep folder" in capsys.readouterr().err


# ------------------------------------------------------------ the report (issue 13 sweep fixes)


def _analysis(values: dict[int, list[float]], **metrics: dict[int, list[float]]):
    """A SweepAnalysis of the synthetic table, with extra metric columns if given."""
    from mcsim.analysis import SweepAnalysis, cell_summary, paired_differences, ranking

    runs, man = synthetic(values)
    for name, by_cell in metrics.items():
        runs[name] = [y for c in values for y in by_cell[c]]
    man.update(
        sweep_id="x", name="synthetic", n_runs=len(runs), n_cells=len(values),
        replications=len(next(iter(values.values()))), base_seed=0,
        description="Does a larger k lower critical mortality?",
    )  # fmt: skip
    return SweepAnalysis(
        manifest=man, runs=runs, summary=cell_summary(runs, man),
        differences=paired_differences(runs, man, 0), ranking=ranking(runs, man),
        metric="critical_mortality", baseline=0,
    )  # fmt: skip


def test_report_values_are_in_their_terms_and_constants_have_no_interval() -> None:
    from mcsim.sweep_report import ci, fmt

    assert fmt("critical_mortality", 0.12345) == "12.3 %"
    assert fmt("critical_mortality", -0.031, diff=True) == "-3.1 pp"
    assert fmt("scene_clear_min", 94.46) == "94.5 min"
    assert fmt("deaths", 315.0) == "315"
    assert ci("deaths", 315.0, 315.0, 315.0) == "315"  # was "315 [315, 315]"
    assert ci("critical_mortality", 0.2, 0.1, 0.3) == "20.0 % [10.0, 30.0]"


def test_the_first_paragraph_answers_the_question_with_factor_values_and_noise() -> None:
    from mcsim.sweep_report import answer

    a = _analysis({0: [0.50, 0.52, 0.48], 1: [0.30, 0.33, 0.29], 2: [0.10, 0.12, 0.09]})
    text = answer(a)
    assert text.startswith("Question: Does a larger k lower critical mortality?")
    assert "critical mortality is lowest with k=20: 10.3 %" in text
    assert "Against the baseline (k=0) that is -39.7 pp [" in text
    assert "beyond the noise of the replications" in text
    assert "By k (mean over the other factors): 0: 50.0 %, 10: 30.7 %, 20: 10.3 %" in text


def test_report_tables_show_factor_values_no_empty_metric_column_and_fit_the_page() -> None:
    from mcsim.sweep_report import report_html

    same = {0: [30.0] * 3, 1: [30.0] * 3, 2: [30.0] * 3}
    a = _analysis({0: [0.5, 0.52, 0.48], 1: [0.3, 0.33, 0.29], 2: [0.1, 0.12, 0.09]},
                  casualties=same)  # fmt: skip
    page = report_html(a)
    assert "<th>metric</th>" not in page and ">metric<" not in page  # the pivot's header row
    assert "<th>k</th>" in page  # factor values in their own column
    assert "overflow-x: auto" in page and "<div class='wide'>" in page
    assert "casualties 30 in every run" in page  # said once, not a column of 30s
    assert "0.5066" not in page and "50.0 %" in page  # no raw fractions
    assert "Paired differences against cell 0 (k=0)" in page


def test_the_baseline_is_named_by_its_factor_values() -> None:
    from mcsim.analysis import _baseline

    _, man = synthetic({0: [0.1], 1: [0.2], 2: [0.3]})
    assert _baseline(man, "k=10") == 1 and _baseline(man, "2") == 2 and _baseline(man, 0) == 0
    with pytest.raises(InputError, match="no cell has k=5"):
        _baseline(man, "k=5")
    with pytest.raises(InputError, match="no factor 'speed'; factors: k"):
        _baseline(man, "speed=3")


def test_analyze_cli_takes_the_baseline_by_factor_values(
    small_sweep: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "r.html"
    args = ["analyze", str(small_sweep), "--out", str(out), "--baseline",
            "stations[0].vehicles[0].count=4"]  # fmt: skip
    assert main(args) == 0
    text = out.read_text()
    assert "Paired differences against cell 1 (stations[0].vehicles[0].count=4)" in text
    assert '<p class="answer">' in text
    assert main([*args[:-1], "stations[0].vehicles[0].count=9", "--force"]) == 2
    assert "--baseline: no cell has" in capsys.readouterr().err


def test_analyze_ranks_by_the_first_headline_metric_unless_told(small_sweep: Path) -> None:
    """The ranking's default metric is read from the one headline list, not written again."""
    from mcsim.metrics import headline_names

    a = analyze_sweep(small_sweep)
    assert a.metric == headline_names()[0]
    runs, man = synthetic({0: [0.5, 0.6], 1: [0.1, 0.2]})
    assert list(ranking(runs, man)["cell_id"]) == [1, 0]
