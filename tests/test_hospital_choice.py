"""Tests of the self-presenters' hospital choice (mcsim.hospital_choice): hand-built cases.

Utility is ``-decay * travel + trauma_centre_utility * [level 1-2] + size * ln(1 + beds) +
known``; probabilities are the multinomial logit over the ``candidates`` nearest reachable
hospitals. Exact values below are worked out by hand from that formula.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import mcsim
from mcsim.errors import InputError
from mcsim.exercise.log import events_digest
from mcsim.hospital_choice import ChoiceOption, choice_probabilities, choose
from mcsim.library import default_scenario_path
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data

DEFAULTS = dict(
    decay_per_min=0.15, trauma_centre_utility=0.5, size_utility_per_log_bed=0.3, candidates=8
)


def _probs(options: list[ChoiceOption], **kw) -> list[float]:
    return choice_probabilities(options, **{**DEFAULTS, **kw})


def _same(travel: float, **kw) -> ChoiceOption:
    """A hospital like every other one but for its travel time (and what ``kw`` changes)."""
    return ChoiceOption(**{"travel_min": travel, "trauma_level": 3, "beds": 20, **kw})


# ---- choice_probabilities -------------------------------------------------------------------


def test_two_identical_hospitals_at_5_and_10_min() -> None:
    # Utilities differ by 0.15 x 5 = 0.75.
    p = _probs([_same(5.0), _same(10.0)])
    e = math.exp(-0.75)
    assert p[0] == pytest.approx(1 / (1 + e), abs=1e-12)
    assert p[1] == pytest.approx(e / (1 + e), abs=1e-12)
    assert p[0] == pytest.approx(0.679179, abs=1e-6)
    assert sum(p) == pytest.approx(1.0, abs=1e-12)


def test_order_of_options_does_not_matter() -> None:
    p = _probs([_same(10.0), _same(5.0)])
    e = math.exp(-0.75)
    assert p == pytest.approx([e / (1 + e), 1 / (1 + e)], abs=1e-12)


def test_three_hospitals_exact_logit() -> None:
    p = _probs([_same(2.0), _same(4.0), _same(12.0)], decay_per_min=0.2)
    w = [math.exp(-0.4), math.exp(-0.8), math.exp(-2.4)]
    assert p == pytest.approx([x / sum(w) for x in w], abs=1e-12)


def test_equal_hospitals_at_equal_times_split_evenly() -> None:
    assert _probs([_same(7.0)] * 4) == pytest.approx([0.25] * 4, abs=1e-12)


def test_no_decay_is_uniform_over_candidates() -> None:
    p = _probs([_same(1.0), _same(30.0), _same(90.0)], decay_per_min=0.0)
    assert p == pytest.approx([1 / 3] * 3, abs=1e-12)


def test_one_reachable_hospital_takes_everyone() -> None:
    assert _probs([_same(42.0)]) == [1.0]


def test_unreachable_hospitals_get_zero() -> None:
    p = _probs([_same(math.inf), _same(5.0), _same(math.inf), _same(10.0)])
    e = math.exp(-0.75)
    assert p[0] == 0.0 and p[2] == 0.0
    assert p[1] == pytest.approx(1 / (1 + e), abs=1e-12)
    assert p[3] == pytest.approx(e / (1 + e), abs=1e-12)


def test_unreachable_are_not_counted_as_candidates() -> None:
    # Two candidates: the unreachable ones do not take a candidate's place.
    p = _probs([_same(math.inf), _same(math.inf), _same(5.0), _same(10.0)], candidates=2)
    assert p[0] == p[1] == 0.0
    assert p[2] + p[3] == pytest.approx(1.0) and p[3] > 0


def test_nothing_reachable_gives_all_zero() -> None:
    assert _probs([_same(math.inf), _same(math.inf)]) == [0.0, 0.0]
    assert _probs([]) == []


def test_candidates_limits_to_the_nearest_k() -> None:
    options = [_same(20.0), _same(3.0), _same(9.0), _same(6.0)]
    p = _probs(options, candidates=2)
    # Nearest two: 3 and 6 min (indices 1 and 3); utilities differ by 0.45.
    assert p[0] == 0.0 and p[2] == 0.0
    e = math.exp(-0.45)
    assert p[1] == pytest.approx(1 / (1 + e), abs=1e-12)
    assert p[3] == pytest.approx(e / (1 + e), abs=1e-12)
    assert _probs(options, candidates=1) == [0.0, 1.0, 0.0, 0.0]
    # candidates at or above the number of options: all of them.
    assert all(x > 0 for x in _probs(options, candidates=4))
    assert _probs(options, candidates=4) == _probs(options, candidates=100)


def test_candidates_below_one_count_as_one() -> None:
    assert _probs([_same(9.0), _same(3.0)], candidates=0) == [0.0, 1.0]


def test_candidates_ties_broken_by_order() -> None:
    p = _probs([_same(5.0), _same(5.0), _same(5.0)], candidates=2)
    assert p == pytest.approx([0.5, 0.5, 0.0], abs=1e-12)
    assert _probs([_same(5.0), _same(5.0)], candidates=1) == [1.0, 0.0]


@pytest.mark.parametrize(("level", "bonus"), [(1, True), (2, True), (3, False), (0, False)])
def test_trauma_centre_utility_applies_to_levels_1_and_2(level: int, bonus: bool) -> None:
    p = _probs([_same(5.0, trauma_level=level), _same(5.0)], trauma_centre_utility=0.5)
    expected = 1 / (1 + math.exp(-0.5)) if bonus else 0.5
    assert p[0] == pytest.approx(expected, abs=1e-12)


def test_trauma_centre_utility_moves_the_choice_to_a_farther_centre() -> None:
    near, centre = _same(5.0), _same(10.0, trauma_level=1)
    assert _probs([near, centre], trauma_centre_utility=0.0)[1] < 0.5
    # 1.0 of trauma pull against 0.75 of distance: the centre wins.
    p = _probs([near, centre], trauma_centre_utility=1.0)
    assert p[1] == pytest.approx(1 / (1 + math.exp(-0.25)), abs=1e-12)
    assert p[1] > 0.5
    # Exactly offset: an even split.
    assert _probs([near, centre], trauma_centre_utility=0.75) == pytest.approx([0.5, 0.5])
    # A negative utility pushes away.
    assert _probs([near, centre], trauma_centre_utility=-1.0)[1] < p[1]


def test_known_bonus_moves_the_choice() -> None:
    near, known = _same(5.0), _same(10.0, known=0.75)
    assert _probs([near, known]) == pytest.approx([0.5, 0.5], abs=1e-12)
    p = _probs([near, _same(10.0, known=2.0)])
    assert p[1] == pytest.approx(1 / (1 + math.exp(-1.25)), abs=1e-12)
    # A negative bonus: less pull than distance alone gives.
    e = math.exp(-0.75)
    assert _probs([near, _same(10.0, known=-1.0)])[1] < e / (1 + e)


def test_known_bonus_cannot_reach_beyond_the_candidates() -> None:
    p = _probs([_same(5.0), _same(10.0, known=100.0)], candidates=1)
    assert p == [1.0, 0.0]


def test_size_utility_per_log_bed() -> None:
    big, none = _same(5.0, beds=9), _same(5.0, beds=0)
    p = _probs([big, none], size_utility_per_log_bed=0.3)
    # 0.3 x ln(10) against 0.3 x ln(1) = 0.
    assert p[0] == pytest.approx(1 / (1 + math.exp(-0.3 * math.log(10))), abs=1e-12)
    assert p[0] == pytest.approx(1 / (1 + 10**-0.3), abs=1e-12)
    assert _probs([big, none], size_utility_per_log_bed=0.0) == pytest.approx([0.5, 0.5])
    # Negative bed counts count as 0.
    assert _probs([_same(5.0, beds=-5), none]) == pytest.approx([0.5, 0.5], abs=1e-12)


def test_large_utilities_do_not_overflow() -> None:
    p = _probs([_same(1000.0), _same(1001.0)], decay_per_min=100.0)
    assert p[0] == pytest.approx(1.0) and 0.0 <= p[1] < 1e-40
    p = _probs([_same(5.0, known=1000.0), _same(5.0, known=999.0)])
    assert p[0] == pytest.approx(1 / (1 + math.exp(-1.0)), abs=1e-12)


def test_probabilities_always_sum_to_one_or_zero() -> None:
    rng = np.random.default_rng(11)
    for _ in range(200):
        k = int(rng.integers(1, 9))
        options = [
            ChoiceOption(
                float(rng.choice([math.inf, rng.uniform(0, 60)])),
                int(rng.integers(0, 4)),
                int(rng.integers(0, 80)),
                float(rng.normal()),
            )
            for _ in range(k)
        ]
        p = _probs(options, candidates=int(rng.integers(1, 10)))
        reachable = any(math.isfinite(o.travel_min) for o in options)
        assert sum(p) == pytest.approx(1.0 if reachable else 0.0, abs=1e-12)
        assert all(x >= 0 for x in p)
        assert all(
            x == 0 for x, o in zip(p, options, strict=True) if not math.isfinite(o.travel_min)
        )


# ---- choose ---------------------------------------------------------------------------------


def test_choose_inverse_cdf_at_the_edges() -> None:
    probs = [0.25, 0.5, 0.25]
    assert choose(probs, 0.0) == 0
    assert choose(probs, math.nextafter(0.25, 0.0)) == 0
    assert choose(probs, 0.25) == 1
    assert choose(probs, math.nextafter(0.75, 0.0)) == 1
    assert choose(probs, 0.75) == 2
    assert choose(probs, math.nextafter(1.0, 0.0)) == 2


def test_choose_skips_zero_probabilities() -> None:
    probs = [0.0, 0.5, 0.0, 0.5, 0.0]
    assert choose(probs, 0.0) == 1
    assert choose(probs, math.nextafter(0.5, 0.0)) == 1
    assert choose(probs, 0.5) == 3
    assert choose(probs, math.nextafter(1.0, 0.0)) == 3


def test_choose_falls_back_on_the_last_positive_when_rounding_leaves_a_gap() -> None:
    # Probabilities summing a hair below 1: a uniform above their sum takes the last positive
    # option, never an option with probability 0.
    probs = [0.3, 0.7 - 1e-12, 0.0]
    assert choose(probs, 1.0 - 1e-13) == 1
    assert choose(probs, 1.0) == 1


def test_choose_with_nothing_to_choose_returns_minus_one() -> None:
    assert choose([0.0, 0.0, 0.0], 0.0) == -1
    assert choose([0.0, 0.0], 0.99) == -1
    assert choose([], 0.5) == -1


def test_choose_frequencies_follow_the_probabilities() -> None:
    probs = _probs([_same(5.0), _same(10.0), _same(15.0, trauma_level=1), _same(math.inf)])
    u = np.random.default_rng(5).random(20_000)
    picks = np.array([choose(probs, float(x)) for x in u])
    assert picks.min() >= 0 and not np.any(picks == 3)
    for i, p in enumerate(probs):
        assert (picks == i).mean() == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / 20_000))


# ---- Through the model ----------------------------------------------------------------------


def _model(**hospital_choice) -> mcsim.MCIModel:
    data = copy.deepcopy(small_scenario_data(casualties=5))
    data["schema_version"] = 2
    data["response"] = {"hospital_choice": hospital_choice} if hospital_choice else {}
    return mcsim.MCIModel(parse_scenario(data), 0)


def test_model_self_presenter_choice_uses_the_choice_model() -> None:
    model = _model(decay_per_min=0.15, trauma_centre_utility=0.5, size_utility_per_log_bed=0.3)
    origin = model.scenes[0].node
    travel = model.region.travel_from(origin)
    big, small = model.hospitals["big"], model.hospitals["small"]
    options = [
        ChoiceOption(float(travel[h.node]), h.trauma_level, h.spec.ed_beds, h.spec.known_utility)
        for h in (big, small)
    ]
    p_big = _probs(options)[0]
    assert 0.0 < p_big < 1.0
    u = np.random.default_rng(2).random(4000)
    picks = [model.self_presenter_choice(origin, float(x)).hid for x in u]
    share = picks.count("big") / len(picks)
    assert share == pytest.approx(p_big, abs=4 * math.sqrt(p_big * (1 - p_big) / len(picks)))


def test_model_known_utility_pulls_self_presenters() -> None:
    data = copy.deepcopy(small_scenario_data(casualties=5))
    data["schema_version"] = 2
    data["hospitals"][1]["known_utility"] = 50.0
    model = mcsim.MCIModel(parse_scenario(data), 0)
    origin = model.scenes[0].node
    # "big" keeps a probability of about exp(-50): only a uniform below it picks "big".
    assert model.self_presenter_choice(origin, 0.0).hid == "big"
    for u in (1e-12, 0.3, 0.7, math.nextafter(1.0, 0.0)):
        assert model.self_presenter_choice(origin, u).hid == "small"
    near = _model(candidates=1, decay_per_min=1.0)
    travel = near.region.travel_from(origin)
    nearest = min(near.hospitals.values(), key=lambda h: travel[h.node]).hid
    for u in (0.0, 0.5, math.nextafter(1.0, 0.0)):
        assert near.self_presenter_choice(origin, u).hid == nearest


def test_self_presenters_take_adults_past_a_childrens_hospital() -> None:
    """An adult never picks a hospital with accepts_adults false; a child still can."""
    data = copy.deepcopy(small_scenario_data(casualties=5))
    data["schema_version"] = 2
    data["hospitals"][0]["accepts_adults"] = False
    model = mcsim.MCIModel(parse_scenario(data), 0)
    kids = data["hospitals"][0]["id"]
    origin = model.scenes[0].node
    u = np.random.default_rng(3).random(500)
    assert {model.self_presenter_choice(origin, float(x)).hid for x in u} == {"small", "big"} - {
        kids
    }
    assert kids in {model.self_presenter_choice(origin, float(x), child=True).hid for x in u}


def test_boston_childrens_hospital_receives_only_children() -> None:
    """Boston Children's is children-only in the replay, as it was on the day."""
    p = mcsim.simulate(mcsim.load_scenario("boston_marathon_bombing"), seed=0).patients
    at_kids = p[p.hospital.astype(str) == "childrens"]
    assert len(at_kids) > 0
    assert (at_kids.age < 18).all()


