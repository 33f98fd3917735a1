"""The ``mcsim`` command line.

Bad input (an invalid scenario, a missing file, an unknown option or policy) prints one line,
``error: FILE: PATH: MESSAGE``, on stderr and exits with code 2 — never a traceback. Any other
exception is a bug: it propagates (exit code 1, with its traceback) so that it gets reported.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from typer._click.exceptions import NoArgsIsHelpError
from typer.exceptions import TyperException

from mcsim.errors import InputError

app = typer.Typer(
    name="mcsim",
    help="Simulate a mass-casualty incident: triage, ambulances, hospitals, outcomes.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

ScenarioArg = Annotated[
    Path | None,
    typer.Argument(
        help="Scenario YAML file (default: the shipped stadium explosion).", show_default=False
    ),
]


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


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
) -> None:
    """Run a scenario and print its results."""
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
    if out is not None and out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder", file=str(out), path="--out")
    result = simulate(sc, seed, triage=triage, dispatch=dispatch, destination=destination)
    written = result.write(out) if out is not None else []
    if as_json:
        sys.stdout.write(json.dumps(result.metrics) + "\n")
        return
    _print_summary(_out(), str(path), sc.name, result, written)


def _fmt(x: Any, digits: int = 1, pct: bool = False) -> str:
    if x is None:
        return "–"
    if pct:
        return f"{100 * x:.{digits}f} %"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


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
    rows = [
        ("casualties", _fmt(m["casualties"])),
        ("killed outright", _fmt(m["immediate_deaths"])),
        ("deaths before hospital", _fmt(m["deaths_prehospital"])),
        ("deaths in hospital", _fmt(m["deaths_in_hospital"])),
        ("critical casualties", _fmt(m["critical"])),
        ("critical mortality", _fmt(m["critical_mortality"], pct=True)),
        ("expected survivors", _fmt(m["expected_survivors"])),
        ("over-triage", _fmt(m["overtriage_rate"], pct=True)),
        ("under-triage", _fmt(m["undertriage_rate"], pct=True)),
        ("first hospital arrival (min)", _fmt(m["first_hospital_arrival_min"])),
        ("scene cleared (min)", _fmt(m["scene_clear_min"])),
        (
            "critical in definitive care ≤ 60 min",
            _fmt(m["critical_definitive_care_60min_share"], pct=True),
        ),
        ("self-transported", _fmt(m["self_transported"])),
        ("ambulance utilization", _fmt(m["ambulance_utilization"], pct=True)),
    ]
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
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
) -> None:
    """Check scenario files; print every problem, one line each."""
    from mcsim.scenario import all_problems, read_yaml

    problems: list[InputError] = []
    for path in scenarios:
        try:
            data = read_yaml(path)
        except InputError as exc:
            problems.append(exc)
            continue
        found = all_problems(data, file=str(path))
        problems.extend(found)
        if not found:
            typer.echo(f"ok: {path}")
    for p in problems:
        typer.echo(f"error: {p}", err=True)
    if problems:
        raise typer.Exit(2)


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
        con.print(line + (escape(f" [params: {params}]") if params else ""))


region_app = typer.Typer(
    help="Bring your own region: import roads, hospitals and stations into a scenario.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
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
    )
    sc = result.scenario
    typer.echo(
        f"wrote {out}: {len(sc['region']['nodes'])} nodes, {len(sc['region']['roads'])} roads, "
        f"{len(sc['hospitals'])} hospitals, {len(sc['stations'])} stations"
    )
    for note in result.notes:
        typer.echo(f"note: {note}")


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
    except NoArgsIsHelpError as exc:
        print(exc.format_message())
        return 0
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
