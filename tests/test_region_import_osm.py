"""`mcsim region import` writes the region beside the scenario (Parquet, GraphML, GeoPackage
or inline, all the same scenario), and takes roads through osmnx: an OSM file it reads
offline (the shipped West Oakland extract), or a place or box it downloads (the download is
replaced here by the extract: no network in tests)."""

from __future__ import annotations

import bz2
import math
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from mcsim.cli import main
from mcsim.region import build_region
from mcsim.scenario import load_scenario
from tests.conftest import REPO

OSM = REPO / "tests" / "data" / "osm" / "West-Oakland.osm.bz2"
INCIDENT = "Blast@-122.3000,37.8075"


@pytest.fixture
def hospitals(tmp_path) -> Path:
    p = tmp_path / "h.csv"
    p.write_text(
        "id,name,lon,lat,trauma_level,beds\n"
        "oak_general,Oakland General,-122.2990,37.8080,Level I,400\n"
        "west_clinic,West Clinic,-122.3020,37.8065,none,\n"
    )
    return p


def _osm_nodes() -> dict[str, tuple[float, float]]:
    root = ET.fromstring(bz2.decompress(OSM.read_bytes()))
    return {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}


@pytest.mark.parametrize("fmt", ["parquet", "graphml", "gpkg", "inline"])
def test_region_goes_beside_the_scenario_and_every_format_is_the_same_scenario(
    tmp_path, hospitals, fmt
):
    if fmt == "gpkg":
        pytest.importorskip("pyogrio")
    base = ["region", "import", "--hospitals", str(hospitals), "--incident", INCIDENT]
    assert main([*base, "--region-format", "inline", "--out", str(tmp_path / "ref.yaml")]) == 0
    out = tmp_path / "sub" / "city.yaml"
    out.parent.mkdir()
    assert main([*base, "--region-format", fmt, "--out", str(out)]) == 0
    written = yaml.safe_load(out.read_text())
    beside = sorted(p.name for p in out.parent.iterdir())
    if fmt == "inline":
        assert beside == ["city.yaml"] and "nodes" in written["region"]
    else:
        assert set(written["region"]) == {"crs", "file"}
        expected = {
            "parquet": ["city.region_nodes.parquet", "city.region_roads.parquet", "city.yaml"],
            "graphml": ["city.region.graphml", "city.yaml"],
            "gpkg": ["city.region.gpkg", "city.yaml"],
        }[fmt]
        assert beside == expected
    assert load_scenario(out).model_dump() == load_scenario(tmp_path / "ref.yaml").model_dump()


