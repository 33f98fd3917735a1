"""Sampled sweep factors: Latin hypercube, Sobol' and Halton (scipy.stats.qmc)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.stats import qmc

from mcsim.cli import main
from mcsim.errors import InputError
from mcsim.sweep import Plan, load_sweep
from mcsim.sweep.plan import sample_points
from mcsim.sweep.spec import Factor
from tests.conftest import small_scenario_data


def write_sweep(tmp_path: Path, sample: dict, name: str = "sweep.yaml") -> Path:
    (tmp_path / "town.yaml").write_text(yaml.safe_dump(small_scenario_data(20)))
    data = {
        "sweep_version": 1,
        "name": "sampled",
        "scenarios": ["town.yaml"],
        "replications": 1,
        "factors": {"policies.triage": ["start"]},
        "sample": sample,
    }
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


UNIT = [Factor(path=f"x{i}", kind="lhs", low=0.0, high=1.0) for i in range(2)]


@pytest.mark.parametrize("method", ["sobol", "halton"])
def test_low_discrepancy_points_cover_the_square_more_evenly_than_random_ones(method):
    points = np.array(sample_points(UNIT, 64, seed=5, method=method))
    assert points.shape == (64, 2) and ((0 <= points) & (points <= 1)).all()
    random = np.random.default_rng(5).random((64, 2))
    assert qmc.discrepancy(points) < qmc.discrepancy(random) / 2
    assert sample_points(UNIT, 64, seed=5, method=method) == points.tolist()  # seeded
    assert sample_points(UNIT, 64, seed=6, method=method) != points.tolist()


@pytest.mark.parametrize("method", ["lhs", "sobol", "halton"])
def test_a_sweep_file_picks_the_method_and_integer_factors_stay_in_range(tmp_path, method):
    sample = {
        "method": method,
        "points": 8,
        "seed": 2,
        "factors": {
            "incidents[0].casualties": {"low": 10, "high": 50, "integer": True},
            "response.loading_min": {"low": 1, "high": 5},
        },
    }
    plan = Plan(load_sweep(write_sweep(tmp_path, sample)))
    assert len(plan.cells) == 8
    cas = [c.factors["incidents[0].casualties"] for c in plan.cells]
    assert all(isinstance(v, int) and 10 <= v <= 50 for v in cas)
    assert all(1 <= c.factors["response.loading_min"] <= 5 for c in plan.cells)
    assert plan.manifest()["sample"] == {"method": method, "points": 8, "seed": 2}


def test_methods_draw_other_points_and_make_other_sweeps(tmp_path):
    base = {"points": 8, "seed": 1, "factors": {"response.loading_min": {"low": 1, "high": 5}}}
    plans = {
        m: Plan(load_sweep(write_sweep(tmp_path, {**base, "method": m}, f"{m}.yaml")))
        for m in ("lhs", "sobol", "halton")
    }
    assert len({p.sweep_id for p in plans.values()}) == 3
    assert (
        len({tuple(c.factors["response.loading_min"] for c in p.cells) for p in plans.values()})
        == 3
    )
    # an LHS sweep hashes as before the choice existed, so its folders still resume
    assert "sample_method" not in plans["lhs"].normalised
    assert Plan(load_sweep(write_sweep(tmp_path, base, "default.yaml"))).sweep_id == (
        plans["lhs"].sweep_id
    )


def test_a_sobol_sample_that_is_not_a_power_of_two_is_one_error_line(tmp_path, capsys):
    path = write_sweep(
        tmp_path,
        {
            "method": "sobol",
            "points": 50,
            "factors": {"response.loading_min": {"low": 1, "high": 5}},
        },
    )
    with pytest.raises(InputError, match="power of 2 points.*32 or 64"):
        load_sweep(path)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sample.points" in err


def test_an_unknown_method_lists_the_known_ones(tmp_path, capsys):
    path = write_sweep(
        tmp_path,
        {"method": "grid", "points": 4, "factors": {"response.loading_min": {"low": 1, "high": 5}}},
    )
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sample.method" in err and "sobol" in err
