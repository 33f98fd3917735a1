"""Hospital resources and care pathways are data (issue 14, item 2): a study adds a CT scanner
with one resource entry and one pathway step, without editing mcsim."""

from __future__ import annotations

import mcsim
from mcsim.agents.pathways import DEFAULT_PATHWAYS, ICU, RESUSCITATION, SURGERY, Step
from mcsim.enums import CareNeed, EventKind
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data

CT = Step(
    "ct",
    ("ct_scanners",),
    "resus_min",  # the scan takes as long as a resuscitation, for the test
    care_factor="resus_care_factor",
    start_kind=EventKind.QUEUE,
    end_kind=EventKind.QUEUE,
)


def _run(ct_scanners: int):
    data = small_scenario_data(casualties=120, self_transport_share=0.0)
    for h in data["hospitals"]:
        h["resources"] = {"ct_scanners": ct_scanners}
    pathways = {**DEFAULT_PATHWAYS, CareNeed.CRITICAL_SURGICAL: (RESUSCITATION, CT, SURGERY, ICU)}
    m = mcsim.MCIModel(parse_scenario(data), 3, pathways=pathways)
    m.run()
    return m, m.result()


def test_a_ct_scanner_is_one_resource_entry_and_one_pathway_step():
    m, r = _run(ct_scanners=1)
    ev, p = r.events, r.patients
    queued_for_ct = ev[(ev["kind"] == EventKind.QUEUE.value) & (ev["detail"].astype(str) == "ct")]
    surgical = p[
        (p["care_need"].astype(str) == "critical_surgical") & p["definitive_care_min"].notna()
    ]
    assert len(surgical) > 0
    # every operated critical patient went through the scanner first
    assert set(surgical["patient"]) <= set(queued_for_ct["patient"])
    for h in m.hospital_list:
        assert h.capacity["ct_scanners"] == 1
        assert h.free["ct_scanners"] == 1 - sum(
            1 for q in m.patients for hh, rr in q.held if hh is h and rr == "ct_scanners"
        )


def test_a_hospital_without_the_scanner_transfers_those_who_need_it():
    m, r = _run(ct_scanners=0)
    transfers = r.events[r.events["kind"] == EventKind.TRANSFER.value]
    assert len(transfers) > 0
    assert transfers["detail"].astype(str).str.startswith("no hospital for ct").all()


def test_every_resource_of_a_pathway_is_back_at_its_start_after_the_last_discharge():
    """With time to discharge everyone, each unit taken along a pathway (CT too) is given back.

    The end state of the ledger that ``check_invariants`` keeps at every event: nobody holds
    anything and every resource has its full capacity free again (no pre-incident occupants).
    """
    data = small_scenario_data(casualties=120, self_transport_share=0.0)
    data["duration_min"] = 5000
    data["hospital_care"] = {"icu_stay_min": 300.0}
    for h in data["hospitals"]:
        h["resources"] = {"ct_scanners": 1}
        h["occupied"] = {}
    pathways = {**DEFAULT_PATHWAYS, CareNeed.CRITICAL_SURGICAL: (RESUSCITATION, CT, SURGERY, ICU)}
    m = mcsim.MCIModel(parse_scenario(data), 3, pathways=pathways)
    m.run()
    ev = m.result().events
    assert (ev["kind"] == EventKind.ICU_DISCHARGE.value).any()  # the whole pathway was run
    assert all(p.held == [] for p in m.patients)
    for h in m.hospital_list:
        assert h.free == h.capacity, f"{h.hid}: {h.free} free of {h.capacity}"
