"""The ``mcsim`` command line.

Bad input (an invalid scenario, a missing file, an unknown option or policy) prints one line,
``error: FILE: PATH: MESSAGE``, on stderr and exits with code 2 — never a traceback. Any other
exception is a bug: it propagates (exit code 1, with its traceback) so that it gets reported.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.exceptions import TyperException

from mcsim import __version__
from mcsim.errors import InputError

# Only light modules above: every command imports what it needs itself, so that `--help`,
# `validate`, `schema` and `policies` answer without loading Mesa, SciPy or pandas
# (benchmarks/cli_startup.py measures it).

app = typer.Typer(
    name="mcsim",
    help="Simulate a mass-casualty incident: triage, ambulances, hospitals, outcomes.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

ScenarioArg = Annotated[
    Path | None,
    typer.Argument(
        help="Scenario YAML file, or the name of a shipped one (see mcsim scenarios; default: "
        "stadium_explosion).",
        show_default=False,
    ),
]


ForceOpt = Annotated[
    bool, typer.Option("--force", help="Overwrite existing output files (else refused).")
]
PosteriorOpt = Annotated[
    Path | None,
    typer.Option(
        help="A calibration folder (mcsim calibrate --out): each replication draws its "
        "parameter values from its posterior, the same draw for every policy.",
        metavar="DIR",
    ),
]
PluginOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--plugin",
        help="Your own policies, metrics or exercise actions: a .py file or module name "
        "imported first (repeatable; docs/howto-extend.md).",
        metavar="MODULE.py",
    ),
]


def _load_plugins(plugin: list[str] | None) -> None:
    if plugin:
        from mcsim.plugins import load_plugins

        load_plugins(plugin)


def _help_without_command(ctx: typer.Context) -> None:
    # A group called without a command shows its help (exit 0), through typer's public API.
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"mcsim {__version__}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Simulate a mass-casualty incident: triage, ambulances, hospitals, outcomes."""
    _help_without_command(ctx)


def _out() -> Console:
    # Piped or redirected, tables keep every character (a terminal's width would truncate them).
    width = None if sys.stdout.isatty() else 100_000
    return Console(highlight=False, soft_wrap=True, width=width)


@app.command()
def run(
    scenario: ScenarioArg = None,
    seed: Annotated[int, typer.Option(help="Seed of every random stream.", min=0)] = 0,
    triage: Annotated[str | None, typer.Option(help="Triage policy (see mcsim policies).")] = None,
    dispatch: Annotated[str | None, typer.Option(help="Dispatch policy.")] = None,
    destination: Annotated[str | None, typer.Option(help="Destination policy.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override a scenario field: PATH=VALUE, e.g. "
            "incidents[0].casualties=500 (repeatable).",
            metavar="PATH=VALUE",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write events.parquet, patients.parquet and metrics.json into this folder."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the metrics as one JSON object and nothing else.")
    ] = False,
    census: Annotated[
        Path | None,
        typer.Option(
            help="Start from today's state: a CSV of occupied beds and available ambulances "
            "(as_of,kind,id,resource,count; see mcsim/census.py)."
        ),
    ] = None,
    census_max_age_h: Annotated[
        float, typer.Option(help="Refuse census rows older than this many hours.")
    ] = 24.0,
    posterior: PosteriorOpt = None,
    draws: Annotated[
        int, typer.Option(help="With --posterior: parameter sets drawn (run i: seed+i).", min=1)
    ] = 20,
    force: ForceOpt = False,
    plugin: PluginOpt = None,
) -> None:
    """Run a scenario and print its results."""
    _load_plugins(plugin)
    if posterior is not None:
        if out is not None or census is not None:
            raise InputError("--posterior runs many draws: no --out or --census with it",
                             path="--posterior")  # fmt: skip
        policies = {"triage": triage, "dispatch": dispatch, "destination": destination}
        _run_posterior(scenario, posterior, draws, seed, set_ or [], as_json, policies)
        return
    from mcsim.policies import default_registry
    from mcsim.scenario import load_scenario
    from mcsim.simulate import default_scenario_path, simulate

    path = scenario if scenario is not None else default_scenario_path()
    sc = load_scenario(path, overrides=set_ or [])
    if census is not None:
        from mcsim.census import load_census

        sc = load_census(sc, census, max_age_h=census_max_age_h)
    registry = default_registry()
    for kind, name in (("triage", triage), ("dispatch", dispatch), ("destination", destination)):
        if name is not None:
            try:
                registry.get(kind, name)
            except InputError as exc:
                raise InputError(exc.message, path=f"--{kind}") from None
    if out is not None:
        _check_run_out(out, force)
    result = simulate(sc, seed, triage=triage, dispatch=dispatch, destination=destination)
    result.provenance["scenario_file"] = str(path)
    if set_:
        result.provenance["overrides"] = list(set_)
    written = result.write(out, force=force) if out is not None else []
    if as_json:
        sys.stdout.write(json.dumps(result.metrics) + "\n")
        return
    _print_summary(_out(), str(path), sc.name, result, written)


