"""What a planner should know about a scenario before trusting its run: the information panel.

Every shipped scenario says, in its YAML header comments and its ``description`` field, what
it represents, where its numbers come from and what is assumed. The panel shows that text,
pulls out the lines marked **[assumption]** (and [approximation]) and the source keys cited,
and, for a historical scenario with a record file (``scenarios/records/<stem>.yaml``), the
published figures with their sources and bands beside the figures of the run on screen (one
seed; ``docs/validation.md`` has the medians over replications).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcsim.errors import InputError

#: Markers of an assumption in the scenarios' prose.
ASSUMPTION_MARKERS = ("[assumption", "[approximation")
#: A citation key in square brackets, e.g. [BO10] or [LV11, LV12].
_CITE = re.compile(r"\[([A-Z][A-Za-z0-9]*(?:\s*[,-]\s*[A-Z][A-Za-z0-9]*)*)\]")


def header_comments(text: str) -> str:
    """The comment block at the top of a YAML file, without the ``#`` marks (blank-line kept)."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip() == "" and not lines:
                continue
            break
        lines.append(line[1:].removeprefix(" ").rstrip())
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _sentences(text: str) -> list[str]:
    """The text's sentences (a header wraps sentences over lines; bullets start new ones)."""
    flat = re.sub(r"\n\s*-\s+", "\n\n", text)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", flat)]
    out = []
    for p in paragraphs:
        out += [s.strip() for s in re.split(r"(?<=[.])\s+(?=[A-Z(])", p) if s.strip()]
    return out


def assumptions(text: str) -> list[str]:
    """The sentences of ``text`` marked as assumptions or approximations, in order, once each."""
    seen: list[str] = []
    for s in _sentences(text):
        if any(m in s.lower() for m in ASSUMPTION_MARKERS) and s not in seen:
            seen.append(s)
    return seen


def cited_keys(text: str) -> list[str]:
    """The source keys cited in ``text`` ([BO10], [LV11, LV12]), in order of first citation."""
    keys: list[str] = []
    for m in _CITE.finditer(text):
        for k in re.split(r"\s*[,]\s*", m.group(1)):
            k = k.strip()
            if k and k not in keys and not k.lower().startswith(("assumption", "approximation")):
                keys.append(k)
    return keys


@dataclass(frozen=True)
class RecordRow:
    """One published figure beside this run's value."""

    figure: str
    meaning: str
    record: str
    band: str
    this_run: str
    in_band: bool | None
    source: str


@dataclass
class ScenarioInfo:
    """The panel's content for one scenario."""

    title: str
    description: str
    header: str
    assumptions: list[str]
    cited: list[str]
    incident: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    record: list[RecordRow] = field(default_factory=list)


def _fmt(value: Any, kind: Any) -> str:
    from mcsim.validation.figures import FigureKind

    if value is None:
        return "–"
    if kind is FigureKind.HOSPITAL:
        return " or ".join(value) if isinstance(value, list | tuple) else str(value)
    if isinstance(value, list | tuple):
        lo, hi = (_fmt(v, kind) for v in value)
        return lo if lo == hi else f"{lo}–{hi}"
    if kind is FigureKind.SHARE:
        return f"{100 * float(value):.0f} %"
    if kind is FigureKind.MINUTES:
        return f"{float(value):.0f} min"
    return f"{float(value):.0f}"


def _in(value: Any, band: Any, kind: Any) -> bool | None:
    from mcsim.validation.figures import FigureKind

    if band is None or value is None:
        return None
    if kind is FigureKind.HOSPITAL:
        names = band if isinstance(band, list | tuple) else [band]
        return str(value) in names
    return float(band[0]) <= float(value) <= float(band[1])


def record_path(stem: str) -> Path | None:
    """The record file of a shipped scenario, if it is a historical one."""
    from mcsim.validation.record import records_dir

    p = records_dir() / f"{stem}.yaml"
    return p if p.is_file() else None


