"""Scenario files: the schema, loading, validation, ``--set`` overrides and JSON Schema export.

A scenario is a YAML file (``schema_version`` first) describing the region, its hospitals and
ambulance stations, the incidents, the response parameters and the policies. It is validated by
pydantic models that refuse unknown keys (naming the valid ones) and then checked for
references between its parts (a hospital on a node that does not exist). Every problem becomes an
:class:`~mcsim.errors.InputError` naming the file and the field path, e.g.
``stadium.yaml: hospitals[2].trauma_level: Input should be less than or equal to 4``.
"""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from mcsim.casualties import InjuryProfile, builtin_profiles
from mcsim.enums import NodeKind, VehicleType
from mcsim.errors import InputError, echo
from mcsim.physiology import PhysiologyParams
from mcsim.region import RegionSpec
from mcsim.safeio import parse_yaml
from mcsim.schema_base import StrictModel, error_lines

SCHEMA_VERSION = 2
#: Largest count of any one hospital resource (bays, beds, rooms, teams): far above any real
#: hospital, low enough that a typo (10^9 teams) is refused instead of exhausting memory.
MAX_UNITS = 10_000
#: Most vehicles of all stations together (each is an agent with its own trips).
MAX_VEHICLES = 20_000
#: Most ambulance stations (each vehicle group is placed and dispatched from one).
MAX_STATIONS = 5_000


class VehicleSpec(StrictModel):
    """A group of identical vehicles at a station."""

    type: VehicleType = VehicleType.ALS
    count: int = Field(ge=0, le=10_000)
    capacity: int = Field(default=1, ge=1, le=60, description="patients per vehicle")


class StationSpec(StrictModel):
    """An ambulance station and its vehicles (all stations together: at most 20,000 vehicles)."""

    id: str
    name: str | None = None
    node: str
    vehicles: list[VehicleSpec] = Field(min_length=1, max_length=100)


class OccupancySpec(StrictModel):
    """Capacity already in use when the incident starts (hospitals are rarely empty)."""

    resus_bays: int = Field(default=0, ge=0, le=MAX_UNITS)
    ed_beds: int = Field(default=0, ge=0, le=MAX_UNITS)
    minor_treatment_spaces: int = Field(default=0, ge=0, le=MAX_UNITS)
    operating_rooms: int = Field(default=0, ge=0, le=MAX_UNITS)
    icu_beds: int = Field(default=0, ge=0, le=MAX_UNITS)


#: The place-like resources a hospital entry counts and may have occupied at onset, in the
#: schema's order: the one list that census files, the app's set-up and the docs read.
BED_RESOURCES: tuple[str, ...] = tuple(OccupancySpec.model_fields)
#: Staff counts of a hospital entry (the surgical ones are optional: None = derived from ORs).
STAFF_COUNTS: tuple[str, ...] = (
    "teams_on_duty",
    "teams_on_call",
    "surgical_teams_on_duty",
    "surgical_teams_on_call",
)


class SurgeSpec(StrictModel):
    """Capacity the hospital's major-incident plan opens.

    Hirshberg 2005: activating the full disaster plan moves the surge knee to higher arrival
    rates (resus spaces made of ED bays, cancelled elective lists, recovery beds as ICU beds).
    """

    resus_bays: int = Field(default=0, ge=0, le=MAX_UNITS)
    ed_beds: int = Field(default=0, ge=0, le=MAX_UNITS)
    minor_treatment_spaces: int = Field(default=0, ge=0, le=MAX_UNITS)
    operating_rooms: int = Field(default=0, ge=0, le=MAX_UNITS)
    icu_beds: int = Field(default=0, ge=0, le=MAX_UNITS)


