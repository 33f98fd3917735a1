"""A run folder as map layers: hospitals (with their load over time), scenes, stations, trips.

Each layer is a plain DataFrame whose columns are those of its table in
:data:`mcsim.tables.EXPORT_LAYERS` (docs/data.md), with the coordinates as columns (``x``/``y``,
or both ends of a trip); :mod:`mcsim.gis.export` adds the geometry. Everything is read from the
run folder alone (``events.parquet``, ``patients.parquet``, ``metrics.json``, and the
``nodes.parquet`` and ``places.parquet`` that ``mcsim run --out`` writes beside them), so an
export draws the run that was made even when the scenario file changed since.

Hospital load is counted as the app's map counts it: an incident patient is *inside* a hospital
from the row that puts them there (arrival, queue, care) until their ED discharge, death or
transfer out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mcsim.enums import EventKind, PatientState
from mcsim.errors import InputError
from mcsim.gis.run_map import PlaceKind
from mcsim.tables import EVENTS, EXPORT_LAYERS, NODES, PATIENTS, PLACES, Table, from_written

#: Patient states at a hospital (``hospital`` names which).
_INSIDE = frozenset(
    {
        PatientState.AWAITING_CARE.value,
        PatientState.IN_RESUSCITATION.value,
        PatientState.DEFINITIVE_CARE.value,
    }
)
#: Patient states that take them out of any hospital (a transfer puts them on the road).
_OUTSIDE = frozenset(
    {
        PatientState.DEAD.value,
        PatientState.IN_TRANSPORT.value,
        PatientState.SELF_TRANSPORT.value,
        PatientState.RELEASED.value,
    }
)

#: The files of a run folder an export reads, and the command that writes the map tables.
RUN_FILES = ("events.parquet", "patients.parquet", "metrics.json", "nodes.parquet")


@dataclass
class RunFolder:
    """What an export reads from a run folder.

    Attributes:
        path: the folder.
        events: the event log (memory form: ``-1`` and ``""`` for missing).
        patients: the patients table (memory form).
        metrics: ``metrics.json``.
        nodes: the region's nodes with coordinates.
        places: hospitals, stations and incidents with their nodes.
    """

    path: Path
    events: pd.DataFrame
    patients: pd.DataFrame
    metrics: dict[str, Any]
    nodes: pd.DataFrame
    places: pd.DataFrame

    @property
    def crs(self) -> str:
        """The coordinates' ``crs`` value (``EPSG:4326`` or ``local_km``)."""
        values = self.nodes["crs"].astype(str).unique()
        return str(values[0]) if len(values) else "local_km"


def read_run(path: str | Path) -> RunFolder:
    """Read a run folder written by ``mcsim run --out``.

    Raises:
        InputError: not a folder, a missing or unreadable file (naming it), or a folder from
            an mcsim that did not write the map tables yet.
    """
    from mcsim.safeio import read_events, read_json

    folder = Path(path)
    if not folder.is_dir():
        what = "no such folder" if not folder.exists() else "not a folder"
        raise InputError(f"{what}; give a run folder (mcsim run --out DIR)", file=str(folder))
    for name in RUN_FILES:
        if not (folder / name).exists():
            hint = (
                "written by mcsim run --out from this version on; run the scenario again"
                if name == "nodes.parquet"
                else "not a run folder (mcsim run --out DIR writes it)"
            )
            raise InputError(f"missing {name}: {hint}", file=str(folder))
    events = _read(folder / "events.parquet", EVENTS, read_events)
    patients = _read(folder / "patients.parquet", PATIENTS, read_events)
    nodes = _read(folder / "nodes.parquet", NODES, read_events)
    places_file = folder / "places.parquet"
    if not places_file.exists():
        raise InputError("missing places.parquet: run the scenario again", file=str(folder))
    places = _read(places_file, PLACES, read_events)
    metrics = read_json(folder / "metrics.json", what="metrics file")
    if not isinstance(metrics, dict) or not isinstance(metrics.get("hospitals"), dict):
        file = str(folder / "metrics.json")
        raise InputError("not an mcsim metrics file (no hospitals)", file=file)
    return RunFolder(folder, events, patients, metrics, nodes, places)


