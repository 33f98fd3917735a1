"""Global sensitivity analysis (SALib) of any model over priors: which inputs drive an output.

The analysis does not know about simulations: it takes inputs (anything with a ``name`` and a
``prior`` whose ``ppf`` maps [0, 1] to a value), a method and a budget, draws SALib's design in
the unit hypercube, maps every column through its prior's ``ppf`` (so a log-uniform or
truncated-normal prior is sampled as itself, not as a uniform box), hands the values to a model
function ``values (n x d) -> outputs (n,)`` and analyses the outputs. The simulator is one such
model (:mod:`mcsim.uncertainty.simulator`); the Ishigami function of the tests is another, which
is how the path is checked against analytic indices.

- **Sobol** (Saltelli's design, ``n`` base samples, ``n (d + 2)`` model runs): first-order index
  S1 (the share of the output's variance an input explains alone) and total index ST (alone and
  in interactions), each with a bootstrap confidence interval.
- **Morris** (``n`` trajectories, ``n (d + 1)`` runs): mu* (mean absolute elementary effect,
  here the change of the output over the whole prior's quantile range) and sigma (its spread:
  non-linearity or interactions). Cheap screening for many inputs.

Everything is deterministic from ``seed``: the design and the bootstrap both use it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np

from mcsim.errors import InputError

#: Morris grid levels (SALib's default; an even number keeps the design balanced).
MORRIS_LEVELS = 4
#: Bootstrap resamples for the confidence intervals.
NUM_RESAMPLES = 200
#: Confidence level of the intervals.
CONF_LEVEL = 0.95


class Method(StrEnum):
    """Sensitivity methods offered."""

    SOBOL = "sobol"
    MORRIS = "morris"


class _HasPpf(Protocol):
    def ppf(self, u: float) -> float: ...


class SensitivityInput(Protocol):
    """What the analysis needs of an input: a name and a prior with ``ppf``."""

    @property
    def name(self) -> str:
        """The input's name (a column of the design and a row of the indices)."""
        ...

    @property
    def prior(self) -> _HasPpf:
        """Its prior: ``ppf(u)`` maps a quantile in [0, 1] to a value."""
        ...


@dataclass(frozen=True)
class Input:
    """A plain input for models that are not the simulator (the Ishigami test function)."""

    name: str
    prior: Any


def parse_method(text: str) -> Method:
    """``"sobol"`` or ``"morris"``; anything else is an :class:`InputError` on ``--method``."""
    try:
        return Method(text)
    except ValueError:
        known = ", ".join(m.value for m in Method)
        raise InputError(f"unknown method {text!r}; known: {known}", path="--method") from None


def runs_needed(method: Method, n: int, d: int) -> int:
    """Model evaluations of a design: ``n (d + 2)`` for Sobol, ``n (d + 1)`` for Morris."""
    return n * (d + 2) if method is Method.SOBOL else n * (d + 1)


def check_budget(method: Method, n: int, d: int) -> None:
    """Refuse a design SALib cannot analyse, naming the option."""
    if d < 1:
        raise InputError("no parameters to analyse", path="--params")
    if method is Method.SOBOL:
        if n < 2 or n & (n - 1):
            raise InputError(
                f"must be a power of 2 of at least 2 for sobol (Saltelli's design), got {n}",
                path="--n",
            )
    elif n < 2:
        raise InputError(f"must be at least 2 trajectories for morris, got {n}", path="--n")


@dataclass
class Design:
    """A design: the unit-hypercube points SALib drew and the values they map to."""

    method: Method
    names: list[str]
    n: int
    unit: np.ndarray  # (runs, d) in [0, 1]
    values: np.ndarray  # (runs, d) in each input's own units

    @property
    def problem(self) -> dict[str, Any]:
        """SALib's problem dict: every input on [0, 1] (the priors are applied by ``ppf``)."""
        d = len(self.names)
        return {"num_vars": d, "names": list(self.names), "bounds": [[0.0, 1.0]] * d}


def _problem(names: Sequence[str]) -> dict[str, Any]:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def _need_salib() -> None:
    from importlib.util import find_spec

    if find_spec("SALib") is None:
        raise InputError("sensitivity analysis needs SALib (pip install 'mcsim[calibrate]')")


def make_design(
    inputs: Sequence[SensitivityInput], method: Method, n: int, seed: int
) -> Design:
    """SALib's design for ``inputs``, mapped through each prior's ``ppf``."""
    names = [i.name for i in inputs]
    if len(set(names)) != len(names):
        raise InputError("a parameter is named twice", path="--params")
    check_budget(method, n, len(names))
    _need_salib()
    problem = _problem(names)
    if method is Method.SOBOL:
        from SALib.sample import sobol as sobol_sample

        unit = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        from SALib.sample import morris as morris_sample

        unit = morris_sample.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    unit = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
    values = np.empty_like(unit)
    for j, inp in enumerate(inputs):
        ppf = inp.prior.ppf
        values[:, j] = [ppf(u) for u in unit[:, j]]
    return Design(method, names, n, unit, values)


@dataclass
class IndexRow:
    """The indices of one input (Sobol fields or Morris fields; the others are None)."""

    name: str
    s1: float | None = None
    s1_conf: float | None = None
    st: float | None = None
    st_conf: float | None = None
    mu: float | None = None
    mu_star: float | None = None
    mu_star_conf: float | None = None
    sigma: float | None = None

    @property
    def importance(self) -> float:
        """What the ranking sorts by: ST for Sobol, mu* for Morris."""
        v = self.st if self.st is not None else self.mu_star
        return float(v) if v is not None and math.isfinite(v) else 0.0


