"""Road networks from OpenStreetMap through osmnx (the optional ``[osm]`` extra).

``mcsim region import`` reads road networks without osmnx (GraphML that osmnx or
``tools/osm_to_graphml.py`` wrote). With osmnx installed it also takes them straight from
OpenStreetMap:

- ``--place "Oakland, California"`` or ``--bbox W,S,E,N`` download the *drive* network (roads a
  car may use) from the Overpass API; this needs internet access, and the download's time and
  errors are osmnx's.
- ``--osm FILE`` reads an OSM XML extract the user already has (``.osm``, ``.osm.bz2``) with
  ``osmnx.graph_from_xml``, offline. osmnx reads every way of the file, so the ways whose
  ``highway`` type is not a road a vehicle drives (footways, cycleways, steps) are dropped here,
  the same set as :data:`mcsim.region_import.DEFAULT_SPEED_KMH_BY_HIGHWAY` lists, and the
  graph is then simplified as osmnx does by default (junctions and dead ends kept, the nodes in
  between merged into their edge).

A graph in a projected CRS is reprojected to longitude/latitude (EPSG:4326) first. From there
on the graph goes the way a GraphML file goes (:func:`mcsim.region_import.network_from_graph`):
travel times from ``length`` and ``maxspeed`` or the ``highway`` default, the largest strongly
connected part kept.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcsim.errors import InputError, echo, shorten
from mcsim.region_import import DEFAULT_SPEED_KMH_BY_HIGHWAY, ImportParams, _first_highway

if TYPE_CHECKING:
    import networkx as nx

    from mcsim.region_import import RoadNetwork

#: The drivable ``highway`` types kept from an OSM file (the types with a default speed).
DRIVABLE = frozenset(DEFAULT_SPEED_KMH_BY_HIGHWAY)


def require_osmnx(option: str) -> Any:
    """osmnx, or an InputError telling the user to install the ``[osm]`` extra."""
    try:
        import osmnx
    except ImportError:
        raise InputError(
            f"{option} needs osmnx: pip install 'mcsim[osm]' (or convert the roads to GraphML "
            "with tools/osm_to_graphml.py and give --graphml)",
            path=option,
        ) from None
    return osmnx


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``W,S,E,N`` in degrees (osmnx's ``(left, bottom, right, top)``).

    Raises:
        InputError: not four finite numbers, out of range, or an empty box.
    """
    parts = text.split(",")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise InputError(
            f"give WEST,SOUTH,EAST,NORTH in degrees, got {echo(text)}", path="--bbox"
        ) from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise InputError(f"the box must be finite numbers, got {echo(text)}", path="--bbox")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise InputError(
            f"need -180 <= WEST < EAST <= 180 and -90 <= SOUTH < NORTH <= 90, got {echo(text)}",
            path="--bbox",
        )
    return west, south, east, north


def drive_graph_from_xml(path: str | Path) -> nx.MultiDiGraph:
    """The drivable roads of an OSM XML file, simplified, as osmnx builds them.

    Raises:
        InputError: no osmnx, an unreadable file, or no drivable road in it.
    """
    from mcsim.safeio import MAX_BINARY_BYTES, check_input

    ox = require_osmnx("--osm")
    file = str(path)
    p = check_input(path, what="OSM XML file", max_bytes=MAX_BINARY_BYTES)
    try:
        g = ox.graph_from_xml(p, simplify=False, retain_all=True)
    except Exception as exc:  # osmnx and expat raise many kinds; all mean "cannot read it"
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"not a readable OSM XML file ({shorten(text, 120)})", file=file) from None
    drop = [
        (u, v, k)
        for u, v, k, hw in g.edges(keys=True, data="highway")
        if _first_highway(hw) not in DRIVABLE
    ]
    g.remove_edges_from(drop)
    g.remove_nodes_from([n for n in list(g.nodes) if g.degree(n) == 0])
    if g.number_of_edges() == 0:
        kept = ", ".join(sorted(DRIVABLE))
        raise InputError(f"no drivable road in the file (highway types kept: {kept})", file=file)
    return ox.simplify_graph(g)


def download_drive_graph(*, place: str | None, bbox: str | None) -> tuple[nx.MultiDiGraph, str]:
    """The drive network of ``place`` or ``bbox`` from OpenStreetMap (internet access).

    Returns:
        The graph, and a label of where it came from for messages and the scenario header.

    Raises:
        InputError: no osmnx, a bad box, or a failed download (osmnx's own message).
    """
    option = "--place" if place is not None else "--bbox"
    ox = require_osmnx(option)
    try:
        if place is not None:
            label = f"OpenStreetMap, drive network of {place!r}"
            g = ox.graph_from_place(place, network_type="drive")
        else:
            box = parse_bbox(bbox or "")
            label = f"OpenStreetMap, drive network in bbox {','.join(map(str, box))}"
            g = ox.graph_from_bbox(box, network_type="drive")
    except InputError:
        raise
    except Exception as exc:  # no network, a place Nominatim does not know, an empty box
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"cannot get the roads from OpenStreetMap: {shorten(text, 160)}", path=option
        ) from None
    return g, label


def to_lonlat(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """``g`` with its nodes in EPSG:4326 (reprojected if it is in another CRS)."""
    crs = g.graph.get("crs")
    if crs is None:
        return g
    from pyproj import CRS

    if CRS.from_user_input(crs).to_epsg() == 4326:
        return g
    ox = require_osmnx("--osm")
    return ox.project_graph(g, to_latlong=True)


def osm_network(
    *,
    osm: str | Path | None = None,
    place: str | None = None,
    bbox: str | None = None,
    params: ImportParams | None = None,
) -> tuple[RoadNetwork, str]:
    """A road network from an OSM file, a place name or a box, through osmnx.

    Returns:
        The network in scenario terms, and where it came from (for the file's header).
    """
    from mcsim.region_import import network_from_graph

    given = [name for name, v in (("--osm", osm), ("--place", place), ("--bbox", bbox)) if v]
    if len(given) != 1:
        raise InputError("give one of --osm, --place and --bbox", path=given[-1] if given else None)
    if osm is not None:
        g, label, file = drive_graph_from_xml(osm), f"OSM file: {osm}", str(osm)
    else:
        g, label = download_drive_graph(place=place, bbox=bbox)
        file = given[0]
    network = network_from_graph(to_lonlat(g), file=file, params=params or ImportParams())
    return network, label
