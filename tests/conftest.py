"""Shared fixtures: small scenarios built in code so that tests run in milliseconds."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"


def small_scenario_data(casualties: int = 40, **incident: Any) -> dict[str, Any]:
    """A small but complete scenario: a 5x5 grid town, two hospitals, two stations."""
    inc = {
        "id": "blast",
        "node": "site",
        "onset_min": 0,
        "casualties": casualties,
        "injury_profile": "blast_confined",
        "child_share": 0.1,
        "self_transport_share": 0.5,
    }
    inc.update(incident)
    return {
        "schema_version": 2,
        "name": "small town",
        "duration_min": 480,
        "region": {
            "crs": "km",
            "generator": {
                "kind": "grid_city",
                "rows": 5,
                "cols": 5,
                "block_km": 1.0,
                "speed_kmh": 30,
            },
            "nodes": [{"id": "site", "kind": "incident_site", "x": 2.5, "y": 2.5}],
            "roads": [{"from": "site", "to": "r2c2", "travel_min": 1.0}],
        },
        "hospitals": [
            {
                "id": "big",
                "node": "r0c0",
                "trauma_level": 1,
                "resus_bays": 3,
                "ed_beds": 12,
                "operating_rooms": 2,
                "icu_beds": 6,
                "teams_on_duty": 2,
                "teams_on_call": 2,
                "callin_delay_min": 20,
                "occupied": {"ed_beds": 4, "icu_beds": 2},
            },
            {
                "id": "small",
                "node": "r4c3",
                "trauma_level": 3,
                "resus_bays": 1,
                "ed_beds": 6,
                "operating_rooms": 1,
                "icu_beds": 2,
                "teams_on_duty": 1,
            },
        ],
        "stations": [
            {"id": "a", "node": "r1c1", "vehicles": [{"type": "als", "count": 3}]},
            {
                "id": "b",
                "node": "r4c4",
                "vehicles": [
                    {"type": "als", "count": 2},
                    {"type": "bls", "count": 1, "capacity": 2},
                ],
            },
        ],
        "incidents": [inc],
    }


@pytest.fixture
def small_data() -> dict[str, Any]:
    """A fresh copy of the small scenario as plain data."""
    return copy.deepcopy(small_scenario_data())


@pytest.fixture
def write_yaml(tmp_path: Path):
    """Write data as YAML into tmp_path and return the path."""

    def _write(data: Any, name: str = "scenario.yaml") -> Path:
        p = tmp_path / name
        p.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
        return p

    return _write


def patient_row(**override: Any) -> dict[str, Any]:
    """One casualty as :meth:`mcsim.casualties.CasualtyTable.row` gives it, for tests that
    admit hand-made patients: a compensated, non-bleeding critical adult unless overridden."""
    from mcsim.enums import Severity

    row: dict[str, Any] = {
        "severity": Severity.CRITICAL,
        "rpm0": 12,
        "codes0": (4, 4, 4),
        "loss_order": (0, 1, 2),
        "quantiles": (0.5, 0.5, 0.5, 0.5),
        "z_obs": (0.0, 0.0, 0.0, 0.0),
        "age": 30,
        "walking0": False,
        "penetrating": False,
        "needs_surgery": False,
        "iss": 25,
        "haemorrhage": False,
        "compressible": False,
        "z_death": 0.0,
        "u_survival": 0.0,
        "triage_min": 0.5,
        "critical": True,
        "extraction_min": 0.0,
        "self_transport": False,
        "self_transport_delay_min": 0.0,
    }
    row.update(override)
    return row
