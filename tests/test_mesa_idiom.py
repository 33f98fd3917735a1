"""MCIModel behaves as Mesa users expect (issue 16 item 4).

Mesa's own drivers (``run_until``, ``run_for``, ``step``) process the model's events and give
the same event log as :meth:`MCIModel.run`; ``steps`` counts event times and ``time`` follows
the model's clock; ``rng=`` is the seed; agents have a ``pos``; the optional DataCollector
feeds Mesa's plots; and SolaraViz renders the model, steps it and resets it.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from mesa.experimental.scenarios import Scenario as MesaScenario

import mcsim
from mcsim.enums import PatientState
from mcsim.model import REPORTERS
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data


@pytest.fixture(scope="module")
def sc():
    """A small scenario with transfers, self-presenters and a few dozen casualties."""
    return parse_scenario(small_scenario_data(casualties=40), file="small.yaml")


def test_run_until_and_run_for_process_the_events_up_to_that_minute(sc):
    m = mcsim.MCIModel(sc, 5)
    m.run_until(30)
    assert m.time == m.now == 30
    events = m.result().events
    assert len(events) > 0 and events["time_min"].max() <= 30
    m.run_for(15)
    assert m.time == 45
    assert m.result().events["time_min"].max() <= 45
    with pytest.warns(RuntimeWarning):
        m.run_until(10)  # the past: Mesa warns and does nothing
    assert m.time == 45


def test_mesa_drivers_give_the_same_log_as_run(sc):
    ran = mcsim.MCIModel(sc, 5).run()
    driven = mcsim.MCIModel(sc, 5)
    driven.run_for(20)
    for _ in range(5):
        driven.step()
    driven.run_until(200)
    driven.run_model()  # Mesa's loop: step() while running
    assert not driven.running and driven.finished
    pd.testing.assert_frame_equal(driven.result().events, ran.result().events)
    assert driven.steps == ran.steps > 0


def test_steps_count_event_times_and_time_follows_the_clock(sc):
    stepped = mcsim.MCIModel(sc, 2)
    times = []
    for _ in range(12):
        stepped.step()
        times.append(stepped.time)
    assert stepped.steps == 12
    assert times == sorted(set(times)) and times[-1] == stepped.now  # one event time a step
    until = mcsim.MCIModel(sc, 2)
    until.run_until(stepped.time)
    assert until.steps == stepped.steps
    pd.testing.assert_frame_equal(until.result().events, stepped.result().events)


def test_rng_is_the_seed(sc):
    a = mcsim.MCIModel(sc, rng=9).run().result().events
    b = mcsim.MCIModel(sc, seed=9).run().result().events
    pd.testing.assert_frame_equal(a, b)
    assert mcsim.MCIModel(sc, 9, rng=9).seed == 9  # the same value twice is fine
    with pytest.raises(ValueError, match="seed=1, rng=2 differ"):
        mcsim.MCIModel(sc, seed=1, rng=2)
    with pytest.raises(TypeError, match="integer seed"):
        mcsim.MCIModel(sc, rng=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FutureWarning from Mesa's deprecated seed=
        mcsim.MCIModel(sc, seed=3)


def test_scenario_argument_accepts_mcsim_and_mesa_scenarios(sc):
    assert mcsim.MCIModel(scenario=sc).spec is sc
    assert mcsim.MCIModel(spec=sc, seed=4).spec is sc
    mesa_sc = MesaScenario(rng=None)  # what SolaraViz's Reset passes
    m = mcsim.MCIModel(scenario=mesa_sc, spec=sc, seed=4)
    assert m.spec is sc and m.scenario is mesa_sc and m.seed == 4
    with pytest.raises(ValueError, match="differ"):
        mcsim.MCIModel(scenario=MesaScenario(rng=1), spec=sc, seed=4)
    with pytest.raises(TypeError, match="needs an mcsim Scenario"):
        mcsim.MCIModel(scenario=MesaScenario())
    with pytest.raises(ValueError, match="once"):
        mcsim.MCIModel(sc, spec=parse_scenario(small_scenario_data(casualties=5)))


def test_agents_have_their_graph_node_as_pos(sc):
    m = mcsim.MCIModel(sc, 1)
    assert all(v.pos == v.home for v in m.vehicles)
    assert all(h.pos == h.node for h in m.hospital_list)
    scene_node = m.scenes[0].node
    seen_on_road = False
    while m.step():
        for v in m.vehicles:
            if v.trip is not None:
                seen_on_road = True
                assert v.pos == v.trip[0]  # where it left from; node is already its goal
            else:
                assert v.pos == v.node
        for s in m.staff:
            assert s.pos == (s.node if s.trip is None else s.trip[0])
    assert seen_on_road
    nodes = {h.hid: h.node for h in m.hospital_list}
    for p in m.patients:
        if p.hospital:
            assert p.pos == nodes[p.hospital]
        else:
            assert p.pos == scene_node
    assert any(p.hospital for p in m.patients)


def test_datacollector_is_off_by_default_and_collects_after_each_step(sc):
    assert not hasattr(mcsim.MCIModel(sc, 1), "datacollector")  # Mesa's batch_run checks this
    m = mcsim.MCIModel(sc, 1, collect=True)
    for _ in range(30):
        m.step()
    m.run_until(120)
    df = m.datacollector.get_model_vars_dataframe()
    assert list(df.columns) == list(REPORTERS)
    assert len(df) == 1 + 30 + 1  # at construction, after each step, after run_until
    assert df["minute"].is_monotonic_increasing and df["minute"].iloc[-1] == 120
    assert df["deaths"].is_monotonic_increasing
    dead = sum(p.state is PatientState.DEAD for p in m.patients)
    assert df["deaths"].iloc[-1] == dead
    assert df["in_hospitals"].iloc[-1] > 0 and df["vehicles_busy"].max() > 0
    # the collector changes nothing about the run
    pd.testing.assert_frame_equal(
        m.run().result().events, mcsim.MCIModel(sc, 1).run().result().events
    )


def test_solaraviz_renders_steps_and_resets(sc):
    """SolaraViz headless: the page renders; its controller's Step and Reset work."""
    solara = pytest.importorskip("solara", reason="SolaraViz needs solara (the [app] extra)")
    pytest.importorskip("altair", reason="mesa.visualization imports altair (in the [app] extra)")
    v = pytest.importorskip("ipyvuetify")
    from mesa.visualization import SolaraViz, make_plot_component
    from mesa.visualization.solara_viz import ModelController

    model = mcsim.MCIModel(sc, rng=2, collect=True)
    plot = make_plot_component(["deaths", "waiting_at_scenes", "in_hospitals"])
    page = SolaraViz(model, components=[plot], model_params=model.init_kwargs)
    solara.render(page, handle_error=False)  # the whole page, plot included

    # The controller on its own (SolaraViz puts it in a sidebar that is not mounted here).
    reactive = solara.reactive(model)
    _box, rc = solara.render(
        ModelController(
            reactive,
            model_parameters=model.init_kwargs,
            play_interval=solara.reactive(1),
            render_interval=solara.reactive(1),
            use_threads=solara.reactive(False),
        ),
        handle_error=False,
    )
    for _ in range(3):
        rc.find(v.Btn, children=["Step"]).widget.click()
    assert reactive.value is model and model.steps == 3
    assert len(model.datacollector.get_model_vars_dataframe()) == 4
    rc.find(v.Btn, children=["Reset"]).widget.click()
    fresh = reactive.value
    assert fresh is not model and fresh.steps == 0 and fresh.time == 0
    assert fresh.spec is sc and fresh.seed == 2
    rc.find(v.Btn, children=["Step"]).widget.click()
    df = fresh.datacollector.get_model_vars_dataframe()
    assert len(df) == 2 and fresh.steps == 1
    again = mcsim.MCIModel(sc, 2)
    again.step()
    pd.testing.assert_frame_equal(fresh.result().events, again.result().events)
