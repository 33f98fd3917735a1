"""The hospital agent: a resource table, one queue per care step, and care pathways run as data.

Why it looks like this: what limits hospital care in a mass-casualty incident is timely access
to a chain of resources (Hirshberg et al. 2005): resuscitation bay with a trauma team, operating
room with a surgical team, intensive-care bed. Each patient follows the pathway of their true
care need (:mod:`mcsim.agents.pathways`: clinicians at the hospital see the true injuries, not
the field tag); the hospital only knows its resource table and runs whichever waiting step has
all its resources free. A step the hospital can never offer is replaced (resuscitation by ED
staff in an ED bed where there is no bay or trauma team; minor care in an ED bed) or, for an
operation, leads to a secondary transfer to the nearest hospital that can operate.

In major-incident mode (the hospital alert) the hospital calls in its on-call trauma and
surgical teams (each arriving after a lognormal call-in delay and the drive in), opens its surge
capacity, and frees the beds of patients who were there before the incident: ED, resuscitation,
minor-injury spaces and theatres within ``occupied_clear_min``, and a share of ICU beds by
reverse triage within ``reverse_triage_min`` (Kelen et al. 2009).

Within a queue, uncontrolled bleeding goes first, then other critical patients, serious, then
minor, first come first served within a class.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

import mesa

from mcsim.agents.pathways import PUMP_ORDER, SUBSTITUTES, Step
from mcsim.enums import EventKind, PatientState, Phase, Resource, Severity

if TYPE_CHECKING:
    from mcsim.agents.patient import Patient
    from mcsim.model import MCIModel
    from mcsim.scenario import HospitalCareSpec, HospitalSpec

#: The resources whose pre-incident occupants move out within ``occupied_clear_min``.
_CLEARED_FAST = (
    Resource.RESUS_BAY,
    Resource.ED_BED,
    Resource.MINOR_SPACE,
    Resource.OPERATING_ROOM,
)


_RESUS, _ED, _TEAM = Resource.RESUS_BAY, Resource.ED_BED, Resource.TEAM
_OR, _SURGICAL = Resource.OPERATING_ROOM, Resource.SURGICAL_TEAM


def _rank(p: Patient) -> int:
    """Queue class, as the hospital's own triage sees the true injuries.

    Uncontrolled bleeding first (it is what delay kills), then other critical patients, then
    the other non-walking patients, then the walking [assumption].
    """
    if p.critical:
        return 0 if p.haemorrhage and not p.bleed_controlled else 1
    return 3 if p.severity is Severity.MINOR else 2


def resource_table(spec: HospitalSpec, care: HospitalCareSpec) -> dict[str, int]:
    """The hospital's capacities by resource, from its scenario entry (one place for all)."""
    table: dict[str, int] = {
        Resource.RESUS_BAY: spec.resus_bays,
        Resource.ED_BED: spec.ed_beds,
        Resource.MINOR_SPACE: spec.minor_treatment_spaces,
        Resource.OPERATING_ROOM: spec.operating_rooms,
        Resource.ICU_BED: spec.icu_beds,
        Resource.TEAM: spec.teams_on_duty,
        Resource.SURGICAL_TEAM: spec.surgical_teams_on_duty_count(care),
    }
    for name, count in spec.resources.items():
        table[name] = count
    return table


