"""What may change in a running model from outside: the public API of exercise actions.

Why a module of its own: a tabletop exercise (or a study script that plays a "what if") changes
a run that is under way — a road closes, a hospital goes on diversion, mutual-aid ambulances
arrive, the incident commander switches the destination plan — and each such change has to
keep the agents consistent (a vehicle already on the closing road is re-routed, walking
wounded heading for a closed hospital are turned away at its door). :class:`Control`, one per
model (``model.control``), is that set of changes, each one method, and it owns the state the
changes need (:attr:`Control.closed_hospitals`, :attr:`Control.rerouter`). The exercise actions
of :mod:`mcsim.exercise.actions` are validated records that call these methods; a user's own
action does the same (see docs/howto-extend.md).

**When a change applies.** Call a method between ``model.run(until=t)`` calls: it applies
after every event of minute ``t`` and before anything later, exactly as a facilitator who
pauses and acts sees it.

**What a change writes.** Every change writes its rows to the event log under a :class:`Cause`
(``inject`` or ``decision`` rows whose ``detail`` starts with the cause's label and ends with
who made it). Each vehicle, team or patient it re-routes gets a row of the same kind
(``node`` → ``to_node`` with the new ``arrive_min``), so the map can follow them.

**Re-routing** (road closures, closed or diverted hospitals, a vehicle sent elsewhere): agents
on the road carry on from the next node of their path (:mod:`mcsim.rerouting`). Walking
wounded driving themselves to hospital are not re-routed by road closures (their travel time
is already a rough estimate [assumption]); those heading for a hospital that closes are turned
away at its door and drive on to the nearest open one.

**Refusals.** A change that does not fit the model (unknown hospital, a hospital already
closed, a closure that would cut an incident off) raises :class:`~mcsim.errors.InputError`
whose ``path`` names the offending argument, and leaves the model unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mcsim.enums import Resource, StaffRole, VehicleState, VehicleType
from mcsim.errors import InputError, echo
from mcsim.rerouting import Cause, Rerouter, who

__all__ = ["Cause", "Control"]

if TYPE_CHECKING:
    from mcsim.agents.ambulance import Ambulance
    from mcsim.agents.hospital import Hospital
    from mcsim.model import MCIModel
    from mcsim.scenario import IncidentSpec
    from mcsim.scene import Scene


class Control:
    """The changes an exercise (or a script) may make to a running model.

    Args:
        model: the model to change.

    Attributes:
        closed_hospitals: ids of the hospitals closed by :meth:`close_hospital`; the model's
            ``receiving_hospitals`` are the others.
        rerouter: follows the agents on the road and sends them on (:mod:`mcsim.rerouting`).
    """

    def __init__(self, model: MCIModel) -> None:
        self.model = model
        self.closed_hospitals: set[str] = set()
        self.rerouter = Rerouter(model)

    # ================================================================ looking things up

    def hospital(self, hid: str, path: str = "hospital") -> Hospital:
        """The hospital ``hid`` (unknown: InputError at ``path``, listing the known ones)."""
        h = self.model.hospitals.get(hid)
        if h is None:
            known = ", ".join(self.model.hospitals)
            raise InputError(f"unknown hospital {echo(hid)}; known: {known}", path=path)
        return h

    def node(self, name: str | int, path: str = "node") -> int:
        """The graph node called ``name`` (unknown: InputError at ``path``)."""
        try:
            return self.model.region.index(name)
        except InputError as exc:
            raise InputError(exc.message, path=path) from None
        except (KeyError, ValueError):
            raise InputError(f"unknown node {echo(name)}", path=path) from None

    def scene(self, incident: str, path: str = "incident") -> Scene:
        """The scene of incident ``incident`` (unknown: InputError at ``path``)."""
        for s in self.model.scenes:
            if s.id == incident:
                return s
        known = ", ".join(s.id for s in self.model.scenes)
        raise InputError(f"unknown incident {echo(incident)}; known: {known}", path=path)

    def vehicle(self, vid: int, path: str = "vehicle") -> Ambulance:
        """Vehicle number ``vid`` (none such: InputError at ``path``)."""
        vehicles = self.model.vehicles
        if not 0 <= vid < len(vehicles):
            raise InputError(f"no vehicle {vid}; vehicles are 0..{len(vehicles) - 1}", path=path)
        return vehicles[vid]

    # ================================================================ roads

    def close_road(
        self,
        from_node: str | int,
        to_node: str | int,
        *,
        directed: bool = False,
        cause: Cause | None = None,
    ) -> None:
        """Close a road (both ways unless ``directed``); agents using it are re-routed.

        Refused (InputError at ``to_node``) when it would cut an incident off from every open
        hospital or every ambulance station.
        """
        cause = cause or Cause(summary=f"road {from_node}-{to_node} closed")
        m = self.model
        u, v = self.node(from_node, "from_node"), self.node(to_node, "to_node")
        self.rerouter.remember_paths()
        m.region.close_road(u, v, directed=directed)
        problem = self._cut_off()
        if problem:
            m.region.reopen_road(u, v, directed=directed)
            raise InputError(f"closing this road would cut {problem}", path="to_node")
        closed = {(u, v)} if directed else {(u, v), (v, u)}
        self.rerouter.record(cause, node=u, to_node=v)
        for agent in self.rerouter.movers():
            path, _ = self.rerouter.path(agent)
            i, _, _ = self.rerouter.position(agent)
            if not any((path[k], path[k + 1]) in closed for k in range(i, len(path) - 1)):
                continue
            if not self.rerouter.redirect(agent, path[-1]):
                if not self.rerouter.another_hospital(agent, cause):
                    self.rerouter.strand(agent, cause)
                continue
            what = f"vehicle {agent.vid} re-routed" if hasattr(agent, "vid") else "re-routed"
            self.rerouter.record_move(cause, agent, what, **who(agent))

    def reopen_road(
        self,
        from_node: str | int,
        to_node: str | int,
        *,
        directed: bool = False,
        cause: Cause | None = None,
    ) -> None:
        """Reopen a closed road (agents already on their way keep their route)."""
        cause = cause or Cause(summary=f"road {from_node}-{to_node} reopened")
        u, v = self.node(from_node, "from_node"), self.node(to_node, "to_node")
        self.rerouter.remember_paths()
        self.model.region.reopen_road(u, v, directed=directed)
        self.rerouter.record(cause, node=u, to_node=v)

    # ================================================================ hospitals

    def divert_hospital(
        self, hospital: str, *, reroute_en_route: bool = True, cause: Cause | None = None
    ) -> None:
        """The hospital goes on diversion (destination policies skip it while another fits).

        With ``reroute_en_route`` the ambulances already heading there go where the destination
        policy now sends them.
        """
        h = self.hospital(hospital)
        cause = cause or Cause(summary=f"{h.hid} on diversion")
        h.on_diversion = True
        self.rerouter.record(cause, hospital=h.hid, node=h.node)
        if reroute_en_route:
            self.rerouter.reroute_to_hospitals(h, cause)

    def close_hospital(self, hospital: str, *, cause: Cause | None = None) -> None:
        """The hospital receives nobody from now on (patients inside stay and are treated).

        Ambulances heading there are re-routed by the destination policy; walking wounded on
        their way are turned away at its door.
        """
        h = self.hospital(hospital)
        cause = cause or Cause(summary=f"{h.hid} closed")
        if h.hid in self.closed_hospitals:
            raise InputError(f"hospital {echo(h.hid)} is already closed", path="hospital")
        if len(self.model.receiving_hospitals) <= 1:
            raise InputError(f"hospital {echo(h.hid)} is the last one open", path="hospital")
        self.closed_hospitals.add(h.hid)
        self._set_receiving()
        problem = self._cut_off()
        if problem:
            self.closed_hospitals.discard(h.hid)
            self._set_receiving()
            raise InputError(f"closing it would cut {problem}", path="hospital")
        self.rerouter.record(cause, hospital=h.hid, node=h.node)
        self.rerouter.reroute_to_hospitals(h, cause)
        self.rerouter.turn_away_self_transport(h, cause)

    def reopen_hospital(self, hospital: str, *, cause: Cause | None = None) -> None:
        """A closed or diverted hospital receives patients again."""
        h = self.hospital(hospital)
        cause = cause or Cause(summary=f"{h.hid} reopened")
        if h.hid not in self.closed_hospitals and not h.on_diversion:
            raise InputError(
                f"hospital {echo(h.hid)} is neither closed nor on diversion", path="hospital"
            )
        self.closed_hospitals.discard(h.hid)
        h.on_diversion = False
        self._set_receiving()
        self.rerouter.record(cause, hospital=h.hid, node=h.node)

    def change_capacity(
        self, hospital: str, resource: Resource | str, count: int, *, cause: Cause | None = None
    ) -> int:
        """Open (``count`` > 0) or lose (``count`` < 0) units of a hospital resource.

        Gains may start waiting patients' care at once (their rows follow the change's row).
        Losses take free units first, units in use when freed, never units occupied before the
        incident (:meth:`~mcsim.agents.hospital.Hospital.change_capacity`); the row says how
        many were lost. Returns the change made.
        """
        h = self.hospital(hospital)
        name = resource.value if isinstance(resource, Resource) else str(resource)
        if count >= 0:
            self.rerouter.record(
                cause or Cause(summary=f"{h.hid} opens {count} {name}"), hospital=h.hid, node=h.node
            )
            return h.change_capacity(resource, count)
        changed = h.change_capacity(resource, count)
        text = f"{h.hid} loses {-changed} of {-count} {name}"
        self.rerouter.record(cause or Cause(), text, hospital=h.hid)
        return changed

    def call_in_teams(
        self,
        hospital: str,
        teams: int,
        *,
        delay_min: float | None = None,
        cause: Cause | None = None,
    ) -> None:
        """The hospital calls ``teams`` more teams from home.

        They leave home after ``delay_min`` (default: the hospital's ``callin_delay_min``);
        homes are the hospital's ``staff_home_nodes`` in turn, or the hospital itself.
        """
        from mcsim.agents.staff import Staff

        m = self.model
        h = self.hospital(hospital)
        homes = [m.region.index(n) for n in h.spec.staff_home_nodes] or [h.node]
        delay = h.spec.callin_delay_min if delay_min is None else delay_min
        self.rerouter.record(
            cause or Cause(summary=f"{h.hid} calls in {teams}"), hospital=h.hid, node=h.node
        )
        for k in range(teams):
            s = Staff(m, len(m.staff), StaffRole.HOSPITAL_TEAM, homes[k % len(homes)])
            m.staff.append(s)
            s.call_in(h, delay)

    # ================================================================ resources and incidents

    def add_ambulances(
        self,
        node: str | int,
        count: int,
        *,
        vtype: VehicleType = VehicleType.ALS,
        capacity: int = 1,
        station: str = "mutual_aid",
        cause: Cause | None = None,
    ) -> list[Ambulance]:
        """``count`` ambulances report at ``node``, free for the dispatcher (then dispatched).

        ``station`` is their label (and home when done). Returns the new vehicles.
        """
        from mcsim.agents.ambulance import Ambulance

        m = self.model
        at = self.node(node)
        first = len(m.vehicles)
        added = []
        for _ in range(count):
            v = Ambulance(m, len(m.vehicles), station, at, vtype, capacity)
            m.vehicles.append(v)
            m.free_vehicles[v.vid] = v
            added.append(v)
        text = f"{count} {vtype.value} from {station}, vehicles {first}.."
        self.rerouter.record(cause or Cause(), text, node=at)
        m.dispatch_centre.dispatch_round()
        return added

    def add_responders(
        self, role: StaffRole, count: int, node: str | int, to: str, *, cause: Cause | None = None
    ) -> None:
        """Responders arrive at ``node`` and head for the incident or the hospital ``to``.

        Triage officers and paramedics go to the incident ``to``; hospital teams to the
        hospital ``to``, where each adds one team on arrival.
        """
        from mcsim.agents.staff import Staff

        m = self.model
        at = self.node(node)
        cause = cause or Cause(summary=f"{count} {role.value} to {to}")
        if role is StaffRole.HOSPITAL_TEAM:
            h = self.hospital(to, "to")
            self.rerouter.record(cause, hospital=h.hid, node=at)
            for _ in range(count):
                s = Staff(m, len(m.staff), role, at)
                s.hospital = h
                m.staff.append(s)
                s.travel_to(h.node, hospital=h.hid)
            return
        scene = self.scene(to, "to")
        self.rerouter.record(cause, incident=scene.id, node=at)
        for _ in range(count):
            s = Staff(m, len(m.staff), role, at)
            m.staff.append(s)
            s.send_to_scene(scene)

    def add_incident(self, spec: IncidentSpec, *, cause: Cause | None = None) -> Scene:
        """A further incident, with its own casualty stream (its onset no earlier than now).

        Refused (paths ``incident.*``) for an unknown node or injury profile, or a node no
        hospital can be reached from.
        """
        m = self.model
        self.node(spec.node, "incident.node")
        try:
            m.spec.profile(spec.injury_profile)
        except KeyError:
            raise InputError(
                f"unknown injury profile {echo(spec.injury_profile)}",
                path="incident.injury_profile",
            ) from None
        at = m.region.index(spec.node)
        reach = m.region.travel_from(at)
        if not any(math.isfinite(reach[h.node]) for h in m.hospital_list):
            raise InputError(
                f"no hospital can be reached from {echo(spec.node)}", path="incident.node"
            )
        scene = m.add_incident(spec)
        self.rerouter.record(
            cause or Cause(), f"{spec.id} at {spec.node}", incident=spec.id, node=scene.node
        )
        return scene

    # ================================================================ policies

    def set_policy(
        self,
        kind: str,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        cause: Cause | None = None,
    ) -> None:
        """Switch the ``kind`` policy (triage, dispatch, destination) to ``name`` from now on.

        ``params`` override the scenario's ``policies.params`` entry for it (an unknown policy
        or parameter: InputError); see :meth:`mcsim.model.MCIModel.set_policy`.
        """
        self.model.set_policy(kind, name, dict(params or {}))
        self.rerouter.record(cause or Cause(summary=f"{kind} policy {name}"))

    def set_quotas(
        self, quotas: Mapping[str, Mapping[str, int]], *, cause: Cause | None = None
    ) -> None:
        """Replace the quota table of the destination policy in use (one that has ``quotas``).

        Its other parameters stay as bound. Refused (path ``quotas``) when the policy in use
        has no quota table or a hospital is unknown.
        """
        from mcsim.policies import default_registry

        m = self.model
        name = m.policy_names["destination"]
        pol = default_registry().get("destination", name)
        if "quotas" not in pol.params:
            raise InputError(
                f"destination policy {echo(name)} has no quota table; switch to 'quota' first",
                path="quotas",
            )
        unknown = [hid for hid in quotas if hid not in m.hospitals]
        if unknown:
            raise InputError(f"unknown hospital {echo(unknown[0])}", path=f"quotas.{unknown[0]}")
        current = {k: m.destination_params[k] for k in pol.params if k in m.destination_params}
        table = {hid: dict(q) for hid, q in quotas.items()}
        try:
            m.set_policy("destination", name, {**current, "quotas": table})
        except InputError as exc:
            raise InputError(exc.message, path="quotas") from None
        self.rerouter.record(cause or Cause(summary="quotas replaced"))

    def set_reserve(self, hospitals: list[str], *, cause: Cause | None = None) -> None:
        """Replace the hospitals held in reserve (``policies.reserve``); [] releases them all.

        From the next destination decision EMS pass the reserve by while another hospital
        receiving ambulances is open; vehicles already on their way keep their destination.
        A scenario's timed hold (``policies.reserve_until_min``) still releases its hospital
        at its minute if the hospital is held then. Refused (path ``hospitals``) when a
        hospital is unknown.
        """
        m = self.model
        unknown = [hid for hid in hospitals if hid not in m.hospitals]
        if unknown:
            raise InputError(f"unknown hospital {echo(unknown[0])}", path="hospitals")
        m.dispatch_centre.hold_in_reserve(frozenset(hospitals))
        held = ", ".join(sorted(m.reserve)) or "none"
        self.rerouter.record(cause or Cause(summary="reserve replaced"), f"reserve: {held}")

    # ================================================================ one vehicle

    def send_vehicle(
        self,
        vehicle: int,
        *,
        incident: str | None = None,
        hospital: str | None = None,
        cause: Cause | None = None,
    ) -> bool:
        """Send one vehicle to an incident, or (carrying patients) to a hospital.

        To an incident: a free vehicle is dispatched; one returning to its station, heading for
        another scene or waiting to load at another scene is redirected. To a hospital: a
        vehicle carrying patients changes destination. Anything else (loading, handing over)
        is not possible: the row says so and nothing changes. Returns whether it was sent.
        """
        if (incident is None) == (hospital is None):
            raise InputError("give exactly one of incident, hospital", path="incident")
        v = self.vehicle(vehicle)
        cause = cause or Cause(summary=f"vehicle {vehicle} to {incident or hospital}")
        if hospital is not None:
            h = self.hospital(hospital)
            if h not in self.model.receiving_hospitals:
                raise InputError(f"hospital {echo(h.hid)} is closed", path="hospital")
            if v.state is not VehicleState.TO_HOSPITAL:
                self.rerouter.record(
                    cause, f"not possible: vehicle {v.vid} is {v.state.value}", vehicle=v.vid
                )
                return False
            self.rerouter.record(cause, vehicle=v.vid, hospital=h.hid)
            if v.destination != h.hid and not self.rerouter.reroute_vehicle_to(v, h, cause):
                self.rerouter.record(
                    cause, f"not possible: {h.hid} cannot be reached", vehicle=v.vid
                )
                return False
            return True
        return self.rerouter.send_to_scene(v, self.scene(incident), cause)

    # ================================================================ closures

    def _set_receiving(self) -> None:
        m = self.model
        m.receiving_hospitals = [h for h in m.hospital_list if h.hid not in self.closed_hospitals]

    def _cut_off(self) -> str:
        """What an incident would be cut off from (no open hospital, no station), or "".

        The model cannot represent a scene nobody can reach or leave, so changes that would
        isolate one are refused [limitation].
        """
        m = self.model
        stations = list(m.station_nodes.values())
        for scene in m.scenes:
            out = m.region.travel_from(scene.node)
            if not any(math.isfinite(out[h.node]) for h in m.receiving_hospitals):
                return f"incident {echo(scene.id)} off from every open hospital"
            into = m.region.travel_to(scene.node)
            if not any(math.isfinite(into[n]) for n in stations):
                return f"incident {echo(scene.id)} off from every ambulance station"
        return ""
