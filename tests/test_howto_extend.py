"""docs/howto-extend.md works as written: its module, files and commands, end to end.

The how-to's ``<!-- file: NAME -->`` blocks are written to a scratch folder and its
``<!-- run -->`` console blocks run there in order, through the CLI's ``--plugin``; then the
results are checked for what the how-to promises (the policy chose, the metric was computed,
the inject acted and replayed). Everything the module registered is removed afterwards.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

import mcsim.plugins as plugins
from mcsim.cli import main
from mcsim.exercise.actions import ACTIONS, unregister_action
from mcsim.metrics import METRIC_KEYS, registered_metrics, restore_metrics
from mcsim.policies import default_registry
from tests.conftest import small_scenario_data

DOC = Path(__file__).resolve().parents[1] / "docs" / "howto-extend.md"
TEXT = DOC.read_text(encoding="utf-8")


def _blocks(marker: str) -> list[tuple[str, str]]:
    """(marker argument, code) of every fenced block right after ``<!-- marker ... -->``."""
    pattern = rf"<!-- {marker}:? ?(\S*) -->\n```\w*\n(.*?)```"
    return re.findall(pattern, TEXT, re.S)


FILES = dict(_blocks("file"))
COMMANDS = [
    line.strip()[2:]
    for _, block in _blocks("run")
    for line in block.splitlines()
    if line.strip().startswith("$ mcsim ")
]


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """The how-to's files in a scratch folder; what its module registers is gone afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(plugins.PLUGINS_ENV, raising=False)
    monkeypatch.setattr(plugins, "_LOADED", {})
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with restore_metrics():
        yield tmp_path
    default_registry().remove("destination", "trauma_centre_first")
    unregister_action("power_cut")
    monkeypatch.delitem(__import__("sys").modules, "mcsim_plugin_my_study", raising=False)
    assert [m.name for m in registered_metrics()] == list(METRIC_KEYS)


def test_the_howto_has_its_module_and_commands():
    """The guide shows the plugin file, an exercise script and runnable commands."""
    assert {"my_study.py", "power_cut.yaml"} <= set(FILES)
    assert len(COMMANDS) >= 4 and all("--plugin my_study.py" in c for c in COMMANDS)


def test_the_howto_runs_end_to_end(scratch, capsys):
    """Every command exits 0; the policy, the metric and the action do what the guide says."""
    outputs = []
    for command in COMMANDS:
        code = main(shlex.split(command)[1:])
        out, err = capsys.readouterr()
        assert code == 0, f"{command}: {err}"
        outputs.append(out)
    metrics = json.loads(outputs[0])
    assert isinstance(metrics["deaths_in_transport"], int)
    assert "trauma_centre_first" in default_registry().names("destination")
    assert "deaths_in_transport" in outputs[1] and "trauma_centre_first" in outputs[1]
    log = json.loads((scratch / "power_cut.log.json").read_text(encoding="utf-8"))
    assert [a["kind"] for a in log["actions"]] == ["power_cut", "set_policy"]
    assert "power_cut" in ACTIONS and "replay identical" in outputs[-1]


def test_immediate_patients_go_to_the_level_1_centre_under_the_howto_policy(scratch):
    """The guide's policy sends every immediate patient conveyed by ambulance to level 1."""
    import mcsim

    plugins.load_plugins(["my_study.py"])
    sc = mcsim.load_scenario(mcsim.default_scenario_path())
    levels = {h.id: h.trauma_level for h in sc.hospitals}
    res = mcsim.simulate(sc, seed=0, destination="trauma_centre_first")
    p = res.patients
    by_ambulance = p[(p.leave_mode.astype(str) == "ambulance") & (p.tag.astype(str) == "immediate")]
    first = by_ambulance.first_hospital.astype(str)
    assert len(first) > 0 and all(levels[h] == 1 for h in first)


def test_a_scenario_imports_its_own_plugin(scratch, capsys):
    """A scenario's imports: loads the module (relative to the scenario) before its policies."""
    data = small_scenario_data(30)
    data["imports"] = ["my_study.py"]
    data["policies"] = {"destination": "trauma_centre_first"}
    sub = scratch / "study"
    sub.mkdir()
    (sub / "my_study.py").write_text(FILES["my_study.py"], encoding="utf-8")
    (sub / "scenario.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["run", str(sub / "scenario.yaml"), "--json"]) == 0
    assert "deaths_in_transport" in json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "cannot import 'missing.py'"),
        ("raise RuntimeError('boom')\n", "importing 'missing.py' failed: RuntimeError: 'boom'"),
    ],
)
def test_a_broken_plugin_is_one_error_line_and_exit_2(scratch, capsys, text, message):
    """A plugin that is missing or raises: exit 2 and one line naming it and the option."""
    if text is not None:
        (scratch / "missing.py").write_text(text, encoding="utf-8")
    assert main(["run", "--plugin", "missing.py", "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--plugin" in err and message in err


def test_the_app_server_loads_the_plugins_it_is_handed(scratch):
    """`mcsim app --plugin` hands the plugins on in MCSIM_PLUGINS; importing the app loads them."""
    import os
    import subprocess
    import sys

    repo = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, plugins.PLUGINS_ENV: str(scratch / "my_study.py"), "PYTHONPATH": repo}
    code = (
        "import viz.app\n"
        "from mcsim.exercise import ACTIONS\n"
        "from mcsim.policies import default_registry\n"
        "print('trauma_centre_first' in default_registry().names('destination'),"
        " 'power_cut' in ACTIONS)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
