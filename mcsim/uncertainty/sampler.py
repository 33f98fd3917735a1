"""A pyabc sampler whose result depends on the seed only: not on workers, backend or timing.

pyabc's own parallel samplers (multicore, Dask, concurrent futures) re-seed every worker
from the operating system's entropy (``np.random.seed()``), so two runs with the same seed
give different posteriors, and the Dask and the local sampler can never agree. This sampler
keeps pyabc's "first n accepted in submission order" rule (its EPS samplers' unbiased
ordering) but seeds each batch of evaluations from ``(seed, population, batch number)``
(:func:`batch_seed`):

* batch ``b`` of population ``t`` runs ``batch_size`` evaluations with numpy's and Python's
  global generators seeded from ``SeedSequence([seed, t + 1, b + 1])`` (pyabc draws proposals
  and perturbations from numpy's global generator; ``t + 1`` because pyabc calls its prior
  calibration sample population -1);
* the population is the particles of batches ``0, 1, 2, ...`` in order, up to and including
  the ``n``-th accepted one. Batches past it that were already running are discarded.

Any executor with ``submit`` returning :class:`concurrent.futures.Future` works: a process
pool (``--backend local``), a Dask ``Client.get_executor()`` (``--backend dask``), or none
(the evaluations run in this process). The same seed gives the same particles with each.
Evaluations counted (``nr_evaluations_``, pyabc's acceptance rate) are those up to the
``n``-th acceptance; :attr:`SeededBatchSampler.wasted` counts the discarded ones.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Any

import cloudpickle
import numpy as np
from pyabc.sampler import Sampler

#: Unpickled simulate functions in this worker process, by the digest of their pickle.
_FUNCTIONS: dict[str, Callable[[], Any]] = {}


def batch_seed(seed: int, t: int, batch: int) -> int:
    """The seed of one batch of evaluations (32 bits: what ``np.random.seed`` takes).

    ``batch`` -1 is the main process's own stream for population ``t``.
    """
    return int(np.random.SeedSequence([seed, t + 1, batch + 1]).generate_state(1)[0])


def run_batch(payload: bytes, digest: str, seed: int, size: int) -> tuple[list[Any], float]:
    """Run ``size`` evaluations of a pickled pyabc ``simulate_one`` from ``seed``.

    Returns the particles in order and the seconds spent (for the benchmarks' time shares).
    Module-level so that a process pool can pickle it by reference.
    """
    fn = _FUNCTIONS.get(digest)
    if fn is None:
        if len(_FUNCTIONS) > 4:  # one population's function at a time is what is used
            _FUNCTIONS.clear()
        fn = _FUNCTIONS[digest] = cloudpickle.loads(payload)
    random.seed(seed)
    np.random.seed(seed)
    start = time.perf_counter()
    particles = [fn() for _ in range(size)]
    return particles, time.perf_counter() - start


class SeededBatchSampler(Sampler):
    """ABC-SMC sampling that is reproducible from a seed on any executor.

    Args:
        seed: the calibration's seed.
        executor: where batches run (None: in this process).
        workers: batches kept in flight are ``2 * workers``.
        batch_size: evaluations per batch (part of the seeding: keep it to reproduce).
        progress: called as ``progress(t, accepted, n)`` whenever a batch is taken in.
        max_evaluations: a hard cap for the population being sampled (the run budget left);
            reaching it ends the population short (``sample.ok`` is False).
    """

    def __init__(
        self,
        seed: int,
        executor: Executor | None = None,
        workers: int = 1,
        batch_size: int = 4,
        progress: Callable[[int, int, int], None] | None = None,
    ) -> None:
        super().__init__()
        self.seed = seed
        self.executor = executor
        self.workers = max(1, workers)
        self.batch_size = batch_size
        self.progress = progress
        self.max_evaluations: float = np.inf
        self.wasted = 0
        self.simulation_seconds = 0.0

    def _submit(self, payload: bytes, digest: str, t: int, b: int) -> Future:
        seed = batch_seed(self.seed, t, b)
        if self.executor is None:
            fut: Future = Future()
            fut.set_result(run_batch(payload, digest, seed, self.batch_size))
            return fut
        return self.executor.submit(run_batch, payload, digest, seed, self.batch_size)

    def sample_until_n_accepted(
        self,
        n,
        simulate_one,
        t,
        *,
        max_eval=np.inf,
        all_accepted=False,  # noqa: ARG002
        ana_vars=None,  # noqa: ARG002
    ):
        """The first ``n`` accepted particles in batch order (see the module docstring)."""
        payload = cloudpickle.dumps(simulate_one)
        digest = hashlib.sha256(payload).hexdigest()
        cap = min(max_eval, self.max_evaluations)
        in_flight = 1 if self.executor is None else 2 * self.workers
        running: dict[int, Future] = {}
        done: dict[int, list[Any]] = {}
        prefix: list[Any] = []  # particles of batches 0..k-1, all finished, in order
        accepted = 0
        next_batch = 0
        evaluations = None
        try:
            while evaluations is None:
                while len(running) < in_flight and next_batch * self.batch_size < cap:
                    running[next_batch] = self._submit(payload, digest, t, next_batch)
                    next_batch += 1
                if not running:
                    break  # the cap is reached without n acceptances
                finished, _ = wait(list(running.values()), return_when=FIRST_COMPLETED)
                for b in [b for b, f in running.items() if f in finished]:
                    particles, seconds = running.pop(b).result()
                    done[b] = particles
                    self.simulation_seconds += seconds
                k = len(prefix) // self.batch_size
                while k in done and evaluations is None:
                    for p in done.pop(k):
                        prefix.append(p)
                        accepted += bool(p.accepted)
                        if accepted == n or len(prefix) >= cap:
                            evaluations = len(prefix)
                            break
                    k += 1
                if self.progress is not None:
                    self.progress(t, min(accepted, n), n)
        finally:
            for f in running.values():
                f.cancel()
        self.wasted += (next_batch * self.batch_size) - len(prefix)
        sample = self._create_empty_sample()
        for p in prefix:
            sample.append(p)
        self.nr_evaluations_ = len(prefix)
        if accepted < n:
            sample.ok = False
        return sample
