"""Playing an exercise: live (pause, act, continue), from a script, or again from its log.

:class:`ExerciseSession` wraps one :class:`~mcsim.model.MCIModel` and the list of actions
applied to it. Its :meth:`~ExerciseSession.apply` advances the model to the action's minute
(``model.run(until=at_min)``: every event of that minute runs first), applies the action and
records it. A scripted exercise and a replay are nothing but that call for each action in turn,
so a live session, its script and its replay produce the same event log, bit for bit
(same scenario data, seed and policies; all randomness from the model's named streams).

Use from Python (what the app calls)::

    s = ExerciseSession(scenario, seed=0, title="Stadium TTX")
    s.run(until=25)                                   # pause at minute 25
    s.apply({"kind": "road_closed", "at_min": 25, "from": "r7c7", "to": "r7c8", "by": "ops"})
    s.run(until=40)
    s.apply({"kind": "set_policy", "at_min": 40, "policy": "destination", "name": "balance"})
    log = s.export()                                  # ExerciseLog (runs a copy to the end)
    log.write("exercise.json")
    replay(log)                                       # RunResult; raises ReplayMismatch

:func:`replay_model` gives the replayed model itself (unfinished if asked to stop early),
for an app that scrubs through a replay with the actions marked (:func:`action_marks`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mcsim
from mcsim.errors import InputError
from mcsim.exercise.actions import ACTIONS, DECISION, Action, apply_action, parse_action
from mcsim.exercise.explain import explain_difference
from mcsim.exercise.log import (
    ExerciseLog,
    ExerciseScript,
    PolicyChoice,
    ScenarioRef,
    block_digests,
    check_log_digest,
    events_digest,
    first_difference,
    log_digest,
)
from mcsim.model import MCIModel
from mcsim.records import RunResult
from mcsim.scenario import Scenario, apply_overrides, parse_scenario, read_scenario_data
from mcsim.simulate import default_scenario_path


class ReplayMismatch(Exception):
    """A replay did not reproduce the log's event log (a bug or a changed model).

    Attributes:
        expected: the log's digest; ``actual``: the replay's.
        row: first row of the first differing block (-1 if unknown); ``detail``: in words.
        result: the replay's :class:`RunResult`.
    """

    def __init__(self, expected: str, actual: str, row: int, detail: str, result: RunResult):
        super().__init__(f"replay differs from the log: {detail}")
        self.expected = expected
        self.actual = actual
        self.row = row
        self.detail = detail
        self.result = result


def scenario_data(scenario: Scenario) -> dict[str, Any]:
    """A scenario as plain data that :func:`mcsim.scenario.parse_scenario` reads back equal."""
    return scenario.model_dump(mode="json", by_alias=True)


class ExerciseSession:
    """One exercise being played: a model plus the actions applied to it so far.

    Args:
        scenario: the scenario (its data is embedded in the exported log).
        seed: the run's seed.
        triage, dispatch, destination: policy names at the start (None: the scenario's).
        scenario_file: where the scenario came from, recorded for information.
        title, facilitator, notes: recorded in the log.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int = 0,
        *,
        triage: str | None = None,
        dispatch: str | None = None,
        destination: str | None = None,
        scenario_file: str = "",
        title: str = "",
        facilitator: str = "",
        notes: str = "",
    ) -> None:
        self.scenario = scenario
        self.seed = int(seed)
        self.policies = PolicyChoice(triage=triage, dispatch=dispatch, destination=destination)
        self.scenario_file = scenario_file
        self.title, self.facilitator, self.notes = title, facilitator, notes
        self.model = MCIModel(
            scenario, self.seed, triage=triage, dispatch=dispatch, destination=destination
        )
        self.actions: list[Action] = []

    @property
    def now(self) -> float:
        """The model's minute."""
        return self.model.now

    @property
    def finished(self) -> bool:
        """Whether the run reached its horizon."""
        return self.model.finished

    def run(self, until: float | None = None) -> MCIModel:
        """Advance to minute ``until`` (every event of that minute included); None: the end."""
        return self.model.run(until)

    def apply(self, action: Action | dict[str, Any]) -> Action:
        """Advance to the action's minute, apply it and record it.

        A dict without ``at_min`` applies now. An action before now, at or after the horizon,
        or that does not fit the model raises :class:`InputError`; the model is then unchanged
        and nothing is recorded.
        """
        if isinstance(action, dict) and "at_min" not in action:
            action = {**action, "at_min": self.model.now}
        action = parse_action(action, path=f"actions[{len(self.actions)}]")
        where = f"actions[{len(self.actions)}]"
        if action.at_min < self.model.now:
            raise InputError(
                f"minute {action.at_min:g} is before now ({self.model.now:g})",
                path=f"{where}.at_min",
            )
        if action.at_min >= self.model.horizon_min:
            raise InputError(
                f"minute {action.at_min:g} is not before the end of the run "
                f"({self.model.horizon_min:g})",
                path=f"{where}.at_min",
            )
        self.model.run(until=action.at_min)
        try:
            apply_action(self.model, action)
        except InputError as exc:
            sub = f"{where}.{exc.path}" if exc.path else where
            raise InputError(exc.message, path=sub) from None
        self.actions.append(action)
        return action

    def finish(self) -> RunResult:
        """Run to the horizon; the run's result."""
        self.model.run()
        return self.model.result()

    def export(self, *, with_digest: bool = True) -> ExerciseLog:
        """The exercise log of the actions so far.

        With ``with_digest`` the digest of the complete run is included: the model's own log if
        the run is over, else that of a replay to the end (the live model is left where it is).
        A log exported before the end records the minute played to (``played_to_min``), so the
        report can say that the rest of the run had no further action.
        """
        log = ExerciseLog(
            title=self.title,
            facilitator=self.facilitator,
            notes=self.notes,
            scenario=ScenarioRef(file=self.scenario_file, data=scenario_data(self.scenario)),
            seed=self.seed,
            policies=self.policies,
            actions=list(self.actions),
            mcsim_version=mcsim.__version__,
            played_to_min=None if self.finished else float(self.now),
        )
        if with_digest:
            events = self.model.result().events if self.finished else replay(log).events
            stamp(log, events)
        return log


