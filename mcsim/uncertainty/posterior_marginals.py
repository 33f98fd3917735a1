"""A calibration's posterior as one-dimensional distributions, for ``sensitivity --posterior``.

A calibration folder holds ``posterior.parquet``: a weighted sample, one column per parameter
(per-incident parameters as ``<name>@<incident>``) and ``weight``. For a sensitivity analysis
each parameter found there gets its weighted empirical marginal in place of its prior: the
design's unit-cube values go through the marginal's quantile function just as through a
prior's ``ppf``. Sobol and Morris treat inputs as independent, so correlations between
parameters in the posterior are not carried over; the indices then say how much each
parameter's remaining (marginal) uncertainty matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcsim.errors import InputError
from mcsim.uncertainty.registry import get_parameter

POSTERIOR_FILE = "posterior.parquet"
WEIGHT = "weight"


@dataclass(frozen=True)
class EmpiricalMarginal:
    """A weighted sample of one parameter, with a quantile function like a prior's ``ppf``."""

    values: tuple[float, ...]  # sorted
    cdf: tuple[float, ...]  # cumulative normalised weights, last = 1

    @classmethod
    def of(cls, x: np.ndarray, w: np.ndarray) -> EmpiricalMarginal:
        """The marginal of samples ``x`` with weights ``w`` (both finite, w >= 0, sum > 0)."""
        order = np.argsort(x, kind="mergesort")
        cdf = np.cumsum(w[order]) / w.sum()
        cdf[-1] = 1.0
        return cls(tuple(float(v) for v in x[order]), tuple(float(c) for c in cdf))

    def ppf(self, u: float) -> float:
        """The smallest sample whose cumulative weight reaches ``u``."""
        u = min(max(float(u), 0.0), 1.0)
        i = int(np.searchsorted(self.cdf, u, side="left"))
        return self.values[min(i, len(self.values) - 1)]

    def describe(self) -> str:
        """``posterior (N samples, 5-95 %: a-b)``."""
        return (
            f"posterior ({len(self.values)} samples, 5-95 %: {self.ppf(0.05):g}-"
            f"{self.ppf(0.95):g})"
        )


def load_marginals(path: str | Path, scenario_label: str) -> dict[str, EmpiricalMarginal]:
    """The marginals of a posterior (a calibration folder or its ``posterior.parquet``).

    Columns named ``<name>@<incident>`` count for the scenario whose label (file stem) is
    ``<incident>``; other incidents' copies are left out. Without a ``weight`` column every
    sample weighs the same.

    Raises:
        InputError: no such file, not a table, an unknown parameter, a value outside its prior.
    """
    import pandas as pd

    p = Path(path)
    file = p / POSTERIOR_FILE if p.is_dir() else p
    if not file.is_file():
        raise InputError("no posterior here (expected posterior.parquet)", file=str(file),
                         path="--posterior")  # fmt: skip
    try:
        df = pd.read_parquet(file)
    except (OSError, ValueError) as exc:
        msg = f"not a Parquet table: {exc}"
        raise InputError(msg, file=str(file), path="--posterior") from None
    if len(df) == 0:
        raise InputError("holds no samples", file=str(file), path="--posterior")
    if WEIGHT in df.columns:
        w = df[WEIGHT].to_numpy(float)
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise InputError("weights must be finite, non-negative and not all 0",
                             file=str(file), path=WEIGHT)  # fmt: skip
    else:
        w = np.ones(len(df))
    out: dict[str, EmpiricalMarginal] = {}
    for col in df.columns:
        if col == WEIGHT:
            continue
        name, _, incident = str(col).partition("@")
        if incident and incident != scenario_label:
            continue
        try:
            prm = get_parameter(name)
        except InputError as exc:
            raise InputError(exc.message, file=str(file), path=str(col)) from None
        x = df[col].to_numpy(float)
        if not np.all(np.isfinite(x)) or not all(prm.prior.contains(v) for v in x):
            raise InputError(
                f"values outside the prior {prm.prior.describe()}", file=str(file), path=str(col)
            )
        out[name] = EmpiricalMarginal.of(x, w)
    return out