def _read(file: Path, table: Table, reader: Any) -> pd.DataFrame:
    df = reader(file)
    missing = [c.name for c in table.columns if c.name not in df.columns]
    if missing:
        raise InputError(f"not an mcsim {table.name} table: no column {missing[0]}", file=str(file))
    return from_written(df, table)


def _xy_of(run: RunFolder, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xy = run.nodes.set_index("node")[["x", "y"]]
    picked = xy.reindex(np.asarray(nodes, dtype=np.int64))
    if picked.isna().any().any():
        raise InputError("events name a node that nodes.parquet lacks", file=str(run.path))
    return picked["x"].to_numpy(float), picked["y"].to_numpy(float)


def _ordered(df: pd.DataFrame, layer: str) -> pd.DataFrame:
    """``df``'s columns in the dictionary's order and types."""
    out = pd.DataFrame(index=df.index)
    for col in EXPORT_LAYERS[layer].columns:
        s = df[col.name]
        if col.type == "category":
            out[col.name] = s.astype("category")
        elif col.type == "string":
            out[col.name] = s.astype("string")
        elif col.type.startswith("int"):
            out[col.name] = s.astype(col.type.capitalize())  # nullable: missing stays missing
        else:
            out[col.name] = s.astype(col.type)
    return out.reset_index(drop=True)


def hospital_presence(run: RunFolder) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Changes of each hospital's incident patients inside, and their arrivals.

    Returns:
        ``(changes, arrivals)``: ``changes`` has one row per patient entering (+1) or leaving
        (-1) a hospital (``time_min``, ``hospital``, ``delta``), in log order; ``arrivals`` the
        ``hospital_arrival`` rows of patients (``time_min``, ``hospital``).
    """
    ev = run.events
    rows = ev[ev["patient"] >= 0]
    kinds = rows["kind"].astype(str).to_numpy()
    states = rows["state"].astype(str).to_numpy()
    hospitals = rows["hospital"].astype(str).to_numpy()
    pids = rows["patient"].to_numpy(np.int64)
    times = rows["time_min"].to_numpy(float)
    discharge = EventKind.ED_DISCHARGE.value
    where: dict[int, str] = {}
    out_t: list[float] = []
    out_h: list[str] = []
    out_d: list[int] = []
    for t, kind, state, hosp, pid in zip(times, kinds, states, hospitals, pids, strict=True):
        if kind == discharge or state in _OUTSIDE:
            now = ""
        elif state in _INSIDE and hosp:
            now = hosp
        else:
            continue
        before = where.get(pid, "")
        if now == before:
            continue
        if before:
            out_t.append(t), out_h.append(before), out_d.append(-1)
        if now:
            out_t.append(t), out_h.append(now), out_d.append(1)
        where[pid] = now
    changes = pd.DataFrame({"time_min": out_t, "hospital": out_h, "delta": out_d})
    arr = rows[kinds == EventKind.HOSPITAL_ARRIVAL.value]
    arrivals = pd.DataFrame(
        {"time_min": arr["time_min"].to_numpy(float), "hospital": arr["hospital"].astype(str)}
    )
    return changes, arrivals


def hospital_load(run: RunFolder, step_min: float = 15.0) -> pd.DataFrame:
    """The ``hospital_load`` layer: each hospital every ``step_min`` minutes to the horizon."""
    if not step_min > 0:
        raise InputError(f"must be positive, got {step_min}", path="--step-min")
    hosp = run.places[run.places["place"].astype(str) == PlaceKind.HOSPITAL]
    horizon = _horizon(run)
    grid = np.arange(0.0, horizon + step_min / 2, step_min)
    grid[-1] = min(grid[-1], horizon) if len(grid) else horizon
    changes, arrivals = hospital_presence(run)
    frames = []
    for _, h in hosp.iterrows():
        hid = str(h["id"])
        c = changes[changes["hospital"] == hid]
        ct = c["time_min"].to_numpy(float)
        cum = np.concatenate([[0], np.cumsum(c["delta"].to_numpy(np.int64))])
        present = cum[np.searchsorted(ct, grid, side="right")]
        at = np.sort(arrivals.loc[arrivals["hospital"] == hid, "time_min"].to_numpy(float))
        total = np.searchsorted(at, grid, side="right")
        frames.append(
            pd.DataFrame(
                {
                    "hospital": hid,
                    "time_min": grid,
                    "present": present,
                    "arrivals": np.diff(np.concatenate([[0], total])),
                    "arrived_total": total,
                    "x": h["x"],
                    "y": h["y"],
                    "crs": h["crs"],
                }
            )
        )
    cols = [c.name for c in EXPORT_LAYERS["hospital_load"].columns]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    return _ordered(df, "hospital_load")


def _horizon(run: RunFolder) -> float:
    ev = run.events
    end = ev.loc[ev["kind"].astype(str) == EventKind.END.value, "time_min"]
    return float(end.max()) if len(end) else float(ev["time_min"].max() if len(ev) else 0.0)


def hospitals(run: RunFolder, load: pd.DataFrame) -> pd.DataFrame:
    """The ``hospitals`` layer: each hospital's place and its totals from ``metrics.json``."""
    hosp = run.places[run.places["place"].astype(str) == PlaceKind.HOSPITAL].copy()
    per = run.metrics["hospitals"]
    for key in ("patients", "critical", "deaths", "peak_critical_per_hour"):
        hosp[key] = [int(per.get(str(h), {}).get(key, 0)) for h in hosp["id"]]
    peak = load.groupby("hospital", observed=True)["present"].max() if len(load) else {}
    hosp["peak_present"] = [int(peak.get(str(h), 0)) for h in hosp["id"]]
    return _ordered(hosp, "hospitals")


def scenes(run: RunFolder) -> pd.DataFrame:
    """The ``scenes`` layer: each incident's place, casualties and who died there."""
    inc = run.places[run.places["place"].astype(str) == PlaceKind.INCIDENT].copy()
    pts = run.patients
    of = pts["incident"].astype(str)
    inc["casualties"] = [int((of == str(i)).sum()) for i in inc["id"]]
    died_here = pts["death_place"].astype(str) == "scene"
    inc["deaths_at_scene"] = [int((died_here & (of == str(i))).sum()) for i in inc["id"]]
    left = pts.groupby(of)["left_scene_min"].max()
    inc["last_left_min"] = [float(left.get(str(i), np.nan)) for i in inc["id"]]
    return _ordered(inc, "scenes")


def stations(run: RunFolder) -> pd.DataFrame:
    """The ``stations`` layer: each ambulance station's place and fleet."""
    st = run.places[run.places["place"].astype(str) == PlaceKind.STATION]
    return _ordered(st, "stations")


def trips(run: RunFolder) -> pd.DataFrame:
    """The ``trips`` layer: every event-log row with a destination, from its origin node."""
    ev = run.events
    dep = ev[ev["to_node"] >= 0]
    x0, y0 = _xy_of(run, dep["node"].to_numpy())
    x1, y1 = _xy_of(run, dep["to_node"].to_numpy())

    def ids(col: str) -> pd.Series:
        s = dep[col].astype("Int32")
        return s.mask(s < 0)

    def names(col: str) -> pd.Series:
        s = dep[col].astype("string")
        return s.mask(s == "")

    df = pd.DataFrame(
        {
            "seq": dep["seq"].to_numpy(np.int64),
            "kind": dep["kind"].astype(str).to_numpy(),
            "vehicle": ids("vehicle").to_numpy(),
            "staff": ids("staff").to_numpy(),
            "patient": ids("patient").to_numpy(),
            "hospital": names("hospital").to_numpy(),
            "incident": names("incident").to_numpy(),
            "from_node": dep["node"].to_numpy(np.int32),
            "to_node": dep["to_node"].to_numpy(np.int32),
            "depart_min": dep["time_min"].to_numpy(float),
            "arrive_min": dep["arrive_min"].to_numpy(float),
            "x_from": x0,
            "y_from": y0,
            "x_to": x1,
            "y_to": y1,
            "crs": run.crs,
        }
    )
    return _ordered(df, "trips")


def layers(run: RunFolder, *, step_min: float = 15.0) -> dict[str, pd.DataFrame]:
    """Every export layer of ``run``, by name, in :data:`~mcsim.tables.EXPORT_LAYERS` order."""
    load = hospital_load(run, step_min)
    return {
        "hospitals": hospitals(run, load),
        "hospital_load": load,
        "scenes": scenes(run),
        "stations": stations(run),
        "trips": trips(run),
    }
