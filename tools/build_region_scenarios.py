"""Build the real-region scenarios (Las Vegas, Manchester, Boston, Orlando, Paris) from data files.

The hospital facts (coordinates, trauma levels, beds) come from the CSVs in tests/data/regions/
(its README lists every source; the keys H, LV1…, MA1…, BO1…, OR1…, PA1… in the scenario headers
refer to it). Everything the files do not give is an
**[assumption]** written into the scenario's header: station places and fleets, hospital sizes
filled by :class:`mcsim.region_import.HospitalDefaults`, occupancy, injury mixes.

Travel times are great-circle distance × detour factor ÷ speed between every pair of places
(:func:`mcsim.region_import.build_scenario` without a road graph): an approximation, not a
road network, and said so in each file.

Run it to rewrite the scenarios; tests/test_scenario_library.py checks that the committed files
are what it writes::

    .venv/bin/python tools/build_region_scenarios.py          # writes scenarios/*.yaml
    .venv/bin/python tools/build_region_scenarios.py --check  # exit 1 if a file differs
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mcsim.policies.quotas import GREATER_MANCHESTER  # noqa: E402
from mcsim.region_import import (  # noqa: E402
    ImportParams,
    Place,
    build_scenario,
    dump_scenario,
    read_places,
)

DATA = REPO / "tests" / "data" / "regions"
OUT = REPO / "scenarios"

PARAMS = ImportParams(detour_factor=1.3, speed_kmh=50.0)
"""Detour factor 1.3 and 50 km/h for an ambulance under lights on urban arterials at night
**[assumption]**; both are shown in each file's header."""

ED_OCCUPIED = 0.75
ICU_OCCUPIED = 0.80


@dataclass
class RegionPlan:
    """What one real-region scenario is built from."""

    file: str
    csv: str
    ids: list[str | None]  # hospital id per CSV row; None = left out
    header: list[str]
    name: str
    description: str
    incidents: list[tuple[Place, dict[str, Any]]]
    # id, name, lat, lon, ALS[, BLS]
    stations: list[tuple[str, str, float, float, int] | tuple[str, str, float, float, int, int]]
    profiles: dict[str, dict[str, Any]]  # injury profiles by name
    response: dict[str, Any]
    policies: dict[str, Any] = field(default_factory=dict)
    row_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    # scenario fields of a hospital that the CSV import does not know (e.g. known_utility)
    hospital_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    # scenario physiology fields that differ from the defaults (e.g. mortal_wound_timing)
    physiology: dict[str, Any] = field(default_factory=dict)
    # Replaces the closing "no per-hospital patient counts" lines of the header, for the
    # scenarios whose real per-hospital counts live in a record file.
    data_note: list[str] | None = None
    # Adults' ages, uniform in whole years, and the header lines that say where they come from.
    adult_age_range: tuple[int, int] = (18, 65)
    age_note: list[str] = field(
        default_factory=lambda: [
            "Ages: adults 18-65, uniform [assumption: an event crowd is mostly of working age; "
            "the",
            "default 18-80 stands for a general population, and TRISS counts 55+ as older].",
        ]
    )


def _hospitals(plan: RegionPlan) -> list[Place]:
    places = read_places(DATA / plan.csv, "hospital")
    if len(places) != len(plan.ids):
        raise SystemExit(f"{plan.csv}: {len(places)} rows, {len(plan.ids)} ids")
    out = []
    for place, pid in zip(places, plan.ids, strict=True):
        if pid is None:
            continue
        place.id = pid
        place.props.update(plan.row_overrides.get(pid, {}))
        out.append(place)
    return out


def build(plan: RegionPlan) -> str:
    """The YAML text of one scenario."""
    stations = [
        Place(
            sid,
            name,
            lon,
            lat,
            {"als": str(als), **({"bls": str(bls[0])} if bls else {})},
        )
        for sid, name, lat, lon, als, *bls in plan.stations
    ]
    built = build_scenario(
        hospitals=_hospitals(plan),
        stations=stations,
        incident=[p for p, _ in plan.incidents],
        params=PARAMS,
        name=plan.name,
        hospitals_file=str(DATA / plan.csv),
    )
    sc = built.scenario
    sc["description"] = plan.description
    for h in sc["hospitals"]:
        h.update(plan.hospital_fields.get(h["id"], {}))
        h["occupied"] = {
            "ed_beds": round(ED_OCCUPIED * h["ed_beds"]),
            "icu_beds": round(ICU_OCCUPIED * h["icu_beds"]),
        }
    for inc, (_, extra) in zip(sc["incidents"], plan.incidents, strict=True):
        inc.update(extra)
        inc.setdefault("adult_age_range", list(plan.adult_age_range))
    sc["response"] = plan.response
    if plan.physiology:
        sc["physiology"] = dict(plan.physiology)
    # copies, so that profiles sharing RPM-weight lists do not come out as YAML anchors
    sc["injury_profiles"] = {k: copy.deepcopy(v) for k, v in plan.profiles.items()}
    sc["policies"] = plan.policies or {
        "triage": "start",
        "dispatch": "priority",
        "destination": "nearest",
    }
    common = [
        "",
        "How it was built: tools/build_region_scenarios.py (do not edit by hand; change the tool",
        "and rerun it). Hospital rows: tests/data/regions/" + plan.csv + ".",
        "Travel times: great-circle distance x 1.3 (detour factor) / 50 km/h between every pair",
        "of places [approximation; there is no road network of this region in the repository].",
        "Hospital sizes: beds from the CSV where given; ED beds 5 %, ICU beds 8 % of beds, one",
        "OR per 50 beds, resus bays and teams by trauma level, 200 beds where the CSV has none",
        "(mcsim.region_import.HospitalDefaults) [assumption]. Occupancy at onset: 75 % of ED",
        "beds and 80 % of ICU beds [assumption].",
    ] + (
        plan.data_note
        or [
            "The data set deliberately holds no per-hospital patient counts of the real incident;",
            "do not read this scenario's hospital loads as a replay of what happened.",
        ]
    )
    common += plan.age_note
    header = plan.header + common + [""]
    return dump_scenario(sc, header)


# --------------------------------------------------------------------------------------------

# Initial-RPM and ISS weights are the built-in defaults (mcsim.casualties.InjuryProfile):
# most critical casualties compensated at first [assumption, docs/model.md].
GUNSHOT_RPM: dict[str, Any] = {}
BLAST_RPM: dict[str, Any] = {}

