"""`mcsim sweep --backend dask --dashboard`: a LocalCluster serving Dask's bokeh dashboard
while the sweep runs, its address printed, and nothing left listening afterwards."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import small_scenario_data

from mcsim.cli import main
from mcsim.sweep import read_runs, run_sweep

pytest.importorskip("distributed")
pytest.importorskip("bokeh")


def _sweep(tmp_path: Path) -> Path:
    (tmp_path / "town.yaml").write_text(yaml.safe_dump(small_scenario_data(10)))
    sweep = {
        "sweep_version": 1,
        "name": "dashboard sweep",
        "scenarios": ["town.yaml"],
        "replications": 2,
        "base_seed": 1,
    }
    p = tmp_path / "sweep.yaml"
    p.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return p


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_dashboard_serves_while_the_sweep_runs_and_is_shut_down_after(tmp_path):
    port = _free_port()
    seen: list[tuple[str, int]] = []

    def open_it(url: str) -> None:  # called once the cluster is up, before the first run
        with urllib.request.urlopen(url, timeout=30) as page:
            seen.append((url, page.status))

    s = run_sweep(
        _sweep(tmp_path), tmp_path / "out", workers=1, backend="dask",
        dashboard=f"127.0.0.1:{port}", on_dashboard=open_it,
    )  # fmt: skip
    assert seen == [(f"http://127.0.0.1:{port}/status", 200)]
    assert s.ran == 2 and len(read_runs(tmp_path / "out")) == 2
    assert not _listening(port)  # the cluster and its dashboard are gone


def test_cli_prints_the_dashboard_address(tmp_path, capsys):
    port = _free_port()
    args = ["sweep", str(_sweep(tmp_path)), "--out", str(tmp_path / "out"), "--backend", "dask"]
    code = main([*args, "--workers", "1", "--dashboard", "--dashboard-port", str(port)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"dashboard: http://127.0.0.1:{port}/status\n" in out
    assert not _listening(port)


def test_dashboard_without_dask_or_bokeh_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    sweep = str(_sweep(tmp_path))
    assert main(["sweep", sweep, "--out", str(tmp_path / "a"), "--dashboard"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --dashboard: --dashboard needs --backend dask\n"

    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "bokeh" else real(name, *a)
    )
    args = ["sweep", sweep, "--out", str(tmp_path / "b"), "--backend", "dask", "--dashboard"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'mcsim[sweep]'" in err
    assert not (tmp_path / "b").exists()  # refused before any work
