"""The managers' reports, computed in PostgreSQL: ``run_report`` for a report's figures,
``drill_down`` for the work orders behind one of them, ``report_csv`` for its table as
a spreadsheet, ``filter_choices`` for the window's filter boxes. What the words mean is
``domain/reports``; the SQL is ``queries``."""

from dispatch_app.domain.reports import FilterChoices
from dispatch_app.services.reports.run import (
    DRILL_DOWN_LIMIT,
    drill_down,
    filter_choices,
    run_report,
    trade_label,
)
from dispatch_app.services.reports.spreadsheet import report_csv

__all__ = [
    "DRILL_DOWN_LIMIT",
    "FilterChoices",
    "drill_down",
    "filter_choices",
    "report_csv",
    "run_report",
    "trade_label",
]
