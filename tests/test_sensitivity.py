"""Global sensitivity (issue 12 item 4): analytic oracle, a toy scenario, bad input.

The analysis takes any model function; the Ishigami function, whose Sobol indices are known in
closed form, goes through the same design -> ppf -> model -> SALib path as the simulator. The
simulator is then checked on a toy scenario where one parameter cannot matter (nobody
self-presents, so the self-presenters' hospital choice is never made) and one must (the EMS
alert delay moves the first ambulance's arrival minute for minute).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from mcsim.cli import main
from mcsim.tables import SENSITIVITY_INDICES, SENSITIVITY_RUNS
from mcsim.uncertainty import Prior, PriorKind
from mcsim.uncertainty.sensitivity import Input, Method, analyse
from mcsim.uncertainty.sensitivity_run import run_sensitivity
from tests.conftest import small_scenario_data

PI = Prior(PriorKind.UNIFORM, -math.pi, math.pi)
ISHIGAMI = [Input(f"x{i}", PI) for i in (1, 2, 3)]


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[list[float], list[float]]:
    """Closed-form first-order and total indices (Ishigami & Homma 1990)."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


def test_sobol_indices_of_ishigami_match_the_analytic_values():
    s1_true, st_true = ishigami_indices()
    assert s1_true[0] == pytest.approx(0.3139, abs=1e-4)  # the textbook values
    assert st_true[2] == pytest.approx(0.2437, abs=1e-4)
    result, design, y = analyse(ISHIGAMI, ishigami, method="sobol", n=1024, seed=1)
    assert design.values.shape == (1024 * 5, 3) and y.shape == (1024 * 5,)
    for j, name in enumerate(["x1", "x2", "x3"]):
        row = result.row(name)
        assert row.s1 == pytest.approx(s1_true[j], abs=0.05), name
        assert row.st == pytest.approx(st_true[j], abs=0.05), name
        assert 0 < row.st_conf < 0.15 and 0 < row.s1_conf < 0.15
    # x3 acts only through its interaction with x1: S1 ~ 0 but ST clearly > 0
    assert result.ranked()[0].name == "x1" and [r.name for r in result.ranked()][2] == "x3"


def test_the_design_goes_through_each_priors_ppf():
    # a log-uniform input must be sampled log-uniformly, not on a uniform box
    lu = Input("k", Prior(PriorKind.LOGUNIFORM, 0.01, 100.0))
    _, design, _ = analyse([lu, ISHIGAMI[0]], lambda x: x[:, 1], method="sobol", n=256, seed=0)
    k = design.values[:, 0]
    assert 0.01 <= k.min() and k.max() <= 100.0
    assert np.median(k) == pytest.approx(1.0, rel=0.3)  # the uniform box's median is ~50


def test_same_seed_same_indices_other_seed_other_design():
    a = analyse(ISHIGAMI, ishigami, method="sobol", n=64, seed=5)[0].to_dict()
    b = analyse(ISHIGAMI, ishigami, method="sobol", n=64, seed=5)[0].to_dict()
    c = analyse(ISHIGAMI, ishigami, method="sobol", n=64, seed=6)[0].to_dict()
    assert a == b and a != c


def test_morris_mu_star_is_the_effect_over_the_prior_range():
    # f = 3 a on a ~ U[0, 2]: every elementary effect over the whole range is 6; b does nothing
    u02 = Prior(PriorKind.UNIFORM, 0, 2)
    inputs = [Input("a", u02), Input("b", u02)]
    result, _, _ = analyse(inputs, lambda x: 3 * x[:, 0], method=Method.MORRIS, n=10, seed=2)
    assert result.row("a").mu_star == pytest.approx(6.0)
    assert result.row("a").sigma == pytest.approx(0.0, abs=1e-9)
    assert result.row("b").mu_star == 0.0
    assert [r.name for r in result.ranked()] == ["a", "b"]


def test_a_constant_model_gives_zero_indices_not_nan():
    result, _, _ = analyse(ISHIGAMI, lambda x: np.full(len(x), 2.5), n=8, seed=0)
    assert result.constant_output
    assert all(r.s1 == 0.0 and r.st == 0.0 for r in result.rows)


@pytest.fixture
def toy_scenario(write_yaml):
    # nobody walks off on their own and no bystander drives anyone: the hospital-choice model
    # of self-presenters is never used, so its parameters cannot matter
    data = small_scenario_data(casualties=12, self_transport_share=0.0)
    data["duration_min"] = 240
    return write_yaml(data, "toy.yaml")


