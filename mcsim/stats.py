"""Confidence intervals shared by the comparison and the sweep analysis.

Replications of a stochastic simulation are independent draws of each metric; their mean and a
Student-t interval are what every table of results reports (and, on paired replications that
share common random numbers, the interval of the differences).

A rate (a mortality, a share) lies in [0, 1], and so must its interval: near 0 or 1 the
symmetric t-interval runs past the bound (``0.02 [-0.01, 0.05]``). :func:`rate_interval` gives a
Wilson score interval instead, on the effective sample size that makes its variance the
replications' own (Korn & Graubard 1998, "Confidence intervals for proportions with small
expected number of positive counts"): as narrow as the t-interval where the bound is far,
asymmetric and inside [0, 1] where it is near.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def t_interval(
    values: Iterable[float | None], level: float = 0.95
) -> tuple[int, float, float, float, float]:
    """Mean and Student-t confidence interval of the finite ``values`` (None, NaN, inf dropped).

    Args:
        values: the observations (one per replication).
        level: the confidence level.

    Returns:
        ``(n, mean, sd, low, high)``; with one value the interval is NaN, with none everything
        but ``n`` is NaN.
    """
    from scipy import stats

    x = np.asarray([math.nan if v is None else v for v in values], dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n == 1:
        return 1, mean, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1)) * sd / math.sqrt(n)
    return n, mean, sd, mean - half, mean + half


def is_rate(metric: str) -> bool:
    """Whether a metric is a rate in [0, 1], by the naming convention of :mod:`mcsim.metrics`."""
    leaf = metric.rsplit(".", 1)[-1]
    return leaf.endswith(("_rate", "mortality", "_share", "utilization"))


def rate_interval(
    values: Iterable[float | None], level: float = 0.95
) -> tuple[int, float, float, float, float]:
    """Mean and a Wilson score interval of rates in [0, 1] (see the module docstring).

    The Wilson interval is taken on the effective sample size ``p (1 - p) / (s² / n)``, with the
    same Student-t quantile as :func:`t_interval`. Values outside [0, 1] are not rates: then it
    is :func:`t_interval`.

    Returns:
        ``(n, mean, sd, low, high)`` as :func:`t_interval`, with ``0 <= low <= high <= 1``.
    """
    from scipy import stats

    x = np.asarray([math.nan if v is None else v for v in values], dtype=float)
    x = x[np.isfinite(x)]
    n, mean, sd, lo, hi = t_interval(x, level)
    if n < 2 or x.min() < 0.0 or x.max() > 1.0:
        return n, mean, sd, lo, hi
    se2 = sd * sd / n
    pq = mean * (1.0 - mean)
    if se2 == 0.0 or pq == 0.0:
        return n, mean, sd, mean, mean
    z = float(stats.t.ppf(0.5 + level / 2.0, n - 1))
    n_eff = pq / se2
    denom = 1.0 + z * z / n_eff
    centre = (mean + z * z / (2.0 * n_eff)) / denom
    half = z / denom * math.sqrt(pq / n_eff + z * z / (4.0 * n_eff * n_eff))
    return n, mean, sd, max(0.0, centre - half), min(1.0, centre + half)
