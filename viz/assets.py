"""Make Solara's front-end assets local, so the app renders with no internet access.

Solara's server proxies every front-end asset through ``/_solara/cdn/<pkg>@<version>/...`` and
serves it from ``<sys.prefix>/share/solara/cdn/``; on a miss it fetches the file from a public
CDN, which fails (slowly) on a closed hospital network. The ``solara-assets`` package (installed
by the ``app`` extra) fills most of that folder, but it lags behind Solara: it lacks, e.g.,
``katex`` (loaded by every ``solara.Markdown``) and the semver-range folders (``vega@5``) that the
Altair widget asks for.

This script reads the asset references from the installed Solara itself, and:

- links a range reference (``vega@5``) to an installed exact version (``vega@5.21.0``);
- fetches a missing exact version with ``npm pack`` from the npm registry;
- with ``--check``, only reports what is missing (exit status 1 if anything is).

When nothing is missing it leaves a stamp (``.mcsim-assets-solara-<version>``) in the folder, so
that ``mcsim app`` can tell without importing Solara whether the step has run for the installed
Solara. It ships in the wheel, because a pip user has no ``tools/``: the first ``mcsim app`` of
an installation runs it as ``python -m viz.assets``; ``make venv`` runs it through
``tools/solara_assets.py``. Run it by hand with the interpreter of the environment to fill:
``.venv/bin/python -m viz.assets`` (``--check`` to verify).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# `${this.getCdn()}/katex@0.16.9/...`, `{{cdn}}/requirejs@2.3.6/...`, `"/font-awesome@4.5.0/..."`
_REF = re.compile(
    r"""(?:getCdn\(\)\}|\{\{\s*cdn\s*\}\}|["'`])/((?:@[\w.-]+/)?[\w.-]+)@(\d[\w.+-]*)/"""
)
# Vue 3 front-end assets: unused while ipyvue < 3 is pinned (SolaraViz renders blank on Vue 3).
_SKIP = ("solara-vuetify3-app",)


def cdn_dir() -> Path:
    """Return the folder the Solara server of this interpreter serves ``/_solara/cdn`` from."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def stamp_path() -> Path | None:
    """Return the stamp that says the installed Solara's assets are complete (None: no Solara).

    Computed from the package metadata, without importing Solara (which takes seconds).
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return cdn_dir() / f".mcsim-assets-solara-{version('solara')}"
    except PackageNotFoundError:
        return None


def referenced_assets() -> set[tuple[str, str]]:
    """Return the ``(package, version)`` pairs the installed Solara loads from its CDN path."""
    import solara  # noqa: PLC0415 - only needed here, and slow to import

    root = Path(solara.__file__).parent
    refs: set[tuple[str, str]] = set()
    for path in root.rglob("*"):
        if path.suffix not in {".py", ".vue", ".j2", ".html"} or "website" in path.parts:
            continue
        for name, version in _REF.findall(path.read_text(encoding="utf-8", errors="ignore")):
            if not any(skip in name for skip in _SKIP):
                refs.add((name, version))
    return refs


def is_exact(version: str) -> bool:
    """Tell whether ``version`` is an exact npm version (``5.21.0``) rather than a range (``5``)."""
    return re.fullmatch(r"\d+\.\d+\.\d+([-+][\w.]+)?", version) is not None


def installed_match(cdn: Path, name: str, version: str) -> Path | None:
    """Return the highest installed exact version of ``name`` within the range ``version``."""
    candidates = []
    for folder in cdn.glob(f"{name}@{version}.*"):
        exact = folder.name.rsplit("@", 1)[1]
        if is_exact(exact) and (folder / "package.json").exists():
            key = tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.+-]", exact))
            candidates.append((key, folder))
    return max(candidates)[1] if candidates else None


def npm_pack(name: str, version: str, target: Path) -> None:
    """Download ``name@version`` from the npm registry and unpack it as folder ``target``."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(f"error: npm is needed to fetch {name}@{version} (apt-get install npm)")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [npm, "pack", "--json", f"{name}@{version}"],
            cwd=tmp,
            check=True,
            capture_output=True,
            text=True,
        )
        tarball = Path(tmp) / json.loads(out.stdout)[0]["filename"]
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(tmp) / "package"), str(target))


def main(argv: list[str] | None = None) -> int:
    """Fill (or, with ``--check``, verify) the local Solara asset folder; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report what is missing")
    parser.add_argument(
        "--if-needed",
        action="store_true",
        help="do nothing if the step already ran for the installed Solara (mcsim app uses it)",
    )
    args = parser.parse_args(argv)
    stamp = stamp_path()
    if args.if_needed and stamp is not None and stamp.exists():
        return 0

    cdn = cdn_dir()
    missing = []
    for name, version in sorted(referenced_assets()):
        folder = cdn / f"{name}@{version}"
        if (folder / "package.json").exists():
            continue
        if args.check:
            missing.append(f"{name}@{version}")
            continue
        if folder.is_symlink() or folder.exists():
            # a half-written folder from an interrupted run
            folder.unlink() if folder.is_symlink() else shutil.rmtree(folder)
        match = None if is_exact(version) else installed_match(cdn, name, version)
        if match is not None:
            folder.symlink_to(match.name)
            print(f"solara assets: {folder.name} -> {match.name}")
        else:
            npm_pack(name, version, folder)
            print(f"solara assets: fetched {name}@{version} from npm")
    if missing:
        print(f"solara assets missing in {cdn}: {', '.join(missing)}", file=sys.stderr)
        return 1
    if stamp is not None:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
