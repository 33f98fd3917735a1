"""The Compare tab: the set-up panel's run (A) against another policy set (B), same seeds.

Both runs share the scenario, the set-up's parameters and the seed, so they have the same
casualties (common random numbers); only the policies differ. The first seed's table (KPIs side
by side with B − A) shows at once; then both sides are replicated on the same seeds
(:mod:`.replications`) and the paired table gives B − A with its interval and "B better in k of
N", naming a winner only where the interval excludes 0.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace
from typing import Any

import solara

from mcsim.errors import InputError
from mcsim.policies import default_registry
from viz import kpi
from viz.components import posterior, store
from viz.components import replications as reps
from viz.components.downloads import CompareDownloads
from viz.components.drivers import DrivesPanel
from viz.components.mapview import MapFigure
from viz.components.setup import PolicySelects


def b_defaults(policies: Any) -> SimpleNamespace:
    """B's policies before the user picks: the scenario's, with another destination policy.

    Comparing a plan with itself teaches nothing, so B starts on the first registered
    destination policy that differs from the scenario's.
    """
    names = default_registry().names("destination")
    other = next((n for n in names if n != policies.destination), policies.destination)
    return SimpleNamespace(triage=policies.triage, dispatch=policies.dispatch, destination=other)


@solara.component
def DiffTable(rows: list[kpi.DiffRow], labels: tuple[str, str]):
    """KPIs of A and B on one seed with the difference.

    Nothing is in bold: one seed cannot tell a difference from noise (the replicated table,
    :class:`~viz.components.replications.PairedTable`, names a winner where it can).
    """
    head = ["KPI", f"A ({labels[0]})", f"B ({labels[1]})", "B − A (this seed)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append(f"| {r.label} | {r.a} | {r.b} | {r.diff} |")
    with solara.Div(classes=["mcsim-compare-table"]):
        solara.Markdown("\n".join(lines))


@solara.component
def Compare():
    """Policy selects for B, Run comparison, the tables and the charts."""
    first = store.compare_run
    reps.use_compare_replications(first.value if first.finished else first.latest, first.finished)
    try:
        scenario = store.current_scenario()
    except InputError as exc:
        solara.Error(str(exc))
        return
    a = store.setup.value
    pol = scenario.policies
    with solara.Column(gap="8px"):
        solara.Markdown(
            "**A** uses the set-up panel's policies; choose **B**'s here. Both run on the same "
            f"scenario and seeds (from {a.seed}), so the casualties are identical."
        )
        with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
            b_default = b_defaults(pol)
            PolicySelects(store.compare_b, b_default, prefix="B: ")

            def go() -> None:
                try:  # the set-up panel's typed fields, read now (never stale values)
                    a_now = store.checked_setup(scenario)
                except InputError as exc:
                    store.setup_error.value = str(exc)
                    return
                store.setup_error.value = ""
                chosen = store.compare_b.value
                b = dataclasses.replace(
                    a_now,
                    triage=chosen.triage or b_default.triage,
                    dispatch=chosen.dispatch or b_default.dispatch,
                    destination=chosen.destination or b_default.destination,
                )
                store.compare_run(scenario, a_now, b)

            solara.Button("Run comparison", color="primary", on_click=go,
                          classes=["mcsim-compare-run"])  # fmt: skip
        if store.setup_error.value:
            solara.Error(store.setup_error.value, classes=["mcsim-setup-error"], dense=True)
        run = store.compare_run
        # keyed: the maps below keep their widgets when the tables above come and go
        if run.pending:
            solara.ProgressLinear(run.progress or True).key("progress")
        if run.error:
            solara.Error(str(run.exception), classes=["mcsim-run-error"], dense=True).key("error")
        done = run.value if run.finished else run.latest
        if done is None:
            return
        replicated = reps.compare_result(done)
        with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}).key(
            "reps"
        ):
            reps.CountInput()
            finished = None if replicated is None else replicated.a
            reps.Progress(reps.compare_reps, reps.compare_done.value, finished, "replicating")
        if replicated is not None:
            reps.PairedTable(replicated.rows, done.labels, replicated.a.n).key("paired")
            solara.Image(replicated.bands_png, classes=["mcsim-compare-bands"]).key("bands")
        plan = None if replicated is None else replicated.plan
        posterior.UncertaintyNote(plan).key("uncertainty")
        one = done if replicated is None or replicated.drawn is None else replicated.drawn
        solara.Text(seed_line(one, plan), classes=["mcsim-compare-seed"]).key("seed")
        rows = kpi.compare(one.a.metrics, one.b.metrics)
        DiffTable(rows, one.labels).key("diff")
        solara.Image(one.charts_png, classes=["mcsim-compare-charts"]).key("charts")
        SideBySide(one).key("maps")
        MinuteCompareDownloads(one).key("downloads")
        DrivesPanel("compare").key("drivers")


def seed_line(one: store.Compared, plan: Any) -> str:
    """What the one-seed table and the maps show: a seed, and a posterior draw if any."""
    seed = one.a.setup.seed
    if plan is not None and plan.name:
        return (f"Seed {seed} with the first parameter set drawn from posterior {plan.name}, "
                "alone (the maps below show it):")  # fmt: skip
    return f"Seed {seed} alone (the maps below show it):"


@solara.component
def MinuteCompareDownloads(done: store.Compared):
    """The comparison's downloads (they read the scrubber's minute; the tab does not)."""
    CompareDownloads(done, store.compare_minute.value)


@solara.component
def SideBySide(done: store.Compared):
    """The two runs' maps at the scrubber's minute, with one scrubber for both.

    It reads the minute itself, so that a scrub re-renders the maps and not the whole tab.
    """
    last = int(math.ceil(max(done.a.last_min, done.b.last_min)))
    t = min(store.compare_minute.value, last)
    with solara.Column(gap="2px", classes=["mcsim-compare-maps"]):
        with solara.Row(gap="6px", style={"align-items": "center"}):
            solara.Text("Both runs at", style={"white-space": "nowrap"})
            with solara.Div(style={"flex-grow": "1"}, classes=["mcsim-compare-scrubber"]):
                solara.SliderInt("minute", value=store.compare_minute, min=0, max=last)
        with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
            for name, view, renderer in (("A", done.a, done.map_a), ("B", done.b, done.map_b)):
                with solara.Column(gap="0px"):
                    solara.Text(f"{name}: {store.policy_label(view)}",
                                style={"font-weight": "bold", "font-size": "0.9em"})  # fmt: skip
                    MapFigure(
                        renderer, t, classes=[f"mcsim-compare-map-{name.lower()}"], min_width=440,
                        follow=store.compare_minute, last=last,
                    ).key(f"map-{name}")
