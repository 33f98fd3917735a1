"""Outputs survive bad disks, and inputs cannot hang or flood mcsim (mcsim.safeio, issue 15).

A full disk is a real one: a small tmpfs mounted for the test (skipped, with the reason, where
mounting is not allowed). On it an existing exercise log and an existing run folder are
overwritten with ``--force`` until the disk runs out: the command says so in one line and the
old files are byte for byte what they were, with no temporary file left behind. A read-only file
system, a parent that is a file, and a writer that fails half-way are refused the same way.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import small_scenario_data

from mcsim.cli import main
from mcsim.errors import InputError
from mcsim.safeio import (
    check_shape,
    parse_json,
    parse_yaml,
    read_bytes,
    read_text,
    write_file,
    write_files,
)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _mount_tmpfs(where: Path, size: str, *, read_only: bool = False) -> str | None:
    """Mount a tmpfs at ``where``; None if done, else why it cannot be."""
    if shutil.which("mount") is None:
        return "no mount command"
    where.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if read_only else "")
    p = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if p.returncode != 0:
        return f"cannot mount a tmpfs here ({p.stderr.strip() or p.returncode})"
    return None


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs: room for a small run's outputs, quickly filled."""
    where = tmp_path / "disk"
    why = _mount_tmpfs(where, "3m")
    if why is not None:
        pytest.skip(why)
    try:
        yield where
    finally:
        _umount(where)


