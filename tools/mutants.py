"""Plant small bugs in a copy of mcsim and report which ones the test suite catches.

Why this exists: a green suite only means something if it fails when the model is wrong. Each
mutant below is one plausible slip (a resource never given back, two metrics swapped, patients
immortal in ambulances, ...). The tool copies the repository to a temporary folder, applies one
mutant at a time, runs the chosen tests there, and prints a table. The verdict separates a test
that states a behaviour from the opaque baseline digest (issue 14): "caught" means a behaviour
test failed; "digest only" means only tests/test_baseline.py noticed (a behaviour test is
missing); "MISSED" means nothing did. It is a developer's tool, not part of CI; its last result is
kept in docs/validation.md (hand-written section "Planted bugs").

    .venv/bin/python tools/mutants.py                  # every mutant, the model tests
    .venv/bin/python tools/mutants.py --list
    .venv/bin/python tools/mutants.py --only team-kept --tests tests/test_model_accounting.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Tests run against each mutant by default: the model's behaviour, accounting and baselines.
DEFAULT_TESTS = [
    "tests/test_model_accounting.py",
    "tests/test_model_behaviour.py",
    "tests/test_outcome_model_bugs.py",
    "tests/test_outcome.py",
    "tests/test_baseline.py",
    "tests/test_metrics.py",
    "tests/test_model_invariants.py",
    "tests/test_hospital_queue_oracle.py",
]

#: Tests that compare a digest rather than state a behaviour: run only when the others pass, so
#: a mutant they alone catch is reported as "digest only".
DIGEST_TESTS = frozenset({"tests/test_baseline.py"})


@dataclass(frozen=True)
class Mutant:
    """One planted bug: replace ``old`` (which must occur exactly once) by ``new`` in ``path``."""

    name: str
    path: str
    old: str
    new: str
    what: str


MUTANTS = [
    Mutant(
        "team-kept",
        "mcsim/agents/hospital.py",
        "        for r in step.needs:\n            self.release(p, r)\n",
        "        for r in step.needs:\n            if r != Resource.TEAM:\n"
        "                self.release(p, r)\n",
        "a trauma team is never released after resuscitation",
    ),
    Mutant(
        "times-swapped",
        "mcsim/metrics.py",
        '    """Median, 90th percentile and count of minutes to hospital, per tag."""\n'
        "    return _median_p90_by_tag(r.arrival, r.tag)\n",
        '    """Median, 90th percentile and count of minutes to hospital, per tag."""\n'
        "    return _median_p90_by_tag(r.definitive, r.tag)\n",
        "time_to_hospital_min swapped with time_to_definitive_care_min",
    ),
    Mutant(
        "immortal-in-ambulance",
        "mcsim/agents/patient.py",
        '        self._death = None\n        self.die("deterioration")',
        "        self._death = None\n"
        "        if self.state is PatientState.IN_TRANSPORT:\n"
        "            return\n"
        '        self.die("deterioration")',
        "patients in an ambulance never die of deterioration",
    ),
    Mutant(
        "late-deaths-lost",
        "mcsim/model.py",
        "        self._deferred_deaths.append((t, p.pid, p))",
        "        pass",
        "deaths decided by care but due after the horizon are skipped",
    ),
    Mutant(
        "triss-age-ignored",
        "mcsim/outcome.py",
        "    age_index = 1.0 if age >= age_index_from else 0.0",
        "    age_index = 0.0",
        "TRISS ignores the age index",
    ),
    Mutant(
        "tourniquet-useless",
        "mcsim/agents/patient.py",
        "        if self.bleed_controlled:\n"
        "            factor = min(factor, self.model.spec.physiology.haemorrhage_control_factor)",
        "        if self.bleed_controlled:\n            pass",
        "a tourniquet does not slow the bleeding clock",
    ),
    Mutant(
        "dispatch-first-scene",
        "mcsim/dispatch_centre.py",
        "                claim = scene.demand / (scene.committed_capacity + 1)",
        "                claim = 1.0 / (i + 1)",
        "dispatch fills the first listed scene first (the old defect)",
    ),
    Mutant(
        "care-after-horizon",
        "mcsim/agents/hospital.py",
        "        if self.model.closing:\n            return",
        "        if False:\n            return",
        "hospitals keep starting care after the horizon",
    ),
]


def _pytest(root: Path, tests: list[str], timeout_s: float) -> tuple[bool | None, str]:
    """Run ``tests`` in ``root``: (failed?, first failing test); None for failed on a timeout."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        proc = subprocess.run(
            cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return None, ""
    failed = [ln for ln in proc.stdout.splitlines() if ln.startswith("FAILED")]
    return proc.returncode != 0, failed[0].removeprefix("FAILED ")[:90] if failed else ""


def run_one(m: Mutant, tests: list[str], timeout_s: float) -> tuple[str, float, str]:
    """Apply ``m`` in a fresh copy, run ``tests``; (verdict, seconds, first failing test).

    The behaviour tests run first; the digest tests (:data:`DIGEST_TESTS`) only if none of them
    failed, so the verdict says whether a test that names the behaviour catches the mutant.
    """
    with tempfile.TemporaryDirectory(prefix="mcsim-mutant-") as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(
            REPO,
            root,
            ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "results", "out"),
        )
        target = root / m.path
        text = target.read_text(encoding="utf-8")
        if text.count(m.old) != 1:
            return "stale", 0.0, f"{m.path}: the text to replace occurs {text.count(m.old)} times"
        target.write_text(text.replace(m.old, m.new), encoding="utf-8")
        behaviour = [t for t in tests if t not in DIGEST_TESTS]
        digest = [t for t in tests if t in DIGEST_TESTS]
        t0 = time.perf_counter()
        if behaviour:
            failed, first = _pytest(root, behaviour, timeout_s)
            if failed is None:
                return "caught (timeout)", time.perf_counter() - t0, ""
            if failed:
                return "caught", time.perf_counter() - t0, first
        if digest:
            failed, first = _pytest(root, digest, timeout_s)
            if failed or failed is None:
                return "digest only", time.perf_counter() - t0, first
        return "MISSED", time.perf_counter() - t0, ""


def main() -> None:
    """Run the mutants and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", help="mutant names to run")
    ap.add_argument("--tests", nargs="+", default=DEFAULT_TESTS, help="test files to run")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per mutant")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = ap.parse_args()
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:24} {m.what}")
        return
    print(f"{'mutant':24} {'verdict':16} {'s':>6}  first failing test / what")
    caught = digest_only = 0
    for m in chosen:
        verdict, seconds, detail = run_one(m, args.tests, args.timeout)
        caught += verdict.startswith("caught")
        digest_only += verdict == "digest only"
        print(f"{m.name:24} {verdict:16} {seconds:6.0f}  {detail or m.what}", flush=True)
    print(
        f"{caught} of {len(chosen)} mutants caught by a behaviour test, "
        f"{digest_only} by the baseline digest only"
    )


if __name__ == "__main__":
    main()
