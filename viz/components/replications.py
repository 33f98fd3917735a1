"""Replications in Explore and Compare: the background runs, their progress, cards and tables.

The first seed is shown as soon as it is drawn (:func:`viz.components.store.explore_run` and
``compare_run`` are unchanged, so Run → first result stays as fast as before); only then do
the other seeds run, in a worker thread of their own (:func:`explore_reps`, :func:`compare_reps`)
with a progress bar. They reuse the first seed's run instead of running it again, and stop as
soon as a new Run or comparison starts, so they never slow a newer first result.

The hooks :func:`use_explore_replications` and :func:`use_compare_replications` start them when
a first result appears that has not been replicated yet (or when the number of runs changes).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import solara
from solara.lab import task

from mcsim.errors import InputError
from mcsim.replications import Replications, Stopped, run_replications
from viz import replications as vr
from viz.components import posterior, store

#: Runs per Explore run and per comparison (the first seed included).
count = solara.reactive(vr.DEFAULT_COUNT)
#: ``(runs done, runs in all)`` of the replications in progress, per tab.
explore_done = solara.reactive((0, 0))
compare_done = solara.reactive((0, 0))
#: What the latest replications were started for: ``(id of the first result, runs)``, and
#: the posterior's name after them when one is chosen.
_explore_key: solara.Reactive[tuple | None] = solara.reactive(None)
_compare_key: solara.Reactive[tuple | None] = solara.reactive(None)


@dataclass
class ExploreReps:
    """Explore's replications: the first result they extend, the runs, the typical run drawn."""

    source: store.Explored
    reps: Replications
    shown: int
    median: store.Explored
    bands: vr.BandsRenderer
    plan: posterior.Plan


@dataclass
class CompareReps:
    """Compare's replications of A and B on the same draws, and the paired table."""

    source: store.Compared
    a: Replications
    b: Replications
    rows: list[vr.PairedRow]
    bands_png: bytes
    plan: posterior.Plan
    #: with a posterior, A and B re-run at its first draw (the first seed *and* its parameter
    #: set), which the one-seed table and the maps then show; None without one (the first
    #: result is that draw already)
    drawn: store.Compared | None = None


def _drawn(view, like: store.Explored) -> store.Explored:
    """``view`` with a map and charts of the same kinds as ``like``'s (the first seed's).

    Built with the classes of the first result's own map and charts (whatever
    :func:`store.explore_run` draws with), so the typical run looks exactly like the first.
    """
    assert like.map is not None and like.charts is not None
    return store.Explored(view=view, map=type(like.map)(view), charts=type(like.charts)(view))


@task
def explore_reps(source: store.Explored, n: int, plan: posterior.Plan) -> ExploreReps | None:
    """Replicate Explore's run over the plan's draws, then draw the typical run.

    None when a newer Run stopped it (that Run's first result then starts its own).
    """
    view = source.view

    def stop() -> bool:
        return not explore_reps.is_current() or store.explore_run.pending

    def progress(done: int, total: int) -> None:
        explore_done.value = (done, total)
        explore_reps.progress = 90 * done / total

    try:
        reps = run_replications(
            view.scenario,
            plan.draws,
            **view.setup.policies(),
            known=plan.known(view.result),
            progress=progress,
            should_stop=stop,
        )
    except Stopped:
        return None
    shown = vr.median_index(reps)
    # the first result is draw 0 itself only without a posterior (it ran at the scenario's values)
    reuse = shown == 0 and not plan.name
    median = source if reuse else _drawn(vr.rerun(view, reps.draws[shown]), source)
    bands = vr.BandsRenderer(reps, shown)
    bands.png(0)
    explore_reps.progress = 100
    return ExploreReps(source=source, reps=reps, shown=shown, median=median, bands=bands,
                       plan=plan)  # fmt: skip


