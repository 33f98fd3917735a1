"""Where casualties who leave without EMS go: a distance-decay choice among nearby hospitals.

Why this module exists: walking wounded and casualties driven by bystanders do not all reach
the single nearest hospital. In real incidents the closest hospital took 35-80 % of all
casualties (Las Vegas 2017 about 36 %, Orlando 2016 about 80 %) and many hospitals received
some (CALIBRATION.md §3). People choose among the hospitals they can reach quickly, drawn to the
large, well-known and trauma-designated ones (and, in Las Vegas, to the one a phone search
returned first). No calibrated model of self-presenters' choice has been published
(CALIBRATION.md §3.4), so this is the simplest one with those ingredients: a multinomial logit
whose utility falls linearly with travel time and rises with trauma designation, size and a
per-hospital "known" bonus. Its parameters are scenario fields (``response.hospital_choice``),
labelled [assumption] in docs/model.md, for the calibration to fit.

Pure functions: they see travel times and hospital facts, never the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChoiceOption:
    """One hospital as a self-presenter sees it.

    Attributes:
        travel_min: driving minutes from the scene (``inf`` if unreachable).
        trauma_level: 1-3 for designated trauma centres, 0 otherwise.
        beds: size proxy (ED beds).
        known: the hospital's own attractiveness bonus (utility units).
    """

    travel_min: float
    trauma_level: int
    beds: int
    known: float = 0.0


def choice_probabilities(
    options: Sequence[ChoiceOption],
    *,
    decay_per_min: float,
    trauma_centre_utility: float,
    size_utility_per_log_bed: float,
    candidates: int,
) -> list[float]:
    """Probability of each option being chosen (0 for unreachable or beyond the candidates).

    The ``candidates`` nearest reachable options (ties by order) are considered; utility is
    ``-decay_per_min * travel + trauma_centre_utility * [level 1 or 2] +
    size_utility_per_log_bed * ln(1 + beds) + known``.

    Returns:
        One probability per option, summing to 1 (all 0 when none is reachable).
    """
    order = sorted(
        (i for i, o in enumerate(options) if math.isfinite(o.travel_min)),
        key=lambda i: (options[i].travel_min, i),
    )[: max(1, candidates)]
    probs = [0.0] * len(options)
    if not order:
        return probs
    utils = []
    for i in order:
        o = options[i]
        u = -decay_per_min * o.travel_min + o.known
        if o.trauma_level in (1, 2):
            u += trauma_centre_utility
        u += size_utility_per_log_bed * math.log1p(max(0, o.beds))
        utils.append(u)
    top = max(utils)
    weights = [math.exp(u - top) for u in utils]
    total = sum(weights)
    for i, w in zip(order, weights, strict=True):
        probs[i] = w / total
    return probs


def choose(probabilities: Sequence[float], u: float) -> int:
    """Index chosen by inverse CDF with uniform ``u`` (-1 when every probability is 0)."""
    acc = 0.0
    last = -1
    for i, p in enumerate(probabilities):
        if p <= 0.0:
            continue
        acc += p
        last = i
        if u < acc:
            return i
    return last
