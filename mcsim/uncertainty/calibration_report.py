"""A calibration's output files: posterior, diagnostics, posterior-predictive check, report.

* ``posterior.parquet``: the last population, one column per parameter and ``weight``.
* ``populations.csv``: per population its threshold (``epsilon``), accepted particles,
  evaluations, acceptance rate and effective sample size (Kish's, of the weights). A falling
  acceptance rate with a flat threshold says the posterior has stopped sharpening; an ESS far
  below the population size says a few particles carry the weight.
* ``ppc.csv``: the posterior-predictive check. ``budget.ppc_draws`` parameter sets drawn
  from the posterior (:func:`~.posterior.draw_parameter_sets`), one run of every incident
  each; per observed figure the observed value, its error, the model's median and 90 %
  interval over the draws and whether the observation lies inside. One run per draw, not the
  mean over ``seeds_per_evaluation``: the check asks whether one real incident looks like
  one simulated one.
* ``report.html`` with ``marginals.png``, ``pairs.png``, ``ppc.png`` and ``populations.png``.

Every file is written through :func:`mcsim.safeio.write_files` (whole or not at all).
"""

from __future__ import annotations

import base64
import html
import io
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mcsim.uncertainty.calibration_file import Calibration

PNG_NAMES = ("marginals.png", "pairs.png", "ppc.png", "populations.png")
#: The posterior-predictive interval: 5th to 95th percentile over the draws.
PPC_PERCENTILES = (5.0, 95.0)


def ess(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.sum(w**2)) if w.size else 0.0


def population_table(h: Any) -> pd.DataFrame:
    """One row per population: t, epsilon, particles, evaluations, acceptance rate, ESS."""
    pops = h.get_all_populations()
    pops = pops[pops["t"] >= 0].sort_values("t")
    rows = []
    for _, r in pops.iterrows():
        t = int(r["t"])
        _, w = h.get_distribution(m=0, t=t)
        n = len(w)
        rows.append(
            {
                "t": t,
                "epsilon": float(r["epsilon"]),
                "particles": n,
                "evaluations": int(r["samples"]),
                "acceptance_rate": n / float(r["samples"]) if r["samples"] else float("nan"),
                "ess": ess(w),
            }
        )
    return pd.DataFrame(rows)


def _ppc_run(model: Any, values: dict[str, float], seed: int) -> dict[str, float]:
    return model.run_seeds(values, [seed])


