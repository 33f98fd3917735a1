"""Sweep results for the app: read a folder of Parquet files, summarise a metric by factor.

A sweep results folder holds one row per run (factors such as the policies, the casualty count
or the seed, and the run's metrics as columns) in one or more ``*.parquet`` files, possibly in
sub-folders (a partitioned dataset). The app lets the user pick a metric (a numeric column), a
factor to put on the x axis and a grouping column (a policy, typically), and plots the mean
with a 95 % confidence interval over the replications of each cell.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mcsim.errors import InputError
from mcsim.metrics import headline_names
from mcsim.stats import t_interval

#: Columns that identify a run rather than describe it: never offered as factor or metric.
ID_COLUMNS = frozenset(
    {"run", "run_id", "replication", "rep", "seed", "index", "cell", "cell_id", "sweep_id"}
)
#: Columns named like policies are offered first as the grouping.
POLICY_COLUMNS = (
    "policy.destination",
    "policy.triage",
    "policy.dispatch",
    "policy",
    "triage",
    "dispatch",
    "destination",
)


#: Environment variable naming the results root (``mcsim app --results DIR`` sets it).
RESULTS_ENV = "MCSIM_RESULTS_DIR"
#: How deep under the results root the app looks for sweeps (root = depth 0).
LIST_DEPTH = 2


def results_root() -> Path:
    """The folder the Sweeps tab may read: ``$MCSIM_RESULTS_DIR``, or ./results (resolved).

    The browser user never types a server path: the app lists what is under this root and
    reads nothing outside it (issue 13, defect 6).
    """
    env = os.environ.get(RESULTS_ENV)
    base = Path(env).expanduser() if env else Path.cwd() / "results"
    return base.resolve()


@dataclass(frozen=True)
class SweepEntry:
    """A results folder found under the root.

    Attributes:
        name: its path relative to the root, with ``/`` ("." for the root itself).
        label: what the list shows: the name, the sweep's own name and its run count if known.
        is_sweep: written by ``mcsim sweep`` (has a manifest).
    """

    name: str
    label: str
    is_sweep: bool


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path``, symlinks followed, is ``root`` or under it."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop
        return False


def _has_parquet(folder: Path, root: Path) -> bool:
    return any(_inside(f, root) for f in folder.glob("*.parquet"))


def _entry(folder: Path, root: Path) -> SweepEntry | None:
    from mcsim.sweep.store import is_sweep_folder, read_manifest

    name = folder.relative_to(root).as_posix() if folder != root else "."
    if is_sweep_folder(folder):
        try:
            m = read_manifest(folder, require=())
        except InputError:
            return SweepEntry(name, f"{name} (damaged sweep folder)", True)
        bits = [str(m["name"])] if m.get("name") else []
        if isinstance(m.get("n_runs"), int):
            bits.append(f"{m['n_runs']} runs")
        return SweepEntry(name, f"{name} — {', '.join(bits)}" if bits else name, True)
    if _has_parquet(folder, root):
        return SweepEntry(name, f"{name} (Parquet files)", False)
    return None


def list_sweeps(root: Path | None = None) -> list[SweepEntry]:
    """The results folders under ``root`` (sweeps first, then folders of Parquet files).

    Looks :data:`LIST_DEPTH` levels down, never into a sweep folder's own parts, never
    through a symlink that leads outside the root, and not into hidden folders (``.venv``).
    """
    root = (root or results_root()).resolve()
    if not root.is_dir():
        return []
    found: list[SweepEntry] = []
    level = [root]
    for depth in range(LIST_DEPTH + 1):
        nxt: list[Path] = []
        for folder in level:
            e = _entry(folder, root)
            if e is not None:
                found.append(e)
                if e.is_sweep:
                    continue
            if depth < LIST_DEPTH:
                try:
                    subs = sorted(p for p in folder.iterdir() if p.is_dir())
                except OSError:
                    continue
                nxt += [p for p in subs if not p.name.startswith(".") and _inside(p, root)]
        level = nxt
    return sorted(found, key=lambda e: (not e.is_sweep, e.name))


def resolve_in_root(name: str, root: Path | None = None) -> Path:
    """The folder ``name`` (relative to the root) — refused if it leaves the root.

    Refused: an absolute path, any ``..`` part, a folder or file that a symlink takes
    outside the root, a folder that does not exist.

    Raises:
        InputError: naming the folder and why.
    """
    root = (root or results_root()).resolve()
    text = str(name).strip()
    if not text:
        raise InputError("choose a sweep from the list first")
    rel = Path(text)
    if rel.is_absolute() or text.startswith("~"):
        raise InputError(f"only folders under the results root {root} can be opened", file=text)
    if ".." in rel.parts:
        raise InputError("'..' is not allowed: only folders under the results root", file=text)
    target = root / rel
    if not _inside(target, root):
        raise InputError(f"leads outside the results root {root} (a symlink)", file=text)
    if not target.is_dir():
        raise InputError(f"no such folder under the results root {root}", file=text)
    for f in target.rglob("*"):
        if (f.is_symlink() or f.is_dir()) and not _inside(f, root):
            raise InputError(
                f"holds a link outside the results root: {f.relative_to(root)}", file=text
            )
    return target


def load_in_root(name: str, root: Path | None = None) -> pd.DataFrame:
    """:func:`load_sweep` of the folder ``name`` under the results root (confined there)."""
    return load_sweep(resolve_in_root(name, root))


def load_sweep(folder: str | Path) -> pd.DataFrame:
    """The run table of a sweep folder (one row per run).

    A folder written by ``mcsim sweep`` (it has a ``_manifest.json``) is read with
    :func:`mcsim.sweep.read_runs`, and its declared factors are kept in ``df.attrs["factors"]``;
    any other folder is read as every ``*.parquet`` file under it, concatenated (a file named
    ``runs.parquet`` or ``results.parquet``, if any, is taken as the run table instead).

    Raises:
        InputError: the folder is missing, holds no Parquet file, or a file cannot be read.
    """
    p = Path(folder).expanduser()
    if not str(folder).strip():
        raise InputError("type the path of a sweep results folder first")
    if not p.exists():
        raise InputError("no such folder", file=str(folder))
    from mcsim.sweep.store import is_sweep_folder

    if p.is_dir() and is_sweep_folder(p):
        from mcsim.sweep import read_manifest, read_runs

        try:
            df = read_runs(p)
            factors = [f["path"] for f in read_manifest(p).get("factors", [])]
        except (ValueError, KeyError, OSError) as exc:
            raise InputError(f"cannot read the sweep: {exc}", file=str(folder)) from None
        if df.empty:
            raise InputError("the sweep has no finished run yet", file=str(folder))
        df.attrs["factors"] = factors
        return df
    if p.is_file():
        files = [p] if p.suffix == ".parquet" else []
    else:
        files = sorted(p.rglob("*.parquet"))
    if not files:
        raise InputError("no *.parquet files here", file=str(folder))
    runs = [f for f in files if f.stem in ("runs", "results")]
    if runs:  # a results folder may also hold per-run event logs: the run table is the one
        files = runs
    frames = []
    for f in files:
        try:
            frames.append(pd.read_parquet(f))
        except Exception as exc:  # pyarrow raises many kinds; all mean "not a readable table"
            raise InputError(f"cannot read: {exc}", file=str(f)) from None
    df = pd.concat(frames, ignore_index=True)
    if df.empty:
        raise InputError("the Parquet files hold no rows", file=str(folder))
    return df


@dataclass(frozen=True)
class Columns:
    """Which columns of a sweep table can be plotted how (best candidates first)."""

    metrics: list[str]
    factors: list[str]
    groups: list[str]


def guess_columns(df: pd.DataFrame, max_levels: int = 30) -> Columns:
    """Metrics: numeric columns that vary; factors: declared ones or few levels; groups: text.

    Factors declared by the sweep (``df.attrs["factors"]``) come first and are never metrics;
    otherwise a column with at most ``max_levels`` distinct values is a factor. Text and bool
    columns with at least two levels can group the lines (policy columns first).
    """
    declared = [c for c in df.attrs.get("factors", []) if c in df.columns]
    metrics, factors, groups = [], list(declared), []
    for c in df.columns:
        if str(c).lower() in ID_COLUMNS:
            continue
        col = df[c]
        try:
            n = col.nunique(dropna=True)
        except TypeError:  # unhashable values (lists, dicts): not plottable
            continue
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        if c not in declared and n > 1 and (not numeric if declared else n <= max_levels):
            factors.append(c)
        if not numeric and n > 1:
            groups.append(c)
        if numeric and c not in declared and n > 1:
            metrics.append(c)
    first = headline_names()  # the headline metrics are offered first, in their order
    metrics.sort(key=lambda m: first.index(m) if m in first else len(first))
    groups.sort(key=lambda g: POLICY_COLUMNS.index(g) if g in POLICY_COLUMNS else 99)
    return Columns(metrics=metrics, factors=factors, groups=groups)


def same_column(a: str, b: str) -> bool:
    """Whether two columns say the same (a factor ``policies.x`` and the run's ``policy.x``)."""
    strip = {"policies.": "", "policy.": ""}

    def norm(c: str) -> str:
        for k in strip:
            if c.startswith(k):
                return c[len(k) :]
        return c

    return norm(a) == norm(b)


def default_choice(cols: Columns) -> tuple[str | None, str | None, str | None]:
    """(metric, factor, by) to show first: a numeric factor on x, a policy as the lines."""
    metric = cols.metrics[0] if cols.metrics else None
    factor = next((f for f in cols.factors if not f.startswith(("policies.", "policy."))), None)
    if factor is None and cols.factors:
        factor = cols.factors[0]
    by = next((g for g in cols.groups if factor is None or not same_column(g, factor)), None)
    return metric, factor, by


def summarise(df: pd.DataFrame, metric: str, factor: str, by: str | None = None) -> pd.DataFrame:
    """Mean, n and 95 % CI half-width (Student t) of ``metric`` per ``factor`` (and ``by``).

    Returns:
        Columns ``factor``, ``group`` (the ``by`` value, or "all"), ``mean``, ``n``, ``ci95``
        (NaN for a single run).
    """
    for c in (metric, factor, by):
        if c is not None and c not in df.columns:
            raise InputError(f"no column {c!r}; columns: {', '.join(map(str, df.columns))}")
    keys = [factor] + ([by] if by else [])
    d = df[[*keys, metric]].dropna(subset=[metric])
    g = d.groupby(keys, sort=True, dropna=False)[metric]
    out = g.agg(["mean", "count"]).reset_index()
    out["ci95"] = [(hi - lo) / 2 for _, _, _, lo, hi in (t_interval(v) for _, v in g)]
    out = out.rename(columns={"count": "n"})
    out["group"] = out[by].astype(str) if by else "all"
    return out
