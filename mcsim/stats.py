"""Confidence intervals shared by the comparison and the sweep analysis.

Replications of a stochastic simulation are independent draws of each metric; their mean and a
Student-t interval are what every table of results reports (and, on paired replications that
share common random numbers, the interval of the differences).
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
