"""The set-up panel: scenario (shipped or uploaded), policies, key parameters, seed, Run.

An uploaded YAML is validated at once; a problem is shown inline as the same one line the
command line prints (``FILE: PATH: MESSAGE``), never as a crash.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, cast

import ipyvuetify.extra
import solara
import solara.hooks

from mcsim.errors import InputError
from mcsim.policies import default_registry
from viz import runner
from viz.components import store
from viz.components.explore import set_playing
from viz.components.posterior import PosteriorPicker
from viz.runner import SetUp

UPLOAD_PREFIX = "uploaded: "


def accept_upload(name: str, data: bytes) -> None:
    """Validate an uploaded scenario; select it, or show why it was refused."""
    try:
        sc = runner.parse_upload(name, data)
    except InputError as exc:
        store.upload_error.value = str(exc)
        return
    store.upload_error.value = ""
    store.uploaded.value = (name, sc)
    store.scenario_name.value = ""
    p = sc.policies
    store.setup.value = dataclasses.replace(
        store.setup.value,
        triage=p.triage,
        dispatch=p.dispatch,
        destination=p.destination,
        casualties=None,
        reserve=None,
    )


@solara.component
def FileInput(on_file: Any, accept: str, classes: list[str] | None = None):
    """A "choose file" field (an ``<input type=file>``) that hands over the file's bytes."""
    info, set_info = solara.use_state(cast(Any, None))
    files, set_files = solara.use_state(cast(Any, None))
    el = ipyvuetify.extra.FileInput.element(
        on_file_info=set_info, multiple=False, accept=accept, show_progress=False,
        class_=" ".join(classes or []),
    )  # fmt: skip

    def wire() -> None:
        if not info:
            return
        widget = cast(ipyvuetify.extra.FileInput, solara.get_widget(el))
        widget.version += 1
        widget.reset_stats()
        set_files(widget.get_files())

    solara.use_effect(wire, [info])

    def read(cancel: threading.Event) -> None:
        if not files:
            return
        f = files[0]
        on_file(f["name"], f["file_obj"].read())

    result = solara.hooks.use_thread(read, [files])
    if result.error:
        raise result.error
    return el


@solara.component
def YamlFileInput(on_file: Any):
    """A file field for scenario YAML files."""
    return FileInput(on_file=on_file, accept=".yaml,.yml")


def scenario_items(shipped: list[str]) -> list[dict[str, str]]:
    """The scenario select's items: each shipped scenario's title (its ``name``), keyed by stem.

    A planner knows "Manchester Arena bombing", not ``manchester_arena_bombing``; a file that
    does not load keeps its file name (choosing it shows why it is refused).
    """
    out = []
    for stem in shipped:
        out.append({"text": runner.scenario_title(stem), "value": stem})
    return out


@solara.component
def ScenarioPicker():
    """Shipped scenarios (by title), plus the uploaded one; drop zone and file field."""
    shipped = list(runner.shipped_scenarios())
    up = store.uploaded.value
    items = scenario_items(shipped)
    if up:
        items.append({"text": UPLOAD_PREFIX + up[0], "value": UPLOAD_PREFIX + up[0]})
    current = store.scenario_name.value or (UPLOAD_PREFIX + up[0] if up else shipped[0])

    def choose(v: str) -> None:
        if v.startswith(UPLOAD_PREFIX):
            store.scenario_name.value = ""
            return
        store.scenario_name.value = v
        store.setup_entries.value = {
            k: t for k, t in store.setup_entries.value.items() if k != "casualties"
        }
        try:
            p = runner.load_shipped(v).policies
        except InputError as exc:
            store.upload_error.value = str(exc)
            return
        # the new scenario's own policies, reserve and casualty count, until the user
        # changes them
        store.setup.value = dataclasses.replace(
            store.setup.value,
            triage=p.triage,
            dispatch=p.dispatch,
            destination=p.destination,
            casualties=None,
            reserve=None,
        )

    solara.v.Select(
        label="Scenario", items=items, v_model=current, on_v_model=choose,
        class_="mcsim-scenario-select",
    )  # fmt: skip

    def dropped(f: Any) -> None:
        accept_upload(f["name"], f["data"] or b"")

    with solara.Details("Upload a scenario (YAML)", expand=bool(store.upload_error.value)):
        solara.FileDrop(label="Drop a scenario .yaml here", on_file=dropped, lazy=False)
        YamlFileInput(on_file=accept_upload)
    if store.upload_error.value:
        solara.Error(
            f"Scenario refused: {store.upload_error.value}",
            classes=["mcsim-upload-error"],
            dense=True,
        )


