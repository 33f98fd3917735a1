"""The hand-written SimPy reference of issue 8 (benchmarks/simpy_reference.py) still runs.

It is the yardstick mcsim's catastrophe timing is compared against, so it must not rot: a small
catastrophe runs to the horizon, every casualty ends dead, treated or still waiting, and the
event log is in time order; the variant with the faster bay queue
simulates the same thing.
"""

from __future__ import annotations

import importlib
import sys
from itertools import pairwise
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def reference(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    module = importlib.import_module("simpy_reference")
    scenarios = importlib.import_module("catastrophe_scenarios")
    yield module, scenarios
    sys.modules.pop("simpy_reference", None)
    sys.modules.pop("catastrophe_scenarios", None)


def test_reference_accounts_for_every_casualty(reference) -> None:
    module, scenarios = reference
    scenario = scenarios.catastrophe(200)
    sim = module.run(scenario, seed=0)

    assert sim.env.now == scenario.duration_min
    assert len(sim.casualties) == 200
    statuses = {c.status for c in sim.casualties}
    assert statuses <= {"dead", "treated"} | module.WAITING
    summary = sim.summary()
    assert summary["dead"] + summary["treated"] + summary["waiting"] == 200
    assert summary["dead"] > 0 and summary["treated"] > 0

    times = [event[0] for event in sim.log]
    assert times, "empty event log"
    assert all(a <= b for a, b in pairwise(times))
    assert max(times) <= scenario.duration_min
    # one terminal record per casualty who died or was discharged
    kinds = [event[1] for event in sim.log]
    deaths = sum(k in {"dead_on_scene", "death", "death_after_care"} for k in kinds)
    assert deaths == summary["dead"]
    assert kinds.count("discharged") == summary["treated"]
    # the bay queue that inserts in place changes the speed, not the simulation
    assert module.run(scenario, seed=0, insort=True).log == sim.log
