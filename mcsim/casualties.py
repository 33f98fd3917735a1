"""Who gets hurt in an incident, and how badly: casualty generation from an injury profile.

Why this module exists: the number and mix of casualties drive everything downstream, and
comparing policies is only fair if every policy meets the *same* casualties (common random
numbers). :func:`generate_casualties` therefore draws every random quantity a casualty will ever
need (injury class, initial RPM and its components, vitals quantiles, age, surgery need, the
uniform that decides survival, observation errors, triage and extraction times, self-transport)
from one generator, in a fixed order that depends only on ``n`` and the arguments. A policy can
change what happens to a casualty, never who the casualty is.

An :class:`InjuryProfile` gives the shares of dead on scene, critical, serious and minor
casualties and the distribution of initial RPM within each class; :func:`builtin_profiles`
holds the shipped ones with their sources (docs/model.md lists them with their marks).
Generation is vectorised (one numpy array per attribute) so 100,000 casualties take a fraction
of a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

from mcsim.enums import Severity
from mcsim.errors import InputError
from mcsim.physiology import RPM_MAX, PhysiologyParams
from mcsim.schema_base import StrictModel

#: Severity codes stored in :attr:`CasualtyTable.severity`: ``SEVERITY_BY_CODE[code]``.
SEVERITY_BY_CODE: tuple[Severity, ...] = (
    Severity.DEAD_ON_SCENE,
    Severity.CRITICAL,
    Severity.SERIOUS,
    Severity.MINOR,
)
#: The inverse of :data:`SEVERITY_BY_CODE`.
CODE_OF_SEVERITY: dict[Severity, int] = {s: i for i, s in enumerate(SEVERITY_BY_CODE)}

_CRITICAL_RPMS = np.arange(2, 13)
_SERIOUS_RPMS = np.arange(9, 13)
_MINOR_RPMS = np.arange(11, 13)


#: ISS bands of critical casualties: ``critical_iss_weights`` has one weight per band.
CRITICAL_ISS_BANDS: tuple[tuple[int, int], ...] = ((16, 24), (25, 34), (35, 49), (50, 75))
#: ISS range of serious (9-15) and minor (1-8) casualties, drawn uniformly.
SERIOUS_ISS = (9, 15)
MINOR_ISS = (1, 8)


class InjuryProfile(StrictModel):
    """The injury mix of one kind of incident.

    Severity is anatomical (ISS), as the incident reports count it: critical means ISS > 15
    (Frykberg 1988), serious ISS 9-15 and unable to walk, minor the walking wounded. Shares of
    critical and serious are of the *immediate survivors*; minor is the rest. Physiology at onset
    (the RPM) is drawn within each class, so most critical casualties can be compensated at
    first, as trauma registries show; bleeding ones then decline on their own clock
    (:mod:`mcsim.outcome`).
    """

    description: str
    immediate_death_share: float = Field(ge=0, le=1)
    critical_share: float = Field(ge=0, le=1, description="ISS > 15, of immediate survivors")
    serious_share: float = Field(ge=0, le=1, description="ISS 9-15, of immediate survivors")
    critical_iss_weights: list[float] = Field(
        default_factory=lambda: [0.55, 0.3, 0.12, 0.03],
        description="weights over the critical ISS bands 16-24, 25-34, 35-49, 50-75 [assumption]",
    )
    haemorrhage_share: float = Field(
        0.4,
        ge=0,
        le=1,
        description="share of critical casualties with ongoing haemorrhage, who die untreated "
        "within hours and need damage-control surgery [assumption]",
    )
    compressible_share: float = Field(
        0.3,
        ge=0,
        le=1,
        description="share of those bleeds that a tourniquet controls (limbs) [assumption]",
    )
    critical_rpm_weights: list[float] = Field(
        default_factory=lambda: [0, 0, 0, 0, 0, 0, 0, 1, 2, 6, 16],
        description="weights over initial RPM 2..12 of critical casualties: most arrive "
        "compensated (CALIBRATION.md §1.1) [assumption]",
    )
    serious_rpm_weights: list[float] = Field(
        default_factory=lambda: [0, 1, 3, 8],
        description="weights over initial RPM 9..12 of serious casualties: ISS 9-15 is rarely "
        "deranged at first [assumption]",
    )
    minor_rpm_weights: list[float] = Field(
        default_factory=lambda: [1, 3], description="weights over initial RPM 11..12"
    )
    penetrating: bool = False
    surgery_share_critical: float = Field(
        ge=0, le=1, description="critical casualties without haemorrhage needing surgery"
    )
    surgery_share_serious: float = Field(ge=0, le=1)
    noncritical_motor_min_code: int = Field(
        3, ge=0, le=4, description="Lowest initial motor code of serious/minor [assumption]."
    )
    minor_motor_min_code: int = Field(
        4, ge=0, le=4, description="Lowest initial motor code of minor casualties [assumption]."
    )
    source: str

    @field_validator(
        "critical_iss_weights", "critical_rpm_weights", "serious_rpm_weights", "minor_rpm_weights"
    )
    @classmethod
    def _check_weights(cls, v: list[float], info: ValidationInfo) -> list[float]:
        expected = {
            "critical_iss_weights": 4,
            "critical_rpm_weights": 11,
            "serious_rpm_weights": 4,
            "minor_rpm_weights": 2,
        }
        n = expected[str(info.field_name)]
        if len(v) != n:
            raise ValueError(f"needs {n} weights, got {len(v)}")
        if any(not w >= 0 or w == float("inf") for w in v):
            raise ValueError(f"weights must be finite and >= 0, got {v}")
        if sum(v) <= 0:
            raise ValueError("weights must not all be 0")
        return v

    @model_validator(mode="after")
    def _check_shares(self) -> InjuryProfile:
        total = self.critical_share + self.serious_share
        if total > 1.0 + 1e-12:
            raise ValueError(
                f"critical_share + serious_share must be <= 1 (the rest are minor), got "
                f"{self.critical_share} + {self.serious_share} = {total}"
            )
        return self


def builtin_profiles() -> dict[str, InjuryProfile]:
    """The shipped injury profiles, by name (a fresh dict on every call).

    Critical (ISS > 15) and serious shares follow from published admission rates and
    Frykberg & Tepas's severity split: of 2,934 immediate survivors of 220 bombings, 881 were
    hospitalised and 251 critically injured, so critical casualties were about 28.5 % of the
    hospitalised (251/881, all critical casualties being hospitalised) and 8.6 % of all
    survivors (251/2,934). Their "18.7 %" is 251 of the 1,339 survivors whose severity was
    known, a group enriched in the hospitalised, so it is not used as a share of survivors.
    """
    frykberg = (
        "critical = 28.5 % of admitted [derived: 251 critical of 881 hospitalised, Frykberg & "
        "Tepas, Ann Surg 1988, 220 bombings [paper]]"
    )
    arnold = "Arnold et al., Prehosp Disaster Med 2003 (44 bombings) [paper]"
    return {
        "blast_open_air": InjuryProfile(
            description="Explosion in the open air (street, stadium concourse).",
            immediate_death_share=0.01,
            critical_share=0.037,
            serious_share=0.093,
            penetrating=False,
            surgery_share_critical=0.5,
            surgery_share_serious=0.2,
            source=f"immediate deaths: open-air median 1 %, {arnold}; admitted 13 % "
            f"(open-air median, {arnold}), of which {frykberg}; the rest serious; ISS and RPM "
            "weights, haemorrhage and surgery shares [assumption]",
        ),
        "blast_confined": InjuryProfile(
            description="Explosion in a confined space (bus, hall, train carriage).",
            immediate_death_share=0.04,
            critical_share=0.148,
            serious_share=0.372,
            penetrating=False,
            surgery_share_critical=0.5,
            surgery_share_serious=0.2,
            source=f"immediate deaths: confined-space median 4 %, {arnold}; admitted 52 % "
            f"(confined-space median, {arnold}), of which {frykberg}; ISS and RPM weights, "
            "haemorrhage and surgery shares [assumption]",
        ),
        "gunshot": InjuryProfile(
            description="Mass shooting (penetrating injuries).",
            immediate_death_share=0.15,
            critical_share=0.15,
            serious_share=0.35,
            haemorrhage_share=0.5,
            penetrating=True,
            surgery_share_critical=0.8,
            surgery_share_serious=0.4,
            source="emergency surgery for 55 % of the admitted (critical + serious), matching "
            "Raux et al., Intensive Care Med 2019 (54 % of 337 admitted, Paris 2015) [paper]; "
            "immediate deaths 15 % [assumption] within the 4-38 % of Las Vegas 2017, Paris "
            "2015 and Orlando 2016 [derived, CALIBRATION.md §5]; admitted 50 % and critical "
            "share, ISS and RPM weights [assumption]",
        ),
        "blunt_vehicle": InjuryProfile(
            description="Bus crash or derailment (blunt trauma).",
            immediate_death_share=0.05,
            critical_share=0.10,
            serious_share=0.20,
            haemorrhage_share=0.3,
            penetrating=False,
            surgery_share_critical=0.4,
            surgery_share_serious=0.2,
            source="all shares and weights [assumption]",
        ),
        "crush": InjuryProfile(
            description="Building collapse or earthquake (crush injuries; pair with extraction).",
            immediate_death_share=0.10,
            critical_share=0.15,
            serious_share=0.30,
            haemorrhage_share=0.3,
            penetrating=False,
            surgery_share_critical=0.4,
            surgery_share_serious=0.3,
            source="all shares and weights [assumption]; Arnold et al. 2003 report 18 % "
            "immediate mortality for bombings with structural collapse [paper], an upper "
            "reference",
        ),
        "nerve_agent": InjuryProfile(
            description="Nerve-agent release (non-traumatic; ISS and RPM stand in for toxicity).",
            immediate_death_share=0.02,
            critical_share=0.10,
            serious_share=0.25,
            haemorrhage_share=0.0,
            critical_rpm_weights=[1, 1, 2, 2, 3, 3, 4, 4, 2, 1, 1],
            penetrating=False,
            surgery_share_critical=0.0,
            surgery_share_serious=0.0,
            source="all shares and weights [assumption]; TRISS and the RPM deterioration table "
            "were derived for trauma, not poisoning [assumption]",
        ),
    }


@dataclass(frozen=True)
class CasualtyTable:
    """All casualties of one incident, one array entry per casualty (arrays are read-only).

    ``severity`` holds small integer codes (``int8``), not enum objects, to keep the table
    vectorised; :meth:`severity_of` (or :data:`SEVERITY_BY_CODE`) turns a code into its
    :class:`~mcsim.enums.Severity`.

    Attributes:
        severity: int8 codes into :data:`SEVERITY_BY_CODE`.
        rpm0: true initial RPM, int8 (0 for dead on scene).
        c_rr: initial RR code, int8; ``c_rr + c_pulse + c_motor == rpm0``.
        c_pulse: initial pulse code, int8.
        c_motor: initial motor code, int8.
        loss_order: (n, 3) int8 permutations of (0=RR, 1=pulse, 2=motor).
        q: (n, 4) quantiles in [0, 1) placing RR, pulse, SBP, GCS inside their bands.
        walking0: walks at the start (minor casualties).
        age: years, int16.
        penetrating: penetrating injury.
        iss: Injury Severity Score, int16 (75 for the dead on scene).
        haemorrhage: critical with ongoing haemorrhage (declines untreated, see outcome.py).
        compressible: that bleed is a limb's, which a tourniquet controls.
        z_death: standard normal placing the bleed's untreated time to death.
        needs_surgery: needs emergency surgery as definitive care.
        u_survival: survives definitive care begun at RPM r iff ``u < survival_probability(r)``.
        z_obs: (n, 4) standard normals for observation error (RR, pulse, SBP, GCS).
        triage_min: minutes a responder spends triaging this casualty.
        extraction_min: minutes to extract (0 unless trapped).
        self_transport: leaves the scene on their own.
        self_transport_delay_min: minutes after the incident at which they leave.
    """

    severity: np.ndarray
    rpm0: np.ndarray
    c_rr: np.ndarray
    c_pulse: np.ndarray
    c_motor: np.ndarray
    loss_order: np.ndarray
    q: np.ndarray
    walking0: np.ndarray
    age: np.ndarray
    penetrating: np.ndarray
    iss: np.ndarray
    haemorrhage: np.ndarray
    compressible: np.ndarray
    z_death: np.ndarray
    needs_surgery: np.ndarray
    u_survival: np.ndarray
    z_obs: np.ndarray
    triage_min: np.ndarray
    extraction_min: np.ndarray
    self_transport: np.ndarray
    self_transport_delay_min: np.ndarray

    def __post_init__(self) -> None:
        """Check that every array has one entry per casualty and make them read-only."""
        n = len(self.severity)
        for f in fields(self):
            arr = getattr(self, f.name)
            if len(arr) != n:
                raise ValueError(f"{f.name} has {len(arr)} entries, severity has {n}")
            arr.setflags(write=False)

    def __len__(self) -> int:
        """Number of casualties."""
        return len(self.severity)

    def severity_of(self, i: int) -> Severity:
        """The severity of casualty ``i`` as an enum member."""
        return SEVERITY_BY_CODE[int(self.severity[i])]

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every casualty's :meth:`row`, in order: each column converted to Python once.

        The model builds its patients from these (one per casualty, so at 100k casualties
        the per-element numpy indexing of :meth:`row` was a measurable share of the run).
        """
        sev = [SEVERITY_BY_CODE[c] for c in self.severity.tolist()]
        rpm0 = self.rpm0.tolist()
        iss = self.iss.tolist()
        codes = zip(self.c_rr.tolist(), self.c_pulse.tolist(), self.c_motor.tolist(), strict=True)
        cols = zip(
            sev,
            rpm0,
            codes,
            map(tuple, self.loss_order.tolist()),
            map(tuple, self.q.tolist()),
            self.walking0.tolist(),
            self.age.tolist(),
            self.penetrating.tolist(),
            iss,
            self.haemorrhage.tolist(),
            self.compressible.tolist(),
            self.z_death.tolist(),
            self.needs_surgery.tolist(),
            self.u_survival.tolist(),
            map(tuple, self.z_obs.tolist()),
            self.triage_min.tolist(),
            self.extraction_min.tolist(),
            self.self_transport.tolist(),
            self.self_transport_delay_min.tolist(),
            strict=True,
        )
        for c in cols:
            yield {
                "severity": c[0],
                "rpm0": c[1],
                "codes0": c[2],
                "loss_order": c[3],
                "quantiles": c[4],
                "walking0": c[5],
                "age": c[6],
                "penetrating": c[7],
                "iss": c[8],
                "haemorrhage": c[9],
                "compressible": c[10],
                "z_death": c[11],
                "needs_surgery": c[12],
                "u_survival": c[13],
                "z_obs": c[14],
                "triage_min": c[15],
                "extraction_min": c[16],
                "self_transport": c[17],
                "self_transport_delay_min": c[18],
                "critical": c[1] > 0 and c[8] > 15,
            }

    def row(self, i: int, params: PhysiologyParams) -> dict[str, Any]:
        """Casualty ``i`` as plain Python values (enums, ints, floats, tuples) for an agent.

        Keys: the field names, except ``c_rr``/``c_pulse``/``c_motor`` become ``codes0``
        and ``q`` becomes ``quantiles``; plus ``critical`` (ISS > 15, Frykberg's definition).
        """
        rpm0 = int(self.rpm0[i])
        return {
            "severity": self.severity_of(i),
            "rpm0": rpm0,
            "codes0": (int(self.c_rr[i]), int(self.c_pulse[i]), int(self.c_motor[i])),
            "loss_order": tuple(int(x) for x in self.loss_order[i]),
            "quantiles": tuple(float(x) for x in self.q[i]),
            "walking0": bool(self.walking0[i]),
            "age": int(self.age[i]),
            "penetrating": bool(self.penetrating[i]),
            "iss": int(self.iss[i]),
            "haemorrhage": bool(self.haemorrhage[i]),
            "compressible": bool(self.compressible[i]),
            "z_death": float(self.z_death[i]),
            "needs_surgery": bool(self.needs_surgery[i]),
            "u_survival": float(self.u_survival[i]),
            "z_obs": tuple(float(x) for x in self.z_obs[i]),
            "triage_min": float(self.triage_min[i]),
            "extraction_min": float(self.extraction_min[i]),
            "self_transport": bool(self.self_transport[i]),
            "self_transport_delay_min": float(self.self_transport_delay_min[i]),
            "critical": rpm0 > 0 and int(self.iss[i]) > 15,
        }


