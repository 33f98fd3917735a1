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


@solara.component
def ScenarioPicker():
    """Shipped scenarios, plus the uploaded one; drop zone and file field for uploads."""
    shipped = list(runner.shipped_scenarios())
    up = store.uploaded.value
    values = shipped + ([UPLOAD_PREFIX + up[0]] if up else [])
    current = store.scenario_name.value or (UPLOAD_PREFIX + up[0] if up else shipped[0])

    def choose(v: str) -> None:
        if v.startswith(UPLOAD_PREFIX):
            store.scenario_name.value = ""
            return
        store.scenario_name.value = v
        try:
            p = runner.load_shipped(v).policies
        except InputError as exc:
            store.upload_error.value = str(exc)
            return
        # the new scenario's own policies and casualty count, until the user changes them
        store.setup.value = dataclasses.replace(
            store.setup.value,
            triage=p.triage,
            dispatch=p.dispatch,
            destination=p.destination,
            casualties=None,
        )

    solara.Select("Scenario", values=values, value=current, on_value=choose)

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


def _policy_select(label: str, kind: str, value: str | None, on: Any, default: str) -> None:
    names = default_registry().names(kind)
    solara.Select(label, values=names, value=value or default, on_value=on)


@solara.component
def PolicySelects(target: solara.Reactive[SetUp], defaults: Any, prefix: str = ""):
    """Three selects (triage, dispatch, destination) editing ``target``."""
    s = target.value

    def setter(field: str):
        def set_(v: str) -> None:
            target.value = dataclasses.replace(target.value, **{field: v})

        return set_

    _policy_select(f"{prefix}Triage", "triage", s.triage, setter("triage"), defaults.triage)
    _policy_select(
        f"{prefix}Dispatch", "dispatch", s.dispatch, setter("dispatch"), defaults.dispatch
    )
    _policy_select(
        f"{prefix}Destination", "destination", s.destination, setter("destination"),
        defaults.destination,
    )  # fmt: skip


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
        PolicySelects(store.setup, scenario.policies)
        solara.InputInt(
            "Casualties",
            value=s.casualties if s.casualties is not None else total,
            on_value=lambda v: update(casualties=max(1, int(v))),
        )
        solara.SliderFloat(
            f"Ambulances per station × {s.ambulance_factor:g}",
            value=s.ambulance_factor,
            min=0.25,
            max=3.0,
            step=0.25,
            on_value=lambda v: update(ambulance_factor=float(v)),
        )
        solara.SliderFloat(
            f"Hospital capacity × {s.capacity_factor:g}",
            value=s.capacity_factor,
            min=0.25,
            max=3.0,
            step=0.25,
            on_value=lambda v: update(capacity_factor=float(v)),
        )
        solara.InputFloat(
            "Call-in delay (min, optional)",
            value=s.callin_delay_min,
            optional=True,
            on_value=lambda v: update(callin_delay_min=None if v is None else max(0.0, v)),
        )
        solara.InputInt("Seed", value=s.seed, on_value=lambda v: update(seed=max(0, int(v))))

        def go() -> None:
            store.playing.value = False
            store.explore_run(scenario, store.setup.value)

        solara.Button("Run", color="primary", on_click=go, classes=["mcsim-run"], block=True)
        if store.explore_run.pending:
            solara.ProgressLinear(store.explore_run.progress or True)
            done = store.explore_run.progress or 0
            solara.Text("simulating…" if done < 70 else "drawing…", classes=["mcsim-running"])
        if store.explore_run.error:
            exc = store.explore_run.exception
            msg = str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
            solara.Error(msg, classes=["mcsim-run-error"], dense=True)
