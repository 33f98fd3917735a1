"""Calibration posteriors in the app: find them, open them, turn them into replication draws.

Without a posterior the app's replications differ by seed only, so the KPI cards' intervals
and the bands over time hold seed noise alone, while most of what drives an MCI outcome is an
uncertain parameter (issue 12). With a posterior loaded, replication ``r`` runs with draw ``r``
of :func:`mcsim.uncertainty.posterior.draw_parameter_sets` — a run seed *and* a parameter set —
and Compare gives A and B the same list of draws (common random numbers and common parameter
values), so the paired B − A holds only what the policy changes.

A posterior names registry parameters (``haemorrhage_death_median_min``, per-incident ones as
``name@incident``); a replication draw sets scenario field paths
(``hospitals[2].callin_delay_min``).
:func:`scenario_draws` keeps the values meant for the chosen scenario
(:func:`~mcsim.uncertainty.posterior.values_for_scenario`), writes each registry path with its
``[*]`` expanded over the scenario's own lists, and checks the first draw on the scenario, so a
posterior that does not apply is one :class:`NotApplicable` line, never a failed run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcsim.errors import InputError
from mcsim.replications import Draw, apply_draw
from mcsim.scenario import Scenario, split_path
from mcsim.uncertainty.posterior import (
    POSTERIOR_FILE,
    Posterior,
    draw_parameter_sets,
    load_posterior,
    values_for_scenario,
)
from mcsim.uncertainty.registry import get_parameter
from viz import results_files

#: Environment variable naming the posterior given at start-up (``mcsim app --posterior``).
POSTERIOR_ENV = "MCSIM_POSTERIOR_DIR"


class NotApplicable(InputError):
    """The posterior's parameters do not apply to the chosen scenario (the message says why)."""


@dataclass(frozen=True)
class PosteriorEntry:
    """A posterior the set-up panel offers: ``name`` to open it by, ``label`` to show."""

    name: str
    label: str


def is_posterior_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a calibration's ``posterior.parquet`` (a regular file)."""
    f = folder / POSTERIOR_FILE
    return f.is_file() and not f.is_symlink()


def list_posteriors(root: Path | None = None) -> list[PosteriorEntry]:
    """The start-up posterior (if any), then the calibration folders under the results root."""
    out = []
    start = results_files.startup_folder(POSTERIOR_ENV)
    if start is not None:
        out.append(PosteriorEntry(results_files.STARTUP, f"{start.name} (mcsim app --posterior)"))
    for name, _ in results_files.find(is_posterior_folder, root=root):
        out.append(PosteriorEntry(name, name))
    return out


@dataclass(frozen=True)
class LoadedPosterior:
    """An opened posterior and what the app calls it."""

    name: str
    label: str
    posterior: Posterior

    def describe(self) -> list[str]:
        """One line per parameter: its description and the central 90 % of its posterior."""
        q = self.posterior.quantiles((0.05, 0.5, 0.95))
        lines = []
        for name in self.posterior.names:
            base, _, incident = name.partition("@")
            p = get_parameter(base)
            unit = f" {p.unit}" if p.unit else ""
            where = f" (for {incident})" if incident else ""
            lo, med, hi = (float(q.loc[name, k]) for k in (0.05, 0.5, 0.95))
            lines.append(
                f"{p.description}{where}: median {med:.3g}{unit}, 90 % in "
                f"[{lo:.3g}, {hi:.3g}]{unit} (prior {p.prior.describe()})"
            )
        return lines


def open_posterior(name: str, root: Path | None = None) -> LoadedPosterior:
    """The posterior offered as ``name`` (confined to the results root, as the Sweeps tab).

    Raises:
        InputError: outside the root, not a calibration folder, a damaged or foreign file.
    """
    if not name:
        raise InputError("choose a posterior from the list first")
    folder = results_files.open_folder(name, POSTERIOR_ENV, root)
    target = folder / POSTERIOR_FILE
    if target.is_symlink() and not results_files.inside(target, folder):
        raise InputError("is a link that leads out of its folder", file=str(target))
    post = load_posterior(folder)
    label = folder.name if name == results_files.STARTUP else name
    return LoadedPosterior(name, label, post)


