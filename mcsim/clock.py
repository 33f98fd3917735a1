"""The event queue that drives a run.

A binary heap keyed by ``(time, phase, sequence)`` as in SimPy: the earliest event runs first,
events at the same minute run in :class:`~mcsim.enums.Phase` order, and events of the same
phase at the same minute run in the order they were scheduled. That key makes every run
deterministic. Callbacks are held strongly (unlike ``mesa.Model.schedule_event``, which holds
weak references), so bound methods and their arguments stay alive until they run.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any

from mcsim.enums import Phase


class EventQueue:
    """A deterministic future-event list."""

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, time: float, phase: Phase, fn: Callable[..., Any], *args: Any) -> None:
        """Schedule ``fn(*args)`` at ``time``."""
        if math.isnan(time):
            raise ValueError("cannot schedule an event at NaN")
        self._seq += 1
        heapq.heappush(self._heap, (time, int(phase), self._seq, fn, args))

    def peek_time(self) -> float:
        """Time of the next event (inf when empty)."""
        return self._heap[0][0] if self._heap else math.inf

    def pop(self) -> tuple[float, Callable[..., Any], tuple[Any, ...]]:
        """Remove and return the next event as ``(time, fn, args)``."""
        time, _phase, _seq, fn, args = heapq.heappop(self._heap)
        return time, fn, args
