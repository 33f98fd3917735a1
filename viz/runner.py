"""From the set-up panel to a finished run: scenario edits, uploads, runs with progress.

The set-up panel's knobs (casualty count, ambulances per station, hospital capacity, call-in
delay) are applied to the scenario's data and the result is validated again by
:func:`mcsim.scenario.parse_scenario`, so the app can never run a scenario the command line
would refuse. A run is the ordinary :class:`mcsim.MCIModel`, advanced in slices of simulated
time so that progress can be reported and a superseded run abandoned; slicing does not change
the event log (events are processed in the same order either way).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mcsim.errors import InputError
from mcsim.model import MCIModel
from mcsim.records import RunResult
from mcsim.scenario import BED_RESOURCES, STAFF_COUNTS, Scenario, load_scenario, parse_scenario
from mcsim.simulate import default_scenario_path, scenarios_dir
from viz.state import Replay

#: Hospital capacities scaled by the capacity multiplier (teams on duty and on call included).
#: What the capacity multiplier scales: every place and staff count of a hospital entry (the
#: schema's lists), plus any further ``resources:`` entry a study adds.
CAPACITY_FIELDS = (*BED_RESOURCES, *STAFF_COUNTS)
OCCUPIED_FIELDS = BED_RESOURCES


def shipped_scenarios() -> dict[str, Path]:
    """Scenario name (file stem) → path, for every YAML file in the shipped folder."""
    folder = scenarios_dir()
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    out = {p.stem: p for p in files}
    default = default_scenario_path()
    # the default first, so that the selector opens on it
    return {default.stem: default, **{k: v for k, v in out.items() if k != default.stem}}


def scenario_title(name: str) -> str:
    """A shipped scenario's title (its top-level ``name`` field), or the file stem.

    Read from the file's top-level ``name:`` line only (cached per file version), so listing
    the titles costs no scenario validation; a file without one keeps its stem.
    """
    path = shipped_scenarios().get(name)
    if path is None:
        return name
    try:
        return _title_of(path, path.stat().st_mtime_ns) or name
    except OSError:
        return name


@functools.lru_cache(maxsize=64)
def _title_of(path: Path, _mtime_ns: int) -> str:
    import yaml

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("name:"):
            try:
                value = yaml.safe_load(line).get("name")
            except yaml.YAMLError:
                return ""
            return str(value).strip() if value else ""
    return ""


def fleet_meaning(scenario: Scenario, factor: float) -> str:
    """What the ambulance multiplier means for this scenario, e.g. "× 1.5: 27 vehicles (18)"."""
    base = sum(g.count for st in scenario.stations for g in st.vehicles)
    scaled = sum(_scaled(g.count, factor) for st in scenario.stations for g in st.vehicles)
    return f"× {factor:g}: {scaled} vehicles ({base} in the scenario)"


def capacity_meaning(scenario: Scenario, factor: float) -> str:
    """What the capacity multiplier means: treatment places for incident patients at onset."""
    base = sum(surge_capacity(scenario).values())
    if factor == 1.0:
        return f"× 1: {base} free treatment places at onset (the scenario's)"
    try:
        scaled = sum(surge_capacity(apply_setup(scenario, SetUp(capacity_factor=factor))).values())
    except InputError:
        return f"× {factor:g}"
    return f"× {factor:g}: {scaled} free treatment places at onset ({base} in the scenario)"


def load_shipped(name: str) -> Scenario:
    """A shipped scenario by file stem."""
    paths = shipped_scenarios()
    if name not in paths:
        raise InputError(f"unknown scenario {name!r}; shipped: {', '.join(paths)}")
    return load_scenario(paths[name])


def parse_upload(name: str, data: bytes) -> Scenario:
    """Validate an uploaded scenario file; every problem is one :class:`InputError`.

    Read as the command line reads files (:mod:`mcsim.safeio`): bounded in size, nesting and
    values.
    """
    from mcsim.safeio import parse_yaml, upload_text

    return parse_scenario(parse_yaml(upload_text(name, data), file=name), file=name)


@dataclass(frozen=True)
class SetUp:
    """The set-up panel's choices.

    Attributes:
        casualties: total casualties (shared among incidents in their proportions); None keeps
            the scenario's.
        ambulance_factor: multiplies every station's vehicle counts (rounded, at least 0).
        capacity_factor: multiplies every hospital's capacities and pre-incident occupancy.
        callin_delay_min: every hospital's call-in delay; None keeps the scenario's.
        seed: the run's seed.
        triage, dispatch, destination: policy names; None keeps the scenario's.
        reserve: hospital ids held in reserve (``policies.reserve``: EMS convey there only
            when no other hospital is open); None keeps the scenario's, () holds none. A
            hospital listed here is held all run, whatever minute the scenario's
            ``policies.reserve_until_min`` gave it; the scenario's other timed holds stay.
    """

    casualties: int | None = None
    ambulance_factor: float = 1.0
    capacity_factor: float = 1.0
    callin_delay_min: float | None = None
    seed: int = 0
    triage: str | None = None
    dispatch: str | None = None
    destination: str | None = None
    reserve: tuple[str, ...] | None = None

    def policies(self) -> dict[str, str | None]:
        """The policy overrides as keyword arguments of :class:`MCIModel`."""
        return {"triage": self.triage, "dispatch": self.dispatch, "destination": self.destination}


#: The set-up panel's typed fields: key -> (label shown, type, lowest value, may be empty).
ENTRY_FIELDS: dict[str, tuple[str, type, float, bool]] = {
    "casualties": ("Casualties", int, 1, True),
    "callin_delay_min": ("Call-in delay (min)", float, 0.0, True),
    "seed": ("Seed", int, 0, False),
}
#: The largest casualty count the panel accepts (the scenario schema's bound per incident).
MAX_CASUALTIES = 1_000_000


class SetupInvalid(InputError):
    """One or more typed set-up fields cannot be used; ``problems`` maps field key → message.

    The message names every bad field by the label the panel shows, so the user knows which
    box to fix; nothing runs until they are all fixed (issue 13, defect 5).
    """

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        text = "; ".join(f"{ENTRY_FIELDS[k][0]}: {m}" for k, m in self.problems.items())
        super().__init__(f"not run: {text}")


def entry_problem(key: str, text: str | None) -> str:
    """Why the text typed in field ``key`` cannot be used ("" when it can)."""
    try:
        _read_entry(key, text)
    except ValueError as exc:
        return str(exc)
    return ""


def _read_entry(key: str, text: str | None) -> Any:
    label, typ, low, optional = ENTRY_FIELDS[key]
    raw = (text or "").strip()
    if raw == "":
        if optional:
            return None
        raise ValueError("a value is needed")
    try:
        num = float(raw)
    except ValueError:
        what = "a whole number" if typ is int else "a number"
        raise ValueError(f"{what} is needed, not {raw!r}") from None
    if not math.isfinite(num):
        raise ValueError(f"a finite number is needed, not {raw!r}")
    if typ is int and num != int(num):
        raise ValueError(f"a whole number is needed, not {raw!r}")
    if num < low:
        raise ValueError(f"{low:g} or more is needed, not {raw}")
    if key == "casualties" and num > MAX_CASUALTIES:
        raise ValueError(f"at most {MAX_CASUALTIES:,} is allowed, not {raw}")
    return int(num) if typ is int else num


def read_entries(base: SetUp, entries: dict[str, str], n_incidents: int = 1) -> SetUp:
    """``base`` with the panel's typed fields read from ``entries`` (key → text as typed).

    A key missing from ``entries`` keeps ``base``'s value; an empty optional field means "the
    scenario's". Nothing is clamped or guessed: a bad value raises.

    Raises:
        SetupInvalid: naming every field that cannot be used, with why.
    """
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for key in ENTRY_FIELDS:
        if key not in entries:
            continue
        try:
            values[key] = _read_entry(key, entries[key])
        except ValueError as exc:
            problems[key] = str(exc)
    cas = values.get("casualties", base.casualties)
    if "casualties" not in problems and cas is not None and cas < n_incidents:
        problems["casualties"] = (
            f"at least {n_incidents} are needed (one per incident), not {cas}"
        )
    if problems:
        raise SetupInvalid(problems)
    return replace(base, **values)


def _scaled(n: int, factor: float) -> int:
    return max(0, int(math.floor(n * factor + 0.5)))


def apply_setup(scenario: Scenario, setup: SetUp) -> Scenario:
    """``scenario`` with the set-up's knobs applied, validated again.

    Raises:
        InputError: the edited scenario is invalid (e.g. a negative multiplier).
    """
    if setup.ambulance_factor < 0 or setup.capacity_factor < 0:
        raise InputError("multipliers must be 0 or more", path="set-up")
    data: dict[str, Any] = scenario.model_dump(mode="json", by_alias=True)
    if setup.casualties is not None:
        incs = data["incidents"]
        if setup.casualties < len(incs):
            raise InputError(
                f"at least {len(incs)} are needed (one per incident), not {setup.casualties}",
                path="set-up.casualties",
            )
        total = sum(i["casualties"] for i in incs)
        remaining = int(setup.casualties)
        for k, inc in enumerate(incs):
            if k == len(incs) - 1:
                inc["casualties"] = remaining
            else:
                share = int(round(setup.casualties * inc["casualties"] / total))
                # every incident keeps at least one casualty, and leaves one for each after it
                share = min(max(1, share), remaining - (len(incs) - 1 - k))
                inc["casualties"] = share
                remaining -= share
    if setup.ambulance_factor != 1.0:
        for st in data["stations"]:
            for group in st["vehicles"]:
                group["count"] = _scaled(group["count"], setup.ambulance_factor)
    if setup.capacity_factor != 1.0:
        for h in data["hospitals"]:
            for f in CAPACITY_FIELDS:
                if h.get(f) is not None:  # optional staff counts left to their default
                    h[f] = _scaled(h[f], setup.capacity_factor)
            for name, count in h.get("resources", {}).items():
                h["resources"][name] = _scaled(count, setup.capacity_factor)
            h["ed_beds"] = max(1, h["ed_beds"])  # the schema needs at least one ED bed
            for f in OCCUPIED_FIELDS:
                h["occupied"][f] = min(h[f], _scaled(h["occupied"][f], setup.capacity_factor))
    if setup.callin_delay_min is not None:
        for h in data["hospitals"]:
            h["callin_delay_min"] = float(setup.callin_delay_min)
    if setup.reserve is not None:
        data["policies"]["reserve"] = list(setup.reserve)
        # held all run now: a hold until a minute (policies.reserve_until_min) would contradict it
        until = data["policies"].get("reserve_until_min") or {}
        data["policies"]["reserve_until_min"] = {
            h: t for h, t in until.items() if h not in setup.reserve
        }
    return parse_scenario(data, file="set-up")


def surge_capacity(scenario: Scenario) -> dict[str, int]:
    """Free places for incident patients per hospital at onset (resus + ED + minor spaces)."""
    out = {}
    for h in scenario.hospitals:
        occ = h.occupied
        free = (
            (h.resus_bays - occ.resus_bays)
            + (h.ed_beds - occ.ed_beds)
            + (h.minor_treatment_spaces - occ.minor_treatment_spaces)
        )
        out[h.id] = max(1, free)
    return out


@dataclass
class RunView:
    """A finished run with everything the app needs to draw it.

    Attributes:
        scenario: the scenario that ran (set-up applied).
        setup: the set-up it ran with.
        result: the run's records and metrics.
        replay: the state-at-time index of the records.
        capacity: :func:`surge_capacity` of the scenario.
        hospital_names: hospital id → display name.
        station_nodes: station id → node.
        incident_nodes: incident id → node.
        horizon_min: the scenario's duration.
    """

    scenario: Scenario
    setup: SetUp
    result: RunResult
    replay: Replay
    capacity: dict[str, int]
    hospital_names: dict[str, str]
    station_nodes: dict[str, int]
    incident_nodes: dict[str, int]
    horizon_min: float
    hospital_nodes: dict[str, int] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, Any]:
        """The run's KPIs."""
        return self.result.metrics

    @property
    def region(self):
        """The run's region."""
        return self.replay.region

    @property
    def last_min(self) -> float:
        """The end of the scrubber: the horizon, or later when deaths fall after it."""
        return max(self.horizon_min, self.replay.end_min)


