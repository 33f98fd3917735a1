"""The Mesa agents of an MCI: patients, ambulances, staff and hospitals."""

from mcsim.agents.ambulance import Ambulance
from mcsim.agents.hospital import Hospital
from mcsim.agents.patient import Patient
from mcsim.agents.staff import Staff

__all__ = ["Ambulance", "Hospital", "Patient", "Staff"]
