"""Process pools that start the same way on Linux, macOS and Windows.

Sweeps and comparisons run many independent simulations; both use a stdlib process pool whose
start method exists everywhere (:func:`start_method`). Tasks carry plain data and module-level
functions, so they need no ``fork``: a policy registered at run time in the parent (not by an
import or an entry point) is unknown to the workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def start_method() -> str:
    """How pools start their workers: ``forkserver`` where it exists, else ``spawn``.

    forkserver (Linux, macOS): workers start from a clean, single-threaded server with mcsim
    preloaded, so they are quick to start and unaffected by the main process's threads (a
    progress bar). Windows has only spawn: each worker imports mcsim afresh, which is slower to
    start but gives the same results (a task carries everything it needs).
    """
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def process_pool(
    workers: int,
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    preload: Sequence[str] = (),
) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes; ``preload`` modules are imported once by the server."""
    ctx = multiprocessing.get_context(start_method())
    if ctx.get_start_method() == "forkserver" and preload:
        ctx.set_forkserver_preload(list(preload))
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=initializer, initargs=initargs
    )


def default_workers() -> int:
    """Every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1
