"""The event queue that drives a run.

A binary heap keyed by ``(time, phase, sequence)`` as in SimPy: the earliest event runs first,
events at the same minute run in :class:`~mcsim.enums.Phase` order, and events of the same
phase at the same minute run in the order they were scheduled. That key makes every run
deterministic. Callbacks are held strongly (unlike ``mesa.Model.schedule_event``, which holds
weak references), so bound methods and their arguments stay alive until they run.

**Cancelling.** :meth:`EventQueue.push` returns an :class:`Event`, the one way to take back a
scheduled event: ``event.cancel()``. A cancelled event stays in the heap (removing it would
cost a re-heapify) and is dropped when it reaches the top, so it never runs, is never seen by
:meth:`EventQueue.peek_time`, and the order of every other event is unchanged. Who may cancel
an event is whoever keeps its handle: a patient's pending death (care slowed the clock), a
traveller's pending arrival (re-routed), a self-presenter's arrival (turned away).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any

from mcsim.enums import Phase


class Event:
    """A scheduled call, as handed back by :meth:`EventQueue.push`.

    Attributes:
        time: the simulated minute at which it runs.
        fn, args: what it calls.
        cancelled: True once :meth:`cancel` was called (it will not run).
    """

    __slots__ = ("args", "cancelled", "fn", "time")

    def __init__(self, time: float, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.time = time
        self.fn = fn
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        """Take the event back: it will not run (cancelling twice, or after it ran, is a no-op)."""
        self.cancelled = True

    def __repr__(self) -> str:
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        state = " cancelled" if self.cancelled else ""
        return f"<Event {name} at {self.time:g}{state}>"


class EventQueue:
    """A deterministic future-event list."""

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int, Event]] = []
        self._seq = 0

    def __len__(self) -> int:
        """Events still to run (cancelled ones not yet dropped are counted)."""
        return len(self._heap)

    def push(self, time: float, phase: Phase, fn: Callable[..., Any], *args: Any) -> Event:
        """Schedule ``fn(*args)`` at ``time``; the returned :class:`Event` can cancel it."""
        if math.isnan(time):
            raise ValueError("cannot schedule an event at NaN")
        self._seq += 1
        event = Event(time, fn, args)
        heapq.heappush(self._heap, (time, int(phase), self._seq, event))
        return event

    def _drop_cancelled(self) -> None:
        heap = self._heap
        while heap and heap[0][3].cancelled:
            heapq.heappop(heap)

    def peek_time(self) -> float:
        """Time of the next event that will run (inf when none is left)."""
        self._drop_cancelled()
        return self._heap[0][0] if self._heap else math.inf

    def pop_due(self, limit: float) -> Event | None:
        """Remove and return the next event that will run, if it runs at or before ``limit``.

        ``peek_time() <= limit`` then :meth:`pop` in one step (the event loop's hot path).
        """
        heap = self._heap
        while heap:
            entry = heap[0]
            if entry[3].cancelled:
                heapq.heappop(heap)
            elif entry[0] <= limit:
                return heapq.heappop(heap)[3]
            else:
                return None
        return None

    def pop(self) -> tuple[float, Callable[..., Any], tuple[Any, ...]]:
        """Remove and return the next event that will run as ``(time, fn, args)``."""
        self._drop_cancelled()
        event = heapq.heappop(self._heap)[3]
        return event.time, event.fn, event.args
