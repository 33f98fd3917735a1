"""Malformed inputs at every entry point: each is one ``error:`` line, exit 2, nothing damaged.

A table of mutants (issue 15): the small test scenario with every numeric field made infinite,
NaN, text or a mapping, unknown and missing keys, odd files (a FIFO, ``/dev/zero``, a folder, a
symlink loop, a 256-byte name, deep nesting, YAML "billion laughs", a file over the size limit),
bad ``--set`` values, census rows, sweep files, damaged sweep folders for ``analyze``, exercise
scripts and logs for ``exercise run``, ``replay`` and ``report``, facilities for ``region
import``, and outputs that exist or cannot be written. Each runs ``mcsim.cli.main`` in process
(fast) under a timeout and must give exit code 2 and exactly one line on stderr, ``error:
FILE: FIELD: ...`` naming the file (and the field where there is one), no traceback, and leave
every file as it was (nothing created, nothing changed). A few run as real subprocesses too.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import small_scenario_data

from mcsim.cli import main
from mcsim.sweep.store import MANIFEST

ROOT = Path(__file__).resolve().parents[1]


# ============================================================================ the shared files


@dataclass
class Shared:
    """Valid inputs every case may read (never write): checked unchanged after each case."""

    root: Path
    scenario: Path
    log: Path
    sweep: Path
    census: Path
    hospitals: Path


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    from mcsim.exercise import ExerciseSession
    from mcsim.scenario import parse_scenario
    from mcsim.sweep import run_sweep

    root = tmp_path_factory.mktemp("shared")
    scenario = root / "town.yaml"
    scenario.write_text(yaml.safe_dump(small_scenario_data(20), sort_keys=False))
    s = ExerciseSession(parse_scenario(small_scenario_data(20)), 1, title="fuzz")
    s.apply({"kind": "hospital_diversion", "at_min": 9, "hospital": "small"})
    log = s.export().write(root / "log.json")
    sweep_file = root / "sweep.yaml"
    sweep_file.write_text(
        yaml.safe_dump(
            {
                "sweep_version": 1,
                "name": "fuzz",
                "scenarios": ["town.yaml"],
                "replications": 2,
                "factors": {"policies.destination": ["nearest", "balance"]},
            }
        )
    )
    run_sweep(sweep_file, root / "sweep", workers=1)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    census = root / "census.csv"
    census.write_text(f"as_of,kind,id,resource,count\n{now},hospital,big,ed_beds,3\n")
    hospitals = root / "hospitals.csv"
    hospitals.write_text("name,lon,lat,beds\nCity,13.40,52.52,300\nNorth,13.42,52.56,120\n")
    return Shared(root, scenario, log, root / "sweep", census, hospitals)


def snapshot(root: Path) -> dict[str, tuple[str, str]]:
    """Every entry under ``root``: its kind and, for regular files, a hash of its bytes."""
    out: dict[str, tuple[str, str]] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            p = Path(folder) / name
            st = p.lstat()
            if stat.S_ISREG(st.st_mode):
                out[str(p.relative_to(root))] = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
            else:
                kind = "dir" if stat.S_ISDIR(st.st_mode) else "other"
                out[str(p.relative_to(root))] = (kind, "")
    return out


def assert_refused(code: int, err: str, fragments: tuple[str, ...]) -> None:
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    assert len(lines[0]) <= 1000


# ============================================================================ the cases

#: A case writes what it needs into its own folder and returns the argv and the fragments the
#: error line must contain (the file's name, the field).
Build = Callable[[Path, Shared], tuple[list[str], tuple[str, ...]]]


@dataclass(frozen=True)
class Case:
    id: str
    build: Build


CASES: list[Case] = []


def case(cid: str) -> Callable[[Build], Build]:
    def deco(fn: Build) -> Build:
        CASES.append(Case(cid, fn))
        return fn

    return deco


def _dump(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def _leaves(data: Any, path: str = "") -> Iterator[tuple[str, list[str | int], Any]]:
    """(field path, key path, value) of every leaf of nested data."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, [], data


def _set(data: Any, path: str, value: Any) -> None:
    from mcsim.scenario import split_path

    parts = split_path(path)
    node = data
    for p in parts[:-1]:
        node = node.setdefault(p, {}) if isinstance(p, str) else node[p]
    node[parts[-1]] = value


def _del(data: Any, path: str) -> None:
    from mcsim.scenario import split_path

    parts = split_path(path)
    node = data
    for p in parts[:-1]:
        node = node[p]
    del node[parts[-1]]


# ---------------------------------------------------------------- scenario: every numeric field

BAD_NUMBERS = {"inf": ".inf", "nan": ".nan", "text": "'many'", "mapping": "{a: 1}"}


def _scenario_mutant(field: str, raw: str) -> Build:
    def build(d: Path, s: Shared) -> tuple[list[str], tuple[str, ...]]:
        data = small_scenario_data(20)
        _set(data, field, "__X__")
        text = yaml.safe_dump(data, sort_keys=False).replace("__X__", raw)
        p = _dump(d / "scenario.yaml", text)
        return ["validate", str(p)], (f"error: {p}: {field}",)

    return build


for _field, _, _value in _leaves(small_scenario_data(20)):
    if isinstance(_value, int | float) and not isinstance(_value, bool):
        if _field == "schema_version":
            continue
        for _name, _raw in BAD_NUMBERS.items():
            CASES.append(Case(f"scenario-{_field}-{_name}", _scenario_mutant(_field, _raw)))


def _scenario_data_mutant(change: Callable[[dict[str, Any]], None], field: str) -> Build:
    def build(d: Path, s: Shared) -> tuple[list[str], tuple[str, ...]]:
        data = small_scenario_data(20)
        change(data)
        p = _dump(d / "scenario.yaml", data)
        return ["validate", str(p)], (f"error: {p}: {field}",)

    return build


