"""The mcsim Solara app: explore a run on a map, scrub through time, compare policies.

The app reads the model's records (the event log and the patients table), never live agents,
so the state shown at any minute is reconstructed from the log, not by re-running anything.
Pure logic (state at a time, trip interpolation, series, KPI formatting, sweep tables) lives in
plain modules here (:mod:`viz.state`, :mod:`viz.charts`, :mod:`viz.kpi`, :mod:`viz.runner`,
:mod:`viz.sweeps`); Solara components live in :mod:`viz.components`; the page is
:mod:`viz.app`. The core (``mcsim``) never imports this package.
"""
