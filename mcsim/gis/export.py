"""``mcsim export``: a run folder as files a GIS opens (GeoPackage, GeoJSON, or CSV with WKT).

GeoPackage and GeoJSON go through geopandas and pyogrio (the optional ``[gis]`` extra): the
formats have details (GeoPackage's SQLite tables, GeoJSON's coordinate order and CRS rules)
that those libraries get right. CSV needs neither: one file per layer, the coordinates as
columns and the geometry as WKT text in a ``wkt`` column, which QGIS's "delimited text" source
reads.

A GeoPackage is one file with one layer per table; GeoJSON and CSV are one file per layer in a
folder. Outputs are written whole or not at all, and existing ones are refused unless
``force`` (:mod:`mcsim.safeio`).
"""

from __future__ import annotations

import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcsim.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


class ExportFormat(StrEnum):
    """What ``mcsim export --format`` writes."""

    GEOJSON = "geojson"
    GPKG = "gpkg"
    CSV = "csv"


#: Layers whose rows are trips (lines); the others are points.
LINE_LAYERS = frozenset({"trips"})


def default_out(run_dir: Path, fmt: ExportFormat) -> Path:
    """Where an export goes without ``--out``: ``RUN_DIR/run.gpkg``, ``RUN_DIR/geojson/``..."""
    return run_dir / "run.gpkg" if fmt is ExportFormat.GPKG else run_dir / fmt.value


def output_files(out: Path, fmt: ExportFormat, names: list[str]) -> list[Path]:
    """The files an export writes: ``out`` itself for a GeoPackage, else one per layer in it."""
    if fmt is ExportFormat.GPKG:
        return [out]
    return [out / f"{name}.{fmt.value}" for name in names]


def parse_format(text: str) -> ExportFormat:
    """``--format``'s value (an InputError naming the known ones otherwise)."""
    try:
        return ExportFormat(text.lower())
    except ValueError:
        known = ", ".join(f.value for f in ExportFormat)
        raise InputError(f"unknown format {text!r}; known: {known}", path="--format") from None


def require_gis(fmt: ExportFormat) -> Any:
    """geopandas, or an InputError telling the user to install the ``[gis]`` extra."""
    try:
        import geopandas
        import pyogrio  # noqa: F401 (geopandas' writer here)
        import shapely  # noqa: F401
    except ImportError:
        raise InputError(
            f"--format {fmt.value} needs geopandas and pyogrio: pip install 'mcsim[gis]' "
            "(or use --format csv)",
            path="--format",
        ) from None
    return geopandas


def export_run(
    run_dir: str | Path,
    *,
    fmt: ExportFormat | str = ExportFormat.GPKG,
    out: str | Path | None = None,
    step_min: float = 15.0,
    force: bool = False,
) -> list[Path]:
    """Write the export layers of the run in ``run_dir`` (see :mod:`mcsim.gis.layers`).

    Args:
        run_dir: a folder written by ``mcsim run --out``.
        fmt: geojson, gpkg or csv.
        out: the GeoPackage file, or the folder of GeoJSON/CSV files (default: in ``run_dir``).
        step_min: minutes between two rows of the hospital_load layer.
        force: overwrite existing outputs.

    Returns:
        The files written.

    Raises:
        InputError: a bad run folder, a missing ``[gis]`` extra, or outputs that exist.
    """
    from mcsim.gis.layers import layers, read_run
    from mcsim.safeio import check_outputs, write_files
    from mcsim.tables import EXPORT_LAYERS

    fmt = parse_format(fmt) if isinstance(fmt, str) else fmt
    gpd = None if fmt is ExportFormat.CSV else require_gis(fmt)
    run_dir = Path(run_dir)
    target = Path(out) if out is not None else default_out(run_dir, fmt)
    files = output_files(target, fmt, list(EXPORT_LAYERS))
    check_outputs(files, force=force)
    run = read_run(run_dir)
    frames = layers(run, step_min=step_min)
    if fmt is ExportFormat.CSV:
        contents: dict[Path, Any] = {
            f: _csv_bytes(name, df) for f, (name, df) in zip(files, frames.items(), strict=True)
        }
    elif fmt is ExportFormat.GEOJSON:
        contents = {
            f: _ogr_bytes(gpd, {name: df}, "GeoJSON", run.crs)
            for f, (name, df) in zip(files, frames.items(), strict=True)
        }
    else:
        contents = {target: _ogr_bytes(gpd, frames, "GPKG", run.crs)}
    return write_files(contents, force=force)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Categories as text (OGR has no categorical type)."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype("string")
    return out


def wkt(name: str, df: pd.DataFrame) -> list[str]:
    """The rows' geometries as WKT: ``POINT (x y)``, or ``LINESTRING (x0 y0, x1 y1)``."""
    if name in LINE_LAYERS:
        return [
            f"LINESTRING ({_num(a)} {_num(b)}, {_num(c)} {_num(d)})"
            for a, b, c, d in zip(df["x_from"], df["y_from"], df["x_to"], df["y_to"], strict=True)
        ]
    return [f"POINT ({_num(x)} {_num(y)})" for x, y in zip(df["x"], df["y"], strict=True)]


def _num(x: Any) -> str:
    """The shortest text that reads back as the same double."""
    return repr(float(x))


def _csv_bytes(name: str, df: pd.DataFrame) -> bytes:
    table = _plain(df)
    table["wkt"] = wkt(name, df)
    return table.to_csv(index=False).encode("utf-8")


def geodataframe(gpd: Any, name: str, df: pd.DataFrame, crs: str) -> Any:
    """A layer with its geometry: points at (x, y), or a trip's straight line."""
    import numpy as np
    import shapely

    if name in LINE_LAYERS:
        coords = np.stack(
            [df[["x_from", "y_from"]].to_numpy(float), df[["x_to", "y_to"]].to_numpy(float)],
            axis=1,
        )
        geometry = shapely.linestrings(coords) if len(df) else []
    else:
        geometry = gpd.points_from_xy(df["x"], df["y"])
    epsg = crs if crs.startswith("EPSG:") else None
    return gpd.GeoDataFrame(_plain(df), geometry=geometry, crs=epsg)


def _ogr_bytes(gpd: Any, frames: dict[str, pd.DataFrame], driver: str, crs: str) -> bytes:
    """The file pyogrio writes for ``frames`` (one layer each), as bytes for an atomic write."""
    import warnings

    suffix = ".gpkg" if driver == "GPKG" else ".geojson"
    with tempfile.TemporaryDirectory(prefix="mcsim-export-") as tmp, warnings.catch_warnings():
        # a local_km region has no CRS to give, on purpose (the crs column says so)
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        path = Path(tmp) / f"export{suffix}"
        for name, df in frames.items():
            gdf = geodataframe(gpd, name, df, crs)
            gdf.to_file(path, layer=name, driver=driver, engine="pyogrio")
        return path.read_bytes()


__all__ = ["ExportFormat", "export_run"]
