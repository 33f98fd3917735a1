"""The Exercise and Replay tabs: play a tabletop exercise live, then replay exercise logs.

**Exercise.** The facilitator picks a scenario and a seed and presses Start; the run advances
only when asked (+5 min, +15 min, run to minute N) and pauses there
(:meth:`mcsim.exercise.ExerciseSession.run`). The map, the KPI cards and the charts show the
run up to the current minute (its event log so far, indexed by :class:`viz.state.Replay`).
An action form, generated from the action kinds' models (:mod:`viz.exercise`), applies an
inject or a decision now; a refused action is shown inline and changes nothing. Export writes
the exercise log (saved in a folder and offered as a download); Report writes the
after-action report.

**Replay.** An exercise log (uploaded, the live exercise's, or a shipped script played on the
spot) is replayed to its end, checked against its digest, and shown under a scrubber with its
actions marked on a time line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solara

from mcsim.errors import InputError
from mcsim.exercise import ACTIONS, ExerciseSession, ReplayMismatch
from viz import charts, mapview, runner
from viz import exercise as ex
from viz.components import store
from viz.components.explore import KpiCards, view_caption
from viz.components.mapview import MapFigure
from viz.components.setup import FileInput
from viz.runner import RunView

#: The scenario choice that means "what the set-up panel is set to" (knobs and policies).
FROM_SETUP = "(set-up panel)"
#: Time-control steps, minutes.
STEPS = (5, 15)
#: The action kind the form opens on.
FIRST_KIND = "hospital_diversion"


@dataclass
class Live:
    """A live exercise and what shows its current minute."""

    session: ExerciseSession
    view: RunView
    map: mapview.InteractiveMap
    charts: charts.TimeseriesRenderer
    timeline: charts.TimelineRenderer


@dataclass
class Shown:
    """A replayed log and its renderers."""

    replayed: ex.Replayed
    map: mapview.InteractiveMap
    charts: charts.TimeseriesRenderer
    timeline: charts.TimelineRenderer

    @property
    def last(self) -> int:
        """The scrubber's last minute."""
        return int(-(-self.replayed.view.last_min // 1))


# ----------------------------------------------------------------------- per-tab state

#: Start form: scenario (shipped name or FROM_SETUP), seed, title.
ex_scenario = solara.reactive(next(iter(runner.shipped_scenarios())))
ex_seed = solara.reactive(0)
ex_title = solara.reactive("")
#: The live exercise, or None before Start.
live: solara.Reactive[Live | None] = solara.reactive(None)
#: Errors shown inline: of the start/time controls, and of the action form.
time_error = solara.reactive("")
action_error = solara.reactive("")
#: The last applied action's one-line summary (a confirmation under the form).
action_done = solara.reactive("")
#: "Run to minute" field.
run_to = solara.reactive(60)
#: The action form: its kind and values.
action_kind = solara.reactive(FIRST_KIND)
form_values: solara.Reactive[dict[str, Any]] = solara.reactive({})
#: Exported log and report: (file saved, its bytes).
exported: solara.Reactive[tuple[Path, bytes] | None] = solara.reactive(None)
reported: solara.Reactive[tuple[Path, bytes] | None] = solara.reactive(None)
#: Replay tab: what is shown, its minute, its error, the shipped script chosen.
shown: solara.Reactive[Shown | None] = solara.reactive(None)
replay_minute = solara.reactive(0)
replay_error = solara.reactive("")
replay_script = solara.reactive(next(iter(ex.shipped_scripts()), ""))


def reset() -> None:
    """Back to the initial state (no exercise, nothing replayed)."""
    ex_scenario.value = next(iter(runner.shipped_scenarios()))
    ex_seed.value = 0
    ex_title.value = ""
    live.value = None
    for r in (time_error, action_error, action_done):
        r.value = ""
    run_to.value = 60
    action_kind.value = FIRST_KIND
    form_values.value = {}
    exported.value = None
    reported.value = None
    shown.value = None
    replay_minute.value = 0
    replay_error.value = ""
    replay_script.value = next(iter(ex.shipped_scripts()), "")


# ----------------------------------------------------------------------- live logic


def show_live(session: ExerciseSession, old: Live | None = None) -> Live:
    """Index the session's events so far and draw them (keeping the old map if possible).

    The same interactive map, rebound to the later state, keeps its widget on the page: an
    inject at the paused minute (a road closed, a hospital on diversion) is drawn at once.
    """
    view = ex.model_view(session.model, session.scenario, session.seed)
    if old is not None and old.map.rebind(view):
        renderer = old.map
    else:
        renderer = mapview.InteractiveMap(view)
    marks = ex.session_marks(session)
    timeline = charts.TimelineRenderer(marks, session.model.horizon_min)
    return Live(session, view, renderer, charts.TimeseriesRenderer(view), timeline)


def start() -> None:
    """Start an exercise on the chosen scenario and seed (the model stands at minute 0)."""
    name = ex_scenario.value
    try:
        if name == FROM_SETUP:
            setup = store.checked_setup()
            scenario = runner.apply_setup(store.current_scenario(), setup)
            policies = setup.policies()
            file = "set-up panel"
        else:
            scenario = runner.load_shipped(name)
            policies = {}
            file = runner.shipped_scenarios()[name].name
        session = ExerciseSession(
            scenario, int(ex_seed.value), title=ex_title.value, scenario_file=file, **policies
        )
    except InputError as exc:
        time_error.value = str(exc)
        return
    time_error.value = action_error.value = action_done.value = ""
    exported.value = reported.value = None
    live.value = show_live(session)


def advance_to(minute: float) -> None:
    """Run the live exercise to ``minute`` (capped at the horizon) and pause there."""
    cur = live.value
    if cur is None:
        return
    s = cur.session
    if s.finished:
        time_error.value = "the run is over"
        return
    if minute <= s.now:
        time_error.value = f"minute {minute:g} is not after now ({s.now:g})"
        return
    time_error.value = action_done.value = ""
    end = s.model.horizon_min
    s.run(until=min(minute, end))
    if minute >= end:
        s.run()
    live.value = show_live(s, cur)


def current_specs(cur: Live) -> list[ex.FieldSpec]:
    """The form's fields for the chosen kind on the live model."""
    ctx = ex.FormContext.of(cur.session.model)
    return ex.field_specs(action_kind.value, ctx, cur.session.scenario)


def form_value(spec: ex.FieldSpec) -> Any:
    """A field's current value (its default until edited)."""
    return form_values.value.get(spec.key, spec.default)


def form_state(cur: Live) -> list[tuple[ex.FieldSpec, list[str], Any]]:
    """Each field with the choices it offers now and the value it shows (what Apply uses).

    A choice whose list depends on another field (a policy's names on the policy kind) falls
    back to the first offered name when the chosen one is no longer offered.
    """
    kind = action_kind.value
    specs = current_specs(cur)
    ctx = ex.FormContext.of(cur.session.model)
    values = {s.key: form_value(s) for s in specs}
    out = []
    for spec in specs:
        choices = list(spec.choices)
        value = values[spec.key]
        if spec.widget == "choice":
            if spec.key == "name":
                choices = ex.field_choices(kind, spec.key, ctx, values)
            if value not in choices and choices:
                value = choices[0]
            values[spec.key] = value
        out.append((spec, choices, value))
    return out


def apply_form() -> None:
    """Apply the form's action to the live session now; an InputError is shown inline."""
    cur = live.value
    if cur is None:
        return
    state = form_state(cur)
    specs = [spec for spec, _, _ in state]
    values = {spec.key: value for spec, _, value in state}
    s = cur.session
    try:
        data = ex.build_action(action_kind.value, specs, values)
    except InputError as exc:
        where = f"actions[{len(s.actions)}].{exc.path}"
        action_error.value = str(InputError(exc.message, path=where))
        action_done.value = ""
        return
    try:
        action = s.apply(data)
    except InputError as exc:
        action_error.value = str(exc)
        action_done.value = ""
        return
    action_error.value = ""
    action_done.value = f"applied at minute {action.at_min:g}: {action.kind} {action.summary()}"
    live.value = show_live(s, cur)


def export_live() -> None:
    """Export the live exercise's log: saved in the output folder and offered as a download."""
    cur = live.value
    if cur is None:
        return
    exported.value = ex.export_session(cur.session)


def report_live() -> None:
    """Write the after-action report of the live exercise (saved and offered as a download)."""
    cur = live.value
    if cur is None:
        return
    log = cur.session.export()
    reported.value = ex.save_report(log, ex.file_stem(cur.session))


# ----------------------------------------------------------------------- replay logic


def show_replay(replayed: ex.Replayed) -> None:
    """Draw a replayed log and put the scrubber at minute 0."""
    view = replayed.view
    shown.value = Shown(
        replayed,
        mapview.InteractiveMap(view),
        charts.TimeseriesRenderer(view),
        charts.TimelineRenderer(replayed.marks, view.last_min),
    )
    replay_minute.value = 0
    replay_error.value = ""


def _replay_or_error(get: Any, source: str) -> None:
    try:
        log = get()
        show_replay(ex.replay_log(log, source=source))
    except (InputError, ReplayMismatch) as exc:
        replay_error.value = str(exc)


def replay_upload(name: str, data: bytes) -> None:
    """Replay an uploaded exercise log (JSON); a problem is shown inline."""
    _replay_or_error(lambda: ex.parse_uploaded_log(name, data), name)


def replay_shipped() -> None:
    """Play the chosen shipped exercise script, then replay its log."""
    name = replay_script.value
    _replay_or_error(lambda: ex.play_script(name), f"{name} (shipped script)")


def replay_live() -> None:
    """Replay the live exercise's log as exported now, and show it in the Replay tab."""
    cur = live.value
    if cur is not None:
        _replay_or_error(cur.session.export, "the live exercise")
        store.tab.value = store.TABS.index("Replay")


# ----------------------------------------------------------------------- components


@solara.component
def StartForm():
    """Scenario, seed, title and Start."""
    names = [*runner.shipped_scenarios(), FROM_SETUP]
    with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
        with solara.Div(style={"min-width": "260px"}):
            solara.Select("Exercise scenario", values=names, value=ex_scenario)
        solara.InputInt("Exercise seed", value=ex_seed, style={"max-width": "120px"})
        solara.InputText("Title", value=ex_title, style={"min-width": "220px"})
        solara.Button("Start", color="primary", on_click=start, classes=["mcsim-ex-start"])


@solara.component
def TimeControls(cur: Live):
    """Where the run stands, +5/+15 min, run to minute N."""
    s = cur.session
    with solara.Row(gap="6px", style={"align-items": "center", "flex-wrap": "wrap"}):
        state = "run over" if s.finished else "paused"
        solara.Text(f"minute {s.now:g} of {s.model.horizon_min:g} — {state}",
                    classes=["mcsim-ex-now"], style={"font-weight": "bold"})  # fmt: skip
        for step in STEPS:
            solara.Button(
                f"+{step} min", on_click=lambda step=step: advance_to(s.now + step),
                disabled=s.finished, outlined=True, classes=[f"mcsim-ex-plus{step}"],
            )  # fmt: skip
        solara.InputInt("Run to minute", value=run_to, style={"max-width": "130px"},
                        classes=["mcsim-ex-run-to-field"])  # fmt: skip
        solara.Button("Run to", on_click=lambda: advance_to(float(run_to.value)),
                      disabled=s.finished, outlined=True, classes=["mcsim-ex-run-to"])  # fmt: skip
        solara.Button("New exercise", on_click=lambda: live.set(None), text=True,
                      classes=["mcsim-ex-new"])  # fmt: skip


@solara.component
def FieldInput(spec: ex.FieldSpec, choices: list[str], value: Any):
    """One input of the action form, showing ``value``."""

    def set_(v: Any) -> None:
        form_values.value = {**form_values.value, spec.key: v}

    label = spec.label
    if spec.widget == "choice":
        solara.Select(label, values=choices, value=value, on_value=set_)
    elif spec.widget == "bool":
        solara.Checkbox(label=label, value=bool(value), on_value=set_)
    elif spec.widget == "json":
        solara.Text(label, style={"font-size": "0.75em", "color": "#666"})
        solara.InputTextArea(label, value=str(value), on_value=set_, rows=2,
                             continuous_update=True)  # fmt: skip
    else:
        shown = "" if value is None else str(value)
        solara.InputText(label, value=shown, on_value=set_, continuous_update=True)


@solara.component
def ActionForm(cur: Live):
    """Choose an action kind; its fields; Apply (now)."""
    kinds = list(ACTIONS)

    def choose(k: str) -> None:
        action_kind.value = k
        form_values.value = {}
        action_error.value = ""

    state = form_state(cur)
    with solara.Card(f"Action at minute {cur.session.now:g}", classes=["mcsim-ex-form"]):
        with solara.Column(gap="2px"):
            solara.Select("Action", values=kinds, value=action_kind.value, on_value=choose)
            # the model's docstring says what it is ("Inject: ..." / "Decision: ...")
            doc = (ACTIONS[action_kind.value].model.__doc__ or "").strip().splitlines()[0]
            solara.Text(doc, style={"font-size": "0.8em", "color": "#555"},
                        classes=["mcsim-ex-kind-doc"])  # fmt: skip
            for spec, choices, value in state:
                FieldInput(spec, choices, value)
            solara.Button("Apply", color="primary", on_click=apply_form,
                          disabled=cur.session.finished, classes=["mcsim-ex-apply"])  # fmt: skip
            if action_error.value:
                solara.Error(f"Action refused: {action_error.value}", dense=True,
                             classes=["mcsim-ex-action-error"])  # fmt: skip
            elif action_done.value:
                solara.Success(action_done.value, dense=True, classes=["mcsim-ex-action-done"])


def marks_markdown(marks: list[dict[str, Any]]) -> str:
    """The actions as a Markdown table (numbered like the time line)."""
    if not marks:
        return "_No actions yet._"
    rows = ["| # | minute | | kind | by | what |", "|---|---|---|---|---|---|"]
    for k, m in enumerate(marks, 1):
        what = " ".join(x for x in (m["summary"], m["note"]) if x).replace("|", "/")
        rows.append(
            f"| {k} | {m['at_min']:g} | {m['category']} | {m['kind']} | {m['by']} | {what} |"
        )
    return "\n".join(rows)


def so_far(session: ExerciseSession) -> str:
    """The live KPI cards' note: their figures are of the run up to now ("" once it is over)."""
    return "" if session.finished else f"so far (minute {session.now:g})"


def export_note(session: ExerciseSession) -> str:
    """What Export and Report do when the run is not over, said before the user presses them."""
    if session.finished:
        return ""
    end = session.model.horizon_min
    return (
        f"Paused at minute {session.now:g} of {end:g}: Export log and Report run the rest "
        f"(minutes {session.now:g} to {end:g}) with no further action; the log records "
        f"minute {session.now:g} as where you stopped, and the report says so."
    )


@solara.component
def ActionLog(cur: Live):
    """The actions applied so far, on the time line and as a table; Export and Report."""
    marks = ex.session_marks(cur.session)
    solara.Image(cur.timeline.png(cur.session.now), classes=["mcsim-ex-timeline"])
    with solara.Div(classes=["mcsim-ex-actions"]):
        solara.Markdown(marks_markdown(marks))
    with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("Export log", on_click=export_live, color="primary", outlined=True,
                      classes=["mcsim-ex-export"])  # fmt: skip
        solara.Button("Report", on_click=report_live, outlined=True, classes=["mcsim-ex-report"])
        solara.Button("Replay it", on_click=replay_live, text=True, classes=["mcsim-ex-replay"])
        if exported.value is not None:
            path, data = exported.value
            solara.FileDownload(data, filename=path.name, label="Download log",
                                mime_type="application/json")  # fmt: skip
        if reported.value is not None:
            path, data = reported.value
            solara.FileDownload(data, filename=path.name, label="Download report",
                                mime_type="text/html")  # fmt: skip
    # below the buttons, so that the buttons stay put when the run ends and the note goes
    note = export_note(cur.session)
    if note:
        solara.Text(note, classes=["mcsim-ex-export-note"],
                    style={"font-size": "0.85em", "color": "#8a6100"})  # fmt: skip
    if exported.value is not None:
        solara.Text(f"Log saved to {exported.value[0]}", classes=["mcsim-ex-saved"])
    if reported.value is not None:
        solara.Text(f"Report saved to {reported.value[0]}", classes=["mcsim-ex-report-saved"])


@solara.component
def Exercise():
    """The Exercise tab."""
    cur = live.value
    with solara.Column(gap="8px"):
        if cur is None:
            solara.Markdown(
                "Play a **tabletop exercise**: start a run, advance time step by step and apply "
                "injects and decisions at the minute the run is paused at. Export the exercise "
                "log to replay it (here, or with `mcsim replay LOG`) and write the after-action "
                "report."
            )
            StartForm()
            if time_error.value:
                solara.Error(time_error.value, dense=True, classes=["mcsim-ex-error"])
            return
        s = cur.session
        solara.Text(
            f"{s.title or s.scenario.name} — seed {s.seed}; "
            f"{store.policy_label(cur.view)} (now)",
            classes=["mcsim-ex-title"], style={"font-size": "0.9em", "color": "#444"},
        )  # fmt: skip
        TimeControls(cur)
        if time_error.value:
            solara.Error(time_error.value, dense=True, classes=["mcsim-ex-error"])
        KpiCards(cur.view.metrics, note=so_far(s))
        with solara.Row(gap="8px", style={"align-items": "flex-start", "flex-wrap": "wrap"}):
            with solara.Column(gap="2px"):
                # the events so far: more after an inject, which redraws the map at once
                MapFigure(cur.map, s.now, classes=["mcsim-ex-map"],
                          revision=len(cur.view.result.events)).key("map")  # fmt: skip
                solara.Text(view_caption(cur.view, s.now), classes=["mcsim-ex-caption"],
                            style={"font-size": "0.85em"})  # fmt: skip
            with solara.Column(style={"min-width": "300px", "max-width": "380px"}):
                ActionForm(cur)
            solara.Image(cur.charts.png(s.now), classes=["mcsim-ex-charts"])
        ActionLog(cur)


@solara.component
def ReplaySources():
    """Where a log comes from: a shipped script, an upload, or the live exercise."""
    scripts = list(ex.shipped_scripts())
    with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
        if scripts:
            with solara.Div(style={"min-width": "300px"}):
                solara.Select("Shipped exercise script", values=scripts, value=replay_script)
            solara.Button("Play and replay", on_click=replay_shipped, color="primary",
                          classes=["mcsim-replay-shipped"])  # fmt: skip
        if live.value is not None:
            solara.Button("Replay the live exercise", on_click=replay_live, outlined=True)
    with solara.Details("Open an exercise log (JSON)", expand=bool(replay_error.value)):
        solara.FileDrop(label="Drop an exercise log .json here", lazy=False,
                        on_file=lambda f: replay_upload(f["name"], f["data"] or b""))  # fmt: skip
        FileInput(on_file=replay_upload, accept=".json", classes=["mcsim-replay-file"])
    if replay_error.value:
        solara.Error(f"Log refused: {replay_error.value}", dense=True,
                     classes=["mcsim-replay-error"])  # fmt: skip


@solara.component
def ReplayView(sh: Shown):
    """A replayed log under a scrubber, actions marked and listed (click one to go there)."""
    rp = sh.replayed
    last = sh.last
    t = min(replay_minute.value, last)
    log = rp.log
    solara.Text(
        f"{log.title or rp.view.scenario.name} — seed {log.seed}; from {rp.source}; "
        f"{len(log.actions)} actions; replay equals the log (digest {log.result_digest[:12]}…)"
        if log.result_digest
        else f"{log.title or rp.view.scenario.name} — seed {log.seed}; from {rp.source}",
        classes=["mcsim-replay-title"], style={"font-size": "0.9em", "color": "#444"},
    )  # fmt: skip
    KpiCards(rp.view.metrics)
    solara.Image(sh.timeline.png(t), classes=["mcsim-replay-timeline"])
    with solara.Row(gap="6px", style={"align-items": "center"}):
        before = [m["at_min"] for m in rp.marks if m["at_min"] < t]
        after = [m["at_min"] for m in rp.marks if m["at_min"] > t]
        solara.Button("◀ action", disabled=not before, text=True, classes=["mcsim-replay-prev"],
                      on_click=lambda: replay_minute.set(int(before[-1])))  # fmt: skip
        solara.Button("−10", on_click=lambda: replay_minute.set(max(0, t - 10)), text=True,
                      classes=["mcsim-replay-minus10"])  # fmt: skip
        with solara.Div(style={"flex-grow": "1"}, classes=["mcsim-replay-scrubber"]):
            solara.SliderInt("minute", value=replay_minute, min=0, max=last, step=1)
        solara.Button("+10", on_click=lambda: replay_minute.set(min(last, t + 10)), text=True,
                      classes=["mcsim-replay-plus10"])  # fmt: skip
        solara.Button("action ▶", disabled=not after, text=True, classes=["mcsim-replay-next"],
                      on_click=lambda: replay_minute.set(int(-(-after[0] // 1))))  # fmt: skip
    with solara.Row(gap="8px", style={"align-items": "flex-start", "flex-wrap": "wrap"}):
        with solara.Column(gap="2px"):
            MapFigure(sh.map, t, classes=["mcsim-replay-map"], follow=replay_minute,
                      last=last).key("map")  # fmt: skip
            solara.Text(view_caption(rp.view, t), classes=["mcsim-replay-caption"],
                        style={"font-size": "0.85em"})  # fmt: skip
        solara.Image(sh.charts.png(t), classes=["mcsim-replay-charts"])
    with solara.Div(classes=["mcsim-replay-actions"]):
        solara.Markdown(marks_markdown(rp.marks))


@solara.component
def Replay():
    """The Replay tab."""
    with solara.Column(gap="8px"):
        ReplaySources()
        sh = shown.value
        if sh is None:
            solara.Info(
                "Replay an exercise log: play a shipped exercise script, open a log file, or "
                "replay the live exercise. The replay is checked against the log's digest.",
                classes=["mcsim-replay-hint"],
            )
            return
        ReplayView(sh)
