"""Bring your own region: road networks (GraphML) and facilities (CSV/GeoJSON) into a scenario.

Planners arrive with their own roads and hospitals. This module turns them into the ``region``,
``hospitals``, ``stations`` and ``incidents`` sections of a scenario, which ``mcsim region
import`` writes out as a skeleton that validates and runs, to be edited afterwards.

Two ways to get travel times, and what each assumes:

- **A road graph** in osmnx's GraphML format (what ``osmnx.save_graphml`` writes): nodes carry
  ``x`` (longitude) and ``y`` (latitude); edges carry ``length`` in metres and, when present,
  ``travel_time`` in seconds, ``speed_kph`` or ``maxspeed`` (OSM's tag: ``"50"``,
  ``"30 mph"``, or a list such as ``"['25 mph', '35 mph']"``, whose mean is used, as osmnx
  does). An edge's time is taken from ``travel_time`` if given, else ``length`` ÷ speed, where
  the speed is ``speed_kph``, else the parsed ``maxspeed``, else a default for its ``highway``
  type (:data:`DEFAULT_SPEED_KMH_BY_HIGHWAY`, an **[assumption]**). All values may be strings
  (osmnx stores every attribute as text). Only the largest strongly connected part of the graph
  is kept (one-way streets cut at the edge of an extract leave nodes that cannot be left or
  reached), unless ``keep_all``.
- **Coordinates only** (no graph): every pair of places is joined by a direct road whose time
  is the great-circle distance × ``detour_factor`` ÷ ``speed_kmh``. That is an approximation of
  a road trip, labelled as one in the scenario it writes; both numbers are parameters
  (:class:`ImportParams`).

Hospitals, stations and the incident are placed at their own coordinates as nodes of their own,
joined to the nearest graph node (by great-circle distance) by an *access road* whose time is
that distance × ``detour_factor`` ÷ ``access_speed_kmh`` (an approximation too). Facility
sizes missing from the file are filled from :class:`HospitalDefaults` (every one an
**[assumption]**, listed in the file's header so that the user edits them).
"""

from __future__ import annotations

import ast
import csv
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import yaml

from mcsim.errors import InputError, echo
from mcsim.region import great_circle_km
from mcsim.scenario import SCHEMA_VERSION

#: Default speed (km/h) by OSM ``highway`` type when an edge has neither ``speed_kph`` nor a
#: usable ``maxspeed`` **[assumption]**: typical urban limits, not what an ambulance under
#: lights achieves. Types not listed use :attr:`ImportParams.fallback_speed_kmh`.
DEFAULT_SPEED_KMH_BY_HIGHWAY: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 60.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 20.0,
    "road": 30.0,
}

#: Largest count (beds, bays, vehicles) read from a facilities file; the scenario's own limits
#: are checked afterwards, naming the row too.
MAX_COUNT = 1_000_000

MPH_KMH = 1.609344
"""Kilometres per mile (a ``maxspeed`` of ``"30 mph"`` is 48.28 km/h)."""


@dataclass(frozen=True)
class ImportParams:
    """The numbers an import assumes; every one is an **[assumption]** the user may change.

    Attributes:
        detour_factor: road distance ÷ great-circle distance, for coordinates-only travel
            times and access roads. 1.3 is a common planning figure for urban road networks
            (circuity of 1.2–1.4 is typical) **[assumption]**.
        speed_kmh: average speed on the straight-line "roads" of a coordinates-only region.
        access_speed_kmh: speed on the access road from a facility to its nearest graph node.
        fallback_speed_kmh: speed of an edge whose ``highway`` type has no default.
        min_travel_min: floor of any road's travel time (a scenario road must take some time;
            two facilities on one campus share coordinates).
        keep_all: keep every node of the graph, not only its largest strongly connected part.
    """

    detour_factor: float = 1.3
    speed_kmh: float = 40.0
    access_speed_kmh: float = 20.0
    fallback_speed_kmh: float = 30.0
    min_travel_min: float = 0.001
    keep_all: bool = False

    def __post_init__(self) -> None:
        """Refuse non-positive factors and speeds."""
        for name in ("detour_factor", "speed_kmh", "access_speed_kmh", "fallback_speed_kmh"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 < value < math.inf):
                raise InputError(f"{name} must be a positive number, got {echo(value)}")
        if self.detour_factor < 1:
            raise InputError(
                f"detour_factor must be >= 1 (roads are not shorter than the "
                f"straight line), got {self.detour_factor}"
            )