@task
def compare_reps(source: store.Compared, n: int, plan: posterior.Plan) -> CompareReps | None:
    """Replicate both sides of a comparison on the same draws (common random numbers).

    With a posterior both sides also share each draw's parameter set. None when a newer
    comparison stopped it.
    """
    a, b = source.a, source.b
    draws = plan.draws

    def stop() -> bool:
        return not compare_reps.is_current() or store.compare_run.pending

    def progress_of(offset: int):
        def progress(done: int, total: int) -> None:
            compare_done.value = (offset + done, 2 * total)
            compare_reps.progress = 95 * (offset + done) / (2 * total)

        return progress

    side = {}
    for k, view in enumerate((a, b)):
        try:
            side[k] = run_replications(
                view.scenario,
                draws,
                **view.setup.policies(),
                known=plan.known(view.result),
                progress=progress_of(k * n),
                should_stop=stop,
            )
        except Stopped:
            return None
    rows = vr.paired_rows(side[0], side[1])
    png = vr.compare_bands_png(side[0], side[1])
    # the first result ran at the scenario's own values: with a posterior, show its first
    # draw instead, so that the seed table and maps agree with the intervals above them
    drawn = store.compared(vr.rerun(a, draws[0]), vr.rerun(b, draws[0])) if plan.name else None
    compare_reps.progress = 100
    return CompareReps(source=source, a=side[0], b=side[1], rows=rows, bands_png=png,
                       plan=plan, drawn=drawn)  # fmt: skip


def _plan(view, n: int, chosen: str) -> posterior.Plan | None:
    """The replications' draws; None (and the reason shown inline) if the posterior fails."""
    try:
        plan = posterior.plan_for(view, n, chosen)
    except InputError as exc:
        posterior.plan_error.value = str(exc)
        return None
    posterior.plan_error.value = ""
    return plan


def use_explore_replications(explored: store.Explored | None, finished: bool) -> None:
    """Start :func:`explore_reps` once the run ``explored`` has finished, unless started.

    With a posterior chosen even one run is replicated: the first result ran at the
    scenario's own values, the draw at the posterior's.
    """
    n = count.value
    chosen = posterior.posterior_name.value
    ready = explored is not None and finished and explored.charts is not None

    def start() -> None:
        if not ready or (n < 2 and not chosen):
            return
        key = (id(explored), n, chosen) if chosen else (id(explored), n)
        if _explore_key.value == key:
            return
        _explore_key.value = key
        assert explored is not None
        plan = _plan(explored.view, n, chosen)
        if plan is None:
            return
        explore_done.value = (0 if chosen else 1, n)
        explore_reps(explored, n, plan)

    solara.use_effect(start, [id(explored), ready, n, chosen])


def use_compare_replications(done: store.Compared | None, finished: bool) -> None:
    """Start :func:`compare_reps` once the comparison ``done`` has finished, unless started."""
    n = count.value
    chosen = posterior.posterior_name.value
    ready = done is not None and finished

    def start() -> None:
        if not ready or (n < 2 and not chosen):
            return
        key = (id(done), n, chosen) if chosen else (id(done), n)
        if _compare_key.value == key:
            return
        _compare_key.value = key
        assert done is not None
        plan = _plan(done.a, n, chosen)  # one plan for both sides: the same draws
        if plan is None:
            return
        compare_done.value = (0 if chosen else 2, 2 * n)
        compare_reps(done, n, plan)

    solara.use_effect(start, [id(done), ready, n, chosen])


def _current(plan: posterior.Plan, n: int) -> bool:
    return plan.name == posterior.posterior_name.value and len(plan.draws) == n


def explore_result(explored: store.Explored | None) -> ExploreReps | None:
    """The finished replications of ``explored`` (None while they run, or for another run)."""
    r = explore_reps.value if explore_reps.finished else None
    if r is None or explored is None or r.source is not explored:
        return None
    if not _current(r.plan, count.value):
        return None
    return r


def compare_result(done: store.Compared | None) -> CompareReps | None:
    """The finished replications of the comparison ``done`` (None otherwise)."""
    r = compare_reps.value if compare_reps.finished else None
    if r is None or done is None or r.source is not done or not _current(r.plan, count.value):
        return None
    return r