@pytest.mark.slow
def test_toy_scenario_an_unused_parameter_scores_zero_a_used_one_does_not(
    toy_scenario, tmp_path, capsys
):
    out = tmp_path / "sens"
    args = [
        "sensitivity", str(toy_scenario), "--metric", "first_hospital_arrival_min",
        "--params", "alert_delay_min,choice_decay_per_min", "--n", "4", "--seeds", "1",
        "--seed", "3", "--out", str(out), "--json",
    ]  # fmt: skip
    assert main(args) == 0, capsys.readouterr().err
    got = json.loads(capsys.readouterr().out)  # --json: one object and nothing else
    idx = {r["name"]: r for r in got["indices"]}
    # common random numbers: points differing only in the unused parameter give identical runs
    assert idx["choice_decay_per_min"]["st"] == 0.0 and idx["choice_decay_per_min"]["s1"] == 0.0
    assert idx["alert_delay_min"]["st"] > 0.5
    assert got["ranking"] == ["alert_delay_min", "choice_decay_per_min"]
    assert got["runs"] == 4 * (2 + 2) and got["seeds"] == [3]

    # the outputs: JSON, Parquet of the indices and of every run, ranking table, bar chart
    assert json.loads((out / "indices.json").read_text()) == got
    table = pd.read_parquet(out / "indices.parquet")
    assert list(table["name"]) == got["ranking"] and list(table["rank"]) == [1, 2]
    assert table["mu_star"].isna().all()  # the other method's columns are null
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 16 and set(runs["seed"]) == {3}
    # both tables as docs/data.md (mcsim/tables.py) describes them
    schema = pq.read_schema(out / "indices.parquet")
    arrow = {"double": "float64", "int64": "int64", "string": "string", "large_string": "string"}
    assert [(f.name, arrow[str(f.type)]) for f in schema] == [
        (c.name, c.type) for c in SENSITIVITY_INDICES.columns
    ]
    listed = [c.name for c in SENSITIVITY_RUNS.columns]
    assert list(runs.columns) == [*listed, "alert_delay_min", "choice_decay_per_min",
                                  "first_hospital_arrival_min"]  # fmt: skip
    # the first arrival moves with the alert delay, minute for minute, at fixed other values
    alert = runs.sort_values("alert_delay_min")
    diff = np.diff(alert["first_hospital_arrival_min"]) - np.diff(alert["alert_delay_min"])
    assert np.allclose(diff, 0.0, atol=1e-6)
    assert "| 1 | `alert_delay_min` |" in (out / "ranking.md").read_text()
    assert (out / "sensitivity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_process_pool_gives_the_same_outputs_as_one_process(toy_scenario, tmp_path, capsys):
    # the CLI on two workers (the sweep engine's pool) vs the same analysis in this process
    kwargs = dict(method="morris", params="loading_min", n=2, seeds=2, seed=1)
    one = run_sensitivity(str(toy_scenario), "scene_clear_min", workers=1, **kwargs)
    args = [
        "sensitivity", str(toy_scenario), "--metric", "scene_clear_min", "--method", "morris",
        "--params", "loading_min", "--n", "2", "--seeds", "2", "--seed", "1",
        "--workers", "2", "--out", str(tmp_path / "pool"),
    ]  # fmt: skip
    assert main(args) == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    two = json.loads((tmp_path / "pool" / "indices.json").read_text())
    assert two["indices"] == one.to_dict()["indices"]
    runs = pd.read_parquet(tmp_path / "pool" / "runs.parquet")
    assert np.array_equal(runs["scene_clear_min"], one.model.runs_table["scene_clear_min"])
    # the human summary: what ran, on how many workers, and the ranking table
    assert "morris, 1 parameter, 4 design points x 2 seeds = 8 runs" in text
    assert "(2 workers)" in text and "| 1 | `" in text and "wrote " in text


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        (["--params", "alert_delay_min,no_such_parameter"], "--params", "no_such_parameter"),
        (["--metric", "no_such_metric"], "--metric", "unknown metric"),
        (["--method", "fast"], "--method", "unknown method"),
        (["--n", "6"], "--n", "power of 2"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(toy_scenario, capsys, extra, field, words):
    args = ["sensitivity", str(toy_scenario), "--metric", "deaths", "--params", "loading_min"]
    code = main([*args, *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert field in err and words in err


def test_a_missing_scenario_names_the_file(tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    assert main(["sensitivity", str(missing), "--metric", "deaths"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(missing) in err and err.count("\n") == 1


@pytest.mark.slow
def test_howto_uncertainty_examples_of_these_sections_run(tmp_path, monkeypatch, capsys):
    # docs/howto-uncertainty.md: every `$ mcsim` line of a console block in the sections
    # "Uncertain parameters" and "Sensitivity" exits 0 (the calibration sections test theirs)
    import re
    import shlex
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "howto-uncertainty.md").read_text()
    mine = "\n".join(
        part
        for part in re.split(r"^## ", text, flags=re.M)
        if part.startswith(("Uncertain parameters", "Sensitivity"))
    )
    blocks = re.findall(r"```console\n(.*?)```", mine, re.S)
    commands = [ln.strip()[2:] for b in blocks for ln in b.splitlines() if ln.startswith("$ ")]
    assert len(commands) == 2 and all(c.startswith("mcsim ") for c in commands)
    monkeypatch.chdir(tmp_path)
    for command in commands:
        assert main(shlex.split(command)[1:]) == 0, f"{command}: {capsys.readouterr().err}"


def test_empirical_marginal_is_the_weighted_quantile_function():
    from mcsim.uncertainty.posterior_marginals import EmpiricalMarginal

    m = EmpiricalMarginal.of(np.array([3.0, 1.0, 2.0]), np.array([1.0, 2.0, 1.0]))
    # weights 2, 1, 1 on the sorted values 1, 2, 3: cumulative 0.5, 0.75, 1
    assert [m.ppf(u) for u in (0.0, 0.5, 0.6, 0.75, 0.9, 1.0)] == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]


@pytest.mark.slow
def test_posterior_marginals_replace_the_priors(toy_scenario, tmp_path, capsys):
    # a posterior that pins the alert delay at 4 min: it can no longer matter, while the
    # loading time, not in the posterior, is still sampled from its prior and does matter
    folder = tmp_path / "cal"
    folder.mkdir()
    pd.DataFrame(
        {"alert_delay_min": [4.0] * 5, "went_home_share@elsewhere": [0.1] * 5, "weight": 1.0}
    ).to_parquet(folder / "posterior.parquet")
    args = [
        "sensitivity", str(toy_scenario), "--metric", "scene_clear_min", "--method", "morris",
        "--params", "alert_delay_min,loading_min", "--n", "2", "--seeds", "1",
        "--posterior", str(folder), "--json",
    ]  # fmt: skip
    assert main(args) == 0, capsys.readouterr().err
    got = json.loads(capsys.readouterr().out)
    idx = {r["name"]: r for r in got["indices"]}
    assert idx["alert_delay_min"]["mu_star"] == 0.0 and idx["loading_min"]["mu_star"] > 0
    sampled = {p["name"]: p["sampled_from"] for p in got["parameters"]}
    assert sampled["alert_delay_min"].startswith("posterior (5 samples")
    assert sampled["loading_min"] == "uniform [1, 6]"


def test_a_bad_posterior_is_one_line_and_exit_2(toy_scenario, tmp_path, capsys):
    folder = tmp_path / "cal"
    folder.mkdir()
    pd.DataFrame({"no_such_parameter": [1.0], "weight": [1.0]}).to_parquet(
        folder / "posterior.parquet"
    )
    base = ["sensitivity", str(toy_scenario), "--metric", "deaths", "--params", "loading_min"]
    for where, words in ((folder, "no_such_parameter"), (tmp_path / "none", "no posterior")):
        assert main([*base, "--posterior", str(where)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and words in err


def test_seed_noise_share_counts_only_what_common_random_numbers_do_not_cancel():
    from mcsim.uncertainty.simulator import SimulationModel

    def share(values: np.ndarray) -> float | None:
        points, seeds = values.shape
        m = SimulationModel({}, "t", [], "y", list(range(seeds)))
        m.runs_table = pd.DataFrame(
            {
                "point": np.repeat(np.arange(points), seeds),
                "seed": np.tile(np.arange(seeds), points),
                "y": values.reshape(-1),
            }
        )
        return m.noise_share()

    effect = np.array([[0.0], [1.0], [2.0], [3.0]])
    seed_effect = np.array([[0.0, 10.0, -5.0]])
    # a seed's own effect, the same at every point, cancels: no noise left
    assert share(effect + seed_effect) == pytest.approx(0.0, abs=1e-12)
    # an effect that differs by seed (point x seed) is noise the means still carry
    wobble = np.array([[0.0, 1, -1], [1, -1, 0], [-1, 0, 1], [0, 0, 0]])
    assert 0.0 < share(effect + seed_effect + wobble) < 1.0
    assert share(effect[:, :1]) is None  # one seed: nothing to tell noise from


def test_existing_outputs_are_refused_before_any_run(toy_scenario, tmp_path, capsys):
    out = tmp_path / "old"
    out.mkdir()
    (out / "ranking.md").write_text("kept")
    args = ["sensitivity", str(toy_scenario), "--metric", "deaths", "--params", "loading_min",
            "--method", "morris", "--n", "2", "--seeds", "1", "--out", str(out)]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--force" in err and err.count("\n") == 1
    assert (out / "ranking.md").read_text() == "kept"
    assert sorted(p.name for p in out.iterdir()) == ["ranking.md"]


def test_values_that_clash_with_the_scenario_are_one_line_not_a_worker_traceback(
    write_yaml, capsys
):
    # delayed_over + delayed_under may not exceed 1: with the scenario's 0.9, the upper part
    # of delayed_over's prior [0, 0.2] makes invalid scenarios
    from mcsim.errors import InputError
    from mcsim.uncertainty import get_parameter
    from mcsim.uncertainty.simulator import SimulationModel

    data = small_scenario_data(casualties=5)
    data["policies"] = {"triage_error": {"delayed_under": 0.9}}
    path = write_yaml(data, "clash.yaml")
    args = ["sensitivity", str(path), "--metric", "deaths", "--params",
            "triage_error_delayed_over", "--method", "morris", "--n", "2"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "upper ends" in err and str(path) in err

    model = SimulationModel(data, "clash", [get_parameter("triage_error_delayed_over")],
                            "deaths", [0])  # fmt: skip
    with pytest.raises(InputError, match=r"design point 1 \(triage_error_delayed_over=0.15\)"):
        model(np.array([[0.05], [0.15]]))
