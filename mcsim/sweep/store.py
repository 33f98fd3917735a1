"""The sweep folder: a manifest and a Parquet dataset that grows one batch file at a time.

Layout of ``DIR``::

    _manifest.json                what the sweep is (hash of its normalised content, cells, ...)
    runs/batch-00000040.parquet   one row per run of a finished batch (named by its first run)
    _patients/batch-00000040.parquet   the batch's patients tables, when the sweep stores them

The runs table is the sweep's result, so the folder reads as that one table:
``pd.read_parquet(DIR)`` (or pyarrow, DuckDB, Polars) returns it, because dataset readers skip
names that start with ``_`` or ``.``, and every batch file has the same columns (a batch that
brings a new metric column widens the files before it, with nulls). Folders written before this
layout (``manifest.json``, ``patients/``) are read as they are and renamed when a sweep is
resumed in them.

Every file is written under a temporary name and then renamed (``os.replace`` is atomic), and a
batch's patients file is renamed before its runs file, so the runs files are the commit record:
a run is stored if and only if its row is in ``runs/``. Killing the process at any moment
therefore loses at most the runs in flight, and ``--resume`` reruns exactly the missing ones.
A lock file keeps two sweeps from writing into one folder at once. It is an operating-system
lock (:mod:`filelock`: ``flock`` on Linux and macOS, ``msvcrt`` on Windows), which the system
drops when its process dies, so the lock of a killed sweep is taken over by the next one; what
a killed process leaves half-written (a ``.NAME.tmp-PID`` file, even a temporary manifest with no
manifest beside it) is removed when the folder is opened again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from mcsim.errors import InputError, echo
from mcsim.metrics import METRIC_KEYS
from mcsim.safeio import read_json

MANIFEST = "_manifest.json"
LOCK = ".lock"
RUNS = "runs"
PATIENTS = "_patients"
#: The names of the first layout, which readers still open: new name → old name.
LEGACY_NAMES = {MANIFEST: "manifest.json", PATIENTS: "patients"}

#: The identity columns every row starts with, and their Arrow types.
ID_COLUMNS: dict[str, pa.DataType] = {
    "sweep_id": pa.string(),
    "run_id": pa.int64(),
    "cell_id": pa.int64(),
    "scenario": pa.string(),
    "replication": pa.int64(),
    "seed": pa.int64(),
}
POLICY_COLUMNS = ("policy.triage", "policy.dispatch", "policy.destination")


def batch_name(first_run_id: int) -> str:
    """The file name of the batch whose first run is ``first_run_id``."""
    return f"batch-{first_run_id:08d}.parquet"


def _write_atomic(path: Path, write: Any) -> None:
    # Written whole under a temporary name, then renamed: a killed process never leaves a
    # half-written file under a real name. No fsync: the guarantee is against a killed process
    # (the page cache survives it); after a machine crash, an unreadable batch file is dropped
    # on --resume and its runs are run again (see SweepStore.done_run_ids).
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        write(fh)
    os.replace(tmp, path)


def factor_type(levels: list[Any]) -> pa.DataType:
    """The Arrow type of a factor column, from its values."""
    if levels and all(isinstance(v, bool) for v in levels):
        return pa.bool_()
    if levels and all(isinstance(v, int) and not isinstance(v, bool) for v in levels):
        return pa.int64()
    if levels and all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels):
        return pa.float64()
    return pa.string()


def metric_sort_key(column: str) -> tuple[int, str]:
    """Metric columns in the order of :data:`METRIC_KEYS`, then by name."""
    top = column.split(".", 1)[0]
    rank = METRIC_KEYS.index(top) if top in METRIC_KEYS else len(METRIC_KEYS)
    return (rank, column)


class SweepStore:
    """A sweep folder opened for writing (see :meth:`open`).

    Args:
        out: the folder.
        manifest: the manifest it holds.
        factor_types: Arrow type of each factor column.
    """

    def __init__(self, out: Path, manifest: dict[str, Any], factor_types: dict[str, pa.DataType]):
        self.out = out
        self.manifest = manifest
        self.factor_types = factor_types
        self._lock: FileLock | None = None
        self._metrics: list[str] | None = None  # metric columns every batch file has

    # ----------------------------------------------------------------------------------------
    @classmethod
    def open(cls, out: str | Path, manifest: dict[str, Any], *, resume: bool) -> SweepStore:
        """Open ``out`` for the sweep described by ``manifest``.

        A new or empty folder gets the manifest. A folder holding the same sweep is taken up
        again only with ``resume``; a folder holding anything else is refused.

        Raises:
            InputError: the folder holds a different sweep, or this one without ``resume``, or
                something that is not a sweep, or another process is writing to it.
        """
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise InputError("exists and is not a folder", file=str(out), path="--out")
        out.mkdir(parents=True, exist_ok=True)
        types = {f["path"]: _factor_type(f) for f in manifest["factors"]}
        store = cls(out, manifest, types)
        store._acquire()
        try:
            _migrate(out)
            store._check_and_init(resume)
        except BaseException:
            store.close()
            raise
        return store

    def _acquire(self) -> None:
        # Not blocking (timeout 0): a second sweep into a busy folder is a mistake to report.
        # Not thread-local: the sweep's main thread opens and closes it, whatever ran between.
        lock = FileLock(self.out / LOCK, timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            raise InputError(
                "another mcsim sweep is writing to this folder", file=str(self.out), path="--out"
            ) from None
        self._lock = lock

    def close(self) -> None:
        """Release the folder's lock."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _check_and_init(self, resume: bool) -> None:
        mpath = self.out / MANIFEST
        if mpath.exists():
            try:
                # safeio refuses a FIFO or device (it would block or never end) before reading
                old = read_json(mpath, what="sweep manifest")
            except InputError as exc:
                raise InputError(
                    f"unreadable sweep manifest ({exc.message}); use another folder",
                    file=str(mpath),
                ) from None
            if not isinstance(old, dict):
                raise InputError(
                    "unreadable sweep manifest (not a JSON object); use another folder",
                    file=str(mpath),
                )
            if old.get("hash") != self.manifest["hash"]:
                raise InputError(
                    f"holds a different sweep ({old.get('name')!r}, id {old.get('sweep_id')}); "
                    f"this sweep's id is {self.manifest['sweep_id']}: choose another --out folder",
                    file=str(self.out),
                    path="--out",
                )
            self._clean()
            if not resume:
                done = len(self.done_run_ids())
                raise InputError(
                    f"already holds {done} of {self.manifest['n_runs']} runs of this sweep; "
                    "pass --resume to finish it, or choose another --out folder",
                    file=str(self.out),
                    path="--out",
                )
            return
        # What a process killed while writing the first manifest leaves is not "something else".
        for p in self.out.glob(".*.tmp-*"):
            p.unlink()
        others = [p.name for p in self.out.iterdir() if p.name != LOCK]
        if others:
            raise InputError(
                "is not empty and holds no sweep manifest; choose an empty or new folder",
                file=str(self.out),
                path="--out",
            )
        # The manifest first: a kill right after it leaves a folder that --resume takes up.
        text = json.dumps(self.manifest, indent=1, default=str) + "\n"
        _write_atomic(mpath, lambda fh: fh.write(text.encode("utf-8")))
        self._clean()

    def _clean(self) -> None:
        """Remove what a killed process left half-done: temporary files, orphan patients."""
        subs = (RUNS, PATIENTS) if self.manifest.get("store_patients") else (RUNS,)
        for sub in subs:
            d = self.out / sub
            d.mkdir(exist_ok=True)
            for p in d.iterdir():
                if p.name.startswith("."):
                    p.unlink()
        committed = {p.name for p in (self.out / RUNS).glob("batch-*.parquet")}
        if (self.out / PATIENTS).is_dir():
            for p in (self.out / PATIENTS).glob("batch-*.parquet"):
                if p.name not in committed:
                    p.unlink()
        for p in self.out.glob(".*.tmp-*"):
            p.unlink()

    # ----------------------------------------------------------------------------------------
    def done_run_ids(self) -> set[int]:
        """The runs already stored."""
        done: set[int] = set()
        for p in sorted((self.out / RUNS).glob("batch-*.parquet")):
            try:
                ids = pq.read_table(p, columns=["run_id"]).column("run_id").to_pylist()
            except (OSError, pa.ArrowException):
                # cut short by a machine crash: drop it, its runs will run again
                p.unlink()
                (self.out / PATIENTS / p.name).unlink(missing_ok=True)
                continue
            done.update(ids)
        return done

    def schema(self, metrics: list[str]) -> pa.Schema:
        """The runs table's schema: identity, factors, policies, then ``metrics`` (float64)."""
        fields = [pa.field(k, t) for k, t in ID_COLUMNS.items()]
        fields += [pa.field(k, t) for k, t in self.factor_types.items()]
        fields += [pa.field(k, pa.string()) for k in POLICY_COLUMNS]
        fields += [pa.field(k, pa.float64()) for k in metrics]
        return pa.schema(fields)

    def table(self, rows: list[dict[str, Any]]) -> pa.Table:
        """Rows → an Arrow table with fixed types and every metric column the folder has.

        A row's metric that no stored batch has yet widens the stored files first (see
        :meth:`_widen`), so that every batch file keeps the same columns.
        """
        fixed = {*ID_COLUMNS, *self.factor_types, *POLICY_COLUMNS}
        known = self._stored_metrics()
        new = {k for row in rows for k in row if k not in fixed} - set(known)
        if new:
            self._metrics = sorted([*known, *new], key=metric_sort_key)
            self._widen()
        schema = self.schema(self._stored_metrics())
        cols = {f.name: [row.get(f.name) for row in rows] for f in schema}
        return pa.Table.from_pydict(cols, schema=schema)

    def _stored_metrics(self) -> list[str]:
        """The metric columns of the stored batch files (their union, read once)."""
        if self._metrics is None:
            fixed = {*ID_COLUMNS, *self.factor_types, *POLICY_COLUMNS}
            names: set[str] = set()
            for p in (self.out / RUNS).glob("batch-*.parquet"):
                try:
                    names.update(n for n in pq.read_schema(p).names if n not in fixed)
                except (OSError, pa.ArrowException):
                    continue  # cut short by a crash: done_run_ids drops it
            self._metrics = sorted(names, key=metric_sort_key)
            self._widen()  # a crash may have stopped an earlier widening half-way
        return self._metrics

    def _widen(self) -> None:
        """Rewrite every stored batch file that lacks some metric column (nulls there)."""
        assert self._metrics is not None
        schema = self.schema(self._metrics)
        for p in sorted((self.out / RUNS).glob("batch-*.parquet")):
            try:
                if pq.read_schema(p).names == schema.names:
                    continue
                old = pq.read_table(p)
            except (OSError, pa.ArrowException):
                continue
            cols = [
                old.column(f.name).cast(f.type)
                if f.name in old.column_names
                else pa.nulls(old.num_rows, f.type)
                for f in schema
            ]
            widened = pa.Table.from_arrays(cols, schema=schema)
            _write_atomic(p, lambda fh, t=widened: pq.write_table(t, fh))

    def write_batch(self, rows: list[dict[str, Any]], patients: pd.DataFrame | None) -> Path:
        """Store a finished batch atomically (patients first, then the committing runs file)."""
        from mcsim.tables import PATIENTS as PATIENTS_TABLE
        from mcsim.tables import to_written

        first = min(int(r["run_id"]) for r in rows)
        name = batch_name(first)
        if patients is not None:
            written = to_written(patients, PATIENTS_TABLE)  # missing ids as nulls
            ptable = pa.Table.from_pandas(written, preserve_index=False)
            _write_atomic(self.out / PATIENTS / name, lambda fh: pq.write_table(ptable, fh))
        table = self.table(rows)
        path = self.out / RUNS / name
        _write_atomic(path, lambda fh: pq.write_table(table, fh))
        return path


