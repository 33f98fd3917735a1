"""What a scenario that validates may still do badly: hospitals its casualties cannot reach.

Why this module exists: a scenario can be valid and still leave patients with nowhere to go —
a road closed from the start cuts a hospital off, no hospital takes children although the
incident has some. The model copes (the load goes further, or waits on board, and the log says
so), but a planner should hear it before the run: ``mcsim validate`` prints these as warnings
(exit 0), one line each, naming the file and the incident.
"""

from __future__ import annotations

from mcsim.errors import echo
from mcsim.scenario import Scenario


def reachability_warnings(scenario: Scenario) -> list[tuple[str, str]]:
    """``(field path, message)`` for each incident whose site cannot reach some hospitals."""
    from mcsim.region import reachable_names

    out: list[tuple[str, str]] = []
    for i, inc in enumerate(scenario.incidents):
        reach = reachable_names(scenario.region, inc.node)
        cut_off = [h.id for h in scenario.hospitals if h.node not in reach]
        path = f"incidents[{i}]"
        if len(cut_off) == len(scenario.hospitals):
            out.append((path, "no hospital can be reached from its site: loads will wait there"))
        elif cut_off:
            names = ", ".join(echo(h) for h in cut_off[:5]) + (" ..." if len(cut_off) > 5 else "")
            out.append(
                (path, f"{len(cut_off)} hospital(s) cannot be reached from its site: {names}")
            )
        if inc.child_share > 0 and not any(
            h.accepts_children and h.id not in cut_off for h in scenario.hospitals
        ):
            out.append(
                (path, "has children but no reachable hospital takes them: the nearest will")
            )
    return out
