"""The Message templates window on a real database and a real (offscreen) Qt: a template
naming an unknown placeholder is refused with the sentence and the typed words stay, a
good one is saved and read back, the preview fills in the company, placeholders go in at
the cursor, unsaved words are asked about, and only a manager finds it in the File menu."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from dispatch_app.config import libpq_url
from dispatch_app.db.scratch import ScratchServer
from tests.qt_app import act, discard, options_for, pump_until, wait_for


def sql(url: str, statement: str, *args: object) -> Any:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def named_company(db_url: str) -> str:
    sql(
        db_url,
        "INSERT INTO app_settings (key, value) VALUES "
        "('company_name', '\"Lakeview Home Services\"'), ('company_phone', '\"(312) 555-0100\"') "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    return db_url


def open_window(loop, start, url: str, tmp_path):
    app, task = start(options_for(url, tmp_path))
    wait_for(loop, app.live, task)
    act(loop, lambda: app.window.templates_action.trigger())
    window = app.templates
    assert window is not None
    pump_until(loop, lambda: window.current is not None and window.tasks.idle())
    return app, window


def choose(loop, window, title: str) -> None:
    items = window.list.findItems(title, Qt.MatchFlag.MatchExactly)
    act(loop, lambda: window.list.setCurrentItem(items[0]))


def type_body(loop, qtbot, window, text: str) -> None:
    def gesture() -> None:
        window.body.setFocus()
        window.body.selectAll()
        qtbot.keyClicks(window.body, text)

    act(loop, gesture)


def test_an_unknown_placeholder_is_refused_and_a_good_template_is_saved(
    loop, qtbot, named_company, start, tmp_path, settings_dir
) -> None:
    app, window = open_window(loop, start, named_company, tmp_path)
    choose(loop, window, "On the way — Text message")
    pump_until(loop, lambda: "Lakeview Home Services" in window.preview.toPlainText())
    assert "characters" in window.length.text()
    assert not window.save_button.isEnabled()  # nothing changed yet

    bad = "{company}: {tech} is on the way."
    type_body(loop, qtbot, window, bad)
    assert window.title.text().endswith("•")
    act(loop, window.save)
    pump_until(loop, lambda: window.error.isVisible())
    assert "{tech}" in window.error.text()
    assert window.body.toPlainText() == bad  # kept for a fix
    assert window.is_dirty()

    good = "{company}: {technician} is on the way, about {arrival}. Reply STOP to opt out."
    type_body(loop, qtbot, window, good)
    pump_until(
        loop,
        lambda: (
            window.preview.toPlainText()
            == "Lakeview Home Services: Dmitri is on the way, about 2:40 PM. Reply STOP to opt out."
        ),
    )
    window.grab().save(str(tmp_path / "message-templates.png"))
    act(loop, window.save)
    pump_until(loop, lambda: window.done.isVisible())
    assert not window.error.isVisible() and not window.is_dirty()
    stored = sql(
        named_company,
        "SELECT body FROM message_templates WHERE event = 'on_the_way' AND channel = 'sms'",
    )
    assert stored == [(good,)]

    # Read back: a fresh window shows the saved words.
    act(loop, window.close)
    app.templates = None
    act(loop, lambda: app.window.templates_action.trigger())
    again = app.templates
    pump_until(loop, lambda: again.current is not None and again.tasks.idle())
    choose(loop, again, "On the way — Text message")
    assert again.body.toPlainText() == good


def test_placeholders_go_in_at_the_cursor_and_unsaved_words_are_asked_about(
    loop, qtbot, named_company, start, tmp_path, settings_dir
) -> None:
    _app, window = open_window(loop, start, named_company, tmp_path)
    choose(loop, window, "Job done — Email")
    assert window.subject.isVisible()
    original = window.body.toPlainText()

    def at_the_start() -> None:
        window.body.setFocus()
        window.body.moveCursor(QTextCursor.MoveOperation.Start)

    act(loop, at_the_start)
    act(loop, lambda: window.placeholder_buttons["customer"].click())
    assert window.body.toPlainText() == "{customer}" + original
    act(loop, lambda: window.subject.setFocus())
    act(loop, lambda: window.subject.end(False))
    act(loop, lambda: window.placeholder_buttons["company"].click())
    assert window.subject.text().endswith("{company}")
    pump_until(
        loop, lambda: "Lakeview Home Services" in window.preview.toPlainText().split("\n")[0]
    )
    window.grab().save(str(tmp_path / "message-templates-email.png"))

    # Another template: asked first, and the typed words stay until the user says so.
    choose(loop, window, "On the way — Email")
    question = window.switch_question
    assert question is not None and question.isVisible()
    assert window.current[0].value == "job_done"
    act(loop, lambda: discard(question))
    pump_until(loop, lambda: window.current[0].value == "on_the_way")
    assert not window.is_dirty()

    type_body(loop, qtbot, window, "Changed")
    act(loop, window.close)
    assert window.isVisible() and window.close_question is not None
    act(loop, lambda: discard(window.close_question))
    pump_until(loop, lambda: not window.isVisible())


def test_only_a_manager_finds_message_templates_in_the_file_menu(
    loop, db_url, start, tmp_path, settings_dir, scratch_server: ScratchServer
) -> None:
    try:
        for role, offered in (("csr", False), ("dispatcher", False), ("manager", True)):
            url = scratch_server.login(db_url, role)
            app, task = start(options_for(url, tmp_path))
            wait_for(loop, app.live, task)
            assert app.window.templates_action.isVisible() is offered, role
            assert app.window.templates_action in app.window.file_menu.actions()
    finally:
        scratch_server.drop_logins()