def _default_with(receives: dict[str, bool]):
    data = mcsim.load_scenario(default_scenario_path()).model_dump(mode="json", by_alias=True)
    for h in data["hospitals"]:
        if h["id"] in receives:
            h["receives_ambulances"] = receives[h["id"]]
    return parse_scenario(data)


def test_ems_convey_past_a_walk_in_service_and_self_presenters_still_come() -> None:
    """A hospital with receives_ambulances false (Paris's Hôtel-Dieu in 2015: no emergency
    department since 2013) gets no ambulance patient; walking wounded still go there."""
    before = mcsim.simulate(_default_with({}), seed=0).patients
    by_ambulance = before[before.leave_mode == "ambulance"]
    busiest = by_ambulance.first_hospital.value_counts().index[0]  # riverside, all 140
    after = mcsim.simulate(_default_with({busiest: False}), seed=0).patients
    conveyed = after[after.leave_mode == "ambulance"]
    assert len(conveyed) > 0 and busiest not in set(conveyed.first_hospital)
    walked = after[after.leave_mode == "self"]
    assert (walked.first_hospital == busiest).sum() > 0


def test_with_no_hospital_receiving_ambulances_ems_still_convey() -> None:
    """If every hospital were walk-in only the flag would strand the wounded: EMS then convey
    to every hospital as before (the flag orders, it does not forbid)."""
    ids = [h.id for h in mcsim.load_scenario(default_scenario_path()).hospitals]
    none = mcsim.simulate(_default_with(dict.fromkeys(ids, False)), seed=0)
    every = mcsim.simulate(_default_with({}), seed=0)
    assert events_digest(none.events) == events_digest(every.events)


