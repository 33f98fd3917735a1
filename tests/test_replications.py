"""The replication engine (mcsim.replications): series, typical run, bands, paired B − A."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mcsim.errors import InputError
from mcsim.replications import (
    CHANNELS,
    Draw,
    Replications,
    apply_draw,
    as_draws,
    paired,
    posterior_draws,
    run_replications,
    seed_draws,
    state_series,
    time_grid,
    typical_index,
)
from mcsim.scenario import parse_scenario
from mcsim.simulate import simulate
from mcsim.stats import t_interval
from tests.conftest import small_scenario_data


@pytest.fixture(scope="module")
def small():
    return parse_scenario(small_scenario_data(casualties=30), file="small")


@pytest.fixture(scope="module")
def reps_a(small):
    return run_replications(small, seed_draws(3, 5))


@pytest.fixture(scope="module")
def reps_b(small):
    return run_replications(small, seed_draws(3, 5), destination="balance")


def test_state_series_counts_what_the_app_replay_counts(small):
    """Scene, road, hospital and deaths per minute equal viz.state.Replay's place counts."""
    from mcsim.model import MCIModel
    from viz.state import DEAD, ROAD, Replay, hospital_key, scene_key

    model = MCIModel(small, 4)
    model.run()
    result = model.result()
    rp = Replay.of_model(model, result.events)
    grid = time_grid(small, 2.0)
    got = state_series(result.events, grid)
    tags = [t for t in ("immediate", "delayed", "minor", "expectant", "untriaged", "dead")]
    for k, t in enumerate(grid):
        c = rp.counts_at(t)
        scene = sum(c.get(scene_key(i, tag), 0) for i in rp.incidents for tag in tags)
        hospital = sum(c.get(hospital_key(h), 0) for h in rp.hospitals)
        assert list(got[k]) == [scene, c[ROAD], hospital, c[DEAD]], f"minute {t}"


def test_series_never_lose_a_patient_and_deaths_only_grow(reps_a, small):
    total = sum(i.casualties for i in small.incidents)
    s = reps_a.series
    assert s.shape == (5, len(reps_a.grid), len(CHANNELS))
    assert (s >= 0).all() and (s.sum(axis=2) <= total).all()
    deaths = s[:, :, CHANNELS.index("deaths")]
    assert (np.diff(deaths, axis=1) >= 0).all()
    # the last minute's deaths are the run's deaths
    assert list(deaths[:, -1]) == list(reps_a.metric("deaths").astype(int))


def test_typical_index_is_the_median_run_on_one_metric():
    values = np.array([[7.0], [1.0], [4.0], [9.0], [3.0]])
    assert typical_index(values) == 2  # 4 is the median of 1, 3, 4, 7, 9


def test_typical_index_prefers_the_run_central_on_every_metric_and_ties_to_the_first():
    # run 1 is the median on both metrics; run 3 is the median of metric 0 only
    values = np.array([[1.0, 10.0], [5.0, 50.0], [9.0, 90.0], [5.0, 90.0], [8.0, 20.0]])
    assert typical_index(values) == 1
    assert typical_index(np.array([[2.0], [2.0], [2.0]])) == 0  # no spread: the first run


def test_typical_index_does_not_pick_a_run_where_the_metric_is_undefined():
    values = np.array([[1.0, math.nan], [5.0, 2.0], [5.0, math.nan], [9.0, 3.0], [5.0, 1.0]])
    # runs 1, 2 and 4 share the median 5 of metric 0; run 2 is undefined on metric 1
    assert typical_index(values) in (1, 4)
    assert typical_index(values) != 2


def test_median_index_of_replications_is_the_typical_run_of_its_metrics(reps_a):
    names = ["deaths", "scene_clear_min"]
    cols = np.column_stack([reps_a.metric(m) for m in names])
    assert reps_a.median_index(names) == typical_index(cols)


def test_bands_contain_the_median_and_collapse_when_every_run_is_the_same(reps_a):
    low, med, high = reps_a.bands()
    assert (low <= med).all() and (med <= high).all()
    assert not np.array_equal(low, high)  # five different casualty sets do differ somewhere
    same = Replications(
        draws=[Draw(0), Draw(1)], policies={}, metric_names=("deaths",),
        values=np.array([[1.0], [1.0]]), grid=reps_a.grid,
        series=np.stack([reps_a.series[0], reps_a.series[0]]),
    )  # fmt: skip
    b = same.bands()
    assert np.array_equal(b[0], b[2]) and np.array_equal(b[1], reps_a.series[0])
    frame = reps_a.band_frame("deaths")
    assert list(frame.columns) == ["low", "median", "high"] and len(frame) == len(reps_a.grid)


def test_paired_differences_are_the_per_seed_differences_of_independent_runs(small, reps_a, reps_b):
    """B − A pairs seed with seed: the same as simulating each seed under A and under B."""
    for metric in ("deaths", "scene_clear_min", "critical_mortality"):
        diffs = []
        for s in range(3, 8):
            va = simulate(small, s).metrics[metric]
            vb = simulate(small, s, destination="balance").metrics[metric]
            if va is not None and vb is not None:
                diffs.append(vb - va)
        d = paired(reps_a, reps_b, metric)
        n, mean, _, lo, hi = t_interval(diffs)
        assert d.n == n
        assert d.mean == pytest.approx(mean)
        if n > 1:
            assert (d.low, d.high) == (pytest.approx(lo), pytest.approx(hi))
        assert d.b_better == sum(x < 0 for x in diffs)  # lower is better for all three
        assert d.ties == sum(x == 0 for x in diffs)


