"""Parameter uncertainty in the app: posterior draws in Explore and Compare, "What drives this".

Posteriors and sensitivity results are written by hand here (the browser tests make them with
the real commands): a posterior is a Parquet table of parameter columns and ``weight``, a
sensitivity result an ``indices.json`` as ``mcsim sensitivity --out`` writes it.
"""

from __future__ import annotations

import json
import os

import ipyvuetify as v
import pandas as pd
import pytest

import mcsim
from mcsim.cli import app_startup_folder, main
from mcsim.errors import InputError
from mcsim.replications import apply_draw, run_replications
from mcsim.scenario import Scenario
from mcsim.uncertainty.posterior import draw_parameter_sets, from_frame
from tests import test_viz_replications as tvr
from tests.app_state import reset_app_state
from tests.conftest import small_scenario_data
from tests.test_viz_replications import images, join, texts, wait_until
from viz import drivers, posteriors, results_files, runner, sweeps
from viz import replications as vr
from viz.app import Page
from viz.components import posterior as pc
from viz.components import replications as reps
from viz.components import store
from viz.components.compare import Compare
from viz.components.drivers import DrivesPanel
from viz.runner import SetUp

BLEED = "haemorrhage_death_median_min"
render = tvr.render  # the fixture that closes every rendered context


def alerts(rc, cls: str) -> list[str]:
    """The texts of the inline errors and warnings (``solara.Error``) with CSS class ``cls``."""
    return [" ".join(map(str, x.widget.children)) for x in rc.find(v.Alert, class_=cls)]


def write_posterior(folder, columns: dict, weights=None) -> None:
    folder.mkdir(parents=True)
    n = len(next(iter(columns.values())))
    df = pd.DataFrame({**columns, "weight": weights or [1.0] * n})
    df.to_parquet(folder / "posterior.parquet")


