"""Where a replayed exercise log parts from the run it recorded, said in words.

A log carries digests of its event log in blocks of :data:`~mcsim.exercise.log.BLOCK_ROWS`
rows, not the events themselves, so a replay that differs can only be placed to within one
block. "rows 1088..1151 differ" is true but tells a facilitator nothing; what they need is
*when* the two runs part (the minutes around the first differing block), *which action* of
the log was last applied before that (a changed, added or removed action at or before it is
the likely cause), and *which patients* the replay's events there concern. This module turns
the block comparison into that sentence; it never guesses beyond what the digests show.
"""

from __future__ import annotations

import pandas as pd

from mcsim.exercise.log import BLOCK_ROWS, ExerciseLog, block_digests

#: How many of the replay's events in the first differing block the explanation quotes.
QUOTED_EVENTS = 3


def _minute(t: float) -> str:
    return f"{float(t):.1f}".removesuffix(".0")


def event_words(row: pd.Series) -> str:
    """One event of the log as a phrase: "minute 41.2: dispatched, patient 57, ambulance 3"."""
    bits = [str(row["kind"]).replace("_", " ")]
    if int(row["patient"]) >= 0:
        bits.append(f"patient {int(row['patient'])}")
    if int(row["vehicle"]) >= 0:
        bits.append(f"ambulance {int(row['vehicle'])}")
    if str(row["hospital"]):
        bits.append(f"hospital {row['hospital']}")
    detail = str(row["detail"] or "")
    if detail and str(row["kind"]) in ("inject", "decision"):
        bits.append(detail)
    return f"minute {_minute(row['time_min'])}: " + ", ".join(bits)


def _action_words(log: ExerciseLog, index: int) -> str:
    a = log.actions[index]
    who = f" by {a.by}" if a.by else ""
    what = f" {a.summary()}" if a.summary() else ""
    return f"action #{index + 1} ({a.kind}{what}, minute {_minute(a.at_min)}{who})"


def explain_difference(log: ExerciseLog, events: pd.DataFrame) -> str | None:
    """How the replay's ``events`` part from the run ``log`` recorded; None if no block differs.

    The text says between which minutes the two runs part (the first block that differs),
    which action of the log falls in that span or last came before it, and the replay's
    events there from that action's minute (with their patients); the rows last, for whoever
    checks by hand.
    """
    theirs = list(log.block_digests)
    mine = block_digests(events)
    first = next((i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b), None)
    if first is None:
        n = min(len(mine), len(theirs)) * BLOCK_ROWS
        if len(mine) == len(theirs) and len(events) <= n:
            return None
        start = n
    else:
        start = first * BLOCK_ROWS
    times = events["time_min"].to_numpy(float)
    if start >= len(events):
        agreed = _minute(times[-1]) if len(events) else "0"
        return (
            f"The replay ends after {len(events)} events (minute {agreed}) while the recorded "
            f"run goes on (its digests cover {len(theirs) * BLOCK_ROWS} rows): the recorded "
            f"run had more events after minute {agreed}"
            + _cause(log, [], list(range(len(log.actions))), times[-1] if len(events) else 0.0)
        )
    stop = min(start + BLOCK_ROWS, len(events))
    lo = times[start - 1] if start > 0 else times[start]
    hi = times[stop - 1]
    head = f"The replay parts from the recorded run between minutes {_minute(lo)} and {_minute(hi)}"
    if start > 0:
        head += f" (the first {start} events agree)"
    after = [i for i, a in enumerate(log.actions) if a.at_min >= lo]
    if start == 0 and after and log.actions[after[0]].at_min > hi:
        after = []  # the runs differ from their first events, before any action could act
    before = [i for i, a in enumerate(log.actions) if a.at_min < lo]
    block = events.iloc[start:stop]
    first_after = log.actions[after[0]].at_min if after else None
    from_min = first_after if first_after is not None and first_after <= hi else lo
    shown = block[block["time_min"].to_numpy(float) >= from_min]
    if shown.empty:
        shown = block
    quoted = "; ".join(event_words(r) for _, r in shown.head(QUOTED_EVENTS).iterrows())
    patients = [int(p) for p in shown["patient"].to_numpy() if int(p) >= 0]
    who = sorted(set(patients), key=patients.index)[:5]
    there = f"; from minute {_minute(from_min)} the replay has {quoted}"
    if who:
        there += f" (patient{'s' if len(who) > 1 else ''} {', '.join(map(str, who))})"
    return head + _cause(log, after[:1], before, lo) + there + f" [rows {start}..{stop - 1}]"


def _cause(log: ExerciseLog, after: list[int], before: list[int], lo: float) -> str:
    """Which action the difference points at.

    Everything up to minute ``lo`` agrees, so the first action at or after ``lo`` is the
    likely change (edited, added or removed); an earlier action can still act later (a
    decision whose first event comes after ``lo``), so the last one before is named if none
    comes after.
    """
    if after:
        return (
            f"; {_action_words(log, after[0])} is the first action from minute {_minute(lo)} "
            "on, where the runs still agreed: the likely change (edited, added or removed), "
            "or one before it"
        )
    if before:
        return (
            f"; no action comes after minute {_minute(lo)}, the last one before it is "
            f"{_action_words(log, before[-1])}: a change to it or an earlier action, to the "
            "scenario or the seed would explain it"
        )
    return (
        "; that is before any action of the log, so the scenario, the seed or the policies "
        "differ (or this mcsim computes the run differently)"
    )
