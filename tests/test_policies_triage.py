"""Triage tools against their decision tables, at every threshold edge (SCIENCE.md §1).

Each row is (observed vitals, expected tag); vitals not named in a row are those of a patient
who passes every test. The responder-error model and the perfect-information reference are
checked here too.
"""

from __future__ import annotations

import inspect

import pytest

from mcsim.enums import TriageTag
from mcsim.errors import InputError
from mcsim.physiology import PhysiologyParams, Vitals, observed_rpm
from mcsim.policies import default_registry
from mcsim.policies.registry import register
from mcsim.policies.stm import salvage_gain
from mcsim.policies.triage import (
    MPTT_THRESHOLDS,
    SIEVE_2013_THRESHOLDS,
    apply_mistriage,
    careflight,
    jumpstart,
    perfect,
    physiological_triage,
    salt,
    start,
)
from mcsim.policies.views import TriageContext, TrueState

IMM, D, M, X, DEAD = (
    TriageTag.IMMEDIATE,
    TriageTag.DELAYED,
    TriageTag.MINOR,
    TriageTag.EXPECTANT,
    TriageTag.DEAD,
)
PHYS = PhysiologyParams()


def vit(
    rr: int = 16,
    pulse: int = 80,
    sbp: int = 120,
    gcs: int = 15,
    *,
    walking: bool = False,
    age: int = 30,
    breathing: bool | None = None,
) -> Vitals:
    """Observed vitals of a non-walking adult who passes every test unless told otherwise."""
    return Vitals(
        rr=rr,
        pulse=pulse,
        sbp=sbp,
        gcs=gcs,
        motor_obeys=gcs >= 13,
        walking=walking,
        breathing=rr > 0 if breathing is None else breathing,
        age=age,
    )


START_TABLE = [
    (vit(walking=True, rr=40), M),  # walking comes first
    (vit(rr=0), DEAD),
    (vit(rr=30), D),
    (vit(rr=31), IMM),
    (vit(sbp=90), D),
    (vit(sbp=89), IMM),
    (vit(gcs=13), D),
    (vit(gcs=12), IMM),
    (vit(), D),
]


@pytest.mark.parametrize(("v", "tag"), START_TABLE)
def test_start_decision_table(v: Vitals, tag: TriageTag) -> None:
    """START: RR > 30, SBP < 90 or GCS < 13 → immediate; apnoeic → dead; walking → minor."""
    assert start(v) is tag


def child(**kw) -> Vitals:
    """A child of 5 with normal paediatric vitals unless told otherwise."""
    base = {"rr": 30, "pulse": 120, "sbp": 90, "gcs": 15, "age": 5}
    base.update(kw)
    return vit(**base)


JUMPSTART_TABLE = [
    (child(walking=True), M),
    (child(walking=True, age=0), D),  # infants are not sorted by walking
    (child(rr=0, pulse=100), IMM),  # apnoeic with a pulse: rescue breaths, immediate
    (child(rr=0, pulse=0), DEAD),
    (child(rr=15), D),
    (child(rr=14), IMM),
    (child(rr=45), D),
    (child(rr=46), IMM),
    (child(pulse=0, breathing=True), IMM),
    (child(sbp=70), D),
    (child(sbp=69), IMM),
    (child(gcs=9), D),
    (child(gcs=8), IMM),
    (child(age=8, rr=46), IMM),  # 8 years: still JumpSTART
    (child(age=9, rr=46), IMM),  # 9 years: START, RR > 30
    (child(age=9, rr=31, sbp=120), IMM),
    (child(age=9, rr=14, sbp=120), D),  # START has no lower RR limit
    (child(age=9, rr=0), DEAD),  # START: apnoeic adult is dead even with a pulse
    (child(), D),
]


@pytest.mark.parametrize(("v", "tag"), JUMPSTART_TABLE)
def test_jumpstart_decision_table(v: Vitals, tag: TriageTag) -> None:
    """JumpSTART for ages <= 8 (RR 15-45, pulse, SBP 70, GCS 9); START above."""
    assert jumpstart(v) is tag


def ctx(immediate_waiting: int = 0, at_scene: int = 0, free: int = 0) -> TriageContext:
    """A triage context with the given transport situation."""
    return TriageContext(
        immediate_waiting=immediate_waiting, vehicles_at_or_to_scene=at_scene, free_vehicles=free
    )


