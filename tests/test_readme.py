"""The README's examples run as written (SimPy-style example tests)."""

from __future__ import annotations

import os
import re

from mcsim.cli import main
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_python_example_runs_and_gives_a_critical_mortality(monkeypatch, tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks, "the README has a Python example"
    monkeypatch.chdir(tmp_path)  # shipped scenarios by name, as a pip user outside the repo
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102
    result = namespace["result"]
    # The worked example's prose quotes seed 1's numbers: they must be what the model says.
    quoted = re.search(
        r"on seed 1, (\d+) critical casualties \(ISS > 15\), (\d+) of them dead\s+"
        r"\(critical mortality (\d+) %",
        README,
    )
    assert quoted, "the worked example quotes seed 1's critical casualties and deaths"
    critical, dead, pct = (int(x) for x in quoted.groups())
    m = result.metrics
    assert (m["critical"], m["critical_deaths"]) == (critical, dead)
    assert round(100 * m["critical_mortality"]) == pct
    assert namespace["model"].finished


def test_worked_example_command_writes_its_files(tmp_path, capsys):
    assert ".venv/bin/mcsim run --seed 1 --out results/stadium" in README
    out = tmp_path / "stadium"
    assert main(["run", "--seed", "1", "--out", str(out)]) == 0
    assert "critical mortality" in capsys.readouterr().out
    assert sorted(os.listdir(out)) == [
        "events.parquet", "metrics.json", "nodes.parquet", "patients.parquet", "places.parquet"
    ]  # fmt: skip


def test_quick_start_has_exactly_the_two_make_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make \w+", quick, re.M)
    assert commands == ["make run", "make test"]
