"""Dispatch policies: which free ambulance goes, and whom it takes from the scene.

A dispatch policy is a pair of pure functions bundled in a :class:`DispatchRule`:
``select_vehicle`` picks one of the free vehicles for a scene, and ``select_patients`` picks,
from the triaged patients waiting at the scene, whom a vehicle that is ready to load takes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mcsim.enums import TriageTag
from mcsim.policies.registry import PolicyKind, register
from mcsim.policies.views import PatientView, VehicleView

TRANSPORTABLE = (TriageTag.IMMEDIATE, TriageTag.DELAYED, TriageTag.MINOR, TriageTag.EXPECTANT)


@dataclass(frozen=True)
class DispatchRule:
    """The two decisions of a dispatch policy."""

    select_vehicle: Callable[[Sequence[VehicleView]], int | None]
    select_patients: Callable[[Sequence[PatientView], VehicleView], list[int]]


def nearest_vehicle(free: Sequence[VehicleView]) -> int | None:
    """The free vehicle with the shortest drive to the scene (ties: lowest id)."""
    best = None
    for v in free:
        if v.travel_min_to_scene == float("inf"):
            continue
        if best is None or (v.travel_min_to_scene, v.id) < (best.travel_min_to_scene, best.id):
            best = v
    return None if best is None else best.id


def by_priority(
    waiting: Sequence[PatientView], vehicle: VehicleView, *, immediate_alone: bool = True
) -> list[int]:
    """Highest category first, first triaged first within it; fill up to capacity.

    An immediate patient travels alone when ``immediate_alone`` (one crew, one critical
    patient); otherwise the vehicle fills with patients of the first patient's category or
    lower priority.

    Returns:
        The ids to load, in loading order (may be empty).
    """
    candidates = sorted(
        (p for p in waiting if p.tag in TRANSPORTABLE),
        key=lambda p: (p.tag.priority, p.triaged_min, p.id),
    )
    if not candidates:
        return []
    first = candidates[0]
    if first.tag is TriageTag.IMMEDIATE and immediate_alone:
        return [first.id]
    chosen = [first.id]
    for p in candidates[1:]:
        if len(chosen) >= vehicle.capacity:
            break
        if p.tag is TriageTag.IMMEDIATE and immediate_alone:
            continue
        chosen.append(p.id)
    return chosen


@register(
    PolicyKind.DISPATCH,
    "priority",
    "Nearest free ambulance to the scene; loads immediate first, then delayed, then minor "
    "(first triaged first within a category); an immediate patient travels alone.",
)
def priority(*, immediate_alone: bool = True) -> DispatchRule:
    """Priority dispatch with nearest-vehicle selection."""

    def select_patients(waiting: Sequence[PatientView], vehicle: VehicleView) -> list[int]:
        return by_priority(waiting, vehicle, immediate_alone=immediate_alone)

    return DispatchRule(select_vehicle=nearest_vehicle, select_patients=select_patients)
