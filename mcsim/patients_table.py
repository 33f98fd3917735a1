"""The patients table: one row per casualty, written once at the end of a run.

It joins what was true (injury class, initial RPM and vitals, untreated death time), what was
seen (observed vitals and the tag) and what happened (times, hospital, outcome), so that
over- and under-triage and every time metric are simple column operations.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mcsim.enums import Outcome, Severity

if TYPE_CHECKING:
    from mcsim.model import MCIModel


def patients_frame(model: MCIModel) -> pd.DataFrame:
    """Build the patients table from a model's patients."""
    cols: dict[str, list] = {
        k: []
        for k in (
            "patient",
            "incident",
            "severity",
            "critical",
            "immediate_survivor",
            "age",
            "penetrating",
            "needs_surgery",
            "iss",
            "haemorrhage",
            "bleed_controlled",
            "care_need",
            "rpm0",
            "rr0",
            "pulse0",
            "sbp0",
            "gcs0",
            "walking0",
            "obs_rr",
            "obs_pulse",
            "obs_sbp",
            "obs_gcs",
            "obs_walking",
            "tag",
            "triaged_min",
            "left_scene_min",
            "leave_mode",
            "vehicle",
            "hospital",
            "first_hospital",
            "hospital_arrival_min",
            "definitive_care_min",
            "rpm_at_care",
            "p_survival",
            "death_min",
            "death_place",
            "outcome",
            "untreated_death_min",
            "state",
            "u_survival",
        )
    }
    for p in model.patients:
        v0 = p.initial_vitals()
        o = p.observed
        cols["patient"].append(p.pid)
        cols["incident"].append(p.scene.id)
        cols["severity"].append(p.severity._value_)
        cols["critical"].append(p.critical)
        cols["immediate_survivor"].append(
            p.rpm0 > 0 and p.severity is not Severity.MORTALLY_WOUNDED
        )
        cols["age"].append(p.age)
        cols["penetrating"].append(p.penetrating)
        cols["needs_surgery"].append(p.needs_surgery)
        cols["iss"].append(p.iss)
        cols["haemorrhage"].append(p.haemorrhage)
        cols["bleed_controlled"].append(p.bleed_controlled)
        cols["care_need"].append(p.care_need._value_)
        cols["rpm0"].append(p.rpm0)
        cols["rr0"].append(v0.rr)
        cols["pulse0"].append(v0.pulse)
        cols["sbp0"].append(v0.sbp)
        cols["gcs0"].append(v0.gcs)
        cols["walking0"].append(p.walking0)
        cols["obs_rr"].append(o.rr if o else -1)
        cols["obs_pulse"].append(o.pulse if o else -1)
        cols["obs_sbp"].append(o.sbp if o else -1)
        cols["obs_gcs"].append(o.gcs if o else -1)
        cols["obs_walking"].append(bool(o.walking) if o else False)
        cols["tag"].append(p.tag._value_)
        cols["triaged_min"].append(p.triaged_min)
        cols["left_scene_min"].append(p.left_scene_min)
        cols["leave_mode"].append(p.leave_mode)
        cols["vehicle"].append(p.vehicle)
        cols["hospital"].append(p.hospital)
        cols["first_hospital"].append(p.first_hospital)
        cols["hospital_arrival_min"].append(p.hospital_arrival_min)
        cols["definitive_care_min"].append(p.definitive_care_min)
        cols["rpm_at_care"].append(p.rpm_at_care)
        if p.outcome is Outcome.DIED and math.isnan(p.definitive_care_min):
            cols["p_survival"].append(0.0)
        else:
            cols["p_survival"].append(p.p_survival)
        cols["death_min"].append(p.death_min)
        cols["death_place"].append(p.death_place)
        cols["outcome"].append(p.outcome._value_)
        cols["untreated_death_min"].append(p.untreated_death_min)
        cols["state"].append(p.state._value_)
        cols["u_survival"].append(p.u_survival)
    df = pd.DataFrame(cols)
    for c in (
        "incident",
        "severity",
        "tag",
        "leave_mode",
        "hospital",
        "first_hospital",
        "care_need",
        "death_place",
        "outcome",
        "state",
    ):
        df[c] = pd.Categorical(df[c])
    for c in (
        "patient",
        "age",
        "iss",
        "rpm0",
        "rr0",
        "pulse0",
        "sbp0",
        "gcs0",
        "obs_rr",
        "obs_pulse",
        "obs_sbp",
        "obs_gcs",
        "vehicle",
    ):
        df[c] = df[c].astype(np.int32)
    for c in (
        "critical",
        "immediate_survivor",
        "penetrating",
        "needs_surgery",
        "haemorrhage",
        "bleed_controlled",
        "walking0",
        "obs_walking",
    ):
        df[c] = df[c].astype(bool)
    return df