def _default_reserving(reserve: list[str], receives: dict[str, bool] | None = None):
    data = _default_with(receives or {}).model_dump(mode="json", by_alias=True)
    data["policies"]["reserve"] = reserve
    return parse_scenario(data)


def test_a_hospital_held_in_reserve_gets_no_ambulance_while_another_is_open() -> None:
    """policies.reserve (Paris 2015: Beaujon, Bichat, Avicenne [PA5]): EMS pass it by, the
    walking wounded still come, and the run is that of the flag receives_ambulances: false."""
    before = mcsim.simulate(_default_with({}), seed=0).patients
    busiest = before[before.leave_mode == "ambulance"].first_hospital.value_counts().index[0]
    held = mcsim.simulate(_default_reserving([busiest]), seed=0)
    conveyed = held.patients[held.patients.leave_mode == "ambulance"]
    assert len(conveyed) > 0 and busiest not in set(conveyed.first_hospital)
    walked = held.patients[held.patients.leave_mode == "self"]
    assert (walked.first_hospital == busiest).sum() > 0
    flagged = mcsim.simulate(_default_with({busiest: False}), seed=0)
    assert events_digest(held.events) == events_digest(flagged.events)


def test_the_reserve_takes_ambulances_when_no_other_hospital_receives_them() -> None:
    """With every other hospital walk-in only, the reserve is what is left: EMS convey there."""
    ids = [h.id for h in mcsim.load_scenario(default_scenario_path()).hospitals]
    kept = ids[0]
    others_walk_in = dict.fromkeys(ids[1:], False)
    r = mcsim.simulate(_default_reserving([kept], others_walk_in), seed=0).patients
    conveyed = r[r.leave_mode == "ambulance"]
    assert len(conveyed) > 0 and set(conveyed.first_hospital) == {kept}


