"""Re-routing agents who are on the road when a road, a hospital or an order changes.

Why a module of its own: following an agent along the path it set off on, and sending it on
from the next node, is one piece of geometry that every change of :mod:`mcsim.control` needs
(road closures, closed or diverted hospitals, a vehicle sent elsewhere), and it is easier to
check on its own. :class:`Rerouter` keeps the paths it follows (:class:`RouteMemory`) and writes
a row for every agent it sends on a new leg, under the :class:`Cause` of the change.

An agent on the road follows the shortest path it had when it set off. Its position now is
found along that path from the trip's departure and arrival times; it carries on to the next
node of the path (a vehicle already on a road that closes finishes crossing it [assumption]),
then takes the shortest path from there under the roads open now; its pending arrival event is
cancelled (:mod:`mcsim.clock`). Paths are remembered at every road change, so a trip that
started before an earlier change is followed on the roads it planned with. With no way round,
an agent stops at the next node (logged "stranded") [assumption].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mcsim.enums import EventKind, PatientState, Phase, VehicleState

if TYPE_CHECKING:
    from mcsim.agents.ambulance import Ambulance
    from mcsim.agents.hospital import Hospital
    from mcsim.agents.patient import Patient
    from mcsim.model import MCIModel
    from mcsim.scene import Scene


@dataclass(frozen=True)
class Cause:
    """Who or what makes a change, for the rows it writes to the event log.

    Attributes:
        kind: ``EventKind.INJECT`` (something happened) or ``EventKind.DECISION`` (a player
            decided).
        label: the first word of each row's ``detail`` (an exercise action's kind).
        by: who made it, the end of each row's ``detail``.
        summary: the text of the change's main row (an action's fields); when empty, the
            change describes itself.
    """

    kind: EventKind = EventKind.DECISION
    label: str = "control"
    by: str = "user"
    summary: str = ""

    def detail(self, text: str) -> str:
        """The ``detail`` of one row: ``"<label>: <text> (by <by>)"``."""
        return f"{self.label}: {text} (by {self.by})"


@dataclass
class RouteMemory:
    """The path each agent on the road is following, kept across road changes.

    Keyed by ``("vehicle", vid)`` or ``("staff", sid)``; each entry is the trip it was computed
    for (the agent's ``trip`` tuple, compared by identity), the path and the cumulative minutes
    along it.
    """

    paths: dict[tuple[str, int], tuple[tuple, list[int], np.ndarray]] = field(default_factory=dict)


class Rerouter:
    """Follows agents on the road and sends them on new legs, logging each under its cause.

    Args:
        model: the model whose vehicles, staff and self-transporting patients it moves.

    Attributes:
        memory: the paths of agents on the road, remembered at road changes.
    """

    def __init__(self, model: MCIModel) -> None:
        self.model = model
        self.memory = RouteMemory()

    def record(self, cause: Cause, text: str = "", **kw: Any) -> None:
        """The change's own row: its text, else the cause's summary."""
        m = self.model
        m.log.add(m.now, cause.kind, detail=cause.detail(text or cause.summary), **kw)

    def record_move(self, cause: Cause, agent: Any, what: str, **kw: Any) -> None:
        """One row for an agent sent on a new leg (``node`` → ``to_node``, new ``arrive_min``)."""
        m = self.model
        origin, to, depart, arrive = agent.trip
        m.log.add(
            m.now,
            cause.kind,
            node=origin,
            to_node=to,
            arrive_min=arrive,
            state=agent.state.value,
            detail=cause.detail(f"{what}, leaving node {origin} at {depart:g}"),
            **kw,
        )

    # ================================================================ paths of agents on the road

    def movers(self) -> list[Any]:
        """The vehicles and staff on the road now."""
        m = self.model
        return [a for a in (*m.vehicles, *m.staff) if a.trip is not None]

    def path(self, agent: Any) -> tuple[list[int], np.ndarray]:
        """The path of ``agent``'s trip under way and the cumulative minutes along it.

        Valid because it is computed on the roads of the trip's departure: either no road
        changed since (then the roads now are those), or it was remembered at the change.
        """
        key = _key(agent)
        hit = self.memory.paths.get(key)
        if hit is not None and hit[0] is agent.trip:
            return hit[1], hit[2]
        origin, to, _, _ = agent.trip
        region = self.model.region
        path = region.path(origin, to)
        cum = np.asarray(region.travel_from(origin))[path]
        self.memory.paths[key] = (agent.trip, path, cum)
        return path, cum

    def position(self, agent: Any) -> tuple[int, int, float]:
        """(index in the path of the next node reached, that node, the minute it is reached)."""
        path, cum = self.path(agent)
        _, _, depart, arrive = agent.trip
        now = self.model.now
        if now <= depart or len(path) == 1 or cum[-1] <= 0:
            return 0, path[0], depart
        scale = (arrive - depart) / cum[-1]
        for i in range(1, len(path)):
            t = depart + cum[i] * scale
            if t >= now:
                return i, path[i], t
        return len(path) - 1, path[-1], arrive

    def redirect(
        self, agent: Any, to: int, then: Callable[..., Any] | None = None, *args: Any
    ) -> bool:
        """Send ``agent`` from the next node of its path to ``to``; False if unreachable."""
        _, node, t_node = self.position(agent)
        minutes = self.model.region.travel_min(node, to)
        if math.isinf(minutes):
            return False
        if then is None:
            then, args = agent.on_arrival
        agent.set_trip(node, to, t_node, t_node + minutes, then, *args)
        return True

    def remember_paths(self) -> None:
        """Before a road change: fix the path of every agent on the road."""
        for a in self.movers():
            self.path(a)

    def strand(self, agent: Any, cause: Cause) -> None:
        """No way round: the agent stops at the next node and waits there [assumption]."""
        _, node, t_node = self.position(agent)
        agent.set_trip(node, node, t_node, t_node, _stranded, agent)
        self.record_move(cause, agent, "no route: stranded", **who(agent))

    # ================================================================ re-routing to hospitals

    def another_hospital(self, agent: Any, cause: Cause) -> bool:
        """A vehicle whose hospital is cut off: the destination policy picks one it can reach."""
        if getattr(agent, "state", None) is not VehicleState.TO_HOSPITAL:
            return False
        m = self.model
        _, node, _ = self.position(agent)
        reach = m.region.travel_from(node)
        hid = agent.destination
        receiving = m.receiving_hospitals
        m.receiving_hospitals = [
            h for h in receiving if h.hid != hid and math.isfinite(reach[h.node])
        ]
        try:
            if not m.receiving_hospitals:
                return False
            alive = [p for p in agent.patients if p.state is not PatientState.DEAD]
            new = m.dispatch_centre.choose_destination(alive or agent.patients, node)
        finally:
            m.receiving_hospitals = receiving
        if new is None:
            return False
        return self.reroute_vehicle_to(agent, new, cause)

    def reroute_vehicle_to(self, v: Ambulance, h: Hospital, cause: Cause) -> bool:
        """A vehicle carrying patients heads for ``h`` instead (from the next node of its path)."""
        old = self.model.hospitals[v.destination]
        if not self.redirect(v, h.node, v.arrive_at_hospital, h):
            return False
        n = len(v.patients)
        old.expect(-n, -v.immediate_on_board)
        h.expect(n, v.immediate_on_board)
        v.destination = h.hid
        for p in v.patients:
            if p.state is not PatientState.DEAD:
                p.hospital = h.hid
        self.record_move(cause, v, f"vehicle {v.vid} to {h.hid}", vehicle=v.vid, hospital=h.hid)
        return True

    def reroute_to_hospitals(self, hospital: Hospital, cause: Cause) -> int:
        """Vehicles heading for ``hospital`` go where the destination policy now sends them."""
        m = self.model
        moved = 0
        for v in m.vehicles:
            if v.state is not VehicleState.TO_HOSPITAL or v.destination != hospital.hid:
                continue
            _, node, _ = self.position(v)
            alive = [p for p in v.patients if p.state is not PatientState.DEAD]
            new = m.dispatch_centre.choose_destination(alive or v.patients, node)
            if new is None or new is hospital:
                continue
            moved += self.reroute_vehicle_to(v, new, cause)
        return moved

    def turn_away_self_transport(self, hospital: Hospital, cause: Cause) -> int:
        """Walking wounded heading for a closed hospital drive on from its door to the nearest."""
        m = self.model
        moved = 0
        for p in m.patients:
            if p.state is not PatientState.SELF_TRANSPORT or p.hospital != hospital.hid:
                continue
            h = self.redirect_self_presenter(p, hospital)
            if h is None:
                continue
            m.log.add(
                m.now,
                cause.kind,
                patient=p.pid,
                hospital=h.hid,
                node=hospital.node,
                to_node=h.node,
                arrive_min=p.arrival_event.time,
                detail=cause.detail(f"turned away at {hospital.hid}, on to {h.hid}"),
            )
            moved += 1
        return moved

    def redirect_self_presenter(self, p: Patient, door: Hospital) -> Hospital | None:
        """``p``, due at ``door``, drives on from its door to the nearest receiving hospital.

        Their pending arrival is cancelled and a new one scheduled; None (nothing changes) when
        no receiving hospital can be reached from the door.
        """
        m = self.model
        from_door = m.region.travel_from(door.node)
        h = m.hospital_system.nearest_receiving(from_door)
        if h is None:
            return None
        at_door = max(m.now, p.arrival_event.time)
        arrive = at_door + from_door[h.node] * m.spec.response.self_transport_travel_factor
        p.arrival_event.cancel()
        p.hospital = h.hid
        p.arrival_event = m.schedule(arrive, Phase.ARRIVAL, m.scene_work.self_arrival, p, h)
        return h

    def send_to_scene(self, v: Ambulance, scene: Scene, cause: Cause) -> bool:
        """Send vehicle ``v`` to ``scene`` (:meth:`mcsim.control.Control.send_vehicle`).

        A free vehicle is dispatched; one waiting to load at another scene leaves it; one
        returning to its station or heading for another scene turns round from its next node.
        Anything else is refused with a row saying why. Returns whether it was sent.
        """
        m = self.model
        state = v.state
        if v.vid in m.free_vehicles:
            self.record(cause, vehicle=v.vid, incident=scene.id)
            del m.free_vehicles[v.vid]
            v.dispatch(scene)
            return True
        if state is VehicleState.AT_SCENE and v.scene is not None and v in v.scene.vehicles_waiting:
            if v.scene is scene:
                self.record(cause, f"vehicle {v.vid} is already there", vehicle=v.vid)
                return False
            self.record(cause, vehicle=v.vid, incident=scene.id)
            v.scene.vehicles_waiting.remove(v)
            v.scene.committed_capacity -= v.capacity
            v.dispatch(scene)
            return True
        if state in (VehicleState.TO_STATION, VehicleState.TO_SCENE):
            if v.scene is scene:
                self.record(cause, f"vehicle {v.vid} is already on its way there", vehicle=v.vid)
                return False
            if math.isinf(m.region.travel_min(self.position(v)[1], scene.node)):
                self.record(cause, f"not possible: {scene.id} cannot be reached", vehicle=v.vid)
                return False
            self.record(cause, vehicle=v.vid, incident=scene.id)
            if v.scene is not None:
                v.scene.committed_capacity -= v.capacity
            v.scene = scene
            scene.committed_capacity += v.capacity
            v.state = VehicleState.TO_SCENE
            self.redirect(v, scene.node, v.arrive_at_scene)
            self.record_move(cause, v, f"vehicle {v.vid} to {scene.id}", vehicle=v.vid)
            return True
        self.record(cause, f"not possible: vehicle {v.vid} is {state.value}", vehicle=v.vid)
        return False


def _key(agent: Any) -> tuple[str, int]:
    return ("vehicle", agent.vid) if hasattr(agent, "vid") else ("staff", agent.sid)


def who(agent: Any) -> dict[str, int]:
    """The log field naming ``agent``: ``vehicle`` or ``staff``."""
    return {"vehicle": agent.vid} if hasattr(agent, "vid") else {"staff": agent.sid}


def _stranded(agent: Any) -> None:
    """Arrival of a stranded agent: it stays where it is (nothing scheduled)."""
