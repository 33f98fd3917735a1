"""Fair comparison of policies: every combination on the same casualties, with intervals.

Planners ask which of two triage tools or destination policies saves more lives. A single run
cannot say (one casualty set, one draw of service times); many runs can, if every policy meets
the *same* casualty sets. :func:`compare` therefore runs each combination of the given triage,
dispatch and destination policies with **common random numbers**: replication ``r`` uses seed
``seed + r`` for every combination, so casualties, their injuries, observation errors and
responder-error draws are identical across combinations (each is drawn from its own named
stream, see :mod:`mcsim.rng`).

Per combination and metric it reports the mean and a 95 % Student-t interval over the
replications, and the **paired difference** against the first combination (the mean of the
per-replication differences, with its own t interval). Pairing removes the between-casualty-set
variance that both combinations share, so the difference interval is usually much narrower
than the two separate intervals suggest.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mcsim.errors import InputError
from mcsim.scenario import Scenario, load_scenario
from mcsim.stats import t_interval

#: Metrics summarised by default (keys of :data:`mcsim.metrics.METRIC_KEYS` with one number).
KEY_METRICS: tuple[str, ...] = (
    "deaths",
    "critical_mortality",
    "expected_survivors",
    "overtriage_rate",
    "undertriage_rate",
    "critical_definitive_care_60min_share",
    "scene_clear_min",
)

KINDS = ("triage", "dispatch", "destination")

SUMMARY_COLUMNS = (
    "combination",
    "triage",
    "dispatch",
    "destination",
    "metric",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "diff_n",
    "diff_mean",
    "diff_ci_low",
    "diff_ci_high",
)


def _names(value: str | Sequence[str] | None, kind: str, scenario: Scenario) -> list[str]:
    from mcsim.policies import default_registry

    if value is None:
        names = [getattr(scenario.policies, kind)]
    elif isinstance(value, str):
        names = [n.strip() for n in value.split(",")]
    else:
        names = [str(n).strip() for n in value]
    if not names or any(not n for n in names):
        raise InputError(f"needs a comma-separated list of {kind} policies", path=f"--{kind}")
    if len(set(names)) != len(names):
        raise InputError(f"a {kind} policy is listed twice: {','.join(names)}", path=f"--{kind}")
    reg = default_registry()
    for n in names:
        try:
            reg.get(kind, n)
        except InputError as exc:
            raise InputError(exc.message, path=f"--{kind}") from None
    return names


def combinations(
    scenario: Scenario,
    *,
    triage: str | Sequence[str] | None = None,
    dispatch: str | Sequence[str] | None = None,
    destination: str | Sequence[str] | None = None,
) -> list[dict[str, str]]:
    """Every combination of the given policies (the scenario's where a kind is not given).

    The order is triage-major: the first combination is the first of each list, which is the
    baseline of the paired differences.
    """
    lists = [
        _names(triage, "triage", scenario),
        _names(dispatch, "dispatch", scenario),
        _names(destination, "destination", scenario),
    ]
    return [dict(zip(KINDS, combo, strict=True)) for combo in itertools.product(*lists)]


def _resolve(scenario: Scenario | str | Path | None) -> Scenario:
    from mcsim.simulate import default_scenario_path

    if scenario is None:
        scenario = default_scenario_path()
    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(scenario)


def compare_runs(
    scenario: Scenario | str | Path | None = None,
    *,
    triage: str | Sequence[str] | None = None,
    dispatch: str | Sequence[str] | None = None,
    destination: str | Sequence[str] | None = None,
    replications: int = 10,
    seed: int = 0,
    metrics: Sequence[str] = KEY_METRICS,
) -> pd.DataFrame:
    """One row per (combination, replication): the policies, the seed and the metrics.

    Replication ``r`` runs with seed ``seed + r`` for every combination (common random numbers).
    Metrics that are undefined in a run (e.g. critical mortality with no critical casualty)
    are NaN.
    """
    from mcsim.metrics import METRIC_KEYS
    from mcsim.simulate import simulate

    sc = _resolve(scenario)
    if replications < 1:
        raise InputError("needs at least 1 replication", path="--replications")
    if seed < 0:
        raise InputError("seed must be >= 0", path="--seed")
    unknown = [m for m in metrics if m not in METRIC_KEYS]
    if unknown:
        raise InputError(
            f"unknown metric {unknown[0]!r}; known: {', '.join(KEY_METRICS)}", path="--metric"
        )
    combos = combinations(sc, triage=triage, dispatch=dispatch, destination=destination)
    rows: list[dict[str, Any]] = []
    for c, combo in enumerate(combos):
        for r in range(replications):
            res = simulate(sc, seed + r, **combo)
            row: dict[str, Any] = {"combination": c, **combo, "replication": r, "seed": seed + r}
            for m in metrics:
                v = res.metrics.get(m)
                if isinstance(v, dict):
                    raise InputError(f"metric {m!r} is not a single number", path="--metric")
                row[m] = math.nan if v is None else float(v)
            rows.append(row)
    return pd.DataFrame(rows)


def summarize(
    runs: pd.DataFrame, metrics: Sequence[str] | None = None, level: float = 0.95
) -> pd.DataFrame:
    """Mean, t interval and paired difference against combination 0, per combination and metric.

    Args:
        runs: as returned by :func:`compare_runs` (columns ``combination``, ``replication``,
            the policy names and one column per metric).
        metrics: metric columns to summarise (default: every non-key column).
        level: confidence level of the intervals.

    Returns:
        One row per (combination, metric), columns :data:`SUMMARY_COLUMNS`. Differences pair
        replications by number; a pair with a NaN on either side is dropped.
    """
    keys = {"combination", "replication", "seed", *KINDS}
    if metrics is None:
        metrics = [c for c in runs.columns if c not in keys]
    out: list[dict[str, Any]] = []
    base = runs[runs["combination"] == runs["combination"].min()].set_index("replication")
    for c, grp in runs.groupby("combination", sort=True):
        g = grp.set_index("replication")
        first = grp.iloc[0]
        for m in metrics:
            n, mean, sd, lo, hi = t_interval(g[m], level)
            paired = (g[m] - base[m].reindex(g.index)).dropna()
            dn, dmean, _, dlo, dhi = t_interval(paired, level)
            out.append(
                {
                    "combination": int(c),
                    "triage": first["triage"],
                    "dispatch": first["dispatch"],
                    "destination": first["destination"],
                    "metric": m,
                    "n": n,
                    "mean": mean,
                    "sd": sd,
                    "ci_low": lo,
                    "ci_high": hi,
                    "diff_n": dn,
                    "diff_mean": dmean,
                    "diff_ci_low": dlo,
                    "diff_ci_high": dhi,
                }
            )
    return pd.DataFrame(out, columns=list(SUMMARY_COLUMNS))


def compare(
    scenario: Scenario | str | Path | None = None,
    *,
    triage: str | Sequence[str] | None = None,
    dispatch: str | Sequence[str] | None = None,
    destination: str | Sequence[str] | None = None,
    replications: int = 10,
    seed: int = 0,
    metrics: Sequence[str] = KEY_METRICS,
    level: float = 0.95,
) -> pd.DataFrame:
    """Run every policy combination on the same casualty sets and summarise (``mcsim compare``).

    Args:
        scenario: a :class:`Scenario`, a scenario file, or None for the shipped default.
        triage: triage policy names (a list or a comma-separated string); None keeps the
            scenario's.
        dispatch: dispatch policy names, likewise.
        destination: destination policy names, likewise.
        replications: runs per combination; replication ``r`` uses seed ``seed + r``.
        seed: the base seed.
        metrics: single-number metrics to summarise.
        level: confidence level.

    Returns:
        The :func:`summarize` table: one row per (combination, metric) with mean, 95 % t
        interval and the paired difference against the first combination.

    Example:
        >>> df = compare(triage="start,salt", destination=["nearest", "balance"],
        ...              replications=20)  # doctest: +SKIP
    """
    runs = compare_runs(
        scenario,
        triage=triage,
        dispatch=dispatch,
        destination=destination,
        replications=replications,
        seed=seed,
        metrics=metrics,
    )
    return summarize(runs, list(metrics), level)
