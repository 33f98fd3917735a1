"""Tests of the outcome model (mcsim.outcome): RTS coding, TRISS, the bleeding clock.

TRISS values are checked against numbers worked out by hand from the formula
``Ps = 1 / (1 + exp(-(b0 + b1 RTS + b2 ISS + b3 AgeIndex)))`` with the MTOS coefficients
(Champion et al., J Trauma 1990); the time to death of a bleeding casualty against Fox et al.
2017 (median 2 h, about 85 % within 6 h). The last tests follow single patients through the
model: survival at definitive care is TRISS of the physiology they have when it starts.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import mcsim
from mcsim import outcome as out
from mcsim.agents.patient import Patient
from mcsim.casualties import builtin_profiles
from mcsim.enums import Outcome, PatientState, Phase, Severity
from mcsim.model import MCIModel
from mcsim.physiology import PhysiologyParams, Trajectory, vitals_at
from mcsim.scenario import parse_scenario
from tests.conftest import patient_row, small_scenario_data

PARAMS = PhysiologyParams()
BLUNT = (-0.4499, 0.8085, -0.0835, -1.7430)
PENETRATING = (-2.5355, 0.9934, -0.0651, -1.1360)


def _triss(rts: float, iss: int, age: int, penetrating: bool) -> float:
    return out.triss_probability(
        rts,
        iss,
        age,
        penetrating,
        blunt=PARAMS.triss_blunt,
        penetrating_coef=PARAMS.triss_penetrating,
    )


def _by_hand(coef: tuple[float, float, float, float], rts: float, iss: int, older: bool) -> float:
    b0, b1, b2, b3 = coef
    b = b0 + b1 * rts + b2 * iss + b3 * (1.0 if older else 0.0)
    return 1.0 / (1.0 + math.exp(-b))


# ---- RTS ------------------------------------------------------------------------------------


def test_rts_weights_and_maximum() -> None:
    assert out.RTS_WEIGHTS == (0.9368, 0.7326, 0.2908)
    assert out.RTS_MAX == pytest.approx(7.8408, abs=1e-12)


@pytest.mark.parametrize(
    ("gcs", "code"),
    [(15, 4), (13, 4), (12, 3), (9, 3), (8, 2), (6, 2), (5, 1), (4, 1), (3, 0)],
)
def test_gcs_codes_at_every_edge(gcs: int, code: int) -> None:
    assert out.code_gcs_rts(gcs) == code


@pytest.mark.parametrize(
    ("sbp", "code"),
    [(200, 4), (90, 4), (89, 3), (76, 3), (75, 2), (50, 2), (49, 1), (1, 1), (0, 0)],
)
def test_sbp_codes_at_every_edge(sbp: int, code: int) -> None:
    assert out.code_sbp_rts(sbp) == code


@pytest.mark.parametrize(
    ("rr", "code"),
    [(60, 3), (30, 3), (29, 4), (10, 4), (9, 2), (6, 2), (5, 1), (1, 1), (0, 0)],
)
def test_rr_codes_at_every_edge(rr: int, code: int) -> None:
    assert out.code_rr_rts(rr) == code


@pytest.mark.parametrize(
    ("gcs", "sbp", "rr", "rts"),
    [
        (15, 120, 16, 7.8408),  # normal: 4, 4, 4
        (3, 0, 0, 0.0),  # 0, 0, 0
        (10, 80, 32, 5.8806),  # 3, 3, 3 = 3 x 1.9602
        (8, 60, 8, 3.9204),  # 2, 2, 2
        (4, 40, 3, 1.9602),  # 1, 1, 1
        (14, 70, 40, 0.9368 * 4 + 0.7326 * 2 + 0.2908 * 3),  # 4, 2, 3 = 6.0450
        (3, 95, 12, 0.7326 * 4 + 0.2908 * 4),  # 0, 4, 4 = 4.0936
    ],
)
def test_revised_trauma_score(gcs: int, sbp: int, rr: int, rts: float) -> None:
    assert out.revised_trauma_score(gcs, sbp, rr) == pytest.approx(rts, abs=1e-9)


def test_rts_never_rises_as_any_vital_sign_worsens() -> None:
    scores = [out.revised_trauma_score(g, 120, 16) for g in range(15, 2, -1)]
    assert scores == sorted(scores, reverse=True)
    scores = [out.revised_trauma_score(15, s, 16) for s in range(150, -1, -1)]
    assert scores == sorted(scores, reverse=True)
    scores = [out.revised_trauma_score(15, 120, r) for r in range(29, -1, -1)]
    assert scores == sorted(scores, reverse=True)


# ---- TRISS ----------------------------------------------------------------------------------


def test_physiology_defaults_are_the_mtos_coefficients() -> None:
    assert tuple(PARAMS.triss_blunt) == BLUNT
    assert tuple(PARAMS.triss_penetrating) == PENETRATING


@pytest.mark.parametrize(
    ("rts", "iss", "age", "penetrating", "coef", "older", "expected"),
    [
        # b = -0.4499 + 0.8085 x 7.8408 - 0.0835 x 25 = 3.80189 -> 0.97816
        (7.8408, 25, 30, False, BLUNT, False, 0.97816),
        # ... - 1.7430 at 55: b = 2.05889 -> 0.88684
        (7.8408, 25, 55, False, BLUNT, True, 0.88684),
        # 54 is not yet older
        (7.8408, 25, 54, False, BLUNT, False, 0.97816),
        # b = -2.5355 + 0.9934 x 7.8408 - 0.0651 x 25 = 3.62605 -> 0.97407
        (7.8408, 25, 30, True, PENETRATING, False, 0.97407),
        # ... - 1.1360 at 70: b = 2.49005 -> 0.92344
        (7.8408, 25, 70, True, PENETRATING, True, 0.92344),
        # RTS 4.0936, ISS 34 blunt: b = 0.02078 -> 0.50519 (a coin toss)
        (4.0936, 34, 30, False, BLUNT, False, 0.50519),
        # RTS 0, ISS 75, older blunt: b = -8.4554 -> 0.000213
        (0.0, 75, 80, False, BLUNT, True, 0.000213),
        # RTS 5.9672, ISS 16 penetrating: b = 2.35072 -> 0.91299
        (5.9672, 16, 40, True, PENETRATING, False, 0.91299),
    ],
)
def test_triss_against_hand_computed_values(
    rts: float,
    iss: int,
    age: int,
    penetrating: bool,
    coef: tuple[float, float, float, float],
    older: bool,
    expected: float,
) -> None:
    p = _triss(rts, iss, age, penetrating)
    assert p == pytest.approx(_by_hand(coef, rts, iss, older), abs=1e-12)
    assert p == pytest.approx(expected, abs=5e-6)


def test_a_mortality_ratio_scales_trisss_deaths_and_1_leaves_them_bit_for_bit() -> None:
    """triss_mortality_ratio: P(death) = ratio x (1 - Ps), capped at certain death.

    Penetrating, RTS 5.9672, ISS 16, age 40: Ps 0.91299 (above), so 8.701 % die; with the
    ground-ambulance SMR 0.87 of the 2020 registry cohort 7.570 % do (Ps 0.92430)."""
    ps = _triss(5.9672, 16, 40, True)
    assert out.system_adjusted_survival(ps, 1.0) is ps  # untouched: the same float
    assert out.system_adjusted_survival(ps, 0.87) == pytest.approx(1 - 0.87 * (1 - ps))
    assert out.system_adjusted_survival(ps, 0.87) == pytest.approx(0.92430, abs=5e-6)
    assert out.system_adjusted_survival(0.2, 2.0) == 0.0  # 160 % death is certain death
    params = PhysiologyParams(triss_mortality_ratio=0.87)
    kw = dict(rpm=10.0, gcs=15, sbp=120, rr=16, iss=25, age=30, penetrating=True)
    base = out.survival_at_definitive_care(PhysiologyParams(), severity=Severity.CRITICAL, **kw)
    adjusted = out.survival_at_definitive_care(params, severity=Severity.CRITICAL, **kw)
    assert 1 - adjusted == pytest.approx(0.87 * (1 - base))
    with pytest.raises(ValueError):
        PhysiologyParams(triss_mortality_ratio=0)


def test_compensated_iss_25_blunt_survives_about_98_percent() -> None:
    assert _triss(7.8408, 25, 30, False) == pytest.approx(0.98, abs=0.003)


def test_age_index_starts_at_55() -> None:
    young = _triss(7.8408, 25, 54, False)
    assert _triss(7.8408, 25, 0, False) == young
    assert _triss(7.8408, 25, 55, False) < young
    assert _triss(7.8408, 25, 55, False) == _triss(7.8408, 25, 99, False)
    # The threshold is a parameter.
    moved = out.triss_probability(
        7.8408, 25, 55, False, blunt=BLUNT, penetrating_coef=PENETRATING, age_index_from=65
    )
    assert moved == young


@pytest.mark.parametrize("age", [0, 1, 10, 14])
def test_children_under_15_use_blunt_coefficients_even_for_penetrating(age: int) -> None:
    for rts, iss in ((7.8408, 25), (3.9204, 41), (5.8806, 16)):
        assert _triss(rts, iss, age, True) == _triss(rts, iss, age, False)
        assert _triss(rts, iss, age, True) == pytest.approx(_by_hand(BLUNT, rts, iss, False))


def test_from_15_penetrating_uses_penetrating_coefficients() -> None:
    p = _triss(7.8408, 25, 15, True)
    assert p == pytest.approx(_by_hand(PENETRATING, 7.8408, 25, False), abs=1e-12)
    assert p != _triss(7.8408, 25, 15, False)
    # The child threshold is a parameter.
    child = out.triss_probability(
        7.8408, 25, 15, True, blunt=BLUNT, penetrating_coef=PENETRATING, child_blunt_below=16
    )
    assert child == _triss(7.8408, 25, 15, False)


def test_triss_falls_with_iss_and_rises_with_rts() -> None:
    for pen in (False, True):
        by_iss = [_triss(7.8408, iss, 30, pen) for iss in range(1, 76)]
        assert all(a > b for a, b in zip(by_iss, by_iss[1:], strict=False))
        by_rts = [_triss(rts, 25, 30, pen) for rts in np.linspace(0, 7.8408, 20)]
        assert all(a < b for a, b in zip(by_rts, by_rts[1:], strict=False))
        assert all(0.0 < p < 1.0 for p in by_iss + by_rts)


def test_compensated_iss_16_to_40_survive_092_to_099() -> None:
    # The module docstring's claim: compensated ISS 16-40 patients have Ps 0.92-0.99 (blunt).
    for iss in range(16, 41):
        assert 0.92 <= _triss(out.RTS_MAX, iss, 30, False) <= 0.99, iss


def test_injury_severity_score() -> None:
    assert out.injury_severity_score((5, 4, 3)) == 50
    assert out.injury_severity_score((3, 3, 1)) == 19
    assert out.injury_severity_score((2, 0, 0)) == 4
    assert out.injury_severity_score((6, 1, 0)) == 75
    assert out.injury_severity_score((5, 5, 5)) == 75


# ---- The bleeding clock ---------------------------------------------------------------------


def test_decline_curve_is_flat_then_linear_to_zero() -> None:
    c = out.DeclineCurve(10, 100.0, 0.5)
    assert c.rpm0 == 10.0 and c.zero_min == 100.0 and c.compensated_min == 50.0
    assert c.value(0.0) == 10.0
    assert c.value(25.0) == 10.0
    assert c.value(50.0) == 10.0
    assert c.value(60.0) == pytest.approx(8.0)
    assert c.value(75.0) == pytest.approx(5.0)
    assert c.value(99.0) == pytest.approx(0.2)
    assert c.value(100.0) == 0.0
    assert c.value(1e6) == 0.0
    assert c.value(math.inf) == 0.0
    ts = np.linspace(0, 120, 241)
    values = [c.value(float(t)) for t in ts]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))


def test_decline_curve_without_compensation_falls_from_the_start() -> None:
    c = out.DeclineCurve(12, 60.0, 0.0)
    assert c.compensated_min == 0.0 and c.zero_min == 60.0
    assert c.value(0.0) == 12.0
    assert c.value(15.0) == pytest.approx(9.0)
    assert c.value(30.0) == pytest.approx(6.0)
    assert c.value(60.0) == 0.0


@pytest.mark.parametrize(("death", "share"), [(0.0, 0.5), (-5.0, 0.5), (60.0, 1.0), (60.0, -0.1)])
def test_decline_curve_refuses_bad_arguments(death: float, share: float) -> None:
    with pytest.raises(ValueError, match="death_min > 0"):
        out.DeclineCurve(10, death, share)


def test_flat_curve() -> None:
    c = out.FlatCurve(7)
    assert c.zero_min == math.inf
    assert c.value(0.0) == c.value(1e9) == 7.0
    assert out.FlatCurve(0).zero_min == 0.0


def test_trajectory_runs_a_decline_curve_and_care_slows_it() -> None:
    curve = out.DeclineCurve(10, 100.0, 0.5)
    tr = Trajectory(PARAMS, 10, penetrating=True, start_min=0.0, curve=curve)
    # A bleed's own clock: rate 1 untreated, whatever the mechanism.
    assert tr.untreated_rate == 1.0
    assert tr.death_time() == 100.0
    assert tr.rpm_at(60.0) == pytest.approx(8.0)
    tr.set_care(60.0, 0.5)
    assert tr.death_time() == pytest.approx(60.0 + 40.0 / 0.5)
    assert tr.rpm_at(80.0) == pytest.approx(6.0)  # 70 effective minutes
    tr.set_rate(80.0, 0.0)  # definitive care
    assert tr.death_time() == math.inf
    assert tr.rpm_at(500.0) == pytest.approx(6.0)


def test_lognormal_from_median() -> None:
    assert out.lognormal_from_median(120.0, 1.06, 0.0) == 120.0
    assert out.lognormal_from_median(120.0, 1.06, 1.0) == pytest.approx(120.0 * math.exp(1.06))
    assert out.lognormal_from_median(120.0, 1.06, -2.0) == pytest.approx(120.0 * math.exp(-2.12))


def test_time_to_death_defaults_follow_fox_2017() -> None:
    """The defaults (the historical calibration's posterior medians, 145 min and 0.82) keep
    Fox et al. 2017's record: a median of 2.0-2.6 h and about 85 % of haemorrhagic deaths
    within 6 h; the sampled clock has that median and that share."""
    med, sigma = PARAMS.haemorrhage_death_median_min, PARAMS.haemorrhage_death_sigma
    assert (med, sigma) == (145.0, 0.82)
    assert 120.0 <= med <= 156.0  # 2.0-2.6 h
    exact = 0.5 * (1.0 + math.erf(math.log(360.0 / med) / sigma / math.sqrt(2.0)))
    assert 0.82 <= exact <= 0.90  # "about 85 %" within 6 h (0.867 here)
    z = np.random.default_rng(20170).standard_normal(20_000)
    t = np.array([out.lognormal_from_median(med, sigma, float(x)) for x in z])
    assert t.min() > 0
    # The sample median of 20,000: log-sd of about 1.25 sigma / sqrt(n) = 0.0073, so 4 % is >4 sd.
    assert np.median(t) == pytest.approx(med, rel=0.04)
    within_6h = (t <= 360.0).mean()
    assert within_6h == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / 20_000))
    assert (t <= med).mean() == pytest.approx(0.5, abs=4 * math.sqrt(0.25 / 20_000))


# ---- Through the model ----------------------------------------------------------------------


def _quiet_model(seed: int = 0, **physiology) -> MCIModel:
    """The small town with one casualty, no responders and no vehicles: the test's own
    patients meet nobody but the hospital they are put in."""
    data = copy.deepcopy(small_scenario_data(casualties=1, self_transport_share=0.0))
    data["schema_version"] = 2
    data["incidents"][0]["injury_profile"] = "blast_confined"
    data["response"] = {"triage_officers": 0, "paramedics": 0}
    if physiology:
        data["physiology"] = physiology
    for s in data["stations"]:
        for g in s["vehicles"]:
            g["count"] = 0
    model = mcsim.MCIModel(parse_scenario(data), seed)
    model.run(until=0.0)
    return model


def _critical_row(**override) -> dict:
    row = {
        "rpm0": 10,
        "codes0": (4, 3, 3),
        "loss_order": (1, 2, 0),
        "quantiles": (0.5, 0.3, 0.6, 0.4),
        "age": 40,
        "iss": 29,
    }
    return patient_row(**{**row, **override})


def _add(model: MCIModel, row: dict) -> Patient:
    p = Patient(model, len(model.patients), model.scenes[0], row)
    model.patients.append(p)
    return p


def _triss_of_vitals(p: Patient, v) -> float:
    rts = out.revised_trauma_score(v.gcs, v.sbp, v.rr)
    return _triss(rts, p.iss, p.age, p.penetrating)


@pytest.mark.parametrize("penetrating", [False, True])
@pytest.mark.parametrize("age", [12, 40, 70])
def test_definitive_care_at_once_survives_with_triss_of_initial_physiology(
    penetrating: bool, age: int
) -> None:
    model = _quiet_model()
    p = _add(
        model,
        _critical_row(
            age=age, penetrating=penetrating, haemorrhage=True, needs_surgery=True, u_survival=0.5
        ),
    )
    assert model.now == 0.0
    p.begin_definitive_care("big")
    v0 = p.initial_vitals()
    expected = _triss_of_vitals(p, v0)
    assert p.rpm_at_care == 10.0
    assert p.definitive_care_min == 0.0
    assert p.p_survival == pytest.approx(expected, abs=1e-12)
    assert p.outcome is (Outcome.SURVIVED if 0.5 < expected else Outcome.UNRESOLVED)
    assert p.state is PatientState.DEFINITIVE_CARE
    assert p.traj.death_time() == math.inf  # definitive care stops the clock


def test_bleeding_patient_keeps_initial_survival_while_compensated_then_loses_it() -> None:
    # z_death 0: untreated death at the median m, compensated for the first half (m / 2).
    m = PARAMS.haemorrhage_death_median_min
    assert PARAMS.haemorrhage_compensated_share == 0.5
    model = _quiet_model()
    early = _add(model, _critical_row(haemorrhage=True, needs_surgery=True))
    late = _add(model, _critical_row(haemorrhage=True, needs_surgery=True))
    for p in (early, late):
        assert p.untreated_death_min == pytest.approx(m)
    model.schedule(0.49 * m, Phase.ARRIVAL, early.begin_definitive_care, "big")
    model.schedule(0.8 * m, Phase.ARRIVAL, late.begin_definitive_care, "big")
    model.run(until=0.85 * m)
    v0 = early.initial_vitals()
    assert early.rpm_at_care == 10.0
    assert early.p_survival == pytest.approx(_triss_of_vitals(early, v0), abs=1e-12)
    # At 0.8 m: RPM 10 x (m - 0.8 m) / (m / 2) = 4, vitals of RPM 4.
    assert late.rpm_at_care == pytest.approx(4.0)
    v_late = vitals_at(
        PARAMS, late.codes0, late.loss_order, late.quantiles, 4, walking0=False, age=late.age
    )
    assert late.p_survival == pytest.approx(_triss_of_vitals(late, v_late), abs=1e-12)
    assert late.p_survival < early.p_survival
    assert early.outcome is Outcome.SURVIVED and late.outcome is Outcome.SURVIVED  # u = 0


def test_untreated_bleeder_dies_on_the_lognormal_clock() -> None:
    model = _quiet_model()
    z = 0.7
    p = _add(model, _critical_row(haemorrhage=True, needs_surgery=True, z_death=z))
    expected = PARAMS.haemorrhage_death_median_min * math.exp(PARAMS.haemorrhage_death_sigma * z)
    assert p.untreated_death_min == pytest.approx(expected)
    p.start_clock()
    model.run(until=expected + 1.0)
    assert p.state is PatientState.DEAD
    assert p.death_min == pytest.approx(expected)


def test_patient_admitted_to_a_free_resus_bay_starts_definitive_care_at_once() -> None:
    model = _quiet_model()
    p = _add(model, _critical_row(u_survival=0.999999))
    hospital = model.hospitals["big"]
    model.schedule(0.0, Phase.ARRIVAL, hospital.admit, p)
    model.run(until=5.0)
    assert p.definitive_care_min == 0.0
    assert p.p_survival == pytest.approx(_triss_of_vitals(p, p.initial_vitals()), abs=1e-12)
    assert p.outcome is not Outcome.SURVIVED  # u above any TRISS probability here


def test_in_a_run_without_decline_p_survival_is_triss_of_initial_vitals() -> None:
    # Critical casualties who do not decline (no haemorrhage, stable factor 0) reach definitive
    # care with their initial physiology, however long it takes: their p_survival column is
    # TRISS of the patients table's initial vitals.
    data = copy.deepcopy(small_scenario_data(casualties=60))
    data["schema_version"] = 2
    profile = builtin_profiles()["blast_confined"].model_dump()
    profile.update(haemorrhage_share=0.0, critical_share=0.5, serious_share=0.3)
    data["injury_profiles"] = {"steady": profile}
    data["incidents"][0]["injury_profile"] = "steady"
    data["physiology"] = {"stable_critical_deterioration_factor": 0.0}
    df = mcsim.simulate(parse_scenario(data), seed=3).patients
    treated = df[df["critical"] & df["definitive_care_min"].notna()]
    assert len(treated) >= 5
    for r in treated.itertuples():
        assert r.rpm_at_care == r.rpm0
        rts = out.revised_trauma_score(r.gcs0, r.sbp0, r.rr0)
        expected = _triss(rts, int(r.iss), int(r.age), bool(r.penetrating))
        assert r.p_survival == pytest.approx(expected, abs=1e-12), r.patient
