"""The mcsim Solara app: ``mcsim app`` (or ``solara run viz/app.py``) serves :func:`Page`.

Six tabs: **Explore** (run a scenario, see it on the map through time, with KPI cards and
charts), **Compare** (two policy sets on the same seed), **Sweeps** (plot a sweep's metric
against a factor), **Exercise** (play a tabletop exercise: pause, apply injects and decisions,
export the log and the after-action report) and **Replay** (replay an exercise log with its
actions on the time line). The set-up panel on the left applies to Explore and Compare (and
to an exercise started on "(set-up panel)"). **Scenario** says what the chosen scenario
represents and assumes, with the published record of a historical incident.
"""

from __future__ import annotations

import os

# Reacton's fast renderer (opt-in in reacton 1.11) skips the unchanged parts of the page: a scrub
# re-renders the map, the charts and the time bar, and no longer walks and re-sets the ~350
# widgets of every tab (48 ms of server CPU per scrub on Las Vegas instead of 130). It is read
# when a page's render context is made, after this import; `REACTON_FAST=0` turns it off.
os.environ.setdefault("REACTON_FAST", "1")

import solara  # noqa: E402
import solara.lab

from mcsim.plugins import load_plugins_from_env
from viz.components import store
from viz.components.compare import Compare
from viz.components.exercise import Exercise, Replay
from viz.components.explore import Explore
from viz.components.mapview import serve_plotly_bundle
from viz.components.scenario import ScenarioTab
from viz.components.setup import SetupPanel
from viz.components.sweeps import Sweeps

load_plugins_from_env()  # `mcsim app --plugin my.py`: the user's code in the server too
serve_plotly_bundle()  # every plotly widget imports the bundle from here (viz.components.mapview)

TITLE = "mcsim — mass-casualty incident explorer"


@solara.component
def Page():
    """The whole app."""
    solara.Title(TITLE)
    with solara.Row(gap="12px", style={"align-items": "flex-start", "padding": "8px"}):
        with solara.Column(style={"width": "280px", "min-width": "280px", "flex-shrink": "0"}):
            SetupPanel()
        with solara.Column(style={"flex-grow": "1", "min-width": "0"}):
            with solara.lab.Tabs(value=store.tab):
                with solara.lab.Tab("Explore"):
                    Explore()
                with solara.lab.Tab("Compare"):
                    Compare()
                with solara.lab.Tab("Sweeps"):
                    Sweeps()
                with solara.lab.Tab("Exercise"):
                    Exercise()
                with solara.lab.Tab("Replay"):
                    Replay()
                with solara.lab.Tab("Scenario"):
                    ScenarioTab()
