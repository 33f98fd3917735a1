"""The registry of uncertain parameters agrees with docs/model.md and with the scenario schema.

docs/model.md labels every choice of ours **[assumption]**; the registry (issue 12 item 1) is
where those choices get a prior. These tests keep the two lists from drifting apart: every
[assumption] row of the document's parameter tables is either in the registry or in
``EXCLUDED`` below with the reason it has no prior, and every registry entry is documented.
"""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import pytest

from mcsim.errors import InputError
from mcsim.scenario import Scenario, parse_scenario, read_yaml, split_path
from mcsim.uncertainty import PriorKind, Scope, apply_values, get_parameter, registry

ROOT = Path(__file__).resolve().parents[1]
MODEL_MD = ROOT / "docs" / "model.md"

# [assumption] rows of docs/model.md's parameter tables that are deliberately NOT in the
# registry, by the name as the table writes it, each with the reason.
EXCLUDED = {
    # an integer threshold on the 0-12 RPM: a continuous prior would need rounding, and the
    # walking test is a triage-tool convention rather than a physical quantity
    "walking_min_rpm": "integer threshold",
    # a whole number of the deterioration table's steps (the schema refuses anything else)
    "extrapolation_window_min": "discrete: table steps",
    # structural: the walking wounded do not deteriorate and survive (docs/validation.md §6
    # shows what Sacco's table does to them); a non-zero rate is a different model
    "minor_deterioration_factor": "structural choice",
    "minor_survival_probability": "structural choice",
    # the mortally wounded: a choice read from each incident's record, and a published
    # time course whose only assumed knot is its end (docs/model.md §1.1)
    "mortal_wound_timing": "structural choice",
    "mortal_wound_death_cdf": "table",
    # tables of bands, not scalars (a prior per band end would have to keep bands ordered)
    "rr_bands": "table",
    "pulse_bands": "table",
    "sbp_bands_by_pulse_code": "table",
    "gcs_bands_by_motor_code": "table",
    # integer resource counts: a plan's staffing, varied by sweeps, not an unknown of nature
    "triage_officers": "integer resource count",
    "paramedics": "integer resource count",
    # a [low, high] pair, not one scalar: its two ends would need a joint prior
    "self_transport_delay_min_range": "range pair",
    # a pointer row: its members are the three hospital_choice rows, all in the registry
    "hospital_choice.*": "group row",
    # per hospital: one value for every hospital ([*]) cancels out of the logit, and a prior
    # per hospital id belongs to one region, not to the model
    "hospitals[].known_utility": "per-hospital utility",
    # categorical, not a number
    "service_distribution": "categorical",
    # a list of closed roads, not a number
    "region.closed": "list of roads",
    # a performance bound on how many hospitals a policy looks at, not a model uncertainty
    "response.destination_candidates": "performance bound",
}


def _leaf(name: str) -> str:
    """``incidents[].went_home_share`` / ``hospitals[*].x`` / ``a.b.c`` -> the last field name."""
    return re.sub(r"\[[^\]]*\]", "", name).split(".")[-1]


def _assumption_rows() -> list[str]:
    """Names (as written) in the first column of [assumption] rows of the parameter tables."""
    names: list[str] = []
    header: list[str] | None = None
    for line in MODEL_MD.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set(line.replace("|", "").strip()) <= set("-: "):
            continue  # the separator row
        if header[0].lower().startswith("parameter") and "[assumption" in line:
            names += re.findall(r"`([^`]+)`", cells[0])
    return names


def test_the_document_has_assumption_rows_to_check():
    # a parser that finds nothing would make the next test pass vacuously
    rows = _assumption_rows()
    assert len(rows) > 40
    assert "onscene_care_factor" in rows and "incidents[].treat_and_release_share" in rows


def test_every_assumption_row_is_in_the_registry_or_excluded_with_a_reason():
    leaves = {_leaf(p.path) for p in registry()}
    missing = sorted(
        {n for n in _assumption_rows() if n not in EXCLUDED and _leaf(n) not in leaves}
    )
    assert missing == [], f"[assumption] parameters with no prior and no exclusion: {missing}"


def test_exclusions_are_still_assumption_rows_and_not_in_the_registry():
    rows = set(_assumption_rows())
    leaves = {_leaf(p.path) for p in registry()}
    assert sorted(set(EXCLUDED) - rows) == []  # a stale exclusion hides nothing
    assert sorted(n for n in EXCLUDED if _leaf(n) in leaves) == []


