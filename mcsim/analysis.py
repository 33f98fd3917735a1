"""Analysis of a sweep folder: means and confidence intervals, paired differences, a ranking.

Every function returns a pandas DataFrame so that a notebook can take it from there; the
``mcsim analyze`` command prints the ranking and, with ``--out``, writes a self-contained HTML
report with the plots embedded as PNG.

Statistics (simulation practice, see Law, *Simulation Modeling and Analysis*, ch. 9-10):

- per cell, the mean of each metric over its replications and a 95 % Student-t confidence
  interval ``mean ± t(0.975, n-1) · s / √n`` (undefined for fewer than two replications); for
  rates (mortality, shares, utilization: values in [0, 1]) a Wilson score interval on the
  effective sample size instead, which stays inside [0, 1] (:func:`mcsim.stats.rate_interval`);
- paired differences against a baseline cell: replication ``r`` of every cell shares its seed
  (common random numbers), so ``metric(cell, r) − metric(baseline, r)`` is formed per
  replication and the t-interval is taken over those differences, which is much narrower than
  comparing two independent intervals;
- marginal effects (by policy, against a factor): per replication, the mean over the cells
  concerned, then a t-interval over replications — cells of one replication are not independent
  under common random numbers, replications are.

Runs whose metric is undefined (``None`` in the metrics JSON, NaN here: e.g. critical mortality
with no critical casualty) are left out of that metric's statistics; ``n`` says how many count.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mcsim.errors import InputError, echo
from mcsim.stats import is_rate, rate_interval, t_interval
from mcsim.sweep.store import (
    ANALYSIS_KEYS,
    ID_COLUMNS,
    POLICY_COLUMNS,
    read_manifest,
    read_runs,
)


def factor_columns(runs: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    """The factor columns of the runs table (``scenario`` first when there are several)."""
    cols = [f["path"] for f in manifest["factors"]]
    if len(manifest["scenarios"]) > 1:
        cols = ["scenario", *cols]
    return [c for c in cols if c in runs.columns]


def metric_columns(runs: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    """The metric columns of the runs table (everything numeric after the identity columns)."""
    fixed = {*ID_COLUMNS, *POLICY_COLUMNS, *(f["path"] for f in manifest["factors"])}
    return [
        c for c in runs.columns if c not in fixed and pd.api.types.is_numeric_dtype(runs[c].dtype)
    ]


def cell_labels(manifest: dict[str, Any]) -> dict[int, str]:
    """``cell_id`` → ``path=value, ...`` of the factors that vary (and the scenario if several)."""
    several = len(manifest["scenarios"]) > 1
    varying = {f["path"] for f in manifest["factors"] if f["kind"] == "lhs" or len(f["levels"]) > 1}
    out: dict[int, str] = {}
    for c in manifest["cells"]:
        parts = [f"scenario={c['scenario']}"] if several else []
        for k, v in c["factors"].items():
            if k not in varying:
                continue
            parts.append(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}")
        out[int(c["cell_id"])] = ", ".join(parts) or c["scenario"]
    return out


def policy_label(runs: pd.DataFrame) -> pd.Series:
    """``triage/dispatch/destination`` of each run."""
    return (
        runs["policy.triage"].astype(str)
        + "/"
        + runs["policy.dispatch"].astype(str)
        + "/"
        + runs["policy.destination"].astype(str)
    )


def _check_metric(runs: pd.DataFrame, manifest: dict[str, Any], metric: str) -> None:
    metrics = metric_columns(runs, manifest)
    if metric not in metrics:
        top = ", ".join(m for m in metrics if "." not in m)
        raise InputError(f"unknown metric {echo(metric)}; known: {top}, ...", path="--metric")


def cell_summary(
    runs: pd.DataFrame, manifest: dict[str, Any], metrics: list[str] | None = None
) -> pd.DataFrame:
    """Per cell and metric: n, mean, sd and the 95 % t-interval (one row per cell × metric)."""
    metrics = metrics or metric_columns(runs, manifest)
    labels = cell_labels(manifest)
    rows = []
    for cell_id, g in runs.groupby("cell_id", sort=True):
        for m in metrics:
            n, mean, sd, lo, hi = (rate_interval if is_rate(m) else t_interval)(g[m])
            rows.append(
                {
                    "cell_id": int(cell_id),
                    "label": labels.get(int(cell_id), str(cell_id)),
                    "metric": m,
                    "n": n,
                    "mean": mean,
                    "sd": sd,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(
        rows, columns=["cell_id", "label", "metric", "n", "mean", "sd", "ci_low", "ci_high"]
    )


def paired_differences(
    runs: pd.DataFrame,
    manifest: dict[str, Any],
    baseline: int | str | None = None,
    metrics: list[str] | None = None,
) -> pd.DataFrame:
    """Per cell and metric, ``cell − baseline`` paired by replication, with a 95 % t-interval.

    Args:
        runs: the runs table (:func:`mcsim.sweep.read_runs`).
        manifest: the sweep's manifest.
        baseline: the baseline cell (default: the first cell).
        metrics: which metrics (default: all).
    """
    metrics = metrics or metric_columns(runs, manifest)
    base = _baseline(manifest, baseline)
    labels = cell_labels(manifest)
    ref = runs[runs["cell_id"] == base].set_index("replication")
    rows = []
    for cell_id, g in runs.groupby("cell_id", sort=True):
        if int(cell_id) == base:
            continue
        g = g.set_index("replication")
        common = g.index.intersection(ref.index)
        for m in metrics:
            d = g.loc[common, m].astype(float) - ref.loc[common, m].astype(float)
            n, mean, sd, lo, hi = t_interval(d)
            rows.append(
                {
                    "cell_id": int(cell_id),
                    "label": labels.get(int(cell_id), str(cell_id)),
                    "baseline": base,
                    "metric": m,
                    "n": n,
                    "mean": mean,
                    "sd": sd,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(
        rows,
        columns=["cell_id", "label", "baseline", "metric", "n", "mean", "sd", "ci_low", "ci_high"],
    )


def _baseline(manifest: dict[str, Any], baseline: int | str | None) -> int:
    """The baseline cell: by id, or by factor values (``path=value,...``), default the first.

    A planner names the baseline by what it is ("policies.destination=nearest"), not by a
    cell number; the values that are given must pick exactly one cell.
    """
    ids = [int(c["cell_id"]) for c in manifest["cells"]]
    if baseline is None:
        return ids[0]
    if isinstance(baseline, str) and "=" not in baseline:
        try:
            baseline = int(baseline.strip())
        except ValueError:
            raise InputError(
                f"{echo(baseline)} is neither a cell id nor PATH=VALUE[,PATH=VALUE...]",
                path="--baseline",
            ) from None
    if isinstance(baseline, str):
        return _baseline_by_values(manifest, baseline)
    if baseline not in ids:
        raise InputError(f"no cell {baseline}; cells are {ids[0]}..{ids[-1]}", path="--baseline")
    return baseline


def _same_value(cell_value: Any, text: str) -> bool:
    if isinstance(cell_value, bool) or not isinstance(cell_value, int | float):
        return str(cell_value) == text
    try:
        return float(cell_value) == float(text)
    except ValueError:
        return False


def _baseline_by_values(manifest: dict[str, Any], spec: str) -> int:
    wanted: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{echo(part)} is not PATH=VALUE", path="--baseline")
        wanted[key.strip()] = value.strip()
    paths = [f["path"] for f in manifest["factors"]] + ["scenario"]
    unknown = [k for k in wanted if k not in paths]
    if unknown:
        raise InputError(
            f"no factor {echo(unknown[0])}; factors: {', '.join(paths[:-1]) or 'none'}",
            path="--baseline",
        )
    hits = [
        int(c["cell_id"])
        for c in manifest["cells"]
        if all(
            _same_value(c["scenario"] if k == "scenario" else c["factors"].get(k), v)
            for k, v in wanted.items()
        )
    ]
    if len(hits) != 1:
        what = "no cell has" if not hits else f"{len(hits)} cells have"
        raise InputError(
            f"{what} {spec}; name more factors' values to pick one cell", path="--baseline"
        )
    return hits[0]


def ranking(
    runs: pd.DataFrame,
    manifest: dict[str, Any],
    metric: str | None = None,
    ascending: bool = True,
) -> pd.DataFrame:
    """Cells ordered by their mean ``metric`` (lowest first by default), with 95 % CIs.

    ``metric`` defaults to the first headline metric (:func:`default_metric`). The report
    reads the best cell off this order with the metric's registered direction
    (:func:`mcsim.sweep_report.answer`).
    """
    metric = metric or default_metric()
    _check_metric(runs, manifest, metric)
    s = cell_summary(runs, manifest, [metric])
    s = s.sort_values(["mean", "cell_id"], ascending=[ascending, True], na_position="last")
    s = s.reset_index(drop=True)
    s.insert(0, "rank", range(1, len(s) + 1))
    factors = factor_columns(runs, manifest)
    if factors:
        first = runs.groupby("cell_id", sort=True)[factors].first()
        s = s.join(first, on="cell_id")
    return s.drop(columns=["metric"])


def marginal(runs: pd.DataFrame, metric: str, by: pd.Series | str) -> pd.DataFrame:
    """Mean of ``metric`` for each value of ``by`` over all other factors, with a 95 % CI.

    Per replication the cells with that value are averaged; the interval is over replications.
    """
    key = runs[by] if isinstance(by, str) else by
    df = pd.DataFrame({"key": key.to_numpy(), "rep": runs["replication"], "y": runs[metric]})
    per_rep = df.groupby(["key", "rep"], sort=True)["y"].mean().reset_index()
    rows = []
    for k, g in per_rep.groupby("key", sort=True):
        n, mean, _sd, lo, hi = t_interval(g["y"])
        rows.append({"value": k, "n": n, "mean": mean, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=["value", "n", "mean", "ci_low", "ci_high"])


# --------------------------------------------------------------------------------------------
# Plots (matplotlib's Agg canvas directly: no pyplot state, no display needed)


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _yerr(m: pd.DataFrame) -> np.ndarray:
    lo = (m["mean"] - m["ci_low"]).fillna(0).to_numpy()
    hi = (m["ci_high"] - m["mean"]).fillna(0).to_numpy()
    return np.vstack([lo, hi])


def plot_by_policy(runs: pd.DataFrame, metric: str = "critical_mortality") -> bytes:
    """PNG: the metric by policy combination (marginal over other factors), with 95 % CIs."""
    from matplotlib.figure import Figure

    m = marginal(runs, metric, policy_label(runs))
    fig = Figure(figsize=(max(4.0, 1.4 * len(m) + 2), 3.6))
    ax = fig.add_subplot()
    x = np.arange(len(m))
    ax.bar(x, m["mean"], yerr=_yerr(m), capsize=4, color="#4c72b0")
    ax.set_xticks(x, [str(v) for v in m["value"]], rotation=20, ha="right")
    ax.set_xlabel("policy (triage/dispatch/destination)")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} by policy (mean over other factors, 95 % CI)")
    return _png(fig)


def plot_metric_vs_factor(
    runs: pd.DataFrame, metric: str, factor: str, by_policy: bool = True
) -> bytes:
    """PNG: the metric against a factor (one line per policy combination), with 95 % CIs."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 3.8))
    ax = fig.add_subplot()
    groups = policy_label(runs) if by_policy else pd.Series("all", index=runs.index)
    numeric = pd.api.types.is_numeric_dtype(runs[factor])
    for name, idx in groups.groupby(groups, sort=True).groups.items():
        sub = runs.loc[idx]
        m = marginal(sub, metric, factor)
        xs = m["value"].to_numpy() if numeric else np.arange(len(m))
        ax.errorbar(xs, m["mean"], yerr=_yerr(m), marker="o", capsize=3, label=str(name))
        if not numeric:
            ax.set_xticks(xs, [str(v) for v in m["value"]], rotation=20, ha="right")
    ax.set_xlabel(factor)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} against {factor} (95 % CI)")
    ax.legend(fontsize="small", title="policy")
    return _png(fig)


