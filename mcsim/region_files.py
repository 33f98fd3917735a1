"""Regions kept in files of their own: ``region: {file: city.graphml}`` in a scenario.

A road network of ten thousand junctions written inline is a YAML file of more than a
megabyte, slow to parse and impossible to read. A scenario may instead name a file holding its
region's nodes and roads, relative to the scenario file:

- ``file: city.graphml``: GraphML (networkx reads and writes it, no extra dependency). Graph
  attribute ``crs`` (``km`` or ``lonlat``); nodes: the GraphML id is the node's id, with ``x``,
  ``y`` and optionally ``kind``; edges: ``travel_min``, or ``length_km`` with ``speed_kmh``, and
  optionally ``oneway`` (default false: a two-way road, as inline) and ``name``. ``seq`` keeps
  the roads in the order they were written (GraphML readers group edges by node).
- ``file: {nodes: city_nodes.parquet, roads: city_roads.parquet}``: two Parquet tables
  (pyarrow, no extra dependency) with those same columns (roads: ``from``, ``to``, ...); the
  nodes table's schema metadata carries ``crs``. The fastest to load.
- ``file: city.gpkg``: a GeoPackage with a ``nodes`` point layer (``id``, ``kind``) and a
  ``roads`` layer (columns as Parquet; geometry ignored): what a GIS edits. Needs the ``[gis]``
  extra. Its CRS decides: EPSG:4326 is ``lonlat``; another CRS is reprojected to it; none is
  ``km``.

The file is read when its scenario file is (:func:`inline_region_file`, called by
:func:`mcsim.scenario.read_scenario_data`): its nodes and roads go in front of any written
inline, and from then on the scenario is the same data as the inline one would be, so runs,
hashes, sweeps and exercise logs (which embed the scenario) are identical and need no file.
Bad files are one :class:`~mcsim.errors.InputError` naming the scenario file, ``region.file``,
and the region file with the row where it helps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from mcsim.enums import NodeKind
from mcsim.errors import InputError, echo

FIELD = "region.file"

#: Node columns of a region file, and road columns (beside ``from`` and ``to``).
NODE_COLUMNS = ("id", "kind", "x", "y")
ROAD_COLUMNS = ("from", "to", "travel_min", "length_km", "speed_kmh", "oneway", "name")
_ROAD_NUMBERS = ("travel_min", "length_km", "speed_kmh")
_KINDS = frozenset(k.value for k in NodeKind)


class RegionFormat(StrEnum):
    """The kinds of region file."""

    GRAPHML = "graphml"
    PARQUET = "parquet"
    GPKG = "gpkg"


@dataclass
class RegionData:
    """A region file's content in scenario form (what ``region.nodes``/``roads`` hold inline).

    Attributes:
        crs: ``km`` or ``lonlat``, or None when the file does not say.
        nodes: ``{"id", "x", "y"[, "kind"]}`` dicts, in file order.
        roads: ``{"from", "to", "travel_min" | "length_km"+"speed_kmh"[, "oneway", "name"]}``.
    """

    crs: str | None
    nodes: list[dict[str, Any]]
    roads: list[dict[str, Any]]


class _Bad(Exception):
    """A problem inside a region file (turned into an InputError naming the scenario).

    Args:
        message: what is wrong.
        part: ``nodes`` or ``roads`` when it is in one of the two (a Parquet pair names that
            table's file), else None.
    """

    def __init__(self, message: str, part: str | None = None) -> None:
        super().__init__(message)
        self.part = part


# --------------------------------------------------------------------------------------------
# Scenario side


def inline_region_file(data: Any, scenario_file: str | Path) -> Any:
    """``data`` with its ``region.file`` read and put inline (a copy; ``data`` is kept).

    Data without a region file is returned as it is.

    Raises:
        InputError: ``file: scenario_file, path: region.file``: a missing, unreadable or
            malformed region file, or one that disagrees with the scenario's ``crs``.
    """
    if not isinstance(data, dict) or not isinstance(data.get("region"), dict):
        return data
    region = data["region"]
    if "file" not in region:
        return data
    spec = region["file"]
    base = Path(scenario_file).parent
    loaded = read_region_file(spec, base=base, scenario_file=str(scenario_file))
    crs = region.get("crs")
    if loaded.crs is not None and crs is not None and crs != loaded.crs:
        raise InputError(
            f"the region file's coordinates are {loaded.crs}, the scenario says crs {crs}",
            file=str(scenario_file),
            path="region.crs",
        )
    out_region = {k: v for k, v in region.items() if k != "file"}
    if crs is None and loaded.crs is not None:
        out_region = {"crs": loaded.crs, **out_region}
    out_region["nodes"] = loaded.nodes + _listed(region.get("nodes"))
    out_region["roads"] = loaded.roads + _listed(region.get("roads"))
    return {**data, "region": out_region}


def _listed(value: Any) -> list[Any]:
    # a non-list is left for the schema to refuse, as inline
    return list(value) if isinstance(value, list) else ([] if value is None else [value])


def read_region_file(spec: Any, *, base: Path, scenario_file: str) -> RegionData:
    """Read a ``region.file`` value (a path, or ``{nodes, roads}`` Parquet paths).

    Raises:
        InputError: naming ``scenario_file`` and ``region.file``.
    """

    def fail(message: str, path: str = FIELD) -> InputError:
        return InputError(message, file=scenario_file, path=path)

    if isinstance(spec, dict):
        unknown = sorted(set(spec) - {"nodes", "roads"})
        if unknown or not {"nodes", "roads"} <= set(spec):
            raise fail(
                "give a region file's path, or {nodes: NODES.parquet, roads: ROADS.parquet}"
                + (f"; unknown key {echo(unknown[0])}" if unknown else "")
            )
        paths = {k: _path(spec[k], base, fail, f"{FIELD}.{k}") for k in ("nodes", "roads")}
        for k, p in paths.items():
            if p.suffix.lower() != ".parquet":
                raise fail(
                    f"{p}: the nodes and roads tables must be .parquet files", f"{FIELD}.{k}"
                )
        try:
            return _checked(_read_parquet(paths["nodes"], paths["roads"], fail))
        except _Bad as exc:
            part = exc.part or "nodes"
            raise fail(f"{paths[part]}: {exc}", f"{FIELD}.{part}") from None
    path = _path(spec, base, fail, FIELD)
    fmt = format_of(path)
    if fmt is None:
        raise fail(
            f"{path}: unknown region file type {path.suffix or '(none)'!r}; give .graphml, "
            ".gpkg, or {nodes: ..., roads: ...} Parquet tables"
        )
    try:
        data = _read_graphml(path, fail) if fmt is RegionFormat.GRAPHML else _read_gpkg(path, fail)
        return _checked(data)
    except _Bad as exc:
        raise fail(f"{path}: {exc}") from None


def format_of(path: Path) -> RegionFormat | None:
    """The region format a file name says (``.graphml``/``.xml``, ``.gpkg``, ``.parquet``)."""
    suffix = path.suffix.lower()
    return {
        ".graphml": RegionFormat.GRAPHML,
        ".xml": RegionFormat.GRAPHML,
        ".gpkg": RegionFormat.GPKG,
        ".parquet": RegionFormat.PARQUET,
    }.get(suffix)


def _path(value: Any, base: Path, fail: Any, where: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise fail(f"must be a file path (relative to the scenario file), got {echo(value)}", where)
    from mcsim.safeio import MAX_BINARY_BYTES, check_input

    p = Path(value)
    p = p if p.is_absolute() else base / p
    try:
        check_input(p, what="region file", max_bytes=MAX_BINARY_BYTES)
    except InputError as exc:
        raise fail(f"{p}: {exc.message}", where) from None
    return p


# --------------------------------------------------------------------------------------------
# Readers


def _read_graphml(path: Path, fail: Any) -> RegionData:
    import xml.etree.ElementTree as ET

    import networkx as nx

    try:
        g = nx.read_graphml(path, force_multigraph=True)
    except (ET.ParseError, nx.NetworkXError, KeyError, ValueError, TypeError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _Bad(f"not a readable GraphML file ({echo(text, 120)})") from None
    nodes = []
    for node, attrs in g.nodes(data=True):
        row = {"id": str(node), "x": attrs.get("x"), "y": attrs.get("y")}
        if attrs.get("kind") is not None:
            row["kind"] = attrs["kind"]
        nodes.append(row)
    edges = []
    directed = g.is_directed()
    for i, (u, v, attrs) in enumerate(g.edges(data=True)):
        row = {"from": str(u), "to": str(v)}
        for key in (*_ROAD_NUMBERS, "name"):
            if attrs.get(key) is not None:
                row[key] = attrs[key]
        if "oneway" in attrs:
            row["oneway"] = attrs["oneway"]
        elif not directed:
            row["oneway"] = False
        edges.append((attrs.get("seq", i), i, row))
    edges.sort(key=lambda e: (_seq(e[0]), e[1]))
    crs = g.graph.get("crs")
    return RegionData(
        crs=None if crs is None else str(crs), nodes=nodes, roads=[e[2] for e in edges]
    )


def _seq(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _Bad(f"edge seq must be a number, got {echo(value)}") from None


def _read_parquet(nodes_path: Path, roads_path: Path, fail: Any) -> RegionData:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = {}
    for what, p in (("nodes", nodes_path), ("roads", roads_path)):
        try:
            tables[what] = pq.read_table(p)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise fail(
                f"{p}: not a readable Parquet file ({echo(str(exc), 120)})", f"{FIELD}.{what}"
            ) from None
    meta = tables["nodes"].schema.metadata or {}
    crs = meta.get(b"crs")
    nodes = _rows(tables["nodes"], NODE_COLUMNS, ("id", "x", "y"), "nodes")
    roads = _rows(tables["roads"], ROAD_COLUMNS, ("from", "to"), "roads")
    return RegionData(crs=None if crs is None else crs.decode(), nodes=nodes, roads=roads)


def _rows(
    table: Any, columns: tuple[str, ...], required: tuple[str, ...], part: str
) -> list[dict[str, Any]]:
    """A table's known columns as row dicts without nulls (unknown columns are refused)."""
    names = table.column_names
    unknown = [c for c in names if c not in columns]
    if unknown:
        known = ", ".join(columns)
        raise _Bad(f"{part}: unknown column {echo(unknown[0])}; known: {known}", part)
    for c in required:
        if c not in names:
            raise _Bad(f"{part}: missing column {c!r}", part)
    cols = {c: table.column(c).to_pylist() for c in names}
    out = []
    for i in range(table.num_rows):
        out.append({c: vals[i] for c, vals in cols.items() if vals[i] is not None})
    return out


def _read_gpkg(path: Path, fail: Any) -> RegionData:
    try:
        import pyogrio
    except ImportError:
        raise fail(
            f"{path}: a GeoPackage region needs pyogrio: pip install 'mcsim[gis]' (or use "
            "GraphML or Parquet)"
        ) from None
    try:
        layers = {str(name) for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:  # pyogrio's DataSourceError and GDAL's own: all "unreadable"
        raise _Bad(f"not a readable GeoPackage ({echo(str(exc), 120)})") from None
    for layer in ("nodes", "roads"):
        if layer not in layers:
            raise _Bad(f"no layer {layer!r} (it has: {', '.join(sorted(layers)) or 'none'})")
    import geopandas as gpd

    nodes_df = gpd.read_file(path, layer="nodes", engine="pyogrio")
    roads_df = pyogrio.read_dataframe(path, layer="roads", read_geometry=False)
    crs = None
    if nodes_df.crs is not None:
        if nodes_df.crs.to_epsg() != 4326:
            nodes_df = nodes_df.to_crs(4326)
        crs = "lonlat"
    geom = nodes_df.geometry
    if geom.isna().any() or not (geom.geom_type == "Point").all():
        raise _Bad("layer nodes: every feature must be a point")
    nodes = []
    ids = nodes_df["id"] if "id" in nodes_df.columns else None
    if ids is None:
        raise _Bad("layer nodes: missing column 'id'")
    kinds = nodes_df["kind"] if "kind" in nodes_df.columns else None
    for i, (nid, x, y) in enumerate(zip(ids, geom.x, geom.y, strict=True)):
        row: dict[str, Any] = {"id": nid, "x": float(x), "y": float(y)}
        if kinds is not None and isinstance(kinds.iloc[i], str):
            row["kind"] = kinds.iloc[i]
        nodes.append(row)
    import pyarrow as pa

    roads_df = roads_df[[c for c in roads_df.columns if c in ROAD_COLUMNS]]
    roads = _rows(
        pa.Table.from_pandas(roads_df, preserve_index=False), ROAD_COLUMNS, ("from", "to"), "roads"
    )
    return RegionData(crs=crs, nodes=nodes, roads=roads)


def _checked(data: RegionData) -> RegionData:
    """Refuse what the schema would refuse at a row of the merged list, naming the file's row.

    The schema checks everything again; these checks only make the message point into the
    region file (``roads row 12``) rather than at ``region.roads[12]`` of a scenario that does
    not list them.
    """
    if data.crs is not None and data.crs not in ("km", "lonlat"):
        raise _Bad(f"crs must be km or lonlat, got {echo(data.crs)}", "nodes")
    if not data.nodes:
        raise _Bad("the region file has no nodes", "nodes")
    seen: set[str] = set()
    for i, n in enumerate(data.nodes):
        nid = n.get("id")
        if not isinstance(nid, str) or not nid:
            raise _Bad(f"nodes row {i + 1}: id must be a non-empty text, got {echo(nid)}", "nodes")
        if nid in seen:
            raise _Bad(f"nodes row {i + 1}: duplicate node id {echo(nid)}", "nodes")
        seen.add(nid)
        for k in ("x", "y"):
            n[k] = _finite(n.get(k), f"nodes row {i + 1} ({nid}): {k}", "nodes")
        kind = n.get("kind")
        if kind is not None and kind not in _KINDS:
            raise _Bad(f"nodes row {i + 1} ({nid}): unknown kind {echo(kind)}", "nodes")
    for i, r in enumerate(data.roads):
        where = f"roads row {i + 1}"
        for k in ("from", "to"):
            if not isinstance(r.get(k), str):
                raise _Bad(f"{where}: {k} must be a node id, got {echo(r.get(k))}", "roads")
            r[k] = str(r[k])
        for k in _ROAD_NUMBERS:
            if k in r:
                value = _finite(r[k], f"{where}: {k}", "roads")
                if value <= 0:
                    raise _Bad(f"{where}: {k} must be positive, got {value}", "roads")
                r[k] = value
        if "oneway" in r:
            r["oneway"] = _flag(r["oneway"], f"{where}: oneway", "roads")
    return data


def _finite(value: Any, where: str, part: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _Bad(f"{where} must be a number, got {echo(value)}", part) from None
    if isinstance(value, bool) or not math.isfinite(x):
        raise _Bad(f"{where} must be a finite number, got {echo(value)}", part)
    return x


def _flag(value: Any, where: str, part: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _Bad(f"{where} must be true or false, got {echo(value)}", part)


# --------------------------------------------------------------------------------------------
# Writers


def region_file_names(stem: Path, fmt: RegionFormat) -> dict[str, Path]:
    """The files a region of ``fmt`` is written to, from a path stem (``my.region``)."""
    if fmt is RegionFormat.PARQUET:
        return {
            "nodes": stem.with_name(stem.name + "_nodes.parquet"),
            "roads": stem.with_name(stem.name + "_roads.parquet"),
        }
    return {"file": stem.with_name(f"{stem.name}.{fmt.value}")}


def region_file_reference(files: Mapping[str, Path], scenario_dir: Path) -> Any:
    """The ``region.file`` value naming ``files`` relative to the scenario's folder."""
    rel = {k: _relative(p, scenario_dir) for k, p in files.items()}
    return rel["file"] if "file" in rel else {"nodes": rel["nodes"], "roads": rel["roads"]}


def _relative(p: Path, base: Path) -> str:
    import os

    return Path(os.path.relpath(p.resolve(), base.resolve())).as_posix()


def region_contents(region: Mapping[str, Any], fmt: RegionFormat) -> dict[str, Any]:
    """The bytes of a region (scenario form: ``crs``, ``nodes``, ``roads``) as ``fmt`` files.

    Returns:
        ``{"file": bytes}`` or ``{"nodes": bytes, "roads": bytes}``, for
        :func:`mcsim.safeio.write_files` (whole files, written atomically by the caller).
    """
    crs = str(region.get("crs", "km"))
    nodes = list(region.get("nodes", []))
    roads = list(region.get("roads", []))
    if fmt is RegionFormat.GRAPHML:
        return {"file": _graphml_bytes(crs, nodes, roads)}
    if fmt is RegionFormat.PARQUET:
        return _parquet_bytes(crs, nodes, roads)
    return {"file": _gpkg_bytes(crs, nodes, roads)}


def _graphml_bytes(crs: str, nodes: list[dict[str, Any]], roads: list[dict[str, Any]]) -> bytes:
    import io

    import networkx as nx

    g = nx.MultiDiGraph(crs=crs)
    for n in nodes:
        attrs = {"x": float(n["x"]), "y": float(n["y"])}
        if n.get("kind") is not None:
            attrs["kind"] = str(n["kind"])
        g.add_node(str(n["id"]), **attrs)
    for i, r in enumerate(roads):
        attrs = {"seq": i, "oneway": bool(r.get("oneway", False))}
        for k in _ROAD_NUMBERS:
            if r.get(k) is not None:
                attrs[k] = float(r[k])
        if r.get("name") is not None:
            attrs["name"] = str(r["name"])
        g.add_edge(str(r["from"]), str(r["to"]), **attrs)
    buf = io.BytesIO()
    nx.write_graphml(g, buf)
    return buf.getvalue()


def _tables(crs: str, nodes: list[dict[str, Any]], roads: list[dict[str, Any]]) -> tuple[Any, Any]:
    import pyarrow as pa

    node_t = pa.table(
        {
            "id": pa.array([str(n["id"]) for n in nodes], pa.string()),
            "kind": pa.array([n.get("kind") for n in nodes], pa.string()),
            "x": pa.array([float(n["x"]) for n in nodes], pa.float64()),
            "y": pa.array([float(n["y"]) for n in nodes], pa.float64()),
        }
    ).replace_schema_metadata({"crs": crs})

    def num(k: str) -> Any:
        return pa.array([None if r.get(k) is None else float(r[k]) for r in roads], pa.float64())

    road_t = pa.table(
        {
            "from": pa.array([str(r["from"]) for r in roads], pa.string()),
            "to": pa.array([str(r["to"]) for r in roads], pa.string()),
            **{k: num(k) for k in _ROAD_NUMBERS},
            "oneway": pa.array([bool(r.get("oneway", False)) for r in roads], pa.bool_()),
            "name": pa.array([r.get("name") for r in roads], pa.string()),
        }
    )
    return node_t, road_t


def _parquet_bytes(crs: str, nodes: list[dict[str, Any]], roads: list[dict[str, Any]]) -> dict:
    import io

    import pyarrow.parquet as pq

    out = {}
    for key, table in zip(("nodes", "roads"), _tables(crs, nodes, roads), strict=True):
        buf = io.BytesIO()
        pq.write_table(table, buf)
        out[key] = buf.getvalue()
    return out


def _gpkg_bytes(crs: str, nodes: list[dict[str, Any]], roads: list[dict[str, Any]]) -> bytes:
    import tempfile
    import warnings

    try:
        import geopandas as gpd
        import shapely
    except ImportError:
        raise InputError(
            "a GeoPackage region needs geopandas: pip install 'mcsim[gis]'", path="--region-format"
        ) from None
    node_t, road_t = _tables(crs, nodes, roads)
    ndf, rdf = node_t.to_pandas(), road_t.to_pandas()
    epsg = 4326 if crs == "lonlat" else None
    xy = {n: (x, y) for n, x, y in zip(ndf["id"], ndf["x"], ndf["y"], strict=True)}
    lines = [
        shapely.LineString([xy[a], xy[b]]) for a, b in zip(rdf["from"], rdf["to"], strict=True)
    ]
    ngdf = gpd.GeoDataFrame(
        ndf[["id", "kind"]], geometry=gpd.points_from_xy(ndf["x"], ndf["y"]), crs=epsg
    )
    rgdf = gpd.GeoDataFrame(rdf, geometry=lines, crs=epsg)
    with tempfile.TemporaryDirectory(prefix="mcsim-region-") as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        p = Path(tmp) / "region.gpkg"
        ngdf.to_file(p, layer="nodes", driver="GPKG", engine="pyogrio")
        rgdf.to_file(p, layer="roads", driver="GPKG", engine="pyogrio")
        return p.read_bytes()
