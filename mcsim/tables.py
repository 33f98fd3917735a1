"""The written tables: their data dictionary, and the one conversion between memory and file.

Every table mcsim writes is described here, column by column (type, unit, meaning, and what a
null means); ``tools/gen_data_doc.py`` turns this into docs/data.md, and a test checks both that
the page is up to date and that real written files have exactly these columns and types.

In memory the model keeps the cheapest sentinels (``-1`` for "no vehicle", ``""`` for "no
hospital"), which the metrics code reads. On disk, where pandas, DuckDB, R and GIS tools read
the files directly, a missing value is a null: :func:`to_written` makes the file form,
:func:`from_written` turns a file back into the memory form (it also reads files written before
the change, whose sentinels pass through unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Column:
    """One column of a written table.

    Attributes:
        name: the column's name.
        type: its type on disk (Arrow/pandas: float64, float32, int64, int32, bool, category,
            string).
        unit: the unit, or how to read the value (an id, a share 0-1); "" when it has none.
        meaning: what it says.
        missing: when it is null ("" = never).
        sentinel: the in-memory stand-in for null (``-1``, ``""``), None if there is none.
        null_where: the name of another column whose null makes this one null too (a boolean
            has no spare value to stand for "not observed").
    """

    name: str
    type: str
    unit: str
    meaning: str
    missing: str = ""
    sentinel: Any = None
    null_where: str | None = None


@dataclass(frozen=True)
class Table:
    """A written table: where it is, what one row is, and its columns."""

    name: str
    files: str
    row: str
    columns: tuple[Column, ...]
    notes: str = ""

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        return next(c for c in self.columns if c.name == name)


_T = "simulated minutes since the start of the scenario"

EVENTS = Table(
    "events",
    "`RUN_DIR/events.parquet` (`mcsim run --out`, `exercise run --events`, `replay --out`)",
    "one state change of a patient, vehicle, staff member or hospital, in the order they happened",
    (
        Column("time_min", "float64", "min", f"when it happened, {_T}"),
        Column("seq", "int64", "", "position in the log; ties at one minute keep this order"),
        Column("kind", "category", "", "what happened (mcsim.enums.EventKind)"),
        Column("patient", "int32", "id", "the patient", "no patient", -1),
        Column("vehicle", "int32", "id", "the vehicle", "no vehicle", -1),
        Column("staff", "int32", "id", "the staff member", "no staff member", -1),
        Column("hospital", "category", "id", "the hospital (scenario id)", "no hospital", ""),
        Column("incident", "category", "id", "the incident (scenario id)", "no incident", ""),
        Column(
            "node",
            "int32",
            "node",
            "region node where it happened (a trip: its origin)",
            "no place",
            -1,
        ),
        Column("to_node", "int32", "node", "a trip's destination node", "not a departure", -1),
        Column("arrive_min", "float64", "min", f"a trip's arrival, {_T}", "not a departure"),
        Column(
            "tag",
            "category",
            "",
            "the patient's triage tag after the event",
            "no patient",
            "",
        ),
        Column(
            "state",
            "category",
            "",
            "the patient's (else vehicle's, staff's) state after it",
            "nobody's state changed",
            "",
        ),
        Column("rpm", "float32", "0-12", "the patient's true RPM score at the event", "no patient"),
        Column("detail", "string", "", "free text: why, or which resource", "no detail", ""),
    ),
)

PATIENTS = Table(
    "patients",
    "`RUN_DIR/patients.parquet`; a sweep's `_patients/batch-*.parquet` (with `run_id`, "
    "`cell_id`, `replication` first) when it stores patients",
    "one casualty: true state, what responders observed, what happened, the outcome",
    (
        Column("patient", "int32", "id", "the patient (as in events)"),
        Column("incident", "category", "id", "the incident that injured them"),
        Column("severity", "category", "", "true injury class (mcsim.enums.Severity)"),
        Column(
            "critical",
            "bool",
            "",
            "truly critical (SCIENCE.md: the denominator of critical mortality)",
        ),
        Column("immediate_survivor", "bool", "", "alive after the incident (RPM at injury > 0)"),
        Column("age", "int32", "years", "age"),
        Column("penetrating", "bool", "", "penetrating (not blunt) injury"),
        Column("needs_surgery", "bool", "", "definitive care is an operation"),
        Column("iss", "int32", "1-75", "true Injury Severity Score"),
        Column("haemorrhage", "bool", "", "a bleeding injury: the bleeding clock runs"),
        Column("bleed_controlled", "bool", "", "a tourniquet holds a limb bleed (at the end)"),
        Column(
            "care_need",
            "category",
            "",
            "what the injuries need from a hospital (mcsim.enums.CareNeed: the care pathway)",
        ),
        Column("rpm0", "int32", "0-12", "true RPM score at injury"),
        Column("rr0", "int32", "breaths/min", "true respiratory rate at injury"),
        Column("pulse0", "int32", "beats/min", "true pulse at injury"),
        Column("sbp0", "int32", "mmHg", "true systolic blood pressure at injury"),
        Column("gcs0", "int32", "3-15", "true Glasgow Coma Scale at injury"),
        Column("walking0", "bool", "", "able to walk at injury"),
        Column(
            "obs_rr",
            "int32",
            "breaths/min",
            "respiratory rate as measured at triage",
            "never triaged",
            -1,
        ),
        Column(
            "obs_pulse", "int32", "beats/min", "pulse as measured at triage", "never triaged", -1
        ),
        Column(
            "obs_sbp",
            "int32",
            "mmHg",
            "systolic pressure as measured at triage",
            "never triaged",
            -1,
        ),
        Column("obs_gcs", "int32", "3-15", "GCS as assessed at triage", "never triaged", -1),
        Column(
            "obs_walking",
            "bool",
            "",
            "seen walking at triage",
            "never triaged",
            null_where="obs_rr",
        ),
        Column("tag", "category", "", "last triage tag (mcsim.enums.TriageTag)"),
        Column("triaged_min", "float64", "min", f"first triage, {_T}", "never triaged"),
        Column("left_scene_min", "float64", "min", f"left the scene, {_T}", "never left it"),
        Column(
            "leave_mode",
            "category",
            "",
            "how they left: ambulance, self, bystander",
            "never left the scene",
            "",
        ),
        Column("vehicle", "int32", "id", "the ambulance that carried them", "no ambulance", -1),
        Column(
            "hospital",
            "category",
            "id",
            "the hospital they are at in the end (scenario id; after any transfer)",
            "reached none",
            "",
        ),
        Column(
            "first_hospital",
            "category",
            "id",
            "the hospital they first reached, before any transfer",
            "reached none",
            "",
        ),
        Column("hospital_arrival_min", "float64", "min", f"hospital arrival, {_T}", "reached none"),
        Column(
            "definitive_care_min",
            "float64",
            "min",
            f"definitive care began, {_T}",
            "never received it",
        ),
        Column(
            "rpm_at_care",
            "float64",
            "0-12",
            "true RPM when definitive care began",
            "never received it",
        ),
        Column(
            "p_survival",
            "float64",
            "probability",
            "survival probability given the care received (0 for deaths before definitive care)",
            "not resolved",
        ),
        Column("death_min", "float64", "min", f"death, {_T}", "did not die"),
        Column(
            "death_place",
            "category",
            "",
            "where they died: scene, transport, hospital",
            "did not die",
            "",
        ),
        Column("outcome", "category", "", "survived, died or unresolved at the horizon"),
        Column(
            "untreated_death_min",
            "float64",
            "min",
            f"when they would die untreated, {_T}",
            "would survive untreated",
        ),
        Column("state", "category", "", "state at the end (mcsim.enums.PatientState)"),
        Column(
            "u_survival",
            "float64",
            "0-1",
            "the patient's frailty draw: survives iff below p_survival",
        ),
    ),
)

SWEEP_RUNS = Table(
    "sweep runs",
    "`SWEEP_DIR/runs/batch-*.parquet`; `pd.read_parquet(SWEEP_DIR)` or "
    "`mcsim.sweep.read_runs(SWEEP_DIR)` reads them as one table",
    "one run of a sweep (a cell and a replication)",
    (
        Column("sweep_id", "string", "id", "the sweep (hash of its normalised content)"),
        Column("run_id", "int64", "id", "the run, 0..n_runs-1"),
        Column("cell_id", "int64", "id", "the cell (one combination of factor values)"),
        Column("scenario", "string", "", "label of the base scenario (its file's stem)"),
        Column("replication", "int64", "", "replication number in the cell"),
        Column(
            "seed",
            "int64",
            "",
            "the run's seed: base_seed + replication (common random numbers across cells)",
        ),
        Column("policy.triage", "string", "", "triage policy of the run"),
        Column("policy.dispatch", "string", "", "dispatch policy of the run"),
        Column("policy.destination", "string", "", "destination policy of the run"),
    ),
    notes="Between `seed` and the policies come the factor columns, one per factor, named by "
    "its scenario field path (`stations[0].vehicles[0].count`; int64, float64, bool, or string "
    "for anything else, JSON-encoded). After the policies come the metrics, float64, one column "
    "per number of `metrics.json`, nested keys joined with dots "
    "(`time_to_hospital_min.immediate.median`, `hospitals.riverside.patients`); a metric that is "
    "undefined for a run (no critical casualty) is null. Every batch file has the same "
    "columns, so that dataset readers (pandas, pyarrow, DuckDB, Polars) read the folder as one "
    "table; `_manifest.json` (what the sweep is) and `_patients/` sit beside them under names "
    "those readers skip.",
)

METRICS = Table(
    "metrics",
    "`RUN_DIR/metrics.json` (and `mcsim run --json`); times in minutes from the onset of the "
    "patient's incident",
    "a JSON object: one key per metric (SCIENCE.md §5 defines them)",
    (
        Column("casualties", "int", "patients", "everyone injured"),
        Column("deaths", "int", "patients", "deaths within the horizon (the next three summed)"),
        Column("immediate_deaths", "int", "patients", "killed outright"),
        Column("deaths_prehospital", "int", "patients", "died at the scene or in transport"),
        Column("deaths_in_hospital", "int", "patients", "died at a hospital"),
        Column("expected_survivors", "float", "patients", "sum of survival probabilities"),
        Column(
            "expected_deaths",
            "float",
            "patients",
            "deaths recorded plus those still to come (1 - survival probability of the rest)",
        ),
        Column("critical", "int", "patients", "true critical immediate survivors"),
        Column("critical_deaths", "int", "patients", "of whom died"),
        Column(
            "critical_mortality",
            "float",
            "share 0-1",
            "critical_deaths / critical",
            "no critical casualty",
        ),
        Column(
            "overtriage_rate",
            "float",
            "share 0-1",
            "tagged immediate but not critical, among the tagged immediate",
            "nobody tagged immediate",
        ),
        Column(
            "undertriage_rate",
            "float",
            "share 0-1",
            "critical but not tagged immediate, among those not tagged immediate",
            "nobody triaged otherwise",
        ),
        Column(
            "first_hospital_arrival_min",
            "float",
            "min",
            "first patient at a hospital",
            "nobody reached one",
        ),
        Column(
            "scene_clear_min",
            "float",
            "min",
            "the last patient left the scene",
            "someone is still there at the horizon",
        ),
        Column(
            "time_to_hospital_min",
            "object",
            "min",
            "{tag: {median, p90, n}} of hospital arrival, for each tag that has any",
        ),
        Column(
            "time_to_definitive_care_min",
            "object",
            "min",
            "{tag: {median, p90, n}} of definitive care",
        ),
        Column(
            "critical_definitive_care_60min_share",
            "float",
            "share 0-1",
            "critical patients in definitive care within 60 min",
            "no critical casualty",
        ),
        Column(
            "ambulance_utilization",
            "float",
            "share 0-1",
            "fleet-minutes away from the station until the last ambulance hospital arrival",
        ),
        Column("self_transported", "int", "patients", "left by themselves or with bystanders"),
        Column("unresolved", "int", "patients", "alive and not in definitive care at the horizon"),
        Column(
            "hospitals",
            "object",
            "",
            "{hospital id: {patients, critical, peak_critical_per_hour, deaths}}",
        ),
        Column(
            "provenance",
            "object",
            "",
            "metrics.json only: what produced the run — "
            "mcsim_version, scenario (its name), scenario_file, scenario_sha256 (of its "
            "validated content), seed, policies {triage, dispatch, destination}, "
            "policy_params (the scenario's policies.params)",
        ),
    ),
    notes="Further keys may follow the ones listed; `mcsim run --json` prints the same object "
    "without `provenance`.",
)

COMPARE_RUNS = Table(
    "comparison runs",
    "`OUT/runs.parquet` of `mcsim compare --out OUT` (`mcsim.compare.compare_runs`)",
    "one run: a policy combination and a replication",
    (
        Column("combination", "int64", "id", "the policy combination; 0 is the baseline"),
        Column("triage", "string", "", "triage policy"),
        Column("dispatch", "string", "", "dispatch policy"),
        Column("destination", "string", "", "destination policy"),
        Column("replication", "int64", "", "replication number"),
        Column(
            "seed",
            "int64",
            "",
            "the run's seed: base seed + replication, the same in every "
            "combination (common random numbers)",
        ),
    ),
    notes="Then one float64 column per compared metric (`--metric`; metrics above), null when "
    "undefined for the run.",
)

COMPARE_SUMMARY = Table(
    "comparison summary",
    "`OUT/summary.csv` of `mcsim compare --out OUT` (`mcsim.compare.summarize`); the same "
    "records are `results` in `OUT/compare.json` and in `mcsim compare --json`",
    "one policy combination and metric",
    (
        Column("combination", "int64", "id", "the policy combination; 0 is the baseline"),
        Column("triage", "string", "", "triage policy"),
        Column("dispatch", "string", "", "dispatch policy"),
        Column("destination", "string", "", "destination policy"),
        Column("metric", "string", "", "the metric (its unit is in its name, see metrics)"),
        Column("n", "int64", "runs", "replications with a defined value"),
        Column("mean", "float64", "metric", "mean over the replications", "n = 0"),
        Column("sd", "float64", "metric", "standard deviation", "n < 2"),
        Column("ci_low", "float64", "metric", "95 % Student-t interval, low end", "n < 2"),
        Column("ci_high", "float64", "metric", "95 % Student-t interval, high end", "n < 2"),
        Column("diff_n", "int64", "runs", "replication pairs with the baseline"),
        Column(
            "diff_mean", "float64", "metric", "mean paired difference to combination 0", "no pair"
        ),
        Column(
            "diff_ci_low", "float64", "metric", "its 95 % interval, low end", "fewer than 2 pairs"
        ),
        Column(
            "diff_ci_high", "float64", "metric", "its 95 % interval, high end", "fewer than 2 pairs"
        ),
    ),
)

_CRS = "`EPSG:4326` (x longitude, y latitude, degrees) or `local_km` (km on a local plane)"
_XY = (
    Column("x", "float64", "deg or km", "longitude (EPSG:4326) or easting in km (local_km)"),
    Column("y", "float64", "deg or km", "latitude (EPSG:4326) or northing in km (local_km)"),
    Column("crs", "category", "", f"what x and y are: {_CRS}"),
)

NODES = Table(
    "nodes",
    "`RUN_DIR/nodes.parquet` (`mcsim run --out`, `exercise run --events`, `replay --out`)",
    "one node of the region's road graph, in node-number order",
    (
        Column("node", "int32", "node", "the node number that events' `node`/`to_node` use"),
        Column("name", "string", "id", "the node's id in the scenario (`stadium`, `r3c4`)"),
        Column("kind", "category", "", "junction, incident_site, hospital or ambulance_station"),
        *_XY,
    ),
)

PLACES = Table(
    "places",
    "`RUN_DIR/places.parquet`, beside nodes.parquet",
    "one hospital, ambulance station or incident of the scenario",
    (
        Column("place", "category", "", "hospital, ambulance_station or incident"),
        Column("id", "string", "id", "the scenario's id (as in events' `hospital`, `incident`)"),
        Column("name", "string", "", "its name in the scenario", "the scenario gives none"),
        Column("node", "int32", "node", "the region node it sits at"),
        *_XY,
        Column("trauma_level", "int32", "1-4", "trauma level (1 highest)", "not a hospital"),
        Column("vehicles", "int32", "vehicles", "vehicles based there", "not a station"),
        Column("casualties", "int32", "patients", "casualties of the incident", "not an incident"),
        Column("onset_min", "float64", "min", f"the incident's onset, {_T}", "not an incident"),
    ),
)

_EXPORTED = "`mcsim export RUN_DIR` (layer or file of that name)"

EXPORT_HOSPITALS = Table(
    "export: hospitals",
    _EXPORTED,
    "one hospital, a point",
    (
        Column("id", "string", "id", "the hospital (scenario id)"),
        Column("name", "string", "", "its name", "the scenario gives none"),
        Column("node", "int32", "node", "its region node"),
        Column("trauma_level", "int32", "1-4", "trauma level (1 highest)"),
        Column("patients", "int64", "patients", "incident patients who reached it"),
        Column("critical", "int64", "patients", "of them truly critical (ISS > 15)"),
        Column("deaths", "int64", "patients", "of them died there"),
        Column("peak_critical_per_hour", "int64", "patients/h", "most critical arrivals in 60 min"),
        Column("peak_present", "int64", "patients", "most incident patients inside at once"),
        *_XY,
    ),
)

EXPORT_HOSPITAL_LOAD = Table(
    "export: hospital_load",
    _EXPORTED,
    "one hospital at one minute, every `--step-min` (15) from 0 to the horizon, a point "
    "(QGIS's temporal controller animates it on `time_min`)",
    (
        Column("hospital", "string", "id", "the hospital"),
        Column("time_min", "float64", "min", f"the minute, {_T}"),
        Column(
            "present",
            "int64",
            "patients",
            "incident patients inside then (arrived, not yet discharged, transferred or dead)",
        ),
        Column("arrivals", "int64", "patients", "arrivals since the previous row"),
        Column("arrived_total", "int64", "patients", "arrivals up to this minute"),
        *_XY,
    ),
)

EXPORT_SCENES = Table(
    "export: scenes",
    _EXPORTED,
    "one incident's scene, a point",
    (
        Column("id", "string", "id", "the incident (scenario id)"),
        Column("node", "int32", "node", "its region node"),
        Column("onset_min", "float64", "min", f"onset, {_T}"),
        Column("casualties", "int64", "patients", "casualties"),
        Column("deaths_at_scene", "int64", "patients", "of them died at the scene"),
        Column(
            "last_left_min",
            "float64",
            "min",
            f"the last casualty left the scene, {_T}",
            "nobody left it",
        ),
        *_XY,
    ),
)

EXPORT_STATIONS = Table(
    "export: stations",
    _EXPORTED,
    "one ambulance station, a point",
    (
        Column("id", "string", "id", "the station (scenario id)"),
        Column("name", "string", "", "its name", "the scenario gives none"),
        Column("node", "int32", "node", "its region node"),
        Column("vehicles", "int32", "vehicles", "vehicles based there"),
        *_XY,
    ),
)

EXPORT_TRIPS = Table(
    "export: trips",
    _EXPORTED,
    "one trip (an event-log row with a destination: vehicles, staff and patients driving "
    "themselves), a straight line from its origin to its destination node",
    (
        Column("seq", "int64", "", "the departure's row in the event log"),
        Column("kind", "string", "", "the departure event (dispatched, depart_scene, ...)"),
        Column("vehicle", "int32", "id", "the vehicle", "not a vehicle trip"),
        Column("staff", "int32", "id", "the staff member", "not a staff trip"),
        Column("patient", "int32", "id", "the patient on board or driving", "no patient"),
        Column("hospital", "string", "id", "the hospital involved", "none"),
        Column("incident", "string", "id", "the incident involved", "none"),
        Column("from_node", "int32", "node", "origin node"),
        Column("to_node", "int32", "node", "destination node"),
        Column("depart_min", "float64", "min", f"departure, {_T}"),
        Column(
            "arrive_min",
            "float64",
            "min",
            f"planned arrival, {_T} (a trip redirected or "
            "ended by a death stops earlier: see the event log)",
        ),
        Column("x_from", "float64", "deg or km", "origin x"),
        Column("y_from", "float64", "deg or km", "origin y"),
        Column("x_to", "float64", "deg or km", "destination x"),
        Column("y_to", "float64", "deg or km", "destination y"),
        Column("crs", "category", "", f"what the coordinates are: {_CRS}"),
    ),
    notes="The line joins the two ends; the road path taken is not stored in the run folder, "
    "so the line shows where a trip went, not the roads it used. In GeoJSON and GeoPackage "
    "the coordinates are also the geometry (EPSG:4326 for longitude/latitude regions, no CRS "
    "for local_km ones); in CSV a `wkt` column holds it.",
)

#: The layers ``mcsim export`` writes, by layer name.
EXPORT_LAYERS = {
    "hospitals": EXPORT_HOSPITALS,
    "hospital_load": EXPORT_HOSPITAL_LOAD,
    "scenes": EXPORT_SCENES,
    "stations": EXPORT_STATIONS,
    "trips": EXPORT_TRIPS,
}

SENSITIVITY_INDICES = Table(
    "sensitivity indices",
    "`OUT/indices.parquet` of `mcsim sensitivity --out OUT` "
    "(`mcsim.uncertainty.sensitivity.SensitivityResult.table`); the same ranking is "
    "`indices` in `OUT/indices.json`",
    "one parameter, most important first",
    (
        Column("rank", "int64", "", "1 = most important (Sobol: largest ST; Morris: largest mu*)"),
        Column("name", "string", "", "the parameter (`mcsim params`)"),
        Column("method", "string", "", "`sobol` or `morris`"),
        Column("s1", "float64", "share", "Sobol first-order index", "method morris"),
        Column("s1_conf", "float64", "share", "half-width of its 95 % interval", "method morris"),
        Column("st", "float64", "share", "Sobol total index", "method morris"),
        Column("st_conf", "float64", "share", "half-width of its 95 % interval", "method morris"),
        Column(
            "mu_star",
            "float64",
            "metric",
            "Morris mean absolute elementary effect over the prior's range",
            "method sobol",
        ),
        Column(
            "mu_star_conf", "float64", "metric", "half-width of its 95 % interval", "method sobol"
        ),
        Column("mu", "float64", "metric", "Morris mean elementary effect", "method sobol"),
        Column("sigma", "float64", "metric", "spread of the elementary effects", "method sobol"),
    ),
)

SENSITIVITY_RUNS = Table(
    "sensitivity runs",
    "`OUT/runs.parquet` of `mcsim sensitivity --out OUT` "
    "(`mcsim.uncertainty.simulator.SimulationModel.runs_table`)",
    "one run: a design point and a seed",
    (
        Column("point", "int64", "id", "the design point (SALib's design order)"),
        Column(
            "seed",
            "int64",
            "",
            "the run's seed: the same seeds at every point (common random numbers)",
        ),
    ),
    notes="Then one float64 column per analysed parameter (its value at the point, in its "
    "unit) and one float64 column named after the metric.",
)

#: Every table, in the order docs/data.md lists them.
TABLES = (
    EVENTS, PATIENTS, NODES, PLACES, METRICS, SWEEP_RUNS, COMPARE_RUNS, COMPARE_SUMMARY,
    SENSITIVITY_INDICES, SENSITIVITY_RUNS, *EXPORT_LAYERS.values(),
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Memory ↔ file


def to_written(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """The file form of an in-memory table: each column's sentinel becomes a null.

    Integer columns with a sentinel become nullable (``Int32``), categoricals lose their ``""``
    category; columns the dictionary does not know (``run_id`` in front of a sweep's patients)
    pass through unchanged.
    """
    import pandas as pd

    out = df.copy()
    for col in table.columns:
        if col.name not in out.columns:
            continue
        s = out[col.name]
        if col.null_where is not None and col.null_where in df.columns:
            other = table.column(col.null_where)
            out[col.name] = s.astype("boolean").mask(_is(df[col.null_where], other.sentinel))
        elif col.sentinel is None:
            continue
        elif isinstance(s.dtype, pd.CategoricalDtype):
            if col.sentinel in s.cat.categories:
                out[col.name] = s.cat.remove_categories([col.sentinel])
        elif col.type == "category":  # plain strings (batches concatenated, say)
            out[col.name] = s.mask(_is(s, col.sentinel)).astype("category")
        elif col.type == "string":
            out[col.name] = s.astype("string").mask(_is(s, col.sentinel))
        else:
            out[col.name] = s.astype(col.type.capitalize()).mask(_is(s, col.sentinel))
    return out


def _is(s: pd.Series, value: Any) -> pd.Series:
    """``s == value`` with False where ``s`` is already null (so the conversion is idempotent)."""
    return (s == value).fillna(False).astype(bool)


def from_written(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """The memory form of a table read from a file (:func:`to_written` undone)."""
    import numpy as np
    import pandas as pd

    out = df.copy()
    for col in table.columns:
        if col.name not in out.columns:
            continue
        s = out[col.name]
        if col.null_where is not None:
            out[col.name] = s.fillna(False).astype(bool)
        elif col.sentinel is None:
            continue
        elif isinstance(s.dtype, pd.CategoricalDtype):
            if s.isna().any():
                cats = [col.sentinel, *[c for c in s.cat.categories if c != col.sentinel]]
                s = s.cat.set_categories(sorted(cats))
                out[col.name] = s.fillna(col.sentinel)
        elif col.type == "string":
            out[col.name] = s.fillna(col.sentinel).astype("string")
        else:
            out[col.name] = s.fillna(col.sentinel).to_numpy(dtype=np.dtype(col.type))
    return out


def write_table(df: pd.DataFrame, table: Table, path: str | Path) -> None:
    """Write ``df`` (memory form) as Parquet in its file form."""
    to_written(df, table).to_parquet(path, index=False)


def read_table(path: str | Path, table: Table) -> pd.DataFrame:
    """Read a Parquet file of ``table`` back into the memory form."""
    import pandas as pd

    return from_written(pd.read_parquet(path), table)
