"""The shipped scenarios, by name, for users who installed mcsim with pip and have no checkout.

The scenarios folder travels inside the wheel (``mcsim/scenarios``) and sits at the top of a
checkout (``scenarios/``). Wherever a scenario file is expected (``mcsim run``, ``validate``,
``compare``, :func:`mcsim.load_scenario`, a sweep file's ``scenarios``, an exercise script's
``scenario``), a bare name such as ``stadium_explosion`` names the shipped file of that name
when no file of that name exists where the user is: a file always wins over a shipped name, so
nobody's own ``stadium_explosion.yaml`` is shadowed.

This module imports nothing heavy (only PyYAML, and that only to read descriptions), so that
``mcsim scenarios`` answers at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SCENARIO = "stadium_explosion.yaml"
#: The word a sweep file or exercise script may use for the shipped default scenario.
DEFAULT_NAME = "default"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def scenarios_dir() -> Path:
    """The folder of shipped scenarios (``scenarios/`` in a checkout; installed with mcsim)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "scenarios", here / "scenarios"):
        if (candidate / DEFAULT_SCENARIO).is_file():
            return candidate
    raise FileNotFoundError("the shipped scenarios folder is missing from this installation")


def default_scenario_path() -> Path:
    """The shipped default scenario (a stadium explosion in a synthetic mid-size city)."""
    return scenarios_dir() / DEFAULT_SCENARIO


def shipped_path(name: str, sub: str = "") -> Path | None:
    """The shipped file called ``name`` (``.yaml`` optional) in ``sub`` of the folder, or None.

    Args:
        name: a bare name, ``stadium_explosion`` or ``stadium_explosion.yaml``; anything with a
            folder in it is not a name.
        sub: ``""`` for scenarios, ``"sweeps"`` or ``"exercises"``.
    """
    if name == DEFAULT_NAME and not sub:
        return default_scenario_path()
    if not _NAME.fullmatch(name):
        return None
    try:
        folder = scenarios_dir() / sub if sub else scenarios_dir()
    except FileNotFoundError:
        return None
    for candidate in (folder / name, folder / f"{name}.yaml", folder / f"{name}.yml"):
        try:
            if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
                return candidate
        except OSError:  # a name longer than the file system allows: not a shipped one
            return None
    return None


def resolve(ref: str | Path, *, base_dir: Path | None = None, sub: str = "") -> Path:
    """The file ``ref`` means: a file where the user is, else a shipped one of that name.

    Args:
        ref: a path, or the name of a shipped file.
        base_dir: the folder relative paths are taken from (the sweep file's, say); None: the
            working directory.
        sub: where shipped files of this kind are (see :func:`shipped_path`).

    Returns:
        The path to open; when nothing matches, ``ref`` itself (under ``base_dir``), so that the
        caller's own "no such file" error names what the user wrote.
    """
    path = Path(ref)
    local = base_dir / path if base_dir is not None else path
    try:
        if local.is_file():
            return local
    except OSError:  # a name too long, say: the caller's read says what is wrong with it
        return local
    shipped = shipped_path(str(ref), sub)
    return shipped if shipped is not None else local


@dataclass(frozen=True)
class ShippedScenario:
    """One shipped scenario: the name to call it by, its file and its one-line title."""

    name: str
    path: Path
    title: str
    default: bool


def shipped_scenarios() -> list[ShippedScenario]:
    """Every shipped scenario, the default first, then by name."""
    folder = scenarios_dir()
    out = []
    for path in sorted(folder.glob("*.yaml")):
        out.append(ShippedScenario(path.stem, path, _title(path), path.name == DEFAULT_SCENARIO))
    return sorted(out, key=lambda s: (not s.default, s.name))


def _title(path: Path) -> str:
    """The scenario's ``name:`` line, read without parsing the whole file (regions are large)."""
    import yaml

    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("name:"):
                value = yaml.safe_load(line[len("name:") :])
                return str(value) if value is not None else ""
    return ""
