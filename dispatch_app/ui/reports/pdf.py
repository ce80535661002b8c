"""A report on paper: its heading, period and filters, the headline figures, the chart and
the table, as a Letter-size PDF.

How it is made: the text is a ``QTextDocument`` written by ``QPdfWriter``, as the
invoices are — Qt lays out a long table across pages and repeats its header row, and
the words stay text a reader can search. The chart is the window's own matplotlib
drawing, put in as a 200 dpi picture. (matplotlib's ``PdfPages`` draws the chart as
vectors but lays out no text: a table of 150 technicians would be ours to paginate.)
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSizeF, QUrl
from PySide6.QtGui import (
    QFont,
    QImage,
    QPdfWriter,
    QTextDocument,
)

from dispatch_app.domain.reports import ReportResult
from dispatch_app.ui.invoice_pdf import FONT_FAMILIES, paint_pages, write_letter_pdf
from dispatch_app.ui.reports.cells import cell_text, numeric
from dispatch_app.ui.reports.period import period_text
from dispatch_app.ui.reports.table import lines_of

FOOTER_PT = 18  # room under each page's text for "Page 1 of 2"
CHART_URL = "dispatch-report:chart"
# The chart's size on the page, in the document's pixels (1/96 inch): the printable
# width of a Letter page between its margins.
CHART_WIDTH = 690
TEXT = "#1f2933"
MUTED = "#66727f"
RULE = "#c8ced6"
SHADE = "#f1f3f5"
NAME_CHARACTERS = 28  # a name column is given room for this many before it wraps

_STYLE = f"""
body {{ color: {TEXT}; }}
h1 {{ font-size: 17pt; margin: 0; }}
.muted {{ color: {MUTED}; }}
.label {{ color: {MUTED}; font-size: 8pt; }}
.figure {{ font-size: 16pt; font-weight: bold; }}
th {{ background: {SHADE}; color: {MUTED}; font-size: 8pt; font-weight: bold;
      padding: 4px 6px; border-bottom: 1px solid {RULE}; }}
td {{ padding: 3px 6px; border-bottom: 1px solid {SHADE}; }}
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def report_html(result: ReportResult, filters: str, *, chart: bool) -> str:
    """The report as Qt rich text; ``filters`` says which work it counts ("All work",
    "Trade: HVAC · Technician: Dana Cruz"); ``chart``: the chart picture is there."""
    name = result.name
    period = period_text(result.filter.since, result.filter.until)
    parts = [
        f"<html><head><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(name.heading)}</h1>",
        f'<p style="margin: 4px 0 0 0;"><b>{_e(period)}</b> · {_e(filters)}</p>',
        f'<p class="muted" style="margin: 2px 0 12px 0;">{_e(name.definition)}</p>',
    ]
    if result.headline:
        cells = "".join(
            f'<td style="padding: 6px 18px 6px 0; border: none;">'
            f'<span class="label">{_e(figure.label.upper())}</span><br>'
            f'<span class="figure">{_e(cell_text(figure.value, figure.kind))}</span></td>'
            for figure in result.headline
        )
        parts.append(f'<table cellspacing="0" cellpadding="0"><tr>{cells}</tr></table>')
    if result.note:
        parts.append(f'<p style="margin-top: 12px;">{_e(result.note)}</p>')
    if chart:
        parts.append(
            f'<p style="margin-top: 12px;"><img src="{CHART_URL}" width="{CHART_WIDTH}"></p>'
        )
    if result.rows:
        parts.append(_table(result))
    parts.append("</body></html>")
    return "".join(parts)


def _table(result: ReportResult) -> str:
    """The table, its header row repeated on each page, each column as wide as its
    longest figure needs (Qt would share the width out evenly and break "$159,213.40"
    across two lines); names longer than ``NAME_CHARACTERS`` wrap."""
    right_aligned = [numeric(column.kind) for column in result.columns]
    lines = lines_of(result)
    texts = [
        [
            cell_text(value, column.kind)
            for value, column in zip(line.cells, result.columns, strict=False)
        ]
        for line in lines
    ]
    widths = _widths(result, texts)
    head = "".join(
        f'<th align="{"right" if right else "left"}" width="{width}%">{_e(column.title)}</th>'
        for column, right, width in zip(result.columns, right_aligned, widths, strict=True)
    )
    rows = []
    for line, line_texts in zip(lines, texts, strict=True):
        style = f' style="font-weight: bold; border-top: 1px solid {RULE};"' if line.total else ""
        cells = "".join(
            f'<td align="{"right" if right else "left"}" width="{width}%"{style}>{_e(text)}</td>'
            for text, right, width in zip(line_texts, right_aligned, widths, strict=False)
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        '<table width="100%" cellspacing="0" cellpadding="0" style="margin-top: 12px;">'
        f"<thead><tr>{head}</tr></thead>{''.join(rows)}</table>"
    )


def _widths(result: ReportResult, texts: list[list[str]]) -> list[int]:
    """Each column's share of the page in percent, by the characters it needs: its
    longest cell, or the longest word of its title (titles wrap between words)."""
    needs = []
    for n, column in enumerate(result.columns):
        longest = max((len(line[n]) for line in texts if n < len(line)), default=0)
        if not numeric(column.kind):
            longest = min(longest, NAME_CHARACTERS)
        title = max((len(word) for word in column.title.split()), default=0)
        needs.append(max(longest, title + 1, 3) + 2)  # bold titles are wider; the padding
    total = sum(needs)
    return [max(1, round(100 * need / total)) for need in needs]


def write_report_pdf(
    result: ReportResult, filters: str, path: Path, *, chart_png: bytes | None = None
) -> None:
    """Write the report to ``path``, whole or not at all (written beside it, then moved
    into place). ``OutputFailed`` with a sentence when the file cannot be written."""
    write_letter_pdf(
        path,
        f"{result.name.heading}, {period_text(result.filter.since, result.filter.until)}",
        lambda writer: _paint(result, filters, chart_png, writer),
    )


def _paint(result: ReportResult, filters: str, chart_png: bytes | None, device: QPdfWriter) -> bool:
    text = QTextDocument()
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPointSizeF(9.0)
    font.setFeature(QFont.Tag("liga"), 0)  # "fi" stays two letters for search and copy
    text.setDefaultFont(font)
    text.documentLayout().setPaintDevice(device)
    text.setDocumentMargin(0)
    picture = QImage.fromData(chart_png) if chart_png else QImage()
    if not picture.isNull():
        text.addResource(QTextDocument.ResourceType.ImageResource, QUrl(CHART_URL), picture)
    text.setHtml(report_html(result, filters, chart=not picture.isNull()))
    footer = FOOTER_PT * device.logicalDpiY() / 72
    text.setPageSize(QSizeF(device.width(), device.height() - footer))
    period = period_text(result.filter.since, result.filter.until)
    return paint_pages(
        text,
        device,
        lambda page, pages: f"{result.name.heading} · {period} · Page {page} of {pages}",
    )
