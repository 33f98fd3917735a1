"""The app's state: reactive variables (one set per browser tab) and the background runs.

Solara keeps a module-level :func:`solara.reactive` per virtual kernel, i.e. per browser tab, so
two planners using the same server do not see each other's runs. Runs execute in a worker thread
(:func:`solara.lab.task`) so the page stays responsive and shows progress; a newer run
supersedes an older one, which stops at its next slice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import solara
from solara.lab import task

from mcsim.scenario import Scenario
from viz import charts, mapview, runner
from viz.runner import RunView, SetUp

#: Height (px) of each of the comparison's two maps.
COMPARE_MAP_HEIGHT = 480


@dataclass
class Explored:
    """A run, ready to show: the run, then its map renderer, then its charts.

    The worker hands it over in stages (KPI cards first, then the map, then the charts), so
    ``map`` and ``charts`` are None until drawn.
    """

    view: RunView
    map: mapview.InteractiveMap | None = None
    charts: charts.TimeseriesRenderer | None = None


@dataclass
class Compared:
    """Two runs of the same scenario and seed with different policies."""

    a: RunView
    b: RunView
    labels: tuple[str, str]
    charts_png: bytes
    map_a: mapview.InteractiveMap
    map_b: mapview.InteractiveMap


#: The chosen shipped scenario (file stem), or "" when an uploaded one is in use.
scenario_name = solara.reactive(next(iter(runner.shipped_scenarios())))
#: An uploaded scenario: (file name, validated scenario), or None.
uploaded: solara.Reactive[tuple[str, Scenario] | None] = solara.reactive(None)
#: The last upload's validation error (one line), or "".
upload_error = solara.reactive("")
#: The set-up panel's knobs.
setup = solara.reactive(SetUp())
#: The set-up panel's typed fields as typed (key of :data:`viz.runner.ENTRY_FIELDS` → text);
#: a key is present once the user has typed in that field. Read by :func:`checked_setup`.
setup_entries: solara.Reactive[dict[str, str]] = solara.reactive({})
#: Why the last Run (or comparison, or exercise on the set-up) was refused, or "".
setup_error = solara.reactive("")
#: The scrubber's minute, and whether it is playing.
minute = solara.reactive(0)
playing = solara.reactive(False)
#: Play speed: simulated minutes per wall second (one of explore.PLAY_SPEEDS).
play_speed = solara.reactive(8)
#: Policies of the comparison's run B (A is the set-up panel's).
compare_b = solara.reactive(SetUp())
#: The comparison's side-by-side maps: their shared minute.
compare_minute = solara.reactive(30)
#: The sweeps page: the results folder chosen (relative to the results root), "" for none.
sweep_folder = solara.reactive("")
#: The tab shown (index in :data:`TABS`).
TABS = ("Explore", "Compare", "Sweeps", "Exercise", "Replay", "Scenario")
tab = solara.reactive(0)


def current_scenario() -> Scenario:
    """The scenario the set-up panel points at (uploaded, or shipped)."""
    up = uploaded.value
    if up is not None and scenario_name.value == "":
        return up[1]
    return runner.load_shipped(scenario_name.value)


def checked_setup(scenario: Scenario | None = None) -> SetUp:
    """The set-up as the panel shows it, its typed fields read; never stale or clamped values.

    Raises:
        viz.runner.SetupInvalid: a typed field cannot be used (the message names it).
    """
    sc = scenario if scenario is not None else current_scenario()
    return runner.read_entries(setup.value, setup_entries.value, n_incidents=len(sc.incidents))


def _stop_when_superseded(t: Any) -> Callable[[], bool]:
    return lambda: not t.is_current()


@task
def explore_run(scenario: Scenario, s: SetUp) -> Iterator[Explored]:
    """Run the scenario with the set-up in a worker thread, handing over results in stages.

    Read the result as ``explore_run.latest`` (a staged task's ``value`` is only set while it
    runs); during a new run it still holds the previous run, which stays on screen.
    """

    def progress(share: float) -> None:
        explore_run.progress = 70 * share

    view = runner.run(
        scenario, s, progress=progress, should_stop=_stop_when_superseded(explore_run)
    )
    yield Explored(view=view)
    renderer = mapview.InteractiveMap(view)
    explore_run.progress = 85
    yield Explored(view=view, map=renderer)
    series = charts.TimeseriesRenderer(view)
    series.png(0)
    explore_run.progress = 100
    yield Explored(view=view, map=renderer, charts=series)


@task
def compare_run(scenario: Scenario, a: SetUp, b: SetUp) -> Compared:
    """Run both policy sets on the same scenario and seed (in a worker thread)."""

    def progress_a(share: float) -> None:
        compare_run.progress = 45 * share

    def progress_b(share: float) -> None:
        compare_run.progress = 45 + 45 * share

    stop = _stop_when_superseded(compare_run)
    va = runner.run(scenario, a, progress=progress_a, should_stop=stop)
    vb = runner.run(scenario, b, progress=progress_b, should_stop=stop)
    out = compared(va, vb)
    compare_run.progress = 100
    return out


def compared(va: RunView, vb: RunView) -> Compared:
    """Two finished runs with their comparison charts and maps."""
    labels = (policy_label(va), policy_label(vb))
    png = charts.compare_png(va, vb, labels=("A", "B"))
    maps = [mapview.InteractiveMap(v, height=COMPARE_MAP_HEIGHT) for v in (va, vb)]
    return Compared(a=va, b=vb, labels=labels, charts_png=png, map_a=maps[0], map_b=maps[1])


def policy_label(view: RunView) -> str:
    """``triage / dispatch / destination`` of a run."""
    p = view.result.policies
    return f"{p['triage']} / {p['dispatch']} / {p['destination']}"


@task
def sweep_load(name: str) -> Any:
    """Read the sweep ``name`` under the results root in a worker thread (a big one takes time).

    Returns the run table (a DataFrame); an :class:`InputError` (outside the root, damaged)
    is the task's exception.
    """
    from viz import sweeps

    return sweeps.load_in_root(name)