class HospitalSpec(StrictModel):
    """A receiving hospital."""

    id: str
    name: str | None = None
    node: str
    trauma_level: int = Field(
        ge=1, le=4, description="1 = major trauma centre ... 4 = no trauma designation"
    )
    resus_bays: int = Field(ge=0, le=MAX_UNITS, description="trauma/resuscitation bays")
    ed_beds: int = Field(ge=1, le=MAX_UNITS)
    minor_treatment_spaces: int = Field(
        default=10,
        ge=0,
        le=MAX_UNITS,
        description="places where walking wounded are treated (minor injuries area) "
        "[assumption]; 0 = they queue for ED beds",
    )
    operating_rooms: int = Field(ge=0, le=MAX_UNITS)
    icu_beds: int = Field(ge=0, le=MAX_UNITS)
    teams_on_duty: int = Field(
        ge=0, le=MAX_UNITS, description="trauma (resuscitation) teams in the building"
    )
    teams_on_call: int = Field(
        default=0, ge=0, le=MAX_UNITS, description="trauma teams called in from home"
    )
    surgical_teams_on_duty: int | None = Field(
        default=None,
        ge=0,
        le=MAX_UNITS,
        description="theatre teams in the building; default: hospital_care."
        "surgical_teams_per_or_on_duty x operating rooms, rounded up",
    )
    surgical_teams_on_call: int | None = Field(
        default=None,
        ge=0,
        le=MAX_UNITS,
        description="theatre teams called in; default: hospital_care."
        "surgical_teams_per_or_called x operating rooms, rounded, less those on duty",
    )
    callin_delay_min: float = Field(
        default=23.0,
        ge=0,
        description="median minutes from the call to an on-call trauma team leaving home "
        "(lognormal with hospital_care.callin_sigma; a mean of 29 +/- 23 min in a call-in "
        "exercise, Emerg Radiol 2011)",
    )
    known_utility: float = Field(
        default=0.0,
        description="extra pull of this hospital on self-presenters, in choice-model utility "
        "units (response.hospital_choice) [assumption]",
    )
    resources: dict[str, int] = Field(
        default_factory=dict,
        description="further resources by name (e.g. ct_scanners: 2) for study pathways",
    )
    staff_home_nodes: list[str] = Field(
        default_factory=list,
        description="where on-call teams live (cycled); empty = junctions drawn at random",
    )
    occupied: OccupancySpec = Field(default_factory=OccupancySpec)
    surge: SurgeSpec = Field(
        default_factory=SurgeSpec,
        description="capacity added by the major-incident plan, surge_delay_min after the "
        "hospital alert",
    )
    surge_delay_min: float = Field(default=30.0, ge=0)
    accepts_children: bool = True
    accepts_adults: bool = Field(
        default=True,
        description="false for a children's hospital: EMS and self-presenters take adults "
        "elsewhere (its own children's service is what it offers)",
    )
    receives_ambulances: bool = Field(
        default=True,
        description="false for an emergency service that sees walk-in patients only (an "
        "urgent-care centre; Paris's Hôtel-Dieu after its emergency department closed in "
        "2013): EMS convey elsewhere while any other hospital can be reached; self-presenters "
        "still come",
    )

    @field_validator("resources")
    @classmethod
    def _resources_counted(cls, v: dict[str, int]) -> dict[str, int]:
        for name, count in v.items():
            if not 0 <= count <= MAX_UNITS:
                raise ValueError(f"{echo(name)}: must be 0..{MAX_UNITS}, got {count}")
        return v

    def surgical_teams_on_duty_count(self, care: HospitalCareSpec) -> int:
        """Theatre teams in the building at onset (given, or from the ORs)."""
        if self.surgical_teams_on_duty is not None:
            return self.surgical_teams_on_duty
        return math.ceil(care.surgical_teams_per_or_on_duty * self.operating_rooms - 1e-9)

    def surgical_teams_on_call_count(self, care: HospitalCareSpec) -> int:
        """Theatre teams that the call-in brings (given, or from the ORs)."""
        if self.surgical_teams_on_call is not None:
            return self.surgical_teams_on_call
        total = round(care.surgical_teams_per_or_called * self.operating_rooms)
        return max(0, total - self.surgical_teams_on_duty_count(care))

    @model_validator(mode="after")
    def _occupied_within_capacity(self) -> HospitalSpec:
        for field in (
            "resus_bays",
            "ed_beds",
            "minor_treatment_spaces",
            "operating_rooms",
            "icu_beds",
        ):
            if getattr(self.occupied, field) > getattr(self, field):
                raise ValueError(
                    f"occupied.{field} ({getattr(self.occupied, field)}) exceeds "
                    f"{field} ({getattr(self, field)})"
                )
        return self


