"""Defaults the docs call parameters are scenario parameters that the model really reads."""

from __future__ import annotations

from conftest import small_scenario_data

import mcsim
from mcsim.enums import TriageTag
from mcsim.model import MCIModel
from mcsim.policies.views import PatientView
from mcsim.scenario import parse_scenario


def _scenario(**response):
    data = small_scenario_data(60)
    data.setdefault("response", {}).update(response)
    return parse_scenario(data)


def test_triage_time_per_patient_is_response_triage_min_range():
    """Every patient's triage time lies in response.triage_min_range (default 0.5-1 min)."""
    default = MCIModel(_scenario(), 2)
    default.run(until=0)
    assert all(0.5 <= p.triage_service_min <= 1.0 for p in default.patients)
    slow = MCIModel(_scenario(triage_min_range=[2.0, 3.0]), 2)
    slow.run(until=0)
    assert all(2.0 <= p.triage_service_min <= 3.0 for p in slow.patients)
    assert [p.severity for p in slow.patients] == [p.severity for p in default.patients]


def test_a_dispatch_policy_sees_response_loading_lookahead_patients_per_tag():
    """The loading look-ahead bounds what a dispatch policy is shown (default 8 per tag)."""
    shown: list[int] = []
    m = MCIModel(_scenario(loading_lookahead=2), 1)
    rule = m.dispatch_rule
    original = rule.select_patients

    def spy(patients, vehicle):
        per_tag = max(sum(1 for p in patients if p.tag is t) for t in TriageTag)
        shown.append(per_tag)
        return original(patients, vehicle)

    object.__setattr__(rule, "select_patients", spy)
    m.run()
    assert shown and max(shown) <= 2
    assert _scenario().response.loading_lookahead == 8


def test_who_counts_as_a_child_is_hospital_care_child_age_below():
    """A 15-year-old is a child under the default 18 and an adult under 14."""
    view = PatientView(1, TriageTag.DELAYED, 15, False, 20, 90, 120, 15, 0.0, 10)
    assert view.is_child
    sc = parse_scenario({**small_scenario_data(10), "hospital_care": {"child_age_below": 14}})
    m = MCIModel(sc, 0)
    m.run(until=0)
    p = next(p for p in m.patients)
    assert m.dispatch_centre.patient_view(p).child_age_below == 14


def test_diversion_off_below_defaults_to_half_on_at_in_the_scenario():
    """off_below is filled in when the scenario is read: on_at // 2 unless given."""
    data = small_scenario_data(10)
    data["policies"] = {"diversion": {"on_at": 7}}
    assert parse_scenario(data).policies.diversion.off_below == 3
    data["policies"] = {"diversion": {"on_at": 7, "off_below": 5}}
    assert parse_scenario(data).policies.diversion.off_below == 5
    assert mcsim.load_scenario(mcsim.default_scenario_path()).policies.diversion.off_below is None
