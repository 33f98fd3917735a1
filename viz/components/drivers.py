"""The "What drives this" panel of Explore and Compare: which assumptions move a metric.

Reads sensitivity results (:mod:`viz.drivers`) found under the results root or named at
start-up, picks the one for the chosen scenario and the metric selected here, and shows its
bars and its ranking in words, with the registry's description and source of each parameter;
with none, the exact ``mcsim sensitivity`` command that makes one.
"""

from __future__ import annotations

import solara

from mcsim.metrics import headline_names
from viz import drivers
from viz.components import posterior, store
from viz.sweeps import results_root


def metric_choices(found: list[drivers.SensitivityView], scenario: str) -> list[str]:
    """The metrics offered: those with a result for ``scenario`` first, then the headline ones."""
    have = sorted({r.metric for r in found if r.scenario == scenario})
    return have + [m for m in headline_names() if m not in have]


@solara.component
def DrivesPanel(where: str = "explore"):
    """The panel: a metric select, then the bars, the words and the sources (or how to make one).

    Args:
        where: which tab shows it (keeps the two panels' state and CSS classes apart).
    """
    version, set_version = solara.use_state(0)
    root = results_root()
    found = solara.use_memo(lambda: drivers.find_results(root), [str(root), version])
    sid = posterior.scenario_id()
    choices = metric_choices(found.results, sid)
    metric, set_metric = solara.use_state("")
    shown = metric if metric in choices else choices[0]
    view = drivers.matching(found.results, sid, shown)
    with solara.Details("What drives this: which uncertain parameters matter", expand=False):
        with solara.Column(gap="6px", classes=["mcsim-drivers", f"mcsim-drivers-{where}"]):
            with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
                with solara.Div(style={"min-width": "260px"}):
                    solara.Select("Metric", values=choices, value=shown, on_value=set_metric,
                                  classes=["mcsim-drivers-metric"])  # fmt: skip
                solara.Button("Look again", text=True, on_click=lambda: set_version(version + 1),
                              classes=["mcsim-drivers-refresh"])  # fmt: skip
            if view is None:
                NoResult(sid, shown, root)
            else:
                Result(view)
            for problem in found.problems:
                solara.Div(children=[f"not read: {problem}"], classes=["mcsim-drivers-problem"],
                           style={"font-size": "0.75em", "color": "#b00020"})  # fmt: skip


@solara.component
def NoResult(sid: str, metric: str, root):
    """No result for this scenario and metric: the command that makes one."""
    up = store.uploaded.value
    file = up[0] if store.scenario_name.value == "" and up is not None else None
    cmd = drivers.how_to_make(sid, metric, root, scenario_file=file)
    solara.Warning(
        f"No sensitivity result for {drivers.metric_label(metric)} in {sid} under the results "
        f"root {root}. Make one (then press Look again):",
        dense=True, classes=["mcsim-drivers-none"],
    )  # fmt: skip
    solara.Div(
        children=[cmd], classes=["mcsim-drivers-command"],
        style={"font-family": "monospace", "font-size": "0.85em", "white-space": "pre-wrap",
               "background": "#f4f4f4", "padding": "6px 8px", "border-radius": "4px"},
    )  # fmt: skip
    solara.Div(
        children=["Sobol (above) gives first-order and total indices; for a quicker screening "
                  "of all 49 parameters add `--method morris --n 10` instead. `mcsim params` "
                  "lists them; `--params a,b` analyses a few."],
        style={"font-size": "0.8em", "color": "#555"},
    )  # fmt: skip


@solara.component
def Result(view: drivers.SensitivityView):
    """The bars, the ranking in words and the table of sources of one sensitivity result."""
    png = solara.use_memo(lambda: drivers.bars_png(view), [str(view.folder), view.metric])
    sampled = f"posterior {view.posterior}" if view.posterior else "the registry's priors"
    solara.Div(
        children=[f"From {view.name}: {view.method}, {view.runs} design points × {view.seeds} "
                  f"seed{'s' if view.seeds != 1 else ''}, parameters sampled from {sampled}."],
        classes=["mcsim-drivers-from"], style={"font-size": "0.8em", "color": "#444"},
    )  # fmt: skip
    solara.Image(png, classes=["mcsim-drivers-bars"])
    with solara.Div(classes=["mcsim-drivers-words"]):
        solara.Markdown("\n".join(f"- {w}" for w in drivers.ranking_words(view)))
    rows = drivers.source_rows(view)
    lines = ["| # | parameter | index | prior | source |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.rank} | {r.description} (`{r.name}`) | {r.index} | {r.prior} | "
                     f"{r.source.replace('|', '/')} |")  # fmt: skip
    more = len(view.rows) - len(rows)
    if more > 0:
        lines.append(f"\n…and {more} more with smaller indices (`{view.folder}/ranking.md`).")
    with solara.Div(classes=["mcsim-drivers-sources"], style={"font-size": "0.85em"}):
        solara.Markdown("\n".join(lines))
