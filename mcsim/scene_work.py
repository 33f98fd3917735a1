"""Scene work: what happens to casualties at an incident scene, from extraction to the door.

Why a module of its own: most of a casualty's first hour is spent at the scene, and its rules
(extraction, the global sort, triage one by one, paramedic care by urgency, treat-and-release,
loading by the dispatch policy, stay-and-play stabilisation, leaving on one's own) read best
together, in the order a patient meets them. :class:`~mcsim.scene.Scene` stays bookkeeping (its
queues and counts); :class:`SceneWork` holds the behaviour, one per model
(``MCIModel.scene_work``), and keeps its state in the scenes, the patients and the model. The
events it schedules are phases 4 and 5 of the order listed in :mod:`mcsim.model`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcsim import physiology as phys
from mcsim.enums import (
    WAITING_AT_SCENE,
    EventKind,
    LeaveMode,
    Outcome,
    PatientState,
    Phase,
    Resource,
    StaffRole,
    StaffState,
    TriageTag,
    VehicleState,
)
from mcsim.hospital_choice import ChoiceOption, choice_probabilities, choose
from mcsim.policies.triage import apply_mistriage
from mcsim.policies.views import TriageContext, TrueState, is_child_age
from mcsim.scene import CARE_ORDER, TRANSPORT_ORDER, Scene

if TYPE_CHECKING:
    from mcsim.agents.ambulance import Ambulance
    from mcsim.agents.hospital import Hospital
    from mcsim.agents.patient import Patient
    from mcsim.agents.staff import Staff
    from mcsim.model import MCIModel


class SceneWork:
    """The scene responders' rules, applied to every scene of one model.

    Args:
        model: the model whose scenes, patients and policies this works on.
    """

    def __init__(self, model: MCIModel) -> None:
        self.model = model
        # origin node -> (travel array, receiving list, candidates, choice probabilities)
        self._choice_cache: dict[tuple[int, bool], tuple] = {}

    # ================================================================ responders and triage

    def extracted(self, p: Patient) -> None:
        """A trapped patient is freed and can be triaged."""
        if p.state is not PatientState.TRAPPED:
            return
        p.set_state(PatientState.AWAITING_TRIAGE, EventKind.EXTRACTED)
        p.scene.awaiting_triage.append(p)
        self._wake_officers(p.scene)

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
        m = self.model
        scene = s.scene
        if not scene.global_sort_done:
            if scene.sorting:
                s.state = StaffState.IDLE
                scene.officers_idle.append(s)
                return
            scene.sorting = True
            s.state = StaffState.WORKING
            m.schedule(
                m.now + m.spec.response.global_sort_min,
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
        m.schedule(m.now + p.triage_service_min, Phase.SERVICE_END, self._triage_done, s, p)

    def _global_sort_done(self, s: Staff) -> None:
        """'Everyone who can walk, go there': the walking are triaged at once."""
        scene = s.scene
        scene.global_sort_done = True
        m = self.model
        for p in list(scene.awaiting_triage):
            if p.state is PatientState.AWAITING_TRIAGE and p.vitals(m.now).walking:
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
        m = self.model
        params = m.spec.physiology
        obs = phys.observe(p.vitals(m.now), p.z_obs, params)
        p.observed = obs
        p.tag = self._apply_triage(p, obs)
        p.triaged_min = m.now
        scene = p.scene
        p.set_state(PatientState.AWAITING_TRANSPORT, EventKind.TRIAGED, staff=s.sid, detail=detail)
        if m.spec.response.tourniquets_at_triage:
            p.control_haemorrhage(by="triage")
        if p.tag is TriageTag.DEAD:
            self.leave_demand(p)
            return
        if p.tag is TriageTag.MINOR and p.pid in scene.released:
            self._release_on_scene(p)
            return
        if p.tag in TRANSPORT_ORDER:
            scene.awaiting_transport[p.tag].append(p)
        if p.tag in CARE_ORDER:
            scene.awaiting_care[p.tag].append(p)

    def _apply_triage(self, p: Patient, obs: phys.Vitals) -> TriageTag:
        """The triage tool's tag, then responder error (pre-drawn uniform per patient)."""
        m = self.model
        kw = m.triage_params
        needs = m.triage_needs
        if needs:
            kw = dict(kw)
            if "context" in needs:
                kw["context"] = self._triage_context(p.scene)
            if "truth" in needs:
                kw["truth"] = TrueState(
                    vitals=p.vitals(m.now),
                    rpm=p.traj.rpm_int_at(m.now),
                    critical=p.critical,
                )
        tag = m.triage_policy(obs, **kw)
        if m.mistriage_on:
            tag = apply_mistriage(tag, m.triage_error_u[p.pid], **m.mistriage)
        return tag

    def _triage_context(self, scene: Scene) -> TriageContext:
        m = self.model
        waiting = sum(
            1
            for p in scene.awaiting_transport[TriageTag.IMMEDIATE]
            if p.state is PatientState.AWAITING_TRANSPORT
        )
        at_or_to = sum(
            1
            for v in m.vehicles
            if v.scene is scene and v.state in (VehicleState.TO_SCENE, VehicleState.AT_SCENE)
        )
        return TriageContext(
            now_min=m.now,
            immediate_waiting=waiting,
            vehicles_at_or_to_scene=at_or_to,
            free_vehicles=len(m.free_vehicles),
            free_resus_bays=sum(h.view_free(Resource.RESUS_BAY) for h in m.hospital_list),
        )

    # ================================================================ care and leaving

    def _release_on_scene(self, p: Patient) -> None:
        """A minor casualty is treated where they are and goes home (not conveyed)."""
        self._leave_for_home(p, LeaveMode.RELEASED, "treated on scene")

    def _go_home(self, p: Patient) -> None:
        """A walking casualty leaves on their own and goes home, not to a hospital."""
        self._leave_for_home(p, LeaveMode.HOME, "went home")
        self.scene_changed(p.scene)

    def _leave_for_home(self, p: Patient, mode: LeaveMode, detail: str) -> None:
        """``p`` leaves the scene for home, surviving as the walking wounded do.

        A patient just triaged has no care giver yet, so releasing one is a no-op for them.
        """
        self.leave_demand(p)
        self.release_caregiver(p)
        p.leave_scene(mode)
        p.outcome = Outcome.SURVIVED
        p.p_survival = self.model.spec.physiology.minor_survival_probability
        p.set_care(0.0)
        p.set_state(PatientState.RELEASED, EventKind.RELEASED, detail=detail)

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
        p.set_care(self.model.spec.physiology.onscene_care_factor)
        p.record(EventKind.SCENE_CARE_START, staff=s.sid)
        p.control_haemorrhage(by="paramedic")

    def release_caregiver(self, p: Patient) -> None:
        """The paramedic caring for ``p`` (if any) moves on to the next patient."""
        s = p.caregiver
        if s is None:
            return
        p.caregiver = None
        s.patient = None
        self._care_next(s)

    def leave_demand(self, p: Patient) -> None:
        """``p`` no longer needs a seat in a vehicle (gone, dead or taken)."""
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
        self.model.dispatch_centre.dispatch_round()

    # ================================================================ loading

    def try_loading(self, scene: Scene) -> None:
        """Load every waiting vehicle that the dispatch policy can fill."""
        m = self.model
        centre = m.dispatch_centre
        select = m.dispatch_rule.select_patients
        factor = m.spec.physiology.transport_care_factor
        while scene.vehicles_waiting:
            waiting = scene.waiting_heads(m.spec.response.loading_lookahead)
            if not waiting:
                return
            v = scene.vehicles_waiting[0]
            by_id = {p.pid: p for p in waiting}
            vview = centre.vehicle_view(v, scene)
            ids = select([centre.patient_view(p) for p in waiting], vview)
            if not ids:
                return
            all_minor = all(i in by_id and by_id[i].tag is TriageTag.MINOR for i in ids)
            limit = vview.max_minor if all_minor else v.capacity
            if len(ids) > limit or len(set(ids)) != len(ids) or any(i not in by_id for i in ids):
                raise RuntimeError(
                    f"dispatch policy {m.policy_names['dispatch']!r} chose {ids} for a "
                    f"vehicle of capacity {v.capacity} among {sorted(by_id)}"
                )
            scene.vehicles_waiting.popleft()
            chosen = [by_id[i] for i in ids]
            strategy = m.strategy
            stabilise = []
            if strategy.prehospital == "stay_and_play" and strategy.stabilisation_min > 0:
                stabilise = [p for p in chosen if p.tag in CARE_ORDER]
            for p in chosen:
                self.leave_demand(p)
                self.release_caregiver(p)
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
                done = m.now + strategy.stabilisation_min * len(stabilise)
                m.schedule(done, Phase.SERVICE_END, self._stabilised, v, chosen)
            else:
                v.load(chosen)

    def _stabilised(self, v: Ambulance, chosen: list[Patient]) -> None:
        """Stay and play: stabilisation is over, the survivors are loaded."""
        alive = [p for p in chosen if p.state is not PatientState.DEAD]
        factor = self.model.spec.physiology.transport_care_factor
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

    # ================================================================ leaving without EMS

    def self_transport(self, p: Patient, carried: bool = False) -> None:
        """A patient leaves without EMS for a hospital of their choosing (SCIENCE.md §3).

        Walking patients go on their own while they still walk; ``carried`` patients are driven
        by bystanders whatever their state (unless already loaded or gone). The hospital comes
        from the distance-decay choice model (:mod:`mcsim.hospital_choice`) with the patient's
        pre-drawn uniform; the drive takes the road network's time times
        ``self_transport_travel_factor``.
        """
        m = self.model
        if p.state not in WAITING_AT_SCENE or p.state is PatientState.TRAPPED:
            return
        if not carried and not p.vitals(m.now).walking:
            return
        scene = p.scene
        if not carried and p.pid in scene.went_home:
            self._go_home(p)
            return
        child = is_child_age(p.age, m.spec.hospital_care.child_age_below)
        h = self.self_presenter_choice(scene.node, m.choice_u[p.pid], child)
        if h is None:
            return
        from_scene = m.region.travel_from(scene.node)
        minutes = from_scene[h.node] * m.spec.response.self_transport_travel_factor
        self.leave_demand(p)
        self.release_caregiver(p)
        arrive = m.now + minutes
        p.leave_scene(LeaveMode.BYSTANDER if carried else LeaveMode.SELF, h.hid)
        p.set_state(
            PatientState.SELF_TRANSPORT,
            EventKind.SELF_TRANSPORT_START,
            node=scene.node,
            to_node=h.node,
            arrive_min=arrive,
        )
        p.arrival_event = m.schedule(arrive, Phase.ARRIVAL, self.self_arrival, p, h)
        self.scene_changed(scene)

    def self_presenter_choice(self, origin: int, u: float, child: bool = False) -> Hospital | None:
        """The hospital a self-presenter leaving ``origin`` picks with uniform ``u``.

        Only hospitals that take the patient's age group are chosen from (adults are not
        driven to a children's hospital, nor children to an adult-only one).
        """
        m = self.model
        from_origin = m.region.travel_from(origin)
        key = (origin, child)
        cached = self._choice_cache.get(key)
        # Valid while the travel times (a new array after a road closure) and the receiving
        # hospitals (a new list after a closure inject) are the same objects.
        if cached is not None and cached[0] is from_origin and cached[1] is m.receiving_hospitals:
            hospitals, probs = cached[2], cached[3]
            i = choose(probs, u)
            return None if i < 0 else hospitals[i]
        hospitals = [
            h
            for h in m.dispatch_centre.destination_candidates(from_origin, m.receiving_hospitals)
            if (h.spec.accepts_children if child else h.spec.accepts_adults)
        ]
        c = m.spec.response.hospital_choice
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
        self._choice_cache[key] = (from_origin, m.receiving_hospitals, hospitals, probs)
        i = choose(probs, u)
        return None if i < 0 else hospitals[i]

    def self_arrival(self, p: Patient, h: Hospital) -> None:
        """A self-transporting patient reaches ``h`` (alive: dead on the way, nothing happens).

        An exercise inject that turns them away cancels this event and schedules another
        (:meth:`mcsim.control.Control.redirect_self_presenter`).
        """
        p.arrival_event = None
        if p.state is PatientState.SELF_TRANSPORT:
            h.admit(p)
