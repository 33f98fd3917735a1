"""Destination policies: to which hospital a loaded vehicle drives.

A destination policy is a pure function of the patients on board and the hospitals as seen
from the vehicle's position (:class:`HospitalView`); it returns a hospital id. Hospitals on
diversion are skipped by every built-in policy while any other hospital can be reached.
"""

from __future__ import annotations

from collections.abc import Sequence

from mcsim.policies.registry import PolicyKind, register
from mcsim.policies.views import HospitalView, PatientView


def _reachable(hospitals: Sequence[HospitalView], patients: Sequence[PatientView]):
    child = any(p.is_child for p in patients)
    ok = [
        h for h in hospitals if h.travel_min != float("inf") and (h.accepts_children or not child)
    ]
    open_ = [h for h in ok if not h.on_diversion]
    return open_ or ok


@register(
    PolicyKind.DESTINATION,
    "nearest",
    "The hospital with the shortest drive (skipping hospitals on diversion while another is "
    "open, and adult-only hospitals for children).",
)
def nearest(patients: Sequence[PatientView], hospitals: Sequence[HospitalView]) -> str:
    """Nearest hospital by travel time; ties go to the hospital listed first."""
    candidates = _reachable(hospitals, patients)
    if not candidates:
        raise RuntimeError("no hospital can be reached from this vehicle's position")
    return min(enumerate(candidates), key=lambda ih: (ih[1].travel_min, ih[0]))[1].id