def record_rows(stem: str, run: Any | None = None) -> tuple[str, dict[str, str], list[RecordRow]]:
    """(incident, sources, rows) of the scenario's record; each row with ``run``'s value.

    Args:
        stem: the shipped scenario's file stem.
        run: a :class:`viz.runner.RunView` of this scenario (its figures are computed), or None.

    Raises:
        InputError: the record file is invalid.
    """
    from mcsim.validation.figures import MEANINGS, compute_figures, figure_key
    from mcsim.validation.record import load_record

    path = record_path(stem)
    if path is None:
        return "", {}, []
    loaded = load_record(path)
    values: dict[str, Any] = {}
    if run is not None:
        onsets = {i.id: float(i.onset_min) for i in run.scenario.incidents}
        values = compute_figures(run.result.patients, run.metrics, loaded.hospitals, onsets=onsets)
    rows = []
    for f in loaded.record.figures:
        kind = f.figure.kind
        key = figure_key(f.figure, f.hospital)
        mine = values.get(key) if run is not None else None
        name = f.figure.value.replace("_", " ") + (f" ({f.hospital})" if f.hospital else "")
        rows.append(
            RecordRow(
                figure=name,
                meaning=MEANINGS.get(f.figure, ""),
                record=_fmt(f.record, kind),
                band=_fmt(f.band, kind) if f.band is not None else "not checked",
                this_run=_fmt(mine, kind) if run is not None else "(run it)",
                in_band=_in(mine, f.band, kind) if run is not None else None,
                source=f.source,
            )
        )
    return loaded.record.incident, dict(loaded.record.sources), rows


def scenario_info(stem: str | None, scenario: Any, run: Any | None = None) -> ScenarioInfo:
    """The information panel of a shipped scenario (``stem``) or an uploaded one (None).

    Args:
        stem: the shipped scenario's file stem, or None for an upload (no file, no record).
        scenario: the validated scenario (its ``name`` and ``description``).
        run: the run on screen if it is of this scenario (for the record's "this run").
    """
    from viz import runner

    header = ""
    if stem is not None:
        path = runner.shipped_scenarios().get(stem)
        if path is not None:
            header = header_comments(path.read_text(encoding="utf-8"))
    description = " ".join(str(scenario.description or "").split())
    text = f"{header}\n\n{description}"
    info = ScenarioInfo(
        title=scenario.name or (stem or "uploaded scenario"),
        description=description,
        header=header,
        assumptions=assumptions(text),
        cited=cited_keys(text),
    )
    if stem is not None:
        try:
            info.incident, info.sources, info.record = record_rows(stem, run)
        except InputError as exc:  # a damaged record file: say so, keep the rest
            info.incident = f"(record file refused: {exc})"
    return info


def info_markdown(info: ScenarioInfo) -> str:
    """The panel as Markdown: description, assumptions, the header, the record table."""
    out = [f"### {info.title}"]
    if info.description:
        out.append(info.description)
    if info.assumptions:
        out.append(f"**Assumptions ({len(info.assumptions)})**")
        out += [f"- {a}" for a in info.assumptions]
    if info.record:
        out.append(f"**Published record: {info.incident}** (this run: one seed; "
                   "docs/validation.md has the medians over replications)")  # fmt: skip
        table = ["| figure | record | band | this run | source |", "|---|---|---|---|---|"]
        for r in info.record:
            mark = {True: " ✓", False: " ✗ outside", None: ""}[r.in_band]
            table.append(
                f"| {r.figure} | {r.record} | {r.band} | {r.this_run}{mark} | {r.source} |"
            )
        out.append("\n".join(table))
    if info.sources:
        out.append("**Sources of the record**")
        out += [f"- **{k}**: {v}" for k, v in info.sources.items()]
    if info.header:
        out.append("**From the scenario file's header** (sources cited: "
                   f"{', '.join(info.cited) or 'none'})")  # fmt: skip
        out.append("```\n" + info.header + "\n```")
    return "\n\n".join(out)