_UNKNOWN_AT = [
    "",
    "region",
    "region.generator",
    "region.nodes[0]",
    "region.roads[0]",
    "hospitals[0]",
    "hospitals[0].occupied",
    "stations[0]",
    "stations[0].vehicles[0]",
    "incidents[0]",
]
for _where in _UNKNOWN_AT:

    def _add_unknown(data: dict[str, Any], where: str = _where) -> None:
        node = data
        if where:
            from mcsim.scenario import split_path

            for p in split_path(where):
                node = node[p]
        node["colour"] = "blue"

    _path = f"{_where}.colour" if _where else "colour"
    CASES.append(
        Case(f"scenario-unknown-{_where or 'top'}", _scenario_data_mutant(_add_unknown, _path))
    )

_REQUIRED = [
    "name",
    "region.generator.rows",
    "region.nodes[0].x",
    "hospitals[0].ed_beds",
    "hospitals[1].trauma_level",
    "stations[0].node",
    "stations[1].vehicles[0].count",
    "incidents[0].casualties",
    "incidents[0].injury_profile",
]
for _field in _REQUIRED:
    CASES.append(
        Case(
            f"scenario-missing-{_field}",
            _scenario_data_mutant(lambda d, f=_field: _del(d, f), _field),
        )
    )


def _big_fleet(data: dict[str, Any]) -> None:
    data["stations"][0]["vehicles"][0]["count"] = 10_000
    data["stations"][1]["vehicles"][0]["count"] = 10_000


CASES.append(Case("scenario-fleet-over-20000", _scenario_data_mutant(_big_fleet, "stations")))

_BAD_VALUES = {
    "response.self_transport_delay_min_range": ([30, 5], "response.self_transport_delay_min_range"),
    "incidents[0].extraction_min_range": ([9, 1], "incidents[0].extraction_min_range"),
    "response.triage_officers": (10**9, "response.triage_officers"),
    "response.paramedics": (10**9, "response.paramedics"),
    "response.dispatch_candidates": (10**7, "response.dispatch_candidates"),
    "response.destination_candidates": (10**7, "response.destination_candidates"),
    "region.generator.rows": (2000, "region.generator.rows"),
    "region.generator.cols": (2000, "region.generator.cols"),
    "stations[0].vehicles[0].count": (10**6, "stations[0].vehicles[0].count"),
    "duration_min": (10**9, "duration_min"),
    "incidents[0].casualties": (10**8, "incidents[0].casualties"),
    "incidents[0].node": ("nowhere", "incidents[0].node"),
    "hospitals[0].node": ("r9c9", "hospitals[0].node"),
    "incidents[0].injury_profile": ("alien", "incidents[0].injury_profile"),
    "policies": ({"triage": "coin_toss"}, "policies.triage"),
    "hospitals": ([], "hospitals"),
    "stations[0].vehicles": ([], "stations[0].vehicles"),
    "region.roads[0].travel_min": (-1, "region.roads[0].travel_min"),
    "incidents[0].onset_min": (10_000, "incidents[0].onset_min"),
    "schema_version": (7, "schema_version"),
}
for _field, (_value, _path) in _BAD_VALUES.items():
    CASES.append(
        Case(
            f"scenario-value-{_field}",
            _scenario_data_mutant(lambda d, f=_field, v=_value: _set(d, f, v), _path),
        )
    )


# ---------------------------------------------------------------- scenario: odd files


@case("file-missing")
def _(d: Path, s: Shared):
    return ["validate", str(d / "nope.yaml")], ("nope.yaml", "no such file")


@case("file-fifo")
def _(d: Path, s: Shared):
    p = d / "fifo.yaml"
    os.mkfifo(p)
    return ["validate", str(p)], (str(p), "not a regular file")


@case("file-dev-zero")
def _(d: Path, s: Shared):
    return ["run", "/dev/zero"], ("/dev/zero", "not a regular file")


@case("file-folder")
def _(d: Path, s: Shared):
    (d / "dir.yaml").mkdir()
    return ["validate", str(d / "dir.yaml")], ("dir.yaml", "folder")


@case("file-symlink-loop")
def _(d: Path, s: Shared):
    os.symlink(d / "b.yaml", d / "a.yaml")
    os.symlink(d / "a.yaml", d / "b.yaml")
    return ["validate", str(d / "a.yaml")], ("a.yaml", "symbolic links")


@case("file-name-256")
def _(d: Path, s: Shared):
    p = d / ("n" * 251 + ".yaml")
    return ["validate", str(p)], ("nnnn", "file name too long")


@case("file-too-large")
def _(d: Path, s: Shared):
    p = d / "big.yaml"
    with open(p, "wb") as fh:
        fh.truncate(25 * 1024 * 1024)  # sparse: no time or disk spent
    return ["validate", str(p)], ("big.yaml", "too large")


@case("file-not-utf8")
def _(d: Path, s: Shared):
    p = d / "latin.yaml"
    p.write_bytes(b"name: caf\xe9\n")
    return ["validate", str(p)], ("latin.yaml", "UTF-8")


@case("file-yaml-syntax")
def _(d: Path, s: Shared):
    p = _dump(d / "s.yaml", "schema_version: 1\nname: [unclosed\n")
    return ["validate", str(p)], ("s.yaml", "YAML syntax error")


@case("file-yaml-tab")
def _(d: Path, s: Shared):
    p = _dump(d / "s.yaml", "a:\n\tb: 1\n")
    return ["validate", str(p)], ("s.yaml", "YAML")


@case("file-yaml-python-tag")
def _(d: Path, s: Shared):
    p = _dump(d / "s.yaml", "name: !!python/object/apply:os.system ['true']\n")
    return ["validate", str(p)], ("s.yaml", "YAML")


