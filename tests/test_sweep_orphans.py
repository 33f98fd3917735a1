"""A sweep killed with SIGKILL leaves no process behind (issue 15, defect 7).

The main process alone is killed, as a scheduler or the OOM killer would: its pool workers,
the fork server and the resource tracker must all be gone within 10 seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import small_scenario_data

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_workers_exit_when_the_sweep_process_is_killed(tmp_path: Path):
    (tmp_path / "town.yaml").write_text(yaml.safe_dump(small_scenario_data(60)))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        yaml.safe_dump(
            {
                "sweep_version": 1,
                "name": "orphans",
                "scenarios": ["town.yaml"],
                "replications": 2000,
                "factors": {"policies.destination": ["nearest", "balance"]},
            }
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "mcsim.cli", "sweep", str(sweep), "--out", str(tmp_path / "o")]
    proc = subprocess.Popen([*argv, "--workers", "2", "--quiet"], env=env, cwd=tmp_path)
    tree: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            tree = _children(proc.pid)
            runs = list((tmp_path / "o" / "runs").glob("batch-*.parquet"))
            if len(tree) >= 4 and runs:  # tracker, fork server, two workers; work under way
                break
            time.sleep(0.2)
        assert len(tree) >= 4, f"the sweep did not start its workers: {tree}"
        tree |= _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in tree):
            time.sleep(0.2)
        left = [p for p in tree if _alive(p)]
        assert not left, f"processes left after 10 s: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in tree:  # a failed run leaves them: the processes this test started, by pid
            if _alive(p):
                os.kill(p, signal.SIGKILL)
