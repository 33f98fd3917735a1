"""A twin of today: start a scenario from the region's current state (``mcsim run --census``).

A duty officer asks "what if it happened now?". The scenario says what the region *has*
(beds, bays, theatres, ICU beds, ambulances); a census says what of it is *in use or available
right now*. :func:`apply_census` returns a copy of the scenario with each hospital's
``occupied`` counts and each station's vehicle counts replaced by the census, before the model
is built, so the model itself knows nothing of censuses.

File format (CSV, UTF-8, one header row; column order free, names case-insensitive)::

    as_of,kind,id,resource,count
    2026-11-29T07:45:00Z,hospital,city_general,ed_beds,33
    2026-11-29T07:45:00Z,hospital,city_general,icu_beds,22
    2026-11-29T07:50:00+01:00,station,central,als,4

- ``as_of``: when the figure was true, ISO 8601 **with a time zone** (``Z`` or ``+01:00``).
  Rows older than ``max_age_h`` (default 24 h) are refused, and so are rows from the future
  (more than ``future_tolerance_min`` ahead of now, for clock skew).
- ``kind``: ``hospital`` or ``station``.
- ``id``: a hospital or station id of the scenario.
- ``resource``: for a hospital, one of ``resus_bays``, ``ed_beds``,
  ``minor_treatment_spaces``, ``operating_rooms``, ``icu_beds`` and ``count`` is how many are
  **occupied**; for a station, a vehicle type (``als``, ``bls``, ``bus``) and ``count`` is how
  many are **available** (the others are out on calls or off the road).
- Resources a census does not mention keep the scenario's values. A resource may appear once
  per hospital or station.

Every bad row is refused with an :class:`~mcsim.errors.InputError` naming the file, the row
(header = row 1) and the column: unknown ids or resources, negative counts, counts over the
scenario's capacity (occupied > beds, available > the station's fleet of that type), stale or
future or zone-less timestamps, duplicates.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mcsim.enums import VehicleType
from mcsim.errors import InputError, echo
from mcsim.scenario import BED_RESOURCES, Scenario

COLUMNS = ("as_of", "kind", "id", "resource", "count")
HOSPITAL_RESOURCES = BED_RESOURCES  # the schema's list (mcsim.scenario)
DEFAULT_MAX_AGE_H = 24.0


@dataclass(frozen=True)
class CensusRow:
    """One validated census row.

    Attributes:
        row: its row number in the file (the header is row 1).
        as_of: when the figure was true (aware datetime).
        kind: ``hospital`` or ``station``.
        id: the hospital or station id.
        resource: a hospital resource or a vehicle type.
        count: occupied (hospital) or available (station).
    """

    row: int
    as_of: datetime
    kind: str
    id: str
    resource: str
    count: int


def read_census(
    path: str | Path,
    *,
    now: datetime | None = None,
    max_age_h: float = DEFAULT_MAX_AGE_H,
    future_tolerance_min: float = 15.0,
) -> list[CensusRow]:
    """Read and check the form of a census file (not yet against a scenario).

    Args:
        path: the CSV file.
        now: the present (an aware datetime; the system clock in UTC when None).
        max_age_h: rows whose ``as_of`` is older than this many hours are refused.
        future_tolerance_min: rows dated further ahead than this are refused.

    Raises:
        InputError: naming the file, and the row and column of the first bad value.
    """
    from mcsim.safeio import read_text

    file = str(path)
    if not 0 < max_age_h < math.inf:  # NaN too: it would reach timedelta()
        raise InputError(
            f"must be a finite number of hours > 0, got {max_age_h}", path="--census-max-age-h"
        )
    now = now or datetime.now(UTC)
    lines = read_text(path, what="census file", encoding="utf-8-sig").splitlines()
    reader = csv.reader(lines)
    header = next(reader, None)
    if not header:
        raise InputError("empty file; the header must be " + ",".join(COLUMNS), file=file)
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; the header must have " + ",".join(COLUMNS),
            file=file,
            path="row 1",
        )
    extra = [n for n in names if n not in COLUMNS]
    if extra:
        raise InputError(
            f"unknown column {echo(extra[0])}; the columns are " + ",".join(COLUMNS),
            file=file,
            path="row 1",
        )
    col = {c: names.index(c) for c in COLUMNS}
    rows: list[CensusRow] = []
    for rownum, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(names):
            raise InputError(
                f"has {len(values)} values, the header {len(names)}",
                file=file,
                path=f"row {rownum}",
            )

        def where(c: str, rownum: int = rownum) -> str:
            return f"row {rownum}, column {c}"

        cell = {c: values[col[c]].strip() for c in COLUMNS}
        as_of = _timestamp(cell["as_of"], file, where("as_of"))
        age = now - as_of
        if age > timedelta(hours=max_age_h):
            raise InputError(
                f"stale: as of {as_of.isoformat()}, {age.total_seconds() / 3600:.1f} h old; "
                f"the limit is {max_age_h:g} h (--census-max-age-h)",
                file=file,
                path=where("as_of"),
            )
        if -age > timedelta(minutes=future_tolerance_min):
            raise InputError(
                f"in the future: {as_of.isoformat()} is after now ({now.isoformat()})",
                file=file,
                path=where("as_of"),
            )
        kind = cell["kind"].lower()
        if kind not in ("hospital", "station"):
            raise InputError(
                f"must be hospital or station, got {echo(cell['kind'])}",
                file=file,
                path=where("kind"),
            )
        if not cell["id"]:
            raise InputError("empty id", file=file, path=where("id"))
        resource = cell["resource"].lower()
        valid = HOSPITAL_RESOURCES if kind == "hospital" else tuple(v.value for v in VehicleType)
        if resource not in valid:
            raise InputError(
                f"unknown {kind} resource {echo(cell['resource'])}; valid: {', '.join(valid)}",
                file=file,
                path=where("resource"),
            )
        try:
            count = int(cell["count"])
        except ValueError:
            raise InputError(
                f"must be a whole number, got {echo(cell['count'])}", file=file, path=where("count")
            ) from None
        if count < 0:
            raise InputError(f"must be >= 0, got {count}", file=file, path=where("count"))
        rows.append(CensusRow(rownum, as_of, kind, cell["id"], resource, count))
    if not rows:
        raise InputError("no census rows after the header", file=file)
    return rows


def _timestamp(text: str, file: str, where: str) -> datetime:
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(
            f"not an ISO 8601 timestamp: {echo(text)} (e.g. 2026-11-29T07:45:00Z)",
            file=file,
            path=where,
        ) from None
    if t.tzinfo is None or t.utcoffset() is None:
        raise InputError(
            f"{echo(text)} has no time zone; add Z (UTC) or an offset such as +01:00",
            file=file,
            path=where,
        )
    return t


def apply_census(scenario: Scenario, rows: list[CensusRow], *, file: str) -> Scenario:
    """A copy of ``scenario`` with the census's occupied counts and available vehicles.

    Args:
        scenario: the validated scenario (not modified).
        rows: from :func:`read_census`.
        file: the census file's name, for messages.

    Raises:
        InputError: an id the scenario does not have, a count over capacity, a duplicate.
    """
    out = scenario.model_copy(deep=True)
    hospitals = {h.id: h for h in out.hospitals}
    stations = {s.id: s for s in out.stations}
    seen: dict[tuple[str, str, str], int] = {}
    for r in rows:
        key = (r.kind, r.id, r.resource)
        if key in seen:
            raise InputError(
                f"{r.kind} {echo(r.id)} {r.resource} already given in row {seen[key]}",
                file=file,
                path=f"row {r.row}, column resource",
            )
        seen[key] = r.row
        if r.kind == "hospital":
            h = hospitals.get(r.id)
            if h is None:
                raise InputError(
                    f"unknown hospital id {echo(r.id)}; the scenario has: {', '.join(hospitals)}",
                    file=file,
                    path=f"row {r.row}, column id",
                )
            capacity = getattr(h, r.resource)
            if r.count > capacity:
                raise InputError(
                    f"{r.count} {r.resource} occupied at {echo(r.id)}, which has {capacity}",
                    file=file,
                    path=f"row {r.row}, column count",
                )
            setattr(h.occupied, r.resource, r.count)
        else:
            s = stations.get(r.id)
            if s is None:
                raise InputError(
                    f"unknown station id {echo(r.id)}; the scenario has: {', '.join(stations)}",
                    file=file,
                    path=f"row {r.row}, column id",
                )
            groups = [v for v in s.vehicles if v.type.value == r.resource]
            fleet = sum(v.count for v in groups)
            if r.count > fleet:
                raise InputError(
                    f"{r.count} {r.resource} available at station {echo(r.id)}, whose fleet has "
                    f"{fleet}; add the vehicles to the scenario first",
                    file=file,
                    path=f"row {r.row}, column count",
                )
            left = r.count
            for v in groups:  # fill the station's groups of this type in file order
                v.count = min(v.count, left)
                left -= v.count
    return out


def load_census(
    scenario: Scenario,
    path: str | Path,
    *,
    now: datetime | None = None,
    max_age_h: float = DEFAULT_MAX_AGE_H,
) -> Scenario:
    """:func:`read_census` then :func:`apply_census`: the scenario as of the census."""
    rows = read_census(path, now=now, max_age_h=max_age_h)
    return apply_census(scenario, rows, file=str(path))
