"""The Scenario tab: what the scenario in the set-up panel represents, assumes and rests on.

Description, the assumptions marked in the file, its header comments (sources cited) and, for
a historical scenario, the published record beside the run on screen (:mod:`viz.scenario_info`).
"""

from __future__ import annotations

import solara

from mcsim.errors import InputError
from viz import scenario_info
from viz.components import store
from viz.runner import SetUp


def untouched(setup: SetUp) -> bool:
    """Whether a run's set-up leaves the scenario as its file has it (seed, policies aside).

    Only such a run can be set beside the incident's published record.
    """
    return (
        setup.casualties is None
        and setup.ambulance_factor == 1.0
        and setup.capacity_factor == 1.0
        and setup.callin_delay_min is None
    )


@solara.component
def ScenarioTab():
    """The information panel of the set-up panel's scenario."""
    try:
        sc = store.current_scenario()
    except InputError as exc:
        solara.Error(str(exc))
        return
    stem = store.scenario_name.value or None
    latest = store.explore_run.latest
    view = latest.view if latest is not None else None
    same = view is not None and view.scenario.name == sc.name
    run = view if same and untouched(view.setup) else None
    info = solara.use_memo(
        lambda: scenario_info.scenario_info(stem, sc, run), [stem, sc.name, id(run)]
    )
    with solara.Column(gap="6px", classes=["mcsim-scenario-info"],
                       style={"max-width": "1000px"}):  # fmt: skip
        if same and run is None:
            solara.Info(
                "The run on screen changed the scenario's set-up (casualties, ambulances, "
                "capacity or call-in delay), so it is not set beside the published record; "
                "run with the file's own values to compare.",
                dense=True, classes=["mcsim-scenario-changed"],
            )  # fmt: skip
        elif info.record and run is not None:
            solara.Text(
                f"'This run' is the run on screen: seed {run.setup.seed}, "
                f"{store.policy_label(run)}.", classes=["mcsim-scenario-run"],
                style={"font-size": "0.85em", "color": "#444"},
            )  # fmt: skip
        solara.Markdown(scenario_info.info_markdown(info))
