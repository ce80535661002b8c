"""File → Back up… and Restore… in the running app, and the embedded database's backup of
the day made at start."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QFileDialog, QLineEdit

from dispatch_app.config import DatabaseChoice, libpq_url
from dispatch_app.db import migrate
from dispatch_app.db.dump import read_dump
from dispatch_app.db.embedded import EmbeddedServer
from dispatch_app.services.database import migrate_now
from dispatch_app.ui.app import DispatchApp, GuiOptions
from tests.companies import DAY, clock_at, small_company
from tests.qt_app import act, options_for, pump_until, wait_for


def choose(loop, dialog: QFileDialog | None, path: Path) -> None:
    """Pick ``path`` in a file dialog the way a user does: type it, press Save/Open."""
    assert dialog is not None and dialog.isVisible()

    def pick() -> None:
        name = dialog.findChild(QLineEdit, "fileNameEdit")
        assert name is not None
        name.setText(str(path))
        dialog.accept()

    act(loop, pick)


def technician_names(app: DispatchApp) -> set[str]:
    assert app.store is not None
    return {technician.name for technician in app.store.technicians}


def test_back_up_from_the_file_menu(loop, start, db_url, tmp_path, settings_dir) -> None:
    small_company(db_url)
    app, task = start(options_for(db_url, tmp_path / "data"))
    wait_for(loop, app.loaded, task)
    backups = app.window.backups
    assert [a.objectName() for a in app.window.file_menu.actions() if a.objectName()] == [
        "newCall",
        "backUp",
        "restore",
        "leads",
        "followUps",
        "billing",
        "reports",
        "messageTemplates",
        "people",  # the server's superuser manages people too
        "quit",
    ]
    assert backups.backup_action.isEnabled()
    # A shared database belongs to every workstation: its administrator restores it.
    assert not backups.restore_action.isEnabled()
    assert app.daily_backup is None  # nor is it this workstation's to back up daily

    act(loop, backups.backup_action.trigger)
    dialog = backups.dialog
    assert dialog is not None
    assert Path(dialog.directory().absolutePath()) == tmp_path / "data" / "backups"
    assert dialog.selectedFiles()[0].endswith("dispatch-2026-12-01.dump")
    target = tmp_path / "office.dump"
    choose(loop, dialog, target)
    pump_until(loop, lambda: backups.idle() and target.exists())

    assert f"to {target} (" in app.window.statusBar().currentMessage()
    assert read_dump(target).revision == migrate.head_revision()
    assert backups.backup_action.isEnabled()


def test_a_backup_that_fails_says_why_and_the_app_goes_on(
    loop, start, db_url, tmp_path, settings_dir
) -> None:
    app, task = start(options_for(db_url, tmp_path / "data"))
    wait_for(loop, app.loaded, task)
    backups = app.window.backups
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way of a folder")

    act(loop, lambda: backups.back_up_to(blocker / "office.dump"))
    pump_until(loop, backups.idle)

    assert "The backup was not made" in app.window.statusBar().currentMessage()
    assert str(blocker) in app.window.statusBar().currentMessage()
    assert not task.done()
    assert backups.backup_action.isEnabled()


@pytest.mark.slow
def test_restore_from_the_file_menu_brings_the_backup_back_onto_the_board(
    loop, start, embedded_dir, settings_dir
) -> None:
    server = EmbeddedServer(embedded_dir)
    url = server.start()
    try:
        migrate_now(url)
        small_company(url)
    finally:
        server.stop()
    clock = clock_at(7)
    app, task = start(
        GuiOptions(
            database=DatabaseChoice(None, "embedded"),
            data_dir=embedded_dir,
            size=QSize(1400, 800),
            day=DAY,
            clock=clock,
        )
    )
    wait_for(loop, app.loaded, task)
    backups = app.window.backups

    # The day's backup is made by itself, off the GUI thread.
    assert app.daily_backup is not None
    pump_until(loop, app.daily_backup.done)
    daily = embedded_dir / "backups" / f"dispatch-{clock.now().astimezone().date()}.dump"
    assert read_dump(daily).revision == migrate.head_revision()

    # A change after the backup, made elsewhere, reaches the board.
    assert app.workspace is not None
    with psycopg.connect(libpq_url(app.workspace.url)) as db:
        db.execute("UPDATE technicians SET name = 'Renamed Later' WHERE name = 'Ava Kowalski'")
    pump_until(loop, lambda: "Renamed Later" in technician_names(app))

    assert backups.restore_action.isEnabled()
    act(loop, backups.restore_action.trigger)
    choose(loop, backups.dialog, daily)
    pump_until(loop, lambda: backups.confirmation is not None and backups.confirmation.isVisible())
    box = backups.confirmation
    assert box is not None
    assert daily.name in box.text()
    assert "1 customer, 3 technicians and 4 work orders" in box.informativeText()
    assert str(embedded_dir / "backups") in box.informativeText()
    replace = next(b for b in box.buttons() if b.text() == "Replace with the backup")
    act(loop, replace.click)
    pump_until(loop, lambda: backups.idle() and "Ava Kowalski" in technician_names(app))

    assert "Renamed Later" not in technician_names(app)
    assert f"Restored {daily.name}" in app.window.statusBar().currentMessage()
    saved_before = list((embedded_dir / "backups").glob("*-before-restore.dump"))
    assert len(saved_before) == 1
    assert not task.done()


@pytest.mark.slow
def test_a_daily_backup_that_fails_is_said_and_the_app_goes_on(
    loop, start, embedded_dir, settings_dir
) -> None:
    embedded_dir.mkdir(parents=True)
    (embedded_dir / "backups").write_text("a file where the backups folder should be")
    app, task = start(
        GuiOptions(
            database=DatabaseChoice(None, "embedded"),
            data_dir=embedded_dir,
            size=QSize(1400, 800),
            day=DAY,
            clock=clock_at(7),
        )
    )
    wait_for(loop, app.loaded, task)
    assert app.daily_backup is not None
    pump_until(loop, app.daily_backup.done)

    message = app.window.statusBar().currentMessage()
    assert "Today's automatic backup was not made" in message
    assert str(embedded_dir / "backups") in message
    assert not task.done()
    assert app.window.backups.backup_action.isEnabled()
