"""Tabletop exercises in the app: action forms from the action models, live and replayed views.

The action form is generated from the pydantic model of each registered action kind
(:data:`mcsim.exercise.ACTIONS`): a field that names a hospital, a node, an incident or a
policy offers the scenario's (or the registry's) names; enums and literals offer their values;
numbers and free text are typed in; nested data (a second incident, a quota table, policy
parameters) is typed as JSON. :func:`build_action` turns the form's values into the plain data
:meth:`mcsim.exercise.ExerciseSession.apply` validates, so every rule lives in one place (the
action models and their apply functions) and a bad form is one
:class:`~mcsim.errors.InputError` naming the field.

:func:`model_view` indexes the events of a model (running or finished) for the map and the
charts: the live exercise shows the run up to the current minute without re-running anything.
"""

from __future__ import annotations

import enum
import json
import os
import re
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from mcsim.errors import InputError
from mcsim.exercise import (
    ACTIONS,
    ExerciseLog,
    ExerciseSession,
    action_marks,
    replay_model,
)
from mcsim.exercise.log import load_script, parse_log
from mcsim.exercise.runner import check_log, check_result, log_scenario, run_exercise
from mcsim.model import MCIModel
from mcsim.policies import default_registry
from mcsim.scenario import Scenario
from mcsim.simulate import scenarios_dir
from viz.runner import RunView, SetUp, run_view_of

#: Fields every action has that the form does not ask for (``at_min`` is the current minute).
IMPLICIT = ("kind", "at_min")
#: What an optional choice shows when nothing is chosen.
NONE = "(none)"
#: Environment variable naming the folder where exported logs and reports are saved.
FOLDER_ENV = "MCSIM_EXERCISE_DIR"


# ============================================================================ form


@dataclass(frozen=True)
class FormContext:
    """Names the form offers, from the model being played."""

    hospitals: list[str]
    nodes: list[str]
    incidents: list[str]
    stations: list[str]
    policies: dict[str, str] = field(default_factory=dict)  # kind -> the policy in force

    @classmethod
    def of(cls, model: MCIModel) -> FormContext:
        """The hospitals, nodes, incidents, stations and policies of ``model`` (as it stands).

        Nodes list the named places (incident sites, hospitals, stations) before the plain
        junctions, so a facilitator finds "hosp_mgh" before "r3c7" (issue 13, defect 7).
        """
        from mcsim.enums import NodeKind

        region = model.region
        order = sorted(
            range(region.n_nodes), key=lambda i: (region.kind(i) is NodeKind.JUNCTION, i)
        )
        return cls(
            hospitals=list(model.hospitals),
            nodes=[region.name(i) for i in order],
            incidents=[s.id for s in model.scenes],
            stations=list(model.station_nodes),
            policies=dict(model.policy_names),
        )


@dataclass(frozen=True)
class FieldSpec:
    """One input of an action form.

    Attributes:
        key: the key in the action's data (the field's alias, e.g. ``from``).
        label: what the form shows.
        widget: ``choice``, ``int``, ``float``, ``bool``, ``text`` or ``json``.
        choices: the values a ``choice`` offers (filled in per form by :func:`field_choices`).
        default: the initial value, in the widget's own type ("" for an empty optional field).
        optional: whether the field may be left empty (its default, or None, is then used).
        help: the field's description, if any.
    """

    key: str
    label: str
    widget: str
    choices: tuple[str, ...] = ()
    default: Any = ""
    optional: bool = False
    help: str = ""


def _strip_optional(ann: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(ann)):
            return args[0], True
    return ann, False


def _json_default(kind: str, key: str, ctx: FormContext, scenario: Scenario | None) -> str:
    if kind == "second_incident" and key == "incident":
        profile = scenario.incidents[0].injury_profile if scenario else "blast"
        node = ctx.nodes[0] if ctx.nodes else ""
        data = {"id": "second", "node": node, "casualties": 20, "injury_profile": profile}
        return json.dumps(data)
    if kind == "set_quotas" and key == "quotas":
        return json.dumps({h: {"immediate": 5, "delayed": 10} for h in ctx.hospitals[:2]})
    return "{}"


