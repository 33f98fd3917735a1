"""``mcsim sensitivity``: which uncertain parameters drive one metric of one scenario.

Puts the pieces together: the scenario and the chosen registry parameters are checked (a bad
name, method or budget is one :class:`InputError` naming the option), one pilot run at the
scenario's own values checks that the metric exists and is defined, the design of
:mod:`mcsim.uncertainty.sensitivity` is run by :class:`~mcsim.uncertainty.simulator.SimulationModel`
with the same seeds at every point, and the indices are returned with what is needed to write
them (:func:`write_outputs`) and to print them (:func:`summary_lines`).
"""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mcsim.errors import InputError
from mcsim.uncertainty.registry import UncertainParameter, apply_values, get_parameter, registry
from mcsim.uncertainty.sensitivity import (
    Design,
    Input,
    Method,
    SensitivityResult,
    analyse_outputs,
    check_budget,
    make_design,
    parse_method,
    runs_needed,
)
from mcsim.uncertainty.simulator import SimulationModel, metric_value

#: Refuse designs of more runs than this (a typo in --n should not start a week of work).
MAX_RUNS = 1_000_000


@dataclass
class SensitivityRun:
    """A finished sensitivity analysis and its context."""

    scenario: str
    file: str
    metric: str
    params: list[UncertainParameter]
    #: what the design was drawn from, per parameter: its prior or its posterior marginal
    inputs: list[Input]
    seeds: list[int]
    result: SensitivityResult
    design: Design
    outputs: np.ndarray
    model: SimulationModel
    pilot_value: float
    seconds: float
    #: wall seconds by phase: setup (load, checks, pilot run), design, runs, analysis
    timing: dict[str, float]
    #: the posterior the design was drawn from, if any
    posterior: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Everything ``indices.json`` holds: indices, ranking, design and where it came from."""
        import mcsim

        noise = self.model.noise_share()
        return {
            "format": "mcsim-sensitivity",
            "format_version": 1,
            "mcsim_version": mcsim.__version__,
            "scenario": self.scenario,
            "scenario_file": self.file,
            "metric": self.metric,
            "metric_at_scenario_values": self.pilot_value,
            "seeds": self.seeds,
            "seed_noise_share": noise,
            "parameters": [
                {
                    "name": p.name,
                    "path": p.path,
                    "prior": p.prior.describe(),
                    "scope": p.scope,
                    "sampled_from": i.prior.describe(),
                }
                for p, i in zip(self.params, self.inputs, strict=True)
            ],
            "posterior": self.posterior,
            **self.result.to_dict(),
        }


def select_parameters(names: str | Sequence[str] | None) -> list[UncertainParameter]:
    """The registry parameters named (comma-separated or a list); None or empty: all of them."""
    if names is None:
        return list(registry())
    items = names.split(",") if isinstance(names, str) else list(names)
    items = [s.strip() for s in items if s.strip()]
    if not items:
        return list(registry())
    out: list[UncertainParameter] = []
    for name in items:
        try:
            p = get_parameter(name)
        except InputError as exc:
            raise InputError(exc.message, path="--params") from None
        if p in out:
            raise InputError(f"{name!r} is named twice", path="--params")
        out.append(p)
    return out


def _load(scenario: str | Path) -> tuple[dict[str, Any], str, str]:
    from mcsim.library import resolve
    from mcsim.scenario import parse_scenario, read_yaml

    path = resolve(scenario)
    data = read_yaml(path)
    parse_scenario(data, file=str(path))
    return data, path.stem, str(path)


def _check_corners(data: dict[str, Any], params: list[UncertainParameter], file: str) -> None:
    """Every parameter at its prior's lower end, then at its upper end, is a valid scenario."""
    from mcsim.scenario import parse_scenario

    for q, end in ((0.0, "lower"), (1.0, "upper")):
        try:
            parse_scenario(apply_values(data, {p.name: p.prior.ppf(q) for p in params}))
        except InputError as exc:
            where = f" at {exc.path}" if exc.path else ""
            raise InputError(
                f"with the parameters at their priors' {end} ends the scenario is invalid"
                f"{where}: {exc.message}",
                file=file,
                path="--params",
            ) from None


def _pilot(data: dict[str, Any], metric: str, seed: int) -> float:
    """One run at the scenario's own values: the metric exists, is a number, is defined."""
    from mcsim.scenario import Scenario
    from mcsim.simulate import simulate
    from mcsim.sweep.execute import flatten_metrics

    row = flatten_metrics(simulate(Scenario.model_validate(data), seed).metrics)
    v = metric_value(row, metric)
    if v is None:
        raise InputError(
            f"metric {metric!r} is undefined for this scenario (e.g. a mortality with no "
            "casualty of that kind): choose a metric every run defines",
            path="--metric",
        )
    return v


