"""Sweeps end to end: back ends agree, resume after a kill, CRN, refusals, invalid files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import small_scenario_data

from mcsim.cli import main
from mcsim.errors import InputError
from mcsim.sweep import Plan, load_sweep, read_manifest, read_runs, run_sweep
from mcsim.sweep.spec import RangeSpec, expand_range

# A triage policy that is not built in, registered through the sweep file's `imports` (which
# also makes it available in every worker process): it tags everyone who breathes IMMEDIATE.
POLICY_MODULE = textwrap.dedent(
    """
    from mcsim.enums import TriageTag
    from mcsim.policies import PolicyKind, register

    @register(PolicyKind.TRIAGE, "test_all_immediate", "everyone breathing is immediate")
    def all_immediate(v):
        return TriageTag.IMMEDIATE if v.breathing else TriageTag.DEAD
    """
)


def write_sweep(
    tmp_path: Path,
    *,
    casualties: int = 20,
    name: str = "sweep.yaml",
    scenario: dict[str, Any] | None = None,
    **fields: Any,
) -> Path:
    """A sweep file over the small test scenario (written beside it)."""
    scen = tmp_path / "town.yaml"
    if not scen.exists():
        scen.write_text(yaml.safe_dump(scenario or small_scenario_data(casualties)))
    data: dict[str, Any] = {
        "sweep_version": 1,
        "name": "test sweep",
        "scenarios": ["town.yaml"],
        "replications": 2,
        "base_seed": 100,
        "factors": {"stations[0].vehicles[0].count": [1, 3]},
    }
    data.update(fields)
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


# ---------------------------------------------------------------------------------------------
# End to end


def test_local_pool_and_dask_local_cluster_store_identical_rows(tmp_path: Path) -> None:
    """The same sweep on 2 local processes and on a 2-worker Dask LocalCluster: equal rows."""
    sw = write_sweep(tmp_path, replications=2)
    a = run_sweep(sw, tmp_path / "local", workers=2, batch_size=1)
    b = run_sweep(sw, tmp_path / "dask", workers=2, backend="dask", batch_size=2)
    assert a.ran == b.ran == 4
    ra, rb = read_runs(tmp_path / "local"), read_runs(tmp_path / "dask")
    assert len(ra) == 4
    pd.testing.assert_frame_equal(ra, rb)


def test_rows_carry_identity_factors_seeds_and_flattened_metrics(tmp_path: Path) -> None:
    """One row per run: ids, factor values, seed = base_seed + replication, nested metrics."""
    sw = write_sweep(tmp_path, replications=2, store={"patients": True})
    run_sweep(sw, tmp_path / "out", workers=1)
    runs = read_runs(tmp_path / "out")
    man = read_manifest(tmp_path / "out")
    assert list(runs["run_id"]) == [0, 1, 2, 3]
    assert list(runs["cell_id"]) == [0, 0, 1, 1]
    assert list(runs["replication"]) == [0, 1, 0, 1]
    assert list(runs["seed"]) == [100, 101, 100, 101]
    assert list(runs["stations[0].vehicles[0].count"]) == [1, 1, 3, 3]
    assert set(runs["sweep_id"]) == {man["sweep_id"]}
    assert set(runs["policy.triage"]) == {"start"}
    for col in ("casualties", "critical_mortality", "hospitals.big.patients"):
        assert col in runs.columns
    assert (runs["casualties"] == 20).all()
    assert man["n_runs"] == 4 and man["n_cells"] == 2
    assert (runs["hospitals.big.patients"] + runs["hospitals.small.patients"]).max() <= 20
    patients = pd.read_parquet(tmp_path / "out" / "_patients")
    assert sorted(patients["run_id"].unique()) == [0, 1, 2, 3]
    assert len(patients) == 4 * 20


def test_common_random_numbers_across_policy_cells(tmp_path: Path) -> None:
    """Cells differing only in the triage policy see identical casualties per replication."""
    (tmp_path / "crn_policies.py").write_text(POLICY_MODULE)
    sw = write_sweep(
        tmp_path,
        casualties=40,
        replications=3,
        imports=["crn_policies"],
        factors={"policies.triage": ["start", "test_all_immediate"]},
    )
    run_sweep(sw, tmp_path / "out", workers=2, batch_size=1)
    runs = read_runs(tmp_path / "out")
    assert list(runs["policy.triage"].unique()) == ["start", "test_all_immediate"]
    by = {cell: g.set_index("replication") for cell, g in runs.groupby("cell_id")}
    for col in ("casualties", "critical", "immediate_deaths"):
        pd.testing.assert_series_equal(by[0][col], by[1][col])
    # ... while the replications themselves differ (different seeds, different casualties)
    assert by[0]["critical"].nunique() > 1 or by[0]["immediate_deaths"].nunique() > 1
    # and the policy did change what happened to them
    assert not by[0]["overtriage_rate"].equals(by[1]["overtriage_rate"])


# ---------------------------------------------------------------------------------------------
# Resume and refusals


def _cli(*args: str) -> list[str]:
    code = "import sys; from mcsim.cli import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, *args]


def test_resume_after_sigkill_equals_an_uninterrupted_sweep(tmp_path: Path) -> None:
    """Kill -9 mid-sweep, --resume, and the rows equal those of a clean run row for row."""
    sw = write_sweep(
        tmp_path, casualties=40, replications=12, factors={"incidents[0].casualties": [30, 40]}
    )
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        _cli("sweep", str(sw), "--out", str(out), "--workers", "2", "--batch-size", "1"),
        start_new_session=True,  # so that SIGKILL takes the workers down with it
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            files = list((out / "runs").glob("batch-*.parquet")) if out.exists() else []
            if len(files) >= 3 or proc.poll() is not None:
                break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    stored = len(read_runs(out))
    assert 0 < stored < 24, f"the kill came too late or too early ({stored} runs stored)"
    # Starting again without --resume is refused; with it, only the missing runs run.
    assert main(["sweep", str(sw), "--out", str(out), "--quiet"]) == 2
    summary = run_sweep(sw, out, workers=2, resume=True)
    assert summary.stored_before == stored and summary.ran == 24 - stored
    run_sweep(sw, tmp_path / "clean", workers=2)
    pd.testing.assert_frame_equal(read_runs(out), read_runs(tmp_path / "clean"))
    assert not [p for p in (out / "runs").iterdir() if p.name.startswith(".")]


def test_resume_drops_a_truncated_batch_file_and_reruns_its_runs(tmp_path: Path) -> None:
    """A batch file cut short (machine crash) is dropped on --resume and its runs run again."""
    sw = write_sweep(tmp_path, replications=2)
    out = tmp_path / "out"
    run_sweep(sw, out, workers=1, batch_size=1)
    clean = read_runs(out)
    victim = out / "runs" / "batch-00000002.parquet"
    victim.write_bytes(victim.read_bytes()[:40])
    summary = run_sweep(sw, out, workers=1, resume=True)
    assert summary.stored_before == 3 and summary.ran == 1
    pd.testing.assert_frame_equal(read_runs(out), clean)


def test_a_different_sweep_in_a_used_folder_is_refused(tmp_path: Path, capsys) -> None:
    """Another sweep (here: more replications) in a used folder: one clear line, exit 2."""
    out = tmp_path / "out"
    run_sweep(write_sweep(tmp_path, replications=1), out, workers=1)
    other = write_sweep(tmp_path, replications=2, name="other.yaml")
    capsys.readouterr()
    assert main(["sweep", str(other), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith(f"error: {out}: --out: holds a different sweep")
    assert len(read_runs(out)) == 2  # untouched


def test_a_finished_sweep_resumes_to_nothing_and_a_foreign_folder_is_refused(
    tmp_path: Path,
) -> None:
    """--resume on a complete sweep runs nothing; a non-empty non-sweep folder is refused."""
    sw = write_sweep(tmp_path, replications=1)
    run_sweep(sw, tmp_path / "out", workers=1)
    assert run_sweep(sw, tmp_path / "out", workers=1, resume=True).ran == 0
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds no sweep manifest"):
        run_sweep(sw, foreign, workers=1)


# ---------------------------------------------------------------------------------------------
# Plans: factorial, ranges, Latin hypercube


def test_plan_is_the_full_factorial_crossed_with_lhs_points(tmp_path: Path) -> None:
    """2 levels x 3 range values x 4 LHS points = 24 cells, ids and seeds in a fixed order."""
    sw = write_sweep(
        tmp_path,
        replications=3,
        factors={
            "stations[0].vehicles[0].count": [1, 2],
            "response.loading_min": {"start": 1, "stop": 2, "step": 0.5},
        },
        sample={
            "points": 4,
            "seed": 3,
            "factors": {"incidents[0].casualties": {"low": 10, "high": 50, "integer": True}},
        },
    )
    plan = Plan(load_sweep(sw))
    assert len(plan.cells) == 24 and plan.n_runs == 72
    assert [c.factors["response.loading_min"] for c in plan.cells[:12:4]] == [1.0, 1.5, 2.0]
    runs = list(plan.runs())
    assert [(r.run_id, r.cell_id, r.seed) for r in runs[3:5]] == [(3, 1, 100), (4, 1, 101)]
    lhs = [c.factors["incidents[0].casualties"] for c in plan.cells[:4]]
    assert all(isinstance(v, int) and 10 <= v <= 50 for v in lhs)
    # Latin hypercube: one point in each quarter of the range
    assert sorted(min(3, (v - 10) * 4 // 41) for v in lhs) == [0, 1, 2, 3]
    assert Plan(load_sweep(sw)).cells == plan.cells  # seeded: reproducible


def test_lhs_seed_changes_points_and_the_sweep_id(tmp_path: Path) -> None:
    """Another sampler seed draws other points, and so is another sweep."""
    sample = {"points": 5, "seed": 1, "factors": {"response.loading_min": {"low": 1, "high": 5}}}
    a = Plan(load_sweep(write_sweep(tmp_path, sample=sample, name="a.yaml")))
    b = Plan(load_sweep(write_sweep(tmp_path, sample={**sample, "seed": 2}, name="b.yaml")))
    assert [c.factors for c in a.cells] != [c.factors for c in b.cells]
    assert a.sweep_id != b.sweep_id


def test_range_includes_stop_without_float_drift() -> None:
    """{start, stop, step} includes stop; 0.1 steps do not drift; ints stay ints."""
    assert expand_range(RangeSpec(start=2, stop=10, step=4)) == [2, 6, 10]
    assert expand_range(RangeSpec(start=0.1, stop=0.5, step=0.1)) == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert expand_range(RangeSpec(start=1, stop=2, step=5)) == [1]


# ---------------------------------------------------------------------------------------------
# Invalid sweep files: one line naming the file and the field path, exit 2, nothing written


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        ({"replicatons": 2}, "replicatons", "unknown key; valid keys: sweep_version, name"),
        ({"replications": 0}, "replications", "greater than or equal to 1"),
        (
            {"factors": {"stations[0].vehicles[0].cuont": [1]}},
            "factors.stations[0].vehicles[0].cuont",
            "not a field of scenario town: unknown key; valid keys: type, count, capacity",
        ),
        (
            {"factors": {"stations[0].vehicles[0].count": [1, -1]}},
            "factors.stations[0].vehicles[0].count[1]",
            "greater than or equal to 0",
        ),
        (
            {"factors": {"stations[7].vehicles[0].count": [1]}},
            "factors.stations[7].vehicles[0].count",
            "not a field of scenario town: no such list item",
        ),
        (
            {"factors": {"policies.triage": ["start", "nope"]}},
            "factors.policies.triage[1]",
            "unknown triage policy 'nope'; known: ",
        ),
        (
            {"factors": {"incidents[0].casualties": {"start": 10, "stop": 20, "step": 0}}},
            "factors.incidents[0].casualties.step",
            "greater than 0",
        ),
        (
            {"factors": {"incidents[0].casualties": {"start": 10, "stop": 5, "step": 1}}},
            "factors.incidents[0].casualties",
            "stop (5) is below start (10)",
        ),
        (
            {"factors": {"incidents[0].casualties": []}},
            "factors.incidents[0].casualties",
            "at least one",
        ),
        (
            {"factors": {"incidents[0].casualties": 30}},
            "factors.incidents[0].casualties",
            "a list of values or a range",
        ),
        (
            {"factors": {"incidents[0]]casualties": [1]}},
            "factors.incidents[0]]casualties",
            "malformed field path",
        ),
        (
            {"sample": {"points": 3, "factors": {"response.loading_min": {"low": 5, "high": 1}}}},
            "sample.factors.response.loading_min",
            "high must be greater than low",
        ),
        (
            {"sample": {"points": 3, "factors": {"response.loading_min": {"lo": 1, "high": 5}}}},
            "sample.factors.response.loading_min.lo",
            "unknown key; valid keys: low, high, integer",
        ),
        ({"scenarios": ["missing.yaml"]}, "scenarios[0]", "no such scenario file"),
        ({"sweep_version": 2}, "sweep_version", "unsupported sweep_version 2"),
        ({"imports": ["no_such_module_xyz"]}, "imports[0]", "cannot import 'no_such_module_xyz'"),
    ],
)
def test_invalid_sweep_file_is_one_line_naming_file_and_path(
    tmp_path: Path, capsys, fields: dict[str, Any], path: str, message: str
) -> None:
    sw = write_sweep(tmp_path, **fields)
    out = tmp_path / "out"
    assert main(["sweep", str(sw), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"error: {sw}: {path}: "), err
    assert message in err, err
    assert not out.exists()


def test_combination_of_valid_values_that_clash_is_refused_before_running(tmp_path: Path) -> None:
    """Each value alone is valid; together (occupied > capacity) the cell is not."""
    sw = write_sweep(
        tmp_path,
        factors={"hospitals[0].ed_beds": [5, 20], "hospitals[0].occupied.ed_beds": [0, 10]},
    )
    with pytest.raises(InputError, match=r"cell 1 .* is not a valid scenario at hospitals\[0\]"):
        run_sweep(sw, tmp_path / "out", workers=1)
    assert not (tmp_path / "out").exists()


def test_cli_prints_a_summary_line_when_not_a_terminal_and_nothing_when_quiet(
    tmp_path: Path, capsys
) -> None:
    """No progress bar off a terminal: one summary line; --quiet: silence."""
    sw = write_sweep(tmp_path, replications=1, factors={})
    assert main(["sweep", str(sw), "--out", str(tmp_path / "a"), "--workers", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "1 runs in" in lines[0] and "1/1 stored" in lines[0]
    assert main(["sweep", str(sw), "--out", str(tmp_path / "b"), "--workers", "1", "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_shipped_example_sweeps_load_and_plan() -> None:
    """Every sweep under scenarios/sweeps validates against the shipped scenarios."""
    files = sorted((Path(__file__).resolve().parents[1] / "scenarios" / "sweeps").glob("*.yaml"))
    assert files
    for f in files:
        plan = Plan(load_sweep(f))
        plan.validate_cells()
        assert plan.n_runs >= 1


def test_progress_bar_reports_runs_and_rate(tmp_path: Path, capsys) -> None:
    """With progress on, the bar shows runs done out of the total and a runs/s rate."""
    sw = write_sweep(tmp_path, replications=1)
    run_sweep(sw, tmp_path / "out", workers=1, progress=True)
    out = capsys.readouterr().out
    assert "2/2" in out and "runs/s" in out
