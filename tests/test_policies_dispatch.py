"""Dispatch policies on hand-built scenes: whom a loading vehicle takes, and which vehicle goes."""

from __future__ import annotations

import pytest

from mcsim.enums import TriageTag, VehicleType
from mcsim.physiology import PhysiologyParams
from mcsim.policies import default_registry
from mcsim.policies.dispatch import by_priority, first_come, nearest_vehicle
from mcsim.policies.stm import salvage_gain, stm_order
from mcsim.policies.views import PatientView, VehicleView

IMM, D, M, X, DEAD = (
    TriageTag.IMMEDIATE,
    TriageTag.DELAYED,
    TriageTag.MINOR,
    TriageTag.EXPECTANT,
    TriageTag.DEAD,
)
PHYS = PhysiologyParams()


def pv(pid: int, tag: TriageTag, triaged: float, rpm: int = 10, age: int = 30) -> PatientView:
    """A waiting patient."""
    return PatientView(
        id=pid,
        tag=tag,
        age=age,
        walking=tag is M,
        rr=16,
        pulse=80,
        sbp=120,
        gcs=15,
        triaged_min=triaged,
        observed_rpm=rpm,
    )


def vv(
    vid: int = 0,
    capacity: int = 1,
    *,
    travel: float = 5.0,
    vtype: VehicleType = VehicleType.ALS,
    minor_seats: int = 0,
) -> VehicleView:
    """A vehicle."""
    return VehicleView(
        id=vid,
        type=vtype,
        capacity=capacity,
        node=0,
        travel_min_to_scene=travel,
        station="s",
        minor_seats=minor_seats,
    )


WAITING = [pv(1, M, 1.0), pv(2, D, 3.0), pv(3, IMM, 5.0), pv(4, D, 2.0), pv(5, IMM, 4.0)]


def test_priority_takes_the_first_triaged_immediate_alone() -> None:
    """Immediate before delayed, first triaged first; an immediate patient travels alone."""
    assert by_priority(WAITING, vv(capacity=4)) == [5]


def test_priority_fills_with_lower_categories_when_immediates_may_share() -> None:
    """Without ``immediate_alone`` the vehicle fills in priority then triage order."""
    assert by_priority(WAITING, vv(capacity=3), immediate_alone=False) == [5, 3, 4]


def test_priority_after_immediates_fills_delayed_then_minor_skipping_immediates() -> None:
    """A delayed lead fills the remaining seats with delayed, then minor patients."""
    waiting = [pv(1, M, 1.0), pv(2, D, 3.0), pv(4, D, 2.0)]
    assert by_priority(waiting, vv(capacity=3)) == [4, 2, 1]


def test_dead_and_untriaged_patients_are_never_loaded() -> None:
    """Only transportable tags are loaded (dead and untriaged are not)."""
    waiting = [pv(1, DEAD, 0.0), pv(2, TriageTag.UNTRIAGED, 0.0)]
    assert by_priority(waiting, vv(capacity=2)) == []
    assert first_come(waiting, vv(capacity=2)) == []


def test_expectant_go_last_under_priority() -> None:
    """Expectant patients are taken only after every other category."""
    waiting = [pv(1, X, 0.0), pv(2, M, 9.0)]
    assert by_priority(waiting, vv(capacity=1)) == [2]


def test_several_minor_patients_per_vehicle_with_minor_seats() -> None:
    """A vehicle carrying only minor patients seats up to ``minor_seats`` of them."""
    waiting = [pv(i, M, float(i)) for i in range(1, 7)]
    assert by_priority(waiting, vv(capacity=1, minor_seats=4)) == [1, 2, 3, 4]
    assert by_priority(waiting, vv(capacity=1)) == [1]
    mixed = [pv(0, D, 0.0), *waiting]
    assert by_priority(mixed, vv(capacity=2, minor_seats=4)) == [0, 1]  # not all minor


def test_bus_takes_only_walking_wounded_up_to_capacity() -> None:
    """A bus loads minor patients only, never an immediate or delayed one."""
    waiting = [pv(1, IMM, 0.0), pv(2, D, 0.0), *[pv(i, M, float(i)) for i in range(3, 30)]]
    bus = vv(capacity=20, vtype=VehicleType.BUS)
    chosen = by_priority(waiting, bus)
    assert chosen == list(range(3, 23))
    assert by_priority(waiting[:2], bus) == []


