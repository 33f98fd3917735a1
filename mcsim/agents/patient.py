"""The patient agent: a casualty's true physiology, what responders saw, and where they are.

A patient carries two pictures of themself. The *true* one (initial RPM and its components,
a :class:`~mcsim.physiology.Trajectory` that deteriorates on an effective clock slowed by care)
decides whether and when they die. The *observed* one (vitals measured with error at triage)
is all that triage policies see. Every state change goes through :meth:`Patient.set_state`,
which writes one row of the event log, so the log is the patient's whole story.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa

from mcsim import outcome as out
from mcsim import physiology as phys
from mcsim.agents.pathways import care_need
from mcsim.enums import (
    AT_SCENE,
    WAITING_AT_SCENE,
    DeathPlace,
    EventKind,
    LeaveMode,
    Outcome,
    PatientState,
    Phase,
    Severity,
    TriageTag,
)

if TYPE_CHECKING:
    from mcsim.clock import Event
    from mcsim.model import MCIModel
    from mcsim.scene import Scene

# Patients the responders can reach but have not triaged yet (trapped ones are not counted:
# holding walking patients back for someone still under rubble would idle the ambulances).
UNTRIAGED = frozenset({PatientState.AWAITING_TRIAGE})


class Patient(mesa.Agent):
    """One casualty.

    A patient's story, event by event (each a row of the event log, ``kind`` in brackets):

    1. Appears at onset (``casualty``), :func:`mcsim.onset.start_incident` (scheduled by
       ``MCIModel.start_incident``): killed outright (:meth:`die`), trapped, or
       awaiting triage; :meth:`start_clock` schedules the untreated death
       (:meth:`die_of_injuries`). Trapped patients are freed later (``extracted``,
       :meth:`SceneWork.extracted <mcsim.scene_work.SceneWork.extracted>`).
    2. Triage (``triaged``): in the global sort if walking, else by an officer one by one
       (``SceneWork._triage``); a tourniquet may go on (``haemorrhage_control``,
       :meth:`control_haemorrhage`). A minor casualty may be treated and released there, or go
       home (``released``).
    3. Care on scene (``scene_care_start``): a paramedic slows the deterioration
       (``SceneWork._care_next``, :meth:`set_care`).
    4. Loading (``load_start``): the dispatch policy picks them for a waiting vehicle
       (:meth:`SceneWork.try_loading <mcsim.scene_work.SceneWork.try_loading>`; with stay
       and play, stabilised first), :meth:`Ambulance.load
       <mcsim.agents.ambulance.Ambulance.load>`.
    5. Transport (``depart_scene``): the destination policy picks the hospital
       (:meth:`DispatchCentre.choose_destination
       <mcsim.dispatch_centre.DispatchCentre.choose_destination>`,
       :meth:`Ambulance.depart_scene <mcsim.agents.ambulance.Ambulance.depart_scene>`,
       :meth:`leave_scene`). Or self-transport instead (``self_transport_start``, on their
       own or driven by bystanders): :meth:`SceneWork.self_transport
       <mcsim.scene_work.SceneWork.self_transport>`, arriving by ``SceneWork.self_arrival``.
    6. Hospital (``hospital_arrival``, then ``queue`` and the start and end of each step of
       their pathway): :meth:`Hospital.admit <mcsim.agents.hospital.Hospital.admit>` and
       ``Hospital.pump``; the definitive step calls :meth:`begin_definitive_care`, which
       decides the outcome. A step the hospital cannot run leads to a transfer
       (``transfer``, :meth:`HospitalSystem.transfer
       <mcsim.agents.hospital_system.HospitalSystem.transfer>`).
    7. Death (``death``, :meth:`die`) from deterioration before definitive care, or
       ``postcare_death_delay_min`` after care they do not survive (:meth:`die_after_care`,
       via ``MCIModel.schedule_or_defer_death``); what they held is given back. Survivors are
       discharged at the end of their pathway's last step (``ed_discharge``, ``icu_discharge``,
       ``Hospital._end``), its resources released.

    Attributes:
        pid: the casualty's number (stable across policies for the same seed).
        pos: the graph node where the patient is, or last was while on the road: their
            scene, then the hospital they last arrived at.
        severity: the true injury class.
        state: where the patient is in the response (:class:`PatientState`).
        tag: the triage tag given on scene (:class:`TriageTag`).
    """

    def __init__(self, model: MCIModel, pid: int, scene: Scene, row: dict) -> None:
        super().__init__(model)
        self.pid = pid
        self.scene = scene
        self.pos = scene.node  # Mesa's position: the scene, then each hospital on arrival
        self.severity: Severity = row["severity"]
        self.rpm0: int = row["rpm0"]
        self.codes0: tuple[int, int, int] = row["codes0"]
        self.loss_order: tuple[int, int, int] = row["loss_order"]
        self.quantiles: tuple[float, float, float, float] = row["quantiles"]
        self.z_obs: tuple[float, float, float, float] = row["z_obs"]
        self.age: int = row["age"]
        self.walking0: bool = row["walking0"]
        self.penetrating: bool = row["penetrating"]
        self.needs_surgery: bool = row["needs_surgery"]
        self.iss: int = row["iss"]
        self.haemorrhage: bool = row["haemorrhage"]
        self.compressible: bool = row["compressible"]
        self.u_survival: float = row["u_survival"]
        self.triage_service_min: float = row["triage_min"]
        self.critical: bool = row["critical"]
        self.care_need = care_need(
            self.critical, self.severity is Severity.SERIOUS, self.needs_surgery
        )
        #: Minutes from injury to death of a mortally wounded casualty (NaN for the others).
        self.mortal_death_min: float = row.get("mortal_death_min", math.nan)
        params = model.spec.physiology
        self.traj = self._trajectory(params, row["z_death"], scene.onset_min)
        self.untreated_death_min = self.traj.death_time()
        self.state: PatientState | None = None  # set by the first set_state
        self.tag = TriageTag.UNTRIAGED
        self.observed: phys.Vitals | None = None
        self.triaged_min = math.nan
        self.left_scene_min = math.nan
        self.leave_mode: LeaveMode | str = ""
        self.vehicle = -1
        self.hospital = ""
        self.first_hospital = ""  # where the patient first arrived (before any transfer)
        self.hospital_arrival_min = math.nan
        self.definitive_care_min = math.nan
        self.rpm_at_care = math.nan
        self.p_survival = math.nan
        self.death_min = math.nan
        self.death_place: DeathPlace | str = ""
        self.outcome = Outcome.UNRESOLVED
        self.care_factor = 1.0
        self.bleed_controlled = False  # a tourniquet holds a limb bleed
        self.pathway: tuple = ()  # the care steps at the current hospital (agents.pathways)
        self.step = 0  # index of the current or next step in ``pathway``
        self.pending_steps: tuple | None = None  # steps a transfer carries to the next hospital
        self.pending_after: tuple = ()  # steps this hospital cannot run
        self.caregiver = None
        self.held: list = []  # (hospital, resource) held, released on death or discharge
        self.waiting_for = None  # the hospital resource queued for, if any
        self.view_cache = None  # the PatientView policies last saw (DispatchCentre.patient_view)
        self.view_observed = None
        self._vitals_rpm = -1  # the RPM of the vitals last computed (see _vitals_for)
        self._vitals_last: phys.Vitals | None = None
        self.in_demand = False  # counted in its scene's demand for transport
        #: The pending arrival at hospital while driving themself (SceneWork.self_transport).
        self.arrival_event: Event | None = None
        self._death: Event | None = None  # the pending death event (cancelled when care changes)

    # ---------------------------------------------------------------- physiology

    def _trajectory(
        self, params: phys.PhysiologyParams, z_death: float, start_min: float
    ) -> phys.Trajectory:
        """The untreated course: a bleed's own clock, or a row of Sacco's table at a rate.

        Under ``outcome_model: sacco`` everyone follows Sacco's table (the walking wounded at
        ``minor_deterioration_factor``), as in the first model.
        """
        rpm0, pen = self.rpm0, self.penetrating
        sev = self.severity
        if sev is Severity.MORTALLY_WOUNDED:  # agonal from the start, dead on its own clock
            curve = out.DeclineCurve(rpm0, self.mortal_death_min, 0.0)
            return phys.Trajectory(params, rpm0, pen, start_min, curve=curve)
        if sev is Severity.MINOR:
            return phys.Trajectory(
                params, rpm0, pen, start_min, rate_factor=params.minor_deterioration_factor
            )
        if params.outcome_model == "sacco":
            return phys.Trajectory(params, rpm0, pen, start_min)
        if self.haemorrhage and rpm0 > 0:
            death = out.lognormal_from_median(
                params.haemorrhage_death_median_min, params.haemorrhage_death_sigma, z_death
            )
            curve = out.DeclineCurve(rpm0, death, params.haemorrhage_compensated_share)
            return phys.Trajectory(params, rpm0, pen, start_min, curve=curve)
        factor = (
            params.stable_critical_deterioration_factor
            if sev is Severity.CRITICAL
            else params.serious_deterioration_factor
        )
        return phys.Trajectory(params, rpm0, pen, start_min, rate_factor=factor)

    def rpm(self, now: float) -> float:
        """True real-valued RPM at ``now``."""
        return self.traj.rpm_at(now)

    def vitals(self, now: float) -> phys.Vitals:
        """True vitals at ``now`` (not earlier than the last change of care)."""
        return self._vitals_for(self.traj.rpm_int_at(now))

    def initial_vitals(self) -> phys.Vitals:
        """True vitals at the onset of the incident."""
        return self._vitals_for(self.rpm0)

    def _vitals_for(self, rpm_now: int) -> phys.Vitals:
        # The true vitals are a pure function of the whole RPM for a given patient, and the
        # same RPM is asked for again and again (triage, sorting, survival, the patients
        # table): the last answer is kept (Vitals is frozen, so sharing it is safe).
        rpm_now = int(rpm_now)
        if rpm_now == self._vitals_rpm:
            return self._vitals_last
        vitals = phys.vitals_at(
            self.model.spec.physiology,
            self.codes0,
            self.loss_order,
            self.quantiles,
            rpm_now,
            walking0=self.walking0,
            age=self.age,
        )
        self._vitals_rpm = rpm_now
        self._vitals_last = vitals
        return vitals

    def set_care(self, factor: float) -> None:
        """Change how fast the patient deteriorates (1 = untreated, 0 = stopped).

        A controlled limb bleed keeps the clock at ``haemorrhage_control_factor`` at most.
        """
        now = self.model.now
        self.care_factor = factor
        if self.bleed_controlled:
            factor = min(factor, self.model.spec.physiology.haemorrhage_control_factor)
        self.traj.set_care(now, factor)
        self._schedule_death()

    def control_haemorrhage(self, by: str) -> None:
        """A responder puts a tourniquet on a limb bleed (nothing to do for other patients).

        The clock slows from now on; what the patient already lost is not given back, so a
        tourniquet after decompensation saves far fewer than one before (Kragh et al. 2009).
        """
        if not self.compressible or self.bleed_controlled or self.state is PatientState.DEAD:
            return
        if self.model.spec.physiology.outcome_model == "sacco":
            return
        self.bleed_controlled = True
        self.set_care(self.care_factor)
        self.record(EventKind.HAEMORRHAGE_CONTROL, detail=by)

    def _schedule_death(self) -> None:
        """(Re)schedule the untreated death by the clock as it runs now."""
        self._cancel_death()
        t = self.traj.death_time()
        if t <= self.model.horizon_min:
            self._death = self.model.schedule(
                max(t, self.model.now), Phase.DEATH, self.die_of_injuries
            )

    def _cancel_death(self) -> None:
        if self._death is not None:
            self._death.cancel()
            self._death = None

    def start_clock(self) -> None:
        """Schedule the untreated death, if it falls within the horizon."""
        self._schedule_death()

    def die_of_injuries(self) -> None:
        """Death from deterioration (the event is cancelled whenever care changes the clock)."""
        self._death = None
        self.die("deterioration")

    def die(self, why: str) -> None:
        """The patient dies now."""
        m = self.model
        prev = self.state
        self._cancel_death()
        self.death_min = m.now
        self.outcome = Outcome.DIED
        if prev in AT_SCENE:
            self.death_place = DeathPlace.SCENE
        elif prev in (PatientState.IN_TRANSPORT, PatientState.SELF_TRANSPORT):
            self.death_place = DeathPlace.TRANSPORT
        else:
            self.death_place = DeathPlace.HOSPITAL
        self.set_state(PatientState.DEAD, EventKind.DEATH, detail=why)
        self._tidy_up_after_death(prev)

    def _tidy_up_after_death(self, prev: PatientState) -> None:
        """Give back what the patient held: a seat in demand, a care giver, hospital resources.

        Then, if they died at an alerted scene, the scene moves on (care, loading, dispatch).
        """
        work = self.model.scene_work
        work.leave_demand(self)
        if self.caregiver is not None:
            work.release_caregiver(self)
        if self.held:
            for h in {id(h): h for h, _ in self.held}.values():
                h.release_all(self)
        if prev in WAITING_AT_SCENE and self.scene.alerted:
            work.scene_changed(self.scene)

    # ---------------------------------------------------------------- outcome

    def leave_scene(self, mode: LeaveMode, hospital: str = "") -> None:
        """Record that the patient leaves the scene now, bound for ``hospital`` if any.

        The state change is the caller's.
        """
        self.left_scene_min = self.model.now
        self.leave_mode = mode
        if hospital:
            self.hospital = hospital

    def survival_if_treated_now(self, now: float) -> float:
        """Probability of surviving definitive care started at ``now``.

        TRISS at the patient's physiology now (``outcome_model: triss``), or Sacco's curve of
        the RPM now (``sacco``); the walking wounded survive with
        ``minor_survival_probability``, and under TRISS serious (ISS 9-15) casualties with
        ``serious_survival_probability`` (every death has ISS > 15 in trauma registries).
        """
        params = self.model.spec.physiology
        if self.severity is Severity.MINOR:
            return params.minor_survival_probability
        v = self.vitals(now)
        return out.survival_at_definitive_care(
            params,
            severity=self.severity,
            rpm=self.rpm(now),
            gcs=v.gcs,
            sbp=v.sbp,
            rr=v.rr,
            iss=self.iss,
            age=self.age,
            penetrating=self.penetrating,
        )

    def begin_definitive_care(self, hospital_id: str, *, detail: str = "") -> None:
        """Definitive care starts: deterioration stops and the outcome is decided.

        The patient survives iff their frailty draw ``u_survival`` is below the survival
        probability of their physiology now (:meth:`survival_if_treated_now`), which never
        rises while they wait, so earlier care can only help.
        """
        m = self.model
        now = m.now
        self.rpm_at_care = self.rpm(now)
        self.p_survival = self.survival_if_treated_now(now)
        self.definitive_care_min = now
        self.set_care(0.0)
        self.set_state(
            PatientState.DEFINITIVE_CARE,
            EventKind.DEFINITIVE_CARE,
            hospital=hospital_id,
            node=self.model.hospitals[hospital_id].node,
            detail=detail,
        )
        if self.u_survival < self.p_survival:
            self.outcome = Outcome.SURVIVED
        else:
            delay = m.spec.physiology.postcare_death_delay_min
            self._cancel_death()
            self._death = m.schedule_or_defer_death(self, now + delay)

    def die_after_care(self) -> None:
        """Death despite definitive care (the outcome drawn at its start)."""
        self._death = None
        self.die("despite definitive care")

    # ---------------------------------------------------------------- records

    def set_state(
        self,
        state: PatientState,
        kind: EventKind,
        *,
        hospital: str = "",
        node: int = -1,
        to_node: int = -1,
        arrive_min: float = math.nan,
        vehicle: int = -1,
        staff: int = -1,
        detail: str = "",
    ) -> None:
        """Move to ``state`` and record the change (the keywords: see :meth:`record`)."""
        was_untriaged = self.state in UNTRIAGED
        if was_untriaged is not (state in UNTRIAGED):
            self.scene.untriaged += -1 if was_untriaged else 1
        self.state = state
        self._row(kind, hospital, node, to_node, arrive_min, vehicle, staff, detail)

    def record(
        self,
        kind: EventKind,
        *,
        hospital: str = "",
        node: int = -1,
        to_node: int = -1,
        arrive_min: float = math.nan,
        vehicle: int = -1,
        staff: int = -1,
        detail: str = "",
    ) -> None:
        """Write one event-log row about this patient in their current state.

        The hospital defaults to the patient's own, the node to the scene while they are there.
        """
        self._row(kind, hospital, node, to_node, arrive_min, vehicle, staff, detail)

    def _row(
        self,
        kind: EventKind,
        hospital: str,
        node: int,
        to_node: int,
        arrive_min: float,
        vehicle: int,
        staff: int,
        detail: str,
    ) -> None:
        # Positional all the way down: this runs for most rows of the log.
        m = self.model
        state = self.state
        scene = self.scene
        now = m.now
        m.log.add_row(
            now,
            kind,
            self.pid,
            vehicle,
            staff,
            hospital or self.hospital,
            scene.id,
            scene.node if node < 0 and state in WAITING_AT_SCENE else node,
            to_node,
            arrive_min,
            self.tag._value_,
            state._value_,
            self.traj.rpm_at(now),
            detail,
        )