def test_rpm_of_the_vitals_used_for_salt_expectant() -> None:
    """The SALT rows below rely on these observed RPM values (RPM coding of SCIENCE.md §2)."""
    assert observed_rpm(vit(rr=5, pulse=150, gcs=3), PHYS) == 3
    assert observed_rpm(vit(rr=40, pulse=150, gcs=3), PHYS) == 4


SALT_TABLE = [
    (vit(rr=0), ctx(), DEAD),
    (vit(walking=True), ctx(), M),
    (vit(), ctx(), D),
    (vit(gcs=13), ctx(), D),
    (vit(gcs=12), ctx(), IMM),
    (vit(sbp=90), ctx(), D),
    (vit(sbp=89), ctx(), IMM),
    (vit(rr=30), ctx(), D),
    (vit(rr=31), ctx(), IMM),
    (vit(walking=True, rr=31), ctx(), IMM),  # a walker with a life threat is still immediate
    # Expectant needs scarce transport: waiting immediates > scarcity x vehicles.
    (vit(rr=5, pulse=150, gcs=3), ctx(immediate_waiting=3, at_scene=2, free=1), IMM),
    (vit(rr=5, pulse=150, gcs=3), ctx(immediate_waiting=4, at_scene=2, free=1), X),
    (vit(rr=40, pulse=150, gcs=3), ctx(immediate_waiting=4, at_scene=2, free=1), IMM),  # RPM 4
    (vit(rr=5, pulse=150, gcs=3), ctx(immediate_waiting=1, at_scene=0, free=0), X),
]


@pytest.mark.parametrize(("v", "c", "tag"), SALT_TABLE)
def test_salt_decision_table(v: Vitals, c: TriageContext, tag: TriageTag) -> None:
    """SALT: any failed question → immediate, expectant only if RPM <= 3 and transport scarce."""
    assert salt(v, context=c, physiology=PHYS) is tag


def test_salt_scarcity_parameter_moves_the_expectant_edge() -> None:
    """With scarcity 2, four waiting immediates over two vehicles are not yet scarce."""
    v = vit(rr=5, pulse=150, gcs=3)
    c = ctx(immediate_waiting=4, at_scene=2)
    assert salt(v, context=c, physiology=PHYS, scarcity=2.0) is IMM
    assert salt(v, context=ctx(immediate_waiting=5, at_scene=2), physiology=PHYS, scarcity=2) is X


SIEVE_TABLE = [
    (vit(walking=True, sbp=49, pulse=150), IMM),  # catastrophic haemorrhage before walking
    (vit(walking=True, sbp=50, pulse=150), M),
    (vit(sbp=0, pulse=0, rr=0), DEAD),  # no pulse: not a bleeding patient, apnoeic → dead
    (vit(rr=10), D),
    (vit(rr=9), IMM),
    (vit(rr=30), D),
    (vit(rr=31), IMM),
    (vit(pulse=120), D),
    (vit(pulse=121), IMM),
    (vit(gcs=3), D),  # the Sieve has no consciousness step
    (vit(), D),
]


@pytest.mark.parametrize(("v", "tag"), SIEVE_TABLE)
def test_triage_sieve_decision_table(v: Vitals, tag: TriageTag) -> None:
    """Triage Sieve 2013: haemorrhage first; RR < 10 or > 30, HR > 120 → immediate."""
    assert registered_tag("sieve", v) is tag


MPTT_TABLE = [
    (vit(walking=True, sbp=49, pulse=150), IMM),
    (vit(walking=True), M),
    (vit(rr=0), DEAD),
    (vit(rr=12), D),
    (vit(rr=11), IMM),
    (vit(rr=22), D),
    (vit(rr=23), IMM),
    (vit(pulse=100), D),
    (vit(pulse=101), IMM),
    (vit(gcs=14), D),
    (vit(gcs=13), IMM),
    (vit(), D),
]


@pytest.mark.parametrize(("v", "tag"), MPTT_TABLE)
def test_mptt_decision_table(v: Vitals, tag: TriageTag) -> None:
    """MPTT: RR < 12 or > 22, HR > 100, GCS < 14 → immediate (Vassallo 2017)."""
    assert registered_tag("mptt", v) is tag