LAS_VEGAS = RegionPlan(
    file="las_vegas_concert_shooting.yaml",
    csv="las_vegas_2017.csv",
    ids=[
        "umc",
        "sunrise",
        "sunrise_childrens",
        "valley",
        "desert_springs",
        "spring_valley",
        "southern_hills",
        "summerlin",
        "mountainview",
        "centennial_hills",
        "north_vista",
        "st_rose_siena",
        "st_rose_san_martin",
        "st_rose_de_lima",
        "henderson",
        "nellis_mofmc",
        "va_southern_nevada",
        "boulder_city",
    ],
    row_overrides={
        # UMC's 11 are the Trauma Center's resuscitation beds, not its ED [LV2].
        "umc": {"resus_bays": "11", "ed_beds": "", "operating_rooms": "3"},
        # Sunrise opened all 30 ORs; at onset 1 trauma surgeon, ~100 doctors came in
        # (CALIBRATION.md §2.1 [secondary]); 9 trauma teams on call [assumption from that].
        "sunrise": {"operating_rooms": "30", "teams_on_duty": "1", "teams_on_call": "9"},
    },
    physiology={"mortal_wound_timing": "webster2021"},
    hospital_fields={
        "sunrise": {"known_utility": 1.0},
        "sunrise_childrens": {"accepts_adults": False},  # a children's hospital [LV CSV]
    },
    policies={"triage": "start", "dispatch": "priority", "destination": "field_triage"},
    name="Mass shooting at an outdoor concert, Las Vegas valley (Route 91 Harvest, 2017)",
    description=(
        "Gunfire into a crowd of about 22,000 at an outdoor country-music festival on the Las "
        "Vegas Strip, 22:05 on a Sunday night. 58 killed and about 867 injured (413 by gunfire "
        "or shrapnel); most injured reached hospital by private car, taxi or rideshare. 18 "
        "hospitals of the valley with their 2017 trauma levels. Travel times are straight-line "
        "approximations; station places and fleets are assumptions (see the file's header)."
    ),
    header=[
        "Mass shooting at an outdoor concert, Las Vegas valley (Route 91 Harvest, 1 Oct 2017)",
        "",
        "What it represents: shooting from the 32nd floor of Mandalay Bay into the festival",
        "lot (Las Vegas Village) at about 22:05-22:15 PDT [LV11, LV12]; ~22,000 attendees.",
        "Site 36.0950, -115.1717 (Wikipedia coordinate; the lot's centroid is ~100-200 m east)",
        "[LV15]. Casualties 925 = 58 killed + ~867 injured [LV11] (CCFD: > 800 [LV12]).",
        "Hospitals: the 18 acute hospitals of the region file; 2017 trauma levels: UMC Level I",
        "(the only one; its 11 trauma resuscitation beds and 3 trauma ORs [LV2] are used as",
        "resus_bays/operating_rooms), Sunrise Level II, St. Rose Siena Level III [LV1, LV9];",
        "beds from HIFLD [H] or the sources in the CSV; MountainView ED 42 beds [LV8].",
        "Injury mix (profile route91_gunfire): mortally wounded 58/925 = 6 %, each dying after",
        "a time drawn from Webster 2021's deaths of the killed in action",
        "(physiology.mortal_wound_timing: webster2021; docs/model.md), since 24 of the 58 died",
        "at hospitals, 14 of them dead on arrival at Sunrise [HOSPDEATHS in the record file];",
        "critical 10 % and serious 28 % of survivors [assumption: the data",
        "give only 413 of 867 injured by gunfire or shrapnel, many with minor wounds];",
        "penetrating; surgery shares as the built-in gunshot profile (Raux et al. 2019).",
        "Self-transport: 90 % of walking casualties leave on their own, and bystanders drive",
        "half of the non-walking casualties to the nearest hospital (carried_by_bystanders_share",
        "0.5 [assumption]), since 'most of those injured were transported ... by means other",
        "than EMS units' [LV12].",
        "Stations [assumption]: 4 ALS of Community Ambulance's event team at the medical tent,",
        "north-east of the lot [LV17, LV18]; 31 ALS at six placeholder bases at district centres",
        "(Strip/Paradise, Downtown, North Las Vegas, Henderson, Summerlin, Spring Valley): the",
        "data set found neither the county's 2017 fleet size nor station places.",
        "Response: 4 triage officers and 16 paramedics on scene (Community Ambulance's",
        "special-events staff of 16 [LV17]); other response values are the defaults.",
        "Went home: about 600 of the ~890 surviving casualties reached a hospital",
        "[CALIBRATION.md §5]; the ~290 others are walking wounded who left on their own, so",
        "went_home_share 0.55 of the ~520 self-presenters [derived].",
        "Sunrise: all 30 operating rooms opened, 1 trauma surgeon at onset and about 100",
        "doctors called in [CALIBRATION.md §2.1, secondary]: 30 ORs, 1 trauma team on duty, 9",
        "on call [assumption: from the ~100 doctors].",
        "Where casualties went: self-presenters choose by distance, trauma level and size;",
        "Sunrise gets known_utility 1.0 because bystanders typing 'Vegas hospital' into a phone",
        "got Sunrise first [CALIBRATION.md §3.1, secondary; the 1.0 is an assumption]. EMS:",
        "destination field_triage: the US field triage guidelines send patients with deranged",
        "vitals or a penetrating wound of the torso or a proximal limb to the highest trauma",
        "level within reach [Sasser et al., MMWR 2012;61(RR-1), paper], which the area plan made",
        "UMC, the Level I, for the festival site [CALIBRATION.md §3.1, secondary]; and EMS pass",
        "a full hospital by: 'UMC ... was at capacity and cases were being sent to other",
        "hospitals such as Sunrise' [Washington Times, 2 Oct 2017, secondary]. A penetrating",
        "casualty who cannot walk counts as step 2 [assumption: the wound's place is not",
        "modelled]. Try: --destination trauma (immediate only to the trauma centre),",
        "--destination nearest, --destination balance.",
    ],
    incidents=[
        (
            Place("route91", "Route 91 Harvest festival lot", -115.1717, 36.0950),
            {
                "casualties": 925,
                "injury_profile": "route91_gunfire",
                "child_share": 0.02,
                "adult_age_range": [18, 65],
                "self_transport_share": 0.9,
                "went_home_share": 0.55,
                "carried_by_bystanders_share": 0.5,
            },
        )
    ],
    stations=[
        ("event_medical_tent", "Community Ambulance event medical tent", 36.0962, -115.1700, 4),
        ("strip_paradise", "Placeholder base: Strip / Paradise", 36.1147, -115.1728, 6),
        ("downtown", "Placeholder base: Downtown Las Vegas", 36.1699, -115.1398, 6),
        ("north_las_vegas", "Placeholder base: North Las Vegas", 36.1989, -115.1175, 5),
        ("henderson_base", "Placeholder base: Henderson", 36.0395, -114.9817, 5),
        ("summerlin_base", "Placeholder base: Summerlin", 36.1860, -115.3040, 4),
        ("spring_valley_base", "Placeholder base: Spring Valley", 36.1080, -115.2450, 5),
    ],
    profiles={
        "route91_gunfire": {
            "description": "Gunfire into an outdoor crowd, with injuries from the stampede.",
            "immediate_death_share": 0.038,
            "critical_share": 0.08,
            "serious_share": 0.28,
            "haemorrhage_share": 0.6,
            "compressible_share": 0.3,
            "penetrating": True,
            "surgery_share_critical": 0.8,
            "surgery_share_serious": 0.3,
            "source": "immediate deaths 35 of 925: the deaths at the scene (about half of 58, "
            "CALIBRATION.md §5) [derived]; critical 8 % of survivors: 45 critical on day 2 (UMC "
            "12, Sunrise 33) plus 24 dead at hospitals, of ~870 [derived]; serious share, "
            "haemorrhage and compressible shares [assumption]; surgery shares as the built-in "
            "gunshot profile (Raux et al. 2019)",
        },
    },
    response={"triage_officers": 4, "paramedics": 16},
)

