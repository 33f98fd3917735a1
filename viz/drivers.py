"""What drives this: a sensitivity result read back for the app, in a chart and in words.

``mcsim sensitivity SCENARIO --metric M --out DIR`` (:mod:`mcsim.uncertainty.sensitivity_run`)
writes ``indices.json``: which scenario and metric, the method, and per registry parameter its
Sobol indices (first-order S1, total ST, each with a bootstrap interval) or its Morris
screening figures (mu*, sigma). The app finds such folders under the results root (or the one
named by ``mcsim app --sensitivity DIR``), picks the one that matches the scenario and metric
on screen, and tells a planner which assumption matters: a bar chart with the intervals, and
sentences that use the registry's own descriptions and sources ("the median untreated time
from injury to death of a bleeding casualty explains most of the spread in deaths").

When no result matches, :func:`how_to_make` gives the exact command that makes one.
"""

from __future__ import annotations

import io
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mcsim.errors import InputError
from mcsim.uncertainty.registry import UncertainParameter, get_parameter
from mcsim.uncertainty.sensitivity import IndexRow  # the rows mcsim sensitivity writes
from viz import results_files

#: Environment variable naming the sensitivity folder given at start-up (``--sensitivity``).
SENSITIVITY_ENV = "MCSIM_SENSITIVITY_DIR"
INDICES_FILE = "indices.json"
FORMAT = "mcsim-sensitivity"
#: Bars drawn at most (the rest are named in words).
MAX_BARS = 15
#: An index below this share of the variance counts as "no measurable effect".
SMALL = 0.05


@dataclass(frozen=True)
class SensitivityView:
    """A sensitivity result as the app shows it (read from ``indices.json``)."""

    name: str
    folder: Path
    scenario: str
    metric: str
    method: str
    n: int
    runs: int
    seeds: int
    rows: list[IndexRow]
    output_mean: float | None
    output_sd: float | None
    constant_output: bool
    seed_noise_share: float | None = None
    posterior: str | None = None
    conf_level: float = 0.95
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sobol(self) -> bool:
        """Whether it holds Sobol indices (else Morris screening)."""
        return self.method == "sobol"

    def ranked(self) -> list[IndexRow]:
        """Most important first (ties by name, so the order is stable)."""
        return sorted(self.rows, key=lambda r: (-r.importance, r.name))


def _num(x: Any, file: str, where: str) -> float | None:
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise InputError("must be a number or null", file=file, path=where)
    return float(x)


def load_sensitivity(folder: Path, name: str = "") -> SensitivityView:
    """The sensitivity result in ``folder`` (its ``indices.json``).

    Raises:
        InputError: no such file, not JSON, not written by ``mcsim sensitivity``, or a field
            missing or of the wrong type (the message names it).
    """
    from mcsim.safeio import read_json

    path = folder / INDICES_FILE
    file = str(path)
    data = read_json(path, what="sensitivity result (indices.json)")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"not a sensitivity result (format is not {FORMAT!r})", file=file,
                         path="format")  # fmt: skip
    for key, kind in (("scenario", str), ("metric", str), ("method", str), ("indices", list)):
        if not isinstance(data.get(key), kind):
            raise InputError(f"missing or not a {kind.__name__}", file=file, path=key)
    if data["method"] not in ("sobol", "morris"):
        raise InputError("must be sobol or morris", file=file, path="method")
    rows = []
    for i, r in enumerate(data["indices"]):
        where = f"indices[{i}]"
        if not isinstance(r, dict) or not isinstance(r.get("name"), str):
            raise InputError("needs a parameter name", file=file, path=f"{where}.name")
        vals = {k: _num(r.get(k), file, f"{where}.{k}") for k in
                ("s1", "s1_conf", "st", "st_conf", "mu_star", "mu_star_conf", "sigma")}  # fmt: skip
        rows.append(IndexRow(r["name"], **vals))
    if not rows:
        raise InputError("holds no parameter", file=file, path="indices")
    seeds = data.get("seeds")
    return SensitivityView(
        name=name or folder.name,
        folder=folder,
        scenario=data["scenario"],
        metric=data["metric"],
        method=data["method"],
        n=int(data.get("n") or 0),
        runs=int(data.get("runs") or 0),
        seeds=len(seeds) if isinstance(seeds, list) else 1,
        rows=rows,
        output_mean=_num(data.get("output_mean"), file, "output_mean"),
        output_sd=_num(data.get("output_sd"), file, "output_sd"),
        constant_output=bool(data.get("constant_output")),
        seed_noise_share=_num(data.get("seed_noise_share"), file, "seed_noise_share"),
        posterior=data.get("posterior") if isinstance(data.get("posterior"), str) else None,
        conf_level=_num(data.get("conf_level"), file, "conf_level") or 0.95,
    )


