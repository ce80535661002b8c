"""The work order editor never loses what was typed: conflicts, bad input, lost server."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.ui.workorder.editor import WorkOrderEditor
from tests.companies import small_company
from tests.qt_app import act, discard, finish, options_for, pump_until, wait_for

# QTest types ASCII only; the non-ASCII part arrives as an input method would put it.
TYPED = " Customer says it rattles, ask for the side door"
PASTED = " (Zoë's note — 東京の友人)"


def their_save(url: str, work_order_id: int, **fields: str) -> None:
    """Another dispatcher, jsmith, saves the work order from their workstation."""
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    with psycopg.connect(libpq_url(url), options="-c dispatch.editor=jsmith") as db:
        db.execute(
            f"UPDATE work_orders SET {assignments} WHERE id = %(id)s",
            {**fields, "id": work_order_id},
        )


def database_row(url: str, work_order_id: int) -> tuple[str, str]:
    with psycopg.connect(libpq_url(url)) as db:
        row = db.execute(
            "SELECT description, priority FROM work_orders WHERE id = %s", (work_order_id,)
        ).fetchone()
    assert row is not None
    return row


# Each test closes the app itself before it ends: pytest-qt processes Qt events between a
# test and its fixtures' teardown, and an app still running then would have its asyncio
# tasks stepped outside the event loop.
@pytest.fixture
def opened(loop, start, db_url, tmp_path, settings_dir, qtbot):
    """The app on a small company, with the first visit's work order open by double-click."""
    small_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    visit = app.window.visit_model.visit(0)
    board = app.window.board
    pump_until(loop, lambda: board.block_rect(visit.id) is not None)
    act(
        loop,
        lambda: qtbot.mouseDClick(
            board.viewport(),
            Qt.MouseButton.LeftButton,
            pos=board.block_rect(visit.id).center().toPoint(),
        ),
    )
    editor = app.editors[visit.work_order_id]
    pump_until(loop, lambda: editor.title.text().startswith(visit.number))
    return app, editor, visit.work_order_id, task


def type_and_save(loop, qtbot, editor: WorkOrderEditor) -> str:
    editor.description.moveCursor(editor.description.textCursor().MoveOperation.End)
    act(loop, lambda: qtbot.keyClicks(editor.description, TYPED))
    editor.description.insertPlainText(PASTED)
    mine = editor.description.toPlainText()
    assert mine.endswith(TYPED + PASTED) and editor.is_dirty()
    act(loop, lambda: qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton))
    return mine


