"""MCIModel: the Mesa model that wires a scenario's agents, policies and event loop together.

Time is event-driven (DESIGN.md "Time"): nothing loops over all agents per minute. Every
activity is an event at the simulated minute it happens, kept in one deterministic heap
(:class:`~mcsim.clock.EventQueue`). The model builds the agents, binds the policies and runs
the loop; the behaviour lives where each phase happens, in :mod:`mcsim.onset` (an incident's
casualties appear), :class:`~mcsim.scene_work.SceneWork` (the scene),
:class:`~mcsim.dispatch_centre.DispatchCentre` (vehicles, destinations and what policies see),
:class:`~mcsim.agents.hospital.Hospital` and :class:`~mcsim.agents.hospital_system.HospitalSystem`
(hospitals), and the agents themselves.
A patient's story in order is in :class:`~mcsim.agents.patient.Patient`'s docstring. The order
of phases and the rules of the response are:

1. **Onset** of each incident (its ``onset_min``, :func:`mcsim.onset.start_incident`): the
   casualties appear at the scene, drawn from the incident's injury profile on the incident's
   own random stream. Patients killed outright are dead at once; trapped ones wait for
   extraction (``SceneWork.extracted``); the rest await triage. Each living patient's death
   from untreated deterioration is scheduled; walking patients who will leave on their own,
   and non-walking ones whom bystanders will drive (``carried_by_bystanders_share``), get a
   departure time (``SceneWork.self_transport``).
2. **EMS alert** (``onset + response.alert_delay_min``, ``DispatchCentre.alert_ems``): triage
   officers and paramedics leave the ambulance station nearest to the scene; the dispatcher
   sends free ambulances (``DispatchCentre.dispatch_round``; dispatch policy: which vehicle)
   until the seats committed to the scene cover the patients still there.
3. **Hospital alert** (``onset + response.hospital_alert_delay_min``, first incident only,
   ``HospitalSystem.alert``): every hospital calls in its on-call teams, who get ready
   (``callin_delay_min``) and drive in, and opens its surge capacity ``surge_delay_min`` later.
4. **Triage** (``SceneWork``, from ``responder_ready``): the first officer on scene spends
   ``global_sort_min`` on the global sort, after which every patient still walking is triaged
   at once (the triage policy sees the observed vitals); officers then triage the others one
   by one in the order they are come upon, each taking the patient's own triage time.
   Paramedics care for immediate, then delayed patients waiting for transport (deterioration
   slows by ``onscene_care_factor``). A minor casualty drawn for treat-and-release
   (``treat_and_release_share``) is treated there and goes home.
5. **Loading** (``SceneWork.try_loading``, whenever the scene changes): whenever a vehicle
   waits at the scene and triaged patients wait for it, the dispatch policy chooses whom it
   takes; loading takes ``loading_min`` per patient, then the destination policy chooses the
   hospital (``DispatchCentre.choose_destination``). Self-transporting patients go to a
   hospital of their own choosing whatever the policy (SCIENCE.md §3). With the
   ``stay_and_play`` strategy the chosen immediate and delayed patients are first stabilised
   on scene (``stabilisation_min`` each); hospitals' diversion status is updated at each
   destination decision (``policies.diversion``, ``Hospital.update_diversion``). Triage tags
   pass through the responder-error model (one pre-drawn uniform per patient, stream
   ``triage_error``).
6. **Hospital**: arrival, queues for resus bay/team, OR/team, ICU bed or ED bed (see
   :mod:`mcsim.agents.hospital`); definitive care stops deterioration and decides the outcome;
   a step the hospital cannot run leads to a transfer (``HospitalSystem.transfer``). After
   handover (``handover_min``) the vehicle is free (``DispatchCentre.vehicle_free``): the
   dispatcher sends it back to a scene that still needs vehicles, or it drives back to its
   station.
7. **Deaths** happen when a patient's RPM reaches 0 before definitive care, or
   ``postcare_death_delay_min`` after the start of definitive care that they do not survive
   (``Patient.die``, which gives back what the patient held).
8. **End** at ``duration_min`` (:meth:`MCIModel._end`): a final ``end`` row; deaths already
   decided by definitive care but falling after the horizon are recorded at their time after
   it.

Ties at the same minute resolve by :class:`~mcsim.enums.Phase` (onsets, deaths, arrivals,
service ends, decisions) and then by the order in which the events were scheduled. Exercise
injects and decisions are applied between ``run(until=t)`` calls, after every event of minute
``t`` (:mod:`mcsim.exercise`). Automatic garbage collection is paused inside :meth:`run` and
:meth:`result` (:mod:`mcsim.gcpause`).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import mesa
from mesa.experimental.scenarios import Scenario as MesaScenario

from mcsim.agents.ambulance import Ambulance
from mcsim.agents.hospital import Hospital
from mcsim.agents.hospital_system import HospitalSystem
from mcsim.agents.pathways import DEFAULT_PATHWAYS, Step
from mcsim.agents.patient import Patient
from mcsim.agents.staff import Staff
from mcsim.clock import Event, EventQueue
from mcsim.control import Control
from mcsim.dispatch_centre import DispatchCentre
from mcsim.enums import (
    WAITING_AT_SCENE,
    CareNeed,
    EventKind,
    NodeKind,
    Outcome,
    PatientState,
    Phase,
)
from mcsim.errors import InputError
from mcsim.gcpause import gc_paused
from mcsim.onset import start_incident
from mcsim.policies import default_registry
from mcsim.records import EventLog, RunResult
from mcsim.region import Region, build_region
from mcsim.rng import RandomStreams
from mcsim.scenario import IncidentSpec, Scenario
from mcsim.scene import Scene
from mcsim.scene_work import SceneWork

_AT_HOSPITAL = frozenset(
    {PatientState.AWAITING_CARE, PatientState.IN_RESUSCITATION, PatientState.DEFINITIVE_CARE}
)


def _count(model: MCIModel, states: frozenset[PatientState]) -> int:
    return sum(1 for p in model.patients if p.state in states)


#: The model reporters of ``MCIModel(..., collect=True)``'s ``datacollector``, by column.
REPORTERS: dict[str, Callable[[MCIModel], float]] = {
    "minute": lambda m: m.now,
    "deaths": lambda m: _count(m, frozenset({PatientState.DEAD})),
    "waiting_at_scenes": lambda m: _count(m, WAITING_AT_SCENE),
    "in_hospitals": lambda m: _count(m, _AT_HOSPITAL),
    "vehicles_busy": lambda m: len(m.vehicles) - len(m.free_vehicles),
}


def _resolve_spec(scenario: Scenario | None, spec: Scenario | None) -> Scenario:
    """The mcsim scenario, given positionally (``scenario``) or as ``spec``."""
    if scenario is not None and spec is not None and scenario is not spec:
        raise ValueError("give the mcsim scenario once: as scenario or as spec, not both")
    found = spec if spec is not None else scenario
    if not isinstance(found, Scenario):
        raise TypeError(
            "MCIModel needs an mcsim Scenario (MCIModel(scenario) or spec=...), got "
            f"{type(found).__name__}; for SolaraViz pass model_params=model.init_kwargs"
        )
    return found


def _resolve_seed(seed: Any, rng: Any, mesa_scenario: MesaScenario | None) -> int:
    """The run's integer seed from ``seed``, Mesa's ``rng``, or a Mesa scenario's ``rng``."""
    given = {
        name: value
        for name, value in (
            ("seed", seed),
            ("rng", rng),
            ("scenario.rng", None if mesa_scenario is None else mesa_scenario.rng),
        )
        if value is not None
    }
    for name, value in given.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(
                f"{name} must be an integer seed (mcsim derives its named random streams "
                f"from it), got {type(value).__name__}"
            )
    values = {int(v) for v in given.values()}
    if len(values) > 1:
        shown = ", ".join(f"{k}={v}" for k, v in given.items())
        raise ValueError(f"{shown} differ: rng is Mesa's name for the seed, give one value")
    return values.pop() if values else 0


