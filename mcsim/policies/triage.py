"""Field triage tools: observed vitals in, a triage tag out; and the responder-error model.

Each tool is a pure function of what a responder observes (a :class:`mcsim.physiology.Vitals`
built from the patient's true vitals plus observation error), never of the true state. Thresholds
are keyword parameters with the protocol's values as defaults (SCIENCE.md §1), so a study can
vary them and ``mcsim policies`` can list them. Where a protocol test has no direct counterpart in
the vitals the model carries, the surrogate is documented and is itself a parameter:

- "no radial / palpable pulse" ↔ SBP below ``sbp_min`` (the studies' surrogate, SBP < 90);
- "cannot follow simple commands" ↔ GCS below ``gcs_min`` (surrogate GCS < 13);
- "catastrophic haemorrhage" (Triage Sieve 2013, MPTT) ↔ SBP below ``haemorrhage_sbp_max``
  with a pulse present [assumption: the model has no separate bleeding state];
- AVPU "P with inappropriate response" or "U" (JumpSTART) ↔ GCS below ``gcs_min`` = 9
  [assumption: AVPU P corresponds to GCS about 8].

The exceptions to "observed vitals only" are explicit in the signature: ``salt`` and ``stm``
read the scenario's RPM coding (``physiology``) and SALT's expectant category reads the
resources around the decision (``context``); ``perfect`` is the perfect-information reference
and receives the true state (``truth``) — it is not a field tool.

:func:`apply_mistriage` is the responder-error model: after the tool has decided, a uniform
number drawn once per patient (stream ``triage_error``) moves the tag one step up or down with
configurable probabilities (``policies.triage_error`` in a scenario).
"""

from __future__ import annotations

from mcsim.enums import TriageTag
from mcsim.physiology import PhysiologyParams, Vitals, observed_rpm
from mcsim.policies.registry import PolicyKind, register
from mcsim.policies.views import TriageContext, TrueState


@register(
    PolicyKind.TRIAGE,
    "start",
    "START (Newport Beach 1983): walks → minor; apnoeic → dead; RR > 30, no radial pulse "
    "(SBP < 90) or cannot obey (GCS < 13) → immediate; else delayed.",
)
def start(v: Vitals, *, rr_max: int = 30, sbp_min: int = 90, gcs_min: int = 13) -> TriageTag:
    """Simple Triage And Rapid Treatment.

    Args:
        v: observed vitals.
        rr_max: respiratory rates above this are immediate (the protocol's "over 30").
        sbp_min: systolic pressures below this stand for an absent radial pulse.
        gcs_min: a GCS below this stands for "cannot follow simple commands".

    Returns:
        The START category.
    """
    if v.walking:
        return TriageTag.MINOR
    if not v.breathing:
        # The airway has been opened and the patient still does not breathe.
        return TriageTag.DEAD
    if v.rr > rr_max or v.sbp < sbp_min or v.gcs < gcs_min:
        return TriageTag.IMMEDIATE
    return TriageTag.DELAYED


@register(
    PolicyKind.TRIAGE,
    "jumpstart",
    "JumpSTART (Romig 1995) for children aged up to child_age_max, START for older patients: "
    "walks → minor (not under 1 y); apnoeic: no pulse → dead, pulse → immediate (rescue "
    "breaths); RR < 15 or > 45, no palpable pulse (SBP < 70) or AVPU P/U (GCS < 9) → "
    "immediate; else delayed.",
)
def jumpstart(
    v: Vitals,
    *,
    child_age_max: int = 8,
    rr_low: int = 15,
    rr_high: int = 45,
    sbp_min: int = 70,
    gcs_min: int = 9,
    adult_rr_max: int = 30,
    adult_sbp_min: int = 90,
    adult_gcs_min: int = 13,
) -> TriageTag:
    """JumpSTART for children, START for everyone older than ``child_age_max``.

    The apnoeic child with a pulse gets five rescue breaths; the model cannot see whether
    breathing resumes, so the tool gives the benefit of the doubt (immediate) [assumption].
    Infants (under 1 y) cannot be sorted by walking and are assessed at once.

    Args:
        v: observed vitals (``v.age`` selects the algorithm).
        child_age_max: oldest age (years) assessed with JumpSTART.
        rr_low: a child's RR below this is immediate.
        rr_high: a child's RR above this is immediate.
        sbp_min: a child's SBP below this stands for no palpable peripheral pulse
            [assumption: paediatric hypotension].
        gcs_min: a child's GCS below this stands for AVPU "P inappropriate" or "U".
        adult_rr_max: START's RR threshold for older patients.
        adult_sbp_min: START's SBP threshold for older patients.
        adult_gcs_min: START's GCS threshold for older patients.

    Returns:
        The tag.
    """
    if v.age > child_age_max:
        return start(v, rr_max=adult_rr_max, sbp_min=adult_sbp_min, gcs_min=adult_gcs_min)
    if v.walking and v.age >= 1:
        return TriageTag.MINOR
    if not v.breathing:
        return TriageTag.IMMEDIATE if v.pulse > 0 else TriageTag.DEAD
    if v.rr < rr_low or v.rr > rr_high or v.pulse == 0 or v.sbp < sbp_min or v.gcs < gcs_min:
        return TriageTag.IMMEDIATE
    return TriageTag.DELAYED


