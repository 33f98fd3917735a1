"""Tests of casualty generation: reproducibility, shares, internal consistency, validation.

Schema 2 definitions (mcsim/casualties.py): critical means ISS > 15 with initial RPM 2..12,
serious ISS 9-15 with RPM 9..12, minor ISS 1-8 with RPM 11..12, the dead on scene RPM 0 (ISS
75). Living casualties keep RR and pulse codes >= 1; haemorrhage only among the critical,
compressible bleeds only among haemorrhages, and every haemorrhage needs surgery.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from mcsim.casualties import (
    CRITICAL_ISS_BANDS,
    MINOR_ISS,
    SERIOUS_ISS,
    SEVERITY_BY_CODE,
    CasualtyTable,
    InjuryProfile,
    builtin_profiles,
    generate_casualties,
)
from mcsim.enums import Severity, TriageTag
from mcsim.errors import InputError
from mcsim.physiology import PhysiologyParams, code_pulse, code_rr, vitals_at, vitals_from_codes
from mcsim.policies.triage import start

N = 20_000
KW = dict(child_share=0.1, self_transport_share=0.4)

#: Initial RPM values each living class draws from, in the order of its weights.
RPM_VALUES = {
    1: np.arange(2, 13),  # critical_rpm_weights
    2: np.arange(9, 13),  # serious_rpm_weights
    3: np.arange(11, 13),  # minor_rpm_weights
}
WEIGHTS_FIELD = {1: "critical_rpm_weights", 2: "serious_rpm_weights", 3: "minor_rpm_weights"}


def _gen(profile: str = "blast_confined", seed: int = 7, n: int = N, **kw) -> CasualtyTable:
    args = {**KW, **kw}
    return generate_casualties(
        n, builtin_profiles()[profile], rng=np.random.default_rng(seed), **args
    )


def _gen_profile(prof: InjuryProfile, seed: int = 7, n: int = N, **kw) -> CasualtyTable:
    return generate_casualties(n, prof, rng=np.random.default_rng(seed), **{**KW, **kw})


def _share_tol(p: float, n: int) -> float:
    """Four binomial standard errors: a false failure about once in 16,000 runs."""
    return 4 * np.sqrt(p * (1 - p) / n) + 1e-9


@pytest.fixture(scope="module")
def table() -> CasualtyTable:
    return _gen(extraction_share=0.2, extraction_min_range=(10.0, 40.0))


@pytest.fixture(scope="module")
def tables() -> dict[str, CasualtyTable]:
    """20,000 casualties of every built-in profile."""
    return {name: _gen(name) for name in sorted(builtin_profiles())}


def test_same_seed_gives_identical_casualties() -> None:
    a, b = _gen(seed=3), _gen(seed=3)
    for name in CasualtyTable.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_different_seed_gives_different_casualties() -> None:
    a, b = _gen(seed=3), _gen(seed=4)
    assert not np.array_equal(a.u_survival, b.u_survival)
    assert not np.array_equal(a.z_death, b.z_death)
    assert not np.array_equal(a.iss, b.iss)


def test_draws_do_not_depend_on_share_arguments() -> None:
    # Common random numbers: changing the self-transport share changes only who self-transports.
    a = _gen(seed=5, self_transport_share=0.1)
    b = _gen(seed=5, self_transport_share=0.9)
    for name in CasualtyTable.__dataclass_fields__:
        if name == "self_transport":
            continue
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert b.self_transport.sum() > a.self_transport.sum()


def test_draws_do_not_depend_on_bleeding_shares() -> None:
    # Changing the haemorrhage or compressible share changes who bleeds (and so who needs
    # surgery), nothing else about the casualties.
    base = builtin_profiles()["blast_confined"]
    a = _gen_profile(base.model_copy(update={"haemorrhage_share": 0.1, "compressible_share": 0.1}))
    b = _gen_profile(base.model_copy(update={"haemorrhage_share": 0.9, "compressible_share": 0.9}))
    changed = {"haemorrhage", "compressible", "needs_surgery"}
    for name in CasualtyTable.__dataclass_fields__:
        if name not in changed:
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert b.haemorrhage.sum() > a.haemorrhage.sum()
    assert b.compressible.sum() > a.compressible.sum()
    # A larger share only adds bleeders: the same uniforms decide.
    assert not np.any(a.haemorrhage & ~b.haemorrhage)
    assert not np.any(a.needs_surgery & ~b.needs_surgery)


def test_n_casualties_are_generated() -> None:
    assert len(_gen(n=10)) == 10
    empty = _gen(n=0)
    assert len(empty) == 0
    for name in CasualtyTable.__dataclass_fields__:
        assert len(getattr(empty, name)) == 0, name


@pytest.mark.parametrize("name", sorted(builtin_profiles()))
def test_severity_shares_match_the_profile(name: str, tables: dict[str, CasualtyTable]) -> None:
    prof = builtin_profiles()[name]
    t = tables[name]
    d = prof.immediate_death_share
    expected = {
        Severity.DEAD_ON_SCENE: d,
        Severity.CRITICAL: (1 - d) * prof.critical_share,
        Severity.SERIOUS: (1 - d) * prof.serious_share,
        Severity.MINOR: (1 - d) * (1 - prof.critical_share - prof.serious_share),
    }
    counts = np.bincount(t.severity, minlength=4) / len(t)
    for code, sev in enumerate(SEVERITY_BY_CODE):
        assert counts[code] == pytest.approx(expected[sev], abs=_share_tol(expected[sev], N)), sev


@pytest.mark.parametrize("name", ["blast_confined", "nerve_agent"])
@pytest.mark.parametrize("code", [1, 2, 3], ids=["critical", "serious", "minor"])
def test_rpm_distribution_within_a_class_follows_weights(
    name: str, code: int, tables: dict[str, CasualtyTable]
) -> None:
    prof = builtin_profiles()[name]
    t = tables[name]
    values = RPM_VALUES[code]
    weights = np.asarray(getattr(prof, WEIGHTS_FIELD[code]), dtype=float)
    assert len(weights) == len(values)
    r = t.rpm0[t.severity == code]
    assert len(r) > 300
    observed = np.bincount(r, minlength=13)
    assert observed[: values[0]].sum() == 0, "no RPM below the class's range"
    w = weights / weights.sum()
    for value, p_exp in zip(values, w, strict=True):
        p_obs = observed[value] / len(r)
        if p_exp == 0:
            assert p_obs == 0, value  # a weight of 0 is never drawn
        else:
            assert p_obs == pytest.approx(p_exp, abs=_share_tol(p_exp, len(r))), value


def test_default_critical_casualties_are_mostly_compensated(table: CasualtyTable) -> None:
    # The default critical weights put RPM 2..8 at 0: ISS > 15 is mostly compensated at first.
    prof = builtin_profiles()["blast_confined"]
    assert prof.critical_rpm_weights == [0, 0, 0, 0, 0, 0, 0, 1, 2, 6, 16]
    crit = table.rpm0[table.severity == 1]
    assert crit.min() == 9 and crit.max() == 12
    assert (crit == 12).mean() == pytest.approx(16 / 25, abs=_share_tol(16 / 25, len(crit)))


@pytest.mark.parametrize("name", sorted(builtin_profiles()))
def test_rpm_ranges_per_severity(name: str, tables: dict[str, CasualtyTable]) -> None:
    t = tables[name]
    sev, r = t.severity, t.rpm0
    assert np.all(r[sev == 0] == 0)
    assert np.all((r[sev == 1] >= 2) & (r[sev == 1] <= 12))
    assert np.all((r[sev == 2] >= 9) & (r[sev == 2] <= 12))
    assert np.all((r[sev == 3] >= 11) & (r[sev == 3] <= 12))
    assert np.all(r[sev > 0] >= 2), "every immediate survivor has an RPM of at least 2"


def test_the_whole_critical_rpm_range_is_reachable() -> None:
    # Weight on RPM 2 only: every critical casualty has RR 1, pulse 1, motor 0.
    prof = builtin_profiles()["blast_confined"].model_copy(
        update={"critical_rpm_weights": [1] + [0] * 10}
    )
    t = _gen_profile(prof, n=5000)
    crit = t.severity == 1
    assert crit.sum() > 300
    assert np.all(t.rpm0[crit] == 2)
    assert np.all(t.c_rr[crit] == 1) and np.all(t.c_pulse[crit] == 1)
    assert np.all(t.c_motor[crit] == 0)
    # Weight on RPM 12 only, and serious on 12 only: no deficit at all.
    prof12 = prof.model_copy(
        update={"critical_rpm_weights": [0] * 10 + [1], "serious_rpm_weights": [0, 0, 0, 1]}
    )
    t12 = _gen_profile(prof12, n=5000)
    living = (t12.severity == 1) | (t12.severity == 2)
    assert np.all(t12.rpm0[living] == 12)
    for arr in (t12.c_rr, t12.c_pulse, t12.c_motor):
        assert np.all(arr[living] == 4)


@pytest.mark.parametrize("name", sorted(builtin_profiles()))
def test_iss_ranges_per_severity(name: str, tables: dict[str, CasualtyTable]) -> None:
    t = tables[name]
    sev, iss = t.severity, t.iss
    assert np.all(iss[sev == 0] == 75)
    assert np.all((iss[sev == 1] > 15) & (iss[sev == 1] <= 75))
    assert np.all((iss[sev == 2] >= SERIOUS_ISS[0]) & (iss[sev == 2] <= SERIOUS_ISS[1]))
    assert np.all((iss[sev == 3] >= MINOR_ISS[0]) & (iss[sev == 3] <= MINOR_ISS[1]))
    assert SERIOUS_ISS == (9, 15) and MINOR_ISS == (1, 8)
    # Uniform over the range: every serious and minor ISS value occurs.
    assert set(np.unique(iss[sev == 2])) == set(range(9, 16))
    assert set(np.unique(iss[sev == 3])) == set(range(1, 9))


def test_critical_iss_bands_follow_the_weights(table: CasualtyTable) -> None:
    prof = builtin_profiles()["blast_confined"]
    assert CRITICAL_ISS_BANDS == ((16, 24), (25, 34), (35, 49), (50, 75))
    assert len(prof.critical_iss_weights) == 4
    iss = table.iss[table.severity == 1]
    w = np.asarray(prof.critical_iss_weights) / sum(prof.critical_iss_weights)
    for (lo, hi), p_exp in zip(CRITICAL_ISS_BANDS, w, strict=True):
        in_band = (iss >= lo) & (iss <= hi)
        assert in_band.mean() == pytest.approx(p_exp, abs=_share_tol(p_exp, len(iss))), (lo, hi)
        # Uniform inside the band: both ends are drawn.
        assert iss[in_band].min() == lo and iss[in_band].max() == hi


def test_iss_band_weights_are_honoured_exactly() -> None:
    prof = builtin_profiles()["blast_confined"].model_copy(
        update={"critical_iss_weights": [0, 0, 0, 1]}
    )
    t = _gen_profile(prof, n=5000)
    iss = t.iss[t.severity == 1]
    assert len(iss) > 300 and iss.min() >= 50 and iss.max() <= 75


def test_codes_sum_to_rpm0_and_stay_in_range(table: CasualtyTable) -> None:
    codes = np.stack([table.c_rr, table.c_pulse, table.c_motor], axis=1)
    np.testing.assert_array_equal(codes.sum(axis=1), table.rpm0)
    assert codes.min() >= 0 and codes.max() <= 4


@pytest.mark.parametrize("name", sorted(builtin_profiles()))
def test_no_living_casualty_is_apnoeic_or_pulseless(
    name: str, tables: dict[str, CasualtyTable]
) -> None:
    t = tables[name]
    living = t.severity > 0
    assert t.c_rr[living].min() >= 1
    assert t.c_pulse[living].min() >= 1
    params = PhysiologyParams()
    for i in np.nonzero(living)[0][:300]:
        codes = (int(t.c_rr[i]), int(t.c_pulse[i]), int(t.c_motor[i]))
        v = vitals_from_codes(
            params, codes, tuple(t.q[i]), walking0=bool(t.walking0[i]), age=int(t.age[i])
        )
        assert v.breathing and v.rr > 0 and v.pulse > 0
        # START never tags an immediate survivor dead at first look.
        assert start(v) is not TriageTag.DEAD


def test_motor_floor_for_serious_and_minor(table: CasualtyTable) -> None:
    prof = builtin_profiles()["blast_confined"]
    assert prof.noncritical_motor_min_code == 3 and prof.minor_motor_min_code == 4
    assert table.c_motor[table.severity == 2].min() == prof.noncritical_motor_min_code
    assert np.all(table.c_motor[table.severity == 3] == 4)


def test_deficit_reaches_every_component(tables: dict[str, CasualtyTable]) -> None:
    # The split is random: among casualties with a deficit each component sometimes loses
    # points (at least a third of the time when the deficit is one point).
    t = tables["blast_confined"]
    for code in (1, 2):
        hurt = (t.severity == code) & (t.rpm0 < 12)
        assert hurt.sum() > 500
        for arr in (t.c_rr, t.c_pulse, t.c_motor):
            assert (arr[hurt] < 4).mean() > 0.3
    # nerve_agent spreads critical RPM over 2..12: most lose points in every component.
    t = tables["nerve_agent"]
    crit = t.severity == 1
    for arr in (t.c_rr, t.c_pulse, t.c_motor):
        assert (arr[crit] < 4).mean() > 0.6


def test_dead_on_scene_are_not_breathing(table: CasualtyTable) -> None:
    params = PhysiologyParams()
    dead = table.severity == 0
    assert np.all(table.c_rr[dead] == 0) and np.all(table.c_pulse[dead] == 0)
    assert np.all(table.c_motor[dead] == 0)
    for i in np.nonzero(dead)[0][:50]:
        codes = (int(table.c_rr[i]), int(table.c_pulse[i]), int(table.c_motor[i]))
        v = vitals_from_codes(params, codes, tuple(table.q[i]), walking0=False, age=30)
        assert v.breathing is False and v.rr == 0 and v.pulse == 0
        assert start(v) is TriageTag.DEAD


def test_dead_on_scene_do_not_bleed_or_need_surgery(table: CasualtyTable) -> None:
    dead = table.severity == 0
    assert not np.any(table.haemorrhage[dead] | table.compressible[dead])
    assert not np.any(table.needs_surgery[dead])


@pytest.mark.parametrize("name", sorted(builtin_profiles()))
def test_haemorrhage_only_among_critical_at_profile_shares(
    name: str, tables: dict[str, CasualtyTable]
) -> None:
    prof = builtin_profiles()[name]
    t = tables[name]
    crit = t.severity == 1
    assert not np.any(t.haemorrhage & ~crit)
    assert not np.any(t.compressible & ~t.haemorrhage)
    h = prof.haemorrhage_share
    assert t.haemorrhage[crit].mean() == pytest.approx(h, abs=_share_tol(h, int(crit.sum())))
    if h > 0:
        c = prof.compressible_share
        n_bleed = int(t.haemorrhage.sum())
        assert t.compressible[t.haemorrhage].mean() == pytest.approx(c, abs=_share_tol(c, n_bleed))
    else:
        assert not t.haemorrhage.any() and not t.compressible.any()


def test_bleeding_shares_at_their_extremes() -> None:
    base = builtin_profiles()["blast_confined"]
    t = _gen_profile(base.model_copy(update={"haemorrhage_share": 1.0, "compressible_share": 1.0}))
    crit = t.severity == 1
    np.testing.assert_array_equal(t.haemorrhage, crit)
    np.testing.assert_array_equal(t.compressible, crit)
    assert np.all(t.needs_surgery[crit])
    t0 = _gen_profile(base.model_copy(update={"haemorrhage_share": 1.0, "compressible_share": 0}))
    assert t0.haemorrhage.sum() == crit.sum() and not t0.compressible.any()


def test_z_death_is_standard_normal(table: CasualtyTable) -> None:
    z = table.z_death
    assert abs(z.mean()) < 4 / np.sqrt(N)
    assert z.std() == pytest.approx(1.0, abs=0.03)


def test_only_minor_walk_and_only_walkers_self_transport(table: CasualtyTable) -> None:
    np.testing.assert_array_equal(table.walking0, table.severity == 3)
    assert not np.any(table.self_transport & ~table.walking0)
    share = table.self_transport[table.walking0].mean()
    assert share == pytest.approx(0.4, abs=_share_tol(0.4, int(table.walking0.sum())))


def test_loss_orders_are_permutations(table: CasualtyTable) -> None:
    np.testing.assert_array_equal(np.sort(table.loss_order, axis=1), np.tile([0, 1, 2], (N, 1)))


def test_ages_children_and_adults(table: CasualtyTable) -> None:
    children = table.age < 18
    assert children.mean() == pytest.approx(0.1, abs=_share_tol(0.1, N))
    assert table.age[children].min() >= 1 and table.age.max() <= 80


def test_age_ranges_are_honoured() -> None:
    t = _gen(n=5000, child_share=0.5, child_age_range=(2, 4), adult_age_range=(55, 60))
    children = t.age < 18
    assert children.mean() == pytest.approx(0.5, abs=_share_tol(0.5, 5000))
    assert set(np.unique(t.age[children])) == {2, 3, 4}
    assert set(np.unique(t.age[~children])) == set(range(55, 61))


def test_times_in_their_ranges(table: CasualtyTable) -> None:
    assert table.triage_min.min() >= 0.5 and table.triage_min.max() <= 1.0
    trapped = table.extraction_min > 0
    assert trapped.mean() == pytest.approx(0.2, abs=_share_tol(0.2, N))
    assert table.extraction_min[trapped].min() >= 10 and table.extraction_min.max() <= 40
    assert table.self_transport_delay_min.min() >= 5 and table.self_transport_delay_min.max() <= 30


def test_no_extraction_by_default() -> None:
    assert np.all(_gen(n=1000).extraction_min == 0)


def test_surgery_only_for_critical_and_serious_at_profile_shares(
    tables: dict[str, CasualtyTable],
) -> None:
    # needs_surgery = (drawn by the class's surgery share) OR haemorrhage, the two drawn
    # independently: P(critical needs surgery) = 1 - (1 - s)(1 - h).
    prof = builtin_profiles()["gunshot"]
    t = tables["gunshot"]
    assert not np.any(t.needs_surgery[(t.severity == 0) | (t.severity == 3)])
    crit = t.severity == 1
    assert np.all(t.needs_surgery[t.haemorrhage]), "every haemorrhage needs surgery"
    stable = crit & ~t.haemorrhage
    s = prof.surgery_share_critical
    assert t.needs_surgery[stable].mean() == pytest.approx(s, abs=_share_tol(s, int(stable.sum())))
    p_crit = 1 - (1 - s) * (1 - prof.haemorrhage_share)
    assert p_crit == pytest.approx(0.9)
    assert t.needs_surgery[crit].mean() == pytest.approx(
        p_crit, abs=_share_tol(p_crit, int(crit.sum()))
    )
    ser = t.severity == 2
    s2 = prof.surgery_share_serious
    assert t.needs_surgery[ser].mean() == pytest.approx(s2, abs=_share_tol(s2, int(ser.sum())))
    assert np.all(t.penetrating)


def test_no_surgery_shares_means_only_bleeders_need_surgery(
    tables: dict[str, CasualtyTable],
) -> None:
    base = builtin_profiles()["blast_confined"]
    t = _gen_profile(
        base.model_copy(update={"surgery_share_critical": 0.0, "surgery_share_serious": 0.0})
    )
    np.testing.assert_array_equal(t.needs_surgery, t.haemorrhage)
    nerve = tables["nerve_agent"]
    assert not nerve.needs_surgery.any() and not nerve.haemorrhage.any()


def test_gunshot_surgery_share_of_admitted_matches_raux() -> None:
    # Raux et al. 2019: 54 % of admitted casualties needed emergency surgery.
    prof = builtin_profiles()["gunshot"]
    c, s = prof.critical_share, prof.serious_share
    p_crit = 1 - (1 - prof.surgery_share_critical) * (1 - prof.haemorrhage_share)
    expected = (c * p_crit + s * prof.surgery_share_serious) / (c + s)
    assert expected == pytest.approx(0.55, abs=1e-9)
    assert expected == pytest.approx(0.54, abs=0.02)
    t = _gen("gunshot", n=50_000)
    admitted = (t.severity == 1) | (t.severity == 2)
    n_adm = int(admitted.sum())
    assert t.needs_surgery[admitted].mean() == pytest.approx(
        expected, abs=_share_tol(expected, n_adm)
    )


def test_blast_profiles_follow_arnold_and_frykberg() -> None:
    # Immediate deaths and admission rates: Arnold 2003 medians (open air 1 % / 13 %, confined
    # 4 % / 52 %); critical = 251 / 881 of the admitted (Frykberg & Tepas 1988).
    profiles = builtin_profiles()
    for name, dead, admitted in (("blast_open_air", 0.01, 0.13), ("blast_confined", 0.04, 0.52)):
        p = profiles[name]
        assert p.immediate_death_share == pytest.approx(dead)
        assert p.critical_share + p.serious_share == pytest.approx(admitted)
        assert p.critical_share / (p.critical_share + p.serious_share) == pytest.approx(
            251 / 881, abs=0.001
        )


def test_open_air_blast_is_mostly_walking_wounded_with_a_handful_dead(
    tables: dict[str, CasualtyTable],
) -> None:
    t = tables["blast_open_air"]
    assert (t.severity == 0).mean() < 0.03
    admitted = ((t.severity == 1) | (t.severity == 2)).mean()
    expected = 0.99 * 0.13
    assert admitted == pytest.approx(expected, abs=_share_tol(expected, N))
    assert t.walking0.mean() > 0.8


def test_table_is_read_only(table: CasualtyTable) -> None:
    for name in ("rpm0", "iss", "haemorrhage", "compressible", "z_death"):
        with pytest.raises(ValueError):
            getattr(table, name)[0] = 5


def test_table_refuses_arrays_of_different_lengths(table: CasualtyTable) -> None:
    arrays = {
        name: np.array(getattr(table, name)[:5]) for name in CasualtyTable.__dataclass_fields__
    }
    arrays["iss"] = np.array(table.iss[:4])
    with pytest.raises(ValueError, match="iss has 4 entries"):
        CasualtyTable(**arrays)


def test_severity_of_returns_the_enum(table: CasualtyTable) -> None:
    i = int(np.nonzero(table.severity == 1)[0][0])
    assert table.severity_of(i) is Severity.CRITICAL


def test_vitals_recode_to_generated_codes(table: CasualtyTable) -> None:
    params = PhysiologyParams()
    for i in range(200):
        codes = (int(table.c_rr[i]), int(table.c_pulse[i]), int(table.c_motor[i]))
        v = vitals_from_codes(
            params,
            codes,
            tuple(table.q[i]),
            walking0=bool(table.walking0[i]),
            age=int(table.age[i]),
        )
        assert code_rr(v.rr) == codes[0] and code_pulse(v.pulse) == codes[1]
        assert v.walking is bool(table.walking0[i])


# ---- Invalid input ------------------------------------------------------------------------


def _profile_kwargs(**override) -> dict:
    base = builtin_profiles()["blast_open_air"].model_dump()
    base.update(override)
    return base


def test_profile_defaults_have_the_schema_2_lengths() -> None:
    p = InjuryProfile(
        **{
            k: v
            for k, v in _profile_kwargs().items()
            if k
            not in (
                "critical_rpm_weights",
                "serious_rpm_weights",
                "minor_rpm_weights",
                "critical_iss_weights",
                "haemorrhage_share",
                "compressible_share",
            )
        }
    )
    assert p.critical_rpm_weights == [0, 0, 0, 0, 0, 0, 0, 1, 2, 6, 16]
    assert p.serious_rpm_weights == [0, 1, 3, 8]
    assert p.minor_rpm_weights == [1, 3]
    assert p.critical_iss_weights == [0.55, 0.3, 0.12, 0.03]
    assert p.haemorrhage_share == 0.4 and p.compressible_share == 0.3


def test_shares_above_one_refused() -> None:
    with pytest.raises(ValidationError, match="must be <= 1"):
        InjuryProfile(**_profile_kwargs(critical_share=0.6, serious_share=0.5))


@pytest.mark.parametrize(
    "field",
    [
        "immediate_death_share",
        "critical_share",
        "serious_share",
        "haemorrhage_share",
        "compressible_share",
        "surgery_share_critical",
        "surgery_share_serious",
    ],
)
@pytest.mark.parametrize("value", [1.5, -0.1])
def test_share_outside_unit_interval_refused(field: str, value: float) -> None:
    with pytest.raises(ValidationError, match=field):
        InjuryProfile(**_profile_kwargs(**{field: value}))


@pytest.mark.parametrize(
    ("field", "n", "wrong"),
    [
        ("critical_rpm_weights", 11, [1, 2, 3]),
        ("critical_rpm_weights", 11, [1] * 8),  # the schema-1 length (RPM 1..8)
        ("critical_rpm_weights", 11, [1] * 12),
        ("serious_rpm_weights", 4, [1, 2, 3]),  # the schema-1 length (RPM 9..11)
        ("serious_rpm_weights", 4, [1] * 5),
        ("minor_rpm_weights", 2, [1]),
        ("minor_rpm_weights", 2, [1, 1, 1]),
        ("critical_iss_weights", 4, [1, 1, 1]),
        ("critical_iss_weights", 4, [1] * 5),
    ],
)
def test_wrong_number_of_weights_refused(field: str, n: int, wrong: list[float]) -> None:
    with pytest.raises(
        ValidationError, match=f"{field}[\\s\\S]*needs {n} weights, got {len(wrong)}"
    ):
        InjuryProfile(**_profile_kwargs(**{field: wrong}))


@pytest.mark.parametrize(
    ("field", "n"),
    [
        ("critical_rpm_weights", 11),
        ("serious_rpm_weights", 4),
        ("minor_rpm_weights", 2),
        ("critical_iss_weights", 4),
    ],
)
def test_right_number_of_weights_accepted(field: str, n: int) -> None:
    p = InjuryProfile(**_profile_kwargs(**{field: [1.0] * n}))
    assert getattr(p, field) == [1.0] * n


@pytest.mark.parametrize(
    ("field", "n"),
    [
        ("critical_rpm_weights", 11),
        ("serious_rpm_weights", 4),
        ("minor_rpm_weights", 2),
        ("critical_iss_weights", 4),
    ],
)
def test_negative_infinite_or_zero_weights_refused(field: str, n: int) -> None:
    negative = [1.0] * n
    negative[-1] = -1.0
    with pytest.raises(ValidationError, match=">= 0"):
        InjuryProfile(**_profile_kwargs(**{field: negative}))
    infinite = [1.0] * n
    infinite[0] = float("inf")
    with pytest.raises(ValidationError, match="finite"):
        InjuryProfile(**_profile_kwargs(**{field: infinite}))
    nan = [1.0] * n
    nan[0] = float("nan")
    with pytest.raises(ValidationError, match="finite"):
        InjuryProfile(**_profile_kwargs(**{field: nan}))
    with pytest.raises(ValidationError, match="all be 0"):
        InjuryProfile(**_profile_kwargs(**{field: [0] * n}))


def test_unknown_profile_key_refused() -> None:
    with pytest.raises(ValidationError, match="valid keys"):
        InjuryProfile(**_profile_kwargs(critical=0.1))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"child_share": 1.5}, "child_share"),
        ({"self_transport_share": -0.1}, "self_transport_share"),
        ({"extraction_share": 2.0}, "extraction_share"),
        ({"extraction_min_range": (30.0, 10.0)}, "extraction_min_range"),
        ({"triage_min_range": (-1.0, 1.0)}, "triage_min_range"),
        ({"child_age_range": (10, 5)}, "child_age_range"),
        ({"adult_age_range": (80, 18)}, "adult_age_range"),
    ],
)
def test_invalid_arguments_raise_input_error(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        _gen(n=10, **kwargs)


def test_negative_n_raises_input_error() -> None:
    with pytest.raises(InputError, match="number of casualties"):
        _gen(n=-1)


def test_every_builtin_profile_has_a_source() -> None:
    for name, prof in builtin_profiles().items():
        assert prof.source.strip(), name
        assert prof.description.strip(), name


def test_row_gives_plain_values_consistent_with_the_arrays(table: CasualtyTable) -> None:
    params = PhysiologyParams()
    i = int(np.nonzero(table.severity == 1)[0][0])
    row = table.row(i, params)
    assert row["severity"] is Severity.CRITICAL
    assert row["critical"] is True
    assert sum(row["codes0"]) == row["rpm0"] == int(table.rpm0[i])
    assert isinstance(row["rpm0"], int) and isinstance(row["u_survival"], float)
    assert row["iss"] == int(table.iss[i]) and isinstance(row["iss"], int)
    assert row["haemorrhage"] is bool(table.haemorrhage[i])
    assert row["compressible"] is bool(table.compressible[i])
    assert row["z_death"] == float(table.z_death[i]) and isinstance(row["z_death"], float)
    minor = int(np.nonzero(table.severity == 3)[0][0])
    assert table.row(minor, params)["critical"] is False
    v = vitals_at(
        params,
        row["codes0"],
        row["loss_order"],
        row["quantiles"],
        row["rpm0"],
        walking0=row["walking0"],
        age=row["age"],
    )
    assert code_rr(v.rr) == row["codes0"][0]


def test_row_critical_means_iss_above_15_and_alive(table: CasualtyTable) -> None:
    params = PhysiologyParams()
    for i in range(3000):
        row = table.row(i, params)
        assert row["critical"] is (row["severity"] is Severity.CRITICAL), i
        assert row["critical"] is (row["rpm0"] > 0 and row["iss"] > 15), i


def test_rows_equal_row_for_every_casualty() -> None:
    """The bulk conversion the model uses gives exactly the per-casualty rows, types included."""
    params = PhysiologyParams()
    for name in ("blast_confined", "gunshot"):
        table = generate_casualties(
            300,
            builtin_profiles()[name],
            child_share=0.1,
            self_transport_share=0.4,
            rng=np.random.default_rng(9),
        )
        rows = list(table.rows())
        assert len(rows) == len(table)
        for i, row in enumerate(rows):
            expected = table.row(i, params)
            assert row == expected
            assert {k: type(v) for k, v in row.items()} == {k: type(v) for k, v in expected.items()}