def stamp(log: ExerciseLog, events: Any) -> ExerciseLog:
    """Record the digests of ``events`` (the complete run's event log), then of the whole log."""
    log.result_digest = events_digest(events)
    log.block_digests = block_digests(events)
    log.events = len(events)
    log.digest = log_digest(log)
    return log


def log_scenario(log: ExerciseLog) -> Scenario:
    """The log's embedded scenario, validated (errors point at ``scenario.data...``)."""
    try:
        return parse_scenario(log.scenario.data)
    except InputError as exc:
        path = "scenario.data" + (f".{exc.path}" if exc.path else "")
        raise InputError(exc.message, path=path, more=exc.more) from None


def session_from_log(log: ExerciseLog) -> ExerciseSession:
    """A fresh session on the log's scenario, seed and policies (no actions applied yet)."""
    scenario = log_scenario(log)
    p = log.policies
    return ExerciseSession(
        scenario,
        log.seed,
        triage=p.triage,
        dispatch=p.dispatch,
        destination=p.destination,
        scenario_file=log.scenario.file,
        title=log.title,
        facilitator=log.facilitator,
        notes=log.notes,
    )


def resume(log: ExerciseLog, *, until: float | None = None) -> ExerciseSession:
    """A session replaying the log up to minute ``until`` (None: the end), ready to continue.

    The actions at or before ``until`` are applied (and recorded in the session); the facilitator
    can then apply new ones and export a log that extends the original.
    """
    s = session_from_log(log)
    for a in log.actions:
        if until is not None and a.at_min > until:
            break
        s.apply(a)
    s.run(until)
    return s


def replay_model(log: ExerciseLog, *, until: float | None = None) -> MCIModel:
    """The log's run, replayed up to minute ``until`` (None: to the end); the model itself."""
    return resume(log, until=until).model


def replay(log: ExerciseLog, *, check: bool = True) -> RunResult:
    """Replay the log to the end; with ``check``, verify its digests.

    The log's own ``digest`` is checked before the replay, its ``result_digest`` after;
    :func:`mcsim.exercise.log.verification` says what a log without them leaves unverified.

    Raises:
        InputError: the log's ``digest`` does not match it (it was changed after writing).
        ReplayMismatch: the event log differs (the replay's result is attached).
    """
    if check:
        check_log(log)
        check_outcome_model(log)
    result = replay_model(log).result()
    if check and log.result_digest is not None:
        check_result(log, result)
    return result


def check_result(log: ExerciseLog, result: RunResult) -> None:
    """Refuse a replay whose events are not the log's, saying in words where they part.

    Raises:
        ReplayMismatch: the event log differs; ``detail`` names the minutes, the last action
            before them and the patients concerned (:mod:`mcsim.exercise.explain`).
    """
    actual = events_digest(result.events)
    if log.result_digest is None or actual == log.result_digest:
        return
    row, fallback = first_difference(result.events, log.block_digests)
    detail = explain_difference(log, result.events) if log.block_digests else None
    detail = detail or fallback
    if log.mcsim_version and log.mcsim_version != mcsim.__version__:
        detail += (
            f" (the log was recorded by mcsim {log.mcsim_version}, this is mcsim "
            f"{mcsim.__version__}: a model change between the two versions alters the run; "
            "replay it with that version, or run its exercise script again)"
        )
    raise ReplayMismatch(log.result_digest, actual, row, detail, result)