@register(
    PolicyKind.TRIAGE,
    "salt",
    "SALT (Lerner 2008): apnoeic → dead; any of {cannot obey (GCS < 13), no peripheral pulse "
    "(SBP < 90), respiratory distress (RR > 30)} → immediate, or expectant when observed RPM "
    "<= expectant_rpm_max and immediate patients waiting exceed scarcity x vehicles; else "
    "walking → minimal (minor), not walking → delayed.",
)
def salt(
    v: Vitals,
    *,
    context: TriageContext,
    physiology: PhysiologyParams,
    rr_max: int = 30,
    sbp_min: int = 90,
    gcs_min: int = 13,
    expectant_rpm_max: int = 3,
    scarcity: float = 1.0,
) -> TriageTag:
    """Sort, Assess, Lifesaving interventions, Treatment/transport.

    Lifesaving interventions (haemorrhage control, airway, decompression, antidotes) are assumed
    done; haemorrhage is therefore "controlled" for every patient. Expectant depends on the
    resources (documented rule, docs/model.md): a patient who would be immediate is expectant
    when they are unlikely to survive (observed RPM at most ``expectant_rpm_max``; Sacco's
    curve gives 23 % survival at RPM 3) *and* transport is scarce: the immediate patients
    already waiting at the scene outnumber ``scarcity`` times the vehicles at or driving to
    the scene plus the free vehicles.

    Args:
        v: observed vitals.
        context: resources around the decision.
        physiology: RPM coding used to score the observed vitals.
        rr_max: "respiratory distress" above this RR.
        sbp_min: "no peripheral pulse" below this SBP.
        gcs_min: "does not obey commands" below this GCS.
        expectant_rpm_max: highest observed RPM that can be expectant.
        scarcity: vehicles-to-waiting-immediate ratio below which transport is scarce.

    Returns:
        The tag.
    """
    if not v.breathing:
        return TriageTag.DEAD
    if v.gcs < gcs_min or v.sbp < sbp_min or v.rr > rr_max:
        vehicles = context.vehicles_at_or_to_scene + context.free_vehicles
        scarce = context.immediate_waiting > scarcity * vehicles
        if scarce and observed_rpm(v, physiology) <= expectant_rpm_max:
            return TriageTag.EXPECTANT
        return TriageTag.IMMEDIATE
    return TriageTag.MINOR if v.walking else TriageTag.DELAYED


#: UK Triage Sieve, 2013 revision (catastrophic haemorrhage first; Vassallo et al. 2017, table
#: 1): RR < 10 or > 30, HR > 120 → immediate. It has no consciousness step.
SIEVE_2013_THRESHOLDS: dict[str, int] = {
    "haemorrhage_sbp_max": 50,
    "rr_low": 10,
    "rr_high": 30,
    "hr_max": 120,
}

#: Modified Physiological Triage Tool (Vassallo et al., Injury 2017): the Sieve's steps with
#: narrower bands, RR < 12 or > 22, HR > 100, and a consciousness step, GCS < 14 → immediate.
MPTT_THRESHOLDS: dict[str, int] = {
    "haemorrhage_sbp_max": 50,
    "rr_low": 12,
    "rr_high": 22,
    "hr_max": 100,
    "gcs_min": 14,
}


