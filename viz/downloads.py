"""What a planner takes away from Explore and Compare: the run's tables, figures and a report.

The tables are the run's own records in their file form (:func:`mcsim.tables.to_written`,
documented in docs/data.md): ``events`` and ``patients`` as CSV or Parquet with
``metrics.json``, zipped, so a spreadsheet or a script reads exactly what the app showed. The
figures are the PNGs on screen. The report is one self-contained HTML page in the style of the
exercise's after-action report (:mod:`mcsim.report`): what ran (scenario, seed, policies,
set-up), the headline KPIs, the hospitals' loads, the figures, and what the run is not (one
seed).
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from typing import Any, Literal

from viz import kpi
from viz.runner import RunView

Format = Literal["csv", "parquet"]


def file_stem(view: RunView) -> str:
    """A file name stem for a run: scenario name and seed (``stadium_explosion-seed0``)."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", view.scenario.name or "run").strip("_")[:40]
    return f"{base or 'run'}-seed{view.setup.seed}"


def tables_zip(view: RunView, fmt: Format = "csv") -> bytes:
    """``events`` and ``patients`` (CSV or Parquet, file form) and ``metrics.json``, zipped."""
    from mcsim.provenance import run_provenance
    from mcsim.tables import EVENTS, PATIENTS, to_written

    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown table format {fmt!r}")
    r = view.result
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, df, table in (("events", r.events, EVENTS), ("patients", r.patients, PATIENTS)):
            out = to_written(df, table)
            if fmt == "csv":
                z.writestr(f"{name}.csv", out.to_csv(index=False))
            else:
                data = io.BytesIO()
                out.to_parquet(data, index=False)
                z.writestr(f"{name}.parquet", data.getvalue())
        doc = {**r.metrics, "provenance": run_provenance(r.seed, r.policies, r.provenance)}
        z.writestr("metrics.json", json.dumps(doc, indent=2, default=str) + "\n")
    return buf.getvalue()


