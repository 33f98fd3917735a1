"""Destination policies on hand-built situations, Greater Manchester quotas and diversion."""

from __future__ import annotations

from collections import Counter

import pytest

from mcsim.enums import TriageTag
from mcsim.errors import InputError
from mcsim.physiology import PhysiologyParams
from mcsim.policies import default_registry
from mcsim.policies.destination import (
    balance,
    coordinated,
    field_triage,
    lead_tag,
    meets_field_triage_steps_1_2,
    nearest,
    nearest_free,
    quota,
    random_hospital,
    trauma,
)
from mcsim.policies.quotas import GREATER_MANCHESTER, parse_quotas
from mcsim.policies.views import DestinationContext, HospitalView, PatientView

IMM, D, M = TriageTag.IMMEDIATE, TriageTag.DELAYED, TriageTag.MINOR
PHYS = PhysiologyParams()
INF = float("inf")


def pv(tag: TriageTag = IMM, *, age: int = 30, rpm: int = 6, u: float = 0.0, pid: int = 0):
    """A patient on board."""
    return PatientView(
        id=pid,
        tag=tag,
        age=age,
        walking=tag is M,
        rr=16,
        pulse=80,
        sbp=120,
        gcs=15,
        triaged_min=0.0,
        observed_rpm=rpm,
        u_destination=u,
    )


def hv(
    hid: str,
    travel: float,
    *,
    level: int = 3,
    children: bool = True,
    adults: bool = True,
    diversion: bool = False,
    resus: int = 1,
    ed: int = 1,
    queue: int = 0,
    wait: float = 0.0,
    resus_wait: float | None = None,
    surgery_wait: float = 0.0,
    assigned: dict[str, int] | None = None,
) -> HospitalView:
    """A hospital seen from the vehicle."""
    return HospitalView(
        id=hid,
        node=0,
        travel_min=travel,
        trauma_level=level,
        accepts_children=children,
        on_diversion=diversion,
        free_resus_bays=resus,
        free_ed_beds=ed,
        free_icu_beds=1,
        queue_length=queue,
        patients_received=0,
        expected_wait_min=wait,
        assigned_by_tag=assigned or {},
        accepts_adults=adults,
        expected_resus_wait_min=wait if resus_wait is None else resus_wait,
        expected_surgery_wait_min=surgery_wait,
    )


def test_lead_tag_is_the_most_urgent_on_board() -> None:
    """Immediate before delayed before minor."""
    assert lead_tag([pv(M), pv(IMM), pv(D)]) is IMM
    assert lead_tag([pv(M), pv(D)]) is D
    assert lead_tag([]) is M


def test_nearest_skips_diversion_and_adult_only_for_children() -> None:
    """Nearest open hospital; a child skips adult-only hospitals; all diverted → nearest."""
    hs = [hv("a", 5, diversion=True), hv("b", 8, children=False), hv("c", 12), hv("d", INF)]
    assert nearest([pv()], hs) == "b"
    assert nearest([pv(age=6)], hs) == "c"
    assert nearest([pv()], [hv("a", 5, diversion=True), hv("b", 8, diversion=True)]) == "a"
    assert nearest([pv()], [hv("x", 4), hv("y", 4)]) == "x"  # ties: listed first


def test_nearest_free_needs_a_resus_bay_for_immediate_and_an_ed_bed_otherwise() -> None:
    """The nearest with room for the lead category; nearest when none has room."""
    hs = [hv("a", 5, resus=0, ed=3), hv("b", 9, resus=1, ed=0), hv("c", 20, resus=2, ed=2)]
    assert nearest_free([pv(IMM)], hs) == "b"
    assert nearest_free([pv(D)], hs) == "a"
    full = [hv("a", 5, resus=0, ed=0), hv("b", 9, resus=0, ed=0)]
    assert nearest_free([pv(IMM)], full) == "a"


def test_trauma_matching_sends_p1_to_the_best_level_within_reach() -> None:
    """Immediate → lowest trauma level within reach_min (edge included); others → nearest."""
    hs = [hv("community", 4, level=3), hv("unit", 12, level=2), hv("centre", 30, level=1)]
    assert trauma([pv(IMM)], hs) == "centre"  # exactly at reach_min = 30
    assert trauma([pv(IMM)], hs, reach_min=29.9) == "unit"
    assert trauma([pv(IMM)], hs, reach_min=3) == "community"  # nothing in reach: nearest
    assert trauma([pv(D), pv(M)], hs) == "community"
    two_centres = [hv("far1", 25, level=1), hv("near1", 20, level=1), hv("c", 2)]
    assert trauma([pv(IMM)], two_centres) == "near1"


