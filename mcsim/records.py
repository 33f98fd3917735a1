"""What happened, as tidy tables: the event log, the patients table and the run's result.

Agents record state changes through :class:`EventLog`, which keeps one Python list per column
(appending to a list is the cheapest thing Python can do per event; millions of small row
objects are not) and turns them into a typed pandas DataFrame once, at the end. Metrics,
reports and the app read these tables, never live agents (STYLE.md §7).

Event log columns (one row per state change, in the order they happened):

============  ========  ======================================================================
column        type      meaning
============  ========  ======================================================================
time_min      float64   simulated minutes since the start of the scenario
seq           int64     position in the log (ties at one minute keep this order)
kind          category  :class:`~mcsim.enums.EventKind` value
patient       int32     patient id, -1 if none
vehicle       int32     vehicle id, -1 if none
staff         int32     staff id, -1 if none
hospital      category  hospital id, "" if none
incident      category  incident id, "" if none
node          int32     region node index where it happened (or a trip's origin), -1 if none
to_node       int32     a trip's destination node, -1 if not a departure
arrive_min    float64   a trip's arrival time, NaN if not a departure
tag           category  the patient's triage tag after the event ("" if no patient)
state         category  the patient's (or else vehicle's / staff's) state after the event
rpm           float32   the patient's true RPM at the event, NaN if no patient
detail        string    free text (e.g. why, or which resource)
============  ========  ======================================================================
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mcsim.enums import EventKind

if TYPE_CHECKING:
    from mcsim.model import MCIModel

EVENT_COLUMNS = (
    "time_min",
    "seq",
    "kind",
    "patient",
    "vehicle",
    "staff",
    "hospital",
    "incident",
    "node",
    "to_node",
    "arrive_min",
    "tag",
    "state",
    "rpm",
    "detail",
)


class EventLog:
    """Columnar, append-only event log.

    Each column's ``list.append`` is bound once, at construction, so a row costs one call per
    column and no dictionary lookups; ``seq`` is not stored at all (it is the row's position,
    made at :meth:`to_frame`). :meth:`add` takes keywords for readability; the hottest callers
    (a patient's or a vehicle's state change) use :meth:`add_row`, which takes every column
    positionally.
    """

    __slots__ = ("_append", "_cols")

    def __init__(self) -> None:
        self._cols: dict[str, list[Any]] = {c: [] for c in EVENT_COLUMNS if c != "seq"}
        self._append = tuple(col.append for col in self._cols.values())

    def __getstate__(self) -> dict[str, list[Any]]:
        # The bound appends are rebuilt on unpickling: copied as they are, a deep copy's rows
        # would go into the original's lists.
        return self._cols

    def __setstate__(self, cols: dict[str, list[Any]]) -> None:
        self._cols = cols
        self._append = tuple(col.append for col in cols.values())

    def __len__(self) -> int:
        return len(self._cols["time_min"])

    def add(
        self,
        time_min: float,
        kind: EventKind,
        *,
        patient: int = -1,
        vehicle: int = -1,
        staff: int = -1,
        hospital: str = "",
        incident: str = "",
        node: int = -1,
        to_node: int = -1,
        arrive_min: float = math.nan,
        tag: str = "",
        state: str = "",
        rpm: float = math.nan,
        detail: str = "",
    ) -> None:
        """Append one row."""
        a_t, a_k, a_p, a_v, a_s, a_h, a_i, a_n, a_to, a_ar, a_tg, a_st, a_r, a_d = self._append
        a_t(time_min)
        a_k(kind._value_)
        a_p(patient)
        a_v(vehicle)
        a_s(staff)
        a_h(hospital)
        a_i(incident)
        a_n(node)
        a_to(to_node)
        a_ar(arrive_min)
        a_tg(tag)
        a_st(state)
        a_r(rpm)
        a_d(detail)

    def add_row(
        self,
        time_min: float,
        kind: EventKind,
        patient: int,
        vehicle: int,
        staff: int,
        hospital: str,
        incident: str,
        node: int,
        to_node: int,
        arrive_min: float,
        tag: str,
        state: str,
        rpm: float,
        detail: str,
    ) -> None:
        """Append one row given every column but ``seq``, in :data:`EVENT_COLUMNS` order."""
        a_t, a_k, a_p, a_v, a_s, a_h, a_i, a_n, a_to, a_ar, a_tg, a_st, a_r, a_d = self._append
        a_t(time_min)
        a_k(kind._value_)  # (faster than the .value property on a hot path)
        a_p(patient)
        a_v(vehicle)
        a_s(staff)
        a_h(hospital)
        a_i(incident)
        a_n(node)
        a_to(to_node)
        a_ar(arrive_min)
        a_tg(tag)
        a_st(state)
        a_r(rpm)
        a_d(detail)

    def times(self) -> Sequence[float]:
        """The ``time_min`` of every row so far, in order (read-only use: a live view)."""
        return self._cols["time_min"]

    def last_time(self) -> float:
        """Time of the last row (-inf when empty)."""
        t = self._cols["time_min"]
        return t[-1] if t else -math.inf

    def to_frame(self) -> pd.DataFrame:
        """The log as a typed DataFrame (see the module docstring for the columns)."""
        c = self._cols
        return pd.DataFrame(
            {
                "time_min": np.asarray(c["time_min"], dtype=np.float64),
                "seq": np.arange(len(c["time_min"]), dtype=np.int64),
                "kind": pd.Categorical(c["kind"], categories=[k.value for k in EventKind]),
                "patient": np.asarray(c["patient"], dtype=np.int32),
                "vehicle": np.asarray(c["vehicle"], dtype=np.int32),
                "staff": np.asarray(c["staff"], dtype=np.int32),
                "hospital": pd.Categorical(c["hospital"]),
                "incident": pd.Categorical(c["incident"]),
                "node": np.asarray(c["node"], dtype=np.int32),
                "to_node": np.asarray(c["to_node"], dtype=np.int32),
                "arrive_min": np.asarray(c["arrive_min"], dtype=np.float64),
                "tag": pd.Categorical(c["tag"]),
                "state": pd.Categorical(c["state"]),
                "rpm": np.asarray(c["rpm"], dtype=np.float32),
                "detail": pd.array(c["detail"], dtype="string"),
            }
        )


@dataclass
class RunResult:
    """Everything one run produced.

    Attributes:
        metrics: the key performance indicators (see :mod:`mcsim.metrics`).
        events: the event log.
        patients: one row per casualty: true and observed state, tag, times, outcome.
        resources: static facts the metrics need (fleet size, hospital capacities, horizon).
        seed: the run's seed.
        policies: the policy names used, by kind.
        provenance: what is known of the scenario that ran (name, file, content hash; see
            :mod:`mcsim.provenance`), written into ``metrics.json``.
        nodes: the region's nodes with their coordinates (:mod:`mcsim.gis.run_map`), so that
            the written run can be drawn on a map without its scenario file; None if unknown.
        places: the hospitals, stations and incidents with their nodes and coordinates.
    """

    metrics: dict[str, Any]
    events: pd.DataFrame
    patients: pd.DataFrame
    resources: dict[str, Any]
    seed: int
    policies: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    nodes: pd.DataFrame | None = None
    places: pd.DataFrame | None = None

    @classmethod
    def from_model(cls, model: MCIModel) -> RunResult:
        """The records and metrics of ``model``'s run so far (``MCIModel.result`` calls this).

        The tables are built and the metrics computed with automatic garbage collection paused
        (:mod:`mcsim.gcpause`).
        """
        from mcsim.gcpause import gc_paused
        from mcsim.gis.run_map import nodes_frame, places_frame
        from mcsim.metrics import compute_metrics
        from mcsim.patients_table import patients_frame

        with gc_paused():
            events = model.log.to_frame()
            patients = patients_frame(model)
        resources = {
            "horizon_min": model.horizon_min,
            "vehicles": len(model.vehicles),
            "hospitals": {
                h.hid: {
                    "node": h.node,
                    "trauma_level": h.trauma_level,
                    "resus_bays": h.spec.resus_bays,
                    "ed_beds": h.spec.ed_beds,
                }
                for h in model.hospital_list
            },
            "onset_min": min(s.onset_min for s in model.scenes),
            "onsets": {s.id: s.onset_min for s in model.scenes},
        }
        with gc_paused():
            metrics = compute_metrics(events, patients, resources)
        return cls(
            metrics=metrics,
            events=events,
            patients=patients,
            resources=resources,
            seed=model.seed,
            policies=dict(model.policy_names),
            nodes=nodes_frame(model.region),
            places=places_frame(model.spec, model.region),
        )

    def write(
        self, out_dir: str | Path, *, force: bool = True, option: str = "--out"
    ) -> list[Path]:
        """Write ``events.parquet``, ``patients.parquet``, ``metrics.json`` into ``out_dir``.

        With them, ``nodes.parquet`` and ``places.parquet`` (the region's nodes and the
        hospitals, stations and incidents, with coordinates) when the result has them.

        The tables are written in their file form (missing ids as nulls, docs/data.md); read
        them back into this form with :func:`mcsim.tables.read_table`. ``metrics.json`` is the
        metrics plus a ``provenance`` key. All or nothing (:func:`mcsim.safeio.write_files`): on
        a full disk or a read-only folder the files already there are left as they were.

        Args:
            out_dir: the folder (created if missing).
            force: overwrite existing files (else they are refused with an InputError).
            option: the command-line option ``out_dir`` came from, for messages.
        """
        from mcsim.provenance import run_provenance
        from mcsim.safeio import write_files
        from mcsim.tables import EVENTS, NODES, PATIENTS, PLACES, to_written

        events, patients, metrics, nodes, places = output_paths(out_dir)
        doc = {
            **self.metrics,
            "provenance": run_provenance(self.seed, self.policies, self.provenance),
        }
        contents = {
            events: lambda fh: to_written(self.events, EVENTS).to_parquet(fh, index=False),
            patients: lambda fh: to_written(self.patients, PATIENTS).to_parquet(fh, index=False),
            metrics: json.dumps(doc, indent=2, sort_keys=False) + "\n",
        }
        for path, frame, table in ((nodes, self.nodes, NODES), (places, self.places, PLACES)):
            if frame is not None:
                contents[path] = _parquet_writer(frame, table)
        return write_files(contents, force=force, option=option)


def _parquet_writer(frame: pd.DataFrame, table: Any) -> Any:
    """A writer of ``frame`` in ``table``'s file form (one closure per table, bound now)."""
    from mcsim.tables import to_written

    return lambda fh: to_written(frame, table).to_parquet(fh, index=False)


def output_paths(out_dir: str | Path) -> list[Path]:
    """The files :meth:`RunResult.write` writes into ``out_dir`` (the map tables last)."""
    out = Path(out_dir)
    names = ("events.parquet", "patients.parquet", "metrics.json", "nodes.parquet")
    return [*(out / n for n in names), out / "places.parquet"]