def field_specs(kind: str, ctx: FormContext, scenario: Scenario | None = None) -> list[FieldSpec]:
    """The inputs of the form for action ``kind`` (``by`` and ``note`` last).

    Raises:
        InputError: ``kind`` is not a registered action kind.
    """
    if kind not in ACTIONS:
        raise InputError(f"unknown action kind {kind!r}; known: {', '.join(sorted(ACTIONS))}")
    model = ACTIONS[kind].model
    out: list[FieldSpec] = []
    tail: list[FieldSpec] = []
    for name, info in model.model_fields.items():
        if name in IMPLICIT:
            continue
        key = info.alias or name
        ann, optional = _strip_optional(info.annotation)
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        optional = optional or not info.is_required()
        help_ = info.description or ""
        origin = typing.get_origin(ann)
        if origin is Literal:
            choices = tuple(str(a) for a in typing.get_args(ann))
            spec = FieldSpec(key, key, "choice", choices, default or choices[0], False, help_)
        elif isinstance(ann, type) and issubclass(ann, enum.Enum):
            choices = tuple(str(m.value) for m in ann)
            first = default.value if isinstance(default, enum.Enum) else choices[0]
            spec = FieldSpec(key, key, "choice", choices, first, False, help_)
        elif ann is bool:
            spec = FieldSpec(key, key, "bool", (), bool(default), True, help_)
        elif ann in (int, float):
            first = _lower_bound(info) if default is None and not optional else default
            widget = "int" if ann is int else "float"
            shown = "" if first is None else first
            spec = FieldSpec(key, key, widget, (), shown, optional, help_)
        elif ann is str:
            choices = tuple(field_choices(kind, key, ctx, {}))
            if choices and optional and default is None:
                spec = FieldSpec(key, key, "choice", (NONE, *choices), NONE, True, help_)
            elif choices:
                # set_policy opens on the policy in force, so a stray Apply changes nothing
                current = (
                    ctx.policies.get("triage") if (kind, key) == ("set_policy", "name") else None
                )
                first = default or (current if current in choices else choices[0])
                spec = FieldSpec(key, key, "choice", choices, first, False, help_)
            else:
                spec = FieldSpec(key, key, "text", (), default or "", optional, help_)
        else:  # nested data: a model or a mapping
            text = _json_default(kind, key, ctx, scenario)
            spec = FieldSpec(key, f"{key} (JSON)", "json", (), text, optional, help_)
        (tail if key in ("by", "note") else out).append(spec)
    return out + tail


def _lower_bound(info: Any) -> int:
    for m in info.metadata:
        ge = getattr(m, "ge", None)
        if ge is not None:
            return int(ge)
    return 0


def field_choices(kind: str, key: str, ctx: FormContext, values: dict[str, Any]) -> list[str]:
    """Names a text field of ``kind`` may take, given the form's other ``values`` ([] = free)."""
    if key == "hospital":
        return list(ctx.hospitals)
    if key in ("from", "node"):
        return list(ctx.nodes)
    if key == "to":
        if kind == "mutual_aid_staff":
            return [*ctx.incidents, *ctx.hospitals]
        return list(ctx.nodes)
    if key == "incident":
        return list(ctx.incidents)
    if kind == "set_policy" and key == "name":
        policy = values.get("policy") or "triage"
        return default_registry().names(policy)
    return []


def initial_values(specs: list[FieldSpec]) -> dict[str, Any]:
    """The form's starting values."""
    return {s.key: s.default for s in specs}


def build_action(kind: str, specs: list[FieldSpec], values: dict[str, Any]) -> dict[str, Any]:
    """The action data of a filled-in form (``at_min`` left out: the session applies it now).

    Numbers typed as text are converted; JSON fields are parsed; empty optional fields are
    left out (their default applies). Validation proper is the action model's.

    Raises:
        InputError: a number or a JSON field cannot be read (``path`` names the field).
    """
    data: dict[str, Any] = {"kind": kind}
    for s in specs:
        v = values.get(s.key, s.default)
        if isinstance(v, str):
            v = v.strip() if s.widget != "text" else v
        if v is None or v == NONE or (v == "" and s.widget != "text"):
            if s.optional:
                continue
            raise InputError("required", path=s.key)
        if s.widget == "int":
            data[s.key] = _number(v, int, s.key)
        elif s.widget == "float":
            data[s.key] = _number(v, float, s.key)
        elif s.widget == "bool":
            data[s.key] = bool(v)
        elif s.widget == "json":
            try:
                data[s.key] = json.loads(v) if isinstance(v, str) else v
            except json.JSONDecodeError as exc:
                raise InputError(f"not valid JSON: {exc.msg}", path=s.key) from None
        else:
            data[s.key] = v
    return data


