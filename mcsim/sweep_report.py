"""The sweep report (``mcsim analyze --out``): the sweep's question answered first, then tables.

A planner opens the report to learn what the sweep says, so its first paragraph answers the
question the sweep states (its ``description``): which cell does best on the chosen metric,
by how much against the baseline the user named, and how each factor moves the metric, each
with whether the difference is beyond the noise of the replications (a paired 95 % interval
that excludes 0). The tables follow, readable on a page:

- values in the metric's own terms (percentages for rates, minutes, counts), never raw
  fractions with five decimals;
- no interval on a value that is the same in every replication ("315", not "315 [315, 315]");
- every cell described by its factor values, in columns, not by a number;
- metrics that are the same in every run are said once in a sentence instead of filling a
  column; the per-cell table scrolls sideways rather than overflowing the page.

Statistics are those of :mod:`mcsim.analysis` (t and Wilson intervals, pairing by replication
under common random numbers).
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mcsim.errors import InputError, echo
from mcsim.metrics import MetricKind, get_metric, headline_names
from mcsim.stats import is_rate, t_interval

if TYPE_CHECKING:
    from mcsim.analysis import SweepAnalysis

#: Relative spread below which a value counts as the same in every replication.
CONSTANT_TOL = 1e-9


def metric_kind(metric: str) -> MetricKind:
    """The kind of a metric column: from the registry, else by its name."""
    try:
        return get_metric(metric.rsplit(".", 1)[-1]).kind
    except KeyError:
        pass
    if is_rate(metric):
        return MetricKind.SHARE
    if metric.endswith("_min"):
        return MetricKind.MINUTES
    return MetricKind.NUMBER


def metric_label(metric: str) -> str:
    """A metric's label (``critical mortality``), or its column name if not registered."""
    try:
        return get_metric(metric).label
    except KeyError:
        return metric


def fmt(metric: str, v: float, *, diff: bool = False) -> str:
    """``v`` in the metric's terms: 12.3 % (or +1.2 pp for a difference), 41.2 min, 315."""
    if v is None or not np.isfinite(v):
        return "–"
    kind = metric_kind(metric)
    sign = "+" if diff else ""
    if kind is MetricKind.SHARE:
        return f"{100 * v:{sign}.1f} {'pp' if diff else '%'}"
    if kind is MetricKind.MINUTES:
        return f"{v:{sign}.1f} min"
    if abs(v - round(v)) < 1e-9 and abs(v) < 1e15:
        return f"{int(round(v)):{sign}d}"
    return f"{v:{sign}.1f}" if abs(v) >= 10 else f"{v:{sign}.2f}"


def constant(mean: float, lo: float, hi: float) -> bool:
    """Whether an interval has no width (the value is the same in every replication)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return True
    return abs(hi - lo) <= CONSTANT_TOL * max(1.0, abs(mean))


def ci(metric: str, mean: float, lo: float, hi: float, *, diff: bool = False) -> str:
    """``12.3 % [10.1, 14.6]``; a constant or single value without brackets."""
    if mean is None or not np.isfinite(mean):
        return "–"
    if constant(mean, lo, hi):
        return fmt(metric, mean, diff=diff)
    unit_less = [fmt(metric, x, diff=diff).split(" ")[0] for x in (lo, hi)]
    return f"{fmt(metric, mean, diff=diff)} [{unit_less[0]}, {unit_less[1]}]"


def beyond_noise(lo: float, hi: float) -> bool | None:
    """Whether a paired difference's interval excludes 0 (None: no interval)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    return lo > 0 or hi < 0


def varying_factors(a: SweepAnalysis) -> list[str]:
    """The factor columns that take more than one value in the stored runs."""
    from mcsim.analysis import factor_columns

    return [c for c in factor_columns(a.runs, a.manifest) if a.runs[c].nunique() > 1]