class IncidentSpec(StrictModel):
    """One incident: where, when, how many, and what kind of injuries."""

    id: str
    node: str
    onset_min: float = Field(default=0.0, ge=0)
    casualties: int = Field(ge=1, le=1_000_000)
    injury_profile: str = Field(description="a built-in profile or one under injury_profiles")
    child_share: float = Field(default=0.05, ge=0, le=1)
    adult_age_range: tuple[int, int] = Field(
        default=(18, 80),
        description="youngest and oldest adult casualty, ages uniform between [assumption]; "
        "TRISS counts 55 and over as older",
    )
    child_age_range: tuple[int, int] = Field(default=(1, 17))
    self_transport_share: float = Field(
        default=0.5, ge=0, le=1, description="share of walking casualties who leave on their own"
    )
    extraction_share: float = Field(
        default=0.0, ge=0, le=1, description="share of casualties trapped until extracted"
    )
    extraction_min_range: tuple[float, float] = (0.0, 0.0)
    carried_by_bystanders_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of non-walking casualties (not trapped) whom bystanders drive to the "
        "nearest hospital in private vehicles, as at Las Vegas 2017 [assumption per scenario]",
    )
    treat_and_release_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of casualties triaged minor who are treated on scene and released "
        "instead of being conveyed [assumption per scenario]",
    )
    access_delay_min: float = Field(
        default=0.0,
        ge=0,
        le=7 * 24 * 60,
        description="minutes after onset before anyone can leave or be reached (an active "
        "shooter, a hostage-taking): casualties wait as if trapped until then",
    )
    went_home_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of the walking casualties who leave on their own that go home (or "
        "to a doctor) instead of to a hospital [per scenario, from the record]",
    )

    @field_validator("extraction_min_range", "adult_age_range", "child_age_range")
    @classmethod
    def _range_ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] < 0 or v[1] < v[0]:
            raise ValueError("must be [low, high] with 0 <= low <= high")
        return v


class HospitalChoiceSpec(StrictModel):
    """Self-presenters' choice of hospital (mcsim.hospital_choice); all [assumption].

    No calibrated model of this choice is published (CALIBRATION.md §3.4); the defaults give
    the nearest of several similar hospitals 35-60 % of self-presenters, within the 35-80 %
    that real incidents show.
    """

    decay_per_min: float = Field(
        default=0.15, ge=0, le=100, description="utility lost per minute of driving"
    )
    trauma_centre_utility: float = Field(
        default=1.0,
        ge=-100,
        le=100,
        description="pull of a level 1 or 2 trauma centre (the historical calibration's "
        "posterior median, barely narrower than its prior) [assumption]",
    )
    size_utility_per_log_bed: float = Field(
        default=0.3, ge=-100, le=100, description="pull per log(1 + ED beds)"
    )
    candidates: int = Field(
        default=25,
        ge=1,
        le=1000,
        description="the this-many nearest hospitals are considered (a bound for speed, like "
        "destination_candidates: the distance decay already makes far ones rare)",
    )


class ResponseSpec(StrictModel):
    """How the pre-hospital response works; every default is an assumption (docs/model.md)."""

    alert_delay_min: float = Field(default=3.0, ge=0, description="onset → EMS alerted")
    hospital_alert_delay_min: float = Field(
        default=10.0, ge=0, description="onset → hospitals declare a major incident"
    )
    triage_officers: int = Field(default=2, ge=0, le=1_000, description="per incident")
    paramedics: int = Field(
        default=4, ge=0, le=10_000, description="on-scene care givers per incident"
    )
    global_sort_min: float = Field(
        default=2.0, ge=0, description="the first officer's 'everyone who can walk, go there'"
    )
    loading_min: float = Field(default=3.0, ge=0, description="per patient")
    triage_min_range: tuple[float, float] = Field(
        default=(0.5, 1.0),
        description="minutes an officer spends triaging one patient after the global sort, "
        "uniform in [low, high] (START's 30-60 s per patient) [assumption]",
    )
    loading_lookahead: int = Field(
        default=8,
        ge=1,
        le=10_000,
        description="waiting patients per triage tag a dispatch policy is shown when a vehicle "
        "loads (and a destination policy's context) [assumption]",
    )
    handover_min: float = Field(default=10.0, ge=0)
    self_transport_delay_min_range: tuple[float, float] = (5.0, 30.0)
    self_transport_travel_factor: float = Field(
        default=1.0,
        gt=0,
        description="private cars vs the region's travel times (which already include the "
        "detour of the roads) [assumption]",
    )
    hospital_choice: HospitalChoiceSpec = Field(default_factory=lambda: HospitalChoiceSpec())
    tourniquets_at_triage: bool = Field(
        default=True,
        description="triage officers control limb bleeds with a tourniquet (SALT's "
        "life-saving interventions, the UK sieve's catastrophic-haemorrhage step)",
    )
    destination_candidates: int = Field(
        default=25,
        ge=0,
        le=10_000,
        description="destination policies see the this-many hospitals nearest to the vehicle "
        "(0 = all); keeps a decision cheap in regions with a hundred hospitals",
    )
    dispatch_candidates: int = Field(
        default=25,
        ge=1,
        le=10_000,
        description="dispatch policies choose among the this-many free vehicles nearest to the "
        "scene at a time (more are offered when those run out)",
    )

    @field_validator("triage_min_range", "self_transport_delay_min_range")
    @classmethod
    def _range_ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] < 0 or v[1] < v[0]:
            raise ValueError("must be [low, high] with 0 <= low <= high")
        return v