MANCHESTER = RegionPlan(
    file="manchester_arena_bombing.yaml",
    csv="manchester_2017.csv",
    hospital_fields={"rmch": {"accepts_adults": False}},  # paediatric MTC [MA CSV]
    ids=[
        "mri",
        "rmch",
        "salford",
        "wythenshawe",
        "oldham",
        "stepping_hill",
        "wigan",
        "bolton",
        "tameside",
        "north_manchester",
        "fairfield",
        "rochdale",
        None,  # Trafford General: A&E closed in 2013 [MA17]
    ],
    row_overrides={
        # Rochdale Infirmary: urgent care centre only [MA13]; it takes walking wounded.
        "rochdale": {
            "resus_bays": "0",
            "operating_rooms": "0",
            "icu_beds": "0",
            "ed_beds": "10",
            "teams_on_duty": "0",
            "teams_on_call": "0",
        },
    },
    name="Arena bombing, Greater Manchester (Manchester Arena, 2017)",
    description=(
        "A shrapnel-laden device detonated in the City Room foyer of Manchester Arena as about "
        "14,200 fans left a concert, 22:31 on a Monday. 22 killed and 237 physically injured. "
        "12 acute sites of Greater Manchester; the destination policy is the region's "
        "pre-planned quota table. Travel times are straight-line approximations; station "
        "places are assumptions (see the file's header)."
    ),
    header=[
        "Arena bombing in Greater Manchester (Manchester Arena, 22 May 2017)",
        "",
        "What it represents: detonation in the City Room at 22:31:00 BST [MA1, MA6] as ~14,200",
        "left an Ariana Grande concert. Site 53.4881, -2.2439 (arena coordinate; the City Room",
        "is within ~100 m) [MA7]. Casualties 259 = 22 killed + 237 physically injured [MA2]",
        "(of the 237: 111 needed hospital treatment, 91 seriously or very seriously injured).",
        "Injury mix (profile arena_foyer_blast): immediate deaths 22/259 = 8.5 %; critical 13 %",
        "and serious 34 % of survivors, so that critical + serious = 111/237 = 47 % needed",
        "hospital treatment [MA2] (the split is an [assumption]); penetrating (nuts and bolts);",
        "RPM weights and surgery shares as the built-in blast profiles [assumption].",
        "Hospitals: 12 sites of the region file; Trafford General left out (A&E closed 2013",
        "[MA17]); Rochdale Infirmary is an urgent care centre only (10 minor places, no resus,",
        "theatre, ICU or teams) [MA13]. Trauma network 2017: MTCs MRI, Salford, Wythenshawe",
        "(status uncertain), RMCH (children) [MA8-MA11]; Trauma Units Oldham, Stepping Hill,",
        "Wigan [MA9]. Beds: RMCH 371 [MA14], Salford 728 [MA15], Stepping Hill 778 [MA16],",
        "MRI 750? [MA18]; no site figure for the rest (200 assumed).",
        "Policy: destination quota with the Greater Manchester MCI plan [MA13, MA4]:",
        "  P1 (immediate): Salford 20, MRI 20, Wythenshawe 20 (over-12s); RMCH 20 (under-12s)",
        "  P2 (delayed):   Oldham 15, Stepping Hill 15, Wigan 15 (over-12s); Bolton 10",
        "                  (under-12s in the plan; the quota table cannot restrict one category",
        "                  by age, so Bolton's 10 take any age here)",
        "  P3 (minor):     Tameside 40, North Manchester 30, Rochdale 10, Fairfield 20, Bolton 20",
        "These are plan capacities, not what happened. Compare: --destination nearest.",
        "Treat and release: half the walking wounded who stay are treated on scene and not",
        "conveyed [assumption], against ~60 treated without conveyance [MA5].",
        "Stations [assumption]: NWAS sent 60 ambulances [MA5]; station places were not found,",
        "so 60 ALS sit at six placeholder bases (city centre 15; Salford, Oldham, Stockport,",
        "Bolton, Wigan 9 each). Two HART teams were on duty [MA4]: 8 paramedics on scene",
        "[assumption]. The real response held ambulances at a rendezvous point until 23:00",
        "[MA3]; replay that with --set response.alert_delay_min=29.",
    ],
    incidents=[
        (
            Place("city_room", "Manchester Arena City Room", -2.2439, 53.4881),
            {
                "casualties": 259,
                "injury_profile": "arena_foyer_blast",
                "child_share": 0.25,
                "adult_age_range": [18, 65],
                "self_transport_share": 0.5,
                "treat_and_release_share": 0.5,
            },
        )
    ],
    stations=[
        ("manchester_centre", "Placeholder base: Manchester city centre", 53.4794, -2.2453, 15),
        ("salford_base", "Placeholder base: Salford", 53.4875, -2.2901, 9),
        ("oldham_base", "Placeholder base: Oldham", 53.5409, -2.1114, 9),
        ("stockport_base", "Placeholder base: Stockport", 53.4106, -2.1575, 9),
        ("bolton_base", "Placeholder base: Bolton", 53.5769, -2.4282, 9),
        ("wigan_base", "Placeholder base: Wigan", 53.5450, -2.6325, 9),
    ],
    profiles={
        "arena_foyer_blast": {
            "description": "Shrapnel device in a crowded foyer (semi-confined space).",
            "immediate_death_share": 0.073,
            "critical_share": 0.10,
            "serious_share": 0.37,
            "haemorrhage_share": 0.875,
            "compressible_share": 0.3,
            "penetrating": True,
            "surgery_share_critical": 0.6,
            "surgery_share_serious": 0.2,
            "source": "immediate deaths 19 of 259 (22 killed less 3 who died in hospital, "
            "CALIBRATION.md §5) [derived]; hospital need 111 of 237 (Manchester Arena Inquiry "
            "Vol 2, MA2), of whom 24 needed critical care (Dark et al. 2021) [derived: critical "
            "10 %, serious 37 %]; haemorrhage 21 damage-control operations of 24 critical "
            "(Dark 2021) [derived]; compressible and surgery shares [assumption]",
        },
    },
    response={"triage_officers": 2, "paramedics": 8},
    policies={
        "triage": "sieve",
        "dispatch": "priority",
        "destination": "quota",
        "params": {
            "destination": {
                "quota": {
                    "quotas": GREATER_MANCHESTER,
                }
            }
        },
    },
)

