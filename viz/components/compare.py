"""The Compare tab: the set-up panel's run (A) against another policy set (B), same seed.

Both runs share the scenario, the set-up's parameters and the seed, so they have the same
casualties (common random numbers); only the policies differ. The table shows the KPIs side
by side with B − A, marking the better run on each line.
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
from viz.components import store
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
    """KPIs of A and B with the difference; the better value in bold."""
    head = ["KPI", f"A ({labels[0]})", f"B ({labels[1]})", "B − A"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        a = f"**{r.a}**" if r.better == "A" else r.a
        b = f"**{r.b}**" if r.better == "B" else r.b
        lines.append(f"| {r.label} | {a} | {b} | {r.diff} |")
    with solara.Div(classes=["mcsim-compare-table"]):
        solara.Markdown("\n".join(lines))


@solara.component
def Compare():
    """Policy selects for B, Run comparison, the table and the charts."""
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
            f"scenario and seed ({a.seed}), so the casualties are identical."
        )
        with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
            b_default = b_defaults(pol)
            PolicySelects(store.compare_b, b_default, prefix="B: ")

            def go() -> None:
                chosen = store.compare_b.value
                b = dataclasses.replace(
                    store.setup.value,
                    triage=chosen.triage or b_default.triage,
                    dispatch=chosen.dispatch or b_default.dispatch,
                    destination=chosen.destination or b_default.destination,
                )
                store.compare_run(scenario, store.setup.value, b)

            solara.Button("Run comparison", color="primary", on_click=go,
                          classes=["mcsim-compare-run"])  # fmt: skip
        run = store.compare_run
        if run.pending:
            solara.ProgressLinear(run.progress or True)
        if run.error:
            solara.Error(str(run.exception), classes=["mcsim-run-error"], dense=True)
        done = run.value if run.finished else run.latest
        if done is None:
            return
        rows = kpi.compare(done.a.metrics, done.b.metrics)
        DiffTable(rows, done.labels)
        solara.Image(done.charts_png, classes=["mcsim-compare-charts"])
        SideBySide(done, store.compare_minute.value)


@solara.component
def SideBySide(done: store.Compared, minute: int):
    """The two runs' maps at ``minute``, with one scrubber for both."""
    last = int(math.ceil(max(done.a.last_min, done.b.last_min)))
    t = min(minute, last)
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
                        renderer, t, classes=[f"mcsim-compare-map-{name.lower()}"], min_width=440
                    ).key(f"map-{name}")
