"""Catastrophe-scale timing: 1k, 10k and 100k casualties on a ~2,000-node region.

The region has 100 hospitals and 1,000 ambulances (benchmarks/catastrophe_scenarios.py). For
each size the script runs ``mcsim.simulate`` in a fresh subprocess (so peak memory is that
size's alone) several times and prints the median simulate time (wall and CPU), events per
second, peak resident memory, and the cost per casualty relative to the 1k case. Machines here
are shared and noisy: read medians and ratios, not single runs; CPU time (``process_time``)
is far less sensitive to the other users of the cores than wall time.

    .venv/bin/python benchmarks/scale.py [--sizes 1000 10000 100000] [--repeats 3]

Side by side with an older commit (issue 11: "within 1.3x of the first model", 922f51e):

    .venv/bin/python benchmarks/scale.py --sizes 100000 --compare-commit 922f51e [--pairs 3]

checks the commit out into a temporary git worktree (removed afterwards), then runs the old
tree and this one alternately (old, new, old, new, ...), each in a fresh interpreter with its
own tree first on ``PYTHONPATH`` and its own ``benchmarks/catastrophe_scenarios.py`` (this
tree's if the old one has none), and prints every run, the medians and their ratios to the
first tree's. ``--compare-tree PATH`` adds a tree that is already checked out (e.g. main
beside a branch); both options repeat, and the trees run in the order given, this tree last.

Targets (issue 8): 100k casualties in under 20 s and 2 GB on 2 cores; cost per casualty at 100k
within 1.5x of that at 1k. Issue 11: 100k within 1.3x of the first model's time and memory.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TREE = HERE.parent

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
from catastrophe_scenarios import catastrophe
import mcsim
import mcsim.model  # mcsim imports lazily: load the model before the clock starts
scenario = catastrophe({n})
t0 = time.perf_counter()
c0 = time.process_time()
result = mcsim.simulate(scenario, seed={seed})
cpu = time.process_time() - c0
elapsed = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"s": elapsed, "cpu_s": cpu, "events": len(result.events), "peak_mb": peak_mb,
                  "mcsim": mcsim.__file__}}))
"""


def run_once(n: int, seed: int, tree: Path = TREE) -> dict:
    """One simulate of ``n`` casualties in a fresh interpreter, with ``tree``'s mcsim."""
    bench = tree / "benchmarks"
    if not (bench / "catastrophe_scenarios.py").exists():
        bench = HERE
    code = CHILD.format(bench=str(bench), n=n, seed=seed)
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=tree
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if not Path(res["mcsim"]).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"scale.py: the run imported {res['mcsim']}, not the tree {tree}")
    return res


def scale_table(sizes: list[int], repeats: int) -> None:
    """Print the scale table of this tree."""
    print(
        f"{'casualties':>10}{'median s':>10}{'cpu s':>8}{'events':>10}{'events/s':>11}"
        f"{'peak MB':>9}{'us/casualty':>13}{'vs first':>9}"
    )
    first = None
    for n in sizes:
        runs = [run_once(n, seed) for seed in range(repeats)]
        median = statistics.median(r["s"] for r in runs)
        cpu = statistics.median(r["cpu_s"] for r in runs)
        events = runs[0]["events"]
        peak = max(r["peak_mb"] for r in runs)
        per = median / n
        first = first or per
        print(
            f"{n:>10,}{median:>10.2f}{cpu:>8.2f}{events:>10,}{events / median:>11,.0f}"
            f"{peak:>9.0f}{1e6 * per:>13.1f}{per / first:>8.2f}x",
            flush=True,
        )


def compare(sizes: list[int], pairs: int, others: list[tuple[str, Path]]) -> None:
    """Run ``others`` and this tree in turn, ``pairs`` rounds per size; print medians, ratios."""
    trees = [*others, ("this tree", TREE)]
    first = trees[0][0]
    for n in sizes:
        order = ", ".join(label for label, _ in trees)
        print(f"{n:,} casualties, seed 0, {pairs} rounds of: {order}")
        print(f"  {'run':<16}{'cpu s':>8}{'wall s':>8}{'peak MB':>9}{'events':>10}")
        runs: dict[str, list[dict]] = {label: [] for label, _ in trees}
        for i in range(pairs):
            for label, tree in trees:
                r = run_once(n, 0, tree)
                runs[label].append(r)
                print(
                    f"  {label + f' #{i + 1}':<16}{r['cpu_s']:>8.2f}{r['s']:>8.2f}"
                    f"{r['peak_mb']:>9.0f}{r['events']:>10,}",
                    flush=True,
                )
        med = {
            label: {k: statistics.median(r[k] for r in rs) for k in ("cpu_s", "s", "peak_mb")}
            for label, rs in runs.items()
        }
        a = med[first]
        for label, _ in trees:
            m = med[label]
            ev = runs[label][0]["events"] / runs[first][0]["events"]
            print(
                f"  median {label:<14} cpu {m['cpu_s']:7.2f} s ({m['cpu_s'] / a['cpu_s']:.2f}x)"
                f"  wall {m['s']:7.2f} s ({m['s'] / a['s']:.2f}x)"
                f"  peak {m['peak_mb']:5.0f} MB ({m['peak_mb'] / a['peak_mb']:.2f}x)"
                f"  events {runs[label][0]['events']:,} ({ev:.2f}x)",
                flush=True,
            )


def main() -> None:
    """Print the scale table, or the side-by-side comparison with an older tree."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--compare-commit",
        metavar="REV",
        action="append",
        default=[],
        help="run beside this git commit (repeatable)",
    )
    ap.add_argument(
        "--compare-tree",
        metavar="PATH",
        type=Path,
        action="append",
        default=[],
        help="run beside this checked-out tree (repeatable)",
    )
    ap.add_argument("--pairs", type=int, default=3, help="rounds of alternating runs per size")
    args = ap.parse_args()
    if not (args.compare_commit or args.compare_tree):
        scale_table(args.sizes, args.repeats)
        return
    git = ["git", "-C", str(TREE)]
    with tempfile.TemporaryDirectory(prefix="mcsim-old-") as tmp:
        others = []
        try:
            for rev in args.compare_commit:
                path = Path(tmp) / rev.replace("/", "_")
                subprocess.run(
                    [*git, "worktree", "add", "--detach", str(path), rev],
                    check=True,
                    capture_output=True,
                )
                others.append((rev, path))
            others += [(p.name, p.resolve()) for p in args.compare_tree]
            compare(args.sizes, args.pairs, others)
        finally:
            for _rev, path in others[: len(args.compare_commit)]:
                subprocess.run([*git, "worktree", "remove", "--force", str(path)], check=True)


if __name__ == "__main__":
    main()
