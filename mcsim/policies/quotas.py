"""Pre-planned quota tables: how many patients of each category each hospital takes.

Regional major-incident plans pre-allocate casualties: each hospital receives up to a fixed
number of patients per triage category, and a hospital that reaches its quota for a category
is skipped for it. The quota is counted against the patients the destination policy has *sent*
to the hospital (``HospitalView.assigned_by_tag``), not against arrivals, because that is what
the ambulance control room counts.

A table maps hospital id to ``{immediate: n, delayed: n, minor: n, max_age: years}``; every key is
optional (a missing category is a quota of 0), and ``max_age`` makes the row a children's
hospital that takes only patients up to that age and is preferred for them.

:data:`GREATER_MANCHESTER` is the worked example of SCIENCE.md §6 (the Greater Manchester MCI
plan, BMJ Mil Health): P1 — Salford 20, MRI 20, Wythenshawe 20, Royal Manchester Children's 20
(< 12 y); P2 — Oldham 15, Stepping Hill 15, Wigan 15, Bolton 10; P3 — Tameside 40, North
Manchester 30, Rochdale 10, Fairfield 20, Bolton 20.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from mcsim.schema_base import StrictModel, error_lines


class QuotaRow(StrictModel):
    """One hospital's quotas."""

    immediate: int = Field(default=0, ge=0)
    delayed: int = Field(default=0, ge=0)
    minor: int = Field(default=0, ge=0)
    max_age: int | None = Field(
        default=None, ge=0, le=120, description="children's hospital: oldest age taken"
    )

    def quota(self, tag: str) -> int:
        """The quota for a tag name (0 for tags without one, e.g. expectant)."""
        return int(getattr(self, tag, 0)) if tag in ("immediate", "delayed", "minor") else 0


def parse_quotas(data: Any) -> dict[str, QuotaRow]:
    """Validate a quota table; problems raise ``ValueError`` naming the hospital and key."""
    if not isinstance(data, dict):
        raise ValueError("quotas must map hospital ids to {immediate, delayed, minor, max_age}")
    out: dict[str, QuotaRow] = {}
    for hid, row in data.items():
        try:
            out[str(hid)] = QuotaRow.model_validate(row if row is not None else {})
        except ValidationError as exc:
            path, msg = error_lines(exc)[0]
            raise ValueError(f"quotas.{hid}{'.' + path if path else ''}: {msg}") from None
    return out


GREATER_MANCHESTER: dict[str, dict[str, int]] = {
    "salford": {"immediate": 20},
    "mri": {"immediate": 20},
    "wythenshawe": {"immediate": 20},
    "rmch": {"immediate": 20, "max_age": 11},
    "oldham": {"delayed": 15},
    "stepping_hill": {"delayed": 15},
    "wigan": {"delayed": 15},
    "bolton": {"delayed": 10, "minor": 20},
    "tameside": {"minor": 40},
    "north_manchester": {"minor": 30},
    "rochdale": {"minor": 10},
    "fairfield": {"minor": 20},
}
