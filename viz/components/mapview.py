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


@solara.component
def MapFigure(imap: InteractiveMap, t: float, classes: list[str] | None = None):
    """``imap`` at minute ``t``: zoom (wheel, box), pan (drag), hover cards, a legend."""
    with solara.Div(classes=["mcsim-imap", *(classes or [])], style={"min-width": "560px"}):
        # a new run gets a new widget (its key), not the old one's traces re-used; the
        # figure goes in by the effect below, since an element's arguments would be re-set
        # (and the per-minute changes undone) on every render
        element = go.FigureWidget.element().key(f"imap-{id(imap)}")

    def fill() -> None:
        widget = solara.get_widget(element)
        if not widget.data:
            fig = imap.figure(t)
            widget._config = CONFIG
            widget.layout = fig.layout
            widget.add_traces(fig.data)

    def move() -> None:
        imap.apply(solara.get_widget(element), t)

    solara.use_effect(fill, [imap])
    solara.use_effect(move, [imap, t])


@solara.component
def PlotlyFigure(fig: go.Figure, classes: list[str] | None = None):
    """A static plotly figure (hover, zoom), in one widget created and filled once per figure."""
    with solara.Div(classes=classes or [], style={"width": "100%"}):
        element = go.FigureWidget.element().key(f"fig-{id(fig)}")

    def fill() -> None:
        widget = solara.get_widget(element)
        if not widget.data:
            widget._config = {"displaylogo": False}
            widget.layout = fig.layout
            widget.add_traces(fig.data)

    solara.use_effect(fill, [fig])
