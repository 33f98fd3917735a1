"""Tests of the schema 1 → 2 migration (mcsim.scenario.migrate_v1 and Scenario's before-validator).

Schema 1 injury profiles gave critical casualties 8 RPM weights (RPM 1..8, the old definition
critical = RPM <= 8) and serious ones 3 (RPM 9..11). Migration drops the 8 critical weights for
the schema-2 defaults and pads the 3 serious weights with a 0 for RPM 12; everything else takes
its schema-2 default. Any other schema_version than 1 or 2 is refused with one InputError.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import mcsim
from mcsim.casualties import InjuryProfile
from mcsim.errors import InputError
from mcsim.scenario import SCHEMA_VERSION, Scenario, load_scenario, migrate_v1, parse_scenario
from tests.conftest import SCENARIOS

OLD_CRITICAL = [1, 1, 2, 2, 3, 3, 4, 4]  # RPM 1..8
OLD_SERIOUS = [1, 2, 5]  # RPM 9..11
DEFAULT_CRITICAL = InjuryProfile.model_fields["critical_rpm_weights"].default_factory()
DEFAULT_ISS = InjuryProfile.model_fields["critical_iss_weights"].default_factory()


def _old_profile() -> dict[str, Any]:
    """A custom injury profile with only the fields schema 1 knew."""
    return {
        "description": "A schema-1 blast profile.",
        "immediate_death_share": 0.02,
        "critical_share": 0.1,
        "serious_share": 0.2,
        "critical_rpm_weights": list(OLD_CRITICAL),
        "serious_rpm_weights": list(OLD_SERIOUS),
        "minor_rpm_weights": [1, 3],
        "penetrating": False,
        "surgery_share_critical": 0.5,
        "surgery_share_serious": 0.2,
        "source": "a test [assumption]",
    }


def _v1_data(duration_min: float = 60.0) -> dict[str, Any]:
    """stadium_explosion.yaml as a schema-1 file, its incident on the old custom profile."""
    data = yaml.safe_load((SCENARIOS / "stadium_explosion.yaml").read_text(encoding="utf-8"))
    data["schema_version"] = 1
    data["duration_min"] = duration_min
    data["injury_profiles"] = {"old_blast": _old_profile()}
    data["incidents"][0]["injury_profile"] = "old_blast"
    return data


def test_schema_version_is_2() -> None:
    assert SCHEMA_VERSION == 2
    sc = load_scenario(SCENARIOS / "stadium_explosion.yaml")
    assert sc.schema_version == 2


def test_v1_scenario_loads_with_the_profile_migrated() -> None:
    data = _v1_data()
    original = copy.deepcopy(data)
    sc = parse_scenario(data)
    assert data == original, "parse_scenario must not change its input"
    assert sc.schema_version == 2
    prof = sc.injury_profiles["old_blast"]
    assert prof.critical_rpm_weights == DEFAULT_CRITICAL
    assert prof.critical_rpm_weights == [0, 0, 0, 0, 0, 0, 0, 1, 2, 6, 16]
    assert prof.serious_rpm_weights == [1, 2, 5, 0]
    assert prof.minor_rpm_weights == [1, 3]
    # The fields schema 1 did not have take their defaults.
    assert prof.critical_iss_weights == DEFAULT_ISS
    assert prof.haemorrhage_share == 0.4 and prof.compressible_share == 0.3
    # The fields schema 1 had keep their values.
    assert prof.immediate_death_share == 0.02
    assert (prof.critical_share, prof.serious_share) == (0.1, 0.2)
    assert (prof.surgery_share_critical, prof.surgery_share_serious) == (0.5, 0.2)
    assert sc.profile("old_blast") is prof


def test_v1_scenario_loads_from_a_file(write_yaml) -> None:
    path = write_yaml(_v1_data())
    sc = load_scenario(path)
    assert sc.schema_version == 2
    assert sc.injury_profiles["old_blast"].serious_rpm_weights == [1, 2, 5, 0]


def test_v1_data_validates_through_the_scenario_model_too() -> None:
    # Sweeps and exercise logs validate with Scenario directly: the before-validator migrates.
    sc = Scenario.model_validate(_v1_data())
    assert sc.schema_version == 2
    prof = sc.injury_profiles["old_blast"]
    assert prof.critical_rpm_weights == DEFAULT_CRITICAL
    assert prof.serious_rpm_weights == [1, 2, 5, 0]


def test_v1_scenario_runs() -> None:
    sc = parse_scenario(_v1_data(duration_min=60.0))
    res = mcsim.simulate(sc, seed=1)
    df = res.patients
    assert len(df) == 300
    assert res.metrics is not None
    # Deaths after the horizon are only those decided at definitive care within it.
    late = df[df["death_min"] > 60.0]
    assert late["definitive_care_min"].le(60.0).all()
    serious = df[df["severity"] == "serious"]
    assert len(serious) > 0 and serious["rpm0"].between(9, 11).all()  # RPM 12 has weight 0
    critical = df[df["critical"]]
    assert len(critical) > 0
    assert critical["iss"].gt(15).all() and critical["rpm0"].between(9, 12).all()


def test_migrated_run_equals_the_hand_written_v2_scenario() -> None:
    v1 = _v1_data(duration_min=60.0)
    v2 = copy.deepcopy(v1)
    v2["schema_version"] = 2
    prof = v2["injury_profiles"]["old_blast"]
    del prof["critical_rpm_weights"]
    prof["serious_rpm_weights"] = [*OLD_SERIOUS, 0]
    a = mcsim.simulate(parse_scenario(v1), seed=4)
    b = mcsim.simulate(parse_scenario(v2), seed=4)
    pd.testing.assert_frame_equal(a.patients, b.patients)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert a.metrics == b.metrics


def test_v1_scenario_on_a_builtin_profile_is_a_v2_scenario() -> None:
    data = yaml.safe_load((SCENARIOS / "stadium_explosion.yaml").read_text(encoding="utf-8"))
    v1 = {**copy.deepcopy(data), "schema_version": 1}
    assert parse_scenario(v1).model_dump() == parse_scenario(data).model_dump()


# ---- migrate_v1 -----------------------------------------------------------------------------


def test_migrate_v1_works_on_a_copy() -> None:
    data = _v1_data()
    before = copy.deepcopy(data)
    out = migrate_v1(data)
    assert data == before
    assert out is not data
    assert out["schema_version"] == 2
    prof = out["injury_profiles"]["old_blast"]
    assert "critical_rpm_weights" not in prof
    assert prof["serious_rpm_weights"] == [1, 2, 5, 0]
    # Nothing else changes.
    for key in before:
        if key not in ("schema_version", "injury_profiles"):
            assert out[key] == before[key], key
    rest = {k: v for k, v in prof.items() if k != "serious_rpm_weights"}
    old = {
        k: v
        for k, v in _old_profile().items()
        if k not in ("critical_rpm_weights", "serious_rpm_weights")
    }
    assert rest == old


def test_migrate_v1_without_profiles() -> None:
    out = migrate_v1({"schema_version": 1, "name": "x"})
    assert out == {"schema_version": 2, "name": "x"}


def test_migrate_v1_leaves_other_lengths_for_validation() -> None:
    # Only the schema-1 lengths are migrated; anything else reaches validation unchanged.
    data = {
        "schema_version": 1,
        "injury_profiles": {
            "new_lengths": {"critical_rpm_weights": [1] * 11, "serious_rpm_weights": [1] * 4},
            "odd": {"critical_rpm_weights": [1] * 7, "serious_rpm_weights": [1] * 2},
            "not_a_mapping": "text",
        },
    }
    out = migrate_v1(data)
    assert out["injury_profiles"]["new_lengths"] == data["injury_profiles"]["new_lengths"]
    assert out["injury_profiles"]["odd"] == data["injury_profiles"]["odd"]
    assert out["injury_profiles"]["not_a_mapping"] == "text"


def test_v1_profile_with_a_bad_weight_list_is_one_input_error() -> None:
    data = _v1_data()
    data["injury_profiles"]["old_blast"]["critical_rpm_weights"] = [1] * 7
    with pytest.raises(InputError) as info:
        parse_scenario(data)
    err = info.value
    assert "old_blast" in (err.path or "") and "critical_rpm_weights" in (err.path or "")
    assert "needs 11 weights, got 7" in err.message
    assert err.more == 0


# ---- Refused versions -----------------------------------------------------------------------


@pytest.mark.parametrize("version", [3, 0, 99, "2", "1", 2.5, None])
def test_other_schema_versions_are_refused_with_one_input_error(version: Any) -> None:
    data = _v1_data()
    data["schema_version"] = version
    with pytest.raises(InputError) as info:
        parse_scenario(data, file="old.yaml")
    err = info.value
    assert err.path == "schema_version"
    assert err.file == "old.yaml"
    assert err.more == 0
    assert f"unsupported schema_version {version!r}" in err.message
    assert "reads 2" in err.message
    assert str(err).startswith("old.yaml: schema_version: ")


def test_schema_version_3_is_refused_from_a_file(write_yaml, tmp_path: Path) -> None:
    data = _v1_data()
    data["schema_version"] = 3
    path = write_yaml(data)
    with pytest.raises(InputError, match="unsupported schema_version 3") as info:
        load_scenario(path)
    assert info.value.path == "schema_version"
    assert info.value.more == 0


def test_missing_schema_version_names_both_versions() -> None:
    data = _v1_data()
    del data["schema_version"]
    with pytest.raises(InputError) as info:
        parse_scenario(data)
    assert info.value.path == "schema_version"
    assert "schema_version 2" in info.value.message and "migrates 1" in info.value.message
