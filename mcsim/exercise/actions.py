"""Exercise actions: injects from the facilitator and decisions of the players, as data.

An action is a small validated record (``kind``, ``at_min``, ``by`` and the fields of its kind)
applied to a running :class:`~mcsim.model.MCIModel` by one function per kind, registered in
:data:`ACTIONS` with :func:`register_action`. Each function calls the model's public API for
changes, :class:`mcsim.control.Control` (``model.control``), under a
:class:`~mcsim.control.Cause` made from the action (:func:`cause_of`), so that every action
writes one ``inject`` or ``decision`` row to the event log whose ``detail`` starts with its kind,
and each vehicle, team or patient it re-routes gets a row of the same kind (``node`` →
``to_node`` with the new ``arrive_min``), so the map can follow them. How agents on the road are
re-routed is written down in :mod:`mcsim.control`.

**When an action applies.** An action at minute ``t`` applies once every event of minute ``t``
has run and before anything later happens: exactly what a facilitator sees who pauses with
``model.run(until=t)`` and acts. :func:`mcsim.exercise.runner.ExerciseSession.apply` does
precisely that, live or in a replay, so a replay is the same sequence of calls and gives the
same event log. Nothing is checked per event: the model's event loop does not know that
actions exist.

**Your own action.** Subclass :class:`Action` with a ``kind: Literal["..."]`` field, decorate
the function that applies it with ``@register_action(MyAction)``, and import the module before
the exercise runs (``--plugin`` or a scenario's ``imports:``; docs/howto-extend.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, ValidationError, model_validator

from mcsim.control import Cause
from mcsim.enums import EventKind, Resource, StaffRole, VehicleType
from mcsim.errors import InputError, echo
from mcsim.scenario import IncidentSpec
from mcsim.schema_base import StrictModel, error_lines

if TYPE_CHECKING:
    from mcsim.model import MCIModel

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


class SetReserve(Action):
    """Decision: the hospitals the dispatch centre holds in reserve from now on.

    EMS convey to a reserve hospital only when no other hospital receiving ambulances is open;
    walking wounded still go there. An empty list releases the reserve; vehicles already on
    their way keep their destination. A hospital the scenario holds until a minute
    (``policies.reserve_until_min``) is still released at that minute if it is held then.
    """

    category: ClassVar[str] = DECISION
    kind: Literal["set_reserve"] = "set_reserve"
    hospitals: list[str] = Field(default_factory=list, max_length=1000)


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


def register_action(
    record: type[Action], *, replace: bool = False
) -> Callable[[Callable[[MCIModel, Any], None]], Callable[[MCIModel, Any], None]]:
    """Register the decorated function as what applies actions of class ``record``.

    ``record`` is an :class:`Action` subclass whose ``kind`` field has a ``Literal`` default
    (its name in :data:`ACTIONS`, the exercise log and the app's forms); its class attribute
    ``category`` is :data:`INJECT` or :data:`DECISION`. The function is called as
    ``fn(model, action)`` at the action's minute and changes the model through
    ``model.control`` (:mod:`mcsim.control`) with ``cause=cause_of(action)``.

    Raises:
        ValueError: ``record`` is not an Action with a default ``kind``, or the kind is taken
            (unless ``replace``).
    """
    if not (isinstance(record, type) and issubclass(record, Action)):
        raise ValueError(f"register_action needs an Action subclass, got {record!r}")
    kind = record.model_fields["kind"].default
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"{record.__name__}.kind needs a default: kind: Literal['name'] = 'name'")
    if kind in ACTIONS and not replace and ACTIONS[kind].model is not record:
        raise ValueError(f"action kind {kind!r} is already registered")

    def deco(fn: Callable[[MCIModel, Any], None]) -> Callable[[MCIModel, Any], None]:
        ACTIONS[kind] = ActionType(kind, record, fn)
        return fn

    return deco


def unregister_action(kind: str) -> None:
    """Remove a registered action kind (a test or a plugin cleaning up after itself)."""
    ACTIONS.pop(kind, None)


def cause_of(action: Action) -> Cause:
    """The :class:`~mcsim.control.Cause` under which ``action``'s changes are logged."""
    kind = EventKind.INJECT if action.category == INJECT else EventKind.DECISION
    return Cause(kind=kind, label=action.kind, by=action.by, summary=action.summary())


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


@contextmanager
def _fields(paths: dict[str, str]) -> Iterator[None]:
    """Re-path the API's refusals to the action's field names (``from_node`` → ``from``)."""
    try:
        yield
    except InputError as exc:
        if exc.path in paths:
            raise InputError(exc.message, path=paths[exc.path]) from None
        raise


_ROAD = {"from_node": "from", "to_node": "to"}


# ============================================================================ injects


@register_action(RoadClosed)
def road_closed(model: MCIModel, a: RoadClosed) -> None:
    """Close the road; agents whose remaining path uses it are re-routed from the next node."""
    with _fields(_ROAD):
        model.control.close_road(a.from_node, a.to_node, directed=a.directed, cause=cause_of(a))


@register_action(RoadReopened)
def road_reopened(model: MCIModel, a: RoadReopened) -> None:
    """Reopen the road (agents already on their way keep their route)."""
    with _fields(_ROAD):
        model.control.reopen_road(a.from_node, a.to_node, directed=a.directed, cause=cause_of(a))


@register_action(HospitalDiversion)
def hospital_diversion(model: MCIModel, a: HospitalDiversion) -> None:
    """The hospital goes on diversion; vehicles heading there may be re-routed."""
    model.control.divert_hospital(
        a.hospital, reroute_en_route=a.reroute_en_route, cause=cause_of(a)
    )


@register_action(HospitalClosed)
def hospital_closed(model: MCIModel, a: HospitalClosed) -> None:
    """The hospital receives nobody from now on."""
    model.control.close_hospital(a.hospital, cause=cause_of(a))


@register_action(HospitalReopened)
def hospital_reopened(model: MCIModel, a: HospitalReopened) -> None:
    """The hospital receives patients again (off diversion, open)."""
    model.control.reopen_hospital(a.hospital, cause=cause_of(a))


@register_action(CapacityLoss)
def capacity_loss(model: MCIModel, a: CapacityLoss) -> None:
    """``count`` units of the resource are lost (see :class:`CapacityLoss`)."""
    model.control.change_capacity(a.hospital, a.resource, -a.count, cause=cause_of(a))


@register_action(SecondIncident)
def second_incident(model: MCIModel, a: SecondIncident) -> None:
    """A further incident, with its own casualty stream."""
    model.control.add_incident(a.incident, cause=cause_of(a))


@register_action(MutualAidAmbulances)
def mutual_aid_ambulances(model: MCIModel, a: MutualAidAmbulances) -> None:
    """New ambulances at ``node``, free for the dispatcher."""
    model.control.add_ambulances(
        a.node, a.count, vtype=a.type, capacity=a.capacity, station=a.station, cause=cause_of(a)
    )


@register_action(MutualAidStaff)
def mutual_aid_staff(model: MCIModel, a: MutualAidStaff) -> None:
    """Responders arrive at ``node`` and head for their incident or hospital."""
    model.control.add_responders(a.role, a.count, a.node, a.to, cause=cause_of(a))


@register_action(StaffCallIn)
def staff_call_in(model: MCIModel, a: StaffCallIn) -> None:
    """More teams are called in from home."""
    model.control.call_in_teams(a.hospital, a.teams, delay_min=a.delay_min, cause=cause_of(a))


# ============================================================================ decisions


@register_action(SetPolicy)
def set_policy(model: MCIModel, a: SetPolicy) -> None:
    """Rebind a policy (checked against the registry and its parameters)."""
    try:
        model.control.set_policy(a.policy, a.name, a.params, cause=cause_of(a))
    except InputError as exc:
        path = "name" if "unknown" in exc.message else "params"
        raise InputError(exc.message, path=path) from None


@register_action(SetQuotas)
def set_quotas(model: MCIModel, a: SetQuotas) -> None:
    """Replace the quota table of the destination policy in use."""
    model.control.set_quotas(a.quotas, cause=cause_of(a))


@register_action(SetReserve)
def set_reserve(model: MCIModel, a: SetReserve) -> None:
    """Replace the hospitals held in reserve."""
    model.control.set_reserve(a.hospitals, cause=cause_of(a))


@register_action(SurgeCapacity)
def surge_capacity(model: MCIModel, a: SurgeCapacity) -> None:
    """The hospital opens more units of the resource."""
    model.control.change_capacity(a.hospital, a.resource, a.count, cause=cause_of(a))


@register_action(SendAmbulance)
def send_ambulance(model: MCIModel, a: SendAmbulance) -> None:
    """Override the dispatcher or the destination policy for one vehicle."""
    model.control.send_vehicle(
        a.vehicle, incident=a.incident, hospital=a.hospital, cause=cause_of(a)
    )