class HospitalCareSpec(StrictModel):
    """Hospital service times (minutes) around their means.

    ``lognormal`` with coefficient of variation ``service_cv`` by default; ``exponential``
    (cv 1) gives the M/M/c queues that queueing formulas describe, which the tests use as an
    analytic oracle of the hospital model.
    """

    resus_min: float = Field(
        default=20.0,
        gt=0,
        description="resuscitation before the operating room: the first operation began 35 min "
        "after the Boston bombs, 24 min after the first hospital arrival (+11 min) [derived, "
        "CALIBRATION.md §2.1]",
    )
    surgery_min: float = Field(default=120.0, gt=0)
    child_age_below: int = Field(
        default=18,
        ge=1,
        le=130,
        description="patients younger than this are children: a hospital with "
        "accepts_children false receives them only when none that does can [assumption]",
    )
    ed_serious_min: float = Field(default=90.0, gt=0)
    ed_minor_min: float = Field(default=30.0, gt=0)
    icu_stay_min: float = Field(
        default=2880.0, gt=0, description="ICU stay before step-down to a ward [assumption]"
    )
    transfer_delay_min: float = Field(
        default=30.0,
        ge=0,
        description="from the decision to transfer to the departure of the transfer vehicle "
        "[assumption]",
    )
    occupied_clear_min: float = Field(
        default=240.0,
        ge=0,
        description="pre-incident ED, resus, minor and theatre occupants are moved out within "
        "this many minutes of the hospital alert [assumption]",
    )
    reverse_triage_icu_share: float = Field(
        default=0.44,
        ge=0,
        le=1,
        description="share of pre-incident ICU occupants moved out (reverse triage: 44 % of "
        "inpatients need no critical intervention, Kelen et al. 2009)",
    )
    reverse_triage_min: float = Field(
        default=1440.0,
        ge=0,
        description="within this many minutes (most capacity within 24-48 h, Kelen 2009)",
    )
    callin_sigma: float = Field(
        default=0.70,
        ge=0,
        le=5,
        description="log-sd of the trauma-team call-in delay (mean 29 +/- 23 min gives 0.70)",
    )
    surgical_teams_per_or_on_duty: float = Field(
        default=0.24,
        ge=0,
        le=10,
        description="theatre teams at onset per OR (105 teams for 433 theatres at 30 min, "
        "Blimark et al. SJTREM 2020)",
    )
    surgical_teams_per_or_called: float = Field(
        default=0.92,
        ge=0,
        le=10,
        description="theatre teams per OR once all are in (399 teams for 433 theatres at 8 h, "
        "Blimark 2020)",
    )
    surgical_callin_median_min: float = Field(
        default=137.0,
        ge=0,
        description="median call-in delay of theatre teams: lognormal through Blimark 2020's "
        "called-in teams, 43 % of them in by 2 h [derived] and 95 % by 8 h [assumption]",
    )
    surgical_callin_sigma: float = Field(default=0.76, ge=0, le=5)
    service_distribution: Literal["lognormal", "exponential"] = "lognormal"
    service_cv: float = Field(default=0.3, ge=0, le=2, description="lognormal only")


