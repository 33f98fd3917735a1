"""Where a run happened: its region's nodes and its places (hospitals, stations, incidents).

The event log names places by node number (``node``, ``to_node``) and hospitals and incidents
by scenario id; these two tables, written beside it, give both a position, so that the log
alone is enough to draw the run on a map (``mcsim export``) without the scenario file, which
may have changed since.

The coordinates are the scenario's own: longitude/latitude in degrees (``crs`` = EPSG:4326)
or km on a local plane (``crs`` = ``local_km``, no geographic reference), and each row says
which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mcsim.enums import NodeKind

if TYPE_CHECKING:
    from mcsim.region import Region
    from mcsim.scenario import Scenario

#: The ``crs`` column's values, by the region's ``crs``.
CRS_NAMES = {"lonlat": "EPSG:4326", "km": "local_km"}


class PlaceKind:
    """The ``place`` column's values (the scenario section each row comes from)."""

    HOSPITAL = NodeKind.HOSPITAL.value
    STATION = NodeKind.AMBULANCE_STATION.value
    INCIDENT = "incident"


def nodes_frame(region: Region) -> pd.DataFrame:
    """One row per region node, in node-number order (docs/data.md, "nodes")."""
    n = region.n_nodes
    xy = region.positions
    return pd.DataFrame(
        {
            "node": np.arange(n, dtype=np.int32),
            "name": pd.array([region.name(i) for i in range(n)], dtype="string"),
            "kind": pd.Categorical(
                [region.kind(i).value for i in range(n)], categories=[k.value for k in NodeKind]
            ),
            "x": xy[:, 0].astype(np.float64),
            "y": xy[:, 1].astype(np.float64),
            "crs": pd.Categorical([CRS_NAMES[region.crs]] * n),
        }
    )


def places_frame(scenario: Scenario, region: Region) -> pd.DataFrame:
    """One row per hospital, ambulance station and incident (docs/data.md, "places")."""
    rows: list[dict[str, object]] = []
    for h in scenario.hospitals:
        rows.append(
            {"place": PlaceKind.HOSPITAL, "id": h.id, "name": h.name, "node": h.node,
             "trauma_level": h.trauma_level}
        )  # fmt: skip
    for s in scenario.stations:
        vehicles = sum(v.count for v in s.vehicles)
        rows.append(
            {"place": PlaceKind.STATION, "id": s.id, "name": s.name, "node": s.node,
             "vehicles": vehicles}
        )  # fmt: skip
    for inc in scenario.incidents:
        rows.append(
            {"place": PlaceKind.INCIDENT, "id": inc.id, "name": None, "node": inc.node,
             "casualties": inc.casualties, "onset_min": inc.onset_min}
        )  # fmt: skip
    nodes = [region.index(str(r["node"])) for r in rows]
    xy = region.positions[nodes] if nodes else np.zeros((0, 2))
    kinds = [PlaceKind.HOSPITAL, PlaceKind.STATION, PlaceKind.INCIDENT]

    def column(key: str, dtype: str) -> pd.api.extensions.ExtensionArray:
        return pd.array([r.get(key) for r in rows], dtype=dtype)

    return pd.DataFrame(
        {
            "place": pd.Categorical([r["place"] for r in rows], categories=kinds),
            "id": column("id", "string"),
            "name": column("name", "string"),
            "node": np.asarray(nodes, dtype=np.int32),
            "x": xy[:, 0].astype(np.float64),
            "y": xy[:, 1].astype(np.float64),
            "crs": pd.Categorical([CRS_NAMES[region.crs]] * len(rows)),
            "trauma_level": column("trauma_level", "Int32"),
            "vehicles": column("vehicles", "Int32"),
            "casualties": column("casualties", "Int32"),
            "onset_min": column("onset_min", "Float64"),
        }
    )
