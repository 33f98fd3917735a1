"""What produced a run, written into its ``metrics.json``.

A ``metrics.json`` found years later then says which mcsim, which scenario (by name and by the
hash of its content), which seed and which policies made it.

The scenario's hash is taken over its validated content (defaults filled in, ``--set`` applied),
as canonical JSON, so two files that differ only in comments or key order hash the same, and an
edited scenario never passes for the one it was.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcsim.scenario import Scenario


def scenario_sha256(scenario: Scenario) -> str:
    """SHA-256 (hex) of the scenario's validated content as canonical JSON."""
    data = scenario.model_dump(mode="json", by_alias=True)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def scenario_provenance(scenario: Scenario, file: str | None = None) -> dict[str, Any]:
    """The scenario's part of a run's provenance: its name, file, content hash, policy params."""
    out: dict[str, Any] = {"scenario": scenario.name}
    if file is not None:
        out["scenario_file"] = file
    out["scenario_sha256"] = scenario_sha256(scenario)
    out["policy_params"] = scenario.policies.params.model_dump(mode="json")
    return out


def run_provenance(seed: int, policies: dict[str, str], known: dict[str, Any]) -> dict[str, Any]:
    """A run's provenance.

    The mcsim version first, what is ``known`` of the scenario, then the seed and the policies
    that ran.
    """
    from mcsim import __version__

    return {"mcsim_version": __version__, **known, "seed": seed, "policies": dict(policies)}