def _run_posterior(
    scenario: Path | None, posterior: Path, draws: int, seed: int, overrides: list[str],
    as_json: bool, policies: dict[str, str | None],
) -> None:  # fmt: skip
    """``run --posterior``: the headline metrics over posterior draws, median and 90 %."""
    from mcsim.compare import combinations
    from mcsim.metrics import get_metric, headline_names
    from mcsim.scenario import load_scenario
    from mcsim.simulate import default_scenario_path
    from mcsim.uncertainty.posterior import draw_parameter_sets
    from mcsim.uncertainty.posterior_runs import posterior_runs, run_summary

    path = scenario if scenario is not None else default_scenario_path()
    sc = load_scenario(path, overrides=overrides)
    combo = combinations(sc, **policies)[0]
    pairs = draw_parameter_sets(posterior, draws, seed)
    metrics = list(headline_names())
    with _progress_bar("posterior runs") as advance:
        runs = posterior_runs(path, pairs, [combo], metrics, overrides=overrides,
                              progress=advance)  # fmt: skip
    summary = run_summary(runs, metrics)
    if as_json:
        meta = {"scenario": str(path), "posterior": str(posterior), "draws": draws, "seed": seed}
        sys.stdout.write(json.dumps({**meta, **combo, "metrics": summary}) + "\n")
        return
    con = _out()
    con.print(
        f"[bold]{escape(sc.name)}[/bold]  ({escape(str(path))}; {draws} posterior draws from "
        f"{escape(str(posterior))}, seeds {seed}..{seed + draws - 1})"
    )
    t = Table(title="median [90 % interval] over draws: seed noise and parameter uncertainty",
              title_justify="left")  # fmt: skip
    for c in ("metric", "median", "90 % interval", "mean [95 % CI]"):
        t.add_column(c, justify="left" if c == "metric" else "right", no_wrap=True)
    for m in metrics:
        e, fmt = summary[m], get_metric(m)
        t.add_row(
            fmt.label,
            fmt.format(e["median"]),
            f"[{fmt.format(e['low'])}, {fmt.format(e['high'])}]",
            f"{_num(e['mean'])} [{_num(e['mean_ci_low'])}, {_num(e['mean_ci_high'])}]",
        )
    con.print(t)


def _check_run_out(out: Path, force: bool, option: str = "--out") -> None:
    """Refuse a run folder that is a file, or that holds a run's files (unless ``force``)."""
    from mcsim.records import output_paths
    from mcsim.safeio import check_output_folder, check_outputs

    check_output_folder(out, option=option)
    check_outputs(output_paths(out), force=force, option=option)


def _fmt(x: Any, digits: int = 1, pct: bool = False) -> str:
    if x is None:
        return "–"
    if pct:
        return f"{100 * x:.{digits}f} %"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def summary_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """The run summary's (label, value) rows: the headline metrics, in order.

    Minutes and plain numbers name their unit in the label (``scene cleared (min)``), so that
    the value column holds numbers only.
    """
    from mcsim.metrics import MetricKind, headline_metrics

    rows = []
    for h in headline_metrics():
        in_label = h.unit and h.kind in (MetricKind.MINUTES, MetricKind.NUMBER)
        label = f"{h.label} ({h.unit})" if in_label else h.label
        rows.append((label, h.format(metrics.get(h.name), unit=False)))
    return rows


def _print_summary(con: Console, path: str, name: str, result: Any, written: list[Path]) -> None:
    m = result.metrics
    pol = result.policies
    con.print(
        f"[bold]{name}[/bold]  ({path}, seed {result.seed}; triage {pol['triage']}, "
        f"dispatch {pol['dispatch']}, destination {pol['destination']})"
    )
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(justify="left")
    t.add_column(justify="right")
    rows = summary_rows(m)
    for k, v in rows:
        t.add_row(k, v)
    con.print(t)
    tt = Table(title="time to hospital (min from onset)", title_justify="left")
    for c in ("tag", "patients", "median", "p90"):
        tt.add_column(c, justify="right" if c != "tag" else "left")
    for tag, d in m["time_to_hospital_min"].items():
        tt.add_row(tag, str(d["n"]), _fmt(d["median"]), _fmt(d["p90"]))
    con.print(tt)
    ht = Table(title="hospitals", title_justify="left")
    for c in ("hospital", "patients", "critical", "peak critical/h", "deaths"):
        ht.add_column(c, justify="right" if c != "hospital" else "left")
    for hid, d in m["hospitals"].items():
        ht.add_row(
            hid,
            str(d["patients"]),
            str(d["critical"]),
            str(d["peak_critical_per_hour"]),
            str(d["deaths"]),
        )
    con.print(ht)
    if written:
        con.print("written: " + ", ".join(str(p) for p in written))


@app.command()
def validate(
    scenarios: Annotated[
        list[Path], typer.Argument(help="Scenario files (or shipped scenarios' names) to check.")
    ],
) -> None:
    """Check scenario files; print every problem, one line each."""
    from mcsim.library import resolve
    from mcsim.scenario import all_problems, read_scenario_data

    problems: list[InputError] = []
    for path in map(resolve, scenarios):
        try:
            data = read_scenario_data(path)
        except InputError as exc:
            problems.append(exc)
            continue
        found = all_problems(data, file=str(path))
        problems.extend(found)
        if not found:
            from mcsim.reachability import reachability_warnings
            from mcsim.scenario import parse_scenario

            for field, msg in reachability_warnings(parse_scenario(data, file=str(path))):
                typer.echo(f"warning: {path}: {field}: {msg}", err=True)
            typer.echo(f"ok: {path}")
    for p in problems:
        typer.echo(f"error: {p}", err=True)
    if problems:
        raise typer.Exit(2)


