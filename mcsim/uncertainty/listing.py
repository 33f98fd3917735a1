"""What ``mcsim params`` shows: the registry as rows, as JSON, or as a text table.

Kept apart from the registry itself so that the registry stays a plain list of declarations,
and apart from the CLI so that the app or a notebook can show the same table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mcsim.uncertainty.registry import UncertainParameter, registry

#: Columns of the table, in order (the JSON object of each parameter has these keys and more).
COLUMNS = ("name", "path", "default", "prior", "scope", "source")


def parameter_row(p: UncertainParameter) -> dict[str, Any]:
    """One parameter as plain data: the table's columns plus the prior's parts for machines."""
    return {
        "name": p.name,
        "path": p.path,
        "default": p.default,
        "prior": p.prior.describe(),
        "scope": p.scope.value,
        "source": p.source,
        "description": p.description,
        "unit": p.unit,
        "distribution": {
            "kind": p.prior.kind.value,
            "low": p.prior.low,
            "high": p.prior.high,
            "mu": p.prior.mu,
            "sigma": p.prior.sigma,
        },
    }


def parameter_rows(params: Iterable[UncertainParameter] | None = None) -> list[dict[str, Any]]:
    """Every parameter (default: the whole registry) as :func:`parameter_row` dicts."""
    return [parameter_row(p) for p in (registry() if params is None else params)]


def params_table(params: Iterable[UncertainParameter] | None = None) -> str:
    """The parameters as an aligned text table (sources are not cut: they are the point)."""
    rows = [
        {**r, "default": f"{r['default']:g}" + (f" {r['unit']}" if r["unit"] else "")}
        for r in parameter_rows(params)
    ]
    widths = {c: max([len(c), *(len(str(r[c])) for r in rows)]) for c in COLUMNS[:-1]}
    lines = ["  ".join(c.ljust(widths[c]) for c in COLUMNS[:-1]) + "  source"]
    for r in rows:
        lines.append(
            "  ".join(str(r[c]).ljust(widths[c]) for c in COLUMNS[:-1]) + "  " + r["source"]
        )
    return "\n".join(lines)
