"""mcsim: a mass-casualty incident simulator for emergency preparedness.

The public API is small: :func:`load_scenario` reads and validates a scenario file (or a shipped
scenario by name, ``mcsim.load_scenario("stadium_explosion")``), :func:`simulate` runs it and
returns a :class:`RunResult` (metrics, event log, patients table), and :class:`MCIModel` is the
Mesa model itself for those who step it by hand. :func:`shipped_scenarios` lists the scenarios
that come with mcsim.

The names are imported on first use (PEP 562 module ``__getattr__``): ``import mcsim`` costs
almost nothing, so the command line answers ``--help`` or ``validate`` without loading Mesa,
SciPy and pandas, which only a simulation needs.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.4.0"

#: Public name → the module that defines it.
_LAZY = {
    "InputError": "mcsim.errors",
    "MCIModel": "mcsim.model",
    "RunResult": "mcsim.records",
    "Scenario": "mcsim.scenario",
    "load_scenario": "mcsim.scenario",
    "default_scenario_path": "mcsim.library",
    "shipped_scenarios": "mcsim.library",
    "simulate": "mcsim.simulate",
}

__all__ = [
    "InputError",
    "MCIModel",
    "RunResult",
    "Scenario",
    "default_scenario_path",
    "load_scenario",
    "shipped_scenarios",
    "simulate",
]

if TYPE_CHECKING:  # what static type checkers and IDEs see
    from mcsim.errors import InputError
    from mcsim.library import default_scenario_path, shipped_scenarios
    from mcsim.model import MCIModel
    from mcsim.records import RunResult
    from mcsim.scenario import Scenario, load_scenario
    from mcsim.simulate import simulate


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mcsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


class _Package(types.ModuleType):
    """The package's module type: ``mcsim.simulate`` stays the function.

    Importing a submodule binds it on its package once it has run, so ``import mcsim.simulate``
    (done by the sweep workers, the app, the tests) would replace the function of that name by
    the module; the eager ``__init__`` this one replaced rebound it afterwards.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
