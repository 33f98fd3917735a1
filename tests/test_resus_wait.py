"""The resuscitation- and theatre-wait estimates that ``balance`` weighs an immediate load by.

Resuscitation needs a bay and a trauma team, so a hospital whose one bay has a queue is not
free for an immediate patient however many ED beds it has. These tests check the estimate's
arithmetic, that the inlined copy destination policies see agrees with the hospital's own
method, and that the count of immediate patients announced en route stays consistent with
the vehicles actually on their way.
"""

from __future__ import annotations

import numpy as np
import pytest

from mcsim.enums import Resource, VehicleState
from mcsim.model import MCIModel
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data


def _model(casualties: int = 60, **kw) -> MCIModel:
    data = small_scenario_data(casualties)
    data["policies"] = {"triage": "start", "dispatch": "priority", "destination": "balance"}
    data.update(kw)
    return MCIModel(parse_scenario(data), 3)


def test_free_ed_beds_do_not_make_a_busy_resuscitation_bay_free() -> None:
    """Immediates announced beyond the free staffed bays wait resus_min each per staffed bay."""
    m = _model()
    h = m.hospitals["big"]
    resus_min = m.spec.hospital_care.resus_min
    staffed = min(
        h.capacity[Resource.RESUS_BAY] - h.occupied[Resource.RESUS_BAY], h.capacity[Resource.TEAM]
    )
    assert staffed == 2  # 3 bays, 2 teams on duty
    assert h.expected_resus_wait_min() == 0.0
    h.free[Resource.RESUS_BAY] = 0  # every bay busy ...
    assert h.view_free(Resource.ED_BED) > 0  # ... while ED beds are free
    h.expect(3, 3)
    assert h.expected_resus_wait_min() == pytest.approx(3 * resus_min / staffed)
    assert h.expected_wait_min() == 0.0  # the ED-bed estimate sees room
    h.free[Resource.RESUS_BAY] = 1  # one bay with a free team: one fewer ahead
    assert h.expected_resus_wait_min() == pytest.approx(2 * resus_min / staffed)
    h.free[Resource.TEAM] = 0  # a bay without a team is no place to resuscitate
    assert h.expected_resus_wait_min() == pytest.approx(3 * resus_min / staffed)


def test_the_theatre_wait_counts_the_surgery_queue_against_staffed_theatres() -> None:
    """Operations queued beyond the theatres free with a free surgical team wait surgery_min
    each per staffed theatre (theatres and surgical teams, whichever are fewer)."""
    m = _model()
    h = m.hospitals["big"]
    surgery_min = m.spec.hospital_care.surgery_min
    OR, SURG = Resource.OPERATING_ROOM, Resource.SURGICAL_TEAM
    h.capacity[OR], h.capacity[SURG] = 4, 2  # two teams for four theatres: two staffed
    h.free[OR], h.free[SURG] = 4, 2
    assert h.expected_surgery_wait_min() == 0.0  # nobody waiting
    queue = h.queues["surgery"]
    queue.extend((0, k, None) for k in range(3))  # three operations waiting, two can start
    assert h.expected_surgery_wait_min() == pytest.approx(1 * surgery_min / 2)
    h.free[SURG] = 0  # every team operating
    assert h.expected_surgery_wait_min() == pytest.approx(3 * surgery_min / 2)
    h.free[SURG] = 1  # one team free: one fewer ahead
    assert h.expected_surgery_wait_min() == pytest.approx(2 * surgery_min / 2)
    h.capacity[SURG] = 0  # no team at all: no theatre here, its surgical patients are moved
    assert h.expected_surgery_wait_min() == 0.0
    queue.clear()


def test_a_hospital_without_a_staffed_bay_reports_its_ed_wait() -> None:
    """No bay (or no team): resuscitation happens in ED beds, so the ED estimate applies."""
    m = _model()
    h = m.hospitals["big"]
    h.capacity[Resource.TEAM] = 0
    h.expect(20, 20)
    assert h.expected_wait_min() > 0
    assert h.expected_resus_wait_min() == h.expected_wait_min()


@pytest.mark.parametrize("until", [15.0, 30.0, 60.0, 120.0])
def test_policies_see_the_hospitals_own_estimate_and_en_route_counts_add_up(until) -> None:
    """The inlined view equals ``Hospital.expected_resus_wait_min``; announced immediates are
    those on board the vehicles heading to each hospital."""
    m = _model(120)
    m.run(until=until)
    travel = np.zeros(max(h.node for h in m.hospital_list) + 1)
    views = m.dispatch_centre.hospital_views(m.hospital_list, travel)
    for h, view in zip(m.hospital_list, views, strict=True):
        assert view.expected_resus_wait_min == h.expected_resus_wait_min()
        assert view.expected_surgery_wait_min == h.expected_surgery_wait_min()
        heading = [
            v for v in m.vehicles if v.state is VehicleState.TO_HOSPITAL and v.destination == h.hid
        ]
        assert h.en_route_immediate == sum(v.immediate_on_board for v in heading)
        assert 0 <= h.en_route_immediate <= h.en_route


def test_nothing_is_announced_once_every_vehicle_has_arrived() -> None:
    """At the horizon of a small incident every announcement has been taken back."""
    m = _model(40)
    m.run()
    assert all(v.state is not VehicleState.TO_HOSPITAL for v in m.vehicles)
    assert [h.en_route_immediate for h in m.hospital_list] == [0] * len(m.hospital_list)
    assert [h.en_route for h in m.hospital_list] == [0] * len(m.hospital_list)
