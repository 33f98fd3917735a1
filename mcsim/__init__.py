"""mcsim: a mass-casualty incident simulator for emergency preparedness.

The public API is small: :func:`load_scenario` reads and validates a scenario file,
:func:`simulate` runs it and returns a :class:`RunResult` (metrics, event log, patients table),
and :class:`MCIModel` is the Mesa model itself for those who step it by hand.
"""

from mcsim.errors import InputError
from mcsim.model import MCIModel
from mcsim.records import RunResult
from mcsim.scenario import Scenario, load_scenario
from mcsim.simulate import default_scenario_path, simulate

__all__ = [
    "InputError",
    "MCIModel",
    "RunResult",
    "Scenario",
    "default_scenario_path",
    "load_scenario",
    "simulate",
]

__version__ = "0.1.0"