@dataclass(frozen=True)
class HospitalDefaults:
    """Sizes given to an imported hospital when its file does not say (**[assumption]** all).

    Scaled from the bed count where there is one: ED beds 5 % of beds, ICU beds 8 %, one
    operating room per 50 beds; resuscitation bays and teams by trauma level (index 0 is
    level 1). These are placeholders that make the skeleton run, not data about any hospital.
    """

    beds: int = 200
    ed_share: float = 0.05
    min_ed_beds: int = 10
    icu_share: float = 0.08
    min_icu_beds: int = 2
    beds_per_or: int = 50
    resus_bays_by_level: tuple[int, int, int, int] = (6, 4, 2, 1)
    teams_on_duty_by_level: tuple[int, int, int, int] = (3, 2, 1, 1)
    teams_on_call_by_level: tuple[int, int, int, int] = (4, 3, 2, 1)
    station_als: int = 2


# --------------------------------------------------------------------------------------------
# Road graphs


@dataclass
class RoadNetwork:
    """An imported road network in scenario terms: nodes (lon/lat) and roads (minutes).

    Attributes:
        nodes: ``{"id", "x", "y"}`` dicts (x = longitude, y = latitude).
        roads: ``{"from", "to", "travel_min", ...}`` dicts; ``oneway`` when only one direction
            exists or the two directions differ in time.
        notes: what the import did that a user should know (dropped nodes, defaults used).
    """

    nodes: list[dict[str, Any]] = field(default_factory=list)
    roads: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def coords(self) -> dict[str, tuple[float, float]]:
        """Node id → (lon, lat)."""
        return {n["id"]: (n["x"], n["y"]) for n in self.nodes}


def parse_maxspeed(value: Any) -> float | None:
    """An OSM ``maxspeed`` as km/h, or None when it is not a number (``"none"``, ``"walk"``).

    Accepts ``50``, ``"50"``, ``"30 mph"``, ``"30mph"``, and lists (Python lists or their
    string form, as osmnx writes them), whose mean is taken.
    """
    if value is None:
        return None
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            return None
    if isinstance(value, list | tuple):
        speeds = [s for s in (parse_maxspeed(v) for v in value) if s is not None]
        return sum(speeds) / len(speeds) if speeds else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if 0 < value < math.inf else None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*", str(value), re.IGNORECASE)
    if not m:
        return None
    speed = float(m.group(1))
    if speed <= 0:
        return None
    return speed * MPH_KMH if (m.group(2) or "").lower() == "mph" else speed