def _walk(node: Any, parts: list[str | int]) -> Any:
    for part in parts:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return None
            node = node[part]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def field_paths(data: dict[str, Any], path: str) -> list[str]:
    """A registry path as concrete field paths of ``data``: ``[*]`` over the list's elements.

    ``hospitals[*].callin_delay_min`` in a scenario with three hospitals gives three paths; a
    ``[*]`` through an empty or missing list gives none (the parameter does not apply).
    """
    head, star, rest = path.partition("[*]")
    if not star:
        return [path]
    items = _walk(data, list(split_path(head)))
    if not isinstance(items, list):
        return []
    out = []
    for i in range(len(items)):
        out += field_paths(data, f"{head}[{i}]{rest}")
    return out


def overrides_for(
    values: dict[str, float], data: dict[str, Any], scenario_id: str
) -> dict[str, float]:
    """Field path → value for one parameter set, for the scenario ``data`` called ``scenario_id``.

    ``data`` is the scenario as plain data (``model_dump(mode="json", by_alias=True)``).
    """
    out: dict[str, float] = {}
    for name, v in values_for_scenario(values, scenario_id).items():
        for path in field_paths(data, get_parameter(name).path):
            out[path] = float(v)
    return out


def scenario_draws(
    post: Posterior, scenario: Scenario, scenario_id: str, n: int, seed: int
) -> list[Draw]:
    """``n`` replication draws for ``scenario`` from the posterior (draw ``r``: seed ``seed + r``).

    The same arguments give the same draws, so Compare's A and B, asked with the same seed and
    count, run on identical (seed, parameter set) pairs.

    Raises:
        NotApplicable: no parameter of the posterior applies to this scenario, or its values
            make the scenario invalid (checked on the first draw, before anything runs).
    """
    pairs = draw_parameter_sets(post, n, seed)
    data = scenario.model_dump(mode="json", by_alias=True)
    draws = [Draw(s, overrides_for(values, data, scenario_id)) for s, values in pairs]
    if not draws[0].overrides:
        others = sorted({x.partition("@")[2] for x in post.names if "@" in x} - {scenario_id})
        fitted = f" (it was fitted for {', '.join(others)})" if others else ""
        raise NotApplicable(
            f"none of its parameters ({', '.join(post.names)}) applies to the scenario "
            f"{scenario_id}{fitted}: choose another posterior or none",
            file=post.source,
        )
    try:
        apply_draw(scenario, draws[0])
    except InputError as exc:
        where = f" at {exc.path}" if exc.path else ""
        raise NotApplicable(
            f"its values do not fit the scenario {scenario_id}{where}: {exc.message}",
            file=post.source,
        ) from None
    return draws


def uncertainty_words(n: int, posterior_label: str | None) -> str:
    """What the replications' intervals hold, in words, for the cards and the bands."""
    if posterior_label:
        return f"{n} draws from posterior {posterior_label}: seed and parameter uncertainty"
    return (
        f"{n} seeds: seed noise only (load a posterior in the set-up panel for parameter "
        "uncertainty)"
    )


def replaced_setup(draws: list[Draw], callin_delay_min: float | None) -> str:
    """A note when the draws replace a value typed in the set-up panel ("" when none does).

    The posterior's values are applied after the set-up (they are what the calibration
    says), so a call-in delay typed in the panel does not hold in a run that draws one.
    """
    if callin_delay_min is None or not draws:
        return ""
    if any(p.endswith(".callin_delay_min") for p in draws[0].overrides):
        return (
            f"The posterior draws the hospitals' call-in delay: the set-up's "
            f"{callin_delay_min:g} min does not hold in these runs."
        )
    return ""
