"""The event queue: deterministic order, and one way to take an event back (``cancel``)."""

from __future__ import annotations

import math

from mcsim.clock import EventQueue
from mcsim.enums import Phase


def _drain(q: EventQueue) -> list[tuple[float, str]]:
    out = []
    while q.peek_time() < math.inf:
        t, fn, args = q.pop()
        out.append((t, fn(*args)))
    return out


def test_events_run_by_time_then_phase_then_order_of_scheduling():
    """Two events at the same minute run in phase order, then in the order scheduled."""
    q = EventQueue()
    q.push(5, Phase.DECISION, str, "late decision")
    q.push(5, Phase.DEATH, str, "death first")
    q.push(5, Phase.DECISION, str, "later decision")
    q.push(1, Phase.END, str, "earliest")
    assert [x for _, x in _drain(q)] == [
        "earliest",
        "death first",
        "late decision",
        "later decision",
    ]


def test_a_cancelled_event_never_runs_and_the_others_keep_their_order():
    """cancel() takes an event back: it is not run, not seen by peek_time, the rest unchanged."""
    q = EventQueue()
    a = q.push(2, Phase.ARRIVAL, str, "a")
    q.push(3, Phase.ARRIVAL, str, "b")
    c = q.push(3, Phase.ARRIVAL, str, "c")
    q.push(4, Phase.ARRIVAL, str, "d")
    a.cancel()
    c.cancel()
    c.cancel()  # twice is harmless
    assert a.cancelled and c.cancelled
    assert q.peek_time() == 3
    assert _drain(q) == [(3, "b"), (4, "d")]
    assert q.peek_time() == math.inf


def test_the_handle_says_when_it_runs():
    """The returned event carries its time (what a re-routing inject needs to know)."""
    q = EventQueue()
    e = q.push(7.5, Phase.ARRIVAL, str, "x")
    assert e.time == 7.5 and not e.cancelled
    assert "7.5" in repr(e)


def test_pop_due_takes_only_events_up_to_the_limit_and_skips_cancelled_ones():
    """pop_due(limit) is peek_time() <= limit then pop(): same events, same order, none late."""
    q = EventQueue()
    q.push(2, Phase.ARRIVAL, str, "a").cancel()
    q.push(3, Phase.DECISION, str, "c")
    q.push(3, Phase.ARRIVAL, str, "b")
    q.push(4, Phase.ARRIVAL, str, "d")
    ran = []
    while (e := q.pop_due(3)) is not None:
        ran.append((e.time, e.fn(*e.args)))
    assert ran == [(3, "b"), (3, "c")]
    assert q.peek_time() == 4 and len(q) == 1
    assert q.pop_due(math.inf).args == ("d",) and q.pop_due(math.inf) is None
