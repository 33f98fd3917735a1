"""The state of a finished run at any minute, reconstructed from its event log.

The app never re-runs the simulation to show minute ``t``: :class:`Replay` indexes the event
log once (per-entity timelines, cumulative counts of patients per place) so that asking for the
state at any time is a binary search plus a little arithmetic — cheap enough to follow a slider.

Where things are:

- **Patients** are counted by *place*: at a scene (by triage tag), on the road (ambulance or
  their own car), in a hospital (arrived, not yet discharged from the ED and not dead),
  discharged, or dead. Every patient row of the log moves its patient from one place to
  another; a running sum of those moves gives the counts at any event.
- **Vehicles and staff** follow trips: a row with ``to_node >= 0`` and ``arrive_min`` is a trip
  from ``node`` to ``to_node`` between ``time_min`` and ``arrive_min``. In between, the mover is
  drawn along the shortest path (:meth:`mcsim.region.Region.position_along`); otherwise it
  stands at the last node it reached. Vehicles stand at their station before their first row;
  staff are not shown before their first row (off duty, at home).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mcsim.enums import AT_SCENE, EventKind, PatientState, TriageTag, VehicleState
from mcsim.region import Region

if TYPE_CHECKING:
    from mcsim.model import MCIModel

#: Patient states that mean "still at the scene" (:data:`mcsim.enums.AT_SCENE`), as logged.
SCENE_STATES = frozenset(s.value for s in AT_SCENE)
ROAD_STATES = frozenset({PatientState.IN_TRANSPORT.value, PatientState.SELF_TRANSPORT.value})
HOSPITAL_STATES = frozenset(
    {
        PatientState.AWAITING_CARE.value,
        PatientState.IN_RESUSCITATION.value,
        PatientState.DEFINITIVE_CARE.value,
    }
)
#: Tags in display order (the empty tag of an untriaged patient counts as untriaged).
TAG_ORDER = tuple(t.value for t in TriageTag)

ROAD = "road"
DEAD = "dead"
#: Treated on scene and released, or gone home: no longer waiting anywhere.
RELEASED = "released"


def scene_key(incident: str, tag: str) -> str:
    """The place key of a patient waiting at ``incident``'s scene with ``tag``."""
    return f"scene:{incident}:{tag or TriageTag.UNTRIAGED.value}"


def hospital_key(hospital: str) -> str:
    """The place key of a patient inside ``hospital`` (arrived, not discharged)."""
    return f"hospital:{hospital}"


def discharged_key(hospital: str) -> str:
    """The place key of a patient discharged from ``hospital``'s ED."""
    return f"discharged:{hospital}"


def place_of(kind: str, state: str, tag: str, incident: str, hospital: str) -> str | None:
    """Where a patient is after a log row, as a place key (None: the row says nothing new)."""
    if kind == EventKind.ED_DISCHARGE.value:
        return discharged_key(hospital)
    if state == PatientState.DEAD.value:
        return DEAD
    if state == PatientState.RELEASED.value:
        return RELEASED
    if state in SCENE_STATES:
        return scene_key(incident, tag)
    if state in ROAD_STATES:
        return ROAD
    if state in HOSPITAL_STATES:
        return hospital_key(hospital)
    return None


@dataclass(frozen=True)
class Mover:
    """Where one vehicle or staff member is at some minute.

    Attributes:
        id: vehicle or staff number.
        x, y: position in the region's coordinates.
        state: the state after its last row (e.g. ``to_scene``), or ``at_station`` / ``off_duty``
            before its first one.
        moving: True while on a trip.
    """

    id: int
    x: float
    y: float
    state: str
    moving: bool


class _Timeline:
    """One entity's rows: times, trip ends and the node it rests at after each row."""

    __slots__ = ("times", "origin", "dest", "arrive", "rest", "states")

    def __init__(self, rows: pd.DataFrame, start_node: int) -> None:
        self.times = rows["time_min"].to_numpy(float)
        self.origin = rows["node"].to_numpy(int)
        self.dest = rows["to_node"].to_numpy(int)
        self.arrive = rows["arrive_min"].to_numpy(float)
        self.states = rows["state"].astype(str).to_numpy()
        rest = np.empty(len(rows), dtype=int)
        last = start_node
        for i in range(len(rows)):
            if self.dest[i] >= 0:
                last = int(self.dest[i])
            elif self.origin[i] >= 0:
                last = int(self.origin[i])
            rest[i] = last
        self.rest = rest


