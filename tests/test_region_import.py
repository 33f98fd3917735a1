"""Bring your own region: GraphML roads, CSV/GeoJSON facilities, straight-line fallback, errors.

The road-network tests use a real OpenStreetMap extract (tests/data/osm/West-Oakland.osm.bz2,
© OpenStreetMap contributors, ODbL 1.0), converted to osmnx-style GraphML by
tools/osm_to_graphml.py, and check imported travel times against ones computed here by hand
from the raw XML.
"""

from __future__ import annotations

import bz2
import importlib.util
import json
import math
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest

import mcsim
from mcsim.cli import main
from mcsim.errors import InputError
from mcsim.region import build_region
from mcsim.region_import import (
    DEFAULT_SPEED_KMH_BY_HIGHWAY,
    ImportParams,
    build_scenario,
    import_region,
    parse_incident,
    parse_maxspeed,
    parse_trauma_level,
    read_graphml,
    read_places,
)
from mcsim.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
OSM = REPO / "tests" / "data" / "osm" / "West-Oakland.osm.bz2"
LAS_VEGAS = REPO / "tests" / "data" / "regions" / "las_vegas_2017.csv"


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def oakland_graphml(tmp_path_factory) -> Path:
    """The West Oakland extract as osmnx-style GraphML."""
    out = tmp_path_factory.mktemp("osm") / "west_oakland.graphml"
    _tool("osm_to_graphml").convert(OSM, out)
    return out


@pytest.fixture(scope="module")
def osm_xml() -> ET.Element:
    return ET.fromstring(bz2.decompress(OSM.read_bytes()))


def _hand_haversine_m(lat1, lon1, lat2, lon2):
    r = 6_371_009.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * r * math.asin(math.sqrt(a))


def _first_segment(root: ET.Element, highway: str) -> tuple[str, str, float, bool]:
    """(u, v, metres, oneway) of the first segment over 40 m of a way of this highway type."""
    coords = {n.get("id"): (float(n.get("lat")), float(n.get("lon"))) for n in root.iter("node")}
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        if tags.get("highway") == highway:
            refs = [nd.get("ref") for nd in way.iter("nd")]
            for u, v in zip(refs, refs[1:], strict=False):
                metres = _hand_haversine_m(*coords[u], *coords[v])
                if metres > 40:
                    return u, v, metres, tags.get("oneway") == "yes"
    raise AssertionError(f"no {highway} segment over 40 m in the extract")


def test_osm_fixture_keeps_its_odbl_attribution():
    """The shipped OSM extract has its ODbL attribution beside it."""
    text = (OSM.parent / "README.md").read_text()
    assert "OpenStreetMap contributors" in text and "ODbL" in text


def test_oakland_graphml_has_osmnx_attributes(oakland_graphml: Path):
    """The converted extract is a directed multigraph with x/y lon/lat and string lengths."""
    g = nx.read_graphml(oakland_graphml, force_multigraph=True)
    assert g.is_directed() and g.number_of_nodes() > 100
    x, y = (float(g.nodes["53027353"][k]) for k in ("x", "y"))
    assert (x, y) == (-122.3006059, 37.8073779)
    attrs = next(iter(g.edges(data=True)))[2]
    assert {"length", "highway", "oneway", "osmid"} <= set(attrs)


@pytest.mark.parametrize("highway", ["residential", "secondary"])
def test_imported_edge_time_matches_hand_computed(oakland_graphml, osm_xml, highway):
    """An edge's minutes = its haversine length ÷ the highway type's default speed."""
    u, v, metres, _ = _first_segment(osm_xml, highway)
    net = read_graphml(oakland_graphml)
    roads = {(r["from"], r["to"]): r for r in net.roads}
    road = roads.get((u, v)) or roads.get((v, u))
    assert road is not None
    expected = 60 * (metres / 1000) / DEFAULT_SPEED_KMH_BY_HIGHWAY[highway]
    assert road["travel_min"] == pytest.approx(expected, abs=1e-4)
    assert expected > 0.05  # a real segment, well above the 0.001 min floor


def test_oneway_street_stays_oneway(oakland_graphml, osm_xml):
    """A way tagged oneway=yes is imported as a one-way road in its direction only."""
    coords_oneway = [
        w
        for w in osm_xml.iter("way")
        if {t.get("k"): t.get("v") for t in w.iter("tag")}.get("oneway") == "yes"
        and {t.get("k"): t.get("v") for t in w.iter("tag")}.get("highway")
        in DEFAULT_SPEED_KMH_BY_HIGHWAY
    ]
    assert coords_oneway
    net = read_graphml(oakland_graphml, ImportParams(keep_all=True))
    roads = {(r["from"], r["to"]): r for r in net.roads}
    refs = [nd.get("ref") for nd in coords_oneway[0].iter("nd")]
    u, v = refs[0], refs[1]
    assert roads[(u, v)].get("oneway") is True
    assert (v, u) not in roads


