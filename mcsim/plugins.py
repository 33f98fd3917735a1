"""Users' own code: modules that register policies, metrics or exercise actions on import.

Why: a study adds a destination plan (``@register``, :mod:`mcsim.policies.registry`), a KPI
(``@metric``, :mod:`mcsim.metrics`) or an inject (``@register_action``,
:mod:`mcsim.exercise.actions`) without editing mcsim. Its module is named on the command line
(``mcsim run --plugin my_plan.py``), in a scenario's or a sweep's ``imports:`` list, and
:func:`load_plugins` imports it once, before anything looks a name up.

A plugin is either a ``.py`` file (relative to the file that names it, or to the working
directory on the command line) or an importable module name (the naming file's folder is put
on ``sys.path`` first). Every plugin loaded is also recorded in the environment variable
:data:`PLUGINS_ENV`, so that worker processes (``compare --workers``) and the app's server,
which start afresh, load the same ones (:func:`load_plugins_from_env`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from mcsim.errors import InputError, echo

#: The environment variable listing the plugins loaded (``os.pathsep``-separated).
PLUGINS_ENV = "MCSIM_PLUGINS"

_LOADED: dict[str, ModuleType] = {}  # by resolved spec: a plugin runs its registrations once


def _is_file(spec: str) -> bool:
    return spec.endswith(".py") or os.sep in spec or (os.altsep or os.sep) in spec


def _resolve(spec: str, base_dir: Path | None) -> str:
    """A file as an absolute path; a module name as it is."""
    if not _is_file(spec):
        return spec
    p = Path(spec).expanduser()
    if not p.is_absolute():
        p = (base_dir or Path.cwd()) / p
    return str(p.resolve())


def _import_file(path: str) -> ModuleType:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file {path}")
    name = f"mcsim_plugin_{p.stem}"
    spec = importlib.util.spec_from_file_location(name, p)
    if spec is None or spec.loader is None:  # pragma: no cover (a .py file always has one)
        raise ImportError(f"cannot load {path} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_plugins(
    specs: Sequence[str],
    *,
    base_dir: Path | None = None,
    file: str | None = None,
    path: str = "--plugin",
) -> list[ModuleType]:
    """Import each plugin of ``specs`` once (files or module names), in order.

    Args:
        specs: ``.py`` files or module names.
        base_dir: where relative files are found and module names are looked for first
            (default: the working directory).
        file: the file that names them, for errors.
        path: the field (``imports``) or option (``--plugin``) that names them, for errors.

    Raises:
        InputError: a plugin cannot be found, or raises while it is imported (the error names
            ``path[i]`` and the user's exception in one line).
    """
    if base_dir is not None and str(base_dir) not in sys.path:
        sys.path.insert(0, str(base_dir))
    modules = []
    for i, spec in enumerate(specs):
        where = f"{path}[{i}]" if len(specs) > 1 or path != "--plugin" else path
        if not isinstance(spec, str) or not spec:
            raise InputError("a plugin is a .py file or a module name", file=file, path=where)
        key = _resolve(spec, base_dir)
        if key not in _LOADED:
            try:
                _LOADED[key] = _import_file(key) if _is_file(spec) else importlib.import_module(key)
            except (ImportError, FileNotFoundError) as exc:
                raise InputError(
                    f"cannot import {echo(spec)}: {echo(str(exc), 200)}", file=file, path=where
                ) from None
            except Exception as exc:  # noqa: BLE001 (the user's module: any error is bad input)
                raise InputError(
                    f"importing {echo(spec)} failed: {type(exc).__name__}: {echo(str(exc), 200)}",
                    file=file,
                    path=where,
                ) from None
            _remember(key)
        modules.append(_LOADED[key])
    return modules


def _remember(key: str) -> None:
    known = [k for k in os.environ.get(PLUGINS_ENV, "").split(os.pathsep) if k]
    if key not in known:
        os.environ[PLUGINS_ENV] = os.pathsep.join([*known, key])


def load_plugins_from_env() -> list[ModuleType]:
    """Load the plugins the parent process recorded in :data:`PLUGINS_ENV` (workers, the app)."""
    specs = [k for k in os.environ.get(PLUGINS_ENV, "").split(os.pathsep) if k]
    return load_plugins(specs, path=PLUGINS_ENV) if specs else []