def _factor_type(f: dict[str, Any]) -> pa.DataType:
    if f["kind"] == "lhs":
        return pa.int64() if f.get("integer") else pa.float64()
    return factor_type(f["levels"])


# --------------------------------------------------------------------------------------------
# Reading


def _migrate(out: Path) -> None:
    """Rename a folder of the first layout (``manifest.json``, ``patients/``) to this one."""
    for new, old in LEGACY_NAMES.items():
        if (out / old).exists() and not (out / new).exists():
            os.replace(out / old, out / new)


def _part(out: str | Path, name: str) -> Path:
    """``out/name``, or its name in the first layout if only that exists."""
    p = Path(out) / name
    old = Path(out) / LEGACY_NAMES.get(name, name)
    return old if not p.exists() and old.exists() else p


def is_sweep_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder written by ``mcsim sweep`` (either layout)."""
    return _part(path, MANIFEST).is_file()


def read_manifest(
    out: str | Path, *, require: tuple[str, ...] = ("sweep_id", "factors")
) -> dict[str, Any]:
    """The manifest of the sweep folder ``out``, its shape checked.

    A damaged folder (a manifest cut short, hand-edited, of another format) is an
    :class:`InputError` naming the manifest and the field, never a traceback further on.

    Args:
        out: the sweep folder.
        require: keys that must be there (:data:`ANALYSIS_KEYS` for an analysis); the others
            of :data:`MANIFEST_KEYS` are checked when present.
    """
    from mcsim.safeio import read_json

    folder = Path(out)
    if not folder.is_dir():
        what = "no such folder" if not folder.exists() else "not a folder"
        raise InputError(f"{what}; give a sweep folder", file=str(out))
    p = _part(out, MANIFEST)
    if not p.exists():
        raise InputError(f"not a sweep folder (no {MANIFEST})", file=str(out))
    data = read_json(p, what="sweep manifest")
    _check_manifest(data, str(p), require)
    return data


#: The keys of a manifest that readers use, and their types.
MANIFEST_KEYS: dict[str, tuple[type, ...]] = {
    "sweep_id": (str,),
    "name": (str,),
    "n_runs": (int,),
    "n_cells": (int,),
    "replications": (int,),
    "base_seed": (int,),
    "factors": (list,),
    "scenarios": (list,),
    "cells": (list,),
}
#: What ``mcsim analyze`` needs of a manifest.
ANALYSIS_KEYS = tuple(MANIFEST_KEYS)


def _check_manifest(data: Any, file: str, require: tuple[str, ...]) -> None:
    def bad(path: str, msg: str) -> InputError:
        return InputError(
            f"{msg} (a damaged sweep folder? run the sweep again)", file=file, path=path
        )

    if not isinstance(data, dict):
        raise bad("", "a sweep manifest must be a JSON object")
    if data.get("format", "mcsim-sweep") != "mcsim-sweep":
        raise bad("format", f"not an mcsim sweep manifest: {echo(data.get('format'))}")
    for key, types in MANIFEST_KEYS.items():
        if key not in data:
            if key in require:
                raise bad(key, "missing key")
            continue
        value = data[key]
        if not isinstance(value, types) or isinstance(value, bool):
            raise bad(key, f"must be {types[0].__name__}, got {echo(value)}")
    for i, f in enumerate(data.get("factors", [])):
        where = f"factors[{i}]"
        if not isinstance(f, dict) or not isinstance(f.get("path"), str):
            raise bad(where, "a factor must be an object with a path")
        if f.get("kind") not in ("levels", "lhs"):
            raise bad(f"{where}.kind", f"must be levels or lhs, got {echo(f.get('kind'))}")
        if not isinstance(f.get("levels", []), list):
            raise bad(f"{where}.levels", "must be a list")
    if "scenarios" in require and not data["scenarios"]:
        raise bad("scenarios", "no base scenario")
    if "cells" in require and not data["cells"]:
        raise bad("cells", "no cell")
    ids: set[int] = set()
    for i, c in enumerate(data.get("cells", [])):
        where = f"cells[{i}]"
        if not isinstance(c, dict):
            raise bad(where, "a cell must be an object")
        cid = c.get("cell_id")
        if not isinstance(cid, int) or isinstance(cid, bool) or cid in ids:
            raise bad(f"{where}.cell_id", f"must be a distinct whole number, got {echo(cid)}")
        ids.add(cid)
        if not isinstance(c.get("scenario"), str) or not isinstance(c.get("factors"), dict):
            raise bad(where, "a cell needs a scenario (text) and factors (an object)")


def _read_batch(p: Path) -> pd.DataFrame:
    from mcsim.safeio import MAX_BINARY_BYTES, check_input

    check_input(p, what="Parquet batch file", max_bytes=MAX_BINARY_BYTES)
    try:
        return pq.read_table(p).to_pandas()
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise InputError(
            f"unreadable batch file ({echo(str(exc), 120)}); delete it and finish the sweep "
            "with --resume",
            file=str(p),
        ) from None


def read_runs(out: str | Path) -> pd.DataFrame:
    """Every stored run of the sweep folder ``out``, one row each, sorted by ``run_id``.

    Raises:
        InputError: a damaged folder (unreadable manifest or batch file, missing columns, runs
            stored twice or of another sweep), naming the file.
    """
    manifest = read_manifest(out)
    runs_dir = Path(out) / RUNS
    if runs_dir.exists() and not runs_dir.is_dir():
        raise InputError("must be a folder of batch files", file=str(runs_dir))
    files = sorted(runs_dir.glob("batch-*.parquet"))
    frames = [_read_batch(p) for p in files]
    factors = [f["path"] for f in manifest["factors"]]
    if not frames:
        return pd.DataFrame(columns=[*ID_COLUMNS, *factors, *POLICY_COLUMNS])
    cells = {int(c["cell_id"]) for c in manifest["cells"]} if "cells" in manifest else None
    for p, f in zip(files, frames, strict=True):
        missing = [c for c in ("sweep_id", "run_id", "cell_id", "replication") if c not in f]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}", file=str(p))
        other = set(f["sweep_id"].astype(str)) - {manifest["sweep_id"]}
        if other:
            raise InputError(
                f"holds runs of another sweep ({echo(sorted(other)[0])}); this folder's sweep "
                f"is {manifest['sweep_id']}",
                file=str(p),
            )
        unknown = set(f["cell_id"].tolist()) - cells if cells is not None else set()
        if unknown:
            raise InputError(f"runs of cell {min(unknown)}, not in the manifest", file=str(p))
    df = pd.concat(frames, ignore_index=True, sort=False)
    fixed = [*ID_COLUMNS, *factors, *POLICY_COLUMNS]
    metrics = sorted((c for c in df.columns if c not in fixed), key=metric_sort_key)
    df = df[[c for c in fixed if c in df.columns] + metrics]
    df = df.sort_values("run_id", kind="stable").reset_index(drop=True)
    if df["run_id"].duplicated().any():
        dup = int(df.loc[df["run_id"].duplicated(), "run_id"].iloc[0])
        raise InputError(f"run {dup} is stored twice (a damaged sweep folder?)", file=str(out))
    return df


def read_patients(out: str | Path) -> pd.DataFrame:
    """Every stored patients table (with ``run_id``), for sweeps that store them.

    In the file form (missing ids as nulls, docs/data.md), also for folders written before it.
    """
    from mcsim.tables import PATIENTS as PATIENTS_TABLE
    from mcsim.tables import to_written

    files = sorted(_part(out, PATIENTS).glob("batch-*.parquet"))
    if not files:
        return pd.DataFrame()
    df = pd.concat([_read_batch(p) for p in files], ignore_index=True)
    df = df.sort_values(["run_id", "patient"], kind="stable").reset_index(drop=True)
    return to_written(df, PATIENTS_TABLE)
