"""The policy comparison: t intervals, paired differences, common random numbers, the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mcsim
from mcsim.cli import main
from mcsim.compare import compare, compare_runs, summarize, t_interval
from mcsim.errors import InputError
from mcsim.metrics import headline_names
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data


def test_t_interval_matches_the_textbook_formula() -> None:
    """Mean 3, sd sqrt(2.5), half-width t(0.975, 4) * sd / sqrt(5) for 1..5."""
    n, mean, sd, lo, hi = t_interval([1, 2, 3, 4, 5])
    half = stats.t.ppf(0.975, 4) * math.sqrt(2.5) / math.sqrt(5)
    assert (n, mean) == (5, 3.0)
    assert sd == pytest.approx(math.sqrt(2.5))
    assert (lo, hi) == pytest.approx((3 - half, 3 + half))
    assert half == pytest.approx(1.9632, abs=1e-4)


def test_t_interval_edge_cases() -> None:
    """NaNs are dropped; one value has no interval; none has no mean."""
    n, mean, _, lo, _ = t_interval([2.0, float("nan")])
    assert n == 1 and mean == 2.0 and math.isnan(lo)
    n, mean, *_ = t_interval([])
    assert n == 0 and math.isnan(mean)


def test_t_interval_covers_a_known_mean_95_percent_of_the_time() -> None:
    """Known-variance case: samples of 10 from N(5, 2²); about 95 % of intervals cover 5."""
    rng = np.random.default_rng(12345)
    trials = 4000
    covered = 0
    for _ in range(trials):
        _, _, _, lo, hi = t_interval(rng.normal(5.0, 2.0, size=10))
        covered += lo <= 5.0 <= hi
    # Binomial SD of the coverage at 0.95 over 4000 trials is 0.0034: allow ~4 SD.
    assert abs(covered / trials - 0.95) < 0.014


def runs_frame(base: np.ndarray, other: np.ndarray) -> pd.DataFrame:
    """A compare_runs-shaped frame with two combinations and one metric ``y``."""
    rows = []
    for c, ys in enumerate((base, other)):
        for r, y in enumerate(ys):
            rows.append(
                {
                    "combination": c,
                    "triage": ["start", "salt"][c],
                    "dispatch": "priority",
                    "destination": "nearest",
                    "replication": r,
                    "seed": r,
                    "y": y,
                }
            )
    return pd.DataFrame(rows)


def test_paired_difference_removes_the_shared_variance() -> None:
    """B = A + 1 + small noise, A very variable: the paired CI is narrow, near 1."""
    rng = np.random.default_rng(7)
    a = rng.normal(50.0, 10.0, size=20)
    b = a + 1.0 + rng.normal(0.0, 0.1, size=20)
    s = summarize(runs_frame(a, b), ["y"]).set_index("combination")
    assert s.loc[0, "diff_mean"] == 0.0
    assert (s.loc[0, "diff_ci_low"], s.loc[0, "diff_ci_high"]) == (0.0, 0.0)
    assert abs(s.loc[1, "diff_mean"] - 1.0) < 0.1
    assert s.loc[1, "diff_ci_high"] - s.loc[1, "diff_ci_low"] < 0.2
    separate = s.loc[1, "ci_high"] - s.loc[1, "ci_low"]
    assert separate > 5.0  # the unpaired interval is far wider
    n, mean, sd, lo, hi = t_interval(b - a)
    assert (s.loc[1, "diff_mean"], s.loc[1, "diff_ci_low"]) == pytest.approx((mean, lo))


def test_paired_difference_interval_has_nominal_coverage() -> None:
    """Differences with known mean 2 and SD 3 on top of shared noise: ~95 % coverage."""
    rng = np.random.default_rng(99)
    trials, reps = 800, 8
    shared = rng.normal(0, 20, size=reps)
    a = shared + rng.normal(0, 1, size=reps)
    ys = [a] + [a + rng.normal(2.0, 3.0, size=reps) for _ in range(trials)]
    runs = pd.DataFrame(
        {
            "combination": np.repeat(np.arange(trials + 1), reps),
            "replication": np.tile(np.arange(reps), trials + 1),
            "triage": "start",
            "dispatch": "priority",
            "destination": "nearest",
            "y": np.concatenate(ys),
        }
    )
    s = summarize(runs, ["y"])
    s = s[s["combination"] > 0]
    covered = ((s["diff_ci_low"] <= 2.0) & (2.0 <= s["diff_ci_high"])).mean()
    # Binomial SD of the coverage at 0.95 over 800 trials is 0.0077: allow ~4 SD.
    assert abs(covered - 0.95) < 0.031


def test_a_nan_drops_only_its_own_pair() -> None:
    """An undefined metric in one run removes that replication's pair, not the others."""
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([2.0, float("nan"), 4.0, 5.0])
    s = summarize(runs_frame(a, b), ["y"]).set_index("combination")
    assert s.loc[1, "n"] == 3 and s.loc[1, "diff_n"] == 3
    assert s.loc[1, "diff_mean"] == 1.0


