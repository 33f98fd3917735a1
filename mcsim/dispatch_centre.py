"""The dispatch centre: the EMS alert, which vehicle goes where, which hospital receives whom.

Why a module of its own: dispatch and destination decisions are where the policies meet the
live model, and the views they are shown (:mod:`mcsim.policies.views`) are built here from the
agents, so that what a policy may see and how its answer is checked sit side by side.
:class:`DispatchCentre` is one per model (``MCIModel.dispatch_centre``); the fleet, the
receiving hospitals and the policies themselves stay on the model, where exercise injects change
them. Its events are phases 2, 5 and 6 of the order listed in :mod:`mcsim.model`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mcsim import physiology as phys
from mcsim.agents.staff import Staff
from mcsim.enums import EventKind, Phase, Resource, StaffRole, VehicleState
from mcsim.policies.destination import NoHospitalFor
from mcsim.policies.views import DestinationContext, HospitalView, PatientView, VehicleView
from mcsim.scene import Scene

# Enum members looked up once: hospital_view runs for every candidate of every departure, and
# an enum attribute access costs more than the dict lookup it feeds.
_RESUS, _ED, _ICU = Resource.RESUS_BAY, Resource.ED_BED, Resource.ICU_BED
_TEAM, _SURGICAL, _OR = Resource.TEAM, Resource.SURGICAL_TEAM, Resource.OPERATING_ROOM

if TYPE_CHECKING:
    from mcsim.agents.ambulance import Ambulance
    from mcsim.agents.hospital import Hospital
    from mcsim.agents.patient import Patient
    from mcsim.model import MCIModel


class DispatchCentre:
    """Sends vehicles and scene staff, and chooses destinations, by the model's policies.

    Args:
        model: the model whose fleet, hospitals and policies this works with.
    """

    def __init__(self, model: MCIModel) -> None:
        self.model = model
        self._conveying_of: list[Hospital] | None = None  # see conveying_hospitals
        # (None after a change of the reserve: the list is then rebuilt)
        self._conveying: list[Hospital] = []
        # destination_candidates: per hospital list (keyed by its id, holding it), the nodes and
        # the answer per travel array (keyed by the id of the read-only, cached array and
        # holding it, so an id is never reused while its entry lives; also hospital_views)
        self._candidates: dict[
            int, tuple[list[Hospital], np.ndarray, dict[int, tuple[np.ndarray, list[Hospital]]]]
        ] = {}
        self._minutes: dict[tuple[int, int], tuple[list[Hospital], np.ndarray, list[float]]] = {}

    # ================================================================ vehicles

    def alert_ems(self, scene: Scene) -> None:
        """EMS is alerted: scene staff leave the nearest station; ambulances are dispatched."""
        m = self.model
        resp = m.spec.response
        to_scene = m.region.travel_to(scene.node)
        station_ids = list(m.station_nodes)
        nearest = min(
            station_ids, key=lambda s: (to_scene[m.station_nodes[s]], station_ids.index(s))
        )
        home = m.station_nodes[nearest]
        roles = [StaffRole.TRIAGE_OFFICER] * resp.triage_officers
        roles += [StaffRole.PARAMEDIC] * resp.paramedics
        for role in roles:
            s = Staff(m, len(m.staff), role, home)
            m.staff.append(s)
            s.send_to_scene(scene)
        scene.alerted = True
        # After every alert of this minute: scenes alerted together share the fleet by need.
        m.schedule(m.now, Phase.DECISION, self.dispatch_round)

    def dispatch_round(self) -> None:
        """Send free vehicles to the scenes in proportion to their need, one at a time.

        Each vehicle goes to the alerted scene with unmet need whose patients needing a seat,
        per seat already sent there plus one, are most (D'Hondt's rule; ties by scene order), so
        that two bomb sites share the fleet by need instead of the first listed taking it all.
        Within a scene, the dispatch policy chooses which vehicle.
        """
        m = self.model
        select = m.dispatch_rule.select_vehicle
        scenes = [s for s in m.scenes if s.alerted]
        if not scenes or not m.free_vehicles:
            return
        views: dict[int, dict[int, VehicleView]] = {}
        refused: set[int] = set()
        while m.free_vehicles:
            best = None
            best_claim = 0.0
            for i, scene in enumerate(scenes):
                if scene.demand - scene.committed_capacity <= 0 or i in refused:
                    continue
                # Proportional to need (D'Hondt): patients waiting per seat already sent + 1.
                claim = scene.demand / (scene.committed_capacity + 1)
                if claim > best_claim:
                    best, best_claim = i, claim
            if best is None:
                return
            scene = scenes[best]
            cand = views.get(best)
            if not cand:
                cand = views[best] = self._vehicle_candidates(scene)
            vid = select(list(cand.values()))
            if vid is None:
                refused.add(best)
                continue
            if vid not in cand:
                raise RuntimeError(
                    f"dispatch policy {m.policy_names['dispatch']!r} chose vehicle "
                    f"{vid}, which is not free"
                )
            for c in views.values():
                c.pop(vid, None)
            v = m.free_vehicles.pop(vid)
            v.dispatch(scene)

    def _vehicle_candidates(self, scene: Scene) -> dict[int, VehicleView]:
        """Views of the free vehicles nearest to ``scene`` (by travel time, then id).

        At most ``response.dispatch_candidates`` of them, in the order the free vehicles are
        kept, so that a dispatch decision does not cost a view of every vehicle in the region.
        """
        m = self.model
        free = m.free_vehicles
        k = m.spec.response.dispatch_candidates
        if len(free) > k:
            to_scene = m.region.travel_to(scene.node)
            vids = np.fromiter(free.keys(), dtype=np.int64, count=len(free))
            nodes = np.fromiter((v.node for v in free.values()), dtype=np.intp, count=len(free))
            order = np.lexsort((vids, to_scene[nodes]))[:k]
            chosen = set(vids[order].tolist())
            vehicles = [v for v in free.values() if v.vid in chosen]
        else:
            vehicles = list(free.values())
        to_scene = m.region.travel_to(scene.node)
        return {v.vid: self.vehicle_view(v, scene, to_scene) for v in vehicles}

    def vehicle_free(self, v: Ambulance) -> None:
        """A vehicle finished its handover or reached its station."""
        m = self.model
        m.free_vehicles[v.vid] = v
        self.dispatch_round()
        if v.vid in m.free_vehicles and v.state is VehicleState.AT_HOSPITAL:
            del m.free_vehicles[v.vid]
            v.return_to_station()

    # ================================================================ destinations

    def choose_destination(self, patients: list[Patient], origin: int) -> Hospital | None:
        """Apply the destination policy for ``patients`` leaving ``origin``.

        A load with nowhere to go is a fact of the day, never a crash: when the policy finds no
        hospital among the nearest candidates (``NoHospitalFor`` or ``None``), it is shown every
        receiving hospital; failing that the load goes to the nearest reachable hospital even if
        it does not take children or is on diversion (logged as a decision). ``None`` only when
        no receiving hospital can be reached at all.
        """
        m = self.model
        self._update_diversion()
        from_origin = m.region.travel_from(origin)
        candidates = self.destination_candidates(from_origin)
        hid = self._apply_destination_policy(patients, candidates, from_origin)
        conveying = self.conveying_hospitals()
        if hid is None and len(candidates) < len(conveying):
            hid = self._apply_destination_policy(patients, conveying, from_origin)
        if hid is None:
            h = m.hospital_system.nearest_receiving(from_origin)
            if h is None:
                return None
            m.log.add(
                m.now,
                EventKind.DECISION,
                hospital=h.hid,
                node=origin,
                detail="no hospital fits this load: the nearest reachable takes it",
            )
            hid = h.hid
        counts = m.assigned_by_tag[hid]
        for p in patients:
            tag = p.tag._value_
            counts[tag] = counts.get(tag, 0) + 1
        return m.hospitals[hid]

    def _apply_destination_policy(
        self, patients: list[Patient], hospitals: list[Hospital], from_origin: np.ndarray
    ) -> str | None:
        """The policy's choice among ``hospitals``, or ``None`` when it finds none."""
        m = self.model
        views = self.hospital_views(hospitals, from_origin)
        pviews = [self.patient_view(p) for p in patients]
        kw = m.destination_params
        if "context" in m.destination_needs:
            scene = patients[0].scene if patients else None
            lookahead = m.spec.response.loading_lookahead
            waiting = scene.waiting_heads(lookahead) if scene is not None else []
            physio = m.spec.physiology
            kw = dict(
                kw,
                context=DestinationContext(
                    now_min=m.now,
                    waiting=tuple(self.patient_view(p) for p in waiting),
                    care_factor_transport=physio.transport_care_factor,
                    care_factor_wait=physio.hospital_wait_care_factor,
                ),
            )
        try:
            hid = m.destination_policy(pviews, views, **kw)
        except NoHospitalFor:
            return None
        if hid is None:
            return None
        if hid not in m.hospitals:
            raise RuntimeError(
                f"destination policy {m.policy_names['destination']!r} chose unknown "
                f"hospital {hid!r}"
            )
        return hid

    def conveying_hospitals(self) -> list[Hospital]:
        """The receiving hospitals EMS convey to.

        Those whose ``receives_ambulances`` holds and that the scenario's ``policies.reserve``
        does not hold back; failing that, those receiving ambulances, reserve included (the
        reserve is for when nothing else is left); failing that, all receiving hospitals (a
        region of walk-in centres only, or all the others closed): a load still goes
        somewhere. The list is kept while the receiving list and the reserve stand (they
        change only when a hospital closes or reopens, or the reserve is replaced:
        :meth:`hold_in_reserve`).
        """
        receiving = self.model.receiving_hospitals
        if self._conveying_of is not receiving:
            self._conveying_of = receiving
            ems = [h for h in receiving if h.spec.receives_ambulances]
            reserve = self.model.reserve
            first = [h for h in ems if h.hid not in reserve]
            ems = first or ems
            # the receiving list itself when it is the same set, so caches keyed by it are shared
            self._conveying = ems if ems and len(ems) < len(receiving) else receiving
        return self._conveying

    def hold_in_reserve(self, hospitals: frozenset[str]) -> None:
        """Make ``hospitals`` the model's reserve; the conveying list is rebuilt at next use.

        The one place the reserve changes after set-up (an exercise decision,
        :meth:`Control.set_reserve`, or a timed release, :meth:`release_reserve`), so the
        list kept by :meth:`conveying_hospitals` cannot outlive it.
        """
        self.model.reserve = hospitals
        self._conveying_of = None

    def release_reserve(self, hid: str) -> None:
        """Open hospital ``hid`` to ambulances: its ``policies.reserve_until_min`` has come.

        EMS may convey there from the next destination decision on. Nothing happens when it is
        no longer held (an exercise decision replaced the reserve in between: the players'
        word stands).
        """
        m = self.model
        if hid not in m.reserve:
            return
        self.hold_in_reserve(m.reserve - {hid})
        m.log.add(
            m.now,
            EventKind.DECISION,
            hospital=hid,
            detail=f"reserve: {hid} released (policies.reserve_until_min)",
        )

    def destination_candidates(
        self, from_origin: np.ndarray, hospitals: list[Hospital] | None = None
    ) -> list[Hospital]:
        """The hospitals nearest to the origin, in scenario order.

        ``hospitals`` is the list to choose from: by default those EMS convey to
        (:meth:`conveying_hospitals`); self-presenters pass every receiving hospital. At most
        ``response.destination_candidates`` of them (ties by scenario order), so that a
        decision costs the same in a region with a hundred hospitals as with ten. The list is
        kept per origin: callers must not change it.
        """
        if hospitals is None:
            hospitals = self.conveying_hospitals()
        k = self.model.spec.response.destination_candidates
        if k <= 0 or len(hospitals) <= k:
            return hospitals
        entry = self._candidates.get(id(hospitals))
        if entry is None or entry[0] is not hospitals:
            if len(self._candidates) > 8:  # closures make new lists: keep the cache small
                self._candidates.clear()
            nodes = np.array([h.node for h in hospitals], dtype=np.intp)
            entry = (hospitals, nodes, {})
            self._candidates[id(hospitals)] = entry
        _, nodes, by_origin = entry
        # Vehicles leave from a few places (the scenes) again and again, and the travel arrays
        # are cached and read-only, replaced when a road closes: so is the answer.
        hit = by_origin.get(id(from_origin))
        if hit is not None and hit[0] is from_origin:
            return hit[1]
        nearest = np.argsort(from_origin[nodes], kind="stable")[:k]
        chosen = [hospitals[i] for i in sorted(nearest.tolist())]
        by_origin[id(from_origin)] = (from_origin, chosen)
        return chosen

    def _update_diversion(self) -> None:
        """Hospitals go on (or come off) diversion by the scenario's thresholds (hysteresis)."""
        m = self.model
        on_at = m.diversion_on_at
        if on_at is None:
            return
        for h in m.hospital_list:
            h.update_diversion(on_at, m.diversion_off_below)

    # ================================================================ what policies see

    def hospital_view(self, h: Hospital, travel_min: float) -> HospitalView:
        """What a destination policy knows of ``h``, ``travel_min`` away."""
        return self.hospital_views([h], np.array([travel_min]), [0])[0]

    def hospital_views(
        self,
        hospitals: list[Hospital],
        travel: np.ndarray,
        nodes: list[int] | None = None,
    ) -> list[HospitalView]:
        """What a destination policy knows of each of ``hospitals``.

        ``travel[nodes[i]]`` is the drive to ``hospitals[i]`` (``nodes`` defaults to the
        hospitals' nodes, for a ``travel`` array over every node). Built for every candidate
        hospital of every departure, hence one loop with everything it reads bound to locals,
        positional arguments, and :meth:`Hospital.queue_length`,
        :meth:`Hospital.expected_wait_min`, :meth:`Hospital.expected_resus_wait_min` and
        :meth:`Hospital.expected_surgery_wait_min` inlined (same arithmetic, same floats).
        """
        if nodes is None:
            key = (id(hospitals), id(travel))
            hit = self._minutes.get(key)
            if hit is not None and hit[0] is hospitals and hit[1] is travel:
                minutes = hit[2]
            else:
                minutes = travel[[h.node for h in hospitals]].tolist()
                if len(self._minutes) > 4096:  # lists of hospitals come and go: stay small
                    self._minutes.clear()
                self._minutes[key] = (hospitals, travel, minutes)
        else:
            minutes = travel[nodes].tolist()
        assigned = self.model.assigned_by_tag
        ed_serious_min = self.model.spec.hospital_care.ed_serious_min
        resus_min = self.model.spec.hospital_care.resus_min
        surgery_min = self.model.spec.hospital_care.surgery_min
        view = HospitalView
        views = []
        for h, travel_min in zip(hospitals, minutes, strict=True):
            free, cap, occ, queues = h.free, h.capacity, h.occupied, h.queues
            resus, ed, icu = free[_RESUS], free[_ED], free[_ICU]
            team, surgical = free[_TEAM], free[_SURGICAL]
            resus = resus if resus > 0 else 0
            ed = ed if ed > 0 else 0
            queued = h._queued  # Hospital.queue_length()
            bays = cap[_RESUS] - occ[_RESUS]
            ahead = queued + h.en_route - (resus + ed)
            if ahead <= 0:
                wait = 0.0
            else:  # Hospital.expected_wait_min(resus + ed)
                servers = bays + cap[_ED] - occ[_ED]
                wait = ahead * ed_serious_min / max(1, servers)
            # Hospital.expected_resus_wait_min()
            staffed = cap[_TEAM]
            if bays < staffed:
                staffed = bays
            if staffed <= 0:
                resus_wait = wait
            else:
                slots = resus if resus < team else team
                ahead = (
                    len(queues["resuscitation"])
                    + h.en_route_immediate
                    - (slots if slots > 0 else 0)
                )
                resus_wait = ahead * resus_min / staffed if ahead > 0 else 0.0
            # Hospital.expected_surgery_wait_min()
            surgery_wait = 0.0
            waiting = len(queues["surgery"])
            if waiting:
                theatres = cap[_OR] - occ[_OR]
                if cap[_SURGICAL] < theatres:
                    theatres = cap[_SURGICAL]
                if theatres > 0:
                    slots = free[_OR]
                    if surgical < slots:
                        slots = surgical
                    ahead = waiting - (slots if slots > 0 else 0)
                    if ahead > 0:
                        surgery_wait = ahead * surgery_min / theatres
            spec = h.spec
            views.append(
                view(
                    h.hid,
                    h.node,
                    travel_min,
                    h.trauma_level,
                    spec.accepts_children,
                    h.on_diversion,
                    resus,
                    ed,
                    icu if icu > 0 else 0,
                    queued,
                    h.received + h.en_route,
                    wait,
                    dict(assigned[h.hid]),
                    team if team > 0 else 0,
                    surgical if surgical > 0 else 0,
                    spec.accepts_adults,
                    resus_wait,
                    surgery_wait,
                )
            )
        return views

    def vehicle_view(
        self, v: Ambulance, scene: Scene, to_scene: np.ndarray | None = None
    ) -> VehicleView:
        """What the dispatcher knows of ``v`` for ``scene`` (``to_scene``: its travel_to)."""
        if to_scene is None:
            to_scene = self.model.region.travel_to(scene.node)
        return VehicleView(
            id=v.vid,
            type=v.vtype,
            capacity=v.capacity,
            node=v.node,
            travel_min_to_scene=float(to_scene[v.node]),
            station=v.station,
            untriaged_at_scene=scene.untriaged,
            minor_seats=self.model.strategy.minor_seats,
        )

    def patient_view(self, p: Patient) -> PatientView:
        """What responders know of ``p`` (cached until the patient is triaged again)."""
        o = p.observed
        cached = p.view_cache
        if cached is not None and cached.tag is p.tag and p.view_observed is o:
            return cached
        m = self.model
        p.view_observed = o
        p.view_cache = PatientView(
            id=p.pid,
            tag=p.tag,
            age=p.age,
            walking=o.walking if o else p.walking0,
            rr=o.rr if o else -1,
            pulse=o.pulse if o else -1,
            sbp=o.sbp if o else -1,
            gcs=o.gcs if o else -1,
            triaged_min=p.triaged_min,
            observed_rpm=phys.observed_rpm(o, m.spec.physiology) if o else -1,
            u_destination=m.destination_u[p.pid],
            child_age_below=m.spec.hospital_care.child_age_below,
            penetrating=p.penetrating,
        )
        return p.view_cache