def registered_tag(name: str, v: Vitals) -> TriageTag:
    """The tag of triage policy ``name`` called as the model calls it (its registered defaults)."""
    pol = default_registry().get("triage", name)
    return pol.func(v, **pol.bind())


@pytest.mark.parametrize(
    ("v", "sieve_tag", "mptt_tag", "why"),
    [
        (vit(rr=25), D, IMM, "RR 25: inside the Sieve's 10-30, above MPTT's 22"),
        (vit(rr=11), D, IMM, "RR 11: inside the Sieve's band, below MPTT's 12"),
        (vit(pulse=110), D, IMM, "HR 110: under the Sieve's 120, over MPTT's 100"),
        (vit(gcs=13), D, IMM, "GCS 13: the Sieve has no consciousness step, MPTT's is GCS < 14"),
        (vit(rr=31), IMM, IMM, "RR 31: outside both bands"),
        (vit(walking=True, rr=25, gcs=3), M, M, "walking comes before the bands in both"),
    ],
)
def test_sieve_and_mptt_are_one_algorithm_that_differs_only_in_thresholds(
    v: Vitals, sieve_tag: TriageTag, mptt_tag: TriageTag, why: str
) -> None:
    """The same patient, sorted by the Sieve's thresholds and by MPTT's narrower ones."""
    sieve = default_registry().get("triage", "sieve")
    mptt = default_registry().get("triage", "mptt")
    assert sieve.func is mptt.func is physiological_triage
    assert sieve.params == SIEVE_2013_THRESHOLDS and mptt.params == MPTT_THRESHOLDS
    assert (registered_tag("sieve", v), registered_tag("mptt", v)) == (sieve_tag, mptt_tag), why


def test_the_sieve_parameter_set_has_no_consciousness_step_to_tune() -> None:
    """``gcs_min`` is MPTT's parameter; setting it on the Sieve is refused with the valid list."""
    with pytest.raises(InputError, match="valid parameters: haemorrhage_sbp_max, rr_low"):
        default_registry().get("triage", "sieve").check_params({"gcs_min": 14})
    mptt = default_registry().get("triage", "mptt")
    assert physiological_triage(vit(gcs=12), **mptt.bind({"gcs_min": 12})) is D


def test_a_parameter_set_must_name_parameters_of_the_rule() -> None:
    """Registering a parameter set with a name the rule does not take is a programming error."""
    with pytest.raises(TypeError, match="rr_lo are not keyword-only parameters"):
        register("triage", "test-typo-set", "a typo", params={"rr_lo": 10})(physiological_triage)
    assert "test-typo-set" not in default_registry().names("triage")


CAREFLIGHT_TABLE = [
    (vit(walking=True, gcs=3), M),
    (vit(gcs=13, sbp=90), D),
    (vit(gcs=13, sbp=89), IMM),
    (vit(gcs=12, rr=16), IMM),
    (vit(gcs=12, rr=0), DEAD),
    (vit(gcs=15, rr=40), D),  # CareFlight does not count breaths
]


@pytest.mark.parametrize(("v", "tag"), CAREFLIGHT_TABLE)
def test_careflight_decision_table(v: Vitals, tag: TriageTag) -> None:
    """CareFlight: obeys + radial pulse → delayed; obeys, no pulse → immediate; else breathing."""
    assert careflight(v) is tag


def rpm_vitals(rpm: int) -> Vitals:
    """Non-walking vitals with an observed RPM of ``rpm`` (motor code 4 until RPM < 9)."""
    table = {
        10: vit(rr=30, pulse=130),  # 3 + 3 + 4
        9: vit(rr=40, pulse=130),  # 2 + 3 + 4
        8: vit(rr=40, pulse=150),  # 2 + 2 + 4
        7: vit(rr=40, pulse=150, gcs=10),  # 2 + 2 + 3
        6: vit(rr=40, pulse=150, gcs=7),  # 2 + 2 + 2
        3: vit(rr=5, pulse=150, gcs=3),  # 1 + 2 + 0
        2: vit(rr=5, pulse=50, gcs=3),  # 1 + 1 + 0
    }
    v = table[rpm]
    assert observed_rpm(v, PHYS) == rpm
    return v


