"""The model's uncertain parameters: declared with their priors, applied to scenarios.

Most of what decides an MCI outcome is a parameter nobody has measured well (how fast an
untreated bleeder declines, how soon theatre teams arrive, how self-presenters pick a
hospital). Those are declared here once, with a prior and its source, so that calibration
(`mcsim calibrate`), sensitivity analysis (`mcsim sensitivity`) and posterior runs
(`--posterior`) all speak about the same list.
"""

from mcsim.uncertainty.registry import (
    Prior,
    PriorKind,
    Scope,
    UncertainParameter,
    apply_values,
    get_parameter,
    registry,
)

__all__ = [
    "Prior",
    "PriorKind",
    "Scope",
    "UncertainParameter",
    "apply_values",
    "get_parameter",
    "registry",
]
