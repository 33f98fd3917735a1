"""Property fuzz: whatever text arrives, parsing ends in data or one InputError, never a crash.

Complements the table of tests/test_fuzz_inputs.py with inputs nobody thought of: random bytes
as YAML and JSON, random ``--set`` values in every field of the small scenario, random changes
to an exercise log. Only :class:`~mcsim.errors.InputError` may come out, with a one-line
message; any other exception is a bug that hypothesis then shrinks to a small example.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from conftest import small_scenario_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcsim.errors import InputError
from mcsim.exercise import ExerciseSession, parse_log
from mcsim.safeio import parse_json, parse_yaml
from mcsim.scenario import apply_overrides, parse_scenario

FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _leaf_paths(data: Any, path: str = "") -> list[str]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _leaf_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _leaf_paths(v, f"{path}[{i}]")]
    return [path]


PATHS = _leaf_paths(small_scenario_data(20))
#: YAML scalars and fragments that tend to break parsers and validators.
NASTY = st.sampled_from(
    [".inf", "-.inf", ".nan", "1e999", "-0", "0x1F", "1_000", "~", "null", "[", "{", "]", "'",
     "!!binary x", "!!timestamp 2026-13-01", "*a", "&a 1", "? x", "- - -", "9" * 400,
     "[1, [2, [3]]]", "{a: {b: {c: 1}}}", "2026-01-01", "yes", "on", "\t", "%YAML 1.1"]
)  # fmt: skip


def _one_line(exc: InputError) -> None:
    text = str(exc)
    assert "\n" not in text and len(text) <= 1000


@FAST
@given(raw=st.text(max_size=300) | NASTY)
def test_any_text_is_yaml_data_or_one_input_error(raw: str):
    try:
        parse_yaml(raw, file="x.yaml")
    except InputError as exc:
        _one_line(exc)


@FAST
@given(raw=st.text(max_size=300))
def test_any_text_is_json_data_or_one_input_error(raw: str):
    try:
        parse_json(raw, file="x.json")
    except InputError as exc:
        _one_line(exc)


@FAST
@given(path=st.sampled_from(PATHS), value=NASTY | st.text(max_size=40))
def test_any_set_value_in_any_field_is_a_scenario_or_one_input_error(path: str, value: str):
    data = small_scenario_data(20)
    try:
        parse_scenario(apply_overrides(data, [f"{path}={value}"], file="s.yaml"), file="s.yaml")
    except InputError as exc:
        _one_line(exc)
        assert str(exc).startswith("s.yaml")


@pytest.fixture(scope="module")
def log_data() -> dict[str, Any]:
    s = ExerciseSession(parse_scenario(small_scenario_data(20)), 1)
    s.apply({"kind": "hospital_diversion", "at_min": 9, "hospital": "small"})
    return s.export(with_digest=False).to_data()


def _log_paths(data: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(data, dict):
        return [path] + [p for k, v in data.items() for p in _log_paths(v, (*path, k))]
    if isinstance(data, list):
        return [path] + [p for i, v in enumerate(data) for p in _log_paths(v, (*path, i))]
    return [path]


@FAST
@given(data=st.data(), value=NASTY)
def test_any_change_to_a_log_is_a_log_or_one_input_error(log_data, data, value: str):
    doc = json.loads(json.dumps(log_data))
    where = data.draw(st.sampled_from([p for p in _log_paths(doc) if p]))
    node = doc
    for part in where[:-1]:
        node = node[part]
    try:
        node[where[-1]] = yaml.safe_load(value)
    except Exception:  # noqa: BLE001 (a value YAML cannot load goes in as text)
        node[where[-1]] = value
    try:
        parse_log(doc, file="log.json")
    except InputError as exc:
        _one_line(exc)


NUMBER = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 1e308, 1e-300, 10_000, 0.5]),
)
FACTOR = st.one_of(
    st.fixed_dictionaries({"start": NUMBER, "stop": NUMBER}, optional={"step": NUMBER}),
    st.lists(NUMBER | st.text(max_size=5), min_size=0, max_size=4),
    NUMBER,
    st.text(max_size=5),
)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("sweep")
    (d / "town.yaml").write_text(yaml.safe_dump(small_scenario_data(20)))
    return d


@settings(max_examples=60, deadline=None)
@given(
    factors=st.dictionaries(st.sampled_from(PATHS[:12] + ["x[", "colour"]), FACTOR, max_size=3),
    replications=NUMBER,
)
def test_any_sweep_factors_are_a_sweep_or_one_input_error(sweep_dir, factors, replications):
    from mcsim.sweep.spec import parse_sweep

    data = {
        "sweep_version": 1,
        "name": "p",
        "scenarios": ["town.yaml"],
        "replications": replications,
        "factors": factors,
    }
    try:
        parse_sweep(data, file="p.yaml", base_dir=sweep_dir)
    except InputError as exc:
        _one_line(exc)
        assert str(exc).startswith(("p.yaml", str(sweep_dir)))