class Replay:
    """Indexes a run's event log so that the state at any minute is cheap to compute.

    Args:
        events: the run's event log (columns as in :mod:`mcsim.records`).
        region: the run's region (positions and paths for the map).
        vehicle_homes: the station node of each vehicle, by vehicle number.
        staff_count: how many staff agents the run had (their ids are 0..staff_count-1).
        hospitals: hospital ids, in scenario order.
        incidents: incident ids, in scenario order.
    """

    def __init__(
        self,
        events: pd.DataFrame,
        region: Region,
        *,
        vehicle_homes: Sequence[int],
        staff_count: int,
        hospitals: Sequence[str],
        incidents: Sequence[str],
    ) -> None:
        self.region = region
        self.hospitals = list(hospitals)
        self.incidents = list(incidents)
        self.vehicle_homes = [int(n) for n in vehicle_homes]
        self.staff_count = int(staff_count)
        ev = events
        body = ev[ev["kind"] != EventKind.END.value]
        self.start_min = float(ev["time_min"].min()) if len(ev) else 0.0
        self.end_min = float(body["time_min"].max()) if len(body) else self.start_min
        if len(body):
            trips_end = body["arrive_min"].max()
            if pd.notna(trips_end):
                self.end_min = max(self.end_min, float(trips_end))
        self._paths: dict[tuple[int, int], list[int]] = {}
        self._build_patients(ev)
        self._vehicles = self._timelines(ev, "vehicle", len(self.vehicle_homes), self.vehicle_homes)
        self._staff = self._timelines(ev, "staff", self.staff_count, [-1] * self.staff_count)
        self._build_busy()
        self._build_closures(ev)

    @classmethod
    def of_model(cls, model: MCIModel, events: pd.DataFrame | None = None) -> Replay:
        """The replay of ``model``'s event log (``events``, or the model's log so far)."""
        return cls(
            model.log.to_frame() if events is None else events,
            model.region,
            vehicle_homes=[v.home for v in model.vehicles],
            staff_count=len(model.staff),
            hospitals=list(model.hospitals),
            incidents=[s.id for s in model.scenes],
        )

    # ------------------------------------------------------------------ building

    def _build_closures(self, ev: pd.DataFrame) -> None:
        """Road closures and hospital diversions over time, from the log's inject rows.

        Roads closed at the end that no inject closed were closed from the start
        (``region.closed``); roads an inject reopened were closed before it.
        """
        rows = ev[ev["kind"].isin([EventKind.INJECT.value, EventKind.DECISION.value])]
        detail = rows["detail"].astype(str)
        self._road_changes: list[tuple[float, bool, tuple[int, int]]] = []
        self._hospital_changes: list[tuple[float, str, str]] = []
        # The inject's own row names no agent; rows of vehicles or staff re-routed by it carry
        # their new leg in node/to_node and are not roads.
        own = np.ones(len(rows), dtype=bool)
        for col in ("vehicle", "staff", "patient"):
            if col in rows:
                own &= rows[col].to_numpy() < 0
        for t, d, u, v, h, is_own in zip(
            rows["time_min"],
            detail,
            rows["node"],
            rows["to_node"],
            rows["hospital"].astype(str),
            own,
            strict=True,
        ):
            if d.startswith(("road_closed:", "road_reopened:")) and is_own and u >= 0 and v >= 0:
                arc = (int(min(u, v)), int(max(u, v)))
                self._road_changes.append((float(t), d.startswith("road_closed:"), arc))
            elif d.startswith("hospital_diversion:") or d.startswith("diversion on"):
                self._hospital_changes.append((float(t), h, "diversion"))
            elif d.startswith("diversion off") or d.startswith("hospital_reopened:"):
                self._hospital_changes.append((float(t), h, "open"))
            elif d.startswith("hospital_closed:"):
                self._hospital_changes.append((float(t), h, "closed"))
        at_end = {(min(a, b), max(a, b)) for a, b in self.region.closed_roads}
        for _, closing, arc in reversed(self._road_changes):
            (at_end.discard if closing else at_end.add)(arc)
        self._closed_at_start = frozenset(at_end)

    def closed_roads_at(self, t: float) -> set[tuple[int, int]]:
        """Roads closed at minute ``t`` (each as (lower node, higher node))."""
        closed = set(self._closed_at_start)
        for when, closing, arc in self._road_changes:
            if when > t:
                break
            (closed.add if closing else closed.discard)(arc)
        return closed

    def hospital_status_at(self, t: float) -> dict[str, str]:
        """Hospitals on ``diversion`` or ``closed`` at minute ``t`` (the others are absent)."""
        status: dict[str, str] = {}
        for when, h, what in self._hospital_changes:
            if when > t:
                break
            if what == "open":
                status.pop(h, None)
            else:
                status[h] = what
        return status

    def _build_patients(self, ev: pd.DataFrame) -> None:
        rows = ev[ev["patient"] >= 0]
        kinds = rows["kind"].astype(str).to_numpy()
        states = rows["state"].astype(str).to_numpy()
        tags = rows["tag"].astype(str).to_numpy()
        incidents = rows["incident"].astype(str).to_numpy()
        hospitals = rows["hospital"].astype(str).to_numpy()
        pids = rows["patient"].to_numpy(int)
        times = rows["time_min"].to_numpy(float)
        keys: list[str] = [ROAD, DEAD, RELEASED]
        for inc in self.incidents:
            keys += [scene_key(inc, t) for t in TAG_ORDER]
        for h in self.hospitals:
            keys += [hospital_key(h), discharged_key(h)]
        index = {k: i for i, k in enumerate(keys)}
        current: dict[int, int] = {}
        change_t: list[float] = []
        change_k: list[int] = []
        change_d: list[int] = []
        for i in range(len(rows)):
            place = place_of(kinds[i], states[i], tags[i], incidents[i], hospitals[i])
            if place is None:
                continue
            k = index.get(place)
            if k is None:  # a place not declared up front (defensive: new states or ids)
                k = index[place] = len(keys)
                keys.append(place)
            prev = current.get(pids[i])
            if prev == k:
                continue
            if prev is not None:
                change_t.append(times[i])
                change_k.append(prev)
                change_d.append(-1)
            change_t.append(times[i])
            change_k.append(k)
            change_d.append(1)
            current[pids[i]] = k
        self._build_own_trips(rows, pids, times, states, tags)
        self.place_keys = keys
        self._key_index = index
        n = len(change_t)
        deltas = np.zeros((n, len(keys)), dtype=np.int32)
        if n:
            deltas[np.arange(n), np.asarray(change_k)] = np.asarray(change_d)
        # row j of _counts = counts after the first j changes (row 0: nobody anywhere yet)
        self._counts = np.vstack([np.zeros((1, len(keys)), np.int32), np.cumsum(deltas, axis=0)])
        self._count_times = np.asarray(change_t, float)

    def _build_own_trips(self, rows, pids, times, states, tags) -> None:
        """Patients driving themselves: trips from the scene that end at arrival or earlier."""
        self_state = PatientState.SELF_TRANSPORT.value
        dest = rows["to_node"].to_numpy(int)
        origin = rows["node"].to_numpy(int)
        arrive = rows["arrive_min"].to_numpy(float)
        # next row of the same patient (death on the way, or a redirection, ends the trip early)
        nxt = np.full(len(rows), np.inf)
        last_seen: dict[int, int] = {}
        for i in range(len(rows) - 1, -1, -1):
            j = last_seen.get(pids[i])
            if j is not None:
                nxt[i] = times[j]
            last_seen[pids[i]] = i
        sel = (states == self_state) & (dest >= 0) & np.isfinite(arrive)
        self._own = {
            "depart": times[sel],
            "end": np.minimum(arrive[sel], nxt[sel]),
            "arrive": arrive[sel],
            "origin": origin[sel],
            "dest": dest[sel],
            "tag": tags[sel],
        }

    def own_way_at(self, t: float) -> list[tuple[float, float, str]]:
        """Patients on their own way to a hospital at ``t``: (x, y, tag) each."""
        o = self._own
        active = np.flatnonzero((o["depart"] <= t) & (t < o["end"]))
        out = []
        for i in active:
            x, y = self._along(
                int(o["origin"][i]), int(o["dest"][i]), float(o["depart"][i]),
                float(o["arrive"][i]), t,
            )  # fmt: skip
            out.append((x, y, str(o["tag"][i]) or "untriaged"))
        return out

    def _timelines(
        self, ev: pd.DataFrame, column: str, n: int, starts: Sequence[int]
    ) -> list[_Timeline]:
        # the entity's own rows only: patient rows name the vehicle or staff member too
        rows = ev[(ev[column] >= 0) & (ev["patient"] < 0)]
        groups = dict(tuple(rows.groupby(column, sort=True)))
        out = []
        for i in range(n):
            g = groups.get(i)
            if g is None:
                g = rows.iloc[0:0]
            out.append(_Timeline(g, starts[i]))
        return out

    def _build_busy(self) -> None:
        at_station = VehicleState.AT_STATION.value
        t: list[float] = []
        d: list[int] = []
        for tl in self._vehicles:
            busy = False
            for time, state in zip(tl.times, tl.states, strict=True):
                now_busy = state != at_station
                if now_busy != busy:
                    t.append(float(time))
                    d.append(1 if now_busy else -1)
                    busy = now_busy
        order = np.argsort(np.asarray(t, float), kind="stable")
        self._busy_times = np.asarray(t, float)[order]
        self._busy_cum = np.concatenate(([0], np.cumsum(np.asarray(d, int)[order])))

    # ------------------------------------------------------------------ queries

    def counts_at(self, t: float) -> dict[str, int]:
        """Patients per place key at minute ``t`` (changes at ``t`` included)."""
        j = int(np.searchsorted(self._count_times, t, side="right"))
        row = self._counts[j]
        return {k: int(row[i]) for i, k in enumerate(self.place_keys)}

    def scene_counts(self, t: float, incident: str) -> dict[str, int]:
        """Patients waiting at ``incident``'s scene at ``t``, by tag (display order)."""
        c = self.counts_at(t)
        return {tag: c.get(scene_key(incident, tag), 0) for tag in TAG_ORDER}

    def hospital_occupancy(self, t: float) -> dict[str, int]:
        """Incident patients inside each hospital at ``t`` (arrived, not discharged, alive)."""
        c = self.counts_at(t)
        return {h: c.get(hospital_key(h), 0) for h in self.hospitals}

    def deaths_at(self, t: float) -> int:
        """Deaths up to and including minute ``t``."""
        return self.counts_at(t)[DEAD]

    def busy_at(self, t: float) -> int:
        """Ambulances away from their station at ``t``."""
        j = int(np.searchsorted(self._busy_times, t, side="right"))
        return int(self._busy_cum[j])

    def path(self, a: int, b: int) -> list[int]:
        """The shortest path from ``a`` to ``b`` (cached; the region's own tie-breaking)."""
        key = (a, b)
        p = self._paths.get(key)
        if p is None:
            try:
                p = self.region.path(a, b)
            except ValueError:  # closed since departure: draw a straight line instead
                p = [a, b]
            self._paths[key] = p
        return p

    def _position(self, tl: _Timeline, home: int, t: float) -> tuple[float, float, str, bool]:
        i = int(np.searchsorted(tl.times, t, side="right")) - 1
        if i < 0:
            if home < 0:
                return math.nan, math.nan, "off_duty", False
            x, y = self.region.xy(home)
            return x, y, VehicleState.AT_STATION.value, False
        state = str(tl.states[i])
        if tl.dest[i] >= 0 and t < tl.arrive[i]:
            a, b = int(tl.origin[i]), int(tl.dest[i])
            x, y = self._along(a, b, float(tl.times[i]), float(tl.arrive[i]), t)
            return x, y, state, True
        x, y = self.region.xy(int(tl.rest[i]))
        return x, y, state, False

    def _along(self, a: int, b: int, depart: float, arrive: float, t: float) -> tuple[float, float]:
        path = self.path(a, b)
        if len(path) == 2 and not self.region.graph.has_edge(a, b):
            f = 0.0 if arrive <= depart else min(1.0, max(0.0, (t - depart) / (arrive - depart)))
            (xa, ya), (xb, yb) = self.region.xy(a), self.region.xy(b)
            return xa + f * (xb - xa), ya + f * (yb - ya)
        return self.region.position_along(path, depart, arrive, t)

    def vehicles_at(self, t: float) -> list[Mover]:
        """Every vehicle's position and state at minute ``t``."""
        out = []
        for vid, tl in enumerate(self._vehicles):
            x, y, state, moving = self._position(tl, self.vehicle_homes[vid], t)
            out.append(Mover(vid, x, y, state, moving))
        return out

    def staff_at(self, t: float) -> list[Mover]:
        """Staff who have been called or sent out by ``t`` (others are off duty, not shown)."""
        out = []
        for sid, tl in enumerate(self._staff):
            x, y, state, moving = self._position(tl, -1, t)
            if not math.isnan(x):
                out.append(Mover(sid, x, y, state, moving))
        return out

    # ------------------------------------------------------------------ series

    def series(self, times: np.ndarray) -> pd.DataFrame:
        """Counts per place key plus ``busy`` (ambulances away) at each of ``times``."""
        times = np.asarray(times, float)
        j = np.searchsorted(self._count_times, times, side="right")
        df = pd.DataFrame(self._counts[j], columns=self.place_keys, index=times)
        jb = np.searchsorted(self._busy_times, times, side="right")
        df["busy"] = self._busy_cum[jb]
        df.index.name = "time_min"
        return df

    def time_grid(self, step_min: float = 1.0) -> np.ndarray:
        """Minutes from the start to the last activity, every ``step_min``."""
        end = max(self.end_min, self.start_min + step_min)
        n = int(math.ceil((end - self.start_min) / step_min)) + 1
        return self.start_min + step_min * np.arange(n)