def is_sensitivity_folder(folder: Path) -> bool:
    """Whether ``folder`` holds an ``indices.json`` (a regular file, not a link)."""
    f = folder / INDICES_FILE
    return f.is_file() and not f.is_symlink()


@dataclass(frozen=True)
class Found:
    """The sensitivity results found, and the folders that could not be read (with why)."""

    results: list[SensitivityView]
    problems: list[str]


def find_results(root: Path | None = None) -> Found:
    """Every sensitivity result under the results root, and the start-up one, read.

    A start-up folder may be one result or a folder of them. A damaged result is listed
    among the problems (one line each), not raised: the others still show.
    """
    results: list[SensitivityView] = []
    problems: list[str] = []
    places: list[tuple[str, Path]] = []
    start = results_files.startup_folder(SENSITIVITY_ENV)
    if start is not None and start.is_dir():
        if is_sensitivity_folder(start):
            places.append((f"{start.name} (mcsim app --sensitivity)", start))
        else:
            inner = results_files.find(is_sensitivity_folder, root=start)
            places += [(f"{n} (mcsim app --sensitivity)", f) for n, f in inner]
    elif start is not None:
        problems.append(f"{start}: no such folder (mcsim app --sensitivity)")
    places += results_files.find(is_sensitivity_folder, root=root)
    seen: set[Path] = set()
    for name, folder in places:
        if folder.resolve() in seen:
            continue
        seen.add(folder.resolve())
        try:
            results.append(load_sensitivity(folder, name))
        except InputError as exc:
            problems.append(str(exc))
    return Found(results, problems)


def matching(results: list[SensitivityView], scenario: str, metric: str) -> SensitivityView | None:
    """The result for ``scenario`` and ``metric``: Sobol before Morris, then the most runs."""
    hits = [r for r in results if r.scenario == scenario and r.metric == metric]
    if not hits:
        return None
    return sorted(hits, key=lambda r: (not r.sobol, -r.runs, r.name))[0]


def metric_label(metric: str) -> str:
    """The metric's label in the registry ("deaths", "critical mortality"), else its name."""
    from mcsim.metrics import get_metric

    try:
        return get_metric(metric).label
    except KeyError:
        return metric


def _param(name: str) -> UncertainParameter | None:
    try:
        return get_parameter(name.partition("@")[0])
    except InputError:
        return None


def describe(name: str) -> str:
    """A parameter in words: the registry's description (the name if it is not registered)."""
    p = _param(name)
    return p.description if p is not None else name


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f} %"


def _cap(text: str) -> str:
    """The first letter upper case, the rest as written ("Sacco's" stays)."""
    return text[:1].upper() + text[1:]


def _names(rows: list[IndexRow]) -> str:
    words = [f"the {describe(r.name)}" for r in rows]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def ranking_words(view: SensitivityView) -> list[str]:
    """The ranking as sentences a planner reads: what matters most, what next, what not."""
    label = metric_label(view.metric)
    ranked = view.ranked()
    if view.constant_output:
        return [f"{_cap(label)} did not change in any of the {view.runs} design points: "
                "none of these parameters moves it."]  # fmt: skip
    top = ranked[0]
    out = []
    if view.sobol:
        st, s1 = top.st or 0.0, top.s1 or 0.0
        share = "most of" if st >= 0.5 else "the largest share of"
        out.append(
            f"The {describe(top.name)} explains {share} the spread in {label}: {_pct(st)} of "
            f"its variance with its interactions (total index ST), {_pct(s1)} alone (S1)."
        )
        nxt = [r for r in ranked[1:4] if (r.st or 0.0) >= SMALL]
        if nxt:
            bits = [f"the {describe(r.name)} ({_pct(r.st)})" for r in nxt]
            out.append("Next: " + "; ".join(bits) + ".")
        small = [r for r in ranked if (r.st or 0.0) + (r.st_conf or 0.0) < SMALL]
    else:
        mu = top.mu_star or 0.0
        out.append(
            f"The {describe(top.name)} moves {label} the most: by {mu:.3g} on average over its "
            f"prior's range (Morris mu*)."
        )
        if top.sigma is not None and top.sigma > mu > 0:
            out.append("Its effect differs from point to point (sigma > mu*): it is non-linear "
                       "or acts together with other parameters.")  # fmt: skip
        nxt = [r for r in ranked[1:4] if (r.mu_star or 0.0) > 0]
        if nxt:
            out.append("Next: " + "; ".join(f"the {describe(r.name)} ({r.mu_star:.3g})"
                                            for r in nxt) + ".")  # fmt: skip
        small = [r for r in ranked if (r.mu_star or 0.0) == 0.0]
    if len(ranked) > 1:
        a, b = ranked[0], ranked[1]
        lo_a = a.importance - ((a.st_conf if view.sobol else a.mu_star_conf) or 0.0)
        hi_b = b.importance + ((b.st_conf if view.sobol else b.mu_star_conf) or 0.0)
        if lo_a <= hi_b and b.importance > 0:
            out.append("At this budget the first two cannot be told apart (their intervals "
                       "overlap): more runs would separate them.")  # fmt: skip
    if small:
        what = "explain less than 5 % each" if view.sobol else "show no effect in these runs"
        if len(small) <= 4:
            out.append(f"{_cap(_names(small))} {what}.")
        else:
            out.append(f"{len(small)} of the {len(ranked)} parameters {what}.")
    if view.seed_noise_share is not None and view.seed_noise_share > 0.2:
        out.append(f"Seed noise is {_pct(view.seed_noise_share)} of the design points' variance: "
                   "rerun with more --seeds for firmer indices.")  # fmt: skip
    return out