BOSTON = RegionPlan(
    file="boston_marathon_bombing.yaml",
    csv="boston_2013.csv",
    hospital_fields={"childrens": {"accepts_adults": False}},  # free-standing [BO CSV]
    ids=[
        "mgh",
        "brigham",
        "bidmc",
        "bmc",
        "tufts",
        "childrens",
        "st_elizabeths",
        "faulkner",
        "carney",
        None,  # Mass Eye and Ear: eye/ENT emergencies only
        None,  # Shriners: paediatric burns, no general ED
        "mount_auburn",
        "cambridge",
        "somerville",
        "whidden",
        "newton_wellesley",
        "bid_milton",
    ],
    row_overrides={"mgh": {"ed_beds": "49"}},
    name="Marathon finish-line bombing, Boston (2013)",
    description=(
        "Two pressure-cooker devices exploded about 190 m apart and 13 s apart near the "
        "finish line of the Boston Marathon on Boylston Street, 14:49 on a Monday. 3 killed "
        "and 264 injured. 15 hospitals of Boston and nearby towns, five adult Level I centres "
        "within 3 km. Travel times are straight-line approximations; most station places are "
        "assumptions (see the file's header)."
    ),
    header=[
        "Marathon finish-line bombing in Boston (15 Apr 2013)",
        "",
        "What it represents: two devices on Boylston Street, the first at 14:49 EDT and the",
        "second ~13 s later, ~190 m apart [BO10, BO18]. Bomb 1 at 42.3498, -71.0789 [BO8];",
        "bomb 2 at 42.3494, -71.0811 is the data set's own estimate (190 m west) [?].",
        "Casualties 267 = 3 killed + 264 injured [BO11], split 160 / 107 between the two blasts",
        "[assumption]; at least 16 traumatic amputations [BO7]; every patient transported alive",
        "survived [BO9].",
        "Injury mix (profile finish_line_blast): immediate deaths 3/267 = 1.1 %; critical 12 %,",
        "serious 18 % of survivors [assumption]; penetrating (shrapnel); surgery shares",
        "[assumption].",
        "Hospitals: 15 of the region file (Mass Eye and Ear and Shriners left out: specialist",
        "sites the model cannot restrict to eye or burn patients). Level I in 2013: MGH,",
        "Brigham, BIDMC, BMC, Tufts (adult), Boston Children's [H, BO1-BO6]; beds from HIFLD",
        "[H]; MGH ED 49 beds (a 2006 figure, marked ? in the data) [BO5].",
        "Stations: 13 Boston EMS ambulances at or near the finish line [BO13], placed at",
        "Copley Square [BO11] (the Alpha medical tent's area) [assumption: place]; the Tufts",
        "MC station with 2 ambulances [BO17]; the other 23 of the 25 covering the city [BO13]",
        "at four placeholder neighbourhood bases [assumption]. 20 clinicians of the medical",
        "tent treat on scene [assumption]; ambulances on site are alerted after 1 min.",
        "Policy: destination balance, because patients were spread over many hospitals (29",
        "in all [BO7]); with --destination nearest every patient goes to Tufts, the closest.",
        "Check against: Boston EMS transported 118 in the first 25-30 min and all critical",
        "patients within ~50 min [BO9, BO13] (docs/validation.md).",
    ],
    incidents=[
        (
            Place("bomb1", "Boylston St, Marathon Sports (finish line)", -71.0789, 42.3498),
            {
                "casualties": 160,
                "injury_profile": "finish_line_blast",
                "child_share": 0.05,
                "adult_age_range": [18, 65],
                "self_transport_share": 0.4,
            },
        ),
        (
            Place("bomb2", "755 Boylston St, the Forum", -71.0811, 42.3494),
            {
                "onset_min": 0.22,
                "casualties": 107,
                "injury_profile": "finish_line_blast",
                "child_share": 0.05,
                "adult_age_range": [18, 65],
                "self_transport_share": 0.4,
            },
        ),
    ],
    stations=[
        (
            "finish_line",
            "Boston EMS units staged at the finish (Copley Square)",
            42.3500,
            -71.0760,
            13,
        ),
        ("tufts_ems", "Boston EMS station at Tufts Medical Center", 42.3499, -71.0640, 2),
        ("dorchester_base", "Placeholder base: Dorchester", 42.3016, -71.0676, 6),
        ("roxbury_jp_base", "Placeholder base: Roxbury / Jamaica Plain", 42.3150, -71.0950, 6),
        ("charlestown_base", "Placeholder base: Charlestown", 42.3782, -71.0602, 5),
        ("brighton_base", "Placeholder base: Brighton", 42.3501, -71.1565, 6),
    ],
    profiles={
        "finish_line_blast": {
            "description": "Two shrapnel devices at ground level in an open-air crowd.",
            "immediate_death_share": 0.011,
            "critical_share": 0.12,
            "serious_share": 0.17,
            "haemorrhage_share": 0.9,
            "compressible_share": 0.9,
            "penetrating": True,
            "surgery_share_critical": 0.5,
            "surgery_share_serious": 0.5,
            "source": "immediate deaths 3 of 267 (BO11); critical 12 %: 31 with exsanguinating "
            "haemorrhage of 264 (Gates et al. 2014) [derived]; serious 17 %: 75 admitted at the "
            "six trauma centres less those 31 (Gates 2014) [derived]; haemorrhage 29 of 31 from "
            "limbs, 27 with tourniquets (King et al. 2015) [derived: haemorrhage and "
            "compressible shares 0.9]; surgery: 54 urgent operations of 75 admitted (Gates "
            "2014) [derived: half of the serious]",
        },
    },
    response={"alert_delay_min": 1, "triage_officers": 4, "paramedics": 20},
    policies={"triage": "start", "dispatch": "priority", "destination": "balance"},
)