@case("file-yaml-bad-timestamp")
def _(d: Path, s: Shared):
    p = _dump(d / "s.yaml", "schema_version: 1\nname: !!timestamp 99999-01-01\n")
    return ["validate", str(p)], ("s.yaml", "not valid YAML")


@case("file-yaml-month-13")
def _(d: Path, s: Shared):
    p = _dump(d / "s.yaml", "schema_version: 1\nname: 2026-13-45\n")
    return ["validate", str(p)], ("s.yaml", "not valid YAML")


@case("file-json-huge-int")
def _(d: Path, s: Shared):
    p = _dump(d / "log.json", '{"schema_version": ' + "9" * 5000 + "}")
    return ["replay", str(p)], ("log.json", "not valid JSON")


@case("file-a-list")
def _(d: Path, s: Shared):
    p = _dump(d / "s.yaml", "- a\n- b\n")
    return ["validate", str(p)], ("s.yaml", "mapping")


@case("file-empty")
def _(d: Path, s: Shared):
    p = _dump(d / "s.yaml", "")
    return ["validate", str(p)], ("s.yaml",)


@case("file-deep-yaml")
def _(d: Path, s: Shared):
    p = _dump(d / "s.yaml", "a: " + "[" * 20_000 + "]" * 20_000 + "\n")
    return ["validate", str(p)], ("s.yaml", "nested deeper than")


@case("file-deep-yaml-mapping")
def _(d: Path, s: Shared):
    p = _dump(d / "s.yaml", "a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n")
    return ["validate", str(p)], ("s.yaml", "nested deeper than")


@case("file-billion-laughs")
def _(d: Path, s: Shared):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    p = _dump(d / "s.yaml", "\n".join(lines) + "\n")
    return ["validate", str(p)], ("s.yaml", "too many values")


@case("file-huge-key-echo")
def _(d: Path, s: Shared):
    data = small_scenario_data(20)
    data["k" * 100_000] = 1
    p = _dump(d / "s.yaml", data)
    return ["validate", str(p)], ("s.yaml", "unknown key")


# ---------------------------------------------------------------- --set

SETS = {
    "set-region-open-list": ("region=[", "region"),
    "set-region-open-map": ("region={a: [", "region"),
    "set-no-equals": ("duration_min", "--set needs PATH=VALUE"),
    "set-empty-path": ("=3", "malformed field path"),
    "set-bad-path": ("x[=1", "malformed field path"),
    "set-index-out-of-range": ("hospitals[99].ed_beds=3", "hospitals[99]"),
    "set-through-scalar": ("name.first=x", "name"),
    "set-inf": ("response.loading_min=.inf", "response.loading_min"),
    "set-nan": ("duration_min=.nan", "duration_min"),
    "set-overflow": ("duration_min=1e999", "duration_min"),
    "set-range-reversed": ("response.self_transport_delay_min_range=[30, 5]", "response.self"),
    "set-range-inf": ("incidents[0].extraction_min_range=[0, .inf]", "extraction_min_range"),
    "set-unknown": ("response.colour=blue", "response.colour"),
    "set-huge-count": ("response.triage_officers=1000000000", "response.triage_officers"),
    "set-grid": ("region.generator.rows=2000", "region.generator.rows"),
    "set-deep": ("name=" + "[" * 5000 + "]" * 5000, "name"),
    "set-tag": ("name=!!python/name:os.system", "name"),
    "set-long-value": ("hospitals[0].trauma_level=" + "9" * 10_000, "trauma_level"),
}
for _cid, (_item, _frag) in SETS.items():

    def _set_case(d: Path, s: Shared, item: str = _item, frag: str = _frag):
        return ["run", str(s.scenario), "--set", item], (f"error: {s.scenario}", frag)

    CASES.append(Case(_cid, _set_case))


# ---------------------------------------------------------------- run options and outputs


@case("run-out-is-a-file")
def _(d: Path, s: Shared):
    p = _dump(d / "out", "x")
    return ["run", str(s.scenario), "--out", str(p)], ("out", "--out", "not a folder")


@case("run-out-exists")
def _(d: Path, s: Shared):
    (d / "out").mkdir()
    _dump(d / "out" / "metrics.json", "{}")
    return ["run", str(s.scenario), "--out", str(d / "out")], ("metrics.json", "--out", "--force")


@case("run-out-256")
def _(d: Path, s: Shared):
    return ["run", str(s.scenario), "--out", str(d / ("o" * 256))], ("--out", "too long")


@case("run-out-proc")
def _(d: Path, s: Shared):
    return ["run", str(s.scenario), "--out", "/proc/mcsim-out"], ("/proc/mcsim-out", "--out")


@case("run-out-file-is-a-folder")
def _(d: Path, s: Shared):
    (d / "out" / "metrics.json").mkdir(parents=True)
    return ["run", str(s.scenario), "--out", str(d / "out")], ("metrics.json", "folder")


@case("compare-out-exists")
def _(d: Path, s: Shared):
    (d / "cmp").mkdir()
    _dump(d / "cmp" / "summary.csv", "old")
    argv = ["compare", str(s.scenario), "--replications", "1", "--out", str(d / "cmp")]
    return argv, ("summary.csv", "--out", "--force")


@case("compare-out-is-a-file")
def _(d: Path, s: Shared):
    p = _dump(d / "cmp", "x")
    argv = ["compare", str(s.scenario), "--replications", "1", "--out", str(p)]
    return argv, ("cmp", "--out", "not a folder")


@case("run-unknown-policy")
def _(d: Path, s: Shared):
    return ["run", str(s.scenario), "--triage", "coin"], ("--triage", "coin")


