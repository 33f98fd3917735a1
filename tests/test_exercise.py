"""Exercise logs: scripted runs, live sessions, replay bit for bit, migrations, the CLI.

Every exercise script shipped in scenarios/exercises/ is played, its log written to JSON, read
back and replayed: the replayed event log must equal the original and its digest match.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from conftest import small_scenario_data

import mcsim
from mcsim.cli import main
from mcsim.errors import InputError
from mcsim.exercise import (
    ExerciseSession,
    ReplayMismatch,
    action_marks,
    events_digest,
    load_log,
    load_script,
    parse_log,
    replay,
    run_exercise,
    without_decisions,
)
from mcsim.exercise.log import block_digests
from mcsim.exercise.migrations import CURRENT_VERSION, MIGRATIONS, migrate
from mcsim.scenario import parse_scenario
from mcsim.simulate import scenarios_dir

EXERCISES = sorted((scenarios_dir() / "exercises").glob("*.yaml"))
DATA = Path(__file__).parent / "data"


def _run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_at_least_three_exercises_cover_every_action_kind():
    """The shipped scripts use each inject and decision kind at least once."""
    from mcsim.exercise import ACTIONS

    assert len(EXERCISES) >= 3
    kinds = {a.kind for p in EXERCISES for a in load_script(p).actions}
    assert kinds == set(ACTIONS)


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_shipped_exercise_replays_bit_for_bit(path, tmp_path):
    """run → log (JSON file) → replay: the same event log and digest."""
    script = load_script(path)
    log, result = run_exercise(script, base=path.parent)
    assert len(log.actions) == len(script.actions)
    assert log.result_digest == events_digest(result.events)
    written = log.write(tmp_path / "x.log.json")
    again = load_log(written)
    assert again.to_data() == log.to_data()
    replayed = replay(again)
    assert replayed.events.equals(result.events)
    assert replayed.patients.equals(result.patients)
    marks = action_marks(again)
    rows = result.events[result.events.kind.isin(["inject", "decision"])]
    assert {m["kind"] for m in marks} <= {d.split(":")[0] for d in rows.detail}


def test_live_session_with_pauses_equals_its_replay_and_its_script():
    """Pausing, acting and continuing gives the log a replay and a script reproduce."""
    data = small_scenario_data(40)
    s = ExerciseSession(parse_scenario(copy.deepcopy(data)), 2, title="live")
    s.run(until=7.3)
    s.apply({"kind": "hospital_diversion", "hospital": "big", "by": "cell"})  # at now
    assert s.actions[0].at_min == 7.3
    s.run(until=15)
    s.run(until=20)
    s.apply({"kind": "mutual_aid_ambulances", "at_min": 25, "node": "r4c0", "count": 2})
    mid = s.export()  # mid-run export replays a copy to the end
    assert not s.finished and s.now == 25
    result = s.finish()
    log = s.export()
    assert mid.result_digest == log.result_digest == events_digest(result.events)
    assert replay(log).events.equals(result.events)
    scripted, res2 = run_exercise(parse_log(log.to_data()))
    assert res2.events.equals(result.events)


def test_policies_at_the_start_are_recorded_and_replayed():
    """A session started with other policies than the scenario's replays with them."""
    s = ExerciseSession(parse_scenario(small_scenario_data(30)), 1, destination="balance")
    s.apply({"kind": "hospital_diversion", "at_min": 9, "hospital": "small"})
    result = s.finish()
    log = parse_log(json.loads(json.dumps(s.export().to_data())))
    assert log.policies.destination == "balance"
    assert replay(log).events.equals(result.events)


