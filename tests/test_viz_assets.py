"""The offline asset step (viz/assets.py) on a fake Solara CDN folder: it links ranges, leaves a
stamp only when nothing is missing, and ``--if-needed`` returns at once after that."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from viz import assets

ROOT = Path(__file__).resolve().parent.parent


def _package(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": folder.name}))


@pytest.fixture
def cdn(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(assets, "cdn_dir", lambda: tmp_path)
    monkeypatch.setattr(assets, "stamp_path", lambda: tmp_path / ".mcsim-assets-solara-9.9.9")
    return tmp_path


def test_a_range_is_linked_to_the_installed_version_and_the_stamp_written(cdn, monkeypatch):
    _package(cdn / "vega@5.21.0")
    _package(cdn / "katex@0.16.9")
    monkeypatch.setattr(assets, "referenced_assets", lambda: {("vega", "5"), ("katex", "0.16.9")})
    assert assets.main([]) == 0
    assert (cdn / "vega@5").is_symlink() and (cdn / "vega@5" / "package.json").exists()
    assert (cdn / ".mcsim-assets-solara-9.9.9").exists()


def test_check_reports_what_is_missing_and_writes_no_stamp(cdn, monkeypatch, capsys):
    monkeypatch.setattr(assets, "referenced_assets", lambda: {("katex", "0.16.9")})
    assert assets.main(["--check"]) == 1
    assert "katex@0.16.9" in capsys.readouterr().err
    assert not (cdn / ".mcsim-assets-solara-9.9.9").exists()


def test_if_needed_does_nothing_once_the_stamp_is_there(cdn, monkeypatch):
    (cdn / ".mcsim-assets-solara-9.9.9").touch()

    def boom():
        raise AssertionError("looked at Solara although the stamp says it is done")

    monkeypatch.setattr(assets, "referenced_assets", boom)
    assert assets.main(["--if-needed"]) == 0
    with pytest.raises(AssertionError):
        assets.main([])  # without --if-needed it checks again


def test_the_stamp_names_the_installed_solara():
    pytest.importorskip("solara")
    from importlib.metadata import version

    assert assets.stamp_path().name == f".mcsim-assets-solara-{version('solara')}"


def test_the_make_venv_script_still_runs_the_step():
    pytest.importorskip("solara")
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "solara_assets.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--if-needed" in done.stdout and "--check" in done.stdout
