"""An incident's onset: its casualties appear at the scene, each with a first state and a clock.

Why a module of its own: the onset is where a patient's story starts (step 1 of
:class:`~mcsim.agents.patient.Patient`'s docstring), and it is the one place that turns an
incident's scenario entry into agents: the casualty table drawn from the injury profile on the
incident's own random stream, the uniforms drawn up front for the policies (common random
numbers), who of them will go home or be treated and released, who bystanders will drive, and
each living patient's first state and events (extraction, self-transport, the untreated death).
The model schedules it at the incident's ``onset_min`` (:meth:`mcsim.model.MCIModel.start_incident`)
and keeps the state; nothing here is kept between calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mcsim.agents.patient import Patient
from mcsim.casualties import generate_casualties, mortally_wounded
from mcsim.enums import EventKind, PatientState, Phase
from mcsim.outcome import mortal_wound_death_min

if TYPE_CHECKING:
    from mcsim.model import MCIModel
    from mcsim.scene import Scene


def mortal_wound_times(model: MCIModel, scene: Scene, n: int) -> list[float] | None:
    """Minutes to death of each casualty if mortally wounded (None: killed outright).

    Under ``physiology.mortal_wound_timing: webster2021`` the profile's immediate deaths die
    after a time drawn from ``mortal_wound_death_cdf``; the uniforms come from their own
    stream, one per casualty, so the casualties drawn stay the same (CRN).
    """
    phys = model.spec.physiology
    if phys.mortal_wound_timing != "webster2021":
        return None
    u = model.streams.stream(f"mortal/{scene.id}").random(n)
    cdf = phys.mortal_wound_death_cdf
    return [mortal_wound_death_min(cdf, float(x)) for x in u]


def start_incident(model: MCIModel, scene: Scene) -> None:
    """Onset of ``scene``'s incident in ``model``: casualties appear; their clocks start.

    Patients killed outright die at once (the mortally wounded live until their time,
    :func:`mortal_wound_times`); trapped ones are freed ``extraction_min`` later
    (``SceneWork.extracted``); the others await triage. Self-transporting patients, and
    non-walking ones drawn for bystanders, get their departure scheduled
    (``SceneWork.self_transport``); EMS is alerted ``response.alert_delay_min`` later.
    """
    inc = scene.spec
    sc = model.spec
    model.log.add(
        model.now,
        EventKind.INCIDENT,
        incident=scene.id,
        node=scene.node,
        detail=f"{inc.casualties} casualties, {inc.injury_profile}",
    )
    table = generate_casualties(
        inc.casualties,
        sc.profile(inc.injury_profile),
        child_share=inc.child_share,
        child_age_range=inc.child_age_range,
        adult_age_range=inc.adult_age_range,
        self_transport_share=inc.self_transport_share,
        extraction_share=inc.extraction_share,
        extraction_min_range=inc.extraction_min_range,
        triage_min_range=sc.response.triage_min_range,
        self_transport_delay_min_range=sc.response.self_transport_delay_min_range,
        rng=model.streams.stream(f"casualties/{scene.id}"),
    )
    # One uniform per patient on each policy-facing stream, drawn up front whatever the
    # policies do with them (common random numbers across policies).
    model.triage_error_u.extend(model.streams.stream("triage_error").random(len(table)).tolist())
    model.destination_u.extend(model.streams.stream("destination").random(len(table)).tolist())
    model.choice_u.extend(model.streams.stream("hospital_choice").random(len(table)).tolist())
    if inc.went_home_share > 0:
        u = model.streams.stream(f"home/{scene.id}").random(len(table))
        scene.went_home = set(
            (np.flatnonzero(u < inc.went_home_share) + len(model.patients)).tolist()
        )
    if inc.treat_and_release_share > 0:
        u = model.streams.stream(f"release/{scene.id}").random(len(table))
        scene.released = set(
            (np.flatnonzero(u < inc.treat_and_release_share) + len(model.patients)).tolist()
        )
    carried: set[int] = set()
    carried_delay = None
    if inc.carried_by_bystanders_share > 0:
        # Their own stream, so that the casualties drawn stay the same (CRN).
        rng = model.streams.stream(f"bystanders/{scene.id}")
        lo, hi = sc.response.self_transport_delay_min_range
        u = rng.random(len(table))
        carried_delay = rng.uniform(lo, hi, len(table))
        carried = set(np.flatnonzero(u < inc.carried_by_bystanders_share).tolist())
    mortal_min = mortal_wound_times(model, scene, len(table))
    access = inc.access_delay_min
    for i, row in enumerate(table.rows()):
        if mortal_min is not None and row["rpm0"] <= 0 and mortal_min[i] > 0:
            row = mortally_wounded(row, mortal_min[i])
        if access > 0:  # nobody leaves or is reached before the scene is accessible
            row["extraction_min"] = max(row["extraction_min"], access)
            row["self_transport_delay_min"] = max(row["self_transport_delay_min"], access)
        p = Patient(model, len(model.patients), scene, row)
        model.patients.append(p)
        scene.patients.append(p)
        if p.rpm0 <= 0:
            p.set_state(PatientState.AWAITING_TRIAGE, EventKind.CASUALTY, node=scene.node)
            p.die("killed outright")
            continue
        if row["extraction_min"] > 0:
            p.set_state(PatientState.TRAPPED, EventKind.CASUALTY, node=scene.node)
            model.schedule(
                model.now + row["extraction_min"],
                Phase.SERVICE_END,
                model.scene_work.extracted,
                p,
            )
        else:
            p.set_state(PatientState.AWAITING_TRIAGE, EventKind.CASUALTY, node=scene.node)
            scene.awaiting_triage.append(p)
        p.in_demand = True
        scene.demand += 1
        p.start_clock()
        if row["self_transport"]:
            model.schedule(
                model.now + row["self_transport_delay_min"],
                Phase.DECISION,
                model.scene_work.self_transport,
                p,
            )
        elif i in carried and not p.walking0 and row["extraction_min"] <= access:
            delay = max(float(carried_delay[i]), access)
            model.schedule(
                model.now + delay, Phase.DECISION, model.scene_work.self_transport, p, True
            )
    model.schedule(
        model.now + sc.response.alert_delay_min,
        Phase.DECISION,
        model.dispatch_centre.alert_ems,
        scene,
    )
