"""Parameter sets drawn from a calibration's posterior, each with the seed of its run.

A calibration folder's ``posterior.parquet`` (:mod:`.calibrate`) is a weighted sample: one
column per parameter and ``weight``. :func:`draw_parameter_sets` resamples it with those
weights from a seeded generator and pairs draw ``i`` with run seed ``seed + i``, so that a
caller that runs every policy with the same pair for the same ``i`` compares policies under
common random numbers *and* common parameter values: the paired difference then holds only
what the policy changes, and the spread over ``i`` holds both seed noise and parameter
uncertainty. ``mcsim run/compare/sweep --posterior`` and the app's replications use it.

Per-scenario parameters are stored as ``<name>@<incident>``; :func:`values_for_scenario`
keeps, for a scenario called ``<incident>``, its own copy, and drops other incidents' copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mcsim.errors import InputError

POSTERIOR_FILE = "posterior.parquet"
WEIGHT = "weight"
#: Stream tag of the resampling generator (kept apart from any other use of the seed).
_RESAMPLE_STREAM = 0x5EED_0001


@dataclass(frozen=True)
class Posterior:
    """A weighted posterior sample.

    Attributes:
        samples: one column per parameter name.
        weights: normalised weights, one per row.
        source: the file it was read from.
    """

    samples: pd.DataFrame
    weights: np.ndarray
    source: str

    @property
    def names(self) -> list[str]:
        """The parameter names, in file order."""
        return list(self.samples.columns)

    def quantiles(self, qs: tuple[float, ...] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
        """Weighted quantiles of each parameter (rows: parameters, columns: ``qs``)."""
        rows = {}
        for name in self.names:
            x = self.samples[name].to_numpy(float)
            order = np.argsort(x, kind="mergesort")
            cdf = np.cumsum(self.weights[order])
            cdf /= cdf[-1]
            rows[name] = [float(x[order][np.searchsorted(cdf, q)]) for q in qs]
        return pd.DataFrame.from_dict(rows, orient="index", columns=list(qs))


def from_frame(df: pd.DataFrame, source: str = "<frame>") -> Posterior:
    """A posterior from a frame with parameter columns and ``weight``."""
    if WEIGHT not in df.columns:
        raise InputError(f"has no {WEIGHT!r} column", file=source)
    names = [c for c in df.columns if c != WEIGHT]
    if not names or len(df) == 0:
        raise InputError("holds no parameter samples", file=source)
    w = df[WEIGHT].to_numpy(float)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InputError("weights must be finite, non-negative and not all 0", file=source)
    return Posterior(df[names].reset_index(drop=True).astype(float), w / w.sum(), source)


def load_posterior(folder: str | Path) -> Posterior:
    """The posterior of a calibration folder (or a ``posterior.parquet`` file).

    Raises:
        InputError: no such file, not a posterior, or values outside the registry's priors.
    """
    from mcsim.safeio import MAX_BINARY_BYTES, check_input
    from mcsim.uncertainty.registry import get_parameter

    p = Path(folder)
    path = p / POSTERIOR_FILE if p.is_dir() else p
    check_input(path, what="posterior file (posterior.parquet)", max_bytes=MAX_BINARY_BYTES)
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 (pyarrow's many error types: not a Parquet file)
        raise InputError(f"cannot read as Parquet: {exc}", file=str(path)) from None
    post = from_frame(df, str(path))
    for name in post.names:
        try:
            param = get_parameter(name.split("@", 1)[0])
        except InputError as exc:
            raise InputError(exc.message, file=str(path), path=name) from None
        x = post.samples[name]
        if not all(param.prior.contains(v) for v in x):
            raise InputError(
                f"values outside the registry's prior {param.prior.describe()}",
                file=str(path),
                path=name,
            )
    return post


def draw_parameter_sets(
    posterior: Posterior | str | Path, n: int, seed: int = 0
) -> list[tuple[int, dict[str, float]]]:
    """``n`` (run seed, {parameter name: value}) pairs drawn from the posterior.

    Draw ``i`` gets run seed ``seed + i``; the parameter sets are a weighted resample with
    replacement from a generator seeded by ``seed`` alone, so the same ``(posterior, n, seed)``
    gives the same pairs, and the first ``k`` pairs of ``n`` are those of ``k``.
    """
    post = posterior if isinstance(posterior, Posterior) else load_posterior(posterior)
    if n < 1:
        raise InputError("needs at least 1 draw", path="--draws")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), _RESAMPLE_STREAM]))
    # one uniform per draw, inverted through the weights' CDF: draw i does not depend on n
    cdf = np.cumsum(post.weights)
    cdf /= cdf[-1]
    idx = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)
    rows = post.samples.to_numpy(float)
    return [
        (int(seed) + i, {name: float(rows[j, k]) for k, name in enumerate(post.names)})
        for i, j in enumerate(idx)
    ]


def values_for_scenario(values: dict[str, float], scenario: str) -> dict[str, float]:
    """Registry name → value for a scenario called ``scenario`` (see the module docstring)."""
    out: dict[str, float] = {}
    for name, v in values.items():
        base, _, incident = name.partition("@")
        if not incident:
            out.setdefault(base, v)
        elif incident == scenario:
            out[base] = v
    return out