@register(
    PolicyKind.TRIAGE,
    "mptt",
    "Modified Physiological Triage Tool (Vassallo 2017): catastrophic haemorrhage → immediate; "
    "walks → minor; apnoeic → dead; RR < 12 or > 22, HR > 100 or GCS < 14 → immediate; else "
    "delayed.",
    params=MPTT_THRESHOLDS,
)
@register(
    PolicyKind.TRIAGE,
    "sieve",
    "Triage Sieve (UK 2013): catastrophic haemorrhage (SBP < 50 with a pulse) → immediate; "
    "walks → minor; apnoeic → dead; RR < 10 or > 30, or HR > 120 → immediate; else delayed.",
    params=SIEVE_2013_THRESHOLDS,
)
def physiological_triage(
    v: Vitals,
    *,
    haemorrhage_sbp_max: int,
    rr_low: int,
    rr_high: int,
    hr_max: int,
    gcs_min: int | None = None,
) -> TriageTag:
    """The UK physiological triage algorithm, shared by the Triage Sieve (2013) and MPTT.

    Both tools ask the same questions in the same order (catastrophic haemorrhage, walking,
    breathing, then the physiological bands); they differ only in the thresholds, so one body
    serves both and each is registered with its own parameter set
    (:data:`SIEVE_2013_THRESHOLDS`, :data:`MPTT_THRESHOLDS`). The Sieve has no consciousness
    step: its set leaves ``gcs_min`` out, which skips the step.

    Args:
        v: observed vitals.
        haemorrhage_sbp_max: SBP below this with a pulse is catastrophic haemorrhage
            [assumption: surrogate].
        rr_low: an RR below this is immediate.
        rr_high: an RR above this is immediate.
        hr_max: a pulse above this is immediate.
        gcs_min: a GCS below this is immediate; None for a tool without that step.

    Returns:
        The tag.
    """
    if v.pulse > 0 and v.sbp < haemorrhage_sbp_max:
        return TriageTag.IMMEDIATE
    if v.walking:
        return TriageTag.MINOR
    if not v.breathing:
        return TriageTag.DEAD
    if v.rr < rr_low or v.rr > rr_high or v.pulse > hr_max:
        return TriageTag.IMMEDIATE
    if gcs_min is not None and v.gcs < gcs_min:
        return TriageTag.IMMEDIATE
    return TriageTag.DELAYED


@register(
    PolicyKind.TRIAGE,
    "careflight",
    "CareFlight (Garner 2001): walks → minor; obeys (GCS >= 13): radial pulse (SBP >= 90) → "
    "delayed, none → immediate; does not obey: breathes → immediate, apnoeic → dead.",
)
def careflight(v: Vitals, *, gcs_min: int = 13, sbp_min: int = 90) -> TriageTag:
    """CareFlight triage.

    Args:
        v: observed vitals.
        gcs_min: GCS at or above this means "obeys commands".
        sbp_min: SBP at or above this means "palpable radial pulse".

    Returns:
        The tag.
    """
    if v.walking:
        return TriageTag.MINOR
    if v.gcs >= gcs_min:
        return TriageTag.DELAYED if v.sbp >= sbp_min else TriageTag.IMMEDIATE
    return TriageTag.IMMEDIATE if v.breathing else TriageTag.DEAD


@register(
    PolicyKind.TRIAGE,
    "perfect",
    "Perfect-information reference (not a field tool): uses the TRUE state — RPM 0 → dead; "
    "critical → immediate; walking → minor; else delayed.",
)
def perfect(v: Vitals, *, truth: TrueState) -> TriageTag:
    """The tag a responder with perfect information would give.

    Consistent with the metrics' definitions (SCIENCE.md §5): a critical casualty is tagged
    immediate and no other is, so over- and under-triage are zero by construction.

    Args:
        v: observed vitals (ignored: this reference reads the true state).
        truth: the patient's true vitals, RPM and critical flag.

    Returns:
        The tag.
    """
    del v
    if truth.rpm <= 0 or not truth.vitals.breathing:
        return TriageTag.DEAD
    if truth.critical:
        return TriageTag.IMMEDIATE
    return TriageTag.MINOR if truth.vitals.walking else TriageTag.DELAYED


# ----------------------------------------------------------------------------- responder error

#: One step more urgent (over-triage) and one step less urgent (under-triage).
_UP = {TriageTag.MINOR: TriageTag.DELAYED, TriageTag.DELAYED: TriageTag.IMMEDIATE}
_DOWN = {TriageTag.IMMEDIATE: TriageTag.DELAYED, TriageTag.DELAYED: TriageTag.MINOR}


def apply_mistriage(
    tag: TriageTag,
    u: float,
    *,
    minor_over: float = 0.0,
    delayed_over: float = 0.0,
    delayed_under: float = 0.0,
    immediate_under: float = 0.0,
) -> TriageTag:
    """The tag a responder actually writes, given the tool's tag and one uniform draw.

    One uniform per patient decides: ``u < p_over`` moves the tag one step up (minor →
    delayed → immediate), ``u >= 1 - p_under`` one step down. Expectant and dead tags are never
    changed. Because ``u`` is drawn once per patient from its own stream, the same patients
    are mistriaged whatever the tool (as far as the tool gives them the same tag).

    Args:
        tag: the tool's tag.
        u: a uniform number in [0, 1).
        minor_over: P(minor → delayed).
        delayed_over: P(delayed → immediate).
        delayed_under: P(delayed → minor).
        immediate_under: P(immediate → delayed).

    Returns:
        The tag after responder error.
    """
    over = {TriageTag.MINOR: minor_over, TriageTag.DELAYED: delayed_over}.get(tag, 0.0)
    under = {TriageTag.IMMEDIATE: immediate_under, TriageTag.DELAYED: delayed_under}.get(tag, 0.0)
    if u < over:
        return _UP[tag]
    if u >= 1.0 - under:
        return _DOWN[tag]
    return tag
