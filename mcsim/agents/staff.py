"""Staff agents: triage officers and paramedics at the scene, hospital teams called in.

Staff move over the road graph like vehicles (a trip has an origin, a destination, a departure
and an arrival time). Scene staff come from the nearest ambulance station once EMS is alerted;
on-call hospital teams are called when their hospital declares a major incident, get ready for
``callin_delay_min`` and drive in from home, adding one team to the hospital when they arrive.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa

from mcsim.agents.travel import Traveller
from mcsim.enums import EventKind, Phase, Resource, StaffRole, StaffState

if TYPE_CHECKING:
    from mcsim.agents.hospital import Hospital
    from mcsim.agents.patient import Patient
    from mcsim.model import MCIModel
    from mcsim.scene import Scene


class Staff(Traveller, mesa.Agent):
    """A responder or a hospital team."""

    def __init__(self, model: MCIModel, sid: int, role: StaffRole, home: int) -> None:
        super().__init__(model)
        self.sid = sid
        self.role = role
        self.node = home
        self.state = StaffState.OFF_DUTY
        self.scene: Scene | None = None
        self.hospital: Hospital | None = None
        self.patient: Patient | None = None  # the patient being triaged or cared for
        self.resource = Resource.TEAM  # what a hospital team adds: a trauma or surgical team

    def _record(self, kind: EventKind, **kw) -> None:
        m = self.model
        kw.setdefault("detail", self.role.value)
        m.log.add(m.now, kind, staff=self.sid, state=self.state.value, **kw)

    def travel_to(self, node: int, *, hospital: str = "", incident: str = "") -> None:
        """Leave now for ``node``; :meth:`arrive` runs on arrival."""
        m = self.model
        minutes = m.region.travel_min(self.node, node)
        if math.isinf(minutes):
            self.state = StaffState.IDLE
            self._record(EventKind.STAFF_DEPART, node=self.node, detail="unreachable")
            return
        self.state = StaffState.TRAVELLING
        arrive = m.now + minutes
        self._record(
            EventKind.STAFF_DEPART,
            node=self.node,
            to_node=node,
            arrive_min=arrive,
            hospital=hospital,
            incident=incident,
        )
        self.set_trip(self.node, node, m.now, arrive, self.arrive)

    def call_in(self, hospital: Hospital, delay_min: float) -> None:
        """An on-call team is called: it leaves home after ``delay_min``."""
        self.hospital = hospital
        self._record(EventKind.STAFF_CALLED, hospital=hospital.hid, node=self.node)
        self.model.schedule(self.model.now + delay_min, Phase.DECISION, self._leave_home)

    def _leave_home(self) -> None:
        assert self.hospital is not None
        self.travel_to(self.hospital.node, hospital=self.hospital.hid)

    def send_to_scene(self, scene: Scene) -> None:
        """A scene responder leaves for ``scene``."""
        self.scene = scene
        self.travel_to(scene.node, incident=scene.id)

    def arrive(self) -> None:
        """Arrived where the trip led: start working."""
        m = self.model
        self.state = StaffState.WORKING
        if self.hospital is not None:
            self._record(EventKind.STAFF_ARRIVE, hospital=self.hospital.hid, node=self.node)
            self.hospital.team_arrives(self.resource)
        elif self.scene is not None:
            self._record(EventKind.STAFF_ARRIVE, incident=self.scene.id, node=self.node)
            m.scene_work.responder_ready(self)
