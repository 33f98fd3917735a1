"""Runs on a map: the node and place tables a run writes, and the GIS export of a run folder.

``mcsim run --out`` writes ``nodes.parquet`` and ``places.parquet`` beside the event log
(:mod:`mcsim.gis.run_map`, no extra dependency); ``mcsim export`` turns a run folder into
layers a planner opens in QGIS (:mod:`mcsim.gis.layers` builds them as plain tables,
:mod:`mcsim.gis.export` writes CSV, or GeoJSON/GeoPackage through geopandas and pyogrio, the
optional ``[gis]`` extra).
"""
