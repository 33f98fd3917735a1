"""``mcsim validation``: the historical scenarios replayed and set beside their published record.

The record of each real incident (deaths, where they happened, hospital loads, timings, each
with its sources) lives in ``scenarios/records/<scenario>.yaml`` (:mod:`.record`); the figures
are computed from each run's patients table (:mod:`.figures`); the scenarios run over
replications on a process pool and each figure is summarised against its band
(:mod:`.runner`); the report renders as a console table, Markdown or JSON (:mod:`.render`).
It is a report, not a gate: a failed band is news about the model, not an error.
"""

from mcsim.validation.figures import FigureName, compute_figures
from mcsim.validation.record import LoadedRecord, RecordFile, load_record, load_records
from mcsim.validation.render import rich_report, write_report
from mcsim.validation.runner import CheckStatus, ValidationReport, run_validation

__all__ = [
    "CheckStatus",
    "FigureName",
    "LoadedRecord",
    "RecordFile",
    "ValidationReport",
    "compute_figures",
    "load_record",
    "load_records",
    "rich_report",
    "run_validation",
    "write_report",
]
