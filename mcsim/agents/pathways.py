"""Care pathways as data: which hospital resources a patient needs, in which order, for how long.

Why this module exists: what limits hospital care in a mass-casualty incident is timely access
to a chain of resources — resuscitation bay and trauma team, operating room and surgical team,
intensive-care bed (Hirshberg et al. 2005) — and which chain a patient needs follows from their
injuries, not from a triage tag. Writing the chains as data keeps the hospital agent a small,
general queueing engine: adding a CT scanner is one :class:`Step` in a pathway plus a capacity
in the hospital's resource table, not edits in ten places.

A :class:`Step` holds every resource it needs for its whole duration and gives them back at its
end. ``definitive`` marks the step at whose start definitive care begins (deterioration stops
and the outcome is decided); steps before it slow the clock by ``care_factor``; steps after it
only move beds (they cannot change the outcome). Durations name a field of the scenario's
``hospital_care`` section (the mean, drawn per patient by the model's service-time model).
"""

from __future__ import annotations

from dataclasses import dataclass

from mcsim.enums import CareNeed, EventKind, Resource


@dataclass(frozen=True, slots=True)
class Step:
    """One stage of a care pathway.

    Attributes:
        name: what the stage is (``resuscitation``, ``surgery``, ``icu``, ``ed``, ``minor``);
            also the name of its queue at every hospital.
        needs: resources held together for the whole step.
        duration: the ``hospital_care`` field with the step's mean minutes.
        definitive: definitive care starts when this step starts.
        care_factor: the ``physiology`` field with the clock rate during the step (steps
            before definitive care only; ``None`` leaves the rate as it was).
        start_kind: event-log kind written when the step starts.
        end_kind: event-log kind written when it ends.
    """

    name: str
    needs: tuple[Resource, ...]
    duration: str
    definitive: bool = False
    care_factor: str | None = None
    start_kind: EventKind = EventKind.QUEUE
    end_kind: EventKind = EventKind.QUEUE


RESUSCITATION = Step(
    "resuscitation",
    (Resource.RESUS_BAY, Resource.TEAM),
    "resus_min",
    care_factor="resus_care_factor",
    start_kind=EventKind.RESUS_START,
    end_kind=EventKind.RESUS_END,
)
#: Resuscitation as the definitive care of a critical casualty who needs no operation.
RESUSCITATION_DEFINITIVE = Step(
    "resuscitation",
    (Resource.RESUS_BAY, Resource.TEAM),
    "resus_min",
    definitive=True,
    start_kind=EventKind.RESUS_START,
    end_kind=EventKind.RESUS_END,
)
#: Where a hospital has no resuscitation bay or no trauma team: ED staff in an ED bed.
RESUSCITATION_IN_ED = Step(
    "resuscitation_ed",
    (Resource.ED_BED,),
    "resus_min",
    care_factor="resus_care_factor",
    start_kind=EventKind.RESUS_START,
    end_kind=EventKind.RESUS_END,
)
RESUSCITATION_IN_ED_DEFINITIVE = Step(
    "resuscitation_ed",
    (Resource.ED_BED,),
    "resus_min",
    definitive=True,
    start_kind=EventKind.RESUS_START,
    end_kind=EventKind.RESUS_END,
)
SURGERY = Step(
    "surgery",
    (Resource.OPERATING_ROOM, Resource.SURGICAL_TEAM),
    "surgery_min",
    definitive=True,
    start_kind=EventKind.DEFINITIVE_CARE,
    end_kind=EventKind.OR_END,
)
#: An operation after definitive care has begun elsewhere (the serious casualty's fracture).
SURGERY_AFTER_CARE = Step(
    "surgery",
    (Resource.OPERATING_ROOM, Resource.SURGICAL_TEAM),
    "surgery_min",
    start_kind=EventKind.OR_START,
    end_kind=EventKind.OR_END,
)
ICU = Step(
    "icu",
    (Resource.ICU_BED,),
    "icu_stay_min",
    start_kind=EventKind.ICU_ADMIT,
    end_kind=EventKind.ICU_DISCHARGE,
)
ED_CARE = Step(
    "ed",
    (Resource.ED_BED,),
    "ed_serious_min",
    definitive=True,
    start_kind=EventKind.DEFINITIVE_CARE,
    end_kind=EventKind.ED_DISCHARGE,
)
MINOR_CARE = Step(
    "minor",
    (Resource.MINOR_SPACE,),
    "ed_minor_min",
    definitive=True,
    start_kind=EventKind.DEFINITIVE_CARE,
    end_kind=EventKind.ED_DISCHARGE,
)
MINOR_IN_ED = Step(
    "ed_minor",
    (Resource.ED_BED,),
    "ed_minor_min",
    definitive=True,
    start_kind=EventKind.DEFINITIVE_CARE,
    end_kind=EventKind.ED_DISCHARGE,
)

#: The default pathway of each care need.
DEFAULT_PATHWAYS: dict[CareNeed, tuple[Step, ...]] = {
    CareNeed.CRITICAL_SURGICAL: (RESUSCITATION, SURGERY, ICU),
    CareNeed.CRITICAL_MEDICAL: (RESUSCITATION_DEFINITIVE, ICU),
    CareNeed.SERIOUS_SURGICAL: (ED_CARE, SURGERY_AFTER_CARE),
    CareNeed.SERIOUS: (ED_CARE,),
    CareNeed.MINOR: (MINOR_CARE,),
}

#: When a hospital lacks a step's resources for good, the step it offers instead (``None``:
#: the step is skipped). Surgery has no substitute: the patient is transferred.
SUBSTITUTES: dict[str, tuple[Step | None, Step | None]] = {
    # name: (substitute for a non-definitive step, substitute for a definitive one)
    "resuscitation": (RESUSCITATION_IN_ED, RESUSCITATION_IN_ED_DEFINITIVE),
    "icu": (None, None),
    "minor": (MINOR_IN_ED, MINOR_IN_ED),
}

#: Order in which a hospital starts waiting steps when resources free up: finish the work
#: in progress (theatre, intensive care) before starting new resuscitations [assumption].
PUMP_ORDER = (
    "surgery",
    "icu",
    "resuscitation",
    "resuscitation_ed",
    "ed",
    "ed_minor",
    "minor",
)


def care_need(critical: bool, serious: bool, needs_surgery: bool) -> CareNeed:
    """The care need of a patient from their true injuries."""
    if critical:
        return CareNeed.CRITICAL_SURGICAL if needs_surgery else CareNeed.CRITICAL_MEDICAL
    if serious:
        return CareNeed.SERIOUS_SURGICAL if needs_surgery else CareNeed.SERIOUS
    return CareNeed.MINOR