def sobol_result(folder, scenario: str, metric: str, rows: list[dict], runs: int = 64) -> None:
    folder.mkdir(parents=True)
    data = {
        "format": "mcsim-sensitivity", "format_version": 1, "scenario": scenario,
        "metric": metric, "method": "sobol", "n": 8, "runs": runs, "seeds": [0, 1],
        "seed_noise_share": 0.05, "conf_level": 0.95, "output_mean": 5.0, "output_sd": 2.0,
        "constant_output": False, "posterior": None, "indices": rows,
    }  # fmt: skip
    (folder / "indices.json").write_text(json.dumps(data))


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A results root with a posterior of the bleeding clock and, outside it, another one."""
    r = tmp_path / "results"
    write_posterior(r / "calib" / "bleed", {BLEED: [70.0, 150.0, 110.0]}, [0.2, 0.5, 0.3])
    write_posterior(tmp_path / "secret", {BLEED: [61.0]})
    monkeypatch.setenv(sweeps.RESULTS_ENV, str(r))
    monkeypatch.delenv(posteriors.POSTERIOR_ENV, raising=False)
    monkeypatch.delenv(drivers.SENSITIVITY_ENV, raising=False)
    return r


@pytest.fixture
def small() -> Scenario:
    return Scenario.model_validate(small_scenario_data(30))


# -------------------------------------------------------------------------------------------
# Logic: draws for a scenario


def test_a_registry_path_with_every_element_becomes_one_field_path_per_element(small):
    data = small.model_dump(mode="json", by_alias=True)
    n = len(data["hospitals"])
    assert posteriors.field_paths(data, "hospitals[*].callin_delay_min") == [
        f"hospitals[{i}].callin_delay_min" for i in range(n)
    ]
    assert posteriors.field_paths(data, "physiology.x") == ["physiology.x"]
    data["hospitals"] = []
    assert posteriors.field_paths(data, "hospitals[*].callin_delay_min") == []


def test_posterior_draws_carry_the_posteriors_seeds_and_values_into_the_runs(small):
    post = from_frame(pd.DataFrame({BLEED: [70.0, 150.0], "weight": [0.5, 0.5]}))
    draws = posteriors.scenario_draws(post, small, "small", 6, seed=4)
    pairs = draw_parameter_sets(post, 6, 4)
    assert [d.seed for d in draws] == [s for s, _ in pairs] == list(range(4, 10))
    assert [dict(d.overrides) for d in draws] == [
        {f"physiology.{BLEED}": p[BLEED]} for _, p in pairs
    ]
    assert {d.overrides[f"physiology.{BLEED}"] for d in draws} == {70.0, 150.0}
    assert apply_draw(small, draws[0]).physiology.haemorrhage_death_median_min == pairs[0][1][BLEED]


def test_a_per_incident_parameter_applies_to_its_own_scenario_only(small):
    post = from_frame(pd.DataFrame({"self_transport_share@small": [0.3], "weight": [1.0]}))
    (d,) = posteriors.scenario_draws(post, small, "small", 1, 0)
    assert dict(d.overrides) == {"incidents[0].self_transport_share": 0.3}
    with pytest.raises(posteriors.NotApplicable, match=r"none of its parameters.*fitted for small"):
        posteriors.scenario_draws(post, small, "boston", 1, 0)


def test_the_words_say_what_the_intervals_hold():
    assert posteriors.uncertainty_words(10, "calib/bleed") == (
        "10 draws from posterior calib/bleed: seed and parameter uncertainty"
    )
    assert posteriors.uncertainty_words(10, None).startswith("10 seeds: seed noise only")
    post = from_frame(pd.DataFrame({"trauma_callin_median_min": [20.0], "weight": [1.0]}))
    sc = Scenario.model_validate(small_scenario_data(30))
    draws = posteriors.scenario_draws(post, sc, "small", 1, 0)
    assert "call-in delay" in posteriors.replaced_setup(draws, 12.0)
    assert posteriors.replaced_setup(draws, None) == ""


# -------------------------------------------------------------------------------------------
# Logic: finding and opening posteriors under the results root


def test_posteriors_are_listed_under_the_root_and_opened_only_there(root, tmp_path):
    os.symlink(tmp_path / "secret", root / "linked")
    assert [e.name for e in posteriors.list_posteriors()] == ["calib/bleed"]
    assert posteriors.open_posterior("calib/bleed").posterior.names == [BLEED]
    for name, why in (("../secret", r"'\.\.' is not allowed"), (str(tmp_path / "secret"),
                      "only folders under"), ("linked", "outside the results root"),
                      (results_files.STARTUP, "no folder was given at start-up"),
                      ("", "choose a posterior")):  # fmt: skip
        with pytest.raises(InputError, match=why):
            posteriors.open_posterior(name)


def test_the_startup_posterior_is_offered_by_a_token_not_a_path(root, tmp_path, monkeypatch):
    monkeypatch.setenv(posteriors.POSTERIOR_ENV, str(tmp_path / "secret"))
    first = posteriors.list_posteriors()[0]
    assert first.name == results_files.STARTUP and "mcsim app --posterior" in first.label
    assert posteriors.open_posterior(first.name).posterior.names == [BLEED]


def test_a_damaged_posterior_is_one_line_naming_its_file(root):
    (root / "broken").mkdir()
    (root / "broken" / "posterior.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"broken/posterior.parquet: cannot read as Parquet"):
        posteriors.open_posterior("broken")


def test_mcsim_app_refuses_a_posterior_folder_without_a_posterior(root, tmp_path, capsys):
    assert app_startup_folder(root / "calib" / "bleed", "--posterior") == root / "calib" / "bleed"
    (tmp_path / "empty").mkdir()
    assert main(["app", "--posterior", str(tmp_path / "empty"), "--port", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "posterior.parquet" in err and "\n" not in err
    assert main(["app", "--sensitivity", str(tmp_path / "nowhere")]) == 2
    assert "--sensitivity: no such folder" in capsys.readouterr().err


# -------------------------------------------------------------------------------------------
# The app: Explore and Compare with a posterior


@pytest.fixture
def fresh(root):
    reset_app_state()
    reps.count.value = 2  # two draws show the pairing; more would only cost CI time
    pc.plan_error.value = ""
    pc.posterior_name.value = "calib/bleed"
    reps._explore_key.value = (id(store.explore_run.latest), 2, "calib/bleed")
    reps._compare_key.value = (id(store.compare_run.latest), 2, "calib/bleed")
    yield
    pc.posterior_name.value = ""
    pc.plan_error.value = ""
    reps.count.value = 1


def expected_draws(n: int, seed: int = 0):
    sc = runner.apply_setup(store.current_scenario(), SetUp(seed=seed))
    post = posteriors.open_posterior("calib/bleed").posterior
    return sc, posteriors.scenario_draws(post, sc, store.scenario_name.value, n, seed)


def test_explore_replicates_over_posterior_draws_and_the_cards_say_so(fresh, render):
    rc = render(Page())
    rc.find(v.Btn, children=["Run"]).widget.click()
    rc.find(v.Html, class_="mcsim-kpi-value").wait_for(timeout=180)
    join(store.explore_run)
    wait_until(lambda: reps.explore_result(store.explore_run.latest) is not None, "draws")
    join(reps.explore_reps)
    done = reps.explore_reps.value
    sc, draws = expected_draws(2)
    assert done.reps.draws == draws  # the posterior's (seed, parameter set) pairs, in order
    expected = run_replications(sc, draws)
    assert texts(rc, "mcsim-kpi-value") == [c.value for c in vr.cards(expected)]
    intervals = texts(rc, "mcsim-kpi-interval")
    assert any(i.startswith("95 % CI [") and i.endswith("seed + parameter uncertainty")
               for i in intervals), intervals  # fmt: skip
    assert texts(rc, "mcsim-uncertainty-note") == [
        "Intervals over 2 draws from posterior calib/bleed: seed and parameter uncertainty."
    ]
    assert texts(rc, "mcsim-reps-done") == [
        "2 runs, seeds 0–1, parameters drawn from posterior calib/bleed"
    ]
    # the map's typical run is re-run with its draw's parameters, not the scenario's own
    shown = done.median.view.scenario.physiology.haemorrhage_death_median_min
    assert shown == draws[done.shown].overrides[f"physiology.{BLEED}"]


def test_compare_gives_a_and_b_the_same_posterior_draws(fresh, render):
    rc = render(Compare())
    store.compare_b.value = SetUp(destination="balance")
    rc.find(v.Btn, children=["Run comparison"]).widget.click()
    rc.find(v.Html, class_="mcsim-compare-table").wait_for(timeout=180)
    join(store.compare_run)
    wait_until(lambda: reps.compare_result(store.compare_run.value) is not None, "pairs")
    join(reps.compare_reps)
    done = reps.compare_reps.value
    _, draws = expected_draws(2)
    assert done.a.draws == done.b.draws == draws  # common seeds and common parameter sets
    assert all(d.overrides for d in draws)
    md = str(rc.find(v.Html, class_="mcsim-paired-table").widget.children)
    assert "from posterior calib/bleed, the same seed and parameter set for A and B" in md
    assert texts(rc, "mcsim-uncertainty-note")[0].startswith("Intervals over 2 draws")
    # the one-seed table and both maps show the first draw (its seed and its parameters)
    # for A and B, not the scenario's own values, and say so
    bleed = draws[0].overrides[f"physiology.{BLEED}"]
    for view in (done.drawn.a, done.drawn.b, done.drawn.map_a.view, done.drawn.map_b.view):
        assert view.scenario.physiology.haemorrhage_death_median_min == bleed
        assert view.setup.seed == draws[0].seed
    deaths = done.a.values[0, done.a.metric_names.index("deaths")]
    assert done.drawn.a.metrics["deaths"] == deaths  # the first draw's run, re-run for the maps
    assert texts(rc, "mcsim-compare-seed") == [
        "Seed 0 with the first parameter set drawn from posterior calib/bleed, alone (the maps "
        "below show it):"
    ]


def test_a_posterior_that_does_not_apply_is_refused_inline_and_nothing_replicates(
    fresh, root, render
):
    write_posterior(root / "other", {"went_home_share@paris_attacks": [0.1]})
    pc.posterior_name.value = "other"
    rc = render(Page())
    (err,) = alerts(rc, "mcsim-posterior-error")
    assert "Posterior not used" in err and "fitted for paris_attacks" in err
    reps._explore_key.value = None
    rc.find(v.Btn, children=["Run"]).widget.click()
    rc.find(v.Html, class_="mcsim-kpi-value").wait_for(timeout=180)
    join(store.explore_run)
    wait_until(lambda: alerts(rc, "mcsim-plan-error"), "the refusal")
    err = alerts(rc, "mcsim-plan-error")[0]  # (Compare, if it shows a result, says it too)
    assert "Replications not run" in err and "none of its parameters" in err, err
    assert reps.explore_result(store.explore_run.latest) is None


def test_a_damaged_posterior_is_refused_inline_in_the_setup_panel(fresh, root, render):
    (root / "broken").mkdir()
    (root / "broken" / "posterior.parquet").write_bytes(b"junk")
    pc.posterior_name.value = "broken"
    rc = render(Page())
    (err,) = alerts(rc, "mcsim-posterior-error")
    assert "cannot read as Parquet" in err


# -------------------------------------------------------------------------------------------
# "What drives this"

ROWS = [
    {"name": BLEED, "s1": 0.62, "s1_conf": 0.08, "st": 0.71, "st_conf": 0.09},
    {"name": "trauma_callin_median_min", "s1": 0.1, "s1_conf": 0.05, "st": 0.18, "st_conf": 0.06},
    {"name": "rr_obs_sd", "s1": 0.0, "s1_conf": 0.01, "st": 0.01, "st_conf": 0.01},
]


def test_the_ranking_reads_in_words_with_the_registrys_descriptions(tmp_path):
    sobol_result(tmp_path / "s", "stadium_explosion", "deaths", ROWS)
    view = drivers.load_sensitivity(tmp_path / "s")
    words = drivers.ranking_words(view)
    assert words[0].startswith(
        "The median untreated time from injury to death of a bleeding casualty explains most "
        "of the spread in deaths: 71 % of its variance"
    )
    assert "median call-in delay of on-call trauma teams (18 %)" in words[1]
    assert any("explain less than 5 % each" in w for w in words)
    rows = drivers.source_rows(view)
    assert rows[0].source.startswith("Fox et al. Shock 2017") and rows[0].rank == 1
    assert drivers.bars_png(view)[:4] == b"\x89PNG"


def test_a_sobol_result_is_preferred_and_a_missing_one_says_how_to_make_it(tmp_path):
    sobol_result(tmp_path / "a", "stadium_explosion", "deaths", ROWS)
    sobol_result(tmp_path / "b", "stadium_explosion", "deaths", ROWS, runs=640)
    found = [drivers.load_sensitivity(tmp_path / x) for x in "ab"]
    assert drivers.matching(found, "stadium_explosion", "deaths").name == "b"
    assert drivers.matching(found, "stadium_explosion", "scene_clear_min") is None
    assert drivers.how_to_make("stadium_explosion", "scene_clear_min", tmp_path) == (
        "mcsim sensitivity stadium_explosion --metric scene_clear_min --method sobol "
        f"--workers 2 --out {tmp_path}/sensitivity/stadium_explosion-scene_clear_min"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [({"format": "other"}, "format"), ({"metric": 3}, "metric"), ({"method": "x"}, "method"),
     ({"indices": [{"name": BLEED, "st": "big"}]}, r"indices\[0\]\.st")],
)  # fmt: skip
def test_a_bad_sensitivity_file_is_one_line_naming_the_field(tmp_path, change, field):
    sobol_result(tmp_path / "s", "stadium_explosion", "deaths", ROWS)
    f = tmp_path / "s" / "indices.json"
    f.write_text(json.dumps({**json.loads(f.read_text()), **change}))
    with pytest.raises(InputError, match=rf"indices.json: {field}: "):
        drivers.load_sensitivity(tmp_path / "s")


def test_the_panel_shows_the_bars_for_the_scenario_or_the_command(fresh, root, render):
    sid = mcsim.default_scenario_path().stem
    sobol_result(root / "sens" / "one", sid, "deaths", ROWS)
    (root / "sens" / "bad").mkdir()
    (root / "sens" / "bad" / "indices.json").write_text("{")
    rc = render(DrivesPanel())
    rc.find(v.ExpansionPanels).widget.v_model = 0  # open the panel, as a click does
    assert images(rc, "mcsim-drivers-bars")
    assert "explains most of the spread in deaths" in str(
        rc.find(v.Html, class_="mcsim-drivers-words").widget.children
    )
    assert any("bad/indices.json" in t for t in texts(rc, "mcsim-drivers-problem"))
    rc.find(v.Select, label="Metric").widget.v_model = "scene_clear_min"
    rc.find(v.Alert, class_="mcsim-drivers-none").wait_for(timeout=10)
    assert not images(rc, "mcsim-drivers-bars")
    (cmd,) = texts(rc, "mcsim-drivers-command")
    assert cmd.startswith(f"mcsim sensitivity {sid} --metric scene_clear_min --method sobol")
    assert cmd.endswith(f"--out {root}/sensitivity/{sid}-scene_clear_min")