def test_import_keeps_only_the_strongly_connected_part(oakland_graphml):
    """Every kept node can reach, and be reached from, every other kept node."""
    net = read_graphml(oakland_graphml)
    full = read_graphml(oakland_graphml, ImportParams(keep_all=True))
    assert len(net.nodes) < len(full.nodes)
    assert any("dropped" in n for n in net.notes)
    g = nx.DiGraph()
    for r in net.roads:
        g.add_edge(r["from"], r["to"])
        if not r.get("oneway"):
            g.add_edge(r["to"], r["from"])
    assert nx.is_strongly_connected(g)


def test_graphml_import_writes_a_scenario_that_runs(oakland_graphml, tmp_path):
    """CLI import of the real extract + hospitals CSV: a valid skeleton that simulates."""
    hosp = tmp_path / "h.csv"
    hosp.write_text(
        "id,name,lon,lat,trauma_level,beds\n"
        "oak_general,Oakland General,-122.2990,37.8080,Level I,400\n"
        "west_clinic,West Clinic,-122.3020,37.8065,none,\n"
    )
    stations = tmp_path / "s.csv"
    stations.write_text("id,lon,lat,als,bls\nst1,-122.2985,37.8090,3,1\n")
    out = tmp_path / "oakland.yaml"
    code = main(
        [
            "region",
            "import",
            "--graphml",
            str(oakland_graphml),
            "--hospitals",
            str(hosp),
            "--stations",
            str(stations),
            "--incident",
            "Blast@-122.3000,37.8075",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = out.read_text()
    assert text.startswith("# Scenario skeleton")
    assert "[assumption" in text and "approximation" in text
    sc = load_scenario(out)
    assert sc.region.crs == "lonlat"
    assert {h.id for h in sc.hospitals} == {"oak_general", "west_clinic"}
    assert sc.hospitals[0].trauma_level == 1 and sc.hospitals[1].trauma_level == 4
    assert sc.stations[0].vehicles[0].count == 3
    region = build_region(sc.region)
    site = region.index(sc.incidents[0].node)
    for h in sc.hospitals:
        assert math.isfinite(region.travel_min(site, region.index(h.node)))
    assert mcsim.simulate(sc, seed=0).metrics["casualties"] == 100


def _write_graphml(path: Path, edges: list[tuple[str, str, dict]], nodes=None) -> Path:
    g = nx.MultiDiGraph(crs="epsg:4326")
    for n, (x, y) in (nodes or {"a": (0.0, 0.0), "b": (0.01, 0.0), "c": (0.02, 0.0)}).items():
        g.add_node(n, x=str(x), y=str(y))
    for u, v, attrs in edges:
        g.add_edge(u, v, **{k: str(val) for k, val in attrs.items()})
    nx.write_graphml(g, path)
    return path


def test_edge_time_sources_in_priority_order(tmp_path):
    """travel_time (s) beats speed_kph beats maxspeed beats the highway default."""
    path = _write_graphml(
        tmp_path / "g.graphml",
        [
            ("a", "b", {"length": 1000, "travel_time": 90, "speed_kph": 10, "maxspeed": "50"}),
            ("b", "a", {"length": 1000, "speed_kph": 60, "maxspeed": "30"}),
            ("b", "c", {"length": 1609.344, "maxspeed": "30 mph", "highway": "primary"}),
            ("c", "b", {"length": 1000, "maxspeed": "['20', '40']", "highway": "residential"}),
            ("a", "c", {"length": 3000, "highway": "['motorway', 'trunk']"}),
            ("c", "a", {"length": 1500, "highway": "bridleway"}),
        ],
    )
    net = read_graphml(path, ImportParams(fallback_speed_kmh=15))
    t = {(r["from"], r["to"]): r["travel_min"] for r in net.roads}
    t.update({(r["to"], r["from"]): r["travel_min"] for r in net.roads if not r.get("oneway")})
    assert t[("a", "b")] == pytest.approx(1.5)  # 90 s
    assert t[("b", "a")] == pytest.approx(1.0)  # 1 km at 60 km/h
    assert t[("b", "c")] == pytest.approx(2.0)  # 1 mile at 30 mph
    assert t[("c", "b")] == pytest.approx(2.0)  # 1 km at mean(20, 40) km/h
    assert t[("a", "c")] == pytest.approx(1.8)  # 3 km at the motorway default 100 km/h
    assert t[("c", "a")] == pytest.approx(6.0)  # 1.5 km at the 15 km/h fallback


def test_parallel_edges_keep_the_faster_and_equal_pairs_merge_into_two_way(tmp_path):
    """Two a→b edges keep the faster; a→b and b→a of equal time become one two-way road."""
    path = _write_graphml(
        tmp_path / "g.graphml",
        [
            ("a", "b", {"length": 1000, "speed_kph": 30}),
            ("a", "b", {"length": 1000, "speed_kph": 60}),
            ("b", "a", {"length": 1000, "speed_kph": 60}),
        ],
        nodes={"a": (0, 0), "b": (0.01, 0)},
    )
    net = read_graphml(path)
    assert net.roads == [{"from": "a", "to": "b", "travel_min": 1.0}]


@pytest.mark.parametrize(
    ("value", "kmh"),
    [
        ("50", 50.0),
        (50, 50.0),
        ("30 mph", 30 * 1.609344),
        ("30mph", 30 * 1.609344),
        (["25 mph", "35 mph"], 30 * 1.609344),
        ("['50', '70']", 60.0),
        ("none", None),
        ("signals", None),
        ("0", None),
        (None, None),
    ],
)
def test_parse_maxspeed(value, kmh):
    """OSM maxspeed strings, numbers and lists → km/h; words and zero → None."""
    got = parse_maxspeed(value)
    assert (got is None) if kmh is None else got == pytest.approx(kmh)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("Level I", 1),
        ("Level II", 2),
        ("Level III", 3),
        ("Level I (pediatric only)", 1),
        ("Major Trauma Centre", 1),
        ("Major Trauma Centre (collaborative partner)?", 1),
        ("Trauma Unit", 2),
        ("none", 4),
        ("none?", 4),
        ("", 4),
        ("3", 3),
    ],
)
def test_parse_trauma_level(text, level):
    """US levels, UK network designations, '?' marks and blanks map to levels 1-4."""
    assert parse_trauma_level(text) == level