#: Vitals codes (RR, pulse, motor) of an agonal casualty: RR 1-9, a weak pulse, no motor
#: response: RPM 2 [assumption: mcsim's picture of a mortally wounded casualty still alive].
AGONAL_CODES = (1, 1, 0)


def mortally_wounded(row: dict, death_min: float) -> dict:
    """The casualty row of a killed-outright casualty who is instead alive until ``death_min``.

    Agonal vitals (:data:`AGONAL_CODES`), unable to walk, cared for as critical (resus bay and
    trauma team) but never an immediate survivor: the metrics count them with the killed
    (Frykberg's critical mortality excludes them), and no care saves them
    (``outcome.survival_at_definitive_care``).
    """
    out = dict(row)
    out.update(
        severity=Severity.MORTALLY_WOUNDED,
        rpm0=sum(AGONAL_CODES),
        codes0=AGONAL_CODES,
        walking0=False,
        haemorrhage=False,
        compressible=False,
        self_transport=False,
        critical=True,
        mortal_death_min=float(death_min),
    )
    return out


def _check_share(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise InputError(f"{name} must be within 0..1, got {value}", path=name)


def _check_range(name: str, rng_: tuple[float, float]) -> None:
    lo, hi = rng_
    if not 0.0 <= lo <= hi:
        raise InputError(f"{name} must be (low, high) with 0 <= low <= high, got {rng_}", path=name)


def _pick(u: np.ndarray, weights: list[float], values: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw of ``values`` with ``weights`` for each uniform in ``u``."""
    cdf = np.cumsum(np.asarray(weights, dtype=float))
    cdf /= cdf[-1]
    idx = np.searchsorted(cdf, u, side="right")
    return values[np.minimum(idx, len(values) - 1)]


def _split_deficit(deficit: np.ndarray, capacity: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Remove ``deficit`` points from codes of 4, one point at a time, into random components.

    Each point goes to a component chosen uniformly among those with remaining ``capacity``
    (n, 3); ``u`` (n, 12) holds one uniform per point. Returns the (n, 3) losses.
    """
    n = len(deficit)
    loss = np.zeros((n, 3), dtype=np.int8)
    cap = capacity.astype(np.int8).copy()
    remaining = deficit.astype(np.int8).copy()
    for k in range(u.shape[1]):
        active = remaining > 0
        if not active.any():
            break
        open_ = cap > 0
        count = open_.sum(axis=1)
        j = np.floor(u[:, k] * np.maximum(count, 1)).astype(np.int64)
        # The j-th open component: first column where the running count of open ones exceeds j.
        running = np.cumsum(open_, axis=1)
        col = np.argmax(running > j[:, None], axis=1)
        rows = np.nonzero(active)[0]
        c = col[rows]
        loss[rows, c] += 1
        cap[rows, c] -= 1
        remaining[rows] -= 1
    return loss


def generate_casualties(
    n: int,
    profile: InjuryProfile,
    *,
    child_share: float,
    self_transport_share: float,
    extraction_share: float = 0.0,
    extraction_min_range: tuple[float, float] = (0.0, 0.0),
    triage_min_range: tuple[float, float] = (0.5, 1.0),
    self_transport_delay_min_range: tuple[float, float] = (5.0, 30.0),
    child_age_range: tuple[int, int] = (1, 17),
    adult_age_range: tuple[int, int] = (18, 80),
    rng: np.random.Generator,
) -> CasualtyTable:
    """Draw ``n`` casualties from ``profile`` (vectorised, common random numbers).

    Every array is drawn for all ``n`` casualties in a fixed order, whatever the values, so the
    same generator state always yields the same casualties, and a casualty's attributes do not
    depend on any policy.

    Args:
        n: number of casualties, including the dead on scene.
        profile: the injury mix.
        child_share: share of children (ages uniform in ``child_age_range``) [assumption].
        self_transport_share: share of walking casualties who leave on their own.
        extraction_share: share of casualties trapped and needing extraction.
        extraction_min_range: (low, high) minutes of extraction, uniform.
        triage_min_range: (low, high) minutes per triage, uniform (START: 30-60 s).
        self_transport_delay_min_range: (low, high) minutes before a self-transporter leaves.
        child_age_range: (youngest, oldest) child age in whole years, inclusive.
        adult_age_range: (youngest, oldest) adult age in whole years, inclusive.
        rng: the casualty stream's generator.

    Returns:
        The casualties.

    Raises:
        InputError: a negative ``n``, a share outside 0..1 or an inverted range.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise InputError(f"number of casualties must be a whole number >= 0, got {n!r}", path="n")
    if not isinstance(rng, np.random.Generator):
        raise InputError("rng must be a numpy.random.Generator", path="rng")
    _check_share("child_share", child_share)
    _check_share("self_transport_share", self_transport_share)
    _check_share("extraction_share", extraction_share)
    _check_range("extraction_min_range", extraction_min_range)
    _check_range("triage_min_range", triage_min_range)
    _check_range("self_transport_delay_min_range", self_transport_delay_min_range)
    _check_range("child_age_range", child_age_range)
    _check_range("adult_age_range", adult_age_range)
    n = int(n)

    # 1. Injury class.
    u_class = rng.random(n)
    d = profile.immediate_death_share
    c_cut = d + (1.0 - d) * profile.critical_share
    s_cut = c_cut + (1.0 - d) * profile.serious_share
    severity = np.select(
        [u_class < d, u_class < c_cut, u_class < s_cut], [0, 1, 2], default=3
    ).astype(np.int8)
    critical, serious, minor = (severity == k for k in (1, 2, 3))

    # 2. Initial RPM within the class.
    u_rpm = rng.random(n)
    rpm0 = np.zeros(n, dtype=np.int8)
    rpm0[critical] = _pick(u_rpm[critical], profile.critical_rpm_weights, _CRITICAL_RPMS)
    rpm0[serious] = _pick(u_rpm[serious], profile.serious_rpm_weights, _SERIOUS_RPMS)
    rpm0[minor] = _pick(u_rpm[minor], profile.minor_rpm_weights, _MINOR_RPMS)

    # 3. Component codes: spread the deficit RPM_MAX - rpm0 over RR, pulse, motor, one uniform
    # per point of the deficit.
    u_split = rng.random((n, RPM_MAX))
    motor_min = np.where(
        minor,
        profile.minor_motor_min_code,
        np.where(serious, profile.noncritical_motor_min_code, 0),
    )
    # A living casualty breathes and has a pulse: RR and pulse keep at least code 1, so START
    # never tags an immediate survivor dead at first look. Always feasible: RPM >= 2 for all.
    vital_cap = np.where(severity == 0, 4, 3)  # the dead on scene lose everything
    capacity = np.stack([vital_cap, vital_cap, 4 - motor_min], axis=1)
    deficit = RPM_MAX - rpm0.astype(np.int16)
    loss = _split_deficit(deficit, capacity, u_split)
    codes = (4 - loss).astype(np.int8)

    # 4. Order in which components fall as the RPM drops.
    loss_order = np.argsort(rng.random((n, 3)), axis=1).astype(np.int8)

    # 5. Quantiles inside the vitals bands.
    q = rng.random((n, 4))

    # 6. Age.
    u_child = rng.random(n)
    child_age = rng.integers(child_age_range[0], child_age_range[1] + 1, n)
    adult_age = rng.integers(adult_age_range[0], adult_age_range[1] + 1, n)
    age = np.where(u_child < child_share, child_age, adult_age).astype(np.int16)

    # 7. Surgery need, survival uniform, observation errors.
    u_surgery = rng.random(n)
    needs_surgery = (critical & (u_surgery < profile.surgery_share_critical)) | (
        serious & (u_surgery < profile.surgery_share_serious)
    )
    u_survival = rng.random(n)
    z_obs = rng.standard_normal((n, 4))

    # 7b. Anatomical severity, haemorrhage and its clock (ISS > 15 is critical).
    u_band = rng.random(n)
    u_iss = rng.random(n)
    u_bleed = rng.random(n)
    u_limb = rng.random(n)
    z_death = rng.standard_normal(n)
    iss = np.full(n, 75, dtype=np.int16)
    band = _pick(u_band, profile.critical_iss_weights, np.arange(len(CRITICAL_ISS_BANDS)))
    lo = np.array([b[0] for b in CRITICAL_ISS_BANDS])[band]
    hi = np.array([b[1] for b in CRITICAL_ISS_BANDS])[band]
    crit_iss = lo + np.floor(u_iss * (hi - lo + 1)).astype(np.int64)
    iss[critical] = crit_iss[critical]
    ser_iss = SERIOUS_ISS[0] + np.floor(u_iss * (SERIOUS_ISS[1] - SERIOUS_ISS[0] + 1))
    iss[serious] = ser_iss[serious]
    min_iss = MINOR_ISS[0] + np.floor(u_iss * (MINOR_ISS[1] - MINOR_ISS[0] + 1))
    iss[minor] = min_iss[minor]
    haemorrhage = critical & (u_bleed < profile.haemorrhage_share)
    compressible = haemorrhage & (u_limb < profile.compressible_share)
    needs_surgery = needs_surgery | haemorrhage

    # 8. Times at the scene.
    triage_min = rng.uniform(triage_min_range[0], triage_min_range[1], n)
    u_trapped = rng.random(n)
    extraction = rng.uniform(extraction_min_range[0], extraction_min_range[1], n)
    extraction_min = np.where(u_trapped < extraction_share, extraction, 0.0)

    # 9. Self-transport.
    walking0 = minor.copy()
    u_self = rng.random(n)
    self_delay = rng.uniform(
        self_transport_delay_min_range[0], self_transport_delay_min_range[1], n
    )
    self_transport = walking0 & (u_self < self_transport_share)

    return CasualtyTable(
        severity=severity,
        rpm0=rpm0,
        c_rr=codes[:, 0].copy(),
        c_pulse=codes[:, 1].copy(),
        c_motor=codes[:, 2].copy(),
        loss_order=loss_order,
        q=q,
        walking0=walking0,
        age=age,
        penetrating=np.full(n, profile.penetrating),
        iss=iss,
        haemorrhage=haemorrhage,
        compressible=compressible,
        z_death=z_death,
        needs_surgery=needs_surgery,
        u_survival=u_survival,
        z_obs=z_obs,
        triage_min=triage_min,
        extraction_min=extraction_min,
        self_transport=self_transport,
        self_transport_delay_min=self_delay,
    )
