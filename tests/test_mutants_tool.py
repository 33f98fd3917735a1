"""tools/mutants.py stays usable: every planted bug still applies, and the docs list each one.

The mutation run itself is slow and not part of CI (docs/validation.md, "Planted bugs"); these
checks are instant and fail as soon as a refactor moves the text a mutant replaces, so the tool
never reports a mutant as "stale" months later without anybody noticing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _mutants():
    spec = importlib.util.spec_from_file_location("mutants", REPO / "tools" / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutants"] = module
    spec.loader.exec_module(module)
    return module


MUTANTS = _mutants().MUTANTS


@pytest.mark.parametrize("m", MUTANTS, ids=[m.name for m in MUTANTS])
def test_each_planted_bug_still_replaces_exactly_one_place_in_the_code(m) -> None:
    text = (REPO / m.path).read_text(encoding="utf-8")
    assert text.count(m.old) == 1, f"{m.name}: {m.path} has the text {text.count(m.old)} times"
    assert m.new != m.old


def test_the_validation_doc_has_a_row_for_every_planted_bug() -> None:
    doc = (REPO / "docs" / "validation.md").read_text(encoding="utf-8")
    table = doc.split("## Planted bugs (tools/mutants.py)", 1)[1]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    named = [row.split("|")[1].strip().strip("`") for row in rows]
    assert named == [m.name for m in MUTANTS]
