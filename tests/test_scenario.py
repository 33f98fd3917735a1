"""Scenario files: the shipped ones load; each kind of bad file gets one precise error."""

from __future__ import annotations

import json

import pytest

from mcsim.errors import InputError
from mcsim.scenario import (
    apply_overrides,
    load_scenario,
    parse_scenario,
    scenario_json_schema,
    split_path,
)
from tests.conftest import SCENARIOS


def test_default_scenario_loads_with_expected_shape():
    sc = load_scenario(SCENARIOS / "stadium_explosion.yaml")
    assert sc.schema_version == 2
    assert 5 <= len(sc.hospitals) <= 8
    assert len(sc.stations) >= 3
    assert sc.incidents[0].casualties == 300
    assert sc.policies.triage == "start"


def test_small_scenario_is_valid(small_data):
    sc = parse_scenario(small_data, file="small.yaml")
    assert [h.id for h in sc.hospitals] == ["big", "small"]


def _mutations():
    """(name, mutate(data), expected path, fragment of the message)."""

    def set_in(path, value):
        def f(d):
            return apply_overrides(d, [f"{path}={json.dumps(value)}"])

        return f

    def delete(*keys):
        def f(d):
            node = d
            for k in keys[:-1]:
                node = node[k]
            del node[keys[-1]]
            return d

        return f

    return [
        ("unknown top-level key", set_in("colour", "red"), "colour", "valid keys"),
        ("unknown hospital key", set_in("hospitals[1].bedz", 3), "hospitals[1].bedz", "ed_beds"),
        (
            "trauma level too high",
            set_in("hospitals[1].trauma_level", 7),
            "hospitals[1].trauma_level",
            "less than or equal to 4",
        ),
        (
            "negative beds",
            set_in("hospitals[0].ed_beds", -5),
            "hospitals[0].ed_beds",
            "greater than or equal",
        ),
        (
            "casualties not a number",
            set_in("incidents[0].casualties", "many"),
            "incidents[0].casualties",
            "integer",
        ),
        (
            "missing casualties",
            delete("incidents", 0, "casualties"),
            "incidents[0].casualties",
            "Field required",
        ),
        (
            "hospital on unknown node",
            set_in("hospitals[0].node", "nowhere"),
            "hospitals[0].node",
            "unknown node 'nowhere'",
        ),
        (
            "station on unknown node",
            set_in("stations[1].node", "r9c9"),
            "stations[1].node",
            "unknown node",
        ),
        (
            "unknown injury profile",
            set_in("incidents[0].injury_profile", "dragon"),
            "incidents[0].injury_profile",
            "known:",
        ),
        (
            "unknown triage policy",
            set_in("policies.triage", "coin_flip"),
            "policies.triage",
            "unknown triage policy 'coin_flip'",
        ),
        (
            "road to unknown node",
            set_in("region.roads[0].to", "atlantis"),
            "region.roads[0].to",
            "atlantis",
        ),
        (
            "duplicate hospital id",
            set_in("hospitals[1].id", "big"),
            "hospitals[1].id",
            "duplicate id",
        ),
        (
            "occupied beyond capacity",
            set_in("hospitals[0].occupied.ed_beds", 99),
            "hospitals[0]",
            "exceeds",
        ),
        (
            "onset after the end",
            set_in("incidents[0].onset_min", 10_000),
            "incidents[0].onset_min",
            "after the scenario ends",
        ),
        ("no hospitals", set_in("hospitals", []), "hospitals", "at least 1"),
        (
            "hospital on the incident site",
            set_in("hospitals[1].node", "site"),
            "hospitals[1].node",
            "incident_site",
        ),
        (
            "extraction range reversed",
            set_in("incidents[0].extraction_min_range", [30, 10]),
            "incidents[0].extraction_min_range",
            "low <= high",
        ),
        (
            "vehicle capacity zero",
            set_in("stations[0].vehicles[0].capacity", 0),
            "stations[0].vehicles[0].capacity",
            "greater than or equal to 1",
        ),
        (
            "share above one",
            set_in("incidents[0].child_share", 1.5),
            "incidents[0].child_share",
            "less than or equal to 1",
        ),
        (
            "unknown vehicle type",
            set_in("stations[0].vehicles[0].type", "helicopter"),
            "stations[0].vehicles[0].type",
            "als",
        ),
        (
            "wrong schema version",
            set_in("schema_version", 3),
            "schema_version",
            "unsupported schema_version 3",
        ),
        ("missing schema version", delete("schema_version"), "schema_version", "missing"),
        (
            "unknown physiology key",
            set_in("physiology.walk_rpm", 3),
            "physiology.walk_rpm",
            "valid keys",
        ),
    ]


