"""The caller's card: what the company already knows, written for a CSR mid-call.

Open work orders come first and are flagged: a second call about the same problem is a
duplicate to avoid, or a callback to escalate.
"""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtWidgets import QTextBrowser, QWidget

from dispatch_app.domain.messages import Consent
from dispatch_app.domain.work_order_status import LABELS
from dispatch_app.services.customer_history import CustomerHistory, JobSummary

STYLE = """
<style>
  body { font-size: 10pt; color: #1f2933; }
  h2 { font-size: 14pt; margin: 0 0 2px 0; }
  .muted { color: #66727f; }
  .open { background: #fff4e5; border: 1px solid #f0b35a; padding: 6px; }
  .plan { color: #1e7b45; font-weight: bold; }
  .lapsed { color: #8a6d3b; }
  table { border-collapse: collapse; }
  td, th { padding: 2px 8px 2px 0; }
  th { text-align: left; color: #66727f; font-weight: normal; }
  .money { text-align: right; }
  .opted-out { color: #b42318; }
</style>
"""


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%d %b %Y") if moment else ""


def _job_row(job: JobSummary, money: bool) -> str:
    cells = [
        html.escape(job.number),
        html.escape(job.job_type),
        html.escape(LABELS.get(job.status, job.status)),
        _when(job.when),
        html.escape(", ".join(job.technicians) or "—"),
    ]
    row = "".join(f"<td>{cell}</td>" for cell in cells)
    if money:
        row += f"<td class='money'>${job.total:,.2f}</td>"
    return f"<tr>{row}</tr>"


def history_html(history: CustomerHistory) -> str:
    e = html.escape
    parts = [STYLE, f"<h2>{e(history.name)}</h2>"]
    contact = [*history.phones, *([history.email] if history.email else [])]
    parts.append(
        f"<div class='muted'>{e(' · '.join(contact))} · customer since "
        f"{history.customer_since:%b %Y}</div>"
    )
    parts.append(consent_html(history))
    for plan in history.agreements:
        if plan.active:
            coming = ""
            if plan.next_due is not None:
                coming = f"<br>Next maintenance visit due {plan.next_due:%d %b %Y}" + (
                    f" — booked as {e(plan.next_booked)}" if plan.next_booked else ""
                )
            parts.append(
                f"<p class='plan'>✔ {e(plan.name)} — active until {plan.ends_on:%d %b %Y}, "
                f"{plan.visits_per_year} visit(s) a year{coming}</p>"
            )
        else:
            parts.append(
                f"<p class='lapsed'>{e(plan.name)} lapsed {plan.ends_on:%d %b %Y} "
                "— offer to renew</p>"
            )
    if history.notes:
        parts.append(f"<p><b>Notes:</b> {e(history.notes)}</p>")
    if history.open_jobs:
        rows = "".join(_job_row(job, money=False) for job in history.open_jobs)
        parts.append(
            "<div class='open'><b>⚠ Open work orders — check this is not a duplicate</b>"
            f"<table>{rows}</table></div>"
        )
    for site in history.sites:
        parts.append(f"<p><b>{e(site.label)}</b>: {e(site.address)}")
        if site.access_notes:
            parts.append(f"<br><span class='muted'>Access: {e(site.access_notes)}</span>")
        for unit in site.equipment:
            parts.append(f"<br>• {e(unit.label())}")
        parts.append("</p>")
    if history.past_jobs:
        header = "".join(
            f"<th>{label}</th>" for label in ("Job", "Type", "Status", "Date", "Technicians")
        )
        rows = "".join(_job_row(job, money=True) for job in history.past_jobs)
        more = history.past_job_count - len(history.past_jobs)
        parts.append(
            f"<p><b>Past jobs</b> ({history.past_job_count}, ${history.lifetime_total:,.2f} "
            f"in all)</p><table><tr>{header}<th class='money'>Total</th></tr>{rows}</table>"
        )
        if more > 0:
            parts.append(f"<p class='muted'>and {more} older</p>")
    elif not history.open_jobs:
        parts.append("<p class='muted'>No work orders yet.</p>")
    return "".join(parts)


def consent_text(history: CustomerHistory) -> str:
    """ "Agreed to texts on Dec 3, 2026", or that they have not; plain text."""
    agreed = {
        Consent.INFORMATIONAL.value: "Agreed to texts about visits",
        Consent.PROMOTIONAL.value: "Agreed to texts, review requests and offers",
    }.get(history.message_consent)
    if agreed is None:
        return "Has not agreed to texts"
    when = history.consent_recorded_at
    return f"{agreed} on {when:%b} {when.day}, {when:%Y}" if when else agreed


def consent_html(history: CustomerHistory) -> str:
    said = f"<div class='muted'>{html.escape(consent_text(history))}"
    if history.opt_out_note:
        said += f" · <span class='opted-out'>opted out: {html.escape(history.opt_out_note)}</span>"
    return said + "</div>"


class HistoryCard(QTextBrowser):
    """Read-only; never takes keyboard focus, so Tab goes on to the job."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("history")
        self.setOpenLinks(False)
        self.setFocusPolicy(self.focusPolicy().NoFocus)
        self.history: CustomerHistory | None = None

    def show_history(self, history: CustomerHistory | None) -> None:
        self.history = history
        self.setHtml(history_html(history) if history is not None else "")