def test_an_existing_region_file_is_refused_without_force(tmp_path, hospitals, capsys):
    out = tmp_path / "city.yaml"
    (tmp_path / "city.region_roads.parquet").write_bytes(b"old")
    argv = ["region", "import", "--hospitals", str(hospitals), "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "city.region_roads.parquet" in err and "--force" in err and not out.exists()
    assert (tmp_path / "city.region_roads.parquet").read_bytes() == b"old"
    assert main([*argv, "--force"]) == 0


def test_osm_file_through_osmnx_gives_drivable_roads_in_lonlat_that_run(tmp_path, hospitals):
    pytest.importorskip("osmnx")
    out = tmp_path / "oakland.yaml"
    argv = ["region", "import", "--osm", str(OSM), "--hospitals", str(hospitals)]
    assert main([*argv, "--incident", INCIDENT, "--out", str(out)]) == 0
    assert "through osmnx" in out.read_text()
    sc = load_scenario(out)
    assert sc.region.crs == "lonlat"
    osm = _osm_nodes()
    graph_nodes = [n for n in sc.region.nodes if n.kind.value == "junction"]
    assert len(graph_nodes) > 10
    for n in graph_nodes:  # every junction is an OSM node, where the file puts it
        assert (n.x, n.y) == pytest.approx(osm[n.id], abs=1e-7)
    region = build_region(sc.region)
    site = region.index(sc.incidents[0].node)
    for h in sc.hospitals:
        assert math.isfinite(region.travel_min(site, region.index(h.node)))
    assert main(["run", str(out), "--json"]) == 0


def test_osm_file_keeps_no_footway(tmp_path):
    pytest.importorskip("osmnx")
    from mcsim.osm_import import DRIVABLE, drive_graph_from_xml

    g = drive_graph_from_xml(OSM)
    kinds = {hw if isinstance(hw, str) else hw[0] for _, _, hw in g.edges(data="highway")}
    assert kinds and kinds <= DRIVABLE
    root = ET.fromstring(bz2.decompress(OSM.read_bytes()))
    tags = {t.get("v") for w in root.iter("way") for t in w.iter("tag") if t.get("k") == "highway"}
    assert tags - DRIVABLE  # the file has ways that are not roads (footways...): they are gone


def test_bbox_downloads_the_drive_network_and_reprojects_to_lonlat(
    tmp_path, hospitals, monkeypatch
):
    ox = pytest.importorskip("osmnx")
    from mcsim.osm_import import drive_graph_from_xml

    calls = []

    def fake_bbox(bbox, *, network_type):
        calls.append((bbox, network_type))
        return ox.project_graph(drive_graph_from_xml(OSM))  # as a user may have it: UTM metres

    monkeypatch.setattr(ox, "graph_from_bbox", fake_bbox)
    out = tmp_path / "box.yaml"
    argv = ["region", "import", "--bbox", "-122.3026,37.8061,-122.2982,37.8091"]
    assert main([*argv, "--hospitals", str(hospitals), "--out", str(out)]) == 0
    assert calls == [((-122.3026, 37.8061, -122.2982, 37.8091), "drive")]
    sc = load_scenario(out)
    osm = _osm_nodes()
    for n in (n for n in sc.region.nodes if n.kind.value == "junction"):
        assert (n.x, n.y) == pytest.approx(osm[n.id], abs=1e-6)


def test_place_download_failure_is_one_line(tmp_path, hospitals, monkeypatch, capsys):
    ox = pytest.importorskip("osmnx")

    def offline(*args, **kwargs):
        raise ConnectionError("Max retries exceeded with url: /api/interpreter")

    monkeypatch.setattr(ox, "graph_from_place", offline)
    argv = ["region", "import", "--place", "Oakland, California", "--hospitals", str(hospitals)]
    assert main([*argv, "--out", str(tmp_path / "p.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: --place: cannot get the roads from OpenStreetMap: Max retries")


@pytest.mark.parametrize(
    ("extra", "expect"),
    [
        (["--bbox", "1,2,3"], "error: --bbox: give WEST,SOUTH,EAST,NORTH"),
        (["--bbox", "10,0,5,1"], "error: --bbox: need -180 <= WEST < EAST"),
        (["--osm", "/nonexistent.osm"], "error: /nonexistent.osm: no such file"),
        (["--osm", str(OSM), "--place", "x"], "error: --place: give one road source"),
        (["--region-format", "shp"], "error: --region-format: unknown 'shp'"),
    ],
)
def test_bad_osm_options_are_one_line_and_exit_2(tmp_path, hospitals, capsys, extra, expect):
    pytest.importorskip("osmnx")
    argv = ["region", "import", "--hospitals", str(hospitals), "--out", str(tmp_path / "s.yaml")]
    assert main([*argv, *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(expect), err


def test_without_osmnx_the_osm_options_say_how_to_get_it(tmp_path, hospitals, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "osmnx", None)
    argv = ["region", "import", "--osm", str(OSM), "--hospitals", str(hospitals)]
    assert main([*argv, "--out", str(tmp_path / "s.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'mcsim[osm]'" in err
    # the dependency-free path still works: GraphML converted without osmnx
    import importlib.util

    spec = importlib.util.spec_from_file_location("t", REPO / "tools" / "osm_to_graphml.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.convert(OSM, tmp_path / "roads.graphml")
    argv = ["region", "import", "--graphml", str(tmp_path / "roads.graphml")]
    assert main([*argv, "--hospitals", str(hospitals), "--out", str(tmp_path / "g.yaml")]) == 0
