"""What a policy is allowed to see.

Policies decide from read-only views, never from live agents: a triage rule sees the observed
vitals, a dispatch rule sees the waiting patients' tags and the vehicles' positions, a
destination rule sees each hospital's travel time and load. Keeping the views small and frozen
is what makes policies pure functions that can be tested with a hand-built situation.

Besides its tunable parameters (keyword-only, with defaults), a policy may declare keyword-only
parameters *without* a default that the model fills in at decision time:

- ``context``: a :class:`TriageContext` (triage) or :class:`DestinationContext` (destination)
  describing the resources around the decision;
- ``physiology``: the scenario's :class:`~mcsim.physiology.PhysiologyParams` (triage, dispatch
  factories and destination), for rules that use the RPM deterioration table or survival curve;
- ``truth``: a :class:`TrueState` (triage only): the patient's *true* state. Only the
  perfect-information reference policy asks for it; a field triage tool never should.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mcsim.enums import TriageTag, VehicleType

if TYPE_CHECKING:
    from mcsim.physiology import Vitals


def is_child_age(age: float, below: int = 18) -> bool:
    """Whether a patient of ``age`` counts as a child for hospitals' admission rules.

    ``below`` is the scenario's ``hospital_care.child_age_below`` (default 18).
    """
    return age < below



@dataclass(frozen=True, slots=True)
class PatientView:
    """A patient as responders know them.

    ``u_destination`` is a uniform number in [0, 1) drawn once per patient from the
    ``destination`` stream at onset, so a randomised policy stays a pure function and keeps
    common random numbers across runs. ``child_age_below`` is the scenario's age under which a
    patient is a child (:attr:`is_child`). ``penetrating`` is the wound's mechanism, which a
    crew sees (field triage's anatomic step uses it); the injury severity stays hidden.
    """

    id: int
    tag: TriageTag
    age: int
    walking: bool
    rr: int
    pulse: int
    sbp: int
    gcs: int
    triaged_min: float
    observed_rpm: int
    u_destination: float = 0.0
    child_age_below: int = 18  # the scenario's hospital_care.child_age_below
    penetrating: bool = False  # a gunshot or stab wound: visible to the crew, so not hidden truth

    @property
    def is_child(self) -> bool:
        """Younger than ``child_age_below`` (a child for hospitals that take no children)."""
        return is_child_age(self.age, self.child_age_below)


@dataclass(slots=True)
class VehicleView:
    """An ambulance as the dispatcher knows it.

    Read-only by contract. Not a frozen dataclass, unlike :class:`PatientView`: one is built
    for every candidate vehicle of every dispatch decision, frozen construction costs about 7x
    more, and a fresh one is built each time, so a policy that wrote to it would change nothing.

    ``minor_seats`` is how many walking (minor) patients it may carry when it carries only
    minor patients (at least its capacity; more with the strategy's seated places).
    """

    id: int
    type: VehicleType
    capacity: int
    node: int
    travel_min_to_scene: float
    station: str
    minor_seats: int = 0
    untriaged_at_scene: int = 0  # patients at this vehicle's scene still awaiting triage

    @property
    def max_minor(self) -> int:
        """Minor patients this vehicle may take at once."""
        return max(self.capacity, self.minor_seats)


@dataclass(slots=True)
class HospitalView:
    """A hospital as the destination policy knows it, seen from the vehicle's origin.

    Read-only by contract; not frozen for the same reason as :class:`VehicleView` (one per
    candidate hospital per departure).

    ``expected_wait_min`` is the model's estimate of the wait for a bed on arrival and
    ``expected_resus_wait_min`` that of an immediate patient's wait for a resuscitation bay
    with a trauma team, ``expected_surgery_wait_min`` that of the wait for a theatre with a
    surgical team (see docs/model.md, "Policies"); ``assigned_by_tag`` counts the
    patients the destination policy has sent here so far, by field tag (what quota tables
    are counted against).
    """

    id: str
    node: int
    travel_min: float
    trauma_level: int
    accepts_children: bool
    on_diversion: bool
    free_resus_bays: int
    free_ed_beds: int
    free_icu_beds: int
    queue_length: int
    patients_received: int
    expected_wait_min: float = 0.0
    assigned_by_tag: dict[str, int] = field(default_factory=dict)
    free_trauma_teams: int = 1
    free_surgical_teams: int = 1
    accepts_adults: bool = True
    expected_resus_wait_min: float = 0.0
    expected_surgery_wait_min: float = 0.0

    def assigned(self, tag: TriageTag | str) -> int:
        """Patients of ``tag`` assigned here so far."""
        return self.assigned_by_tag.get(str(tag), 0)


@dataclass(frozen=True, slots=True)
class TriageContext:
    """The resources around a triage decision (for resource-dependent tools such as SALT).

    Attributes:
        now_min: simulated minute of the decision.
        immediate_waiting: patients tagged immediate at this scene still waiting for transport.
        vehicles_at_or_to_scene: vehicles at the scene or driving to it.
        free_vehicles: vehicles free anywhere (at a station or after handover).
        free_resus_bays: free resuscitation bays summed over all hospitals.
    """

    now_min: float = 0.0
    immediate_waiting: int = 0
    vehicles_at_or_to_scene: int = 0
    free_vehicles: int = 0
    free_resus_bays: int = 0


@dataclass(frozen=True, slots=True)
class TrueState:
    """A patient's true state, for the perfect-information reference triage only."""

    vitals: Vitals
    rpm: int
    critical: bool


@dataclass(frozen=True, slots=True)
class DestinationContext:
    """What a central coordinator knows besides the vehicle's load.

    Attributes:
        now_min: simulated minute of the decision.
        waiting: patients still waiting for transport at the scene the vehicle leaves.
        care_factor_transport: deterioration-clock factor in a vehicle.
        care_factor_wait: deterioration-clock factor while queueing at a hospital.
    """

    now_min: float = 0.0
    waiting: tuple[PatientView, ...] = ()
    care_factor_transport: float = 0.5
    care_factor_wait: float = 0.5
