"""A pip user's mcsim: the built wheel, installed into a fresh venv, run away from the checkout.

The wheel is built without build isolation (hatchling comes with the ``test`` extra) and
installed with ``--no-deps``; the fresh venv sees this environment's packages (Mesa, pandas...)
through a ``.pth`` file, so nothing is downloaded. What it checks is what a checkout hides: the
shipped scenarios travel in the wheel, ``mcsim run stadium_explosion`` finds them by name, and
the package imports from the venv, not from the repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("hatchling", reason="hatchling (the test extra) builds the wheel")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    (whl,) = out.glob("mcsim-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=60
    )
    py = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--no-deps",
         "--no-index", str(wheel)],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # This environment's packages, after the venv's own (so the wheel's mcsim comes first).
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    lines = [f"import site; site.addsitedir({p!r})" for p in sorted(ours)]
    (Path(purelib) / "zz_mcsim_test_deps.pth").write_text("\n".join(lines) + "\n")
    return env_dir


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def test_wheel_ships_scenarios_types_and_licence(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "mcsim/scenarios/stadium_explosion.yaml" in names
    assert "mcsim/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "viz/assets.py" in names  # the offline asset step, for `mcsim app` of pip users
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in meta
    assert "Requires-Dist: pydantic<3" in meta
    assert "# mcsim" in meta  # the README is the long description


def test_pip_user_runs_a_shipped_scenario_by_name_outside_the_repo(venv, tmp_path):
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    env = _clean_env()
    where = subprocess.run(
        [str(bindir / "python"), "-c", "import mcsim; print(mcsim.__file__)"],
        cwd=tmp_path, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(venv), where  # the wheel's mcsim, not the checkout
    run = subprocess.run(
        [str(bindir / "mcsim"), "run", "stadium_explosion", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    metrics = json.loads(run.stdout)
    assert metrics["casualties"] > 0 and "critical_mortality" in metrics
    listed = subprocess.run(
        [str(bindir / "mcsim"), "scenarios"],
        cwd=tmp_path, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert listed.splitlines()[0].startswith("stadium_explosion ")
    assert list(tmp_path.iterdir()) == []  # nothing written where the user stands
