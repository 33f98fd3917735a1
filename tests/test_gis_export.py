"""Runs on a map: `mcsim run --out` writes node and place tables with coordinates, and
`mcsim export` writes hospitals (with load over time), scenes, stations and trips that
geopandas/pyogrio (and so QGIS) open, with each geometry where the scenario puts it."""

from __future__ import annotations

import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

import mcsim
from mcsim.cli import main
from mcsim.tables import EXPORT_LAYERS, NODES, PLACES

gpd = pytest.importorskip("geopandas")  # the [gis] extra, installed by `make venv`
pyogrio = pytest.importorskip("pyogrio")

ARROW = {"double": "float64", "int32": "int32", "int64": "int64", "string": "string",
         "large_string": "string", "bool": "bool"}  # fmt: skip


@pytest.fixture(scope="module")
def boston(tmp_path_factory):
    """A longitude/latitude scenario run to a folder."""
    out = tmp_path_factory.mktemp("boston")
    assert main(["run", "boston_marathon_bombing", "--seed", "1", "--out", str(out), "--json"]) == 0
    return out


@pytest.fixture(scope="module")
def boston_scenario():
    return mcsim.load_scenario("boston_marathon_bombing")


@pytest.mark.parametrize(("file", "table"), [("nodes", NODES), ("places", PLACES)])
def test_map_tables_have_exactly_the_dictionary_columns_and_types(boston, file, table):
    schema = pq.read_schema(boston / f"{file}.parquet")
    written = [
        (f.name, "category" if str(f.type).startswith("dictionary<") else ARROW[str(f.type)])
        for f in schema
    ]
    assert written == [(c.name, c.type) for c in table.columns]


def test_node_table_gives_every_node_its_scenario_coordinates_and_crs(boston, boston_scenario):
    nodes = pd.read_parquet(boston / "nodes.parquet")
    spec = {n.id: (n.x, n.y, n.kind.value) for n in boston_scenario.region.nodes}
    assert len(nodes) == len(spec) and list(nodes["node"]) == list(range(len(spec)))
    for _, row in nodes.iterrows():
        x, y, _kind = spec[row["name"]]
        assert (row["x"], row["y"]) == (x, y)
    assert set(nodes["crs"].astype(str)) == {"EPSG:4326"}
    hosp_nodes = {h.node for h in boston_scenario.hospitals}
    marked = set(nodes.loc[nodes["kind"].astype(str) == "hospital", "name"])
    assert marked == hosp_nodes


def test_km_regions_say_their_coordinates_are_local_km(tmp_path):
    assert main(["run", "stadium_explosion", "--out", str(tmp_path), "--json"]) == 0
    nodes = pd.read_parquet(tmp_path / "nodes.parquet")
    assert set(nodes["crs"].astype(str)) == {"local_km"}


def test_geopackage_opens_with_its_layers_in_the_right_places(boston, boston_scenario, tmp_path):
    gpkg = tmp_path / "run.gpkg"
    assert main(["export", str(boston), "--format", "gpkg", "--out", str(gpkg)]) == 0
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers == {
        "hospitals": "Point", "hospital_load": "Point", "scenes": "Point",
        "stations": "Point", "trips": "LineString",
    }  # fmt: skip
    xy = {n.id: (n.x, n.y) for n in boston_scenario.region.nodes}

    hospitals = gpd.read_file(gpkg, layer="hospitals")
    assert hospitals.crs.to_epsg() == 4326
    assert len(hospitals) == len(boston_scenario.hospitals)
    for h in boston_scenario.hospitals:
        pt = hospitals.loc[hospitals["id"] == h.id, "geometry"].iloc[0]
        assert (pt.x, pt.y) == pytest.approx(xy[h.node], abs=1e-9)

    stations = gpd.read_file(gpkg, layer="stations")
    assert sorted(stations["id"]) == sorted(s.id for s in boston_scenario.stations)
    scenes = gpd.read_file(gpkg, layer="scenes")
    inc = boston_scenario.incidents[0]
    pt = scenes.loc[scenes["id"] == inc.id, "geometry"].iloc[0]
    assert (pt.x, pt.y) == pytest.approx(xy[inc.node], abs=1e-9)
    assert int(scenes["casualties"].sum()) == len(pd.read_parquet(boston / "patients.parquet"))

    events = pd.read_parquet(boston / "events.parquet")
    departures = events[events["to_node"].notna()]
    trips = gpd.read_file(gpkg, layer="trips")
    assert len(trips) == len(departures) > 0
    names = pd.read_parquet(boston / "nodes.parquet").set_index("node")["name"]
    for _, trip in trips.sample(20, random_state=0).iterrows():
        (x0, y0), (x1, y1) = trip.geometry.coords
        assert (x0, y0) == pytest.approx(xy[names[trip["from_node"]]], abs=1e-9)
        assert (x1, y1) == pytest.approx(xy[names[trip["to_node"]]], abs=1e-9)
        assert trip["arrive_min"] >= trip["depart_min"]


