"""Destination policies: to which hospital a loaded vehicle drives.

A destination policy is a pure function of the patients on board and the hospitals as seen
from the vehicle's position (:class:`HospitalView`); it returns a hospital id. Hospitals on
diversion are skipped by every built-in policy while any other hospital can be reached, and
adult-only hospitals are skipped for a load with a child. The load's *lead category* is the
most urgent tag on board (immediate before delayed before minor). Self-transported patients
never meet a destination policy: they go to the nearest hospital (SCIENCE.md §3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from mcsim.enums import TriageTag
from mcsim.physiology import PhysiologyParams, survival_probability_scalar
from mcsim.policies.quotas import parse_quotas
from mcsim.policies.registry import PolicyKind, register
from mcsim.policies.views import DestinationContext, HospitalView, PatientView

_ORDER = (TriageTag.IMMEDIATE, TriageTag.DELAYED, TriageTag.MINOR, TriageTag.EXPECTANT)


class NoHospitalFor(LookupError):
    """No hospital the policy was shown can take this load.

    None is reachable, or none takes a child (or an adult). The model then looks further (every
    receiving hospital), and failing that takes the nearest reachable one; a policy raises it,
    or returns ``None``, rather than guess.
    """


def _reachable(hospitals: Sequence[HospitalView], patients: Sequence[PatientView]):
    child = any(p.is_child for p in patients)
    adult = not all(p.is_child for p in patients)
    inf = math.inf
    ok = [
        h
        for h in hospitals
        if h.travel_min != inf
        and (h.accepts_children or not child)
        and (h.accepts_adults or not adult)
    ]
    open_ = [h for h in ok if not h.on_diversion]
    return open_ or ok


def _nearest_of(candidates: Sequence[HospitalView]) -> str:
    """The shortest drive; ties go to the one listed first."""
    if not candidates:
        raise NoHospitalFor("no hospital shown can take this load")
    best = candidates[0]
    best_min = best.travel_min
    for h in candidates:
        if h.travel_min < best_min:  # strictly: the first of equals stays
            best, best_min = h, h.travel_min
    return best.id


def lead_tag(patients: Sequence[PatientView]) -> TriageTag:
    """The most urgent tag on board (minor for an empty or untagged load)."""
    for tag in _ORDER:
        if any(p.tag is tag for p in patients):
            return tag
    return TriageTag.MINOR


@register(
    PolicyKind.DESTINATION,
    "nearest",
    "The hospital with the shortest drive (skipping hospitals on diversion while another is "
    "open, and adult-only hospitals for children).",
)
def nearest(patients: Sequence[PatientView], hospitals: Sequence[HospitalView]) -> str:
    """Nearest hospital by travel time; ties go to the hospital listed first."""
    return _nearest_of(_reachable(hospitals, patients))


def _has_room(h: HospitalView, tag: TriageTag) -> bool:
    """A free resus bay *and* a free trauma team for an immediate patient, else an ED bed."""
    if tag is TriageTag.IMMEDIATE:
        return h.free_resus_bays > 0 and h.free_trauma_teams > 0
    return h.free_ed_beds > 0


@register(
    PolicyKind.DESTINATION,
    "nearest_free",
    "Nearest hospital with a free bed for the lead category (a resus bay and a trauma team for "
    "immediate, an ED bed otherwise); the nearest when none has one.",
)
def nearest_free(patients: Sequence[PatientView], hospitals: Sequence[HospitalView]) -> str:
    """Nearest hospital with free capacity for the most urgent patient on board."""
    cand = _reachable(hospitals, patients)
    tag = lead_tag(patients)
    with_room = [h for h in cand if _has_room(h, tag)]
    return _nearest_of(with_room or cand)


@register(
    PolicyKind.DESTINATION,
    "trauma",
    "Trauma-level matching: a load with an immediate patient goes to the highest trauma level "
    "(lowest number) within reach_min, nearest among equals; other loads to the nearest.",
)
def trauma(
    patients: Sequence[PatientView],
    hospitals: Sequence[HospitalView],
    *,
    reach_min: float = 30.0,
) -> str:
    """P1 to the best trauma centre within reach (SCIENCE.md §6).

    Args:
        patients: the load.
        hospitals: the hospitals.
        reach_min: the longest drive acceptable for an immediate patient [assumption]; when no
            hospital is that close, the nearest.
    """
    cand = _reachable(hospitals, patients)
    if lead_tag(patients) is not TriageTag.IMMEDIATE:
        return _nearest_of(cand)
    within = [h for h in cand if h.travel_min <= reach_min]
    if not within:
        return _nearest_of(cand)
    best = min(h.trauma_level for h in within)
    return _nearest_of([h for h in within if h.trauma_level == best])


def meets_field_triage_steps_1_2(p: PatientView, *, walking_penetrating: bool = False) -> bool:
    """Whether ``p`` meets step 1 or 2 of the US field triage guidelines (Sasser 2012).

    Step 1 (physiology, as observed at triage): GCS <= 13, systolic pressure < 90 mmHg, or a
    respiratory rate below 10 or above 29; an untriaged patient counts by an immediate tag.
    Step 2 (anatomy): a penetrating injury of head, neck, torso or an extremity proximal to
    elbow or knee. mcsim knows the mechanism but not the wound's place, so it reads a
    penetrating casualty who cannot walk as meeting step 2, and a walking one as not unless
    ``walking_penetrating`` [assumption].
    """
    if p.tag is TriageTag.IMMEDIATE:
        return True
    if p.gcs >= 0 and p.gcs <= 13:
        return True
    if p.sbp >= 0 and p.sbp < 90:
        return True
    if p.rr >= 0 and (p.rr < 10 or p.rr > 29):
        return True
    return p.penetrating and (walking_penetrating or not p.walking)


@register(
    PolicyKind.DESTINATION,
    "field_triage",
    "US field triage guidelines (CDC 2011): a load with a patient meeting step 1 (deranged "
    "vitals) or step 2 (a penetrating wound in a patient who cannot walk) goes to the highest "
    "trauma level within reach_min that has room, other loads to the nearest hospital with "
    "room; past a full hospital only while another has room (with_room).",
)
def field_triage(
    patients: Sequence[PatientView],
    hospitals: Sequence[HospitalView],
    *,
    reach_min: float = 30.0,
    walking_penetrating: bool = False,
    with_room: bool = True,
) -> str:
    """Steps 1-2 to the best trauma centre within reach (Sasser et al., MMWR 2012;61(RR-1)).

    The guidelines send patients meeting steps 1 and 2 "preferentially to the highest level
    of care within the defined trauma system"; steps 3-4 (mechanism, special
    considerations) are not modelled, so every other load goes to the nearest hospital.
    In a shooting this sends most gunshot wounded who cannot walk to the trauma centres,
    where :func:`trauma` would send only the immediate ones. With ``with_room`` a hospital
    without room for the load's lead category (as :func:`nearest_free` counts it) is passed
    over while another candidate has room: in Las Vegas, UMC "was at capacity and cases were
    being sent to other hospitals such as Sunrise" (Washington Times, 2 Oct 2017).

    Args:
        patients: the load.
        hospitals: the hospitals.
        reach_min: the longest drive acceptable for a step 1-2 patient [assumption]; when no
            hospital is that close, the nearest.
        walking_penetrating: count a walking penetrating casualty as step 2 [assumption].
        with_room: pass over hospitals without room while another has room [assumption].
    """
    cand = _reachable(hospitals, patients)
    tag = lead_tag(patients)

    def roomy(hs: list[HospitalView]) -> list[HospitalView]:
        if not with_room:
            return hs
        return [h for h in hs if _has_room(h, tag)] or hs

    if not any(
        meets_field_triage_steps_1_2(p, walking_penetrating=walking_penetrating)
        for p in patients
    ):
        return _nearest_of(roomy(cand))
    within = roomy([h for h in cand if h.travel_min <= reach_min])
    if not within:
        return _nearest_of(roomy(cand))
    best = min(h.trauma_level for h in within)
    return _nearest_of([h for h in within if h.trauma_level == best])


@register(
    PolicyKind.DESTINATION,
    "balance",
    "Load balancing: the hospital with the least travel_min + wait_weight x expected wait (for "
    "a load with an immediate patient the wait for a resuscitation bay with a trauma team, "
    "then for a theatre with a surgical team), "
    "skipping hospitals with max_queue or more patients queueing (diversion threshold) while "
    "another is below it.",
)
def balance(
    patients: Sequence[PatientView],
    hospitals: Sequence[HospitalView],
    *,
    max_queue: int = 10,
    wait_weight: float = 1.0,
    resus_wait: bool = True,
    surgery_wait: bool = True,
) -> str:
    """Travel time plus expected wait, with a diversion threshold (Jat & Rafique 2020).

    An immediate patient waits for what resuscitation needs, a bay and a trauma team, so a
    load with one is weighed by ``expected_resus_wait_min``; counting a hospital's free ED
    beds as places to resuscitate made a one-bay hospital with a queue of critical patients
    look free (Paris 2015: the Bataclan's last wounded all went to the three hospitals next
    door, which had been resuscitating the terraces' for three hours). Then most of them
    need an operation, so the wait for a theatre with a surgical team is added to it.

    Args:
        patients: the load.
        hospitals: the hospitals.
        max_queue: how many patients may queue at a hospital before the next load goes
            elsewhere (the key trade-off, SCIENCE.md §6) [assumption: 10].
        wait_weight: weight of a minute of expected wait against a minute of driving.
        resus_wait: weigh an immediate load by the resuscitation wait; False weighs every
            load by the ED-bed wait, as this policy did up to mcsim 0.2.0.
        surgery_wait: add the wait for a theatre (``expected_surgery_wait_min``) to an
            immediate load's: most critical casualties need an operation after
            resuscitation, and a hospital can still have bays free when every theatre team is
            busy (Paris 2015 [PA13]). False: as up to mcsim 0.3.0.
    """
    cand = _reachable(hospitals, patients)
    below = [h for h in cand if h.queue_length < max_queue]
    pool = below or cand
    if not pool:
        raise NoHospitalFor("no hospital shown can take this load")
    immediate = lead_tag(patients) is TriageTag.IMMEDIATE
    resus = resus_wait and immediate
    theatre = surgery_wait and immediate

    def cost(ih: tuple[int, HospitalView]) -> tuple[float, int]:
        h = ih[1]
        wait = h.expected_resus_wait_min if resus else h.expected_wait_min
        if theatre:
            wait += h.expected_surgery_wait_min
        return h.travel_min + wait_weight * wait, ih[0]

    return min(enumerate(pool), key=cost)[1].id


_QUOTA_CACHE: dict[int, tuple[Any, dict]] = {}


def _parsed_quotas(quotas: dict | None) -> dict:
    """``parse_quotas`` once per table object (decisions reuse the same bound table)."""
    if not quotas:
        return {}
    hit = _QUOTA_CACHE.get(id(quotas))
    if hit is None or hit[0] is not quotas:
        if len(_QUOTA_CACHE) > 32:  # a long sweep builds many tables: keep the cache small
            _QUOTA_CACHE.clear()
        hit = (quotas, parse_quotas(quotas))
        _QUOTA_CACHE[id(quotas)] = hit
    return hit[1]


def _check_quota_params(values: dict[str, Any]) -> None:
    if values.get("quotas") is not None:
        parse_quotas(values["quotas"])


@register(
    PolicyKind.DESTINATION,
    "quota",
    "Pre-planned quota table (e.g. the Greater Manchester plan): the nearest hospital whose "
    "quota for the lead category is not yet used up (children's rows preferred for children); "
    "the nearest when every quota is used.",
    validate=_check_quota_params,
)
def quota(
    patients: Sequence[PatientView],
    hospitals: Sequence[HospitalView],
    *,
    quotas: dict | None = None,
) -> str:
    """Quota tables per hospital and category (see :mod:`mcsim.policies.quotas`).

    Args:
        patients: the load.
        hospitals: the hospitals (``assigned_by_tag`` counts what was sent so far).
        quotas: hospital id → ``{immediate, delayed, minor, max_age}``; hospitals not in the
            table have no quota. None: every hospital is treated as full (nearest).
    """
    table = _parsed_quotas(quotas)
    cand = _reachable(hospitals, patients)
    tag = lead_tag(patients)
    oldest = max((p.age for p in patients), default=99)

    def open_for(h: HospitalView) -> bool:
        row = table.get(h.id)
        if row is None or h.assigned(tag) >= row.quota(tag.value):
            return False
        return row.max_age is None or oldest <= row.max_age

    with_quota = [h for h in cand if open_for(h)]
    children_rows = [h for h in with_quota if table[h.id].max_age is not None]
    return _nearest_of(children_rows or with_quota or cand)


@register(
    PolicyKind.DESTINATION,
    "random",
    "Random baseline: a hospital drawn uniformly among those reachable (and not on diversion), "
    "from the lead patient's pre-drawn uniform (common random numbers).",
)
def random_hospital(patients: Sequence[PatientView], hospitals: Sequence[HospitalView]) -> str:
    """Uniformly random hospital; the draw is the first patient's ``u_destination``."""
    cand = _reachable(hospitals, patients)
    if not cand:
        raise NoHospitalFor("no hospital shown can take this load")
    u = patients[0].u_destination if patients else 0.0
    return cand[min(len(cand) - 1, int(u * len(cand)))].id


@register(
    PolicyKind.DESTINATION,
    "coordinated",
    "Central coordination: assigns the load and the patients still waiting at the scene to "
    "hospital slots minimising expected deaths (scipy linear_sum_assignment); the vehicle goes "
    "where its lead patient is assigned.",
)
def coordinated(
    patients: Sequence[PatientView],
    hospitals: Sequence[HospitalView],
    *,
    context: DestinationContext,
    physiology: PhysiologyParams,
    slot_min: float = 20.0,
    diversion_penalty: float = 1.0,
) -> str:
    """Minimise expected deaths over the load and the scene's waiting patients.

    Each patient (rows: the load, then the waiting patients with an observed RPM) is assigned
    to a slot (columns: hospital h, k-th patient sent there now). The k-th slot of h waits
    ``expected_wait_min`` plus ``slot_min`` for every patient beyond its free beds
    [assumption]. The cost of patient i in slot (h, k) is the probability of death
    ``1 - S(RPM after the drive and the wait)``, deteriorating from the observed RPM along the
    table at the transport and hospital-wait care factors; adult-only hospitals cost 2 for
    children, hospitals on diversion add ``diversion_penalty``, unreachable ones cost 3.

    Args:
        patients: the load.
        hospitals: the hospitals.
        context: the waiting patients and the care factors.
        physiology: the deterioration table and the survival curve.
        slot_min: extra wait per patient beyond the free beds [assumption].
        diversion_penalty: added cost of a slot at a hospital on diversion.
    """
    from scipy.optimize import linear_sum_assignment

    if not patients:
        return nearest(patients, hospitals)
    rows = list(patients) + [p for p in context.waiting if p.observed_rpm >= 0]
    n, hs = len(rows), list(hospitals)
    cost = np.empty((n, len(hs) * n))
    for j, h in enumerate(hs):
        free = h.free_resus_bays + h.free_ed_beds
        for k in range(n):
            wait = h.expected_wait_min + max(0, k + 1 - free) * slot_min
            col = j * n + k
            for i, p in enumerate(rows):
                if math.isinf(h.travel_min):
                    cost[i, col] = 3.0
                    continue
                eff = h.travel_min * context.care_factor_transport + wait * context.care_factor_wait
                rpm = min(12, max(0, p.observed_rpm if p.observed_rpm >= 0 else 12))
                later = physiology.curve(rpm).value(eff)
                c = 1.0 - survival_probability_scalar(physiology, later)
                if (p.is_child and not h.accepts_children) or (
                    not p.is_child and not h.accepts_adults
                ):
                    c += 2.0
                if h.on_diversion:
                    c += diversion_penalty
                cost[i, col] = c
    row_ind, col_ind = linear_sum_assignment(cost)
    lead = int(col_ind[list(row_ind).index(0)])
    return hs[lead // n].id
