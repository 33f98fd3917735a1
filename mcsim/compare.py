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
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mcsim.errors import InputError
from mcsim.scenario import Scenario, load_scenario
from mcsim.stats import t_interval

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
    metrics: Sequence[str] | None = None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """One row per (combination, replication): the policies, the seed and the metrics.

    Replication ``r`` runs with seed ``seed + r`` for every combination (common random numbers).
    Metrics that are undefined in a run (e.g. critical mortality with no critical casualty)
    are NaN. The rows are the same, in the same order, whatever ``workers`` is.

    Args:
        scenario: a :class:`Scenario`, a scenario file or shipped name, None for the default.
        triage: triage policy names (see :func:`compare`).
        dispatch: dispatch policy names.
        destination: destination policy names.
        replications: runs per combination.
        seed: the base seed.
        metrics: single-number metrics to keep (default: the headline metrics,
            :func:`mcsim.metrics.headline_names`).
        workers: processes to run on; 1 runs in this process. Workers know the built-in
            policies and those that imports or entry points register, not ones registered at
            run time in this process.
        progress: called as ``progress(done, total)`` after each run.
    """
    from mcsim.metrics import headline_names, registered_metrics

    metrics = headline_names() if metrics is None else tuple(metrics)
    sc = _resolve(scenario)
    if workers < 1:
        raise InputError("must be at least 1", path="--workers")
    if replications < 1:
        raise InputError("needs at least 1 replication", path="--replications")
    if seed < 0:
        raise InputError("seed must be >= 0", path="--seed")
    known = {m.name for m in registered_metrics()}
    unknown = [m for m in metrics if m not in known]
    if unknown:
        raise InputError(
            f"unknown metric {unknown[0]!r}; known: {', '.join(headline_names())}, ...",
            path="--metric",
        )
    combos = combinations(sc, triage=triage, dispatch=dispatch, destination=destination)
    tasks = [(combo, seed + r) for combo in combos for r in range(replications)]
    found: list[dict[str, Any]] = []
    for done, values in enumerate(_run_all(sc, tasks, list(metrics), workers), start=1):
        found.append(values)
        if progress is not None:
            progress(done, len(tasks))
    rows: list[dict[str, Any]] = []
    for i, values in enumerate(found):
        c, r = divmod(i, replications)
        row: dict[str, Any] = {"combination": c, **combos[c], "replication": r, "seed": seed + r}
        for m in metrics:
            v = values[m]
            if isinstance(v, dict):
                raise InputError(f"metric {m!r} is not a single number", path="--metric")
            row[m] = math.nan if v is None else float(v)
        rows.append(row)
    return pd.DataFrame(rows)


def _run_all(
    sc: Scenario, tasks: list[tuple[dict[str, str], int]], metrics: list[str], workers: int
):
    """The chosen metrics of each task's run, yielded in task order."""
    if workers == 1 or len(tasks) == 1:
        for combo, s in tasks:
            yield _metrics_of(sc, combo, s, metrics)
        return
    from mcsim.parallel import process_pool

    with process_pool(
        min(workers, len(tasks)), initializer=_init_worker, initargs=(sc,), preload=["mcsim"]
    ) as pool:
        futures = [pool.submit(_run_in_worker, combo, s, metrics) for combo, s in tasks]
        try:
            for f in futures:  # in order: the rows do not depend on which worker was quick
                yield f.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _metrics_of(sc: Scenario, combo: dict[str, str], seed: int, metrics: list[str]) -> dict:
    from mcsim.simulate import simulate

    res = simulate(sc, seed, **combo)
    return {m: res.metrics.get(m) for m in metrics}


_WORKER_SCENARIO: list[Scenario] = []


def _init_worker(sc: Scenario) -> None:
    # The scenario crosses to each worker once, not with every task; the parent's plugins
    # (--plugin, a scenario's imports) register the user's policies and metrics here too.
    from mcsim.plugins import load_plugins_from_env

    load_plugins_from_env()
    _WORKER_SCENARIO[:] = [sc]


def _run_in_worker(combo: dict[str, str], seed: int, metrics: list[str]) -> dict:
    return _metrics_of(_WORKER_SCENARIO[0], combo, seed, metrics)


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
    metrics: Sequence[str] | None = None,
    level: float = 0.95,
    workers: int = 1,
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
        metrics: single-number metrics to summarise (default: the headline metrics).
        level: confidence level.
        workers: processes to run on (1: in this process; see :func:`compare_runs`).

    Returns:
        The :func:`summarize` table: one row per (combination, metric) with mean, 95 % t
        interval and the paired difference against the first combination.

    Example:
        >>> df = compare(triage="start,salt", destination=["nearest", "balance"],
        ...              replications=20)  # doctest: +SKIP
    """
    from mcsim.metrics import headline_names

    metrics = headline_names() if metrics is None else tuple(metrics)
    runs = compare_runs(
        scenario,
        triage=triage,
        dispatch=dispatch,
        destination=destination,
        replications=replications,
        seed=seed,
        metrics=metrics,
        workers=workers,
    )
    return summarize(runs, list(metrics), level)


def comparison_paths(out: str | Path) -> list[Path]:
    """The files :func:`write_comparison` writes into the folder ``out``."""
    folder = Path(out)
    return [folder / "runs.parquet", folder / "summary.csv", folder / "compare.json"]


def write_comparison(
    out: str | Path, runs: pd.DataFrame, table: pd.DataFrame, meta: dict, *, force: bool = True
) -> list[Path]:
    """Write a comparison into the folder ``out`` (``mcsim compare --out``).

    ``runs.parquet`` (one row per run, :func:`compare_runs`), ``summary.csv`` (the
    :func:`summarize` table, for a spreadsheet) and ``compare.json`` (``meta`` and the summary
    as ``mcsim compare --json`` prints it). Columns: docs/data.md. All or nothing, existing
    files refused unless ``force`` (:func:`mcsim.safeio.write_files`).
    """
    from mcsim.safeio import write_files

    runs_path, summary_path, json_path = comparison_paths(out)
    contents = {
        runs_path: lambda fh: runs.to_parquet(fh, index=False),
        summary_path: table.to_csv(index=False),
        json_path: json.dumps({**meta, "results": summary_records(table)}, indent=1) + "\n",
    }
    return write_files(contents, force=force)


def summary_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The summary table as JSON-ready records (an undefined value is None, not NaN)."""
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in table.to_dict(orient="records")
    ]