def test_hospital_load_counts_arrivals_and_never_goes_negative(boston, tmp_path):
    assert main(["export", str(boston), "--format", "geojson", "--out", str(tmp_path)]) == 0
    load = gpd.read_file(tmp_path / "hospital_load.geojson")
    assert load.crs.to_epsg() == 4326
    assert (load["present"] >= 0).all()
    events = pd.read_parquet(boston / "events.parquet")
    arrivals = events[(events["kind"] == "hospital_arrival") & events["patient"].notna()]
    last = load.sort_values("time_min").groupby("hospital").tail(1).set_index("hospital")
    counted = arrivals.groupby("hospital", observed=True).size()
    for hid, row in last.iterrows():
        assert row["arrived_total"] == counted.get(hid, 0)
    # somebody is inside some hospital at some point, and the per-step arrivals add up
    assert load["present"].max() > 0
    sums = load.groupby("hospital")["arrivals"].sum()
    assert (sums == last["arrived_total"].reindex(sums.index)).all()


def test_csv_needs_no_gis_extra_and_gpkg_says_how_to_get_it(boston, tmp_path, monkeypatch, capsys):
    for mod in ("geopandas", "pyogrio", "shapely"):
        monkeypatch.setitem(sys.modules, mod, None)  # as if mcsim[gis] were not installed
    out = tmp_path / "csv"
    assert main(["export", str(boston), "--format", "csv", "--out", str(out)]) == 0
    trips = pd.read_csv(out / "trips.csv")
    events = pd.read_parquet(boston / "events.parquet")
    assert len(trips) == events["to_node"].notna().sum()
    assert trips["wkt"].str.startswith("LINESTRING (").all()
    hospitals = pd.read_csv(out / "hospitals.csv")
    x, y = float(hospitals["x"].iloc[0]), float(hospitals["y"].iloc[0])
    assert hospitals["wkt"].iloc[0] == f"POINT ({x!r} {y!r})"
    assert set(pd.read_csv(out / "hospital_load.csv").columns) >= {"present", "arrived_total"}
    capsys.readouterr()
    assert main(["export", str(boston), "--format", "gpkg", "--out", str(tmp_path / "x.gpkg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'mcsim[gis]'" in err


def test_exported_layers_are_the_dictionary_tables(boston, tmp_path):
    assert main(["export", str(boston), "--format", "gpkg", "--out", str(tmp_path / "r.gpkg")]) == 0
    for name, table in EXPORT_LAYERS.items():
        gdf = gpd.read_file(tmp_path / "r.gpkg", layer=name)
        assert list(gdf.columns) == [c.name for c in table.columns] + ["geometry"], name


@pytest.mark.parametrize("case", ["missing", "file", "empty", "old_run"])
def test_bad_run_folder_is_one_line_and_exit_2(boston, tmp_path, capsys, case):
    target = tmp_path / "run"
    if case == "file":
        target.write_text("not a folder")
    elif case == "empty":
        target.mkdir()
    elif case == "old_run":  # a folder written before the map tables existed
        target.mkdir()
        for name in ("events.parquet", "patients.parquet", "metrics.json"):
            (target / name).write_bytes((boston / name).read_bytes())
    code = main(["export", str(target), "--format", "csv", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and str(target) in err
    assert not (tmp_path / "o").exists()


def test_existing_export_is_refused_without_force(boston, tmp_path, capsys):
    out = tmp_path / "r.gpkg"
    assert main(["export", str(boston), "--out", str(out)]) == 0
    before = out.read_bytes()
    assert main(["export", str(boston), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["export", str(boston), "--out", str(out), "--force"]) == 0
