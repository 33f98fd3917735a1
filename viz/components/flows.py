"""The Explore tab's two planner views: hospital load against capacity, and the casualty flow.

Both are drawn once per run (plotly, interactive: hover for the numbers) from
:mod:`viz.flows`; they do not follow the scrubber, since they show the whole run.
"""

from __future__ import annotations

import solara

from viz import flows
from viz.components.mapview import PlotlyFigure
from viz.runner import RunView


def deaths_markdown(paths) -> str:
    """Who died where and why, as a Markdown table (cause, deaths, median minute)."""
    table = flows.deaths_by_cause(paths)
    if not len(table):
        return "Nobody died."
    lines = ["| where and why | deaths | median minute |", "|---|---:|---:|"]
    for cause, n, median in zip(table["cause"], table["deaths"], table["median_min"], strict=True):
        lines.append(f"| {cause} | {n} | {median:.0f} |")
    return "\n".join(lines)


@solara.component
def FlowsPanel(view: RunView):
    """Hospital load small multiples, the casualty-flow Sankey and the deaths by cause."""
    load_fig = solara.use_memo(
        lambda: flows.hospital_load_figure(flows.hospital_load(view), end_min=view.last_min),
        [view],
    )
    paths = solara.use_memo(lambda: flows.casualty_paths(view), [view])
    sankey = solara.use_memo(lambda: flows.sankey_figure(paths), [paths])
    with solara.Column(gap="8px", style={"width": "100%"}):
        PlotlyFigure(load_fig, classes=["mcsim-hospital-load"])
        with solara.Row(gap="12px", style={"flex-wrap": "wrap", "align-items": "flex-start"}):
            with solara.Div(style={"flex": "3 1 640px"}):
                PlotlyFigure(sankey, classes=["mcsim-sankey"])
            with solara.Div(classes=["mcsim-deaths-by-cause"], style={"flex": "1 1 320px"}):
                solara.Markdown("**Who died, where and why**\n\n" + deaths_markdown(paths))
