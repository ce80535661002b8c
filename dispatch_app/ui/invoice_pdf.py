"""An invoice on paper: the same ``QTextDocument`` written to a PDF file (``QPdfWriter``)
or sent to a printer (``QPrinter``), laid out at the device's own resolution; and the
Letter page every PDF of the app is written on (``write_letter_pdf``, ``paint_pages``:
the reports print on it too)."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
    QTextFormat,
    QTextTable,
)
from PySide6.QtPrintSupport import QPrinter

from dispatch_app.domain.invoice_document import InvoiceDocument
from dispatch_app.errors import OutputFailed
from dispatch_app.services.invoice_print import LOGO_URL, invoice_html

PDF_RESOLUTION = 300
MARGIN_MM = 15
FONT_FAMILIES = ["Helvetica", "Arial", "Liberation Sans", "DejaVu Sans"]
# Room under the text of each page for "INV-1001 · Page 1 of 2" (in points).
FOOTER_PT = 18

_application: QGuiApplication | None = None


def ensure_application() -> None:
    """Qt draws text only with an application object; the command line has none."""
    global _application
    if QGuiApplication.instance() is None:
        _application = QGuiApplication(sys.argv[:1])


def invoice_text_document(document: InvoiceDocument, device: QPagedPaintDevice) -> QTextDocument:
    """The invoice laid out in pages of ``device``'s printable area, at its resolution."""
    ensure_application()
    text = QTextDocument()
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPointSizeF(9.5)
    # No "fi" ligatures: a PDF reader's search and copy then find "filter" as typed.
    font.setFeature(QFont.Tag("liga"), 0)
    text.setDefaultFont(font)
    # Measured on the device itself, so text wraps where it will be drawn.
    text.documentLayout().setPaintDevice(device)
    text.setDocumentMargin(0)
    logo = document.company.logo
    if logo is not None:
        image = QImage.fromData(logo.data)
        if not image.isNull():
            text.addResource(QTextDocument.ResourceType.ImageResource, QUrl(LOGO_URL), image)
    text.setHtml(invoice_html(document))
    # The text's pages stop short of the device's by the footer's room; the footer is
    # drawn there, outside the text.
    footer = FOOTER_PT * device.logicalDpiY() / 72
    text.setPageSize(QSizeF(device.width(), device.height() - footer))
    _keep_tables_whole(text)
    return text


def _keep_tables_whole(text: QTextDocument) -> None:
    """Moves to the next page any table that would straddle two but fits on one: the
    totals, the payments, the terms. The lines table, whose heading repeats on each
    page, may break between rows."""
    page_height = text.pageSize().height()
    layout = text.documentLayout()
    for frame in text.rootFrame().childFrames():
        if not isinstance(frame, QTextTable):
            continue
        table_format = frame.format()
        if table_format.headerRowCount() > 0:
            continue
        box = layout.frameBoundingRect(frame)  # laid out again after each move
        if box.height() >= page_height:
            continue
        if int(box.top() // page_height) != int((box.bottom() - 1) // page_height):
            table_format.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
            frame.setFormat(table_format)


def write_invoice_pdf(document: InvoiceDocument, path: Path, *, replace: bool = True) -> None:
    """Writes the invoice to ``path`` as a Letter-size PDF, whole or not at all: it is
    written beside ``path`` and then moved into place. Without ``replace`` a file
    already at ``path`` is kept and ``FileExistsError`` raised."""
    write_letter_pdf(
        path,
        f"{document.title} {document.number}",
        lambda writer: _paint(document, writer),
        replace=replace,
    )


def write_letter_pdf(
    path: Path, title: str, paint: Callable[[QPdfWriter], bool], *, replace: bool = True
) -> None:
    """A Letter-size PDF at ``path``, whole or not at all: ``paint`` draws it on a writer
    for a file beside ``path`` (False: the PDF could not be started), which is then moved
    into place. ``OutputFailed`` with a sentence when the file cannot be written."""
    ensure_application()
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise OutputFailed(f"{path} cannot be written ({error.strerror or error}).") from None
    os.close(handle)
    try:
        writer = QPdfWriter(temporary)
        writer.setResolution(PDF_RESOLUTION)
        writer.setCreator("Dispatch Board")
        writer.setTitle(title)
        writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.Letter),
                QPageLayout.Orientation.Portrait,
                QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
                QPageLayout.Unit.Millimeter,
            )
        )
        if not paint(writer):
            raise OutputFailed(f"{path} cannot be written (the PDF could not be started).")
        del writer  # closes the file
        _move_into_place(Path(temporary), path, replace=replace)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError) and not isinstance(error, FileExistsError):
            raise OutputFailed(f"{path} cannot be written ({error.strerror or error}).") from None
        raise


def paint_pages(
    text: QTextDocument, device: QPagedPaintDevice, footer: Callable[[int, int], str | None]
) -> bool:
    """Draw ``text`` page by page on ``device`` (its page size already set), with
    ``footer(page, pages)`` in small grey type under each page, if it says anything;
    False if the device could not be started."""
    page = text.pageSize()
    pages = text.pageCount()
    painter = QPainter()
    if not painter.begin(device):
        return False
    try:
        footer_font = QFont(text.defaultFont())
        footer_font.setPointSizeF(7.5)
        for index in range(pages):
            if index:
                device.newPage()
            painter.save()
            painter.translate(0, -index * page.height())
            text.drawContents(
                painter, QRectF(0, index * page.height(), page.width(), page.height())
            )
            painter.restore()
            words = footer(index + 1, pages)
            if words:
                painter.setFont(footer_font)
                painter.setPen(Qt.GlobalColor.darkGray)
                box = QRectF(0, page.height(), page.width(), device.height() - page.height())
                painter.drawText(
                    box, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom), words
                )
    finally:
        painter.end()
    return True


def print_invoice(document: InvoiceDocument, printer: QPrinter) -> bool:
    """Sends the invoice to ``printer`` (as the print dialog set it up); False if the
    printer could not be started."""
    printer.setPageMargins(
        QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM), QPageLayout.Unit.Millimeter
    )
    printer.setDocName(f"{document.title} {document.number}")
    return _paint(document, printer)


def _paint(document: InvoiceDocument, device: QPagedPaintDevice) -> bool:
    text = invoice_text_document(document, device)
    return paint_pages(
        text,
        device,
        lambda page, pages: f"{document.number} · Page {page} of {pages}" if pages > 1 else None,
    )


def _move_into_place(temporary: Path, path: Path, *, replace: bool) -> None:
    if replace:
        os.replace(temporary, path)
        return
    try:
        # A hard link fails if the name is taken, even by a file made a moment ago.
        os.link(temporary, path)
    except FileExistsError:
        raise
    except OSError:
        # A file system without hard links (FAT, some shares): check, then move.
        if path.exists():
            raise FileExistsError(path) from None
        os.replace(temporary, path)
        return
    temporary.unlink()
