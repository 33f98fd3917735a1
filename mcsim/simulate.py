"""One-call entry point: a scenario and a seed in, a :class:`~mcsim.records.RunResult` out."""

from __future__ import annotations

from pathlib import Path

from mcsim.model import MCIModel
from mcsim.records import RunResult
from mcsim.scenario import Scenario, load_scenario


def scenarios_dir() -> Path:
    """The folder of shipped scenarios (``scenarios/`` in a checkout; installed with mcsim)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "scenarios", here / "scenarios"):
        if (candidate / DEFAULT_SCENARIO).is_file():
            return candidate
    raise FileNotFoundError("the shipped scenarios folder is missing from this installation")


DEFAULT_SCENARIO = "stadium_explosion.yaml"


def default_scenario_path() -> Path:
    """The shipped default scenario (a stadium explosion in a synthetic mid-size city)."""
    return scenarios_dir() / DEFAULT_SCENARIO


def simulate(
    scenario: Scenario | str | Path | None = None,
    seed: int = 0,
    *,
    triage: str | None = None,
    dispatch: str | None = None,
    destination: str | None = None,
) -> RunResult:
    """Simulate ``scenario`` to its horizon.

    Args:
        scenario: a :class:`Scenario`, a path to a scenario file, or None for the default.
        seed: the run's seed (same scenario, seed and policies → the same event log).
        triage: triage policy name overriding the scenario's.
        dispatch: dispatch policy name overriding the scenario's.
        destination: destination policy name overriding the scenario's.

    Returns:
        The run's metrics, event log and patients table.
    """
    if scenario is None:
        scenario = default_scenario_path()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    model = MCIModel(scenario, seed, triage=triage, dispatch=dispatch, destination=destination)
    model.run()
    return model.result()
