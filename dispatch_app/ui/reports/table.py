"""A report's table as an item model: its lines through the report's own columns, and a
totals line in bold when the report has one.

Read again after a colleague's change, the same report usually moves one figure: the
lines are matched by their key and only what changed is repainted, so the selection
stays. Another report (other columns) lays the table out afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch_app.domain.reports import Cell, CellKind, ReportResult
from dispatch_app.domain.reports import Column as ReportColumn
from dispatch_app.ui.office.rows import Column, RecordsModel
from dispatch_app.ui.reports.cells import cell_text, numeric


@dataclass(frozen=True, slots=True)
class TableLine:
    """One line of the table; ``key`` is what the drill-down asks for (None: the totals
    line, everything the report counts)."""

    key: str | None
    cells: tuple[Cell, ...]
    total: bool = False


def _column(number: int, column: ReportColumn) -> Column:
    return Column(
        column.title,
        lambda line: cell_text(line.cells[number], column.kind) if number < len(line.cells) else "",
        numeric=numeric(column.kind),
        bold=lambda line: line.total,
    )


class ReportTableModel(RecordsModel):
    def __init__(self, parent: object = None) -> None:
        super().__init__([], key=lambda line: (line.total, line.key), parent=parent)
        self.shape: tuple[ReportColumn, ...] = ()

    def set_result(self, result: ReportResult | None) -> None:
        """Show ``result``'s lines (nothing for None)."""
        shape = result.columns if result is not None else ()
        lines = lines_of(result) if result is not None else []
        if shape != self.shape:
            self.set_records([])
            self.beginResetModel()  # other columns: a table of another shape
            self.shape = shape
            self.columns = [_column(n, column) for n, column in enumerate(shape)]
            self.endResetModel()
        self.set_records(lines)

    def kind(self, column: int) -> CellKind:
        return self.shape[column].kind


def lines_of(result: ReportResult) -> list[TableLine]:
    lines = [TableLine(row.key, row.cells) for row in result.rows]
    if result.totals is not None and result.rows:
        lines.append(TableLine(None, result.totals, total=True))
    return lines
