"""The ambulance agent: dispatched from its station, drives shortest paths, carries patients.

An ambulance's life is a cycle of trips — station → scene → hospital → (scene again, or back to
the station) — with loading at the scene and handover at the hospital between them. Each trip is
recorded with its origin, destination and arrival time, so its position at any instant can be
interpolated along the shortest path for display. Decisions (which vehicle, whom to load, which
hospital) are the model's policies, applied by :mod:`mcsim.dispatch_centre` and
:mod:`mcsim.scene_work`; the ambulance only carries them out.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa

from mcsim.agents.travel import Traveller
from mcsim.enums import (
    EventKind,
    LeaveMode,
    PatientState,
    Phase,
    TriageTag,
    VehicleState,
    VehicleType,
)

if TYPE_CHECKING:
    from mcsim.agents.patient import Patient
    from mcsim.model import MCIModel
    from mcsim.scene import Scene


class Ambulance(Traveller, mesa.Agent):
    """One vehicle.

    Attributes:
        vid: vehicle number (scenario order).
        station: the home station's id; ``home`` its node.
        capacity: patients it can carry at once.
        state: what it is doing (:class:`VehicleState`).
        patients: who is on board.
    """

    def __init__(
        self, model: MCIModel, vid: int, station: str, home: int, vtype: VehicleType, capacity: int
    ) -> None:
        super().__init__(model)
        self.vid = vid
        self.station = station
        self.home = home
        self.node = home
        self.vtype = vtype
        self.capacity = capacity
        self.state = VehicleState.AT_STATION
        self.scene: Scene | None = None
        self.patients: list[Patient] = []
        self.immediate_on_board = 0  # tagged immediate when it left: announced to the hospital
        self.destination = ""

    def _record(
        self,
        kind: EventKind,
        *,
        node: int = -1,
        to_node: int = -1,
        arrive_min: float = math.nan,
        hospital: str = "",
        incident: str = "",
        detail: str = "",
    ) -> None:
        m = self.model
        m.log.add_row(
            m.now,
            kind,
            -1,
            self.vid,
            -1,
            hospital,
            incident,
            node,
            to_node,
            arrive_min,
            "",
            self.state._value_,
            math.nan,
            detail,
        )

    def _drive(
        self, to: int, then, state: VehicleState, kind: EventKind, *, incident: str = ""
    ) -> None:
        m = self.model
        minutes = m.region.travel_min(self.node, to)
        arrive = m.now + minutes
        self.state = state
        self._record(kind, node=self.node, to_node=to, arrive_min=arrive, incident=incident)
        self.set_trip(self.node, to, m.now, arrive, then)

    # ------------------------------------------------------------------ trips

    def dispatch(self, scene: Scene) -> None:
        """Go to ``scene`` (from the station or from a hospital after handover)."""
        self.scene = scene
        scene.committed_capacity += self.capacity
        self._drive(
            scene.node,
            self.arrive_at_scene,
            VehicleState.TO_SCENE,
            EventKind.DISPATCHED,
            incident=scene.id,
        )

    def arrive_at_scene(self) -> None:
        """Join the scene's queue of vehicles waiting to load."""
        assert self.scene is not None
        self.state = VehicleState.AT_SCENE
        self._record(EventKind.VEHICLE_AT_SCENE, node=self.node, incident=self.scene.id)
        self.scene.vehicles_waiting.append(self)
        self.model.scene_work.try_loading(self.scene)

    def load(self, patients: list[Patient]) -> None:
        """Load ``patients`` (loading takes ``loading_min`` each), then leave."""
        m = self.model
        self.patients = patients
        self._record(
            EventKind.LOAD_START,
            node=self.node,
            incident=self.scene.id,
            detail=",".join(str(p.pid) for p in patients),
        )
        for p in patients:
            p.vehicle = self.vid
            p.set_state(PatientState.LOADING, EventKind.LOAD_START, vehicle=self.vid)
        done = m.now + m.spec.response.loading_min * len(patients)
        m.schedule(done, Phase.SERVICE_END, self.depart_scene)

    def depart_scene(self) -> None:
        """Loaded: choose the hospital (destination policy) and drive there."""
        m = self.model
        scene = self.scene
        assert scene is not None
        scene.committed_capacity -= self.capacity
        hospital = m.dispatch_centre.choose_destination(self.patients, self.node)
        if hospital is None:  # every receiving hospital is cut off: the load waits on board
            m.log.add(
                m.now,
                EventKind.DECISION,
                vehicle=self.vid,
                node=self.node,
                incident=scene.id,
                detail="no hospital can be reached: the load waits on board",
            )
            return
        self.destination = hospital.hid
        minutes = m.region.travel_min(self.node, hospital.node)
        arrive = m.now + minutes
        scene.last_departure_min = m.now
        for p in self.patients:
            if p.state is PatientState.DEAD:
                continue
            p.leave_scene(LeaveMode.AMBULANCE, hospital.hid)
            p.set_state(
                PatientState.IN_TRANSPORT,
                EventKind.DEPART_SCENE,
                vehicle=self.vid,
                node=self.node,
                to_node=hospital.node,
                arrive_min=arrive,
            )
        self.immediate_on_board = sum(p.tag is TriageTag.IMMEDIATE for p in self.patients)
        hospital.expect(len(self.patients), self.immediate_on_board)
        self.state = VehicleState.TO_HOSPITAL
        self._record(
            EventKind.DEPART_SCENE,
            node=self.node,
            to_node=hospital.node,
            arrive_min=arrive,
            hospital=hospital.hid,
            incident=scene.id,
        )
        self.scene = None
        self.set_trip(self.node, hospital.node, m.now, arrive, self.arrive_at_hospital, hospital)
        m.scene_work.scene_changed(scene)

    def arrive_at_hospital(self, hospital) -> None:
        """Hand the patients over (``handover_min``), then become free."""
        m = self.model
        self.state = VehicleState.AT_HOSPITAL
        self._record(EventKind.HOSPITAL_ARRIVAL, node=self.node, hospital=hospital.hid)
        for p in self.patients:
            if p.state is not PatientState.DEAD:
                hospital.admit(p, by_vehicle=self.vid)
        hospital.expect(-len(self.patients), -self.immediate_on_board)
        self.patients = []
        self.immediate_on_board = 0
        m.schedule(
            m.now + m.spec.response.handover_min, Phase.SERVICE_END, self.handover_done, hospital
        )

    def handover_done(self, hospital) -> None:
        """Free again: the dispatcher may send it back; otherwise it returns to its station."""
        m = self.model
        self.state = VehicleState.AT_HOSPITAL
        self._record(EventKind.HANDOVER_DONE, node=self.node, hospital=hospital.hid)
        m.dispatch_centre.vehicle_free(self)

    def return_to_station(self) -> None:
        """Drive home."""
        self._drive(
            self.home, self.arrive_at_station, VehicleState.TO_STATION, EventKind.RETURN_TO_STATION
        )

    def arrive_at_station(self) -> None:
        """Back at the station: available."""
        m = self.model
        self.state = VehicleState.AT_STATION
        self._record(EventKind.VEHICLE_AT_STATION, node=self.node)
        m.dispatch_centre.vehicle_free(self)
