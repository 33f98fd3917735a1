"""One-call entry point: a scenario and a seed in, a :class:`~mcsim.records.RunResult` out."""

from __future__ import annotations

from pathlib import Path

from mcsim.library import DEFAULT_SCENARIO, default_scenario_path, scenarios_dir
from mcsim.model import MCIModel
from mcsim.records import RunResult
from mcsim.scenario import Scenario, load_scenario

# Where the shipped scenarios are is the library's business; kept importable from here.
__all__ = ["DEFAULT_SCENARIO", "default_scenario_path", "scenarios_dir", "simulate"]


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
        scenario: a :class:`Scenario`, a path to a scenario file, the name of a shipped one
            (``"stadium_explosion"``, see ``mcsim scenarios``), or None for the default.
        seed: the run's seed (same scenario, seed and policies → the same event log).
        triage: triage policy name overriding the scenario's.
        dispatch: dispatch policy name overriding the scenario's.
        destination: destination policy name overriding the scenario's.

    Returns:
        The run's metrics, event log and patients table.
    """
    from mcsim.provenance import scenario_provenance

    if scenario is None:
        scenario = default_scenario_path()
    file = None
    if not isinstance(scenario, Scenario):
        file = str(scenario)
        scenario = load_scenario(scenario)
    model = MCIModel(scenario, seed, triage=triage, dispatch=dispatch, destination=destination)
    model.run()
    result = model.result()
    result.provenance = scenario_provenance(scenario, file)
    return result
