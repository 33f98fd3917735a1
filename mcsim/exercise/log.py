"""The exercise log and the exercise script: files that say what was played, and how to check it.

An **exercise log** (JSON) is self-contained, like a FüSim Digital export: the scenario's data
(and, for information, the file it came from), the seed, the policies at the start and the
ordered actions, each with its minute and who made it. Replaying it gives the same event log,
checked by ``result_digest``: a SHA-256 over the event log's columns in a canonical byte form
(fixed-width little-endian numbers, NaN normalised, text UTF-8 with a separator), so it does not
depend on Parquet, pandas versions or the machine. ``block_digests`` hash consecutive blocks
of :data:`BLOCK_ROWS` rows the same way, so a replay that differs can say where.

The event log alone does not show every change to a log: a hand-edited scenario field that
alters no event (one more resuscitation bay nobody needed) would replay as "identical". So
``digest`` (schema version 2) is a SHA-256 over everything that defines the run and its result
together: the scenario's data, the seed, the policies, the actions and the result digests
(:func:`log_digest`). A log whose ``digest`` does not match is refused before it is replayed; a
log without one (deleted, or from an older mcsim) still replays, and says what could not be
verified (:func:`verification`).

An **exercise script** (YAML or JSON) is what a facilitator writes beforehand: a scenario file
(relative to the script, or the default scenario), optional ``--set`` style overrides, a seed,
policies and the scheduled actions. ``mcsim exercise run`` plays it and writes the log.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator

from mcsim.errors import InputError, echo
from mcsim.exercise.actions import Action, action_data, parse_action
from mcsim.exercise.migrations import migrate
from mcsim.records import EVENT_COLUMNS
from mcsim.schema_base import StrictModel, error_lines

#: Rows per block of ``block_digests``.
BLOCK_ROWS = 64
#: The version of exercise scripts (logs have their own, :data:`CURRENT_VERSION`).
SCRIPT_VERSION = 1


class PolicyChoice(StrictModel):
    """Policy names at the start (None: the scenario's own)."""

    triage: str | None = None
    dispatch: str | None = None
    destination: str | None = None


class ScenarioRef(StrictModel):
    """The scenario, embedded: its data and the file it came from (for information)."""

    file: str = ""
    data: dict[str, Any]


class ExerciseLog(StrictModel):
    """A played exercise (schema version 1)."""

    schema_version: Literal[2] = 2
    title: str = ""
    facilitator: str = ""
    notes: str = ""
    scenario: ScenarioRef
    seed: int = Field(default=0, ge=0)
    policies: PolicyChoice = Field(default_factory=PolicyChoice)
    actions: list[Action] = Field(default_factory=list)
    result_digest: str | None = None
    block_digests: list[str] = Field(default_factory=list)
    events: int | None = Field(default=None, description="rows of the event log")
    digest: str | None = Field(
        default=None,
        description="SHA-256 of the scenario data, seed, policies, actions and result digests",
    )
    mcsim_version: str = ""
    played_to_min: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="the minute a live exercise had been played to when its log was exported; "
        "the rest of the run, to the horizon, ran with no further action (None: played to "
        "the end, or a script)",
    )

    @field_validator("actions", mode="before")
    @classmethod
    def _parse_actions(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        return [parse_action(a, path=f"actions[{i}]") for i, a in enumerate(v)]

    def to_data(self) -> dict[str, Any]:
        """The log as JSON-ready data, actions in their own compact form."""
        data = self.model_dump(mode="json", exclude={"actions"})
        data["actions"] = [action_data(a) for a in self.actions]
        order = ["schema_version", "title", "facilitator", "notes", "scenario", "seed"]
        order += ["policies", "actions", "result_digest", "events", "digest", "block_digests"]
        if data.get("played_to_min") is None:
            data.pop("played_to_min", None)  # logs played to the end read as before
        return {k: data[k] for k in [*order, *[k for k in data if k not in order]]}

    def write(self, path: str | Path, *, force: bool = True, option: str = "--out") -> Path:
        """Write the log as indented JSON, atomically (an old log survives a failed write).

        Args:
            path: the file.
            force: overwrite an existing file (else it is refused with an InputError).
            option: the command-line option ``path`` came from, for messages.
        """
        from mcsim.safeio import write_file

        text = json.dumps(self.to_data(), indent=1) + "\n"
        return write_file(path, text, force=force, option=option)


class ExerciseScript(StrictModel):
    """A scripted exercise: a scenario file, a seed, policies and the scheduled actions."""

    schema_version: Literal[1] = SCRIPT_VERSION
    title: str = ""
    facilitator: str = ""
    notes: str = ""
    scenario: str | None = Field(
        default=None,
        description="scenario file, relative to the script, or a shipped scenario's name; "
        "None: the default",
    )
    overrides: list[str] = Field(default_factory=list, description="PATH=VALUE, as --set")
    seed: int = Field(default=0, ge=0)
    policies: PolicyChoice = Field(default_factory=PolicyChoice)
    actions: list[Action] = Field(default_factory=list)

    @field_validator("actions", mode="before")
    @classmethod
    def _parse_actions(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        return [parse_action(a, path=f"actions[{i}]") for i, a in enumerate(v)]


def _validate(model_cls: type[StrictModel], data: Any, file: str | None) -> Any:
    try:
        return model_cls.model_validate(data)
    except InputError as exc:
        raise InputError(exc.message, file=file, path=exc.path, more=exc.more) from None
    except ValidationError as exc:
        lines = error_lines(exc)
        path, msg = lines[0]
        raise InputError(msg, file=file, path=path, more=len(lines) - 1) from None


def read_data(path: str | Path) -> Any:
    """A YAML or JSON file as data; a missing, odd or malformed file is an :class:`InputError`.

    Only a regular file of bounded size is read, and data nested too deep or too large is
    refused (:mod:`mcsim.safeio`).
    """
    from mcsim.safeio import parse_json, parse_yaml, read_text

    path = Path(path)
    text = read_text(path, what="exercise file")
    if path.suffix.lower() == ".json":
        return parse_json(text, file=str(path))
    return parse_yaml(text, file=str(path))


def parse_log(data: Any, *, file: str | None = None) -> ExerciseLog:
    """Validate a log given as data, migrating an older version first."""
    if not isinstance(data, dict):
        raise InputError("an exercise log must be a JSON object", file=file)
    data = migrate(data, file=file)
    log = _validate(ExerciseLog, data, file)
    _check_order(log.actions, file)
    return log


def load_log(path: str | Path) -> ExerciseLog:
    """Read and validate an exercise log file (older versions are migrated)."""
    return parse_log(read_data(path), file=str(path))


def is_log(data: Any) -> bool:
    """Whether ``data`` looks like a log (embedded scenario) rather than a script."""
    return isinstance(data, dict) and (
        isinstance(data.get("scenario"), dict) or "version" in data or "result_digest" in data
    )


def load_script(path: str | Path) -> ExerciseScript:
    """Read and validate an exercise script (actions are put in time order, stably)."""
    file = str(path)
    data = read_data(path)
    if not isinstance(data, dict):
        raise InputError("an exercise script must be a mapping of keys to values", file=file)
    if "schema_version" in data and data["schema_version"] != SCRIPT_VERSION:
        raise InputError(
            f"unsupported schema_version {echo(data['schema_version'])}; this mcsim reads "
            f"exercise scripts of schema_version {SCRIPT_VERSION}",
            file=file,
            path="schema_version",
        )
    script = _validate(ExerciseScript, data, file)
    script.actions = sorted(script.actions, key=lambda a: a.at_min)
    return script


def _check_order(actions: list[Action], file: str | None) -> None:
    for i in range(1, len(actions)):
        if actions[i].at_min < actions[i - 1].at_min:
            raise InputError(
                f"actions must be in time order: {actions[i].at_min:g} after "
                f"{actions[i - 1].at_min:g}",
                file=file,
                path=f"actions[{i}].at_min",
            )


# ============================================================================ digests


def _column_bytes(s: pd.Series) -> bytes:
    """A column's values as canonical bytes (independent of storage and library versions)."""
    if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or str(s.dtype) == "string":
        values = ["\x00" if v is None or v is pd.NA else str(v) for v in s.astype(object)]
        return "\x1f".join(values).encode("utf-8")
    arr = s.to_numpy()
    if arr.dtype.kind == "f":
        arr = arr.astype("<f8")
        arr[np.isnan(arr)] = np.nan  # one NaN bit pattern
        return arr.tobytes()
    if arr.dtype.kind == "b":
        return arr.astype("u1").tobytes()
    return arr.astype("<i8").tobytes()


def _digest(events: pd.DataFrame) -> str:
    h = hashlib.sha256()
    cols = [c for c in EVENT_COLUMNS if c in events.columns]
    for c in cols:
        data = _column_bytes(events[c])
        h.update(f"{c}:{len(events)}:{len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()


def log_digest(log: ExerciseLog) -> str:
    """SHA-256 of what defines a log's run and its result (see the module docstring).

    The scenario's data, the seed, the policies, the actions and the result digests, as
    canonical JSON (sorted keys, no spaces); prose (title, notes, file names) is left out.
    """
    body = {
        "scenario": log.scenario.data,
        "seed": log.seed,
        "policies": log.policies.model_dump(mode="json"),
        "actions": [action_data(a) for a in log.actions],
        "result_digest": log.result_digest,
        "events": log.events,
        "block_digests": log.block_digests,
    }
    if log.played_to_min is not None:  # covered once set; logs without it keep their digest
        body["played_to_min"] = log.played_to_min
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def check_log_digest(log: ExerciseLog, *, file: str | None = None) -> None:
    """Refuse a log changed after it was written (its ``digest`` does not match it).

    Raises:
        InputError: naming the ``digest`` field.
    """
    if log.digest is not None and log.digest != log_digest(log):
        raise InputError(
            "does not match the log's scenario, seed, policies, actions and results: the log "
            "was changed after it was written",
            file=file,
            path="digest",
        )


def verification(log: ExerciseLog) -> str | None:
    """What a replay of ``log`` cannot verify, in words; None when everything is covered."""
    if log.result_digest is None and log.digest is None:
        return "the log has no digest: the replay cannot be verified"
    if log.result_digest is None:
        return "the log has no result digest: the events cannot be verified"
    if log.digest is None:
        return (
            "the log has no digest of its scenario, seed and actions (deleted, or a log of an "
            "older mcsim): only the events are verified"
        )
    return None


def events_digest(events: pd.DataFrame) -> str:
    """SHA-256 of the event log's canonical bytes (see the module docstring)."""
    return _digest(events)


def block_digests(events: pd.DataFrame, rows: int = BLOCK_ROWS) -> list[str]:
    """Short digests of consecutive blocks of ``rows`` rows (to locate a difference)."""
    out = []
    for start in range(0, len(events), rows):
        out.append(_digest(events.iloc[start : start + rows].reset_index(drop=True))[:16])
    return out


def first_difference(
    events: pd.DataFrame, digests: list[str], rows: int = BLOCK_ROWS
) -> tuple[int, str]:
    """(first row of the first block that differs from ``digests``, a description of it)."""
    mine = block_digests(events, rows)
    for i, (a, b) in enumerate(zip(mine, digests, strict=False)):
        if a != b:
            start = i * rows
            return start, _describe(events, start, f"rows {start}..{start + rows - 1} differ")
    n = min(len(mine), len(digests)) * rows
    if len(mine) != len(digests) or len(events) != n:
        return n, f"the replay has {len(events)} events; the log's blocks end at row {n}"
    return -1, "no difference found in the blocks (the digest alone differs)"


def first_differing_row(original: pd.DataFrame, replayed: pd.DataFrame) -> tuple[int, str]:
    """(index of the first row that differs between two event logs, a description), or -1."""
    n = min(len(original), len(replayed))
    cols = [c for c in EVENT_COLUMNS if c in original.columns and c in replayed.columns]
    a_all, b_all = original[cols], replayed[cols]
    for start in range(0, n, BLOCK_ROWS):
        a = a_all.iloc[start : start + BLOCK_ROWS].reset_index(drop=True)
        b = b_all.iloc[start : start + BLOCK_ROWS].reset_index(drop=True)
        if _digest(a) == _digest(b):
            continue
        for i in range(min(len(a), len(b))):
            if _digest(a.iloc[[i]]) != _digest(b.iloc[[i]]):
                row = start + i
                return row, (
                    f"first difference at row {row}: original {_fields(original, row)}; "
                    f"replayed {_fields(replayed, row)}"
                )
    if len(original) != len(replayed):
        return n, (
            f"the logs agree on {n} rows; the original has {len(original)} rows, the replay "
            f"{len(replayed)}"
        )
    return -1, "no row differs"


def _fields(events: pd.DataFrame, row: int) -> str:
    r = events.iloc[row]
    keep = ("time_min", "kind", "patient", "vehicle", "hospital", "detail")
    return ", ".join(f"{k}={r[k]}" for k in keep)


def _describe(events: pd.DataFrame, row: int, head: str) -> str:
    if row >= len(events):
        return head
    return f"{head}; replayed row {row}: {_fields(events, row)}"