# --------------------------------------------------------------------------------------------
# Orlando, Pulse nightclub shooting, 12 June 2016. Source keys OR1... are listed in
# tests/data/regions/README.md.

# ---- Orlando injury profile: every number and what it rests on ------------------------------
# [carry these over when the injury-profile schema changes; nothing else in the plan is tuned]
#   victims 102 = 40 killed at the scene + 9 died before or upon arrival at ORMC + 53 survived
#     [OR1 paper; OR2]; the gunman is not counted.
#   killed outright: 40, all in the first wave -> 40 / 94 = 0.426 (the 8 hostages brought out
#     after 05:02 are a second incident with none killed outright) [derived].
#   immediate survivors 62 = 102 - 40.
#   hospitalised/admitted 34 = 29 at ORMC + 5 at a community hospital; 19 treated and
#     discharged the same day [OR1].
#   critical (ISS > 15 not published): the 9 who died on arrival + 6 still critical on day 4
#     [OR15] = 15 -> 15 / 62 = 0.24 [derived; assumption that these were the critical].
#   serious = admitted and not critical: 34 - 6 = 28 -> 28 / 62 = 0.45 [derived];
#     minor = the 19 discharged the same day, 19 / 62 = 0.31.
#   emergency surgery: 82 % of the admitted within 24 h [OR1] (26 operated on by noon
#     [OR18]): 0.9 of critical and 0.8 of serious survivors [assumption] give 0.9 x 6 +
#     0.8 x 28 = 28 = 82 % of 34.
#   penetrating: rifle and pistol gunshot wounds [OR3]; RPM weights as the built-in gunshot
#     profile [assumption].
ORLANDO_GUNFIRE = {
    "description": "Rifle and pistol fire inside a crowded nightclub (about 300 inside).",
    "immediate_death_share": 0.521,
    "critical_share": 0.13,
    "serious_share": 0.45,
    **GUNSHOT_RPM,
    "penetrating": True,
    "surgery_share_critical": 0.9,
    "surgery_share_serious": 0.8,
    "source": "Smith, Cheatham et al., J Trauma Acute Care Surg 2020;88:372 (OR1): 102 "
    "victims, 40 killed at the scene, 9 died on arrival, 34 admitted, 19 discharged, 82 % of "
    "admitted operated on in 24 h; mortally wounded 49/94 = the 40 + the 9, since all 35 who "
    "reached ORMC alive survived (OR2) [derived]; critical 6/45 = the 6 still critical on "
    "day 4 (OR15) of the 45 immediate survivors [derived; a floor]; surgery split and RPM "
    "weights [assumption]",
}
ORLANDO_HOSTAGES = {
    **ORLANDO_GUNFIRE,
    "description": "Hostages and wounded brought out of the club by SWAT after 05:02.",
    "immediate_death_share": 0.0,
}

