"""The region: a road graph and the travel-time oracle every movement in the model asks.

Ambulances, self-presenting patients and called-in staff all move over the same roads, and what
matters for outcomes is how long they take, so this module answers one question many times
over: how many minutes from node ``a`` to node ``b``, along which nodes, and where is a vehicle
at minute ``t`` of its trip (for the map). It also builds that graph from the scenario's
``region`` section (inline nodes and roads, a synthetic grid city, or both) and lets exercise
injects close and reopen roads.

Choices, and why:

- **Backend.** Shortest paths come from :func:`scipy.sparse.csgraph.dijkstra` on a CSR matrix
  of the graph. On a 40x50 grid (2,000 nodes, 7,820 arcs) with 100 sources x all nodes,
  networkx's ``single_source_dijkstra_path_length`` took 237 ms, scipy 15 ms as 100 separate
  calls and 14 ms as one batched call (plus 2.6 ms to build the matrix once): about 15x faster.
  Both compute ``dist[u] + w`` in IEEE doubles and keep the minimum, so their floats are equal
  bit for bit (checked by the benchmark and by the tests against networkx).
- **Caches.** Each single-source result (``travel_from``) and single-target result
  (``travel_to``, Dijkstra on the reversed graph) is kept per node until a road closes or
  reopens. A cache hit never reruns Dijkstra. :meth:`Region.warm_from` fills many sources in
  one batched call.
- **One answer per question.** ``travel_min(a, b)`` is always read from the search out of ``a``,
  never from a cached search into ``b``: floating-point sums in a different order can differ in
  the last bit, and a result that depended on which caches happen to be warm would break
  bit-for-bit reproducibility when a policy change alters the order of queries.
- **Deterministic paths.** Among equally short paths, :meth:`Region.path` returns the one found
  by walking back from the destination and, at each node, stepping to the lowest-numbered
  predecessor that lies on a shortest path (``dist[u] + travel_min(u, v) == dist[v]`` exactly).
  That is the shortest path whose reversed node sequence is lexicographically smallest; the
  paths from one origin form a tree (every prefix of a returned path is itself the returned
  path), and the answer does not depend on the order in which roads were declared.
- **Parallel roads** between the same two nodes in the same direction are merged into one arc,
  the faster one (the first declared on a tie).
- **Coordinates** are km (``crs: km``) or longitude/latitude in degrees (``crs: lonlat``); they
  place nodes on the map and never enter travel times, which come from the roads' own
  ``travel_min`` or ``length_km``/``speed_kmh``. :func:`great_circle_km` is there for importers;
  a great-circle distance is an approximation of a road's length, and whoever uses it for a
  travel time must say so.
"""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from mcsim.enums import NodeKind
from mcsim.errors import InputError, echo
from mcsim.schema_base import StrictModel

