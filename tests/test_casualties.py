"""Tests of casualty generation: reproducibility, shares, internal consistency, validation."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from mcsim.casualties import (
    SEVERITY_BY_CODE,
    CasualtyTable,
    InjuryProfile,
    builtin_profiles,
    generate_casualties,
)
from mcsim.enums import Severity
from mcsim.errors import InputError
from mcsim.physiology import PhysiologyParams, code_pulse, code_rr, vitals_at, vitals_from_codes

N = 20_000
KW = dict(child_share=0.1, self_transport_share=0.4)


def _gen(profile: str = "blast_confined", seed: int = 7, n: int = N, **kw) -> CasualtyTable:
    args = {**KW, **kw}
    return generate_casualties(
        n, builtin_profiles()[profile], rng=np.random.default_rng(seed), **args
    )


def _share_tol(p: float, n: int) -> float:
    """Four binomial standard errors: a false failure about once in 16,000 runs."""
    return 4 * np.sqrt(p * (1 - p) / n) + 1e-9


@pytest.fixture(scope="module")
def table() -> CasualtyTable:
    return _gen(extraction_share=0.2, extraction_min_range=(10.0, 40.0))


def test_same_seed_gives_identical_casualties() -> None:
    a, b = _gen(seed=3), _gen(seed=3)
    for name in CasualtyTable.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_different_seed_gives_different_casualties() -> None:
    assert not np.array_equal(_gen(seed=3).u_survival, _gen(seed=4).u_survival)


def test_draws_do_not_depend_on_share_arguments() -> None:
    # Common random numbers: changing the self-transport share changes only who self-transports.
    a = _gen(seed=5, self_transport_share=0.1)
    b = _gen(seed=5, self_transport_share=0.9)
    for name in ("severity", "rpm0", "c_rr", "q", "age", "u_survival", "z_obs", "triage_min"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert b.self_transport.sum() > a.self_transport.sum()


def test_n_casualties_are_generated() -> None:
    assert len(_gen(n=10)) == 10
    assert len(_gen(n=0)) == 0


@pytest.mark.parametrize("name", sorted(builtin_profiles()))
def test_severity_shares_match_the_profile(name: str) -> None:
    prof = builtin_profiles()[name]
    t = _gen(name)
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


def test_rpm_distribution_within_a_class_follows_weights(table: CasualtyTable) -> None:
    prof = builtin_profiles()["blast_confined"]
    crit = table.rpm0[table.severity == 1]
    w = np.asarray(prof.critical_rpm_weights) / sum(prof.critical_rpm_weights)
    observed = np.bincount(crit, minlength=9)[1:] / len(crit)
    for p_exp, p_obs in zip(w, observed, strict=True):
        assert p_obs == pytest.approx(p_exp, abs=_share_tol(p_exp, len(crit)))


def test_rpm_ranges_per_severity(table: CasualtyTable) -> None:
    sev, r = table.severity, table.rpm0
    assert np.all(r[sev == 0] == 0)
    assert np.all((r[sev == 1] >= 1) & (r[sev == 1] <= 8))
    assert np.all((r[sev == 2] >= 9) & (r[sev == 2] <= 11))
    assert np.all(r[sev == 3] >= 11)


def test_codes_sum_to_rpm0_and_stay_in_range(table: CasualtyTable) -> None:
    codes = np.stack([table.c_rr, table.c_pulse, table.c_motor], axis=1)
    np.testing.assert_array_equal(codes.sum(axis=1), table.rpm0)
    assert codes.min() >= 0 and codes.max() <= 4


def test_motor_floor_for_serious_and_minor(table: CasualtyTable) -> None:
    assert table.c_motor[table.severity == 2].min() >= 1
    assert np.all(table.c_motor[table.severity == 3] == 4)


def test_deficit_reaches_every_component(table: CasualtyTable) -> None:
    # The split is random: among critical casualties each component sometimes loses points.
    crit = table.severity == 1
    for arr in (table.c_rr, table.c_pulse, table.c_motor):
        assert (arr[crit] < 4).mean() > 0.3


def test_dead_on_scene_are_not_breathing(table: CasualtyTable) -> None:
    params = PhysiologyParams()
    for i in np.nonzero(table.severity == 0)[0][:50]:
        codes = (int(table.c_rr[i]), int(table.c_pulse[i]), int(table.c_motor[i]))
        v = vitals_from_codes(params, codes, tuple(table.q[i]), walking0=False, age=30)
        assert v.breathing is False and v.rr == 0


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


def test_times_in_their_ranges(table: CasualtyTable) -> None:
    assert table.triage_min.min() >= 0.5 and table.triage_min.max() <= 1.0
    trapped = table.extraction_min > 0
    assert trapped.mean() == pytest.approx(0.2, abs=_share_tol(0.2, N))
    assert table.extraction_min[trapped].min() >= 10 and table.extraction_min.max() <= 40
    assert table.self_transport_delay_min.min() >= 5 and table.self_transport_delay_min.max() <= 30


def test_no_extraction_by_default() -> None:
    assert np.all(_gen(n=1000).extraction_min == 0)


def test_surgery_only_for_critical_and_serious_at_profile_shares() -> None:
    prof = builtin_profiles()["gunshot"]
    t = _gen("gunshot")
    assert not np.any(t.needs_surgery[(t.severity == 0) | (t.severity == 3)])
    crit = t.needs_surgery[t.severity == 1]
    p = prof.surgery_share_critical
    assert crit.mean() == pytest.approx(p, abs=_share_tol(p, len(crit)))
    assert np.all(t.penetrating)


def test_gunshot_surgery_share_of_admitted_matches_raux() -> None:
    # Raux et al. 2019: 54 % of admitted casualties needed emergency surgery.
    t = _gen("gunshot", n=50_000)
    admitted = (t.severity == 1) | (t.severity == 2)
    assert t.needs_surgery[admitted].mean() == pytest.approx(0.54, abs=0.03)


def test_open_air_blast_is_mostly_walking_wounded_with_a_handful_dead() -> None:
    t = _gen("blast_open_air", n=N)
    assert (t.severity == 0).mean() < 0.03
    assert 0.15 <= ((t.severity == 1) | (t.severity == 2)).mean() <= 0.30
    assert t.walking0.mean() > 0.6


def test_table_is_read_only(table: CasualtyTable) -> None:
    with pytest.raises(ValueError):
        table.rpm0[0] = 5


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


def test_shares_above_one_refused() -> None:
    with pytest.raises(ValidationError, match="must be <= 1"):
        InjuryProfile(**_profile_kwargs(critical_share=0.6, serious_share=0.5))


def test_share_outside_unit_interval_refused() -> None:
    with pytest.raises(ValidationError):
        InjuryProfile(**_profile_kwargs(immediate_death_share=1.5))


def test_wrong_number_of_weights_refused() -> None:
    with pytest.raises(ValidationError, match="needs 8 weights"):
        InjuryProfile(**_profile_kwargs(critical_rpm_weights=[1, 2, 3]))


def test_negative_or_zero_weights_refused() -> None:
    with pytest.raises(ValidationError, match=">= 0"):
        InjuryProfile(**_profile_kwargs(serious_rpm_weights=[1, -1, 1]))
    with pytest.raises(ValidationError, match="all be 0"):
        InjuryProfile(**_profile_kwargs(minor_rpm_weights=[0, 0]))


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


def test_row_gives_plain_values_consistent_with_the_arrays(table: CasualtyTable) -> None:
    params = PhysiologyParams()
    i = int(np.nonzero(table.severity == 1)[0][0])
    row = table.row(i, params)
    assert row["severity"] is Severity.CRITICAL
    assert row["critical"] is True
    assert sum(row["codes0"]) == row["rpm0"] == int(table.rpm0[i])
    assert isinstance(row["rpm0"], int) and isinstance(row["u_survival"], float)
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