def test_coordinates_only_import_of_real_hospitals(tmp_path):
    """No graph: travel = great-circle × detour ÷ speed, hand-checked for site → UMC."""
    hospitals = read_places(LAS_VEGAS, "hospital")
    assert len(hospitals) == 18
    site = parse_incident("Route 91@-115.1717,36.0950")
    params = ImportParams(detour_factor=1.4, speed_kmh=45)
    built = build_scenario(hospitals=hospitals, incident=site, params=params)
    sc = mcsim.scenario.parse_scenario(built.scenario)
    region = build_region(sc.region)
    umc = next(h for h in sc.hospitals if h.name.startswith("University Medical Center"))
    assert umc.trauma_level == 1 and umc.ed_beds == 11
    # hand computation: haversine with the mean Earth radius
    p1, p2 = math.radians(36.0950), math.radians(36.1596)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(-115.1675 + 115.1717) / 2) ** 2
    )
    km = 2 * 6371.0088 * math.asin(math.sqrt(a))
    got = region.travel_min(region.index(sc.incidents[0].node), region.index(umc.node))
    assert got == pytest.approx(60 * km * 1.4 / 45, abs=1e-4)
    assert any("approximation" in n for n in built.notes)
    # two hospitals on one campus (Sunrise and Sunrise Children's): distinct nodes, min time
    ids = [h.id for h in sc.hospitals]
    assert len(set(ids)) == len(ids)


def test_geojson_hospitals_and_stations(tmp_path):
    """GeoJSON Point features with properties import like CSV rows."""
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-2.2277, 53.4624]},
                "properties": {"id": "mri", "name": "MRI", "trauma_level": "Major Trauma Centre"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-2.3234, 53.4875]},
                "properties": {"id": "salford", "name": "Salford Royal", "beds": 728},
            },
        ],
    }
    h = tmp_path / "h.geojson"
    h.write_text(json.dumps(fc))
    s = tmp_path / "s.geojson"
    s.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [-2.25, 53.48]},
                        "properties": {"id": "central", "als": 5},
                    }
                ],
            }
        )
    )
    out = tmp_path / "m.yaml"
    import_region(out=out, hospitals=h, stations=s, incident="Arena@-2.2439,53.4881")
    sc = load_scenario(out)
    assert [x.id for x in sc.hospitals] == ["mri", "salford"]
    assert sc.hospitals[0].trauma_level == 1
    assert sc.hospitals[1].ed_beds == round(0.05 * 728)
    assert sc.stations[0].vehicles[0].count == 5


