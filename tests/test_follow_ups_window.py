"""The Follow-ups window on a real database and a real (offscreen) Qt, on a fixed clock:
it lists the tasks the rules make, overdue ones counted in the title, a task another
connection stores appears by itself, Done / Lost (with its reason) / Snooze are written
and shown, the filters list mine and the finished, a colleague's change first is said,
a viewer reads with every action disabled, and a manager's rule changes are saved or
refused with the sentence and the typed values kept."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from dispatch_app.config import DatabaseChoice, libpq_url
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.clock import FixedClock
from dispatch_app.domain.follow_ups import RuleKind
from dispatch_app.domain.roles import Action, Role, refusal
from dispatch_app.services.follow_ups.rules import run_rules
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui.follow_ups.dialogs import quick_picks
from dispatch_app.ui.follow_ups.rules_tab import days_hint
from dispatch_app.ui.follow_ups.window import FollowUpsWindow, open_follow_ups
from tests import test_follow_up_rules as rules_tests
from tests.qt_app import act, discard, pump_until
from tests.test_follow_up_rules import TZ, WHEN, _order

company = rules_tests.company  # the fixture: a company in Chicago with two customers

# Wednesday 10:00 in Chicago: the day after the work in ``company`` happened.
NOW = WHEN + dt.timedelta(hours=25)


def sql(url: str, statement: str, *args: object) -> Any:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


def stored(url: str, task_id: int) -> dict[str, Any]:
    with psycopg.connect(libpq_url(url), row_factory=psycopg.rows.dict_row) as db:
        row = db.execute("SELECT * FROM follow_ups WHERE id = %s", (task_id,)).fetchone()
    assert row is not None
    return row


def add_task(url: str, title: str, due: dt.datetime, kind: str = "missed_call", **more: Any) -> int:
    """A task stored by another connection (the worker, a colleague's workstation)."""
    columns = ["kind", "occasion", "title", "detail", "due_at", *more]
    values = [kind, f"test:{title}", title, f"About {title}", due, *more.values()]
    ((task_id,),) = sql(
        url,
        f"INSERT INTO follow_ups ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(values))}) RETURNING id",
        *values,
    )
    return task_id


Opener = Callable[..., tuple[Workspace, FollowUpsWindow]]


@pytest.fixture
def open_window(loop, qtbot, tmp_path, settings_dir) -> Iterator[Opener]:
    """A workspace listening to the change feed, and the window on it; both closed at
    the end."""
    opened: list[tuple[Workspace, FollowUpsWindow]] = []

    def opener(url: str, at: dt.datetime = NOW) -> tuple[Workspace, FollowUpsWindow]:
        workspace = loop.run_until_complete(
            Workspace.open(DatabaseChoice(url, "test"), data_dir=tmp_path, clock=FixedClock(at))
        )
        connected = asyncio.Event()
        workspace.listen(
            on_hints=lambda _hints: None,
            on_state=lambda *_state: None,
            on_connected=connected.set,
        )
        loop.run_until_complete(asyncio.wait_for(connected.wait(), 30))
        window = open_follow_ups(workspace)
        opened.append((workspace, window))
        pump_until(loop, lambda: not window.task_list.stale and not window.reading)
        return workspace, window

    def close_all() -> None:
        while opened:
            workspace, window = opened.pop()
            window.hide()
            loop.run_until_complete(window.aclose())
            loop.run_until_complete(workspace.aclose())

    opener.close_all = close_all  # type: ignore[attr-defined]
    yield opener
    close_all()


def rules_made_tasks(loop, url: str, company: dict[str, int]) -> dict[str, int]:
    """A cancelled job (24 h: due Wednesday 9:00) and a new one nobody touched (48 h:
    due Thursday 9:00), made into tasks by the worker's rules."""
    cancelled = _order(
        url, company, status="cancelled", at=WHEN, reason="Went with a cheaper quote"
    )
    untouched = _order(url, company, status="new", at=WHEN, who="texts")

    async def run(at: dt.datetime) -> None:
        workspace = Workspace.connect(url, clock=FixedClock(at))
        try:
            await workspace.run(run_rules, clock=FixedClock(at))
        finally:
            await workspace.aclose()

    loop.run_until_complete(run(WHEN + dt.timedelta(hours=48)))
    ids = {
        kind: task_id for task_id, kind in sql(url, "SELECT id, kind FROM follow_ups ORDER BY id")
    }
    assert set(ids) == {"cancellation", "stale_work_order"}
    return {
        "cancelled": ids["cancellation"],
        "untouched": ids["stale_work_order"],
        "cancelled_order": cancelled,
        "untouched_order": untouched,
    }


def listed(window: FollowUpsWindow) -> list[int]:
    return [task.id for task in window.task_list.model.records()]


def cell(window: FollowUpsWindow, task_id: int, column: int, role: int = 0) -> Any:
    model = window.task_list.model
    return model.index(model.row_of(task_id), column).data(role or Qt.ItemDataRole.DisplayRole)


def choose(loop, window: FollowUpsWindow, task_id: int) -> None:
    act(loop, lambda: window.task_list.select(task_id))
    chosen = window.task_list.selected()
    assert chosen is not None and chosen.id == task_id


def written(loop, window: FollowUpsWindow) -> None:
    """Wait until the write is done and the list read again."""
    pump_until(
        loop,
        lambda: not window.task_list.busy and window.tasks.idle() and not window.reading,
    )


# -- the list -------------------------------------------------------------------------------
def test_the_tasks_the_rules_make_are_listed_and_one_stored_elsewhere_appears_by_itself(
    loop,
    db_url,
    company,
    open_window,
) -> None:
    made = rules_made_tasks(loop, db_url, company)
    _workspace, window = open_window(db_url)
    assert listed(window) == [made["cancelled"], made["untouched"]]
    cancelled, untouched = made["cancelled"], made["untouched"]
    assert cell(window, cancelled, 0) == "Today 9:00 AM — overdue"
    assert cell(window, cancelled, 0, Qt.ItemDataRole.ForegroundRole).name() == "#b42318"
    assert cell(window, untouched, 0) == "Tomorrow 9:00 AM"
    assert cell(window, untouched, 0, Qt.ItemDataRole.ForegroundRole) is None
    assert cell(window, cancelled, 1) == "Win back a cancellation"
    assert cell(window, cancelled, 3) == "Went with a cheaper quote"
    assert cell(window, cancelled, 4) == "Amelia Brooks"
    assert cell(window, untouched, 4) == "Björn Lindqvist"
    number = sql(db_url, "SELECT number FROM work_orders WHERE id = %s", made["cancelled_order"])
    assert cell(window, cancelled, 5) == number[0][0]
    assert window.windowTitle().startswith("Follow-ups (1 overdue) — ")
    assert window.tabs.tabText(0) == "Tasks (1 overdue)"
    assert window.task_list.summary.text() == "1 overdue · 2 to do"

    # The worker (another connection) makes a callback: it appears without a refresh,
    # in its place by due time, and the selection stays where it was.
    choose(loop, window, untouched)
    callback = add_task(db_url, "Call back Priya Raman", NOW - dt.timedelta(hours=3))
    pump_until(loop, lambda: callback in listed(window))
    assert listed(window) == [callback, cancelled, untouched]
    assert window.task_list.selected().id == untouched
    assert cell(window, callback, 0) == "Today 7:00 AM — overdue"
    pump_until(loop, lambda: window.windowTitle().startswith("Follow-ups (2 overdue)"))


def test_done_lost_and_snooze_are_written_and_shown(
    loop,
    qtbot,
    db_url,
    company,
    open_window,
) -> None:
    made = rules_made_tasks(loop, db_url, company)
    callback = add_task(db_url, "Call back Priya Raman", NOW - dt.timedelta(hours=3))
    _workspace, window = open_window(db_url)
    page = window.task_list

    # A stale work order is done or not: no "recovered" or "lost" about it.
    choose(loop, window, made["untouched"])
    assert page.done_action.isEnabled() and page.snooze_action.isEnabled()
    assert not page.recovered_action.isEnabled() and not page.lost_action.isEnabled()
    act(loop, page.done_action.trigger)
    written(loop, window)
    assert made["untouched"] not in listed(window)
    row = stored(db_url, made["untouched"])
    assert (row["state"], row["outcome"]) == ("done", "done") and row["done_by"]
    assert page.done.isVisible() and "done" in page.done.text()

    # Lost asks why; nothing is written without a reason.
    choose(loop, window, made["cancelled"])
    assert page.recovered_action.isEnabled() and page.lost_action.isEnabled()
    act(loop, page.lost_action.trigger)
    dialog = page.question
    assert dialog is not None and dialog.isVisible() and dialog.objectName() == "lostQuestion"
    assert not dialog.ok.isEnabled()
    act(loop, lambda: qtbot.keyClicks(dialog.reason, "   "))
    assert not dialog.ok.isEnabled()
    act(loop, lambda: dialog.reason.setText("Went with a cheaper company"))
    act(loop, dialog.ok.click)
    written(loop, window)
    row = stored(db_url, made["cancelled"])
    assert (row["state"], row["outcome"], row["reason"]) == (
        "done",
        "lost",
        "Went with a cheaper company",
    )
    assert listed(window) == [callback]

    # Snooze: until next Monday 9:00, saying why.
    choose(loop, window, callback)
    act(loop, page.snooze_action.trigger)
    snooze = page.question
    assert snooze is not None and snooze.objectName() == "snoozeQuestion"
    act(loop, lambda: snooze.pick_buttons["Monday 9:00"].click())
    assert not snooze.ok.isEnabled()  # the reason is required
    act(loop, lambda: qtbot.keyClicks(snooze.reason, "Away until Monday"))
    assert snooze.ok.isEnabled()
    act(loop, snooze.ok.click)
    written(loop, window)
    row = stored(db_url, callback)
    monday = dt.datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
    assert (row["state"], row["due_at"], row["reason"]) == ("snoozed", monday, "Away until Monday")
    assert cell(window, callback, 0) == "Snoozed until Mon 9:00 AM"
    assert "Snoozed: Away until Monday" in cell(window, callback, 0, Qt.ItemDataRole.ToolTipRole)
    assert window.windowTitle().startswith("Follow-ups — ")  # nothing overdue now


def test_the_quick_picks_and_a_time_already_past(loop, qtbot, db_url, company, open_window) -> None:
    picks = dict(quick_picks(NOW, TZ))
    assert picks["Tomorrow 9:00"] == dt.datetime(2026, 12, 3, 9, 0, tzinfo=TZ)
    assert picks["Monday 9:00"] == dt.datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
    assert picks["In a week"] == NOW + dt.timedelta(days=7)
    callback = add_task(db_url, "Call back Priya Raman", NOW - dt.timedelta(hours=3))
    _workspace, window = open_window(db_url)
    choose(loop, window, callback)
    act(loop, window.task_list.snooze_action.trigger)
    snooze = window.task_list.question
    act(loop, lambda: snooze.set_until(NOW - dt.timedelta(hours=1)))
    act(loop, lambda: snooze.reason.setText("Try later"))
    assert not snooze.ok.isEnabled() and snooze.problem.text() == "Choose a time still to come."
    act(loop, snooze.reject)


def test_mine_and_finished_filter_the_list_and_take_it_assigns_to_me(
    loop,
    db_url,
    company,
    open_window,
) -> None:
    made = rules_made_tasks(loop, db_url, company)
    workspace, window = open_window(db_url)
    page = window.task_list
    me = workspace.login
    assert me

    choose(loop, window, made["untouched"])
    assert page.take_action.isEnabled()
    act(loop, page.take_action.trigger)
    written(loop, window)
    assert stored(db_url, made["untouched"])["assigned_to"] == me
    assert cell(window, made["untouched"], 6) == me
    assert not page.take_action.isEnabled()  # it is mine already

    act(loop, lambda: page.whose.setCurrentIndex(1))  # Mine
    pump_until(loop, lambda: listed(window) == [made["untouched"]] and not window.reading)

    # Finished today by someone else: listed, greyed, only when asked.
    sql(
        db_url,
        "UPDATE follow_ups SET state = 'done', outcome = 'recovered', assigned_to = %s "
        "WHERE id = %s",
        me,
        made["cancelled"],
    )
    pump_until(loop, lambda: listed(window) == [made["untouched"]] and not window.reading)
    act(loop, lambda: page.finished.setChecked(True))
    pump_until(loop, lambda: listed(window) == [made["untouched"], made["cancelled"]])
    assert cell(window, made["cancelled"], 0).startswith("Recovered ")
    assert cell(window, made["cancelled"], 2, Qt.ItemDataRole.ForegroundRole) is not None
    choose(loop, window, made["cancelled"])
    for action in page.row_actions[:-1]:
        assert not action.isEnabled(), action.objectName()  # finished is final
    assert page.open_action.isEnabled()

    opened: list[int] = []
    window.workOrderRequested.connect(opened.append)
    act(loop, page.open_action.trigger)
    assert opened == [made["cancelled_order"]]

    act(loop, lambda: page.whose.setCurrentIndex(0))  # Everyone's
    act(loop, lambda: page.finished.setChecked(False))
    pump_until(loop, lambda: listed(window) == [made["untouched"]] and not window.reading)


def test_a_colleagues_change_first_is_said_and_the_list_read_again(
    loop,
    db_url,
    company,
    open_window,
) -> None:
    made = rules_made_tasks(loop, db_url, company)
    _workspace, window = open_window(db_url)
    page = window.task_list
    choose(loop, window, made["untouched"])
    # A colleague assigns it an instant before this workstation's Done.
    sql(db_url, "UPDATE follow_ups SET assigned_to = 'maria.g' WHERE id = %s", made["untouched"])
    act(loop, page.done_action.trigger)
    written(loop, window)
    assert page.error.isVisible()
    assert "was changed by someone else meanwhile" in page.error.text()
    assert stored(db_url, made["untouched"])["state"] == "open"
    pump_until(loop, lambda: cell(window, made["untouched"], 6) == "maria.g")
    assert page.selected().id == made["untouched"]


def test_a_viewer_reads_with_every_action_disabled_and_a_csr_works_the_tasks(
    loop,
    db_url,
    company,
    open_window,
    scratch_server: ScratchServer,
) -> None:
    made = rules_made_tasks(loop, db_url, company)
    try:
        for group, may_act in (("viewer", False), ("csr", True)):
            workspace, window = open_window(scratch_server.login(db_url, group))
            page = window.task_list
            assert listed(window) == [made["cancelled"], made["untouched"]]
            choose(loop, window, made["cancelled"])
            for action in page.row_actions[:-1]:
                assert action.isEnabled() is may_act, (group, action.objectName())
            assert page.open_action.isEnabled()  # reading a work order is every role's
            if not may_act:
                assert page.role_note.text() == refusal(Role.VIEWER, Action.BOOK_CALLS)
            else:  # the database lets a CSR finish a task, and says who did
                act(loop, page.recovered_action.trigger)
                written(loop, window)
                row = stored(db_url, made["cancelled"])
                assert (row["outcome"], row["done_by"]) == ("recovered", workspace.login)
            # The rules: a manager's to change.
            act(loop, lambda w=window: w.tabs.setCurrentWidget(w.rules))
            pump_until(loop, lambda w=window: len(w.rules.lines) == len(RuleKind))
            line = window.rules.lines[RuleKind.CANCELLATION]
            assert not line.wait.isEnabled() and not line.enabled.isEnabled()
            assert not window.rules.save_button.isVisible()
            assert window.rules.role_note.text() == refusal(
                workspace.role, "change the follow-up rules"
            )
    finally:
        open_window.close_all()  # before their logins go
        scratch_server.drop_logins()


# -- the rules --------------------------------------------------------------------------------
def test_a_manager_saves_a_changed_wait_and_a_refusal_keeps_what_was_typed(
    loop,
    db_url,
    company,
    open_window,
    tmp_path,
) -> None:
    _workspace, window = open_window(db_url)
    rules = window.rules
    act(loop, lambda: window.tabs.setCurrentWidget(rules))
    pump_until(loop, lambda: len(rules.lines) == len(RuleKind) and not rules.reading)
    offer = rules.lines[RuleKind.MAINTENANCE_OFFER]
    assert offer.days.text() == "= 90 days"
    assert offer.means.text() == "hours after the repair was completed"
    assert rules.lines[RuleKind.NO_SHOW].days.text() == ""
    assert rules.lines[RuleKind.MISSED_CALL].days.text() == "at once"
    assert not rules.lines[RuleKind.CANCELLATION].sends_message.isEnabled()  # no message
    assert rules.lines[RuleKind.REVIEW_REQUEST].sends_message.isEnabled()
    assert not rules.save_button.isEnabled()

    cancellation = rules.lines[RuleKind.CANCELLATION]
    act(loop, lambda: cancellation.wait.setValue(36))
    assert cancellation.days.text() == "= 1 day 12 h"
    assert rules.is_dirty() and rules.save_button.isEnabled()
    act(loop, rules.save)
    pump_until(loop, lambda: not rules.saving and window.tasks.idle())
    assert not rules.error.isVisible() and rules.done.isVisible()
    assert sql(db_url, "SELECT wait_hours FROM follow_up_rules WHERE kind = 'cancellation'") == [
        (36,)
    ]
    assert not rules.is_dirty()

    # A missed call is always followed up by a task: refused, and the change stays.
    missed = rules.lines[RuleKind.MISSED_CALL]
    act(loop, lambda: missed.makes_task.setChecked(False))
    act(loop, rules.save)
    pump_until(loop, lambda: not rules.saving and window.tasks.idle())
    assert rules.error.isVisible()
    assert rules.error.text() == (
        "Call back a missed caller: A missed call is followed up by a callback task."
    )
    assert not missed.makes_task.isChecked() and rules.is_dirty()
    assert window.grab().save(str(tmp_path / "rules_refused.png"))
    assert sql(db_url, "SELECT makes_task FROM follow_up_rules WHERE kind = 'missed_call'") == [
        (True,)
    ]

    # Closing with the change unsaved asks first.
    act(loop, window.close)
    assert window.isVisible() and window.close_question is not None
    act(loop, lambda: discard(window.close_question))
    pump_until(loop, lambda: not window.isVisible())


def test_a_rule_a_colleague_saved_meanwhile_is_read_again(
    loop,
    db_url,
    company,
    open_window,
) -> None:
    _workspace, window = open_window(db_url)
    rules = window.rules
    act(loop, lambda: window.tabs.setCurrentWidget(rules))
    pump_until(loop, lambda: len(rules.lines) == len(RuleKind) and not rules.reading)
    no_show = rules.lines[RuleKind.NO_SHOW]
    act(loop, lambda: no_show.wait.setValue(5))
    # A colleague's save: a line being edited keeps what was typed...
    sql(db_url, "UPDATE follow_up_rules SET wait_hours = 3 WHERE kind = 'no_show'")
    sql(db_url, "UPDATE follow_up_rules SET wait_hours = 72 WHERE kind = 'stale_work_order'")
    stale = rules.lines[RuleKind.STALE_WORK_ORDER]
    pump_until(loop, lambda: stale.wait.value() == 72)  # ...the others follow at once
    assert no_show.wait.value() == 5
    act(loop, rules.save)
    pump_until(loop, lambda: not rules.saving and window.tasks.idle())
    assert "was changed by someone else" in rules.error.text()
    assert no_show.wait.value() == 3 and not rules.is_dirty()


def test_the_window_as_pictures(loop, db_url, company, open_window, tmp_path) -> None:
    made = rules_made_tasks(loop, db_url, company)
    add_task(db_url, "Call back Priya Raman", NOW - dt.timedelta(hours=3))
    snoozed = add_task(
        db_url, "Renew the Comfort Club agreement of Dana Whitfield", NOW, "agreement_renewal"
    )
    sql(
        db_url,
        "UPDATE follow_ups SET state = 'snoozed', reason = 'On vacation', due_at = %s, "
        "assigned_to = 'maria.g' WHERE id = %s",
        NOW + dt.timedelta(days=2),
        snoozed,
    )
    _workspace, window = open_window(db_url)
    pump_until(loop, lambda: len(listed(window)) == 4)
    choose(loop, window, made["cancelled"])
    act(loop, lambda: window.resize(1360, 560))
    QApplication.processEvents()
    assert window.grab().save(str(tmp_path / "follow_ups.png"))
    act(loop, window.task_list.snooze_action.trigger)
    snooze = window.task_list.question
    act(loop, lambda: snooze.reason.setText("Customer away until Monday"))
    assert snooze.grab().save(str(tmp_path / "snooze.png"))
    act(loop, snooze.reject)
    act(loop, lambda: window.tabs.setCurrentWidget(window.rules))
    pump_until(loop, lambda: len(window.rules.lines) == len(RuleKind))
    QApplication.processEvents()
    assert window.grab().save(str(tmp_path / "follow_up_rules.png"))
    assert days_hint(24) == "= 1 day" and days_hint(8760) == "= 365 days"


def test_file_follow_ups_opens_the_window_and_its_work_order_opens_in_the_editor(
    loop, db_url, company, start, tmp_path, settings_dir
) -> None:
    from tests.qt_app import options_for, wait_for

    made = rules_made_tasks(loop, db_url, company)
    app, task = start(options_for(db_url, tmp_path, clock=FixedClock(NOW)))
    wait_for(loop, app.live, task)
    assert app.window.follow_ups_action in app.window.file_menu.actions()
    act(loop, app.window.follow_ups_action.trigger)
    window = app.follow_ups
    assert window is not None
    pump_until(loop, lambda: made["cancelled"] in listed(window))
    choose(loop, window, made["cancelled"])
    act(loop, window.task_list.open_action.trigger)
    pump_until(loop, lambda: made["cancelled_order"] in app.editors)
    # Asked again, the one window comes to the front.
    act(loop, app.window.follow_ups_action.trigger)
    assert app.follow_ups is window
