"""Generated catastrophe-scale scenarios for the scale benchmarks (not shipped scenarios).

A metropolitan region of ~2,000 road nodes (a 45 x 45 grid city with arterials), 100 hospitals
and 100 ambulance stations with 10 vehicles each (1,000 ambulances), and a disaster spread over
10 incident sites (an earthquake: crush injuries, some casualties trapped). Only the casualty
count varies, so the cost per casualty can be compared across sizes. Placement is drawn from a
fixed seed, so every run of the benchmark uses the same region.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import mcsim
from mcsim.scenario import parse_scenario

GRID = 45  # 45 x 45 = 2,025 junctions
HOSPITALS = 100
STATIONS = 100
VEHICLES_PER_STATION = 10
SITES = 10


def catastrophe_data(casualties: int, *, seed: int = 2024) -> dict[str, Any]:
    """Scenario data for ``casualties`` spread evenly over the incident sites."""
    rng = np.random.default_rng(seed)
    cells = rng.choice(GRID * GRID, size=HOSPITALS + STATIONS + SITES, replace=False)
    names = [f"r{c // GRID}c{c % GRID}" for c in cells]
    hosp_nodes = names[:HOSPITALS]
    station_nodes = names[HOSPITALS : HOSPITALS + STATIONS]
    site_nodes = names[HOSPITALS + STATIONS :]
    hospitals = []
    for i, node in enumerate(hosp_nodes):
        level = 1 if i < 8 else 2 if i < 30 else 3
        size = {1: 3, 2: 2, 3: 1}[level]
        hospitals.append(
            {
                "id": f"h{i:03d}",
                "node": node,
                "trauma_level": level,
                "resus_bays": 2 * size,
                "ed_beds": 15 * size,
                "minor_treatment_spaces": 6 * size,
                "operating_rooms": 2 * size,
                "icu_beds": 8 * size,
                "teams_on_duty": size,
                "teams_on_call": size,
                "callin_delay_min": 30,
                "occupied": {"ed_beds": 10 * size, "icu_beds": 6 * size},
            }
        )
    stations = [
        {
            "id": f"s{i:03d}",
            "node": node,
            "vehicles": [
                {"type": "als", "count": VEHICLES_PER_STATION - 2},
                {"type": "bls", "count": 2, "capacity": 2},
            ],
        }
        for i, node in enumerate(station_nodes)
    ]
    per_site = [casualties // SITES + (1 if i < casualties % SITES else 0) for i in range(SITES)]
    incidents = [
        {
            "id": f"site{i}",
            "node": node,
            "onset_min": 0,
            "casualties": n,
            "injury_profile": "crush",
            "child_share": 0.1,
            "self_transport_share": 0.4,
            "extraction_share": 0.1,
            "extraction_min_range": [20, 120],
        }
        for i, (node, n) in enumerate(zip(site_nodes, per_site, strict=True))
        if n > 0
    ]
    return {
        "schema_version": 1,
        "name": f"catastrophe benchmark, {casualties:,} casualties",
        "duration_min": 1440,
        "region": {
            "crs": "km",
            "generator": {
                "kind": "grid_city",
                "rows": GRID,
                "cols": GRID,
                "block_km": 0.5,
                "speed_kmh": 30,
                "arterial_every": 5,
                "arterial_speed_kmh": 60,
            },
        },
        "hospitals": hospitals,
        "stations": stations,
        "incidents": incidents,
        "response": {"triage_officers": 6, "paramedics": 12},
    }


def catastrophe(casualties: int) -> mcsim.Scenario:
    """The validated benchmark scenario of a given size."""
    return parse_scenario(catastrophe_data(casualties), file=f"catastrophe-{casualties}")
