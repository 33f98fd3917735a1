"""The region's hospitals together: on-call teams, the major-incident alert, secondary transfers.

Why beside :mod:`mcsim.agents.hospital`: each :class:`~mcsim.agents.hospital.Hospital` runs its
own resources and queues, but some hospital work spans them all. The on-call teams are created
once for the whole region, the alert calls them all in on one random stream (``callin``), and a
transfer picks the nearest *other* hospital that can run a step. :class:`HospitalSystem` is one
per model (``MCIModel.hospital_system``); its events are phases 3 and 6 of the order listed in
:mod:`mcsim.model`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from mcsim.agents.staff import Staff
from mcsim.enums import EventKind, NodeKind, PatientState, Phase, Resource, StaffRole

if TYPE_CHECKING:
    from mcsim.agents.hospital import Hospital
    from mcsim.agents.pathways import Step
    from mcsim.agents.patient import Patient
    from mcsim.model import MCIModel


class HospitalSystem:
    """What the model's hospitals do together.

    Args:
        model: the model whose hospitals (``hospital_list``, ``receiving_hospitals``) these are.
    """

    def __init__(self, model: MCIModel) -> None:
        self.model = model

    def create_teams(self) -> None:
        """Create every hospital's on-call trauma and surgical teams at their homes.

        A team lives at one of the hospital's ``staff_home_nodes`` in turn, or else at a
        junction drawn from the hospital's own stream ``staff/<id>``.
        """
        m = self.model
        junctions = m.region.nodes_of_kind(NodeKind.JUNCTION)
        care = m.spec.hospital_care
        for h in m.hospital_list:
            homes = [m.region.index(n) for n in h.spec.staff_home_nodes]
            rng = m.streams.stream(f"staff/{h.hid}")
            kinds = [Resource.TEAM] * h.spec.teams_on_call
            kinds += [Resource.SURGICAL_TEAM] * h.spec.surgical_teams_on_call_count(care)
            for k, kind in enumerate(kinds):
                if homes:
                    home = homes[k % len(homes)]
                else:
                    pool = junctions if len(junctions) else np.arange(m.region.n_nodes)
                    home = int(pool[int(rng.integers(len(pool)))])
                s = Staff(m, len(m.staff), StaffRole.HOSPITAL_TEAM, home)
                s.hospital = h
                s.resource = kind
                m.staff.append(s)

    def alert(self) -> None:
        """Hospitals declare a major incident: call-in, surge plan, beds cleared.

        Every on-call team is called; each leaves home after its own lognormal delay (median
        the hospital's ``callin_delay_min`` for trauma teams, ``surgical_callin_median_min``
        for surgical teams) and drives in. Surge capacity opens ``surge_delay_min`` later;
        patients from before the incident start moving out of their beds.
        """
        m = self.model
        care = m.spec.hospital_care
        rng = m.streams.stream("callin")
        for s in m.on_call_teams:
            if s.role is not StaffRole.HOSPITAL_TEAM or s.hospital is None:
                continue
            if s.resource is Resource.SURGICAL_TEAM:
                median, sigma = care.surgical_callin_median_min, care.surgical_callin_sigma
            else:
                median, sigma = s.hospital.spec.callin_delay_min, care.callin_sigma
            delay = median * math.exp(sigma * float(rng.standard_normal())) if median > 0 else 0.0
            s.call_in(s.hospital, delay)
        for h in m.hospital_list:
            if any(h.spec.surge.model_dump().values()):
                m.schedule(m.now + h.spec.surge_delay_min, Phase.DECISION, h.open_surge)
            h.clear_occupied_beds()

    def nearest_receiving(
        self, travel: np.ndarray, accept: Callable[[Hospital], bool] | None = None
    ) -> Hospital | None:
        """The receiving hospital reached soonest, among those ``accept`` admits.

        The one rule for "the nearest receiving hospital" (a load nothing else fits, a
        secondary transfer, a self-presenter turned away at a closed door): ``travel`` is the
        minutes from the origin by node; ties go to the lowest hospital id; None when none
        that is accepted can be reached.
        """
        best: Hospital | None = None
        best_key: tuple[float, str] | None = None
        for h in self.model.receiving_hospitals:
            t = float(travel[h.node])
            if not math.isfinite(t) or (accept is not None and not accept(h)):
                continue
            if best_key is None or (t, h.hid) < best_key:
                best, best_key = h, (t, h.hid)
        return best

    def transfer(self, p: Patient, origin: Hospital, steps: tuple[Step, ...]) -> None:
        """Secondary transfer: ``origin`` cannot run ``steps``; the nearest that can takes over.

        An inter-hospital vehicle (not the incident fleet) leaves after
        ``hospital_care.transfer_delay_min``. Where no receiving hospital can run the first
        step, the patient stays, waiting, and the log says why.
        """
        m = self.model
        from_origin = m.region.travel_from(origin.node)
        target = self.nearest_receiving(
            from_origin, lambda h: h is not origin and h.offers(steps[0])
        )
        if target is None:
            p.record(
                EventKind.TRANSFER, hospital=origin.hid, detail=f"no hospital for {steps[0].name}"
            )
            return
        arrive = m.now + m.spec.hospital_care.transfer_delay_min + from_origin[target.node]
        p.pending_steps = steps
        trip = {
            "hospital": target.hid,
            "node": origin.node,
            "to_node": target.node,
            "arrive_min": arrive,
            "detail": f"from {origin.hid}",
        }
        if p.state is not PatientState.DEFINITIVE_CARE:
            p.set_care(m.spec.physiology.transport_care_factor)
            p.set_state(PatientState.IN_TRANSPORT, EventKind.TRANSFER, **trip)
        else:
            p.record(EventKind.TRANSFER, **trip)  # in care already: the state stays
        target.expect(1)
        m.schedule(arrive, Phase.ARRIVAL, self._transfer_arrival, p, target)

    def _transfer_arrival(self, p: Patient, h: Hospital) -> None:
        h.expect(-1)
        if p.state is not PatientState.DEAD:
            h.admit(p, how="transfer")
