"""Mortally wounded casualties: alive at first contact, dying on Webster 2021's time course.

``physiology.mortal_wound_timing: webster2021`` turns the profile's immediate deaths from
"dead at onset" into casualties who die after a time drawn from ``mortal_wound_death_cdf``;
some are carried to hospital and die on the way or on arrival, as the Orlando and Las Vegas
records count them. They are never immediate survivors, so critical mortality (Frykberg)
leaves them out, and no care saves them.
"""

from __future__ import annotations

import numpy as np
import pytest

from mcsim.casualties import builtin_profiles
from mcsim.enums import Severity
from mcsim.errors import InputError
from mcsim.model import MCIModel
from mcsim.outcome import mortal_wound_death_min
from mcsim.physiology import PhysiologyParams
from mcsim.scenario import parse_scenario
from mcsim.validation.figures import compute_figures
from tests.conftest import small_scenario_data

WEBSTER = PhysiologyParams().mortal_wound_death_cdf


def test_the_default_time_course_is_webster_2021() -> None:
    """57.1 % dead at once, 67.7 / 91.4 / 99.0 % by 10 / 60 / 120 min, third quartile 21.8 min."""
    assert WEBSTER[:5] == [(0.0, 0.571), (10.0, 0.677), (21.8, 0.75), (60.0, 0.914), (120.0, 0.99)]
    assert WEBSTER[-1][1] == 1.0


@pytest.mark.parametrize(
    ("u", "minutes"),
    [
        (0.0, 0.0),
        (0.571, 0.0),
        (0.677, 10.0),
        (0.75, 21.8),
        (0.7135, 15.9),  # halfway between the 10- and 21.8-min knots
        (0.914, 60.0),
        (0.99, 120.0),
        (0.995, 180.0),  # halfway along the assumed tail to 240 min
        (1.0, 240.0),
    ],
)
def test_time_to_death_inverts_the_piecewise_linear_cdf(u: float, minutes: float) -> None:
    """Hand-computed quantiles of the Webster knots."""
    assert mortal_wound_death_min(WEBSTER, u) == pytest.approx(minutes)


def _run(timing: str, seed: int = 3, casualties: int = 400, **physiology):
    data = small_scenario_data(casualties=casualties, self_transport_share=0.3)
    data["physiology"] = {"mortal_wound_timing": timing, **physiology}
    profile = builtin_profiles()["gunshot"].model_dump()
    profile.update(
        description="test profile: half the casualties have non-survivable wounds",
        immediate_death_share=0.5,
    )
    data["injury_profiles"] = {"mostly_fatal": profile}
    data["incidents"][0]["injury_profile"] = "mostly_fatal"
    m = MCIModel(parse_scenario(data, file="mortal.yaml"), seed)
    m.run()
    return m.result()


def test_the_same_casualties_are_drawn_and_the_same_ones_die() -> None:
    """Common random numbers: webster2021 changes when the non-survivable die, not who they are;
    every one of them dies, and the rest of the casualty table is untouched."""
    instant, webster = _run("instant"), _run("webster2021")
    a, b = instant.patients, webster.patients
    fatal_a = (a["severity"].astype(str) == Severity.DEAD_ON_SCENE.value).to_numpy()
    sev_b = b["severity"].astype(str).to_numpy()
    fatal_b = np.isin(sev_b, [Severity.DEAD_ON_SCENE.value, Severity.MORTALLY_WOUNDED.value])
    assert (fatal_a == fatal_b).all()
    assert (b.loc[fatal_b, "outcome"].astype(str) == "died").all()
    assert (a.loc[~fatal_a, "iss"].to_numpy() == b.loc[~fatal_b, "iss"].to_numpy()).all()
    alive_at_onset = sev_b == Severity.MORTALLY_WOUNDED.value
    assert alive_at_onset.sum() > 0.3 * fatal_b.sum()  # Webster: 42.9 % outlive minute 0


def test_the_share_dead_by_each_knot_follows_webster() -> None:
    """Untreated times to death of all non-survivable casualties reproduce the knots (n ~ 1000)."""
    p = _run("webster2021", casualties=2000).patients
    sev = p["severity"].astype(str).to_numpy()
    fatal = np.isin(sev, [Severity.DEAD_ON_SCENE.value, Severity.MORTALLY_WOUNDED.value])
    t = np.where(sev == Severity.DEAD_ON_SCENE.value, 0.0, p["untreated_death_min"].to_numpy())
    t = t[fatal]
    assert len(t) > 800
    for minutes, share in WEBSTER[:-1]:
        assert (t <= minutes + 1e-9).mean() == pytest.approx(share, abs=0.04), minutes


def test_mortally_wounded_are_not_immediate_survivors_and_deaths_still_add_up() -> None:
    """They die at the scene, on the way or at hospital; deaths = killed outright + before
    hospital + in hospital; critical mortality counts only immediate survivors."""
    r = _run("webster2021")
    p, m = r.patients, r.metrics
    mortal = p["severity"].astype(str) == Severity.MORTALLY_WOUNDED.value
    assert not p.loc[mortal, "immediate_survivor"].any()
    assert m["deaths"] == m["immediate_deaths"] + m["deaths_prehospital"] + m["deaths_in_hospital"]
    assert m["immediate_deaths"] == int(
        (p["severity"].astype(str) == Severity.DEAD_ON_SCENE.value).sum()
    )
    places = set(p.loc[mortal, "death_place"].astype(str))
    assert "hospital" in places and "scene" in places
    crit = p["critical"].to_numpy(bool) & p["immediate_survivor"].to_numpy(bool)
    died = (p["outcome"].astype(str) == "died").to_numpy()
    assert m["critical_mortality"] == pytest.approx(died[crit].sum() / crit.sum())
    # no care saves them: any who reached definitive care were given zero survival
    treated = mortal & p["definitive_care_min"].notna()
    assert (p.loc[treated, "p_survival"] == 0).all()


def test_validation_counts_a_death_on_arrival_in_hospital_and_the_split_adds_up() -> None:
    """The validation figures split deaths into before and in hospital without double counting."""
    r = _run("webster2021")
    fig = compute_figures(r.patients, r.metrics, ["big", "small"], {"blast": 0.0})
    assert fig["deaths_prehospital"] + fig["deaths_in_hospital"] == fig["deaths"]
    assert fig["deaths_in_hospital"] == int(
        (r.patients["death_place"].astype(str) == "hospital").sum()
    )


@pytest.mark.parametrize(
    ("cdf", "why"),
    [
        ([[0, 0.5], [10, 0.4], [20, 1.0]], "shares must rise"),
        ([[10, 0.5], [5, 0.9], [20, 1.0]], "minutes must start"),
        ([[0, 0.5], [60, 0.9]], "the last share must be 1"),
    ],
)
def test_a_bad_time_course_is_refused_naming_the_field(cdf, why) -> None:
    """A CDF that falls, goes back in time or leaves anyone alive is one clear error."""
    data = small_scenario_data()
    data["physiology"] = {"mortal_wound_death_cdf": cdf}
    with pytest.raises(InputError, match="physiology.mortal_wound_death_cdf") as e:
        parse_scenario(data, file="bad.yaml")
    assert why in str(e.value)
