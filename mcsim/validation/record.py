"""Historical-record files: what really happened in an incident, with sources and bands.

One YAML file per historical scenario, ``scenarios/records/<scenario_stem>.yaml``, holds the
published figures of the incident that ``scenarios/<scenario_stem>.yaml`` replays. Each figure
names a :class:`~mcsim.validation.figures.FigureName`, the published value (``record``; a
``[low, high]`` pair where sources differ), the sources it rests on, and optionally a ``band``:
the range, set from the record before looking at any model output, that the model's median
must fall in for the check to pass. A figure with ``band: null`` is shown beside the model but
not checked.

Files are validated as strictly as scenarios (unknown keys refused with the valid ones listed)
and against the scenario they check (hospital ids, source keys); every problem is one
:class:`~mcsim.errors.InputError` naming the file and the field path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from mcsim.errors import InputError
from mcsim.schema_base import StrictModel, error_lines
from mcsim.validation.figures import FigureKind, FigureName

SCHEMA_VERSION = 1

#: Evidence markers a citation must carry (CALIBRATION.md and SCIENCE.md use the same).
MARKERS = ("[paper]", "[secondary]", "[unverified]", "[derived]")

_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

Range = tuple[float, float]


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


def _numeric(value: Any, kind: FigureKind, what: str) -> float | Range:
    """A number or a ``[low, high]`` pair, checked for the figure's kind."""
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError(f"{what} must be a number or [low, high], got {len(value)} items")
        lo, hi = (_number(v, what) for v in value)
        if lo > hi:
            raise ValueError(f"{what} [low, high] has low {lo:g} > high {hi:g}")
        out: float | Range = (lo, hi)
        vals = (lo, hi)
    else:
        out = _number(value, what)
        vals = (out,)
    if kind is FigureKind.SHARE and not all(0.0 <= v <= 1.0 for v in vals):
        raise ValueError(f"{what} of a share must lie in 0-1")
    if kind is not FigureKind.SHARE and any(v < 0 for v in vals):
        raise ValueError(f"{what} must not be negative")
    return out


def _hospital_ids(value: Any, what: str) -> tuple[str, ...]:
    """A hospital id or a list of acceptable ids."""
    items = value if isinstance(value, list | tuple) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise ValueError(f"{what} must be a hospital id or a list of hospital ids, got {value!r}")
    return tuple(items)


