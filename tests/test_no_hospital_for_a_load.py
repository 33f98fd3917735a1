"""A load with nowhere to go is a fact of the day, never a crash (issue 15, defect 1)."""

from __future__ import annotations

import pytest

import mcsim
from mcsim.enums import EventKind
from mcsim.invariants import check_invariants
from mcsim.policies import default_registry
from mcsim.policies.registry import PolicyKind
from mcsim.scenario import load_scenario
from mcsim.simulate import scenarios_dir

DESTINATIONS = default_registry().names(PolicyKind.DESTINATION)


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_children_with_no_child_hospital_among_the_candidates_still_go_somewhere(destination):
    """The issue's reproduction: the nearest hospital takes no children and policies are shown
    only it; every policy now looks further instead of raising."""
    sc = load_scenario(
        scenarios_dir() / "stadium_explosion.yaml",
        [
            "hospitals[2].accepts_children=false",
            "response.destination_candidates=1",
            "incidents[0].child_share=0.5",
        ],
    )
    m = mcsim.MCIModel(sc, seed=1, destination=destination)
    m.run()
    assert check_invariants(m) == []
    p = m.result().patients
    children = p[(p["age"] < 18) & (p["leave_mode"].astype(str) == "ambulance")]
    assert len(children) > 0
    assert (children["hospital"].astype(str) != "").all()


def test_a_scene_cut_off_from_every_hospital_keeps_its_load_waiting_and_says_why():
    sc = load_scenario(scenarios_dir() / "stadium_explosion.yaml")
    m = mcsim.MCIModel(sc, seed=1)
    m.run(until=20.0)  # ambulances are at the scene, loading
    site = m.scenes[0].node
    roads = {tuple(sorted(e)) for e in m.region.graph.in_edges(site)}
    roads |= {tuple(sorted(e)) for e in m.region.graph.out_edges(site)}
    for a, b in sorted(roads):
        m.region.close_road(a, b)
    m.run()
    ev = m.result().events
    waits = ev[ev["detail"].astype(str).str.startswith("no hospital can be reached")]
    assert len(waits) > 0
    assert check_invariants(m) == []
    after = ev[ev["time_min"] > 20.0]
    assert not (after["kind"] == EventKind.DEPART_SCENE.value).any()


def test_validate_warns_about_hospitals_the_casualties_cannot_reach(tmp_path, capsys):
    import yaml

    from mcsim.cli import main
    from tests.conftest import small_scenario_data

    data = small_scenario_data(casualties=20, child_share=0.2)
    # "small" stands at r4c3: close its three roads; "big" takes no children
    data["region"]["closed"] = [
        {"from": "r4c3", "to": "r3c3"},
        {"from": "r4c3", "to": "r4c2"},
        {"from": "r4c3", "to": "r4c4"},
    ]
    data["hospitals"][0]["accepts_children"] = False
    path = tmp_path / "cut.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("ok: ")
    lines = err.splitlines()
    prefix = f"warning: {path}: incidents[0]: 1 hospital(s) cannot be reached from its site: "
    assert any(ln.startswith(prefix) and "small" in ln for ln in lines)
    assert any("has children but no reachable hospital takes them" in ln for ln in lines)
    clean = small_scenario_data(casualties=20)
    path.write_text(yaml.safe_dump(clean, sort_keys=False))
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err == ""