def _number(v: Any, typ: type, key: str) -> Any:
    if isinstance(v, bool):
        raise InputError("a number is needed", path=key)
    if isinstance(v, int | float):
        if typ is int and float(v) != int(v):
            raise InputError(f"a whole number is needed, not {v!r}", path=key)
        return typ(v)
    try:
        return typ(str(v))
    except ValueError:
        what = "a whole number" if typ is int else "a number"
        raise InputError(f"{what} is needed, not {v!r}", path=key) from None


# ============================================================================ views


def model_view(model: MCIModel, scenario: Scenario, seed: int) -> RunView:
    """The model's events so far, indexed for the map and charts (the model is not advanced)."""
    pol = model.policy_names
    setup = SetUp(
        seed=seed, triage=pol["triage"], dispatch=pol["dispatch"], destination=pol["destination"]
    )
    return run_view_of(model, scenario, setup)


@dataclass
class Replayed:
    """A replayed exercise log: the log, its complete run and the time-line marks."""

    log: ExerciseLog
    view: RunView
    marks: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""


def replay_log(log: ExerciseLog, source: str = "") -> Replayed:
    """Replay ``log`` to its end (checking its digest) and index the run for the app.

    Raises:
        mcsim.exercise.ReplayMismatch: the replay does not reproduce the log's digest.
        InputError: the log's scenario or actions do not fit this mcsim, or the log was changed
            after it was written (its ``digest``).
    """
    check_log(log, file=source or None)
    model = replay_model(log)
    view = model_view(model, log_scenario(log), log.seed)
    check_result(log, view.result)  # where a differing replay parts from the log, in words
    return Replayed(log=log, view=view, marks=action_marks(log), source=source)


def parse_uploaded_log(name: str, data: bytes) -> ExerciseLog:
    """An uploaded exercise log (JSON), validated and migrated; problems are one InputError.

    Read as the command line reads files (:mod:`mcsim.safeio`): bounded in size, nesting and
    values, so a deeply nested upload is a message, not a traceback.
    """
    from mcsim.safeio import parse_json, upload_text

    return parse_log(parse_json(upload_text(name, data), file=name), file=name)


def shipped_scripts() -> dict[str, Path]:
    """Exercise script name (file stem) → path, for the scripts shipped with the scenarios."""
    folder = scenarios_dir() / "exercises"
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    return {p.stem: p for p in files}


def play_script(name: str) -> ExerciseLog:
    """Play a shipped exercise script to the end; its log (with digest)."""
    paths = shipped_scripts()
    if name not in paths:
        raise InputError(f"unknown exercise script {name!r}; shipped: {', '.join(paths)}")
    path = paths[name]
    log, _ = run_exercise(load_script(path), base=path.parent)
    return log


def session_marks(session: ExerciseSession) -> list[dict[str, Any]]:
    """The time-line marks of the actions applied so far (as :func:`action_marks` of a log)."""
    return action_marks(session.export(with_digest=False))


# ============================================================================ files


def output_folder() -> Path:
    """Where exported logs and reports are saved: ``$MCSIM_EXERCISE_DIR`` or ./exercise-logs."""
    env = os.environ.get(FOLDER_ENV)
    return Path(env).expanduser().resolve() if env else (Path.cwd() / "exercise-logs").resolve()


def file_stem(session: ExerciseSession, now: datetime | None = None) -> str:
    """A file name stem for a session's log: title (or scenario), seed, minute and wall time."""
    base = session.title or session.scenario.name or "exercise"
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", base).strip("_")[:40] or "exercise"
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"{base}-seed{session.seed}-min{session.now:g}-{stamp}"


def export_session(session: ExerciseSession, folder: Path | None = None) -> tuple[Path, bytes]:
    """Export the session's log (digest of the complete run included) and save it in ``folder``.

    Returns the file written and its bytes (for a download).
    """
    folder = folder or output_folder()
    log = session.export()
    path = log.write(folder / f"{file_stem(session)}.json")
    return path, path.read_bytes()


def report_html(log: ExerciseLog) -> str:
    """The after-action report of ``log`` as one self-contained HTML page."""
    from mcsim import report

    rep = report.build_report(log)
    return report.report_html(rep, main_png=report.plot_timeline(rep))


def save_report(log: ExerciseLog, stem: str, folder: Path | None = None) -> tuple[Path, bytes]:
    """Write the after-action report of ``log`` as ``stem``-report.html in ``folder``."""
    folder = folder or output_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}-report.html"
    path.write_text(report_html(log), encoding="utf-8")
    return path, path.read_bytes()
