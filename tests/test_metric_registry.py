"""The metric registry: a study's own KPI, the one headline list, refused duplicates."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

import mcsim
from mcsim.cli import main
from mcsim.compare import compare_runs
from mcsim.metrics import (
    METRIC_KEYS,
    MetricKind,
    compute_metrics,
    headline_metrics,
    metric,
    registered_metrics,
    restore_metrics,
    unregister_metric,
)
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data
from viz import kpi
from viz.sweeps import guess_columns


@pytest.fixture
def user_metrics():
    """Metrics registered in the test are gone afterwards, whatever happens."""
    with restore_metrics():
        yield
    assert [m.name for m in registered_metrics()] == list(METRIC_KEYS)


def _register_red_share() -> None:
    @metric("red_share", headline=True, label="tagged immediate", kind=MetricKind.SHARE)
    def red_share(r):
        """Share of the casualties tagged immediate."""
        return float(r.tagged_immediate.mean())


def test_a_user_metric_appears_after_the_builtins_and_leaves_no_trace(user_metrics):
    sc = parse_scenario(small_scenario_data(casualties=30))
    before = mcsim.simulate(sc, seed=3)
    assert list(before.metrics) == list(METRIC_KEYS)
    _register_red_share()
    res = mcsim.simulate(sc, seed=3)
    assert list(res.metrics) == [*METRIC_KEYS, "red_share"]
    tagged = (res.patients["tag"].astype(str) == "immediate").mean()
    assert res.metrics["red_share"] == pytest.approx(tagged)
    # The built-in metrics are untouched by the addition.
    assert {k: res.metrics[k] for k in METRIC_KEYS} == before.metrics
    # Recomputed from the records alone, as a study would from saved Parquet files.
    again = compute_metrics(res.events, res.patients, res.resources)
    assert again["red_share"] == res.metrics["red_share"]


def test_unregister_removes_a_user_metric_and_refuses_a_builtin(user_metrics):
    _register_red_share()
    unregister_metric("red_share")
    assert "red_share" not in {m.name for m in registered_metrics()}
    with pytest.raises(KeyError, match="no metric named 'red_share'"):
        unregister_metric("red_share")
    with pytest.raises(ValueError, match="'deaths' is a built-in metric"):
        unregister_metric("deaths")


def test_a_duplicate_name_is_refused_with_a_clear_error(user_metrics):
    with pytest.raises(ValueError, match=r"a metric named 'deaths' is already registered \(by "):

        @metric("deaths", kind=MetricKind.COUNT)
        def my_deaths(r):
            return 0

    _register_red_share()
    with pytest.raises(ValueError, match="'red_share' is already registered"):
        _register_red_share()


def test_a_table_cannot_be_a_headline_metric():
    with pytest.raises(ValueError, match="a table cannot be a headline metric"):
        metric("per_bay", headline=20, kind=MetricKind.TABLE)


def _summary_rows(out: str) -> list[tuple[str, str]]:
    """The (label, value) rows of `mcsim run`'s summary: the lines after the title line."""
    lines = out.splitlines()[1:]
    rows = []
    for line in lines:
        if line.startswith("time to hospital"):
            break
        label, value = re.split(r"\s{2,}", line.strip())
        rows.append((label, value))
    return rows


def test_the_cli_summary_prints_the_headline_list_in_order(write_yaml, capsys, user_metrics):
    _register_red_share()  # a user's headline metric is printed too, last
    path = write_yaml(small_scenario_data(casualties=40))
    assert main(["run", str(path), "--seed", "2", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert main(["run", str(path), "--seed", "2"]) == 0
    rows = _summary_rows(capsys.readouterr().out)
    heads = headline_metrics()
    assert [label for label, _ in rows] == [
        f"{h.label} (min)" if h.kind is MetricKind.MINUTES else h.label for h in heads
    ]
    assert [v for _, v in rows] == [h.format(metrics[h.name], unit=False) for h in heads]
    assert rows[0][0] == "critical mortality" and rows[-1][0] == "tagged immediate"
    # What the rows say, read back: a share in %, a count, minutes without their unit.
    text = dict(rows)
    assert text["deaths"] == str(metrics["deaths"])
    assert text["critical mortality"].endswith(" %")
    assert re.fullmatch(r"\d+\.\d|–", text["scene cleared (min)"])


def test_every_reader_of_the_headline_list_follows_it(user_metrics):
    names = [h.name for h in headline_metrics()]
    assert set(names) <= set(METRIC_KEYS)  # built-ins only, until a user adds one
    # The app: the first four headline metrics are the cards; the comparison is all of them.
    assert [m.name for m in kpi.cards()] == names[:4]
    assert len(kpi.compare({}, {})) == len(names)
    _register_red_share()
    assert "Tagged immediate" in [r.label for r in kpi.compare({}, {})]
    # The sweeps page offers the headline metrics first, in their order, then the rest.
    df = pd.DataFrame({"zz": [1.0, 2.0], "red_share": [0.1, 0.2], "deaths": [3, 4]})
    assert guess_columns(df).metrics == ["deaths", "red_share", "zz"]


def test_compare_defaults_to_the_headline_list_and_takes_a_user_metric(user_metrics):
    sc = parse_scenario(small_scenario_data(casualties=20))
    runs = compare_runs(sc, replications=1)
    assert [c for c in runs.columns if c in METRIC_KEYS] == [h.name for h in headline_metrics()]
    _register_red_share()
    runs = compare_runs(sc, replications=2, metrics=["red_share"])
    assert runs["red_share"].between(0, 1).all()