def test_a_changed_log_is_detected_with_the_first_differing_rows():
    """An action moved by a minute no longer reproduces the digest; the block is named."""
    s = ExerciseSession(parse_scenario(small_scenario_data(30)), 1)
    s.apply({"kind": "hospital_diversion", "at_min": 9, "hospital": "small"})
    s.finish()
    data = s.export().to_data()
    data["actions"][0]["at_min"] = 10
    with pytest.raises(InputError, match="digest: does not match the log's scenario"):
        replay(parse_log(data))  # the whole-log digest catches it first
    data["digest"] = None  # as in a log of schema version 1: the events still catch it
    with pytest.raises(ReplayMismatch) as err:
        replay(parse_log(data))
    exc = err.value
    assert exc.expected == data["result_digest"] != exc.actual
    assert exc.row >= 0 and exc.row % 64 == 0
    original = s.model.result().events
    mine, theirs = block_digests(exc.result.events), block_digests(original)
    first = next(i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b)
    assert exc.row == first * 64
    assert f"[rows {exc.row}..{exc.row + 63}]" in exc.detail
    assert "action #1 (hospital_diversion hospital=small" in exc.detail


def test_a_changed_log_is_refused_saying_which_action_minute_and_patients():
    """Issue 13 defect 7c: the refusal says in words where the run parts and what points there.

    An action moved from minute 50 to 51: the refusal names the minutes where the replay
    parts from the recorded run, the moved action (#1, its kind, minute and author) as the
    likely change, and the patients of the replay's events there; "rows a..b differ" alone
    said none of that.
    """
    s = ExerciseSession(parse_scenario(small_scenario_data(60)), 1)
    s.run(until=50)
    s.apply({"kind": "hospital_diversion", "hospital": "small", "by": "IC"})
    s.finish()
    data = s.export().to_data()
    data["actions"][0]["at_min"] = 51
    for digest in (data["digest"], None):  # refused by the whole-log digest, or by the events
        data["digest"] = digest
        with pytest.raises((InputError, ReplayMismatch)) as err:
            replay(parse_log(data))
        text = str(err.value)
        assert "The replay parts from the recorded run between minutes " in text
        assert "action #1 (hospital_diversion hospital=small" in text
        assert "minute 51 by IC) is the first action from minute" in text
        assert "the likely change" in text
        assert re.search(r"from minute [\d.]+ the replay has minute [\d.]+: \w", text)
        assert re.search(r"\(patients? \d+", text)
    # a change of the seed parts the runs from the first events, before any action
    data = s.export().to_data()
    data["seed"], data["digest"] = 5, None
    with pytest.raises(ReplayMismatch, match="before any action of the log, so the scenario"):
        replay(parse_log(data))


def test_a_log_of_another_mcsim_version_that_no_longer_replays_names_both_versions():
    """A log whose run a later model changed says which versions made and replayed it."""
    s = ExerciseSession(parse_scenario(small_scenario_data(30)), 1, destination="balance")
    s.finish()
    data = s.export().to_data()
    assert data["mcsim_version"] == mcsim.__version__
    data["seed"], data["digest"] = 4, None  # stands for a model change: other events
    with pytest.raises(ReplayMismatch) as err:
        replay(parse_log(data))
    assert "recorded by mcsim" not in err.value.detail  # same version: no such excuse
    data["mcsim_version"] = "0.2.0"
    with pytest.raises(ReplayMismatch) as err:
        replay(parse_log(data))
    assert (
        f"recorded by mcsim 0.2.0, this is mcsim {mcsim.__version__}: a model change"
        in err.value.detail
    )


def test_a_changed_log_whose_run_is_unchanged_says_so():
    s = ExerciseSession(parse_scenario(small_scenario_data(20)), 1)
    s.finish()
    data = s.export().to_data()
    data["scenario"]["data"]["hospitals"][0]["icu_beds"] += 5  # nobody needed them
    with pytest.raises(InputError, match="gives the recorded run event for event"):
        replay(parse_log(data))


