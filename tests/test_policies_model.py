"""Policies inside the model: common random numbers, responder error, strategy, diversion,
quotas, buses, scenario parameters, and user policies registered outside mcsim."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

import mcsim
from mcsim.cli import main
from mcsim.enums import EventKind, TriageTag
from mcsim.errors import InputError
from mcsim.invariants import check_invariants
from mcsim.model import MCIModel
from mcsim.policies import registry as registry_module
from mcsim.policies.registry import Policy, PolicyKind, PolicyRegistry, register
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data


@register(
    PolicyKind.TRIAGE,
    "test_user_everyone_delayed",
    "Test-only user policy: every breathing patient is delayed.",
)
def everyone_delayed(v, *, label: str = "x") -> TriageTag:
    """A user's triage rule defined outside mcsim (with one parameter)."""
    return TriageTag.DELAYED if v.breathing else TriageTag.DEAD


def scenario(data: dict | None = None, **policies):
    """The small test scenario with ``policies`` merged into its policies section."""
    d = copy.deepcopy(data or small_scenario_data(casualties=60))
    d.setdefault("policies", {}).update(policies)
    return parse_scenario(d, file="small.yaml")


def run_model(sc, seed: int = 1, **names) -> MCIModel:
    """Run a model to the horizon, checking the invariants at every event time."""
    m = MCIModel(sc, seed, **names)
    while m.step():
        problems = check_invariants(m)
        assert not problems, problems[:3]
    return m


CASUALTY_COLUMNS = ["severity", "rpm0", "age", "critical", "penetrating", "needs_surgery"]


@pytest.mark.parametrize(
    "names",
    [
        {"triage": "salt"},
        {"triage": "perfect"},
        {"triage": "stm", "dispatch": "stm"},
        {"destination": "coordinated"},
        {"destination": "random", "dispatch": "nearest_first"},
    ],
)
def test_policies_share_casualties_and_policy_draws(names: dict) -> None:
    """Common random numbers: same casualties and the same per-patient draws for any policy."""
    sc = scenario(triage_error={"delayed_under": 0.2, "minor_over": 0.1})
    base = run_model(sc, 3)
    other = run_model(sc, 3, **names)
    a = base.result().patients[CASUALTY_COLUMNS]
    b = other.result().patients[CASUALTY_COLUMNS]
    assert a.equals(b)
    assert base.triage_error_u == other.triage_error_u
    assert base.destination_u == other.destination_u
    assert len(base.triage_error_u) == len(base.patients)


def tags(sc, seed: int = 2, **names) -> dict[int, str]:
    """Patient id → tag of the triaged patients of one run."""
    pt = mcsim.simulate(sc, seed, **names).patients
    pt = pt[~pt["triaged_min"].isna()]
    return dict(zip(pt["patient"], pt["tag"].astype(str), strict=True))


def test_responder_error_moves_tags_for_the_patients_whose_draw_says_so() -> None:
    """immediate_under = 1 turns every immediate into delayed; 0 leaves START unchanged."""
    exact = tags(scenario())
    assert "immediate" in exact.values()
    always = tags(scenario(triage_error={"immediate_under": 1.0}))
    assert "immediate" not in always.values()
    for pid, tag in exact.items():
        if tag == "immediate" and pid in always:
            assert always[pid] == "delayed"


def test_perfect_information_triage_has_no_over_triage() -> None:
    """Tagged from the true state, nobody non-critical is immediate."""
    m = mcsim.simulate(scenario(), 4, triage="perfect").metrics
    assert m["overtriage_rate"] == 0.0
    assert mcsim.simulate(scenario(), 4).metrics["overtriage_rate"] > 0.0


def test_stay_and_play_stabilises_before_transport() -> None:
    """Immediate and delayed patients get stabilisation_min each on scene before departure."""
    sc = scenario(strategy={"prehospital": "stay_and_play", "stabilisation_min": 12})
    m = run_model(sc)
    ev = m.result().events
    stab = ev[
        (ev["kind"] == EventKind.SCENE_CARE_START.value) & (ev["detail"].str.contains("stab"))
    ]
    assert len(stab) > 0
    assert set(stab["tag"].astype(str)) <= {"immediate", "delayed"}
    departs = ev[(ev["kind"] == EventKind.DEPART_SCENE.value) & (ev["patient"] >= 0)]
    depart_at = dict(zip(departs["patient"], departs["time_min"], strict=True))
    for pid, t in zip(stab["patient"], stab["time_min"], strict=True):
        if pid in depart_at:
            assert depart_at[pid] >= t + 12 - 1e-9
    scoop = run_model(scenario()).result().events
    assert not scoop["detail"].astype(str).str.contains("stabilisation").any()


