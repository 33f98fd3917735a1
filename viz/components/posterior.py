"""The posterior in the set-up panel, and the draws that Explore's and Compare's replications run.

:data:`posterior_name` is what the set-up panel's select chose ("" for none). When replications
start (:mod:`.replications`), :func:`plan_for` turns it into a :class:`Plan`: the list of
draws, seed-only without a posterior, or (seed, parameter set) pairs from it
(:func:`viz.posteriors.scenario_draws`). Compare asks once and runs A and B on the same plan.
A posterior that cannot be opened, or does not apply to the scenario, is an :class:`InputError`
the tabs show inline (:data:`plan_error`); nothing runs with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import solara

from mcsim.errors import InputError
from mcsim.replications import Draw, seed_draws
from viz import posteriors, results_files
from viz.components import store
from viz.runner import RunView
from viz.sweeps import results_root

#: The posterior chosen in the set-up panel (a name of :func:`viz.posteriors.list_posteriors`),
#: "" for none; the one given by ``mcsim app --posterior`` is chosen at start.
posterior_name = solara.reactive(
    results_files.STARTUP if results_files.startup_folder(posteriors.POSTERIOR_ENV) else ""
)
#: Why the latest replications could not use the posterior ("" when they could).
plan_error = solara.reactive("")

#: Opened posteriors by (name, resolved file, modification time): read once per change.
_opened: dict[tuple[str, str, float], posteriors.LoadedPosterior] = {}


def loaded(name: str | None = None) -> posteriors.LoadedPosterior | None:
    """The posterior chosen (None for none), opened once per file version.

    Raises:
        InputError: it cannot be opened (outside the root, damaged, not a posterior).
    """
    chosen = posterior_name.value if name is None else name
    if not chosen:
        return None
    folder = results_files.open_folder(chosen, posteriors.POSTERIOR_ENV)
    f = folder / posteriors.POSTERIOR_FILE
    try:
        key = (chosen, str(f.resolve()), f.stat().st_mtime)
    except OSError:
        key = (chosen, str(f), -1.0)
    if key not in _opened:
        _opened.clear()
        _opened[key] = posteriors.open_posterior(chosen)
    return _opened[key]


def scenario_id() -> str:
    """The chosen scenario's name as posteriors and sensitivity results know it (file stem)."""
    up = store.uploaded.value
    if store.scenario_name.value == "" and up is not None:
        return Path(up[0]).stem
    return store.scenario_name.value


@dataclass(frozen=True)
class Plan:
    """What one set of replications runs: the draws, and where their parameters come from.

    Attributes:
        draws: the draws, in run order (the same list for Compare's A and B).
        name: the posterior's name in the set-up ("" for seeds only).
        label: the posterior's label for the words on the cards ("" for seeds only).
        note: a remark on the set-up (a typed value the draws replace), or "".
    """

    draws: list[Draw]
    name: str = ""
    label: str = ""
    note: str = ""

    def known(self, result) -> dict:
        """Runs already done: the first seed's, unless the draws change its parameters."""
        return {} if self.name else {0: result}

    def words(self) -> str:
        """What the intervals hold, in words (:func:`viz.posteriors.uncertainty_words`)."""
        return posteriors.uncertainty_words(len(self.draws), self.label or None)


def plan_for(view: RunView, n: int, name: str | None = None) -> Plan:
    """The draws of ``n`` replications of ``view``'s scenario, from its seed on.

    Raises:
        InputError: the posterior cannot be opened or does not apply (one line).
    """
    post = loaded(name)
    seed = view.setup.seed
    if post is None:
        return Plan(seed_draws(seed, n))
    draws = posteriors.scenario_draws(post.posterior, view.scenario, scenario_id(), n, seed)
    note = posteriors.replaced_setup(draws, view.setup.callin_delay_min)
    return Plan(draws, post.name, post.label, note)


@solara.component
def PosteriorPicker():
    """The set-up panel's posterior select, with what it holds or why it cannot be used."""
    version, set_version = solara.use_state(0)
    root = results_root()
    found = solara.use_memo(lambda: posteriors.list_posteriors(root), [str(root), version])
    items = [{"text": "none: seed noise only", "value": ""}]
    items += [{"text": e.label, "value": e.name} for e in found]
    chosen = posterior_name.value if posterior_name.value in [e.name for e in found] else ""

    def choose(v: str | None) -> None:
        posterior_name.value = v or ""
        plan_error.value = ""  # said of the previous choice

    with solara.Div(classes=["mcsim-posterior"]):
        with solara.Row(gap="4px", style={"align-items": "center"}):
            solara.v.Select(
                label="Parameter posterior", items=items, v_model=chosen,
                on_v_model=choose,
                class_="mcsim-posterior-select", dense=True,
            )  # fmt: skip
            solara.Button(icon_name="mdi-refresh", icon=True, small=True,
                          on_click=lambda: set_version(version + 1),
                          classes=["mcsim-posterior-refresh"])  # fmt: skip
        if not found:
            solara.Div(
                children=[f"No calibration folder under {root} (`mcsim calibrate FILE --out "
                          f"{root}/NAME`, or `mcsim app --posterior DIR`)."],
                classes=["mcsim-posterior-none"], style={"font-size": "0.75em", "color": "#555"},
            )  # fmt: skip
        if chosen:
            PosteriorInfo(chosen, scenario_id())


@solara.component
def PosteriorInfo(name: str, sid: str):
    """What the chosen posterior draws, or (inline, in red) why it cannot be used here."""

    def check() -> tuple[str, list[str]]:
        try:
            post = loaded(name)
            assert post is not None
            posteriors.scenario_draws(post.posterior, store.current_scenario(), sid, 1, 0)
        except InputError as exc:
            return str(exc), []
        return "", post.describe()

    problem, lines = solara.use_memo(check, [name, sid])
    if problem:
        solara.Error(f"Posterior not used: {problem}", dense=True,
                     classes=["mcsim-posterior-error"])  # fmt: skip
        return
    with solara.Div(classes=["mcsim-posterior-info"],
                    style={"font-size": "0.75em", "color": "#333"}):  # fmt: skip
        solara.Text("Replications draw a seed and these parameters from it:")
        for line in lines:
            solara.Div(children=[f"• {line}"])


@solara.component
def UncertaintyNote(plan: Plan | None):
    """One line under the KPI cards: what the replications' intervals hold, in words.

    ``plan`` is None while only the first run is on screen: with a posterior chosen, that run
    used the scenario's own parameter values, which the line says.
    """
    if plan_error.value:
        solara.Error(f"Replications not run: {plan_error.value}", dense=True,
                     classes=["mcsim-plan-error"])  # fmt: skip
        return
    if plan is None:
        if posterior_name.value:
            solara.Div(
                children=["This first run uses the scenario's own parameter values; the "
                          "posterior's draws follow."],
                classes=["mcsim-uncertainty-first"], style={"font-size": "0.8em", "color": "#555"},
            )  # fmt: skip
        return
    solara.Div(
        children=[f"Intervals over {plan.words()}."],
        classes=["mcsim-uncertainty-note"], style={"font-size": "0.85em", "color": "#333"},
    )  # fmt: skip
    if plan.note:
        solara.Div(children=[plan.note], classes=["mcsim-uncertainty-setup"],
                   style={"font-size": "0.8em", "color": "#8a5a00"})  # fmt: skip
