"""mcsim as a pip user meets it: shipped scenarios by name, ``mcsim scenarios``, the version,
help without a command, and a lazy ``import mcsim``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import mcsim
from mcsim.cli import main
from mcsim.errors import InputError
from mcsim.library import resolve, shipped_path, shipped_scenarios
from tests.conftest import SCENARIOS, small_scenario_data


def _data(scenario) -> dict:
    return scenario.model_dump(mode="json")


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_shipped_scenario_is_listed_with_its_title(capsys):
    code, out, _ = run_cli(capsys, "scenarios")
    assert code == 0
    lines = out.splitlines()
    files = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    assert sorted(line.split()[0] for line in lines) == files
    assert lines[0].startswith("stadium_explosion ") and lines[0].endswith("(default)")
    titles = {s.name: s.title for s in shipped_scenarios()}
    for stem in files:
        data = yaml.safe_load((SCENARIOS / f"{stem}.yaml").read_text())
        assert titles[stem] == data["name"]
        assert data["name"] in out


def test_run_takes_a_shipped_scenario_by_name(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # away from the checkout's scenarios/
    code, out, err = run_cli(capsys, "run", "nerve_agent_subway", "--json")
    assert code == 0, err
    by_name = json.loads(out)
    code, out, _ = run_cli(capsys, "run", str(SCENARIOS / "nerve_agent_subway.yaml"), "--json")
    assert json.loads(out) == by_name


def test_load_scenario_and_simulate_take_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sc = _data(mcsim.load_scenario("stadium_explosion"))
    assert sc == _data(mcsim.load_scenario(SCENARIOS / "stadium_explosion.yaml"))
    assert _data(mcsim.load_scenario("stadium_explosion.yaml")) == sc
    assert mcsim.simulate("highway_bus_crash_rural", seed=1).metrics["casualties"] > 0


def test_a_file_of_that_name_wins_over_the_shipped_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("stadium_explosion").write_text(yaml.safe_dump(small_scenario_data(casualties=7)))
    assert mcsim.load_scenario("stadium_explosion").incidents[0].casualties == 7


def test_an_unknown_name_is_still_a_missing_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        mcsim.load_scenario("no_such_scenario")
    code, _, err = run_cli(capsys, "run", "no_such_scenario")
    assert code == 2 and err.startswith("error: no_such_scenario") and err.count("\n") == 1
    assert shipped_path("../stadium_explosion") is None  # a path is not a name
    assert resolve("sub/stadium_explosion") == Path("sub/stadium_explosion")


def test_validate_and_compare_take_names(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "validate", "stadium_explosion", "highway_bus_crash_rural")
    assert code == 0, err
    assert out.count("ok: ") == 2
    code, out, err = run_cli(
        capsys, "compare", "highway_bus_crash_rural", "--replications", "1", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["results"]


def test_a_sweep_file_names_shipped_scenarios(tmp_path):
    from mcsim.sweep import load_sweep

    path = tmp_path / "sweep.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "sweep_version": 1,
                "name": "by name",
                "scenarios": ["stadium_explosion", "default"],
                "replications": 1,
                "factors": {"policies.triage": ["start"]},
            },
            sort_keys=False,
        )
    )
    sweep = load_sweep(path)
    assert [s.label for s in sweep.scenarios][0] == "stadium_explosion"
    assert sweep.scenarios[0].data == sweep.scenarios[1].data


def test_an_exercise_script_names_a_shipped_scenario(tmp_path):
    from mcsim.exercise.log import load_script
    from mcsim.exercise.runner import session_from_script

    path = tmp_path / "ex.yaml"
    path.write_text(yaml.safe_dump({"schema_version": 1, "scenario": "nerve_agent_subway"}))
    session = session_from_script(load_script(path), base=tmp_path)
    assert _data(session.scenario) == _data(
        mcsim.load_scenario(SCENARIOS / "nerve_agent_subway.yaml")
    )


def test_version_and_help_without_a_command(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert (code, out) == (0, f"mcsim {mcsim.__version__}\n")
    code, out, err = run_cli(capsys)
    assert code == 0 and err == ""
    assert out.startswith("Usage: mcsim") and "scenarios" in out
    for group in ("exercise", "region"):
        code, out, err = run_cli(capsys, group)
        assert code == 0 and err == "" and out.startswith(f"Usage: mcsim {group}")


def test_import_mcsim_loads_neither_mesa_nor_pandas_until_asked():
    code = (
        "import sys, mcsim; heavy = {'mesa', 'pandas', 'scipy', 'mcsim.model'} & set(sys.modules);"
        " assert not heavy, heavy; mcsim.MCIModel; assert 'mcsim.model' in sys.modules;"
        " assert sorted(mcsim.__all__) == sorted(mcsim._LAZY) and 'simulate' in dir(mcsim)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="no_such_name"):
        mcsim.no_such_name  # noqa: B018


def test_the_cli_module_imports_no_model():
    code = (
        "import sys, mcsim.cli; heavy = {'mesa', 'pandas', 'scipy', 'networkx'} & set(sys.modules);"
        " assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("args", "unwanted"),
    [
        (["--help"], {"mesa", "pandas", "scipy", "networkx", "numpy"}),
        (["scenarios"], {"mesa", "pandas", "scipy", "networkx", "numpy"}),
        (["validate", "stadium_explosion"], {"mesa", "pandas", "scipy", "networkx"}),
        (["schema"], {"mesa", "pandas", "scipy", "networkx"}),
        (["policies"], {"mesa", "pandas", "scipy", "networkx"}),
    ],
)
def test_quick_commands_import_no_model(args, unwanted):
    # What keeps them under a second (benchmarks/cli_startup.py times them).
    code = (
        "import sys, contextlib, io; from mcsim.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): rc = main({args!r})\n"
        f"heavy = {unwanted!r} & set(sys.modules); assert rc == 0 and not heavy, (rc, heavy)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_shipped_sweeps_and_exercises_by_name(tmp_path, monkeypatch, capsys):
    from mcsim.sweep import load_sweep

    monkeypatch.chdir(tmp_path)
    assert resolve("stadium_fleet", sub="sweeps") == SCENARIOS / "sweeps" / "stadium_fleet.yaml"
    assert load_sweep(resolve("stadium_fleet", sub="sweeps")).name == "stadium fleet size"
    code, out, err = run_cli(
        capsys, "exercise", "run", "bridge_closed_hospital_full", "--out", "ex.json"
    )
    assert code == 0, err
    assert (tmp_path / "ex.json").is_file() and "log written" in out