def tiny_hospitals_data() -> dict:
    """The small scenario with hospitals so small they fill with the first patients."""
    d = small_scenario_data(casualties=80, self_transport_share=0.0)
    for h in d["hospitals"]:
        h.update(resus_bays=1, ed_beds=1, teams_on_call=0, occupied={})
        h["minor_treatment_spaces"] = 0
    return d


def test_hospitals_go_on_diversion_and_destinations_respect_it() -> None:
    """With diversion at a load of 2, a full hospital diverts; no vehicle goes there meanwhile
    unless every hospital is on diversion."""
    sc = scenario(tiny_hospitals_data(), diversion={"on_at": 2, "off_below": 1})
    ev = run_model(sc, 5).result().events
    dec = ev[ev["kind"] == EventKind.DECISION.value]
    assert dec["detail"].str.startswith("diversion on").any()
    on: set[str] = set()
    all_ids = {"big", "small"}
    checked = 0
    for _, r in ev.iterrows():
        if r["kind"] == EventKind.DECISION.value and str(r["detail"]).startswith("diversion"):
            (on.add if "on" in str(r["detail"]).split()[1] else on.discard)(r["hospital"])
        elif r["kind"] == EventKind.DEPART_SCENE.value and r["patient"] < 0:
            if on and on != all_ids:
                assert r["hospital"] not in on
                checked += 1
    assert checked > 0


def test_quota_policy_honours_the_table_in_a_run() -> None:
    """Two P1 places at the nearer 'small': further immediate loads go to 'big'."""
    table = {
        "small": {"immediate": 2, "delayed": 999, "minor": 999},
        "big": {"immediate": 999},
    }
    sc = scenario(destination="quota", params={"destination": {"quota": {"quotas": table}}})
    pt = run_model(sc, 6).result().patients
    amb = pt[pt["leave_mode"].astype(str) == "ambulance"]
    p1 = amb[amb["tag"].astype(str) == "immediate"]
    assert len(p1) > 2
    assert (p1["hospital"].astype(str) == "small").sum() == 2
    assert (amb[amb["tag"].astype(str) != "immediate"]["hospital"].astype(str) == "small").all()
    nearest = mcsim.simulate(scenario(), 6).patients
    near_p1 = nearest[(nearest["leave_mode"].astype(str) == "ambulance")]
    near_p1 = near_p1[near_p1["tag"].astype(str) == "immediate"]
    assert (near_p1["hospital"].astype(str) == "small").sum() > 2  # the quota made the change


def test_buses_carry_walking_wounded_only() -> None:
    """A bus with 12 seats loads minor patients only (and several of them)."""
    d = small_scenario_data(casualties=120, self_transport_share=0.0)
    d["stations"][0]["vehicles"].append({"type": "bus", "count": 1, "capacity": 12})
    m = MCIModel(scenario(d), 7)
    m.run()
    bus = next(v.vid for v in m.vehicles if v.vtype.value == "bus")
    pt = m.result().patients
    on_bus = pt[pt["vehicle"] == bus]
    assert len(on_bus) >= 2
    assert set(on_bus["tag"].astype(str)) == {"minor"}


def test_scenario_policy_parameters_are_applied_and_checked() -> None:
    """start.rr_max = 0 makes every breathing non-walker immediate; bad keys are refused."""
    sc = scenario(params={"triage": {"start": {"rr_max": 0}}})
    assert set(tags(sc).values()) <= {"immediate", "minor", "dead"}
    with pytest.raises(InputError, match="valid parameters: rr_max, sbp_min, gcs_min") as e:
        scenario(params={"triage": {"start": {"rr": 0}}})
    assert e.value.path == "policies.params.triage.start.rr"
    with pytest.raises(InputError, match="unknown dispatch policy 'fast'; known:") as e:
        scenario(params={"dispatch": {"fast": {}}})
    assert e.value.path == "policies.params.dispatch.fast"