def test_without_decisions_keeps_injects_only():
    """The report's baseline drops decisions and keeps injects in order."""
    log = run_exercise(load_script(EXERCISES[0]), base=EXERCISES[0].parent)[0]
    base = without_decisions(log)
    assert [a.kind for a in base.actions] == [
        a.kind for a in log.actions if a.kind not in ("set_policy", "set_quotas",
                                                      "surge_capacity", "send_ambulance",
                                                      "staff_call_in")
    ]  # fmt: skip
    assert base.result_digest is None


# ------------------------------------------------------------------------- migrations


def test_v0_fixture_is_migrated_step_by_step():
    """Version 0 (time/type/who keys, no digest) becomes the current version and runs."""
    raw = json.loads((DATA / "exercise_v0.json").read_text())
    assert raw["version"] == 0 and "time" in raw["actions"][0]
    assert len(MIGRATIONS) == CURRENT_VERSION
    data = migrate(copy.deepcopy(raw))
    assert data["schema_version"] == CURRENT_VERSION == 2
    assert data["digest"] is None
    assert data["scenario"]["file"] == "small_town.yaml"
    assert data["actions"][1] == {
        "at_min": 20, "kind": "capacity_loss", "by": "facilitator", "hospital": "small",
        "resource": "ed_beds", "count": 2,
    }  # fmt: skip
    log = load_log(DATA / "exercise_v0.json")
    assert [a.at_min for a in log.actions] == [12, 20, 30, 60]
    assert log.result_digest is None
    result = replay(log)
    rows = result.events[result.events.kind.isin(["inject", "decision"])]
    assert list(rows.time_min.unique()) == [12, 20, 30, 60]


def test_newer_and_unknown_versions_are_refused(tmp_path):
    """One line each: a newer log, a non-numeric version, no version at all."""
    raw = json.loads((DATA / "exercise_v0.json").read_text())
    for version, fragment in ((3, "written by a newer mcsim"), ("x", "not a version number")):
        bad = {**raw, "version": version}
        with pytest.raises(InputError, match=fragment):
            parse_log(bad, file="f.json")
    del raw["version"]
    with pytest.raises(InputError, match="missing key"):
        parse_log(raw)


# ------------------------------------------------------------------------- command line


def test_cli_exercise_run_replay_and_events(tmp_path, capsys):
    """exercise run writes the log and events; replay says identical (exit 0)."""
    out = tmp_path / "ex.log.json"
    code, text, err = _run_cli(
        capsys, "exercise", "run", str(EXERCISES[0]), "--out", str(out), "--events",
        str(tmp_path / "ev"),
    )  # fmt: skip
    assert code == 0, err
    assert "log written" in text and (tmp_path / "ev" / "events.parquet").is_file()
    code, text, err = _run_cli(capsys, "replay", str(out), "--out", str(tmp_path / "re"))
    assert code == 0, err
    assert text.startswith("replay identical")
    import pandas as pd

    a = pd.read_parquet(tmp_path / "ev" / "events.parquet")
    b = pd.read_parquet(tmp_path / "re" / "events.parquet")
    assert a.equals(b)


