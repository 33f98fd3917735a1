"""Registry of uncertain model parameters (issue 12).

Each entry names a scenario field path (the same paths as ``--set``; ``[*]`` means every
element of a list, e.g. every hospital), a prior with bounds, where the prior comes from, and
whether the parameter is *global* (one value for every incident: physiology, hospital
behaviour) or *per scenario* (a property of one incident: its went-home share). Values are
applied to a scenario's raw data before validation, so the scenario's own checks still hold.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mcsim.errors import InputError
from mcsim.scenario import split_path

_EVERY = "*"


def _parts(path: str) -> list[str | int]:
    """``split_path`` with ``[*]`` (every element of a list) kept as ``"*"``."""
    return split_path(path.replace("[*]", "." + _EVERY))


class PriorKind(StrEnum):
    """Shapes of prior used in the registry."""

    UNIFORM = "uniform"
    LOGUNIFORM = "loguniform"
    TRUNCNORMAL = "truncnormal"  # normal(mu, sigma) truncated to [low, high]


class Scope(StrEnum):
    """Global parameters are shared by every incident; per-scenario ones belong to one."""

    GLOBAL = "global"
    SCENARIO = "scenario"


@dataclass(frozen=True)
class Prior:
    """A one-dimensional prior on ``[low, high]``.

    ``mu``/``sigma`` are used only by ``TRUNCNORMAL``. ``ppf`` maps a uniform number in
    [0, 1] to a value, which is what Sobol/Morris designs and inverse-CDF sampling need.
    """

    kind: PriorKind
    low: float
    high: float
    mu: float | None = None
    sigma: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.high <= self.low:
            raise ValueError(f"prior bounds must be finite with low < high, got {self}")
        if self.kind is PriorKind.LOGUNIFORM and self.low <= 0:
            raise ValueError("a log-uniform prior needs low > 0")
        if self.kind is PriorKind.TRUNCNORMAL and (
            self.mu is None or self.sigma is None or self.sigma <= 0
        ):
            raise ValueError("a truncated normal prior needs mu and sigma > 0")

    def ppf(self, u: float) -> float:
        """The value at quantile ``u`` of this prior (always within ``[low, high]``).

        The result is clamped to the bounds: ``exp(log(low))`` can round to just below
        ``low``, and :func:`apply_values` refuses values outside the prior.
        """
        return min(max(self._ppf(min(max(float(u), 0.0), 1.0)), self.low), self.high)

    def _ppf(self, u: float) -> float:
        if self.kind is PriorKind.UNIFORM:
            return self.low + u * (self.high - self.low)
        if self.kind is PriorKind.LOGUNIFORM:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        from scipy.stats import truncnorm

        a = (self.low - self.mu) / self.sigma  # type: ignore[operator]
        b = (self.high - self.mu) / self.sigma  # type: ignore[operator]
        return float(truncnorm.ppf(u, a, b, loc=self.mu, scale=self.sigma))

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies within the prior's bounds (ends included)."""
        return self.low <= value <= self.high

    def describe(self) -> str:
        """A short text of the prior for tables: ``uniform [0.2, 1]``, ``N(23, 10) on [5, 60]``."""
        if self.kind is PriorKind.TRUNCNORMAL:
            return f"N({self.mu:g}, {self.sigma:g}) on [{self.low:g}, {self.high:g}]"
        return f"{self.kind.value} [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class UncertainParameter:
    """One uncertain parameter: where it lives, what we believe about it, and why."""

    name: str
    path: str
    default: float
    prior: Prior
    scope: Scope
    source: str
    description: str
    unit: str = ""

    def __post_init__(self) -> None:
        if not self.prior.contains(self.default):
            raise ValueError(f"{self.name}: default {self.default} outside its prior")
        _parts(self.path)  # a well-formed field path


def _p(
    name: str,
    path: str,
    default: float,
    prior: Prior,
    scope: Scope,
    source: str,
    description: str,
    unit: str = "",
) -> UncertainParameter:
    return UncertainParameter(name, path, default, prior, scope, source, description, unit)


U, LU, TN = PriorKind.UNIFORM, PriorKind.LOGUNIFORM, PriorKind.TRUNCNORMAL
G, S = Scope.GLOBAL, Scope.SCENARIO

