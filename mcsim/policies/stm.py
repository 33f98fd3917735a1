"""Sacco's resource-constrained triage (STM): evacuate whoever gains most from going now.

Sacco et al. (Acad Emerg Med 2005) order evacuation to maximise expected survivors given the
transport capacity, using each patient's RPM, its expected deterioration and the survival curve
(SCIENCE.md §2). They solved a linear program; the rule-based version here is greedy
(docs/model.md, "Policies"):

- a patient's **salvage gain** is the survival probability lost if their transport is delayed
  by one more vehicle cycle: ``S(rpm) - S(rpm after delay_min untreated)``, with ``S`` the
  survival curve and the deterioration table started at the *observed* RPM (the responder's
  score, not the true one);
- each waiting patient costs the seats they use: one seat, or the whole vehicle for an
  immediate patient who travels alone, so the gain **per unit of transport capacity** is the
  gain divided by the seats used;
- a loading vehicle takes the patient with the highest gain per seat first, then fills its
  remaining seats in the same order (ties: lower observed RPM, then first triaged).

With the default tables and a 60-minute delay the order is RPM 6, 5, 4, 7, 3, 2, 8, 9, 10, 1,
then 11 and 12 (no gain): mid-range patients first, the nearly unsalvageable and the nearly well
last, which is what distinguishes STM from START's "sickest first".

The ``stm`` triage tool turns the same gain into tags so that any dispatch rule follows the STM
order in broad strokes; the ``stm`` dispatch rule applies the full greedy order.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from mcsim.enums import TriageTag, VehicleType
from mcsim.physiology import PhysiologyParams, Vitals, observed_rpm, survival_probability_scalar
from mcsim.policies.registry import PolicyKind, register
from mcsim.policies.views import PatientView, VehicleView


@lru_cache(maxsize=1)
def default_physiology() -> PhysiologyParams:
    """The default health-model parameters (used when a policy is called without any)."""
    return PhysiologyParams()


def salvage_gain(rpm: int, delay_min: float, physiology: PhysiologyParams | None = None) -> float:
    """Survival probability lost by ``delay_min`` more untreated minutes from RPM ``rpm``.

    Args:
        rpm: the current (observed) RPM, 0..12 (values outside are clamped).
        delay_min: the extra wait, in effective (untreated) minutes.
        physiology: tables to use (default: :func:`default_physiology`).

    Returns:
        ``S(rpm) - S(untreated RPM after delay_min)``, in [0, 1].
    """
    params = physiology or default_physiology()
    r = min(12, max(0, int(rpm)))
    later = params.curve(r).value(max(0.0, float(delay_min)))
    return survival_probability_scalar(params, float(r)) - survival_probability_scalar(
        params, later
    )


# ------------------------------------------------------------------------------------- triage


@register(
    PolicyKind.TRIAGE,
    "stm",
    "Sacco triage method (resource-constrained): walks → minor; apnoeic → dead; otherwise by "
    "the survival lost if transport waits delay_min: gain >= immediate_gain → immediate, "
    "observed RPM <= expectant_rpm_max → expectant (last), else delayed.",
)
def stm(
    v: Vitals,
    *,
    physiology: PhysiologyParams,
    delay_min: float = 60.0,
    immediate_gain: float = 0.15,
    expectant_rpm_max: int = 2,
) -> TriageTag:
    """STM categories from the observed RPM and its expected deterioration.

    Args:
        v: observed vitals.
        physiology: the scenario's tables (RPM coding, deterioration, survival).
        delay_min: the delay the gain is computed over (about one ambulance round trip;
            Mills et al. 2013 assume a 30 ± 12 min round trip) [assumption: 60].
        immediate_gain: a gain at or above this is immediate [assumption].
        expectant_rpm_max: at or below this observed RPM (and below ``immediate_gain``) the
            patient is evacuated last [assumption].

    Returns:
        The tag.
    """
    if v.walking:
        return TriageTag.MINOR
    if not v.breathing:
        return TriageTag.DEAD
    rpm = observed_rpm(v, physiology)
    if salvage_gain(rpm, delay_min, physiology) >= immediate_gain:
        return TriageTag.IMMEDIATE
    if rpm <= expectant_rpm_max:
        return TriageTag.EXPECTANT
    return TriageTag.DELAYED


# ----------------------------------------------------------------------------------- dispatch


def stm_order(
    waiting: Sequence[PatientView],
    vehicle: VehicleView,
    *,
    delay_min: float,
    immediate_alone: bool,
    physiology: PhysiologyParams | None = None,
) -> list[int]:
    """The greedy STM load for ``vehicle`` (see the module docstring).

    Patients tagged dead are never loaded; a bus takes only minor patients.
    """
    from mcsim.policies.dispatch import TRANSPORTABLE

    cand = [p for p in waiting if p.tag in TRANSPORTABLE]
    if vehicle.type is VehicleType.BUS:
        cand = [p for p in cand if p.tag is TriageTag.MINOR]
    if not cand:
        return []

    from mcsim.policies.dispatch import fill_vehicle

    def seats(p: PatientView) -> int:
        return vehicle.capacity if (p.tag is TriageTag.IMMEDIATE and immediate_alone) else 1

    def key(p: PatientView):
        rpm = p.observed_rpm if p.observed_rpm >= 0 else 12
        return (-salvage_gain(rpm, delay_min, physiology) / seats(p), rpm, p.triaged_min, p.id)

    ranked = sorted(cand, key=key)
    return fill_vehicle(ranked, vehicle, immediate_alone=immediate_alone)


@register(
    PolicyKind.DISPATCH,
    "stm",
    "Sacco (STM) evacuation order: nearest free ambulance; loads the patients with the highest "
    "survival gain per seat from going now rather than delay_min later (greedy).",
)
def stm_dispatch(
    *,
    physiology: PhysiologyParams,
    delay_min: float = 60.0,
    immediate_alone: bool = True,
):
    """STM order with nearest-vehicle selection."""
    from mcsim.policies.dispatch import DispatchRule, nearest_vehicle

    def select_patients(waiting: Sequence[PatientView], vehicle: VehicleView) -> list[int]:
        return stm_order(
            waiting,
            vehicle,
            delay_min=delay_min,
            immediate_alone=immediate_alone,
            physiology=physiology,
        )

    return DispatchRule(select_vehicle=nearest_vehicle, select_patients=select_patients)