class Cancelled(Exception):
    """A run was abandoned because a newer one superseded it."""


def run(
    scenario: Scenario,
    setup: SetUp,
    *,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    slices: int = 20,
) -> RunView:
    """Apply ``setup`` to ``scenario``, simulate it and index the records.

    Args:
        scenario: the scenario as loaded or uploaded.
        setup: the set-up panel's choices.
        progress: called with the share done (0..1) after each slice of simulated time.
        should_stop: polled between slices; True abandons the run (:class:`Cancelled`).
        slices: how many slices of simulated time to report progress over.

    Raises:
        InputError: the set-up makes the scenario invalid or names an unknown policy.
        Cancelled: ``should_stop`` said so.
    """
    sc = apply_setup(scenario, setup)
    model = MCIModel(sc, setup.seed, **setup.policies())
    horizon = model.horizon_min
    start = min(i.onset_min for i in sc.incidents)
    for k in range(1, slices + 1):
        if should_stop is not None and should_stop():
            raise Cancelled()
        model.run(until=start + (horizon - start) * k / slices)
        if progress is not None:
            progress(k / slices)
    if not model.finished:
        model.run()
    return run_view_of(model, sc, setup)


def run_view_of(model: MCIModel, scenario: Scenario, setup: SetUp) -> RunView:
    """The records of ``model`` so far, indexed for the map and charts (it is not advanced)."""
    result = model.result()
    replay = Replay.of_model(model, result.events)
    return RunView(
        scenario=scenario,
        setup=setup,
        result=result,
        replay=replay,
        capacity=surge_capacity(scenario),
        hospital_names={h.id: h.name or h.id for h in scenario.hospitals},
        station_nodes=dict(model.station_nodes),
        incident_nodes={s.id: s.node for s in model.scenes},
        horizon_min=model.horizon_min,
        hospital_nodes={h.hid: h.node for h in model.hospital_list},
    )
