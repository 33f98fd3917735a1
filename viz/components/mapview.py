"""The interactive map as a Solara component: one live plotly widget per run, moved per minute.

The widget (plotly's ``FigureWidget``, an anywidget whose JavaScript ships inside the plotly
package, so nothing is fetched from outside) is created once per map; a new minute sends only
the moving traces' new properties (:meth:`viz.mapview.InteractiveMap.apply`), and the user's
zoom and pan survive it (``uirevision``).
"""

from __future__ import annotations

import plotly.graph_objects as go
import solara

from viz.mapview import InteractiveMap

#: Plotly's mode bar: keep zoom, pan, reset and the PNG download; drop the rest.
CONFIG = {
    "displaylogo": False,
    "scrollZoom": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "filename": "mcsim-map"},
}


def _widget(fig: go.Figure, config: dict) -> go.FigureWidget:
    widget = go.FigureWidget(fig)
    widget._config = config
    return widget


@solara.component
def MapFigure(imap: InteractiveMap, t: float, classes: list[str] | None = None):
    """``imap`` at minute ``t``: zoom (wheel, box), pan (drag), hover cards, a legend."""
    # one widget per map, made here and handed to the page as it is: an element's arguments
    # would be re-set (and the per-minute changes undone) on every render
    widget = solara.use_memo(lambda: _widget(imap.figure(t), CONFIG), [imap])
    solara.use_effect(lambda: imap.apply(widget, t), [widget, t])
    with solara.Div(classes=classes or [], style={"min-width": "560px"}):
        solara.Div(classes=["mcsim-imap"], children=[widget])


@solara.component
def PlotlyFigure(fig: go.Figure, classes: list[str] | None = None):
    """A static plotly figure (hover, zoom) in one widget made once per figure."""
    widget = solara.use_memo(lambda: _widget(fig, {"displaylogo": False}), [fig])
    solara.Div(classes=classes or [], style={"width": "100%"}, children=[widget])
