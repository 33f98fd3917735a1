"""The docs stay true: generated reference up to date, examples run, numbers match the code."""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from mcsim.cli import main
from mcsim.region_import import DEFAULT_SPEED_KMH_BY_HIGHWAY, ImportParams

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
MY_HOWTOS = ["howto-interactive.md", "howto-own-region.md", "howto-exercises.md"]


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_scenarios_md_is_what_the_generator_writes():
    """docs/scenarios.md equals tools/gen_scenarios_doc.py's output for the current schema."""
    tool = _tool("gen_scenarios_doc")
    assert (DOCS / "scenarios.md").read_text(encoding="utf-8") == tool.render(), (
        "docs/scenarios.md is out of date: run .venv/bin/python tools/gen_scenarios_doc.py"
    )


def test_scenarios_md_documents_every_field_of_the_schema():
    """Each property of each schema object appears as a row of its section."""
    from mcsim.scenario import scenario_json_schema

    text = (DOCS / "scenarios.md").read_text(encoding="utf-8")
    schema = scenario_json_schema()
    objects = {"Scenario": schema, **schema["$defs"]}
    for name, obj in objects.items():
        body = text.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        for key in obj.get("properties", {}):
            assert f"| `{key}` |" in body, f"{name}.{key} missing from docs/scenarios.md"


def _console_commands(path: Path) -> list[str]:
    blocks = re.findall(r"```console\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
    lines = [ln.strip() for b in blocks for ln in b.splitlines()]
    return [ln[2:] for ln in lines if ln.startswith("$ mcsim ")]


EXAMPLES = {doc: _console_commands(DOCS / doc) for doc in MY_HOWTOS}


def test_howtos_have_examples():
    """Each how-to written with this issue shows at least one runnable command."""
    assert all(EXAMPLES.values()), EXAMPLES


@pytest.mark.parametrize("doc", MY_HOWTOS)
def test_howto_examples_run_in_order(doc, tmp_path, monkeypatch, capsys):
    """Every `$ mcsim ...` line of a how-to's console blocks exits 0, in order, in one folder.

    Paths into the repository (scenarios/, tests/) are made absolute; files an example writes
    land in a scratch folder, where the next example of the same how-to finds them.
    """
    monkeypatch.chdir(tmp_path)
    for command in EXAMPLES[doc]:
        args = shlex.split(command)[1:]
        args = [str(REPO / a) if a.startswith(("scenarios/", "tests/")) else a for a in args]
        assert main(args) == 0, f"{command}: {capsys.readouterr().err}"


def test_model_md_region_section_matches_the_code():
    """The 'Regions and travel times' numbers are the importer's defaults."""
    text = (DOCS / "model.md").read_text(encoding="utf-8")
    section = text.split("## Regions and travel times", 1)[1]
    p = ImportParams()
    assert f"{p.detour_factor}" in section and f"{p.access_speed_kmh:g} km/h" in section
    assert f"{p.min_travel_min:g} min" in section
    for highway in ("motorway", "trunk", "primary", "secondary", "tertiary", "service"):
        assert f"{highway} {DEFAULT_SPEED_KMH_BY_HIGHWAY[highway]:g}" in section
    for f in fields(ImportParams):
        if f.name != "keep_all":
            assert f"`{f.name}`" in section, f"ImportParams.{f.name} not documented"


def test_validation_md_names_only_existing_tests():
    """Every tests/test_*.py file that docs/validation.md cites exists."""
    text = (DOCS / "validation.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"`(test_\w+\.py)`", text))
    assert cited
    missing = [c for c in cited if not (REPO / "tests" / c).is_file()]
    assert not missing, missing