ORLANDO = RegionPlan(
    file="orlando_pulse_nightclub_shooting.yaml",
    csv="orlando_2016.csv",
    hospital_fields={"arnold_palmer": {"accepts_adults": False}},  # [OR CSV]
    physiology={"mortal_wound_timing": "webster2021"},
    ids=[
        "ormc",
        "arnold_palmer",  # children only (accepts_adults: false below)
        "florida_hospital",
        "dr_phillips",
    ],
    row_overrides={
        # 6 trauma resuscitation bays [OR5]; one trauma surgeon on duty, six within an hour
        # of the first arrival [OR2, OR14].
        "ormc": {"resus_bays": "6", "teams_on_duty": "1", "teams_on_call": "5"},
    },
    name="Nightclub shooting with a hostage phase, Orlando (Pulse, 2016)",
    description=(
        "A gunman opened fire inside the Pulse nightclub in Orlando at 01:57 on a Sunday, then "
        "held hostages until SWAT stormed the club at 05:02. 49 killed and 53 injured; 44 "
        "victims reached Orlando Regional Medical Center, the Level I trauma centre 2,112 ft "
        "from the club, most carried there by police and EMS within the first 90 minutes. "
        "Travel times are straight-line approximations; station places and fleets are "
        "assumptions (see the file's header)."
    ),
    header=[
        "Nightclub shooting with a hostage phase, Orlando (Pulse nightclub, 12 Jun 2016)",
        "",
        "What it represents: shooting inside Pulse, 1912 S Orange Ave, from 01:57 EDT [OR3];",
        "police entered at 02:07 and the gunman barricaded himself with hostages until SWAT",
        "stormed the club at 05:02 [OR3]. Site 28.5196, -81.3768 [OR13]. Time 0 = 01:57.",
        "Victims 102 = 40 killed at the scene + 9 died before or upon arrival at ORMC + 53",
        "survivors [OR1]. Two incidents at the club: the shooting (94 casualties, onset 0) and",
        "the hostages brought out after 05:02 (8 casualties, onset 185 min, none killed",
        "outright) [assumption: ORMC had 38 of its 44 victims in the first ~1.5 h and all",
        "non-hostage victims by 04:00 [OR2], so 6 there plus ~2 elsewhere in the second wave].",
        "Injury mix (profiles pulse_gunfire, pulse_hostages): every number and its source is",
        "in ORLANDO_GUNFIRE in the tool: mortally wounded 49/94 (the 40 who died at the scene",
        "and the 9 who died before or upon arrival, since all 35 who reached ORMC alive",
        "survived [OR1, OR2]); each dies after a time drawn from Webster 2021's deaths of the",
        "killed in action (physiology.mortal_wound_timing: webster2021; docs/model.md), so the",
        "model decides who dies at the scene and who on the way; critical 13 % (the 6 still",
        "critical on day 4 [OR15], a floor) and serious 45 % of immediate survivors [derived",
        "from OR1, OR15]; surgery 0.9 / 0.8 [assumption: 82 % of admitted operated on in 24 h,",
        "OR1]; penetrating.",
        "Transport: police and EMS carried victims from a casualty collection point across the",
        "street to ORMC, two blocks away, in patrol vehicles and ambulances [OR17]:",
        "carried_by_bystanders_share 0.6 [assumption] sends that share of the non-walking",
        "casualties to the nearest hospital in private vehicles; half the walking wounded leave",
        "on their own (self_transport_share 0.5 [assumption]). Nobody left or was reached",
        "before police entered the club at 02:07, +10 min (access_delay_min 10; CALIBRATION.md",
        "§4, the ORMC surgeons' report [paper]).",
        "Hospitals: ORMC (Level I, 808 beds [OR3, OR4], 6 trauma resuscitation bays [OR5]; one",
        "trauma surgeon on duty, six within an hour [OR2, OR14]: teams 1 on duty + 5 on call),",
        "Florida Hospital Orlando (ED 50 rooms [OR10]) and Dr. P. Phillips (237 beds [OR11]).",
        "Arnold Palmer (children's Level I) takes children only (accepts_adults: false).",
        "Policy: destination quota as the EMS plan of the night [OR17]: trauma-alert patients",
        "(immediate, delayed) to ORMC, others to the non-trauma centres: ORMC immediate 60,",
        "delayed 60; Florida Hospital minor 40; Dr. P. Phillips minor 40 [assumption: caps].",
        "Stations [assumption]: 'nearly 100 EMS providers utilizing dozens of vehicles' [OR17]:",
        "24 ALS, 6 staged at the casualty collection point, 18 at three placeholder bases.",
        "Response: EMS alerted 5 min after the first shots [assumption]; ORMC's first call at",
        "02:04 [OR2] = hospital alert after 7 min.",
        "Check against: scenarios/records/orlando_pulse_nightclub_shooting.yaml (first patient",
        "at ORMC 02:14 = +17 min, 44 victims at ORMC [OR2]).",
    ],
    data_note=[
        "The hospital rows hold no patient counts; the real per-hospital counts are in",
        "scenarios/records/orlando_pulse_nightclub_shooting.yaml (mcsim validation).",
    ],
    incidents=[
        (
            Place("pulse", "Pulse nightclub, 1912 S Orange Ave", -81.3768, 28.5196),
            {
                "casualties": 94,
                "injury_profile": "pulse_gunfire",
                "child_share": 0.0,
                "access_delay_min": 10,
                "self_transport_share": 0.5,
                "carried_by_bystanders_share": 0.6,
            },
        ),
        (
            Place("pulse_hostages", "Pulse nightclub, after the SWAT assault", -81.3768, 28.5196),
            {
                "onset_min": 185,
                "casualties": 8,
                "injury_profile": "pulse_hostages",
                "child_share": 0.0,
                "self_transport_share": 0.0,
                "carried_by_bystanders_share": 0.6,
            },
        ),
    ],
    stations=[
        (
            "staging",
            "EMS at the casualty collection point across S Orange Ave",
            28.5200,
            -81.3762,
            6,
        ),
        ("downtown_base", "Placeholder base: Downtown Orlando", 28.5421, -81.3790, 6),
        ("east_base", "Placeholder base: east Orange County", 28.5500, -81.3000, 6),
        ("south_base", "Placeholder base: south Orlando", 28.4800, -81.4000, 6),
    ],
    profiles={"pulse_gunfire": ORLANDO_GUNFIRE, "pulse_hostages": ORLANDO_HOSTAGES},
    response={
        "alert_delay_min": 5,
        "hospital_alert_delay_min": 7,
        "triage_officers": 2,
        "paramedics": 6,
    },
    policies={
        "triage": "start",
        "dispatch": "priority",
        "destination": "quota",
        "params": {
            "destination": {
                "quota": {
                    "quotas": {
                        "ormc": {"immediate": 60, "delayed": 60},
                        "florida_hospital": {"minor": 40},
                        "dr_phillips": {"minor": 40},
                    }
                }
            }
        },
    },
)

# --------------------------------------------------------------------------------------------
# Paris and Saint-Denis, 13 November 2015. Source keys PA1... are listed in
# tests/data/regions/README.md. Time 0 = 21:16, the first explosion at the Stade de France.

