"""Survival at definitive care (TRISS) and the untreated time course of a bleeding casualty.

Why this module exists: Sacco's RPM survival curve was fitted on registry patients by their
physiology *at presentation*, so applied from the moment of injury to every casualty, with the
expert-panel decline, it killed 3-8 times the recorded number in replays of real incidents
(CALIBRATION.md §1.1). The outcome model here follows the trauma literature instead:

- **Injury severity is hidden truth.** Each casualty has an Injury Severity Score (ISS) and a
  mechanism (blunt or penetrating). Critical means ISS > 15 (Frykberg 1988's definition).
- **Survival at definitive care is TRISS** (Boyd, Tolson & Copes 1987; Champion et al. 1990):
  ``Ps = 1 / (1 + exp(-b))`` with ``b = b0 + b1 RTS + b2 ISS + b3 AgeIndex``, evaluated at the
  physiology (Revised Trauma Score) the patient has *when definitive care starts*. Compensated
  ISS 16-40 patients have Ps 0.92-0.99; decompensation is what delay costs.
- **Bleeding casualties decline on a clock.** A casualty with ongoing haemorrhage has an
  untreated time to death drawn from a lognormal whose median and spread follow Fox et al.
  2017 (median 2.0-2.6 h from admission to haemorrhagic death, about 85 % within 6 h). They stay
  compensated for a share of that time, then their RPM falls linearly to 0. Care slows the clock
  (:class:`~mcsim.physiology.Trajectory`); a tourniquet on a compressible bleed applied before
  shock nearly stops it (Kragh et al. 2009: survival 96 % before shock vs 4 % after).

Every number is a field of :class:`~mcsim.physiology.PhysiologyParams`, cited in docs/model.md.
Functions take plain floats: they run once per patient event.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcsim.enums import Severity
    from mcsim.physiology import PhysiologyParams

#: RTS weights of coded GCS, SBP and RR (Champion et al. 1989; SCIENCE.md §1).
RTS_WEIGHTS = (0.9368, 0.7326, 0.2908)
#: Largest weighted RTS (all three codes 4).
RTS_MAX = 4 * sum(RTS_WEIGHTS)


def code_gcs_rts(gcs: float) -> int:
    """RTS code of the GCS total: 13-15 → 4, 9-12 → 3, 6-8 → 2, 4-5 → 1, 3 → 0."""
    if gcs >= 13:
        return 4
    if gcs >= 9:
        return 3
    if gcs >= 6:
        return 2
    return 1 if gcs >= 4 else 0


def code_sbp_rts(sbp: float) -> int:
    """RTS code of systolic blood pressure: > 89 → 4, 76-89 → 3, 50-75 → 2, 1-49 → 1, 0 → 0."""
    if sbp > 89:
        return 4
    if sbp >= 76:
        return 3
    if sbp >= 50:
        return 2
    return 1 if sbp >= 1 else 0


def code_rr_rts(rr: float) -> int:
    """RTS code of respiratory rate: 10-29 → 4, > 29 → 3, 6-9 → 2, 1-5 → 1, 0 → 0."""
    if rr > 29:
        return 3
    if rr >= 10:
        return 4
    if rr >= 6:
        return 2
    return 1 if rr >= 1 else 0


def revised_trauma_score(gcs: float, sbp: float, rr: float) -> float:
    """Weighted Revised Trauma Score, 0 to 7.8408."""
    w_gcs, w_sbp, w_rr = RTS_WEIGHTS
    return w_gcs * code_gcs_rts(gcs) + w_sbp * code_sbp_rts(sbp) + w_rr * code_rr_rts(rr)


def triss_probability(
    rts: float,
    iss: int,
    age: int,
    penetrating: bool,
    *,
    blunt: tuple[float, float, float, float] | list[float],
    penetrating_coef: tuple[float, float, float, float] | list[float],
    age_index_from: int = 55,
    child_blunt_below: int = 15,
) -> float:
    """TRISS probability of survival.

    Args:
        rts: weighted Revised Trauma Score at the start of definitive care.
        iss: Injury Severity Score, 1..75.
        age: years; the age index is 1 from ``age_index_from`` on.
        penetrating: the mechanism; patients under ``child_blunt_below`` use the blunt
            coefficients whatever the mechanism (the TRISS convention).
        blunt: ``(b0, b1, b2, b3)`` for blunt trauma.
        penetrating_coef: ``(b0, b1, b2, b3)`` for penetrating trauma.
        age_index_from: first age with AgeIndex 1.
        child_blunt_below: children younger than this use blunt coefficients.

    Returns:
        P(survive) in (0, 1).
    """
    b0, b1, b2, b3 = penetrating_coef if penetrating and age >= child_blunt_below else blunt
    age_index = 1.0 if age >= age_index_from else 0.0
    b = b0 + b1 * rts + b2 * iss + b3 * age_index
    return 1.0 / (1.0 + math.exp(-b))


def injury_severity_score(ais: tuple[int, int, int]) -> int:
    """ISS from the three highest AIS of different body regions (an AIS of 6 gives 75)."""
    if any(a >= 6 for a in ais):
        return 75
    return sum(a * a for a in ais)


class DeclineCurve:
    """The untreated RPM of a bleeding casualty against effective minutes.

    Flat at the initial RPM while compensated (``compensated_min``), then linear to 0 at
    ``death_min``. The same interface as the deterioration table's curves (``value``,
    ``zero_min``), so :class:`~mcsim.physiology.Trajectory` runs either.

    Args:
        rpm0: initial RPM.
        death_min: effective minutes from injury to death untreated.
        compensated_share: share of ``death_min`` spent compensated (0 <= share < 1).
    """

    __slots__ = ("compensated_min", "rpm0", "zero_min")

    def __init__(self, rpm0: float, death_min: float, compensated_share: float) -> None:
        if death_min <= 0 or not 0.0 <= compensated_share < 1.0:
            raise ValueError(
                f"need death_min > 0 and 0 <= compensated_share < 1, got {death_min}, "
                f"{compensated_share}"
            )
        self.rpm0 = float(rpm0)
        self.zero_min = float(death_min)
        self.compensated_min = compensated_share * death_min

    def value(self, t_min: float) -> float:
        """Expected RPM after ``t_min`` effective minutes."""
        if t_min <= self.compensated_min:
            return self.rpm0
        if t_min >= self.zero_min:
            return 0.0
        return self.rpm0 * (self.zero_min - t_min) / (self.zero_min - self.compensated_min)


class FlatCurve:
    """A casualty who does not decline untreated within the simulated hours."""

    __slots__ = ("rpm0", "zero_min")

    def __init__(self, rpm0: float) -> None:
        self.rpm0 = float(rpm0)
        self.zero_min = math.inf if rpm0 > 0 else 0.0

    def value(self, t_min: float) -> float:
        """The initial RPM, whatever the time."""
        return self.rpm0


def mortal_wound_death_min(cdf: Sequence[tuple[float, float]], u: float) -> float:
    """Minutes from injury to death of a mortally wounded casualty at uniform ``u``.

    The inverse of the piecewise-linear ``cdf`` (``PhysiologyParams.mortal_wound_death_cdf``,
    Webster 2021): ``u`` at or below the first knot's share gives the first knot's minutes
    (0 for Webster's 57.1 % dead at once).
    """
    t_prev, s_prev = cdf[0]
    if u <= s_prev:
        return float(t_prev)
    for t, share in cdf[1:]:
        if u <= share:
            if share == s_prev:
                return float(t)
            return float(t_prev + (t - t_prev) * (u - s_prev) / (share - s_prev))
        t_prev, s_prev = t, share
    return float(cdf[-1][0])


def lognormal_from_median(median: float, sigma: float, z: float) -> float:
    """The lognormal quantile with ``median`` and log-sd ``sigma`` at standard normal ``z``."""
    return median * math.exp(sigma * z)


def survival_at_definitive_care(
    params: PhysiologyParams,
    *,
    severity: Severity,
    rpm: float,
    gcs: float,
    sbp: float,
    rr: float,
    iss: int,
    age: int,
    penetrating: bool,
) -> float:
    """P(survive) of a casualty whose definitive care starts with this physiology.

    The one rule the model applies when care starts (``Patient.survival_if_treated_now``)
    and the exercise report applies at onset for its optimal-care reference: the walking
    wounded survive with ``minor_survival_probability``; under ``outcome_model: sacco``
    Sacco's curve of the RPM; under TRISS, 0 once the RPM is 0, serious (ISS 9-15) casualties
    ``serious_survival_probability`` (unless null), everyone else TRISS at the RTS of
    ``gcs``/``sbp``/``rr``, its deaths scaled by ``triss_mortality_ratio``.
    """
    from mcsim import physiology as phys
    from mcsim.enums import Severity

    if severity is Severity.MINOR:
        return params.minor_survival_probability
    if severity is Severity.MORTALLY_WOUNDED:  # a non-survivable wound
        return 0.0
    if params.outcome_model == "sacco":
        return float(phys.survival_probability(params, rpm))
    if rpm <= 0.0:
        return 0.0
    if severity is Severity.SERIOUS and params.serious_survival_probability is not None:
        return params.serious_survival_probability
    ps = triss_probability(
        revised_trauma_score(gcs, sbp, rr),
        iss,
        age,
        penetrating,
        blunt=params.triss_blunt,
        penetrating_coef=params.triss_penetrating,
    )
    return system_adjusted_survival(ps, params.triss_mortality_ratio)


def system_adjusted_survival(ps: float, mortality_ratio: float) -> float:
    """TRISS's Ps for a trauma system whose deaths are ``mortality_ratio`` times TRISS's.

    A standardised mortality ratio (observed over TRISS-expected deaths) scales the
    probability of death, ``1 - Ps``, capped at certain death. Ratio 1 returns ``ps``
    untouched, bit for bit (the published MTOS coefficients as they are).
    """
    if mortality_ratio == 1.0:
        return ps
    return max(0.0, 1.0 - mortality_ratio * (1.0 - ps))