def test_every_registry_entry_is_documented_in_model_md():
    text = MODEL_MD.read_text(encoding="utf-8")
    undocumented = [
        p.name
        for p in registry()
        if not re.search(r"`[^`]*\b" + re.escape(_leaf(p.path)) + "`", text)
    ]
    assert undocumented == []


def test_names_are_unique_and_each_entry_has_a_source():
    names = [p.name for p in registry()]
    assert len(names) == len(set(names))
    for p in registry():
        assert p.source.strip() and p.description.strip(), p.name
        assert get_parameter(p.name) is p


def test_the_per_incident_shares_are_scenario_scoped_on_every_incident():
    for name in (
        "went_home_share",
        "treat_and_release_share",
        "carried_by_bystanders_share",
        "self_transport_share",
    ):
        p = get_parameter(name)
        assert p.scope is Scope.SCENARIO
        assert p.path == f"incidents[*].{name}"
    assert get_parameter("onscene_care_factor").scope is Scope.GLOBAL


def _schema_default(path: str) -> typing.Any:
    """The scenario schema's default at ``path`` (``[*]`` = the list's item model)."""
    model: typing.Any = Scenario
    parts = [p for p in split_path(path.replace("[*]", "[0]")) if not isinstance(p, int)]
    for i, part in enumerate(parts):
        field = model.model_fields[part]
        if i == len(parts) - 1:
            return field.get_default(call_default_factory=True)
        ann = field.annotation
        model = typing.get_args(ann)[0] if typing.get_origin(ann) is list else ann
    raise AssertionError(path)


@pytest.mark.parametrize("p", registry(), ids=lambda p: p.name)
def test_registry_default_is_the_schema_default(p):
    assert _schema_default(p.path) == pytest.approx(p.default)


def test_every_prior_point_gives_a_valid_shipped_scenario():
    # the priors must lie inside what the schema accepts, for every shipped scenario: at the
    # ends and at odd points between (a parameter that must be a multiple of something, like
    # extrapolation_window_min, fails in between, not at round ends)
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert files
    for f in files:
        data = read_yaml(f)
        for q in (0.0, 0.137, 0.5, 0.731, 1.0):
            values = {p.name: p.prior.ppf(q) for p in registry()}
            parse_scenario(apply_values(data, values), file=str(f))


def test_ppf_stays_inside_the_bounds():
    # exp(log(low)) rounds below low; apply_values would then refuse the prior's own end
    for p in registry():
        for u in (0.0, 1e-12, 0.5, 1.0 - 1e-12, 1.0):
            assert p.prior.contains(p.prior.ppf(u)), (p.name, u)
    assert any(p.prior.kind is PriorKind.LOGUNIFORM for p in registry())


def test_apply_values_sets_every_incident_and_refuses_values_outside_the_prior():
    data = read_yaml(ROOT / "scenarios" / "paris_november_2015_attacks.yaml")
    out = apply_values(data, {"went_home_share": 0.3})
    assert len(out["incidents"]) > 1
    assert [i["went_home_share"] for i in out["incidents"]] == [0.3] * len(out["incidents"])
    with pytest.raises(InputError, match="outside its prior"):
        apply_values(data, {"went_home_share": 0.9})


def test_mcsim_params_lists_every_parameter_with_its_prior_and_source(capsys):
    from mcsim.cli import main

    assert main(["params", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)  # one JSON document and nothing else
    assert [r["name"] for r in rows] == [p.name for p in registry()]
    went = next(r for r in rows if r["name"] == "went_home_share")
    assert went["path"] == "incidents[*].went_home_share" and went["scope"] == "scenario"
    assert went["prior"] == "uniform [0, 0.6]" and went["source"]

    assert main(["params"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["name", "path", "default", "prior", "scope"]
    assert len(lines) == 1 + len(registry())
    assert any(
        line.startswith("trauma_callin_median_min") and "N(23, 10) on [5, 60]" in line
        for line in lines
    )


def test_mcsim_params_imports_no_model():
    # a listing command stays quick: no Mesa, pandas, SciPy or networkx (as `validate`)
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io; from mcsim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): rc = main(['params', '--json'])\n"
        "heavy = {'mesa', 'pandas', 'scipy', 'networkx'} & set(sys.modules)\n"
        "assert rc == 0 and not heavy, (rc, heavy)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
