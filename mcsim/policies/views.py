"""What a policy is allowed to see.

Policies decide from read-only views, never from live agents: a triage rule sees the observed
vitals, a dispatch rule sees the waiting patients' tags and the vehicles' positions, a
destination rule sees each hospital's travel time and load. Keeping the views small and frozen
is what makes policies pure functions that can be tested with a hand-built situation.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcsim.enums import TriageTag, VehicleType


@dataclass(frozen=True, slots=True)
class PatientView:
    """A patient as responders know them."""

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

    @property
    def is_child(self) -> bool:
        """Under 18 years."""
        return self.age < 18


@dataclass(frozen=True, slots=True)
class VehicleView:
    """An ambulance as the dispatcher knows it."""

    id: int
    type: VehicleType
    capacity: int
    node: int
    travel_min_to_scene: float
    station: str


@dataclass(frozen=True, slots=True)
class HospitalView:
    """A hospital as the destination policy knows it, seen from the vehicle's origin."""

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
