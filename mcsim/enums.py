"""States and categories used across mcsim.

Every state a patient, vehicle or staff member can be in, every triage category and every kind
of recorded event is an enum member here, so that code compares members with ``is`` and never
spells a state as a string. The string values are what appears in the records (Parquet
categoricals, JSON metrics), so they are part of the file format: renaming one is a breaking
change.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class NodeKind(StrEnum):
    """What a node of the region graph is."""

    JUNCTION = "junction"
    INCIDENT_SITE = "incident_site"
    HOSPITAL = "hospital"
    AMBULANCE_STATION = "ambulance_station"


class TriageTag(StrEnum):
    """Triage categories, from most to least urgent (expectant and dead sort last)."""

    IMMEDIATE = "immediate"  # red, P1
    DELAYED = "delayed"  # yellow, P2
    MINOR = "minor"  # green, P3
    EXPECTANT = "expectant"  # grey (SALT only, resource dependent)
    DEAD = "dead"  # black
    UNTRIAGED = "untriaged"

    @property
    def priority(self) -> int:
        """Rank for evacuation order: 0 goes first."""
        return _TAG_PRIORITY[self]


_TAG_PRIORITY = {
    TriageTag.IMMEDIATE: 0,
    TriageTag.DELAYED: 1,
    TriageTag.MINOR: 2,
    TriageTag.UNTRIAGED: 3,
    TriageTag.EXPECTANT: 4,
    TriageTag.DEAD: 5,
}


class PatientState(StrEnum):
    """Where a patient is in the response; exactly one at any instant."""

    TRAPPED = "trapped"  # awaiting extraction, cannot be triaged yet
    AWAITING_TRIAGE = "awaiting_triage"
    AWAITING_TRANSPORT = "awaiting_transport"  # triaged, at the scene
    LOADING = "loading"  # being loaded into a vehicle
    SELF_TRANSPORT = "self_transport"  # left on their own, on the road
    IN_TRANSPORT = "in_transport"  # in a vehicle, on the road
    AWAITING_CARE = "awaiting_care"  # at a hospital, queueing
    IN_RESUSCITATION = "in_resuscitation"  # resus bay with a team; not yet definitive care
    DEFINITIVE_CARE = "definitive_care"  # surgery, ICU or ED treatment: deterioration stops
    RELEASED = "released"  # treated on scene and released, not conveyed (minor injuries)
    DEAD = "dead"


#: At the scene, waiting for responders: trapped, awaiting triage or awaiting transport. What
#: the scene's queues hold, what a death there is counted against, and where a self-presenter
#: may leave from.
WAITING_AT_SCENE = frozenset(
    {PatientState.TRAPPED, PatientState.AWAITING_TRIAGE, PatientState.AWAITING_TRANSPORT}
)
#: Still at the scene at all: waiting, or being loaded into (or stabilised in) a vehicle there.
#: A scene is cleared when nobody is in one of these states; a death in one is a scene death.
AT_SCENE = WAITING_AT_SCENE | {PatientState.LOADING}


class Outcome(StrEnum):
    """How a patient's story ends within the simulated horizon."""

    SURVIVED = "survived"  # reached definitive care and survives it
    DIED = "died"
    UNRESOLVED = "unresolved"  # still alive and not in definitive care at the horizon


class Severity(StrEnum):
    """True injury class drawn from the injury profile (what the patient really has)."""

    DEAD_ON_SCENE = "dead_on_scene"  # killed outright, not an immediate survivor
    #: A non-survivable wound, alive (agonal) at first contact and dying within the hour or
    #: two (``physiology.mortal_wound_timing: webster2021``); not an immediate survivor either.
    MORTALLY_WOUNDED = "mortally_wounded"
    CRITICAL = "critical"
    SERIOUS = "serious"  # needs hospital care, not immediately life-threatening
    MINOR = "minor"  # walking wounded


class VehicleState(StrEnum):
    """What an ambulance is doing."""

    AT_STATION = "at_station"
    TO_SCENE = "to_scene"
    AT_SCENE = "at_scene"  # waiting for a patient or loading
    TO_HOSPITAL = "to_hospital"
    AT_HOSPITAL = "at_hospital"  # handing over
    TO_STATION = "to_station"


class VehicleType(StrEnum):
    """Kinds of vehicle; capacity comes from the scenario."""

    ALS = "als"  # advanced life support ambulance
    BLS = "bls"  # basic life support ambulance
    BUS = "bus"  # ambulance bus for walking wounded


