"""MCIModel: the Mesa model that wires a scenario's agents, policies and event loop together.

Time is event-driven (DESIGN.md "Time"): nothing loops over all agents per minute. Every
activity is an event at the simulated minute it happens, kept in one deterministic heap
(:class:`~mcsim.clock.EventQueue`). The order of phases and the rules of the response are:

1. **Onset** of each incident (its ``onset_min``): the casualties appear at the scene, drawn
   from the incident's injury profile on the incident's own random stream. Patients killed
   outright are dead at once; trapped ones wait for extraction; the rest await triage. Each
   living patient's death from untreated deterioration is scheduled; walking patients who
   will leave on their own, and non-walking ones whom bystanders will drive
   (``carried_by_bystanders_share``), get a departure time.
2. **EMS alert** (``onset + response.alert_delay_min``): triage officers and paramedics leave
   the ambulance station nearest to the scene; the dispatcher sends free ambulances (dispatch
   policy: which vehicle) until the seats committed to the scene cover the patients still there.
3. **Hospital alert** (``onset + response.hospital_alert_delay_min``, first incident only):
   every hospital calls in its on-call teams, who get ready (``callin_delay_min``) and drive in,
   and opens its surge capacity ``surge_delay_min`` later.
4. **Triage**: the first officer on scene spends ``global_sort_min`` on the global sort, after
   which every patient still walking is triaged at once (the triage policy sees the observed
   vitals); officers then triage the others one by one in the order they are come upon, each
   taking the patient's own triage time. Paramedics care for immediate, then delayed patients
   waiting for transport (deterioration slows by ``onscene_care_factor``). A minor casualty
   drawn for treat-and-release (``treat_and_release_share``) is treated there and goes home.
5. **Loading**: whenever a vehicle waits at the scene and triaged patients wait for it, the
   dispatch policy chooses whom it takes; loading takes ``loading_min`` per patient, then the
   destination policy chooses the hospital. Self-transporting patients go to the nearest
   hospital whatever the policy (SCIENCE.md §3). With the ``stay_and_play`` strategy the
   chosen immediate and delayed patients are first stabilised on scene
   (``stabilisation_min`` each); hospitals' diversion status is updated at each destination
   decision (``policies.diversion``). Triage tags pass through the responder-error model
   (one pre-drawn uniform per patient, stream ``triage_error``).
6. **Hospital**: arrival, queues for resus bay/team, OR/team, ICU bed or ED bed (see
   :mod:`mcsim.agents.hospital`); definitive care stops deterioration and decides the outcome.
   After handover (``handover_min``) the vehicle is free: the dispatcher sends it back to a
   scene that still needs vehicles, or it drives back to its station.
7. **Deaths** happen when a patient's RPM reaches 0 before definitive care, or
   ``postcare_death_delay_min`` after the start of definitive care that they do not survive.
8. **End** at ``duration_min``: a final ``end`` row; deaths already decided by definitive care
   but falling after the horizon are recorded at their time after it.

Ties at the same minute resolve by :class:`~mcsim.enums.Phase` (onsets, deaths, arrivals,
service ends, decisions) and then by the order in which the events were scheduled. Exercise
injects and decisions are applied between ``run(until=t)`` calls, after every event of minute
``t`` (:mod:`mcsim.exercise`). Automatic garbage collection is paused inside :meth:`run` and
:meth:`result` (:mod:`mcsim.gcpause`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np

from mcsim import physiology as phys
from mcsim.agents.ambulance import Ambulance
from mcsim.agents.hospital import Hospital
from mcsim.agents.pathways import DEFAULT_PATHWAYS, Step
from mcsim.agents.patient import AT_SCENE, Patient
from mcsim.agents.staff import Staff
from mcsim.casualties import generate_casualties
from mcsim.clock import EventQueue
from mcsim.enums import (
    CareNeed,
    EventKind,
    LeaveMode,
    NodeKind,
    Outcome,
    PatientState,
    Phase,
    Resource,
    StaffRole,
    StaffState,
    TriageTag,
    VehicleState,
)
from mcsim.errors import InputError
from mcsim.gcpause import gc_paused
from mcsim.hospital_choice import ChoiceOption, choice_probabilities, choose
from mcsim.policies import default_registry
from mcsim.policies.triage import apply_mistriage
from mcsim.policies.views import (
    DestinationContext,
    HospitalView,
    PatientView,
    TriageContext,
    TrueState,
    VehicleView,
)
from mcsim.records import EventLog, RunResult
from mcsim.region import Region, build_region
from mcsim.rng import RandomStreams
from mcsim.scenario import IncidentSpec, Scenario
from mcsim.scene import CARE_ORDER, TRANSPORT_ORDER, Scene

#: How many waiting patients per tag a dispatch policy is shown when a vehicle loads.
LOADING_LOOKAHEAD = 8


class MCIModel(mesa.Model):
    """A mass-casualty incident response, event by event.

    Args:
        scenario: a validated :class:`~mcsim.scenario.Scenario`.
        seed: the run's seed; every random stream derives from it.
        triage, dispatch, destination: policy names overriding the scenario's.
        pathways: care pathways by care need, instead of
            :data:`~mcsim.agents.pathways.DEFAULT_PATHWAYS` (a study adding a resource).

    Use :meth:`run` to simulate to the horizon, or :meth:`step` to advance one event time at
    a time; :meth:`result` returns the records and metrics.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int = 0,
        *,
        triage: str | None = None,
        dispatch: str | None = None,
        destination: str | None = None,
        pathways: dict[CareNeed, tuple[Step, ...]] | None = None,
    ) -> None:
        super().__init__(rng=seed)
        #: The care pathway of each care need (mcsim.agents.pathways); a study may pass its own.
        self.pathways = dict(DEFAULT_PATHWAYS if pathways is None else pathways)
        self.closing = False  # past the horizon: deaths decided earlier are recorded, no care
        self._default_schedule.stop()  # purely event-driven: no per-step schedule
        self.step = self._step_to_next_event  # Mesa binds step per instance
        self.spec = scenario  # (Mesa's Model.scenario is its own concept)
        self.seed = int(seed)
        self.streams = RandomStreams(self.seed)
        registry = default_registry()
        names = {
            "triage": triage or scenario.policies.triage,
            "dispatch": dispatch or scenario.policies.dispatch,
            "destination": destination or scenario.policies.destination,
        }
        self.policy_names = names
        self._bind_policies(registry, scenario)

        self.now = 0.0
        self.horizon_min = float(scenario.duration_min)
        self.queue = EventQueue()
        self.log = EventLog()
        self.region: Region = build_region(scenario.region)
        self.finished = False
        self._deferred_deaths: list[tuple[float, int, Patient]] = []

        self.hospitals: dict[str, Hospital] = {}
        for h in scenario.hospitals:
            node = self.region.index(h.node)
            self.region.set_kind(node, NodeKind.HOSPITAL)
            self.hospitals[h.id] = Hospital(self, h, node)
        self.hospital_list = list(self.hospitals.values())
        # The hospitals that receive patients (an exercise inject may close one; the same list
        # object as hospital_list until then). Self-transport tokens: see _self_arrival.
        self.receiving_hospitals = self.hospital_list
        self._candidate_list: list[Hospital] | None = None  # see _destination_candidates
        self._candidate_nodes = np.empty(0, dtype=np.intp)
        self.self_trip_tokens: dict[int, int] = {}

        self.vehicles: list[Ambulance] = []
        self.station_nodes: dict[str, int] = {}
        for st in scenario.stations:
            node = self.region.index(st.node)
            self.region.set_kind(node, NodeKind.AMBULANCE_STATION)
            self.station_nodes[st.id] = node
            for group in st.vehicles:
                for _ in range(group.count):
                    v = Ambulance(self, len(self.vehicles), st.id, node, group.type, group.capacity)
                    self.vehicles.append(v)
        self.free_vehicles: dict[int, Ambulance] = {v.vid: v for v in self.vehicles}

        self.staff: list[Staff] = []
        self._create_hospital_teams()
        self.on_call_teams = tuple(self.staff)  # the teams the hospital alert calls in

        self.scenes: list[Scene] = []
        self.patients: list[Patient] = []
        for inc in scenario.incidents:
            node = self.region.index(inc.node)
            self.region.set_kind(node, NodeKind.INCIDENT_SITE)
            scene = Scene(inc, node)
            self.scenes.append(scene)
            self.schedule(inc.onset_min, Phase.ACTION, self.start_incident, scene)
        first_onset = min(inc.onset_min for inc in scenario.incidents)
        self.schedule(
            first_onset + scenario.response.hospital_alert_delay_min,
            Phase.DECISION,
            self.alert_hospitals,
        )
        self.schedule(self.horizon_min, Phase.END, self._end)

    # ================================================================ policy plumbing

    def _bind_policies(self, registry: Any, scenario: Scenario) -> None:
        """Look the policies up, bind their scenario parameters and the model-supplied inputs.

        A policy's ``policies.params`` entry is checked (unknown parameter → InputError);
        keyword-only parameters without a default (``context``, ``physiology``, ``truth``,
        see :mod:`mcsim.policies.views`) are supplied at decision time.
        """
        names = self.policy_names
        ps = scenario.policies
        for kind in ("triage", "dispatch", "destination"):
            values = getattr(ps.params, kind).get(names[kind])
            self._bind_policy(registry, kind, names[kind], values, path=f"policies.{kind}")
        self.mistriage = ps.triage_error.model_dump()
        self._mistriage_on = any(v > 0 for v in self.mistriage.values())
        self.strategy = ps.strategy
        div = ps.diversion
        self.diversion_on_at = div.on_at
        self.diversion_off_below = (
            div.off_below if div.off_below is not None else (div.on_at or 0) // 2
        )
        self.triage_error_u: list[float] = []  # one uniform per patient, by pid
        self.destination_u: list[float] = []  # one uniform per patient, by pid
        self.choice_u: list[float] = []  # one uniform per patient: self-presenters' hospital
        self.assigned_by_tag: dict[str, dict[str, int]] = {h.id: {} for h in scenario.hospitals}

    def set_policy(self, kind: str, name: str, params: dict[str, Any] | None = None) -> None:
        """Switch the ``kind`` policy to ``name`` from now on (an exercise decision).

        ``params`` are that policy's parameters, over the scenario's ``policies.params`` entry
        for it; the pre-drawn uniforms and the per-hospital counts of patients sent so far are
        kept (a quota table counts from the start of the incident).
        """
        if kind not in ("triage", "dispatch", "destination"):
            raise InputError(f"unknown policy kind {kind!r}; known: triage, dispatch, destination")
        values = {
            **(getattr(self.spec.policies.params, kind).get(name) or {}),
            **(params or {}),
        }
        self._bind_policy(default_registry(), kind, name, values, path=kind)

    def _bind_policy(
        self, registry: Any, kind: str, name: str, values: dict[str, Any] | None, path: str
    ) -> None:
        """Look ``name`` up, bind its parameters and the model-supplied ``physiology``."""
        pol = registry.get(kind, name, path=path)
        kw = pol.bind(values)
        if "physiology" in pol.injected:
            kw["physiology"] = self.spec.physiology
        if pol.kind.value == "triage":
            self.triage_params, self._triage_needs, self.triage_policy = kw, pol.injected, pol.func
        elif pol.kind.value == "dispatch":
            self.dispatch_rule = pol.func(**kw)
        else:
            self.destination_params, self._destination_needs = kw, pol.injected
            self.destination_policy = pol.func
        self.policy_names[pol.kind.value] = name

    def _triage_context(self, scene: Scene) -> TriageContext:
        waiting = sum(
            1
            for p in scene.awaiting_transport[TriageTag.IMMEDIATE]
            if p.state is PatientState.AWAITING_TRANSPORT
        )
        at_or_to = sum(
            1
            for v in self.vehicles
            if v.scene is scene and v.state in (VehicleState.TO_SCENE, VehicleState.AT_SCENE)
        )
        return TriageContext(
            now_min=self.now,
            immediate_waiting=waiting,
            vehicles_at_or_to_scene=at_or_to,
            free_vehicles=len(self.free_vehicles),
            free_resus_bays=sum(h.view_free(Resource.RESUS_BAY) for h in self.hospital_list),
        )

    def _apply_triage(self, p: Patient, obs: phys.Vitals) -> TriageTag:
        """The triage tool's tag, then responder error (pre-drawn uniform per patient)."""
        kw = self.triage_params
        needs = self._triage_needs
        if needs:
            kw = dict(kw)
            if "context" in needs:
                kw["context"] = self._triage_context(p.scene)
            if "truth" in needs:
                kw["truth"] = TrueState(
                    vitals=p.vitals(self.now),
                    rpm=p.traj.rpm_int_at(self.now),
                    critical=p.critical,
                )
        tag = self.triage_policy(obs, **kw)
        if self._mistriage_on:
            tag = apply_mistriage(tag, self.triage_error_u[p.pid], **self.mistriage)
        return tag

    def _update_diversion(self) -> None:
        """Hospitals go on (or come off) diversion by the scenario's thresholds (hysteresis)."""
        on_at = self.diversion_on_at
        if on_at is None:
            return
        for h in self.hospital_list:
            load = h.queue_length() + h.en_route
            if not h.on_diversion:
                full = h.view_free(Resource.RESUS_BAY) == 0 and h.view_free(Resource.ED_BED) == 0
                if full and load >= on_at:
                    h.on_diversion = True
                    self.log.add(
                        self.now,
                        EventKind.DECISION,
                        hospital=h.hid,
                        node=h.node,
                        detail=f"diversion on (load {load})",
                    )
            elif load < self.diversion_off_below:
                h.on_diversion = False
                self.log.add(
                    self.now,
                    EventKind.DECISION,
                    hospital=h.hid,
                    node=h.node,
                    detail=f"diversion off (load {load})",
                )

    def expected_wait_min(self, h: Hospital) -> float:
        """A crude estimate of the wait for a bed on arrival at ``h`` [assumption].

        Patients queueing or en route beyond the free resus bays and ED beds, times the mean
        serious-ED service time, shared among the bays and beds that turn over (those not still
        held by patients from before the incident).
        """
        free = h.view_free(Resource.RESUS_BAY) + h.view_free(Resource.ED_BED)
        ahead = h.queue_length() + h.en_route - free
        if ahead <= 0:
            return 0.0
        servers = sum(h.capacity[r] - h.occupied[r] for r in (Resource.RESUS_BAY, Resource.ED_BED))
        return ahead * self.spec.hospital_care.ed_serious_min / max(1, servers)

    # ================================================================ the event loop

    def schedule(self, time: float, phase: Phase, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` at simulated minute ``time`` (never earlier than now)."""
        if time < self.now:
            raise ValueError(f"cannot schedule at {time} before now ({self.now})")
        self.queue.push(time, phase, fn, *args)

    def _step_to_next_event(self) -> bool:
        """Run every event at the next event time; False once the run is over."""
        if self.finished:
            return False
        q = self.queue
        t = q.peek_time()
        while q.peek_time() == t and not self.finished:
            time, fn, args = q.pop()
            self.now = time
            fn(*args)
        self.time = self.now
        return not self.finished

    def run(self, until: float | None = None) -> MCIModel:
        """Process events up to ``until`` (default: the horizon, which ends the run)."""
        limit = self.horizon_min if until is None else min(until, self.horizon_min)
        q = self.queue
        with gc_paused():
            while not self.finished and q.peek_time() <= limit:
                time, fn, args = q.pop()
                self.now = time
                fn(*args)
        if not self.finished:
            self.now = max(self.now, limit)
        self.time = self.now
        return self

    def _end(self) -> None:
        self.now = self.horizon_min
        self.closing = True
        for p in self.patients:
            if p.state is not PatientState.DEAD and p.outcome is Outcome.UNRESOLVED:
                p.p_survival = p.survival_if_treated_now(self.now)
        self.log.add(self.now, EventKind.END, detail="horizon")
        for t, _pid, p in sorted(self._deferred_deaths, key=lambda x: (x[0], x[1])):
            if p.state is PatientState.DEAD:
                continue
            self.now = t
            p.die("despite definitive care (after the horizon)")
        self.now = self.horizon_min
        self.finished = True
        self.running = False

    def schedule_or_defer_death(self, p: Patient, t: float, token: int) -> None:
        """A death decided by definitive care: scheduled, or recorded after the horizon."""
        if t <= self.horizon_min:
            self.schedule(t, Phase.DEATH, p.die_after_care, token)
        else:
            self._deferred_deaths.append((t, p.pid, p))

    def service_time(self, mean_min: float) -> float:
        """A hospital service time with mean ``mean_min`` (``hospital_care`` says how drawn)."""
        care = self.spec.hospital_care
        if care.service_distribution == "exponential":
            return float(self.streams.stream("service").exponential(mean_min))
        cv = care.service_cv
        if cv == 0:
            return mean_min
        sigma2 = math.log1p(cv * cv)
        mu = math.log(mean_min) - sigma2 / 2
        return float(self.streams.stream("service").lognormal(mu, math.sqrt(sigma2)))

    # ================================================================ incidents

    def add_incident(self, spec: IncidentSpec) -> Scene:
        """A further incident during the run (an exercise inject): its onset is scheduled.

        Its casualties come from their own stream ``casualties/<id>``, so adding it changes
        nothing about the other incidents' casualties. Onset no earlier than now.
        """
        if any(s.id == spec.id for s in self.scenes):
            raise InputError(f"an incident {spec.id!r} already exists", path="id")
        node = self.region.index(spec.node)
        self.region.set_kind(node, NodeKind.INCIDENT_SITE)
        scene = Scene(spec, node)
        self.scenes.append(scene)
        self.schedule(max(self.now, spec.onset_min), Phase.ACTION, self.start_incident, scene)
        return scene

    def start_incident(self, scene: Scene) -> None:
        """Onset: casualties appear; their clocks start."""
        inc = scene.spec
        sc = self.spec
        self.log.add(
            self.now,
            EventKind.INCIDENT,
            incident=scene.id,
            node=scene.node,
            detail=f"{inc.casualties} casualties, {inc.injury_profile}",
        )
        table = generate_casualties(
            inc.casualties,
            sc.profile(inc.injury_profile),
            child_share=inc.child_share,
            child_age_range=inc.child_age_range,
            adult_age_range=inc.adult_age_range,
            self_transport_share=inc.self_transport_share,
            extraction_share=inc.extraction_share,
            extraction_min_range=inc.extraction_min_range,
            self_transport_delay_min_range=sc.response.self_transport_delay_min_range,
            rng=self.streams.stream(f"casualties/{scene.id}"),
        )
        params = sc.physiology
        # One uniform per patient on each policy-facing stream, drawn up front whatever the
        # policies do with them (common random numbers across policies).
        self.triage_error_u.extend(self.streams.stream("triage_error").random(len(table)).tolist())
        self.destination_u.extend(self.streams.stream("destination").random(len(table)).tolist())
        self.choice_u.extend(self.streams.stream("hospital_choice").random(len(table)).tolist())
        if inc.went_home_share > 0:
            u = self.streams.stream(f"home/{scene.id}").random(len(table))
            scene.went_home = set(
                (np.flatnonzero(u < inc.went_home_share) + len(self.patients)).tolist()
            )
        if inc.treat_and_release_share > 0:
            u = self.streams.stream(f"release/{scene.id}").random(len(table))
            scene.released = set(
                (np.flatnonzero(u < inc.treat_and_release_share) + len(self.patients)).tolist()
            )
        carried: set[int] = set()
        carried_delay = None
        if inc.carried_by_bystanders_share > 0:
            # Their own stream, so that the casualties drawn stay the same (CRN).
            rng = self.streams.stream(f"bystanders/{scene.id}")
            lo, hi = sc.response.self_transport_delay_min_range
            u = rng.random(len(table))
            carried_delay = rng.uniform(lo, hi, len(table))
            carried = set(np.flatnonzero(u < inc.carried_by_bystanders_share).tolist())
        access = inc.access_delay_min
        for i in range(len(table)):
            row = table.row(i, params)
            if access > 0:  # nobody leaves or is reached before the scene is accessible
                row["extraction_min"] = max(row["extraction_min"], access)
                row["self_transport_delay_min"] = max(row["self_transport_delay_min"], access)
            p = Patient(self, len(self.patients), scene, row)
            self.patients.append(p)
            scene.patients.append(p)
            if p.rpm0 <= 0:
                p.set_state(PatientState.AWAITING_TRIAGE, EventKind.CASUALTY, node=scene.node)
                p.die("killed outright")
                continue
            if row["extraction_min"] > 0:
                p.set_state(PatientState.TRAPPED, EventKind.CASUALTY, node=scene.node)
                self.schedule(
                    self.now + row["extraction_min"], Phase.SERVICE_END, self.extracted, p
                )
            else:
                p.set_state(PatientState.AWAITING_TRIAGE, EventKind.CASUALTY, node=scene.node)
                scene.awaiting_triage.append(p)
            p.in_demand = True
            scene.demand += 1
            p.start_clock()
            if row["self_transport"]:
                self.schedule(
                    self.now + row["self_transport_delay_min"],
                    Phase.DECISION,
                    self.self_transport,
                    p,
                )
            elif i in carried and not p.walking0 and row["extraction_min"] <= access:
                delay = max(float(carried_delay[i]), access)
                self.schedule(self.now + delay, Phase.DECISION, self.self_transport, p, True)
        self.schedule(self.now + sc.response.alert_delay_min, Phase.DECISION, self.alert_ems, scene)

    def extracted(self, p: Patient) -> None:
        """A trapped patient is freed and can be triaged."""
        if p.state is not PatientState.TRAPPED:
            return
        p.set_state(PatientState.AWAITING_TRIAGE, EventKind.EXTRACTED)
        p.scene.awaiting_triage.append(p)
        self._wake_officers(p.scene)

    def alert_ems(self, scene: Scene) -> None:
        """EMS is alerted: scene staff leave the nearest station; ambulances are dispatched."""
        resp = self.spec.response
        to_scene = self.region.travel_to(scene.node)
        station_ids = list(self.station_nodes)
        nearest = min(
            station_ids, key=lambda s: (to_scene[self.station_nodes[s]], station_ids.index(s))
        )
        home = self.station_nodes[nearest]
        roles = [StaffRole.TRIAGE_OFFICER] * resp.triage_officers
        roles += [StaffRole.PARAMEDIC] * resp.paramedics
        for role in roles:
            s = Staff(self, len(self.staff), role, home)
            self.staff.append(s)
            s.send_to_scene(scene)
        scene.alerted = True
        # After every alert of this minute: scenes alerted together share the fleet by need.
        self.schedule(self.now, Phase.DECISION, self.dispatch_round)

    def alert_hospitals(self) -> None:
        """Hospitals declare a major incident: call-in, surge plan, beds cleared.

        Every on-call team is called; each leaves home after its own lognormal delay (median
        the hospital's ``callin_delay_min`` for trauma teams, ``surgical_callin_median_min``
        for surgical teams) and drives in. Surge capacity opens ``surge_delay_min`` later;
        patients from before the incident start moving out of their beds.
        """
        care = self.spec.hospital_care
        rng = self.streams.stream("callin")
        for s in self.on_call_teams:
            if s.role is not StaffRole.HOSPITAL_TEAM or s.hospital is None:
                continue
            if s.resource is Resource.SURGICAL_TEAM:
                median, sigma = care.surgical_callin_median_min, care.surgical_callin_sigma
            else:
                median, sigma = s.hospital.spec.callin_delay_min, care.callin_sigma
            delay = median * math.exp(sigma * float(rng.standard_normal())) if median > 0 else 0.0
            s.call_in(s.hospital, delay)
        for h in self.hospital_list:
            if any(h.spec.surge.model_dump().values()):
                self.schedule(self.now + h.spec.surge_delay_min, Phase.DECISION, h.open_surge)
            h.clear_occupied_beds()

    def _create_hospital_teams(self) -> None:
        junctions = self.region.nodes_of_kind(NodeKind.JUNCTION)
        care = self.spec.hospital_care
        for h in self.hospital_list:
            homes = [self.region.index(n) for n in h.spec.staff_home_nodes]
            rng = self.streams.stream(f"staff/{h.hid}")
            kinds = [Resource.TEAM] * h.spec.teams_on_call
            kinds += [Resource.SURGICAL_TEAM] * h.spec.surgical_teams_on_call_count(care)
            for k, kind in enumerate(kinds):
                if homes:
                    home = homes[k % len(homes)]
                else:
                    pool = junctions if len(junctions) else np.arange(self.region.n_nodes)
                    home = int(pool[int(rng.integers(len(pool)))])
                s = Staff(self, len(self.staff), StaffRole.HOSPITAL_TEAM, home)
                s.hospital = h
                s.resource = kind
                self.staff.append(s)

    def transfer(self, p: Patient, origin: Hospital, steps: tuple[Step, ...]) -> None:
        """Secondary transfer: ``origin`` cannot run ``steps``; the nearest that can takes over.

        An inter-hospital vehicle (not the incident fleet) leaves after
        ``hospital_care.transfer_delay_min``. Where no receiving hospital can run the first
        step, the patient stays, waiting, and the log says why.
        """
        from_origin = self.region.travel_from(origin.node)
        options = [
            h
            for h in self.receiving_hospitals
            if h is not origin and h.offers(steps[0]) and not math.isinf(from_origin[h.node])
        ]
        if not options:
            p.record(
                EventKind.TRANSFER, hospital=origin.hid, detail=f"no hospital for {steps[0].name}"
            )
            return
        target = min(options, key=lambda h: (from_origin[h.node], h.hid))
        arrive = self.now + self.spec.hospital_care.transfer_delay_min + from_origin[target.node]
        p.pending_steps = steps
        if p.state is not PatientState.DEFINITIVE_CARE:
            p.set_care(self.spec.physiology.transport_care_factor)
            p.set_state(
                PatientState.IN_TRANSPORT,
                EventKind.TRANSFER,
                hospital=target.hid,
                node=origin.node,
                to_node=target.node,
                arrive_min=arrive,
                detail=f"from {origin.hid}",
            )
        else:
            p.record(
                EventKind.TRANSFER,
                hospital=target.hid,
                node=origin.node,
                to_node=target.node,
                arrive_min=arrive,
                detail=f"from {origin.hid}",
            )
        target.expect(1)
        self.schedule(arrive, Phase.ARRIVAL, self._transfer_arrival, p, target)

    def _transfer_arrival(self, p: Patient, h: Hospital) -> None:
        h.expect(-1)
        if p.state is not PatientState.DEAD:
            h.admit(p, how="transfer")

    # ================================================================ scene work

    def responder_ready(self, s: Staff) -> None:
        """A scene responder arrived (or finished a task) and looks for the next one."""
        scene = s.scene
        assert scene is not None
        if s.role is StaffRole.TRIAGE_OFFICER:
            self._triage_next(s)
        else:
            self._care_next(s)

    def _wake_officers(self, scene: Scene) -> None:
        while scene.officers_idle:
            s = scene.officers_idle.popleft()
            self._triage_next(s)
            if s.state is StaffState.IDLE:
                break

    def _triage_next(self, s: Staff) -> None:
        scene = s.scene
        if not scene.global_sort_done:
            if scene.sorting:
                s.state = StaffState.IDLE
                scene.officers_idle.append(s)
                return
            scene.sorting = True
            s.state = StaffState.WORKING
            self.schedule(
                self.now + self.spec.response.global_sort_min,
                Phase.SERVICE_END,
                self._global_sort_done,
                s,
            )
            return
        p = scene.next_to_triage()
        if p is None:
            s.state = StaffState.IDLE
            scene.officers_idle.append(s)
            return
        s.state = StaffState.WORKING
        s.patient = p
        self.schedule(self.now + p.triage_service_min, Phase.SERVICE_END, self._triage_done, s, p)

    def _global_sort_done(self, s: Staff) -> None:
        """'Everyone who can walk, go there': the walking are triaged at once."""
        scene = s.scene
        scene.global_sort_done = True
        for p in list(scene.awaiting_triage):
            if p.state is PatientState.AWAITING_TRIAGE and p.vitals(self.now).walking:
                self._triage(p, s, detail="global sort")
        self.scene_changed(scene)
        self._triage_next(s)
        self._wake_officers(scene)

    def _triage_done(self, s: Staff, p: Patient) -> None:
        s.patient = None
        if p.state is PatientState.AWAITING_TRIAGE:
            self._triage(p, s)
            self.scene_changed(p.scene)
        self._triage_next(s)

    def _triage(self, p: Patient, s: Staff, detail: str = "") -> None:
        """Observe the patient's vitals and apply the triage policy."""
        params = self.spec.physiology
        obs = phys.observe(p.vitals(self.now), p.z_obs, params)
        p.observed = obs
        p.tag = self._apply_triage(p, obs)
        p.triaged_min = self.now
        scene = p.scene
        p.set_state(PatientState.AWAITING_TRANSPORT, EventKind.TRIAGED, staff=s.sid, detail=detail)
        if self.spec.response.tourniquets_at_triage:
            p.control_haemorrhage(by="triage")
        if p.tag is TriageTag.DEAD:
            self._leave_demand(p)
            return
        if p.tag is TriageTag.MINOR and p.pid in scene.released:
            self._release_on_scene(p)
            return
        if p.tag in TRANSPORT_ORDER:
            scene.awaiting_transport[p.tag].append(p)
        if p.tag in CARE_ORDER:
            scene.awaiting_care[p.tag].append(p)

    def _release_on_scene(self, p: Patient) -> None:
        """A minor casualty is treated where they are and goes home (not conveyed)."""
        self._leave_demand(p)
        p.leave_scene(LeaveMode.RELEASED)
        p.outcome = Outcome.SURVIVED
        p.p_survival = self.spec.physiology.minor_survival_probability
        p.set_care(0.0)
        p.set_state(PatientState.RELEASED, EventKind.RELEASED, detail="treated on scene")

    def _go_home(self, p: Patient) -> None:
        """A walking casualty leaves on their own and goes home, not to a hospital."""
        self._leave_demand(p)
        self._release_caregiver(p)
        p.leave_scene(LeaveMode.HOME)
        p.outcome = Outcome.SURVIVED
        p.p_survival = self.spec.physiology.minor_survival_probability
        p.set_care(0.0)
        p.set_state(PatientState.RELEASED, EventKind.RELEASED, detail="went home")
        self.scene_changed(p.scene)

    def _care_next(self, s: Staff) -> None:
        scene = s.scene
        p = scene.next_needing_care()
        if p is None:
            s.state = StaffState.IDLE
            s.patient = None
            scene.paramedics_idle.append(s)
            return
        s.state = StaffState.WORKING
        s.patient = p
        p.caregiver = s
        p.set_care(self.spec.physiology.onscene_care_factor)
        p.record(EventKind.SCENE_CARE_START, staff=s.sid)
        p.control_haemorrhage(by="paramedic")

    def _release_caregiver(self, p: Patient) -> None:
        s = p.caregiver
        if s is None:
            return
        p.caregiver = None
        s.patient = None
        self._care_next(s)

    def _leave_demand(self, p: Patient) -> None:
        if p.in_demand:
            p.in_demand = False
            p.scene.demand -= 1

    def scene_changed(self, scene: Scene) -> None:
        """Something at the scene changed: give care, load waiting vehicles, dispatch more."""
        while scene.paramedics_idle:
            s = scene.paramedics_idle.popleft()
            self._care_next(s)
            if s.patient is None:
                break
        self.try_loading(scene)
        self.dispatch_round()

    def try_loading(self, scene: Scene) -> None:
        """Load every waiting vehicle that the dispatch policy can fill."""
        select = self.dispatch_rule.select_patients
        factor = self.spec.physiology.transport_care_factor
        while scene.vehicles_waiting:
            waiting = scene.waiting_heads(LOADING_LOOKAHEAD)
            if not waiting:
                return
            v = scene.vehicles_waiting[0]
            by_id = {p.pid: p for p in waiting}
            vview = self.vehicle_view(v, scene)
            ids = select([self.patient_view(p) for p in waiting], vview)
            if not ids:
                return
            all_minor = all(i in by_id and by_id[i].tag is TriageTag.MINOR for i in ids)
            limit = vview.max_minor if all_minor else v.capacity
            if len(ids) > limit or len(set(ids)) != len(ids) or any(i not in by_id for i in ids):
                raise RuntimeError(
                    f"dispatch policy {self.policy_names['dispatch']!r} chose {ids} for a "
                    f"vehicle of capacity {v.capacity} among {sorted(by_id)}"
                )
            scene.vehicles_waiting.popleft()
            chosen = [by_id[i] for i in ids]
            strategy = self.strategy
            stabilise = []
            if strategy.prehospital == "stay_and_play" and strategy.stabilisation_min > 0:
                stabilise = [p for p in chosen if p.tag in CARE_ORDER]
            for p in chosen:
                self._leave_demand(p)
                self._release_caregiver(p)
                if stabilise:
                    p.set_care(strategy.stabilisation_care_factor if p in stabilise else factor)
                    p.set_state(
                        PatientState.LOADING,
                        EventKind.SCENE_CARE_START,
                        vehicle=v.vid,
                        detail="stabilisation before transport",
                    )
                else:
                    p.set_care(factor)
            if stabilise:
                v.patients = list(chosen)  # on the vehicle's stretchers while stabilised
                done = self.now + strategy.stabilisation_min * len(stabilise)
                self.schedule(done, Phase.SERVICE_END, self._stabilised, v, chosen)
            else:
                v.load(chosen)

    def _stabilised(self, v: Ambulance, chosen: list[Patient]) -> None:
        """Stay and play: stabilisation is over, the survivors are loaded."""
        alive = [p for p in chosen if p.state is not PatientState.DEAD]
        factor = self.spec.physiology.transport_care_factor
        for p in alive:
            p.set_care(factor)
        if alive:
            v.load(alive)
            return
        v.patients = []
        scene = v.scene
        assert scene is not None
        scene.vehicles_waiting.appendleft(v)
        self.try_loading(scene)

    def self_transport(self, p: Patient, carried: bool = False) -> None:
        """A patient leaves without EMS for a hospital of their choosing (SCIENCE.md §3).

        Walking patients go on their own while they still walk; ``carried`` patients are driven
        by bystanders whatever their state (unless already loaded or gone). The hospital comes
        from the distance-decay choice model (:mod:`mcsim.hospital_choice`) with the patient's
        pre-drawn uniform; the drive takes the road network's time times
        ``self_transport_travel_factor``.
        """
        if p.state not in AT_SCENE or p.state is PatientState.TRAPPED:
            return
        if not carried and not p.vitals(self.now).walking:
            return
        scene = p.scene
        if not carried and p.pid in scene.went_home:
            self._go_home(p)
            return
        h = self.self_presenter_choice(scene.node, self.choice_u[p.pid])
        if h is None:
            return
        from_scene = self.region.travel_from(scene.node)
        minutes = from_scene[h.node] * self.spec.response.self_transport_travel_factor
        self._leave_demand(p)
        self._release_caregiver(p)
        arrive = self.now + minutes
        p.leave_scene(LeaveMode.BYSTANDER if carried else LeaveMode.SELF, h.hid)
        p.set_state(
            PatientState.SELF_TRANSPORT,
            EventKind.SELF_TRANSPORT_START,
            node=scene.node,
            to_node=h.node,
            arrive_min=arrive,
        )
        self.schedule(arrive, Phase.ARRIVAL, self._self_arrival, p, h)
        self.scene_changed(scene)

    def self_presenter_choice(self, origin: int, u: float) -> Hospital | None:
        """The hospital a self-presenter leaving ``origin`` picks with uniform ``u``."""
        from_origin = self.region.travel_from(origin)
        hospitals = self._destination_candidates(from_origin)
        c = self.spec.response.hospital_choice
        options = [
            ChoiceOption(
                float(from_origin[h.node]), h.trauma_level, h.spec.ed_beds, h.spec.known_utility
            )
            for h in hospitals
        ]
        probs = choice_probabilities(
            options,
            decay_per_min=c.decay_per_min,
            trauma_centre_utility=c.trauma_centre_utility,
            size_utility_per_log_bed=c.size_utility_per_log_bed,
            candidates=c.candidates,
        )
        i = choose(probs, u)
        return None if i < 0 else hospitals[i]

    def _self_arrival(self, p: Patient, h: Hospital, token: int = 0) -> None:
        # A stale token: an exercise inject redirected the patient meanwhile.
        if p.state is PatientState.SELF_TRANSPORT and token == self.self_trip_tokens.get(p.pid, 0):
            h.admit(p)

    def on_patient_death(self, p: Patient, prev: PatientState) -> None:
        """Tidy up after a death: demand, care giver, hospital resources."""
        self._leave_demand(p)
        if p.caregiver is not None:
            self._release_caregiver(p)
        if p.held:
            for h in {id(h): h for h, _ in p.held}.values():
                h.release_all(p)
        if prev in AT_SCENE and p.scene.alerted:
            self.scene_changed(p.scene)

    # ================================================================ dispatch & destination

    def vehicle_view(self, v: Ambulance, scene: Scene) -> VehicleView:
        """What the dispatcher knows of ``v`` for ``scene``."""
        return VehicleView(
            id=v.vid,
            type=v.vtype,
            capacity=v.capacity,
            node=v.node,
            travel_min_to_scene=float(self.region.travel_to(scene.node)[v.node]),
            station=v.station,
            untriaged_at_scene=scene.untriaged,
            minor_seats=self.strategy.minor_seats,
        )

    def patient_view(self, p: Patient) -> PatientView:
        """What responders know of ``p`` (cached until the patient is triaged again)."""
        o = p.observed
        cached = p.view_cache
        if cached is not None and cached.tag is p.tag and p.view_observed is o:
            return cached
        p.view_observed = o
        p.view_cache = PatientView(
            id=p.pid,
            tag=p.tag,
            age=p.age,
            walking=o.walking if o else p.walking0,
            rr=o.rr if o else -1,
            pulse=o.pulse if o else -1,
            sbp=o.sbp if o else -1,
            gcs=o.gcs if o else -1,
            triaged_min=p.triaged_min,
            observed_rpm=phys.observed_rpm(o, self.spec.physiology) if o else -1,
            u_destination=self.destination_u[p.pid],
        )
        return p.view_cache

    def dispatch_round(self) -> None:
        """Send free vehicles to the scenes in proportion to their need, one at a time.

        Each vehicle goes to the alerted scene with unmet need whose patients needing a seat,
        per seat already sent there plus one, are most (D'Hondt's rule; ties by scene order), so
        that two bomb sites share the fleet by need instead of the first listed taking it all.
        Within a scene, the dispatch policy chooses which vehicle.
        """
        select = self.dispatch_rule.select_vehicle
        scenes = [s for s in self.scenes if s.alerted]
        if not scenes or not self.free_vehicles:
            return
        views: dict[int, dict[int, VehicleView]] = {}
        refused: set[int] = set()
        while self.free_vehicles:
            best = None
            best_claim = 0.0
            for i, scene in enumerate(scenes):
                if scene.demand - scene.committed_capacity <= 0 or i in refused:
                    continue
                # Proportional to need (D'Hondt): patients waiting per seat already sent + 1.
                claim = scene.demand / (scene.committed_capacity + 1)
                if claim > best_claim:
                    best, best_claim = i, claim
            if best is None:
                return
            scene = scenes[best]
            cand = views.get(best)
            if not cand:
                cand = views[best] = self._vehicle_candidates(scene)
            vid = select(list(cand.values()))
            if vid is None:
                refused.add(best)
                continue
            if vid not in cand:
                raise RuntimeError(
                    f"dispatch policy {self.policy_names['dispatch']!r} chose vehicle "
                    f"{vid}, which is not free"
                )
            for c in views.values():
                c.pop(vid, None)
            v = self.free_vehicles.pop(vid)
            v.dispatch(scene)

    def _vehicle_candidates(self, scene: Scene) -> dict[int, VehicleView]:
        """Views of the free vehicles nearest to ``scene`` (by travel time, then id).

        At most ``response.dispatch_candidates`` of them, in the order the free vehicles are
        kept, so that a dispatch decision does not cost a view of every vehicle in the region.
        """
        free = self.free_vehicles
        k = self.spec.response.dispatch_candidates
        if len(free) > k:
            to_scene = self.region.travel_to(scene.node)
            vids = np.fromiter(free.keys(), dtype=np.int64, count=len(free))
            nodes = np.fromiter((v.node for v in free.values()), dtype=np.intp, count=len(free))
            order = np.lexsort((vids, to_scene[nodes]))[:k]
            chosen = set(vids[order].tolist())
            vehicles = [v for v in free.values() if v.vid in chosen]
        else:
            vehicles = list(free.values())
        return {v.vid: self.vehicle_view(v, scene) for v in vehicles}

    def vehicle_free(self, v: Ambulance) -> None:
        """A vehicle finished its handover or reached its station."""
        self.free_vehicles[v.vid] = v
        self.dispatch_round()
        if v.vid in self.free_vehicles and v.state is VehicleState.AT_HOSPITAL:
            del self.free_vehicles[v.vid]
            v.return_to_station()

    def choose_destination(self, patients: list[Patient], origin: int) -> Hospital:
        """Apply the destination policy for ``patients`` leaving ``origin``."""
        self._update_diversion()
        from_origin = self.region.travel_from(origin)
        views = [
            self.hospital_view(h, float(from_origin[h.node]))
            for h in self._destination_candidates(from_origin)
        ]
        pviews = [self.patient_view(p) for p in patients]
        kw = self.destination_params
        if "context" in self._destination_needs:
            scene = patients[0].scene if patients else None
            waiting = scene.waiting_heads(LOADING_LOOKAHEAD) if scene is not None else []
            physio = self.spec.physiology
            kw = dict(
                kw,
                context=DestinationContext(
                    now_min=self.now,
                    waiting=tuple(self.patient_view(p) for p in waiting),
                    care_factor_transport=physio.transport_care_factor,
                    care_factor_wait=physio.hospital_wait_care_factor,
                ),
            )
        hid = self.destination_policy(pviews, views, **kw)
        if hid not in self.hospitals:
            raise RuntimeError(
                f"destination policy {self.policy_names['destination']!r} chose unknown "
                f"hospital {hid!r}"
            )
        counts = self.assigned_by_tag[hid]
        for p in patients:
            counts[p.tag.value] = counts.get(p.tag.value, 0) + 1
        return self.hospitals[hid]

    def _destination_candidates(self, from_origin: np.ndarray) -> list[Hospital]:
        """The receiving hospitals nearest to the origin, in scenario order.

        At most ``response.destination_candidates`` of them (ties by scenario order), so that a
        decision costs the same in a region with a hundred hospitals as with ten.
        """
        hospitals = self.receiving_hospitals
        k = self.spec.response.destination_candidates
        if k <= 0 or len(hospitals) <= k:
            return hospitals
        if self._candidate_list is not hospitals:
            self._candidate_list = hospitals
            self._candidate_nodes = np.array([h.node for h in hospitals], dtype=np.intp)
        nearest = np.argsort(from_origin[self._candidate_nodes], kind="stable")[:k]
        return [hospitals[i] for i in sorted(nearest.tolist())]

    def hospital_view(self, h: Hospital, travel_min: float) -> HospitalView:
        """What a destination policy knows of ``h``.

        Built for every candidate hospital of every departure, hence positional arguments.
        """
        free = h.free
        icu = free[Resource.ICU_BED]
        return HospitalView(
            h.hid,
            h.node,
            travel_min,
            h.trauma_level,
            h.spec.accepts_children,
            h.on_diversion,
            max(0, free[Resource.RESUS_BAY]),
            max(0, free[Resource.ED_BED]),
            icu if icu > 0 else 0,
            h.queue_length(),
            h.received + h.en_route,
            self.expected_wait_min(h),
            dict(self.assigned_by_tag[h.hid]),
            h.view_free(Resource.TEAM),
            h.view_free(Resource.SURGICAL_TEAM),
        )

    # ================================================================ results

    def result(self) -> RunResult:
        """The records and metrics of the run so far (normally called after :meth:`run`)."""
        from mcsim.metrics import compute_metrics
        from mcsim.patients_table import patients_frame

        with gc_paused():
            events = self.log.to_frame()
            patients = patients_frame(self)
        resources = {
            "horizon_min": self.horizon_min,
            "vehicles": len(self.vehicles),
            "hospitals": {
                h.hid: {
                    "node": h.node,
                    "trauma_level": h.trauma_level,
                    "resus_bays": h.spec.resus_bays,
                    "ed_beds": h.spec.ed_beds,
                }
                for h in self.hospital_list
            },
            "onset_min": min(s.onset_min for s in self.scenes),
            "onsets": {s.id: s.onset_min for s in self.scenes},
        }
        with gc_paused():
            metrics = compute_metrics(events, patients, resources)
        return RunResult(
            metrics=metrics,
            events=events,
            patients=patients,
            resources=resources,
            seed=self.seed,
            policies=dict(self.policy_names),
        )