@case("run-seed-negative")
def _(d: Path, s: Shared):
    return ["run", str(s.scenario), "--seed", "-1"], ("seed",)


@case("run-unknown-option")
def _(d: Path, s: Shared):
    return ["run", str(s.scenario), "--colour", "blue"], ("--colour",)


# ---------------------------------------------------------------- census

CENSUS_ROWS = {
    "census-count-nan": ("{now},hospital,big,ed_beds,nan", "row 2, column count"),
    "census-count-inf": ("{now},hospital,big,ed_beds,inf", "row 2, column count"),
    "census-count-negative": ("{now},hospital,big,ed_beds,-1", "row 2, column count"),
    "census-count-huge": ("{now},hospital,big,ed_beds," + "9" * 5000, "row 2, column count"),
    "census-count-over-capacity": ("{now},hospital,big,ed_beds,999", "row 2, column count"),
    "census-as-of-bad": ("yesterday,hospital,big,ed_beds,1", "row 2, column as_of"),
    "census-as-of-no-zone": ("2026-01-01T00:00:00,hospital,big,ed_beds,1", "row 2, column as_of"),
    "census-stale": ("2001-01-01T00:00:00Z,hospital,big,ed_beds,1", "row 2, column as_of"),
    "census-future": ("2999-01-01T00:00:00Z,hospital,big,ed_beds,1", "row 2, column as_of"),
    "census-kind": ("{now},ship,big,ed_beds,1", "row 2, column kind"),
    "census-id": ("{now},hospital,nowhere,ed_beds,1", "row 2, column id"),
    "census-resource": ("{now},hospital,big,helipads,1", "row 2, column resource"),
    "census-station-fleet": ("{now},station,a,als,99", "row 2, column count"),
    "census-too-many-values": ("{now},hospital,big,ed_beds,1,2", "row 2"),
}
for _cid, (_row, _frag) in CENSUS_ROWS.items():

    def _census_case(d: Path, s: Shared, row: str = _row, frag: str = _frag):
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        p = _dump(d / "census.csv", "as_of,kind,id,resource,count\n" + row.format(now=now) + "\n")
        return ["run", str(s.scenario), "--census", str(p)], (f"error: {p}: {frag}",)

    CASES.append(Case(_cid, _census_case))

for _age in ("nan", "inf", "-1", "0"):

    def _age_case(d: Path, s: Shared, age: str = _age):
        return ["run", str(s.scenario), "--census", str(s.census), "--census-max-age-h", age], (
            "--census-max-age-h",
        )

    CASES.append(Case(f"census-max-age-{_age}", _age_case))


@case("census-header")
def _(d: Path, s: Shared):
    p = _dump(d / "census.csv", "when,what\n1,2\n")
    return ["run", str(s.scenario), "--census", str(p)], (f"error: {p}: row 1",)


@case("census-fifo")
def _(d: Path, s: Shared):
    os.mkfifo(d / "census.csv")
    return ["run", str(s.scenario), "--census", str(d / "census.csv")], ("census.csv", "regular")


# ---------------------------------------------------------------- sweep files


def _sweep_case(fields: dict[str, Any], frag: str, *, extra: Callable[[Path], None] | None = None):
    def build(d: Path, s: Shared):
        _dump(d / "town.yaml", small_scenario_data(20))
        data = {
            "sweep_version": 1,
            "name": "bad",
            "scenarios": ["town.yaml"],
            "replications": 2,
            "factors": {"policies.destination": ["nearest", "balance"]},
        }
        data.update(fields)
        text = yaml.safe_dump(data, sort_keys=False).replace("'__INF__'", ".inf")
        p = _dump(d / "sweep.yaml", text)
        if extra is not None:
            extra(d)
        return ["sweep", str(p), "--out", str(d / "out"), "--quiet"], (f"error: {p}", frag)

    return build


SWEEPS: dict[str, tuple[dict[str, Any], str]] = {
    "sweep-range-stop-inf": (
        {"factors": {"duration_min": {"start": 1, "stop": "__INF__"}}},
        "stop",
    ),
    "sweep-range-step-zero": (
        {"factors": {"duration_min": {"start": 1, "stop": 9, "step": 0}}},
        "factors.duration_min.step",
    ),
    "sweep-range-huge": (
        {"factors": {"duration_min": {"start": 1, "stop": 1e308, "step": 1e-300}}},
        "factors.duration_min",
    ),
    "sweep-range-reversed": (
        {"factors": {"duration_min": {"start": 9, "stop": 1, "step": 1}}},
        "factors.duration_min",
    ),
    "sweep-ten-to-the-twelve": (
        {
            "factors": {
                f: {"start": 1, "stop": 10_000, "step": 1}
                for f in ("duration_min", "incidents[0].casualties", "response.paramedics")
            }
        },
        "plans 1,000,000,000,000 cells",
    ),
    "sweep-too-many-runs": (
        {"replications": 600_000, "factors": {"policies.destination": ["nearest", "balance"]}},
        "--max-runs",
    ),
    "sweep-list-too-long": ({"factors": {"duration_min": list(range(1, 20_002))}}, "factors"),
    "sweep-duplicate": ({"factors": {"duration_min": [60, 60]}}, "factors.duration_min[1]"),
    "sweep-value-invalid": ({"factors": {"duration_min": [60, -5]}}, "factors.duration_min[1]"),
    "sweep-not-a-field": ({"factors": {"colour": ["a", "b"]}}, "factors.colour"),
    "sweep-bad-path": ({"factors": {"x[": [1, 2]}}, "factors.x["),
    "sweep-factor-scalar": ({"factors": {"duration_min": 60}}, "factors.duration_min"),
    "sweep-replications-zero": ({"replications": 0}, "replications"),
    "sweep-replications-inf": ({"replications": "__INF__"}, "replications"),
    "sweep-unknown-key": ({"colour": "blue"}, "colour"),
    "sweep-missing-scenario": ({"scenarios": ["nope.yaml"]}, "scenarios[0]"),
    "sweep-version": ({"sweep_version": 9}, "sweep_version"),
    "sweep-import-missing": ({"imports": ["no_such_module_xyz"]}, "imports[0]"),
    "sweep-sample-low-high": (
        {"sample": {"points": 2, "factors": {"duration_min": {"low": 9, "high": 1}}}},
        "sample.factors.duration_min",
    ),
    "sweep-sample-inf": (
        {"sample": {"points": 2, "factors": {"duration_min": {"low": 1, "high": "__INF__"}}}},
        "sample.factors.duration_min.high",
    ),
    "sweep-sample-points": (
        {"sample": {"points": 10**9, "factors": {"duration_min": {"low": 1, "high": 9}}}},
        "sample.points",
    ),
}
for _cid, (_fields, _frag) in SWEEPS.items():
    CASES.append(Case(_cid, _sweep_case(_fields, _frag)))