class StaffRole(StrEnum):
    """Roles of staff agents."""

    TRIAGE_OFFICER = "triage_officer"  # triages at the scene
    PARAMEDIC = "paramedic"  # gives on-scene care
    HOSPITAL_TEAM = "hospital_team"  # a trauma/surgical team called in to a hospital


class StaffState(StrEnum):
    """What a staff agent is doing."""

    OFF_DUTY = "off_duty"  # called in, getting ready
    TRAVELLING = "travelling"
    WORKING = "working"  # at the scene or on duty at the hospital
    IDLE = "idle"  # at the scene with nothing to do


class Resource(StrEnum):
    """Hospital capacities that patients queue for."""

    RESUS_BAY = "resus_bays"
    ED_BED = "ed_beds"
    MINOR_SPACE = "minor_treatment_spaces"
    OPERATING_ROOM = "operating_rooms"
    ICU_BED = "icu_beds"
    TEAM = "teams"  # trauma (resuscitation) teams
    SURGICAL_TEAM = "surgical_teams"  # theatre teams: surgeon, anaesthetist, scrub nurses


class CareNeed(StrEnum):
    """What a patient's true injuries need from a hospital (selects a care pathway)."""

    CRITICAL_SURGICAL = "critical_surgical"  # resuscitation, damage-control surgery, ICU
    CRITICAL_MEDICAL = "critical_medical"  # resuscitation, ICU
    SERIOUS_SURGICAL = "serious_surgical"  # ED treatment, then an operation
    SERIOUS = "serious"  # ED treatment
    MINOR = "minor"  # minor-injuries treatment


class DeathPlace(StrEnum):
    """Where a patient died ("" in the records while alive)."""

    SCENE = "scene"
    TRANSPORT = "transport"
    HOSPITAL = "hospital"


class LeaveMode(StrEnum):
    """How a patient left the scene ("" in the records while still there)."""

    AMBULANCE = "ambulance"
    SELF = "self"  # walked or drove themselves
    BYSTANDER = "bystander"  # driven by bystanders, police or taxis
    RELEASED = "released"  # treated on scene and sent home
    HOME = "home"  # left on their own and went home, not to a hospital


class EventKind(StrEnum):
    """Kinds of rows in the event log: one per state change."""

    INCIDENT = "incident"
    CASUALTY = "casualty"  # a patient appears at the scene
    EXTRACTED = "extracted"
    TRIAGED = "triaged"
    SCENE_CARE_START = "scene_care_start"
    SELF_TRANSPORT_START = "self_transport_start"
    RELEASED = "released"
    DISPATCHED = "dispatched"
    VEHICLE_AT_SCENE = "vehicle_at_scene"
    LOAD_START = "load_start"
    DEPART_SCENE = "depart_scene"
    HOSPITAL_ARRIVAL = "hospital_arrival"
    HANDOVER_DONE = "handover_done"
    RETURN_TO_STATION = "return_to_station"
    VEHICLE_AT_STATION = "vehicle_at_station"
    STAFF_CALLED = "staff_called"
    STAFF_DEPART = "staff_depart"
    STAFF_ARRIVE = "staff_arrive"
    QUEUE = "queue"  # patient joins a hospital queue
    RESUS_START = "resus_start"
    RESUS_END = "resus_end"
    DEFINITIVE_CARE = "definitive_care"
    OR_START = "or_start"  # an operation after definitive care began elsewhere
    OR_END = "or_end"
    ICU_ADMIT = "icu_admit"
    ICU_DISCHARGE = "icu_discharge"  # step-down to a ward
    ED_DISCHARGE = "ed_discharge"
    HAEMORRHAGE_CONTROL = "haemorrhage_control"  # a tourniquet on a limb bleed
    TRANSFER = "transfer"  # secondary transfer to a hospital that can treat
    BED_FREED = "bed_freed"  # a patient in hospital before the incident moved out
    DEATH = "death"
    SURGE_OPENED = "surge_opened"
    INJECT = "inject"
    DECISION = "decision"
    END = "end"


class Phase(IntEnum):
    """Tie-break order for events scheduled at the same minute (lower runs first).

    Mirrors SimPy's ``(time, priority, sequence)`` heap key: actions from outside (incident
    onsets) apply first, then deaths (a patient who dies at minute t is not loaded at minute
    t), then arrivals, then the end of services, then decisions that use the freed resources.
    Exercise injects and decisions are not queued events: they apply after every event of
    their minute, exactly where a paused facilitator acts (:mod:`mcsim.exercise.actions`).
    """

    ACTION = 0
    DEATH = 1
    ARRIVAL = 2
    SERVICE_END = 3
    DECISION = 4
    END = 9