class FigureRecord(StrictModel):
    """One published figure of an incident.

    Attributes:
        figure: which figure (see docs/validation.md for their meanings).
        hospital: the scenario's hospital id, for per-hospital figures only.
        record: the published value; ``[low, high]`` where sources differ; a hospital id or a
            list of ids for ``largest_hospital``; null where nothing was published.
        band: pass if the model's median lies inside (inclusive); ``[low, high]``, or
            acceptable hospital ids for ``largest_hospital``; null shows the figure unchecked.
        source: key(s) into the file's ``sources``, comma-separated.
        note: what the record means or how it was derived.
    """

    figure: FigureName
    hospital: str | None = Field(default=None, validate_default=True)
    record: Any
    band: Any
    source: str = Field(min_length=1)
    note: str | None = None

    @field_validator("hospital")
    @classmethod
    def _hospital_for_per_hospital_figures(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.data.get("figure")
        if name is None:
            return value
        if name.per_hospital and not value:
            raise ValueError(f"{name.value} is a per-hospital figure: name the hospital id")
        if not name.per_hospital and value:
            raise ValueError(f"{name.value} is not a per-hospital figure: leave hospital out")
        return value

    @field_validator("record", "band")
    @classmethod
    def _value_fits_the_figure(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.data.get("figure")
        if value is None or name is None:
            return value
        if name.kind is FigureKind.HOSPITAL:
            return _hospital_ids(value, info.field_name)
        out = _numeric(value, name.kind, info.field_name)
        if info.field_name == "band" and not isinstance(out, tuple):
            raise ValueError("band must be [low, high] (or null for a record-only figure)")
        return out

    @model_validator(mode="after")
    def _record_or_band(self) -> FigureRecord:
        if self.record is None and self.band is None:
            raise ValueError("a figure needs a record, a band or both")
        return self

    def sources(self) -> list[str]:
        """The source keys this figure cites."""
        return [s.strip() for s in self.source.split(",") if s.strip()]

    @property
    def key(self) -> tuple[FigureName, str | None]:
        """(figure, hospital): unique within a file."""
        return (self.figure, self.hospital)


class RecordFile(StrictModel):
    """The published record of one historical incident, checked against its scenario.

    Attributes:
        schema_version: file format version; this mcsim reads 1.
        scenario: stem of the scenario file it checks (``scenarios/<stem>.yaml``).
        incident: the incident's name and date, as a reader knows it.
        sources: key → full citation, each carrying its evidence marker ([paper],
            [secondary], [unverified] or [derived]).
        figures: the published figures.
    """

    schema_version: Literal[1]
    scenario: str = Field(min_length=1)
    incident: str = Field(min_length=1)
    sources: dict[str, str] = Field(min_length=1)
    figures: list[FigureRecord] = Field(min_length=1)

    @field_validator("sources")
    @classmethod
    def _citations_carry_markers(cls, value: dict[str, str]) -> dict[str, str]:
        for key, citation in value.items():
            if not _KEY.match(key):
                raise ValueError(f"source key {key!r}: use letters, digits, '_' or '-'")
            if not any(m in citation for m in MARKERS):
                raise ValueError(f"source {key}: the citation needs a marker, one of {MARKERS}")
        return value


@dataclass(frozen=True)
class LoadedRecord:
    """A validated record file with the scenario it checks.

    Attributes:
        record: the file's content.
        path: the record file.
        scenario_path: the scenario file it checks.
        hospitals: the scenario's hospital ids, in scenario order.
    """

    record: RecordFile
    path: Path
    scenario_path: Path
    hospitals: tuple[str, ...]


def records_dir() -> Path:
    """The shipped record files' folder (``scenarios/records``)."""
    from mcsim.simulate import scenarios_dir

    return scenarios_dir() / "records"


def _scenario_path(stem: str, record_path: Path) -> Path | None:
    from mcsim.simulate import scenarios_dir

    # Beside the records folder first (a checkout, or a user's own folder), then shipped ones.
    for folder in (record_path.resolve().parent.parent, scenarios_dir()):
        candidate = folder / f"{stem}.yaml"
        if candidate.is_file():
            return candidate
    return None


def parse_record(data: Any, *, file: str) -> RecordFile:
    """Validate a record file's data on its own (no scenario needed)."""
    if not isinstance(data, dict):
        raise InputError("a record file must be a mapping of keys to values", file=file)
    if data.get("schema_version") != SCHEMA_VERSION:
        got = data.get("schema_version")
        raise InputError(
            f"this mcsim reads schema_version {SCHEMA_VERSION}, got {got!r}",
            file=file,
            path="schema_version",
        )
    try:
        return RecordFile.model_validate(data)
    except ValidationError as exc:
        lines = error_lines(exc)
        path, msg = lines[0]
        raise InputError(msg, file=file, path=path, more=len(lines) - 1) from None


def _check_against(record: RecordFile, hospitals: Sequence[str], file: str) -> None:
    """Source keys, hospital ids and duplicates, which need more than one field to check."""
    seen: set[tuple[FigureName, str | None]] = set()
    known = set(hospitals)
    for i, fig in enumerate(record.figures):
        where = f"figures[{i}]"
        for key in fig.sources():
            if key not in record.sources:
                raise InputError(
                    f"unknown source {key!r}; sources: {', '.join(record.sources)}",
                    file=file,
                    path=f"{where}.source",
                )
        if fig.key in seen:
            about = f" for {fig.hospital}" if fig.hospital else ""
            raise InputError(
                f"{fig.figure.value}{about} appears twice", file=file, path=f"{where}.figure"
            )
        seen.add(fig.key)
        ids: list[tuple[str, Any]] = [("hospital", (fig.hospital,) if fig.hospital else ())]
        if fig.figure.kind is FigureKind.HOSPITAL:
            ids += [("record", fig.record or ()), ("band", fig.band or ())]
        for field, values in ids:
            for h in values:
                if h not in known:
                    raise InputError(
                        f"unknown hospital {h!r} of scenario {record.scenario}; hospitals: "
                        + ", ".join(hospitals),
                        file=file,
                        path=f"{where}.{field}",
                    )


def load_record(path: str | Path) -> LoadedRecord:
    """Load a record file and check it against the scenario it names.

    Raises:
        InputError: naming the file and the field path of the first problem.
    """
    from mcsim.scenario import load_scenario, read_yaml

    p = Path(path)
    file = str(p)
    record = parse_record(read_yaml(p), file=file)
    if record.scenario != p.stem:
        raise InputError(
            f"{record.scenario!r} is not this file's name: the record of scenarios/<stem>.yaml "
            f"is records/<stem>.yaml (here {p.stem!r})",
            file=file,
            path="scenario",
        )
    scenario_path = _scenario_path(record.scenario, p)
    if scenario_path is None:
        raise InputError(
            f"no scenario file {record.scenario}.yaml next to the records folder or among the "
            "shipped scenarios",
            file=file,
            path="scenario",
        )
    scenario = load_scenario(scenario_path)
    hospitals = tuple(h.id for h in scenario.hospitals)
    _check_against(record, hospitals, file)
    return LoadedRecord(record, p, scenario_path, hospitals)


def load_records(
    stems: Sequence[str] | None = None, folder: str | Path | None = None
) -> list[LoadedRecord]:
    """The record files of ``folder`` (default: the shipped ones): all, by name, or ``stems``.

    Args:
        stems: only the records of these scenarios (``<stem>.yaml`` each), in this order.
        folder: the records folder.

    Raises:
        InputError: a file is invalid, the folder has none, or a stem has no record file.
    """
    where = Path(folder) if folder is not None else records_dir()
    files = sorted(where.glob("*.yaml")) if where.is_dir() else []
    if not files:
        raise InputError("no record files (*.yaml) in this folder", file=str(where))
    if stems:
        known = {f.stem: f for f in files}
        for s in stems:
            if s not in known:
                raise InputError(
                    f"no record file for scenario {s!r}; records: {', '.join(known)}",
                    file=str(where),
                    path="SCENARIO_STEM",
                )
        files = [known[s] for s in dict.fromkeys(stems)]
    return [load_record(f) for f in files]
