"""The columnar event log: rows in order, ``seq`` as the position, copies independent."""

from __future__ import annotations

import copy
import math
import pickle

from mcsim.enums import EventKind
from mcsim.records import EVENT_COLUMNS, EventLog


def test_keyword_and_positional_rows_are_the_same_row() -> None:
    """``add`` (keywords, defaults) and ``add_row`` (every column) write identical rows."""
    log = EventLog()
    log.add(2.0, EventKind.DEATH, patient=7, hospital="h1", incident="a", tag="immediate")
    log.add_row(
        2.0, EventKind.DEATH, 7, -1, -1, "h1", "a", -1, -1, math.nan, "immediate", "", math.nan, ""
    )
    frame = log.to_frame()
    assert list(frame.columns) == list(EVENT_COLUMNS)
    assert frame["seq"].tolist() == [0, 1]
    first = frame.drop(columns="seq").iloc[0].astype(str).tolist()
    second = frame.drop(columns="seq").iloc[1].astype(str).tolist()
    assert first == second


def test_a_copied_log_writes_its_own_rows() -> None:
    """Deep copies and unpickled logs append to their own columns, never to the original's."""
    log = EventLog()
    log.add(1.0, EventKind.END)
    for other in (copy.deepcopy(log), pickle.loads(pickle.dumps(log))):
        other.add(3.0, EventKind.END)
        assert len(other) == 2 and list(other.times()) == [1.0, 3.0]
    assert len(log) == 1 and log.last_time() == 1.0
