"""An incident scene: who is there, who waits for what, and which responders work it.

The scene is bookkeeping, not an agent: queues of patients waiting for triage, for care and for
transport (one queue per triage tag, in the order they were tagged), the vehicles waiting to load
and the responders on site; what the responders do is :mod:`mcsim.scene_work`. Queues are lazy:
a patient who died or left stays in the deque and is skipped when reached, which keeps every
operation O(1) amortised however large the incident.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from mcsim.enums import PatientState, TriageTag

if TYPE_CHECKING:
    from mcsim.agents.ambulance import Ambulance
    from mcsim.agents.patient import Patient
    from mcsim.agents.staff import Staff
    from mcsim.scenario import IncidentSpec

TRANSPORT_ORDER = (TriageTag.IMMEDIATE, TriageTag.DELAYED, TriageTag.MINOR, TriageTag.EXPECTANT)
CARE_ORDER = (TriageTag.IMMEDIATE, TriageTag.DELAYED)


class Scene:
    """One incident's scene."""

    def __init__(self, spec: IncidentSpec, node: int) -> None:
        self.spec = spec
        self.id = spec.id
        self.node = node
        self.onset_min = spec.onset_min
        self.patients: list[Patient] = []
        self.awaiting_triage: deque[Patient] = deque()
        self.awaiting_transport: dict[TriageTag, deque[Patient]] = {
            t: deque() for t in TRANSPORT_ORDER
        }
        self.awaiting_care: dict[TriageTag, deque[Patient]] = {t: deque() for t in CARE_ORDER}
        self.vehicles_waiting: deque[Ambulance] = deque()
        self.officers_idle: deque[Staff] = deque()
        self.paramedics_idle: deque[Staff] = deque()
        self.alerted = False  # EMS knows about it: vehicles may be dispatched
        self.sorting = False  # the global sort is under way
        self.global_sort_done = False
        self.released: set[int] = set()  # patient ids treated and released here if minor
        self.went_home: set[int] = set()  # patient ids who go home if they leave on their own
        self.untriaged = 0  # living patients here awaiting triage (not those still trapped)
        self.demand = 0  # patients here who still need a seat in a vehicle
        self.committed_capacity = 0  # seats of vehicles sent here and not yet gone with patients
        self.last_departure_min = float("nan")

    def next_to_triage(self) -> Patient | None:
        """The next patient awaiting triage, skipping those who died or left."""
        q = self.awaiting_triage
        while q:
            p = q.popleft()
            if p.state is PatientState.AWAITING_TRIAGE:
                return p
        return None

    def waiting_heads(self, per_tag: int) -> list[Patient]:
        """Up to ``per_tag`` transportable patients per tag, in tag then triage order."""
        out: list[Patient] = []
        for tag in TRANSPORT_ORDER:
            q = self.awaiting_transport[tag]
            while q and q[0].state is not PatientState.AWAITING_TRANSPORT:
                q.popleft()
            n = 0
            for p in q:
                if p.state is PatientState.AWAITING_TRANSPORT:
                    out.append(p)
                    n += 1
                    if n >= per_tag:
                        break
        return out

    def next_needing_care(self) -> Patient | None:
        """The most urgent waiting patient without a care giver."""
        for tag in CARE_ORDER:
            q = self.awaiting_care[tag]
            while q:
                p = q[0]
                if p.state is PatientState.AWAITING_TRANSPORT and p.caregiver is None:
                    q.popleft()
                    return p
                q.popleft()
        return None