class PolicyParamsSpec(StrictModel):
    """Parameters per policy, by kind then policy name.

    For example ``destination: {balance: {max_queue: 5}}``; checked against each policy's
    parameters (``mcsim policies``).
    """

    triage: dict[str, dict[str, Any]] = Field(default_factory=dict)
    dispatch: dict[str, dict[str, Any]] = Field(default_factory=dict)
    destination: dict[str, dict[str, Any]] = Field(default_factory=dict)


class TriageErrorSpec(StrictModel):
    """Responder error: after the tool decides, the tag moves one step with these probabilities.

    One uniform per patient (stream ``triage_error``) decides, so the same patients are
    mistriaged under every policy. Defaults 0 (no responder error); a SALT drill measured 8 %
    over- and 11 % under-triage (Lerner et al. 2010) — see docs/model.md, "Policies".
    """

    minor_over: float = Field(default=0.0, ge=0, le=1, description="P(minor → delayed)")
    delayed_over: float = Field(default=0.0, ge=0, le=1, description="P(delayed → immediate)")
    delayed_under: float = Field(default=0.0, ge=0, le=1, description="P(delayed → minor)")
    immediate_under: float = Field(default=0.0, ge=0, le=1, description="P(immediate → delayed)")

    @model_validator(mode="after")
    def _delayed_sum(self) -> TriageErrorSpec:
        if self.delayed_over + self.delayed_under > 1:
            raise ValueError("delayed_over + delayed_under must not exceed 1")
        return self


class StrategySpec(StrictModel):
    """Pre-hospital strategy (SCIENCE.md §6); every default is an [assumption]."""

    prehospital: Literal["scoop_and_run", "stay_and_play"] = Field(
        default="scoop_and_run",
        description="transport at once, or stabilise immediate and delayed patients on scene",
    )
    stabilisation_min: float = Field(
        default=10.0, ge=0, description="stay and play: on-scene stabilisation per patient"
    )
    stabilisation_care_factor: float = Field(
        default=0.25, ge=0, le=1, description="deterioration clock rate while being stabilised"
    )
    minor_seats: int = Field(
        default=0,
        ge=0,
        le=60,
        description="walking (minor) patients an ambulance may seat when it carries only them; "
        "0 = its capacity",
    )


class DiversionSpec(StrictModel):
    """When a hospital goes on diversion (destination policies then skip it while they can)."""

    on_at: int | None = Field(
        default=None,
        ge=1,
        description="a hospital goes on diversion when patients queueing plus en route reach "
        "this and it has no free resus bay nor ED bed; None = never",
    )
    off_below: int | None = Field(
        default=None,
        ge=0,
        description="it comes off diversion when that load falls below this (default on_at/2, "
        "rounded down) [assumption]",
    )

    @model_validator(mode="after")
    def _off_below_defaults_to_half(self) -> DiversionSpec:
        if self.off_below is None and self.on_at is not None:
            self.off_below = self.on_at // 2
        return self


class PoliciesSpec(StrictModel):
    """The policies a run uses unless the command line says otherwise."""

    triage: str = "start"
    dispatch: str = "priority"
    destination: str = "nearest"
    params: PolicyParamsSpec = Field(default_factory=PolicyParamsSpec)
    triage_error: TriageErrorSpec = Field(default_factory=TriageErrorSpec)
    strategy: StrategySpec = Field(default_factory=StrategySpec)
    diversion: DiversionSpec = Field(default_factory=DiversionSpec)
    reserve: list[str] = Field(
        default_factory=list,
        description="hospital ids the dispatch centre holds in reserve: EMS convey there only "
        "when no other hospital receiving ambulances is open; self-presenters still come "
        "(Paris 2015: Beaujon, Bichat and Avicenne were kept in reserve)",
    )
    reserve_until_min: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict,
        description="hospital id -> minute: held in reserve as in policies.reserve until that "
        "minute, then open to ambulances (Paris 2015: the first ambulances reached the "
        "military hospital Begin at 00:30, about two hours after the military hospitals were "
        "first alerted)",
    )


