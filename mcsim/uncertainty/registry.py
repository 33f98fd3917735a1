"""Registry of uncertain model parameters (issue 12).

Each entry names a scenario field path (the same paths as ``--set``; ``[*]`` means every
element of a list, e.g. every hospital), a prior with bounds, where the prior comes from, and
whether the parameter is *global* (one value for every incident: physiology, hospital
behaviour) or *per scenario* (a property of one incident: its went-home share). Values are
applied to a scenario's raw data before validation, so the scenario's own checks still hold.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mcsim.errors import InputError
from mcsim.scenario import split_path


_EVERY = "*"


def _parts(path: str) -> list[str | int]:
    """``split_path`` with ``[*]`` (every element of a list) kept as ``"*"``."""
    return split_path(path.replace("[*]", "." + _EVERY))


class PriorKind(StrEnum):
    """Shapes of prior used in the registry."""

    UNIFORM = "uniform"
    LOGUNIFORM = "loguniform"
    TRUNCNORMAL = "truncnormal"  # normal(mu, sigma) truncated to [low, high]


class Scope(StrEnum):
    """Global parameters are shared by every incident; per-scenario ones belong to one."""

    GLOBAL = "global"
    SCENARIO = "scenario"


@dataclass(frozen=True)
class Prior:
    """A one-dimensional prior on ``[low, high]``.

    ``mu``/``sigma`` are used only by ``TRUNCNORMAL``. ``ppf`` maps a uniform number in
    [0, 1] to a value, which is what Sobol/Morris designs and inverse-CDF sampling need.
    """

    kind: PriorKind
    low: float
    high: float
    mu: float | None = None
    sigma: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.high <= self.low:
            raise ValueError(f"prior bounds must be finite with low < high, got {self}")
        if self.kind is PriorKind.LOGUNIFORM and self.low <= 0:
            raise ValueError("a log-uniform prior needs low > 0")
        if self.kind is PriorKind.TRUNCNORMAL and (
            self.mu is None or self.sigma is None or self.sigma <= 0
        ):
            raise ValueError("a truncated normal prior needs mu and sigma > 0")

    def ppf(self, u: float) -> float:
        """The value at quantile ``u`` of this prior."""
        u = min(max(float(u), 0.0), 1.0)
        if self.kind is PriorKind.UNIFORM:
            return self.low + u * (self.high - self.low)
        if self.kind is PriorKind.LOGUNIFORM:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        from scipy.stats import truncnorm

        a = (self.low - self.mu) / self.sigma  # type: ignore[operator]
        b = (self.high - self.mu) / self.sigma  # type: ignore[operator]
        return float(truncnorm.ppf(u, a, b, loc=self.mu, scale=self.sigma))

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def describe(self) -> str:
        if self.kind is PriorKind.TRUNCNORMAL:
            return f"N({self.mu:g}, {self.sigma:g}) on [{self.low:g}, {self.high:g}]"
        return f"{self.kind.value} [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class UncertainParameter:
    """One uncertain parameter: where it lives, what we believe about it, and why."""

    name: str
    path: str
    default: float
    prior: Prior
    scope: Scope
    source: str
    description: str
    unit: str = ""

    def __post_init__(self) -> None:
        if not self.prior.contains(self.default):
            raise ValueError(f"{self.name}: default {self.default} outside its prior")
        _parts(self.path)  # a well-formed field path


def _p(
    name: str,
    path: str,
    default: float,
    prior: Prior,
    scope: Scope,
    source: str,
    description: str,
    unit: str = "",
) -> UncertainParameter:
    return UncertainParameter(name, path, default, prior, scope, source, description, unit)


U, LU, TN = PriorKind.UNIFORM, PriorKind.LOGUNIFORM, PriorKind.TRUNCNORMAL
G, S = Scope.GLOBAL, Scope.SCENARIO

_REGISTRY: tuple[UncertainParameter, ...] = (
    _p(
        "haemorrhage_death_median_min",
        "physiology.haemorrhage_death_median_min",
        120.0,
        Prior(U, 60.0, 180.0),
        G,
        "Fox et al. Shock 2017: median 2.0-2.6 h from admission to haemorrhagic death; read "
        "as untreated from injury [assumption]; bounds span the plausible pre-admission share",
        "median untreated time from injury to death of a bleeding casualty",
        "min",
    ),
    _p(
        "haemorrhage_death_sigma",
        "physiology.haemorrhage_death_sigma",
        1.06,
        Prior(U, 0.6, 1.5),
        G,
        "Fox et al. 2017 (85 % within 6 h with a 2 h median gives 1.06) [derived]; bounds "
        "[assumption]",
        "log-sd of the bleeding clock",
    ),
    _p(
        "haemorrhage_compensated_share",
        "physiology.haemorrhage_compensated_share",
        0.5,
        Prior(U, 0.2, 0.8),
        G,
        "[assumption]: no published time to decompensation",
        "share of the bleeding clock spent with normal vital signs",
    ),
    _p(
        "haemorrhage_control_factor",
        "physiology.haemorrhage_control_factor",
        0.1,
        Prior(U, 0.02, 0.3),
        G,
        "[assumption]; direction Kragh et al. J Emerg Med 2009 (96 % vs 4 % survival)",
        "bleeding clock rate once a limb bleed is controlled",
    ),
    _p(
        "stable_critical_deterioration_factor",
        "physiology.stable_critical_deterioration_factor",
        0.25,
        Prior(U, 0.05, 1.0),
        G,
        "[assumption]",
        "rate on Sacco's table of critical casualties without ongoing haemorrhage",
    ),
    _p(
        "hospital_wait_care_factor",
        "physiology.hospital_wait_care_factor",
        0.5,
        Prior(U, 0.2, 1.0),
        G,
        "[assumption]",
        "deterioration rate while queueing in hospital",
    ),
    _p(
        "trauma_callin_median_min",
        "hospitals[*].callin_delay_min",
        23.0,
        Prior(TN, 5.0, 60.0, mu=23.0, sigma=10.0),
        G,
        "mean 29 +/- 23 min in a call-in exercise (Emerg Radiol 2011) gives a 23 min median "
        "[derived]",
        "median call-in delay of on-call trauma teams",
        "min",
    ),
    _p(
        "surgical_callin_median_min",
        "hospital_care.surgical_callin_median_min",
        137.0,
        Prior(U, 60.0, 240.0),
        G,
        "Blimark et al. SJTREM 2020: 43 % of called-in theatre teams in by 2 h [derived]; "
        "bounds [assumption]",
        "median call-in delay of theatre teams",
        "min",
    ),
    _p(
        "surgical_teams_per_or_on_duty",
        "hospital_care.surgical_teams_per_or_on_duty",
        0.24,
        Prior(U, 0.1, 0.5),
        G,
        "Blimark 2020: 105 teams for 433 theatres at 30 min; bounds [assumption] (day vs night)",
        "theatre teams at onset per operating room",
    ),
    _p(
        "choice_decay_per_min",
        "response.hospital_choice.decay_per_min",
        0.15,
        Prior(LU, 0.03, 0.6),
        G,
        "[assumption]: no calibrated choice model is published (CALIBRATION.md §3.4)",
        "self-presenters' utility lost per minute of driving",
        "1/min",
    ),
    _p(
        "choice_trauma_centre_utility",
        "response.hospital_choice.trauma_centre_utility",
        0.5,
        Prior(U, 0.0, 2.0),
        G,
        "[assumption] (CALIBRATION.md §3.4)",
        "self-presenters' pull of a level 1 or 2 trauma centre",
    ),
    _p(
        "choice_size_utility",
        "response.hospital_choice.size_utility_per_log_bed",
        0.3,
        Prior(U, 0.0, 1.5),
        G,
        "[assumption] (CALIBRATION.md §3.4)",
        "self-presenters' pull per log(1 + ED beds)",
    ),
)


def registry() -> tuple[UncertainParameter, ...]:
    """Every declared uncertain parameter, in a stable order."""
    return _REGISTRY


def get_parameter(name: str) -> UncertainParameter:
    """The parameter called ``name``; an InputError listing the known names otherwise."""
    for p in _REGISTRY:
        if p.name == name:
            return p
    known = ", ".join(p.name for p in _REGISTRY)
    raise InputError(f"unknown uncertain parameter {name!r} (known: {known})")


def apply_values(data: Mapping[str, Any], values: Mapping[str, float]) -> dict[str, Any]:
    """A copy of raw scenario ``data`` with each parameter (by name) set to its value.

    ``[*]`` in a parameter's path sets every element of that list (every hospital).
    Values outside the prior's bounds are refused: a posterior or design never needs them.
    """
    out = copy.deepcopy(dict(data))
    for name, value in values.items():
        p = get_parameter(name)
        if not p.prior.contains(float(value)):
            raise InputError(
                f"{name} = {value!r} is outside its prior {p.prior.describe()}", path=p.path
            )
        _set(out, _parts(p.path), float(value), p.path)
    return out


def _set(node: Any, parts: list[str | int], value: float, path: str) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(head, int) or head == _EVERY:
        if not isinstance(node, list):
            raise InputError("path goes through a value that is not a list", path=path)
        targets = range(len(node)) if head == _EVERY else [head]
        for i in targets:
            if rest:
                _set(node[i], rest, value, path)
            else:
                node[i] = value
        return
    if not isinstance(node, dict):
        raise InputError("path goes through a value that is not a mapping", path=path)
    if rest:
        nxt = rest[0]
        _set(
            node.setdefault(head, [] if isinstance(nxt, int) or nxt == _EVERY else {}),
            rest,
            value,
            path,
        )
    else:
        node[head] = value