@dataclass(frozen=True)
class SourceRow:
    """A line of the sources table: rank, name, description, index text, prior, source."""

    rank: int
    name: str
    description: str
    index: str
    prior: str
    source: str


def source_rows(view: SensitivityView, limit: int = MAX_BARS) -> list[SourceRow]:
    """The top parameters with their index, prior and the registry's source."""
    out = []
    for k, r in enumerate(view.ranked()[:limit], start=1):
        p = _param(r.name)
        if view.sobol:
            idx = f"ST {_pct(r.st)} ± {_pct(r.st_conf)}, S1 {_pct(r.s1)} ± {_pct(r.s1_conf)}"
        else:
            conf = f" ± {r.mu_star_conf:.3g}" if r.mu_star_conf is not None else ""
            idx = f"mu* {(r.mu_star or 0.0):.3g}{conf}"
        out.append(SourceRow(k, r.name, describe(r.name), idx,
                             p.prior.describe() if p else "–", p.source if p else "–"))  # fmt: skip
    return out


def bars_png(view: SensitivityView, dpi: int = 90) -> bytes:
    """Horizontal bars, most important on top: S1 and ST with their intervals (Sobol) or mu*."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = list(reversed(view.ranked()[:MAX_BARS]))
    y = np.arange(len(rows))
    fig = Figure(figsize=(7.5, 1.2 + 0.34 * len(rows)), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)

    def arr(attr: str) -> np.ndarray:
        return np.array([getattr(r, attr) or 0.0 for r in rows], float)

    if view.sobol:
        h = 0.38
        ax.barh(y + h / 2, arr("st"), h, xerr=arr("st_conf"), capsize=2, color="#1f77b4",
                label="total index ST (with interactions)")  # fmt: skip
        ax.barh(y - h / 2, arr("s1"), h, xerr=arr("s1_conf"), capsize=2, color="#9ecae1",
                label="first-order index S1 (alone)")  # fmt: skip
        ax.set_xlabel(f"share of the variance of {metric_label(view.metric)} "
                      f"({int(100 * view.conf_level)} % intervals)", fontsize=8)  # fmt: skip
    else:
        ax.barh(y, arr("mu_star"), 0.6, xerr=arr("mu_star_conf"), capsize=2, color="#1f77b4",
                label="mu* (mean effect over the prior's range)")  # fmt: skip
        ax.set_xlabel(f"change of {metric_label(view.metric)} (Morris mu*, "
                      f"{int(100 * view.conf_level)} % intervals)", fontsize=8)  # fmt: skip
    ax.set_yticks(y, [r.name for r in rows], fontsize=8)
    ax.axvline(0.0, color="black", lw=0.6)
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(fontsize=8, loc="lower right", frameon=False)
    ax.set_title(f"What drives {metric_label(view.metric)} in {view.scenario} "
                 f"({view.method}, {view.runs} design points)", fontsize=9, loc="left")  # fmt: skip
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def how_to_make(scenario: str, metric: str, root: Path, scenario_file: str | None = None) -> str:
    """The ``mcsim sensitivity`` command that writes a result the panel will find.

    ``scenario_file`` is for an uploaded scenario (its file, which the server does not keep);
    a shipped one is named.
    """
    target = root / "sensitivity" / f"{scenario}-{metric}"
    parts = ["mcsim", "sensitivity", scenario_file or scenario, "--metric", metric,
             "--method", "sobol", "--workers", "2", "--out", str(target)]  # fmt: skip
    return shlex.join(parts)