def test_nearest_first_loads_in_triage_order_whatever_the_tag() -> None:
    """First found, first out: the earliest triaged goes first, even a minor patient."""
    rule = default_registry().get("dispatch", "nearest_first").func()
    assert rule.select_patients(WAITING, vv(capacity=3)) == [1, 4, 2]
    waiting = [pv(1, X, 0.0), pv(2, D, 5.0)]
    assert rule.select_patients(waiting, vv(capacity=1)) == [2]  # expectant still last


def test_nearest_vehicle_picks_the_shortest_drive_ties_to_lowest_id() -> None:
    """The nearest reachable vehicle goes; an unreachable one never does."""
    free = [vv(3, travel=4.0), vv(1, travel=4.0), vv(2, travel=float("inf")), vv(0, travel=9.0)]
    assert nearest_vehicle(free) == 1
    assert nearest_vehicle([vv(2, travel=float("inf"))]) is None


def test_stm_order_ranks_by_salvage_gain_not_by_sickness() -> None:
    """STM takes RPM 6 before RPM 2 (more to gain) and RPM 2 before RPM 9 at 30 min."""
    waiting = [pv(1, IMM, 0.0, rpm=2), pv(2, IMM, 1.0, rpm=6), pv(3, D, 2.0, rpm=9)]
    assert stm_order(waiting, vv(capacity=1), delay_min=60, immediate_alone=True) == [2]
    gains = {r: salvage_gain(r, 30, PHYS) for r in (2, 9)}
    assert gains[2] > gains[9] == 0.0
    rest = [pv(1, D, 0.0, rpm=9), pv(3, D, 2.0, rpm=2)]
    assert stm_order(rest, vv(capacity=1), delay_min=30, immediate_alone=True) == [3]


def test_stm_order_counts_an_immediate_alone_as_the_whole_vehicle() -> None:
    """Per unit of capacity: in a 4-seat vehicle four delayed beat one lone immediate."""
    waiting = [pv(1, IMM, 0.0, rpm=8)] + [pv(i, D, float(i), rpm=7) for i in range(2, 6)]
    # gain(8)/4 = 0.0225 < gain(7) = 0.26: the delayed patients go first, four of them.
    assert stm_order(waiting, vv(capacity=4), delay_min=60, immediate_alone=True) == [2, 3, 4, 5]
    # In a one-seat vehicle the lone immediate costs one seat like anybody else.
    single = [pv(1, IMM, 0.0, rpm=6), pv(2, D, 0.0, rpm=7)]
    assert stm_order(single, vv(capacity=1), delay_min=60, immediate_alone=True) == [1]


def test_stm_dispatch_is_registered_with_physiology_supplied() -> None:
    """The STM dispatch factory declares the physiology input and its tunable delay."""
    pol = default_registry().get("dispatch", "stm")
    assert pol.injected == frozenset({"physiology"})
    assert pol.params == {"delay_min": 60.0, "immediate_alone": True}
    rule = pol.func(physiology=PHYS, delay_min=60.0)
    assert rule.select_patients([pv(1, IMM, 0, rpm=2), pv(2, IMM, 1, rpm=5)], vv()) == [2]


@pytest.mark.parametrize("name", ["priority", "nearest_first", "stm"])
def test_every_dispatch_rule_respects_capacity(name: str) -> None:
    """No built-in rule ever returns more patients than a vehicle may carry."""
    pol = default_registry().get("dispatch", name)
    kw = {"physiology": PHYS} if "physiology" in pol.injected else {}
    rule = pol.func(**kw)
    waiting = [
        pv(i, tag, float(i), rpm=5 + i % 6) for i, tag in enumerate([IMM, D, M, D, M, IMM, X])
    ]
    for cap in (1, 2, 3):
        for seats in (0, 5):
            v = vv(capacity=cap, minor_seats=seats)
            ids = rule.select_patients(waiting, v)
            assert len(ids) == len(set(ids))
            tags = {p.id: p.tag for p in waiting}
            limit = v.max_minor if all(tags[i] is M for i in ids) else cap
            assert len(ids) <= limit
