"""Canonical runs, diffed on every change: optimisations must not change a single event.

The digests in ``tests/baseline/digests.json`` are of the event logs of a few canonical runs,
with their headline figures beside them in plain numbers; a failure prints what changed.
When a change is *meant* to change the model's behaviour, refresh them deliberately with
``MCSIM_REFRESH_BASELINE=1 .venv/bin/python -m pytest tests/test_baseline.py`` and say why in
the commit message.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest

import mcsim
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data

BASELINE = Path(__file__).parent / "baseline" / "digests.json"


def _small_many_hospitals() -> mcsim.Scenario:
    """A scenario with more hospitals than destination policies are shown at once."""
    data = small_scenario_data(casualties=150)
    data["region"]["generator"].update(rows=9, cols=9)
    data["hospitals"] = [
        {
            "id": f"h{i}",
            "node": f"r{i % 9}c{(i * 4) % 9}",
            "trauma_level": 1 + i % 3,
            "resus_bays": 1,
            "ed_beds": 4,
            "operating_rooms": 1,
            "icu_beds": 1,
            "teams_on_duty": 1,
        }
        for i in range(30)
    ]
    data["stations"][0]["vehicles"][0]["count"] = 40
    return parse_scenario(data, file="many-hospitals")


CANONICAL = {
    "default-seed0-nearest": lambda: (mcsim.load_scenario(mcsim.default_scenario_path()), 0, {}),
    "default-seed1-balance-salt": lambda: (
        mcsim.load_scenario(mcsim.default_scenario_path()),
        1,
        {"destination": "balance", "triage": "salt"},
    ),
    "small-seed2-stm": lambda: (
        parse_scenario(small_scenario_data(casualties=80)),
        2,
        {"triage": "stm", "dispatch": "stm"},
    ),
    "many-hospitals-seed3-nearest": lambda: (_small_many_hospitals(), 3, {}),
}


def events_digest(events: pd.DataFrame) -> str:
    """A digest of every value of every column, in order (independent of Parquet/pandas I/O)."""
    h = hashlib.sha256()
    for col in events.columns:
        h.update(col.encode())
        values = (
            events[col].astype(str)
            if events[col].dtype.name in ("category", "string")
            else events[col]
        )
        h.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
    return h.hexdigest()


#: Readable figures kept beside each digest (as Starsim's baseline files do), so that a
#: deliberate refresh shows in review what the change did, and a failure says it in words.
READABLE = (
    "deaths",
    "immediate_deaths",
    "deaths_prehospital",
    "deaths_in_hospital",
    "critical",
    "critical_deaths",
    "expected_deaths",
    "unresolved",
    "first_hospital_arrival_min",
    "scene_clear_min",
    "self_transported",
)


def _readable(metrics: dict) -> dict:
    out = {}
    for key in READABLE:
        v = metrics[key]
        out[key] = round(v, 3) if isinstance(v, float) else v
    out["patients_by_hospital"] = {h: v["patients"] for h, v in metrics["hospitals"].items()}
    return out


def _current() -> dict[str, dict]:
    out = {}
    for name, make in CANONICAL.items():
        scenario, seed, policies = make()
        r = mcsim.simulate(scenario, seed=seed, **policies)
        out[name] = {
            "events": len(r.events),
            "metrics": _readable(r.metrics),
            "digest": events_digest(r.events),
        }
    return out


def _diff(expected: dict, current: dict) -> str:
    """What changed, in words: the readable figures first, then the event count and digest."""
    lines = []
    old, new = expected.get("metrics", {}), current["metrics"]
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            lines.append(f"  {key}: {old.get(key)!r} -> {new.get(key)!r}")
    if expected.get("events") != current["events"]:
        lines.append(f"  events: {expected.get('events')} -> {current['events']}")
    if expected.get("digest") != current["digest"] and not lines:
        lines.append("  same figures, but the event log differs (order or times of events)")
    return "\n".join(lines)


@pytest.mark.skipif(
    not BASELINE.exists() and not os.environ.get("MCSIM_REFRESH_BASELINE"),
    reason="no baseline file",
)
def test_canonical_runs_match_the_baseline():
    current = _current()
    if os.environ.get("MCSIM_REFRESH_BASELINE"):
        BASELINE.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    expected = json.loads(BASELINE.read_text())
    assert set(expected) == set(current)
    changed = {n: _diff(expected[n], current[n]) for n in current if current[n] != expected[n]}
    assert not changed, "canonical runs changed (refresh deliberately if meant):\n" + "\n".join(
        f"{n}:\n{d}" for n, d in changed.items()
    )
