"""Runs and comparisons over a posterior: KPIs with intervals that include parameter uncertainty.

``mcsim run --posterior DIR`` and ``mcsim compare --posterior DIR`` replace "replication ``r``
uses seed ``seed + r``" with "replication ``r`` uses draw ``r`` of
:func:`~mcsim.uncertainty.posterior.draw_parameter_sets`": its run seed *and* its parameter
values, applied to the scenario's data (:func:`~mcsim.uncertainty.registry.apply_values`).
Every policy combination meets the same draws, so the comparison keeps common random numbers
and adds common parameter values: the paired difference of draw ``r`` is what the policy
changes in one plausible world, and its spread over the draws is how much that depends on
which world we are in.

Per metric, :func:`run_summary` gives the median and the central 90 % interval over the draws
(a *prediction* interval: seed noise plus parameter uncertainty), and the mean with its 95 %
t interval. :func:`compare_with_posterior` adds, per combination against #0,
``p_better``: the share of draws in which the combination does better than #0 on the
metric's own direction (``better`` of :mod:`mcsim.metrics`; ties count one half; undefined
for metrics with no better direction).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mcsim.errors import InputError

#: The interval over the draws: 5th to 95th percentile.
PREDICTION_PERCENTILES = (5.0, 95.0)


def _scenario_with(data: dict[str, Any], file: str, values: dict[str, float]) -> Any:
    from mcsim.scenario import parse_scenario
    from mcsim.uncertainty.posterior import values_for_scenario
    from mcsim.uncertainty.registry import apply_values

    own = values_for_scenario(values, Path(file).stem)
    return parse_scenario(apply_values(data, own), file=file)


def _one(task: tuple[dict[str, Any], str, dict[str, str], int, dict[str, float], list[str]]):
    from mcsim.simulate import simulate

    data, file, combo, seed, values, metrics = task
    res = simulate(_scenario_with(data, file, values), seed, **combo)
    return {m: res.metrics.get(m) for m in metrics}


def posterior_runs(
    scenario: str | Path,
    draws: Sequence[tuple[int, dict[str, float]]],
    combos: Sequence[dict[str, str]],
    metrics: Sequence[str],
    *,
    overrides: Sequence[str] = (),
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """One row per (combination, draw): policies, draw, seed, parameter values, metrics.

    The layout is :func:`mcsim.compare.compare_runs`' (``replication`` is the draw's number)
    plus one ``param.<name>`` column per parameter, so :func:`mcsim.compare.summarize` reads it.
    """
    from mcsim.library import resolve
    from mcsim.scenario import apply_overrides, read_yaml

    path = resolve(scenario)
    data = read_yaml(path)
    if overrides:
        data = apply_overrides(data, list(overrides), file=str(path))
    tasks = [
        (data, str(path), combo, s, values, list(metrics))
        for combo in combos
        for s, values in draws
    ]
    # the values must suit the scenario before anything runs (one line if not)
    if draws:
        _scenario_with(data, str(path), draws[0][1])
    from mcsim.validation.runner import map_in_order

    if progress is None or workers > 1:
        found = map_in_order(_one, tasks, workers)
        if progress is not None:
            progress(len(tasks), len(tasks))
    else:
        found = []
        for i, t in enumerate(tasks, start=1):
            found.append(_one(t))
            progress(i, len(tasks))
    rows = []
    n = len(draws)
    for i, values in enumerate(found):
        c, r = divmod(i, n)
        seed, params = draws[r]
        row: dict[str, Any] = {"combination": c, **combos[c], "replication": r, "seed": seed}
        row.update({f"param.{k}": v for k, v in params.items()})
        for m in metrics:
            v = values[m]
            if isinstance(v, dict):
                raise InputError(f"metric {m!r} is not a single number", path="--metric")
            row[m] = math.nan if v is None else float(v)
        rows.append(row)
    return pd.DataFrame(rows)


def run_summary(runs: pd.DataFrame, metrics: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per metric: n, median, low/high (5th/95th percentile), mean and its 95 % t interval."""
    from mcsim.stats import t_interval

    out: dict[str, dict[str, Any]] = {}
    for m in metrics:
        x = runs[m].to_numpy(float)
        x = x[np.isfinite(x)]
        n, mean, _, lo, hi = t_interval(x)
        entry: dict[str, Any] = dict.fromkeys(
            ("median", "low", "high", "mean", "mean_ci_low", "mean_ci_high")
        )
        entry["n"] = n
        if n:
            lo_q, hi_q = PREDICTION_PERCENTILES
            plo, med, phi = np.percentile(x, [lo_q, 50.0, hi_q])
            entry.update(median=float(med), low=float(plo), high=float(phi), mean=mean)
            if n > 1:
                entry.update(mean_ci_low=lo, mean_ci_high=hi)
        out[m] = entry
    return out


def p_better(runs: pd.DataFrame, metric: str, combination: int, baseline: int = 0) -> float:
    """Share of draws in which ``combination`` beats ``baseline`` on ``metric`` (ties: 1/2).

    NaN when the metric has no better direction or no draw has both values.
    """
    from mcsim.metrics import get_metric

    better = get_metric(metric).better
    if better == "neither":
        return math.nan
    a = runs[runs["combination"] == baseline].set_index("replication")[metric]
    b = runs[runs["combination"] == combination].set_index("replication")[metric]
    d = (b - a.reindex(b.index)).dropna()
    if d.empty:
        return math.nan
    wins = (d < 0) if better == "lower" else (d > 0)
    return float((wins.sum() + 0.5 * (d == 0).sum()) / len(d))


def compare_with_posterior(runs: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """:func:`mcsim.compare.summarize` plus ``p_better`` (against combination 0)."""
    from mcsim.compare import summarize

    table = summarize(runs, list(metrics))
    table["p_better"] = [
        math.nan if int(c) == 0 else p_better(runs, m, int(c))
        for c, m in zip(table["combination"], table["metric"], strict=True)
    ]
    return table
