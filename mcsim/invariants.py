"""Consistency checks of a live model: the rules no event may ever break.

Used by the property tests after every event time, and available to anyone stepping a model by
hand (``problems = check_invariants(model)``). Each check names what broke, so a failing
hypothesis example says which rule and which agent.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mcsim.enums import WAITING_AT_SCENE, Outcome, PatientState, TriageTag, VehicleState

if TYPE_CHECKING:
    from mcsim.model import MCIModel

_UNTRIAGED = {PatientState.AWAITING_TRIAGE}
_IN_VEHICLE = {PatientState.LOADING, PatientState.IN_TRANSPORT}
_AT_HOSPITAL = {
    PatientState.AWAITING_CARE,
    PatientState.IN_RESUSCITATION,
    PatientState.DEFINITIVE_CARE,
}


def check_invariants(model: MCIModel) -> list[str]:
    """Every broken rule, as a sentence; an empty list when the model is consistent."""
    out: list[str] = []
    carried: dict[int, int] = {}
    for v in model.vehicles:
        all_minor = v.patients and all(p.tag is TriageTag.MINOR for p in v.patients)
        limit = max(v.capacity, model.strategy.minor_seats) if all_minor else v.capacity
        if len(v.patients) > limit:
            out.append(f"vehicle {v.vid} carries {len(v.patients)} > its limit {limit}")
        if v.state is VehicleState.AT_STATION and v.patients:
            out.append(f"vehicle {v.vid} is at its station with patients on board")
        for p in v.patients:
            if p.pid in carried:
                out.append(f"patient {p.pid} is in vehicles {carried[p.pid]} and {v.vid}")
            carried[p.pid] = v.vid
    for p in model.patients:
        s = p.state
        if not isinstance(s, PatientState):
            out.append(f"patient {p.pid} has no valid state ({s!r})")
            continue
        in_vehicle = p.pid in carried
        transferred = p.pending_steps is not None  # an inter-hospital vehicle, not the fleet
        if s in _IN_VEHICLE and not in_vehicle and not transferred:
            out.append(f"patient {p.pid} is {s} but in no vehicle")
        if (s in WAITING_AT_SCENE or s in _AT_HOSPITAL) and in_vehicle:
            out.append(f"patient {p.pid} is {s} and in vehicle {carried[p.pid]}")
        if s in _AT_HOSPITAL and not p.hospital:
            out.append(f"patient {p.pid} is {s} without a hospital")
        if (s is PatientState.DEAD) != (p.outcome is Outcome.DIED):
            out.append(f"patient {p.pid} state {s} disagrees with outcome {p.outcome}")
        if s is PatientState.DEAD and math.isnan(p.death_min):
            out.append(f"patient {p.pid} is dead without a time of death")
        if s is not PatientState.DEAD and p.death_min == p.death_min:
            out.append(f"patient {p.pid} has a time of death but is {s}")
        if s is PatientState.DEAD and p.held:
            out.append(f"dead patient {p.pid} still holds {p.held}")
    for h in model.hospital_list:
        occupied = h.occupied  # pre-incident occupants still in their beds
        spec_occ = h.spec.occupied.model_dump()
        for r, k in occupied.items():
            if not 0 <= k <= spec_occ.get(str(r), 0):
                out.append(f"hospital {h.hid} {r}: {k} pre-incident occupants of {spec_occ}")
        queued = sum(len(q) for q in h.queues.values())
        if h.queue_length() != queued:
            out.append(f"hospital {h.hid}: queue_length {h.queue_length()} but {queued} queued")
        held = dict.fromkeys(h.capacity, 0)
        for p in model.patients:
            for hh, r in p.held:
                if hh is h:
                    held[r] += 1
        for r, cap in h.capacity.items():
            free = h.free[r]
            # Below zero only while units lost to an exercise inject are still in use.
            low = -held[r] if h.capacity_lost.get(r) else 0
            if free < low or free > cap:
                out.append(f"hospital {h.hid} {r}: {free} free of {cap}")
            if held[r] != cap - occupied[r] - free:
                out.append(
                    f"hospital {h.hid} {r}: patients hold {held[r]} but "
                    f"{cap} - {occupied[r]} occupied - {free} free = {cap - occupied[r] - free}"
                )
    for scene in model.scenes:
        counted = sum(1 for p in scene.patients if p.in_demand)
        if scene.demand != counted or scene.demand < 0:
            out.append(f"scene {scene.id}: demand {scene.demand} but {counted} patients need it")
        untriaged = sum(1 for p in scene.patients if p.state in _UNTRIAGED)
        if scene.untriaged != untriaged:
            out.append(f"scene {scene.id}: untriaged {scene.untriaged} but {untriaged} patients")
        if scene.committed_capacity < 0:
            out.append(f"scene {scene.id}: negative committed capacity")
    times = model.log.times()
    for i in range(1, len(times)):
        if times[i] < times[i - 1]:
            out.append(f"event log goes back in time at row {i}: {times[i - 1]} → {times[i]}")
            break
    if times and times[-1] > model.now and not model.finished:
        out.append(f"event logged at {times[-1]} after the model's time {model.now}")
    return out
