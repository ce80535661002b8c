"""The Leads window in the running app on a real database and a real (offscreen) Qt: it
lists the leads callbacks first with the leak over them, a lead another workstation
stores appears by itself, "Book call…" opens the call intake filled in from the lead
and the booking marks it booked, the CSR's gestures are written, and a viewer reads the
list with every action disabled and the reason said."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from dispatch_app.config import libpq_url
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.roles import Action, Role, refusal
from dispatch_app.services.map_positions import ZIP_CENTROIDS
from dispatch_app.ui.leads.model import when_text
from tests.companies import TZ, clock_at
from tests.qt_app import act, options_for, pump_until, wait_for
from tests.test_intake_window import company  # noqa: F401  (fixture)

NOW = clock_at(7).now()  # the app's clock (options_for)


def sql(url: str, statement: str, *args: object) -> Any:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


def add_lead(
    url: str, source: str, phone: str, hours_ago: float, name: str = "", request: str = ""
) -> int:
    ((lead_id,),) = sql(
        url,
        "INSERT INTO leads (source, phone, name, received_at, request) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
        source,
        phone,
        name,
        NOW - dt.timedelta(hours=hours_ago),
        request,
    )
    return lead_id


@pytest.fixture
def leads(db_url, company) -> dict[str, int]:  # noqa: F811
    return {
        "web": add_lead(db_url, "web", "+17735550111", 1, "Priya Raman", "Quote for a new AC"),
        # The customer on file (José Núñez's number): matched by the database; his work
        # orders are newer than the call, so it needs no callback.
        "returning": add_lead(
            db_url, "missed_call", "+13125550123", 3, request="Furnace making a banging noise"
        ),
        "missed": add_lead(
            db_url,
            "voicemail",
            "+17735550198",
            14,
            "Dana Whitfield",
            "Water heater leaking in the basement, please call back",
        ),
    }


def open_leads(loop, start, url: str, tmp_path):
    app, task = start(options_for(url, tmp_path))
    wait_for(loop, app.live, task)
    act(loop, lambda: app.window.leads_action.trigger())
    window = app.leads
    assert window is not None
    pump_until(loop, lambda: window.model.rowCount() and not window.reading)
    return app, window


def ids(window) -> list[int]:
    return [lead.id for lead in window.model.records()]


def cell(window, row: int, column: int) -> str:
    return window.model.index(row, column).data()


def choose(loop, window, lead_id: int) -> None:
    act(loop, lambda: window.select(lead_id))
    assert window.selected() is not None and window.selected().id == lead_id


def test_the_inbox_lists_callbacks_first_and_a_colleagues_lead_appears_by_itself(
    loop, qtbot, db_url, leads, start, tmp_path, settings_dir
) -> None:
    _app, window = open_leads(loop, start, db_url, tmp_path)
    assert ids(window) == [leads["missed"], leads["web"], leads["returning"]]
    assert cell(window, 0, 0) == "Yesterday 5:00 PM"  # 14 hours before 7:00 AM
    assert cell(window, 0, 1) == "Voicemail"
    assert cell(window, 0, 2) == "Dana Whitfield · (773) 555-0198"
    assert cell(window, 2, 2) == "(312) 555-0123 · customer José Núñez"
    assert cell(window, 0, 5) == "Yesterday 5:00 PM — overdue"
    assert cell(window, 1, 5) == ""  # a web request has no callback
    assert window.model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert window.model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert "1 missed" not in window.week.text() and "2 missed" in window.week.text()
    assert "This month" in window.month.text()
    assert window.count.text() == "3 listed · 1 to call back · 1 overdue"

    # Another workstation (the call log import, the web endpoint) stores a lead.
    newest = add_lead(db_url, "missed_call", "+17735550150", 0.25, "Lena Brooks", "AC dead")
    pump_until(loop, lambda: newest in ids(window))
    assert ids(window) == [leads["missed"], newest, leads["web"], leads["returning"]]
    pump_until(loop, lambda: "3 missed" in window.week.text())


def test_book_call_opens_the_intake_filled_in_and_booking_marks_the_lead_booked(
    loop, qtbot, db_url, leads, start, tmp_path, settings_dir
) -> None:
    app, window = open_leads(loop, start, db_url, tmp_path)
    choose(loop, window, leads["missed"])
    assert window.book_action.isEnabled()
    act(loop, window.book_action.trigger)
    pump_until(loop, lambda: app.intake is not None and app.intake.isVisible())
    intake = app.intake
    pump_until(loop, lambda: intake.catalogue)
    assert intake.lead is not None and intake.lead.id == leads["missed"]
    assert intake.caller_box.isVisible()
    assert intake.caller_inputs["name"].text() == "Dana Whitfield"
    assert intake.caller_inputs["phone"].text() == "(773) 555-0198"
    assert intake.description.toPlainText() == (
        "Water heater leaking in the basement, please call back"
    )
    assert intake.lead_note.isVisible() and "Voicemail from Dana Whitfield" in (
        intake.lead_note.text()
    )

    booked = []
    intake.booked.connect(booked.append)
    pump_until(loop, lambda: ZIP_CENTROIDS.loaded)

    def fill_in() -> None:
        for name, value in (("street", "1060 W Addison St"), ("zip", "60613")):
            intake.caller_inputs[name].setText(value)
        intake.caller_inputs["city"].setText("Chicago")
        intake.caller_inputs["state"].setText("IL")
        (plumbing,) = [c for c in intake.catalogue if c.name == "Clogged drain"]
        intake.job_type.take(plumbing)

    act(loop, fill_in)
    act(loop, intake.save)
    pump_until(loop, lambda: booked)
    assert intake.lead is None  # ready for the next call
    work_order = booked[0].work_order_id
    assert sql(
        db_url, "SELECT outcome, work_order_id FROM leads WHERE id = %s", leads["missed"]
    ) == [("booked", work_order)]
    # The list hears it: the lead leaves "open leads"; under "all" it reads Booked · WO.
    pump_until(loop, lambda: leads["missed"] not in ids(window))
    act(loop, lambda: window.filter.setCurrentIndex(1))
    pump_until(loop, lambda: leads["missed"] in ids(window) and not window.reading)
    row = window.model.row_of(leads["missed"])
    assert cell(window, row, 7) == f"Booked · {booked[0].number}"
    choose(loop, window, leads["missed"])
    assert not window.book_action.isEnabled() and window.open_work_order_action.isEnabled()
    act(loop, window.open_work_order_action.trigger)
    pump_until(loop, lambda: work_order in app.editors)
    editor = app.editors[work_order]
    pump_until(loop, lambda: editor.lead_label.isVisible())
    assert editor.lead_label.text() == "From lead: Voicemail Nov 30"


def test_a_csrs_gestures_are_written_and_a_returning_caller_is_chosen_in_the_intake(
    loop, qtbot, db_url, leads, start, tmp_path, settings_dir
) -> None:
    app, window = open_leads(loop, start, db_url, tmp_path)
    lead = leads["returning"]

    choose(loop, window, lead)
    act(loop, window.take_action.trigger)
    me = window.workspace.login
    pump_until(loop, lambda: cell(window, window.model.row_of(lead), 4) == me)
    assert sql(db_url, "SELECT owner FROM leads WHERE id = %s", lead) == [(me,)]
    for attempt in (1, 2):
        choose(loop, window, lead)
        act(loop, window.no_answer_action.trigger)
        pump_until(loop, lambda n=attempt: cell(window, window.model.row_of(lead), 6) == str(n))
    choose(loop, window, leads["web"])
    act(loop, window.not_interested_action.trigger)
    question = window.note_question
    assert question is not None and question.isVisible()
    act(loop, lambda: question.setTextValue("Went with another company"))
    act(loop, question.accept)
    pump_until(loop, lambda: leads["web"] not in ids(window))
    assert sql(db_url, "SELECT outcome, outcome_note FROM leads WHERE id = %s", leads["web"]) == [
        ("not_interested", "Went with another company")
    ]

    # Someone else changed the lead meanwhile: said in one sentence, nothing written.
    choose(loop, window, lead)
    sql(db_url, "UPDATE leads SET owner = 'someone.else' WHERE id = %s", lead)
    act(loop, window.spam_action.trigger)
    pump_until(loop, lambda: window.error.isVisible())
    assert "changed by someone else meanwhile" in window.error.text()
    assert sql(db_url, "SELECT outcome FROM leads WHERE id = %s", lead) == [("open",)]

    # Booking a returning caller's lead chooses the customer the number matched.
    pump_until(loop, lambda: cell(window, window.model.row_of(lead), 4) == "someone.else")
    choose(loop, window, lead)
    act(loop, window.book)
    pump_until(loop, lambda: app.intake is not None and app.intake.customer is not None)
    assert app.intake.customer.name == "José Núñez"
    assert app.intake.description.toPlainText() == "Furnace making a banging noise"


def test_a_call_log_is_imported_all_or_nothing(
    loop, qtbot, db_url, leads, start, tmp_path, settings_dir
) -> None:
    _app, window = open_leads(loop, start, db_url, tmp_path)
    header = "Time,Caller Number,Caller Name,Duration,Status\r\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        header + "11/30/2026 4:15 PM,773 555 0140,RIVERA M,0:00,Missed\r\n"
        "not a time,773 555 0141,,0:10,Missed\r\n"
    )
    act(loop, lambda: window.import_file(bad))
    pump_until(loop, lambda: window.import_report is not None and window.import_report.isVisible())
    assert "Row 3" in window.import_report.detailedText()
    assert "Nothing was imported." in window.import_report.detailedText()
    assert len(ids(window)) == 3
    act(loop, window.import_report.close)

    good = tmp_path / "good.csv"
    good.write_text(
        header + "11/30/2026 4:15 PM,773 555 0140,RIVERA M,0:00,Missed\r\n"
        "11/30/2026 4:20 PM,773 555 0141,,1:10,Answered\r\n"
    )
    act(loop, lambda: window.import_file(good))
    pump_until(loop, lambda: window.done.isVisible())
    assert window.done.text().startswith("2 calls added: 1 missed, 1 callback to make.")
    pump_until(loop, lambda: len(ids(window)) == 5)
    assert cell(window, 0, 2) == "RIVERA M · (773) 555-0140"  # the callback due first


def test_a_viewer_reads_the_leads_with_every_action_disabled(
    loop, qtbot, db_url, leads, start, tmp_path, settings_dir, scratch_server: ScratchServer
) -> None:
    url = scratch_server.login(db_url, "viewer")
    try:
        app, window = open_leads(loop, start, url, tmp_path)
        assert len(ids(window)) == 3
        choose(loop, window, leads["missed"])
        for action in (
            window.book_action,
            window.no_answer_action,
            window.not_interested_action,
            window.spam_action,
            window.take_action,
            window.import_action,
        ):
            assert not action.isEnabled(), action.objectName()
        assert window.role_note.text() == refusal(Role.VIEWER, Action.BOOK_CALLS)
        assert app.window.leads_action.isVisible()
    finally:
        for started, _task in start.started:
            act(loop, started.window.close)
        scratch_server.drop_logins()


def test_the_inbox_as_a_picture(loop, qtbot, db_url, leads, start, tmp_path, settings_dir) -> None:
    _app, window = open_leads(loop, start, db_url, tmp_path)
    sql(
        db_url,
        "UPDATE leads SET owner = 'maria.g', attempts = 1 WHERE id = %s",
        leads["returning"],
    )
    spam = add_lead(db_url, "missed_call", "+18005550100", 2)
    sql(db_url, "UPDATE leads SET outcome = 'spam', outcome_note = 'Robocall' WHERE id = %s", spam)
    act(loop, lambda: window.filter.setCurrentIndex(1))
    pump_until(loop, lambda: spam in ids(window) and not window.reading)
    assert ids(window)[-1] == spam  # closed ones last
    assert cell(window, len(ids(window)) - 1, 7) == "Spam — Robocall"
    assert cell(window, window.model.row_of(leads["returning"]), 6) == "1"
    act(loop, lambda: window.resize(1280, 560))
    QApplication.processEvents()
    assert window.grab().save(str(tmp_path / "leads_inbox.png"))
    assert when_text(NOW, NOW, TZ) == "Today 7:00 AM"
    assert when_text(NOW - dt.timedelta(days=40), NOW, TZ) == "Oct 22, 7:00 AM"
