"""Calibration files: which incidents, which observed figures, which parameters, what budget.

A calibration file (YAML) is read as strictly as a scenario: unknown keys are refused with
the valid ones listed, and every problem is one :class:`~mcsim.errors.InputError` naming the
file and the field path (``parameters[1].prior.low``). Three checks need more than the schema:

* every parameter is a registry name (:mod:`mcsim.uncertainty.registry`), and an overriding
  prior lies within the registry's bounds (the registry's bounds are what the model's
  scenarios accept, so a posterior can never leave them);
* every observed figure is one the model computes for that incident: a numeric figure of
  :class:`~mcsim.validation.figures.FigureName` (``largest_hospital`` is a hospital id, not a
  number, so it cannot enter a distance), and per-hospital figures name a hospital of the
  incident's scenario;
* an incident without a record file (a user's own scenario) lists its figures with their
  observed values.

The result, :class:`Calibration`, holds everything the inference needs as plain data
(scenario raw data included), so that it can cross to worker processes.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from mcsim.errors import InputError
from mcsim.schema_base import StrictModel, error_lines
from mcsim.uncertainty.registry import Prior, PriorKind, Scope, get_parameter
from mcsim.validation.figures import FigureKind, FigureName, figure_key

SCHEMA_VERSION = 1

#: Default measurement error of a figure recorded as one number with no band, as a share of
#: the number **[assumption]**: records of real incidents are rarely better than ±10 %.
DEFAULT_RELATIVE_ERROR = 0.10
#: ... and the smallest such error per kind of figure **[assumption]** (one patient, two
#: percentage points, five minutes), so that a record of 0 or 3 does not demand an exact hit.
MIN_ERROR = {FigureKind.COUNT: 1.0, FigureKind.SHARE: 0.02, FigureKind.MINUTES: 5.0}


class PriorSpec(StrictModel):
    """A prior overriding the registry's (within its bounds).

    Attributes:
        kind: uniform, loguniform or truncnormal.
        low: lower bound (default: the registry's).
        high: upper bound (default: the registry's).
        mu: mean of a truncated normal.
        sigma: sd of a truncated normal.
    """

    kind: PriorKind
    low: float | None = None
    high: float | None = None
    mu: float | None = None
    sigma: float | None = None


class ParameterSpec(StrictModel):
    """One parameter to fit.

    Attributes:
        name: a registry name (``mcsim params``).
        prior: a narrower or differently shaped prior; default: the registry's.
    """

    name: str = Field(min_length=1)
    prior: PriorSpec | None = None


class FigureSpec(StrictModel):
    """One observed figure of an incident.

    Attributes:
        figure: the figure's name (docs/validation.md lists them).
        hospital: its hospital, for per-hospital figures.
        observed: the observed value; default: the record's (the middle of a [low, high]
            record).
        error: its measurement error (one sd, in the figure's unit); default: half the
            record's range, else half its band, else 10 % of the value (at least one patient,
            0.02 of a share or 5 minutes) **[assumption]**.
    """

    figure: FigureName
    hospital: str | None = None
    observed: float | None = None
    error: float | None = Field(default=None, gt=0)


class IncidentSpec(StrictModel):
    """One training incident.

    Attributes:
        scenario: a shipped scenario's name or a scenario file (relative to this file).
        record: a record file (default: the shipped ``records/<scenario>.yaml`` if any).
        figures: the observed figures; default: every numeric figure of the record.
    """

    scenario: str = Field(min_length=1)
    record: str | None = None
    figures: list[FigureSpec] | None = None


class BudgetSpec(StrictModel):
    """How much simulation the calibration may spend.

    Attributes:
        populations: ABC-SMC populations (generations), the first drawn from the prior.
        population_size: accepted particles per population.
        max_runs: stop once this many parameter sets have been evaluated (each evaluation is
            ``seeds_per_evaluation`` runs of every incident).
        seeds_per_evaluation: replications averaged per incident and parameter set.
        min_epsilon: stop once the acceptance threshold (the root mean square of the figures'
            standardised errors) is at or below this.
        batch_size: parameter sets per task sent to a worker (the results do not depend on
            it being the same only if it stays the same: it is part of the seeding).
        ppc_draws: posterior draws simulated for the posterior-predictive check.
    """

    populations: int = Field(default=5, ge=1, le=100)
    population_size: int = Field(default=100, ge=5, le=100_000)
    max_runs: int = Field(default=5000, ge=1)
    seeds_per_evaluation: int = Field(default=1, ge=1, le=100)
    min_epsilon: float = Field(default=1.0, ge=0)
    batch_size: int = Field(default=4, ge=1, le=1000)
    ppc_draws: int = Field(default=40, ge=1, le=100_000)


class CalibrationFileModel(StrictModel):
    """A calibration file (``mcsim calibrate``).

    Attributes:
        schema_version: file format version; this mcsim reads 1.
        name: a name for the report.
        incidents: the training incidents.
        parameters: the parameters to fit.
        budget: populations, their size, the run budget, seeds per evaluation.
        seed: the seed of the whole calibration (``--seed`` overrides it).
    """

    schema_version: Literal[1]
    name: str = Field(default="calibration", min_length=1)
    incidents: list[IncidentSpec] = Field(min_length=1)
    parameters: list[ParameterSpec] = Field(min_length=1)
    budget: BudgetSpec = Field(default_factory=BudgetSpec)
    seed: int = Field(default=0, ge=0)


@dataclass(frozen=True)
class Observed:
    """One observed figure, ready for the distance.

    Attributes:
        key: ``<incident>/<figure key>``, the summary statistic's name.
        incident: the incident's label.
        figure: the figure.
        hospital: its hospital, if per-hospital.
        value: the observed value.
        error: its measurement error (sd).
    """

    key: str
    incident: str
    figure: FigureName
    hospital: str | None
    value: float
    error: float


@dataclass(frozen=True)
class Incident:
    """A training incident: its label, scenario file and raw (unvalidated-copy) data."""

    label: str
    scenario_file: str
    data: dict[str, Any]
    hospitals: tuple[str, ...]


@dataclass(frozen=True)
class FitParameter:
    """A parameter to fit: the name in the posterior, the registry name, the prior.

    Per-scenario parameters (:attr:`Scope.SCENARIO`) are fitted once per incident, named
    ``<registry name>@<incident>``.
    """

    name: str
    registry_name: str
    prior: Prior
    incident: str | None = None


@dataclass(frozen=True)
class Calibration:
    """A validated calibration, as plain data."""

    name: str
    file: str
    incidents: tuple[Incident, ...]
    observed: tuple[Observed, ...]
    parameters: tuple[FitParameter, ...]
    budget: BudgetSpec
    seed: int
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    def digest(self) -> str:
        """A digest of everything that decides the result (a resumed run must match it)."""
        payload = {
            "raw": self.raw,
            "seed": self.seed,
            "data": [i.data for i in self.incidents],
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def parameter_names(self) -> list[str]:
        """The posterior's parameter names, in file order."""
        return [p.name for p in self.parameters]


def _strict(data: Any, file: str) -> CalibrationFileModel:
    if not isinstance(data, dict):
        raise InputError("a calibration file must be a mapping of keys to values", file=file)
    if data.get("schema_version") != SCHEMA_VERSION:
        raise InputError(
            f"this mcsim reads schema_version {SCHEMA_VERSION}, got {data.get('schema_version')!r}",
            file=file,
            path="schema_version",
        )
    try:
        return CalibrationFileModel.model_validate(data)
    except ValidationError as exc:
        lines = error_lines(exc)
        path, msg = lines[0]
        raise InputError(msg, file=file, path=path, more=len(lines) - 1) from None


def _prior(spec: ParameterSpec, file: str, where: str) -> Prior:
    reg = get_parameter(spec.name).prior
    if spec.prior is None:
        return reg
    p = spec.prior
    low = reg.low if p.low is None else p.low
    high = reg.high if p.high is None else p.high
    for bound, value in (("low", low), ("high", high)):
        if not reg.contains(value):
            raise InputError(
                f"{bound} {value:g} is outside the registry's bounds [{reg.low:g}, {reg.high:g}] "
                f"of {spec.name}",
                file=file,
                path=f"{where}.prior.{bound}",
            )
    try:
        return Prior(p.kind, low, high, mu=p.mu, sigma=p.sigma)
    except ValueError as exc:
        raise InputError(str(exc), file=file, path=f"{where}.prior") from None


def _default_error(kind: FigureKind, record: Any, band: Any, value: float) -> float:
    if isinstance(record, tuple) and record[1] > record[0]:
        return (record[1] - record[0]) / 2
    if isinstance(band, tuple) and band[1] > band[0]:
        return (band[1] - band[0]) / 2
    return max(DEFAULT_RELATIVE_ERROR * abs(value), MIN_ERROR[kind])


def _observed_value(record: Any) -> float | None:
    if record is None:
        return None
    if isinstance(record, tuple):
        return (record[0] + record[1]) / 2
    return float(record)


def _check_figure(
    fig: FigureName, hospital: str | None, hospitals: tuple[str, ...], file: str, where: str
) -> None:
    if fig.kind is FigureKind.HOSPITAL:
        raise InputError(
            f"{fig.value} is a hospital id, not a number the model's distance can use",
            file=file,
            path=f"{where}.figure",
        )
    if fig.per_hospital and not hospital:
        raise InputError(
            f"{fig.value} is a per-hospital figure: name the hospital id",
            file=file,
            path=f"{where}.hospital",
        )
    if not fig.per_hospital and hospital:
        raise InputError(
            f"{fig.value} is not a per-hospital figure: leave hospital out",
            file=file,
            path=f"{where}.hospital",
        )
    if hospital and hospital not in hospitals:
        raise InputError(
            f"the model computes no {fig.value} for {hospital!r}: not a hospital of this "
            f"incident's scenario ({', '.join(hospitals)})",
            file=file,
            path=f"{where}.hospital",
        )


def _incident(
    spec: IncidentSpec, i: int, base: Path, file: str, labels: set[str]
) -> tuple[Incident, list[Observed]]:
    from mcsim.library import resolve
    from mcsim.scenario import parse_scenario, read_yaml
    from mcsim.validation.record import load_record, records_dir

    where = f"incidents[{i}]"
    path = resolve(spec.scenario, base_dir=base)
    if not path.is_file():
        raise InputError(
            f"no such scenario file or shipped scenario: {spec.scenario}",
            file=file,
            path=f"{where}.scenario",
        )
    data = read_yaml(path)
    sc = parse_scenario(data, file=str(path))
    hospitals = tuple(h.id for h in sc.hospitals)
    label = path.stem
    k = 2
    while label in labels:
        label, k = f"{path.stem}_{k}", k + 1
    labels.add(label)

    record_path = None
    if spec.record is not None:
        record_path = base / spec.record
        if not record_path.is_file():
            raise InputError(
                f"no such record file: {record_path}", file=file, path=f"{where}.record"
            )
    elif (records_dir() / f"{path.stem}.yaml").is_file():
        record_path = records_dir() / f"{path.stem}.yaml"
    records: dict[tuple[FigureName, str | None], Any] = {}
    if record_path is not None:
        loaded = load_record(record_path)
        records = {f.key: f for f in loaded.record.figures}

    if spec.figures is None:
        if not records:
            raise InputError(
                "no record file for this scenario: list its figures with their observed values",
                file=file,
                path=f"{where}.figures",
            )
        specs = [
            FigureSpec(figure=f.figure, hospital=f.hospital)
            for f in records.values()
            if f.figure.kind is not FigureKind.HOSPITAL and f.record is not None
        ]
        wheres = [f"{where}.figures"] * len(specs)
    else:
        specs = spec.figures
        wheres = [f"{where}.figures[{j}]" for j in range(len(specs))]

    observed: list[Observed] = []
    seen: set[str] = set()
    for fs, w in zip(specs, wheres, strict=True):
        _check_figure(fs.figure, fs.hospital, hospitals, file, w)
        rec = records.get((fs.figure, fs.hospital))
        value = fs.observed if fs.observed is not None else _observed_value(rec and rec.record)
        if value is None:
            raise InputError(
                f"no observed value for {fs.figure.value}: the record has none; give observed",
                file=file,
                path=f"{w}.observed",
            )
        if not math.isfinite(value) or (fs.figure.kind is FigureKind.SHARE and not 0 <= value <= 1):
            raise InputError(f"observed {value!r} is not a valid {fs.figure.kind.value}", file=file,
                             path=f"{w}.observed")  # fmt: skip
        error = fs.error
        if error is None:
            error = _default_error(
                fs.figure.kind, rec.record if rec else None, rec.band if rec else None, value
            )
        key = f"{label}/{figure_key(fs.figure, fs.hospital)}"
        if key in seen:
            raise InputError(f"{key} appears twice", file=file, path=f"{w}.figure")
        seen.add(key)
        observed.append(Observed(key, label, fs.figure, fs.hospital, float(value), float(error)))
    return Incident(label, str(path), data, hospitals), observed


def parse_calibration(data: Any, *, file: str, base_dir: Path) -> Calibration:
    """Validate a calibration file's data (see the module docstring for what is checked).

    Raises:
        InputError: naming the file and the field path of the first problem.
    """
    raw = _strict(data, file)
    labels: set[str] = set()
    incidents: list[Incident] = []
    observed: list[Observed] = []
    for i, spec in enumerate(raw.incidents):
        inc, obs = _incident(spec, i, base_dir, file, labels)
        incidents.append(inc)
        observed.extend(obs)

    params: list[FitParameter] = []
    names: set[str] = set()
    for i, spec in enumerate(raw.parameters):
        where = f"parameters[{i}]"
        try:
            reg = get_parameter(spec.name)
        except InputError as exc:
            raise InputError(exc.message, file=file, path=f"{where}.name") from None
        if spec.name in names:
            raise InputError(f"{spec.name} is listed twice", file=file, path=f"{where}.name")
        names.add(spec.name)
        prior = _prior(spec, file, where)
        if reg.scope is Scope.SCENARIO:
            for inc in incidents:
                params.append(FitParameter(f"{spec.name}@{inc.label}", spec.name, prior, inc.label))
        else:
            params.append(FitParameter(spec.name, spec.name, prior))
    return Calibration(
        name=raw.name,
        file=file,
        incidents=tuple(incidents),
        observed=tuple(observed),
        parameters=tuple(params),
        budget=raw.budget,
        seed=raw.seed,
        raw=raw.model_dump(mode="json"),
    )


def load_calibration(path: str | Path) -> Calibration:
    """Load and validate a calibration file (a shipped one's name works too)."""
    from mcsim.library import resolve
    from mcsim.safeio import read_yaml

    p = resolve(path, sub="calibration")
    if not p.is_file():
        raise InputError("no such calibration file", file=str(p))
    data = read_yaml(p, what="calibration file")
    return parse_calibration(data, file=str(p), base_dir=p.resolve().parent)
