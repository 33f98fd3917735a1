"""The Sweeps tab: open a sweep results folder and plot a metric against a factor, by policy."""

from __future__ import annotations

import pandas as pd
import solara

from mcsim.errors import InputError
from viz import charts, sweeps
from viz.components import store


@solara.component
def SweepPlot(df: pd.DataFrame):
    """Selects for metric, factor and grouping, and the plot."""
    cols = sweeps.guess_columns(df)
    first = sweeps.default_choice(cols)
    metric, set_metric = solara.use_state(first[0])
    factor, set_factor = solara.use_state(first[1])
    by, set_by = solara.use_state(first[2] or "(none)")
    if not cols.metrics or not cols.factors:
        solara.Warning("This table has no numeric metric or no factor with a few levels.")
        return
    with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
        solara.Select("Metric", values=cols.metrics, value=metric, on_value=set_metric)
        solara.Select("Factor (x axis)", values=cols.factors, value=factor, on_value=set_factor)
        solara.Select("By", values=["(none)", *cols.groups], value=by, on_value=set_by)
    group = None if by in (None, "(none)") or sweeps.same_column(by, factor) else by
    try:
        summary = sweeps.summarise(df, metric, factor, group)
    except InputError as exc:
        solara.Error(str(exc))
        return
    solara.Image(charts.sweep_png(summary, metric, factor, group), classes=["mcsim-sweep-plot"])


@solara.component
def Sweeps():
    """Folder field, Open button, then the plot."""
    df, set_df = solara.use_state(None)
    error, set_error = solara.use_state("")

    def open_() -> None:
        try:
            set_df(sweeps.load_sweep(store.sweep_folder.value))
            set_error("")
        except InputError as exc:
            set_df(None)
            set_error(str(exc))

    with solara.Column(gap="8px"):
        solara.Markdown(
            "Open a sweep results folder (`mcsim sweep … --out DIR`, or any folder of "
            "`*.parquet` files with one row per run)."
        )
        with solara.Row(gap="8px", style={"align-items": "center"}):
            solara.InputText("Sweep folder", value=store.sweep_folder, continuous_update=True,
                             style={"min-width": "420px"})  # fmt: skip
            solara.Button("Open", on_click=open_, color="primary", classes=["mcsim-sweep-open"])
        if error:
            solara.Error(error, dense=True, classes=["mcsim-sweep-error"])
        if df is not None:
            solara.Text(f"{len(df)} runs, {len(df.columns)} columns")
            SweepPlot(df)