def _gunshot(tag: TriageTag, *, walking: bool, sbp: int = 120, gcs: int = 15, rr: int = 16):
    """A penetrating casualty as the crew saw them."""
    return PatientView(
        id=0,
        tag=tag,
        age=30,
        walking=walking,
        rr=rr,
        pulse=90,
        sbp=sbp,
        gcs=gcs,
        triaged_min=0.0,
        observed_rpm=10,
        penetrating=True,
    )


def test_field_triage_steps_one_and_two_read_vitals_and_mechanism() -> None:
    """Step 1: GCS <= 13, SBP < 90, RR < 10 or > 29 (or an immediate tag); step 2: a penetrating
    wound in a casualty who cannot walk; a blunt delayed casualty with normal vitals meets
    neither; a walking gunshot wound only when asked for."""
    blunt = pv(D)
    assert not meets_field_triage_steps_1_2(blunt)
    assert meets_field_triage_steps_1_2(pv(IMM))
    for vitals in ({"gcs": 13}, {"sbp": 89}, {"rr": 9}, {"rr": 30}):
        one = _gunshot(D, walking=True, **vitals)
        assert meets_field_triage_steps_1_2(one), vitals
    assert not meets_field_triage_steps_1_2(_gunshot(D, walking=True, gcs=14, sbp=90, rr=29))
    assert meets_field_triage_steps_1_2(_gunshot(D, walking=False))
    assert not meets_field_triage_steps_1_2(_gunshot(M, walking=True))
    assert meets_field_triage_steps_1_2(_gunshot(M, walking=True), walking_penetrating=True)


def test_field_triage_sends_gunshot_wounded_to_the_best_trauma_centre_with_room() -> None:
    """A delayed gunshot casualty goes where trauma() sends only immediate ones (the best
    trauma level within reach); a full centre is passed for the next level while one has room,
    and kept when none has; other loads go to the nearest hospital with room."""
    hs = [hv("community", 4, level=3), hv("unit", 12, level=2), hv("centre", 20, level=1)]
    shot = _gunshot(D, walking=False)
    assert trauma([shot], hs) == "community"
    assert field_triage([shot], hs) == "centre"
    assert field_triage([shot], hs, reach_min=15) == "unit"
    assert field_triage([pv(D)], hs) == "community"
    full_centre = [
        hv("community", 4, level=3),
        hv("unit", 12, level=2),
        hv("centre", 20, level=1, ed=0),
    ]
    assert field_triage([shot], full_centre) == "unit"
    assert field_triage([shot], full_centre, with_room=False) == "centre"
    all_full = [hv("unit", 12, level=2, ed=0), hv("centre", 20, level=1, ed=0)]
    assert field_triage([shot], all_full) == "centre"
    community_full = [hv("community", 4, level=3, ed=0), hv("other", 6, level=3)]
    assert field_triage([pv(D)], community_full) == "other"


def test_balance_trades_travel_against_expected_wait_with_a_diversion_threshold() -> None:
    """Least travel + wait; a hospital with max_queue patients queueing is skipped."""
    hs = [hv("near", 5, wait=30, queue=3), hv("far", 20, wait=0)]
    assert balance([pv()], hs) == "far"  # 35 > 20
    assert balance([pv()], hs, wait_weight=0.4) == "near"  # 17 < 20
    assert balance([pv(D)], hs) == "far"
    crowded = [hv("near", 5, queue=10), hv("far", 20)]
    assert balance([pv()], crowded) == "far"  # queue == max_queue: skipped
    assert balance([pv()], [hv("near", 5, queue=9), hv("far", 20)]) == "near"
    everyone = [hv("near", 5, queue=12), hv("far", 20, queue=11)]
    assert balance([pv()], everyone) == "near"  # all over the threshold: best of them


def test_balance_weighs_an_immediate_load_by_the_resuscitation_wait() -> None:
    """A load led by an immediate patient is weighed by the wait for a bay with a team.

    ``near`` has free ED beds (no ED wait) but a queue for its one resuscitation bay; the
    immediate load goes ``far``, a delayed load still ``near``; ``resus_wait=False`` weighs
    every load by the ED wait, as the policy first did.
    """
    hs = [hv("near", 5, wait=0, resus_wait=80, queue=2), hv("far", 15, wait=0, resus_wait=0)]
    assert balance([pv(IMM)], hs) == "far"  # 5 + 80 > 15
    assert balance([pv(D), pv(IMM)], hs) == "far"  # the lead tag decides
    assert balance([pv(D)], hs) == "near"  # an ED bed is free there
    assert balance([pv(IMM)], hs, resus_wait=False) == "near"


