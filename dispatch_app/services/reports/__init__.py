"""The managers' reports, computed in PostgreSQL: ``run_report`` for a report's figures,
``drill_down`` for the work orders behind one of them, ``report_csv`` for its table as
a spreadsheet. What the words mean is ``domain/reports``."""
