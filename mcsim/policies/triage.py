"""Field triage tools: observed vitals in, a triage tag out.

Each tool is a pure function of what a responder observes (a :class:`mcsim.physiology.Vitals`
built from the patient's true vitals plus observation error), never of the true state. Thresholds
are keyword parameters with the protocol's values as defaults (SCIENCE.md §1), so a study can
vary them and ``mcsim policies`` can list them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcsim.enums import TriageTag
from mcsim.policies.registry import PolicyKind, register

if TYPE_CHECKING:
    from mcsim.physiology import Vitals


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
