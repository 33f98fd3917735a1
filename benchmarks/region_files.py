"""Loading a 10,000-node region: inline in the scenario YAML against a region file beside it.

A 100 x 100 grid of junctions (10,000 nodes, 19,800 two-way roads) plus a scene, two hospitals
and two stations is written once inline and once as each kind of region file (GraphML, Parquet
tables, GeoPackage if the [gis] extra is installed); each is then loaded with
``mcsim.load_scenario`` (read, region file inlined, validated) and the region built, best of
``--repeats``. It prints the figures; nothing is asserted (benchmarks are not tests).

Usage::

    .venv/bin/python benchmarks/region_files.py [--side 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mcsim.region import build_region  # noqa: E402
from mcsim.region_files import (  # noqa: E402
    RegionFormat,
    region_contents,
    region_file_names,
    region_file_reference,
)
from mcsim.scenario import load_scenario  # noqa: E402
from tests.conftest import small_scenario_data  # noqa: E402


def grid_region(side: int) -> dict:
    """A side x side grid written out as explicit nodes and roads, with the places joined."""
    nodes = [
        {"id": f"r{r}c{c}", "x": c * 0.1, "y": r * 0.1} for r in range(side) for c in range(side)
    ]
    roads = []
    for r in range(side):
        for c in range(side):
            if c + 1 < side:
                roads.append({"from": f"r{r}c{c}", "to": f"r{r}c{c + 1}", "travel_min": 0.2})
            if r + 1 < side:
                roads.append({"from": f"r{r}c{c}", "to": f"r{r + 1}c{c}", "travel_min": 0.2})
    nodes.append({"id": "site", "kind": "incident_site", "x": 2.55, "y": 2.55})
    roads.append({"from": "site", "to": f"r{side // 4}c{side // 4}", "travel_min": 1.0})
    return {"crs": "km", "nodes": nodes, "roads": roads}


def scenario(side: int) -> dict:
    data = small_scenario_data(50)
    data["region"] = grid_region(side)
    far = f"r{side - 1}c{side - 1}"
    data["hospitals"][0]["node"], data["hospitals"][1]["node"] = "r0c0", far
    data["stations"][0]["node"], data["stations"][1]["node"] = "r1c1", f"r{side - 2}c{side - 2}"
    return data


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    data = scenario(args.side)
    region = data["region"]
    n, m = len(region["nodes"]), len(region["roads"])
    formats = [RegionFormat.GRAPHML, RegionFormat.PARQUET]
    try:
        import pyogrio  # noqa: F401

        formats.append(RegionFormat.GPKG)
    except ImportError:
        print("(no [gis] extra: GeoPackage skipped)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inline = folder / "inline.yaml"
        inline.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        cases = [("inline YAML", inline, inline.stat().st_size)]
        for fmt in formats:
            files = region_file_names(folder / f"region_{fmt.value}", fmt)
            size = 0
            for key, content in region_contents(region, fmt).items():
                files[key].write_bytes(content)
                size += len(content)
            ref = {k: v for k, v in data.items()}
            ref["region"] = {"file": region_file_reference(files, folder)}
            p = folder / f"with_{fmt.value}.yaml"
            p.write_text(yaml.safe_dump(ref, sort_keys=False), encoding="utf-8")
            cases.append((f"region file: {fmt.value}", p, size + p.stat().st_size))
        print(f"region: {n:,} nodes, {m:,} roads; best of {args.repeats}")
        print(f"{'':24} {'bytes':>12} {'load_scenario s':>16} {'+ build_region s':>17}")
        base = None
        for label, path, size in cases:
            t_load = best_of(args.repeats, lambda p=path: load_scenario(p))
            sc = load_scenario(path)
            t_build = best_of(args.repeats, lambda sc=sc: build_region(sc.region))
            base = base or t_load
            print(
                f"{label:24} {size:>12,} {t_load:>16.3f} {t_build:>17.3f}"
                f"   ({base / t_load:.1f}x faster to load than inline)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