@dataclass
class SensitivityResult:
    """The indices of every input, ranked, with what produced them."""

    method: Method
    n: int
    seed: int
    rows: list[IndexRow]
    output_mean: float
    output_sd: float
    runs: int
    constant_output: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def ranked(self) -> list[IndexRow]:
        """Inputs from most to least important (ties by name, so the order is stable)."""
        return sorted(self.rows, key=lambda r: (-r.importance, r.name))

    def row(self, name: str) -> IndexRow:
        """The indices of input ``name``."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def columns(self) -> list[str]:
        """The index columns this method fills."""
        if self.method is Method.SOBOL:
            return ["s1", "s1_conf", "st", "st_conf"]
        return ["mu_star", "mu_star_conf", "mu", "sigma"]

    def table(self) -> Any:
        """The ranking as a DataFrame: rank, name, method, then every index column.

        Both methods' columns are always there (the other method's are null), so that
        ``indices.parquet`` has one schema (docs/data.md).
        """
        import pandas as pd

        cols = ["s1", "s1_conf", "st", "st_conf", "mu_star", "mu_star_conf", "mu", "sigma"]
        recs = []
        for k, r in enumerate(self.ranked(), start=1):
            vals = {c: getattr(r, c) if c in self.columns() else None for c in cols}
            recs.append({"rank": k, "name": r.name, "method": self.method.value, **vals})
        df = pd.DataFrame.from_records(recs, columns=["rank", "name", "method", *cols])
        return df.astype({"rank": "int64", "name": "string", "method": "string"}).astype(
            dict.fromkeys(cols, "float64")
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (non-finite numbers become None)."""

        def num(x: float | None) -> float | None:
            return float(x) if x is not None and math.isfinite(x) else None

        return {
            "method": self.method.value,
            "n": self.n,
            "seed": self.seed,
            "runs": self.runs,
            "conf_level": CONF_LEVEL,
            "output_mean": num(self.output_mean),
            "output_sd": num(self.output_sd),
            "constant_output": self.constant_output,
            "ranking": [r.name for r in self.ranked()],
            "indices": [
                {"name": r.name, **{c: num(getattr(r, c)) for c in self.columns()}}
                for r in self.ranked()
            ],
            **self.extra,
        }


def analyse_outputs(design: Design, y: np.ndarray, seed: int) -> SensitivityResult:
    """The indices of ``design`` given the model's outputs ``y`` (one per design row)."""
    y = np.asarray(y, dtype=float).reshape(-1)
    if y.shape[0] != design.unit.shape[0]:
        raise ValueError(f"{y.shape[0]} outputs for {design.unit.shape[0]} design points")
    if not np.all(np.isfinite(y)):
        raise ValueError("the model returned a non-finite output")
    mean, sd = float(np.mean(y)), float(np.std(y))
    runs = int(y.shape[0])
    if sd <= 1e-12 * max(1.0, abs(mean)):
        # No variance to share out: every index is 0 (SALib would divide by zero).
        zero = {"s1": 0.0, "s1_conf": 0.0, "st": 0.0, "st_conf": 0.0}
        if design.method is Method.MORRIS:
            zero = {"mu": 0.0, "mu_star": 0.0, "mu_star_conf": 0.0, "sigma": 0.0}
        rows = [IndexRow(name, **zero) for name in design.names]
        return SensitivityResult(design.method, design.n, seed, rows, mean, sd, runs, True)
    problem = design.problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SALib's bootstrap of tiny designs
        if design.method is Method.SOBOL:
            from SALib.analyze import sobol as sobol_analyze

            res = sobol_analyze.analyze(
                problem,
                y,
                calc_second_order=False,
                num_resamples=NUM_RESAMPLES,
                conf_level=CONF_LEVEL,
                seed=seed,
            )
            rows = [
                IndexRow(
                    name,
                    s1=float(res["S1"][j]),
                    s1_conf=float(res["S1_conf"][j]),
                    st=float(res["ST"][j]),
                    st_conf=float(res["ST_conf"][j]),
                )
                for j, name in enumerate(design.names)
            ]
        else:
            from SALib.analyze import morris as morris_analyze

            res = morris_analyze.analyze(
                problem,
                design.unit,
                y,
                num_resamples=NUM_RESAMPLES,
                conf_level=CONF_LEVEL,
                num_levels=MORRIS_LEVELS,
                seed=seed,
            )
            rows = [
                IndexRow(
                    name,
                    mu=float(res["mu"][j]),
                    mu_star=float(res["mu_star"][j]),
                    mu_star_conf=float(res["mu_star_conf"][j]),
                    sigma=float(res["sigma"][j]),
                )
                for j, name in enumerate(design.names)
            ]
    return SensitivityResult(design.method, design.n, seed, rows, mean, sd, runs)


def analyse(
    inputs: Sequence[SensitivityInput],
    model: Callable[[np.ndarray], np.ndarray],
    *,
    method: Method | str = Method.SOBOL,
    n: int = 64,
    seed: int = 0,
) -> tuple[SensitivityResult, Design, np.ndarray]:
    """Sensitivity of ``model`` to ``inputs`` over their priors.

    Args:
        inputs: the inputs, each with a ``name`` and a ``prior`` that has ``ppf``.
        model: ``values (runs x d) -> outputs (runs,)``, values in the inputs' own units and in
            the order of ``inputs``.
        method: ``sobol`` or ``morris``.
        n: Sobol base samples (a power of 2) or Morris trajectories.
        seed: seeds the design and the bootstrap.

    Returns:
        The result, the design and the model's outputs.
    """
    m = method if isinstance(method, Method) else parse_method(method)
    design = make_design(inputs, m, n, seed)
    y = np.asarray(model(design.values), dtype=float)
    return analyse_outputs(design, y, seed), design, y