def run_sensitivity(
    scenario: str | Path,
    metric: str,
    *,
    method: str | Method = Method.SOBOL,
    params: str | Sequence[str] | None = None,
    n: int | None = None,
    seeds: int = 2,
    workers: int = 1,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    max_runs: int = MAX_RUNS,
    posterior: str | Path | None = None,
) -> SensitivityRun:
    """Sensitivity of ``metric`` in ``scenario`` to registry parameters over their priors.

    Args:
        scenario: a scenario file or a shipped scenario's name.
        metric: a metric name (nested ones dotted, ``time_to_hospital_min.immediate.median``).
        method: ``sobol`` (first-order and total indices) or ``morris`` (mu*, sigma).
        params: parameter names (comma-separated or a list); default every registry parameter.
        n: Sobol base samples (a power of 2; default 32) or Morris trajectories (default 10).
        seeds: seeds per design point; the same ``seed .. seed + seeds - 1`` at every point.
        workers: worker processes (1: in this process).
        seed: seeds the design, the bootstrap and (as the first) the simulations.
        progress: called with (runs done, runs in all).
        max_runs: refuse larger designs.
        posterior: a calibration folder (or its ``posterior.parquet``): parameters found there
            are sampled from their posterior marginals instead of their priors
            (:mod:`mcsim.uncertainty.posterior_marginals`).

    Raises:
        InputError: an unknown parameter, metric or method, a bad budget or scenario.
    """
    t0 = time.perf_counter()
    m = method if isinstance(method, Method) else parse_method(method)
    if seeds < 1:
        raise InputError("must be at least 1", path="--seeds")
    if workers < 1:
        raise InputError("must be at least 1", path="--workers")
    if seed < 0:
        raise InputError("must be at least 0", path="--seed")
    chosen = select_parameters(params)
    n = n if n is not None else (32 if m is Method.SOBOL else 10)
    check_budget(m, n, len(chosen))
    total = runs_needed(m, n, len(chosen)) * seeds
    if total > max_runs:
        raise InputError(
            f"the design needs {total:,} runs, more than {max_runs:,}: lower --n or --seeds, "
            "or name fewer --params",
            path="--n",
        )
    data, label, file = _load(scenario)
    _check_corners(data, chosen, file)
    inputs = [Input(p.name, p.prior) for p in chosen]
    if posterior is not None:
        from mcsim.uncertainty.posterior_marginals import load_marginals

        marginals = load_marginals(posterior, label)
        inputs = [Input(p.name, marginals.get(p.name, p.prior)) for p in chosen]
    seed_list = [seed + r for r in range(seeds)]
    pilot = _pilot(data, metric, seed_list[0])
    t1 = time.perf_counter()
    design = make_design(inputs, m, n, seed)
    t2 = time.perf_counter()
    model = SimulationModel(data, label, chosen, metric, seed_list, workers, progress)
    y = model(design.values)
    t3 = time.perf_counter()
    result = analyse_outputs(design, y, seed)
    t4 = time.perf_counter()
    timing = {"setup": t1 - t0, "design": t2 - t1, "runs": t3 - t2, "analysis": t4 - t3}
    return SensitivityRun(
        label,
        file,
        metric,
        chosen,
        inputs,
        seed_list,
        result,
        design,
        y,
        model,
        pilot,
        time.perf_counter() - t0,
        timing,
        None if posterior is None else str(posterior),
    )


# --------------------------------------------------------------------------------------------
# Output


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.{digits}g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.1e}"


def ranking_markdown(run: SensitivityRun) -> str:
    """The ranking as a Markdown table (the file ``ranking.md``, and the CLI's table)."""
    r = run.result
    if r.method is Method.SOBOL:
        head = "| rank | parameter | total ST (± CI) | first-order S1 (± CI) | sampled from |"
    else:
        head = "| rank | parameter | mu* (± CI) | sigma | sampled from |"
    lines = [
        f"Sensitivity of `{run.metric}` in {run.scenario} ({r.method.value}, n = {r.n}, "
        f"{len(run.seeds)} seeds per point, {r.runs * len(run.seeds)} runs; "
        f"{int(100 * 0.95)} % intervals)",
        "",
        head,
        "|---|---|---|---|---|",
    ]
    priors = {i.name: i.prior.describe() for i in run.inputs}
    for k, row in enumerate(r.ranked(), start=1):
        if r.method is Method.SOBOL:
            a = f"{_fmt(row.st)} ± {_fmt(row.st_conf, 2)}"
            b = f"{_fmt(row.s1)} ± {_fmt(row.s1_conf, 2)}"
        else:
            a = f"{_fmt(row.mu_star)} ± {_fmt(row.mu_star_conf, 2)}"
            b = _fmt(row.sigma)
        lines.append(f"| {k} | `{row.name}` | {a} | {b} | {priors[row.name]} |")
    return "\n".join(lines) + "\n"