@pytest.mark.parametrize(
    "name,mutate,path,fragment", _mutations(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_bad_scenario_gets_one_error_naming_path(small_data, name, mutate, path, fragment):
    data = mutate(small_data)
    with pytest.raises(InputError) as info:
        parse_scenario(data, file="bad.yaml")
    err = info.value
    assert err.file == "bad.yaml"
    assert err.path == path, f"{name}: {err}"
    assert fragment in err.message, f"{name}: {err}"
    line = str(err)
    assert "\n" not in line and line.startswith(f"bad.yaml: {path}: ")


def test_unknown_key_lists_every_valid_key(small_data):
    small_data["hospitals"][0]["bedz"] = 1
    with pytest.raises(InputError) as info:
        parse_scenario(small_data, file="x.yaml")
    for key in (
        "trauma_level",
        "resus_bays",
        "ed_beds",
        "operating_rooms",
        "icu_beds",
        "teams_on_duty",
        "teams_on_call",
        "callin_delay_min",
        "occupied",
    ):
        assert key in info.value.message


def test_missing_file_and_yaml_syntax_errors(tmp_path, write_yaml):
    with pytest.raises(InputError, match="no such file") as info:
        load_scenario(tmp_path / "nope.yaml")
    assert info.value.file.endswith("nope.yaml")
    bad = write_yaml("schema_version: 1\nname: [unclosed\n", "broken.yaml")
    with pytest.raises(InputError, match="YAML syntax error") as info:
        load_scenario(bad)
    assert "line" in info.value.message
    not_mapping = write_yaml("- a\n- b\n", "list.yaml")
    with pytest.raises(InputError, match="mapping"):
        load_scenario(not_mapping)


def test_several_problems_are_counted_in_the_one_line(small_data):
    small_data["hospitals"][0]["trauma_level"] = 9
    small_data["hospitals"][1]["ed_beds"] = -1
    with pytest.raises(InputError) as info:
        parse_scenario(small_data, file="x.yaml")
    assert info.value.more == 1
    assert str(info.value).endswith("(and 1 more problem)")


def test_overrides_set_nested_values_and_refuse_bad_paths(small_data):
    out = apply_overrides(small_data, ["incidents[0].casualties=120", "policies.triage=start"])
    assert out["incidents"][0]["casualties"] == 120
    assert out["policies"]["triage"] == "start"
    assert small_data["incidents"][0]["casualties"] == 40, "the input is not modified"
    assert split_path("hospitals[2].occupied.ed_beds") == ["hospitals", 2, "occupied", "ed_beds"]
    with pytest.raises(InputError, match="PATH=VALUE"):
        apply_overrides(small_data, ["casualties"])
    with pytest.raises(InputError, match="out of range") as info:
        apply_overrides(small_data, ["hospitals[7].ed_beds=3"])
    assert info.value.path == "hospitals[7]"
    with pytest.raises(InputError, match="malformed"):
        apply_overrides(small_data, ["hospitals[x=3"])


def test_json_schema_describes_top_level_fields():
    schema = scenario_json_schema()
    for key in ("schema_version", "region", "hospitals", "stations", "incidents", "policies"):
        assert key in schema["properties"]
    assert set(schema["required"]) >= {"schema_version", "name", "region", "hospitals"}
