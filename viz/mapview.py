"""The interactive region map: zoom, pan and hover, drawn with plotly from a run's records.

A planner needs to read a real region: which hospital is which, how loaded it is, what each
ambulance is doing. So the map is a plotly figure (rendered in the browser by the plotly.js
that ships inside the ``plotly`` package; no tile server and no CDN) with:

- **roads where roads exist**: a region with junctions or a sparse road graph is drawn edge by
  edge; a region whose places are all joined to each other by straight-line travel times (the
  real-region scenarios built by ``tools/build_region_scenarios.py``, see
  :func:`straight_line_region`) has no roads to draw, so only the trips made by the minute
  shown are drawn, dashed, as straight lines — never the complete graph of every pair;
- hospitals coloured and sized by load, each with a hover card (load, capacity, waiting for
  care, deaths there, diversion); ambulances coloured by state with a hover card (state,
  patients aboard, destination); staff, patients at the scene by tag, patients on their way;
- labels on a few key hospitals only (the busiest, placed so that no two overlap); every other
  place has its name on hover;
- a scale bar in km (longitude/latitude regions are projected to km around their centre);
- road closures and hospitals on diversion or closed, as they stand at the minute shown.

The static layer is built once per run; :meth:`InteractiveMap.frame` returns only the
properties of the moving traces at minute ``t``, which the app applies to its live figure
widget in one batch (the scrubber never rebuilds the figure).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from mcsim.enums import DeathPlace, EventKind, NodeKind, PatientState
from mcsim.region import Region
from viz.charts import (
    GOLDEN_ANGLE,
    LOAD_CMAP,
    LOAD_MAX,
    STAFF_COLOUR,
    TAG_COLOURS,
    VEHICLE_COLOURS,
    VEHICLE_LABELS,
    hospital_load,
    load_norm,
    sunflower,
)
from viz.runner import RunView
from viz.state import TAG_ORDER, hospital_key, scene_key

#: km per degree of latitude (mean), and of longitude at the equator.
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320
#: How many hospitals carry a permanent label (the busiest of the run); the others on hover.
KEY_LABELS = 6
#: The figure's size in pixels (labels are placed for it; the app lets it stretch).
WIDTH_PX, HEIGHT_PX = 660, 560
#: Rough width of one label character and height of a label line, in pixels (11 px font).
CHAR_PX, LINE_PX = 6.6, 14.0
#: Marker diameters (px) of a hospital at load 0 and the growth up to load MARKER_LOAD_MAX.
HOSP_PX, HOSP_GROW_PX, MARKER_LOAD_MAX = 11.0, 11.0, 1.5
#: Radius of the disc of patients waiting at a scene, as a share of the map's span.
SCENE_DISC = 0.05
AT_HOSPITAL_STATES = frozenset({PatientState.AWAITING_CARE.value})
ABOARD_STATES = frozenset({PatientState.LOADING.value, PatientState.IN_TRANSPORT.value})


def straight_line_region(region: Region) -> bool:
    """Whether the region's roads are only straight-line times between every pair of places.

    The real-region scenarios have no road network: every place is joined to every other one
    by great-circle distance × detour ÷ speed (``mcsim.region_import.build_scenario`` without a
    road graph). Such a graph is complete and has no junctions; drawing its edges draws a web
    of lines that are not roads.
    """
    g = region.graph
    n = g.number_of_nodes()
    if n < 4:
        return False
    if any(g.nodes[i].get("kind") is NodeKind.JUNCTION for i in g.nodes):
        return False
    pairs = {(min(u, v), max(u, v)) for u, v in g.edges() if u != v}
    return len(pairs) == n * (n - 1) // 2


def project(region: Region) -> np.ndarray:
    """Node positions in km: as they are (``crs: km``), or lon/lat projected around the centre.

    An equirectangular projection at the region's mean latitude: within a metropolitan region
    (< 100 km) its distortion is well under 1 %, enough for a scale bar and a readable map.
    """
    pos = np.asarray(region.positions, float)
    if region.crs != "lonlat":
        return pos.copy()
    lon0, lat0 = pos[:, 0].mean(), pos[:, 1].mean()
    kx = KM_PER_DEG_LON * math.cos(math.radians(lat0))
    return np.column_stack([(pos[:, 0] - lon0) * kx, (pos[:, 1] - lat0) * KM_PER_DEG_LAT])


def nice_length(span_km: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^k km) of about a fifth of ``span_km``."""
    target = max(span_km, 1e-6) / 5
    k = 10 ** math.floor(math.log10(target))
    return next(m * k for m in (5, 2, 1) if m * k <= target)