def _raising_module(d: Path) -> None:
    (d / "boom_mod_fuzz.py").write_text("raise RuntimeError('boom at import')\n")


CASES.append(
    Case(
        "sweep-import-raises",
        _sweep_case({"imports": ["boom_mod_fuzz"]}, "imports[0]", extra=_raising_module),
    )
)


@case("sweep-anchors")
def _(d: Path, s: Shared):
    _dump(d / "town.yaml", small_scenario_data(20))
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    text = "\n".join(
        [
            "sweep_version: 1",
            "name: anchors",
            "scenarios: [town.yaml]",
            "replications: 1",
            "x-anchors:",
            *("  " + ln for ln in lines),
            "factors:",
            "  name: [*a7, *a7]",
        ]
    )
    p = _dump(d / "sweep.yaml", text + "\n")
    return ["sweep", str(p), "--out", str(d / "out")], (f"error: {p}", "too many values")


@case("sweep-out-is-a-file")
def _(d: Path, s: Shared):
    out = _dump(d / "out", "x")
    sweep = s.root / "sweep.yaml"
    return ["sweep", str(sweep), "--out", str(out), "--quiet"], ("out", "--out")


@case("sweep-out-proc")
def _(d: Path, s: Shared):
    return ["sweep", str(s.root / "sweep.yaml"), "--out", "/proc/mcsim-sweep"], (
        "/proc/mcsim-sweep",
        "--out",
    )


@case("sweep-out-holds-it")
def _(d: Path, s: Shared):
    return ["sweep", str(s.root / "sweep.yaml"), "--out", str(s.sweep)], ("--out", "--resume")


@case("sweep-max-runs")
def _(d: Path, s: Shared):
    sweep = s.root / "sweep.yaml"
    return ["sweep", str(sweep), "--out", str(d / "o"), "--max-runs", "3"], ("4 runs", "3")


# ---------------------------------------------------------------- analyze: damaged folders


def _damaged(change: Callable[[Path], None], frag: str, *, name: str = MANIFEST) -> Build:
    def build(d: Path, s: Shared):
        import shutil

        folder = d / "sweep"
        shutil.copytree(s.sweep, folder)
        change(folder)
        return ["analyze", str(folder)], (name, frag)

    return build