def small():
    """The small test scenario."""
    return parse_scenario(small_scenario_data(casualties=50), file="small.yaml")


def test_compare_uses_common_random_numbers_across_combinations() -> None:
    """Replication r uses seed base + r for every combination: same casualties, same runs."""
    sc = small()
    runs = compare_runs(
        sc,
        destination=["nearest", "random"],
        replications=3,
        seed=10,
        metrics=["casualties", "immediate_deaths", "deaths"],
    )
    assert list(runs["seed"]) == [10, 11, 12, 10, 11, 12]
    by = runs.set_index(["combination", "replication"])
    for r in range(3):
        assert by.loc[(0, r), "immediate_deaths"] == by.loc[(1, r), "immediate_deaths"]
        direct = mcsim.simulate(sc, 10 + r, destination="random").metrics["deaths"]
        assert by.loc[(1, r), "deaths"] == direct
    assert runs["immediate_deaths"].nunique() > 1 or runs["deaths"].nunique() > 1


def test_compare_returns_one_row_per_combination_and_metric() -> None:
    """Two triage x two destination policies: four combinations, triage-major, baseline first."""
    df = compare(
        small(),
        triage="start,perfect",
        destination=["nearest", "balance"],
        replications=2,
        metrics=["deaths", "overtriage_rate"],
    )
    assert len(df) == 8
    combos = df.drop_duplicates("combination")[["triage", "destination"]].values.tolist()
    assert combos == [
        ["start", "nearest"],
        ["start", "balance"],
        ["perfect", "nearest"],
        ["perfect", "balance"],
    ]
    perfect = df[(df["triage"] == "perfect") & (df["metric"] == "overtriage_rate")]
    assert (perfect["mean"] == 0.0).all()


def test_compare_refuses_bad_input_with_the_option_named() -> None:
    """Unknown or repeated policies, bad metrics and zero replications are InputErrors."""
    sc = small()
    with pytest.raises(InputError, match="unknown triage policy 'nope'; known: ") as e:
        compare(sc, triage="start,nope", replications=1)
    assert e.value.path == "--triage"
    with pytest.raises(InputError, match="listed twice"):
        compare(sc, destination="nearest,nearest", replications=1)
    with pytest.raises(InputError, match="unknown metric 'death'") as e:
        compare(sc, replications=1, metrics=["death"])
    assert e.value.path == "--metric"
    with pytest.raises(InputError, match="at least 1 replication"):
        compare(sc, replications=0)


def test_cli_compare_json_is_one_object(write_yaml, capsys) -> None:
    """`mcsim compare --json` prints exactly one JSON object with every row."""
    path = write_yaml(small_scenario_data(casualties=50))
    rc = main(
        [
            "compare",
            str(path),
            "--triage",
            "start,perfect",
            "--replications",
            "3",
            "--seed",
            "4",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    data = json.loads(out)
    assert data["replications"] == 3 and data["seed"] == 4
    assert data["baseline"] == {"triage": "start", "dispatch": "priority", "destination": "nearest"}
    assert len(data["results"]) == 2 * len(headline_names())  # default: the headline metrics
    base = [r for r in data["results"] if r["combination"] == 0]
    assert all(r["diff_mean"] in (0.0, None) for r in base)


def test_cli_compare_table_and_errors(write_yaml, capsys) -> None:
    """The table names each metric; a bad policy is one error line and exit code 2."""
    path = write_yaml(small_scenario_data(casualties=50))
    rc = main(
        [
            "compare",
            str(path),
            "--destination",
            "nearest,trauma",
            "--replications",
            "2",
            "--metric",
            "deaths",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "deaths: mean and paired difference vs #0" in out
    assert "#1: triage start, dispatch priority, destination trauma" in out
    rc = main(["compare", str(path), "--triage", "start,bogus", "--replications", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert err[0].startswith("error: --triage: unknown triage policy 'bogus'")
