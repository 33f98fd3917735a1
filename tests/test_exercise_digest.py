"""The exercise log's digest covers the run and its result together (issue 15, defect 8).

``result_digest`` covers the event log; a change that alters no event (one more resuscitation
bay nobody needed) or that deletes ``result_digest`` would replay as "identical". The log's own
``digest`` covers scenario, seed, policies, actions and results: such a log is refused before it
is replayed. A log without a digest (deleted, or schema version 1) still replays, and says what
it cannot verify.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import small_scenario_data

from mcsim.cli import main
from mcsim.errors import InputError
from mcsim.exercise import ExerciseSession, parse_log, replay
from mcsim.exercise.log import events_digest, log_digest, verification
from mcsim.scenario import parse_scenario


@pytest.fixture(scope="module")
def log_data() -> dict:
    s = ExerciseSession(parse_scenario(small_scenario_data(20)), 1)
    s.apply({"kind": "hospital_diversion", "at_min": 9, "hospital": "small"})
    return s.export().to_data()


def _write(tmp_path: Path, data: dict) -> Path:
    p = tmp_path / "log.json"
    p.write_text(json.dumps(data))
    return p


def test_an_eventless_change_is_caught_by_the_log_digest(log_data, tmp_path, capsys):
    data = json.loads(json.dumps(log_data))
    data["scenario"]["data"]["hospitals"][0]["resus_bays"] += 5  # nobody needed them
    log = parse_log(data)
    # the events alone would not tell: the replay is identical
    assert events_digest(replay(log, check=False).events) == log.result_digest
    with pytest.raises(InputError, match="digest: does not match"):
        replay(log)
    path = _write(tmp_path, data)
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: digest: does not match")


def test_deleting_the_result_digest_is_caught(log_data, tmp_path, capsys):
    data = {k: v for k, v in log_data.items() if k != "result_digest"}
    assert main(["replay", str(_write(tmp_path, data))]) == 2
    assert "digest: does not match" in capsys.readouterr().err


def test_a_log_without_any_digest_replays_and_says_it_cannot_be_verified(
    log_data, tmp_path, capsys
):
    data = {**log_data, "result_digest": None, "digest": None, "block_digests": []}
    path = _write(tmp_path, data)
    assert main(["replay", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "cannot be verified" in out
    assert err == f"warning: {path}: the log has no digest: the replay cannot be verified\n"


def test_a_version_1_log_replays_with_its_events_verified_only(log_data, tmp_path, capsys):
    data = {k: v for k, v in log_data.items() if k != "digest"}
    data["schema_version"] = 1
    log = parse_log(data)
    assert log.schema_version == 2 and log.digest is None
    assert "only the events are verified" in (verification(log) or "")
    path = _write(tmp_path, data)
    assert main(["replay", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("replay identical") and "only the events are verified" in err


def test_the_digest_ignores_prose_and_covers_everything_else(log_data):
    log = parse_log(log_data)
    assert log.digest == log_digest(log)
    assert log_digest(log.model_copy(update={"title": "new", "notes": "n"})) == log.digest
    for change in ({"seed": 2}, {"events": 1}, {"block_digests": []}, {"result_digest": "0"}):
        assert log_digest(log.model_copy(update=change)) != log.digest, change


def test_a_log_recorded_with_the_first_outcome_model_says_why_it_cannot_be_reproduced(
    log_data, tmp_path, capsys
):
    """A version-1 log whose scenario is of schema 1 came from the first outcome model: its
    events cannot be reproduced, and replay says so in one line (exit 2) instead of pointing
    at a differing row; without a result digest it still replays, unverified."""
    data = {k: v for k, v in log_data.items() if k != "digest"}
    data["schema_version"] = 1
    data["mcsim_version"] = "0.1.0"
    data["scenario"]["data"] = {**data["scenario"]["data"], "schema_version": 1}
    log = parse_log(data)
    with pytest.raises(InputError, match="first outcome model"):
        replay(log)
    path = _write(tmp_path, data)
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: {path}: scenario.data.schema_version: recorded by mcsim 0.1.0")
    unverified = {**data, "result_digest": None, "block_digests": []}
    assert main(["replay", str(_write(tmp_path, unverified))]) == 0