def bar_chart_png(run: SensitivityRun) -> bytes:
    """A horizontal bar chart of the indices, most important on top, with their intervals."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    r = run.result
    rows = list(reversed(r.ranked()))
    names = [x.name for x in rows]
    ypos = np.arange(len(rows))
    fig = Figure(figsize=(7.0, 1.0 + 0.35 * len(rows)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)

    def arr(attr: str) -> np.ndarray:
        return np.array([getattr(x, attr) or 0.0 for x in rows], dtype=float)

    if r.method is Method.SOBOL:
        h = 0.38
        ax.barh(ypos + h / 2, arr("st"), h, xerr=arr("st_conf"), label="total (ST)", capsize=2)
        ax.barh(
            ypos - h / 2, arr("s1"), h, xerr=arr("s1_conf"), label="first order (S1)", capsize=2
        )
        ax.set_xlabel("Sobol index (share of the metric's variance)")
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.barh(ypos, arr("mu_star"), 0.6, xerr=arr("mu_star_conf"), label="mu*", capsize=2)
        ax.set_xlabel(f"Morris mu* (change of {run.metric} over the prior's range)")
    ax.set_yticks(ypos, names, fontsize=8)
    ax.set_title(f"{run.metric} in {run.scenario}: {r.method.value}", fontsize=10)
    ax.axvline(0.0, color="black", linewidth=0.6)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


#: The files ``--out`` gets.
OUTPUT_FILES = ("indices.json", "indices.parquet", "ranking.md", "sensitivity.png", "runs.parquet")


def check_out(out: str | Path, *, force: bool = False) -> None:
    """Refuse an ``--out`` that cannot take the outputs before any run is spent on them."""
    from mcsim.safeio import check_output_folder, check_outputs

    folder = check_output_folder(out, option="--out")
    check_outputs([folder / f for f in OUTPUT_FILES], force=force, option="--out")


def write_outputs(run: SensitivityRun, out: str | Path, *, force: bool = False) -> list[Path]:
    """Write the indices, the ranking, the bar chart and every run into the folder ``out``.

    Files: ``indices.json``, ``indices.parquet``, ``ranking.md``, ``sensitivity.png`` and
    ``runs.parquet`` (every run: design point, seed, parameter values, metric). All or nothing
    (:func:`mcsim.safeio.write_files`); existing files are refused unless ``force``.
    """
    from mcsim.safeio import check_output_folder, write_files

    folder = check_output_folder(out, option="--out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from mcsim.safeio import os_reason

        msg = f"cannot write: {os_reason(exc)}"
        raise InputError(msg, file=str(folder), path="--out") from None
    table = run.result.table()
    runs = run.model.runs_table
    names = dict(zip(("json", "table", "md", "png", "runs"), OUTPUT_FILES, strict=True))
    contents: dict[Path, Any] = {
        folder / names["json"]: json.dumps(run.to_dict(), indent=1) + "\n",
        folder / names["table"]: lambda fh: table.to_parquet(fh, index=False),
        folder / names["md"]: ranking_markdown(run),
        folder / names["png"]: bar_chart_png(run),
    }
    if runs is not None:
        contents[folder / names["runs"]] = lambda fh: runs.to_parquet(fh, index=False)
    return write_files(contents, force=force)


def summary_lines(run: SensitivityRun) -> list[str]:
    """What the CLI prints: what ran, the metric's spread, the ranking table."""
    r = run.result
    st = run.model.stats
    noise = run.model.noise_share()
    lines = [
        f"sensitivity of {run.metric} in {run.scenario}: {r.method.value}, "
        f"{len(run.params)} parameter{'s' if len(run.params) > 1 else ''}, {r.runs} design "
        f"points x {len(run.seeds)} seed{'s' if len(run.seeds) > 1 else ''} = "
        f"{st.runs} runs in {run.seconds:.1f} s ({st.workers} worker"
        f"{'s' if st.workers > 1 else ''})",
        f"{run.metric}: {_fmt(run.pilot_value, 4)} at the scenario's values; "
        f"{_fmt(r.output_mean, 4)} ± {_fmt(r.output_sd, 3)} (mean ± sd) over the priors",
    ]
    if noise is not None:
        lines.append(
            f"seed noise left in the design points' means: {100 * noise:.0f} % of their "
            "variance" + (" (high: raise --seeds)" if noise > 0.2 else "")
        )
    if r.constant_output:
        lines.append("the metric does not change over the design: every index is 0")
    lines.append("")
    lines += ranking_markdown(run).splitlines()[2:]
    return lines
