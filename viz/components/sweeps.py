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
    """The sweeps found under the results root, Open (with a busy indicator), then the plot."""
    root = sweeps.results_root()
    version, set_version = solara.use_state(0)  # bumped by "Look again"
    found = solara.use_memo(lambda: sweeps.list_sweeps(root), [str(root), version])
    names = [e.name for e in found]
    chosen = store.sweep_folder.value if store.sweep_folder.value in names else ""
    load = store.sweep_load

    def open_() -> None:
        if chosen:
            load(chosen)

    with solara.Column(gap="8px"):
        solara.Markdown(
            f"Sweeps under the results root `{root}` (set with `mcsim app --results DIR`): "
            "folders written by `mcsim sweep … --out DIR`, or folders of `*.parquet` files "
            "with one row per run. Nothing outside this folder is read."
        )
        if not found:
            solara.Warning(
                f"No sweep found under {root}. Run `mcsim sweep SPEC --out {root}/NAME`, or "
                "start the app with `--results` pointing at your results folder.",
                classes=["mcsim-sweep-none"], dense=True,
            )  # fmt: skip
        with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
            with solara.Div(style={"min-width": "420px"}):
                solara.v.Select(
                    label="Sweep", items=[{"text": e.label, "value": e.name} for e in found],
                    v_model=chosen or None, on_v_model=lambda v: store.sweep_folder.set(v or ""),
                    class_="mcsim-sweep-select",
                )  # fmt: skip
            solara.Button("Open", on_click=open_, color="primary",
                          disabled=not chosen or load.pending,
                          classes=["mcsim-sweep-open"])  # fmt: skip
            solara.Button("Look again", on_click=lambda: set_version(version + 1), text=True,
                          classes=["mcsim-sweep-refresh"])  # fmt: skip
        if load.pending:
            solara.ProgressLinear(True)
            solara.Text("reading the sweep…", classes=["mcsim-sweep-loading"])
        elif load.error:
            exc = load.exception
            msg = str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
            solara.Error(msg, dense=True, classes=["mcsim-sweep-error"])
        df = load.value if load.finished else None
        if df is not None:
            solara.Text(f"{len(df)} runs, {len(df.columns)} columns", classes=["mcsim-sweep-size"])
            SweepPlot(df)