def policy_help(kind: str, name: str) -> str:
    """The registry's description of a policy (what it does, and its source)."""
    try:
        return default_registry().get(kind, name).description
    except InputError:
        return ""


def _policy_select(label: str, kind: str, value: str | None, on: Any, default: str) -> None:
    names = default_registry().names(kind)
    chosen = value or default
    solara.Select(label, values=names, value=chosen, on_value=on)
    solara.Div(
        children=[policy_help(kind, chosen)],
        classes=["mcsim-policy-help", f"mcsim-policy-help-{kind}"],
        style={"font-size": "0.75em", "color": "#555", "margin": "-6px 0 6px 0",
               "line-height": "1.25"},
    )  # fmt: skip


@solara.component
def PolicySelects(target: solara.Reactive[SetUp], defaults: Any, prefix: str = ""):
    """Three selects (triage, dispatch, destination) editing ``target``, each with its help."""
    s = target.value

    def setter(field: str):
        def set_(v: str) -> None:
            target.value = dataclasses.replace(target.value, **{field: v})

        return set_

    for kind in ("triage", "dispatch", "destination"):
        with solara.Column(gap="0px", style={"min-width": "220px", "max-width": "320px"}):
            _policy_select(
                f"{prefix}{kind.capitalize()}", kind, getattr(s, kind), setter(kind),
                getattr(defaults, kind),
            )  # fmt: skip


@solara.component
def EntryField(key: str, shown: str, placeholder: str = ""):
    """A typed set-up field: its text as typed, refused inline (in red, saying why) if bad.

    The text is kept as typed (:data:`store.setup_entries`); nothing is clamped. Run reads
    every field again and refuses to run while one is bad.
    """
    label = runner.ENTRY_FIELDS[key][0]
    entries = store.setup_entries.value
    text = entries.get(key, shown)
    problem = runner.entry_problem(key, text) if key in entries else ""

    def typed(v: str | None) -> None:
        store.setup_entries.value = {**store.setup_entries.value, key: v or ""}
        store.setup_error.value = ""

    solara.InputText(
        label, value=text, on_value=typed, continuous_update=True,
        error=problem or False, placeholder=placeholder,
        classes=[f"mcsim-field-{key.replace('_', '-')}"],
    )  # fmt: skip


@solara.component
def ReserveSelect(scenario: Any):
    """Hospitals the dispatch centre holds in reserve (the scenario's unless changed here).

    EMS convey to them only when no other hospital is open; walking wounded still come. Paris
    2015's SAMU held three back (docs/model.md, destination policies). The scenario's holds
    until a minute (``policies.reserve_until_min``: Bégin and Percy until 00:30) are listed
    under it.
    """
    s = store.setup.value
    ids = [h.id for h in scenario.hospitals]
    held = list(s.reserve) if s.reserve is not None else list(scenario.policies.reserve)

    def chosen(values: list[str]) -> None:
        # Read afresh: a scenario change re-renders the select, whose widget then reports the
        # old selection less the hospitals it no longer lists; that is no choice of the user's.
        now = store.current_scenario()
        known = [h.id for h in now.hospitals]
        cur = store.setup.value.reserve
        shown = [h for h in (cur if cur is not None else now.policies.reserve) if h in known]
        order = [h for h in known if h in values]  # scenario order, whatever the clicks
        if order == shown:
            return
        store.setup.value = dataclasses.replace(store.setup.value, reserve=tuple(order))

    solara.SelectMultiple(
        "Held in reserve", values=[h for h in held if h in ids], all_values=ids,
        on_value=chosen, dense=True, classes=["mcsim-reserve"],
    )  # fmt: skip
    timed = {h: t for h, t in scenario.policies.reserve_until_min.items() if h not in held}
    if timed:
        until = ", ".join(f"{h} until minute {t:g}" for h, t in timed.items())
        solara.Text(
            f"Also held until a minute (the scenario's): {until}. Choosing one above holds "
            "it all run.",
            classes=["mcsim-reserve-until"],
        )


