"""Pause Python's cyclic garbage collector around bulk simulation work.

A run builds hundreds of thousands of long-lived objects (agents, views, log entries) and
almost no reference cycles that die young. With automatic collection on, every full collection
walks all of them again: at 30,000 casualties that was about 30 % of the run time
(benchmarks/README.md). Reference counting still frees everything that is not in a cycle, and
the collector is switched back on afterwards, so the few cycles left are collected as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable automatic cyclic GC inside the block; restore the previous state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