# ---- Paris injury profiles: every number and what it rests on -------------------------------
# [carry these over when the injury-profile schema changes; nothing else in the plan is tuned]
#   deaths 130 = Stade de France 1 + Carillon/Petit Cambodge 15 + Bonne Bière/Casa Nostra 5 +
#     Belle Équipe 19 + Comptoir Voltaire 0 + Bataclan 90 [PA9, PA7]; of these 4 to 7 died
#     after reaching hospital [PA31, PA3: hospital mortality < 2 %]: killed outright 126 =
#     the Bataclan's 90 - 4 [assumption: the later deaths were Bataclan victims].
#   injured who reached hospital: 337 with physical injuries by 14 Nov 23:59 [PA1 paper];
#     per site: Stade 58 (59 victims [PA4] - 1 killed); terraces 81 (120 victims at five
#     places [PA4] - 39 killed), split 25 / 15 / 26 / 15 [assumption]; Bataclan the rest,
#     337 - 58 - 81 = 198 (+ the 4 later deaths = 202 immediate survivors) [derived], of
#     whom 60 are brought out after the assault at 00:18 [assumption].
#   critical = "urgence absolue": 99 of 352 wounded [PA32, prosecutor]; terraces 10 + 8 + 14
#     = 32 [PA8]; Stade 0.10 ("about ten injured" [PA30], 6 of 58) and Comptoir Voltaire 2
#     [assumption]; Bataclan the rest, 99 - 32 - 6 - 2 = 59 of 202 = 0.29 [derived].
#   hospitalised (critical + serious) 0.75 of immediate survivors [assumption; 53 of the
#     300 at AP-HP had left by 13:00 next day, PA6]: serious = 0.75 - critical per site.
#   emergency surgery: 181 of 337 = 54 % [PA1]: 0.8 of critical [assumption] and 0.65 of
#     serious, which gives 0.8 x 99 + 0.65 x 157 = 181 [derived].
#   penetrating: 85 % gunshot [PA1]; the Stade and Comptoir Voltaire suicide belts were
#     blast with shrapnel [PA9]. RPM weights as the built-in gunshot/blast profiles
#     [assumption].
PARIS_HOSPITALISED = 0.75
PARIS_SURGERY = {"surgery_share_critical": 0.8, "surgery_share_serious": 0.65}
# fmt: off
PARIS_SITES = [
    # id, place, lat, lon, onset_min, killed outright, injured, critical share, blast?,
    # self_transport_share (clock: onset 0 = 21:16)
    ("stade", "Stade de France (two entrances, a café nearby)",
     48.9244, 2.3600, 0, 1, 58, 0.10, True, 0.5),
    ("carillon", "Le Carillon / Le Petit Cambodge, rue Bichat",
     48.8722, 2.3664, 9, 15, 25, 0.40, False, 0.3),
    ("fontaine_au_roi", "À la Bonne Bière / Casa Nostra, rue de la Fontaine-au-Roi",
     48.8691, 2.3704, 16, 5, 15, 0.53, False, 0.3),
    ("belle_equipe", "La Belle Équipe, rue de Charonne",
     48.8537, 2.3815, 20, 19, 26, 0.54, False, 0.3),
    ("comptoir_voltaire", "Le Comptoir Voltaire, boulevard Voltaire",
     48.8508, 2.3925, 24, 0, 15, 0.13, True, 0.3),
    ("bataclan", "Bataclan, 50 boulevard Voltaire",
     48.8631, 2.3707, 24, 86, 142, 0.29, False, 0.5),
    ("bataclan_assault", "Bataclan, after the assault",
     48.8631, 2.3707, 182, 0, 60, 0.29, False, 0.0),
]
# fmt: on


def _paris_profile(killed: int, injured: int, critical: float, blast: bool) -> dict[str, Any]:
    """One site's injury profile from the PARIS_SITES row (shares rounded to 3 places)."""
    return {
        "description": "Suicide belt with shrapnel." if blast else "Assault-rifle fire.",
        "immediate_death_share": round(killed / (killed + injured), 3),
        "critical_share": critical,
        "serious_share": round(max(0.0, PARIS_HOSPITALISED - critical), 3),
        **(BLAST_RPM if blast else GUNSHOT_RPM),
        "penetrating": True,
        **PARIS_SURGERY,
        "source": "deaths and victims per site (PA4, PA8, PA9), 337 injured at hospital and "
        "54 % emergency surgery (Raux et al. 2019, PA1), urgence absolue per site (PA8, "
        "PA32); the per-site split, hospitalised share and RPM weights [assumption] (see "
        "tools/build_region_scenarios.py)",
    }