_REGISTRY: tuple[UncertainParameter, ...] = (
    _p(
        "haemorrhage_death_median_min",
        "physiology.haemorrhage_death_median_min",
        145.0,
        Prior(U, 30.0, 180.0),
        G,
        "Fox et al. Shock 2017: median 2.0-2.6 h from admission to haemorrhagic death; read "
        "as untreated from injury [assumption]; lower bound 30 min below Gunst et al. 2010's "
        "52 min median of early in-hospital deaths and Demetriades 2005's 50 % of deaths "
        "within 1 h of injury [paper], upper bound 180 min (Fox's 2.6 h plus pre-admission); "
        "default 145, the historical calibration's posterior median",
        "median untreated time from injury to death of a bleeding casualty",
        "min",
    ),
    _p(
        "haemorrhage_death_sigma",
        "physiology.haemorrhage_death_sigma",
        0.82,
        Prior(U, 0.6, 1.5),
        G,
        "Fox et al. 2017 (85 % within 6 h with a 2 h median gives 1.06) [derived]; bounds "
        "[assumption]; default 0.82, the historical calibration's posterior median",
        "log-sd of the bleeding clock",
    ),
    _p(
        "haemorrhage_compensated_share",
        "physiology.haemorrhage_compensated_share",
        0.5,
        Prior(U, 0.2, 0.8),
        G,
        "[assumption]: no published time to decompensation",
        "share of the bleeding clock spent with normal vital signs",
    ),
    _p(
        "haemorrhage_control_factor",
        "physiology.haemorrhage_control_factor",
        0.1,
        Prior(U, 0.02, 0.3),
        G,
        "[assumption]; direction Kragh et al. J Emerg Med 2009 (96 % vs 4 % survival)",
        "bleeding clock rate once a limb bleed is controlled",
    ),
    _p(
        "stable_critical_deterioration_factor",
        "physiology.stable_critical_deterioration_factor",
        0.52,
        Prior(U, 0.05, 1.0),
        G,
        "[assumption]; default 0.52, the historical calibration's posterior median",
        "rate on Sacco's table of critical casualties without ongoing haemorrhage",
    ),
    _p(
        "triss_mortality_ratio",
        "physiology.triss_mortality_ratio",
        1.0,
        Prior(U, 0.6, 1.0),
        G,
        "observed / TRISS-expected deaths 0.87 (0.80-0.93) by ground ambulance and 0.67 "
        "(0.60-0.74) by helicopter in a registry of 8,777 patients (Scand J Trauma Resusc "
        "Emerg Med 2020, doi:10.1186/s13049-020-00730-z, Table 3); up to 1 = MTOS [derived]",
        "deaths after definitive care relative to TRISS's",
    ),
    _p(
        "hospital_wait_care_factor",
        "physiology.hospital_wait_care_factor",
        0.6,
        Prior(U, 0.2, 1.0),
        G,
        "[assumption]; default 0.6, the historical calibration's posterior median",
        "deterioration rate while queueing in hospital",
    ),
    _p(
        "trauma_callin_median_min",
        "hospitals[*].callin_delay_min",
        23.0,
        Prior(TN, 5.0, 60.0, mu=23.0, sigma=10.0),
        G,
        "mean 29 +/- 23 min in a call-in exercise (Emerg Radiol 2011) gives a 23 min median "
        "[derived]",
        "median call-in delay of on-call trauma teams",
        "min",
    ),
    _p(
        "surgical_callin_median_min",
        "hospital_care.surgical_callin_median_min",
        137.0,
        Prior(U, 60.0, 240.0),
        G,
        "Blimark et al. SJTREM 2020: 43 % of called-in theatre teams in by 2 h [derived]; "
        "bounds [assumption]",
        "median call-in delay of theatre teams",
        "min",
    ),
    _p(
        "surgical_teams_per_or_on_duty",
        "hospital_care.surgical_teams_per_or_on_duty",
        0.24,
        Prior(U, 0.1, 0.5),
        G,
        "Blimark 2020: 105 teams for 433 theatres at 30 min; bounds [assumption] (day vs night)",
        "theatre teams at onset per operating room",
    ),
    _p(
        "choice_decay_per_min",
        "response.hospital_choice.decay_per_min",
        0.15,
        Prior(LU, 0.03, 0.6),
        G,
        "[assumption]: no calibrated choice model is published (CALIBRATION.md §3.4); the "
        "historical calibration's posterior median is 0.152",
        "self-presenters' utility lost per minute of driving",
        "1/min",
    ),
    _p(
        "choice_trauma_centre_utility",
        "response.hospital_choice.trauma_centre_utility",
        1.0,
        Prior(U, 0.0, 2.0),
        G,
        "[assumption] (CALIBRATION.md §3.4); default 1.0, the historical calibration's "
        "posterior median",
        "self-presenters' pull of a level 1 or 2 trauma centre",
    ),
    _p(
        "choice_size_utility",
        "response.hospital_choice.size_utility_per_log_bed",
        0.3,
        Prior(U, 0.0, 1.5),
        G,
        "[assumption] (CALIBRATION.md §3.4)",
        "self-presenters' pull per log(1 + ED beds)",
    ),
    # --- physiology: care factors, course and observation error (docs/model.md §1.5-1.9) ---
    _p(
        "penetrating_deterioration_factor",
        "physiology.penetrating_deterioration_factor",
        1.5,
        Prior(U, 1.0, 2.5),
        G,
        "direction Sacco 2007 (penetrating injury declines faster) sets the lower bound 1; the "
        "value and upper bound [assumption]",
        "untreated rate multiplier for penetrating injury on Sacco's table",
    ),
    _p(
        "onscene_care_factor",
        "physiology.onscene_care_factor",
        0.5,
        Prior(U, 0.25, 1.0),
        G,
        "[assumption]: on-scene stabilisation slows the decline, does not stop it (SCIENCE.md "
        "§2); bounds from a strong slowing to none",
        "deterioration rate under a paramedic's on-scene care",
    ),
    _p(
        "transport_care_factor",
        "physiology.transport_care_factor",
        0.5,
        Prior(U, 0.25, 1.0),
        G,
        "[assumption]; bounds as the on-scene care factor",
        "deterioration rate in an ambulance or transfer vehicle",
    ),
    _p(
        "resus_care_factor",
        "physiology.resus_care_factor",
        0.25,
        Prior(U, 0.05, 0.5),
        G,
        "[assumption]: between definitive care (0) and queueing in hospital (0.5)",
        "deterioration rate during resuscitation before definitive care",
    ),
    _p(
        "serious_deterioration_factor",
        "physiology.serious_deterioration_factor",
        0.0,
        Prior(U, 0.0, 0.25),
        G,
        "[assumption]: ISS 9-15 casualties do not decline; upper bound the stable critical "
        "default (a serious casualty declines no faster than a critical one)",
        "rate on Sacco's table of serious casualties",
    ),
    _p(
        "postcare_death_delay_min",
        "physiology.postcare_death_delay_min",
        60.0,
        Prior(U, 15.0, 240.0),
        G,
        "[assumption]; early in-hospital trauma deaths: median 52 min (Gunst 2010), "
        "haemorrhagic deaths median 2.0-2.6 h after admission (Fox 2017), CALIBRATION.md §1.4",
        "delay from the start of care to the death of a casualty care does not save",
        "min",
    ),
    _p(
        "rr_obs_sd",
        "physiology.rr_obs_sd",
        2.0,
        Prior(U, 0.0, 4.0),
        G,
        "[assumption]: from an exact count to twice the default; responders' triage accuracy "
        "(Lerner 2010: 81 % correct, SCIENCE.md §1) is a calibration target",
        "sd of a responder's respiratory-rate reading",
        "1/min",
    ),
    _p(
        "pulse_obs_sd",
        "physiology.pulse_obs_sd",
        6.0,
        Prior(U, 0.0, 12.0),
        G,
        "[assumption]: as rr_obs_sd",
        "sd of a responder's pulse reading",
        "1/min",
    ),
    _p(
        "sbp_obs_sd",
        "physiology.sbp_obs_sd",
        8.0,
        Prior(U, 0.0, 16.0),
        G,
        "[assumption]: as rr_obs_sd",
        "sd of a responder's systolic pressure reading",
        "mmHg",
    ),
    _p(
        "gcs_obs_error_prob",
        "physiology.gcs_obs_error_prob",
        0.1,
        Prior(U, 0.0, 0.3),
        G,
        "[assumption]: as rr_obs_sd",
        "chance a responder's GCS is one off",
    ),
    # --- hospital care (docs/model.md §3.2) ---
    _p(
        "resus_min",
        "hospital_care.resus_min",
        20.0,
        Prior(TN, 10.0, 40.0, mu=20.0, sigma=7.0),
        G,
        "[derived]: Boston 2013's first operation 35 min after the bombs, 24 min after the "
        "first hospital arrival (CALIBRATION.md §2.1); sigma and bounds [assumption]",
        "mean resuscitation time before theatre",
        "min",
    ),
    _p(
        "surgery_min",
        "hospital_care.surgery_min",
        120.0,
        Prior(U, 60.0, 240.0),
        G,
        "[assumption]: damage-control surgery of one to four hours",
        "mean operating time",
        "min",
    ),
    _p(
        "ed_serious_min",
        "hospital_care.ed_serious_min",
        90.0,
        Prior(U, 45.0, 180.0),
        G,
        "[assumption]",
        "mean ED bed time of a serious casualty",
        "min",
    ),
    _p(
        "ed_minor_min",
        "hospital_care.ed_minor_min",
        30.0,
        Prior(U, 10.0, 60.0),
        G,
        "[assumption]",
        "mean treatment time of a walking wounded",
        "min",
    ),
    _p(
        "icu_stay_min",
        "hospital_care.icu_stay_min",
        2880.0,
        Prior(LU, 1440.0, 10080.0),
        G,
        "[assumption]: one to seven days before step-down",
        "ICU stay before the bed is freed",
        "min",
    ),
    _p(
        "transfer_delay_min",
        "hospital_care.transfer_delay_min",
        30.0,
        Prior(U, 10.0, 90.0),
        G,
        "[assumption]",
        "decision to transfer -> departure of the transfer vehicle",
        "min",
    ),
    _p(
        "occupied_clear_min",
        "hospital_care.occupied_clear_min",
        240.0,
        Prior(U, 60.0, 480.0),
        G,
        "[assumption]; inpatient beds take 24-48 h (Kelen 2009), ED and theatres far less",
        "pre-incident ED, resus, minor and theatre occupants are moved out within this time",
        "min",
    ),
    _p(
        "callin_sigma",
        "hospital_care.callin_sigma",
        0.70,
        Prior(U, 0.4, 1.0),
        G,
        "[derived] from the mean 29 +/- 23 min (Emerg Radiol 2011); the exercise's staff "
        "groups (19 +/- 16 to 40 +/- 27 min) give 0.61-0.73 [derived]; bounds [assumption]",
        "log-sd of the trauma-team call-in delay",
    ),
    _p(
        "surgical_teams_per_or_called",
        "hospital_care.surgical_teams_per_or_called",
        0.92,
        Prior(U, 0.6, 1.2),
        G,
        "Blimark 2020: 399 teams for 433 theatres at 8 h [derived]; bounds [assumption]",
        "theatre teams per operating room once all are in",
    ),
    _p(
        "surgical_callin_sigma",
        "hospital_care.surgical_callin_sigma",
        0.76,
        Prior(U, 0.5, 1.1),
        G,
        "[assumption]: 95 % of called-in theatre teams in by 8 h gives 0.76; bounds "
        "[assumption]",
        "log-sd of the theatre-team call-in delay",
    ),
    _p(
        "service_cv",
        "hospital_care.service_cv",
        0.3,
        Prior(U, 0.1, 0.6),
        G,
        "[assumption]",
        "coefficient of variation of lognormal hospital service times",
    ),
    # --- pre-hospital response (docs/model.md §3.1) ---
    _p(
        "alert_delay_min",
        "response.alert_delay_min",
        3.0,
        Prior(U, 1.0, 10.0),
        G,
        "[assumption]; Boston 2013: hospitals notified within 3 min; Israel: EMS on scene "
        "in < 5 min (CALIBRATION.md §4)",
        "onset -> EMS alerted",
        "min",
    ),
    _p(
        "hospital_alert_delay_min",
        "response.hospital_alert_delay_min",
        10.0,
        Prior(U, 3.0, 30.0),
        G,
        "[assumption]; Boston 3 min, Manchester NWAS major incident +14 min, Las Vegas "
        "Sunrise notified +15 min [derived, CALIBRATION.md §2.1, §4]",
        "first onset -> hospitals declare a major incident",
        "min",
    ),
    _p(
        "global_sort_min",
        "response.global_sort_min",
        2.0,
        Prior(U, 1.0, 5.0),
        G,
        "[assumption]",
        "the first officer's 'everyone who can walk, go there'",
        "min",
    ),
    _p(
        "loading_min",
        "response.loading_min",
        3.0,
        Prior(U, 1.0, 6.0),
        G,
        "[assumption]",
        "loading time per patient",
        "min",
    ),
    _p(
        "handover_min",
        "response.handover_min",
        10.0,
        Prior(U, 5.0, 20.0),
        G,
        "[assumption]",
        "handover at the hospital before the vehicle is free",
        "min",
    ),
    _p(
        "self_transport_travel_factor",
        "response.self_transport_travel_factor",
        1.0,
        Prior(U, 0.7, 1.5),
        G,
        "[assumption]: from faster than the region's times (no stops, speeding, 0.7) to "
        "slower (crowds, blocked streets, drivers who do not know the way, 1.5)",
        "private cars' travel time vs the region's",
    ),
    # --- responders and strategy (docs/model.md, Policies) ---
    *(
        _p(
            f"triage_error_{key}",
            f"policies.triage_error.{key}",
            0.0,
            Prior(U, 0.0, 0.2),
            G,
            "SALT drill 8 % over- and 11 % under-triage (Lerner 2010), UK Ten-Second Triage "
            "18 % over, 4 % under [paper, SCIENCE.md §1]; the split by tag and the bound "
            "[assumption]",
            what,
        )
        for key, what in (
            ("minor_over", "responders' chance of tagging a minor casualty delayed"),
            ("delayed_over", "responders' chance of tagging a delayed casualty immediate"),
            ("delayed_under", "responders' chance of tagging a delayed casualty minor"),
            ("immediate_under", "responders' chance of tagging an immediate casualty delayed"),
        )
    ),
    _p(
        "stabilisation_min",
        "policies.strategy.stabilisation_min",
        10.0,
        Prior(U, 5.0, 20.0),
        G,
        "[assumption]; used only under stay_and_play",
        "on-scene stabilisation per patient before loading",
        "min",
    ),
    _p(
        "stabilisation_care_factor",
        "policies.strategy.stabilisation_care_factor",
        0.25,
        Prior(U, 0.1, 0.5),
        G,
        "[assumption]: as resus_care_factor; used only under stay_and_play",
        "deterioration rate while being stabilised on scene",
    ),
    # --- per incident (docs/model.md §3.1, §3.3); [*] = every incident of the scenario ---
    _p(
        "self_transport_share",
        "incidents[*].self_transport_share",
        0.5,
        Prior(U, 0.2, 0.9),
        S,
        "Hogan 1999: many leave on their own; Manchester ~61 % of attenders not conveyed by "
        "EMS, McKee 2019 59 % by private vehicle (CALIBRATION.md §3.2); per scenario "
        "[assumption]",
        "share of walking casualties who leave on their own",
    ),
    _p(
        "went_home_share",
        "incidents[*].went_home_share",
        0.0,
        Prior(U, 0.0, 0.6),
        S,
        "per scenario, from the record (e.g. Manchester: 237 injured, 153 attended hospital "
        "[paper, CALIBRATION.md §5]); bounds [assumption]",
        "share of self-transporting walkers who go home, not to a hospital",
    ),
    _p(
        "treat_and_release_share",
        "incidents[*].treat_and_release_share",
        0.0,
        Prior(U, 0.0, 0.5),
        S,
        "Manchester 2017: ~60 walking wounded treated without conveyance [secondary]; the "
        "share [assumption]",
        "share of casualties triaged minor who are treated on scene and released",
    ),
    _p(
        "carried_by_bystanders_share",
        "incidents[*].carried_by_bystanders_share",
        0.0,
        Prior(U, 0.0, 0.8),
        S,
        "Las Vegas 2017: most injured reached hospital by means other than EMS [secondary]; "
        "the share [assumption]",
        "share of non-walking casualties driven to the nearest hospital by bystanders",
    ),
)


