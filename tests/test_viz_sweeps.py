"""The Sweeps tab reads only under its results root (issue 13, defect 6): listing and refusals."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from mcsim.cli import app_results_root, main
from mcsim.errors import InputError
from viz import sweeps


def table(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {"destination": ["a", "b"] * (n // 2), "casualties": [100] * n, "deaths": range(n)}
    )


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A results root with two Parquet folders, a hidden one and an empty one; outside it, a
    folder of Parquet files that must never be reachable."""
    r = tmp_path / "results"
    (r / "fleet").mkdir(parents=True)
    table().to_parquet(r / "fleet" / "runs.parquet")
    (r / "group" / "inner").mkdir(parents=True)
    table().to_parquet(r / "group" / "inner" / "runs.parquet")
    (r / ".venv" / "lib").mkdir(parents=True)
    table().to_parquet(r / ".venv" / "lib" / "test.parquet")
    (r / "empty").mkdir()
    outside = tmp_path / "secret"
    outside.mkdir()
    table(6).to_parquet(outside / "runs.parquet")
    monkeypatch.setenv(sweeps.RESULTS_ENV, str(r))
    return r


def test_the_root_comes_from_the_environment_or_defaults_to_results(root, monkeypatch, tmp_path):
    assert sweeps.results_root() == root.resolve()
    monkeypatch.delenv(sweeps.RESULTS_ENV)
    monkeypatch.chdir(tmp_path)
    assert sweeps.results_root() == (tmp_path / "results").resolve()


def test_listing_finds_the_results_folders_and_skips_hidden_and_empty_ones(root):
    names = [e.name for e in sweeps.list_sweeps()]
    assert names == ["fleet", "group/inner"]


def test_a_sweep_folder_is_listed_with_its_name_and_runs(root):
    from mcsim.sweep.store import MANIFEST

    sw = root / "stadium"
    sw.mkdir()
    (sw / MANIFEST).write_text(
        '{"format": "mcsim-sweep", "sweep_id": "x", "name": "stadium fleet", "n_runs": 240,'
        ' "factors": []}'
    )
    first = sweeps.list_sweeps()[0]
    assert (first.name, first.is_sweep) == ("stadium", True)
    assert first.label == "stadium — stadium fleet, 240 runs"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../secret", "'..' is not allowed"),
        ("fleet/../../secret", "'..' is not allowed"),
        ("ABSOLUTE", "only folders under the results root"),
        ("~", "only folders under the results root"),
        ("nope", "no such folder under the results root"),
        ("", "choose a sweep"),
    ],
)
def test_paths_that_leave_the_root_or_do_not_exist_are_refused(root, tmp_path, name, why):
    if name == "ABSOLUTE":
        name = str(tmp_path / "secret")
    with pytest.raises(InputError, match=why):
        sweeps.load_in_root(name)


def test_a_symlink_out_of_the_root_is_neither_listed_nor_opened(root, tmp_path):
    os.symlink(tmp_path / "secret", root / "link")
    assert "link" not in [e.name for e in sweeps.list_sweeps()]
    with pytest.raises(InputError, match="leads outside the results root"):
        sweeps.load_in_root("link")
    # a link hidden inside a listed folder is refused too
    os.symlink(tmp_path / "secret", root / "fleet" / "more")
    with pytest.raises(InputError, match="holds a link outside the results root"):
        sweeps.load_in_root("fleet")


def test_a_folder_under_the_root_opens(root):
    assert len(sweeps.load_in_root("group/inner")) == 4


def test_mcsim_app_results_must_be_a_folder(tmp_path, capsys):
    assert app_results_root(tmp_path) == tmp_path.resolve()
    assert main(["app", "--port", "0", "--results", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--results: no such folder" in err