class Scenario(StrictModel):
    """A complete, validated scenario."""

    schema_version: Literal[2] = Field(
        description="file format version; this mcsim reads 2 and migrates 1"
    )

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        """Schema 1 data (files, sweeps, exercise logs) is migrated before validation."""
        if isinstance(data, dict) and data.get("schema_version") == 1:
            return migrate_v1(data)
        return data

    name: str
    description: str = ""
    duration_min: float = Field(default=720.0, gt=0, le=14 * 24 * 60)
    region: RegionSpec
    hospitals: list[HospitalSpec] = Field(min_length=1)
    stations: list[StationSpec] = Field(min_length=1, max_length=MAX_STATIONS)
    incidents: list[IncidentSpec] = Field(min_length=1)
    response: ResponseSpec = Field(default_factory=ResponseSpec)
    hospital_care: HospitalCareSpec = Field(default_factory=HospitalCareSpec)
    physiology: PhysiologyParams = Field(default_factory=PhysiologyParams)
    injury_profiles: dict[str, InjuryProfile] = Field(default_factory=dict)
    policies: PoliciesSpec = Field(default_factory=PoliciesSpec)
    imports: list[str] = Field(
        default_factory=list,
        description="Python modules or .py files imported before the scenario is checked "
        "(your own policies, metrics or exercise actions; files relative to the scenario "
        "file; see docs/howto-extend.md)",
    )

    def profile(self, name: str) -> InjuryProfile:
        """The injury profile ``name`` (scenario-defined first, then built-in)."""
        if name in self.injury_profiles:
            return self.injury_profiles[name]
        return builtin_profiles()[name]


# --------------------------------------------------------------------------------------------
# Loading


def migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Scenario schema 1 → 2 (the ISS-based outcome model), on a copy.

    Version 1 injury profiles gave the initial RPM of critical casualties over RPM 1..8 (the
    old definition: critical = RPM <= 8) and of serious ones over 9..11. Critical now means
    ISS > 15, most of whom are compensated at first, so the 8 critical weights are dropped for
    the new defaults; the 3 serious weights keep their meaning (RPM 12 gets weight 0);
    ``physiology.critical_rpm_max`` (the old definition) is dropped. Every other version-2
    field takes its default.
    """
    out = copy.deepcopy(data)
    out["schema_version"] = 2
    physiology = out.get("physiology")
    if isinstance(physiology, dict):
        physiology.pop("critical_rpm_max", None)  # critical is ISS > 15 now
    profiles = out.get("injury_profiles")
    if isinstance(profiles, dict):
        for prof in profiles.values():
            if not isinstance(prof, dict):
                continue
            crit = prof.get("critical_rpm_weights")
            if isinstance(crit, list) and len(crit) == 8:
                del prof["critical_rpm_weights"]
            ser = prof.get("serious_rpm_weights")
            if isinstance(ser, list) and len(ser) == 3:
                prof["serious_rpm_weights"] = [*ser, 0]
    return out


def parse_scenario(data: Any, *, file: str | None = None) -> Scenario:
    """Validate a scenario given as plain data; every problem is one :class:`InputError`."""
    if not isinstance(data, dict):
        raise InputError("a scenario must be a mapping of keys to values", file=file)
    if "schema_version" not in data:
        raise InputError(
            f"missing key; this mcsim reads schema_version {SCHEMA_VERSION} (and migrates 1)",
            file=file,
            path="schema_version",
        )
    if data["schema_version"] == 1:
        data = migrate_v1(data)
    if data["schema_version"] != SCHEMA_VERSION:
        raise InputError(
            f"unsupported schema_version {echo(data['schema_version'])}; this mcsim reads "
            f"{SCHEMA_VERSION}",
            file=file,
            path="schema_version",
        )
    imports = data.get("imports")
    if isinstance(imports, list) and imports:  # before the policy names are looked up
        from mcsim.plugins import load_plugins

        base = Path(file).parent if file else None
        load_plugins(imports, base_dir=base, file=file, path="imports")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        lines = error_lines(exc)
        path, msg = lines[0]
        raise InputError(msg, file=file, path=path, more=len(lines) - 1) from None
    problems = reference_problems(scenario)
    if problems:
        path, msg = problems[0]
        raise InputError(msg, file=file, path=path, more=len(problems) - 1)
    return scenario


def all_problems(data: Any, *, file: str | None = None) -> list[InputError]:
    """Every problem in a scenario (for ``mcsim validate``), not just the first."""
    try:
        parse_scenario(data, file=file)
    except InputError as first:
        if first.more == 0:
            return [first]
        try:
            Scenario.model_validate(data)
        except ValidationError as exc:
            return [InputError(m, file=file, path=p) for p, m in error_lines(exc)]
        scenario = Scenario.model_validate(data)
        return [InputError(m, file=file, path=p) for p, m in reference_problems(scenario)]
    return []


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file safely; a missing, odd or malformed file is an :class:`InputError`.

    Only a regular file of bounded size is read, and data nested too deep or too large is
    refused (:mod:`mcsim.safeio`).
    """
    from mcsim.safeio import read_yaml as safe_read_yaml

    return safe_read_yaml(path, what="scenario file")