def default_factor(runs: pd.DataFrame, manifest: dict[str, Any]) -> str | None:
    """The first numeric factor that varies, else the first factor that varies, else None."""
    varying = [c for c in factor_columns(runs, manifest) if runs[c].nunique() > 1]
    numeric = [c for c in varying if pd.api.types.is_numeric_dtype(runs[c])]
    return (numeric or varying or [None])[0]


# --------------------------------------------------------------------------------------------
# Everything at once, and the HTML report


@dataclass
class SweepAnalysis:
    """The tables of one sweep folder (see :func:`analyze_sweep`)."""

    manifest: dict[str, Any]
    runs: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame
    ranking: pd.DataFrame
    metric: str
    baseline: int


def default_metric() -> str:
    """The metric a sweep is ranked by unless told: the first headline metric."""
    from mcsim.metrics import headline_names

    return headline_names()[0]


def analyze_sweep(
    sweep_dir: str | Path, metric: str | None = None, baseline: int | str | None = None
) -> SweepAnalysis:
    """Read a sweep folder and compute its summary, paired differences and ranking.

    ``metric`` (the ranking's) defaults to the first headline metric.
    """
    metric = metric or default_metric()
    manifest = read_manifest(sweep_dir, require=ANALYSIS_KEYS)
    runs = read_runs(sweep_dir)
    if runs.empty:
        raise InputError("holds no finished run yet", file=str(sweep_dir))
    _check_metric(runs, manifest, metric)
    base = _baseline(manifest, baseline)
    return SweepAnalysis(
        manifest=manifest,
        runs=runs,
        summary=cell_summary(runs, manifest),
        differences=paired_differences(runs, manifest, base),
        ranking=ranking(runs, manifest, metric),
        metric=metric,
        baseline=base,
    )