def test_balance_adds_the_theatre_wait_to_an_immediate_load() -> None:
    """Bays free but every theatre team busy: an immediate load (most need an operation after
    resuscitation) goes to the hospital that can operate, a delayed load still to the nearer;
    ``surgery_wait=False`` weighs the immediate load without the theatres, as up to 0.3.0."""
    hs = [hv("near", 5, surgery_wait=60, queue=3), hv("far", 12)]
    assert balance([pv(IMM)], hs) == "far"  # 5 + 0 + 60 > 12
    assert balance([pv(D), pv(IMM)], hs) == "far"  # the lead tag decides
    assert balance([pv(D)], hs) == "near"  # a delayed patient's care starts in the ED
    assert balance([pv(IMM)], hs, surgery_wait=False) == "near"
    # the two waits add: a free theatre does not make a busy resuscitation bay free
    hs = [hv("near", 5, resus_wait=30), hv("far", 12, surgery_wait=30)]
    assert balance([pv(IMM)], hs) == "near"  # 5 + 30 < 12 + 30
    hs = [hv("near", 5, resus_wait=30, surgery_wait=10), hv("far", 12, surgery_wait=30)]
    assert balance([pv(IMM)], hs) == "far"  # 5 + 30 + 10 > 12 + 30


def test_random_baseline_draws_uniformly_from_the_open_hospitals() -> None:
    """The lead patient's uniform picks the hospital; hospitals on diversion are skipped."""
    hs = [hv("a", 5), hv("b", 9, diversion=True), hv("c", 12), hv("d", 3)]
    assert random_hospital([pv(u=0.0)], hs) == "a"
    assert random_hospital([pv(u=0.34)], hs) == "c"
    assert random_hospital([pv(u=0.9999)], hs) == "d"
    counts = Counter(random_hospital([pv(u=k / 300)], hs) for k in range(300))
    assert counts == {"a": 100, "c": 100, "d": 100}


def test_coordinated_keeps_the_near_bay_for_the_critical_patient_still_waiting() -> None:
    """Central assignment sends a stable load further to keep a bay for a waiting RPM 6."""
    load = [pv(D, rpm=9, pid=1)]
    waiting = (pv(IMM, rpm=6, pid=2),)
    hs = [hv("near", 5, resus=1, ed=0), hv("far", 30, resus=1, ed=0)]
    c = DestinationContext(waiting=waiting)
    assert nearest(load, hs) == "near"
    assert coordinated(load, hs, context=c, physiology=PHYS, slot_min=200) == "far"
    # With nobody else waiting the load takes the near bay itself.
    alone = DestinationContext()
    assert coordinated(load, hs, context=alone, physiology=PHYS, slot_min=200) == "near"


def test_coordinated_avoids_a_long_expected_wait() -> None:
    """A critical load goes 15 min further rather than wait two hours for a bed."""
    hs = [hv("swamped", 5, resus=0, ed=0, wait=120), hv("free", 20)]
    c = DestinationContext()
    assert coordinated([pv(IMM, rpm=6)], hs, context=c, physiology=PHYS) == "free"


def gm_hospitals(assigned: dict[str, Counter]) -> list[HospitalView]:
    """The Greater Manchester receiving hospitals at made-up distances, with their counters."""
    travel = {
        "salford": 8,
        "mri": 5,
        "wythenshawe": 15,
        "rmch": 6,
        "oldham": 18,
        "stepping_hill": 16,
        "wigan": 25,
        "bolton": 20,
        "tameside": 14,
        "north_manchester": 7,
        "rochdale": 22,
        "fairfield": 19,
    }
    return [
        hv(h, t, level=1 if h in ("salford", "mri") else 2, assigned=dict(assigned[h]))
        for h, t in travel.items()
    ]


def send(patients: list[PatientView], assigned: dict[str, Counter], quotas=GREATER_MANCHESTER):
    """Apply the quota policy once and count the assignment, as the model does."""
    hid = quota(patients, gm_hospitals(assigned), quotas=quotas)
    for p in patients:
        assigned[hid][p.tag.value] += 1
    return hid


