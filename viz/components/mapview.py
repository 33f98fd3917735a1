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


class _FigureWidget(go.FigureWidget):
    """A ``FigureWidget`` whose comm opens only once its figure and config are set.

    ``FigureWidget(fig)`` opens its comm (sending its state to the browser) before it sets
    its data, then sends the data as an update; the browser is still loading plotly.js for
    the new model then and may miss it, leaving an empty plot now and then. Opening the comm
    last puts the whole figure into the model's first state.
    """

    def __init__(self, fig: go.Figure, config: dict) -> None:
        self._ready = False
        super().__init__(fig)
        self._config = config
        self._ready = True
        self.open()

    def open(self) -> None:
        """Open the comm, but not from the constructors above this class."""
        if getattr(self, "_ready", False):
            super().open()


def _widget(fig: go.Figure, config: dict) -> go.FigureWidget:
    return _FigureWidget(fig, config)


def _refill(widget: go.FigureWidget, fig: go.Figure) -> None:
    """Put ``fig`` into an existing widget (its traces and layout), keeping the widget.

    Replacing a widget whose browser model is still initialising (a new run, the typical run
    after replications) made the browser log "Failed to initialize model"; one widget per
    component, refilled, never leaves a model half made.
    """
    widget.data = ()
    widget.add_traces(list(fig.data))
    widget.layout = fig.layout


def _use_widget(fig_of, source: object, config: dict) -> go.FigureWidget:
    """The component's one widget, refilled from ``fig_of()`` when ``source`` changes."""
    widget = solara.use_ref(None)
    shown_source = solara.use_ref(None)
    if widget.current is None:
        widget.current = _widget(fig_of(), config)
        shown_source.current = source
    elif shown_source.current is not source:
        _refill(widget.current, fig_of())
        shown_source.current = source
    return widget.current


@solara.component
def MapFigure(
    imap: InteractiveMap,
    t: float,
    classes: list[str] | None = None,
    min_width: int = 560,
    revision: int = 0,
):
    """``imap`` at minute ``t``: zoom (wheel, box), pan (drag), hover cards, a legend.

    One widget for the component's life: another map (a new run) refills it in place, and a
    new minute or a later state of the same run moves only its moving traces.

    Args:
        imap: the run's map.
        t: the minute shown.
        classes: CSS classes of the map's box.
        min_width: the box's minimum width (px).
        revision: changes when ``imap`` was rebound to a later state of its run
            (:meth:`~viz.mapview.InteractiveMap.rebind`: a live exercise after an inject, at
            the same minute); the same map and minute alone would not redraw it.
    """
    # made here and handed to the page as it is: an element's arguments would be re-set (and
    # the per-minute changes undone) on every render
    shown = solara.use_ref(None)  # (map, its run, minute) the widget shows
    made = solara.use_ref(None)  # the whole figure the widget was just made or refilled from

    def whole() -> go.Figure:
        made.current = imap.figure(t)
        return made.current

    widget = _use_widget(whole, imap, CONFIG)
    if made.current is not None:
        imap.hand_over(made.current, widget)  # the widget now shows that figure's minute
        made.current = None
        shown.current = (imap, imap.view, t)

    def move() -> None:
        # no update before the browser has drawn the widget it was made with: a restyle
        # that arrives before plotly.js has drawn the figure leaves it empty
        m, view, minute = shown.current
        if m is imap and view is imap.view and minute == t:
            return
        shown.current = (imap, imap.view, t)
        imap.apply(widget, t)

    solara.use_effect(move, [id(widget), id(imap), id(imap.view), t])
    with solara.Div(classes=classes or [], style={"min-width": f"{min_width}px"}):
        solara.Div(classes=["mcsim-imap"], children=[widget])


@solara.component
def PlotlyFigure(fig: go.Figure, classes: list[str] | None = None):
    """A static plotly figure (hover, zoom) in one widget made once per figure."""
    widget = _use_widget(lambda: fig, fig, {"displaylogo": False})
    solara.Div(classes=classes or [], style={"width": "100%"}, children=[widget])