@solara.component
def SetupPanel():
    """The whole set-up panel with its Run button and progress."""
    s = store.setup.value
    try:
        scenario = store.current_scenario()
    except InputError as exc:
        solara.Error(str(exc))
        return
    total = sum(i.casualties for i in scenario.incidents)

    def update(**kw: Any) -> None:
        store.setup.value = dataclasses.replace(store.setup.value, **kw)

    with solara.Column(gap="4px", classes=["mcsim-setup"]):
        solara.Text("Set-up", style={"font-weight": "bold", "font-size": "1.1em"})
        ScenarioPicker()
        solara.Button(
            "About this scenario", text=True, small=True, classes=["mcsim-about-scenario"],
            on_click=lambda: store.tab.set(store.TABS.index("Scenario")),
        )  # fmt: skip
        PolicySelects(store.setup, scenario.policies)
        EntryField("casualties", str(s.casualties if s.casualties is not None else total))
        solara.SliderFloat(
            "Ambulances per station ×",
            value=s.ambulance_factor,
            min=0.25,
            max=3.0,
            step=0.25,
            on_value=lambda v: update(ambulance_factor=float(v)),
        )
        solara.Div(
            children=[runner.fleet_meaning(scenario, s.ambulance_factor)],
            classes=["mcsim-fleet-meaning"], style={"font-size": "0.8em", "color": "#444"},
        )  # fmt: skip
        solara.SliderFloat(
            "Hospital capacity ×",
            value=s.capacity_factor,
            min=0.25,
            max=3.0,
            step=0.25,
            on_value=lambda v: update(capacity_factor=float(v)),
        )
        solara.Div(
            children=[runner.capacity_meaning(scenario, s.capacity_factor)],
            classes=["mcsim-capacity-meaning"], style={"font-size": "0.8em", "color": "#444"},
        )  # fmt: skip
        ReserveSelect(scenario)
        callin = "" if s.callin_delay_min is None else f"{s.callin_delay_min:g}"
        EntryField("callin_delay_min", callin, placeholder="the scenario's (empty)")
        EntryField("seed", str(s.seed))
        PosteriorPicker()

        def go() -> None:
            set_playing(False)
            try:
                checked = store.checked_setup(scenario)
            except InputError as exc:
                store.setup_error.value = str(exc)
                return
            store.setup_error.value = ""
            store.setup.value = checked
            store.minute.value = 0  # a new run starts at its beginning
            store.explore_run(scenario, checked)

        solara.Button("Run", color="primary", on_click=go, classes=["mcsim-run"], block=True)
        if store.setup_error.value:
            solara.Error(store.setup_error.value, classes=["mcsim-setup-error"], dense=True)
        if store.explore_run.pending:
            solara.ProgressLinear(store.explore_run.progress or True)
            done = store.explore_run.progress or 0
            solara.Text("simulating…" if done < 70 else "drawing…", classes=["mcsim-running"])
        if store.explore_run.error:
            exc = store.explore_run.exception
            msg = str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
            solara.Error(msg, classes=["mcsim-run-error"], dense=True)
