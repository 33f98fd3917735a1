"""The sweep folder's lock and crash clean-up, across processes started as Windows starts them.

The lock is an operating-system lock (filelock): held, it refuses a second sweep; its process
gone, the next sweep takes it over. The holder here is a ``spawn`` process (the only start method
on Windows, and macOS's default), so these tests also show that the store works under it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path

import pandas as pd
import pytest

from mcsim.errors import InputError
from mcsim.parallel import start_method
from mcsim.sweep.store import MANIFEST, SweepStore

MANIFEST_DATA = {"hash": "h1", "sweep_id": "s1", "name": "t", "n_runs": 2, "factors": []}


def hold_the_folder(out: str, ready, release) -> None:
    """Open the sweep folder (taking its lock) and hold it until told, in a child process."""
    store = SweepStore.open(out, MANIFEST_DATA, resume=True)
    ready.set()
    release.wait(60)
    store.close()


@pytest.fixture
def spawn():
    return multiprocessing.get_context("spawn")


def _start_holder(spawn, out: Path):
    ready, release = spawn.Event(), spawn.Event()
    proc = spawn.Process(target=hold_the_folder, args=(str(out), ready, release))
    proc.start()
    assert ready.wait(60), "the spawned process did not open the folder"
    return proc, release


def test_a_folder_held_by_a_spawned_sweep_is_refused_then_free(tmp_path, spawn):
    out = tmp_path / "sweep"
    proc, release = _start_holder(spawn, out)
    try:
        with pytest.raises(InputError, match="another mcsim sweep is writing"):
            SweepStore.open(out, MANIFEST_DATA, resume=True)
    finally:
        release.set()
        proc.join(60)
    assert proc.exitcode == 0
    SweepStore.open(out, MANIFEST_DATA, resume=True).close()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_the_lock_of_a_killed_sweep_is_taken_over(tmp_path, spawn):
    out = tmp_path / "sweep"
    proc, _ = _start_holder(spawn, out)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(60)
    assert proc.exitcode == -signal.SIGKILL
    store = SweepStore.open(out, MANIFEST_DATA, resume=True)  # the stale lock is taken over
    store.close()


@pytest.mark.parametrize("resume", [False, True])
def test_a_folder_killed_while_writing_its_first_manifest_is_reused(tmp_path, resume):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / ".lock").write_text("")
    leftover = out / f".{MANIFEST}.tmp-99999"
    leftover.write_text('{"hash": "h1", "sw')  # cut short
    SweepStore.open(out, MANIFEST_DATA, resume=resume).close()
    assert not leftover.exists()
    assert json.loads((out / MANIFEST).read_text())["sweep_id"] == "s1"


def test_a_folder_with_something_else_in_it_is_still_refused(tmp_path):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="is not empty"):
        SweepStore.open(out, MANIFEST_DATA, resume=False)


def test_the_pool_start_method_exists_on_this_platform():
    assert start_method() in multiprocessing.get_all_start_methods()
    assert start_method() in ("forkserver", "spawn")


def test_a_sweep_on_a_spawn_pool_stores_the_rows_of_the_default_pool(tmp_path, monkeypatch):
    import yaml

    from mcsim import parallel
    from mcsim.sweep import read_runs, run_sweep
    from tests.conftest import small_scenario_data

    (tmp_path / "town.yaml").write_text(yaml.safe_dump(small_scenario_data(15)))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        yaml.safe_dump(
            {
                "sweep_version": 1,
                "name": "spawn",
                "scenarios": ["town.yaml"],
                "replications": 2,
                "factors": {"policies.triage": ["start", "salt"]},
            }
        )
    )
    run_sweep(sweep, tmp_path / "default", workers=1)
    monkeypatch.setattr(parallel, "start_method", lambda: "spawn")
    run_sweep(sweep, tmp_path / "spawn", workers=1)
    pd.testing.assert_frame_equal(read_runs(tmp_path / "default"), read_runs(tmp_path / "spawn"))


def test_a_fifo_as_the_manifest_of_a_sweep_to_resume_is_refused_not_waited_on(tmp_path):
    """Issue 15 defect 9: reading a FIFO would block forever; it is one error instead."""
    import os

    import pytest

    from mcsim.errors import InputError
    from mcsim.sweep.store import MANIFEST, SweepStore

    out = tmp_path / "sweep"
    out.mkdir()
    os.mkfifo(out / MANIFEST)
    manifest = {"hash": "x", "sweep_id": "s", "factors": [], "n_runs": 1, "name": "t"}
    with pytest.raises(InputError, match="unreadable sweep manifest"):
        SweepStore.open(out, manifest, resume=True)