def test_conflict_then_reapply_mine_on_top(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    their_save(db_url, work_order, description="Theirs: furnace short-cycles", priority="urgent")
    mine = type_and_save(loop, qtbot, editor)
    pump_until(loop, editor.conflict.isVisible)
    assert "was changed by jsmith at" in editor.conflict_text.text()
    assert "your changes were not saved" in editor.conflict_text.text()
    assert "description" in editor.conflict_text.text()  # both of us changed it
    assert editor.description.toPlainText() == mine  # nothing typed was lost
    assert database_row(db_url, work_order) == ("Theirs: furnace short-cycles", "urgent")

    act(loop, lambda: qtbot.mouseClick(editor.reapply_mine, Qt.MouseButton.LeftButton))
    # Stored as typed, but for the blank it starts with (outer blanks are not kept).
    pump_until(loop, lambda: database_row(db_url, work_order)[0] == mine.strip())
    # My description on top of their save: their priority change stays.
    assert database_row(db_url, work_order) == (mine.strip(), "urgent")
    pump_until(loop, lambda: not editor.is_dirty())
    assert editor.priority.currentData() == "urgent"
    assert finish(loop, app, task) == 0


def test_conflict_then_reload_theirs(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    their_save(db_url, work_order, priority="emergency")
    type_and_save(loop, qtbot, editor)
    pump_until(loop, editor.conflict.isVisible)
    act(loop, lambda: qtbot.mouseClick(editor.reload_theirs, Qt.MouseButton.LeftButton))
    assert not editor.conflict.isVisible() and not editor.is_dirty()
    assert editor.priority.currentData() == "emergency"
    assert TYPED not in editor.description.toPlainText()
    assert database_row(db_url, work_order)[1] == "emergency"
    assert finish(loop, app, task) == 0


def test_conflict_then_copy_mine(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    their_save(db_url, work_order, description="Theirs")
    mine = type_and_save(loop, qtbot, editor)
    pump_until(loop, editor.conflict.isVisible)
    act(loop, lambda: qtbot.mouseClick(editor.copy_mine, Qt.MouseButton.LeftButton))
    assert mine in QGuiApplication.clipboard().text()
    assert editor.description.toPlainText() == "Theirs"
    assert database_row(db_url, work_order)[0] == "Theirs"
    assert finish(loop, app, task) == 0


def test_invalid_input_is_refused_beside_its_field_and_kept(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    before = database_row(db_url, work_order)
    huge = "Pasted log line. " * 7000  # ~119,000 characters
    editor.description.setPlainText(huge)
    act(loop, lambda: qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton))
    label = editor.field_errors["description"]
    pump_until(loop, label.isVisible)
    assert "limit is 100,000" in label.text()
    assert editor.description.toPlainText() == huge
    assert database_row(db_url, work_order) == before
    assert finish(loop, app, task) == 0


def test_a_lost_server_keeps_the_text_and_a_retry_saves_it(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    database = editor.workspace.database
    working = database.sessions
    gone = make_async_engine("postgresql+psycopg://postgres@127.0.0.1:9/dispatch")
    database.sessions = session_factory(gone)  # the server is gone
    try:
        mine = type_and_save(loop, qtbot, editor)
        pump_until(loop, editor.banner.isVisible)
        assert "Could not save" in editor.banner.text()
        assert editor.description.toPlainText() == mine and editor.is_dirty()
    finally:
        loop.run_until_complete(gone.dispose())
    database.sessions = working
    act(loop, lambda: qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton))
    pump_until(loop, lambda: database_row(db_url, work_order)[0] == mine.strip())
    pump_until(loop, lambda: not editor.is_dirty())
    assert finish(loop, app, task) == 0


def test_an_untouched_editor_follows_other_workstations(loop, db_url, opened) -> None:
    app, editor, work_order, task = opened
    their_save(db_url, work_order, description="Updated elsewhere")
    pump_until(loop, lambda: editor.description.toPlainText() == "Updated elsewhere")
    assert not editor.is_dirty()
    assert finish(loop, app, task) == 0


def test_closing_with_unsaved_changes_asks_every_time_until_discarded(
    loop, qtbot, db_url, opened
) -> None:
    app, editor, work_order, task = opened
    act(loop, lambda: qtbot.keyClicks(editor.description, TYPED))
    typed = editor.description.toPlainText()
    number = editor.record.number
    for close in (editor.close, lambda: qtbot.keyClick(editor, Qt.Key.Key_Escape)):
        act(loop, close)
        box = editor.close_question
        assert box is not None and box.isVisible()
        assert f"{number}: changes to the details not saved" in box.informativeText()
        cancel = box.button(QMessageBox.StandardButton.Cancel)
        assert box.defaultButton() is cancel  # Enter keeps the work
        act(loop, cancel.click)
        # Going back keeps everything, and the next close asks again.
        assert editor.isVisible() and editor.description.toPlainText() == typed
    act(loop, editor.close)
    act(loop, lambda: discard(editor.close_question))
    assert not editor.isVisible()
    pump_until(loop, lambda: work_order not in app.editors)
    assert database_row(db_url, work_order)[0] != typed
    assert finish(loop, app, task) == 0


def _type_note(loop, qtbot, editor) -> str:
    act(loop, lambda: qtbot.keyClicks(editor.show_tab("notes").new_note, "Gate code 4471"))
    return editor.notes.new_note.toPlainText()


def _type_labour(loop, qtbot, editor) -> str:
    items = editor.show_tab("lineItems")
    act(loop, lambda: qtbot.keyClicks(items.labour_description, "Diagnose no heat"))
    return items.labour_description.text()


def _type_labour_rate(loop, qtbot, editor) -> str:
    rate = editor.show_tab("lineItems").labour_rate
    act(loop, lambda: rate.selectAll())
    act(loop, lambda: qtbot.keyClicks(rate, "120"))
    return rate.text()


def _type_material_price(loop, qtbot, editor) -> str:
    price = editor.show_tab("lineItems").material_price
    act(loop, lambda: qtbot.keyClicks(price, "24.50"))
    return price.text()


def _type_time_note(loop, qtbot, editor) -> str:
    act(loop, lambda: qtbot.keyClicks(editor.show_tab("time").note, "travel from the shop"))
    return editor.time.note.text()


def _change_time_start(loop, qtbot, editor) -> str:
    started = editor.show_tab("time").started
    act(loop, lambda: started.setDateTime(started.dateTime().addSecs(-1800)))
    return started.dateTime().toString()


def _type_reason(loop, qtbot, editor) -> str:
    pump_until(loop, lambda: editor.badge.status == "scheduled")
    act(loop, editor.status_button.action_for("cancelled").trigger)
    reason = editor.reason_dialog.reason
    act(loop, lambda: qtbot.keyClicks(reason, "Customer sold the house"))
    return reason.toPlainText()


def _shown(editor) -> list[str]:
    tab = editor.tabs.currentWidget()
    return [
        editor.notes.new_note.toPlainText(),
        editor.line_items.labour_description.text(),
        editor.line_items.labour_rate.text(),
        editor.line_items.material_price.text(),
        editor.time.note.text(),
        editor.time.started.dateTime().toString(),
        editor.reason_dialog.reason.toPlainText() if editor.reason_dialog else "",
        str(tab.objectName()),
    ]


@pytest.mark.parametrize(
    ("typing", "named"),
    [
        (_type_note, "a note being written"),
        (_type_labour, "labour being entered"),
        (_type_labour_rate, "labour being entered"),
        (_type_material_price, "a material being entered"),
        (_type_time_note, "a time entry being entered"),
        (_change_time_start, "a time entry being entered"),
        (_type_reason, "a reason being written (Cancel WO-"),
    ],
    ids=["note", "labour", "labour rate", "material", "time note", "time start", "reason"],
)
def test_typing_in_any_tab_is_unsaved_work_and_quitting_asks(
    loop, qtbot, db_url, opened, typing, named
) -> None:
    app, editor, work_order, task = opened
    number = editor.record.number
    assert editor.unsaved_work() == [] and app.unsaved_work() == []
    typed = typing(loop, qtbot, editor)
    assert any(line.startswith(f"{number}: {named}") for line in editor.unsaved_work())
    shown = _shown(editor)

    # Closing the editor asks, and so does quitting the app (the File menu's Quit).
    act(loop, editor.close)
    assert editor.close_question.isVisible()
    assert named in editor.close_question.informativeText()
    act(loop, editor.close_question.button(QMessageBox.StandardButton.Cancel).click)
    act(loop, app.window.quit_action.trigger)
    question = app.window.quit_question
    assert question is not None and question.isVisible()
    assert f"• {number}: {named}" in question.informativeText()
    assert question.defaultButton() is question.button(QMessageBox.StandardButton.Cancel)
    act(loop, question.button(QMessageBox.StandardButton.Cancel).click)
    pump_until(loop, lambda: editor.tasks.idle())
    # Nothing was closed and nothing typed is gone.
    assert not task.done() and app.window.isVisible() and editor.isVisible()
    assert _shown(editor) == shown and typed in shown
    assert app.editors[work_order] is editor

    act(loop, app.window.close)
    act(loop, lambda: discard(app.window.quit_question))
    assert loop.run_until_complete(asyncio.wait_for(task, 30)) == 0


def test_a_photo_still_being_attached_is_unsaved_work(
    loop, qtbot, db_url, opened, tmp_path
) -> None:
    from tests.work_order_data import picture

    app, editor, _work_order, task = opened
    path = tmp_path / "condenser.jpg"
    path.write_bytes(picture("JPEG", (800, 600)))
    with psycopg.connect(libpq_url(db_url)) as slow:
        slow.execute("LOCK TABLE photos IN ACCESS EXCLUSIVE MODE")  # the write has to wait
        drop_files(loop, editor.show_tab("photos"), [path])
        pump_until(loop, lambda: editor.photos.attaching)
        number = editor.record.number
        assert editor.unsaved_work() == [f"{number}: photos still being attached (condenser.jpg)"]
        act(loop, app.window.close)
        question = app.window.quit_question
        assert "condenser.jpg" in question.informativeText()
        act(loop, question.button(QMessageBox.StandardButton.Cancel).click)
    pump_until(loop, lambda: len(editor.photos.photos()) == 1)
    assert editor.unsaved_work() == []
    assert finish(loop, app, task) == 0


def test_typing_while_a_reload_is_under_way_is_kept(loop, db_url, opened) -> None:
    app, editor, work_order, task = opened
    their_save(db_url, work_order, description="Changed elsewhere")
    editor.load_soon()
    pump_until(loop, editor._one_at_a_time.locked)  # the reload is waiting on the server
    editor.description.insertPlainText(PASTED)
    typed = editor.description.toPlainText()
    pump_until(loop, editor.tasks.idle)
    assert editor.description.toPlainText() == typed  # the reload did not overwrite it
    assert "Someone else just changed" in editor.banner.text()
    assert finish(loop, app, task) == 0


# -- the whole record: line items, notes, photos, status, live updates ----------------------
def click(loop, qtbot, button) -> None:
    act(loop, lambda: qtbot.mouseClick(button, Qt.MouseButton.LeftButton))


def drop_files(loop, widget, paths) -> None:
    """Files dragged from a file manager and dropped on ``widget``, as Qt delivers them."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    where = QPointF(widget.rect().center())

    def gesture() -> None:
        enter = QDragEnterEvent(
            where.toPoint(),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(widget, enter)
        assert enter.isAccepted()
        drop = QDropEvent(
            where,
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(widget, drop)
        assert drop.isAccepted()

    act(loop, gesture)


def counts(url: str, work_order: int) -> dict:
    from tests.work_order_data import record_counts

    return record_counts(url, work_order)


def test_labour_and_material_added_in_the_editor_make_the_total(loop, qtbot, db_url, opened):
    from tests.work_order_data import add_parts

    app, editor, work_order, task = opened
    add_parts(db_url)
    tab = editor.show_tab("lineItems")
    assert tab is editor.line_items
    items = editor.line_items

    # A refused entry says why beside the field and keeps what was typed.
    act(loop, lambda: qtbot.keyClicks(items.labour_description, "Diagnose no heat"))
    items.labour_hours.setText("0")
    click(loop, qtbot, items.add_labour_button)
    pump_until(loop, items.labour_errors["quantity"].isVisible)
    assert "more than zero" in items.labour_errors["quantity"].text()
    assert items.labour_description.text() == "Diagnose no heat"
    assert counts(db_url, work_order)["line_items"] == 0

    items.labour_hours.setText("1.5")
    items.labour_rate.setText("95")
    click(loop, qtbot, items.add_labour_button)
    pump_until(loop, lambda: items.model.rowCount() == 1)
    assert items.total.text() == "Total $142.50"
    assert not items.labour_errors["quantity"].isVisible()
    assert items.labour_description.text() == ""  # done: ready for the next one

    act(loop, lambda: qtbot.keyClicks(items.part_search, "capac"))
    pump_until(loop, lambda: [p.sku for p in items.shown_parts()] == ["CAP-4505"])
    assert items.chosen_part() is None
    items.part_list.setCurrentRow(0)
    assert items.chosen_part().sku == "CAP-4505"
    items.material_quantity.setText("2")
    click(loop, qtbot, items.add_material_button)
    pump_until(loop, lambda: items.model.rowCount() == 2)
    assert items.total.text() == "Total $191.50"  # 142.50 + 2 × 24.50
    assert items.material_total.text() == "Materials $49.00"
    assert editor.total_label.text() == "Total $191.50"
    assert "Line items (2)" in editor.tabs.tabText(editor.tabs.indexOf(items))

    # Editing a quantity in the table saves it and the totals follow.
    labour_row = next(r for r, i in enumerate(items.model.items) if i.kind == "labour")
    index = items.model.index(labour_row, 3)
    act(loop, lambda: items.model.setData(index, "2"))
    pump_until(loop, lambda: items.total.text() == "Total $239.00")
    assert finish(loop, app, task) == 0


def test_a_note_is_added_with_its_author_and_time(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    notes = editor.show_tab("notes")
    assert notes is editor.notes
    act(loop, lambda: qtbot.keyClicks(notes.new_note, "Gate code 4471"))
    notes.new_note.insertPlainText(" — chien gentil 🐕, 東京")
    typed = notes.new_note.toPlainText()
    click(loop, qtbot, notes.add_button)
    pump_until(loop, lambda: len(notes.card_texts()) == 1)
    ((author, body),) = notes.card_texts()
    assert body == typed and author  # signed by this workstation's editor name
    assert notes.new_note.toPlainText() == ""

    notes.new_note.setPlainText("bad \x07 bell")
    click(loop, qtbot, notes.add_button)
    pump_until(loop, notes.error.isVisible)
    assert "control character" in notes.error.text()
    assert notes.new_note.toPlainText() == "bad \x07 bell"  # kept to fix
    assert counts(db_url, work_order)["notes"] == 1
    assert finish(loop, app, task) == 0


def test_a_dropped_photo_appears_as_a_thumbnail_and_opens_full_size(
    loop, qtbot, db_url, opened, tmp_path
) -> None:
    from tests.work_order_data import picture

    app, editor, work_order, task = opened
    photos = editor.show_tab("photos")
    path = tmp_path / "condenser.jpg"
    path.write_bytes(picture("JPEG", (1600, 1200)))
    drop_files(loop, photos, [path])
    pump_until(loop, lambda: len(editor.photos.photos()) == 1)
    (photo,) = editor.photos.photos()
    assert (photo.filename, photo.width, photo.height) == ("condenser.jpg", 1600, 1200)
    icon = editor.photos.grid.item(0).icon()
    assert not icon.isNull()
    assert not editor.photos.error.isVisible()

    viewer = editor.photos.open_full(editor.photos.grid.item(0))
    pump_until(loop, lambda: viewer.file is not None)
    assert viewer.file.data == path.read_bytes()
    assert counts(db_url, work_order)["photos"] == 1
    assert viewer.picture.pixmap() is not None and not viewer.picture.pixmap().isNull()
    act(loop, viewer.close)

    # Removing it asks first, naming it; everyone stops seeing it.
    act(loop, lambda: editor.photos.grid.item(0).setSelected(True))
    click(loop, qtbot, editor.photos.remove_button)
    box = editor.photos.confirmation
    pump_until(loop, lambda: box is not None and box.isVisible())
    assert "condenser.jpg" in box.text()
    click(loop, qtbot, next(b for b in box.buttons() if b.text() == "Remove"))
    pump_until(loop, lambda: counts(db_url, work_order)["photos"] == 0)
    pump_until(loop, lambda: editor.photos.grid.count() == 0)
    assert finish(loop, app, task) == 0


def test_a_photo_that_is_not_one_is_refused_with_a_sentence(loop, db_url, opened, tmp_path):
    from tests.work_order_data import picture

    app, editor, work_order, task = opened
    photos = editor.show_tab("photos")
    renamed = tmp_path / "invoice.jpg"
    renamed.write_text("Invoice 1043\nTotal due: $240.00\n" * 50)
    cut = tmp_path / "cut-off.jpg"
    cut.write_bytes(picture("JPEG", (900, 700))[:5000])
    before = counts(db_url, work_order)
    drop_files(loop, photos, [renamed, cut])
    pump_until(
        loop,
        lambda: (
            "cut-off.jpg" in editor.photos.error.text()
            and "invoice.jpg" in editor.photos.error.text()
        ),
    )
    sentences = editor.photos.error.text()
    assert "invoice.jpg is not a picture" in sentences
    assert "cut-off.jpg is damaged or incomplete" in sentences
    pump_until(loop, lambda: not editor.photos.attaching)
    assert editor.photos.photos() == []
    assert counts(db_url, work_order) == before
    assert finish(loop, app, task) == 0


def test_cancelling_asks_a_reason_and_records_it(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    pump_until(loop, lambda: editor.badge.status == "scheduled")
    action = editor.status_button.action_for("cancelled")
    act(loop, action.trigger)
    dialog = editor.reason_dialog
    assert dialog is not None and dialog.isVisible()

    click(loop, qtbot, dialog.confirm)  # no reason yet
    pump_until(loop, dialog.error.isVisible)
    assert dialog.error.text() == "Cancelling needs a reason."
    assert dialog.isVisible()
    assert counts(db_url, work_order)["order"][0] == "scheduled"

    act(loop, lambda: qtbot.keyClicks(dialog.reason, "Customer sold the house"))
    click(loop, qtbot, dialog.confirm)
    pump_until(loop, lambda: editor.badge.status == "cancelled")
    assert not dialog.isVisible()
    assert counts(db_url, work_order)["order"][:2] == ("cancelled", "Customer sold the house")
    history = editor.history.table
    pump_until(loop, lambda: history.rowCount() >= 1)
    assert history.item(0, 3).text() == "Scheduled → Cancelled"
    assert history.item(0, 4).text() == "Customer sold the house"
    assert "Customer sold the house" in editor.subtitle.text()
    assert set(editor.status_button.offered()) == {"new", "scheduled"}
    assert finish(loop, app, task) == 0


def test_only_allowed_statuses_are_offered(loop, qtbot, db_url, opened) -> None:
    from tests.test_work_order_status import ALLOWED

    app, editor, work_order, task = opened
    pump_until(loop, lambda: editor.badge.status == "scheduled")
    offered = editor.status_button.offered()
    assert set(offered) == {to for (frm, to) in ALLOWED if frm == "scheduled"}
    for forbidden in ("completed", "invoiced", "closed", "scheduled"):
        assert editor.status_button.action_for(forbidden) is None

    act(loop, editor.status_button.action_for("dispatched").trigger)  # no reason asked
    pump_until(loop, lambda: editor.badge.status == "dispatched")
    assert editor.reason_dialog is None
    assert counts(db_url, work_order)["order"][0] == "dispatched"
    assert set(editor.status_button.offered()) == {
        to for (frm, to) in ALLOWED if frm == "dispatched"
    }
    assert finish(loop, app, task) == 0


def test_changes_elsewhere_reach_other_tabs_and_keep_the_typing(loop, qtbot, db_url, opened):
    app, editor, work_order, task = opened
    editor.description.moveCursor(editor.description.textCursor().MoveOperation.End)
    act(loop, lambda: qtbot.keyClicks(editor.description, TYPED))
    typed = editor.description.toPlainText()
    assert editor.is_dirty()

    with psycopg.connect(libpq_url(db_url), options="-c dispatch.editor=jsmith") as other:
        other.execute(
            "INSERT INTO notes (work_order_id, body) VALUES (%s, 'Parts arrived at the shop')",
            (work_order,),
        )
        other.execute(
            "INSERT INTO line_items (work_order_id, kind, description, quantity, unit_price) "
            "VALUES (%s, 'labour', 'After-hours call-out', 1, 150)",
            (work_order,),
        )
        other.execute("UPDATE work_orders SET status = 'dispatched' WHERE id = %s", (work_order,))
    pump_until(loop, lambda: editor.notes.card_texts() == [("jsmith", "Parts arrived at the shop")])
    pump_until(loop, lambda: editor.line_items.total.text() == "Total $150.00")
    pump_until(loop, lambda: editor.badge.status == "dispatched")
    assert editor.description.toPlainText() == typed and editor.is_dirty()
    assert not editor.banner.isVisible()  # nobody touched what is being typed
    # The audit is read when its tab is looked at, and then holds their changes.
    editor.show_tab("audit")
    pump_until(
        loop, lambda: any("jsmith" in ln and "Note added" in ln for ln in editor.audit.lines())
    )

    # Their status change did not touch the form: saving needs no choice.
    click(loop, qtbot, editor.save_button)
    pump_until(loop, lambda: database_row(db_url, work_order)[0] == typed.strip())
    assert not editor.conflict.isVisible()
    assert finish(loop, app, task) == 0


def test_removing_a_line_item_asks_first_and_cancel_keeps_it(loop, qtbot, db_url, opened):
    app, editor, work_order, task = opened
    items = editor.show_tab("lineItems")
    act(loop, lambda: qtbot.keyClicks(items.labour_description, "Diagnose no heat"))
    items.labour_hours.setText("1")
    items.labour_rate.setText("95")
    click(loop, qtbot, items.add_labour_button)
    pump_until(loop, lambda: items.model.rowCount() == 1)

    def ask() -> QMessageBox:
        act(loop, lambda: items.table.selectRow(0))
        click(loop, qtbot, items.remove_button)
        pump_until(loop, lambda: items.confirmation is not None and items.confirmation.isVisible())
        assert "Diagnose no heat" in items.confirmation.text()
        return items.confirmation

    box = ask()
    click(loop, qtbot, box.button(QMessageBox.StandardButton.Cancel))
    pump_until(loop, lambda: not box.isVisible())
    pump_until(loop, editor.tasks.idle)
    assert counts(db_url, work_order)["line_items"] == 1 and items.model.rowCount() == 1

    box = ask()
    remove = next(b for b in box.buttons() if b.text() == "Remove")
    click(loop, qtbot, remove)
    pump_until(loop, lambda: counts(db_url, work_order)["line_items"] == 0)
    pump_until(loop, lambda: items.model.rowCount() == 0)
    assert finish(loop, app, task) == 0


def test_a_part_the_truck_lacks_is_taken_only_once_the_user_says_it_is_there(
    loop, qtbot, db_url, opened
):
    from tests.work_order_data import add_parts

    app, editor, work_order, task = opened
    add_parts(db_url)
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute("INSERT INTO app_settings (key, value) VALUES ('stock_tracking', 'true')")
    items = editor.show_tab("lineItems")
    act(loop, lambda: qtbot.keyClicks(items.part_search, "capac"))
    pump_until(loop, lambda: [p.sku for p in items.shown_parts()] == ["CAP-4505"])
    items.part_list.setCurrentRow(0)
    items.material_quantity.setText("2")
    click(loop, qtbot, items.add_material_button)
    pump_until(loop, lambda: items.short_question is not None and items.short_question.isVisible())
    assert "Truck 1 has 0 of Capacitor 45/5 µF (CAP-4505) on hand, not 2." in (
        items.short_question.text()
    )
    assert counts(db_url, work_order)["line_items"] == 0
    assert items.material_quantity.text() == "2"  # kept while the user decides
    take = next(b for b in items.short_question.buttons() if b.text() == "Take it anyway")
    click(loop, qtbot, take)
    pump_until(loop, lambda: items.model.rowCount() == 1)
    with psycopg.connect(libpq_url(db_url)) as db:
        on_hand = db.execute(
            "SELECT s.on_hand FROM stock_levels s JOIN stock_locations l ON l.id = s.location_id "
            "WHERE l.name = 'Truck 1'"
        ).fetchone()
    assert on_hand is not None and on_hand[0] == -2
    assert finish(loop, app, task) == 0
