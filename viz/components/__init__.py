"""Solara components of the mcsim app (set-up panel, map, charts, compare, sweeps)."""