# --- bad files ---------------------------------------------------------------------------


def _run_import(capsys, *args: str) -> tuple[int, str]:
    code = main(["region", "import", *args])
    err = capsys.readouterr().err.strip()
    return code, err


def test_missing_hospitals_file_is_one_line_error(capsys, tmp_path):
    """A missing file: exit 2, one line naming the file."""
    code, err = _run_import(
        capsys, "--hospitals", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.yaml")
    )
    assert code == 2
    assert err == f"error: {tmp_path / 'nope.csv'}: no such file"


def test_no_hospitals_option_is_refused(capsys, tmp_path):
    """Without --hospitals there is no scenario to write."""
    code, err = _run_import(capsys, "--out", str(tmp_path / "o.yaml"))
    assert code == 2 and "--hospitals" in err and "\n" not in err


@pytest.mark.parametrize(
    ("content", "where", "words"),
    [
        ("name,x_coord,y_coord\nA,1,2\n", "row 2", "longitude and latitude"),
        ("name,lon,lat\nA,-122.3,north\n", "row 2, column lat", "not a number"),
        ("name,lon,lat\nA,-122.3,37.8\nB,-222.3,37.8\n", "row 3, column lon", "outside"),
        ("name,lon,lat,trauma_level\nA,-122.3,37.8,Level 9\n", "column trauma_level", "unknown"),
        ("name,lon,lat,beds\nA,-122.3,37.8,lots\n", "column beds", "not a number"),
        ("lon,lat\n-122.3,37.8\n", "row 2", "needs an id or a name"),
    ],
)
def test_bad_csv_rows_name_file_row_and_column(capsys, tmp_path, content, where, words):
    """Bad CSV values: exit 2, one line naming the file, the row/column and the problem."""
    f = tmp_path / "h.csv"
    f.write_text(content)
    code, err = _run_import(capsys, "--hospitals", str(f), "--out", str(tmp_path / "o.yaml"))
    assert code == 2
    assert err.startswith(f"error: {f}: ") and where in err and words in err
    assert "\n" not in err
    assert not (tmp_path / "o.yaml").exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("this is not xml", "not a readable GraphML"),
        (
            '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
            '<graph edgedefault="directed"></graph></graphml>',
            "no nodes",
        ),
    ],
)
def test_bad_graphml_is_one_line_error(capsys, tmp_path, content, words):
    """Unreadable or empty GraphML: exit 2 with one line naming the file."""
    g = tmp_path / "g.graphml"
    g.write_text(content)
    h = tmp_path / "h.csv"
    h.write_text("name,lon,lat\nA,0.001,0.001\n")
    code, err = _run_import(
        capsys, "--graphml", str(g), "--hospitals", str(h), "--out", str(tmp_path / "o.yaml")
    )
    assert code == 2 and err.startswith(f"error: {g}: ") and words in err and "\n" not in err


def test_graphml_node_without_coordinates_or_projected(tmp_path):
    """Nodes need x/y in degrees; a projected graph (metres) is refused with advice."""
    g = nx.MultiDiGraph()
    g.add_node("a", y="1.0")
    nx.write_graphml(g, tmp_path / "a.graphml")
    with pytest.raises(InputError, match="needs 'x'"):
        read_graphml(tmp_path / "a.graphml")
    p = _write_graphml(
        tmp_path / "p.graphml",
        [("a", "b", {"length": 10})],
        nodes={"a": (552000.0, 4182000.0), "b": (552010.0, 4182000.0)},
    )
    with pytest.raises(InputError, match="EPSG:4326"):
        read_graphml(p)


def test_graphml_edge_without_length_or_time(tmp_path):
    """An edge with neither length nor travel_time is refused, naming the edge."""
    p = _write_graphml(tmp_path / "e.graphml", [("a", "b", {"highway": "primary"})])
    with pytest.raises(InputError, match=r"edge a -> b: needs 'length'") as exc:
        read_graphml(p)
    assert exc.value.file == str(p)


@pytest.mark.parametrize("text", ["Arena", "Arena@1,2,3", "@1,2", "A@x,y", "A@200,10"])
def test_bad_incident_option(text):
    """--incident must be NAME@LON,LAT with degrees in range."""
    with pytest.raises(InputError):
        parse_incident(text)


def test_bad_import_parameters():
    """Non-positive speeds and detour factors below 1 are refused."""
    with pytest.raises(InputError, match="speed_kmh"):
        ImportParams(speed_kmh=0)
    with pytest.raises(InputError, match="detour_factor"):
        ImportParams(detour_factor=0.8)