def test_cli_reports_bad_policy_parameters_on_one_line(write_yaml, capsys) -> None:
    """`mcsim run` with an unknown parameter prints one error line and exits 2."""
    d = small_scenario_data()
    d["policies"] = {"params": {"destination": {"balance": {"max_q": 3}}}}
    rc = main(["run", str(write_yaml(d)), "--json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert "policies.params.destination.balance.max_q: unknown parameter" in err[0]
    assert "valid parameters: max_queue, wait_weight" in err[0]


def test_user_policy_from_a_test_module_is_usable_by_name(write_yaml, capsys) -> None:
    """A decorated function outside mcsim works from Python, a scenario and the CLI."""
    sc = scenario(
        triage="test_user_everyone_delayed",
        params={"triage": {"test_user_everyone_delayed": {"label": "y"}}},
    )
    assert set(tags(sc).values()) <= {"delayed", "dead"}
    assert set(tags(scenario(), triage="test_user_everyone_delayed").values()) <= {
        "delayed",
        "dead",
    }
    rc = main(
        [
            "run",
            str(write_yaml(small_scenario_data())),
            "--triage",
            "test_user_everyone_delayed",
            "--json",
        ]
    )
    assert rc == 0
    rc = main(["policies"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "test_user_everyone_delayed: Test-only user policy" in out
    assert "[params: label='x']" in out


def test_entry_point_group_is_loaded_on_first_use(monkeypatch) -> None:
    """Modules published under the ``mcsim.policies`` entry-point group are imported."""
    reg = PolicyRegistry()
    seen = []

    def fake_entry_points(group: str):
        seen.append(group)

        def load():
            reg.add(Policy(PolicyKind.DESTINATION, "ep_policy", "from a plugin", lambda p, h: ""))

        return [SimpleNamespace(load=load)]

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    assert reg.get("destination", "ep_policy").description == "from a plugin"
    assert seen == ["mcsim.policies"]
    reg.names("destination")
    assert seen == ["mcsim.policies"]  # loaded once


def test_policies_command_lists_parameters_and_model_inputs(capsys) -> None:
    """`mcsim policies` shows every built-in with its parameters and what the model supplies."""
    assert main(["policies"]) == 0
    out = capsys.readouterr().out
    for name in (
        "start",
        "jumpstart",
        "salt",
        "sieve",
        "mptt",
        "careflight",
        "stm",
        "perfect",
        "priority",
        "nearest_first",
        "nearest",
        "nearest_free",
        "trauma",
        "field_triage",
        "balance",
        "quota",
        "random",
        "coordinated",
    ):
        assert f" {name}: " in out, name
    assert "max_queue=10, wait_weight=1.0" in out
    assert "[model supplies: truth]" in out


def test_minor_seats_let_an_ambulance_carry_several_walking_wounded() -> None:
    """With minor_seats 3 some one-stretcher ambulance leaves with 2-3 minor patients only."""
    d = small_scenario_data(casualties=120, self_transport_share=0.0)
    m = MCIModel(scenario(d, strategy={"minor_seats": 3}), 8)
    m.run()
    pt = m.result().patients
    amb = pt[pt["leave_mode"].astype(str) == "ambulance"]
    cap = {v.vid: v.capacity for v in m.vehicles}
    ev = m.result().events
    loads = ev[(ev["kind"] == EventKind.LOAD_START.value) & (ev["patient"] < 0)]
    tag = dict(zip(pt["patient"], pt["tag"].astype(str), strict=True))
    big = 0
    for vid, detail in zip(loads["vehicle"], loads["detail"], strict=True):
        ids = [int(x) for x in str(detail).split(",")]
        assert len(ids) <= max(cap[vid], 3)
        if len(ids) > cap[vid]:
            assert all(tag[i] == "minor" for i in ids)
            big += 1
    assert big > 0 and len(amb) > 0


@pytest.mark.parametrize(
    "names", [{"triage": "salt", "destination": "coordinated"}, {"destination": "random"}]
)
def test_new_policies_are_deterministic(names: dict) -> None:
    """Same scenario, seed and policies (with responder error and stay and play): same log."""
    sc = scenario(
        triage_error={"delayed_under": 0.3, "immediate_under": 0.2},
        strategy={"prehospital": "stay_and_play"},
        diversion={"on_at": 3},
    )
    a = mcsim.simulate(sc, 9, **names).events
    b = mcsim.simulate(sc, 9, **names).events
    assert a.equals(b)