def registry() -> tuple[UncertainParameter, ...]:
    """Every declared uncertain parameter, in a stable order."""
    return _REGISTRY


def get_parameter(name: str) -> UncertainParameter:
    """The parameter called ``name``; an InputError listing the known names otherwise."""
    for p in _REGISTRY:
        if p.name == name:
            return p
    known = ", ".join(p.name for p in _REGISTRY)
    raise InputError(f"unknown uncertain parameter {name!r} (known: {known})")


def apply_values(data: Mapping[str, Any], values: Mapping[str, float]) -> dict[str, Any]:
    """A copy of raw scenario ``data`` with each parameter (by name) set to its value.

    ``[*]`` in a parameter's path sets every element of that list (every hospital).
    Values outside the prior's bounds are refused: a posterior or design never needs them.
    """
    out = copy.deepcopy(dict(data))
    for name, value in values.items():
        p = get_parameter(name)
        if not p.prior.contains(float(value)):
            raise InputError(
                f"{name} = {value!r} is outside its prior {p.prior.describe()}", path=p.path
            )
        _set(out, _parts(p.path), float(value), p.path)
    return out


def _set(node: Any, parts: list[str | int], value: float, path: str) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(head, int) or head == _EVERY:
        if not isinstance(node, list):
            raise InputError("path goes through a value that is not a list", path=path)
        targets = range(len(node)) if head == _EVERY else [head]
        for i in targets:
            if rest:
                _set(node[i], rest, value, path)
            else:
                node[i] = value
        return
    if not isinstance(node, dict):
        raise InputError("path goes through a value that is not a mapping", path=path)
    if rest:
        nxt = rest[0]
        _set(
            node.setdefault(head, [] if isinstance(nxt, int) or nxt == _EVERY else {}),
            rest,
            value,
            path,
        )
    else:
        node[head] = value