if TYPE_CHECKING:
    import networkx as nx
    from scipy.sparse import csr_array

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), used by :func:`great_circle_km`."""

#: Most rows (and columns) of a generated grid city: 300 × 300 junctions validate in about 7 s
#: and 400 MB; a 2000 × 2000 grid would need tens of GB.
MAX_GRID_SIDE = 300

_Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
_Finite = Annotated[float, Field(allow_inf_nan=False)]


# --------------------------------------------------------------------------------------------
# Scenario part
# --------------------------------------------------------------------------------------------


class NodeSpec(StrictModel):
    """A named point of the region: a junction, or a place a scenario marks later.

    Attributes:
        id: unique name, used by roads and by the rest of the scenario.
        kind: what the node is; scenarios usually mark hospitals and stations themselves.
        x: easting in km, or longitude in degrees when the region's ``crs`` is ``lonlat``.
        y: northing in km, or latitude in degrees when the region's ``crs`` is ``lonlat``.
    """

    id: str = Field(min_length=1)
    kind: NodeKind = NodeKind.JUNCTION
    x: _Finite
    y: _Finite


class RoadSpec(StrictModel):
    """A road between two nodes, two-way unless ``oneway``.

    Its travel time is given in exactly one way: ``travel_min``, or ``length_km`` together
    with ``speed_kmh``.

    Attributes:
        from_: the node the road starts at (YAML key ``from``).
        to: the node it ends at.
        travel_min: minutes to drive it.
        length_km: its length, with ``speed_kmh``.
        speed_kmh: the speed driven on it, with ``length_km``.
        oneway: only ``from`` → ``to`` can be driven.
        name: a label for maps and exercise injects.
    """

    from_: str = Field(alias="from")
    to: str
    travel_min: _Positive | None = None
    length_km: _Positive | None = None
    speed_kmh: _Positive | None = None
    oneway: bool = False
    name: str | None = None

    @model_validator(mode="after")
    def _one_way_to_a_time(self) -> RoadSpec:
        how = "give the travel time exactly one way: travel_min, or length_km with speed_kmh"
        given = [
            k for k in ("travel_min", "length_km", "speed_kmh") if getattr(self, k) is not None
        ]
        if self.travel_min is not None and len(given) > 1:
            raise ValueError(f"{how}; got both ({', '.join(given)})")
        if self.travel_min is None and len(given) < 2:
            got = f"only {given[0]}" if given else "neither"
            raise ValueError(f"{how}; got {got}")
        return self

    @property
    def resolved_travel_min(self) -> float:
        """Minutes to drive the road, converted from length and speed when given that way."""
        if self.travel_min is not None:
            return self.travel_min
        assert self.length_km is not None and self.speed_kmh is not None  # the validator's
        return minutes_for(self.length_km, self.speed_kmh)


class GridCitySpec(StrictModel):
    """A synthetic city of ``rows`` x ``cols`` junctions joined by two-way streets.

    Junction ``r{row}c{col}`` sits at x = col·block_km, y = row·block_km and has a street to
    each of its 4-neighbours. Rows and columns whose index is a multiple of ``arterial_every``
    (0, k, 2k, ...) are arterials, driven at ``arterial_speed_kmh``.

    Attributes:
        kind: the generator's name, ``grid_city``.
        rows: number of rows of junctions.
        cols: number of columns of junctions.
        block_km: distance between neighbouring junctions.
        speed_kmh: speed on ordinary streets.
        arterial_every: every k-th row and column is an arterial; 0 means none.
        arterial_speed_kmh: speed on arterials; ``speed_kmh`` when not given.
    """

    kind: Literal["grid_city"]
    rows: int = Field(ge=2, le=MAX_GRID_SIDE)
    cols: int = Field(ge=2, le=MAX_GRID_SIDE)
    block_km: _Positive
    speed_kmh: _Positive
    arterial_every: int = Field(default=0, ge=0)
    arterial_speed_kmh: _Positive | None = None

    def junction_id(self, row: int, col: int) -> str:
        """The generated name of the junction at ``row``, ``col``."""
        return f"r{row}c{col}"

    def street_kmh(self, along_index: int) -> float:
        """Speed on the street that runs along row or column ``along_index``."""
        k = self.arterial_every
        if k and along_index % k == 0 and self.arterial_speed_kmh is not None:
            return self.arterial_speed_kmh
        return self.speed_kmh


class ClosedRoadSpec(StrictModel):
    """A road closed from the start (rubble, a collapsed bridge): it exists, but nobody drives it.

    An exercise inject can reopen it later.
    """

    from_: str = Field(alias="from")
    to: str
    oneway: bool = Field(default=False, description="close only the from → to direction")


class RegionTablesSpec(StrictModel):
    """A region as two Parquet tables (``region.file: {nodes: ..., roads: ...}``)."""

    nodes: str = Field(min_length=1, description="the nodes table (id, kind, x, y)")
    roads: str = Field(
        min_length=1,
        description="the roads table (from, to, travel_min | length_km + speed_kmh, oneway, name)",
    )


class RegionSpec(StrictModel):
    """The ``region`` section of a scenario: nodes and roads, generated, inline, or both.

    Nodes and roads listed inline are added after the generated ones, so a scenario can join,
    say, a stadium node to a generated grid with one road. Cross-references (duplicate ids,
    roads naming unknown nodes, loops) are checked by :func:`build_region`, which can name the
    offending field.

    Attributes:
        crs: units of the nodes' x/y: ``km``, or ``lonlat`` (degrees).
        file: a region file holding nodes and roads, relative to the scenario file
            (:mod:`mcsim.region_files`); read when the scenario file is, its nodes and roads
            placed before the explicit ones, so a validated scenario never holds it.
        generator: a synthetic network to start from.
        nodes: explicit nodes.
        roads: explicit roads.
        closed: roads (generated or explicit) closed from the start.
    """

    crs: Literal["km", "lonlat"] = "km"
    file: str | RegionTablesSpec | None = Field(
        default=None,
        description="nodes and roads in a file beside the scenario: GraphML (.graphml), "
        "GeoPackage (.gpkg, layers nodes and roads), or {nodes: N.parquet, roads: R.parquet}; "
        "read with the scenario file (docs/howto-own-region.md)",
    )
    generator: GridCitySpec | None = None
    nodes: list[NodeSpec] = Field(default_factory=list)
    roads: list[RoadSpec] = Field(default_factory=list)
    closed: list[ClosedRoadSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _file_read_with_its_scenario(self) -> RegionSpec:
        if self.file is not None:
            raise ValueError(
                "a region file is read relative to its scenario file: load the scenario from "
                "its file (mcsim.load_scenario(path), mcsim run FILE); as plain data (an "
                "upload, a dict) it needs its region inline"
            )
        return self


def minutes_for(length_km: float, speed_kmh: float) -> float:
    """Minutes to drive ``length_km`` at ``speed_kmh``.

    Multiplying before dividing keeps round figures exact (0.5 km at 30 km/h is exactly 1.0).
    """
    return 60.0 * length_km / speed_kmh


@dataclass(frozen=True, slots=True)
class _Arc:
    """One directed arc before merging: node numbers and what is known about it."""

    u: int
    v: int
    travel_min: float
    length_km: float | None
    name: str | None


def build_region(spec: RegionSpec) -> Region:
    """Build the graph a :class:`RegionSpec` describes and wrap it in a :class:`Region`.

    Node numbers follow declaration order: generated junctions first (row-major), then the
    explicit nodes.

    Args:
        spec: the validated region section.

    Returns:
        The region.

    Raises:
        InputError: the first of :func:`region_problems`, with ``more`` counting the rest;
            ``path`` is relative to the region section (``roads[3].to``), and the caller adds
            the section's own path and the file name.
    """
    parts = _assemble(spec)
    if parts.problems:
        path, message = parts.problems[0]
        raise InputError(message, path=path, more=len(parts.problems) - 1)
    import networkx as nx  # on first use: the schema and its JSON Schema need no graph

    graph = nx.DiGraph()
    for i, (name, kind, (x, y)) in enumerate(
        zip(parts.names, parts.kinds, parts.coords, strict=True)
    ):
        graph.add_node(i, name=name, kind=kind, x=float(x), y=float(y))
    for arc in parts.arcs:
        _add_faster(graph, arc)
    region = Region(graph, crs=spec.crs)
    number = {name: i for i, name in enumerate(parts.names)}
    for closed in spec.closed:
        region.close_road(number[closed.from_], number[closed.to], directed=closed.oneway)
    return region


@dataclass(frozen=True, slots=True)
class RegionNodes:
    """A region's node names and kinds, without its graph: what references are checked against.

    It answers :meth:`Region.n_nodes`, ``name``, ``index`` and ``kind`` as the built region
    would, so that checking a scenario's references (``mcsim validate``) needs neither networkx
    nor shortest paths.
    """

    names: list[str]
    kinds: list[NodeKind]
    numbers: dict[str, int]

    @property
    def n_nodes(self) -> int:
        """How many nodes the region has."""
        return len(self.names)

    def name(self, i: int) -> str:
        """The name of node ``i``."""
        return self.names[i]

    def index(self, name: str) -> int:
        """The node number of ``name`` (KeyError if there is none)."""
        return self.numbers[name]

    def kind(self, i: int) -> NodeKind:
        """What node ``i`` is."""
        return self.kinds[i]


def reachable_names(spec: RegionSpec, start: str) -> set[str]:
    """Names of the nodes one can drive to from ``start`` on the open roads (``start`` too).

    A breadth-first search over the declared arcs less the closed ones, in plain Python: what
    ``mcsim validate`` warns about needs neither networkx nor shortest paths.
    """
    parts = _assemble(spec)
    number = {name: i for i, name in enumerate(parts.names)}
    closed = set()
    for c in spec.closed:
        u, v = number.get(c.from_), number.get(c.to)
        closed.add((u, v))
        if not c.oneway:
            closed.add((v, u))
    out: dict[int, list[int]] = {}
    for arc in parts.arcs:
        if (arc.u, arc.v) not in closed:
            out.setdefault(arc.u, []).append(arc.v)
    seen = {number[start]}
    frontier = [number[start]]
    while frontier:
        nxt = []
        for u in frontier:
            for v in out.get(u, ()):
                if v not in seen:
                    seen.add(v)
                    nxt.append(v)
        frontier = nxt
    return {parts.names[i] for i in seen}


def region_nodes(spec: RegionSpec) -> RegionNodes:
    """The nodes :func:`build_region` would number, checked as it checks them.

    Raises:
        InputError: as :func:`build_region`.
    """
    parts = _assemble(spec)
    if parts.problems:
        path, message = parts.problems[0]
        raise InputError(message, path=path, more=len(parts.problems) - 1)
    return RegionNodes(parts.names, parts.kinds, {n: i for i, n in enumerate(parts.names)})


def region_problems(spec: RegionSpec) -> list[tuple[str, str]]:
    """Every cross-reference problem of a region section, as (path, message), in file order.

    Duplicate node ids, roads naming unknown nodes, loops, a grid generator in a ``lonlat``
    region, and a region without nodes. Paths are relative to the region section.
    """
    return _assemble(spec).problems


@dataclass(slots=True)
class _Parts:
    """What a region section declares, in declaration order, and what is wrong with it."""

    problems: list[tuple[str, str]]
    names: list[str]
    kinds: list[NodeKind]
    coords: list[tuple[float, float]]
    arcs: list[_Arc]


def _assemble(spec: RegionSpec) -> _Parts:
    problems: list[tuple[str, str]] = []
    names: list[str] = []
    kinds: list[NodeKind] = []
    coords: list[tuple[float, float]] = []
    declared_at: dict[str, str] = {}
    arcs: list[_Arc] = []

    grid = spec.generator
    if grid is not None:
        if spec.crs != "km":
            problems.append(
                ("generator", "the grid_city generator lays junctions out in km; use crs: km")
            )
        for r in range(grid.rows):
            for c in range(grid.cols):
                declared_at[grid.junction_id(r, c)] = "generator"
                names.append(grid.junction_id(r, c))
                kinds.append(NodeKind.JUNCTION)
                coords.append((c * grid.block_km, r * grid.block_km))
        arcs.extend(_grid_arcs(grid))

    for i, node in enumerate(spec.nodes):
        where = f"nodes[{i}]"
        if node.id in declared_at:
            first = declared_at[node.id]
            also = "a junction made by the generator" if first == "generator" else first
            problems.append((f"{where}.id", f"duplicate node id {echo(node.id)} (also {also})"))
            continue
        declared_at[node.id] = where
        names.append(node.id)
        kinds.append(node.kind)
        coords.append((node.x, node.y))

    if not names:
        problems.append(("nodes", "the region has no nodes; give a generator or nodes"))

    number = {name: i for i, name in enumerate(names)}
    for i, road in enumerate(spec.roads):
        ends = []
        for key, node_id in (("from", road.from_), ("to", road.to)):
            if node_id not in number:
                problems.append((f"roads[{i}].{key}", _unknown_node(node_id, names)))
            ends.append(number.get(node_id))
        u, v = ends
        if u is None or v is None:
            continue
        if u == v:
            problems.append((f"roads[{i}].to", f"road from {echo(road.from_)} to itself"))
            continue
        minutes = road.resolved_travel_min
        arcs.append(_Arc(u, v, minutes, road.length_km, road.name))
        if not road.oneway:
            arcs.append(_Arc(v, u, minutes, road.length_km, road.name))

    declared = {(arc.u, arc.v) for arc in arcs}
    seen: set[tuple[str, str]] = set()
    for i, closed in enumerate(spec.closed):
        if (closed.from_, closed.to) in seen:
            problems.append(
                (f"closed[{i}]", f"{echo(closed.from_)} to {echo(closed.to)} closed twice")
            )
            continue
        seen.add((closed.from_, closed.to))
        ends = []
        for key, node_id in (("from", closed.from_), ("to", closed.to)):
            if node_id not in number:
                problems.append((f"closed[{i}].{key}", _unknown_node(node_id, names)))
            ends.append(number.get(node_id))
        u, v = ends
        if u is not None and v is not None and (u, v) not in declared:
            problems.append(
                (f"closed[{i}]", f"there is no road from {echo(closed.from_)} to {echo(closed.to)}")
            )

    return _Parts(problems, names, kinds, coords, arcs)


def _grid_arcs(grid: GridCitySpec) -> list[_Arc]:
    """The two-way streets of a grid city, row-major, each as two arcs."""
    arcs = []
    for r in range(grid.rows):
        for c in range(grid.cols):
            here = r * grid.cols + c
            if c + 1 < grid.cols:  # street along row r
                minutes = minutes_for(grid.block_km, grid.street_kmh(r))
                arcs += [
                    _Arc(here, here + 1, minutes, grid.block_km, None),
                    _Arc(here + 1, here, minutes, grid.block_km, None),
                ]
            if r + 1 < grid.rows:  # street along column c
                minutes = minutes_for(grid.block_km, grid.street_kmh(c))
                below = here + grid.cols
                arcs += [
                    _Arc(here, below, minutes, grid.block_km, None),
                    _Arc(below, here, minutes, grid.block_km, None),
                ]
    return arcs


def _add_faster(graph: nx.DiGraph, arc: _Arc) -> None:
    """Add ``arc``, or keep the arc already there if it is as fast or faster."""
    old = graph.get_edge_data(arc.u, arc.v)
    if old is not None and old["travel_min"] <= arc.travel_min:
        return
    attrs: dict[str, Any] = {"travel_min": arc.travel_min}
    if arc.length_km is not None:
        attrs["length_km"] = arc.length_km
    if arc.name is not None:
        attrs["name"] = arc.name
    if old is not None:
        graph.remove_edge(arc.u, arc.v)  # drop the slower arc's length and name with it
    graph.add_edge(arc.u, arc.v, **attrs)


def _unknown_node(name: str, known: Sequence[str]) -> str:
    message = f"unknown node {echo(name)}"
    close = difflib.get_close_matches(name, known, n=1)
    return message + (f"; did you mean {echo(close[0])}?" if close else "")


def great_circle_km(
    lon1: float | np.ndarray,
    lat1: float | np.ndarray,
    lon2: float | np.ndarray,
    lat2: float | np.ndarray,
) -> float | np.ndarray:
    """Great-circle distance in km between points given in degrees (haversine formula).

    The Earth is taken as a sphere of radius :data:`EARTH_RADIUS_KM`; the error against the
    ellipsoid is below 0.5 %. Roads are longer than the straight line between their ends, so a
    travel time derived from this distance is an approximation and must be presented as one.
    Works elementwise on numpy arrays.

    Args:
        lon1: longitude of the first point.
        lat1: latitude of the first point.
        lon2: longitude of the second point.
        lat2: latitude of the second point.

    Returns:
        The distance in km.
    """
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    half_dphi = (phi2 - phi1) / 2.0
    half_dlambda = np.radians(np.subtract(lon2, lon1)) / 2.0
    a = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlambda) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


# --------------------------------------------------------------------------------------------
# The travel-time oracle
# --------------------------------------------------------------------------------------------


class Region:
    """A directed road graph with integer nodes 0..n-1 and cached shortest travel times.

    Build one with :func:`build_region` or :meth:`from_graph`. Node attributes: ``name``,
    ``kind`` (:class:`NodeKind`), ``x``, ``y``; arc attributes: ``travel_min``, and
    ``length_km`` and ``name`` where known. Change the graph only through :meth:`set_kind`,
    :meth:`close_road` and :meth:`reopen_road`, which keep the caches honest.
    """

    def __init__(self, graph: nx.DiGraph, *, crs: Literal["km", "lonlat"] = "km") -> None:
        """Wrap a graph already in the region's form (what the builders produce).

        Args:
            graph: a ``DiGraph`` whose nodes are exactly 0..n-1, with the attributes above;
                the region takes ownership of it.
            crs: units of x/y, ``km`` or ``lonlat``.

        Raises:
            ValueError: the nodes are not 0..n-1, or two nodes share a name.
        """
        n = graph.number_of_nodes()
        if sorted(graph.nodes) != list(range(n)):
            raise ValueError("a Region's graph must have the nodes 0..n-1; use from_graph")
        self._graph = graph
        self._view = graph.copy(as_view=True)
        self._crs = crs
        self._n = n
        self._names = [str(graph.nodes[i]["name"]) for i in range(n)]
        self._index = {name: i for i, name in enumerate(self._names)}
        if len(self._index) != n:
            raise ValueError("node names must be unique")
        xy = np.array([(graph.nodes[i]["x"], graph.nodes[i]["y"]) for i in range(n)], float)
        self._xy = xy.reshape(n, 2)
        self._xy.flags.writeable = False
        self._closed: dict[tuple[int, int], dict[str, Any]] = {}
        self._forward: csr_array | None = None
        self._reverse: csr_array | None = None
        self._from_cache: dict[int, np.ndarray] = {}
        self._to_cache: dict[int, np.ndarray] = {}

    @classmethod
    def from_graph(cls, graph: nx.Graph, *, crs: Literal["km", "lonlat"] = "km") -> Region:
        """A region from any networkx graph (tests, importers).

        Nodes are numbered in the graph's node order; a node's ``name`` attribute, or else
        ``str(node)``, is its name. Every node needs ``x`` and ``y`` and may have ``kind``;
        every edge needs ``travel_min`` and may have ``length_km`` and ``name``. Undirected
        edges become two arcs; parallel edges (multigraphs) keep the faster.

        Args:
            graph: the graph; it is not modified.
            crs: units of x/y.

        Returns:
            The region.

        Raises:
            InputError: a missing or bad attribute, duplicate names, or a loop.
        """
        import networkx as nx

        number = {node: i for i, node in enumerate(graph.nodes)}
        out = nx.DiGraph()
        for node, i in number.items():
            attrs = graph.nodes[node]
            try:
                x, y = float(attrs["x"]), float(attrs["y"])
                kind = NodeKind(attrs.get("kind", NodeKind.JUNCTION))
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(
                    f"node {echo(node)}: needs numeric x and y and a valid kind ({exc})"
                ) from None
            if not (math.isfinite(x) and math.isfinite(y)):
                raise InputError(f"node {echo(node)}: x and y must be finite")
            out.add_node(i, name=str(attrs.get("name", node)), kind=kind, x=x, y=y)
        for a, b, attrs in graph.edges(data=True):
            if a == b:
                raise InputError(f"edge {echo(a)} -> {echo(b)}: a road from a node to itself")
            minutes = _positive(attrs.get("travel_min"), f"edge {echo(a)} -> {echo(b)}: travel_min")
            length = attrs.get("length_km")
            if length is not None:
                length = _positive(length, f"edge {echo(a)} -> {echo(b)}: length_km")
            pairs = [(a, b)] if graph.is_directed() else [(a, b), (b, a)]
            for u, v in pairs:
                arc = _Arc(number[u], number[v], minutes, length, attrs.get("name"))
                _add_faster(out, arc)
        names = [out.nodes[i]["name"] for i in range(len(number))]
        if len(set(names)) != len(names):
            dup = next(name for name in names if names.count(name) > 1)
            raise InputError(f"duplicate node name {echo(dup)}")
        return cls(out, crs=crs)

    # --- nodes ---------------------------------------------------------------------------

    @property
    def graph(self) -> nx.DiGraph:
        """A read-only view of the road graph (open roads only)."""
        return self._view

    @property
    def crs(self) -> Literal["km", "lonlat"]:
        """Units of the nodes' x/y: ``km`` or ``lonlat``."""
        return self._crs

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return self._n

    @property
    def positions(self) -> np.ndarray:
        """A read-only nx2 array of the nodes' (x, y)."""
        return self._xy

    def index(self, name: str) -> int:
        """The node number of ``name``.

        Raises:
            InputError: no node has that name.
        """
        try:
            return self._index[name]
        except KeyError:
            raise InputError(_unknown_node(name, self._names)) from None

    def name(self, i: int) -> str:
        """The name of node ``i``."""
        return self._names[self._node(i)]

    def kind(self, i: int) -> NodeKind:
        """What node ``i`` is."""
        return self._graph.nodes[self._node(i)]["kind"]

    def set_kind(self, i: int, kind: NodeKind) -> None:
        """Mark node ``i`` as ``kind`` (a scenario marks its hospitals, stations, incidents)."""
        self._graph.nodes[self._node(i)]["kind"] = NodeKind(kind)

    def xy(self, i: int) -> tuple[float, float]:
        """The coordinates of node ``i``."""
        x, y = self._xy[self._node(i)]
        return float(x), float(y)

    def nodes_of_kind(self, kind: NodeKind) -> list[int]:
        """The nodes of ``kind``, in increasing order."""
        return [i for i, k in self._graph.nodes(data="kind") if k is kind]

    # --- travel times --------------------------------------------------------------------

    def travel_min(self, a: int, b: int) -> float:
        """Shortest travel time from ``a`` to ``b`` in minutes; ``math.inf`` if unreachable.

        Always read from the search out of ``a`` (see the module docstring for why).
        """
        return float(self.travel_from(a)[self._node(b)])

    def travel_from(self, a: int) -> np.ndarray:
        """A read-only array of the travel minutes from ``a`` to every node (inf: unreachable)."""
        a = self._node(a)
        dist = self._from_cache.get(a)
        if dist is None:
            self.warm_from([a])
            dist = self._from_cache[a]
        return dist

    def travel_to(self, b: int) -> np.ndarray:
        """A read-only array of the travel minutes from every node to ``b``.

        Computed by one Dijkstra on the reversed graph; entry ``a`` equals
        ``travel_min(a, b)`` up to the order in which floats were added (last-bit differences
        are possible when the travel times are not exactly representable).
        """
        b = self._node(b)
        dist = self._to_cache.get(b)
        if dist is None:
            self.warm_to([b])
            dist = self._to_cache[b]
        return dist

    def warm_from(self, sources: Iterable[int]) -> None:
        """Compute ``travel_from`` for every source not cached yet, in one batched call."""
        self._warm(sources, self._from_cache, reverse=False)

    def warm_to(self, targets: Iterable[int]) -> None:
        """Compute ``travel_to`` for every target not cached yet, in one batched call."""
        self._warm(targets, self._to_cache, reverse=True)

    def _warm(self, nodes: Iterable[int], cache: dict[int, np.ndarray], *, reverse: bool) -> None:
        todo = sorted({self._node(i) for i in nodes} - cache.keys())
        if not todo:
            return
        dist = np.atleast_2d(dijkstra(self._matrix(reverse), directed=True, indices=todo))
        dist.flags.writeable = False
        for row, node in zip(dist, todo, strict=True):
            cache[node] = row

    def path(self, a: int, b: int) -> list[int]:
        """The nodes of a shortest path from ``a`` to ``b``, both included.

        Ties are broken towards lower node numbers as the module docstring describes, so the
        same question always gets the same path.

        Raises:
            ValueError: ``b`` cannot be reached from ``a`` (check :meth:`travel_min` first).
        """
        a, b = self._node(a), self._node(b)
        dist = self.travel_from(a)
        if not math.isfinite(dist[b]):
            raise ValueError(f"no route from {echo(self._names[a])} to {echo(self._names[b])}")
        fallback: np.ndarray | None = None
        nodes = [b]
        v = b
        while v != a:
            dist_v = dist[v]
            step = -1
            for u, attrs in self._graph.pred[v].items():
                dist_u = dist[u]
                on_shortest = dist_u < dist_v and dist_u + attrs["travel_min"] == dist_v
                if on_shortest and (step < 0 or u < step):
                    step = u
            if step < 0:
                # Only when an arc is shorter than the float resolution of the time it is added
                # to (dist_u == dist_v); scipy's predecessor tree is acyclic, so follow it there.
                if fallback is None:
                    _, fallback = dijkstra(
                        self._matrix(False), directed=True, indices=a, return_predecessors=True
                    )
                step = int(fallback[v])
            nodes.append(step)
            v = step
        nodes.reverse()
        return nodes

    def nearest(self, origin: int, candidates: Iterable[int]) -> int | None:
        """The candidate reached soonest from ``origin``.

        Ties go to the lowest node number, whatever the order of ``candidates``; unreachable
        candidates are skipped.

        Returns:
            The candidate's node number, or None if there is no reachable candidate.
        """
        return _argmin(self.travel_from(origin), (self._node(c) for c in candidates))

    def nearest_to(self, target: int, candidates: Iterable[int]) -> int | None:
        """The candidate from which ``target`` is reached soonest (e.g. the closest ambulance).

        Uses :meth:`travel_to` (one search, whatever the number of candidates); ties go to the
        lowest node number; unreachable candidates are skipped.

        Returns:
            The candidate's node number, or None if no candidate reaches ``target``.
        """
        return _argmin(self.travel_to(target), (self._node(c) for c in candidates))

    # --- closures ------------------------------------------------------------------------

    def close_road(self, a: int, b: int, *, directed: bool = False) -> None:
        """Close the road between ``a`` and ``b``: arc a→b, and b→a too unless ``directed``.

        Clears the travel-time caches.

        Raises:
            InputError: there is no open road between them.
        """
        arcs = self._arcs_between(a, b, directed)
        open_arcs = [arc for arc in arcs if self._graph.has_edge(*arc)]
        if not open_arcs:
            raise InputError(
                f"no open road from {echo(self._names[arcs[0][0]])} to "
                f"{echo(self._names[arcs[0][1]])} to close"
            )
        for u, v in open_arcs:
            self._closed[(u, v)] = dict(self._graph.edges[u, v])
            self._graph.remove_edge(u, v)
        self._clear()

    def reopen_road(self, a: int, b: int, *, directed: bool = False) -> None:
        """Reopen what :meth:`close_road` closed: arc a→b, and b→a too unless ``directed``.

        Clears the travel-time caches.

        Raises:
            InputError: there is no closed road between them.
        """
        arcs = self._arcs_between(a, b, directed)
        closed = [arc for arc in arcs if arc in self._closed]
        if not closed:
            raise InputError(
                f"no closed road from {echo(self._names[arcs[0][0]])} to "
                f"{echo(self._names[arcs[0][1]])} to reopen"
            )
        for u, v in closed:
            self._graph.add_edge(u, v, **self._closed.pop((u, v)))
        self._clear()

    @property
    def closed_roads(self) -> list[tuple[int, int]]:
        """The closed arcs (from, to), sorted; a closed two-way road appears as two arcs."""
        return sorted(self._closed)

    def _arcs_between(self, a: int, b: int, directed: bool) -> list[tuple[int, int]]:
        a, b = self._node(a), self._node(b)
        return [(a, b)] if directed else [(a, b), (b, a)]

    def _clear(self) -> None:
        self._forward = self._reverse = None
        self._from_cache.clear()
        self._to_cache.clear()

    # --- movement ------------------------------------------------------------------------

    def position_along(
        self, path: Sequence[int], depart_min: float, arrive_min: float, now_min: float
    ) -> tuple[float, float]:
        """Where a vehicle following ``path`` is at ``now_min``, for the map.

        Progress is shared among the arcs in proportion to their travel times and stretched to
        the trip's actual duration (which may include travel noise); within an arc the position
        is interpolated linearly. Before departure the vehicle is at the first node, after
        arrival at the last. Closed arcs keep the travel time they had when open, so a
        vehicle already on its way can still be drawn.

        Args:
            path: the nodes of the trip, as :meth:`path` returns them.
            depart_min: when the vehicle left ``path[0]``.
            arrive_min: when it reaches ``path[-1]``.
            now_min: the time asked about.

        Returns:
            (x, y) in the region's ``crs``.

        Raises:
            ValueError: an empty path, two consecutive nodes without an arc, or arrival before
                departure.
        """
        if not path:
            raise ValueError("position_along needs a path with at least one node")
        if arrive_min < depart_min:
            raise ValueError(f"arrive_min {arrive_min} is before depart_min {depart_min}")
        if len(path) == 1 or now_min <= depart_min:
            return self.xy(path[0])
        if now_min >= arrive_min:
            return self.xy(path[-1])
        legs = [self._arc_travel_min(u, v) for u, v in pairwise(path)]
        elapsed = np.concatenate(([0.0], np.cumsum(legs)))
        progress = (now_min - depart_min) / (arrive_min - depart_min) * elapsed[-1]
        nodes = [self._node(i) for i in path]
        x = np.interp(progress, elapsed, self._xy[nodes, 0])
        y = np.interp(progress, elapsed, self._xy[nodes, 1])
        return float(x), float(y)

    def _arc_travel_min(self, u: int, v: int) -> float:
        attrs = self._graph.get_edge_data(u, v) or self._closed.get((u, v))
        if attrs is None:
            raise ValueError(f"no road from node {u} to node {v}")
        return attrs["travel_min"]

    # --- internals -----------------------------------------------------------------------

    def _node(self, i: int) -> int:
        j = operator.index(i)
        if not 0 <= j < self._n:
            raise IndexError(f"node {i} is not in 0..{self._n - 1}")
        return j

    def _matrix(self, reverse: bool) -> csr_array:
        """The CSR matrix of open arcs' travel times (transposed for ``reverse``), built lazily."""
        if self._forward is None:
            from scipy.sparse import csr_array

            n = self._n
            edges = list(self._graph.edges(data="travel_min"))
            u = np.fromiter((e[0] for e in edges), np.int64, len(edges))
            v = np.fromiter((e[1] for e in edges), np.int64, len(edges))
            w = np.fromiter((e[2] for e in edges), np.float64, len(edges))
            self._forward = csr_array((w, (u, v)), shape=(n, n))
            self._reverse = csr_array((w, (v, u)), shape=(n, n))
        return self._reverse if reverse else self._forward


def _positive(value: Any, what: str) -> float:
    """``value`` as a positive finite float, or an InputError naming ``what``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not 0.0 < number < math.inf:
        raise InputError(f"{what} must be a positive finite number, got {echo(value)}")
    return number


def dijkstra(*args: Any, **kwargs: Any) -> Any:
    """SciPy's :func:`~scipy.sparse.csgraph.dijkstra`, imported on first use.

    Validating a scenario needs no SciPy; and this is one name the tests can wrap to count the
    searches.
    """
    from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

    return scipy_dijkstra(*args, **kwargs)


def _argmin(dist: np.ndarray, candidates: Iterable[int]) -> int | None:
    best: int | None = None
    for c in candidates:
        t = dist[c]
        if t == math.inf:
            continue
        if best is None or t < dist[best] or (t == dist[best] and c < best):
            best = c
    return best