@pytest.mark.parametrize(
    ("rpm", "tag"), [(10, D), (9, D), (8, D), (7, IMM), (6, IMM), (3, IMM), (2, X)]
)
def test_stm_triage_tags_follow_the_salvage_gain(rpm: int, tag: TriageTag) -> None:
    """STM: gain over 60 min >= 0.15 → immediate (RPM 3-7), RPM <= 2 → expectant, else delayed."""
    assert default_registry().get("triage", "stm").func(rpm_vitals(rpm), physiology=PHYS) is tag


def test_stm_triage_immediate_gain_edge() -> None:
    """A gain exactly at ``immediate_gain`` is immediate; just above it is not."""
    fn = default_registry().get("triage", "stm").func
    g = salvage_gain(7, 60.0, PHYS)
    assert fn(rpm_vitals(7), physiology=PHYS, immediate_gain=g) is IMM
    assert fn(rpm_vitals(7), physiology=PHYS, immediate_gain=g + 1e-9) is D
    assert fn(vit(walking=True), physiology=PHYS) is M
    assert fn(vit(rr=0), physiology=PHYS) is DEAD


def test_perfect_triage_reads_the_true_state_not_the_observation() -> None:
    """The reference tags critical → immediate whatever was observed; its truth is explicit."""
    pol = default_registry().get("triage", "perfect")
    assert pol.injected == frozenset({"truth"})
    sig = inspect.signature(perfect).parameters["truth"]
    assert sig.kind is inspect.Parameter.KEYWORD_ONLY and sig.default is inspect.Parameter.empty
    looks_well = vit(walking=True)
    truly_bad = TrueState(vitals=vit(rr=40, pulse=150), rpm=8, critical=True)
    assert perfect(looks_well, truth=truly_bad) is IMM
    truly_fine = TrueState(vitals=vit(walking=True), rpm=12, critical=False)
    assert perfect(vit(rr=40), truth=truly_fine) is M
    serious = TrueState(vitals=vit(), rpm=10, critical=False)
    assert perfect(vit(), truth=serious) is D
    assert perfect(vit(), truth=TrueState(vitals=vit(rr=0), rpm=0, critical=False)) is DEAD


def test_field_tools_do_not_ask_for_the_true_state() -> None:
    """No field triage tool receives ``truth``: only the reference does."""
    for pol in default_registry().all():
        if pol.kind == "triage" and pol.name != "perfect":
            assert "truth" not in pol.injected, pol.name


@pytest.mark.parametrize(
    ("tag", "u", "expected"),
    [
        (M, 0.099, D),  # u < minor_over
        (M, 0.100, M),  # u == minor_over: no error
        (D, 0.049, IMM),  # u < delayed_over
        (D, 0.050, D),
        (D, 0.799, D),
        (D, 0.800, M),  # u >= 1 - delayed_under
        (IMM, 0.699, IMM),
        (IMM, 0.700, D),  # u >= 1 - immediate_under
        (IMM, 0.0, IMM),  # immediate cannot be over-triaged
        (X, 0.999, X),
        (DEAD, 0.0, DEAD),
    ],
)
def test_mistriage_moves_one_step_by_one_uniform(tag, u, expected) -> None:
    """Responder error: over if u < p_over, under if u >= 1 - p_under, one step at most."""
    probs = {"minor_over": 0.1, "delayed_over": 0.05, "delayed_under": 0.2, "immediate_under": 0.3}
    assert apply_mistriage(tag, u, **probs) is expected


def test_mistriage_with_zero_probabilities_changes_nothing() -> None:
    """With the default (no error) every tag passes through for any draw."""
    for tag in (IMM, D, M, X, DEAD):
        for u in (0.0, 0.5, 0.999999):
            assert apply_mistriage(tag, u) is tag


def test_policy_parameters_are_checked_with_the_valid_ones_listed() -> None:
    """An unknown parameter names the valid ones; a wrong type names the expected type."""
    pol = default_registry().get("triage", "start")
    with pytest.raises(InputError, match="valid parameters: rr_max, sbp_min, gcs_min"):
        pol.check_params({"rr_maxx": 29}, path="p")
    with pytest.raises(InputError, match="needs a number"):
        pol.check_params({"rr_max": "29"})
    with pytest.raises(InputError, match="needs a number"):
        pol.check_params({"rr_max": True})
    assert pol.bind({"rr_max": 29}) == {"rr_max": 29, "sbp_min": 90, "gcs_min": 13}
