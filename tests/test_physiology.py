"""Tests of the true-state health model: RPM coding, deterioration, survival, care, vitals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from mcsim.physiology import (
    PhysiologyParams,
    Trajectory,
    Vitals,
    code_motor,
    code_pulse,
    code_rr,
    codes_at,
    effective_min_to_zero,
    observe,
    rpm,
    rpm_int,
    survival_probability,
    survival_probability_scalar,
    untreated_rpm,
    vitals_at,
    vitals_from_codes,
)

P = PhysiologyParams()

# SCIENCE.md §2, copied here independently of the module's defaults.
SURVIVAL = [0.052, 0.089, 0.15, 0.23, 0.35, 0.49, 0.63, 0.75, 0.84, 0.90, 0.94, 0.97, 0.98]
TABLE = {
    12: [12, 12, 11, 11, 10, 10, 10, 10, 9, 9, 8, 8],
    11: [11, 11, 10, 10, 9, 8, 8, 7, 7, 6, 6, 5],
    10: [10, 9, 9, 8, 8, 7, 6, 6, 5, 5, 4, 4],
    9: [9, 8, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0],
    8: [8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0],
    7: [6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0],
    6: [4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    5: [3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    4: [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    3: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    2: [0] * 12,
    1: [0] * 12,
    0: [0] * 12,
}


# ---- RPM coding at every band edge ---------------------------------------------------------


@pytest.mark.parametrize(
    ("rr", "code"),
    [(0, 0), (1, 1), (9, 1), (10, 4), (24, 4), (25, 3), (35, 3), (36, 2), (60, 2)],
)
def test_rr_code_at_band_edges(rr: int, code: int) -> None:
    assert code_rr(rr) == code


@pytest.mark.parametrize(
    ("hr", "code"),
    [(0, 0), (1, 1), (59, 1), (60, 4), (120, 4), (121, 3), (140, 3), (141, 2), (200, 2)],
)
def test_pulse_code_at_band_edges(hr: int, code: int) -> None:
    assert code_pulse(hr) == code


@pytest.mark.parametrize(("motor", "code"), [(6, 4), (5, 3), (4, 2), (3, 1), (2, 1), (1, 0)])
def test_motor_code_per_gcs_motor_score(motor: int, code: int) -> None:
    assert code_motor(motor) == code


def test_motor_code_refuses_scores_outside_1_to_6() -> None:
    with pytest.raises(ValueError, match=r"1\.\.6"):
        code_motor(7)
    with pytest.raises(ValueError, match=r"1\.\.6"):
        code_motor(0)


def test_rpm_is_vectorised_and_sums_the_codes() -> None:
    out = rpm(
        np.array([20, 30, 40, 5, 0]), np.array([80, 130, 150, 50, 0]), np.array([6, 5, 4, 2, 1])
    )
    assert out.tolist() == [12, 9, 6, 3, 0]
    assert rpm(20, 80, 6) == 12


# ---- Survival ----------------------------------------------------------------------------


@pytest.mark.parametrize("r", range(13))
def test_survival_at_each_table_rpm(r: int) -> None:
    assert survival_probability(P, r) == pytest.approx(SURVIVAL[r])
    assert survival_probability_scalar(P, float(r)) == pytest.approx(SURVIVAL[r])


@pytest.mark.parametrize("r", range(12))
def test_survival_half_way_is_the_mean_of_neighbours(r: int) -> None:
    expected = (SURVIVAL[r] + SURVIVAL[r + 1]) / 2
    assert survival_probability(P, r + 0.5) == pytest.approx(expected)
    assert survival_probability_scalar(P, r + 0.5) == pytest.approx(expected)


def test_survival_vectorised_matches_table() -> None:
    np.testing.assert_allclose(survival_probability(P, np.arange(13)), SURVIVAL)


# ---- Deterioration -----------------------------------------------------------------------


@pytest.mark.parametrize("r0", range(13))
def test_untreated_rpm_reproduces_every_table_cell(r0: int) -> None:
    times = np.arange(0, 361, 30)
    expected = [r0, *TABLE[r0]]
    np.testing.assert_allclose(untreated_rpm(P, np.full(13, r0), times), expected)
    np.testing.assert_array_equal(rpm_int(P, r0, times), expected)
    curve = P.curve(r0)
    assert [curve.value(float(t)) for t in times] == pytest.approx(expected)


def test_untreated_rpm_interpolates_linearly_between_cells() -> None:
    # RPM0 12: 12 at 60 min, 11 at 90 min.
    assert untreated_rpm(P, 12, 75.0) == pytest.approx(11.5)


def test_whole_rpm_keeps_the_score_until_the_table_says_it_fell() -> None:
    assert rpm_int(P, 12, 89.9) == 12
    assert rpm_int(P, 12, 90.0) == 11


def test_extrapolation_continues_the_last_120_minutes_slope() -> None:
    # RPM0 12: 10 at 240, 8 at 360 → falls 1 point per 60 min beyond 360, reaching 0 at 840.
    assert untreated_rpm(P, 12, 420.0) == pytest.approx(7.0)
    assert untreated_rpm(P, 12, 840.0) == pytest.approx(0.0)
    assert untreated_rpm(P, 12, 2000.0) == 0.0


@pytest.mark.parametrize(
    ("r0", "zero_min"),
    [
        (0, 0.0),
        (1, 30.0),
        (2, 30.0),
        (3, 60.0),
        (6, 150.0),
        (8, 270.0),
        (9, 330.0),
        (10, 600.0),
        (11, 660.0),
        (12, 840.0),
    ],
)
def test_effective_minutes_to_zero(r0: int, zero_min: float) -> None:
    assert effective_min_to_zero(P, r0) == pytest.approx(zero_min)
    assert untreated_rpm(P, r0, zero_min) == pytest.approx(0.0)
    if zero_min > 0:
        assert untreated_rpm(P, r0, zero_min - 1.0) > 0.0


def test_flat_extrapolation_never_reaches_zero() -> None:
    table = {k: list(v) for k, v in TABLE.items()}
    table[12] = [12.0] * 12
    params = PhysiologyParams(deterioration_table=table)
    assert effective_min_to_zero(params, 12) == math.inf
    assert untreated_rpm(params, 12, math.inf) == 12.0
    assert params.curve(12).value(math.inf) == 12.0
    assert untreated_rpm(P, 12, math.inf) == 0.0
    assert Trajectory(params, 12, False).death_time() == math.inf


# ---- Trajectory under care ----------------------------------------------------------------


@pytest.mark.parametrize(("r0", "death"), [(3, 60.0), (8, 270.0), (12, 840.0)])
def test_untreated_trajectory_dies_when_rpm_reaches_zero(r0: int, death: float) -> None:
    assert Trajectory(P, r0, False).death_time() == pytest.approx(death)


def test_half_rate_dies_twice_as_late() -> None:
    traj = Trajectory(P, 8, False)
    traj.set_rate(0.0, 0.5)
    assert traj.death_time() == pytest.approx(540.0)


def test_rate_zero_never_dies_and_freezes_rpm() -> None:
    traj = Trajectory(P, 8, False)
    traj.set_rate(60.0, 0.0)
    assert traj.death_time() == math.inf
    assert traj.rpm_at(10_000.0) == pytest.approx(7.0)  # the table's value at 60 min


def test_care_factor_applies_from_the_moment_it_starts() -> None:
    traj = Trajectory(P, 8, False)
    traj.set_care(60.0, P.onscene_care_factor)  # 60 effective min used, 210 remain at rate 0.5
    assert traj.effective_at(100.0) == pytest.approx(80.0)
    assert traj.death_time() == pytest.approx(60.0 + 210.0 / 0.5)


def test_penetrating_injuries_deteriorate_faster() -> None:
    blunt, pen = Trajectory(P, 8, False), Trajectory(P, 8, True)
    assert pen.death_time() == pytest.approx(
        blunt.death_time() / P.penetrating_deterioration_factor
    )
    pen.set_care(0.0, 0.5)
    assert pen.rate == pytest.approx(0.5 * P.penetrating_deterioration_factor)


def test_trajectory_refuses_time_running_backwards() -> None:
    traj = Trajectory(P, 8, False)
    traj.set_rate(50.0, 0.5)
    with pytest.raises(ValueError, match="backwards"):
        traj.effective_at(40.0)


def test_trajectory_matches_vectorised_rpm() -> None:
    traj = Trajectory(P, 11, False)
    for t in (0.0, 45.0, 200.0, 400.0, 700.0):
        assert traj.rpm_at(t) == pytest.approx(untreated_rpm(P, 11, t))
        assert traj.rpm_int_at(t) == rpm_int(P, 11, t)


# ---- Parameter validation ----------------------------------------------------------------


def test_increasing_table_row_is_refused() -> None:
    table = {k: list(v) for k, v in TABLE.items()}
    table[10] = [10, 9, 10, 8, 8, 7, 6, 6, 5, 5, 4, 4]
    with pytest.raises(ValidationError, match="row 10 must not increase"):
        PhysiologyParams(deterioration_table=table)


def test_row_above_its_initial_rpm_is_refused() -> None:
    table = {k: list(v) for k, v in TABLE.items()}
    table[5] = [6, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    with pytest.raises(ValidationError, match="row 5 must not increase"):
        PhysiologyParams(deterioration_table=table)


def test_missing_table_row_is_refused() -> None:
    table = {k: list(v) for k, v in TABLE.items() if k != 7}
    with pytest.raises(ValidationError, match=r"missing \[7\]"):
        PhysiologyParams(deterioration_table=table)


def test_survival_decreasing_in_rpm_is_refused() -> None:
    bad = list(SURVIVAL)
    bad[5] = 0.2
    with pytest.raises(ValidationError, match="must not decrease"):
        PhysiologyParams(survival_by_rpm=bad)


def test_survival_outside_unit_interval_is_refused() -> None:
    bad = list(SURVIVAL)
    bad[12] = 1.2
    with pytest.raises(ValidationError, match=r"\[0, 1\]"):
        PhysiologyParams(survival_by_rpm=bad)


def test_negative_factor_is_refused() -> None:
    with pytest.raises(ValidationError):
        PhysiologyParams(onscene_care_factor=-0.1)


def test_unknown_parameter_is_refused_with_valid_keys() -> None:
    with pytest.raises(ValidationError, match="valid keys"):
        PhysiologyParams.model_validate({"onscene_factor": 0.5})


def test_band_inconsistent_with_coding_is_refused() -> None:
    with pytest.raises(ValidationError, match="code differently"):
        PhysiologyParams(rr_bands={4: (10, 30), 3: (31, 35), 2: (36, 50), 1: (1, 9), 0: (0, 0)})


# ---- Vitals ------------------------------------------------------------------------------

codes_strategy = st.tuples(*(st.integers(0, 4) for _ in range(3)))
order_strategy = st.permutations([0, 1, 2]).map(tuple)


@given(codes=codes_strategy, order=order_strategy, data=st.data())
def test_codes_at_sums_to_rpm_and_never_goes_negative(codes, order, data) -> None:
    target = data.draw(st.integers(0, sum(codes)))
    out = codes_at(target, codes, order)
    assert sum(out) == target
    assert all(0 <= c <= c0 for c, c0 in zip(out, codes, strict=True))


def test_codes_at_removes_points_round_robin_in_loss_order() -> None:
    # Loss order pulse, motor, RR: 4,4,4 → 4,3,4 → 4,3,3 → 3,3,3 → 3,2,3.
    assert codes_at(11, (4, 4, 4), (1, 2, 0)) == (4, 3, 4)
    assert codes_at(10, (4, 4, 4), (1, 2, 0)) == (4, 3, 3)
    assert codes_at(9, (4, 4, 4), (1, 2, 0)) == (3, 3, 3)
    assert codes_at(8, (4, 4, 4), (1, 2, 0)) == (3, 2, 3)
    # Components at 0 are skipped.
    assert codes_at(2, (0, 2, 2), (0, 1, 2)) == (0, 1, 1)


def test_codes_at_refuses_rpm_above_initial() -> None:
    with pytest.raises(ValueError):
        codes_at(11, (4, 3, 3), (0, 1, 2))


@given(
    codes=codes_strategy,
    q=st.tuples(*(st.floats(0.0, 1.0, exclude_max=True) for _ in range(4))),
)
def test_vitals_lie_in_their_bands_and_recode_to_the_codes(codes, q) -> None:
    v = vitals_from_codes(P, codes, q, walking0=True, age=30)
    c_rr, c_pulse, c_motor = codes
    assert P.rr_bands[c_rr][0] <= v.rr <= P.rr_bands[c_rr][1]
    assert P.pulse_bands[c_pulse][0] <= v.pulse <= P.pulse_bands[c_pulse][1]
    assert P.sbp_bands_by_pulse_code[c_pulse][0] <= v.sbp <= P.sbp_bands_by_pulse_code[c_pulse][1]
    assert P.gcs_bands_by_motor_code[c_motor][0] <= v.gcs <= P.gcs_bands_by_motor_code[c_motor][1]
    assert code_rr(v.rr) == c_rr
    assert code_pulse(v.pulse) == c_pulse
    assert v.breathing is (c_rr > 0)
    assert v.motor_obeys is (c_motor == 4)
    assert v.walking is (sum(codes) >= P.walking_min_rpm)
    assert all(isinstance(x, int) for x in (v.rr, v.pulse, v.sbp, v.gcs, v.age))


def test_vitals_at_follows_the_loss_order_as_rpm_falls() -> None:
    # Loss order RR first: at RPM 11 the RR code is 3 (25-35/min), the rest unchanged.
    v = vitals_at(P, (4, 4, 4), (0, 1, 2), (0.5,) * 4, 11, walking0=True, age=30)
    assert code_rr(v.rr) == 3 and code_pulse(v.pulse) == 4 and v.motor_obeys
    assert v.walking is True
    v = vitals_at(P, (4, 4, 4), (0, 1, 2), (0.5,) * 4, 10, walking0=True, age=30)
    assert code_pulse(v.pulse) == 3 and v.walking is False


def test_quantile_places_value_within_band() -> None:
    low = vitals_from_codes(P, (4, 4, 4), (0.0, 0.0, 0.0, 0.0), walking0=True, age=30)
    high = vitals_from_codes(P, (4, 4, 4), (0.999, 0.999, 0.999, 0.999), walking0=True, age=30)
    assert (low.rr, low.pulse, low.sbp, low.gcs) == (10, 60, 95, 13)
    assert (high.rr, high.pulse, high.sbp, high.gcs) == (24, 120, 150, 15)


def test_patient_who_did_not_walk_never_walks() -> None:
    v = vitals_from_codes(P, (4, 4, 4), (0.5,) * 4, walking0=False, age=30)
    assert v.walking is False


def test_walking_stops_below_walking_min_rpm() -> None:
    v = vitals_from_codes(P, (3, 3, 4), (0.5,) * 4, walking0=True, age=30)
    assert v.walking is False


# ---- Observation -------------------------------------------------------------------------

TRUE = Vitals(
    rr=20, pulse=100, sbp=120, gcs=14, motor_obeys=True, walking=False, breathing=True, age=40
)


def test_observe_is_deterministic_given_z() -> None:
    z = (0.3, -1.2, 0.7, 0.1)
    assert observe(TRUE, z, P) == observe(TRUE, z, P)
    out = observe(TRUE, z, P)
    assert (out.rr, out.pulse, out.sbp) == (21, 93, 126)  # 20+0.6, 100-7.2, 120+5.6 rounded


def test_observe_without_error_is_the_truth() -> None:
    assert observe(TRUE, (0.0, 0.0, 0.0, 0.0), P) == TRUE


def test_observe_clamps_at_zero_and_keeps_breathing_patient_above_rr_zero() -> None:
    frail = Vitals(
        rr=2, pulse=3, sbp=5, gcs=4, motor_obeys=False, walking=False, breathing=True, age=70
    )
    out = observe(frail, (-10.0, -10.0, -10.0, 0.0), P)
    assert out.rr == 1
    assert out.pulse == 0
    assert out.sbp == 0


def test_observe_keeps_apnoeic_patient_at_rr_zero() -> None:
    apnoeic = Vitals(
        rr=0, pulse=0, sbp=0, gcs=3, motor_obeys=False, walking=False, breathing=False, age=50
    )
    out = observe(apnoeic, (5.0, 5.0, 5.0, -5.0), P)
    assert (out.rr, out.pulse, out.sbp, out.gcs, out.breathing) == (0, 0, 0, 3, False)


def test_gcs_observation_error_is_plus_or_minus_one_in_the_tails() -> None:
    # gcs_obs_error_prob 0.1: Phi(z) < 0.05 reads one lower, > 0.95 one higher.
    assert observe(TRUE, (0, 0, 0, -1.7), P).gcs == 13
    assert observe(TRUE, (0, 0, 0, 1.7), P).gcs == 15
    assert observe(TRUE, (0, 0, 0, 1.6), P).gcs == 14
    top = Vitals(
        rr=20, pulse=100, sbp=120, gcs=15, motor_obeys=True, walking=True, breathing=True, age=40
    )
    assert observe(top, (0, 0, 0, 3.0), P).gcs == 15


def test_gcs_error_rate_matches_parameter() -> None:
    z = np.random.default_rng(0).standard_normal(20_000)
    changed = np.mean([observe(TRUE, (0, 0, 0, float(x)), P).gcs != 14 for x in z])
    assert changed == pytest.approx(P.gcs_obs_error_prob, abs=0.01)


def test_scalar_codes_equal_the_vectorised_ones_everywhere():
    from mcsim.physiology import code_pulse_scalar, code_rr_scalar

    values = np.arange(0, 260, 0.5)
    assert [code_rr_scalar(v) for v in values] == list(code_rr(values))
    assert [code_pulse_scalar(v) for v in values] == list(code_pulse(values))
