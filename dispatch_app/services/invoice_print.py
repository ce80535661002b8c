"""A posted invoice as it is printed: read from the database in one statement, and
written as the HTML that ``ui/invoice_pdf`` lays out on the page (Qt's rich text).

``read_invoice_document`` works on a sync connection (the command line);
``load_invoice_document`` runs the same statement on the app's connection. Both only
read: the database made the totals and the number.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import decimal
import html
import io
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import Connection, RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.domain.invoice_document import (
    Company,
    DocumentLine,
    DocumentPayment,
    InvoiceDocument,
    Logo,
    date_text,
    money,
    payment_method_text,
    quantity_text,
    rate_text,
)
from dispatch_app.domain.phones import display_phone
from dispatch_app.domain.vocabulary import InvoiceStatus
from dispatch_app.errors import UserFacingError
from dispatch_app.services.billing import DEFAULT_TERMS

log = logging.getLogger(__name__)

# ``app_settings`` keys the printed invoice reads.
COMPANY_NAME = "company_name"
COMPANY_ADDRESS = "company_address"  # multi-line text
COMPANY_PHONE = "company_phone"
COMPANY_LOGO = "company_logo"  # a PNG or JPEG file's path, or the image in base64
INVOICE_TERMS = "invoice_terms"  # when the invoice has no terms of its own
SETTING_KEYS = (COMPANY_NAME, COMPANY_ADDRESS, COMPANY_PHONE, COMPANY_LOGO, INVOICE_TERMS)

# A letterhead logo, not a photo: anything larger is a mistake in the setting.
MAX_LOGO_BYTES = 5_000_000
MAX_LOGO_PIXELS = 25_000_000
LOGO_TYPES = frozenset({"PNG", "JPEG"})
# The logo is drawn inside this box (CSS pixels, 1/96 in), keeping its proportions.
LOGO_BOX = (240, 80)

_NUMBER = re.compile(r"(?:INV\s*-?\s*)?0*([1-9][0-9]{0,8})", re.IGNORECASE)

# One statement, so the invoice, its lines and its payments come from one snapshot: a
# payment recorded meanwhile is either in both the list and the balance, or in neither.
# Amounts inside the JSON travel as text, so they reach Python as exact decimals.
INVOICE_STATEMENT = text(
    """
    SELECT i.id, i.number, i.kind, i.status, i.issued_on, i.due_on,
           i.subtotal, i.taxable_subtotal, i.tax_rate, i.tax, i.total, i.paid, i.credited,
           i.terms, i.memo, coalesce(i.void_reason, '') AS void_reason,
           coalesce(original.number, '') AS credit_of,
           c.name AS customer_name, coalesce(c.email, '') AS customer_email,
           coalesce((SELECT p.number FROM customer_phones p WHERE p.customer_id = c.id
                     ORDER BY p.id LIMIT 1), '') AS customer_phone,
           w.number AS work_order_number,
           json_build_array(s.street, s.city, s.state, s.zip) AS site,
           (SELECT json_build_array(b.street, b.city, b.state, b.zip) FROM service_sites b
             WHERE b.customer_id = c.id ORDER BY b.id LIMIT 1) AS billing,
           coalesce((SELECT json_agg(json_build_object(
                         'description', l.description, 'quantity', l.quantity::text,
                         'unit_price', l.unit_price::text, 'amount', l.amount::text,
                         'taxable', l.taxable) ORDER BY l.position, l.id)
                     FROM invoice_lines l WHERE l.invoice_id = i.id), '[]') AS lines,
           coalesce((SELECT json_agg(json_build_object(
                         'received_on', p.received_on, 'method', p.method,
                         'amount', p.amount::text, 'check_number', p.check_number,
                         'card_last4', p.card_last4, 'reference', p.reference,
                         'reason', p.reason) ORDER BY p.received_on, p.id)
                     FROM payments p WHERE p.invoice_id = i.id), '[]') AS payments,
           coalesce((SELECT json_object_agg(a.key, a.value) FROM app_settings a
                      WHERE a.key = ANY(:keys)), '{}') AS settings
      FROM invoices i
      JOIN customers c ON c.id = i.customer_id
      JOIN work_orders w ON w.id = i.work_order_id
      JOIN service_sites s ON s.id = w.site_id
      LEFT JOIN invoices original ON original.id = i.credit_of_id
     WHERE i.number = :number
    """
)


class NoSuchInvoice(UserFacingError):
    """No posted invoice has the number asked for."""


def invoice_number(typed: str) -> str:
    """``INV-1001`` for ``INV-1001``, ``inv-1001`` or ``1001``; a sentence otherwise."""
    match = _NUMBER.fullmatch(typed.strip())
    if match is None:
        shown = typed.strip() if len(typed.strip()) <= 20 else typed.strip()[:19] + "…"
        raise NoSuchInvoice(f"“{shown}” is not an invoice number like INV-1001.")
    return f"INV-{match[1]}"


def read_invoice_document(connection: Connection, number: str) -> InvoiceDocument:
    """The invoice numbered ``number`` as printed, or ``NoSuchInvoice`` saying so."""
    return invoice_document(invoice_row(connection, number))


async def load_invoice_document(
    sessions: async_sessionmaker[AsyncSession], number: str
) -> InvoiceDocument:
    """``read_invoice_document`` for the app: the same statement in a transaction of its
    own, then the logo (a file, and Pillow's check of it) in a worker thread, so neither
    holds up the event loop."""
    async with sessions() as session, session.begin():
        row = await session.run_sync(lambda sync: invoice_row(sync.connection(), number))
    return await asyncio.to_thread(invoice_document, row)


def invoice_row(connection: Connection, number: str) -> RowMapping:
    """The row of ``INVOICE_STATEMENT`` for ``number``, or ``NoSuchInvoice``."""
    wanted = invoice_number(number)
    row = (
        connection.execute(INVOICE_STATEMENT, {"number": wanted, "keys": list(SETTING_KEYS)})
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NoSuchInvoice(
            f"There is no invoice {wanted}. A draft has no number until it is posted."
        )
    return row


def invoice_document(row: RowMapping) -> InvoiceDocument:
    """The document for one row of ``INVOICE_STATEMENT``."""
    settings: Mapping[str, Any] = row["settings"] or {}
    terms = row["terms"].strip() or _setting_text(settings, INVOICE_TERMS) or DEFAULT_TERMS
    return InvoiceDocument(
        number=row["number"],
        kind=row["kind"],
        status=row["status"],
        issued_on=row["issued_on"],
        due_on=row["due_on"],
        company=Company(
            name=_setting_text(settings, COMPANY_NAME),
            address=_text_lines(_setting_text(settings, COMPANY_ADDRESS)),
            phone=_setting_text(settings, COMPANY_PHONE),
            logo=company_logo(settings.get(COMPANY_LOGO)),
        ),
        customer_name=row["customer_name"],
        customer_phone=display_phone(row["customer_phone"]) if row["customer_phone"] else "",
        customer_email=row["customer_email"],
        billing_address=_address(row["billing"]),
        site_address=_address(row["site"]),
        work_order_number=row["work_order_number"],
        lines=tuple(
            DocumentLine(
                description=line["description"],
                quantity=decimal.Decimal(line["quantity"]),
                unit_price=decimal.Decimal(line["unit_price"]),
                amount=decimal.Decimal(line["amount"]),
                taxable=bool(line["taxable"]),
            )
            for line in row["lines"]
        ),
        subtotal=row["subtotal"],
        taxable_subtotal=row["taxable_subtotal"],
        tax_rate=row["tax_rate"],
        tax=row["tax"],
        total=row["total"],
        paid=row["paid"],
        credited=row["credited"],
        payments=tuple(_payment(payment) for payment in row["payments"]),
        terms=terms,
        memo=row["memo"].strip(),
        credit_of=row["credit_of"],
        void_reason=row["void_reason"].strip(),
    )


def _payment(payment: Mapping[str, Any]) -> DocumentPayment:
    amount = decimal.Decimal(payment["amount"])
    method = payment_method_text(
        payment["method"],
        check_number=payment["check_number"],
        card_last4=payment["card_last4"],
    )
    reference = (payment["reference"] or "").strip()
    if amount < 0:
        method = f"Refund · {method}"
        reason = (payment["reason"] or "").strip()
        reference = " · ".join(part for part in (reference, reason) if part)
    return DocumentPayment(
        received_on=dt.date.fromisoformat(payment["received_on"]),
        method=method,
        reference=reference,
        amount=amount,
    )


def _setting_text(settings: Mapping[str, Any], key: str) -> str:
    value = settings.get(key)
    return value.strip() if isinstance(value, str) else ""


def _text_lines(value: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in value.splitlines() if line.strip())


def _address(parts: list[str] | None) -> tuple[str, ...]:
    """``("1432 W Belmont Ave", "Chicago, IL 60657")``; empty for no site."""
    if not parts:
        return ()
    street, city, state, zip_code = parts
    return (street, f"{city}, {state} {zip_code}")


# -- the logo ---------------------------------------------------------------------------
def company_logo(value: object) -> Logo | None:
    """The ``company_logo`` setting's picture: a PNG or JPEG file's path, or the image
    itself in base64 (a ``data:image/…;base64,`` URL too). Anything else is logged and
    the invoice is printed without a logo: a missing picture never stops an invoice."""
    if not isinstance(value, str) or not value.strip():
        return None
    setting = value.strip()
    data = _base64_image(setting)
    if data is None:
        path = Path(setting).expanduser()
        try:
            with path.open("rb") as file:
                data = file.read(MAX_LOGO_BYTES + 1)
        except OSError as error:
            log.warning(
                "The company logo %s cannot be read (%s); invoices print without it.",
                path,
                error.strerror or error,
            )
            return None
    if len(data) > MAX_LOGO_BYTES:
        log.warning(
            "The company logo is over %s MB; invoices print without it.",
            MAX_LOGO_BYTES // 1_000_000,
        )
        return None
    return _checked_logo(data)


def _base64_image(setting: str) -> bytes | None:
    body = setting.split(",", 1)[1] if setting.startswith("data:image/") else setting
    # A path has slashes or dots in places base64 of a PNG or JPEG never starts with.
    if not body.startswith(("iVBORw0KGgo", "/9j/")):
        return None
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _checked_logo(data: bytes) -> Logo | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            if kind not in LOGO_TYPES:
                log.warning(
                    "The company logo is a %s picture, not PNG or JPEG; invoices print without it.",
                    kind,
                )
                return None
            if width * height > MAX_LOGO_PIXELS:
                log.warning(
                    "The company logo is %s × %s pixels, too many for a letterhead; "
                    "invoices print without it.",
                    width,
                    height,
                )
                return None
            image.load()  # a truncated file fails here, not half-drawn on the page
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as error:
        log.warning(
            "The company logo cannot be read as a picture (%s); printing without it.", error
        )
        return None
    return Logo(data, width, height)


# -- the page ---------------------------------------------------------------------------
LOGO_URL = "dispatch-invoice:logo"  # the image resource ``ui/invoice_pdf`` adds

# Qt's rich text understands this much CSS: colours, weights, sizes, cell padding and
# cell borders. Sizes are points, so the page reads the same at any printer resolution.
_STYLE = """
body { font-size: 9.5pt; color: #1d2733; }
.company { font-size: 14pt; font-weight: bold; }
.muted { color: #5b6875; }
.title { font-size: 24pt; font-weight: bold; color: #23405e; }
.label { font-size: 7.5pt; font-weight: bold; color: #5b6875; }
.meta-key { color: #5b6875; padding: 1px 10px 1px 0; }
.meta-value { font-weight: bold; padding: 1px 0; }
th { background-color: #23405e; color: #ffffff; font-size: 8.5pt; font-weight: bold;
     padding: 5px 6px; }
td.cell { padding: 5px 6px; border-bottom: 1px solid #d5dbe1; }
td.sum-key { padding: 3px 6px; color: #33404d; }
td.sum-value { padding: 3px 6px; }
td.total { padding: 4px 6px; font-weight: bold; border-top: 1px solid #8795a3; }
td.due { padding: 6px 6px; font-size: 11pt; font-weight: bold; background-color: #e8eef4; }
"""
_STAMP_COLOURS = {
    InvoiceStatus.PAID: "#1e7b34",
    InvoiceStatus.VOID: "#b3261e",
    InvoiceStatus.PARTLY_PAID: "#a35c00",
    InvoiceStatus.DRAFT: "#5b6875",
}


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _br(lines: Iterable[str]) -> str:
    return "<br>".join(_e(line) for line in lines)


def invoice_html(document: InvoiceDocument) -> str:
    """The invoice as Qt rich text (an HTML subset); every value from the database or
    the settings is escaped, so a customer named ``<b>Bob</b>`` prints as typed."""
    return (
        "<html><head><style>"
        + _STYLE
        + "</style></head><body>"
        + _header(document)
        + _parties(document)
        + _line_table(document)
        + _totals(document)
        + _payments(document)
        + _closing(document)
        + "</body></html>"
    )


def _header(document: InvoiceDocument) -> str:
    company = document.company
    left: list[str] = []
    if company.logo is not None:
        width, height = _fit(company.logo.width, company.logo.height, *LOGO_BOX)
        left.append(f'<img src="{LOGO_URL}" width="{width}" height="{height}"><br>')
    if company.name:
        left.append(f'<span class="company">{_e(company.name)}</span><br>')
    details = [*company.address, *([company.phone] if company.phone else [])]
    if details:
        left.append(f'<span class="muted">{_br(details)}</span>')

    meta = [("Invoice no." if not document.is_credit_note else "Credit note no.", document.number)]
    if document.credit_of:
        meta.append(("Credits invoice", document.credit_of))
    meta.append(("Date", date_text(document.issued_on)))
    if not document.is_credit_note and document.due_on is not None:
        meta.append(("Due", date_text(document.due_on)))
    meta.append(("Work order", document.work_order_number))
    rows = "".join(
        f'<tr><td class="meta-key" align="right">{_e(key)}</td>'
        f'<td class="meta-value" align="right">{_e(value)}</td></tr>'
        for key, value in meta
    )
    right = (
        f'<p align="right" style="margin: 0;"><span class="title">'
        f"{_e(document.title.upper())}</span></p>"
        f'<table align="right" cellspacing="0" cellpadding="0">{rows}</table>' + _stamp(document)
    )
    return (
        '<table width="100%" cellspacing="0" cellpadding="0"><tr>'
        f'<td width="55%" valign="top">{"".join(left)}</td>'
        f'<td width="45%" valign="top" align="right">{right}</td>'
        "</tr></table>"
    )


def _stamp(document: InvoiceDocument) -> str:
    word = document.status_word
    if not word:
        return ""
    colour = _STAMP_COLOURS.get(InvoiceStatus(document.status), "#5b6875")
    reason = ""
    if document.status == InvoiceStatus.VOID and document.void_reason:
        reason = f'<br><span style="font-size: 8pt;">{_e(document.void_reason)}</span>'
    return (
        '<table align="right" cellspacing="0" cellpadding="0" border="2" '
        f'style="border-color: {colour}; border-style: solid; border-collapse: collapse; '
        'margin-top: 10px;">'
        f'<tr><td align="center" style="color: {colour}; padding: 2px 14px 4px 14px;">'
        f'<span style="font-size: 18pt; font-weight: bold;">{_e(word)}</span>{reason}'
        "</td></tr></table>"
    )


def _parties(document: InvoiceDocument) -> str:
    bill_to = [
        document.customer_name,
        *document.billing_address,
        *([document.customer_phone] if document.customer_phone else []),
        *([document.customer_email] if document.customer_email else []),
    ]
    name, *rest = bill_to
    return (
        '<table width="100%" cellspacing="0" cellpadding="0" style="margin-top: 22px;"><tr>'
        '<td width="50%" valign="top"><span class="label">BILL TO</span><br>'
        f"<b>{_e(name)}</b><br>{_br(rest)}</td>"
        '<td width="50%" valign="top"><span class="label">SERVICE ADDRESS</span><br>'
        f"{_br(document.site_address)}</td>"
        "</tr></table>"
    )


def _line_table(document: InvoiceDocument) -> str:
    mixed = 0 < document.taxable_subtotal != document.subtotal and document.tax_rate > 0
    rows = []
    for line in document.lines:
        # Where only some lines are taxed, the taxed ones are marked.
        mark = " <small>(taxed)</small>" if mixed and line.taxable else ""
        rows.append(
            "<tr>"
            f'<td class="cell">{_e(line.description)}{mark}</td>'
            f'<td class="cell" align="right">{_e(quantity_text(line.quantity))}</td>'
            f'<td class="cell" align="right">{_e(money(line.unit_price))}</td>'
            f'<td class="cell" align="right">{_e(money(line.amount))}</td>'
            "</tr>"
        )
    return (
        '<table width="100%" cellspacing="0" cellpadding="0" style="margin-top: 22px;">'
        '<thead><tr><th width="58%" align="left">DESCRIPTION</th>'
        '<th width="10%" align="right">QTY</th>'
        '<th width="16%" align="right">UNIT PRICE</th>'
        '<th width="16%" align="right">AMOUNT</th></tr></thead>' + "".join(rows) + "</table>"
    )


def _totals(document: InvoiceDocument) -> str:
    rows: list[tuple[str, str, str]] = [("Subtotal", money(document.subtotal), "sum")]
    if document.tax_rate > 0 or document.tax != 0:
        on = ""
        if document.taxable_subtotal != document.subtotal:
            on = f" on {money(document.taxable_subtotal)}"
        rows.append((f"Tax ({rate_text(document.tax_rate)}{on})", money(document.tax), "sum"))
    if document.is_credit_note:
        rows.append(("Total credit", money(document.total), "due"))
    else:
        rows.append(("Total", money(document.total), "total"))
        if document.paid:
            rows.append(("Paid", money(-document.paid), "sum"))
        if document.credited:
            rows.append(("Credited", money(-document.credited), "sum"))
        rows.append(("Balance due", money(document.amount_due), "due"))
    cells = []
    for key, value, kind in rows:
        key_class = {"sum": "sum-key", "total": "total", "due": "due"}[kind]
        value_class = {"sum": "sum-value", "total": "total", "due": "due"}[kind]
        cells.append(
            f'<tr><td class="{key_class}">{_e(key)}</td>'
            f'<td class="{value_class}" align="right">{_e(value)}</td></tr>'
        )
    return (
        '<table width="100%" cellspacing="0" cellpadding="0" style="margin-top: 10px;"><tr>'
        '<td width="52%"></td><td width="48%">'
        '<table width="100%" cellspacing="0" cellpadding="0">' + "".join(cells) + "</table>"
        "</td></tr></table>"
    )


def _payments(document: InvoiceDocument) -> str:
    if not document.payments:
        return ""
    rows = "".join(
        "<tr>"
        f'<td class="cell">{_e(date_text(payment.received_on))}</td>'
        f'<td class="cell">{_e(payment.method)}</td>'
        f'<td class="cell">{_e(payment.reference)}</td>'
        f'<td class="cell" align="right">{_e(money(payment.amount))}</td>'
        "</tr>"
        for payment in document.payments
    )
    # The heading is a row of the table, so the two are never on different pages.
    return (
        '<table width="100%" cellspacing="0" cellpadding="0" style="margin-top: 22px;">'
        '<tr><td colspan="4" style="padding-bottom: 4px;"><span class="label">PAYMENTS</span>'
        "</td></tr>"
        '<tr><th width="18%" align="left">DATE</th><th width="30%" align="left">METHOD</th>'
        '<th width="36%" align="left">REFERENCE</th><th width="16%" align="right">AMOUNT</th>'
        "</tr>" + rows + "</table>"
    )


def _closing(document: InvoiceDocument) -> str:
    parts = []
    if document.memo:
        parts.append(_note("NOTES", document.memo))
    if not document.is_credit_note:  # a credit note asks for no payment
        parts.append(_note("TERMS", document.terms, rule=True))
    return "".join(parts)


def _note(label: str, words: str, *, rule: bool = False) -> str:
    """A labelled paragraph, as a one-cell table so that it moves to the next page whole."""
    line = "border-top: 1px solid #8795a3; padding-top: 10px; color: #5b6875; " if rule else ""
    return (
        '<table width="100%" cellspacing="0" cellpadding="0" style="margin-top: 24px;">'
        f'<tr><td style="{line}"><span class="label">{_e(label)}</span><br>'
        f"{_br(_text_lines(words))}</td></tr></table>"
    )


def _fit(width: int, height: int, most_width: int, most_height: int) -> tuple[int, int]:
    """``width`` × ``height`` scaled to fit the box, proportions kept."""
    scale = min(most_width / width, most_height / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))