def _manifest_edit(edit: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        m = json.loads((folder / MANIFEST).read_text())
        edit(m)
        (folder / MANIFEST).write_text(json.dumps(m))

    return change


def _first_batch(folder: Path) -> Path:
    return sorted((folder / "runs").glob("batch-*.parquet"))[0]


DAMAGE: dict[str, Build] = {
    "analyze-no-manifest": _damaged(
        lambda f: (f / MANIFEST).unlink(), f"no {MANIFEST}", name="sweep"
    ),
    "analyze-manifest-cut": _damaged(
        lambda f: (f / MANIFEST).write_text((f / MANIFEST).read_text()[:100]),
        "not valid JSON",
    ),
    "analyze-manifest-empty": _damaged(lambda f: (f / MANIFEST).write_text(""), "not valid JSON"),
    "analyze-manifest-list": _damaged(lambda f: (f / MANIFEST).write_text("[1, 2]"), "JSON object"),
    "analyze-manifest-deep": _damaged(
        lambda f: (f / MANIFEST).write_text("[" * 100_000 + "]" * 100_000),
        "nested deeper",
    ),
    "analyze-manifest-a-folder": _damaged(
        lambda f: ((f / MANIFEST).unlink(), (f / MANIFEST).mkdir()), "folder"
    ),
    "analyze-manifest-fifo": _damaged(
        lambda f: ((f / MANIFEST).unlink(), os.mkfifo(f / MANIFEST)), "regular"
    ),
    "analyze-manifest-no-cells": _damaged(
        _manifest_edit(lambda m: m.pop("cells")), "cells: missing key"
    ),
    "analyze-manifest-cells-empty": _damaged(
        _manifest_edit(lambda m: m.update(cells=[])), "cells: no cell"
    ),
    "analyze-manifest-cell-id": _damaged(
        _manifest_edit(lambda m: m["cells"][0].update(cell_id="zero")), "cells[0].cell_id"
    ),
    "analyze-manifest-factors": _damaged(
        _manifest_edit(lambda m: m.update(factors="none")), "factors: must be list"
    ),
    "analyze-manifest-factor-kind": _damaged(
        _manifest_edit(lambda m: m["factors"][0].update(kind="magic")), "factors[0].kind"
    ),
    "analyze-manifest-name": _damaged(_manifest_edit(lambda m: m.update(name=3)), "name"),
    "analyze-manifest-n-runs": _damaged(
        _manifest_edit(lambda m: m.update(n_runs="many")), "n_runs"
    ),
    "analyze-manifest-format": _damaged(
        _manifest_edit(lambda m: m.update(format="other")), "format"
    ),
    "analyze-batch-garbage": _damaged(
        lambda f: _first_batch(f).write_bytes(b"not parquet at all"),
        "unreadable batch file",
        name="batch-",
    ),
    "analyze-batch-cut": _damaged(
        lambda f: _first_batch(f).write_bytes(_first_batch(f).read_bytes()[:200]),
        "unreadable batch file",
        name="batch-",
    ),
    "analyze-runs-a-file": _damaged(
        lambda f: (__import__("shutil").rmtree(f / "runs"), (f / "runs").write_text("x")),
        "folder",
        name="runs",
    ),
    "analyze-batch-twice": _damaged(
        lambda f: __import__("shutil").copy(_first_batch(f), f / "runs" / "batch-99999999.parquet"),
        "stored twice",
        name="sweep",
    ),
    "analyze-other-sweep": _damaged(
        _manifest_edit(lambda m: m.update(sweep_id="0123456789ab")),
        "another sweep",
        name="batch-",
    ),
    "analyze-no-runs": _damaged(
        lambda f: [p.unlink() for p in (f / "runs").glob("*.parquet")],
        "no finished run",
        name="sweep",
    ),
}
for _cid, _build in DAMAGE.items():
    CASES.append(Case(_cid, _build))


@case("analyze-not-a-folder")
def _(d: Path, s: Shared):
    return ["analyze", str(d / "nope")], ("nope", "no such folder")


@case("analyze-unknown-metric")
def _(d: Path, s: Shared):
    return ["analyze", str(s.sweep), "--metric", "happiness"], ("--metric", "happiness")


@case("analyze-unknown-baseline")
def _(d: Path, s: Shared):
    return ["analyze", str(s.sweep), "--baseline", "99"], ("--baseline",)


@case("analyze-out-exists")
def _(d: Path, s: Shared):
    p = _dump(d / "report.html", "old")
    return ["analyze", str(s.sweep), "--out", str(p)], ("report.html", "--force")


@case("analyze-out-a-folder")
def _(d: Path, s: Shared):
    (d / "r.html").mkdir()
    return ["analyze", str(s.sweep), "--out", str(d / "r.html")], ("r.html", "folder")


# ---------------------------------------------------------------- exercise scripts

SCRIPTS: dict[str, tuple[str, str]] = {
    "script-unknown-kind": ("actions:\n  - {kind: ufo, at_min: 3}\n", "actions[0].kind"),
    "script-at-inf": (
        "actions:\n  - {kind: hospital_closed, at_min: .inf, hospital: big}\n",
        "actions[0].at_min",
    ),
    "script-at-nan": (
        "actions:\n  - {kind: hospital_closed, at_min: .nan, hospital: big}\n",
        "actions[0].at_min",
    ),
    "script-after-end": (
        "actions:\n  - {kind: hospital_closed, at_min: 100000, hospital: big}\n",
        "actions[0].at_min",
    ),
    "script-unknown-hospital": (
        "actions:\n  - {kind: hospital_closed, at_min: 5, hospital: nowhere}\n",
        "actions[0].hospital",
    ),
    "script-seed": ("seed: -4\n", "seed"),
    "script-seed-text": ("seed: many\n", "seed"),
    "script-unknown-key": ("colour: blue\n", "colour"),
    "script-version": ("schema_version: 5\n", "schema_version"),
    "script-actions-mapping": ("actions: {a: 1}\n", "actions"),
    "script-override-bad": ("overrides: ['response.loading_min=-3']\n", "overrides[0]"),
    "script-override-inf": ("overrides: ['duration_min=.inf']\n", "overrides[0]"),
    "script-override-path": ("overrides: ['x[=1']\n", "overrides[0]"),
    "script-override-yaml": ("overrides: ['region=[']\n", "overrides[0]"),
    "script-deep": ("notes: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper"),
    "script-a-list": ("- 1\n- 2\n", "mapping"),
}
for _cid, (_body, _frag) in SCRIPTS.items():

    def _script_case(d: Path, s: Shared, body: str = _body, frag: str = _frag):
        p = _dump(d / "ex.yaml", f"scenario: {s.scenario}\n" + body)
        if body.startswith("- "):
            p = _dump(d / "ex.yaml", body)
        return ["exercise", "run", str(p), "--out", str(d / "log.json")], (f"error: {p}", frag)

    CASES.append(Case(_cid, _script_case))


@case("script-scenario-missing")
def _(d: Path, s: Shared):
    p = _dump(d / "ex.yaml", "scenario: nope.yaml\n")
    return ["exercise", "run", str(p), "--out", str(d / "log.json")], ("nope.yaml", "no such")


@case("script-out-exists")
def _(d: Path, s: Shared):
    p = _dump(d / "ex.yaml", f"scenario: {s.scenario}\n")
    old = _dump(d / "log.json", "old log")
    return ["exercise", "run", str(p), "--out", str(old)], ("log.json", "--force")


@case("script-events-exists")
def _(d: Path, s: Shared):
    p = _dump(d / "ex.yaml", f"scenario: {s.scenario}\n")
    (d / "ev").mkdir()
    _dump(d / "ev" / "events.parquet", "old")
    argv = ["exercise", "run", str(p), "--out", str(d / "l.json"), "--events", str(d / "ev")]
    return argv, ("events.parquet", "--events")


# ---------------------------------------------------------------- exercise logs: replay, report


def _log_case(edit: Callable[[dict[str, Any]], Any] | str, frag: str, cmd: str = "replay"):
    def build(d: Path, s: Shared):
        if isinstance(edit, str):
            text = edit
        else:
            data = json.loads(s.log.read_text())
            edit(data)
            text = json.dumps(data)
        p = _dump(d / "log.json", text)
        argv = [cmd, str(p)]
        if cmd == "report":
            argv += ["--out", str(d / "report.html")]
        return argv, (f"error: {p}", frag)

    return build


def _pop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.pop(key)


LOGS: dict[str, tuple[Any, str]] = {
    "log-tamper-resus-bays": (
        lambda d: d["scenario"]["data"]["hospitals"][0].update(resus_bays=9),
        "digest",
    ),
    "log-tamper-seed": (lambda d: d.update(seed=5), "digest"),
    "log-tamper-action": (lambda d: d["actions"][0].update(at_min=10), "digest"),
    "log-tamper-policy": (lambda d: d["policies"].update(triage="salt"), "digest"),
    "log-delete-result-digest": (_pop("result_digest"), "digest"),
    "log-tamper-events-no-digest": (
        lambda d: (d["actions"][0].update(at_min=10), d.pop("digest")),
        "result_digest: replay differs",
    ),
    "log-not-json": ("{not json", "not valid JSON"),
    "log-deep": ("[" * 100_000 + "]" * 100_000, "nested deeper"),
    "log-a-list": ("[1, 2]", "JSON object"),
    "log-version-new": (lambda d: d.update(schema_version=9), "schema_version"),
    "log-version-text": (lambda d: d.update(schema_version="two"), "schema_version"),
    "log-no-version": (_pop("schema_version"), "schema_version"),
    "log-unknown-key": (lambda d: d.update(colour="blue"), "colour"),
    "log-seed-negative": (lambda d: d.update(seed=-1), "seed"),
    "log-action-kind": (lambda d: d["actions"][0].update(kind="ufo"), "actions[0].kind"),
    "log-action-inf": (lambda d: d["actions"][0].update(at_min=1e999), "actions[0].at_min"),
    "log-scenario-bad": (
        lambda d: (d["scenario"]["data"].update(duration_min=-1), d.update(digest=None)),
        "scenario.data.duration_min",
    ),
    "log-scenario-missing": (lambda d: d.pop("scenario"), "scenario"),
    "log-actions-unordered": (
        lambda d: d["actions"].extend(
            [
                {"kind": "hospital_reopened", "at_min": 30, "hospital": "small"},
                {"kind": "hospital_reopened", "at_min": 20, "hospital": "small"},
            ]
        ),
        "actions[2].at_min",
    ),
}
for _cid, (_edit, _frag) in LOGS.items():
    CASES.append(Case(_cid, _log_case(_edit, _frag)))
    CASES.append(Case(f"report-{_cid}", _log_case(_edit, _frag, cmd="report")))


@case("replay-out-exists")
def _(d: Path, s: Shared):
    (d / "re").mkdir()
    _dump(d / "re" / "patients.parquet", "old")
    return ["replay", str(s.log), "--out", str(d / "re")], ("patients.parquet", "--force")


@case("replay-against-missing")
def _(d: Path, s: Shared):
    return ["replay", str(s.log), "--against", str(d)], ("events.parquet", "--against")


@case("replay-against-garbage")
def _(d: Path, s: Shared):
    _dump(d / "events.parquet", "garbage")
    return ["replay", str(s.log), "--against", str(d)], ("events.parquet", "--against")


@case("report-out-exists")
def _(d: Path, s: Shared):
    p = _dump(d / "r.html", "old")
    return ["report", str(s.log), "--out", str(p)], ("r.html", "--force")


@case("report-png-exists")
def _(d: Path, s: Shared):
    png = _dump(d / "f.png", "old")
    return ["report", str(s.log), "--out", str(d / "r.html"), "--png", str(png)], ("--png",)


# ---------------------------------------------------------------- region import

FACILITIES: dict[str, tuple[str, str, str]] = {
    "region-beds-inf": ("h.csv", "name,lon,lat,beds\nA,13.4,52.5,inf\n", "row 2, column beds"),
    "region-beds-nan": ("h.csv", "name,lon,lat,beds\nA,13.4,52.5,nan\n", "row 2, column beds"),
    "region-beds-huge": ("h.csv", "name,lon,lat,beds\nA,13.4,52.5,1e12\n", "row 2, column beds"),
    "region-beds-half": ("h.csv", "name,lon,lat,beds\nA,13.4,52.5,2.5\n", "row 2, column beds"),
    "region-beds-text": ("h.csv", "name,lon,lat,beds\nA,13.4,52.5,lots\n", "row 2, column beds"),
    "region-ed-zero": ("h.csv", "name,lon,lat,ed_beds\nA,13.4,52.5,0\n", "row 2, column ed_beds"),
    "region-level": (
        "h.csv",
        "name,lon,lat,trauma_level\nA,13.4,52.5,level 9\n",
        "row 2, column trauma_level",
    ),
    "region-lon": ("h.csv", "name,lon,lat\nA,200,52.5\n", "row 2, column lon"),
    "region-lat-inf": ("h.csv", "name,lon,lat\nA,13.4,inf\n", "row 2, column lat"),
    "region-no-coords": ("h.csv", "name,where\nA,here\n", "row 2"),
    "region-extra-values": ("h.csv", "name,lon,lat\nA,13.4,52.5,9\n", "row 2"),
    "region-no-id": ("h.csv", "name,lon,lat\n,13.4,52.5\n", "row 2"),
    "region-empty": ("h.csv", "", "h.csv"),
    "region-geojson-strings": (
        "h.geojson",
        '{"type": "FeatureCollection", "features": ["a", "b"]}',
        "features[0]",
    ),
    "region-geojson-props": (
        "h.geojson",
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
        '{"type": "Point", "coordinates": [13.4, 52.5]}, "properties": "x"}]}',
        "features[0].properties",
    ),
    "region-geojson-geometry": (
        "h.geojson",
        '{"type": "FeatureCollection", "features": [{"geometry": "point"}]}',
        "features[0]",
    ),
    "region-geojson-features": (
        "h.geojson",
        '{"type": "FeatureCollection", "features": {"a": 1}}',
        "features",
    ),
    "region-geojson-not-fc": ("h.geojson", '{"type": "Point"}', "FeatureCollection"),
    "region-geojson-deep": ("h.geojson", "[" * 100_000 + "]" * 100_000, "nested deeper"),
    "region-geojson-bad-json": ("h.geojson", "{", "not valid JSON"),
}
for _cid, (_name, _text, _frag) in FACILITIES.items():

    def _facility_case(d: Path, s: Shared, name: str = _name, text: str = _text, frag: str = _frag):
        p = _dump(d / name, text)
        return ["region", "import", "--hospitals", str(p), "--out", str(d / "s.yaml")], (
            f"error: {p}",
            frag,
        )

    CASES.append(Case(_cid, _facility_case))


def _import_case(extra: list[str], frag: str, *, out: str = "s.yaml") -> Build:
    def build(d: Path, s: Shared):
        argv = ["region", "import", "--hospitals", str(s.hospitals), "--out", str(d / out)]
        return argv + extra, (frag,)

    return build


IMPORTS: dict[str, Build] = {
    "region-incident": _import_case(["--incident", "somewhere"], "--incident"),
    "region-incident-lon": _import_case(["--incident", "x@500,1"], "--incident"),
    "region-detour-nan": _import_case(["--detour-factor", "nan"], "detour_factor"),
    "region-speed-inf": _import_case(["--speed-kmh", "inf"], "speed_kmh"),
    "region-detour-below-1": _import_case(["--detour-factor", "0.5"], "detour_factor"),
    "region-graphml-missing": _import_case(["--graphml", "/nonexistent.graphml"], "no such file"),
    "region-graphml-dev-zero": _import_case(["--graphml", "/dev/zero"], "regular"),
    "region-stations-missing": _import_case(["--stations", "/nonexistent.csv"], "no such file"),
    "region-out-256": _import_case([], "too long", out="s" * 256),
}
for _cid, _build in IMPORTS.items():
    CASES.append(Case(_cid, _build))


@case("region-graphml-garbage")
def _(d: Path, s: Shared):
    g = _dump(d / "roads.graphml", "<graphml><graph><node id='a'></graph>")
    argv = ["region", "import", "--hospitals", str(s.hospitals), "--graphml", str(g)]
    return argv + ["--out", str(d / "s.yaml")], (f"error: {g}",)


@case("region-graphml-entities")
def _(d: Path, s: Shared):
    text = (
        '<?xml version="1.0"?><!DOCTYPE g [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph edgedefault="directed">'
        '<node id="&b;"/></graph></graphml>'
    )
    g = _dump(d / "roads.graphml", text)
    argv = ["region", "import", "--hospitals", str(s.hospitals), "--graphml", str(g)]
    return argv + ["--out", str(d / "s.yaml")], (f"error: {g}",)


@case("region-out-exists")
def _(d: Path, s: Shared):
    old = _dump(d / "s.yaml", "old: scenario\n")
    return ["region", "import", "--hospitals", str(s.hospitals), "--out", str(old)], (
        "s.yaml",
        "--force",
    )


@case("region-out-a-folder")
def _(d: Path, s: Shared):
    (d / "s.yaml").mkdir()
    argv = ["region", "import", "--hospitals", str(s.hospitals), "--out", str(d / "s.yaml")]
    return argv, ("s.yaml", "folder")


# ============================================================================ the tests


def test_the_table_has_at_least_200_malformed_inputs():
    assert len(CASES) >= 200
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_malformed_input_is_one_error_line_and_damages_nothing(
    c: Case, shared: Shared, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
):
    monkeypatch.chdir(tmp_path)  # a default output (NAME.log.json) lands here, and is seen
    argv, fragments = c.build(tmp_path, shared)
    before, before_shared = snapshot(tmp_path), snapshot(shared.root)
    capsys.readouterr()
    code = main(argv)
    _, err = capsys.readouterr()
    assert_refused(code, err, fragments)
    assert snapshot(tmp_path) == before, "a refused command changed or created files"
    assert snapshot(shared.root) == before_shared


# A few through the installed console script, as a user runs them: a real process, real stderr.
REAL = ["file-fifo", "file-deep-yaml", "set-region-open-list", "sweep-range-stop-inf",
        "analyze-manifest-cut", "log-tamper-resus-bays", "region-geojson-strings",
        "census-max-age-nan"]  # fmt: skip


@pytest.mark.parametrize("cid", REAL)
def test_malformed_input_in_a_real_process(cid: str, shared: Shared, tmp_path: Path):
    c = next(c for c in CASES if c.id == cid)
    argv, fragments = c.build(tmp_path, shared)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run(
        [sys.executable, "-m", "mcsim.cli", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert_refused(p.returncode, p.stderr, fragments)
    assert p.stdout == ""


def test_scenario_mutants_are_refused_by_validate_and_by_run_alike(
    shared: Shared, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """What ``run`` refuses, ``validate`` refuses first, with the same line."""
    for c in [c for c in CASES if c.id.startswith("scenario-")][::9]:
        d = tmp_path / c.id
        d.mkdir()
        argv, _ = c.build(d, shared)
        assert main(argv) == 2
        _, v_err = capsys.readouterr()
        assert main(["run", *argv[1:]]) == 2
        _, r_err = capsys.readouterr()
        assert v_err == r_err, c.id