def load_colorscale(steps: int = 9) -> list[list[Any]]:
    """The PNG map's load colours (green empty, yellow full, red at LOAD_MAX) for plotly."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap, norm = colormaps[LOAD_CMAP], load_norm()
    loads = np.unique(np.concatenate([np.linspace(0, 1, steps), np.linspace(1, LOAD_MAX, steps)]))
    return [[float(v / LOAD_MAX), to_hex(cmap(float(norm(v))))] for v in loads]


def hospital_px(load: float) -> float:
    """Hospital marker diameter (px), growing with load up to MARKER_LOAD_MAX."""
    return HOSP_PX + HOSP_GROW_PX * min(max(load, 0.0), MARKER_LOAD_MAX) / MARKER_LOAD_MAX


def _segments(pairs: Sequence[tuple[int, int]], xy: np.ndarray) -> tuple[list, list]:
    """Line segments between node pairs as one trace's x/y (None separates segments)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for a, b in pairs:
        xs += [float(xy[a, 0]), float(xy[b, 0]), None]
        ys += [float(xy[a, 1]), float(xy[b, 1]), None]
    return xs, ys


def trips_made(events: pd.DataFrame) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Every pair of places some vehicle, staff member or patient travelled between.

    Returns the pairs (lower node, higher node), in the order of their first departure, and
    those departure minutes: what a map of a region without roads draws instead of every pair.
    """
    trips = events[(events["to_node"] >= 0) & (events["node"] >= 0)]
    first: dict[tuple[int, int], float] = {}
    for t, a, b in zip(trips["time_min"], trips["node"], trips["to_node"], strict=True):
        key = (int(min(a, b)), int(max(a, b)))
        if key[0] != key[1] and key not in first:
            first[key] = float(t)
    order = sorted(first, key=lambda k: (first[k], k))
    return order, np.array([first[k] for k in order], float)


@dataclass(frozen=True)
class Label:
    """A permanent label: the hospital and where its text sits around the marker."""

    hospital: str
    position: str  # plotly textposition


def place_labels(
    points: dict[str, tuple[float, float]],
    texts: dict[str, str],
    order: Sequence[str],
    *,
    px_per_km: float,
    limit: int = KEY_LABELS,
) -> list[Label]:
    """Up to ``limit`` labels, in ``order``, each where it overlaps no label placed before.

    Tries above, below, right and left of the point (screen boxes at the initial zoom); a
    label that fits nowhere is left to the hover card. Places at one spot (two hospitals on
    one campus) get different sides.
    """
    boxes: list[tuple[float, float, float, float]] = []
    out: list[Label] = []
    for h in order:
        if len(out) >= limit:
            break
        x, y = points[h]
        cx, cy = x * px_per_km, y * px_per_km
        w = CHAR_PX * len(texts[h]) + 4
        gap = HOSP_PX + 2
        lift = max(gap, LINE_PX) / 2  # above/below: clear of the marker and of side labels
        candidates = {
            "top center": (cx - w / 2, cy + lift, cx + w / 2, cy + lift + LINE_PX),
            "bottom center": (cx - w / 2, cy - lift - LINE_PX, cx + w / 2, cy - lift),
            "middle right": (cx + gap / 2, cy - LINE_PX / 2, cx + gap / 2 + w, cy + LINE_PX / 2),
            "middle left": (cx - gap / 2 - w, cy - LINE_PX / 2, cx - gap / 2, cy + LINE_PX / 2),
        }
        for where, box in candidates.items():
            if not any(_overlap(box, b) for b in boxes):
                boxes.append(box)
                out.append(Label(h, where))
                break
    return out


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class _Steps:
    """Counts per key that change at given times: the value at any minute by binary search."""

    def __init__(self, keys: Sequence[str], changes: list[tuple[float, str, int]]) -> None:
        self.keys = list(keys)
        index = {k: i for i, k in enumerate(self.keys)}
        changes = sorted(changes, key=lambda c: c[0])
        self.times = np.array([c[0] for c in changes], float)
        deltas = np.zeros((len(changes), len(self.keys)), np.int32)
        for j, (_, k, d) in enumerate(changes):
            deltas[j, index[k]] += d
        self.cum = np.vstack([np.zeros((1, len(self.keys)), np.int32), np.cumsum(deltas, axis=0)])

    def at(self, t: float) -> dict[str, int]:
        row = self.cum[int(np.searchsorted(self.times, t, side="right"))]
        return {k: int(row[i]) for i, k in enumerate(self.keys)}


class _Index:
    """What the hover cards need beyond :class:`~viz.state.Replay`, indexed once per run.

    Patients waiting for care at each hospital, deaths at each hospital, the patients aboard
    each ambulance, each ambulance's destination, and the trips made (origin, destination,
    first departure) for regions drawn without roads.
    """

    def __init__(self, view: RunView) -> None:
        ev = view.result.events
        hospitals = list(view.capacity)
        prow = ev[ev["patient"] >= 0]
        pids = prow["patient"].to_numpy(int)
        times = prow["time_min"].to_numpy(float)
        states = prow["state"].astype(str).to_numpy()
        hosp = prow["hospital"].astype(str).to_numpy()
        kinds = prow["kind"].astype(str).to_numpy()
        vehicles = prow["vehicle"].to_numpy(int)
        tags = prow["tag"].astype(str).to_numpy()
        queue: list[tuple[float, str, int]] = []
        waiting_at: dict[int, str] = {}
        # patients aboard: (vehicle, on, off, patient, tag)
        aboard: list[list[Any]] = []
        open_ride: dict[int, int] = {}
        for i in range(len(prow)):
            p = int(pids[i])
            now = hosp[i] if states[i] in AT_HOSPITAL_STATES and hosp[i] in view.capacity else ""
            before = waiting_at.get(p, "")
            if now != before:
                if before:
                    queue.append((times[i], before, -1))
                if now:
                    queue.append((times[i], now, 1))
                waiting_at[p] = now
            j = open_ride.get(p)
            if j is not None and states[i] not in ABOARD_STATES:
                aboard[j][2] = times[i]
                del open_ride[p]
            if kinds[i] == EventKind.LOAD_START.value and vehicles[i] >= 0:
                open_ride[p] = len(aboard)
                aboard.append([int(vehicles[i]), times[i], math.inf, p, tags[i] or "untriaged"])
            elif j is not None and p in open_ride:
                aboard[j][4] = tags[i] or aboard[j][4]
        self.queue = _Steps(hospitals, queue)
        pt = view.result.patients
        died = pt[(pt["death_place"].astype(str) == DeathPlace.HOSPITAL.value)]
        self.deaths = {
            h: np.sort(g["death_min"].to_numpy(float))
            for h, g in died.groupby(died["hospital"].astype(str), observed=True)
        }
        self.aboard = aboard
        own = ev[(ev["vehicle"] >= 0) & (ev["patient"] < 0)]
        self.vehicle_rows = {
            int(v): (
                g["time_min"].to_numpy(float),
                g["to_node"].to_numpy(int),
                g["arrive_min"].to_numpy(float),
            )
            for v, g in own.groupby("vehicle", sort=True)
        }
        self.trip_pairs, self.trip_times = trips_made(ev)

    def deaths_at(self, h: str, t: float) -> int:
        d = self.deaths.get(h)
        return 0 if d is None else int(np.searchsorted(d, t, side="right"))

    def riders(self, vehicle: int, t: float) -> list[tuple[int, str]]:
        return [(p, tag) for v, on, off, p, tag in self.aboard if v == vehicle and on <= t < off]

    def destination(self, vehicle: int, t: float) -> int:
        rows = self.vehicle_rows.get(vehicle)
        if rows is None:
            return -1
        times, dest, arrive = rows
        i = int(np.searchsorted(times, t, side="right")) - 1
        if i < 0 or dest[i] < 0 or not t < arrive[i]:
            return -1
        return int(dest[i])


#: Trace order of the figure (indices used by :meth:`InteractiveMap.frame`).
_STATIC = ("roads", "scale", "stations")
_DYNAMIC = (
    "trips",
    "closed",
    "own_way",
    *(f"tag:{t}" for t in TAG_ORDER if t != "dead"),
    "staff",
    *(f"amb:{s}" for s in VEHICLE_COLOURS),
    "hospitals",
    "diverted",
    "labels",
    "scenes",
)


class InteractiveMap:
    """The interactive map of one run: a plotly figure and its moving parts at any minute.

    Args:
        view: the run (finished, or a live exercise's state so far).
        height: the figure's height in pixels.
    """

    def __init__(self, view: RunView, *, height: int = HEIGHT_PX) -> None:
        self.height = height
        self._sent: dict[int, dict[int, dict[str, Any]]] = {}  # per figure: props last applied
        self._png: Any = None  # the still map, made on the first download
        self._bind(view)

    def png(self, t: float) -> bytes:
        """The same map at minute ``t`` as a PNG (for downloads and reports)."""
        from viz.charts import MapRenderer

        if self._png is None or self._png.view is not self.view:
            self._png = MapRenderer(self.view)
        return self._png.png(t)

    # ------------------------------------------------------------------ building

    def _bind(self, view: RunView) -> None:
        self.view = view
        self.replay = view.replay
        region = view.region
        self.straight_line = straight_line_region(region)
        self.xy = project(region)
        self._index = _Index(view)
        self._hids = list(view.capacity)
        self._hxy = {h: tuple(self.xy[view.hospital_nodes[h]]) for h in self._hids}
        self._scene_xy = {i: tuple(self.xy[n]) for i, n in view.incident_nodes.items()}
        lo, hi = self.xy.min(axis=0), self.xy.max(axis=0)
        self.span_km = float(max(hi[0] - lo[0], hi[1] - lo[1], 1e-6))
        self._lo, self._hi = lo, hi
        # the largest crowd at one scene fills a disc of SCENE_DISC × the map's span (zooming
        # in spreads its dots apart)
        crowd = max([*(i.casualties for i in view.scenario.incidents), 1])
        self._spacing = min(0.006, SCENE_DISC / math.sqrt(crowd)) * self.span_km
        self._jitter = 0.012 * self.span_km
        self._names = self._node_names(view)
        received = view.metrics.get("hospitals", {})
        busiest = sorted(
            self._hids, key=lambda h: (-received.get(h, {}).get("patients", 0), self._hids.index(h))
        )
        px_per_km = min(WIDTH_PX, self.height) / (1.15 * self.span_km)
        texts = {h: f"{h} 000/{view.capacity[h]}" for h in self._hids}
        self.labels = place_labels(self._hxy, texts, busiest, px_per_km=px_per_km)

    def _node_names(self, view: RunView) -> dict[int, str]:
        names = {n: view.region.name(n) for n in range(view.region.n_nodes)}
        for sid, n in view.station_nodes.items():
            names[n] = f"station {sid}"
        for iid, n in view.incident_nodes.items():
            names[n] = f"scene {iid}"
        for h, n in view.hospital_nodes.items():
            names[n] = f"{view.hospital_names.get(h, h)} ({h})"
        return names

    def rebind(self, view: RunView) -> bool:
        """Show ``view`` (a later state of the same run); False if the places differ."""
        same = (
            view.station_nodes == self.view.station_nodes
            and view.incident_nodes == self.view.incident_nodes
            and list(view.capacity) == self._hids
        )
        if same:
            self._bind(view)
            self._sent.clear()
        return same

    def figure(self, t: float | None = None) -> go.Figure:
        """The whole figure (static layer and, at minute ``t`` or 0, the moving parts)."""
        fig = go.Figure(data=self._static_traces() + self._dynamic_traces(), layout=self._layout())
        self.apply(fig, 0.0 if t is None else t)
        return fig

    def hand_over(self, made: go.Figure, widget: go.Figure) -> None:
        """Record that ``widget`` was made or refilled from ``made`` (a :meth:`figure`).

        It shows what ``made`` shows, so the next :meth:`apply` to it sends only what changed
        since then (and nothing it was sent before the refill is taken as still on screen).
        """
        self._sent[id(widget)] = self._sent.pop(id(made), {})

    def _static_traces(self) -> list[go.Scatter]:
        view, xy = self.view, self.xy
        if self.straight_line:
            roads = go.Scatter(x=[], y=[], name="roads (none: straight-line times)")
        else:
            pairs = sorted({(min(u, v), max(u, v)) for u, v in view.region.graph.edges() if u != v})
            rx, ry = _segments(pairs, xy)
            roads = go.Scatter(x=rx, y=ry, name="roads")
        roads.update(
            mode="lines",
            line={"color": "#cfcfcf", "width": 1},
            hoverinfo="skip",
            showlegend=not self.straight_line,
        )
        bar = nice_length(self.span_km)
        x0 = float(self._lo[0])
        y0 = float(self._lo[1]) - 0.06 * self.span_km
        scale = go.Scatter(
            x=[x0, x0 + bar],
            y=[y0, y0],
            mode="lines+text",
            text=["", f"{bar:g} km"],
            textposition="middle right",
            line={"color": "#333333", "width": 3},
            hoverinfo="skip",
            showlegend=False,
            name="scale",
        )
        sid = list(view.station_nodes)
        sxy = np.array([xy[view.station_nodes[s]] for s in sid]).reshape(-1, 2)
        homes = view.replay.vehicle_homes
        fleet = {s: sum(1 for h in homes if h == view.station_nodes[s]) for s in sid}
        stations = go.Scatter(
            x=sxy[:, 0],
            y=sxy[:, 1],
            mode="markers",
            name="station",
            marker={
                "symbol": "triangle-up",
                "size": 10,
                "color": "white",
                "line": {"color": "#555555", "width": 1},
            },
            hovertext=[f"station {s}<br>{fleet[s]} ambulances based here" for s in sid],
            hoverinfo="text",
        )
        return [roads, scale, stations]

    def _dynamic_traces(self) -> list[go.Scatter]:
        out: list[go.Scatter] = []
        for name in _DYNAMIC:
            tr = go.Scatter(x=[], y=[], mode="markers", hoverinfo="text")
            if name == "trips":
                tr.update(
                    mode="lines",
                    name="trips made (straight line)",
                    hoverinfo="skip",
                    line={"color": "#9ecae1", "width": 1.2, "dash": "dot"},
                    visible=self.straight_line,
                    showlegend=self.straight_line,
                )
            elif name == "closed":
                tr.update(
                    mode="lines",
                    name="road closed",
                    hoverinfo="skip",
                    line={"color": "#d62728", "width": 4, "dash": "dash"},
                )
            elif name == "own_way":
                tr.update(
                    name="patient on own way",
                    marker={"symbol": "circle-open", "size": 6, "color": "#2ca02c"},
                )
            elif name.startswith("tag:"):
                tag = name[4:]
                tr.update(
                    name=f"patient: {tag}",
                    hoverinfo="skip",
                    marker={"size": 4, "color": TAG_COLOURS[tag]},
                )
            elif name == "staff":
                tr.update(
                    name="staff", marker={"symbol": "diamond", "size": 6, "color": STAFF_COLOUR}
                )
            elif name.startswith("amb:"):
                s = name[4:]
                tr.update(
                    name=f"ambulance {VEHICLE_LABELS[s]}",
                    marker={
                        "size": 9,
                        "color": VEHICLE_COLOURS[s],
                        "line": {"color": "#000000", "width": 0.8},
                    },
                )
            elif name == "hospitals":
                tr.update(
                    name="hospital (colour, size: load)",
                    marker={
                        "symbol": "square",
                        "colorscale": load_colorscale(),
                        "cmin": 0.0,
                        "cmax": LOAD_MAX,
                        "line": {"color": "#222222", "width": 1},
                        "colorbar": {
                            "title": {"text": "load", "side": "right"},
                            "thickness": 10,
                            "len": 0.6,
                            "x": 1.0,
                            "tickvals": [0, 1, 2, 3, LOAD_MAX],
                            "ticktext": ["0", "1 full", "2", "3", f"≥{LOAD_MAX:g}"],
                        },
                    },
                )
            elif name == "diverted":
                tr.update(
                    name="hospital on diversion / closed",
                    marker={
                        "symbol": "x-thin",
                        "size": 16,
                        "color": "#000000",
                        "line": {"color": "#000000", "width": 2.5},
                    },
                )
            elif name == "labels":
                tr.update(
                    mode="text",
                    name="labels",
                    showlegend=False,
                    hoverinfo="skip",
                    textfont={"size": 11, "color": "#111111"},
                )
            elif name == "scenes":
                tr.update(
                    name="incident",
                    marker={
                        "symbol": "star",
                        "size": 18,
                        "color": "white",
                        "line": {"color": "#000000", "width": 1.2},
                    },
                )
            out.append(tr)
        return out

    def _layout(self) -> go.Layout:
        pad = 0.06 * self.span_km
        return go.Layout(
            height=self.height,
            margin={"l": 8, "r": 8, "t": 34, "b": 8},
            paper_bgcolor="white",
            plot_bgcolor="white",
            dragmode="pan",
            hovermode="closest",
            hoverlabel={"font": {"size": 12}, "align": "left"},
            title={"text": "", "font": {"size": 13}, "x": 0.01, "xanchor": "left"},
            xaxis={"visible": False, "range": [self._lo[0] - pad, self._hi[0] + pad]},
            yaxis={
                "visible": False,
                "scaleanchor": "x",
                "scaleratio": 1,
                "range": [self._lo[1] - 2 * pad, self._hi[1] + pad],
            },
            legend={
                "font": {"size": 11},
                "itemsizing": "constant",
                "orientation": "h",
                "x": 0.0,
                "y": 0.0,
                "xanchor": "left",
                "yanchor": "top",
            },
            uirevision="map",  # zoom and pan survive the per-minute updates
            showlegend=True,
        )

    # ------------------------------------------------------------------ per minute

    def trace_index(self, name: str) -> int:
        """Position of the trace ``name`` (e.g. ``hospitals``, ``amb:to_scene``) in the figure."""
        return len(_STATIC) + _DYNAMIC.index(name)

    def frame(self, t: float) -> tuple[dict[int, dict[str, Any]], str]:
        """The moving traces' properties at minute ``t`` (by trace index) and the title."""
        rp, view, ix = self.replay, self.view, self._index
        counts = rp.counts_at(t)
        out: dict[int, dict[str, Any]] = {}

        def put(name: str, **props: Any) -> None:
            out[self.trace_index(name)] = props

        if self.straight_line:
            n = int(np.searchsorted(ix.trip_times, t, side="right"))
            tx, ty = _segments(ix.trip_pairs[:n], self.xy)
            put("trips", x=tx, y=ty)
        cx, cy = _segments(sorted(rp.closed_roads_at(t)), self.xy)
        put("closed", x=cx, y=cy)

        # hospitals: load colour and size, hover card, key labels, diversion marks
        occ = {h: counts.get(hospital_key(h), 0) for h in self._hids}
        load = hospital_load(occ, view.capacity)
        queue = ix.queue.at(t)
        status = rp.hospital_status_at(t)
        hover = []
        for h in self._hids:
            note = f"<br><b>{status[h]}</b>" if h in status else ""
            hover.append(
                f"<b>{view.hospital_names.get(h, h)}</b> ({h})<br>"
                f"load {load[h]:.2f}: {occ[h]} incident patients / {view.capacity[h]} free "
                f"places at onset<br>waiting for care: {queue.get(h, 0)}<br>"
                f"deaths here: {ix.deaths_at(h, t)}{note}"
            )
        put(
            "hospitals",
            x=[self._hxy[h][0] for h in self._hids],
            y=[self._hxy[h][1] for h in self._hids],
            hovertext=hover,
            marker={
                "color": [min(load[h], LOAD_MAX) for h in self._hids],
                "size": [hospital_px(load[h]) for h in self._hids],
            },
        )
        marked = [h for h in self._hids if h in status]
        put(
            "diverted",
            x=[self._hxy[h][0] for h in marked],
            y=[self._hxy[h][1] for h in marked],
            hovertext=[f"{h}: {status[h]}" for h in marked],
        )
        put(
            "labels",
            x=[self._hxy[lab.hospital][0] for lab in self.labels],
            y=[self._hxy[lab.hospital][1] for lab in self.labels],
            text=[
                f"{lab.hospital} {occ[lab.hospital]}/{view.capacity[lab.hospital]}"
                for lab in self.labels
            ],
            textposition=[lab.position for lab in self.labels],
        )

        # patients at the scenes, by tag, packed around each scene
        by_tag: dict[str, list[np.ndarray]] = {t_: [] for t_ in TAG_ORDER if t_ != "dead"}
        scene_hover = []
        for inc, (x, y) in self._scene_xy.items():
            tags = {tag: counts.get(scene_key(inc, tag), 0) for tag in by_tag}
            n = sum(tags.values())
            pts = sunflower(n, self._spacing) + (x, y)
            k = 0
            for tag, c in tags.items():
                by_tag[tag].append(pts[k : k + c])
                k += c
            shown = ", ".join(f"{c} {tag}" for tag, c in tags.items() if c) or "nobody"
            scene_hover.append(f"<b>scene {inc}</b><br>waiting: {n} ({shown})")
        for tag, parts in by_tag.items():
            xy = np.vstack(parts) if parts else np.empty((0, 2))
            put(f"tag:{tag}", x=xy[:, 0], y=xy[:, 1])
        put(
            "scenes",
            x=[p[0] for p in self._scene_xy.values()],
            y=[p[1] for p in self._scene_xy.values()],
            hovertext=scene_hover,
        )

        own = rp.own_way_at(t)
        oxy = to_map_km(self.view.region, [(x, y) for x, y, _ in own])
        put(
            "own_way",
            x=oxy[:, 0],
            y=oxy[:, 1],
            hovertext=[f"patient ({tag}) on the way on their own" for _, _, tag in own],
            marker={"color": [TAG_COLOURS.get(tag, "#2ca02c") for _, _, tag in own]},
        )

        vs = rp.vehicles_at(t)
        vxy = to_map_km(self.view.region, [(v.x, v.y) for v in vs])
        for k, v in enumerate(vs):  # ambulances standing at one place fan out a little
            if not v.moving:
                r = self._jitter * math.sqrt((v.id % 7 + 1) / 7)
                vxy[k] += (r * math.cos(v.id * GOLDEN_ANGLE), r * math.sin(v.id * GOLDEN_ANGLE))
        homes = rp.vehicle_homes
        for s in VEHICLE_COLOURS:
            sel = [k for k, v in enumerate(vs) if v.state == s]
            put(
                f"amb:{s}",
                x=vxy[sel, 0] if sel else [],
                y=vxy[sel, 1] if sel else [],
                hovertext=[
                    vehicle_card(self._index, self._names, vs[k], homes[vs[k].id], t) for k in sel
                ],
            )
        staff = [s for s in rp.staff_at(t) if s.state != "off_duty"]
        sxy = to_map_km(self.view.region, [(s.x, s.y) for s in staff])
        for k, s in enumerate(staff):
            r = 0.6 * self._jitter
            sxy[k] += (r * math.cos(s.id * GOLDEN_ANGLE), r * math.sin(s.id * GOLDEN_ANGLE))
        put(
            "staff",
            x=sxy[:, 0],
            y=sxy[:, 1],
            hovertext=[f"staff {s.id}: {s.state.replace('_', ' ')}" for s in staff],
        )
        moving = sum(v.moving for v in vs)
        title = (
            f"<b>minute {t:.0f}</b> · deaths {counts.get('dead', 0)} · on the road "
            f"{counts.get('road', 0)} · ambulances moving {moving}/{len(vs)}"
        )
        return out, title

    def apply(self, fig: go.Figure, t: float) -> None:
        """Move ``fig``'s (a :meth:`figure` or its live widget) moving parts to minute ``t``.

        On a ``FigureWidget`` the changes go to the browser as one batch.
        """
        frame, title = self.frame(t)
        sent = self._sent.setdefault(id(fig), {})
        with fig.batch_update():
            for i, props in frame.items():
                # only what changed goes to the browser (most traces stand still most minutes)
                if not _same(sent.get(i), props):
                    fig.data[i].update(props)
                    sent[i] = props
            fig.layout.title.text = title


def vehicle_card(ix: _Index, names: dict, v: Any, home: int, t: float) -> str:
    """An ambulance's hover card at minute ``t``: state, destination and patients on board."""
    riders = ix.riders(v.id, t)
    dest = ix.destination(v.id, t)
    lines = [
        f"<b>ambulance {v.id}</b> (from {names.get(home, home)})",
        f"state: {VEHICLE_LABELS.get(v.state, v.state)}",
    ]
    if dest >= 0:
        lines.append(f"destination: {names.get(dest, dest)}")
    if riders:
        lines.append("patient: " + ", ".join(f"{p} ({tag})" for p, tag in riders))
    else:
        lines.append("patient: none")
    return "<br>".join(lines)


def to_map_km(region: Any, pts: Sequence[tuple[float, float]]) -> np.ndarray:
    """Region coordinates → the map's km (the same projection as the nodes)."""
    a = np.asarray(pts, float).reshape(-1, 2)
    if region.crs != "lonlat" or not len(a):
        return a
    pos = np.asarray(region.positions, float)
    lon0, lat0 = pos[:, 0].mean(), pos[:, 1].mean()
    kx = KM_PER_DEG_LON * math.cos(math.radians(lat0))
    return np.column_stack([(a[:, 0] - lon0) * kx, (a[:, 1] - lat0) * KM_PER_DEG_LAT])


def _same(a: Any, b: Any) -> bool:
    """Whether two frames' properties are equal (arrays compared by value)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple, np.ndarray)) and isinstance(b, (list, tuple, np.ndarray)):
        return len(a) == len(b) and all(
            x == y or (isinstance(x, float) and isinstance(y, float) and x != x and y != y)
            for x, y in zip(
                np.asarray(a, dtype=object).tolist(),
                np.asarray(b, dtype=object).tolist(),
                strict=True,
            )
        )
    return a is b or (a is not None and b is not None and type(a) is type(b) and a == b)


def hospital_rows(imap: InteractiveMap, t: float) -> pd.DataFrame:
    """The hospital hover cards' numbers at minute ``t`` as a table (for tests and exports)."""
    rp, view, ix = imap.replay, imap.view, imap._index
    occ = rp.hospital_occupancy(t)
    queue = ix.queue.at(t)
    return pd.DataFrame(
        {
            "hospital": imap._hids,
            "patients": [occ.get(h, 0) for h in imap._hids],
            "capacity": [view.capacity[h] for h in imap._hids],
            "waiting": [queue.get(h, 0) for h in imap._hids],
            "deaths": [ix.deaths_at(h, t) for h in imap._hids],
        }
    )