def test_an_unknown_hospital_in_the_reserve_is_refused_naming_the_field() -> None:
    data = mcsim.load_scenario(default_scenario_path()).model_dump(mode="json", by_alias=True)
    data["policies"]["reserve"] = [data["hospitals"][0]["id"], "atlantis"]
    with pytest.raises(InputError, match="unknown hospital 'atlantis'") as err:
        parse_scenario(data, file="x.yaml")
    assert err.value.path == "policies.reserve[1]"


def _default_reserving_until(until: dict[str, float]):
    data = mcsim.load_scenario(default_scenario_path()).model_dump(mode="json", by_alias=True)
    data["policies"]["reserve_until_min"] = until
    return parse_scenario(data)


def _busiest_ems_hospital() -> str:
    before = mcsim.simulate(default_scenario_path(), seed=0).patients
    return before[before.leave_mode == "ambulance"].first_hospital.value_counts().index[0]


def test_a_hospital_held_until_a_minute_gets_ambulances_only_from_then_on() -> None:
    """policies.reserve_until_min (Paris 2015: the first ambulances reached Bégin at 00:30
    [PA14]): no load leaves for it before its minute, loads do after it, and the release is a
    row of the event log at that minute."""
    busiest, until = _busiest_ems_hospital(), 45.0
    r = mcsim.simulate(_default_reserving_until({busiest: until}), seed=0)
    conveyed = r.patients[r.patients.leave_mode == "ambulance"]
    there = conveyed[conveyed.first_hospital == busiest]
    elsewhere = conveyed[conveyed.first_hospital != busiest]
    assert len(there) > 0 and (there.left_scene_min >= until).all()
    assert (elsewhere.left_scene_min < until).sum() > 0  # the others took the early loads
    rows = r.events.detail.str.contains("released (policies.reserve_until_min)", regex=False)
    released = r.events[rows]
    assert list(released.time_min) == [until] and list(released.hospital) == [busiest]