@app.command("scenarios")
def list_scenarios() -> None:
    """List the shipped scenarios; every command takes their name in place of a file."""
    from mcsim.library import shipped_scenarios

    shipped = shipped_scenarios()
    width = max(len(s.name) for s in shipped)
    for s in shipped:
        typer.echo(f"{s.name:<{width}}  {s.title}" + ("  (default)" if s.default else ""))


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files."""
    from mcsim.scenario import schema_text

    typer.echo(schema_text())


@app.command()
def policies() -> None:
    """List every registered policy with its description and parameters."""
    from mcsim.policies import default_registry

    con = _out()
    for pol in default_registry().all():
        params = ", ".join(f"{k}={v!r}" for k, v in pol.params.items())
        line = f"[bold]{pol.kind}[/bold] {escape(pol.name)}: {escape(pol.description)}"
        uses = ", ".join(sorted(pol.injected))
        con.print(
            line
            + (escape(f" [params: {params}]") if params else "")
            + (escape(f" [model supplies: {uses}]") if uses else "")
        )


@app.command()
def params(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON list of parameters and nothing else.")
    ] = False,
) -> None:
    """List the uncertain parameters: scenario path, default, prior, scope and source."""
    from mcsim.uncertainty.listing import parameter_rows, params_table

    if as_json:
        typer.echo(json.dumps(parameter_rows(), indent=1))
    else:
        typer.echo(params_table())


@app.command()
def sensitivity(
    scenario: Annotated[
        Path,
        typer.Argument(
            help="Scenario YAML file, or the name of a shipped one (see mcsim scenarios).",
            show_default=False,
        ),
    ],
    metric: Annotated[
        str, typer.Option(help="Metric to explain (nested ones dotted: a.b.c).", show_default=False)
    ],
    method: Annotated[
        str, typer.Option(help="sobol (S1, ST) or morris (mu*, sigma).", metavar="sobol|morris")
    ] = "sobol",
    param_names: Annotated[
        str | None,
        typer.Option("--params", help="Parameters, comma-separated (default: all; mcsim params)."),
    ] = None,
    n: Annotated[
        int | None,
        typer.Option(
            "--n", help="Sobol base samples (a power of 2, default 32) or Morris trajectories "
            "(default 10)."
        ),
    ] = None,
    seeds: Annotated[
        int, typer.Option(help="Seeds per design point (the same at every point).", min=1)
    ] = 2,
    workers: Annotated[int, typer.Option(help="Worker processes (1: this process).", min=1)] = 1,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write indices.json, indices.parquet, ranking.md, sensitivity.png, runs.parquet."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seeds the design and the runs.", min=0)] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the indices as one JSON object, nothing else.")
    ] = False,
    posterior: Annotated[
        Path | None,
        typer.Option(help="Calibration folder: its posterior's marginals replace the priors."),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Which uncertain parameters drive METRIC in SCENARIO (SALib, over the registry's priors)."""
    from mcsim.uncertainty.sensitivity_run import (
        check_out,
        run_sensitivity,
        summary_lines,
        write_outputs,
    )

    if out is not None:
        check_out(out, force=force)
    try:
        with _progress_bar("sensitivity") as advance:
            run = run_sensitivity(
                str(scenario),
                metric,
                method=method,
                params=param_names,
                n=n,
                seeds=seeds,
                workers=workers,
                seed=seed,
                progress=advance,
                posterior=posterior,
            )
    except KeyboardInterrupt:
        typer.echo("interrupted: nothing was written", err=True)
        raise typer.Exit(130) from None
    written = write_outputs(run, out, force=force) if out is not None else []
    if as_json:
        typer.echo(json.dumps(run.to_dict()))
        return
    for line in summary_lines(run):
        typer.echo(line)
    for path in written:
        typer.echo(f"wrote {path}")


@contextmanager
def _progress_bar(what: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback ``(done, total)``: a bar on stderr when it is a terminal, else none."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        f"[bold]{escape(what)}",
        BarColumn(),
        MofNCompleteColumn(),
        "runs, ETA",
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _num(x: Any, digits: int = 4) -> str:
    """A number for the comparison tables ("–" for an undefined one)."""
    import math

    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}g}" if isinstance(x, float) else str(x)