def cell_factors(a: SweepAnalysis) -> pd.DataFrame:
    """Per cell (index ``cell_id``), its values of the varying factors."""
    cols = varying_factors(a)
    return (
        a.runs.groupby("cell_id", sort=True)[cols].first()
        if cols
        else pd.DataFrame(index=sorted(a.runs["cell_id"].unique()))
    )


def describe_cell(a: SweepAnalysis, cell_id: int) -> str:
    """``policies.destination=balance, stations[0].vehicles[0].count=10`` (or ``cell N``)."""
    f = cell_factors(a)
    if cell_id not in f.index or f.empty or not len(f.columns):
        return f"cell {cell_id}"
    row = f.loc[cell_id]
    return ", ".join(f"{k}={_value(row[k])}" for k in f.columns)


def _value(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{float(v):g}"
    return str(v)


def _paired_level_difference(
    runs: pd.DataFrame, metric: str, factor: str, hi: Any, lo: Any
) -> tuple[int, float, float, float, float]:
    """Per replication: mean over the cells at ``hi`` minus the mean at ``lo``; t-interval."""
    d = runs[[factor, "replication", metric]].dropna(subset=[metric])
    per = d.groupby([factor, "replication"], sort=True)[metric].mean().unstack(factor)
    both = per[[lo, hi]].dropna()
    return t_interval(both[hi] - both[lo])


def _noise_words(lo: float, hi: float) -> str:
    b = beyond_noise(lo, hi)
    if b is None:
        return "(too few replications to tell noise apart)"
    return "beyond the noise of the replications" if b else "within the noise of the replications"


def answer(a: SweepAnalysis) -> str:
    """The first paragraph: the sweep's question and what its runs say, in words (plain text)."""
    from mcsim.analysis import marginal

    m, metric = a.manifest, a.metric
    label = metric_label(metric)
    better_low = _better_low(metric)
    rank = a.ranking
    parts = []
    question = " ".join(str(m.get("description") or "").split())
    if question:
        parts.append(f"Question: {question}")
    finite = rank[np.isfinite(rank["mean"].to_numpy(float))]
    if finite.empty:
        parts.append(f"No run has a value of {label}.")
        return " ".join(parts)
    best = finite.iloc[0] if better_low else finite.iloc[-1]
    worst = finite.iloc[-1] if better_low else finite.iloc[0]
    if constant(float(best["mean"]), float(worst["mean"]), float(best["mean"])):
        parts.append(
            f"From {len(a.runs)} runs ({m['n_cells']} cells × {m['replications']} "
            f"replications), {label} is the same in every cell: "
            f"{ci(metric, best['mean'], best['ci_low'], best['ci_high'])}; no factor of this "
            "sweep changes it."
        )
        return " ".join(parts)
    parts.append(
        f"From {len(a.runs)} runs ({m['n_cells']} cells × {m['replications']} replications), "
        f"{label} is {'lowest' if better_low else 'highest'} with "
        f"{describe_cell(a, int(best['cell_id']))}: "
        f"{ci(metric, best['mean'], best['ci_low'], best['ci_high'])}; "
        f"{'highest' if better_low else 'lowest'} with {describe_cell(a, int(worst['cell_id']))}: "
        f"{ci(metric, worst['mean'], worst['ci_low'], worst['ci_high'])}."
    )
    d = a.differences[a.differences["metric"] == metric].set_index("cell_id")
    bid = int(best["cell_id"])
    if bid != a.baseline and bid in d.index:
        r = d.loc[bid]
        parts.append(
            f"Against the baseline ({describe_cell(a, a.baseline)}) that is "
            f"{ci(metric, r['mean'], r['ci_low'], r['ci_high'], diff=True)}, paired by "
            f"replication: {_noise_words(r['ci_low'], r['ci_high'])}."
        )
    elif bid == a.baseline:
        parts.append(f"The baseline ({describe_cell(a, a.baseline)}) is itself the best cell.")
    for factor in varying_factors(a):
        mg = marginal(a.runs, metric, factor).dropna(subset=["mean"])
        if len(mg) < 2:
            continue
        levels = ", ".join(
            f"{_value(r['value'])}: {fmt(metric, r['mean'])}" for _, r in mg.iterrows()
        )
        first, last = mg.iloc[0]["value"], mg.iloc[-1]["value"]
        if not pd.api.types.is_numeric_dtype(a.runs[factor]):  # text levels: best against worst
            order = mg.sort_values("mean", ascending=better_low)
            first, last = order.iloc[-1]["value"], order.iloc[0]["value"]
        n, mean, _sd, lo, hi = _paired_level_difference(a.runs, metric, factor, last, first)
        parts.append(
            f"By {factor} (mean over the other factors): {levels}; {_value(last)} against "
            f"{_value(first)}: {ci(metric, mean, lo, hi, diff=True)}, "
            f"{_noise_words(lo, hi)}."
        )
    return " ".join(parts)


def _better_low(metric: str) -> bool:
    try:
        return get_metric(metric).better != "higher"
    except KeyError:
        return True


def _html_table(df: pd.DataFrame) -> str:
    body = df.to_html(index=False, escape=True, border=0, classes="t", na_rep="–")
    return f"<div class='wide'>{body}</div>"


def ranking_table(a: SweepAnalysis) -> pd.DataFrame:
    """Rank, the cell's factor values, n, the metric and its difference to the baseline."""
    metric = a.metric
    f = cell_factors(a)
    d = a.differences[a.differences["metric"] == metric].set_index("cell_id")
    rows = []
    for _, r in a.ranking.iterrows():
        cid = int(r["cell_id"])
        row: dict[str, Any] = {"rank": int(r["rank"]), "cell": cid}
        for c in f.columns:
            row[c] = _value(f.loc[cid, c])
        row["n"] = int(r["n"])
        row[metric_label(metric)] = ci(metric, r["mean"], r["ci_low"], r["ci_high"])
        if cid == a.baseline:
            row["vs baseline"] = "baseline"
        elif cid in d.index:
            x = d.loc[cid]
            text = ci(metric, x["mean"], x["ci_low"], x["ci_high"], diff=True)
            row["vs baseline"] = text + ("" if beyond_noise(x["ci_low"], x["ci_high"]) else " ~")
        rows.append(row)
    return pd.DataFrame(rows)


def top(values: pd.Series) -> float:
    """The scale for :data:`CONSTANT_TOL`: the largest absolute value, at least 1."""
    return max(1.0, float(values.abs().max()))


def cell_table(a: SweepAnalysis) -> tuple[pd.DataFrame, list[str]]:
    """Per cell: factor values and the headline metrics that differ somewhere.

    Also returns a phrase for each headline metric that is the same in every run (said once,
    instead of a column of identical values).
    """
    f = cell_factors(a)
    shown = [k for k in headline_names() if k in set(a.summary["metric"])]
    same: list[str] = []
    keep: list[str] = []
    means = a.summary.pivot(index="cell_id", columns="metric", values="mean")
    for k in shown:
        col = a.runs[k].dropna() if k in a.runs else pd.Series(dtype=float)
        cm = means[k].dropna() if k in means else pd.Series(dtype=float)
        if len(col) and float(col.max()) - float(col.min()) <= CONSTANT_TOL * top(col):
            same.append(f"{metric_label(k)} {fmt(k, float(col.iloc[0]))} in every run")
        elif len(cm) and float(cm.max()) - float(cm.min()) <= CONSTANT_TOL * top(cm):
            same.append(f"{metric_label(k)} {fmt(k, float(cm.iloc[0]))} on average in every cell")
        elif len(col):
            keep.append(k)
    s = a.summary[a.summary["metric"].isin(keep)]
    rows = []
    for cid, g in s.groupby("cell_id", sort=True):
        row: dict[str, Any] = {"cell": int(cid)}
        for c in f.columns:
            row[c] = _value(f.loc[cid, c])
        for _, r in g.set_index("metric").loc[keep].reset_index().iterrows():
            row[metric_label(r["metric"])] = ci(r["metric"], r["mean"], r["ci_low"], r["ci_high"])
        rows.append(row)
    return pd.DataFrame(rows), same


def report_html(a: SweepAnalysis, factor: str | None = None) -> str:
    """The self-contained HTML report (plots embedded as base64 PNG)."""
    from mcsim.analysis import default_factor, factor_columns, plot_by_policy, plot_metric_vs_factor

    m = a.manifest
    factor = factor or default_factor(a.runs, m)
    if factor is not None and factor not in a.runs.columns:
        known = ", ".join(factor_columns(a.runs, m)) or "none"
        raise InputError(f"unknown factor {echo(factor)}; factors: {known}", path="--factor")
    plots = [("by policy", plot_by_policy(a.runs, a.metric))]
    if factor is not None:
        plots.append(
            (f"{a.metric} against {factor}", plot_metric_vs_factor(a.runs, a.metric, factor))
        )
    e = html.escape
    factors = ", ".join(f["path"] for f in m["factors"]) or "none"
    imgs = "\n".join(
        f'<figure><img alt="{e(t)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode("ascii")}"><figcaption>{e(t)}</figcaption></figure>'
        for t, png in plots
    )
    cells, same = cell_table(a)
    same_text = (
        f"<p>Not in the table, as no cell differs: {e('; '.join(same))}.</p>" if same else ""
    )
    base_words = describe_cell(a, a.baseline)
    diff = a.differences[a.differences["metric"] == a.metric]
    diff_rows = [
        {
            "cell": int(r["cell_id"]),
            "factor values": describe_cell(a, int(r["cell_id"])),
            "n": int(r["n"]),
            f"Δ {metric_label(a.metric)} [95 % CI]": ci(
                a.metric, r["mean"], r["ci_low"], r["ci_high"], diff=True
            ),
            "beyond noise": {True: "yes", False: "no", None: "–"}[
                beyond_noise(r["ci_low"], r["ci_high"])
            ],
        }
        for _, r in diff.iterrows()
    ]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Sweep report: {e(m["name"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222;
  line-height: 1.4; }}
.answer {{ background: #f4f7fb; border-left: 4px solid #1f5fa8; padding: 0.5em 0.9em; }}
div.wide {{ overflow-x: auto; max-width: 100%; }}
table.t {{ border-collapse: collapse; font-size: 0.85em; margin-bottom: 1.5em; }}
table.t th, table.t td {{ padding: 0.25em 0.6em; border-bottom: 1px solid #ddd;
  text-align: right; white-space: nowrap; }}
figure {{ display: inline-block; margin: 0 1em 1em 0; }} img {{ max-width: 100%; }}
</style></head><body>
<h1>Sweep report: {e(m["name"])}</h1>
<p class="answer">{e(answer(a))}</p>
<p>Sweep id <code>{e(m["sweep_id"])}</code>; {len(a.runs)} of {m["n_runs"]} runs stored;
{m["n_cells"]} cells × {m["replications"]} replications (seeds {m["base_seed"]}…
{m["base_seed"] + m["replications"] - 1}, common to every cell); factors: {e(factors)}.
Intervals are 95 % Student-t intervals over replications (Wilson score intervals for rates,
which stay inside [0, 1]); a value shown without an interval is the same in every
replication. Differences are paired by replication against the baseline, cell {a.baseline}
({e(base_words)}); "~" marks a difference within the noise (its interval includes 0).
Rates are in %, their differences in percentage points (pp).</p>
<h2>Plots</h2>
{imgs}
<h2>Ranking by {e(metric_label(a.metric))}</h2>
{_html_table(ranking_table(a))}
<h2>Paired differences against cell {a.baseline} ({e(base_words)})</h2>
{_html_table(pd.DataFrame(diff_rows))}
<h2>Per-cell means</h2>
{same_text}
{_html_table(cells)}
</body></html>
"""


__all__ = ["answer", "ci", "fmt", "report_html"]