def read_scenario_data(path: str | Path) -> Any:
    """A scenario file as plain data, its region file (``region.file``) read and put inline.

    Every reader of scenario files goes through here, so that a region kept in a file of its
    own is, from then on, the same data as the region written inline (:mod:`mcsim.region_files`).
    """
    data = read_yaml(path)
    if isinstance(data, dict) and isinstance(data.get("region"), dict) and "file" in data["region"]:
        from mcsim.region_files import inline_region_file

        data = inline_region_file(data, path)
    return data


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Load and validate a scenario file, applying ``PATH=VALUE`` overrides first.

    Args:
        path: the YAML file, or the name of a shipped scenario (``"stadium_explosion"``) when
            no such file exists here (:mod:`mcsim.library`).
        overrides: strings such as ``"hospitals[0].ed_beds=40"`` (values are parsed as YAML).

    Raises:
        InputError: naming the file and the field path of the first problem.
    """
    from mcsim.library import resolve

    path = resolve(path)
    data = read_scenario_data(path)
    if overrides:
        data = apply_overrides(data, overrides, file=str(path))
    return parse_scenario(data, file=str(path))


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(path: str) -> list[str | int]:
    """``"hospitals[2].ed_beds"`` → ``["hospitals", 2, "ed_beds"]``; malformed → ValueError."""
    parts: list[str | int] = []
    pos = 0
    for m in _PATH_PART.finditer(path):
        gap = path[pos : m.start()]
        if gap not in ("", "."):
            raise ValueError(f"malformed field path {echo(path)}")
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if pos != len(path) or not parts:
        raise ValueError(f"malformed field path {echo(path)}")
    return parts


def apply_overrides(data: Any, overrides: list[str], *, file: str | None = None) -> Any:
    """A copy of ``data`` with each ``PATH=VALUE`` applied (lists indexed as ``name[i]``)."""
    out = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise InputError(f"--set needs PATH=VALUE, got {echo(item)}", file=file)
        path, raw = item.split("=", 1)
        path = path.strip()
        try:
            parts = split_path(path)
        except ValueError as exc:
            raise InputError(f"--set {echo(item)}: {exc}", file=file) from None
        try:
            value = parse_yaml(raw, file=file) if raw.strip() else ""
        except InputError as exc:
            raise InputError(
                f"--set value {echo(raw)} is not valid YAML ({exc.message})", file=file, path=path
            ) from None
        node = out
        for i, part in enumerate(parts[:-1]):
            node = _descend(node, part, parts[: i + 1], file)
        last = parts[-1]
        if isinstance(last, int):
            if not isinstance(node, list) or last >= len(node):
                raise InputError("index out of range for --set", file=file, path=path)
            node[last] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise InputError(
                "--set path goes through a value that is not a mapping", file=file, path=path
            )
    return out


def _descend(node: Any, part: str | int, so_far: list[str | int], file: str | None) -> Any:
    from mcsim.schema_base import format_location

    where = format_location(so_far)
    if isinstance(part, int):
        if not isinstance(node, list) or part >= len(node):
            raise InputError("index out of range for --set", file=file, path=where)
        return node[part]
    if not isinstance(node, dict):
        raise InputError(
            "--set path goes through a value that is not a mapping", file=file, path=where
        )
    return node.setdefault(part, {})


# --------------------------------------------------------------------------------------------
# References between parts


def reference_problems(s: Scenario) -> list[tuple[str, str]]:
    """(path, message) for every reference that does not resolve, in file order."""
    from mcsim.region import region_nodes  # names and kinds: no graph needed to check them

    problems: list[tuple[str, str]] = []
    try:
        region = region_nodes(s.region)
    except InputError as exc:
        return [(f"region.{exc.path}" if exc.path else "region", exc.message)]
    names = {region.name(i) for i in range(region.n_nodes)}
    roles: dict[str, tuple[NodeKind, str]] = {}

    def check_node(path: str, node: str, kind: NodeKind) -> None:
        if node not in names:
            problems.append((f"{path}.node", f"unknown node {echo(node)} (not in region)"))
            return
        declared = region.kind(region.index(node))
        if declared not in (NodeKind.JUNCTION, kind):
            problems.append((f"{path}.node", f"node {echo(node)} is a {declared}, not a {kind}"))
            return
        other = roles.get(node)
        if other is not None and other[0] is not kind:
            problems.append((f"{path}.node", f"node {echo(node)} is already used by {other[1]}"))
        roles.setdefault(node, (kind, path))

    def check_unique(items: list[Any], what: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                problems.append((f"{what}[{i}].id", f"duplicate id {echo(item.id)}"))
            seen.add(item.id)

    fleet = sum(v.count for st in s.stations for v in st.vehicles)
    if fleet > MAX_VEHICLES:
        problems.append(("stations", f"{fleet:,} vehicles in all; at most {MAX_VEHICLES:,}"))
    check_unique(s.hospitals, "hospitals")
    check_unique(s.stations, "stations")
    check_unique(s.incidents, "incidents")
    for i, h in enumerate(s.hospitals):
        check_node(f"hospitals[{i}]", h.node, NodeKind.HOSPITAL)
        for j, home in enumerate(h.staff_home_nodes):
            if home not in names:
                problems.append(
                    (f"hospitals[{i}].staff_home_nodes[{j}]", f"unknown node {echo(home)}")
                )
    for i, st in enumerate(s.stations):
        check_node(f"stations[{i}]", st.node, NodeKind.AMBULANCE_STATION)
    profiles = set(builtin_profiles()) | set(s.injury_profiles)
    for i, inc in enumerate(s.incidents):
        check_node(f"incidents[{i}]", inc.node, NodeKind.INCIDENT_SITE)
        if inc.injury_profile not in profiles:
            problems.append(
                (
                    f"incidents[{i}].injury_profile",
                    f"unknown injury profile {echo(inc.injury_profile)}; known: "
                    + ", ".join(sorted(profiles)),
                )
            )
        if inc.onset_min >= s.duration_min:
            problems.append((f"incidents[{i}].onset_min", "starts after the scenario ends"))
    hospital_ids = {h.id for h in s.hospitals}
    for i, hid in enumerate(s.policies.reserve):
        if hid not in hospital_ids:
            problems.append(
                (f"policies.reserve[{i}]", f"unknown hospital {echo(hid)} (not in hospitals)")
            )
    for hid in s.policies.reserve_until_min:
        where = f"policies.reserve_until_min.{hid}"
        if hid not in hospital_ids:
            problems.append((where, f"unknown hospital {echo(hid)} (not in hospitals)"))
        elif hid in s.policies.reserve:
            problems.append(
                (where, "also in policies.reserve (held all run): list it in one of the two")
            )
    from mcsim.policies import default_registry

    reg = default_registry()
    for kind in ("triage", "dispatch", "destination"):
        name = getattr(s.policies, kind)
        try:
            reg.get(kind, name)
        except InputError as exc:
            problems.append((f"policies.{kind}", exc.message))
        for pname, values in getattr(s.policies.params, kind).items():
            where = f"policies.params.{kind}.{pname}"
            try:
                reg.get(kind, pname).check_params(values, path=where)
            except InputError as exc:
                problems.append((exc.path or where, exc.message))
    return problems


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (``mcsim schema``)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"mcsim scenario (schema_version {SCHEMA_VERSION})"
    return schema


def schema_text() -> str:
    """The JSON Schema as indented text."""
    return json.dumps(scenario_json_schema(), indent=2)