@app.command()
def compare(
    scenario: ScenarioArg = None,
    triage: Annotated[
        str | None, typer.Option(help="Triage policies, comma-separated (e.g. start,salt).")
    ] = None,
    dispatch: Annotated[
        str | None, typer.Option(help="Dispatch policies, comma-separated.")
    ] = None,
    destination: Annotated[
        str | None, typer.Option(help="Destination policies, comma-separated.")
    ] = None,
    replications: Annotated[
        int, typer.Option(help="Runs per combination (same seeds for every combination).", min=1)
    ] = 10,
    seed: Annotated[int, typer.Option(help="Base seed: replication r uses seed+r.", min=0)] = 0,
    metric: Annotated[
        list[str] | None,
        typer.Option(help="Metric to report (repeatable; default: the headline metrics)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override a scenario field: PATH=VALUE (repeatable).",
            metavar="PATH=VALUE",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object and nothing else.")
    ] = False,
    workers: Annotated[
        int, typer.Option(help="Worker processes (1: run in this process).", min=1)
    ] = 1,
    out: Annotated[
        Path | None,
        typer.Option(help="Write runs.parquet, summary.csv and compare.json into this folder."),
    ] = None,
    posterior: PosteriorOpt = None,
    force: ForceOpt = False,
    plugin: PluginOpt = None,
) -> None:
    """Compare policy combinations on the same casualties (common random numbers)."""
    from mcsim.compare import compare_runs, summarize, summary_records
    from mcsim.library import default_scenario_path
    from mcsim.scenario import load_scenario

    _load_plugins(plugin)
    path = scenario if scenario is not None else default_scenario_path()
    sc = load_scenario(path, overrides=set_ or [])
    from mcsim.metrics import headline_names

    metrics = list(metric) if metric else list(headline_names())
    if out is not None:
        from mcsim.compare import comparison_paths
        from mcsim.safeio import check_output_folder, check_outputs

        check_output_folder(out)
        check_outputs(comparison_paths(out), force=force)
    with _progress_bar("compare") as advance:
        if posterior is None:
            runs = compare_runs(
                sc,
                triage=triage,
                dispatch=dispatch,
                destination=destination,
                replications=replications,
                seed=seed,
                metrics=metrics,
                workers=workers,
                progress=advance,
            )
        else:
            from mcsim.compare import combinations
            from mcsim.uncertainty.posterior import draw_parameter_sets
            from mcsim.uncertainty.posterior_runs import posterior_runs

            combos = combinations(sc, triage=triage, dispatch=dispatch, destination=destination)
            pairs = draw_parameter_sets(posterior, replications, seed)
            runs = posterior_runs(path, pairs, combos, metrics, overrides=set_ or [],
                                  workers=workers, progress=advance)  # fmt: skip
    if posterior is None:
        table = summarize(runs, metrics)
    else:
        from mcsim.uncertainty.posterior_runs import compare_with_posterior

        table = compare_with_posterior(runs, metrics)
    meta = {
        "scenario": str(path),
        "replications": replications,
        "seed": seed,
        "baseline": {k: str(table.iloc[0][k]) for k in ("triage", "dispatch", "destination")},
    }
    if posterior is not None:
        meta["posterior"] = str(posterior)
    written = []
    if out is not None:
        from mcsim.compare import write_comparison

        written = write_comparison(out, runs, table, meta, force=force)
    if as_json:
        sys.stdout.write(json.dumps({**meta, "results": summary_records(table)}) + "\n")
        return
    con = _out()
    con.print(
        f"[bold]{escape(sc.name)}[/bold]  ({escape(str(path))}; {replications} replications, "
        f"seeds {seed}..{seed + replications - 1}, common random numbers"
        + (f"; parameters drawn from {escape(str(posterior))}, the same per replication)"
           if posterior is not None else ")")  # fmt: skip
    )
    combos = table.drop_duplicates("combination")
    for _, r in combos.iterrows():
        con.print(
            f"#{r['combination']}: triage {escape(str(r['triage']))}, dispatch "
            f"{escape(str(r['dispatch']))}, destination {escape(str(r['destination']))}"
        )
    for m in metrics:
        t = Table(title=f"{m}: mean and paired difference vs #0", title_justify="left")
        t.add_column("#", justify="right")
        t.add_column("n", justify="right")
        t.add_column("mean [95 % CI]", justify="right", no_wrap=True)
        t.add_column("Δ vs #0 [95 % CI]", justify="right", no_wrap=True)
        if posterior is not None:
            t.add_column("P(better than #0)", justify="right")
        for _, r in table[table["metric"] == m].iterrows():
            cells = [
                f"#{r['combination']}",
                str(r["n"]),
                f"{_num(r['mean'])} [{_num(r['ci_low'])}, {_num(r['ci_high'])}]",
                f"{_num(r['diff_mean'])} [{_num(r['diff_ci_low'])}, {_num(r['diff_ci_high'])}]",
            ]
            if posterior is not None:
                cells.append(_num(r["p_better"], 2))
            t.add_row(*cells)
        con.print(t)
    if written:
        con.print("written: " + ", ".join(str(p) for p in written))


@app.command()
def sweep(
    sweep_file: Annotated[
        Path,
        typer.Argument(
            help="Sweep YAML file, or a shipped one's name (stadium_fleet).", show_default=False
        ),
    ],
    out: Annotated[Path, typer.Option(help="Sweep folder (Parquet dataset + manifest).")],
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: every core).", min=1)
    ] = None,
    backend: Annotated[
        str, typer.Option(help="local (process pool) or dask.", metavar="local|dask")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (default: a LocalCluster).", metavar="ADDR"),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted sweep in --out.")
    ] = False,
    batch_size: Annotated[
        int | None, typer.Option(help="Runs per task (default: automatic).", min=1)
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar, no summary.")] = False,
    max_runs: Annotated[
        int | None,
        typer.Option(help="Refuse sweeps of more runs (default 1,000,000).", min=1),
    ] = None,
    dashboard: Annotated[
        bool,
        typer.Option(
            "--dashboard", help="Serve Dask's dashboard while the sweep runs (--backend dask)."
        ),
    ] = False,
    dashboard_port: Annotated[
        int, typer.Option(help="The dashboard's port on 127.0.0.1 (0: any free one).", min=0)
    ] = 8787,
    posterior: PosteriorOpt = None,
) -> None:
    """Run a sweep: cells x replications, stored as they finish (resumable)."""
    from mcsim.library import resolve
    from mcsim.sweep import run_sweep

    sweep_file = resolve(sweep_file, sub="sweeps")

    show = not quiet and sys.stdout.isatty()
    try:
        s = run_sweep(
            sweep_file,
            out,
            workers=workers,
            backend=backend,
            scheduler=scheduler,
            resume=resume,
            batch_size=batch_size,
            progress=show,
            max_runs=max_runs,
            dashboard=f"127.0.0.1:{dashboard_port}" if dashboard else None,
            on_dashboard=lambda url: typer.echo(f"dashboard: {url}"),
            posterior=posterior,
        )
    except KeyboardInterrupt:
        typer.echo(f"interrupted: finished runs are stored in {out}; add --resume to finish")
        raise typer.Exit(130) from None
    if quiet:
        return
    if s.ran == 0:
        typer.echo(f"sweep {s.sweep_id}: all {s.n_runs} runs already stored in {s.out}")
        return
    typer.echo(
        f"sweep {s.sweep_id}: {s.ran} runs in {s.seconds:.1f} s ({s.rate:.1f} runs/s, "
        f"{s.workers} workers, {s.batch_size} runs per task); "
        f"{s.stored_before + s.ran}/{s.n_runs} stored in {s.out}"
    )


