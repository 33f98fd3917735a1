"""Hospital load against capacity and the casualty flow (viz.flows), on real runs."""

from __future__ import annotations

import pytest

from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data
from viz import flows, runner


@pytest.fixture(scope="module", params=["las_vegas_concert_shooting", "manchester_arena_bombing"])
def real(request):
    return runner.run(runner.load_shipped(request.param), runner.SetUp())


def test_overload_minute_is_the_first_minute_with_more_patients_than_capacity(real):
    load = flows.hospital_load(real)
    rp = real.replay
    assert any(m is not None for m in load.overload_min.values()), "these incidents overload"
    for h, cap in real.capacity.items():
        first = next(
            (float(t) for t in load.occupancy.index if rp.hospital_occupancy(float(t))[h] > cap),
            None,
        )
        assert load.overload_min[h] == first
        assert load.peak(h) == int(load.occupancy[h].max())


def test_surge_adds_the_places_the_plan_opens_from_their_minute():
    data = small_scenario_data(casualties=60)
    data["hospitals"][0]["surge"] = {"ed_beds": 5, "icu_beds": 3}
    data["hospitals"][0]["surge_delay_min"] = 10
    view = runner.run(parse_scenario(data), runner.SetUp(seed=2))
    load = flows.hospital_load(view)
    ev = view.result.events
    opened = ev[(ev["kind"] == "surge_opened") & (ev["hospital"] == "big")]
    t = float(opened["time_min"].min())
    surge = load.surge["big"]
    assert (surge[surge.index < t] == view.capacity["big"]).all()
    assert (surge[surge.index >= t] == view.capacity["big"] + 5).all()  # ICU beds are not ED places
    assert (load.surge["small"] == view.capacity["small"]).all()


def test_sankey_counts_add_up_to_the_patients_table(real):
    paths = flows.casualty_paths(real)
    pt = real.result.patients
    links = flows.flow_links(paths)
    assert len(paths) == len(pt)
    scenes = links[links["source"].str.startswith("scene ")]
    assert scenes["patients"].sum() == len(pt)
    ends = links[links["target"].str.startswith("died") | (links["target"] == flows.SURVIVED)]
    assert ends["patients"].sum() == len(pt)
    died = ends[ends["target"].str.startswith("died")]["patients"].sum()
    assert died == real.metrics["deaths"] == (pt["outcome"].astype(str) == "died").sum()
    into = links.groupby("target")["patients"].sum()
    first = pt["first_hospital"].astype(str)
    for h, n in first[first != ""].value_counts().items():
        assert into[h] == n
    for mode, label in flows.TRANSPORT_LABELS.items():
        n = int((pt["leave_mode"].astype(str) == mode).sum())
        assert into.get(label, 0) == n
    # every node's inflow equals its outflow, except the first and last columns
    out = links.groupby("source")["patients"].sum()
    for node in set(into.index) & set(out.index):
        assert into[node] == out[node]


def test_every_death_has_a_place_and_a_reason(real):
    paths = flows.casualty_paths(real)
    dead = paths[paths["outcome"] == "died"]
    assert (dead["cause"] != "").all() and (
        paths.loc[paths["outcome"] != "died", "cause"] == ""
    ).all()
    by = flows.deaths_by_cause(paths)
    assert by["deaths"].sum() == len(dead)
    pt = real.result.patients.set_index("patient")
    for p, cause in zip(dead["patient"], dead["cause"], strict=True):
        place = str(pt.loc[p, "death_place"])
        mortal = str(pt.loc[p, "severity"]) == "mortally_wounded"
        assert cause.startswith(flows.MORTAL_PREFIX) is mortal, (p, cause)
        cause = cause.removeprefix(flows.MORTAL_PREFIX)
        if cause.startswith("at the scene"):
            assert place == "scene"
        elif cause.startswith("in hospital"):
            assert place == "hospital"
        elif cause.startswith("on the way"):
            assert place == "transport"
        else:
            assert cause == flows.KILLED_OUTRIGHT


def test_las_vegas_names_its_mortally_wounded_among_the_dead(real):
    """The replay's non-survivable wounds who die on the way or at hospital say so."""
    paths = flows.casualty_paths(real)
    mortal = paths["cause"].str.startswith(flows.MORTAL_PREFIX)
    if "Las Vegas" in real.scenario.name:
        assert mortal.sum() > 0
        assert set(paths.loc[mortal, "death_place"]) >= {"hospital"}
    else:
        assert mortal.sum() == 0  # Manchester's dead were killed outright


def test_waiting_deaths_name_the_resource_the_patient_queued_for(real):
    paths = flows.casualty_paths(real)
    ev = real.result.events
    for p, cause in zip(paths["patient"], paths["cause"], strict=True):
        if cause.startswith("in hospital, waiting for "):
            rows = ev[(ev["patient"] == p) & (ev["kind"] == "queue")]
            assert cause.removeprefix("in hospital, waiting for ") == str(rows["detail"].iloc[-1])


def test_figures_build(real):
    load = flows.hospital_load(real)
    fig = flows.hospital_load_figure(load)
    busy = [h for h in real.capacity if load.peak(h) > 0]
    names = {tr.hovertemplate.split("<br>")[0] for tr in fig.data if tr.name == "incident patients"}
    assert names == set(busy)
    paths = flows.casualty_paths(real)
    sankey = flows.sankey_figure(paths).data[0]
    links = flows.flow_links(paths)
    assert list(sankey.link.value) == links["patients"].tolist()
    labels = list(sankey.node.label)
    assert [labels[i] for i in sankey.link.source] == links["source"].tolist()
    assert [labels[i] for i in sankey.link.target] == links["target"].tolist()
