"""Dispatch policies: which free ambulance goes, and whom it takes from the scene.

A dispatch policy is a factory (its keyword parameters are the tunable ones) returning a pair
of pure functions bundled in a :class:`DispatchRule`: ``select_vehicle`` picks one of the free
vehicles for a scene, and ``select_patients`` picks, from the triaged patients waiting at the
scene, whom a vehicle that is ready to load takes.

Rules common to the built-in policies (:func:`fill_vehicle`):

- an immediate patient travels alone when ``immediate_alone`` (one crew, one critical patient);
- a vehicle carrying only minor (walking) patients may take up to ``VehicleView.max_minor`` of
  them (several minor patients per vehicle: the scenario's ``policies.strategy.minor_seats``
  seats walking wounded beside the stretchers);
- a bus (:attr:`VehicleType.BUS`) takes walking wounded (minor) only, up to its capacity.

Sacco's STM order is in :mod:`mcsim.policies.stm`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mcsim.enums import TriageTag, VehicleType
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


def fill_vehicle(
    ranked: Sequence[PatientView], vehicle: VehicleView, *, immediate_alone: bool = True
) -> list[int]:
    """Load ``ranked`` patients in order into ``vehicle`` (the rules of the module docstring).

    Args:
        ranked: candidate patients, best first.
        vehicle: the vehicle that loads.
        immediate_alone: an immediate patient travels alone.

    Returns:
        The ids to load, in loading order (may be empty).
    """
    cand = [p for p in ranked if p.tag in TRANSPORTABLE]
    if vehicle.type is VehicleType.BUS:
        cand = [p for p in cand if p.tag is TriageTag.MINOR]
        return [p.id for p in cand[: vehicle.capacity]]
    if not cand:
        return []
    first = cand[0]
    if first.tag is TriageTag.IMMEDIATE and immediate_alone:
        return [first.id]
    chosen = [first]
    for p in cand[1:]:
        if p.tag is TriageTag.IMMEDIATE and immediate_alone:
            continue
        all_minor = p.tag is TriageTag.MINOR and all(c.tag is TriageTag.MINOR for c in chosen)
        limit = vehicle.max_minor if all_minor else vehicle.capacity
        if len(chosen) < limit:
            chosen.append(p)
    return [p.id for p in chosen]


def by_priority(
    waiting: Sequence[PatientView],
    vehicle: VehicleView,
    *,
    immediate_alone: bool = True,
    hold_minor_while_untriaged: bool = True,
) -> list[int]:
    """Highest category first, first triaged first within it; fill up to capacity.

    With ``hold_minor_while_untriaged``, minor and expectant patients are not loaded while
    patients at the scene (reachable, not trapped) still await triage: one of them may be
    immediate, and a walking patient can wait.

    Returns:
        The ids to load, in loading order (may be empty).
    """
    hold = hold_minor_while_untriaged and vehicle.untriaged_at_scene > 0
    held = (TriageTag.MINOR, TriageTag.EXPECTANT)
    ranked = sorted(
        (p for p in waiting if p.tag in TRANSPORTABLE and not (hold and p.tag in held)),
        key=lambda p: (p.tag.priority, p.triaged_min, p.id),
    )
    return fill_vehicle(ranked, vehicle, immediate_alone=immediate_alone)


def first_come(
    waiting: Sequence[PatientView], vehicle: VehicleView, *, immediate_alone: bool = True
) -> list[int]:
    """Whoever was triaged first goes first, whatever the tag (expectant still last).

    Returns:
        The ids to load, in loading order (may be empty).
    """
    ranked = sorted(
        (p for p in waiting if p.tag in TRANSPORTABLE),
        key=lambda p: (p.tag is TriageTag.EXPECTANT, p.triaged_min, p.id),
    )
    return fill_vehicle(ranked, vehicle, immediate_alone=immediate_alone)


@register(
    PolicyKind.DISPATCH,
    "priority",
    "Nearest free ambulance to the scene; loads immediate first, then delayed, then minor "
    "(first triaged first within a category; minors wait while anyone awaits triage); an "
    "immediate patient travels alone.",
)
def priority(
    *, immediate_alone: bool = True, hold_minor_while_untriaged: bool = True
) -> DispatchRule:
    """Priority dispatch with nearest-vehicle selection."""

    def select_patients(waiting: Sequence[PatientView], vehicle: VehicleView) -> list[int]:
        return by_priority(
            waiting,
            vehicle,
            immediate_alone=immediate_alone,
            hold_minor_while_untriaged=hold_minor_while_untriaged,
        )

    return DispatchRule(select_vehicle=nearest_vehicle, select_patients=select_patients)


@register(
    PolicyKind.DISPATCH,
    "nearest_first",
    "Nearest free ambulance; loads patients in the order responders came upon and triaged "
    "them, whatever the tag (scoop the nearest first; expectant last).",
)
def nearest_first(*, immediate_alone: bool = False) -> DispatchRule:
    """First-found-first-out evacuation: the order in which the triage officers reached them.

    All casualties of a scene share its node, so "nearest first" is the order responders came
    upon them, which is the triage order.
    """

    def select_patients(waiting: Sequence[PatientView], vehicle: VehicleView) -> list[int]:
        return first_come(waiting, vehicle, immediate_alone=immediate_alone)

    return DispatchRule(select_vehicle=nearest_vehicle, select_patients=select_patients)