def test_greater_manchester_p1_quotas_are_honoured_until_full() -> None:
    """Adult P1: MRI, Salford, Wythenshawe take 20 each (nearest first), then the nearest."""
    assigned: dict[str, Counter] = {h: Counter() for h in GREATER_MANCHESTER}
    order = [send([pv(IMM)], assigned) for _ in range(70)]
    assert order[:20] == ["mri"] * 20
    assert order[20:40] == ["salford"] * 20
    assert order[40:60] == ["wythenshawe"] * 20
    assert order[60:] == ["mri"] * 10  # every P1 quota used: the nearest hospital
    assert assigned["rmch"]["immediate"] == 0  # the children's hospital took no adult


def test_greater_manchester_children_go_to_the_childrens_hospital_first() -> None:
    """P1 children (< 12 y) fill RMCH's 20 places first, then adult centres' quotas."""
    assigned: dict[str, Counter] = {h: Counter() for h in GREATER_MANCHESTER}
    order = [send([pv(IMM, age=7)], assigned) for _ in range(21)]
    assert order[:20] == ["rmch"] * 20
    assert order[20] == "mri"
    assert send([pv(IMM, age=12)], assigned) == "mri"  # 12 is too old for RMCH's row


def test_greater_manchester_p2_and_p3_quotas() -> None:
    """P2: Stepping Hill, Oldham (15 each), Bolton 10, Wigan 15; P3 fills 120 places."""
    assigned: dict[str, Counter] = {h: Counter() for h in GREATER_MANCHESTER}
    p2 = Counter(send([pv(D)], assigned) for _ in range(55))
    assert p2 == {"stepping_hill": 15, "oldham": 15, "bolton": 10, "wigan": 15}
    p3 = Counter(send([pv(M)], assigned) for _ in range(120))
    assert p3 == {
        "north_manchester": 30,
        "tameside": 40,
        "fairfield": 20,
        "bolton": 20,
        "rochdale": 10,
    }
    assert send([pv(M)], assigned) == "mri"  # all used: nearest


def test_quota_table_is_validated_with_the_hospital_named() -> None:
    """A bad row is a ValueError naming the hospital and key; from a scenario an InputError."""
    with pytest.raises(ValueError, match="quotas.x.delayed"):
        parse_quotas({"x": {"delayed": -1}})
    with pytest.raises(ValueError, match="unknown key"):
        parse_quotas({"x": {"p1": 3}})
    pol = default_registry().get("destination", "quota")
    with pytest.raises(InputError, match="quotas.x"):
        pol.check_params({"quotas": {"x": {"immediate": "many"}}}, path="policies.params")


def _policy_and_kwargs(name: str, hospitals: tuple[str, ...]):
    """Destination policy ``name`` and the arguments it needs (a quota of 5 immediate each)."""
    pol = default_registry().get("destination", name)
    kw: dict = {}
    if "context" in pol.injected:
        kw["context"] = DestinationContext()
    if "physiology" in pol.injected:
        kw["physiology"] = PHYS
    if name == "quota":
        kw["quotas"] = {h: {"immediate": 5} for h in hospitals}
    return pol, kw


@pytest.mark.parametrize(
    "name",
    [
        "nearest",
        "nearest_free",
        "trauma",
        "field_triage",
        "balance",
        "quota",
        "random",
        "coordinated",
    ],
)
def test_every_destination_policy_respects_diversion(name: str) -> None:
    """A hospital on diversion is not chosen while another can be reached, by any policy."""
    pol, kw = _policy_and_kwargs(name, ("diverted", "open"))
    hs = [hv("diverted", 3, level=1, diversion=True, resus=3, ed=3), hv("open", 25, level=3)]
    for u in (0.0, 0.5, 0.99):
        assert pol.func([pv(IMM, u=u)], hs, **kw) == "open"


@pytest.mark.parametrize(
    "name",
    [
        "nearest",
        "nearest_free",
        "trauma",
        "field_triage",
        "balance",
        "quota",
        "random",
        "coordinated",
    ],
)
def test_no_destination_policy_sends_an_adult_to_a_childrens_hospital(name: str) -> None:
    """A children's hospital (accepts_adults false) gets no adult while another is reachable;
    a child may still go there."""
    pol, kw = _policy_and_kwargs(name, ("kids", "adult"))
    hs = [hv("kids", 2, level=1, adults=False, resus=3, ed=3), hv("adult", 25, level=3)]
    for u in (0.0, 0.5, 0.99):
        assert pol.func([pv(IMM, u=u)], hs, **kw) == "adult"
        assert pol.func([pv(IMM, u=u), pv(D, age=7, pid=1)], hs, **kw) == "adult"
    if name in ("nearest", "trauma"):
        assert pol.func([pv(IMM, age=7)], hs, **kw) == "kids"
