"""Download buttons for a run (Explore) or a comparison (Compare): tables, figures, report."""

from __future__ import annotations

from typing import Any

import solara

from viz import downloads


@solara.component
def DownloadRow(items: list[tuple[str, str, Any, str]], classes: str = "mcsim-downloads"):
    """One button per (label, file name, data, MIME type)."""
    with solara.Row(gap="6px", style={"flex-wrap": "wrap", "align-items": "center"},
                    classes=[classes]):  # fmt: skip
        solara.Text("Download:", style={"font-size": "0.85em", "color": "#444"})
        for label, name, data, mime in items:
            solara.FileDownload(data, filename=name, label=label, mime_type=mime)


@solara.component
def RunDownloads(view: Any, figures: dict[str, Any]):
    """The downloads of one run, the figures as they are on screen (``figures``)."""
    items = solara.use_memo(lambda: downloads.downloads(view, figures), [id(view), *figures])
    DownloadRow(items)


@solara.component
def CompareDownloads(done: Any, map_minute: int):
    """The downloads of a comparison: both runs' tables, its figures and a report."""

    def build() -> list[tuple[str, str, Any, str]]:
        a, b = done.a, done.b
        stem = downloads.file_stem(a) + "-compare"
        def report() -> str:
            # (each map's own tool bar saves it as a PNG at the zoom on screen)
            figures = [("comparison charts", done.charts_png)]
            return downloads.compare_report_html(a, b, done.labels, figures)

        return [
            ("Tables (CSV)", f"{stem}-tables-csv.zip",
             lambda: downloads.compare_tables_zip(a, b, "csv"), "application/zip"),
            ("Tables (Parquet)", f"{stem}-tables-parquet.zip",
             lambda: downloads.compare_tables_zip(a, b, "parquet"), "application/zip"),
            ("Figure: charts (PNG)", f"{stem}-charts.png", done.charts_png, "image/png"),
            ("Report (HTML)", f"{stem}-report.html", report, "text/html"),
        ]  # fmt: skip

    items = solara.use_memo(build, [id(done), map_minute])
    DownloadRow(items, classes="mcsim-compare-downloads")
