"""Tabletop exercises: injects and decisions applied to a run, the exercise log, replay.

- :mod:`mcsim.exercise.actions`: the action kinds (injects, decisions) and how each applies;
- :mod:`mcsim.exercise.log`: the exercise log (self-contained JSON) and the exercise script;
- :mod:`mcsim.exercise.migrations`: numbered migrations of older logs;
- :mod:`mcsim.exercise.runner`: live sessions (pause, act, continue, export), scripted runs
  and replays checked bit for bit.
"""

from mcsim.exercise.actions import ACTIONS, Action, apply_action, parse_action
from mcsim.exercise.log import (
    ExerciseLog,
    ExerciseScript,
    events_digest,
    load_log,
    load_script,
    parse_log,
)
from mcsim.exercise.runner import (
    ExerciseSession,
    ReplayMismatch,
    action_marks,
    replay,
    replay_model,
    resume,
    run_exercise,
    without_decisions,
)

__all__ = [
    "ACTIONS",
    "Action",
    "ExerciseLog",
    "ExerciseScript",
    "ExerciseSession",
    "ReplayMismatch",
    "action_marks",
    "apply_action",
    "events_digest",
    "load_log",
    "load_script",
    "parse_action",
    "parse_log",
    "replay",
    "replay_model",
    "resume",
    "run_exercise",
    "without_decisions",
]
