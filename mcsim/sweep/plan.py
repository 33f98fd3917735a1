"""From a validated sweep to its cells and runs.

A *cell* is one configuration: a base scenario with one value for every factor. Cells are the
base scenarios × the full factorial of the discrete factors (in file order, the last factor
varying fastest) × the Latin hypercube points of the continuous ones. A *run* is one replication
of one cell. Replication ``r`` of every cell uses seed ``base_seed + r`` — common random numbers:
cells that differ only in a policy see the same casualties with the same injuries.

Identifiers are positions in this order (``cell_id``; ``run_id = cell_id * replications + r``), so
the same sweep file always gives the same plan, which is what makes ``--resume`` exact. The sweep's
id is a hash of its normalised content (base scenarios included as data, not file names).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from mcsim.errors import InputError
from mcsim.sweep.spec import Factor, Sweep, count_runs, set_path


@dataclass(frozen=True)
class Cell:
    """One configuration: a base scenario and one value per factor."""

    cell_id: int
    scenario_index: int
    scenario: str
    factors: dict[str, Any]

    def label(self) -> str:
        """A short human label such as ``policies.triage=start, incidents[0].casualties=300``."""
        parts = [f"{k}={_fmt(v)}" for k, v in self.factors.items()]
        return ", ".join(parts) if parts else self.scenario


@dataclass(frozen=True)
class Run:
    """One replication of one cell."""

    run_id: int
    cell_id: int
    replication: int
    seed: int


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def sample_points(
    factors: list[Factor], points: int, seed: int, method: str = "lhs"
) -> list[list[float | int]]:
    """``points`` draws of the continuous ``factors`` by ``method`` (seeded, reproducible).

    ``lhs``: Latin hypercube; ``sobol`` and ``halton``: scrambled low-discrepancy sequences
    (:mod:`scipy.stats.qmc`), whose points fill the unit cube more evenly than random ones.
    Every method draws in the unit cube, mapped to each factor's range the same way.
    """
    from scipy.stats import qmc

    if not factors:
        return [[]]
    rng = np.random.default_rng(seed)
    d = len(factors)
    if method == "lhs":
        sampler: qmc.QMCEngine = qmc.LatinHypercube(d=d, rng=rng)
    elif method == "sobol":
        sampler = qmc.Sobol(d=d, scramble=True, rng=rng)
    elif method == "halton":
        sampler = qmc.Halton(d=d, scramble=True, rng=rng)
    else:  # the sweep file's schema lists the methods
        raise ValueError(f"unknown sampling method {method!r}")
    u = sampler.random(points)
    out: list[list[float | int]] = []
    for row in u:
        vals: list[float | int] = []
        for f, x in zip(factors, row, strict=True):
            assert f.low is not None and f.high is not None
            if f.integer:
                lo, hi = math.ceil(f.low), math.floor(f.high)
                # one stratum per integer band, so every integer is equally likely
                vals.append(int(min(hi, lo + math.floor(x * (hi - lo + 1)))))
            else:
                vals.append(float(f.low + x * (f.high - f.low)))
        out.append(vals)
    return out


class Plan:
    """The cells and runs of a sweep.

    Args:
        sweep: a validated sweep (:func:`mcsim.sweep.spec.load_sweep`).
        max_runs: refuse a plan of more runs (default :data:`mcsim.sweep.spec.MAX_RUNS`);
            counted before any cell is built.
    """

    def __init__(self, sweep: Sweep, *, max_runs: int | None = None) -> None:
        count_runs(
            len(sweep.scenarios),
            [len(f.levels) for f in sweep.level_factors],
            sweep.sample_points if sweep.sampled_factors else 1,
            sweep.replications,
            file=sweep.file,
            max_runs=max_runs,
        )
        self.sweep = sweep
        self.normalised = sweep.normalised()
        text = json.dumps(self.normalised, sort_keys=True, separators=(",", ":"), default=str)
        self.hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self.sweep_id = self.hash[:12]
        levels = sweep.level_factors
        sampled = sweep.sampled_factors
        points = (
            sample_points(sampled, sweep.sample_points, sweep.sample_seed, sweep.sample_method)
            if sampled
            else [[]]
        )
        cells: list[Cell] = []
        for si, base in enumerate(sweep.scenarios):
            for combo in itertools.product(*[f.levels for f in levels]):
                for point in points:
                    values = dict(zip([f.path for f in levels], combo, strict=True))
                    values.update(zip([f.path for f in sampled], point, strict=True))
                    cells.append(Cell(len(cells), si, base.label, values))
        self.cells = cells
        self.factor_paths = [f.path for f in sweep.factors]
        #: replication -> parameter values drawn from a posterior (``--posterior``), or empty
        self.parameter_sets: dict[int, dict[str, float]] = {}
        self.posterior: dict[str, Any] | None = None

    def attach_posterior(self, pairs: list[tuple[int, dict[str, float]]], source: str) -> None:
        """Give replication ``r`` the parameter values of posterior draw ``r`` (``--posterior``).

        ``pairs`` are :func:`mcsim.uncertainty.posterior.draw_parameter_sets` drawn with the
        sweep's base seed, so draw ``r``'s run seed is replication ``r``'s. The draws enter the
        sweep's hash: a folder of the sweep without them (or with others) is another sweep.
        """
        seeds = [s for s, _ in pairs]
        expected = [self.sweep.base_seed + r for r in range(self.replications)]
        if seeds != expected:
            raise ValueError("posterior draws must be one per replication, seeded base_seed + r")
        self.parameter_sets = {r: dict(v) for r, (_, v) in enumerate(pairs)}
        self.posterior = {"source": source, "draws": [dict(v) for _, v in pairs]}
        text = self.hash + json.dumps(self.posterior["draws"], sort_keys=True)
        self.hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self.sweep_id = self.hash[:12]

    @property
    def replications(self) -> int:
        """Runs per cell."""
        return self.sweep.replications

    @property
    def n_runs(self) -> int:
        """Runs in the whole sweep."""
        return len(self.cells) * self.sweep.replications

    def runs(self) -> Iterator[Run]:
        """Every run, in ``run_id`` order (cell by cell)."""
        reps = self.sweep.replications
        for cell in self.cells:
            for r in range(reps):
                yield Run(cell.cell_id * reps + r, cell.cell_id, r, self.sweep.base_seed + r)

    def cell_data(self, cell: Cell) -> dict[str, Any]:
        """The cell's scenario as plain data: its base scenario with the factor values set."""
        data = copy.deepcopy(self.sweep.scenarios[cell.scenario_index].data)
        for path, value in cell.factors.items():
            set_path(data, path, value)
        return data

    def validate_cells(self) -> None:
        """Check every cell's scenario (combinations of valid values can still clash)."""
        from mcsim.scenario import parse_scenario

        for cell in self.cells:
            try:
                parse_scenario(self.cell_data(cell))
            except InputError as exc:
                where = f" at {exc.path}" if exc.path else ""
                raise InputError(
                    f"cell {cell.cell_id} ({cell.label()}) is not a valid scenario{where}: "
                    f"{exc.message}",
                    file=self.sweep.file,
                    path="factors",
                ) from None

    def manifest(self) -> dict[str, Any]:
        """What ``_manifest.json`` records about the sweep (everything needed to redo it)."""
        import mcsim

        return {
            "format": "mcsim-sweep",
            "format_version": 1,
            "sweep_id": self.sweep_id,
            "hash": self.hash,
            "name": self.sweep.name,
            "description": self.sweep.description,
            "sweep_file": self.sweep.file,
            "mcsim_version": mcsim.__version__,
            "replications": self.sweep.replications,
            "base_seed": self.sweep.base_seed,
            "n_cells": len(self.cells),
            "n_runs": self.n_runs,
            "store_patients": self.sweep.store_patients,
            "factors": [f.model_dump() for f in self.sweep.factors],
            "sample": {
                "method": self.sweep.sample_method,
                "points": self.sweep.sample_points,
                "seed": self.sweep.sample_seed,
            },
            "scenarios": [
                {"label": s.label, "file": s.file, "data": s.data} for s in self.sweep.scenarios
            ],
            "cells": [
                {"cell_id": c.cell_id, "scenario": c.scenario, "factors": c.factors}
                for c in self.cells
            ],
            "normalised": self.normalised,
            **({"posterior": self.posterior} if self.posterior is not None else {}),
        }
