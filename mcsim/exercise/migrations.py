"""Numbered migrations of exercise logs: a log of version N becomes version N+1, step by step.

FüSim Digital keeps every old exercise export loadable with numbered state migrations; so does
mcsim. :data:`MIGRATIONS` ``[N]`` turns a log of schema version ``N`` (plain JSON data) into
one of version ``N + 1``; :func:`migrate` applies them in turn up to
:data:`CURRENT_VERSION`. A log of a newer or unknown version is refused with one line.

Version history:

- **0** (mcsim before 0.1's exercise module; tests/data/exercise_v0.json): ``version`` instead
  of ``schema_version``; the scenario data under ``scenario`` and its file name under
  ``scenario_file``; each action keyed ``time``, ``type`` and ``who`` (for ``at_min``, ``kind``
  and ``by``); a capacity loss was called ``capacity_lost`` with ``amount``; no result digest.
- **1**: ``result_digest`` covers the event log only.
- **2**: the current format (:class:`mcsim.exercise.log.ExerciseLog`): ``digest`` covers the
  scenario, seed, policies, actions and results together. A version 1 log gets none (it cannot
  be computed without trusting the very data it is meant to check): it replays, and says that
  only its events are verified.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcsim.errors import InputError, echo

#: The version this mcsim writes.
CURRENT_VERSION = 2


def m0000_to_0001(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 → 1: renamed keys, the scenario and its file under one key, no digest."""
    out = {k: v for k, v in data.items() if k not in ("version", "scenario_file", "scenario")}
    out["schema_version"] = 1
    out["scenario"] = {"file": data.get("scenario_file", ""), "data": data.get("scenario")}
    actions = []
    for old in data.get("actions", []):
        if not isinstance(old, dict):
            actions.append(old)
            continue
        new = {}
        renames = {"time": "at_min", "type": "kind", "who": "by"}
        for key, value in old.items():
            new[renames.get(key, key)] = value
        if new.get("kind") == "capacity_lost":
            new["kind"] = "capacity_loss"
            if "amount" in new:
                new["count"] = new.pop("amount")
        actions.append(new)
    out["actions"] = actions
    out.setdefault("result_digest", None)
    return out


def m0001_to_0002(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 → 2: a ``digest`` over the whole log; none for an old log (see above)."""
    out = {**data, "schema_version": 2}
    out.setdefault("digest", None)
    return out


#: ``MIGRATIONS[n]`` migrates a log of version ``n`` to ``n + 1``.
MIGRATIONS: list[Callable[[dict[str, Any]], dict[str, Any]]] = [m0000_to_0001, m0001_to_0002]


def log_version(data: dict[str, Any], *, file: str | None = None) -> int:
    """The schema version of a log given as data (``version`` in version 0)."""
    if "schema_version" in data:
        version, key = data["schema_version"], "schema_version"
    elif "version" in data:
        version, key = data["version"], "version"
    else:
        raise InputError(
            f"missing key; this mcsim reads exercise logs of schema_version 0..{CURRENT_VERSION}",
            file=file,
            path="schema_version",
        )
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError(f"not a version number: {echo(version)}", file=file, path=key)
    if version > CURRENT_VERSION or version < 0:
        raise InputError(
            f"unsupported schema_version {version}; this mcsim reads exercise logs of "
            f"schema_version 0..{CURRENT_VERSION}"
            + (" (the log was written by a newer mcsim)" if version > CURRENT_VERSION else ""),
            file=file,
            path=key,
        )
    return version


def migrate(data: dict[str, Any], *, file: str | None = None) -> dict[str, Any]:
    """Bring a log (plain data) to :data:`CURRENT_VERSION`, one numbered step at a time."""
    version = log_version(data, file=file)
    for step in MIGRATIONS[version:CURRENT_VERSION]:
        data = step(data)
    return data
