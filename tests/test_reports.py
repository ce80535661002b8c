"""The managers' reports on a hand-built fortnight: every figure worked out by hand.

The period is Monday 2 November to Sunday 15 November 2026 in Chicago (two weeks, the
clocks changed on 1 November). The company, as written by ``_fortnight``:

- Job types: No heat (HVAC), Tune-up (HVAC), Leak repair (plumbing).
- Technicians: Ava (Mon–Fri 08–16: 10 days, 80 h), Marcus (Mon–Thu 07–17 and
  Saturday 22–06 across midnight: 10 days, 96 h), Noor (inactive, nothing).
- Sites: Ana's in ZIP 60601, Ben's in 53703.

Work orders (W1 … W19) and what each stands for:

====  ============  =====  ==========================================================
W1    No heat       606    closed; one visit completed Nov 3 (Ava); 400 posted Nov 3
W2    Leak repair   537    invoiced; visit 1 a no-show, visit 2 completed Nov 5
                           (Marcus leads, Ava on the crew); 650 posted Nov 5, 150
                           credited (worth 500, nothing paid)
W3    Tune-up       606    closed; visit 1 completed Nov 10 (Ava), visit 2 cancelled;
                           a 100 deposit posted Nov 2 and 200 final posted Nov 10
W4    No heat       537    invoiced; completed Sunday Nov 8 20:00 (Marcus); 250 posted
                           Sunday 23:30 (the same week in Chicago; Monday in UTC),
                           100 paid
W5    Leak repair   606    closed in October (999): before the period
W6    Tune-up       606    completed Nov 12 (Ava), not invoiced: lines 2 × 95 + 35.50
W7    No heat       606    set to completed from psql on Nov 11: no status step, no
                           visit (counts from its last change)
W8    Leak repair   606    cancelled Nov 4 "Customer fixed it"; a follow-up recovered it
W9    No heat       537    a no-show Nov 9 (Marcus's visit), reason starting with "+"
W10   Tune-up       606    cancelled Nov 13 "Customer fixed it"; its follow-up still open
W11   Leak repair   606    cancelled in October
W12   No heat       606    cancelled Nov 6, restored, cancelled again Nov 20: its last
                           step is after the period; booked Oct 20
W13   No heat       606    scheduled, booked Nov 14
W14   Leak repair   537    new, booked Oct 1
W15   Tune-up       606    new, booked Jul 1
W16   No heat       606    new, booked Nov 20 (after the period)
W17   Leak repair   606    booked Nov 10, completed Nov 18 and closed (open at the end)
W18   Tune-up       606    completed Oct 30, a draft invoice only: lines 120
W19   No heat       606    completed Nov 20 (after the period: open at its end)
====  ============  =====  ==========================================================

Void invoices, drafts and credit notes never count as revenue.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dispatch_app.cli import main
from dispatch_app.config import libpq_url
from dispatch_app.domain.reports import (
    Chart,
    Figure,
    ReportFilter,
    ReportName,
    ReportResult,
    ReportRow,
    WorkOrderLine,
)
from dispatch_app.errors import ValidationError
from dispatch_app.services.leads.leak import leak_figures
from dispatch_app.services.reports import drill_down, filter_choices, report_csv, run_report
from tests.companies import TZ, operate

D = decimal.Decimal
SINCE, UNTIL = dt.date(2026, 11, 2), dt.date(2026, 11, 15)
WEEK_1, WEEK_2 = dt.date(2026, 11, 2), dt.date(2026, 11, 9)
PERIOD = ReportFilter(SINCE, UNTIL)


def at(month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


# When a work order was booked and last changed, unless it says otherwise.
BOOKED, CHANGED = at(10, 25), at(12, 1)


def _fortnight(url: str) -> dict[str, int]:
    """The company above; returns the ids by name (W1 …, job types, technicians)."""
    ids: dict[str, int] = {}
    with psycopg.connect(libpq_url(url)) as db:
        # The books' and the history's triggers (which stamp postings, steps and changes
        # with the server's now) are off for this connection: past weeks are written
        # after the fact, as they stood.
        db.execute("SET session_replication_role = replica")
        db.execute(
            "UPDATE app_settings SET value = '\"America/Chicago\"' WHERE key = 'business_timezone'"
        )

        def insert(table: str, **values: Any) -> int:
            columns = ", ".join(values)
            marks = ", ".join(["%s"] * len(values))
            row = db.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id",
                tuple(values.values()),
            ).fetchone()
            assert row is not None
            return int(row[0])

        for name, trade in (("No heat", "hvac"), ("Tune-up", "hvac"), ("Leak repair", "plumbing")):
            ids[name] = insert("job_types", trade=trade, name=name, default_duration_min=60)
        for name, trade, active in (
            ("Ava Kowalski", "hvac", True),
            ("Marcus Lee", "plumbing", True),
            ("Noor Haddad", "electrical", False),
        ):
            ids[name] = insert(
                "technicians", name=name, trade=trade, colour="#123456", active=active
            )
        for weekday in range(5):
            insert(
                "technician_shifts",
                technician_id=ids["Ava Kowalski"],
                weekday=weekday,
                starts="08:00",
                ends="16:00",
            )
        for weekday, starts, ends in ((0, "07:00", "17:00"), (1, "07:00", "17:00"),
                                      (2, "07:00", "17:00"), (3, "07:00", "17:00"),
                                      (5, "22:00", "06:00")):  # fmt: skip
            insert(
                "technician_shifts",
                technician_id=ids["Marcus Lee"],
                weekday=weekday,
                starts=starts,
                ends=ends,
            )
        sites = {}
        for customer, zip_code in (("Ana Ruiz", "60601"), ("Ben Okafor", "53703")):
            ids[customer] = insert("customers", name=customer)
            sites[zip_code[:3]] = (
                ids[customer],
                insert(
                    "service_sites",
                    customer_id=ids[customer],
                    street="1 Main St",
                    city="Chicago",
                    state="IL",
                    zip=zip_code,
                ),
            )

        def order(
            name: str,
            job_type: str,
            zone: str,
            status: str,
            *,
            booked: dt.datetime = BOOKED,
            changed: dt.datetime = CHANGED,
            reason: str | None = None,
        ) -> int:
            customer, site = sites[zone]
            ids[name] = insert(
                "work_orders",
                customer_id=customer,
                site_id=site,
                job_type_id=ids[job_type],
                status=status,
                cancel_reason=reason,
                created_at=booked,
                updated_at=changed,
            )
            return ids[name]

        def step(work_order: str, status: str, when: dt.datetime, visit: int | None = None) -> None:
            insert(
                "status_history",
                work_order_id=ids[work_order],
                visit_id=visit,
                to_status=status,
                changed_at=when,
            )

        def visit(work_order: str, sequence: int, status: str, crew: tuple[str, ...] = ()) -> int:
            visit_id = insert(
                "visits", work_order_id=ids[work_order], sequence=sequence, status=status
            )
            for index, person in enumerate(crew):
                insert(
                    "visit_technicians",
                    visit_id=visit_id,
                    technician_id=ids[person],
                    is_lead=index == 0,
                )
            return visit_id

        serials = itertools.count(1001)

        def invoice(
            work_order: str,
            total: str,
            posted: dt.datetime | None,
            *,
            status: str = "posted",
            kind: str = "standard",
            credited: str = "0",
            paid: str = "0",
            credit_of: int | None = None,
        ) -> int:
            serial = None if status == "draft" else next(serials)
            return insert(
                "invoices",
                work_order_id=ids[work_order],
                customer_id=db.execute(
                    "SELECT customer_id FROM work_orders WHERE id = %s", (ids[work_order],)
                ).fetchone()[0],  # type: ignore[index]
                kind=kind,
                status=status,
                total=D(total),
                credited=D(credited),
                paid=D(paid),
                serial=serial,
                number=None if serial is None else f"INV-{serial}",
                posted_at=posted,
                void_reason="Billed twice" if status == "void" else None,
                credit_of_id=credit_of,
            )

        def clock(work_order: str, person: str, starts: dt.datetime, hours: float) -> None:
            insert(
                "time_entries",
                work_order_id=ids[work_order],
                technician_id=ids[person],
                started_at=starts,
                ended_at=starts + dt.timedelta(hours=hours),
            )

        def line(work_order: str, kind: str, quantity: str, price: str) -> None:
            insert(
                "line_items",
                work_order_id=ids[work_order],
                kind=kind,
                description=kind,
                quantity=D(quantity),
                unit_price=D(price),
            )

        def follow_up(work_order: str, kind: str, outcome: str | None) -> None:
            insert(
                "follow_ups",
                kind=kind,
                occasion=f"{kind}:{ids[work_order]}",
                work_order_id=ids[work_order],
                title="Call back",
                due_at=at(11, 20),
                state="open" if outcome is None else "done",
                outcome=outcome,
                reason="Went elsewhere" if outcome == "lost" else None,
            )

        order("W1", "No heat", "606", "closed")
        v = visit("W1", 1, "completed", ("Ava Kowalski",))
        step("W1", "completed", at(11, 3, 10), v)
        invoice("W1", "400.00", at(11, 3, 15), status="paid", paid="400.00")
        invoice("W1", "9999.00", at(11, 3, 16), status="void")
        clock("W1", "Ava Kowalski", at(11, 3, 8), 2)

        order("W2", "Leak repair", "537", "invoiced")
        first = visit("W2", 1, "no_show", ("Marcus Lee",))
        step("W2", "no_show", at(11, 4, 9), first)
        second = visit("W2", 2, "completed", ("Marcus Lee", "Ava Kowalski"))
        step("W2", "completed", at(11, 5, 12), second)
        bill = invoice("W2", "650.00", at(11, 5, 16), credited="150.00")
        invoice("W2", "-150.00", at(11, 6, 9), kind="credit", credit_of=bill)
        clock("W2", "Marcus Lee", at(11, 5, 9), 3)
        clock("W2", "Ava Kowalski", at(11, 5, 9), 2)

        order("W3", "Tune-up", "606", "closed")
        v = visit("W3", 1, "completed", ("Ava Kowalski",))
        step("W3", "completed", at(11, 10, 11), v)
        visit("W3", 2, "cancelled", ("Marcus Lee",))  # not needed after all
        invoice("W3", "100.00", at(11, 2, 9), kind="deposit", status="paid", paid="100.00")
        invoice("W3", "200.00", at(11, 10, 14), kind="final", status="paid", paid="200.00")
        invoice("W3", "7777.00", None, status="draft")
        clock("W3", "Ava Kowalski", at(11, 10, 9), 2)
        clock("W3", "Ava Kowalski", at(11, 16, 8), 1)  # the Monday after: not counted

        order("W4", "No heat", "537", "invoiced")
        v = visit("W4", 1, "completed", ("Marcus Lee",))
        step("W4", "completed", at(11, 8, 20), v)
        invoice("W4", "250.00", at(11, 8, 23, 30), status="partly_paid", paid="100.00")
        clock("W4", "Marcus Lee", at(11, 8, 18), 2)

        order("W5", "Leak repair", "606", "closed", booked=at(10, 15))
        v = visit("W5", 1, "completed", ("Marcus Lee",))
        step("W5", "completed", at(10, 20, 10), v)
        invoice("W5", "999.00", at(10, 20, 15), status="paid", paid="999.00")

        order("W6", "Tune-up", "606", "completed")
        v = visit("W6", 1, "completed", ("Ava Kowalski",))
        step("W6", "completed", at(11, 12, 14), v)
        line("W6", "labour", "2", "95.00")
        line("W6", "material", "1", "35.50")
        clock("W6", "Ava Kowalski", at(11, 12, 12), 2.5)

        order("W7", "No heat", "606", "completed", changed=at(11, 11, 10))

        order("W8", "Leak repair", "606", "cancelled", reason="Customer fixed it")
        step("W8", "cancelled", at(11, 4, 10))
        follow_up("W8", "cancellation", "recovered")

        order("W9", "No heat", "537", "no_show", reason="+1 312 555 0101 did not answer")
        v = visit("W9", 1, "no_show", ("Marcus Lee",))
        step("W9", "no_show", at(11, 9, 9), v)
        follow_up("W9", "no_show", "lost")

        order("W10", "Tune-up", "606", "cancelled", reason="Customer fixed it")
        step("W10", "cancelled", at(11, 13, 8))
        follow_up("W10", "cancellation", None)

        order("W11", "Leak repair", "606", "cancelled", reason="Too expensive")
        step("W11", "cancelled", at(10, 28))

        order("W12", "No heat", "606", "cancelled", booked=at(10, 20), reason="Too expensive")
        step("W12", "cancelled", at(11, 6, 10))
        step("W12", "new", at(11, 7, 10))
        step("W12", "cancelled", at(11, 20, 10))

        order("W13", "No heat", "606", "scheduled", booked=at(11, 14))
        order("W14", "Leak repair", "537", "new", booked=at(10, 1))
        order("W15", "Tune-up", "606", "new", booked=at(7, 1))
        order("W16", "No heat", "606", "new", booked=at(11, 20))

        order("W17", "Leak repair", "606", "closed", booked=at(11, 10))
        v = visit("W17", 1, "completed", ("Marcus Lee",))
        step("W17", "completed", at(11, 18), v)

        order("W18", "Tune-up", "606", "completed")
        step("W18", "completed", at(10, 30))
        line("W18", "labour", "1", "120.00")
        invoice("W18", "120.00", None, status="draft")

        order("W19", "No heat", "606", "completed")
        step("W19", "completed", at(11, 20))

        def lead(source: str, when: dt.datetime, number: str, **values: Any) -> None:
            insert("leads", source=source, phone=number, received_at=when, **values)

        lead("missed_call", at(11, 3, 10), "+13125550101")
        lead("missed_call", at(11, 4, 10), "+13125550102", attempts=2)
        lead("voicemail", at(11, 10, 9), "+13125550103", outcome="booked", work_order_id=ids["W3"])
        lead("missed_call", at(11, 11, 9), "+13125550104", outcome="spam")
        lead("call", at(11, 5, 9), "+13125550105")
        lead("missed_call", at(10, 30, 9), "+13125550106")
        # Written with the triggers off: the reports' facts are brought up to date.
        db.execute("SELECT dispatch_rebuild_report_facts()")
    return ids


@pytest.fixture
def company(db_url: str) -> dict[str, int]:
    return _fortnight(db_url)


def report(url: str, name: ReportName, report_filter: ReportFilter = PERIOD) -> ReportResult:
    return operate(url, lambda sessions: run_report(sessions, name, report_filter))


def behind(
    url: str, name: ReportName, key: str | None, report_filter: ReportFilter = PERIOD
) -> list[WorkOrderLine]:
    return operate(url, lambda sessions: drill_down(sessions, name, report_filter, key))


def figures(result: ReportResult) -> dict[str, Any]:
    return {figure.label: figure.value for figure in result.headline}


def table(result: ReportResult) -> list[tuple[Any, ...]]:
    return [(row.key, *row.cells) for row in result.rows]


# -- one test per report ------------------------------------------------------------------
def test_average_job_value_by_week(db_url: str, company: dict[str, int]) -> None:
    result = report(db_url, ReportName.AVERAGE_JOB_VALUE)
    # Week 1: W3's deposit 100, W1 400, W2 650 - 150 credited, W4 250 (Sunday 23:30 in
    # Chicago): four jobs, 1,250. Week 2: W3's final 200. Four jobs in all, 1,450.
    assert figures(result) == {
        "Average job value": D("362.50"),
        "Jobs invoiced": 4,
        "Revenue": D("1450.00"),
    }
    assert table(result) == [
        ("2026-11-02", WEEK_1, 4, D("1250.00"), D("312.50")),
        ("2026-11-09", WEEK_2, 1, D("200.00"), D("200.00")),
    ]
    assert result.chart == Chart("bar", label_column=0, value_column=3)
    assert result.note == ""


def test_completion_rate_by_week(db_url: str, company: dict[str, int]) -> None:
    result = report(db_url, ReportName.COMPLETION_RATE)
    # Week 1: W1, W2, W4 completed, W8 cancelled. Week 2: W3, W6 and W7 (no step: its
    # last change) completed, W9 a no-show, W10 cancelled. W12's last cancel is after.
    assert figures(result) == {"Completion rate": D("66.7"), "Completed": 6, "Ended early": 3}
    assert table(result) == [
        ("2026-11-02", WEEK_1, 3, 1, D("75.0")),
        ("2026-11-09", WEEK_2, 3, 2, D("60.0")),
    ]


def test_first_time_fix_by_job_type(db_url: str, company: dict[str, int]) -> None:
    result = report(db_url, ReportName.FIRST_TIME_FIX)
    # No heat: W1 and W4 in one visit, W7 no visit at all. Tune-up: W3 (its cancelled
    # second visit came after) and W6. Leak repair: W2 had a no-show first.
    assert figures(result) == {
        "First-time fix rate": D("66.7"),
        "Completed": 6,
        "In one visit": 4,
    }
    assert table(result) == [
        (str(company["No heat"]), "No heat", "HVAC", 3, 2, D("66.7")),
        (str(company["Tune-up"]), "Tune-up", "HVAC", 2, 2, D("100.0")),
        (str(company["Leak repair"]), "Leak repair", "Plumbing", 1, 0, D("0.0")),
    ]
    assert result.totals == ("All job types", "", 6, 4, D("66.7"))


def test_productivity_per_technician(db_url: str, company: dict[str, int]) -> None:
    result = report(db_url, ReportName.PRODUCTIVITY)
    # Ava led W1 (400), W3 (300) and W6 (not invoiced); on the clock 2 + 2 (on W2's crew)
    # + 2 + 2.5 = 8.5 h of 80. Marcus led W2 (500) and W4 (250): 3 + 2 = 5 h of 96.
    # Noor is inactive with nothing to show.
    assert table(result) == [
        (
            str(company["Ava Kowalski"]),
            "Ava Kowalski",
            D("80.0"),
            D("8.5"),
            D("10.6"),
            D("700.00"),
            3,
            10,
            D("0.30"),
        ),
        (
            str(company["Marcus Lee"]),
            "Marcus Lee",
            D("96.0"),
            D("5.0"),
            D("5.2"),
            D("750.00"),
            2,
            10,
            D("0.20"),
        ),
    ]
    assert result.totals == (
        "All technicians",
        D("176.0"),
        D("13.5"),
        D("7.7"),
        D("1450.00"),
        5,
        20,
        D("0.25"),
    )
    assert figures(result) == {
        "Utilisation": D("7.7"),
        "Revenue led": D("1450.00"),
        "Jobs completed": 5,
        "Jobs per working day": D("0.25"),
    }


def test_revenue_by_job_type_and_trade(db_url: str, company: dict[str, int]) -> None:
    result = report(db_url, ReportName.REVENUE_BY_JOB_TYPE)
    assert table(result) == [
        (str(company["No heat"]), "No heat", "HVAC", 2, D("650.00")),
        (str(company["Leak repair"]), "Leak repair", "Plumbing", 1, D("500.00")),
        (str(company["Tune-up"]), "Tune-up", "HVAC", 1, D("300.00")),
    ]
    assert result.totals == ("All job types", "", 4, D("1450.00"))
    assert result.headline == (
        Figure("Revenue", D("1450.00"), result.headline[0].kind),
        Figure("Jobs invoiced", 4, result.headline[1].kind),
        Figure("HVAC", D("950.00"), result.headline[2].kind),
        Figure("Plumbing", D("500.00"), result.headline[3].kind),
    )


def test_cancellations_by_reason(db_url: str, company: dict[str, int]) -> None:
    result = report(db_url, ReportName.CANCELLATIONS)
    assert table(result) == [
        ("Customer fixed it", "Customer fixed it", 2, 2, 0, 1),
        ("+1 312 555 0101 did not answer", "+1 312 555 0101 did not answer", 1, 0, 1, 0),
    ]
    assert result.totals == ("All reasons", 3, 2, 1, 1)
    assert figures(result) == {"Cancelled": 2, "No-shows": 1, "Recovered by follow-ups": 1}


def test_aging_at_the_end_of_the_period(db_url: str, company: dict[str, int]) -> None:
    result = report(db_url, ReportName.AGING)
    # Open at the end of Nov 15: W13 (1 day) and W17 (5 days, completed since), W12 (26:
    # restored before its second cancel) and W19 (21, completed since), W14 (45), W15
    # (137). W16 was booked after.
    assert table(result) == [
        ("0-7", "0–7 days", 2, dt.date(2026, 11, 10)),
        ("8-30", "8–30 days", 2, dt.date(2026, 10, 20)),
        ("31-90", "31–90 days", 1, dt.date(2026, 10, 1)),
        ("over-90", "Over 90 days", 1, dt.date(2026, 7, 1)),
    ]
    assert figures(result) == {"Open work orders": 6, "Open over 30 days": 2, "Oldest": D(137)}
    assert result.totals == ("All ages", 6, dt.date(2026, 7, 1))


def test_completed_not_invoiced_or_not_closed(db_url: str, company: dict[str, int]) -> None:
    result = report(db_url, ReportName.NOT_INVOICED)
    # Not invoiced: W6 (225.50 of lines), W7 (none), W18 (120, a draft only). Not closed:
    # W2 (500 owed) and W4 (150 of 250 owed). W19 was completed after the period.
    assert table(result) == [
        ("not-invoiced", "Not invoiced", 3, D("345.50"), dt.date(2026, 10, 30)),
        ("not-closed", "Invoiced, not closed", 2, D("650.00"), dt.date(2026, 11, 5)),
    ]
    assert figures(result) == {
        "Not invoiced": 3,
        "Not invoiced, worth": D("345.50"),
        "Invoiced, not closed": 2,
        "Still owed": D("650.00"),
    }


def test_missed_calls_agree_with_the_leads_inbox(db_url: str, company: dict[str, int]) -> None:
    result = report(db_url, ReportName.MISSED_CALLS)
    # Three missed (the spam and the answered call left out), two called back, one
    # booked (W3: 300); a job is worth 1,450 / 4 = 362.50, so 1,087.50 at risk.
    assert figures(result) == {
        "Missed calls": 3,
        "Called back": 2,
        "Booked": 1,
        "Revenue at risk": D("1087.50"),
        "Recovered": D("300.00"),
        "Average job value": D("362.50"),
    }
    assert table(result) == [
        ("2026-11-02", WEEK_1, 2, 1, 0, D("725.00"), D("0")),
        ("2026-11-09", WEEK_2, 1, 1, 1, D("362.50"), D("300.00")),
    ]
    leak = operate(
        db_url,
        lambda sessions: leak_figures(sessions, since=at(11, 2, 0), until=at(11, 16, 0)),
    )
    assert (leak.missed, leak.at_risk, leak.recovered) == (3, D("1087.50"), D("300.00"))
    assert result.note == ""
    trade = report(db_url, ReportName.MISSED_CALLS, ReportFilter(SINCE, UNTIL, trade="hvac"))
    assert figures(trade) == figures(result)
    assert trade.note == "A call has no trade: that filter does not apply to missed calls."


# -- filters ------------------------------------------------------------------------------
def test_trade_and_job_type_filters(db_url: str, company: dict[str, int]) -> None:
    plumbing = report(
        db_url, ReportName.REVENUE_BY_JOB_TYPE, ReportFilter(SINCE, UNTIL, trade="plumbing")
    )
    assert table(plumbing) == [
        (str(company["Leak repair"]), "Leak repair", "Plumbing", 1, D("500.00"))
    ]
    tune_up = ReportFilter(SINCE, UNTIL, job_type_id=company["Tune-up"])
    assert table(report(db_url, ReportName.AVERAGE_JOB_VALUE, tune_up)) == [
        ("2026-11-02", WEEK_1, 1, D("100.00"), D("100.00")),
        ("2026-11-09", WEEK_2, 1, D("200.00"), D("200.00")),
    ]
    assert figures(report(db_url, ReportName.AVERAGE_JOB_VALUE, tune_up))["Average job value"] == (
        D("300.00")
    )
    hvac = report(db_url, ReportName.PRODUCTIVITY, ReportFilter(SINCE, UNTIL, trade="hvac"))
    # HVAC work only: Ava's W1, W3, W6 (W2 is plumbing); Marcus's W4 (250, 2 h).
    assert [row.cells[:6] for row in hvac.rows] == [
        ("Ava Kowalski", D("80.0"), D("6.5"), D("8.1"), D("700.00"), 3),
        ("Marcus Lee", D("96.0"), D("2.0"), D("2.1"), D("250.00"), 1),
    ]


def test_technician_and_zone_filters(db_url: str, company: dict[str, int]) -> None:
    marcus = ReportFilter(SINCE, UNTIL, technician_id=company["Marcus Lee"])
    # On Marcus's crews: W2, W4 completed in week 1; W9 his no-show in week 2 (W3's
    # cancelled second visit was his too: W3 counts, completed in week 2).
    assert table(report(db_url, ReportName.COMPLETION_RATE, marcus)) == [
        ("2026-11-02", WEEK_1, 2, 0, D("100.0")),
        ("2026-11-09", WEEK_2, 1, 1, D("50.0")),
    ]
    only_marcus = report(db_url, ReportName.PRODUCTIVITY, marcus)
    assert [row.cells[0] for row in only_marcus.rows] == ["Marcus Lee"]
    chicago = ReportFilter(SINCE, UNTIL, zone="606")
    assert table(report(db_url, ReportName.REVENUE_BY_JOB_TYPE, chicago)) == [
        (str(company["No heat"]), "No heat", "HVAC", 1, D("400.00")),
        (str(company["Tune-up"]), "Tune-up", "HVAC", 1, D("300.00")),
    ]
    assert figures(report(db_url, ReportName.AGING, ReportFilter(SINCE, UNTIL, zone="537"))) == {
        "Open work orders": 1,
        "Open over 30 days": 1,
        "Oldest": D(45),
    }


def test_the_figures_agree_with_each_other(db_url: str, company: dict[str, int]) -> None:
    for report_filter in (
        PERIOD,
        ReportFilter(SINCE, UNTIL, zone="606"),
        ReportFilter(SINCE, UNTIL, technician_id=company["Ava Kowalski"]),
        ReportFilter(dt.date(2026, 10, 1), UNTIL),
    ):
        by_type = report(db_url, ReportName.REVENUE_BY_JOB_TYPE, report_filter)
        average = report(db_url, ReportName.AVERAGE_JOB_VALUE, report_filter)
        productivity = report(db_url, ReportName.PRODUCTIVITY, report_filter)
        total = by_type.headline[0].value
        assert by_type.totals is not None and by_type.totals[3] == total
        assert sum(row.cells[3] for row in by_type.rows) == total  # type: ignore[misc]
        assert sum(figure.value for figure in by_type.headline[2:]) == total  # type: ignore[misc]
        assert figures(average)["Revenue"] == total
        assert sum(row.cells[2] for row in average.rows) == total  # type: ignore[misc]
        # Every invoiced job here was led by someone: the technicians' revenue adds up
        # (all of them: a technician filter lists that one alone).
        if report_filter.technician_id is None:
            assert sum(row.cells[4] for row in productivity.rows) == total  # type: ignore[misc]


def test_an_empty_period_says_so_rather_than_a_figure(db_url: str, company: dict[str, int]) -> None:
    empty = ReportFilter(dt.date(2027, 2, 1), dt.date(2027, 2, 7))
    average = report(db_url, ReportName.AVERAGE_JOB_VALUE, empty)
    assert figures(average)["Average job value"] is None
    assert average.note == "No invoice was posted in the period."
    rate = report(db_url, ReportName.COMPLETION_RATE, empty)
    assert figures(rate)["Completion rate"] is None
    assert rate.note == "No job was completed, cancelled or a no-show in the period."
    by_type = report(db_url, ReportName.REVENUE_BY_JOB_TYPE, empty)
    assert (by_type.rows, by_type.totals, by_type.note) == (
        (),
        None,
        "No invoice was posted in the period.",
    )
    cancelled = report(db_url, ReportName.CANCELLATIONS, empty)
    assert cancelled.rows == () and cancelled.note.startswith("No job was cancelled")


def test_a_period_that_cannot_be_run_is_one_sentence(db_url: str) -> None:
    backwards = ReportFilter(UNTIL, SINCE)
    with pytest.raises(ValidationError) as refused:
        report(db_url, ReportName.AGING, backwards)
    assert refused.value.fields == {"period": "The period ends before it starts."}


# -- drill-down ---------------------------------------------------------------------------
def _numbers(url: str, lines: list[WorkOrderLine], ids: dict[str, int]) -> list[str]:
    names = {number: name for name, number in ids.items()}
    return [names[line.id] for line in lines]


def test_drill_down_lists_exactly_the_work_orders_behind_a_row(
    db_url: str, company: dict[str, int]
) -> None:
    week = behind(db_url, ReportName.AVERAGE_JOB_VALUE, "2026-11-02")
    assert _numbers(db_url, week, company) == ["W3", "W1", "W2", "W4"]
    assert [(line.when, line.value) for line in week] == [
        (dt.date(2026, 11, 2), D("100.00")),
        (dt.date(2026, 11, 3), D("400.00")),
        (dt.date(2026, 11, 5), D("500.00")),
        (dt.date(2026, 11, 8), D("250.00")),
    ]
    assert (week[1].customer, week[1].job_type, week[1].status) == ("Ana Ruiz", "No heat", "Closed")
    assert week[1].number.startswith("WO-")
    everything = behind(db_url, ReportName.AVERAGE_JOB_VALUE, None)
    assert _numbers(db_url, everything, company) == ["W1", "W2", "W4", "W3"]
    assert everything[-1].value == D("300.00")
    by_type = behind(db_url, ReportName.REVENUE_BY_JOB_TYPE, str(company["No heat"]))
    assert _numbers(db_url, by_type, company) == ["W1", "W4"]
    reasons = behind(db_url, ReportName.CANCELLATIONS, "Customer fixed it")
    assert _numbers(db_url, reasons, company) == ["W8", "W10"]
    young = behind(db_url, ReportName.AGING, "0-7")
    assert _numbers(db_url, young, company) == ["W17", "W13"]
    unbilled = behind(db_url, ReportName.NOT_INVOICED, "not-invoiced")
    assert [
        (n, line.value)
        for n, line in zip(_numbers(db_url, unbilled, company), unbilled, strict=True)
    ] == [
        ("W18", D("120.00")),
        ("W7", D("0")),
        ("W6", D("225.50")),
    ]
    ava = behind(db_url, ReportName.PRODUCTIVITY, str(company["Ava Kowalski"]))
    assert [
        (n, line.value) for n, line in zip(_numbers(db_url, ava, company), ava, strict=True)
    ] == [
        ("W1", D("400.00")),
        ("W3", D("300.00")),
        ("W6", None),
    ]
    fixes = behind(db_url, ReportName.FIRST_TIME_FIX, str(company["Leak repair"]))
    assert _numbers(db_url, fixes, company) == ["W2"]
    booked = behind(db_url, ReportName.MISSED_CALLS, "2026-11-09")
    assert _numbers(db_url, booked, company) == ["W3"]
    assert behind(db_url, ReportName.MISSED_CALLS, "2026-11-02") == []
    assert behind(db_url, ReportName.REVENUE_BY_JOB_TYPE, "no such row") == []
    rows = report(db_url, ReportName.COMPLETION_RATE).rows
    assert [len(behind(db_url, ReportName.COMPLETION_RATE, row.key)) for row in rows] == [4, 5]


def test_filter_choices(db_url: str, company: dict[str, int]) -> None:
    choices = operate(db_url, filter_choices)
    assert choices.trades == ("hvac", "plumbing")
    assert [(j.name, j.trade) for j in choices.job_types] == [
        ("No heat", "hvac"),
        ("Tune-up", "hvac"),
        ("Leak repair", "plumbing"),
    ]
    assert [t.name for t in choices.technicians] == ["Ava Kowalski", "Marcus Lee", "Noor Haddad"]


# -- CSV ----------------------------------------------------------------------------------
def test_csv_is_exact_and_keeps_formulas_out(db_url: str, company: dict[str, int]) -> None:
    assert (
        report_csv(report(db_url, ReportName.CANCELLATIONS))
        == (
            "\ufeffReason,Jobs,Cancelled,No-shows,Recovered\r\n"
            "Customer fixed it,2,2,0,1\r\n"
            "'+1 312 555 0101 did not answer,1,0,1,0\r\n"
            "All reasons,3,2,1,1\r\n"
        ).encode()
    )
    assert (
        report_csv(report(db_url, ReportName.AVERAGE_JOB_VALUE))
        == (
            "\ufeffWeek of,Jobs invoiced,Revenue,Average job value\r\n"
            "2026-11-02,4,1250.00,312.50\r\n"
            "2026-11-09,1,200.00,200.00\r\n"
        ).encode()
    )
    made_up = ReportResult(
        name=ReportName.CANCELLATIONS,
        filter=PERIOD,
        headline=(),
        columns=report(db_url, ReportName.CANCELLATIONS).columns[:2],
        rows=(
            ReportRow("=1+1", ('=HYPERLINK("http://x")', 1)),
            ReportRow("@", ("@SUM(A1)", 2)),
            ReportRow("-", ("-2+3", 3)),
            ReportRow("q", ('say "hi", then go', None)),
        ),
    )
    assert report_csv(made_up).decode("utf-8-sig").splitlines() == [
        "Reason,Jobs",
        '"\'=HYPERLINK(""http://x"")",1',
        "'@SUM(A1),2",
        "'-2+3,3",
        '"say ""hi"", then go",',
    ]


# -- the command line ---------------------------------------------------------------------
def test_the_command_line_prints_the_same_figures(
    db_url: str, company: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "--database-url",
            db_url,
            "report",
            "revenue-by-job-type",
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-15",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        "Revenue by job type, 2026-11-02 to 2026-11-15",
        "",
        "  Revenue        $1,450.00",
        "  Jobs invoiced  4",
        "  HVAC           $950.00",
        "  Plumbing       $500.00",
        "",
        "Job type       Trade     Jobs invoiced    Revenue",
        "-------------  --------  -------------  ---------",
        "No heat        HVAC                  2    $650.00",
        "Leak repair    Plumbing              1    $500.00",
        "Tune-up        HVAC                  1    $300.00",
        "All job types                        4  $1,450.00",
    ]
    code = main(
        [
            "--database-url",
            db_url,
            "report",
            "productivity",
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-15",
            "--technician",
            "marcus lee",
            "--trade",
            "hvac",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Marcus Lee" in out and "Ava" not in out
    assert "  Revenue led           $250.00" in out.splitlines()


def test_the_command_line_writes_csv_and_will_not_overwrite(
    db_url: str, company: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "cancellations.csv"
    args = [
        "--database-url",
        db_url,
        "report",
        "cancellations",
        "--from",
        "2026-11-02",
        "--to",
        "2026-11-15",
        "--csv",
        str(target),
    ]
    assert main(args) == 0
    assert capsys.readouterr().out == (
        f"Cancellations and no-shows, 2026-11-02 to 2026-11-15: 2 rows written to {target}.\n"
    )
    assert target.read_bytes() == report_csv(report(db_url, ReportName.CANCELLATIONS))
    target.write_text("keep me")
    assert main(args) == 2
    assert capsys.readouterr().err == (
        f"Dispatch Board: {target} exists; add --replace to overwrite it.\n"
    )
    assert target.read_text() == "keep me"
    assert main([*args, "--replace"]) == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbfReason,")


def test_report_list_names_every_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [name.value for name in ReportName]
    assert lines[0] == (
        "average-job-value     Average job value: Revenue of the jobs invoiced in the period, "
        "per job, by week."
    )


def test_a_bad_period_on_the_command_line_is_a_sentence_and_exit_2(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["--database-url", db_url, "report", "aging", "--from", "2026-11-15", "--to", "2026-11-02"]
    )
    assert code == 2
    assert capsys.readouterr().err == "Dispatch Board: The period ends before it starts.\n"
    code = main(
        [
            "--database-url",
            db_url,
            "report",
            "aging",
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-15",
            "--technician",
            "Nobody",
        ]
    )
    assert code == 2
    assert capsys.readouterr().err == "Dispatch Board: No technician named 'Nobody'.\n"
