"""The interactive map as a Solara component: one live plotly widget per run, moved per minute.

The widget (plotly's ``FigureWidget``, an anywidget whose JavaScript ships inside the plotly
package, so nothing is fetched from outside) is created once per map; a new minute sends only
the moving traces' new properties (:meth:`viz.mapview.InteractiveMap.apply`), and the user's
zoom and pan survive it (``uirevision``).
"""

from __future__ import annotations

from pathlib import Path

import plotly
import plotly.graph_objects as go
import solara

from viz.mapview import InteractiveMap

#: The folder holding plotly's widget bundle (``widgetbundle.js``, ~5 MB). The app serves it
#: as a static asset (:func:`serve_plotly_bundle`) so that the browser fetches and parses it
#: once per page instead of receiving it inside every widget's state.
PLOTLY_BUNDLE_DIR = Path(plotly.__file__).parent / "package_data"
PLOTLY_BUNDLE = "widgetbundle.js"

#: Every figure widget's JavaScript: a few lines that import the bundle from the app's own
#: ``/static/assets/`` route (same origin, nothing off-host). Plotly's own ``_esm`` is the whole
#: bundle as text, which anywidget turns into a fresh Blob module per widget: ~5 MB through the
#: websocket and a full parse for each map and chart. On a loaded machine that parse missed
#: anywidget's 2-s limit for a widget to become ready, and the widget was dropped (Compare's
#: map B no longer followed the scrubber). The browser's module map keeps one copy per URL, so
#: only the page's first widget pays the parse; the plotly version in the URL keeps a cached
#: copy from outliving an upgrade.
WIDGET_ESM = (
    "const root = (globalThis.solara && globalThis.solara.rootPath) || '';\n"
    f"const href = root + '/static/assets/{PLOTLY_BUNDLE}?v={plotly.__version__}';\n"
    "const bundle = await import(new URL(href, location.origin).href);\n"
    "export default bundle.default;\n"
)


def serve_plotly_bundle() -> None:
    """Let the Solara server answer ``/static/assets/widgetbundle.js`` from plotly's folder.

    Solara serves ``/static/assets/`` from its own assets and ``settings.assets.
    extra_locations``; adding plotly's ``package_data`` there (once) is all it takes. Called
    by :mod:`viz.app` when the server loads the app.
    """
    from solara.server import settings

    where = str(PLOTLY_BUNDLE_DIR)
    if where not in settings.assets.extra_locations:
        settings.assets.extra_locations.append(where)

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

    Its JavaScript is :data:`WIDGET_ESM`, which loads plotly's bundle from the app's static
    route once per page rather than shipping it inside each widget.
    """

    _esm = WIDGET_ESM

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
    follow: solara.Reactive[int] | None = None,
    last: float = float("inf"),
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
        follow: the reactive minute ``t`` comes from (``t`` = it, at most ``last``). The map
            then moves the moment it changes, from the scrubber's handler, before the page
            re-renders: widget messages sent during a render wait for its end (the charts'
            PNG, the reconciliation), those sent from the handler leave at once.
        last: the last minute of the run (``follow``'s values are capped at it).
    """
    # made here and handed to the page as it is: an element's arguments would be re-set (and
    # the per-minute changes undone) on every render
    shown = solara.use_ref(None)  # (map, its run, minute) the widget shows
    made = solara.use_ref(None)  # the whole figure the widget was just made or refilled from

    def whole() -> go.Figure:
        made.current = imap.figure(t)
        return made.current

    widget = _use_widget(whole, imap, CONFIG)
    if made.current is not None:  # made or refilled in this render: it shows minute t
        imap.hand_over(made.current, widget)  # the widget now shows that figure's minute
        made.current = None
        shown.current = (imap, imap.view, t)

    def show(minute: float) -> None:
        """Move the widget to ``minute`` unless it shows that minute of this run already."""
        m, view, shown_minute = shown.current
        if m is imap and view is imap.view and shown_minute == minute:
            return
        shown.current = (imap, imap.view, minute)
        imap.apply(widget, minute)

    # after the render: no update before the browser has drawn the widget it was made with
    # (a restyle that arrives before plotly.js has drawn the figure leaves it empty)
    solara.use_effect(lambda: show(t), [id(widget), id(imap), id(imap.view), t])

    def follow_minute():
        if follow is None:
            return None

        def on_minute(value: int) -> None:
            # only a widget showing this run moves here; a new run waits for its render
            now = shown.current
            if now is not None and now[0] is imap and now[1] is imap.view:
                show(min(value, last))

        return follow.subscribe(on_minute)

    solara.use_effect(follow_minute, [id(widget), id(imap), id(follow), last])
    with solara.Div(classes=classes or [], style={"min-width": f"{min_width}px"}):
        solara.Div(classes=["mcsim-imap"], children=[widget])


@solara.component
def PlotlyFigure(fig: go.Figure, classes: list[str] | None = None):
    """A static plotly figure (hover, zoom) in one widget made once per figure."""
    widget = _use_widget(lambda: fig, fig, {"displaylogo": False})
    solara.Div(classes=classes or [], style={"width": "100%"}, children=[widget])
