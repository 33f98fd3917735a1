"""The interactive map (viz.mapview): what it draws, what its hover cards say, on real runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mcsim.enums import PatientState
from mcsim.region import build_region
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data
from viz import charts, mapview, runner
from viz.state import hospital_key


@pytest.fixture(scope="module")
def vegas():
    return runner.run(runner.load_shipped("las_vegas_concert_shooting"), runner.SetUp())


@pytest.fixture(scope="module")
def town():
    return runner.run(parse_scenario(small_scenario_data(casualties=60)), runner.SetUp(seed=1))


def points(xs) -> int:
    """Segments in a lines trace (None separates them)."""
    return sum(1 for x in xs if x is None)


def test_real_regions_are_recognised_as_straight_line_times_and_grids_are_not(vegas, town):
    assert mapview.straight_line_region(vegas.region)
    assert not mapview.straight_line_region(town.region)
    for name in ("manchester_arena_bombing", "boston_marathon_bombing"):
        assert mapview.straight_line_region(build_region(runner.load_shipped(name).region))
    assert not mapview.straight_line_region(
        build_region(runner.load_shipped("earthquake_metro").region)
    )


def test_a_straight_line_region_draws_only_the_trips_made_by_the_minute_not_every_pair(vegas):
    m = mapview.InteractiveMap(vegas)
    fig = m.figure(0)
    assert fig.data[0].x == ()  # no road layer: the region has no roads
    n = vegas.region.n_nodes
    every_pair = n * (n - 1) // 2
    trips = m.trace_index("trips")
    frame = {t: m.frame(t)[0][trips] for t in (0, 30, 700)}
    drawn = {t: points(f["x"]) for t, f in frame.items()}
    assert drawn[0] <= drawn[30] <= drawn[700] < every_pair
    pairs, first = mapview.trips_made(vegas.result.events)
    assert drawn[700] == len(pairs) and drawn[30] == int(np.sum(first <= 30))
    # the PNG map draws the same trips, never the complete graph
    assert len(charts._edges(vegas)) == len(pairs)


def test_a_region_with_roads_draws_every_road(town):
    m = mapview.InteractiveMap(town)
    roads = {(min(u, v), max(u, v)) for u, v in town.region.graph.edges() if u != v}
    assert points(m.figure(0).data[0].x) == len(roads)
    assert m.frame(0)[0].get(m.trace_index("trips")) is None


def test_hospital_hover_cards_give_load_capacity_queue_and_deaths(vegas):
    m = mapview.InteractiveMap(vegas)
    t = 90.0
    table = mapview.hospital_rows(m, t)
    occ = vegas.replay.hospital_occupancy(t)
    assert table.set_index("hospital")["patients"].to_dict() == occ
    # waiting for care: patients whose last row by minute t left them awaiting care there
    ev = vegas.result.events
    rows = ev[(ev["patient"] >= 0) & (ev["time_min"] <= t)]
    last = rows.groupby("patient").tail(1)
    waiting = last[last["state"].astype(str) == PatientState.AWAITING_CARE.value]
    expect = waiting["hospital"].astype(str).value_counts().to_dict()
    got = {h: w for h, w in zip(table["hospital"], table["waiting"], strict=True) if w}
    assert got == expect
    pt = vegas.result.patients
    died = pt[(pt["death_place"].astype(str) == "hospital") & (pt["death_min"] <= t)]
    assert table["deaths"].sum() == len(died)
    cards = m.frame(t)[0][m.trace_index("hospitals")]["hovertext"]
    umc = cards[list(vegas.capacity).index("umc")]
    assert f"{occ['umc']} incident patients / {vegas.capacity['umc']} free places" in umc
    assert "waiting for care" in umc and "deaths here" in umc


def test_ambulance_hover_cards_say_state_patient_and_destination(vegas):
    m = mapview.InteractiveMap(vegas)
    frame, _ = m.frame(20.0)
    cards = frame[m.trace_index("amb:to_hospital")]["hovertext"]
    assert cards, "some ambulances are on their way to a hospital at minute 20"
    for card in cards:
        assert "state: to hospital" in card and "destination:" in card
        assert "patient: none" not in card  # an ambulance heading to hospital carries someone
    at_station = frame[m.trace_index("amb:at_station")]["hovertext"]
    assert all("patient: none" in c and "destination" not in c for c in at_station)


def test_key_labels_do_not_overlap_and_name_the_busiest_hospitals(vegas):
    m = mapview.InteractiveMap(vegas)
    labelled = [lab.hospital for lab in m.labels]
    assert {"umc", "sunrise"} <= set(labelled)  # the two the issue found hidden
    received = {h: d["patients"] for h, d in vegas.metrics["hospitals"].items()}
    assert labelled[0] == max(received, key=received.get)


def test_label_placement_moves_or_drops_labels_that_would_collide():
    pts = {"a": (0.0, 0.0), "b": (0.0, 0.0), "c": (0.0, 0.0), "d": (0.0, 0.0), "e": (0.0, 0.0)}
    texts = dict.fromkeys(pts, "hospital 10/20")
    placed = mapview.place_labels(pts, texts, list(pts), px_per_km=100)
    assert [lab.position for lab in placed] == [
        "top center", "bottom center", "middle right", "middle left",
    ]  # fmt: skip
    far = mapview.place_labels(
        {"a": (0.0, 0.0), "b": (10.0, 0.0)}, texts, ["a", "b"], px_per_km=100
    )
    assert [lab.position for lab in far] == ["top center", "top center"]


def test_lonlat_is_projected_to_km_so_the_scale_bar_is_true(vegas):
    xy = mapview.project(vegas.region)
    umc = vegas.region.index("hosp_umc")
    site = vegas.region.index("site_route91")
    from mcsim.region import great_circle_km

    (lon1, lat1), (lon2, lat2) = vegas.region.xy(umc), vegas.region.xy(site)
    true_km = great_circle_km(lon1, lat1, lon2, lat2)
    assert math.dist(xy[umc], xy[site]) == pytest.approx(true_km, rel=0.01)
    assert mapview.nice_length(37.0) == 5 and mapview.nice_length(9.0) == 1


def test_closures_and_diversions_stay_drawn_at_their_minute():
    from mcsim.exercise import ExerciseSession
    from viz.exercise import model_view

    data = small_scenario_data(casualties=40)
    data["region"]["closed"] = [{"from": "r0c0", "to": "r0c1"}]
    scenario = parse_scenario(data)
    s = ExerciseSession(scenario, 1)
    s.apply({"kind": "road_closed", "at_min": 9, "from": "r1c1", "to": "r1c2"})
    s.apply({"kind": "hospital_diversion", "at_min": 12, "hospital": "small"})
    s.run()
    m = mapview.InteractiveMap(model_view(s.model, scenario, 1))
    closed, diverted = m.trace_index("closed"), m.trace_index("diverted")
    assert points(m.frame(5)[0][closed]["x"]) == 1
    assert points(m.frame(10)[0][closed]["x"]) == 2
    assert m.frame(11)[0][diverted]["x"] == []
    assert m.frame(13)[0][diverted]["hovertext"] == ["small: diversion"]


def test_frame_moves_the_patients_at_the_scene_and_the_title(town):
    m = mapview.InteractiveMap(town)
    fig = m.figure(0)
    waiting0 = sum(len(fig.data[m.trace_index(f"tag:{t}")].x) for t in ("untriaged",))
    counts = town.replay.counts_at(0)
    assert waiting0 == counts["scene:blast:untriaged"]
    m.apply(fig, 30)
    assert fig.layout.title.text.startswith("<b>minute 30</b>")
    occ = town.replay.counts_at(30)[hospital_key("big")]
    assert f"{occ} incident patients" in fig.data[m.trace_index("hospitals")].hovertext[0]


def test_rebind_keeps_the_map_for_a_later_state_of_the_same_run(town):
    m = mapview.InteractiveMap(town)
    assert m.rebind(town)
    other = runner.run(runner.load_shipped("earthquake_metro"), runner.SetUp(casualties=50))
    assert not m.rebind(other)


def test_figure_widgets_import_plotlys_bundle_from_the_apps_static_route():
    """A figure widget carries a few lines of JavaScript, not plotly's ~5 MB bundle, and the
    server that runs viz.app answers the route those lines import the bundle from."""
    import plotly.graph_objects as go
    from solara.server import server, settings

    from viz.components import mapview as component

    widget = component._widget(go.Figure(), component.CONFIG)
    assert len(widget._esm) < 1000
    assert "/static/assets/widgetbundle.js" in widget._esm
    before = list(settings.assets.extra_locations)
    try:
        component.serve_plotly_bundle()
        component.serve_plotly_bundle()  # once only
        assert settings.assets.extra_locations.count(str(component.PLOTLY_BUNDLE_DIR)) == 1
        served = [d / component.PLOTLY_BUNDLE for d in server.asset_directories()]
        bundle = next(p for p in served if p.is_file())
        assert bundle.stat().st_size > 1_000_000
    finally:
        settings.assets.extra_locations[:] = before
    widget.close()