def check_log(log: ExerciseLog, *, file: str | None = None) -> None:
    """Refuse a log changed after it was written, and say what the change does to the run.

    The whole-log digest only says *that* something changed. Replaying the changed log and
    comparing its events with the recorded blocks says *where* the run then parts from the
    recorded one (which minutes, the action before, which patients), or that it does not.

    Raises:
        InputError: naming the ``digest`` field, with the explanation.
    """
    try:
        check_log_digest(log, file=file)
    except InputError as exc:
        try:
            events = replay_model(log).result().events
        except InputError as inner:  # the change made the log unplayable: say that instead
            raise InputError(
                f"{exc.message}; it no longer plays: {inner}", file=file, path="digest"
            ) from None
        words = explain_difference(log, events) if log.block_digests else None
        if words is None:
            words = (
                "replayed, it gives the recorded run event for event, so the change alters "
                "no event (a scenario value no event depends on, or the digest itself)"
            )
        raise InputError(f"{exc.message}. {words}", file=file, path="digest") from None


def recorded_with_first_outcome_model(log: ExerciseLog) -> bool:
    """Whether the log's scenario is of schema 1: recorded before the TRISS outcome model."""
    return log.scenario.data.get("schema_version") == 1


def check_outcome_model(log: ExerciseLog) -> None:
    """Refuse to verify a log whose events came from mcsim's first outcome model.

    Its scenario (schema 1) still loads, migrated, but the casualties' injuries, deterioration
    and survival are now drawn and computed differently (ISS, bleeding clocks, TRISS: issue 11),
    so no replay can reproduce its event log. A log without a result digest replays unverified.

    Raises:
        InputError: the log has a result digest and was recorded with the first outcome model.
    """
    if log.result_digest is not None and recorded_with_first_outcome_model(log):
        made_by = f"mcsim {log.mcsim_version}" if log.mcsim_version else "an earlier mcsim"
        raise InputError(
            f"recorded by {made_by} with the first outcome model (scenario schema 1); this "
            f"mcsim {mcsim.__version__} draws injuries and outcomes differently (ISS, bleeding, "
            "TRISS), so its events cannot be reproduced: replay it with that version, or run "
            "its exercise script again to record a new log",
            path="scenario.data.schema_version",
        )


def without_decisions(log: ExerciseLog) -> ExerciseLog:
    """The same exercise with the decisions removed (injects kept): the report's baseline."""
    kept = [a for a in log.actions if ACTIONS[a.kind].category != DECISION]
    return log.model_copy(
        update={"actions": kept, "result_digest": None, "block_digests": [], "digest": None}
    )


def action_marks(log: ExerciseLog) -> list[dict[str, Any]]:
    """Time-line markers for an app or a plot: minute, kind, category, who, summary."""
    return [
        {
            "at_min": a.at_min,
            "kind": a.kind,
            "category": ACTIONS[a.kind].category,
            "by": a.by,
            "summary": a.summary(),
            "note": a.note,
        }
        for a in log.actions
    ]


def session_from_script(script: ExerciseScript, *, base: Path | None = None) -> ExerciseSession:
    """A fresh session on a script's scenario (relative to ``base``), seed and policies."""
    if script.scenario is None:
        path = default_scenario_path()
    else:
        from mcsim.library import resolve

        # a file (relative to the script), else a shipped scenario's name
        path = resolve(script.scenario, base_dir=base)
    scenario = _script_scenario(path, script.overrides)
    p = script.policies
    return ExerciseSession(
        scenario,
        script.seed,
        triage=p.triage,
        dispatch=p.dispatch,
        destination=p.destination,
        scenario_file=script.scenario or path.name,
        title=script.title,
        facilitator=script.facilitator,
        notes=script.notes,
    )


def _script_scenario(path: Path, overrides: list[str]) -> Scenario:
    """The script's scenario with its overrides; a bad override is the script's fault.

    An override that cannot be applied, or that makes the scenario invalid, raises an
    :class:`InputError` at ``overrides[i]`` with no file (the caller names the script); any
    other problem is the scenario file's own.
    """
    data = read_scenario_data(path)
    for i, item in enumerate(overrides):
        try:
            data = apply_overrides(data, [item])
        except InputError as exc:
            where = f" at {exc.path}" if exc.path else ""
            raise InputError(f"{exc.message}{where}", path=f"overrides[{i}]") from None
    try:
        return parse_scenario(data, file=str(path))
    except InputError as exc:
        for i, item in enumerate(overrides):
            target = item.split("=", 1)[0].strip()
            hit = exc.path and (
                exc.path == target or exc.path.startswith((f"{target}.", f"{target}["))
            )
            if hit:
                raise InputError(
                    f"sets {exc.path} of {path.name}: {exc.message}", path=f"overrides[{i}]"
                ) from None
        raise


def run_exercise(
    script: ExerciseScript | ExerciseLog, *, base: Path | None = None
) -> tuple[ExerciseLog, RunResult]:
    """Play a script (or re-play a log's actions) to the end: its log (with digest) and result."""
    if isinstance(script, ExerciseLog):
        s = session_from_log(script)
    else:
        s = session_from_script(script, base=base)
    for a in script.actions:
        s.apply(a)
    result = s.finish()
    return stamp(s.export(with_digest=False), result.events), result