def test_a_reserve_replaced_by_the_players_is_not_released_again() -> None:
    """An exercise decision that releases the reserve first stands: the scheduled minute then
    finds nothing held and writes nothing; ambulances go there from the decision on."""
    from mcsim.model import MCIModel

    busiest = _busiest_ems_hospital()
    m = MCIModel(_default_reserving_until({busiest: 200.0}), 0)
    m.run(until=20)
    m.control.set_reserve([])
    m.run()
    r = m.result()
    assert not r.events.detail.str.contains("policies.reserve_until_min", regex=False).any()
    conveyed = r.patients[r.patients.leave_mode == "ambulance"]
    assert (conveyed[conveyed.first_hospital == busiest].left_scene_min < 200).any()


@pytest.mark.parametrize(
    ("until", "path", "message"),
    [
        ({"atlantis": 30}, "policies.reserve_until_min.atlantis", "unknown hospital 'atlantis'"),
        ({"HOSPITAL": -5}, "policies.reserve_until_min.HOSPITAL", "greater than or equal to 0"),
    ],
)
def test_a_bad_reserve_until_entry_is_refused_naming_the_field(until, path, message) -> None:
    data = mcsim.load_scenario(default_scenario_path()).model_dump(mode="json", by_alias=True)
    first = data["hospitals"][0]["id"]
    data["policies"]["reserve_until_min"] = {
        k.replace("HOSPITAL", first): v for k, v in until.items()
    }
    with pytest.raises(InputError, match=message) as err:
        parse_scenario(data, file="x.yaml")
    assert err.value.path == path.replace("HOSPITAL", first)
    assert "x.yaml" in str(err.value)


def test_a_hospital_both_in_reserve_and_held_until_a_minute_is_refused() -> None:
    data = mcsim.load_scenario(default_scenario_path()).model_dump(mode="json", by_alias=True)
    first = data["hospitals"][0]["id"]
    data["policies"]["reserve"] = [first]
    data["policies"]["reserve_until_min"] = {first: 60}
    with pytest.raises(InputError, match="also in policies.reserve") as err:
        parse_scenario(data, file="x.yaml")
    assert err.value.path == f"policies.reserve_until_min.{first}"
