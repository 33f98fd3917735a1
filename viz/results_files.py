"""Folders of results the app may read: under the results root, or named at start-up.

The Sweeps tab set the rule (issue 13, defect 6): a browser user never types a server path; the
app lists what it finds under the results root (``mcsim app --results DIR``) and reads nothing
outside it — no absolute path, no ``..``, no symlink that leads out. Posteriors
(:mod:`viz.posteriors`) and sensitivity results (:mod:`viz.drivers`) follow the same rule, with
one addition: the server's operator may name one folder of each on the command line
(``mcsim app --posterior DIR``, ``--sensitivity DIR``), which the app then offers by a fixed
token (:data:`STARTUP`), never by a path the browser sends.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from mcsim.errors import InputError
from viz.sweeps import resolve_in_root, results_root

#: The name under which the folder given at start-up is offered (not a path: cannot clash
#: with a folder under the root, whose names never start with ``<``).
STARTUP = "<start-up>"


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, symlinks followed, is ``root`` or under it."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop
        return False


def walk(root: Path, depth: int) -> Iterator[Path]:
    """``root`` and its folders down to ``depth`` levels, never hidden ones or ones leading out."""
    level = [root]
    for d in range(depth + 1):
        nxt: list[Path] = []
        for folder in level:
            yield folder
            if d == depth:
                continue
            try:
                subs = sorted(p for p in folder.iterdir() if p.is_dir())
            except OSError:
                continue
            nxt += [p for p in subs if not p.name.startswith(".") and inside(p, root)]
        level = nxt


def find(
    keep: Callable[[Path], bool], *, root: Path | None = None, depth: int = 3
) -> list[tuple[str, Path]]:
    """``(name relative to the root, folder)`` of every folder under the root that ``keep``s.

    Does not look inside a kept folder (a result does not hold another).
    """
    root = (root or results_root()).resolve()
    if not root.is_dir():
        return []
    out = []
    skip: list[Path] = []
    for folder in walk(root, depth):
        if any(folder.is_relative_to(s) for s in skip):
            continue
        if keep(folder):
            out.append((folder.relative_to(root).as_posix() if folder != root else ".", folder))
            skip.append(folder)
    return out


def startup_folder(env: str) -> Path | None:
    """The folder named at start-up in environment variable ``env`` (None if not set)."""
    text = os.environ.get(env, "").strip()
    return Path(text).expanduser().resolve() if text else None


def open_folder(name: str, env: str, root: Path | None = None) -> Path:
    """The folder the app may read for ``name``: :data:`STARTUP`, or a folder under the root.

    Raises:
        InputError: outside the root, ``..``, a symlink out, no such folder (as the Sweeps tab).
    """
    if name == STARTUP:
        folder = startup_folder(env)
        if folder is None:
            raise InputError("no folder was given at start-up")
        if not folder.is_dir():
            raise InputError("no such folder", file=str(folder))
        return folder
    return resolve_in_root(name, root)
