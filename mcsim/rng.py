"""Named random streams derived from one run seed.

Each kind of draw (casualty generation, observation error, service times, travel noise, ...)
has its own :class:`numpy.random.Generator`, seeded from the run seed and the stream's name.
Changing a policy therefore changes which draws a policy-dependent stream makes, but never
what the casualty stream produces: the same seed always injures the same people in the same way
(common random numbers across policies).
"""

from __future__ import annotations

import zlib

import numpy as np


class RandomStreams:
    """A lazily created family of generators, one per stream name."""

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def stream(self, name: str) -> np.random.Generator:
        """The generator for ``name``; the same name always gives the same sequence."""
        gen = self._streams.get(name)
        if gen is None:
            # crc32 is stable across processes and Python versions, unlike hash().
            key = zlib.crc32(name.encode("utf-8"))
            gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, key])))
            self._streams[name] = gen
        return gen