class Hospital(mesa.Agent):
    """A receiving hospital with finite capacities and queues.

    Attributes:
        capacity: units of each resource the hospital has now (changed by team arrivals, surge
            and exercise injects).
        free: units free now (below zero only while units lost to an inject are in use).
        occupied: units still held by patients who were there before the incident.
        queues: one priority queue per care step.
    """

    def __init__(self, model: MCIModel, spec: HospitalSpec, node: int) -> None:
        super().__init__(model)
        self.spec = spec
        self.hid = spec.id
        self.node = node
        self.pos = node  # Mesa's position: the hospital's graph node
        self.trauma_level = spec.trauma_level
        self.capacity: dict[str, int] = resource_table(spec, model.spec.hospital_care)
        occ = spec.occupied.model_dump()
        self.occupied: dict[str, int] = {r: int(occ.get(str(r), 0)) for r in self.capacity}
        self.free: dict[str, int] = {r: self.capacity[r] - self.occupied[r] for r in self.capacity}
        self.queues: dict[str, list[tuple[int, int, Patient]]] = {n: [] for n in PUMP_ORDER}
        self._order: list[str] = list(PUMP_ORDER)
        self._surge: dict[str, int] = spec.surge.model_dump()
        self.on_diversion = False
        self.capacity_lost: dict[str, int] = {}  # units lost to exercise injects
        self.received = 0
        self.en_route = 0
        self.en_route_immediate = 0  # of en_route, those tagged immediate in the field
        self._seq = 0
        self._queued = 0  # entries in self.queues, kept equal to the sum of their lengths

    # ------------------------------------------------------------------ capacity

    def team_arrives(self, resource: Resource = Resource.TEAM) -> None:
        """An on-call team has arrived: one more trauma (or surgical) team on duty."""
        self.capacity[resource] += 1
        self.free[resource] += 1
        self.pump()

    def change_capacity(self, r: str, n: int) -> int:
        """Add ``n`` units of ``r`` (surge capacity), or lose ``-n`` (a damaged wing, an OR out).

        Free units are lost first; a unit in use is lost when its patient frees it (``free``
        goes below zero until then, which :meth:`view_free` hides). Units still occupied by
        patients from before the incident cannot be lost: the loss is capped.

        Returns:
            The change actually made (negative for a loss).
        """
        if n < 0:
            n = -min(-n, self.capacity[r] - self.occupied.get(r, 0))
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

    def clear_occupied_beds(self) -> None:
        """Major-incident mode: schedule pre-incident patients out of their beds.

        ED, resuscitation, minor-injury and theatre occupants leave at uniform times within
        ``occupied_clear_min`` [assumption]; a ``reverse_triage_icu_share`` of ICU occupants
        within ``reverse_triage_min`` (Kelen et al. 2009: 44 % of inpatients need no critical
        intervention; most capacity within 24-48 h). Drawn from the hospital's own stream.
        """
        m = self.model
        care = m.spec.hospital_care
        rng = m.streams.stream(f"beds/{self.hid}")
        for r in self.occupied:
            k = self.occupied[r]
            if k <= 0:
                continue
            if r in _CLEARED_FAST:
                times = rng.uniform(0.0, care.occupied_clear_min, k)
            elif r == Resource.ICU_BED:
                u = rng.random(k)
                times = rng.uniform(0.0, care.reverse_triage_min, k)[
                    u < care.reverse_triage_icu_share
                ]
            else:
                continue
            for t in sorted(times.tolist()):
                if m.now + t <= m.horizon_min:
                    m.schedule(m.now + t, Phase.SERVICE_END, self.free_occupied, r)

    def free_occupied(self, r: str) -> None:
        """A patient from before the incident leaves a unit of ``r``."""
        if self.occupied.get(r, 0) <= 0:
            return
        m = self.model
        self.occupied[r] -= 1
        self.free[r] += 1
        m.log.add(m.now, EventKind.BED_FREED, hospital=self.hid, node=self.node, detail=str(r))
        self.pump()

    def can_ever_offer(self, r: str) -> bool:
        """Whether the hospital has, or will get (surge, call-in), any unit of ``r``."""
        if self.capacity.get(r, 0) > 0:
            return True
        if r == Resource.TEAM:
            return self.spec.teams_on_call > 0
        if r == Resource.SURGICAL_TEAM:
            return self.spec.surgical_teams_on_call_count(self.model.spec.hospital_care) > 0
        return self._surge.get(str(r), 0) > 0 and r not in self.capacity_lost

    def offers(self, step: Step) -> bool:
        """Whether the hospital can run ``step`` now or later."""
        return all(self.can_ever_offer(r) for r in step.needs)

    def expect(self, n: int, immediate: int = 0) -> None:
        """Patients announced en route, ``immediate`` of them tagged so (negative on arrival)."""
        self.en_route += n
        self.en_route_immediate += immediate

    def queue_length(self) -> int:
        """Entries in all queues (dead ones, skipped lazily, may still be counted); O(1)."""
        return self._queued

    def expected_wait_min(self, free_beds: int | None = None) -> float:
        """A crude estimate of the wait for a bed on arrival here [assumption].

        Patients queueing or en route beyond the free resus bays and ED beds (``free_beds``, if
        the caller has them), times the mean serious-ED service time, shared among the bays and
        beds that turn over (those not still held by patients from before the incident).
        """
        if free_beds is None:
            free_beds = self.view_free(_RESUS) + self.view_free(_ED)
        ahead = self._queued + self.en_route - free_beds
        if ahead <= 0:
            return 0.0
        cap, occ = self.capacity, self.occupied
        servers = cap[_RESUS] - occ[_RESUS] + cap[_ED] - occ[_ED]
        return ahead * self.model.spec.hospital_care.ed_serious_min / max(1, servers)

    def expected_resus_wait_min(self) -> float:
        """A crude estimate of an immediate patient's wait for resuscitation here [assumption].

        Resuscitation needs a bay *and* a trauma team (:data:`~mcsim.agents.pathways.
        RESUSCITATION`), so its servers are the staffed bays, not the ED beds that
        :meth:`expected_wait_min` counts: the patients queueing for it and the immediate
        patients en route, beyond the bays that are free with a free team, times the mean
        resuscitation time, shared among the staffed bays (entries of the dead not yet dropped
        count, as in :meth:`queue_length`). A hospital with no staffed bay resuscitates in ED
        beds: its wait is :meth:`expected_wait_min`.
        """
        cap, occ, free = self.capacity, self.occupied, self.free
        staffed = min(cap[_RESUS] - occ[_RESUS], cap[_TEAM])
        if staffed <= 0:
            return self.expected_wait_min()
        slots = min(free[_RESUS], free[_TEAM])
        ahead = (
            len(self.queues["resuscitation"])
            + self.en_route_immediate
            - (slots if slots > 0 else 0)
        )
        if ahead <= 0:
            return 0.0
        return ahead * self.model.spec.hospital_care.resus_min / staffed

    def expected_surgery_wait_min(self) -> float:
        """A crude estimate of the wait for a theatre here [assumption].

        An operation needs a theatre *and* a surgical team (:data:`~mcsim.agents.pathways.
        SURGERY`): the patients queueing for one, beyond the theatres free with a free team,
        times the mean operation time, shared among the staffed theatres. What a regulator
        asks a hospital before sending it a critical casualty: after a few hours there may
        still be room to receive and resuscitate, but not to operate (Paris 2015, the
        military hospitals [PA13]). 0 where the hospital has no staffed theatre (its surgical
        patients are transferred, not queued).
        """
        cap, occ, free = self.capacity, self.occupied, self.free
        theatres = min(cap[_OR] - occ[_OR], cap[_SURGICAL])
        if theatres <= 0:
            return 0.0
        slots = min(free[_OR], free[_SURGICAL])
        ahead = len(self.queues["surgery"]) - (slots if slots > 0 else 0)
        if ahead <= 0:
            return 0.0
        return ahead * self.model.spec.hospital_care.surgery_min / theatres

    def update_diversion(self, on_at: int, off_below: int) -> None:
        """Go on diversion when full with ``on_at`` waiting or coming; off below ``off_below``.

        The thresholds are the scenario's ``policies.diversion`` (hysteresis: on and off differ).
        """
        load = self.queue_length() + self.en_route
        if not self.on_diversion:
            full = self.view_free(Resource.RESUS_BAY) == 0 and self.view_free(Resource.ED_BED) == 0
            if not (full and load >= on_at):
                return
        elif load >= off_below:
            return
        self.on_diversion = not self.on_diversion
        m = self.model
        m.log.add(
            m.now,
            EventKind.DECISION,
            hospital=self.hid,
            node=self.node,
            detail=f"diversion {'on' if self.on_diversion else 'off'} (load {load})",
        )

    def _take(self, p: Patient, r: str) -> None:
        self.free[r] -= 1
        p.held.append((self, r))

    def release(self, p: Patient, r: str) -> None:
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

    def admit(self, p: Patient, *, by_vehicle: int = -1, how: str = "") -> None:
        """A patient arrives (by ambulance, on their own or transferred) and starts a pathway."""
        m = self.model
        self.received += 1
        if not p.first_hospital:
            p.first_hospital = self.hid
        p.hospital = self.hid
        p.pos = self.node
        if math.isnan(p.hospital_arrival_min):
            p.hospital_arrival_min = m.now
        p.control_haemorrhage(by="hospital")
        if p.state is not PatientState.DEFINITIVE_CARE:
            p.set_care(m.spec.physiology.hospital_wait_care_factor)
        p.set_state(
            PatientState.AWAITING_CARE
            if p.state is not PatientState.DEFINITIVE_CARE
            else PatientState.DEFINITIVE_CARE,
            EventKind.HOSPITAL_ARRIVAL,
            hospital=self.hid,
            node=self.node,
            vehicle=by_vehicle,
            detail=how or ("ambulance" if by_vehicle >= 0 else "self"),
        )
        steps = p.pending_steps if p.pending_steps is not None else m.pathways[p.care_need]
        p.pending_steps = None
        p.pathway, p.pending_after = self._resolve(steps)
        p.step = 0
        self._queue_next(p)
        self.pump()

    def _resolve(self, steps: tuple[Step, ...]) -> tuple[tuple[Step, ...], tuple[Step, ...]]:
        """The steps this hospital runs, and those left for another hospital (a transfer).

        A step the hospital cannot offer is replaced by its substitute (or skipped where the
        substitute is ``None``); a step with no substitute at all (an operation) and everything
        after it is left for the hospital the patient is transferred to.
        """
        out: list[Step] = []
        for i, step in enumerate(steps):
            if self.offers(step):
                out.append(step)
                continue
            if step.name not in SUBSTITUTES:
                return tuple(out), steps[i:]
            alt = SUBSTITUTES[step.name][1 if step.definitive else 0]
            if alt is not None and self.offers(alt):
                out.append(alt)
        return tuple(out), ()

    def _queue_next(self, p: Patient) -> None:
        if p.step < len(p.pathway):
            self._enqueue(p, p.pathway[p.step].name)
        elif p.pending_after:
            self.model.hospital_system.transfer(p, self, p.pending_after)

    def _enqueue(self, p: Patient, name: str) -> None:
        self._seq += 1
        p.waiting_for = name
        if name not in self.queues:
            self.queues[name] = []
            self._order.append(name)
        heapq.heappush(self.queues[name], (_rank(p), self._seq, p))
        self._queued += 1
        p.record(EventKind.QUEUE, hospital=self.hid, node=self.node, detail=name)

    def pump(self) -> None:
        """Start every waiting step whose resources are all free (in :data:`PUMP_ORDER`)."""
        if self.model.closing:
            return  # the horizon has passed: no care starts after the end
        if not self._queued:
            return
        free = self.free
        queues = self.queues
        hid = self.hid
        dead = PatientState.DEAD
        heappop = heapq.heappop
        for name in self._order:
            q = queues[name]
            while q:
                p = q[0][2]
                # Entries of the dead, and of patients gone or moved on, are dropped lazily.
                if p.state is dead or p.waiting_for != name or p.hospital != hid:
                    heappop(q)
                    self._queued -= 1
                    continue
                step = p.pathway[p.step]
                for r in step.needs:  # a queued step is one the hospital has a table entry for
                    if free[r] <= 0:
                        break
                else:
                    heappop(q)
                    self._queued -= 1
                    self._start(p, step)
                    continue
                break

    def _start(self, p: Patient, step: Step) -> None:
        m = self.model
        p.waiting_for = None
        for r in step.needs:
            self._take(p, r)
        if step.definitive:
            if step.start_kind is not EventKind.DEFINITIVE_CARE:
                p.record(step.start_kind, hospital=self.hid, node=self.node, detail=step.name)
            p.begin_definitive_care(self.hid, detail=step.name)
        elif p.state is PatientState.DEFINITIVE_CARE:
            p.record(step.start_kind, hospital=self.hid, node=self.node, detail=step.name)
        else:
            if step.care_factor is not None:
                p.set_care(getattr(m.spec.physiology, step.care_factor))
            state = (
                PatientState.IN_RESUSCITATION
                if step.start_kind is EventKind.RESUS_START
                else PatientState.AWAITING_CARE
            )
            p.set_state(state, step.start_kind, hospital=self.hid, node=self.node, detail=step.name)
        mean = getattr(m.spec.hospital_care, step.duration)
        m.schedule(m.now + self.service_time(mean), Phase.SERVICE_END, self._end, p, step)

    def service_time(self, mean_min: float) -> float:
        """A service time with mean ``mean_min`` (``hospital_care`` says how it is drawn).

        Every hospital draws from the one stream ``service``, in the order care starts, so
        the draws are those the model has always made (the event digests depend on it).
        """
        m = self.model
        care = m.spec.hospital_care
        if care.service_distribution == "exponential":
            return float(m.streams.stream("service").exponential(mean_min))
        cv = care.service_cv
        if cv == 0:
            return mean_min
        sigma2 = math.log1p(cv * cv)
        mu = math.log(mean_min) - sigma2 / 2
        return float(m.streams.stream("service").lognormal(mu, math.sqrt(sigma2)))

    def _end(self, p: Patient, step: Step) -> None:
        if p.state is PatientState.DEAD or p.hospital != self.hid:
            return
        m = self.model
        for r in step.needs:
            self.release(p, r)
        if p.state is PatientState.DEFINITIVE_CARE:
            p.record(step.end_kind, hospital=self.hid, node=self.node, detail=step.name)
        else:
            p.set_care(m.spec.physiology.hospital_wait_care_factor)
            p.set_state(
                PatientState.AWAITING_CARE,
                step.end_kind,
                hospital=self.hid,
                node=self.node,
                detail=step.name,
            )
        p.step += 1
        self._queue_next(p)
        self.pump()

    def view_free(self, r: str) -> int:
        """Free units of ``r`` now (never below zero)."""
        f = self.free.get(r, 0)
        return f if f > 0 else 0