def _fill(disk: Path) -> None:
    """Fill ``disk`` to the last byte (big writes, then small ones for the last blocks)."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 16, 512, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    p = tmp_path / "town.yaml"
    p.write_text(yaml.safe_dump(small_scenario_data(20), sort_keys=False))
    return p


def test_a_full_disk_leaves_the_old_exercise_log_intact(
    small_disk: Path, tmp_path: Path, scenario: Path, capsys
):
    script = tmp_path / "ex.yaml"
    script.write_text(f"scenario: {scenario}\nseed: 1\n")
    log = small_disk / "log.json"
    code, _, err = _cli(capsys, "exercise", "run", str(script), "--out", str(log))
    assert code == 0, err
    old = log.read_bytes()
    script.write_text(f"scenario: {scenario}\nseed: 2\n")  # a different log
    _fill(small_disk)
    code, _, err = _cli(capsys, "exercise", "run", str(script), "--out", str(log), "--force")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {log}: --out: cannot write: ")
    assert "no space left" in err and "the existing file is unchanged" in err
    assert log.read_bytes() == old
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "log.json"]


def test_a_full_disk_leaves_every_old_run_output_intact(small_disk: Path, scenario: Path, capsys):
    out = small_disk / "run"
    code, _, err = _cli(capsys, "run", str(scenario), "--seed", "1", "--out", str(out))
    assert code == 0, err
    old = _files(out)
    assert set(old) == {
        "events.parquet", "patients.parquet", "metrics.json", "nodes.parquet", "places.parquet"
    }  # fmt: skip
    _fill(small_disk)
    code, _, err = _cli(capsys, "run", str(scenario), "--seed", "2", "--out", str(out), "--force")
    assert code == 2
    assert err.count("\n") == 1 and "no space left" in err and "unchanged" in err
    assert _files(out) == old  # all five, not a new events file beside old patients


def test_without_force_existing_outputs_are_refused_before_any_work(scenario: Path, capsys):
    out = scenario.parent / "run"
    assert _cli(capsys, "run", str(scenario), "--out", str(out))[0] == 0
    old = _files(out)
    code, _, err = _cli(capsys, "run", str(scenario), "--seed", "3", "--out", str(out))
    assert code == 2 and "--force" in err and err.count("\n") == 1
    assert _files(out) == old
    ino = (out / "metrics.json").stat().st_ino
    code, _, err = _cli(capsys, "run", str(scenario), "--seed", "3", "--out", str(out), "--force")
    assert code == 0, err
    assert _files(out) != old
    assert (out / "metrics.json").stat().st_ino != ino  # replaced by rename, not rewritten
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_read_only_file_system_is_one_line_and_creates_nothing(tmp_path: Path, scenario, capsys):
    where = tmp_path / "ro"
    why = _mount_tmpfs(where, "1m", read_only=True)
    if why is not None:
        if os.geteuid() == 0:
            pytest.skip(why)  # root ignores permission bits: only a read-only mount tells
        where.mkdir()
        where.chmod(0o555)
    try:
        code, _, err = _cli(capsys, "run", str(scenario), "--out", str(where / "run"))
        assert code == 2
        assert err.count("\n") == 1 and err.startswith(f"error: {where / 'run'}")
        assert "read-only" in err or "permission denied" in err
        assert list(where.iterdir()) == []
    finally:
        if why is None:
            _umount(where)


def test_a_parent_that_is_a_file_is_refused(tmp_path: Path, scenario, capsys):
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "report.html"
    log = tmp_path / "log.json"
    script = tmp_path / "ex.yaml"
    script.write_text(f"scenario: {scenario}\n")
    assert _cli(capsys, "exercise", "run", str(script), "--out", str(log))[0] == 0
    code, _, err = _cli(capsys, "report", str(log), "--out", str(target))
    assert code == 2 and err.count("\n") == 1 and "report.html" in err
    assert (tmp_path / "file").read_text() == "x"


def test_a_missing_parent_is_created(tmp_path: Path):
    p = write_file(tmp_path / "a" / "b" / "c.txt", "hello", force=False)
    assert p.read_text() == "hello"


def test_a_writer_failing_half_way_leaves_all_old_files_and_no_temporary(tmp_path: Path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a")
    b.write_text("old b")

    def fail(fh) -> None:
        fh.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(InputError, match="no space left on the device; the existing file"):
        write_files({a: "new a", b: fail}, force=True)
    assert a.read_text() == "old a" and b.read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


def test_a_writer_that_raises_anything_leaves_no_temporary(tmp_path: Path):
    def boom(fh) -> None:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        write_file(tmp_path / "x.txt", boom, force=True)
    assert list(tmp_path.iterdir()) == []


# -------------------------------------------------------------------------------- reading


def test_odd_files_are_refused_before_reading(tmp_path: Path):
    fifo = tmp_path / "f.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_text(fifo)  # would block forever on a plain open()
    with pytest.raises(InputError, match="not a regular file"):
        read_bytes("/dev/zero")  # would read until the memory is gone
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(1000)
    with pytest.raises(InputError, match="too large: 1,000 bytes; at most 999"):
        read_bytes(big, max_bytes=999)
    assert read_bytes(big, max_bytes=1000) == b"\0" * 1000
    os.symlink(tmp_path / "loop2", tmp_path / "loop1")
    os.symlink(tmp_path / "loop1", tmp_path / "loop2")
    with pytest.raises(InputError, match="symbolic links"):
        read_text(tmp_path / "loop1")
    with pytest.raises(InputError, match="file name too long"):
        read_text(tmp_path / ("x" * 256))
    with pytest.raises(InputError, match="is a folder"):
        read_text(tmp_path)


def test_deep_and_huge_data_are_refused_at_the_limits():
    assert check_shape([[[1]]], max_depth=3) == [[[1]]]
    with pytest.raises(InputError, match="nested deeper than 3 levels"):
        check_shape([[[[1]]]], max_depth=3)
    with pytest.raises(InputError, match="more than 10 "):
        check_shape(list(range(10)), max_nodes=10)
    assert len(check_shape(list(range(9)), max_nodes=10)) == 9
    shared = [1] * 5
    with pytest.raises(InputError, match="more than 20"):  # an alias counts each time used
        check_shape([shared] * 5, max_nodes=20)
    with pytest.raises(InputError, match="nested deeper than 64"):
        parse_json("[" * 10_000 + "]" * 10_000, file="x.json")
    with pytest.raises(InputError, match="x.yaml: (line 1, column 1001: )?nested deeper than 64"):
        parse_yaml("[" * 10_000 + "]" * 10_000, file="x.yaml")


# -------------------------------------------------------------------------------- sweeps


def _sweep_file(tmp_path: Path) -> Path:
    (tmp_path / "town.yaml").write_text(yaml.safe_dump(small_scenario_data(20)))
    p = tmp_path / "sweep.yaml"
    p.write_text(
        yaml.safe_dump(
            {"sweep_version": 1, "name": "s", "scenarios": ["town.yaml"], "replications": 1}
        )
    )
    return p


def test_a_sweep_on_a_full_disk_is_one_line(small_disk: Path, tmp_path: Path, capsys):
    sweep = _sweep_file(tmp_path)
    _fill(small_disk)
    out = small_disk / "sweep"
    code, _, err = _cli(capsys, "sweep", str(sweep), "--out", str(out), "--quiet")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"error: {out}: --out: cannot write: no space left")


def test_a_disk_filling_up_during_a_sweep_keeps_what_is_stored(tmp_path: Path):
    from concurrent.futures import Future

    from mcsim.sweep.execute import BatchResult, _Progress, _store

    class FullStore:
        out = tmp_path

        def write_batch(self, rows, patients):
            raise OSError(errno.ENOSPC, "No space left on device")

    f: Future = Future()
    f.set_result(BatchResult(rows=[{"run_id": 0}]))
    with pytest.raises(InputError, match="no space left on the device; the runs stored so far"):
        _store({f}, FullStore(), _Progress(False, "s", 1, 0))  # type: ignore[arg-type]


def test_an_overwritten_file_keeps_its_permissions(tmp_path: Path):
    p = tmp_path / "log.json"
    p.write_text("old")
    p.chmod(0o640)
    write_file(p, "new", force=True)
    assert p.read_text() == "new" and (p.stat().st_mode & 0o777) == 0o640
    fresh = write_file(tmp_path / "fresh.json", "x", force=False)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~_umask_now()


def _umask_now() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