@app.command()
def analyze(
    sweep_dir: Annotated[Path, typer.Argument(help="Sweep folder.", show_default=False)],
    out: Annotated[
        Path | None, typer.Option(help="Write a self-contained HTML report here.")
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option(help="Metric to rank cells by (default: the first headline metric)."),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            help="Baseline for paired differences: a cell id, or factor values "
            "PATH=VALUE[,PATH=VALUE] (default: the first cell)."
        ),
    ] = None,
    factor: Annotated[
        str | None, typer.Option(help="Factor for the metric-against-factor plot.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the ranking as one JSON object, nothing else.")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print the ranking as CSV, nothing else.")
    ] = False,
    force: ForceOpt = False,
) -> None:
    """Summarise a sweep: per-cell means with 95 % CIs, paired differences, a ranking."""
    from mcsim.analysis import analyze_sweep, write_report
    from mcsim.safeio import check_outputs

    if as_json and as_csv:
        raise InputError("choose one of --json and --csv", path="--csv")
    if out is not None:
        check_outputs([out], force=force)
    a = analyze_sweep(sweep_dir, metric=metric, baseline=baseline)
    metric = a.metric
    if as_json or as_csv:
        from mcsim.analysis import analysis_json, ranking_with_differences

        if out is not None:
            write_report(a, out, factor=factor)
        if as_json:
            sys.stdout.write(json.dumps(analysis_json(a)) + "\n")
        else:
            ranking_with_differences(a).to_csv(sys.stdout, index=False)
        return
    con = _out()
    con.print(
        f"[bold]{escape(a.manifest['name'])}[/bold]  (sweep {a.manifest['sweep_id']}: "
        f"{len(a.runs)}/{a.manifest['n_runs']} runs stored, {a.manifest['n_cells']} cells)"
    )
    t = Table(title=f"ranking by {metric} (mean, 95 % CI)", title_justify="left")
    for c in ("rank", "cell", "configuration", "n", "mean", "95 % CI", f"Δ vs cell {a.baseline}"):
        t.add_column(c, justify="left" if c == "configuration" else "right")
    diffs = a.differences[a.differences["metric"] == metric].set_index("cell_id")
    for _, r in a.ranking.iterrows():
        d = diffs.loc[r["cell_id"]] if r["cell_id"] in diffs.index else None
        dtext = "–"
        if d is not None and d["n"] > 0:
            dtext = f"{d['mean']:+.3g} [{d['ci_low']:+.3g}, {d['ci_high']:+.3g}]"
        t.add_row(
            str(r["rank"]),
            str(r["cell_id"]),
            escape(str(r["label"])),
            str(r["n"]),
            f"{r['mean']:.4g}",
            f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]",
            dtext,
        )
    con.print(t)
    if out is not None:
        write_report(a, out, factor=factor, force=force)
        con.print(f"written: {out}")


@app.command()
def validation(
    scenarios: Annotated[
        list[str] | None,
        typer.Argument(help="Scenario stems (default: every scenarios/records/*.yaml)."),
    ] = None,
    seeds: Annotated[
        int, typer.Option(help="Replications per scenario (seeds 0..N-1).", min=1)
    ] = 10,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: every core).", min=1)
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the report: FILE.md (between the markers if any) or FILE.json."),
    ] = None,
) -> None:
    """Historical scenarios replayed and set beside the published record (a report: exit 0)."""
    from mcsim.validation import load_records, rich_report, run_validation, write_report
    from mcsim.validation.render import check_out_path

    if out is not None:
        check_out_path(out)
    report = run_validation(load_records(scenarios), seeds=seeds, workers=workers)
    con = _out()
    if not con.is_terminal:
        con.width = 120  # the tables' natural width; a pipe has no width of its own
    for part in rich_report(report):
        con.print(part)
    if out is not None:
        con.print(f"written: {write_report(report, out)}")


