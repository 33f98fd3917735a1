"""What pyabc calls the model and the distance: parameter values in, incident figures out.

:class:`IncidentsModel` applies one parameter set to every training incident's scenario data
(:func:`~mcsim.uncertainty.registry.apply_values`), runs each ``seeds`` times and averages
each observed figure over the runs. The figures are those of ``mcsim validation``
(:func:`mcsim.validation.runner.scenario_figures`), so a calibration fits exactly what the
validation report shows. The runs' seeds are drawn from numpy's global generator, which the
sampler seeds per batch (:mod:`mcsim.uncertainty.sampler`): fresh randomness for every
evaluation, as ABC needs, and still reproducible.

:class:`StandardisedDistance` is the root mean square of the figures' errors in units of their
measurement error: a distance of 1 means "on average one measurement error away", which is
what ``budget.min_epsilon`` (default 1) stops at.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mcsim.uncertainty.calibration_file import FitParameter, Incident, Observed

#: Standardised error given to a figure the run leaves undefined (no critical casualty, say)
#: **[assumption]**: far enough to reject the particle in any late population, finite so that
#: pyabc's quantile of distances stays defined.
UNDEFINED_PENALTY = 10.0


def values_for(
    parameters: Sequence[FitParameter], values: Mapping[str, float], incident: str
) -> dict[str, float]:
    """Registry name → value for one incident (per-scenario parameters: its own copy only)."""
    out: dict[str, float] = {}
    for p in parameters:
        if p.name in values and (p.incident is None or p.incident == incident):
            out[p.registry_name] = float(values[p.name])
    return out


class IncidentsModel:
    """pyabc model: ``model(parameter) -> {observed key: mean figure}``.

    Args:
        incidents: the training incidents (with their raw scenario data).
        observed: the observed figures (their keys are the summary statistics returned).
        parameters: the fitted parameters.
        seeds: runs per incident per evaluation.
    """

    def __init__(
        self,
        incidents: Sequence[Incident],
        observed: Sequence[Observed],
        parameters: Sequence[FitParameter],
        seeds: int,
    ) -> None:
        self.incidents = tuple(incidents)
        self.observed = tuple(observed)
        self.parameters = tuple(parameters)
        self.seeds = seeds
        self.evaluations = 0  # in this process (the benchmark reads it)

    def run_seeds(self, values: Mapping[str, float], seeds: Sequence[int]) -> dict[str, float]:
        """Mean of each observed figure over runs with ``seeds`` (NaN if never defined)."""
        from mcsim.scenario import parse_scenario
        from mcsim.uncertainty.registry import apply_values
        from mcsim.validation.runner import scenario_figures

        sums: dict[str, list[float]] = {o.key: [] for o in self.observed}
        for inc in self.incidents:
            data = apply_values(inc.data, values_for(self.parameters, values, inc.label))
            sc = parse_scenario(data, file=inc.scenario_file)
            wanted = [o for o in self.observed if o.incident == inc.label]
            for s in seeds:
                figures, _ = scenario_figures(sc, int(s))
                for o in wanted:
                    v = figures[o.key.split("/", 1)[1]]
                    if v is not None:
                        sums[o.key].append(float(v))
        self.evaluations += 1
        return {k: (float(np.mean(v)) if v else math.nan) for k, v in sums.items()}

    def __call__(self, parameter: Mapping[str, Any]) -> dict[str, float]:
        """One evaluation: fresh run seeds from numpy's (sampler-seeded) global generator."""
        base = int(np.random.randint(0, 2**31 - 1))
        return self.run_seeds(dict(parameter), [base + i for i in range(self.seeds)])


class StandardisedDistance:
    """pyabc distance: RMS over figures of ``(model - observed) / error``."""

    def __init__(self, observed: Sequence[Observed]) -> None:
        self.errors = {o.key: o.error for o in observed}

    def standardised(self, x: Mapping[str, float], x0: Mapping[str, float]) -> dict[str, float]:
        """Each figure's standardised error (the penalty where the model leaves it undefined)."""
        out = {}
        for k, err in self.errors.items():
            v = x.get(k)
            if v is None or not math.isfinite(float(v)):
                out[k] = UNDEFINED_PENALTY
            else:
                out[k] = (float(v) - float(x0[k])) / err
        return out

    def __call__(self, x: Mapping[str, float], x0: Mapping[str, float]) -> float:
        """The distance between simulated figures ``x`` and observed ones ``x0``."""
        z = np.fromiter(self.standardised(x, x0).values(), dtype=float)
        return float(np.sqrt(np.mean(z**2)))