def test_cli_replay_mismatch_exits_2(tmp_path, capsys):
    """A log whose events do not replay (its whole-log digest gone): exit 2, the rows named."""
    s = ExerciseSession(parse_scenario(small_scenario_data(20)), 1)
    s.apply({"kind": "hospital_diversion", "at_min": 9, "hospital": "small"})
    data = s.export().to_data()
    data["actions"][0]["at_min"] = 10
    data["digest"] = None
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    code, _, err = _run_cli(capsys, "replay", str(path))
    assert code == 2
    assert err.startswith(f"error: {path}: result_digest: replay differs from the log: ")
    assert "action #1 (hospital_diversion hospital=small" in err and "[rows " in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ('{"schema_version": 7, "scenario": {"data": {}}}', "unsupported schema_version 7"),
        ('{"schema_version": 1, "scenario": {"data": {}}, "actions": [{"kind": "ufo", '
         '"at_min": 1}]}', "actions[0].kind: unknown action kind 'ufo'"),
        ('{"schema_version": 1, "scenario": {"data": {}}, "actions": ['
         '{"kind": "hospital_closed", "at_min": 9, "hospital": "a"}, '
         '{"kind": "hospital_closed", "at_min": 3, "hospital": "b"}]}',
         "actions[1].at_min: actions must be in time order"),
        ('{"schema_version": 1, "scenario": {"data": {"schema_version": 1}}}', "scenario"),
    ],
)  # fmt: skip
def test_bad_logs_are_one_line_errors_with_exit_2(tmp_path, capsys, content, fragment):
    """Missing, malformed, newer, unknown kinds, unordered, bad scenario: exit 2, one line."""
    path = tmp_path / "log.json"
    if content is not None:
        path.write_text(content)
    for cmd in (["replay", str(path)], ["report", str(path), "--out", str(tmp_path / "r.html")]):
        code, out, err = _run_cli(capsys, *cmd)
        assert code == 2, (cmd, err)
        assert err.count("\n") == 1 and err.startswith(f"error: {path}")
        assert fragment in err


def test_cli_bad_action_in_a_script_names_the_file_and_action(tmp_path, capsys):
    """An action that does not fit the scenario is exit 2, naming the script and the action."""
    script = tmp_path / "s.yaml"
    script.write_text(
        "scenario: null\nseed: 0\nactions:\n"
        "  - {kind: hospital_closed, at_min: 5, hospital: nowhere}\n"
    )
    code, _, err = _run_cli(capsys, "exercise", "run", str(script), "--out", str(tmp_path / "o"))
    assert code == 2
    assert err.startswith(f"error: {script}: actions[0].hospital: unknown hospital 'nowhere'")


def test_resume_from_a_log_continues_the_exercise():
    """Load a log, replay to minute 20, add a decision: the extended log replays too."""
    s = ExerciseSession(parse_scenario(small_scenario_data(30)), 1)
    s.apply({"kind": "hospital_diversion", "at_min": 9, "hospital": "small"})
    s.apply({"kind": "hospital_reopened", "at_min": 40, "hospital": "small"})
    log = s.export()
    from mcsim.exercise import resume

    r = resume(log, until=20)
    assert r.now == 20 and [a.at_min for a in r.actions] == [9]
    assert r.model.hospitals["small"].on_diversion
    r.apply({"kind": "surge_capacity", "at_min": 25, "hospital": "big", "resource": "ed_beds",
             "count": 3})  # fmt: skip
    result = r.finish()
    extended = r.export()
    assert [a.kind for a in extended.actions] == ["hospital_diversion", "surge_capacity"]
    assert replay(extended).events.equals(result.events)


def test_cli_replay_against_the_original_events_names_the_exact_row(tmp_path, capsys):
    """With --against the original run's folder, the first differing row itself is named."""
    s = ExerciseSession(parse_scenario(small_scenario_data(20)), 1)
    s.apply({"kind": "hospital_diversion", "at_min": 9, "hospital": "small"})
    original = s.finish()
    original.write(tmp_path / "orig")
    data = s.export().to_data()
    data["actions"][0]["at_min"] = 10
    data["digest"] = None
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    code, _, err = _run_cli(capsys, "replay", str(path), "--against", str(tmp_path / "orig"))
    assert code == 2
    from mcsim.exercise.log import first_differing_row

    replayed = ExerciseSession(parse_scenario(small_scenario_data(20)), 1)
    replayed.apply({"kind": "hospital_diversion", "at_min": 10, "hospital": "small"})
    ev = replayed.finish().events
    row = next(
        i for i in range(len(ev)) if not ev.iloc[[i]].reset_index(drop=True).equals(
            original.events.iloc[[i]].reset_index(drop=True))
    )  # fmt: skip
    assert first_differing_row(original.events, ev)[0] == row
    assert f"first difference at row {row}: original time_min=" in err
