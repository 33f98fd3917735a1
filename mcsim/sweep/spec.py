"""Sweep files: the schema, loading and validation.

A sweep file (YAML, ``sweep_version`` first) names one or more base scenarios, the factors to
vary (any scenario field path, policies included: ``policies.triage``), how many replications
each cell gets and the base seed. Discrete factors give a list of values or a range
``{start, stop, step}`` (stop included) and are crossed in full; continuous factors under
``sample`` are drawn by Latin hypercube sampling (``method: lhs``) or from a scrambled Sobol' or
Halton sequence (``sobol``, ``halton``: low-discrepancy, so fewer points cover the ranges evenly),
and crossed with the factorial part.

Validation follows the scenario's habits: unknown keys are refused with the valid ones listed,
and every problem is one :class:`~mcsim.errors.InputError` naming the file and the field path,
e.g. ``fleet.yaml: factors.stations[0].vehicles[0].count[2]: Input should be greater than or
equal to 0``. Every factor value is checked against every base scenario before anything runs.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from mcsim.errors import InputError, echo
from mcsim.scenario import read_scenario_data, read_yaml, split_path
from mcsim.schema_base import StrictModel, error_lines

SWEEP_VERSION = 1

#: Most values one range factor may expand to (a typo such as step 0.001 should not hang).
MAX_RANGE_VALUES = 10_000
#: Most runs (cells × replications) a sweep may plan unless told otherwise (``--max-runs``):
#: counted before any cell is built, so three factors of 10,000 values are refused at once.
MAX_RUNS = 1_000_000
#: Most cells a sweep may have whatever ``--max-runs`` says: the manifest lists every cell.
MAX_CELLS = 1_000_000


class RangeSpec(StrictModel):
    """``{start, stop, step}``: start, start + step, ... up to and including stop."""

    start: float
    stop: float
    step: float = Field(gt=0)


class SampledFactor(StrictModel):
    """A continuous factor sampled in ``[low, high]``."""

    low: float
    high: float
    integer: bool = Field(default=False, description="round the drawn values to integers")


SampleMethod = Literal["lhs", "sobol", "halton"]


class SampleSpec(StrictModel):
    """Sampling of continuous factors (:mod:`scipy.stats.qmc`).

    ``lhs``: Latin hypercube (``LatinHypercube``); ``sobol``: a scrambled Sobol' sequence
    (``Sobol``; ``points`` a power of 2, which its balance needs); ``halton``: a scrambled Halton
    sequence (``Halton``).
    """

    method: SampleMethod = "lhs"
    points: int = Field(ge=1, le=100_000, description="how many points to draw")
    seed: int = Field(default=0, ge=0, description="seed of the sampler")
    factors: dict[str, Any] = Field(min_length=1)


class StoreSpec(StrictModel):
    """What is stored besides the one row per run."""

    patients: bool = Field(default=False, description="also store every run's patients table")


class SweepFile(StrictModel):
    """The sweep file as written (factor values are checked separately, see :func:`load_sweep`)."""

    sweep_version: Literal[1]
    name: str
    description: str = ""
    scenarios: list[str] = Field(
        default_factory=lambda: ["default"],
        min_length=1,
        description="base scenario files, relative to the sweep file, or names of shipped "
        "scenarios ('default' = the default one; see mcsim scenarios)",
    )
    replications: int = Field(ge=1, le=1_000_000)
    base_seed: int = Field(default=0, ge=0)
    factors: dict[str, Any] = Field(default_factory=dict)
    sample: SampleSpec | None = None
    imports: list[str] = Field(
        default_factory=list,
        description="Python modules imported before running (e.g. to register policies); "
        "the sweep file's folder is importable",
    )
    store: StoreSpec = Field(default_factory=StoreSpec)


class Factor(StrictModel):
    """One factor after expansion: its scenario field path and its values (or sampled range)."""

    path: str
    kind: Literal["levels", "lhs"]
    levels: list[Any] = Field(default_factory=list)
    low: float | None = None
    high: float | None = None
    integer: bool = False


class BaseScenario(StrictModel):
    """A base scenario: a short label (used in the ``scenario`` column) and its data."""

    label: str
    file: str
    data: dict[str, Any]


class Sweep(StrictModel):
    """A validated sweep, self-contained: base scenarios are embedded as data."""

    name: str
    description: str = ""
    file: str
    scenarios: list[BaseScenario]
    replications: int
    base_seed: int
    factors: list[Factor]
    sample_points: int = 0
    sample_seed: int = 0
    sample_method: SampleMethod = "lhs"
    imports: list[str] = Field(default_factory=list)
    import_paths: list[str] = Field(default_factory=list)
    store_patients: bool = False

    @property
    def level_factors(self) -> list[Factor]:
        """The discrete factors, crossed in full."""
        return [f for f in self.factors if f.kind == "levels"]

    @property
    def sampled_factors(self) -> list[Factor]:
        """The continuous factors, drawn by the ``sample`` method (kind ``lhs`` for them all)."""
        return [f for f in self.factors if f.kind == "lhs"]

    def normalised(self) -> dict[str, Any]:
        """What defines the sweep's results (hashed into its id); paths and prose excluded.

        The sampling method is there only when it is not ``lhs``, so that sweeps written before
        there was a choice keep their ids (and their folders resume).
        """
        out = {
            "sweep_version": SWEEP_VERSION,
            "scenarios": [{"label": s.label, "data": s.data} for s in self.scenarios],
            "replications": self.replications,
            "base_seed": self.base_seed,
            "factors": [f.model_dump() for f in self.factors],
            "sample_points": self.sample_points,
            "sample_seed": self.sample_seed,
            "imports": self.imports,
            "store_patients": self.store_patients,
        }
        if self.sample_method != "lhs":
            out["sample_method"] = self.sample_method
        return out


def expand_range(r: RangeSpec) -> list[int | float]:
    """The values of a range, stop included; integers when start and step are integers."""
    if r.stop < r.start:
        raise ValueError(f"stop ({r.stop:g}) is below start ({r.start:g})")
    q = (r.stop - r.start) / r.step
    if not q < MAX_RANGE_VALUES:  # also an overflow to inf (stop 1e308, step 1e-300)
        raise ValueError(f"expands to more than {MAX_RANGE_VALUES:,} values")
    n = math.floor(q + 1e-9) + 1
    if n > MAX_RANGE_VALUES:
        raise ValueError(f"expands to {n:,} values; at most {MAX_RANGE_VALUES:,}")
    whole = float(r.start).is_integer() and float(r.step).is_integer()
    if whole:
        return [int(r.start) + i * int(r.step) for i in range(n)]
    # round away the floating-point drift of start + i * step (0.1 + 0.2 ...)
    return [round(r.start + i * r.step, 12) for i in range(n)]


def _normalise_levels(values: list[Any]) -> list[Any]:
    """Ints stay ints; a mix of ints and floats becomes floats (one column type)."""
    nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(nums) == len(values) and any(isinstance(v, float) for v in values):
        return [float(v) for v in values]
    return list(values)


def _strict(model: type[StrictModel], data: Any, file: str, prefix: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = error_lines(exc)
        path, msg = lines[0]
        full = f"{prefix}.{path}" if prefix and path else (path or prefix)
        raise InputError(msg, file=file, path=full, more=len(lines) - 1) from None


def _check_path(path: str, file: str, where: str) -> None:
    try:
        split_path(path)
    except ValueError as exc:
        raise InputError(str(exc), file=file, path=where) from None


def _resolve_scenarios(names: list[str], base_dir: Path, file: str) -> list[BaseScenario]:
    from mcsim.library import resolve
    from mcsim.scenario import parse_scenario

    out: list[BaseScenario] = []
    labels: set[str] = set()
    for i, name in enumerate(names):
        p = resolve(name, base_dir=base_dir)  # a file, else a shipped scenario's name
        if not p.is_file():
            raise InputError(f"no such scenario file: {p}", file=file, path=f"scenarios[{i}]")
        data = read_scenario_data(p)  # a region file is read here, once, and put inline
        parse_scenario(data, file=str(p))  # the scenario's own errors name its own file
        label = p.stem
        k = 2
        while label in labels:
            label = f"{p.stem}_{k}"
            k += 1
        labels.add(label)
        out.append(BaseScenario(label=label, file=str(p), data=data))
    return out


def _parse_factors(raw: SweepFile, file: str) -> list[Factor]:
    factors: list[Factor] = []
    for path, value in raw.factors.items():
        where = f"factors.{path}"
        _check_path(path, file, where)
        if isinstance(value, dict):
            rng = _strict(RangeSpec, value, file, where)
            try:
                levels = expand_range(rng)
            except ValueError as exc:
                raise InputError(str(exc), file=file, path=where) from None
        elif isinstance(value, list):
            if not value:
                raise InputError("needs at least one value", file=file, path=where)
            if len(value) > MAX_RANGE_VALUES:
                raise InputError(
                    f"{len(value):,} values; at most {MAX_RANGE_VALUES:,}", file=file, path=where
                )
            levels = _normalise_levels(value)
            seen: set[str] = set()
            for j, v in enumerate(levels):
                key = json.dumps(v, sort_keys=True, default=str)
                if key in seen:
                    raise InputError(f"duplicate value {echo(v)}", file=file, path=f"{where}[{j}]")
                seen.add(key)
        else:
            raise InputError(
                "must be a list of values or a range {start, stop, step}", file=file, path=where
            )
        factors.append(Factor(path=path, kind="levels", levels=levels))
    if raw.sample is not None:
        n = raw.sample.points
        if raw.sample.method == "sobol" and n & (n - 1):
            lower = 1 << (n.bit_length() - 1)
            raise InputError(
                f"a Sobol' sample needs a power of 2 points (its balance depends on it), "
                f"e.g. {lower} or {2 * lower}; or use method lhs or halton",
                file=file,
                path="sample.points",
            )
        for path, value in raw.sample.factors.items():
            where = f"sample.factors.{path}"
            _check_path(path, file, where)
            if path in raw.factors:
                raise InputError(
                    f"also listed under factors ({path}); vary it in one place",
                    file=file,
                    path=where,
                )
            s = _strict(SampledFactor, value, file, where)
            if not s.high > s.low:
                raise InputError("high must be greater than low", file=file, path=where)
            if s.integer and math.floor(s.high) < math.ceil(s.low):
                raise InputError("no integer between low and high", file=file, path=where)
            factors.append(Factor(path=path, kind="lhs", low=s.low, high=s.high, integer=s.integer))
    return factors


def _check_values(sweep: Sweep, file: str) -> None:
    """Every factor value (and the sampled ranges' ends) makes a valid scenario."""
    from mcsim.scenario import parse_scenario

    def check(base: BaseScenario, path: str, value: Any, where: str, path_where: str) -> None:
        try:
            data = copy.deepcopy(base.data)
            _set(data, path, value)
            parse_scenario(data, file=base.file)
        except InputError as exc:
            wrong_path = exc.message.startswith("unknown key") or "no such list item" in exc.message
            if wrong_path and exc.path and path.startswith(exc.path):
                # the path itself is wrong, whatever the value
                raise InputError(
                    f"not a field of scenario {base.label}: {exc.message}",
                    file=file,
                    path=path_where,
                ) from None
            loc = f" at {exc.path}" if exc.path and exc.path != path else ""
            raise InputError(
                f"{echo(value)} in scenario {base.label}{loc}: {exc.message}", file=file, path=where
            ) from None

    for base in sweep.scenarios:
        for f in sweep.factors:
            if f.kind == "levels":
                for j, v in enumerate(f.levels):
                    check(base, f.path, v, f"factors.{f.path}[{j}]", f"factors.{f.path}")
            else:
                lo, hi = (math.ceil(f.low), math.floor(f.high)) if f.integer else (f.low, f.high)
                for end, v in (("low", lo), ("high", hi)):
                    where = f"sample.factors.{f.path}"
                    check(base, f.path, v, f"{where}.{end}", where)


def _set(data: Any, path: str, value: Any) -> None:
    """Set ``path`` in nested plain data; an index past the end is an :class:`InputError`."""
    parts = split_path(path)
    node = data
    for part in parts[:-1]:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise InputError("no such list item in the scenario", path=path)
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise InputError("goes through a value that is not a mapping", path=path)
            node = node.setdefault(part, {})
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise InputError("no such list item in the scenario", path=path)
    elif not isinstance(node, dict):
        raise InputError("goes through a value that is not a mapping", path=path)
    node[last] = value


def set_path(data: Any, path: str, value: Any) -> None:
    """Set the scenario field ``path`` (``stations[0].vehicles[0].count``) in plain data."""
    _set(data, path, value)


def _import_modules(names: list[str], paths: list[str], file: str) -> None:
    """Import the sweep's ``imports`` (modules or ``.py`` files; see :mod:`mcsim.plugins`)."""
    from mcsim.plugins import load_plugins

    load_plugins(names, base_dir=Path(paths[0]) if paths else None, file=file, path="imports")


def count_runs(
    n_scenarios: int,
    levels: list[int],
    points: int,
    replications: int,
    *,
    file: str | None = None,
    max_runs: int | None = None,
) -> int:
    """The runs a sweep plans (scenarios × levels of each factor × points × replications).

    Counted from the sizes alone, before anything is built.

    Raises:
        InputError: more than ``max_runs`` (default :data:`MAX_RUNS`) runs, or more than
            :data:`MAX_CELLS` cells, with the count.
    """
    limit = MAX_RUNS if max_runs is None else max_runs
    cells = n_scenarios * math.prod(levels) * points
    runs = cells * replications
    shape = " x ".join(str(n) for n in [n_scenarios, *levels, points] if n != 1) or "1"
    if cells > MAX_CELLS:
        raise InputError(
            f"plans {cells:,} cells ({shape}); at most {MAX_CELLS:,}", file=file, path="factors"
        )
    if runs > limit:
        raise InputError(
            f"plans {runs:,} runs ({cells:,} cells x {replications:,} replications); at most "
            f"{limit:,} (--max-runs to allow more)",
            file=file,
            path="factors",
        )
    return runs


def parse_sweep(data: Any, *, file: str, base_dir: Path, max_runs: int | None = None) -> Sweep:
    """Validate a sweep given as plain data (base scenario paths are relative to ``base_dir``).

    The runs are counted (:func:`count_runs`) before the base scenarios are read or any factor
    value is checked.
    """
    if not isinstance(data, dict):
        raise InputError("a sweep file must be a mapping of keys to values", file=file)
    if "sweep_version" not in data:
        raise InputError(
            f"missing key; this mcsim reads sweep_version {SWEEP_VERSION}",
            file=file,
            path="sweep_version",
        )
    if data["sweep_version"] != SWEEP_VERSION:
        raise InputError(
            f"unsupported sweep_version {echo(data['sweep_version'])}; this mcsim reads "
            f"{SWEEP_VERSION}",
            file=file,
            path="sweep_version",
        )
    raw: SweepFile = _strict(SweepFile, data, file, "")
    import_paths = [str(base_dir.resolve())]
    _import_modules(raw.imports, import_paths, file)
    factors = _parse_factors(raw, file)
    count_runs(
        len(raw.scenarios),
        [len(f.levels) for f in factors if f.kind == "levels"],
        raw.sample.points if raw.sample and any(f.kind == "lhs" for f in factors) else 1,
        raw.replications,
        file=file,
        max_runs=max_runs,
    )
    scenarios = _resolve_scenarios(raw.scenarios, base_dir, file)
    sweep = Sweep(
        name=raw.name,
        description=raw.description,
        file=file,
        scenarios=scenarios,
        replications=raw.replications,
        base_seed=raw.base_seed,
        factors=factors,
        sample_points=raw.sample.points if raw.sample else 0,
        sample_seed=raw.sample.seed if raw.sample else 0,
        sample_method=raw.sample.method if raw.sample else "lhs",
        imports=raw.imports,
        import_paths=import_paths,
        store_patients=raw.store.patients,
    )
    _check_values(sweep, file)
    return sweep


def load_sweep(path: str | Path, *, max_runs: int | None = None) -> Sweep:
    """Load and validate a sweep file (at most ``max_runs`` runs, see :func:`count_runs`).

    Raises:
        InputError: naming the file and the field path of the first problem.
    """
    p = Path(path)
    data = read_yaml(p)
    return parse_sweep(data, file=str(path), base_dir=p.parent, max_runs=max_runs)
