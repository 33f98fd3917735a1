"""One reset of the app's module-level state for the tests that render it without a browser.

Solara keeps reactive variables and tasks once per process, so under ``pytest -n`` a test sees
whatever the tests that ran before it in its worker left behind (a set-up field typed as -50
made the posterior tests' Run refuse). Every rendering test module starts from here.
"""

from __future__ import annotations

import mcsim
from viz.components import posterior, store
from viz.components import replications as reps
from viz.runner import SetUp

#: Generous: the machine running the tests may be busy with other work.
THREAD_WAIT_S = 180


def settle(task) -> None:
    """Wait for a task's worker thread, which re-renders the page when it finishes."""
    thread = task._instance.value._current_thread  # solara (pinned) internals
    if thread is not None:
        thread.join(THREAD_WAIT_S)
        assert not thread.is_alive()


def reset_task(task) -> None:
    """Put a module-level task back to "never called"."""
    from solara.tasks import TaskResult, TaskState

    settle(task)
    inst = task._instance.value  # solara (pinned) internals, as settle()
    inst._last_value = None
    inst._result.value = TaskResult(value=None, _state=TaskState.NOTCALLED)


def reset_app_state() -> None:
    """The app as a new visitor finds it: default scenario, no typed fields, no runs."""
    for t in (store.explore_run, store.compare_run, store.sweep_load):
        reset_task(t)
    store.scenario_name.value = mcsim.default_scenario_path().stem
    store.uploaded.value = None
    store.upload_error.value = ""
    store.setup.value = SetUp()
    store.setup_entries.value = {}
    store.setup_error.value = ""
    store.minute.value = 0
    store.playing.value = False
    store.play_speed.value = 8
    store.compare_b.value = SetUp()
    store.sweep_folder.value = ""
    store.compare_minute.value = 30
    store.tab.value = 0
    posterior.posterior_name.value = ""
    posterior.plan_error.value = ""
    reps.count.value = 1