def chosen_posterior_label() -> str:
    """The label of the posterior chosen in the set-up ("" for none, or one that fails).

    Replications are shown only while the set-up still names the posterior they ran with
    (:func:`explore_result`, :func:`compare_result`), so this is the one they drew from.
    """
    try:
        post = posterior.loaded()
    except InputError:
        return ""
    return "" if post is None else post.label


def posterior_label(reps: Replications | None) -> str:
    """The posterior the shown replications drew their parameters from ("" for seeds only)."""
    if reps is None or not any(d.overrides for d in reps.draws):
        return ""
    return chosen_posterior_label()


def cards(done: ExploreReps) -> list[vr.Card]:
    """The replicated KPI cards; with a posterior each interval says it holds the parameters'."""
    out = vr.cards(done.reps)
    if not done.plan.name:
        return out
    return [dataclasses.replace(c, interval=f"{c.interval} · seed + parameter uncertainty")
            if c.interval.startswith("95 %") else c for c in out]  # fmt: skip


@solara.component
def CountInput():
    """How many runs (seeds) to replicate; a number outside 1..MAX_COUNT is refused inline."""
    error, set_error = solara.use_state("")

    def on_value(v: int | None) -> None:
        if v is None or not 1 <= int(v) <= vr.MAX_COUNT:
            set_error(f"runs must be a whole number from 1 to {vr.MAX_COUNT}")
            return
        set_error("")
        count.value = int(v)

    with solara.Div(classes=["mcsim-reps-count"], style={"max-width": "160px"}):
        solara.InputInt("Runs (seeds)", value=count.value, on_value=on_value)
        if error:
            solara.Text(error, classes=["mcsim-reps-count-error"],
                        style={"color": "#b00020", "font-size": "0.8em"})  # fmt: skip


@solara.component
def Progress(run, done: tuple[int, int], reps: Replications | None, what: str):
    """The replications' progress bar while they run; how many runs and seeds once done."""
    if run.pending:
        k, total = done
        with solara.Row(gap="8px", style={"align-items": "center"}):
            with solara.Div(style={"flex-grow": "1", "min-width": "160px"}):
                solara.ProgressLinear(run.progress or True, classes=["mcsim-reps-progress"])
            solara.Text(f"{what}: {k} of {total} runs", classes=["mcsim-reps-running"],
                        style={"font-size": "0.85em"})  # fmt: skip
    elif run.error:
        solara.Error(f"replications failed: {run.exception}", classes=["mcsim-reps-error"],
                     dense=True)  # fmt: skip
    elif reps is not None:
        seeds = reps.draws[0].seed, reps.draws[-1].seed
        text = f"{reps.n} runs, seeds {seeds[0]}–{seeds[1]}"
        if label := posterior_label(reps):
            text += f", parameters drawn from posterior {label}"
        solara.Text(text, classes=["mcsim-reps-done"],
                    style={"font-size": "0.85em", "color": "#444"})  # fmt: skip


@solara.component
def PairedTable(rows: list[vr.PairedRow], labels: tuple[str, str], n: int):
    """A and B over the same runs with B − A and its interval; a winner only outside noise."""
    head = ["KPI", f"A ({labels[0]})", f"B ({labels[1]})", "B − A [95 % CI]", "B better in",
            "verdict"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        a = f"**{r.a}**" if r.winner == "A" else r.a
        b = f"**{r.b}**" if r.winner == "B" else r.b
        verdict = f"**{r.verdict}**" if r.winner else r.verdict
        lines.append(f"| {r.label} | {a} | {b} | {r.diff} | {r.b_better} | {verdict} |")
    with solara.Div(classes=["mcsim-paired-table"]):
        label = chosen_posterior_label()  # shown replications ran with the chosen one
        same = (
            f"{n} draws** from posterior {label}, the same seed and parameter "
            "set for A and B (seed and parameter uncertainty; common random numbers)"
            if label
            else f"{n} runs** on the same seeds (common random numbers)"
        )
        solara.Markdown(
            f"Over **{same}: means with 95 % "
            "intervals, and the paired difference B − A. A winner is named (in bold) only where "
            "the interval of B − A excludes 0; otherwise the difference is within noise."
        )
        solara.Markdown("\n".join(lines))
