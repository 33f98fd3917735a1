"""The hospital agent: resuscitation bays, ED beds, operating rooms, ICU beds and teams.

Capacities are counters with priority queues in front of them (Hirshberg et al. 2005 modelled a
trauma centre's surge the same way: what limits care is timely access to the resus bay, the
trauma team, the OR and the ICU). Clinicians at the hospital assess the patient's true state, so
the pathway follows the true injury class, not the field tag:

- critical: resus bay + team → (operating room + team, if surgery is needed) → ICU bed;
  definitive care starts with surgery, or with ICU admission when no surgery is needed;
- serious: an ED bed; minor (walking wounded): a minor-treatment space, or an ED bed where
  the hospital has none; definitive care starts when they get one.

Within a queue, critical patients go before serious ones and serious before minor, first come
first served within a class. A freed team goes to the OR queue before the resus queue (finishing
damage control before starting new resuscitations) [assumption, docs/model.md].
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

import mesa

from mcsim.enums import EventKind, PatientState, Phase, Resource, Severity

if TYPE_CHECKING:
    from mcsim.agents.patient import Patient
    from mcsim.model import MCIModel
    from mcsim.scenario import HospitalSpec


def _rank(p: Patient) -> int:
    """Queue class: critical first, then other non-walking patients, then the walking."""
    if p.critical:
        return 0
    return 2 if p.severity is Severity.MINOR else 1


class Hospital(mesa.Agent):
    """A receiving hospital with finite capacities and queues."""

    def __init__(self, model: MCIModel, spec: HospitalSpec, node: int) -> None:
        super().__init__(model)
        self.spec = spec
        self.hid = spec.id
        self.node = node
        self.trauma_level = spec.trauma_level
        self.capacity = {
            Resource.RESUS_BAY: spec.resus_bays,
            Resource.ED_BED: spec.ed_beds,
            Resource.MINOR_SPACE: spec.minor_treatment_spaces,
            Resource.OPERATING_ROOM: spec.operating_rooms,
            Resource.ICU_BED: spec.icu_beds,
            Resource.TEAM: spec.teams_on_duty,
        }
        occ = spec.occupied
        self.free = {
            Resource.RESUS_BAY: spec.resus_bays - occ.resus_bays,
            Resource.ED_BED: spec.ed_beds - occ.ed_beds,
            Resource.MINOR_SPACE: spec.minor_treatment_spaces - occ.minor_treatment_spaces,
            Resource.OPERATING_ROOM: spec.operating_rooms - occ.operating_rooms,
            Resource.ICU_BED: spec.icu_beds - occ.icu_beds,
            Resource.TEAM: spec.teams_on_duty,
        }
        self.queues: dict[Resource, list[tuple[int, int, Patient]]] = {
            Resource.RESUS_BAY: [],
            Resource.OPERATING_ROOM: [],
            Resource.ICU_BED: [],
            Resource.ED_BED: [],
            Resource.MINOR_SPACE: [],
        }
        self.on_diversion = False
        self.capacity_lost: dict[Resource, int] = {}  # units lost to exercise injects
        self.received = 0
        self.en_route = 0
        self._seq = 0
        self._queued = 0  # entries in self.queues, kept equal to the sum of their lengths

    # ------------------------------------------------------------------ capacity

    def team_arrives(self) -> None:
        """An on-call team has arrived: one more team on duty."""
        self.capacity[Resource.TEAM] += 1
        self.free[Resource.TEAM] += 1
        self.pump()

    def change_capacity(self, r: Resource, n: int) -> int:
        """Add ``n`` units of ``r`` (surge capacity), or lose ``-n`` (a damaged wing, an OR out).

        Free units are lost first; a unit in use is lost when its patient frees it (``free``
        goes below zero until then, which :meth:`view_free` hides). Units occupied before the
        incident are never freed in the model, so they cannot be lost: the loss is capped.

        Returns:
            The change actually made (negative for a loss).
        """
        if n < 0:
            held = sum(1 for _, rr in self._held() if rr is r)
            occupied = self.capacity[r] - self.free[r] - held  # before the incident
            n = -min(-n, self.capacity[r] - occupied)
            self.capacity_lost[r] = self.capacity_lost.get(r, 0) - n
        self.capacity[r] += n
        self.free[r] += n
        if n > 0:
            self.pump()
        return n

    def open_surge(self) -> None:
        """The major-incident plan's extra capacity opens (``spec.surge``)."""
        m = self.model
        for field, n in self.spec.surge.model_dump().items():
            if n:
                added = self.change_capacity(Resource(field), n)
                m.log.add(
                    m.now,
                    EventKind.SURGE_OPENED,
                    hospital=self.hid,
                    node=self.node,
                    detail=f"{field}+{added}",
                )

    def _held(self) -> list:
        return [(h, r) for p in self.model.patients for h, r in p.held if h is self]

    def expect(self, n: int) -> None:
        """Patients announced en route (negative when they arrive)."""
        self.en_route += n

    def queue_length(self) -> int:
        """Entries in all queues (dead ones, skipped lazily, may still be counted); O(1)."""
        return self._queued

    def _pop(self, q: list) -> None:
        heapq.heappop(q)
        self._queued -= 1

    def _take(self, p: Patient, r: Resource) -> None:
        self.free[r] -= 1
        p.held.append((self, r))

    def release(self, p: Patient, r: Resource) -> None:
        """``p`` gives back one unit of ``r``."""
        p.held.remove((self, r))
        self.free[r] += 1

    def release_all(self, p: Patient) -> None:
        """Everything ``p`` holds here goes back (the patient died)."""
        for h, r in list(p.held):
            if h is self:
                self.release(p, r)
        self.pump()

    # ------------------------------------------------------------------ flow

    def admit(self, p: Patient, *, by_vehicle: int = -1) -> None:
        """A patient arrives (by ambulance or on their own) and joins the right queue."""
        m = self.model
        self.received += 1
        p.hospital = self.hid
        p.hospital_arrival_min = m.now
        p.set_care(m.spec.physiology.hospital_wait_care_factor)
        p.set_state(
            PatientState.AWAITING_CARE,
            EventKind.HOSPITAL_ARRIVAL,
            hospital=self.hid,
            node=self.node,
            vehicle=by_vehicle,
            detail="ambulance" if by_vehicle >= 0 else "self",
        )
        self._enqueue(p, self._first_stop(p))
        self.pump()

    def _first_stop(self, p: Patient) -> Resource:
        if p.critical:
            return Resource.RESUS_BAY
        if p.severity is Severity.MINOR and self.capacity[Resource.MINOR_SPACE] > 0:
            return Resource.MINOR_SPACE
        return Resource.ED_BED

    def _enqueue(self, p: Patient, r: Resource) -> None:
        self._seq += 1
        p.waiting_for = r
        heapq.heappush(self.queues[r], (_rank(p), self._seq, p))
        self._queued += 1
        p.record(EventKind.QUEUE, hospital=self.hid, node=self.node, detail=r.value)

    def _next(self, r: Resource) -> Patient | None:
        q = self.queues[r]
        while q:
            p = q[0][2]
            if p.state is PatientState.DEAD or p.waiting_for is not r:
                self._pop(q)
                continue
            return p
        return None

    def pump(self) -> None:
        """Start every service that has both a waiting patient and free capacity."""
        f = self.free
        while f[Resource.OPERATING_ROOM] > 0 and f[Resource.TEAM] > 0:
            p = self._next(Resource.OPERATING_ROOM)
            if p is None:
                break
            self._pop(self.queues[Resource.OPERATING_ROOM])
            self._start_surgery(p)
        while f[Resource.RESUS_BAY] > 0 and f[Resource.TEAM] > 0:
            p = self._next(Resource.RESUS_BAY)
            if p is None:
                break
            self._pop(self.queues[Resource.RESUS_BAY])
            self._start_resus(p)
        while f[Resource.ICU_BED] > 0:
            p = self._next(Resource.ICU_BED)
            if p is None:
                break
            self._pop(self.queues[Resource.ICU_BED])
            self._admit_icu(p)
        for bed in (Resource.ED_BED, Resource.MINOR_SPACE):
            while f[bed] > 0:
                p = self._next(bed)
                if p is None:
                    break
                self._pop(self.queues[bed])
                self._start_ed(p, bed)

    def _service_min(self, mean: float) -> float:
        return self.model.service_time(mean)

    def _start_resus(self, p: Patient) -> None:
        m = self.model
        p.waiting_for = None
        self._take(p, Resource.RESUS_BAY)
        self._take(p, Resource.TEAM)
        p.set_care(m.spec.physiology.resus_care_factor)
        p.set_state(
            PatientState.IN_RESUSCITATION, EventKind.RESUS_START, hospital=self.hid, node=self.node
        )
        m.schedule(
            m.now + self._service_min(m.spec.hospital_care.resus_min),
            Phase.SERVICE_END,
            self._end_resus,
            p,
        )

    def _end_resus(self, p: Patient) -> None:
        if p.state is PatientState.DEAD:
            return
        self.release(p, Resource.RESUS_BAY)
        self.release(p, Resource.TEAM)
        p.set_state(
            PatientState.AWAITING_CARE, EventKind.RESUS_END, hospital=self.hid, node=self.node
        )
        nxt = Resource.OPERATING_ROOM if p.needs_surgery else Resource.ICU_BED
        if nxt is Resource.OPERATING_ROOM and self.capacity[Resource.OPERATING_ROOM] == 0:
            nxt = Resource.ICU_BED  # no theatre here: intensive care is the best on offer
        self._enqueue(p, nxt)
        self.pump()

    def _start_surgery(self, p: Patient) -> None:
        m = self.model
        p.waiting_for = None
        self._take(p, Resource.OPERATING_ROOM)
        self._take(p, Resource.TEAM)
        p.begin_definitive_care(self.hid, detail="surgery")
        m.schedule(
            m.now + self._service_min(m.spec.hospital_care.surgery_min),
            Phase.SERVICE_END,
            self._end_surgery,
            p,
        )

    def _end_surgery(self, p: Patient) -> None:
        if p.state is PatientState.DEAD:
            return
        self.release(p, Resource.OPERATING_ROOM)
        self.release(p, Resource.TEAM)
        p.record(EventKind.OR_END, hospital=self.hid, node=self.node)
        if self.capacity[Resource.ICU_BED] > 0:
            self._enqueue(p, Resource.ICU_BED)
        self.pump()

    def _admit_icu(self, p: Patient) -> None:
        p.waiting_for = None
        self._take(p, Resource.ICU_BED)
        if p.state is PatientState.DEFINITIVE_CARE:
            p.record(EventKind.ICU_ADMIT, hospital=self.hid, node=self.node)
        else:
            p.begin_definitive_care(self.hid, detail="icu")

    def _start_ed(self, p: Patient, bed: Resource) -> None:
        m = self.model
        p.waiting_for = None
        self._take(p, bed)
        p.begin_definitive_care(self.hid, detail=bed.value)
        care = m.spec.hospital_care
        mean = care.ed_minor_min if p.severity is Severity.MINOR else care.ed_serious_min
        m.schedule(m.now + self._service_min(mean), Phase.SERVICE_END, self._ed_discharge, p, bed)

    def _ed_discharge(self, p: Patient, bed: Resource) -> None:
        if p.state is PatientState.DEAD:
            return
        self.release(p, bed)
        p.record(EventKind.ED_DISCHARGE, hospital=self.hid, node=self.node)
        self.pump()

    def view_free(self, r: Resource) -> int:
        """Free units of ``r`` now (never below zero)."""
        return max(0, self.free[r])