def ranking_with_differences(a: SweepAnalysis) -> pd.DataFrame:
    """The ranking, each cell with its paired difference to the baseline (``analyze --csv``).

    Columns: those of :func:`ranking`, then ``diff_n``, ``diff_mean``, ``diff_ci_low``,
    ``diff_ci_high`` of ``a.metric`` against cell ``a.baseline``.
    """
    d = a.differences[a.differences["metric"] == a.metric]
    d = d[["cell_id", "n", "mean", "ci_low", "ci_high"]].rename(
        columns={c: f"diff_{c}" for c in ("n", "mean", "ci_low", "ci_high")}
    )
    return a.ranking.merge(d, on="cell_id", how="left")


def analysis_json(a: SweepAnalysis) -> dict[str, Any]:
    """The ranking as one JSON-ready object (``analyze --json``); undefined numbers are None."""
    table = ranking_with_differences(a)
    records = [
        {k: _json_value(v) for k, v in row.items()} for row in table.to_dict(orient="records")
    ]
    m = a.manifest
    return {
        "sweep_id": m["sweep_id"],
        "name": m["name"],
        "n_runs": m["n_runs"],
        "runs_stored": len(a.runs),
        "n_cells": m["n_cells"],
        "metric": a.metric,
        "baseline": a.baseline,
        "ranking": records,
    }


def _json_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return None if v is pd.NA else v


def report_html(a: SweepAnalysis, factor: str | None = None) -> str:
    """The self-contained HTML report (:mod:`mcsim.sweep_report`: the question answered first)."""
    from mcsim.sweep_report import report_html as build

    return build(a, factor=factor)


def write_report(
    a: SweepAnalysis, out: str | Path, factor: str | None = None, *, force: bool = True
) -> Path:
    """Write the HTML report of an analysis to ``out`` (atomically; see :mod:`mcsim.safeio`)."""
    from mcsim.safeio import check_outputs, write_file

    check_outputs([out], force=force, option="--out")
    return write_file(out, report_html(a, factor=factor), force=force, option="--out")
