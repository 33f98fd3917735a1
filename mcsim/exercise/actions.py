"""Exercise actions: injects from the facilitator and decisions of the players, as data.

An action is a small validated record (``kind``, ``at_min``, ``by`` and the fields of its kind)
applied to a running :class:`~mcsim.model.MCIModel` by one pure-in-spirit function per kind,
registered in :data:`ACTIONS`: the function reads the model's state at ``at_min`` and changes
it the way the event (a bridge closes, a hospital declares itself full) or the decision (switch
the destination plan, send ambulance 7 to the second scene) would. Every action writes one
``inject`` or ``decision`` row to the event log whose ``detail`` starts with its kind, and each
vehicle, team or patient it re-routes gets a row of the same kind (``node`` → ``to_node`` with
the new ``arrive_min``), so the map can follow them.

**When an action applies.** An action at minute ``t`` applies once every event of minute ``t``
has run and before anything later happens: exactly what a facilitator sees who pauses with
``model.run(until=t)`` and acts. :func:`mcsim.exercise.runner.ExerciseSession.apply` does
precisely that, live or in a replay, so a replay is the same sequence of calls and gives the
same event log. Nothing is checked per event: the model's event loop does not know that
actions exist.

**Re-routing** (road closures, closed or diverted hospitals, a vehicle sent elsewhere). An agent
on the road follows the shortest path it had when it set off. Its position now is found along
that path from the trip's departure and arrival times; it carries on to the next node of the
path (a vehicle already on a road that closes finishes crossing it [assumption]), then takes
the shortest path from there under the roads open now. Its pending arrival is superseded (the
trip token of :class:`~mcsim.agents.travel.Traveller`). Paths are remembered at every road
change, so a trip that started before an earlier change is followed on the roads it planned
with. Walking wounded driving themselves to hospital are not re-routed by road closures
(their travel time is already a rough estimate [assumption]); those heading for a hospital
that closes are turned away at its door and drive on to the nearest open one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from mcsim.enums import (
    EventKind,
    PatientState,
    Phase,
    Resource,
    StaffRole,
    VehicleState,
    VehicleType,
)
from mcsim.errors import InputError, echo
from mcsim.scenario import IncidentSpec
from mcsim.schema_base import StrictModel, error_lines

if TYPE_CHECKING:
    from mcsim.agents.ambulance import Ambulance
    from mcsim.agents.hospital import Hospital
    from mcsim.model import MCIModel
    from mcsim.scene import Scene

INJECT = "inject"
DECISION = "decision"


# ============================================================================ action records


class Action(StrictModel):
    """Fields every action has.

    Attributes:
        kind: what the action is (a key of :data:`ACTIONS`).
        at_min: simulated minute at which it applies (after that minute's events).
        by: who made it (facilitator, incident commander, ...), for the log and the report.
        note: free text, e.g. the inject card's wording.
    """

    category: ClassVar[str] = INJECT
    kind: str
    at_min: float = Field(ge=0, allow_inf_nan=False)
    by: str = "facilitator"
    note: str = ""

    def summary(self) -> str:
        """One line for the event log and the report: the kind-specific fields."""
        skip = {"kind", "at_min", "by", "note"}
        parts = []
        for name, value in self.model_dump(mode="json", by_alias=True).items():
            if name in skip or value in (None, {}, []):
                continue
            parts.append(f"{name}={value}")
        return " ".join(parts)


class RoadClosed(Action):
    """Inject: the road between two nodes closes (both ways unless ``directed``)."""

    kind: Literal["road_closed"] = "road_closed"
    from_node: str = Field(alias="from")
    to_node: str = Field(alias="to")
    directed: bool = False


class RoadReopened(Action):
    """Inject: a closed road opens again (agents on their way keep their route)."""

    kind: Literal["road_reopened"] = "road_reopened"
    from_node: str = Field(alias="from")
    to_node: str = Field(alias="to")
    directed: bool = False


class HospitalDiversion(Action):
    """Inject: a hospital declares itself full and goes on diversion.

    Destination policies skip it while another hospital can be reached. With
    ``reroute_en_route`` the ambulances already heading there are sent where the destination
    policy now chooses (otherwise they arrive as planned).
    """

    kind: Literal["hospital_diversion"] = "hospital_diversion"
    hospital: str
    reroute_en_route: bool = True


class HospitalClosed(Action):
    """Inject: a hospital closes (evacuated, CBRN contamination): it receives nobody.

    Ambulances heading there are re-routed by the destination policy; walking wounded on their
    way are turned away at its door. Patients already inside stay and are treated.
    """

    kind: Literal["hospital_closed"] = "hospital_closed"
    hospital: str


class HospitalReopened(Action):
    """Inject: a closed or diverted hospital receives patients again."""

    kind: Literal["hospital_reopened"] = "hospital_reopened"
    hospital: str


class CapacityLoss(Action):
    """Inject: ``count`` units of a hospital resource are lost (a damaged wing, an OR out).

    Free units go first; units in use are lost when freed; units occupied before the incident
    cannot be lost (see :meth:`mcsim.agents.hospital.Hospital.change_capacity`).
    """

    kind: Literal["capacity_loss"] = "capacity_loss"
    hospital: str
    resource: Resource
    count: int = Field(ge=1)


class SecondIncident(Action):
    """Inject: a further incident (its onset defaults to the action's minute)."""

    kind: Literal["second_incident"] = "second_incident"
    incident: IncidentSpec

    @model_validator(mode="before")
    @classmethod
    def _onset_defaults_to_action_time(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("incident"), dict):
            inc = data["incident"]
            if "onset_min" not in inc and "at_min" in data:
                data = {**data, "incident": {**inc, "onset_min": data["at_min"]}}
        return data

    @model_validator(mode="after")
    def _onset_not_before(self) -> SecondIncident:
        if self.incident.onset_min < self.at_min:
            raise ValueError("incident.onset_min must not be before at_min")
        return self


class MutualAidAmbulances(Action):
    """Inject: ambulances from a neighbouring service report at ``node`` and join the pool."""

    kind: Literal["mutual_aid_ambulances"] = "mutual_aid_ambulances"
    node: str
    count: int = Field(ge=1, le=1000)
    type: VehicleType = VehicleType.ALS
    capacity: int = Field(default=1, ge=1, le=60)
    station: str = Field(default="mutual_aid", description="their label (and home when done)")


class MutualAidStaff(Action):
    """Inject: responders arrive at ``node`` and head for an incident or a hospital.

    Triage officers and paramedics go to the incident ``to``; hospital teams to the hospital
    ``to``, where each adds one team on arrival.
    """

    kind: Literal["mutual_aid_staff"] = "mutual_aid_staff"
    role: StaffRole
    count: int = Field(ge=1, le=1000)
    node: str
    to: str


class StaffCallIn(Action):
    """Inject/decision: a hospital calls in ``teams`` more teams from home.

    They leave home after ``delay_min`` (default: the hospital's ``callin_delay_min``); homes
    are the hospital's ``staff_home_nodes`` in turn, or the hospital itself if it lists none.
    """

    category: ClassVar[str] = DECISION
    kind: Literal["staff_call_in"] = "staff_call_in"
    hospital: str
    teams: int = Field(ge=1, le=1000)
    delay_min: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class SetPolicy(Action):
    """Decision: switch the triage, dispatch or destination policy from now on."""

    category: ClassVar[str] = DECISION
    kind: Literal["set_policy"] = "set_policy"
    policy: Literal["triage", "dispatch", "destination"]
    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class SetQuotas(Action):
    """Decision: replace the destination policy's quota table (the ``quota`` policy's table)."""

    category: ClassVar[str] = DECISION
    kind: Literal["set_quotas"] = "set_quotas"
    quotas: dict[str, dict[str, int]]


class SurgeCapacity(Action):
    """Decision: a hospital opens ``count`` more units of a resource (surge capacity)."""

    category: ClassVar[str] = DECISION
    kind: Literal["surge_capacity"] = "surge_capacity"
    hospital: str
    resource: Resource
    count: int = Field(ge=1, le=10_000)


class SendAmbulance(Action):
    """Decision: send one ambulance to an incident, or (carrying patients) to a hospital.

    To an incident: a free vehicle is dispatched; one returning to its station, heading for
    another scene or waiting to load at another scene is redirected. To a hospital: a vehicle
    carrying patients changes destination. Anything else (loading, handing over) is not
    possible; the row in the log says so and nothing changes.
    """

    category: ClassVar[str] = DECISION
    kind: Literal["send_ambulance"] = "send_ambulance"
    vehicle: int = Field(ge=0)
    incident: str | None = None
    hospital: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> SendAmbulance:
        if (self.incident is None) == (self.hospital is None):
            raise ValueError("give exactly one of incident, hospital")
        return self


@dataclass(frozen=True)
class ActionType:
    """A registered action kind: its record class and the function that applies it."""

    kind: str
    model: type[Action]
    apply: Callable[[MCIModel, Any], None]

    @property
    def category(self) -> str:
        """``inject`` or ``decision``."""
        return self.model.category


#: Every action kind, by name.
ACTIONS: dict[str, ActionType] = {}


def _register(model: type[Action]) -> Callable[[Callable], Callable]:
    kind = model.model_fields["kind"].default

    def deco(fn: Callable[[MCIModel, Any], None]) -> Callable[[MCIModel, Any], None]:
        ACTIONS[kind] = ActionType(kind, model, fn)
        return fn

    return deco


def parse_action(data: Any, *, path: str = "", file: str | None = None) -> Action:
    """Validate one action given as plain data (an unknown kind is one :class:`InputError`)."""
    if isinstance(data, Action):
        return data
    if not isinstance(data, dict):
        raise InputError("an action must be a mapping of keys to values", file=file, path=path)
    kind = data.get("kind")
    where = f"{path}.kind" if path else "kind"
    if kind not in ACTIONS:
        known = ", ".join(sorted(ACTIONS))
        raise InputError(f"unknown action kind {echo(kind)}; known: {known}", file=file, path=where)
    try:
        return ACTIONS[kind].model.model_validate(data)
    except ValidationError as exc:
        lines = error_lines(exc)
        sub, msg = lines[0]
        full = ".".join(p for p in (path, sub) if p).replace(".[", "[")
        raise InputError(msg, file=file, path=full, more=len(lines) - 1) from None


def action_data(action: Action) -> dict[str, Any]:
    """An action as JSON-ready data (``kind``, ``at_min``, ``by`` first; defaults omitted)."""
    body = action.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    head = {"kind": action.kind, "at_min": action.at_min, "by": action.by}
    return {**head, **{k: v for k, v in body.items() if k not in head}}


def apply_action(model: MCIModel, action: Action | dict[str, Any]) -> Action:
    """Apply ``action`` to ``model`` now (at ``model.now``); returns the validated action.

    The model must stand at the action's minute (use
    :meth:`mcsim.exercise.runner.ExerciseSession.apply` to advance to it and keep a log).

    Raises:
        InputError: the action does not fit the model (unknown hospital, road already closed,
            ...); the model is unchanged.
    """
    action = parse_action(action)
    if model.finished:
        raise InputError("the run is over; no more actions", path="at_min")
    if action.at_min != model.now:
        raise InputError(
            f"the model stands at minute {model.now:g}, not at {action.at_min:g}", path="at_min"
        )
    ACTIONS[action.kind].apply(model, action)
    return action


# ============================================================================ helpers


def _hospital(model: MCIModel, hid: str, path: str = "hospital") -> Hospital:
    h = model.hospitals.get(hid)
    if h is None:
        known = ", ".join(model.hospitals)
        raise InputError(f"unknown hospital {echo(hid)}; known: {known}", path=path)
    return h


def _node(model: MCIModel, name: str, path: str) -> int:
    try:
        return model.region.index(name)
    except InputError as exc:
        raise InputError(exc.message, path=path) from None
    except (KeyError, ValueError):
        raise InputError(f"unknown node {echo(name)}", path=path) from None


def _scene(model: MCIModel, sid: str, path: str) -> Scene:
    for s in model.scenes:
        if s.id == sid:
            return s
    known = ", ".join(s.id for s in model.scenes)
    raise InputError(f"unknown incident {echo(sid)}; known: {known}", path=path)


def _record(model: MCIModel, action: Action, text: str = "", **kw: Any) -> None:
    kind = EventKind.INJECT if action.category == INJECT else EventKind.DECISION
    detail = f"{action.kind}: {text or action.summary()} (by {action.by})"
    model.log.add(model.now, kind, detail=detail, **kw)


def _record_move(model: MCIModel, action: Action, agent: Any, what: str, **kw: Any) -> None:
    """One row for an agent sent on a new leg (``node`` → ``to_node``, new ``arrive_min``)."""
    kind = EventKind.INJECT if action.category == INJECT else EventKind.DECISION
    origin, to, depart, arrive = agent.trip
    model.log.add(
        model.now,
        kind,
        node=origin,
        to_node=to,
        arrive_min=arrive,
        state=agent.state.value,
        detail=f"{action.kind}: {what}, leaving node {origin} at {depart:g} (by {action.by})",
        **kw,
    )


@dataclass
class _RouteMemory:
    """The path each agent on the road is following, kept across road changes."""

    paths: dict[tuple[str, int], tuple[tuple, list[int], np.ndarray]] = field(default_factory=dict)


def _memory(model: MCIModel) -> _RouteMemory:
    mem = model.__dict__.get("_exercise_routes")
    if mem is None:
        mem = _RouteMemory()
        model.__dict__["_exercise_routes"] = mem
    return mem


def _key(agent: Any) -> tuple[str, int]:
    return ("vehicle", agent.vid) if hasattr(agent, "vid") else ("staff", agent.sid)


def _movers(model: MCIModel) -> list[Any]:
    return [a for a in (*model.vehicles, *model.staff) if a.trip is not None]


def _path(model: MCIModel, agent: Any) -> tuple[list[int], np.ndarray]:
    """The path of ``agent``'s trip under way and the cumulative minutes along it.

    Valid because it is computed on the roads of the trip's departure: either no road changed
    since (then the roads now are those), or it was remembered at the change.
    """
    mem = _memory(model)
    key = _key(agent)
    hit = mem.paths.get(key)
    if hit is not None and hit[0] is agent.trip:
        return hit[1], hit[2]
    origin, to, _, _ = agent.trip
    region = model.region
    path = region.path(origin, to)
    cum = np.asarray(region.travel_from(origin))[path]
    mem.paths[key] = (agent.trip, path, cum)
    return path, cum


def _position(model: MCIModel, agent: Any) -> tuple[int, int, float]:
    """(index in the path of the next node reached, that node, the minute it is reached)."""
    path, cum = _path(model, agent)
    _, _, depart, arrive = agent.trip
    now = model.now
    if now <= depart or len(path) == 1 or cum[-1] <= 0:
        return 0, path[0], depart
    scale = (arrive - depart) / cum[-1]
    for i in range(1, len(path)):
        t = depart + cum[i] * scale
        if t >= now:
            return i, path[i], t
    return len(path) - 1, path[-1], arrive


def _redirect(
    model: MCIModel,
    agent: Any,
    to: int,
    then: Callable[..., Any] | None = None,
    *args: Any,
) -> bool:
    """Send ``agent`` from the next node of its path to ``to``; False if ``to`` is unreachable."""
    _, node, t_node = _position(model, agent)
    minutes = model.region.travel_min(node, to)
    if math.isinf(minutes):
        return False
    if then is None:
        then, args = agent.on_arrival
    agent.set_trip(node, to, t_node, t_node + minutes, then, *args)
    return True


def _remember_paths(model: MCIModel) -> None:
    """Before a road change: fix the path of every agent on the road."""
    for a in _movers(model):
        _path(model, a)


def _reroute_vehicle_to(model: MCIModel, v: Ambulance, h: Hospital, action: Action) -> bool:
    """A vehicle carrying patients heads for ``h`` instead (from the next node of its path)."""
    old = model.hospitals[v.destination]
    if not _redirect(model, v, h.node, v.arrive_at_hospital, h):
        return False
    n = len(v.patients)
    old.expect(-n)
    h.expect(n)
    v.destination = h.hid
    for p in v.patients:
        if p.state is not PatientState.DEAD:
            p.hospital = h.hid
    _record_move(model, action, v, f"vehicle {v.vid} to {h.hid}", vehicle=v.vid, hospital=h.hid)
    return True


def _reroute_to_hospitals(model: MCIModel, hospital: Hospital, action: Action) -> int:
    """Vehicles heading for ``hospital`` go where the destination policy now sends them."""
    moved = 0
    for v in model.vehicles:
        if v.state is not VehicleState.TO_HOSPITAL or v.destination != hospital.hid:
            continue
        _, node, _ = _position(model, v)
        alive = [p for p in v.patients if p.state is not PatientState.DEAD]
        new = model.choose_destination(alive or v.patients, node)
        if new is None or new is hospital:
            continue
        moved += _reroute_vehicle_to(model, v, new, action)
    return moved


def _turn_away_self_transport(model: MCIModel, hospital: Hospital, action: Action) -> int:
    """Walking wounded heading for a closed hospital drive on from its door to the nearest."""
    factor = model.spec.response.self_transport_travel_factor
    moved = 0
    for p in model.patients:
        if p.state is not PatientState.SELF_TRANSPORT or p.hospital != hospital.hid:
            continue
        door = max(model.now, p.arrival_event.time)
        from_door = model.region.travel_from(hospital.node)
        options = model.receiving_hospitals
        best = min(range(len(options)), key=lambda i: (from_door[options[i].node], i))
        h = options[best]
        if math.isinf(from_door[h.node]):
            continue
        arrive = door + from_door[h.node] * factor
        p.arrival_event.cancel()
        p.hospital = h.hid
        p.arrival_event = model.schedule(arrive, Phase.ARRIVAL, model.scene_work.self_arrival, p, h)
        kind = EventKind.INJECT if action.category == INJECT else EventKind.DECISION
        model.log.add(
            model.now,
            kind,
            patient=p.pid,
            hospital=h.hid,
            node=hospital.node,
            to_node=h.node,
            arrive_min=arrive,
            detail=f"{action.kind}: turned away at {hospital.hid}, on to {h.hid} (by {action.by})",
        )
        moved += 1
    return moved


# ============================================================================ injects


def _road(model: MCIModel, a: RoadClosed | RoadReopened) -> tuple[int, int]:
    return _node(model, a.from_node, "from"), _node(model, a.to_node, "to")


@_register(RoadClosed)
def road_closed(model: MCIModel, a: RoadClosed) -> None:
    """Close the road; agents whose remaining path uses it are re-routed from the next node."""
    u, v = _road(model, a)
    _remember_paths(model)
    model.region.close_road(u, v, directed=a.directed)
    problem = _cut_off(model)
    if problem:
        model.region.reopen_road(u, v, directed=a.directed)
        raise InputError(f"closing this road would cut {problem}", path="to")
    closed = {(u, v)} if a.directed else {(u, v), (v, u)}
    _record(model, a, node=u, to_node=v)
    for agent in _movers(model):
        path, _ = _path(model, agent)
        i, _, _ = _position(model, agent)
        if not any((path[k], path[k + 1]) in closed for k in range(i, len(path) - 1)):
            continue
        if not _redirect(model, agent, path[-1]):
            if not _another_hospital(model, agent, a):
                _strand(model, agent, a)
            continue
        what = f"vehicle {agent.vid} re-routed" if hasattr(agent, "vid") else "re-routed"
        who = {"vehicle": agent.vid} if hasattr(agent, "vid") else {"staff": agent.sid}
        _record_move(model, a, agent, what, **who)


def _another_hospital(model: MCIModel, agent: Any, a: Action) -> bool:
    """A vehicle whose hospital is cut off: the destination policy picks one it can reach."""
    if getattr(agent, "state", None) is not VehicleState.TO_HOSPITAL:
        return False
    _, node, _ = _position(model, agent)
    reach = model.region.travel_from(node)
    hid = agent.destination
    model.receiving_hospitals = [
        h for h in model.receiving_hospitals if h.hid != hid and math.isfinite(reach[h.node])
    ]
    try:
        if not model.receiving_hospitals:
            return False
        alive = [p for p in agent.patients if p.state is not PatientState.DEAD]
        new = model.choose_destination(alive or agent.patients, node)
    finally:
        _set_receiving(model)
    if new is None:
        return False
    return _reroute_vehicle_to(model, agent, new, a)


def _cut_off(model: MCIModel) -> str:
    """What an incident would be cut off from (no open hospital, no station), or "".

    The model cannot represent a scene nobody can reach or leave, so injects that would
    isolate one are refused [limitation].
    """
    stations = list(model.station_nodes.values())
    for scene in model.scenes:
        out = model.region.travel_from(scene.node)
        if not any(math.isfinite(out[h.node]) for h in model.receiving_hospitals):
            return f"incident {echo(scene.id)} off from every open hospital"
        into = model.region.travel_to(scene.node)
        if not any(math.isfinite(into[n]) for n in stations):
            return f"incident {echo(scene.id)} off from every ambulance station"
    return ""


def _strand(model: MCIModel, agent: Any, a: Action) -> None:
    """No way round: the agent stops at the next node and waits there [assumption]."""
    _, node, t_node = _position(model, agent)
    agent.set_trip(node, node, t_node, t_node, _stranded, agent)
    who = {"vehicle": agent.vid} if hasattr(agent, "vid") else {"staff": agent.sid}
    _record_move(model, a, agent, "no route: stranded", **who)


def _stranded(agent: Any) -> None:
    """Arrival of a stranded agent: it stays where it is (nothing scheduled)."""


@_register(RoadReopened)
def road_reopened(model: MCIModel, a: RoadReopened) -> None:
    """Reopen the road (agents already on their way keep their route)."""
    u, v = _road(model, a)
    _remember_paths(model)
    model.region.reopen_road(u, v, directed=a.directed)
    _record(model, a, node=u, to_node=v)


def _set_receiving(model: MCIModel) -> None:
    closed = model.__dict__.setdefault("_exercise_closed", set())
    model.receiving_hospitals = [h for h in model.hospital_list if h.hid not in closed]


@_register(HospitalDiversion)
def hospital_diversion(model: MCIModel, a: HospitalDiversion) -> None:
    """The hospital goes on diversion; vehicles heading there may be re-routed."""
    h = _hospital(model, a.hospital)
    h.on_diversion = True
    _record(model, a, hospital=h.hid, node=h.node)
    if a.reroute_en_route:
        _reroute_to_hospitals(model, h, a)


@_register(HospitalClosed)
def hospital_closed(model: MCIModel, a: HospitalClosed) -> None:
    """The hospital receives nobody from now on."""
    h = _hospital(model, a.hospital)
    closed = model.__dict__.setdefault("_exercise_closed", set())
    if h.hid in closed:
        raise InputError(f"hospital {echo(h.hid)} is already closed", path="hospital")
    if len(model.receiving_hospitals) <= 1:
        raise InputError(f"hospital {echo(h.hid)} is the last one open", path="hospital")
    closed.add(h.hid)
    _set_receiving(model)
    problem = _cut_off(model)
    if problem:
        closed.discard(h.hid)
        _set_receiving(model)
        raise InputError(f"closing it would cut {problem}", path="hospital")
    _record(model, a, hospital=h.hid, node=h.node)
    _reroute_to_hospitals(model, h, a)
    _turn_away_self_transport(model, h, a)


@_register(HospitalReopened)
def hospital_reopened(model: MCIModel, a: HospitalReopened) -> None:
    """The hospital receives patients again (off diversion, open)."""
    h = _hospital(model, a.hospital)
    closed = model.__dict__.setdefault("_exercise_closed", set())
    if h.hid not in closed and not h.on_diversion:
        raise InputError(
            f"hospital {echo(h.hid)} is neither closed nor on diversion", path="hospital"
        )
    closed.discard(h.hid)
    h.on_diversion = False
    _set_receiving(model)
    _record(model, a, hospital=h.hid, node=h.node)


@_register(CapacityLoss)
def capacity_loss(model: MCIModel, a: CapacityLoss) -> None:
    """``count`` units of the resource are lost (see :class:`CapacityLoss`)."""
    h = _hospital(model, a.hospital)
    lost = -h.change_capacity(a.resource, -a.count)
    _record(model, a, f"{h.hid} loses {lost} of {a.count} {a.resource.value}", hospital=h.hid)


@_register(SecondIncident)
def second_incident(model: MCIModel, a: SecondIncident) -> None:
    """A further incident, with its own casualty stream."""
    inc = a.incident
    _node(model, inc.node, "incident.node")
    try:
        model.spec.profile(inc.injury_profile)
    except KeyError:
        raise InputError(
            f"unknown injury profile {echo(inc.injury_profile)}", path="incident.injury_profile"
        ) from None
    node = model.region.index(inc.node)
    if not any(math.isfinite(model.region.travel_from(node)[h.node]) for h in model.hospital_list):
        raise InputError(f"no hospital can be reached from {echo(inc.node)}", path="incident.node")
    scene = model.add_incident(inc)
    _record(model, a, f"{inc.id} at {inc.node}", incident=inc.id, node=scene.node)


@_register(MutualAidAmbulances)
def mutual_aid_ambulances(model: MCIModel, a: MutualAidAmbulances) -> None:
    """New ambulances at ``node``, free for the dispatcher."""
    from mcsim.agents.ambulance import Ambulance

    node = _node(model, a.node, "node")
    first = len(model.vehicles)
    for _ in range(a.count):
        v = Ambulance(model, len(model.vehicles), a.station, node, a.type, a.capacity)
        model.vehicles.append(v)
        model.free_vehicles[v.vid] = v
    _record(model, a, f"{a.count} {a.type.value} from {a.station}, vehicles {first}..", node=node)
    model.dispatch_round()


@_register(MutualAidStaff)
def mutual_aid_staff(model: MCIModel, a: MutualAidStaff) -> None:
    """Responders arrive at ``node`` and head for their incident or hospital."""
    from mcsim.agents.staff import Staff

    node = _node(model, a.node, "node")
    if a.role is StaffRole.HOSPITAL_TEAM:
        h = _hospital(model, a.to, "to")
        _record(model, a, hospital=h.hid, node=node)
        for _ in range(a.count):
            s = Staff(model, len(model.staff), a.role, node)
            s.hospital = h
            model.staff.append(s)
            s.travel_to(h.node, hospital=h.hid)
        return
    scene = _scene(model, a.to, "to")
    _record(model, a, incident=scene.id, node=node)
    for _ in range(a.count):
        s = Staff(model, len(model.staff), a.role, node)
        model.staff.append(s)
        s.send_to_scene(scene)


@_register(StaffCallIn)
def staff_call_in(model: MCIModel, a: StaffCallIn) -> None:
    """More teams are called in from home."""
    from mcsim.agents.staff import Staff

    h = _hospital(model, a.hospital)
    homes = [model.region.index(n) for n in h.spec.staff_home_nodes] or [h.node]
    delay = h.spec.callin_delay_min if a.delay_min is None else a.delay_min
    _record(model, a, hospital=h.hid, node=h.node)
    for k in range(a.teams):
        s = Staff(model, len(model.staff), StaffRole.HOSPITAL_TEAM, homes[k % len(homes)])
        model.staff.append(s)
        s.call_in(h, delay)


# ============================================================================ decisions


@_register(SetPolicy)
def set_policy(model: MCIModel, a: SetPolicy) -> None:
    """Rebind a policy (checked against the registry and its parameters)."""
    try:
        model.set_policy(a.policy, a.name, a.params)
    except InputError as exc:
        path = "name" if "unknown" in exc.message else "params"
        raise InputError(exc.message, path=path) from None
    _record(model, a)


@_register(SetQuotas)
def set_quotas(model: MCIModel, a: SetQuotas) -> None:
    """Replace the quota table of the destination policy in use."""
    from mcsim.policies import default_registry

    name = model.policy_names["destination"]
    pol = default_registry().get("destination", name)
    if "quotas" not in pol.params:
        raise InputError(
            f"destination policy {echo(name)} has no quota table; switch to 'quota' first",
            path="quotas",
        )
    unknown = [hid for hid in a.quotas if hid not in model.hospitals]
    if unknown:
        raise InputError(f"unknown hospital {echo(unknown[0])}", path=f"quotas.{unknown[0]}")
    current = {k: model.destination_params[k] for k in pol.params if k in model.destination_params}
    try:
        model.set_policy("destination", name, {**current, "quotas": a.quotas})
    except InputError as exc:
        raise InputError(exc.message, path="quotas") from None
    _record(model, a)


@_register(SurgeCapacity)
def surge_capacity(model: MCIModel, a: SurgeCapacity) -> None:
    """The hospital opens more units of the resource."""
    h = _hospital(model, a.hospital)
    _record(model, a, hospital=h.hid, node=h.node)
    h.change_capacity(a.resource, a.count)


@_register(SendAmbulance)
def send_ambulance(model: MCIModel, a: SendAmbulance) -> None:
    """Override the dispatcher or the destination policy for one vehicle."""
    if a.vehicle >= len(model.vehicles):
        raise InputError(
            f"no vehicle {a.vehicle}; vehicles are 0..{len(model.vehicles) - 1}", path="vehicle"
        )
    v = model.vehicles[a.vehicle]
    if a.hospital is not None:
        h = _hospital(model, a.hospital)
        if h not in model.receiving_hospitals:
            raise InputError(f"hospital {echo(h.hid)} is closed", path="hospital")
        if v.state is not VehicleState.TO_HOSPITAL:
            _record(model, a, f"not possible: vehicle {v.vid} is {v.state.value}", vehicle=v.vid)
            return
        _record(model, a, vehicle=v.vid, hospital=h.hid)
        if v.destination != h.hid and not _reroute_vehicle_to(model, v, h, a):
            _record(model, a, f"not possible: {h.hid} cannot be reached", vehicle=v.vid)
        return
    scene = _scene(model, a.incident, "incident")
    _send_to_scene(model, v, scene, a)


def _send_to_scene(model: MCIModel, v: Ambulance, scene: Scene, a: SendAmbulance) -> None:
    state = v.state
    if v.vid in model.free_vehicles:
        _record(model, a, vehicle=v.vid, incident=scene.id)
        del model.free_vehicles[v.vid]
        v.dispatch(scene)
        return
    if state is VehicleState.AT_SCENE and v.scene is not None and v in v.scene.vehicles_waiting:
        if v.scene is scene:
            _record(model, a, f"vehicle {v.vid} is already there", vehicle=v.vid)
            return
        _record(model, a, vehicle=v.vid, incident=scene.id)
        v.scene.vehicles_waiting.remove(v)
        v.scene.committed_capacity -= v.capacity
        v.dispatch(scene)
        return
    if state in (VehicleState.TO_STATION, VehicleState.TO_SCENE):
        if v.scene is scene:
            _record(model, a, f"vehicle {v.vid} is already on its way there", vehicle=v.vid)
            return
        if math.isinf(model.region.travel_min(_position(model, v)[1], scene.node)):
            _record(model, a, f"not possible: {scene.id} cannot be reached", vehicle=v.vid)
            return
        _record(model, a, vehicle=v.vid, incident=scene.id)
        if v.scene is not None:
            v.scene.committed_capacity -= v.capacity
        v.scene = scene
        scene.committed_capacity += v.capacity
        v.state = VehicleState.TO_SCENE
        _redirect(model, v, scene.node, v.arrive_at_scene)
        _record_move(model, a, v, f"vehicle {v.vid} to {scene.id}", vehicle=v.vid)
        return
    _record(model, a, f"not possible: vehicle {v.vid} is {state.value}", vehicle=v.vid)