def posterior_predictive(
    cal: Calibration, posterior: pd.DataFrame, seed: int, executor: Executor | None = None
) -> pd.DataFrame:
    """The posterior-predictive check table (see the module docstring)."""
    from mcsim.uncertainty.abc_model import IncidentsModel
    from mcsim.uncertainty.posterior import draw_parameter_sets, from_frame

    model = IncidentsModel(cal.incidents, cal.observed, cal.parameters, 1)
    draws = draw_parameter_sets(from_frame(posterior), cal.budget.ppc_draws, seed)
    if executor is None:
        sims = [_ppc_run(model, v, s) for s, v in draws]
    else:
        futures = [executor.submit(_ppc_run, model, v, s) for s, v in draws]
        sims = [f.result() for f in futures]
    rows = []
    for o in cal.observed:
        x = np.array([s[o.key] for s in sims], dtype=float)
        x = x[np.isfinite(x)]
        lo = med = hi = float("nan")
        if x.size:
            lo, med, hi = np.percentile(x, [PPC_PERCENTILES[0], 50.0, PPC_PERCENTILES[1]])
        rows.append(
            {
                "key": o.key,
                "incident": o.incident,
                "figure": o.figure.value,
                "hospital": o.hospital or "",
                "observed": o.value,
                "error": o.error,
                "n": int(x.size),
                "median": float(med),
                "low": float(lo),
                "high": float(hi),
                "inside": bool(x.size and lo <= o.value <= hi),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Plots (matplotlib's Agg canvas: no pyplot state, no display)


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return buf.getvalue()


def prior_density(prior: Any, x: np.ndarray) -> np.ndarray:
    """The density of one of the registry's priors at ``x`` (inside its bounds)."""
    from mcsim.uncertainty.registry import PriorKind

    if prior.kind is PriorKind.UNIFORM:
        return np.full_like(x, 1.0 / (prior.high - prior.low))
    if prior.kind is PriorKind.LOGUNIFORM:
        return 1.0 / (x * np.log(prior.high / prior.low))
    from scipy.stats import truncnorm

    a, b = (prior.low - prior.mu) / prior.sigma, (prior.high - prior.mu) / prior.sigma
    return truncnorm.pdf(x, a, b, loc=prior.mu, scale=prior.sigma)


def plot_marginals(cal: Calibration, posterior: pd.DataFrame) -> bytes:
    """PNG: each parameter's weighted posterior histogram over its prior's range."""
    from matplotlib.figure import Figure

    params = cal.parameters
    cols = min(3, len(params))
    rows = -(-len(params) // cols)
    fig = Figure(figsize=(4 * cols, 2.8 * rows))
    for i, p in enumerate(params):
        ax = fig.add_subplot(rows, cols, i + 1)
        bins = np.linspace(p.prior.low, p.prior.high, 25)
        ax.hist(posterior[p.name], bins=bins, weights=posterior["weight"], density=True,
                color="tab:blue", alpha=0.75, label="posterior")  # fmt: skip
        x = np.linspace(p.prior.low, p.prior.high, 200)
        ax.plot(x, prior_density(p.prior, x), color="grey", ls="--", lw=1, label="prior")
        ax.set_title(p.name, fontsize=9)
        ax.set_xlim(p.prior.low, p.prior.high)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    return _png(fig)


def plot_pairs(cal: Calibration, posterior: pd.DataFrame) -> bytes:
    """PNG: every pair of parameters, particles sized by weight (a single one: its values)."""
    from matplotlib.figure import Figure

    params = cal.parameters
    k = len(params)
    size = 40 * posterior["weight"].to_numpy() * len(posterior) + 2
    if k == 1:
        fig = Figure(figsize=(5, 2))
        ax = fig.add_subplot(1, 1, 1)
        p = params[0]
        ax.scatter(posterior[p.name], np.zeros(len(posterior)), s=size, alpha=0.4)
        ax.set_xlim(p.prior.low, p.prior.high)
        ax.set_yticks([])
        ax.set_xlabel(p.name)
        return _png(fig)
    fig = Figure(figsize=(2.4 * k, 2.4 * k))
    for i, pi in enumerate(params):
        for j, pj in enumerate(params):
            ax = fig.add_subplot(k, k, i * k + j + 1)
            if i == j:
                ax.hist(posterior[pi.name], bins=20, weights=posterior["weight"], color="tab:blue")
                ax.set_xlim(pi.prior.low, pi.prior.high)
            else:
                ax.scatter(posterior[pj.name], posterior[pi.name], s=size, alpha=0.35)
                ax.set_xlim(pj.prior.low, pj.prior.high)
                ax.set_ylim(pi.prior.low, pi.prior.high)
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(pj.name, fontsize=7)
            if j == 0:
                ax.set_ylabel(pi.name, fontsize=7)
    fig.tight_layout()
    return _png(fig)


def plot_ppc(ppc: pd.DataFrame) -> bytes:
    """PNG: each figure's predictive 90 % interval and median, in units of its error."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 0.28 * len(ppc) + 1.2))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(ppc))
    z = lambda c: (ppc[c] - ppc["observed"]) / ppc["error"]  # noqa: E731
    ax.hlines(y, z("low"), z("high"), color="tab:blue", lw=3, alpha=0.6, label="model 90 %")
    ax.plot(z("median"), y, "o", color="tab:blue", ms=4, label="model median")
    ax.axvline(0, color="k", lw=1, label="observed")
    ax.axvspan(-1, 1, color="grey", alpha=0.15, label="± 1 error")
    ax.set_yticks(y)
    ax.set_yticklabels(ppc["key"], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("(model − observed) ÷ measurement error")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _png(fig)


def plot_populations(pops: pd.DataFrame) -> bytes:
    """PNG: threshold, acceptance rate and ESS share per population."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 2.6))
    finite = pops[np.isfinite(pops["epsilon"])]
    for i, (col, title) in enumerate(
        (("epsilon", "threshold ε"), ("acceptance_rate", "acceptance rate"), ("ess", "ESS"))
    ):
        ax = fig.add_subplot(1, 3, i + 1)
        data = finite if col == "epsilon" else pops
        ax.plot(data["t"], data[col], "o-")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("population", fontsize=8)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    return _png(fig)


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0)


def report_html(
    cal: Calibration,
    pops: pd.DataFrame,
    summary: pd.DataFrame,
    ppc: pd.DataFrame,
    pngs: dict[str, bytes],
    seed: int,
) -> str:
    """The self-contained HTML report (PNGs embedded as base64)."""
    inside = int(ppc["inside"].sum())

    def img(name: str, caption: str) -> str:
        data = base64.b64encode(pngs[name]).decode("ascii")
        return (
            f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    incidents = ", ".join(i.label for i in cal.incidents)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>calibration {html.escape(cal.name)}</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto}"
        "td,th{padding:2px 8px;text-align:right}img{max-width:100%}</style></head><body>",
        f"<h1>Calibration: {html.escape(cal.name)}</h1>",
        f"<p>{html.escape(cal.file)}; seed {seed}; incidents: {html.escape(incidents)}; "
        f"{len(cal.observed)} observed figures; ABC-SMC (pyabc), {len(pops)} populations of "
        f"{cal.budget.population_size}, {int(pops['evaluations'].sum())} evaluations of "
        f"{cal.budget.seeds_per_evaluation} run(s) per incident.</p>",
        "<h2>Posterior</h2>",
        _table(summary),
        img("marginals.png", "posterior marginals (dashed: the prior's density)"),
        img("pairs.png", "pairwise posterior, particles sized by weight"),
        "<h2>Posterior-predictive check</h2>",
        f"<p>{inside} of {len(ppc)} observed figures lie inside the model's 90 % predictive "
        f"interval ({cal.budget.ppc_draws} posterior draws, one run each).</p>",
        img("ppc.png", "predictive intervals in units of each figure's measurement error"),
        _table(ppc.drop(columns=["key"])),
        "<h2>Populations</h2>",
        img("populations.png", "threshold, acceptance rate and effective sample size"),
        _table(pops),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def summary_table(cal: Calibration, posterior: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: its prior, the posterior median and 90 % interval, and the mean."""
    from mcsim.uncertainty.posterior import from_frame

    post = from_frame(posterior)
    q = post.quantiles((0.05, 0.5, 0.95))
    rows = []
    for p in cal.parameters:
        rows.append(
            {
                "parameter": p.name,
                "prior": p.prior.describe(),
                "median": q.loc[p.name, 0.5],
                "q05": q.loc[p.name, 0.05],
                "q95": q.loc[p.name, 0.95],
                "mean": float(np.sum(post.samples[p.name] * post.weights)),
            }
        )
    return pd.DataFrame(rows)


def write_outputs(
    out: Path,
    cal: Calibration,
    h: Any,
    posterior: pd.DataFrame,
    seed: int,
    executor: Executor | None = None,
) -> list[Path]:
    """Write every output file but the database and the manifest; returns their paths."""
    from mcsim.safeio import write_files

    pops = population_table(h)
    ppc = posterior_predictive(cal, posterior, seed, executor)
    summary = summary_table(cal, posterior)
    pngs = {
        "marginals.png": plot_marginals(cal, posterior),
        "pairs.png": plot_pairs(cal, posterior),
        "ppc.png": plot_ppc(ppc),
        "populations.png": plot_populations(pops),
    }
    contents: dict[Path, Any] = {
        out / "posterior.parquet": lambda fh: posterior.to_parquet(fh, index=False),
        out / "populations.csv": pops.to_csv(index=False),
        out / "ppc.csv": ppc.to_csv(index=False),
        out / "summary.csv": summary.to_csv(index=False),
        out / "report.html": report_html(cal, pops, summary, ppc, pngs, seed),
    }
    contents.update({out / name: data for name, data in pngs.items()})
    return write_files(contents, force=True)
