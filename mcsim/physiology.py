"""The true health state of a casualty: Sacco's RPM score, its decline over time, and survival.

Why this module exists: triage policies see only what a responder measures, while outcomes
follow from the patient's *true* physiology and the care received in time (DESIGN.md, "Patient:
true state vs. what responders see"). The true state is Sacco's RPM score (coded Respiratory
rate + Pulse rate + best Motor response, 0-12; Sacco et al. 2005, 2007). Its untreated decline is
a table of expected RPM every 30 minutes; its link to outcome is a survival probability per RPM.
Care does not reverse the decline, it slows the clock that drives it: each patient carries an
*effective clock* that runs at rate 1 untreated (faster for penetrating injuries), slower under
on-scene, transport or hospital care, and stops (rate 0) in definitive care.

Vitals (RR, pulse, SBP, GCS) are derived from the RPM so that triage algorithms which test
vitals see a consistent patient: each component code maps to a value inside its band, placed by
a per-patient quantile drawn once. What a responder reads is :func:`observe` of those vitals.

Every number here is a field of :class:`PhysiologyParams` with its source or the label
[assumption] in docs/model.md. Vectorised functions take numpy arrays (or scalars) for whole
populations; :class:`Trajectory` and the per-patient helpers use plain floats because they run
once per patient event, 100,000s of times per run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, PrivateAttr, field_validator, model_validator

from mcsim.schema_base import StrictModel

#: Number of 30-minute cells in each row of the deterioration table (30, 60, ..., 360 min).
TABLE_CELLS = 12
#: Highest RPM score.
RPM_MAX = 12
# Tolerance for ceil(): table values are whole numbers and interpolation can land a hair above.
_CEIL_EPS = 1e-9

_DEFAULT_SURVIVAL = [0.052, 0.089, 0.15, 0.23, 0.35, 0.49, 0.63, 0.75, 0.84, 0.90, 0.94, 0.97, 0.98]

_ZERO_ROW = [0.0] * TABLE_CELLS
_DEFAULT_DETERIORATION: dict[int, list[float]] = {
    12: [12, 12, 11, 11, 10, 10, 10, 10, 9, 9, 8, 8],
    11: [11, 11, 10, 10, 9, 8, 8, 7, 7, 6, 6, 5],
    10: [10, 9, 9, 8, 8, 7, 6, 6, 5, 5, 4, 4],
    9: [9, 8, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0],
    8: [8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0],
    7: [6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0],
    6: [4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    5: [3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    4: [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    3: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    2: _ZERO_ROW,
    1: _ZERO_ROW,
    0: _ZERO_ROW,
}

Band = tuple[int, int]


def _default_deterioration() -> dict[int, list[float]]:
    return {k: [float(v) for v in row] for k, row in _DEFAULT_DETERIORATION.items()}


# --------------------------------------------------------------------------------------------
# RPM coding (vectorised)
# --------------------------------------------------------------------------------------------


def _out(result: np.ndarray) -> Any:
    """A 0-d result back to a Python int, arrays as they are."""
    return int(result) if result.ndim == 0 else result


def code_rr(rr: Any) -> Any:
    """RPM respiratory-rate code: 10-24 → 4, 25-35 → 3, > 35 → 2, 1-9 → 1, 0 → 0.

    Args:
        rr: breaths per minute, scalar or array (non-integers fall into the band above 24/35).

    Returns:
        The code(s), an ``int`` for a scalar, an ``int8`` array otherwise.
    """
    x = np.asarray(rr, dtype=float)
    out = np.select([x <= 0, x < 10, x <= 24, x <= 35], [0, 1, 4, 3], default=2).astype(np.int8)
    return _out(out)


def code_pulse(hr: Any) -> Any:
    """RPM pulse-rate code: 60-120 → 4, 121-140 → 3, > 140 → 2, 1-59 → 1, 0 → 0.

    Args:
        hr: beats per minute, scalar or array.

    Returns:
        The code(s), an ``int`` for a scalar, an ``int8`` array otherwise.
    """
    x = np.asarray(hr, dtype=float)
    out = np.select([x <= 0, x < 60, x <= 120, x <= 140], [0, 1, 4, 3], default=2).astype(np.int8)
    return _out(out)


def code_rr_scalar(rr: float) -> int:
    """:func:`code_rr` for one number, without numpy (for per-patient hot paths)."""
    if rr <= 0:
        return 0
    if rr < 10:
        return 1
    if rr <= 24:
        return 4
    return 3 if rr <= 35 else 2


def code_pulse_scalar(hr: float) -> int:
    """:func:`code_pulse` for one number, without numpy (for per-patient hot paths)."""
    if hr <= 0:
        return 0
    if hr < 60:
        return 1
    if hr <= 120:
        return 4
    return 3 if hr <= 140 else 2


def code_motor(motor: Any) -> Any:
    """RPM motor code from the GCS motor score M1-M6.

    M6 obeys → 4, M5 localises → 3, M4 withdraws → 2, M3/M2 (abnormal flexion, extension) → 1,
    M1 none → 0.

    Args:
        motor: GCS motor score(s), integers 1..6.

    Returns:
        The code(s), an ``int`` for a scalar, an ``int8`` array otherwise.

    Raises:
        ValueError: a score outside 1..6.
    """
    x = np.asarray(motor)
    if np.any((x < 1) | (x > 6)) or np.any(x != np.floor(x)):
        raise ValueError(f"GCS motor score must be an integer 1..6, got {motor!r}")
    lookup = np.array([0, 0, 1, 1, 2, 3, 4], dtype=np.int8)  # index = motor score
    return _out(lookup[x.astype(np.int64)])


def rpm(rr: Any, hr: Any, motor: Any) -> Any:
    """RPM score (0-12) from respiratory rate, pulse rate and GCS motor score.

    Args:
        rr: breaths per minute.
        hr: beats per minute.
        motor: GCS motor score 1..6.

    Returns:
        The sum of the three codes, an ``int`` for scalars, an ``int8`` array otherwise.
    """
    total = (
        np.asarray(code_rr(rr), dtype=np.int8)
        + np.asarray(code_pulse(hr), dtype=np.int8)
        + np.asarray(code_motor(motor), dtype=np.int8)
    )
    return _out(total)


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


class _Curve:
    """The untreated RPM of one initial RPM as a function of effective minutes (plain floats)."""

    __slots__ = ("end_min", "slope", "step_min", "values", "zero_min")

    def __init__(self, values: tuple[float, ...], step_min: float, window_cells: int) -> None:
        self.values = values  # value at 0, step, 2 step, ..., 12 steps
        self.step_min = step_min
        self.end_min = step_min * TABLE_CELLS
        last = values[-1]
        self.slope = (last - values[-1 - window_cells]) / (step_min * window_cells)
        if values[0] <= 0.0:
            self.zero_min = 0.0
        else:
            zero = math.inf
            for i, v in enumerate(values):
                if v <= 0.0:
                    # Linear pieces reach 0 exactly at the first grid point whose value is 0.
                    zero = i * step_min
                    break
            if zero == math.inf and self.slope < 0.0:
                zero = self.end_min + last / -self.slope
            self.zero_min = zero

    def value(self, t_min: float) -> float:
        """Expected RPM after ``t_min`` effective minutes."""
        if t_min <= 0.0:
            return self.values[0]
        if t_min >= self.end_min:
            if self.slope == 0.0:  # also keeps t = inf from giving 0 * inf
                return self.values[-1]
            return max(0.0, self.values[-1] + self.slope * (t_min - self.end_min))
        i = int(t_min // self.step_min)
        frac = (t_min - i * self.step_min) / self.step_min
        a = self.values[i]
        return a + frac * (self.values[i + 1] - a)


class PhysiologyParams(StrictModel):
    """Every number of the health model, with defaults from SCIENCE.md §2 (see docs/model.md).

    Frozen: derived lookup tables are computed once at construction.
    """

    model_config = ConfigDict(frozen=True)

    survival_by_rpm: list[float] = Field(
        default_factory=lambda: list(_DEFAULT_SURVIVAL),
        description="P(survive) with definitive care, for RPM 0..12 (13 values).",
    )
    deterioration_table: dict[int, list[float]] = Field(
        default_factory=_default_deterioration,
        description="Expected untreated RPM at 1..12 table steps, keyed by initial RPM 0..12.",
    )
    table_step_min: float = Field(30.0, gt=0, description="Minutes between table columns.")
    extrapolation_window_min: float = Field(
        120.0,
        gt=0,
        description="Beyond the table, the RPM keeps falling at the slope of its last this-many "
        "minutes [assumption].",
    )
    onscene_care_factor: float = Field(0.5, ge=0)
    transport_care_factor: float = Field(0.5, ge=0)
    hospital_wait_care_factor: float = Field(0.6, ge=0)  # calibration median [assumption]
    resus_care_factor: float = Field(0.25, ge=0)
    penetrating_deterioration_factor: float = Field(1.5, ge=0)
    walking_min_rpm: int = Field(11, ge=0, le=RPM_MAX + 1)
    postcare_death_delay_min: float = Field(60.0, ge=0)
    minor_deterioration_factor: float = Field(
        0.0,
        ge=0,
        description="deterioration rate of the walking wounded (minor injury class) relative "
        "to the RPM table; 0 = they do not deteriorate [assumption]",
    )
    minor_survival_probability: float = Field(
        1.0,
        ge=0,
        le=1,
        description="survival of the walking wounded once treated, instead of the RPM curve "
        "(fitted on trauma admissions, not walking wounded) [assumption]",
    )
    serious_survival_probability: float | None = Field(
        1.0,
        ge=0,
        le=1,
        description="survival of serious (ISS 9-15) casualties once treated, unless their "
        "physiology has failed (RPM 0); null = TRISS as for critical casualties. Hasler et al. "
        "Swiss Med Wkly 2014 (458 trauma patients): every death had ISS > 15 (outcome_model "
        "triss only)",
    )
    mortal_wound_timing: Literal["instant", "webster2021"] = Field(
        "instant",
        description="when the casualties of the profile's immediate_death_share die: instant = "
        "dead at onset (killed outright); webster2021 = mortally wounded, each dying after a "
        "time drawn from mortal_wound_death_cdf, alive (agonal) until then, so some are "
        "carried to hospital and die on the way or on arrival, as the records count them",
    )
    mortal_wound_death_cdf: list[tuple[float, float]] = Field(
        default_factory=lambda: [
            (0.0, 0.571),
            (10.0, 0.677),
            (21.8, 0.75),
            (60.0, 0.914),
            (120.0, 0.99),
            (240.0, 1.0),
        ],
        description="(minutes from injury, share dead by then) of the mortally wounded, "
        "linear between knots: Webster et al., BMJ Mil Health 2021 (303 killed in action, "
        "median ISS 75): 57.1 % at 0 min, third quartile 21.8 min, 67.7 / 91.4 / 99.0 % by "
        "10 / 60 / 120 min; the last knot (all dead by 240 min) is an assumption",
    )
    outcome_model: Literal["triss", "sacco"] = Field(
        "triss",
        description="triss: ISS-based severity, haemorrhage time course and TRISS survival at "
        "definitive care (docs/model.md); sacco: the first model (every casualty on Sacco's "
        "deterioration table, survival by RPM), kept for comparison",
    )
    triss_blunt: tuple[float, float, float, float] = Field(
        (-0.4499, 0.8085, -0.0835, -1.7430),
        description="TRISS (b0, b1 RTS, b2 ISS, b3 age index), blunt; MTOS, Champion et al. "
        "J Trauma 1990",
    )
    triss_penetrating: tuple[float, float, float, float] = Field(
        (-2.5355, 0.9934, -0.0651, -1.1360),
        description="TRISS coefficients, penetrating; MTOS, Champion et al. 1990",
    )
    triss_mortality_ratio: float = Field(
        1.0,
        gt=0,
        le=3,
        description="deaths after definitive care relative to TRISS's (the standardised "
        "mortality ratio of a trauma system against the MTOS coefficients): P(death) = ratio "
        "x (1 - Ps), capped at 1. 1 = MTOS as published; a 2020 registry cohort observed 0.87 "
        "(ground ambulance) and 0.67 (helicopter) with the same coefficients",
    )
    haemorrhage_death_median_min: float = Field(
        145.0,
        gt=0,
        description="median untreated minutes from injury to death of a bleeding casualty: "
        "the historical calibration's posterior median, within Fox et al. Shock 2017's "
        "median 2.0-2.6 h from admission to haemorrhagic death",
    )
    haemorrhage_death_sigma: float = Field(
        0.82,
        gt=0,
        description="log-sd of that time: the historical calibration's posterior median (with "
        "the 145 min median, 87 % within 6 h; Fox et al. 2017: about 85 %)",
    )
    haemorrhage_compensated_share: float = Field(
        0.5,
        ge=0,
        lt=1,
        description="share of the time to death a bleeding casualty stays compensated "
        "(normal vital signs) before the RPM falls [assumption]",
    )
    haemorrhage_control_factor: float = Field(
        0.1,
        ge=0,
        le=1,
        description="clock rate, relative to untreated, once a compressible bleed is "
        "controlled before shock (tourniquet; Kragh 2009: 96 % vs 4 % survival) [assumption]",
    )
    stable_critical_deterioration_factor: float = Field(
        0.52,
        ge=0,
        description="rate on Sacco's table of critical casualties without ongoing "
        "haemorrhage (head, chest, fractures): the historical calibration's posterior median, "
        "barely narrower than its prior [assumption]",
    )
    serious_deterioration_factor: float = Field(
        0.0,
        ge=0,
        description="rate on Sacco's table of serious (ISS 9-15) casualties [assumption]",
    )
    rr_obs_sd: float = Field(2.0, ge=0)
    pulse_obs_sd: float = Field(6.0, ge=0)
    sbp_obs_sd: float = Field(8.0, ge=0)
    gcs_obs_error_prob: float = Field(0.1, ge=0, le=1)
    rr_bands: dict[int, Band] = Field(
        default_factory=lambda: {4: (10, 24), 3: (25, 35), 2: (36, 50), 1: (1, 9), 0: (0, 0)}
    )
    pulse_bands: dict[int, Band] = Field(
        default_factory=lambda: {4: (60, 120), 3: (121, 140), 2: (141, 180), 1: (20, 59), 0: (0, 0)}
    )
    sbp_bands_by_pulse_code: dict[int, Band] = Field(
        default_factory=lambda: {4: (95, 150), 3: (80, 110), 2: (60, 90), 1: (40, 80), 0: (0, 0)}
    )
    gcs_bands_by_motor_code: dict[int, Band] = Field(
        default_factory=lambda: {4: (13, 15), 3: (9, 12), 2: (6, 8), 1: (4, 5), 0: (3, 3)}
    )

    _grid: np.ndarray = PrivateAttr()
    _slopes: np.ndarray = PrivateAttr()
    _zero_min: np.ndarray = PrivateAttr()
    _survival: np.ndarray = PrivateAttr()
    _curves: tuple[_Curve, ...] = PrivateAttr()

    @field_validator("mortal_wound_death_cdf")
    @classmethod
    def _cdf_rises_to_one(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if not v:
            raise ValueError("needs at least one (minutes, share) knot")
        t_prev, s_prev = -1.0, 0.0
        for t, share in v:
            if t < 0 or t <= t_prev:
                raise ValueError(f"minutes must start at >= 0 and rise, got {t} after {t_prev}")
            if not s_prev <= share <= 1:
                raise ValueError(f"shares must rise within 0..1, got {share} after {s_prev}")
            t_prev, s_prev = t, share
        if v[-1][1] != 1.0:
            raise ValueError(f"the last share must be 1 (everyone dead), got {v[-1][1]}")
        return v

    @field_validator("survival_by_rpm")
    @classmethod
    def _check_survival(cls, v: list[float]) -> list[float]:
        if len(v) != RPM_MAX + 1:
            raise ValueError(f"needs {RPM_MAX + 1} values (RPM 0..12), got {len(v)}")
        for r, p in enumerate(v):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"survival probability for RPM {r} must be in [0, 1], got {p}")
        for r in range(1, len(v)):
            if v[r] < v[r - 1]:
                raise ValueError(
                    f"survival must not decrease with RPM: RPM {r} has {v[r]} < {v[r - 1]} "
                    f"at RPM {r - 1}"
                )
        return v

    @field_validator("deterioration_table")
    @classmethod
    def _check_table(cls, v: dict[int, list[float]]) -> dict[int, list[float]]:
        expected = set(range(RPM_MAX + 1))
        if set(v) != expected:
            missing = sorted(expected - set(v))
            extra = sorted(set(v) - expected)
            raise ValueError(
                f"needs one row per initial RPM 0..12; missing {missing}, unexpected {extra}"
            )
        for r0, row in v.items():
            if len(row) != TABLE_CELLS:
                raise ValueError(f"row {r0} needs {TABLE_CELLS} values, got {len(row)}")
            prev = float(r0)
            for i, x in enumerate(row):
                if x < 0:
                    raise ValueError(f"row {r0}, column {i + 1}: RPM {x} is negative")
                if x > prev:
                    raise ValueError(
                        f"row {r0} must not increase in time: column {i + 1} has {x} after {prev}"
                        " (the value at time 0 is the initial RPM itself)"
                    )
                prev = x
        return v

    @field_validator(
        "rr_bands", "pulse_bands", "sbp_bands_by_pulse_code", "gcs_bands_by_motor_code"
    )
    @classmethod
    def _check_bands(cls, v: dict[int, Band]) -> dict[int, Band]:
        if set(v) != {0, 1, 2, 3, 4}:
            raise ValueError(f"needs one band per code 0..4, got codes {sorted(v)}")
        for code, (lo, hi) in v.items():
            if lo > hi or lo < 0:
                raise ValueError(
                    f"band for code {code} must satisfy 0 <= low <= high, got {lo}-{hi}"
                )
        return v

    @model_validator(mode="after")
    def _check_consistency(self) -> PhysiologyParams:
        window_cells = self.extrapolation_window_min / self.table_step_min
        whole = abs(window_cells - round(window_cells)) <= 1e-9
        if not whole or not 1 <= round(window_cells) <= TABLE_CELLS:
            raise ValueError(
                f"extrapolation_window_min must be 1 to {TABLE_CELLS} table steps "
                f"(multiples of table_step_min={self.table_step_min}), "
                f"got {self.extrapolation_window_min}"
            )
        for name, coder in (("rr_bands", code_rr), ("pulse_bands", code_pulse)):
            for code, (lo, hi) in getattr(self, name).items():
                if coder(lo) != code or coder(hi) != code:
                    raise ValueError(
                        f"{name}: band {lo}-{hi} for code {code} contains values that code "
                        f"differently ({coder(lo)}, {coder(hi)})"
                    )
        return self

    def model_post_init(self, context: Any, /) -> None:
        """Precompute the lookup grid, extrapolation slopes and times to RPM 0."""
        grid = np.zeros((RPM_MAX + 1, TABLE_CELLS + 1))
        for r0 in range(RPM_MAX + 1):
            grid[r0, 0] = r0
            grid[r0, 1:] = self.deterioration_table[r0]
        window_cells = round(self.extrapolation_window_min / self.table_step_min)
        curves = tuple(
            _Curve(tuple(float(x) for x in grid[r0]), self.table_step_min, window_cells)
            for r0 in range(RPM_MAX + 1)
        )
        grid.setflags(write=False)
        self._grid = grid
        self._curves = curves
        self._slopes = np.array([c.slope for c in curves])
        self._zero_min = np.array([c.zero_min for c in curves])
        self._survival = np.array(self.survival_by_rpm, dtype=float)

    def curve(self, rpm0: int) -> _Curve:
        """The untreated curve of one initial RPM (for per-patient code)."""
        return self._curves[rpm0]

    def untreated_rate(self, penetrating: bool) -> float:
        """Clock rate with no care: 1, times the penetrating factor for penetrating injuries."""
        return self.penetrating_deterioration_factor if penetrating else 1.0


# --------------------------------------------------------------------------------------------
# Deterioration and survival (vectorised)
# --------------------------------------------------------------------------------------------


def _rpm0_array(rpm0: Any) -> np.ndarray:
    r = np.asarray(rpm0)
    if np.any((r < 0) | (r > RPM_MAX)):
        raise ValueError(f"initial RPM must be within 0..12, got {rpm0!r}")
    return r.astype(np.int64)


def untreated_rpm(params: PhysiologyParams, rpm0: Any, effective_min: Any) -> Any:
    """Expected (real-valued) RPM after ``effective_min`` minutes on the effective clock.

    Linear interpolation of the deterioration table, with the initial RPM at time 0; beyond the
    table the value keeps falling at the slope of the last ``extrapolation_window_min`` minutes,
    never below 0.

    Args:
        params: the health model's parameters.
        rpm0: initial RPM (0..12), scalar or array.
        effective_min: effective minutes (>= 0; negative counts as 0), broadcast with ``rpm0``.

    Returns:
        ``float`` for scalar inputs, a float array otherwise.
    """
    r = _rpm0_array(rpm0)
    t = np.maximum(np.asarray(effective_min, dtype=float), 0.0)
    r, t = np.broadcast_arrays(r, t)
    step = params.table_step_min
    end = step * TABLE_CELLS
    grid = params._grid
    pos = np.minimum(t, end) / step
    i = np.minimum(np.floor(pos).astype(np.int64), TABLE_CELLS - 1)
    frac = pos - i
    a = grid[r, i]
    inside = a + frac * (grid[r, i + 1] - a)
    slope = params._slopes[r]
    with np.errstate(invalid="ignore"):  # 0 * inf for flat rows at t = inf, replaced below
        drop = np.where(slope == 0.0, 0.0, slope * (t - end))
    beyond = np.maximum(grid[r, TABLE_CELLS] + drop, 0.0)
    out = np.where(t >= end, beyond, inside)
    return float(out) if out.ndim == 0 else out


def rpm_int(params: PhysiologyParams, rpm0: Any, effective_min: Any) -> Any:
    """Whole RPM score after ``effective_min`` effective minutes: the ceiling of the expected RPM.

    Ceiling, not rounding: the table gives the score at 30-minute marks, and a patient keeps a
    score until the table says it has fallen (RPM0 12 is still 12 at 89 minutes and 11 at 90).
    Rounding would move every drop half a step early and floor would move it a whole step early.

    Returns:
        ``int`` for scalar inputs, an ``int8`` array otherwise.
    """
    x = np.asarray(untreated_rpm(params, rpm0, effective_min))
    out = np.ceil(x - _CEIL_EPS).clip(0, RPM_MAX).astype(np.int8)
    return _out(out)


def survival_probability(params: PhysiologyParams, rpm_value: Any) -> Any:
    """Probability of surviving definitive care begun at RPM ``rpm_value`` (real, 0..12).

    Linear interpolation between the whole-RPM values of ``survival_by_rpm``; values outside
    0..12 are clamped.

    Returns:
        ``float`` for a scalar input, a float array otherwise.
    """
    x = np.clip(np.asarray(rpm_value, dtype=float), 0.0, float(RPM_MAX))
    out = np.interp(x, np.arange(RPM_MAX + 1, dtype=float), params._survival)
    return float(out) if np.ndim(out) == 0 else out


def survival_probability_scalar(params: PhysiologyParams, rpm_value: float) -> float:
    """:func:`survival_probability` for one patient, in plain floats (no numpy overhead)."""
    x = min(max(rpm_value, 0.0), float(RPM_MAX))
    i = min(int(x), RPM_MAX - 1)
    s = params.survival_by_rpm
    return s[i] + (x - i) * (s[i + 1] - s[i])


def effective_min_to_zero(params: PhysiologyParams, rpm0: Any) -> Any:
    """Effective minutes after which the untreated RPM reaches 0 (``inf`` if it never does).

    Exact: the first table column holding 0, or past the table the extrapolated zero crossing.

    Returns:
        ``float`` for a scalar input, a float array otherwise.
    """
    out = params._zero_min[_rpm0_array(rpm0)]
    return float(out) if np.ndim(out) == 0 else out


# --------------------------------------------------------------------------------------------
# One patient's trajectory
# --------------------------------------------------------------------------------------------


class Trajectory:
    """One patient's effective clock under changing care (plain floats, for speed).

    The clock reads ``effective_min`` at simulated minute ``since_min`` and advances at ``rate``
    effective minutes per simulated minute from then on. Untreated the rate is
    :meth:`PhysiologyParams.untreated_rate`; each kind of care multiplies it by its factor;
    definitive care sets it to 0.

    Args:
        params: the health model's parameters.
        rpm0: true initial RPM, 0..12.
        penetrating: whether the injury is penetrating (faster deterioration).
        start_min: simulated minute at which the clock starts (the incident, usually 0).
    """

    __slots__ = ("_base", "_curve", "effective_min", "penetrating", "rate", "rpm0", "since_min")

    def __init__(
        self,
        params: PhysiologyParams,
        rpm0: int,
        penetrating: bool,
        start_min: float = 0.0,
        rate_factor: float = 1.0,
        curve: Any = None,
    ) -> None:
        """Start the clock at ``start_min`` with no care.

        ``rate_factor`` scales the untreated rate for this patient (e.g. the walking wounded's
        ``minor_deterioration_factor``). ``curve`` is the patient's own untreated RPM curve
        (:class:`~mcsim.outcome.DeclineCurve` for a bleeding casualty); by default the row of
        Sacco's deterioration table for ``rpm0``, whose clock runs faster for penetrating
        injuries.
        """
        if not 0 <= rpm0 <= RPM_MAX:
            raise ValueError(f"initial RPM must be within 0..12, got {rpm0}")
        self.rpm0 = int(rpm0)
        self.penetrating = bool(penetrating)
        self.effective_min = 0.0
        self.since_min = float(start_min)
        if curve is None:
            self._base = params.untreated_rate(self.penetrating) * rate_factor
            self._curve = params.curve(self.rpm0)
        else:
            self._base = rate_factor
            self._curve = curve
        self.rate = self._base

    @property
    def untreated_rate(self) -> float:
        """The clock rate of this patient with no care."""
        return self._base

    def effective_at(self, now_min: float) -> float:
        """Effective minutes elapsed at simulated minute ``now_min`` (>= ``since_min``)."""
        if now_min < self.since_min:
            raise ValueError(
                f"time runs backwards: asked for minute {now_min} before {self.since_min}"
            )
        return self.effective_min + self.rate * (now_min - self.since_min)

    def set_rate(self, now_min: float, rate: float) -> None:
        """From ``now_min`` on, run the clock at ``rate`` (>= 0) effective minutes per minute."""
        if rate < 0.0:
            raise ValueError(f"clock rate must be >= 0, got {rate}")
        self.effective_min = self.effective_at(now_min)
        self.since_min = float(now_min)
        self.rate = float(rate)

    def set_care(self, now_min: float, care_factor: float) -> None:
        """From ``now_min`` on, run at the untreated rate times ``care_factor`` (1 = no care)."""
        self.set_rate(now_min, self._base * care_factor)

    def rpm_at(self, now_min: float) -> float:
        """Expected (real-valued) RPM at ``now_min``: what survival is computed from."""
        return self._curve.value(self.effective_at(now_min))

    def rpm_int_at(self, now_min: float) -> int:
        """Whole RPM score at ``now_min`` (ceiling, see :func:`rpm_int`): what vitals show."""
        return min(RPM_MAX, max(0, math.ceil(self.rpm_at(now_min) - _CEIL_EPS)))

    def death_time(self) -> float:
        """Simulated minute at which the RPM reaches 0 at the current rate (``inf`` if never).

        A patient whose RPM is already 0 at ``since_min`` returns ``since_min``.
        """
        remaining = self._curve.zero_min - self.effective_min
        if remaining <= 0.0:
            return self.since_min
        if self.rate == 0.0 or math.isinf(remaining):
            return math.inf
        return self.since_min + remaining / self.rate


# --------------------------------------------------------------------------------------------
# Vitals
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vitals:
    """What a patient's body shows (true) or what a responder reads (observed).

    Attributes:
        rr: respiratory rate, breaths/min (0 = apnoeic).
        pulse: pulse rate, beats/min (0 = no palpable pulse).
        sbp: systolic blood pressure, mmHg.
        gcs: Glasgow Coma Scale total, 3..15.
        motor_obeys: obeys simple commands (GCS motor 6).
        walking: can walk.
        breathing: breathes spontaneously (rr > 0).
        age: years.
    """

    rr: int
    pulse: int
    sbp: int
    gcs: int
    motor_obeys: bool
    walking: bool
    breathing: bool
    age: int


def codes_at(
    rpm_now: int, initial_codes: tuple[int, int, int], loss_order: tuple[int, int, int]
) -> tuple[int, int, int]:
    """Component codes (RR, pulse, motor) of a patient whose RPM has fallen to ``rpm_now``.

    Points are removed from the initial codes one at a time, round-robin over ``loss_order``
    (a permutation of 0=RR, 1=pulse, 2=motor), skipping components already at 0, until the codes
    sum to ``rpm_now``. The same patient therefore always loses the same components in the same
    order as they deteriorate.

    Raises:
        ValueError: ``rpm_now`` outside 0..sum(initial_codes), or a bad loss order.
    """
    codes = [int(initial_codes[0]), int(initial_codes[1]), int(initial_codes[2])]
    total = codes[0] + codes[1] + codes[2]
    if not 0 <= rpm_now <= total:
        raise ValueError(f"RPM {rpm_now} outside 0..{total} (the initial codes' sum)")
    if sorted(loss_order) != [0, 1, 2]:
        raise ValueError(f"loss order must be a permutation of (0, 1, 2), got {loss_order}")
    deficit = total - rpm_now
    k = 0
    while deficit > 0:
        c = loss_order[k % 3]
        if codes[c] > 0:
            codes[c] -= 1
            deficit -= 1
        k += 1
    return codes[0], codes[1], codes[2]


def _in_band(band: Band, q: float) -> int:
    """The integer inside ``band`` at quantile ``q`` (uniform over the band's integers)."""
    lo, hi = band
    return min(hi, lo + int(q * (hi - lo + 1)))


def vitals_from_codes(
    params: PhysiologyParams,
    codes: tuple[int, int, int],
    q: tuple[float, float, float, float],
    *,
    walking0: bool,
    age: int,
) -> Vitals:
    """True vitals of a patient with component codes ``codes`` = (RR, pulse, motor).

    Each code maps to an integer inside its band, placed by the patient's quantile so that the
    same patient keeps a consistent position within a band. SBP follows the pulse code and GCS
    the motor code (both [assumption] bands in the parameters).

    Args:
        params: the health model's parameters.
        codes: current RR, pulse and motor codes (0..4 each).
        q: quantiles in [0, 1) for RR, pulse, SBP and GCS.
        walking0: whether the patient walked initially.
        age: years.
    """
    c_rr, c_pulse, c_motor = codes
    rr = _in_band(params.rr_bands[c_rr], q[0])
    return Vitals(
        rr=rr,
        pulse=_in_band(params.pulse_bands[c_pulse], q[1]),
        sbp=_in_band(params.sbp_bands_by_pulse_code[c_pulse], q[2]),
        gcs=_in_band(params.gcs_bands_by_motor_code[c_motor], q[3]),
        motor_obeys=c_motor == 4,
        walking=bool(walking0) and (c_rr + c_pulse + c_motor) >= params.walking_min_rpm,
        breathing=rr > 0,
        age=int(age),
    )


def vitals_at(
    params: PhysiologyParams,
    initial_codes: tuple[int, int, int],
    loss_order: tuple[int, int, int],
    q: tuple[float, float, float, float],
    rpm_now: int,
    *,
    walking0: bool,
    age: int,
) -> Vitals:
    """True vitals of a patient whose whole RPM is ``rpm_now``.

    :func:`codes_at` then :func:`vitals_from_codes`.

    Args:
        params: the health model's parameters.
        initial_codes: RR, pulse and motor codes at the start (summing to the initial RPM).
        loss_order: the order in which the components lose points.
        q: quantiles in [0, 1) for RR, pulse, SBP and GCS.
        rpm_now: the current whole RPM (see :meth:`Trajectory.rpm_int_at`).
        walking0: whether the patient walked initially.
        age: years.
    """
    codes = codes_at(rpm_now, initial_codes, loss_order)
    return vitals_from_codes(params, codes, q, walking0=walking0, age=age)


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def observe(
    vitals: Vitals, z: tuple[float, float, float, float], params: PhysiologyParams
) -> Vitals:
    """What a responder measures: the true vitals with measurement error.

    RR, pulse and SBP get Gaussian noise (``z[0..2]`` times their SDs), rounded and clamped at 0;
    a quantity that is truly 0 (apnoea, no pulse) reads 0 and a breathing patient never reads
    RR 0. GCS is off by one (down if ``Phi(z[3]) < p/2``, up if ``> 1 - p/2``, ``p`` =
    ``gcs_obs_error_prob``), within 3..15. Walking, breathing, motor response and age are read
    correctly. Deterministic given ``z``.

    Args:
        vitals: the true vitals.
        z: four standard normal draws, made in advance (common random numbers).
        params: the health model's parameters.
    """
    rr = vitals.rr
    if rr > 0:
        rr = max(1, _round(rr + params.rr_obs_sd * z[0]))
    pulse = vitals.pulse
    if pulse > 0:
        pulse = max(0, _round(pulse + params.pulse_obs_sd * z[1]))
    sbp = vitals.sbp
    if sbp > 0:
        sbp = max(0, _round(sbp + params.sbp_obs_sd * z[2]))
    u = 0.5 * (1.0 + math.erf(z[3] / math.sqrt(2.0)))
    half = params.gcs_obs_error_prob / 2.0
    gcs = vitals.gcs
    if u < half:
        gcs -= 1
    elif u > 1.0 - half:
        gcs += 1
    gcs = min(15, max(3, gcs))
    return Vitals(
        rr=rr,
        pulse=pulse,
        sbp=sbp,
        gcs=gcs,
        motor_obeys=vitals.motor_obeys,
        walking=vitals.walking,
        breathing=vitals.breathing,
        age=vitals.age,
    )


def observed_rpm(vitals: Vitals, params: PhysiologyParams) -> int:
    """The RPM a responder would score from observed vitals.

    RR and pulse are coded directly; the motor code is read back from the GCS band it falls in
    (the observation model reports a GCS total, not the motor score).
    """
    motor_code = 0
    for code, (lo, hi) in params.gcs_bands_by_motor_code.items():
        if lo <= vitals.gcs <= hi:
            motor_code = code
            break
    return code_rr_scalar(vitals.rr) + code_pulse_scalar(vitals.pulse) + motor_code
