"""Regions as files: a scenario names its region's file (GraphML, Parquet tables or a
GeoPackage, relative to the scenario) instead of inlining it; it runs exactly as the inline
one does, and a missing or malformed file is one line naming the scenario and the field."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import small_scenario_data

import mcsim
from mcsim.cli import main
from mcsim.errors import InputError
from mcsim.provenance import scenario_sha256
from mcsim.region_files import RegionFormat, region_contents, region_file_names
from mcsim.scenario import load_scenario, parse_scenario

FORMATS = [RegionFormat.GRAPHML, RegionFormat.PARQUET, RegionFormat.GPKG]


def grid_region(side: int = 6) -> dict:
    """An explicit grid with a one-way street, named roads, roads given by length and speed."""
    nodes = [
        {"id": f"n{r}_{c}", "x": c * 0.8, "y": r * 0.8} for r in range(side) for c in range(side)
    ]
    roads = []
    for r in range(side):
        for c in range(side):
            if c + 1 < side:
                roads.append(
                    {"from": f"n{r}_{c}", "to": f"n{r}_{c + 1}", "travel_min": 1.5 + 0.1 * r}
                )
            if r + 1 < side:
                roads.append(
                    {
                        "from": f"n{r}_{c}",
                        "to": f"n{r + 1}_{c}",
                        "length_km": 0.8,
                        "speed_kmh": 30.0,
                        "name": f"avenue {c}",
                    }
                )
    roads[3]["oneway"] = True
    nodes.append({"id": "site", "kind": "incident_site", "x": 2.0, "y": 2.0})
    roads.append({"from": "site", "to": "n2_2", "travel_min": 1.0, "name": "stadium road"})
    return {"crs": "km", "nodes": nodes, "roads": roads}


def inline_data() -> dict:
    data = small_scenario_data(40)
    data["region"] = grid_region()
    data["region"]["closed"] = [{"from": "n0_0", "to": "n0_1"}]
    data["hospitals"][0]["node"], data["hospitals"][1]["node"] = "n0_0", "n5_5"
    data["stations"][0]["node"], data["stations"][1]["node"] = "n1_1", "n4_4"
    return data


def write_pair(folder: Path, fmt: RegionFormat) -> tuple[Path, Path]:
    """The same scenario twice: region inline, and region in a ``fmt`` file beside it."""
    data = inline_data()
    inline = folder / "inline.yaml"
    inline.write_text(yaml.safe_dump(data, sort_keys=False))
    region = data["region"]
    files = region_file_names(folder / "city", fmt)
    for key, content in region_contents(region, fmt).items():
        files[key].write_bytes(content)
    ref = files["file"].name if "file" in files else {k: p.name for k, p in files.items()}
    as_file = copy.deepcopy(data)
    as_file["region"] = {"file": ref, "closed": region["closed"]}
    p = folder / "as_file.yaml"
    p.write_text(yaml.safe_dump(as_file, sort_keys=False))
    return inline, p


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_region_file_gives_the_same_event_log_as_inline(tmp_path, fmt):
    if fmt is RegionFormat.GPKG:
        pytest.importorskip("pyogrio")
    inline, as_file = write_pair(tmp_path, fmt)
    a, b = load_scenario(inline), load_scenario(as_file)
    # the file's nodes and roads, in order, where the inline ones were
    assert a.model_dump() == b.model_dump()
    assert scenario_sha256(a) == scenario_sha256(b)
    ra, rb = mcsim.simulate(a, seed=3), mcsim.simulate(b, seed=3)
    pd.testing.assert_frame_equal(ra.events, rb.events)
    assert ra.metrics == rb.metrics


def test_region_file_path_is_relative_to_the_scenario_not_the_working_directory(
    tmp_path, monkeypatch, capsys
):
    inline, as_file = write_pair(tmp_path, RegionFormat.PARQUET)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["validate", str(as_file)]) == 0
    assert capsys.readouterr().out == f"ok: {as_file}\n"
    assert main(["run", str(as_file), "--json", "--seed", "1"]) == 0
    from_file = capsys.readouterr().out
    assert main(["run", str(inline), "--json", "--seed", "1"]) == 0
    assert capsys.readouterr().out == from_file


def test_inline_nodes_and_roads_are_added_after_the_files(tmp_path):
    _, as_file = write_pair(tmp_path, RegionFormat.GRAPHML)
    data = yaml.safe_load(as_file.read_text())
    data["region"]["nodes"] = [{"id": "depot", "x": 9.0, "y": 9.0}]
    data["region"]["roads"] = [{"from": "depot", "to": "n5_5", "travel_min": 2.0}]
    as_file.write_text(yaml.safe_dump(data))
    sc = load_scenario(as_file)
    assert sc.region.nodes[-1].id == "depot" and sc.region.nodes[0].id == "n0_0"
    assert sc.region.roads[-1].from_ == "depot"
    assert sc.region.crs == "km"  # from the file


def test_a_sweep_and_an_exercise_read_the_region_file_once_and_need_it_no_more(tmp_path):
    from mcsim.exercise.log import load_log
    from mcsim.exercise.runner import replay
    from mcsim.sweep import read_runs, run_sweep

    _, as_file = write_pair(tmp_path, RegionFormat.PARQUET)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        "sweep_version: 1\nname: s\nscenarios: [as_file.yaml]\nreplications: 2\nbase_seed: 1\n"
    )
    s = run_sweep(sweep, tmp_path / "sw", workers=1)
    assert s.ran == 2 and len(read_runs(tmp_path / "sw")) == 2
    script = tmp_path / "ex.yaml"
    script.write_text("scenario: as_file.yaml\nseed: 2\n")
    assert main(["exercise", "run", str(script), "--out", str(tmp_path / "log.json")]) == 0
    for p in tmp_path.glob("city_*.parquet"):
        p.unlink()  # the log holds the scenario with its region inline
    assert len(replay(load_log(tmp_path / "log.json")).events) > 0


def test_a_region_file_in_plain_data_is_refused_with_its_reason():
    data = inline_data()
    data["region"] = {"file": "city.graphml"}
    with pytest.raises(InputError) as exc:
        parse_scenario(data, file="upload.yaml")
    assert exc.value.path == "region" and "read relative to its scenario file" in exc.value.message


def _bad(tmp_path: Path, case: str) -> tuple[Path, str]:
    """A scenario whose region file is broken as ``case`` says; the text the error must hold."""
    _, as_file = write_pair(tmp_path, RegionFormat.PARQUET)
    data = yaml.safe_load(as_file.read_text())
    nodes, roads = tmp_path / "city_nodes.parquet", tmp_path / "city_roads.parquet"
    expect = "region.file"
    if case == "missing":
        data["region"]["file"] = "nowhere.graphml"
        expect = "region.file: " + str(tmp_path / "nowhere.graphml") + ": no such file"
    elif case == "unknown_type":
        data["region"]["file"] = "as_file.yaml"
        expect = "unknown region file type '.yaml'"
    elif case == "garbage_graphml":
        (tmp_path / "g.graphml").write_text("<graphml><graph><node id='a'></graph>")
        data["region"]["file"] = "g.graphml"
        expect = "not a readable GraphML file"
    elif case == "garbage_parquet":
        nodes.write_bytes(b"PAR1 not really")
        expect = "region.file.nodes: " + str(nodes) + ": not a readable Parquet file"
    elif case == "negative_time":
        df = pd.read_parquet(roads)
        df.loc[4, "travel_min"] = -2.0
        df.to_parquet(roads)
        expect = f"region.file.roads: {roads}: roads row 5: travel_min must be positive, got -2.0"
    elif case == "unknown_column":
        df = pd.read_parquet(nodes)
        df["elevation"] = 1.0
        df.to_parquet(nodes)
        expect = f"region.file.nodes: {nodes}: nodes: unknown column 'elevation'"
    elif case == "duplicate_node":
        df = pd.read_parquet(nodes)
        df.loc[1, "id"] = df.loc[0, "id"]
        df.to_parquet(nodes)
        expect = "nodes row 2: duplicate node id 'n0_0'"
    elif case == "crs_disagrees":
        data["region"]["crs"] = "lonlat"
        expect = "region.crs: the region file's coordinates are km, the scenario says crs lonlat"
    elif case == "not_a_path":
        data["region"]["file"] = 7
        expect = "region.file: must be a file path"
    as_file.write_text(yaml.safe_dump(data, sort_keys=False))
    return as_file, expect


BAD = ["missing", "unknown_type", "garbage_graphml", "garbage_parquet", "negative_time",
       "unknown_column", "duplicate_node", "crs_disagrees", "not_a_path"]  # fmt: skip


@pytest.mark.parametrize("case", BAD)
def test_a_missing_or_malformed_region_file_is_one_line_naming_scenario_and_field(
    tmp_path, capsys, case
):
    scenario, expect = _bad(tmp_path, case)
    for argv in (["run", str(scenario), "--json"], ["validate", str(scenario)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert err.startswith(f"error: {scenario}: region."), err
        assert expect in err, err


def test_a_geopackage_region_without_the_gis_extra_says_how_to_get_it(
    tmp_path, monkeypatch, capsys
):
    pytest.importorskip("pyogrio")
    _, as_file = write_pair(tmp_path, RegionFormat.GPKG)
    monkeypatch.setitem(__import__("sys").modules, "pyogrio", None)
    assert main(["validate", str(as_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'mcsim[gis]'" in err and "region.file" in err


def test_geopackage_in_a_projected_crs_is_reprojected_to_lonlat(tmp_path):
    gpd = pytest.importorskip("geopandas")
    from mcsim.region_files import read_region_file

    pts = gpd.GeoDataFrame(
        {"id": ["a", "b"], "kind": [None, "hospital"]},
        geometry=gpd.points_from_xy([-122.30, -122.29], [37.80, 37.81]),
        crs=4326,
    ).to_crs(32610)  # UTM 10N, metres
    roads = pd.DataFrame({"from": ["a"], "to": ["b"], "travel_min": [2.0]})
    p = tmp_path / "r.gpkg"
    pts.to_file(p, layer="nodes", driver="GPKG")
    gpd.GeoDataFrame(roads, geometry=[None], crs=32610).to_file(p, layer="roads", driver="GPKG")
    data = read_region_file("r.gpkg", base=tmp_path, scenario_file="s.yaml")
    assert data.crs == "lonlat"
    assert (data.nodes[0]["x"], data.nodes[0]["y"]) == pytest.approx((-122.30, 37.80), abs=1e-7)
    assert data.nodes[1]["kind"] == "hospital" and "kind" not in data.nodes[0]
