"""Convert an OpenStreetMap XML extract (``.osm`` or ``.osm.bz2``) to osmnx-style GraphML.

Used by the tests to turn the real West Oakland extract (tests/data/osm/, ODbL) into the GraphML
that ``mcsim region import --graphml`` reads, without depending on osmnx. The output follows
what ``osmnx.save_graphml`` writes for an *unsimplified* graph (``simplify=False``): a directed
multigraph, nodes with ``x`` (longitude), ``y`` (latitude) and ``street_count``; edges with
``osmid``, ``highway``, ``oneway``, ``length`` (metres, haversine between the two nodes on a
sphere of radius 6,371,009 m as osmnx uses), and ``name``/``maxspeed`` when tagged; every value
stored as a string; a two-way street is two edges, one each way.

Ways kept: those whose ``highway`` tag is a road a vehicle drives (:data:`DRIVABLE`); footways,
cycleways, paths and steps are left out.

Usage::

    .venv/bin/python tools/osm_to_graphml.py tests/data/osm/West-Oakland.osm.bz2 out.graphml
"""

from __future__ import annotations

import bz2
import math
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx

#: ``highway`` values kept (osmnx's "drive_service" network, roughly).
DRIVABLE = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
    }
)

EARTH_RADIUS_M = 6_371_009.0
"""The radius osmnx's ``great_circle`` uses (metres)."""


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (osmnx's formula and radius)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def read_osm(path: str | Path) -> ET.Element:
    """The root element of an OSM XML file, bz2-compressed or not."""
    p = Path(path)
    data = bz2.decompress(p.read_bytes()) if p.suffix == ".bz2" else p.read_bytes()
    return ET.fromstring(data)


def osm_to_graph(root: ET.Element) -> nx.MultiDiGraph:
    """The drivable street graph of an OSM XML document, in osmnx's unsimplified form."""
    coords = {n.get("id"): (float(n.get("lat")), float(n.get("lon"))) for n in root.iter("node")}
    g = nx.MultiDiGraph(crs="epsg:4326", simplified="False", created_with="tools/osm_to_graphml.py")
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        if tags.get("highway") not in DRIVABLE or tags.get("area") == "yes":
            continue
        refs = [nd.get("ref") for nd in way.iter("nd") if nd.get("ref") in coords]
        oneway = tags.get("oneway", "no")
        if oneway == "-1":
            refs.reverse()
        is_oneway = oneway in ("yes", "true", "1", "-1")
        for u, v in zip(refs, refs[1:], strict=False):
            if u == v:
                continue
            for node in (u, v):
                if node not in g:
                    lat, lon = coords[node]
                    g.add_node(node, y=str(lat), x=str(lon))
            length = haversine_m(*coords[u], *coords[v])
            attrs = {
                "osmid": way.get("id"),
                "highway": tags["highway"],
                "oneway": str(is_oneway),
                "length": repr(round(length, 3)),
            }
            for key in ("name", "maxspeed"):
                if key in tags:
                    attrs[key] = tags[key]
            g.add_edge(u, v, **attrs, reversed="False")
            if not is_oneway:
                g.add_edge(v, u, **attrs, reversed="True")
    for node in g.nodes:
        g.nodes[node]["street_count"] = str(
            len(set(g.successors(node)) | set(g.predecessors(node)))
        )
    return g


def convert(src: str | Path, dst: str | Path) -> nx.MultiDiGraph:
    """Read ``src`` (OSM XML), write ``dst`` (GraphML), and return the graph."""
    g = osm_to_graph(read_osm(src))
    nx.write_graphml(g, dst)
    return g


def main(argv: list[str]) -> int:
    """``osm_to_graphml.py SRC DST``."""
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    g = convert(argv[0], argv[1])
    print(f"{argv[1]}: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