class MCIModel(mesa.Model):
    """A mass-casualty incident response, event by event.

    Args:
        scenario: a validated :class:`~mcsim.scenario.Scenario` (or give it as ``spec``). A
            Mesa ``mesa.experimental.scenarios.Scenario`` is also accepted here, as Mesa's
            own concept: SolaraViz's Reset passes one, with the mcsim scenario in ``spec``.
        seed: the run's integer seed; every random stream derives from it (default 0).
        spec: the mcsim scenario, by keyword (SolaraViz ``model_params``).
        rng: Mesa's name for ``seed`` (an integer here); giving both with different values
            is an error.
        triage, dispatch, destination: policy names overriding the scenario's.
        pathways: care pathways by care need, instead of
            :data:`~mcsim.agents.pathways.DEFAULT_PATHWAYS` (a study adding a resource).
        collect: keep a ``mesa.DataCollector`` in :attr:`datacollector`, collected at
            construction and after each :meth:`step` and :meth:`run` (off by default: it
            counts over all patients each time).

    Use :meth:`run` to simulate to the horizon, :meth:`step` to advance one event time at a
    time, or Mesa's :meth:`run_until` and :meth:`run_for` (simulated minutes); :meth:`result`
    returns the records and metrics. ``steps`` counts the event times processed and ``time``
    is the minute of the model's clock after each call. ``init_kwargs`` rebuilds the same
    model: ``SolaraViz(model, model_params=model.init_kwargs)`` makes Reset restart it.

    Changes from outside while the run is paused (an exercise inject or decision, a study's
    "what if": close a road, divert or close a hospital, add vehicles or staff, change a
    policy, add an incident) go through :attr:`control` (:class:`~mcsim.control.Control`),
    which keeps the agents consistent and logs each change; the attributes below are for
    reading.

    Attributes:
        spec: the scenario. now: the simulated minute. horizon_min: when the run ends.
        region: the road graph and travel times (:class:`~mcsim.region.Region`).
        hospitals: :class:`~mcsim.agents.hospital.Hospital` by id; ``hospital_list`` in
            scenario order; ``receiving_hospitals`` those not closed.
        scenes: one :class:`~mcsim.scene.Scene` per incident. patients, vehicles, staff: the
            agents, by number. free_vehicles: the vehicles the dispatcher may send, by number.
        station_nodes: the node of each ambulance station, by id.
        policy_names: the policy in force of each kind (triage, dispatch, destination).
        log: the event log (:class:`~mcsim.records.EventLog`). queue: the future events.
        control: the public API of changes (:mod:`mcsim.control`).
        scene_work, dispatch_centre, hospital_system: where the behaviour lives.
    """

    def __init__(
        self,
        scenario: Scenario | MesaScenario | None = None,
        seed: int | None = None,
        *,
        spec: Scenario | None = None,
        rng: int | None = None,
        triage: str | None = None,
        dispatch: str | None = None,
        destination: str | None = None,
        pathways: dict[CareNeed, tuple[Step, ...]] | None = None,
        collect: bool = False,
    ) -> None:
        mesa_scenario = scenario if isinstance(scenario, MesaScenario) else None
        scenario = _resolve_spec(None if mesa_scenario is not None else scenario, spec)
        seed = _resolve_seed(seed, rng, mesa_scenario)
        if mesa_scenario is not None:
            mesa_scenario.rng = seed  # Mesa's Reset passes rng=None: the run's seed it is
            super().__init__(scenario=mesa_scenario)
        else:
            super().__init__(rng=seed)
        #: Keyword arguments that build this same model again (SolaraViz ``model_params``).
        self.init_kwargs: dict[str, Any] = {"spec": scenario, "seed": seed}
        for key, value in (
            ("triage", triage),
            ("dispatch", dispatch),
            ("destination", destination),
            ("pathways", pathways),
        ):
            if value is not None:
                self.init_kwargs[key] = value
        if collect:
            self.init_kwargs["collect"] = True
        self._last_event_min = -math.inf  # the latest event time processed (``steps``)
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
        # Where the behaviour lives (each holds this model; the state stays here):
        self.scene_work = SceneWork(self)  # triage, care, loading, leaving the scene
        self.dispatch_centre = DispatchCentre(self)  # EMS alert, dispatch, destinations
        self.hospital_system = HospitalSystem(self)  # on-call teams, alert, transfers
        #: What exercises and scripts may change in the run (roads, hospitals, fleet, policies).
        self.control = Control(self)

        self.hospitals: dict[str, Hospital] = {}
        for h in scenario.hospitals:
            node = self.region.index(h.node)
            self.region.set_kind(node, NodeKind.HOSPITAL)
            self.hospitals[h.id] = Hospital(self, h, node)
        self.hospital_list = list(self.hospitals.values())
        # The hospitals that receive patients (an exercise inject may close one; the same list
        # object as hospital_list until then).
        self.receiving_hospitals = self.hospital_list
        # The hospitals the dispatch centre holds in reserve (policies.reserve, and those of
        # policies.reserve_until_min until their minute; an exercise decision may replace
        # them: Control.set_reserve).
        self.reserve: frozenset[str] = frozenset(
            [*scenario.policies.reserve, *scenario.policies.reserve_until_min]
        )

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
        self.hospital_system.create_teams()
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
            self.hospital_system.alert,
        )
        for hid, until in sorted(
            scenario.policies.reserve_until_min.items(), key=lambda kv: (kv[1], kv[0])
        ):
            if until < self.horizon_min:
                self.schedule(until, Phase.DECISION, self.dispatch_centre.release_reserve, hid)
        self.schedule(self.horizon_min, Phase.END, self._end)
        self._collect = bool(collect)
        if collect:
            #: Mesa's DataCollector (only with ``collect=True``; see :data:`REPORTERS`).
            self.datacollector = mesa.DataCollector(model_reporters=dict(REPORTERS))
            self.datacollector.collect(self)

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
        self.mistriage_on = any(v > 0 for v in self.mistriage.values())
        self.strategy = ps.strategy
        div = ps.diversion
        self.diversion_on_at = div.on_at
        self.diversion_off_below = div.off_below or 0  # (on_at // 2 unless given: DiversionSpec)
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
            self.triage_params, self.triage_needs, self.triage_policy = kw, pol.injected, pol.func
        elif pol.kind.value == "dispatch":
            self.dispatch_rule = pol.func(**kw)
        else:
            self.destination_params, self.destination_needs = kw, pol.injected
            self.destination_policy = pol.func
        self.policy_names[pol.kind.value] = name

    # ================================================================ the event loop

    def schedule(self, time: float, phase: Phase, fn: Callable[..., Any], *args: Any) -> Event:
        """Run ``fn(*args)`` at simulated minute ``time`` (never earlier than now).

        Returns the :class:`~mcsim.clock.Event`; ``event.cancel()`` takes it back (the one way
        to cancel a scheduled event, see :mod:`mcsim.clock`).
        """
        if time < self.now:
            raise ValueError(f"cannot schedule at {time} before now ({self.now})")
        return self.queue.push(time, phase, fn, *args)

    def _process(self, limit: float) -> None:
        """The event loop: pop and run every event due at or before ``limit``, in order.

        ``steps`` counts the distinct event times processed. Nothing can be scheduled before
        ``now``, so with ``limit`` the next event time this runs exactly that minute's events
        (those scheduled for it while it runs included).
        """
        q = self.queue
        last = self._last_event_min
        steps = 0
        while not self.finished:
            event = q.pop_due(limit)  # (peek_time() <= limit, then pop(), in one step)
            if event is None:
                break
            time = event.time
            if time != last:
                steps += 1
                last = time
            self.now = time
            event.fn(*event.args)
        self.steps += steps
        self._last_event_min = last

    def _step_to_next_event(self) -> bool:
        """Run every event at the next event time; False once the run is over."""
        if self.finished:
            return False
        self._process(self.queue.peek_time())
        self.time = self.now
        if self._collect:
            self.datacollector.collect(self)
        return not self.finished

    def run(self, until: float | None = None) -> MCIModel:
        """Process events up to ``until`` (default: the horizon, which ends the run)."""
        limit = self.horizon_min if until is None else min(until, self.horizon_min)
        with gc_paused():
            self._process(limit)
        if not self.finished:
            self.now = max(self.now, limit)
        self.time = self.now
        if self._collect:
            self.datacollector.collect(self)
        return self

    def run_until(self, end_time: float) -> None:
        """Process every event up to simulated minute ``end_time`` (Mesa's ``run_until``).

        The clock then reads ``end_time`` (or the horizon, where the run ends). A time before
        now warns and does nothing, as in Mesa.
        """
        if end_time < self.now:
            warnings.warn(
                f"end_time {end_time} is before the model's time {self.now}",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        self.run(until=end_time)

    def run_for(self, duration: float) -> None:
        """Process every event in the next ``duration`` simulated minutes (Mesa's ``run_for``)."""
        self.run_until(self.now + duration)

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

    def schedule_or_defer_death(self, p: Patient, t: float) -> Event | None:
        """A death decided by definitive care: its event, or None if recorded after the horizon."""
        if t <= self.horizon_min:
            return self.schedule(t, Phase.DEATH, p.die_after_care)
        self._deferred_deaths.append((t, p.pid, p))
        return None

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
        """Onset: casualties appear; their clocks start (:func:`mcsim.onset.start_incident`)."""
        start_incident(self, scene)

    # ================================================================ delegates and results

    def dispatch_round(self) -> None:
        """Send free vehicles to the scenes that need them (:class:`DispatchCentre`)."""
        self.dispatch_centre.dispatch_round()

    def choose_destination(self, patients: list[Patient], origin: int) -> Hospital | None:
        """The hospital for ``patients`` leaving ``origin`` (None: none can be reached)."""
        return self.dispatch_centre.choose_destination(patients, origin)

    def self_presenter_choice(self, origin: int, u: float, child: bool = False) -> Hospital | None:
        """The hospital a self-presenter (a child if ``child``) leaving ``origin`` picks."""
        return self.scene_work.self_presenter_choice(origin, u, child)

    def result(self) -> RunResult:
        """The records and metrics of the run so far (normally called after :meth:`run`)."""
        return RunResult.from_model(self)