def compare_tables_zip(a: RunView, b: RunView, fmt: Format = "csv") -> bytes:
    """Both runs' tables, in folders ``A/`` and ``B/`` of one zip."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for label, view in (("A", a), ("B", b)):
            with zipfile.ZipFile(io.BytesIO(tables_zip(view, fmt))) as inner:
                for name in inner.namelist():
                    z.writestr(f"{label}/{name}", inner.read(name))
    return buf.getvalue()


# ============================================================================ report

CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 60em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em;
     border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td.l, th.l { text-align: left; }
img { max-width: 100%; } .meta { color: #555; font-size: 0.9em; }
.note { background: #f4f7fb; border-left: 4px solid #1f5fa8; padding: 0.4em 0.8em; }
@media print { body { margin: 0; max-width: none; font-size: 10pt; }
  table, figure, img { page-break-inside: avoid; } }
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    def cells(tag: str, values: Sequence[str]) -> str:
        return "".join(
            f"<{tag}{' class=l' if i < left else ''}>{v}</{tag}>" for i, v in enumerate(values)
        )

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f"<table><tr>{cells('th', headers)}</tr>{body}</table>"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f"<figure><img src='data:image/png;base64,{data}' alt='{html.escape(alt)}'></figure>"


def _setup_text(view: RunView) -> str:
    s = view.setup
    bits = []
    if s.casualties is not None:
        bits.append(f"{s.casualties} casualties")
    if s.ambulance_factor != 1.0:
        bits.append(f"ambulances per station × {s.ambulance_factor:g}")
    if s.capacity_factor != 1.0:
        bits.append(f"hospital capacity × {s.capacity_factor:g}")
    if s.callin_delay_min is not None:
        bits.append(f"call-in delay {s.callin_delay_min:g} min")
    return "; ".join(bits) or "the scenario's own values"


def _policies(view: RunView) -> str:
    p = view.result.policies
    return f"triage {p['triage']}, dispatch {p['dispatch']}, destination {p['destination']}"


def _hospital_rows(view: RunView) -> list[list[str]]:
    rows = []
    for hid, h in view.metrics.get("hospitals", {}).items():
        cap = view.capacity.get(hid, 0)
        got = int(h.get("patients", 0))
        rows.append(
            [
                html.escape(view.hospital_names.get(hid, hid)),
                str(got),
                str(cap),
                f"{got / cap:.1f}×" if cap else "–",
                str(int(h.get("deaths", 0))),
            ]
        )
    return rows


def _head(title: str, meta: str) -> list[str]:
    return [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>"
        f"{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='meta'>{meta}</p>",
    ]


ONE_SEED = (
    "One run, one seed: another seed draws other casualties and other chance events, so a "
    "difference of a few deaths may be noise. Use replications (mcsim sweep, or the "
    "replications in the app where offered) before drawing conclusions."
)


def run_report_html(view: RunView, figures: Sequence[tuple[str, bytes]] = ()) -> str:
    """One run as a self-contained HTML report: what ran, KPIs, hospitals, figures."""
    sc = view.scenario
    meta = (
        f"Scenario {html.escape(sc.name)}, seed {view.setup.seed}; policies: "
        f"{html.escape(_policies(view))}; set-up: {html.escape(_setup_text(view))}; "
        f"{len(view.result.events)} events over {view.horizon_min:g} simulated minutes."
    )
    parts = _head(f"{sc.name}: run report", meta)
    if sc.description:
        parts.append(f"<p>{html.escape(' '.join(str(sc.description).split()))}</p>")
    parts.append(f"<p class='note'>{html.escape(ONE_SEED)}</p>")
    parts.append("<h2>Key performance indicators</h2>")
    rows = [[html.escape(label), html.escape(v)] for label, v in kpi.values(view.metrics)]
    parts.append(_table(["KPI", "value"], rows))
    parts.append("<h2>Hospitals</h2>")
    parts.append(
        "<p>Load = incident patients received ÷ free treatment places at onset (resus bays, ED "
        "beds and minor treatment spaces not occupied before the incident).</p>"
    )
    parts.append(
        _table(["hospital", "patients", "free places", "load", "deaths"], _hospital_rows(view))
    )
    if figures:
        parts.append("<h2>Figures</h2>")
        parts += [_img(png, alt) for alt, png in figures]
    parts.append("</body></html>")
    return "\n".join(parts)


def compare_report_html(
    a: RunView, b: RunView, labels: tuple[str, str], figures: Sequence[tuple[str, bytes]] = ()
) -> str:
    """A comparison as a self-contained HTML report: both policy sets, KPIs with B − A."""
    sc = a.scenario
    meta = (
        f"Scenario {html.escape(sc.name)}, seed {a.setup.seed} for both runs (the same "
        f"casualties); set-up: {html.escape(_setup_text(a))}. A: {html.escape(_policies(a))}. "
        f"B: {html.escape(_policies(b))}."
    )
    parts = _head(f"{sc.name}: comparison report", meta)
    parts.append(f"<p class='note'>{html.escape(ONE_SEED)}</p>")
    parts.append("<h2>Key performance indicators</h2>")
    rows = [
        [html.escape(r.label), html.escape(r.a), html.escape(r.b), html.escape(r.diff)]
        for r in kpi.compare(a.metrics, b.metrics)
    ]
    head = ["KPI", f"A ({html.escape(labels[0])})", f"B ({html.escape(labels[1])})", "B − A"]
    parts.append(_table(head, rows))
    for name, view in (("A", a), ("B", b)):
        parts.append(f"<h2>Hospitals, run {name}</h2>")
        parts.append(
            _table(["hospital", "patients", "free places", "load", "deaths"], _hospital_rows(view))
        )
    if figures:
        parts.append("<h2>Figures</h2>")
        parts += [_img(png, alt) for alt, png in figures]
    parts.append("</body></html>")
    return "\n".join(parts)


def downloads(
    view: RunView, figures: dict[str, bytes | Callable[[], bytes]]
) -> list[tuple[str, str, Any, str]]:
    """(label, file name, data or a function giving it, MIME type) of one run's downloads.

    The tables, the report and figures given as functions are built only when asked for.
    """
    stem = file_stem(view)
    out: list[tuple[str, str, Any, str]] = [
        ("Tables (CSV)", f"{stem}-tables-csv.zip", lambda: tables_zip(view, "csv"),
         "application/zip"),
        ("Tables (Parquet)", f"{stem}-tables-parquet.zip", lambda: tables_zip(view, "parquet"),
         "application/zip"),
    ]  # fmt: skip
    for name, png in figures.items():
        out.append((f"Figure: {name} (PNG)", f"{stem}-{name}.png", png, "image/png"))
    def report() -> str:
        shown = [(n, f() if callable(f) else f) for n, f in figures.items()]
        return run_report_html(view, shown)

    out.append(("Report (HTML)", f"{stem}-report.html", report, "text/html"))
    return out
