"""A CSR takes calls from the keyboard: F2, the caller, the job, its questions, a window,
Enter — and the work order in the database is complete. Keystrokes are counted.

Every key goes to whichever widget has the focus at that moment, as a CSR's keyboard
would: if the focus went astray, the typing would land in the wrong field and the
checks on the database would fail.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.domain.messages import Consent
from dispatch_app.services.map_positions import ZIP_CENTROIDS
from dispatch_app.ui.intake.window import CallIntake
from tests.companies import MOMENTS, TZ, clock_at_moment, small_company
from tests.qt_app import act, discard, options_for, pump_until, wait_for

# The goal the issue sets for a returning customer, problem description aside.
MAX_RETURNING_KEYS = 30
PROBLEM = "Furnace short cycles every few minutes since this morning"


class Keyboard:
    """Keys typed into the focused widget, counted the way a person presses them."""

    def __init__(self, loop, qtbot) -> None:
        self.loop, self.qtbot = loop, qtbot
        self.count = 0

    def focused(self) -> QWidget:
        widget = QApplication.focusWidget()
        assert widget is not None, "nothing has the keyboard focus"
        return widget

    def type(self, text: str, *, counted: bool = True) -> None:
        for char in text:
            act(self.loop, lambda c=char: self.qtbot.keyClicks(self.focused(), c))
        self.count += len(text) if counted else 0

    def press(self, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        act(self.loop, lambda: self.qtbot.keyClick(self.focused(), key, modifiers))
        self.count += 1


@pytest.fixture
def company(db_url):
    techs = small_company(db_url)
    with psycopg.connect(libpq_url(db_url)) as db:
        customer = db.execute("SELECT id FROM customers").fetchone()[0]
        job_type = db.execute("SELECT id FROM job_types").fetchone()[0]
        db.execute(
            "INSERT INTO customer_phones (customer_id, number) VALUES (%s, '+13125550123')",
            (customer,),
        )
        other = db.execute(
            "INSERT INTO customers (name) VALUES ('Josefina Ortiz') RETURNING id"
        ).fetchone()[0]
        db.execute(
            "INSERT INTO customer_phones (customer_id, number) VALUES (%s, '+13125550124')",
            (other,),
        )
        db.execute(
            "INSERT INTO service_sites (customer_id, street, city, state, zip, lat, lon) "
            "VALUES (%s, '2200 N Clark St', 'Chicago', 'IL', '60614', 41.92, -87.64)",
            (other,),
        )
        db.execute(
            "INSERT INTO job_types (trade, name, default_duration_min) "
            "VALUES ('plumbing', 'Clogged drain', 60)"
        )
        for position, prompt, kind, choices, required in [
            (1, "Symptoms", "choice", ["No heat at all", "Short cycling"], True),
            (2, "Age of system (years)", "number", [], False),
        ]:
            db.execute(
                "INSERT INTO job_type_questions (job_type_id, position, prompt, kind, choices, "
                "required) VALUES (%s, %s, %s, %s, %s, %s)",
                (job_type, position, prompt, kind, json.dumps(choices), required),
            )
    return techs, customer, job_type


@pytest.fixture
def moment() -> str | None:
    """The company's clock for the test: None is the test company's Tuesday at 07:00."""
    return None


@pytest.fixture
def running(loop, start, db_url, tmp_path, settings_dir, company, moment):
    clock = clock_at_moment(moment) if moment is not None else None
    app, task = start(options_for(db_url, tmp_path, clock))
    wait_for(loop, app.live, task)
    act(loop, app.window.activateWindow)
    pump_until(loop, lambda: QApplication.activeWindow() == app.window)
    app.task = task  # type: ignore[attr-defined]
    return app


def open_intake(loop, keys: Keyboard, app) -> CallIntake:
    keys.press(Qt.Key.Key_F2)
    pump_until(loop, lambda: app.intake is not None and app.intake.isVisible())
    intake = app.intake
    act(loop, intake.activateWindow)
    pump_until(loop, lambda: QApplication.activeWindow() == intake)
    pump_until(loop, lambda: intake.catalogue and QApplication.focusWidget() is intake.lookup)
    return intake


def work_order(url: str, number: str) -> dict:
    with psycopg.connect(libpq_url(url)) as db:
        db.row_factory = psycopg.rows.dict_row
        row = db.execute(
            "SELECT w.*, c.name AS customer_name, j.name AS job_name, v.status AS visit_status, "
            "v.starts, v.arrival_window_start, v.arrival_window_end, "
            "(SELECT array_agg(technician_id) FROM visit_technicians t WHERE t.visit_id = v.id)"
            " AS crew FROM work_orders w JOIN customers c ON c.id = w.customer_id "
            "JOIN job_types j ON j.id = w.job_type_id JOIN visits v ON v.work_order_id = w.id "
            "WHERE w.number = %s",
            (number,),
        ).fetchone()
    assert row is not None
    return row


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_returning_customer_is_booked_into_a_window_in_under_thirty_keys(
    loop, qtbot, db_url, running, company, moment
) -> None:
    """Whatever the day and hour: the company works Tuesdays only, so on a Friday
    afternoon, a Sunday or a night the intake looks ahead to the next Tuesday."""
    techs, customer, _job_type = company
    keys = Keyboard(loop, qtbot)
    booked = []
    intake = open_intake(loop, keys, running)
    intake.booked.connect(booked.append)

    keys.type("3125550123")
    pump_until(loop, lambda: intake.matches.count() == 2)  # José, and "New caller"
    assert intake.matches.item(0).text().startswith("José Núñez")
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: intake.customer is not None and intake.history.isVisible())
    assert intake.customer.id == customer
    assert "Open work orders" in intake.history.toPlainText()  # a duplicate shows up first

    assert keys.focused() is intake.job_type.search
    keys.type("no h")
    keys.press(Qt.Key.Key_Return)
    assert intake.job_type.current is not None and intake.job_type.current.name == "No heat call"
    # José already has a No heat call open: the CSR is told before booking a second one.
    assert intake.duplicate.isVisible() and "same problem" in intake.duplicate.text()
    assert keys.focused() is intake.description
    keys.type(PROBLEM, counted=False)
    keys.press(Qt.Key.Key_Tab)
    keys.type("s")  # Symptoms: the first answer starting with S
    pump_until(loop, lambda: intake.windows)
    now = MOMENTS[moment]
    offered = [w.span.start for w in intake.windows]
    assert all(start.astimezone(TZ).weekday() == 1 for start in offered)  # Tuesdays
    assert all(w.span.end > now for w in intake.windows)
    assert offered[0] - now < dt.timedelta(days=8)  # the next working day, not a week on
    keys.press(Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    window = intake.chosen_window()
    assert window is not None
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: booked)

    print(f"\nreturning customer: {keys.count} keystrokes besides the problem description")
    assert keys.count <= MAX_RETURNING_KEYS
    saved = work_order(db_url, booked[0].number)
    assert saved["customer_name"] == "José Núñez"
    assert saved["job_name"] == "No heat call"
    assert saved["description"].startswith(PROBLEM)
    assert saved["answers"] == [["Symptoms", "Short cycling"]]
    assert (saved["source"], saved["priority"]) == ("repeat", "normal")
    assert (saved["status"], saved["visit_status"]) == ("scheduled", "scheduled")
    assert saved["arrival_window_start"] == window.span.start
    assert saved["arrival_window_end"] == window.span.end
    assert saved["crew"] == [window.technician_ids[0]]
    assert window.technician_ids[0] in techs.values()
    # Ready for the next call, and the booking is on the board through the change feed.
    assert intake.lookup.text() == "" and keys.focused() is intake.lookup
    assert booked[0].number in intake.banner.text()
    act(loop, lambda: running.window.rangeRequested.emit(window.span.start.date(), 1))
    pump_until(
        loop,
        lambda: any(v.number == booked[0].number for v in running.store.visits()),
    )


def test_a_new_caller_is_typed_inline_and_left_for_dispatch(loop, qtbot, db_url, running) -> None:
    keys = Keyboard(loop, qtbot)
    booked = []
    intake = open_intake(loop, keys, running)
    intake.booked.connect(booked.append)

    keys.type("(773) 555-0198")
    pump_until(loop, lambda: intake.matches.count() == 1)  # nobody: only "New caller"
    keys.press(Qt.Key.Key_Return)
    assert intake.caller_box.isVisible()
    assert intake.caller_inputs["phone"].text() == "(773) 555-0198"  # carried over
    assert keys.focused() is intake.caller_inputs["name"]
    pump_until(loop, lambda: ZIP_CENTROIDS.loaded)
    keys.type("Mei Chen")
    keys.press(Qt.Key.Key_Tab)  # the phone, already there
    keys.press(Qt.Key.Key_Tab)
    keys.type("1060 W Addison St")
    keys.press(Qt.Key.Key_Tab)
    keys.type("60613")
    keys.press(Qt.Key.Key_Tab)  # the ZIP fills in the city and the state
    assert intake.caller_inputs["city"].text() == "Chicago"
    assert intake.caller_inputs["state"].text() == "IL"
    keys.press(Qt.Key.Key_Tab)
    keys.press(Qt.Key.Key_Tab)
    assert keys.focused() is intake.job_type.search
    keys.type("drain")
    keys.press(Qt.Key.Key_Return)
    keys.type("Kitchen sink backs up into the dishwasher", counted=False)
    keys.press(Qt.Key.Key_Tab)  # no questions: the equipment (none yet) …
    keys.press(Qt.Key.Key_Tab)  # … then the priority
    assert keys.focused() is intake.priority
    keys.type("u")  # Urgent
    keys.press(Qt.Key.Key_0, Qt.KeyboardModifier.AltModifier)  # leave it for dispatch
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: booked)

    saved = work_order(db_url, booked[0].number)
    assert saved["customer_name"] == "Mei Chen" and saved["job_name"] == "Clogged drain"
    assert (saved["priority"], saved["source"], saved["status"]) == ("urgent", "phone", "new")
    assert saved["visit_status"] == "unscheduled" and saved["crew"] is None
    with psycopg.connect(libpq_url(db_url)) as db:
        phone, street, city, state, zip_code, lat = db.execute(
            "SELECT p.number, s.street, s.city, s.state, s.zip, s.lat FROM customer_phones p "
            "JOIN service_sites s ON s.customer_id = p.customer_id WHERE p.customer_id = %s",
            (saved["customer_id"],),
        ).fetchone()
    assert phone == "+17735550198"
    assert (street, city, state, zip_code) == ("1060 W Addison St", "Chicago", "IL", "60613")
    assert lat == pytest.approx(41.95, abs=0.05)
    # Ctrl+O opens the work order just booked, to add a photo the caller sent, say.
    keys.press(Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    pump_until(loop, lambda: booked[0].work_order_id in running.editors)


def test_a_refused_booking_shows_each_problem_beside_its_field_and_keeps_the_call(
    loop, qtbot, db_url, running
) -> None:
    keys = Keyboard(loop, qtbot)
    intake = open_intake(loop, keys, running)
    keys.press(Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert intake.caller_box.isVisible() and keys.focused() is intake.caller_inputs["name"]
    keys.type("Ana Lima")
    keys.press(Qt.Key.Key_Tab)
    keys.type("555-01")  # not a whole number
    keys.press(Qt.Key.Key_Tab)
    keys.type("9 Elm St")
    keys.press(Qt.Key.Key_Tab)
    keys.type("00000")  # no such ZIP
    keys.press(Qt.Key.Key_Tab)
    keys.type("Chicago")
    keys.press(Qt.Key.Key_Tab)
    keys.type("IL")
    keys.press(Qt.Key.Key_Tab)
    keys.type("no h")
    keys.press(Qt.Key.Key_Return)
    intake.description.insertPlainText("Pilot light out \x00 again " + "x" * 100_001)
    with psycopg.connect(libpq_url(db_url)) as db:
        before = db.execute("SELECT count(*) FROM work_orders").fetchone()[0]

    act(loop, intake.save)
    pump_until(loop, lambda: intake.idle() and intake.errors["phone"].isVisible())
    for name in ("phone", "zip", "description", "answer:Symptoms"):
        assert intake.errors[name].isVisible(), name
        assert intake.errors[name].text().endswith("."), name
    assert "ZIP code 00000 does not exist" in intake.errors["zip"].text()
    assert intake.errors["answer:Symptoms"].text() == "Ask the caller: Symptoms."
    # Everything typed is still there, and nothing was written.
    assert intake.caller_inputs["name"].text() == "Ana Lima"
    assert intake.caller_inputs["street"].text() == "9 Elm St"
    assert intake.description.toPlainText().startswith("Pilot light out")
    with psycopg.connect(libpq_url(db_url)) as db:
        assert db.execute("SELECT count(*) FROM work_orders").fetchone()[0] == before


def test_closing_a_call_with_something_typed_asks_first(loop, qtbot, running) -> None:
    keys = Keyboard(loop, qtbot)
    intake = open_intake(loop, keys, running)
    keys.type("Jos")
    keys.press(Qt.Key.Key_Escape)
    assert intake.isVisible() and intake.banner.isVisible()
    assert "not booked yet" in intake.banner.text()
    assert intake.lookup.text() == "Jos"
    keys.press(Qt.Key.Key_Escape)  # a second time means it
    pump_until(loop, lambda: not intake.isVisible())


def test_quitting_with_a_call_half_taken_asks_naming_the_caller(loop, qtbot, running) -> None:
    keys = Keyboard(loop, qtbot)
    intake = open_intake(loop, keys, running)
    keys.type("3125550124")
    pump_until(loop, lambda: intake.matches.count() == 2)
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: intake.customer is not None)
    keys.type("drain")
    assert intake.unsaved_work() == ["New call: a call from Josefina Ortiz, not booked yet"]
    # Ctrl+Q from the intake: the app asks, naming the call; going back keeps it all.
    keys.press(Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    question = running.window.quit_question
    pump_until(loop, lambda: question is not None and question.isVisible())
    assert "• New call: a call from Josefina Ortiz, not booked yet" in question.informativeText()
    act(loop, question.button(QMessageBox.StandardButton.Cancel).click)
    assert intake.isVisible() and intake.customer.name == "Josefina Ortiz"
    assert intake.job_type.search.text() == "drain"

    # Closed (hidden, its typing kept for F2), the call still counts when quitting.
    act(loop, intake.close)
    act(loop, intake.close)  # the second close means it
    pump_until(loop, lambda: not intake.isVisible())
    act(loop, running.window.close)
    question = running.window.quit_question
    assert question.isVisible() and "Josefina Ortiz" in question.informativeText()
    act(loop, lambda: discard(question))
    assert loop.run_until_complete(asyncio.wait_for(running.task, 30)) == 0


def test_a_lost_server_keeps_the_call_and_enter_again_books_it_once(
    loop, qtbot, db_url, running
) -> None:
    keys = Keyboard(loop, qtbot)
    booked = []
    intake = open_intake(loop, keys, running)
    intake.booked.connect(booked.append)
    keys.type("3125550124")
    pump_until(loop, lambda: intake.matches.count() == 2)
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: intake.customer is not None)
    keys.type("drain")
    keys.press(Qt.Key.Key_Return)
    keys.type("Basement floor drain backing up")
    database = intake.workspace.database
    working = database.sessions
    gone = make_async_engine("postgresql+psycopg://postgres@127.0.0.1:9/dispatch")
    database.sessions = session_factory(gone)  # the server is gone
    try:
        act(loop, intake.save)
        pump_until(loop, lambda: intake.idle() and intake.banner.isVisible())
        assert "did not answer" in intake.banner.text()
        assert intake.customer is not None and intake.customer.name == "Josefina Ortiz"
        assert intake.description.toPlainText() == "Basement floor drain backing up"
        assert intake.job_type.current is not None
    finally:
        loop.run_until_complete(gone.dispose())
    database.sessions = working
    act(loop, intake.save)
    pump_until(loop, lambda: booked)
    with psycopg.connect(libpq_url(db_url)) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM work_orders WHERE description = %s",
            ("Basement floor drain backing up",),
        ).fetchone()
    assert count == 1


def test_a_returning_customer_calling_about_another_address(loop, qtbot, db_url, running) -> None:
    keys = Keyboard(loop, qtbot)
    booked = []
    intake = open_intake(loop, keys, running)
    intake.booked.connect(booked.append)
    keys.type("3125550123")
    pump_until(loop, lambda: intake.matches.count() == 2)
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: intake.customer is not None and intake.site.count() == 2)
    assert intake.site_row.isVisible() and not intake.site_box.isVisible()
    act(loop, lambda: intake.site.setCurrentIndex(intake.site.count() - 1))  # + Another…
    assert intake.site_box.isVisible() and keys.focused() is intake.site_inputs["street"]
    pump_until(loop, lambda: ZIP_CENTROIDS.loaded)
    keys.type("2200 N Clark St")
    keys.press(Qt.Key.Key_Tab)
    keys.type("60614")
    keys.press(Qt.Key.Key_Tab)
    assert intake.site_inputs["city"].text() == "Chicago"
    act(loop, lambda: intake.job_type.setFocus())
    keys.type("drain")
    keys.press(Qt.Key.Key_Return)
    keys.type("Tenant reports a slow kitchen drain", counted=False)
    pump_until(loop, lambda: intake.windows_note.text() != "Finding windows…")
    keys.press(Qt.Key.Key_0, Qt.KeyboardModifier.AltModifier)
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: booked)
    saved = work_order(db_url, booked[0].number)
    assert saved["customer_name"] == "José Núñez"
    with psycopg.connect(libpq_url(db_url)) as db:
        street, zip_code = db.execute(
            "SELECT street, zip FROM service_sites WHERE id = %s", (saved["site_id"],)
        ).fetchone()
    assert (street, zip_code) == ("2200 N Clark St", "60614")


def test_later_looks_from_another_date_from_the_keyboard(loop, qtbot, db_url, running) -> None:
    """The caller cannot do the next two Tuesdays: Alt+L, a date, Enter, Alt+1, Enter."""
    keys = Keyboard(loop, qtbot)
    booked = []
    intake = open_intake(loop, keys, running)
    intake.booked.connect(booked.append)
    keys.type("3125550123")
    pump_until(loop, lambda: intake.matches.count() == 2)
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: intake.customer is not None)
    keys.type("no h")
    keys.press(Qt.Key.Key_Return)
    keys.type("No heat upstairs", counted=False)
    keys.press(Qt.Key.Key_Tab)
    keys.type("n")  # Symptoms: No heat at all
    pump_until(loop, lambda: intake.windows)
    # Tuesday 07:00, Tuesdays only: three windows today (Ava and Marcus are busy at
    # 10:00) and four next week; the fortnight's horizon ends on Monday the 14th.
    assert len(intake.windows) == 7
    assert intake.windows_note.text() == "7 windows, Tue 1 – Mon 14 Dec"
    assert intake.window_list.item(7).text().startswith("Alt+L")

    keys.press(Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    assert intake.later_row.isVisible() and keys.focused() is intake.later_date
    assert intake.later_date.date().toPython() == dt.date(2026, 12, 15)  # after the last
    keys.press(Qt.Key.Key_Up)  # one day on: Wednesday the 16th
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: intake.windows_note.text().startswith("8 windows"))
    assert intake.windows_note.text() == "8 windows, Wed 16 – Tue 29 Dec"
    assert keys.focused() is intake.window_list
    assert {w.span.start.date() for w in intake.windows} == {
        dt.date(2026, 12, 22),
        dt.date(2026, 12, 29),
    }
    keys.press(Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: booked)
    saved = work_order(db_url, booked[0].number)
    assert saved["arrival_window_start"] == dt.datetime(2026, 12, 22, 8, tzinfo=TZ)


def test_a_company_with_nobody_on_shift_for_two_weeks_offers_later_and_dispatch(
    loop, qtbot, db_url, running
) -> None:
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute("DELETE FROM technician_shifts")
    keys = Keyboard(loop, qtbot)
    intake = open_intake(loop, keys, running)
    keys.type("3125550123")
    pump_until(loop, lambda: intake.matches.count() == 2)
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: intake.customer is not None)
    keys.type("no h")
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: intake.window_search is not None)
    assert intake.windows == []
    assert intake.windows_note.text() == (
        "Nobody with these skills is free Tue 1 – Mon 14 Dec: Alt+L for a later date"
    )
    rows = [intake.window_list.item(n).text() for n in range(intake.window_list.count())]
    assert [row.split()[0] for row in rows] == ["Alt+L", "Alt+0"]
    assert intake.chosen_window() is None  # left for dispatch unless the CSR says otherwise


def test_a_new_callers_consent_is_ticked_on_the_call_and_a_returning_callers_shown(
    loop, qtbot, db_url, running, company, tmp_path
) -> None:
    _techs, customer, _job_type = company
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute(
            "UPDATE customers SET message_consent = 'informational', "
            "opt_out_note = 'Replied STOP by text on 2026-12-03 18:02 CST' WHERE id = %s",
            (customer,),
        )
    keys = Keyboard(loop, qtbot)
    booked = []
    intake = open_intake(loop, keys, running)
    intake.booked.connect(booked.append)
    panel = intake.caller_panel

    keys.type("(312) 555-0123")  # the returning customer
    pump_until(loop, lambda: intake.matches.count() == 2)
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: intake.customer is not None)
    card = intake.history.toPlainText()
    assert "Agreed to texts about visits on" in card
    assert "opted out: Replied STOP by text on 2026-12-03 18:02 CST" in card
    assert panel.consent_texts.isChecked() and not panel.consent_offers.isChecked()
    assert panel.consent() == Consent.INFORMATIONAL
    intake.grab().save(str(tmp_path / "intake-consent-returning.png"))

    # Contact preferences, saved at once: back in (the STOP lifted) and agreeing to offers.
    dialog = panel.edit_contact_preferences()
    assert dialog is not None and dialog.opted_out.isChecked()
    act(loop, lambda: dialog.findChild(QWidget, "consent_promotional").click())
    act(loop, lambda: dialog.opted_out.setChecked(False))
    dialog.grab().save(str(tmp_path / "contact-preferences.png"))
    act(loop, dialog.buttons.accepted.emit)
    pump_until(loop, lambda: "review requests and offers on" in intake.history.toPlainText())
    assert "opted out" not in intake.history.toPlainText()
    assert panel.consent() == Consent.PROMOTIONAL and not dialog.isVisible()
    with psycopg.connect(libpq_url(db_url)) as db:
        assert db.execute(
            "SELECT message_consent, opted_out_at FROM customers WHERE id = %s", (customer,)
        ).fetchone() == ("promotional", None)
    # A note left empty is not an opt-out anyone could read later.
    dialog = panel.edit_contact_preferences()
    act(loop, lambda: dialog.opted_out.setChecked(True))
    act(loop, dialog.buttons.accepted.emit)
    assert dialog.error.text() == "Say how the customer asked not to be contacted."
    act(loop, dialog.reject)

    # Another caller, new to the company: nothing ticked until they say so.
    act(loop, intake.activateWindow)  # back from the dialog
    pump_until(loop, lambda: QApplication.activeWindow() == intake)
    act(loop, intake.lookup.setFocus)
    act(loop, intake.lookup.selectAll)
    keys.type("(773) 555-0198")
    pump_until(loop, lambda: intake.matches.count() == 1)
    keys.press(Qt.Key.Key_Return)
    assert panel.consent_row.isVisible() and panel.consent() == Consent.NONE
    assert not panel.consent_offers.isEnabled()  # offers are texts too
    pump_until(loop, lambda: ZIP_CENTROIDS.loaded)
    keys.type("Mei Chen")
    keys.press(Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)  # OK to text
    assert panel.consent() == Consent.INFORMATIONAL
    keys.press(Qt.Key.Key_Tab)  # the phone, already there
    keys.press(Qt.Key.Key_Tab)
    keys.type("1060 W Addison St")
    keys.press(Qt.Key.Key_Tab)
    keys.type("60613")
    keys.press(Qt.Key.Key_Tab)
    keys.press(Qt.Key.Key_Tab)
    keys.press(Qt.Key.Key_Tab)
    assert keys.focused() is intake.job_type.search
    keys.type("drain")
    keys.press(Qt.Key.Key_Return)
    keys.type("Kitchen sink backs up into the dishwasher", counted=False)
    intake.grab().save(str(tmp_path / "intake-consent-new.png"))
    keys.press(Qt.Key.Key_0, Qt.KeyboardModifier.AltModifier)  # leave it for dispatch
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: booked)
    with psycopg.connect(libpq_url(db_url)) as db:
        consent, by = db.execute(
            "SELECT message_consent, consent_recorded_by FROM customers WHERE id = %s",
            (booked[0].customer_id,),
        ).fetchone()
    assert consent == "informational" and by  # who recorded it: the database says