PARIS = RegionPlan(
    file="paris_november_2015_attacks.yaml",
    csv="paris_2015.csv",
    hospital_fields={"hotel_dieu": {"receives_ambulances": False}},  # no SAU since 2013 [PA34]
    # The victims were young: mean age 33 +- 7 of the 121 examined by the Paris forensic unit,
    # 64.5 % from the Bataclan [PA35]; 34 +- 8 of the 25 with chest wounds [PA36]. A uniform
    # 20-47 has mean 33.5 and sd 8.1 [derived], and leaves out the 55+ whom TRISS counts as
    # older (< 1 % at mean 33-34, sd 7-8).
    adult_age_range=(20, 47),
    age_note=[
        "Ages: adults 20-47, uniform: mean 33.5, sd 8.1 [derived] for the published 33 +- 7 of",
        "121 victims examined by the forensic unit [PA35] and 34 +- 8 of 25 with chest wounds",
        "[PA36].",
    ],
    ids=[
        "pitie_salpetriere",
        "hegp",
        "bicetre",
        "beaujon",
        "henri_mondor",
        "percy",
        "saint_louis",
        "saint_antoine",
        "lariboisiere",
        "bichat",
        "hotel_dieu",
        "begin",
        "avicenne",
        "delafontaine",
    ],
    name="Multi-site attacks, Paris and Saint-Denis (13 November 2015)",
    description=(
        "Three suicide bombings at the Stade de France from 21:16, shootings at café terraces "
        "in the 10th and 11th arrondissements from 21:25, and the massacre and hostage-taking "
        "at the Bataclan from 21:40 until the assault at 00:18, on a Friday night. 130 killed "
        "and 337 physically injured who reached hospital; the SAMU spread them over the AP-HP "
        "and military hospitals. 14 hospitals, the six TRAUMABASE trauma centres as level 1, "
        "the other university hospitals and Bégin as level 3. "
        "Travel times are straight-line approximations; station places and terrace "
        "coordinates are assumptions (see the file's header)."
    ),
    header=[
        "Multi-site terrorist attacks, Paris and Saint-Denis (13 Nov 2015)",
        "",
        "What it represents: seven incidents, time 0 = 21:16 (first explosion) [PA10]:",
        "  stade             Stade de France, 3 suicide bombs 21:16-21:53, onset 0 [PA10]",
        "  carillon          Le Carillon / Le Petit Cambodge, 21:25, onset 9 [PA10]",
        "  fontaine_au_roi   À la Bonne Bière / Casa Nostra, 21:32, onset 16 [PA10]",
        "  belle_equipe      La Belle Équipe, ~21:36, onset 20 [unverified time]",
        "  comptoir_voltaire suicide belt, ~21:40, onset 24 [unverified time]",
        "  bataclan          shooting from 21:40, onset 24 [PA2, PA7]",
        "  bataclan_assault  wounded hostages brought out after the assault at 00:18, onset",
        "                    182 [PA9; the count is an assumption, see below]",
        "Sites: Stade de France and Bataclan from Wikipedia [PA29]; the terrace coordinates are",
        "estimated from the street addresses [assumption, within ~150 m].",
        "Casualties 467 = 130 killed [PA7, PA9] + 337 physically injured who reached hospital",
        "[PA1]: per site killed outright / injured: 1/58, 15/25, 5/15, 19/26, 0/15, 86/142,",
        "0/60. Every number, its source and the split assumed are in PARIS_SITES in the tool:",
        "victims per site [PA4], deaths per site [PA9], 'urgence absolue' per terrace [PA8] and",
        "overall (99 of 352 [PA32]); 4 of the 90 Bataclan deaths counted as later hospital",
        "deaths (4-7 died after admission [PA31]) [assumption]; hospitalised 75 % of immediate",
        "survivors [assumption]; surgery 0.8 / 0.65 of critical / serious so that 54 % of 337",
        "need emergency surgery [PA1] [derived]; penetrating (85 % gunshot [PA1]).",
        "Self-transport: half the walking wounded at the Stade and the Bataclan leave on their",
        "own, 30 % at the terraces (several dozen fled to fire stations [PA4]) [assumption].",
        "Hospitals: 12 named as receiving casualties or held in reserve for them [PA5, PA6,",
        "PA13], plus Hôtel-Dieu and Delafontaine (the emergency department nearest the Stade)",
        "[assumption]. Hôtel-Dieu takes walk-in patients only (receives_ambulances: false): its",
        "emergency department closed in November 2013 [PA34]. The six TRAUMABASE trauma centres",
        "[PA3] (Pitié-Salpêtrière, HEGP, Bicêtre, Beaujon, Henri-Mondor, Percy: which six is",
        "[unverified]) are level 1; the other university hospitals and Bégin level 3 (the",
        "ACS description of a Level III centre fits them; Level IV's one resus bay did not),",
        "Hôtel-Dieu and Delafontaine level 4 [assumption: France does not grade trauma centres",
        "as the US does; reasons in tests/data/regions/README.md]. Beds from the",
        "sources in the CSV; where no site figure was found, Bichat 441 (Bichat and Beaujon's 905",
        "open beds [PA33] less Beaujon's) [derived], Saint-Louis, Lariboisière and Avicenne 550",
        "(the AP-HP mean: 22,000 beds over 40 hospitals [PA2]) and Percy 301 (Bégin's) [both",
        "assumption]. Lariboisière and Delafontaine coordinates estimated [assumption].",
        "Stations: the normal two-tier system, 200 BLS teams and 44 physician-staffed ALS teams",
        "[PA4], all committed [assumption: the number engaged was not found]; ALS at the four",
        "SAMU (Paris at Necker 20, 93 at Avicenne, 94 at Henri-Mondor, 92 at Beaujon, 8 each)",
        "and BLS at four placeholder BSPP bases (50 each) [assumption: places and split; the",
        "BSPP has 77 stations [PA4]]; BLS carry 2 (the tool's default) [assumption].",
        "Response: EMS alerted 3 min after onset (default); AP-HP's White Plan at 22:34 [PA2] =",
        "hospital alert after 78 min.",
        "Policy: destination balance: the SAMU regulated every transport and spread the",
        "patients so that no hospital was overwhelmed [PA5]; Beaujon, Bichat and Avicenne were",
        "kept in reserve [PA5] (policies.reserve: EMS convey there only when no other hospital",
        "is open; walk-in patients still come). The military hospitals Bégin and Percy are held",
        "the same way until 00:30 (+194, policies.reserve_until_min): the first ambulances",
        "reached Bégin at 00:30, its teams mobilised and waiting [PA14], about two hours after",
        "the first alert of the military hospitals [PA13]; Percy's first arrival was not found",
        "[assumption: the same minute, the testimony speaks of both hospitals together].",
        "Check against: scenarios/records/paris_november_2015_attacks.yaml.",
    ],
    data_note=[
        "The hospital rows hold no patient counts; the published per-hospital counts are in",
        "scenarios/records/paris_november_2015_attacks.yaml (mcsim validation).",
    ],
    incidents=[
        (
            Place(sid, name, lon, lat),
            {
                **({"onset_min": onset} if onset else {}),
                "casualties": killed + injured,
                "injury_profile": f"paris_{sid}",
                "child_share": 0.02,
                "self_transport_share": walk,
            },
        )
        for sid, name, lat, lon, onset, killed, injured, _, _, walk in PARIS_SITES
    ],
    stations=[
        ("samu75_necker", "SAMU de Paris (SMUR), Hôpital Necker", 48.8456, 2.3155, 20),
        ("samu93_avicenne", "SAMU 93 (SMUR), Hôpital Avicenne", 48.9144, 2.4239, 8),
        ("samu94_mondor", "SAMU 94 (SMUR), Hôpital Henri-Mondor", 48.7959, 2.4523, 8),
        ("samu92_beaujon", "SAMU 92 antenna (SMUR), Hôpital Beaujon", 48.9082, 2.3103, 8),
        ("bspp_centre", "Placeholder BSPP base: Paris centre", 48.8566, 2.3522, 0, 50),
        ("bspp_north", "Placeholder BSPP base: Paris north / Saint-Denis", 48.9000, 2.3600, 0, 50),
        ("bspp_east", "Placeholder BSPP base: Paris east", 48.8600, 2.4000, 0, 50),
        ("bspp_south_west", "Placeholder BSPP base: Paris south-west", 48.8350, 2.3000, 0, 50),
    ],
    profiles={
        f"paris_{sid}": _paris_profile(killed, injured, crit, blast)
        for sid, _, _, _, _, killed, injured, crit, blast, _ in PARIS_SITES
    },
    response={
        "alert_delay_min": 3,
        "hospital_alert_delay_min": 78,
        "triage_officers": 2,
        "paramedics": 8,
    },
    policies={
        "triage": "start",
        "dispatch": "priority",
        "destination": "balance",
        "reserve": ["beaujon", "bichat", "avicenne"],  # kept in reserve [PA5]
        # first ambulances at Bégin at 00:30 [PA14], ~2 h after the military hospitals' alert
        # [PA13]; Percy the same [assumption]
        "reserve_until_min": {"begin": 194, "percy": 194},
    },
)

PLANS = [LAS_VEGAS, MANCHESTER, BOSTON, ORLANDO, PARIS]


def main(argv: list[str]) -> int:
    """Write (or with ``--check`` compare) every real-region scenario."""
    check = "--check" in argv
    differ = []
    for plan in PLANS:
        text = build(plan)
        path = OUT / plan.file
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                differ.append(str(path))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    for d in differ:
        print(f"differs from the generator: {d}", file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