def _reps(values: list[float], metric: str = "deaths") -> Replications:
    n = len(values)
    return Replications(
        draws=[Draw(s) for s in range(n)], policies={}, metric_names=(metric,),
        values=np.array(values, float).reshape(n, 1), grid=np.array([0.0]),
        series=np.zeros((n, 1, len(CHANNELS)), int),
    )  # fmt: skip


def test_k_of_n_and_a_winner_only_outside_noise():
    a = _reps([5, 6, 7, 5, 6, 7])
    clear = paired(a, _reps([3, 4, 5, 3, 4, 5]), "deaths")  # B always 2 fewer deaths
    assert (clear.b_better, clear.n, clear.ties) == (6, 6, 0)
    assert clear.clear and clear.winner == "B"
    noisy = paired(a, _reps([4, 7, 6, 6, 5, 7]), "deaths")  # B better in 3, worse in 2, tie 1
    assert (noisy.b_better, noisy.n, noisy.ties) == (3, 6, 1)
    assert noisy.low < 0 < noisy.high
    assert not noisy.clear and noisy.winner == ""
    worse = paired(a, _reps([9, 10, 11, 9, 10, 11]), "deaths")
    assert worse.b_better == 0 and worse.winner == "A"


def test_a_winner_needs_two_pairs_and_a_direction():
    one = paired(_reps([5]), _reps([3]), "deaths")
    assert one.n == 1 and math.isnan(one.low) and one.winner == ""
    undirected = paired(_reps([5, 6], "casualties"), _reps([3, 4], "casualties"), "casualties")
    assert undirected.better == "neither" and undirected.winner == "" and undirected.b_better == 0


def test_runs_on_different_draws_do_not_pair():
    a = _reps([1, 2])
    b = _reps([1, 2])
    b.draws = [Draw(0), Draw(1, {"incidents[0].casualties": 3})]
    with pytest.raises(ValueError, match="different draws"):
        paired(a, b, "deaths")


def test_replications_are_deterministic_and_reuse_a_known_run(small, reps_a):
    again = run_replications(small, seed_draws(3, 5))
    assert np.array_equal(again.values, reps_a.values, equal_nan=True)
    assert np.array_equal(again.series, reps_a.series)
    first = simulate(small, 3)
    seen = []
    reused = run_replications(small, seed_draws(3, 5), known={0: first},
                              progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    assert np.array_equal(reused.values, reps_a.values, equal_nan=True)
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]  # the known run counts at once


def test_a_process_pool_gives_the_same_replications(small):
    one = run_replications(small, seed_draws(0, 3), workers=1)
    pool = run_replications(small, seed_draws(0, 3), workers=2)
    assert np.array_equal(one.values, pool.values, equal_nan=True)
    assert np.array_equal(one.series, pool.series)


def test_a_draw_applies_its_overrides_as_field_paths(small):
    reps = run_replications(
        small, [(1, {}), (1, {"incidents[0].casualties": 12}), (2, {"duration_min": 300})]
    )
    assert list(reps.metric("casualties")) == [30.0, 12.0, 30.0]
    frame = reps.frame()
    assert list(frame["seed"]) == [1, 1, 2]
    assert frame["overrides"][1] == '{"incidents[0].casualties": 12}'
    assert apply_draw(small, Draw(5)) is small  # no overrides: the scenario itself
    with pytest.raises(InputError, match="hospitals"):
        apply_draw(small, Draw(0, {"hospitals[0].ed_beds": -3}))
    with pytest.raises(InputError):
        apply_draw(small, Draw(0, {"no_such_field": 1}))


def test_a_superseded_replication_stops_before_its_next_run(small):
    from mcsim.replications import Stopped

    ran = []
    with pytest.raises(Stopped):
        run_replications(small, seed_draws(0, 4), progress=lambda d, t: ran.append(d),
                         should_stop=lambda: len(ran) >= 2)  # fmt: skip
    assert ran == [1, 2]


def test_posterior_samples_become_draws_that_pair_across_policies(small):
    samples = [
        {"incidents[0].self_transport_share": 0.2},
        {"incidents[0].self_transport_share": 0.8},
    ]
    draws = posterior_draws(10, samples)
    assert [(d.seed, dict(d.overrides)) for d in draws] == [(10, samples[0]), (11, samples[1])]
    a = run_replications(small, draws)
    b = run_replications(small, draws, destination="balance")
    assert paired(a, b, "deaths").n == 2  # same draws: they pair
    # the parameter reaches the run: far fewer drive themselves with a share of 0.2
    assert a.metric("self_transported")[0] < a.metric("self_transported")[1]


def test_draws_from_seeds_pairs_or_draws():
    assert seed_draws(4, 3) == [Draw(4), Draw(5), Draw(6)]
    assert as_draws([7, (8, {"duration_min": 100}), Draw(9)]) == [
        Draw(7), Draw(8, {"duration_min": 100}), Draw(9)
    ]  # fmt: skip
    with pytest.raises(InputError):
        seed_draws(0, 0)
    with pytest.raises(InputError):
        as_draws([])