def _first_highway(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            return value
    if isinstance(value, list | tuple):
        return str(value[0]) if value else None
    return None if value is None else str(value)


def _number(value: Any, what: str, file: str, *, positive: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number, got {echo(value)}", file=file) from None
    if not math.isfinite(x) or (positive and x <= 0) or (not positive and x < 0):
        sign = "positive" if positive else "non-negative"
        raise InputError(f"{what} must be a {sign} finite number, got {echo(value)}", file=file)
    return x


def edge_travel_min(
    attrs: Mapping[str, Any], params: ImportParams, *, what: str, file: str
) -> tuple[float, str]:
    """Minutes to drive one GraphML edge, and where the figure came from.

    Order: ``travel_time`` (s); else ``length`` (m) at ``speed_kph``, else at the parsed
    ``maxspeed``, else at the ``highway`` type's default (:data:`DEFAULT_SPEED_KMH_BY_HIGHWAY`),
    else at ``params.fallback_speed_kmh``.

    Returns:
        (minutes, source) with source one of ``travel_time``, ``speed_kph``, ``maxspeed``,
        ``highway default``, ``fallback``.

    Raises:
        InputError: neither ``travel_time`` nor ``length``, or a value that is not a number.
    """
    if attrs.get("travel_time") not in (None, ""):
        seconds = _number(attrs["travel_time"], f"{what}: travel_time", file)
        return seconds / 60.0, "travel_time"
    if attrs.get("length") in (None, ""):
        raise InputError(
            f"{what}: needs 'length' (metres) or 'travel_time' (seconds), as osmnx writes them",
            file=file,
        )
    length_km = _number(attrs["length"], f"{what}: length", file) / 1000.0
    if attrs.get("speed_kph") not in (None, ""):
        speed, source = (
            _number(attrs["speed_kph"], f"{what}: speed_kph", file, positive=True),
            ("speed_kph"),
        )
    elif (parsed := parse_maxspeed(attrs.get("maxspeed"))) is not None:
        speed, source = parsed, "maxspeed"
    else:
        highway = _first_highway(attrs.get("highway"))
        if highway in DEFAULT_SPEED_KMH_BY_HIGHWAY:
            speed, source = DEFAULT_SPEED_KMH_BY_HIGHWAY[highway], "highway default"
        else:
            speed, source = params.fallback_speed_kmh, "fallback"
    return 60.0 * length_km / speed, source


def read_graphml(path: str | Path, params: ImportParams | None = None) -> RoadNetwork:
    """Read an osmnx-style GraphML road network.

    Args:
        path: the GraphML file.
        params: import assumptions (defaults when None).

    Returns:
        The network's nodes and roads, with notes on what was dropped or assumed.

    Raises:
        InputError: a missing or unreadable file, no nodes, a node without numeric x/y, an edge
            without length or travel time; each names the file.
    """
    params = params or ImportParams()
    from mcsim.safeio import MAX_BINARY_BYTES, check_input

    file = str(path)
    p = check_input(path, what="GraphML file", max_bytes=MAX_BINARY_BYTES)
    try:
        g = nx.read_graphml(p, force_multigraph=True)
    except (ET.ParseError, nx.NetworkXError, KeyError, ValueError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"not a readable GraphML file ({msg})", file=file) from None
    return network_from_graph(g, file=file, params=params)


def network_from_graph(g: nx.Graph, *, file: str, params: ImportParams) -> RoadNetwork:
    """An osmnx-style graph (lon/lat nodes, edges in metres) in scenario terms.

    What :func:`read_graphml` does once the file is read; :mod:`mcsim.osm_import` hands it the
    graphs osmnx builds. ``file`` names the source in messages.
    """
    if g.number_of_nodes() == 0:
        raise InputError("the graph has no nodes", file=file)
    if not g.is_directed():
        g = g.to_directed()

    coords: dict[str, tuple[float, float]] = {}
    for node, attrs in g.nodes(data=True):
        if "x" not in attrs or "y" not in attrs:
            raise InputError(
                f"node {node}: needs 'x' (longitude) and 'y' (latitude), as osmnx writes them",
                file=file,
            )
        try:
            lon, lat = float(attrs["x"]), float(attrs["y"])
        except (TypeError, ValueError):
            raise InputError(f"node {node}: x and y must be numbers", file=file) from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InputError(
                f"node {node}: x={lon}, y={lat} is not a longitude/latitude in degrees "
                "(project the graph to EPSG:4326 first)",
                file=file,
            )
        coords[str(node)] = (lon, lat)

    notes: list[str] = []
    sources: dict[str, int] = {}
    best: dict[tuple[str, str], dict[str, Any]] = {}
    loops = 0
    for u, v, attrs in g.edges(data=True):
        u, v = str(u), str(v)
        if u == v:
            loops += 1
            continue
        minutes, source = edge_travel_min(attrs, params, what=f"edge {u} -> {v}", file=file)
        sources[source] = sources.get(source, 0) + 1
        minutes = max(minutes, params.min_travel_min)
        old = best.get((u, v))
        if old is None or minutes < old["travel_min"]:
            road: dict[str, Any] = {"from": u, "to": v, "travel_min": minutes}
            name = attrs.get("name")
            if isinstance(name, str) and name and not name.startswith("["):
                road["name"] = name
            best[(u, v)] = road
    if loops:
        notes.append(f"{loops} edge(s) from a node to itself dropped")
    notes.append(
        "edge travel times from: "
        + ", ".join(f"{k} {n}" for k, n in sorted(sources.items()))
        + "; highway defaults and the fallback speed are [assumption]s"
    )

    keep = set(coords)
    if not params.keep_all:
        dg = nx.DiGraph()
        dg.add_nodes_from(coords)
        dg.add_edges_from(best)
        if dg.number_of_nodes():
            biggest = max(nx.strongly_connected_components(dg), key=len)
            dropped = len(coords) - len(biggest)
            if dropped:
                notes.append(
                    f"{dropped} of {len(coords)} nodes dropped: not in the largest strongly "
                    "connected part (they cannot be both reached and left)"
                )
            keep = biggest

    nodes = [{"id": n, "x": coords[n][0], "y": coords[n][1]} for n in coords if n in keep]
    roads: list[dict[str, Any]] = []
    done: set[tuple[str, str]] = set()
    for (u, v), road in best.items():
        if (u, v) in done or u not in keep or v not in keep:
            continue
        done.add((u, v))
        back = best.get((v, u))
        out = {"from": u, "to": v, "travel_min": _round_min(road["travel_min"], params)}
        if back is not None and _round_min(back["travel_min"], params) == out["travel_min"]:
            done.add((v, u))
        else:
            out["oneway"] = True
        if "name" in road:
            out["name"] = road["name"]
        roads.append(out)
    if not roads:
        raise InputError("the graph has no roads between distinct nodes", file=file)
    return RoadNetwork(nodes=nodes, roads=roads, notes=notes)


def _round_min(minutes: float, params: ImportParams) -> float:
    """Minutes rounded to 1e-4 (6 ms), never below the floor."""
    return max(round(minutes, 4), params.min_travel_min)


# --------------------------------------------------------------------------------------------
# Facilities


@dataclass
class Place:
    """A hospital, station or incident read from a file: where it is and what it says.

    Attributes:
        id: unique id (the file's ``id`` column, else made from the name).
        name: a label.
        lon: longitude in degrees.
        lat: latitude in degrees.
        props: the other columns (strings as read).
        where: where it is in its file (``row 3``, ``features[2]``), for messages.
    """

    id: str
    name: str
    lon: float
    lat: float
    props: dict[str, Any] = field(default_factory=dict)
    where: str = ""


_LON_KEYS = ("lon", "longitude", "lng", "x")
_LAT_KEYS = ("lat", "latitude", "y")


def slug(text: str, max_len: int = 40) -> str:
    """An id of lowercase letters, digits, underscores: ``"St. Rose - X"`` → ``st_rose_x``."""
    s = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return (s[:max_len].rstrip("_") or "place") if s else "place"


def read_places(path: str | Path, what: str) -> list[Place]:
    """Read hospitals or stations from a CSV or GeoJSON file.

    CSV: a header row with ``lon``/``lat`` (or ``longitude``/``latitude``, ``lng``, ``x``/``y``)
    and ``name`` and/or ``id``; other columns are kept in :attr:`Place.props`. GeoJSON: a
    FeatureCollection of Point features (coordinates ``[lon, lat]``) whose properties hold
    the same columns.

    Args:
        path: the file (``.csv``, ``.geojson`` or ``.json``).
        what: ``hospital`` or ``station``, for messages.

    Raises:
        InputError: naming the file, and the row and column of the first bad value.
    """
    from mcsim.safeio import read_text

    file = str(path)
    p = Path(path)
    text = read_text(p, what=f"{what}s file", encoding="utf-8-sig")
    if p.suffix.lower() in (".geojson", ".json"):
        rows = _geojson_rows(text, file)
    else:
        rows = _csv_rows(text, file)
    if not rows:
        raise InputError(f"no {what}s in the file", file=file)
    places: list[Place] = []
    seen: set[str] = set()
    for where, row in rows:
        lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        lon_key = next((k for k in _LON_KEYS if k in lowered), None)
        lat_key = next((k for k in _LAT_KEYS if k in lowered), None)
        if lon_key is None or lat_key is None:
            raise InputError(
                f"needs longitude and latitude columns (lon and lat); has: {', '.join(lowered)}",
                file=file,
                path=where,
            )
        lon = _coord(lowered[lon_key], 180, file, f"{where}, column {lon_key}")
        lat = _coord(lowered[lat_key], 90, file, f"{where}, column {lat_key}")
        name = str(lowered.get("name") or "").strip()
        pid = str(lowered.get("id") or "").strip() or (slug(name) if name else "")
        if not pid:
            raise InputError(f"a {what} needs an id or a name", file=file, path=where)
        base, k = pid, 2
        while pid in seen:  # two rows with the same name (campuses): keep both, distinct ids
            pid, k = f"{base}_{k}", k + 1
        seen.add(pid)
        props = {k: v for k, v in lowered.items() if k not in (lon_key, lat_key, "id", "name")}
        places.append(Place(pid, name or pid, lon, lat, props, where))
    return places


def _coord(value: Any, limit: float, file: str | None, where: str) -> float:
    try:
        x = float(str(value).strip())
    except ValueError:
        raise InputError(f"not a number: {echo(value)}", file=file, path=where) from None
    if not (math.isfinite(x) and -limit <= x <= limit):
        raise InputError(f"{x} is outside -{limit:g}..{limit:g} degrees", file=file, path=where)
    return x


def _csv_rows(text: str, file: str) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise InputError("empty file (no header row)", file=file)
    rows = []
    for i, row in enumerate(reader, start=2):
        if None in row:
            raise InputError("more values than header columns", file=file, path=f"row {i}")
        if not any((v or "").strip() for v in row.values()):
            continue
        rows.append((f"row {i}", row))
    return rows


def _geojson_rows(text: str, file: str) -> list[tuple[str, dict[str, Any]]]:
    from mcsim.safeio import parse_json

    doc = parse_json(text, file=file)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError("GeoJSON must be a FeatureCollection", file=file)
    features = doc.get("features") or []
    if not isinstance(features, list):
        raise InputError("must be a list of features", file=file, path="features")
    rows = []
    for i, feat in enumerate(features):
        where = f"features[{i}]"
        if not isinstance(feat, dict):
            raise InputError("a feature must be a JSON object", file=file, path=where)
        geom = feat.get("geometry") or {}
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if (
            not isinstance(geom, dict)
            or geom.get("type") != "Point"
            or not isinstance(coords, list)
            or len(coords) < 2
        ):
            raise InputError("needs a Point geometry [lon, lat]", file=file, path=where)
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            raise InputError("must be a JSON object", file=file, path=f"{where}.properties")
        props = dict(props)
        props["lon"], props["lat"] = coords[0], coords[1]
        rows.append((where, props))
    return rows


def parse_trauma_level(value: Any) -> int:
    """A trauma designation as the scenario's level 1–4 (4 = none).

    Accepts 1–4, US ``Level I``…``Level IV`` and UK ``Major Trauma Centre`` (1) /
    ``Trauma Unit`` (2); a trailing ``?`` (unconfirmed) is ignored; blank or ``none`` is 4.

    Raises:
        ValueError: a value none of these.
    """
    s = str(value or "").strip().rstrip("?").strip().lower()
    if s in ("", "none", "no", "n/a"):
        return 4
    if s.isdigit() and 1 <= int(s) <= 4:
        return int(s)
    if s.startswith("major trauma centre") or s.startswith("major trauma center"):
        return 1
    if s.startswith("trauma unit"):
        return 2
    m = re.match(r"level\s+(iv|iii|ii|i|[1-4])\b", s)
    if m:
        return {"i": 1, "ii": 2, "iii": 3, "iv": 4}.get(m.group(1)) or int(m.group(1))
    raise ValueError(
        f"unknown trauma level {echo(value)}; use 1-4, 'Level I'..'Level IV', "
        "'Major Trauma Centre', 'Trauma Unit' or 'none'"
    )


def _count(props: Mapping[str, Any], key: str, file: str, where: str) -> int | None:
    raw = props.get(key)
    if raw is None or str(raw).strip().rstrip("?").strip() == "":
        return None
    s = str(raw).strip().rstrip("?").strip()
    try:
        x = float(s)
    except ValueError:
        raise InputError(
            f"not a number: {echo(raw)}", file=file, path=f"{where}, column {key}"
        ) from None
    if not math.isfinite(x) or x < 0 or x != int(x) or x > MAX_COUNT:
        raise InputError(
            f"must be a whole number in 0..{MAX_COUNT:,}, got {echo(raw)}",
            file=file,
            path=f"{where}, column {key}",
        )
    return int(x)


def hospital_spec(
    place: Place, node: str, defaults: HospitalDefaults, *, file: str, where: str
) -> tuple[dict[str, Any], list[str]]:
    """A scenario hospital from an imported place, and the fields that were defaulted."""
    try:
        level = parse_trauma_level(place.props.get("trauma_level"))
    except ValueError as exc:
        raise InputError(str(exc), file=file, path=f"{where}, column trauma_level") from None
    given = {
        k: _count(place.props, k, file, where)
        for k in (
            "beds",
            "ed_beds",
            "resus_bays",
            "operating_rooms",
            "icu_beds",
            "teams_on_duty",
            "teams_on_call",
        )
    }
    beds = given["beds"] or defaults.beds
    filled = {
        "resus_bays": defaults.resus_bays_by_level[level - 1],
        "ed_beds": max(defaults.min_ed_beds, round(defaults.ed_share * beds)),
        "operating_rooms": max(1, round(beds / defaults.beds_per_or)),
        "icu_beds": max(defaults.min_icu_beds, round(defaults.icu_share * beds)),
        "teams_on_duty": defaults.teams_on_duty_by_level[level - 1],
        "teams_on_call": defaults.teams_on_call_by_level[level - 1],
    }
    defaulted = [k for k in filled if given[k] is None]
    spec: dict[str, Any] = {"id": place.id, "name": place.name, "node": node}
    spec["trauma_level"] = level
    for k, v in filled.items():
        spec[k] = given[k] if given[k] is not None else v
    if spec["ed_beds"] < 1:
        raise InputError("ed_beds must be at least 1", file=file, path=f"{where}, column ed_beds")
    return spec, defaulted


def station_spec(
    place: Place, node: str, defaults: HospitalDefaults, *, file: str, where: str
) -> tuple[dict[str, Any], bool]:
    """A scenario station from an imported place (``als``/``bls``/``vehicles`` columns)."""
    als = _count(place.props, "als", file, where)
    if als is None:
        als = _count(place.props, "vehicles", file, where)
    bls = _count(place.props, "bls", file, where)
    defaulted = als is None and bls is None
    vehicles = []
    if als is None and bls is None:
        als = defaults.station_als
    if als:
        vehicles.append({"type": "als", "count": als, "capacity": 1})
    if bls:
        vehicles.append({"type": "bls", "count": bls, "capacity": 2})
    if not vehicles:
        raise InputError(
            "a station needs at least one vehicle", file=file, path=f"{where}, column als"
        )
    return {"id": place.id, "name": place.name, "node": node, "vehicles": vehicles}, defaulted


def parse_incident(text: str) -> Place:
    """``NAME@LON,LAT`` → a :class:`Place` (``--incident``)."""
    m = re.fullmatch(r"\s*([^@]+?)\s*@\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*", text or "")
    if not m:
        raise InputError(f"--incident needs NAME@LON,LAT, got {echo(text)}", path="--incident")
    lon = _coord(m.group(2), 180, None, "--incident longitude")
    lat = _coord(m.group(3), 90, None, "--incident latitude")
    return Place(slug(m.group(1)), m.group(1), lon, lat)


# --------------------------------------------------------------------------------------------
# Putting a region together


def nearest_node(coords: Mapping[str, tuple[float, float]], lon: float, lat: float) -> str:
    """The node closest to (lon, lat) by great-circle distance (ties: first in order)."""
    import numpy as np

    ids = list(coords)
    arr = np.array([coords[i] for i in ids], dtype=float)
    d = great_circle_km(arr[:, 0], arr[:, 1], lon, lat)
    return ids[int(np.argmin(d))]


def straight_line_min(
    a: tuple[float, float], b: tuple[float, float], speed_kmh: float, params: ImportParams
) -> float:
    """Great-circle distance × detour factor ÷ speed, in minutes (an approximation)."""
    km = float(great_circle_km(a[0], a[1], b[0], b[1])) * params.detour_factor
    return _round_min(60.0 * km / speed_kmh, params)


@dataclass
class ImportedRegion:
    """What an import produced: scenario sections and the notes for the file's header."""

    scenario: dict[str, Any]
    notes: list[str]


def build_scenario(
    *,
    hospitals: list[Place],
    stations: list[Place] | None = None,
    incident: Place | list[Place] | None = None,
    network: RoadNetwork | None = None,
    params: ImportParams | None = None,
    defaults: HospitalDefaults | None = None,
    name: str = "Imported region",
    hospitals_file: str = "hospitals",
    stations_file: str = "stations",
    casualties: int = 100,
    injury_profile: str = "blast_open_air",
) -> ImportedRegion:
    """A scenario skeleton (plain data) from imported places and, optionally, a road network.

    With ``network``, each place becomes a node joined to its nearest graph node by an access
    road; without, every pair of places is joined by a straight-line road (coordinates-only
    approximation). Missing stations: one at the first hospital; missing incident: at the
    hospitals' mean position. Both are placeholders, noted in the header.
    """
    params = params or ImportParams()
    defaults = defaults or HospitalDefaults()
    if not hospitals:
        raise InputError("a scenario needs at least one hospital (--hospitals)")
    notes: list[str] = []
    if not stations:
        h0 = hospitals[0]
        stations = [Place("ems_1", f"Ambulance base at {h0.name}", h0.lon, h0.lat, {})]
        notes.append(
            f"no stations given: one placeholder station at {h0.name} with "
            f"{defaults.station_als} ALS ambulances [assumption; edit]"
        )
    if incident is None:
        lon = sum(h.lon for h in hospitals) / len(hospitals)
        lat = sum(h.lat for h in hospitals) / len(hospitals)
        incident = Place("incident", "Incident", lon, lat)
        notes.append("no incident given: placed at the hospitals' mean position [edit]")
    incidents = incident if isinstance(incident, list) else [incident]

    taken: set[str] = set()
    if network is not None:
        taken = {n["id"] for n in network.nodes}

    def node_id(prefix: str, pid: str) -> str:
        nid, k = f"{prefix}_{pid}", 2
        while nid in taken:
            nid, k = f"{prefix}_{pid}_{k}", k + 1
        taken.add(nid)
        return nid

    placed: list[tuple[str, str, Place]] = []  # (node id, kind, place)
    placed += [(node_id("site", i.id), "incident_site", i) for i in incidents]
    placed += [(node_id("hosp", h.id), "hospital", h) for h in hospitals]
    placed += [(node_id("stn", s.id), "ambulance_station", s) for s in stations]

    nodes = [
        {"id": nid, "kind": kind, "x": round(p.lon, 6), "y": round(p.lat, 6)}
        for nid, kind, p in placed
    ]
    roads: list[dict[str, Any]] = []
    if network is not None:
        graph_coords = network.coords()
        for nid, _kind, p in placed:
            near = nearest_node(graph_coords, p.lon, p.lat)
            minutes = straight_line_min(
                (p.lon, p.lat), graph_coords[near], params.access_speed_kmh, params
            )
            roads.append({"from": nid, "to": near, "travel_min": minutes, "name": "access road"})
        nodes = network.nodes + nodes
        roads = network.roads + roads
        notes.extend(network.notes)
        notes.append(
            f"each facility joins its nearest graph node by an access road: great-circle "
            f"distance x {params.detour_factor} / {params.access_speed_kmh} km/h [approximation]"
        )
    else:
        for i, (a, _, pa) in enumerate(placed):
            for b, _, pb in placed[i + 1 :]:
                minutes = straight_line_min(
                    (pa.lon, pa.lat), (pb.lon, pb.lat), params.speed_kmh, params
                )
                roads.append({"from": a, "to": b, "travel_min": minutes})
        notes.append(
            f"no road graph: travel times are great-circle distance x {params.detour_factor} "
            f"(detour factor) / {params.speed_kmh} km/h between every pair of places "
            "[approximation; not a road network]"
        )

    node_of = {id(p): nid for nid, _, p in placed}
    hosp_specs: list[dict[str, Any]] = []
    defaulted_any: set[str] = set()
    for i, h in enumerate(hospitals):
        spec, defaulted = hospital_spec(
            h, node_of[id(h)], defaults, file=hospitals_file, where=_where(h, "hospital", i)
        )
        defaulted_any.update(defaulted)
        hosp_specs.append(spec)
    if defaulted_any:
        notes.append(
            "hospital sizes not in the file filled from beds by HospitalDefaults "
            f"({', '.join(sorted(defaulted_any))}) [assumption; edit]"
        )
    stn_specs = []
    for i, s in enumerate(stations):
        spec, defaulted = station_spec(
            s, node_of[id(s)], defaults, file=stations_file, where=_where(s, "station", i)
        )
        if defaulted:
            notes.append(
                f"station {s.id}: no vehicle counts, {defaults.station_als} ALS [assumption; edit]"
            )
        stn_specs.append(spec)

    scenario = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "description": "Imported with `mcsim region import`; see the header comments for what "
        "was assumed.",
        "duration_min": 720,
        "region": {"crs": "lonlat", "nodes": nodes, "roads": roads},
        "hospitals": hosp_specs,
        "stations": stn_specs,
        "incidents": [
            {
                "id": i.id,
                "node": node_of[id(i)],
                "onset_min": 0,
                "casualties": casualties,
                "injury_profile": injury_profile,
            }
            for i in incidents
        ],
    }
    return ImportedRegion(scenario=scenario, notes=notes)


def _where(place: Place, what: str, i: int) -> str:
    return place.where or f"{what} {i + 1} ({place.id})"


def _blame_source(
    exc: InputError, hospitals: list[Place], stations: list[Place], files: tuple[str, str]
) -> InputError:
    """A skeleton's validation error moved to the file row it came from, where it has one.

    A count that passes the import but not the scenario's limits (``resus_bays: 100000``) is
    the facilities file's fault, not the ``--out`` file's, which does not exist yet.
    """
    m = re.match(r"(hospitals|stations)\[(\d+)\](?:\.(\w+))?", exc.path or "")
    if m is None:
        return exc
    places, file = (hospitals, files[0]) if m.group(1) == "hospitals" else (stations, files[1])
    i = int(m.group(2))
    if i >= len(places) or not places[i].where:
        return exc
    column = f", column {m.group(3)}" if m.group(3) else ""
    return InputError(exc.message, file=file, path=f"{places[i].where}{column}", more=exc.more)


def dump_scenario(scenario: Mapping[str, Any], header: Iterable[str] = ()) -> str:
    """YAML text of a scenario: ``#`` header lines, then the body, roads and nodes one a line."""
    head = "".join(f"# {line}\n" if line else "#\n" for line in header)
    body = yaml.safe_dump(
        dict(scenario), sort_keys=False, default_flow_style=None, width=100, allow_unicode=True
    )
    return head + body


def import_region(
    *,
    out: str | Path,
    graphml: str | Path | None = None,
    hospitals: str | Path | None = None,
    stations: str | Path | None = None,
    incident: str | None = None,
    params: ImportParams | None = None,
    name: str | None = None,
    force: bool = True,
    osm: str | Path | None = None,
    place: str | None = None,
    bbox: str | None = None,
    region_format: str = "parquet",
) -> ImportedRegion:
    """``mcsim region import``: read the files, build a skeleton, validate it, write it.

    The region (nodes and roads) goes into a file beside the scenario, which names it
    (``region.file``, :mod:`mcsim.region_files`), unless ``region_format`` is ``inline``.
    Everything is written atomically; existing outputs are refused unless ``force``.

    Args:
        out: the scenario YAML file.
        graphml: an osmnx-style GraphML road network (no osmnx needed).
        hospitals: hospitals CSV or GeoJSON.
        stations: stations CSV or GeoJSON.
        incident: ``NAME@LON,LAT``.
        params: import assumptions.
        name: the scenario's name.
        force: overwrite existing outputs.
        osm: an OSM XML extract read through osmnx (``[osm]`` extra).
        place: a place name whose drive network osmnx downloads (internet).
        bbox: ``W,S,E,N`` whose drive network osmnx downloads (internet).
        region_format: ``parquet`` (default), ``graphml``, ``gpkg`` or ``inline``.

    Raises:
        InputError: a bad input file (naming it), or a skeleton that does not validate.
    """
    from mcsim.region_files import region_file_names
    from mcsim.safeio import check_outputs, write_files
    from mcsim.scenario import parse_scenario

    fmt = _region_format(region_format)
    out = Path(out)
    stem = out.with_name(out.stem + ".region")
    region_files = region_file_names(stem, fmt) if fmt is not None else {}
    check_outputs([out, *region_files.values()], force=force, option="--out")
    params = params or ImportParams()
    if hospitals is None:
        raise InputError(
            "a scenario needs hospitals: give --hospitals CSV|GEOJSON", path="--hospitals"
        )
    sources_given = (("--graphml", graphml), ("--osm", osm), ("--place", place), ("--bbox", bbox))
    roads_from = [option for option, value in sources_given if value is not None]
    if len(roads_from) > 1:
        both = " and ".join(roads_from)
        raise InputError(f"give one road source, not {both}", path=roads_from[1])
    network, osm_label = None, None
    if graphml is not None:
        network = read_graphml(graphml, params)
    elif roads_from:
        from mcsim.osm_import import osm_network

        network, osm_label = osm_network(osm=osm, place=place, bbox=bbox, params=params)
    hosp = read_places(hospitals, "hospital")
    stns = read_places(stations, "station") if stations is not None else None
    inc = parse_incident(incident) if incident is not None else None
    result = build_scenario(
        hospitals=hosp,
        stations=stns,
        incident=inc,
        network=network,
        params=params,
        name=name or f"Imported region ({Path(hospitals).stem})",
        hospitals_file=str(hospitals),
        stations_file=str(stations or "stations"),
    )
    try:
        parse_scenario(result.scenario, file=str(out))
    except InputError as exc:
        raise _blame_source(exc, hosp, stns or [], (str(hospitals), str(stations))) from None
    if osm_label is not None:
        sources = [f"road graph: {osm_label} (through osmnx)"]
    else:
        sources = [f"road graph: {graphml}" if graphml else "road graph: none (coordinates only)"]
    sources.append(f"hospitals: {hospitals}")
    if stations:
        sources.append(f"stations: {stations}")
    header = [
        "Scenario skeleton written by `mcsim region import`. It validates and runs; edit it.",
        *sources,
        "",
        "What the import assumed (check each before trusting results):",
        *(f"- {n}" for n in result.notes),
        "- incident: 100 casualties, blast_open_air profile [placeholder; edit]",
        "",
    ]
    written = dict(result.scenario)
    contents: dict[Path, Any] = {}
    if fmt is not None:
        from mcsim.region_files import region_contents, region_file_reference

        region = result.scenario["region"]
        for key, content in region_contents(region, fmt).items():
            contents[region_files[key]] = content
        ref = region_file_reference(region_files, out.parent)
        written["region"] = {"crs": region["crs"], "file": ref}
        header.insert(
            -1,
            f"region: {len(region['nodes'])} nodes and {len(region['roads'])} roads in "
            f"{', '.join(p.name for p in region_files.values())} beside this file",
        )
    contents = {out: dump_scenario(written, header), **contents}
    write_files(contents, force=force, option="--out")
    return result


def _region_format(text: str) -> Any:
    """``--region-format``: a :class:`~mcsim.region_files.RegionFormat`, or None (inline)."""
    from mcsim.region_files import RegionFormat

    if text == "inline":
        return None
    try:
        return RegionFormat(text)
    except ValueError:
        known = ", ".join([*(f.value for f in RegionFormat), "inline"])
        raise InputError(f"unknown {text!r}; known: {known}", path="--region-format") from None