@app.command()
def calibrate(
    calibration: Annotated[
        Path,
        typer.Argument(
            help="Calibration YAML file, or a shipped one's name (historical, tiny).",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option(help="Output folder (pyabc database, posterior, report).")],
    workers: Annotated[
        int, typer.Option(help="Worker processes (1: in this process); the result is the same.",
                          min=1)
    ] = 1,
    backend: Annotated[
        str, typer.Option(help="local (process pool) or dask.", metavar="local|dask")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (default: a LocalCluster).", metavar="ADDR"),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the calibration in --out.")
    ] = False,
    seed: Annotated[
        int | None, typer.Option(help="Seed (default: the file's).", min=0)
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Fit uncertain parameters to historical incidents (ABC-SMC); resumable, seeded."""
    from mcsim.uncertainty.calibrate import calibrate as run_calibration
    from mcsim.uncertainty.calibration_file import load_calibration

    cal = load_calibration(calibration)
    try:
        with _progress_bar("calibrate") as advance:
            r = run_calibration(
                cal, out, workers=workers, backend=backend, scheduler=scheduler,
                resume=resume, force=force, seed=seed, progress=advance,
            )  # fmt: skip
    except KeyboardInterrupt:
        typer.echo(f"interrupted: finished populations are stored in {out}; add --resume")
        raise typer.Exit(130) from None
    typer.echo(
        f"{cal.name}: {r.populations} populations, {r.evaluations} evaluations "
        f"({r.ran_populations} populations in {r.seconds:.1f} s), stopped: {r.stopped.value}; "
        f"posterior and report in {r.out}"
    )


exercise_app = typer.Typer(
    help="Tabletop exercises: play a scripted exercise and write its log (see also replay).",
    rich_markup_mode=None,
)
exercise_app.callback(invoke_without_command=True)(_help_without_command)
app.add_typer(exercise_app, name="exercise")


@exercise_app.command("run")
def exercise_run(
    exercise: Annotated[
        Path,
        typer.Argument(
            help="Exercise script (YAML/JSON) or log (JSON), or a shipped script's name.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Exercise log to write (default: NAME.log.json here).")
    ] = None,
    events: Annotated[
        Path | None, typer.Option(help="Also write the run's events/patients/metrics here.")
    ] = None,
    force: ForceOpt = False,
    plugin: PluginOpt = None,
) -> None:
    """Play a scripted exercise (injects and decisions at their minutes) and write its log."""
    from mcsim.exercise.log import is_log, load_log, load_script, read_data
    from mcsim.exercise.runner import run_exercise
    from mcsim.library import resolve
    from mcsim.safeio import check_outputs

    _load_plugins(plugin)
    exercise = resolve(exercise, sub="exercises")
    data = read_data(exercise)
    script = load_log(exercise) if is_log(data) else load_script(exercise)
    name = exercise.name.split(".")[0]
    out = out if out is not None else Path(f"{name}.log.json")
    check_outputs([out], force=force)
    if events is not None:
        _check_run_out(events, force, "--events")
    try:
        log, result = run_exercise(script, base=exercise.resolve().parent)
    except InputError as exc:
        raise (exc if exc.file else exc.with_file(str(exercise))) from None
    log.write(out, force=force)
    m = result.metrics
    typer.echo(
        f"{log.title or name}: {len(log.actions)} actions, {m['deaths']} deaths, critical "
        f"mortality {_fmt(m['critical_mortality'], pct=True)}; log written: {out} "
        f"(digest {log.result_digest[:12]})"
    )
    if events is not None:
        result.write(events, force=force, option="--events")
        typer.echo(f"events written: {events}")


@app.command("replay")
def replay_log(
    log: Annotated[Path, typer.Argument(help="Exercise log (JSON).", show_default=False)],
    out: Annotated[
        Path | None, typer.Option(help="Write the replay's events/patients/metrics here.")
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(help="The original run's folder (exercise run --events): exact first row."),
    ] = None,
    force: ForceOpt = False,
    plugin: PluginOpt = None,
) -> None:
    """Replay an exercise log; check it is unchanged and replays identically (exit 2 if not)."""
    from mcsim.exercise.log import first_differing_row, load_log, verification
    from mcsim.exercise.runner import ReplayMismatch, replay

    _load_plugins(plugin)
    original = None
    if against is not None:
        from mcsim.safeio import read_events
        from mcsim.tables import EVENTS, from_written

        original = from_written(read_events(against / "events.parquet", option="--against"), EVENTS)

    ex = load_log(log)
    if out is not None:
        _check_run_out(out, force)
    try:
        result = replay(ex)
    except InputError as exc:
        raise (exc if exc.file else exc.with_file(str(log))) from None
    except ReplayMismatch as exc:
        if out is not None:
            exc.result.write(out, force=force)
        detail = exc.detail
        if original is not None:
            detail = first_differing_row(original, exc.result.events)[1]
        raise _replay_differs(log, detail) from None
    if out is not None:
        result.write(out, force=force)
    unverified = verification(ex)
    if ex.result_digest is None:
        typer.echo(f"replay done: {len(result.events)} events; {unverified}")
    else:
        typer.echo(f"replay identical: {len(result.events)} events, digest {ex.result_digest[:12]}")
    if unverified is not None:
        print(f"warning: {log}: {unverified}", file=sys.stderr)


def _replay_differs(log: Path, detail: str) -> InputError:
    """A replay that differs from its log: bad input (a tampered log or another model), exit 2."""
    return InputError(f"replay differs from the log: {detail}", file=str(log), path="result_digest")


@app.command("report")
def report(
    log: Annotated[Path, typer.Argument(help="Exercise log (JSON).", show_default=False)],
    out: Annotated[Path, typer.Option(help="The HTML report to write.")] = Path("report.html"),
    png: Annotated[
        Path | None, typer.Option(help="Also write the main figure as a PNG here.")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """After-action report of an exercise: time line, outcomes against baselines, hospitals."""
    from mcsim.exercise.log import load_log
    from mcsim.exercise.runner import ReplayMismatch
    from mcsim.report import write_exercise_report

    ex = load_log(log)
    try:
        written = write_exercise_report(ex, out, png=png, force=force)
    except InputError as exc:
        raise (exc if exc.file else exc.with_file(str(log))) from None
    except ReplayMismatch as exc:
        raise _replay_differs(log, exc.detail) from None
    for path in written:
        typer.echo(f"written: {path}")


@app.command("export")
def export(
    run_dir: Annotated[
        Path, typer.Argument(help="A run folder (mcsim run --out DIR).", show_default=False)
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="gpkg, geojson (need mcsim[gis]) or csv.")
    ] = "gpkg",
    out: Annotated[
        Path | None,
        typer.Option(
            help="The GeoPackage, or the folder of GeoJSON/CSV files (default: in "
            "RUN_DIR: run.gpkg, geojson/, csv/)."
        ),
    ] = None,
    step_min: Annotated[
        float, typer.Option(help="Minutes between the hospital_load layer's rows.")
    ] = 15.0,
    force: ForceOpt = False,
) -> None:
    """Write a run as map layers for QGIS: hospitals and their load, scenes, stations, trips."""
    from mcsim.gis.export import export_run

    written = export_run(run_dir, fmt=fmt, out=out, step_min=step_min, force=force)
    for path in written:
        typer.echo(f"written: {path}")


region_app = typer.Typer(
    help="Bring your own region: import roads, hospitals and stations into a scenario.",
    rich_markup_mode=None,
)
region_app.callback(invoke_without_command=True)(_help_without_command)
app.add_typer(region_app, name="region")


@region_app.command("import")
def region_import(
    out: Annotated[Path, typer.Option(help="The scenario YAML file to write.")],
    graphml: Annotated[
        Path | None,
        typer.Option(help="Road network in osmnx GraphML (x/y lon/lat, length m)."),
    ] = None,
    hospitals: Annotated[
        Path | None, typer.Option(help="Hospitals: CSV (name,lon,lat,...) or GeoJSON points.")
    ] = None,
    stations: Annotated[
        Path | None, typer.Option(help="Ambulance stations: CSV (id,lon,lat,als,bls) or GeoJSON.")
    ] = None,
    incident: Annotated[
        str | None, typer.Option(help="The incident's place: NAME@LON,LAT.", metavar="NAME@LON,LAT")
    ] = None,
    detour_factor: Annotated[
        float, typer.Option(help="Road ÷ straight-line distance [assumption].")
    ] = 1.3,
    speed_kmh: Annotated[
        float, typer.Option(help="Speed on straight-line roads when there is no graph.")
    ] = 40.0,
    name: Annotated[str | None, typer.Option(help="The scenario's name.")] = None,
    osm: Annotated[
        Path | None,
        typer.Option(help="Roads from an OSM XML file (.osm, .osm.bz2), through osmnx [osm]."),
    ] = None,
    place: Annotated[
        str | None,
        typer.Option(help="Download the drive network of a place (osmnx [osm], internet)."),
    ] = None,
    bbox: Annotated[
        str | None,
        typer.Option(
            help="Download the drive network in a box (osmnx [osm], internet).",
            metavar="W,S,E,N",
        ),
    ] = None,
    region_format: Annotated[
        str,
        typer.Option(
            help="Write the region beside the scenario as parquet, graphml or gpkg, or inline.",
            metavar="parquet|graphml|gpkg|inline",
        ),
    ] = "parquet",
    force: ForceOpt = False,
) -> None:
    """Write a scenario skeleton from a road graph and hospital/station files; it validates."""
    from mcsim.region_import import ImportParams, import_region

    params = ImportParams(detour_factor=detour_factor, speed_kmh=speed_kmh)
    result = import_region(
        out=out,
        graphml=graphml,
        hospitals=hospitals,
        stations=stations,
        incident=incident,
        params=params,
        name=name,
        force=force,
        osm=osm,
        place=place,
        bbox=bbox,
        region_format=region_format,
    )
    sc = result.scenario
    typer.echo(
        f"wrote {out}: {len(sc['region']['nodes'])} nodes, {len(sc['region']['roads'])} roads, "
        f"{len(sc['hospitals'])} hospitals, {len(sc['stations'])} stations"
    )
    for note in result.notes:
        typer.echo(f"note: {note}")


def app_server_argv(host: str, port: int) -> list[str]:
    """Check that ``host:port`` can be listened on; the ``solara run`` command serving viz/.

    Raises:
        InputError: the port is out of range, taken, or the host cannot be bound.
    """
    import socket

    if not 1 <= port <= 65535:
        raise InputError(f"port {port} is not in 1..65535", path="--port")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise InputError(f"cannot resolve host {host!r}: {exc.strerror}", path="--host") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(addr)
        except OSError as exc:
            msg = f"cannot listen on {host}:{port}: {exc.strerror}"
            raise InputError(msg, path="--port") from None
    return [
        sys.executable, "-m", "solara", "run", "viz.app", "--host", host, "--port", str(port),
        "--production", "--no-open",
    ]  # fmt: skip


def app_results_root(results: Path | None) -> Path:
    """The app's results root, resolved: ``--results DIR`` (must be a folder) or ./results.

    The default may not exist yet (the Sweeps tab then says so); a folder given on purpose
    must.

    Raises:
        InputError: ``--results`` names something that is not a folder.
    """
    if results is None:
        return (Path.cwd() / "results").resolve()
    p = results.expanduser().resolve()
    if not p.is_dir():
        what = "no such folder" if not p.exists() else "not a folder"
        raise InputError(what, file=str(results), path="--results")
    return p


def app_startup_folder(folder: Path, option: str) -> Path:
    """``mcsim app --posterior/--sensitivity DIR``: a folder, and for --posterior a posterior.

    Refused here, in one line, rather than later in the browser.

    Raises:
        InputError: not a folder, or (``--posterior``) no readable posterior in it.
    """
    p = folder.expanduser().resolve()
    if not p.is_dir():
        what = "no such folder" if not p.exists() else "not a folder"
        raise InputError(what, file=str(folder), path=option)
    if option == "--posterior":
        from mcsim.uncertainty.posterior import load_posterior

        try:
            load_posterior(p)
        except InputError as exc:
            raise InputError(exc.message, file=exc.file, path=exc.path or option) from None
    return p


def _ensure_solara_assets() -> None:
    """Make Solara's front-end assets local once per installed Solara (viz/assets.py).

    ``make venv`` does it for a checkout; a pip user has only this command, so the first
    ``mcsim app`` does it (later ones find the step's stamp and return at once). Run as its own
    process: the mcsim package never imports viz.
    """
    import subprocess

    done = subprocess.run([sys.executable, "-m", "viz.assets", "--if-needed"], check=False)
    if done.returncode != 0:
        print(
            "warning: Solara's front-end assets are incomplete (see above): the app needs "
            "internet access to render until `python -m viz.assets` succeeds "
            "(docs/offline-assets.md)",
            file=sys.stderr,
        )


@app.command("app")
def serve_app(
    host: Annotated[
        str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    results: Annotated[
        Path | None,
        typer.Option(help="Results root: the only folder the Sweeps tab reads [./results]."),
    ] = None,
    plugin: PluginOpt = None,
    posterior: Annotated[
        Path | None,
        typer.Option(help="Calibration folder (mcsim calibrate --out): chosen at start, so "
                     "replications draw seeds and parameter sets from its posterior."),
    ] = None,
    sensitivity: Annotated[
        Path | None,
        typer.Option(help="Sensitivity result folder (mcsim sensitivity --out), or a folder of "
                     "them, for the What-drives-this panel (besides those under --results)."),
    ] = None,
) -> None:
    """Serve the Solara app (explore a run on the map, compare policies, plot sweeps)."""
    import os

    root = app_results_root(results)
    startup = (("--posterior", posterior, "MCSIM_POSTERIOR_DIR"),
               ("--sensitivity", sensitivity, "MCSIM_SENSITIVITY_DIR"))  # fmt: skip
    for option, folder, env in startup:
        if folder is not None:
            os.environ[env] = str(app_startup_folder(folder, option))
    _load_plugins(plugin)  # checked here; the server loads them again (mcsim.plugins)
    argv = app_server_argv(host, port)
    os.environ["MCSIM_RESULTS_DIR"] = str(root)  # the Sweeps tab reads nothing outside it
    # Offline and private: production mode (no solara.dev iframe), no telemetry
    # (docs/offline-assets.md); the server process inherits them before importing solara.
    os.environ.setdefault("SOLARA_MODE", "production")
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    # no "This website runs on Solara" banner over the bottom right of the page (issue 13)
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "false")
    from importlib.util import find_spec

    # Only looked up, not imported: the mcsim package never imports viz (DESIGN.md).
    for module in ("solara", "viz"):
        if find_spec(module) is None:
            raise InputError(f"the app needs {module} (pip install 'mcsim[app]')")
    _ensure_solara_assets()
    sys.stdout.write(f"mcsim app: http://{host}:{port}/\n")
    sys.stdout.flush()
    os.execv(argv[0], argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mcsim`` console script; returns the exit code."""
    try:
        result = app(args=argv, standalone_mode=False, prog_name="mcsim")
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        return 1
    except TyperException as exc:
        # Usage errors (unknown option or command, bad option value): typer's own click.
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        print("error: " + " ".join(message.split()), file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
