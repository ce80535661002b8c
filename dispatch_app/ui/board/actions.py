"""What the board's gestures do: check the rules, ask once, write, and undo.

Every change the board makes (move, resize, reassign, schedule from the queue,
unassign, status) is a ``BoardCommand`` on one ``QUndoStack``. A command's redo and
undo go through the same operations in ``services/visits.py`` as everything else, with
the version the command last saw, so undoing something a colleague has since changed
is refused with their name rather than overwriting their work.

Threading contract: runs on the GUI thread; database work runs as tasks on the qasync
loop and touches widgets only after it returns.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from PySide6.QtCore import QObject, QPoint, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu, QMessageBox, QWidget

from dispatch_app.domain.dispatch_rules import Severity
from dispatch_app.domain.roles import Action, Role, may, refusal
from dispatch_app.domain.visit_status import (
    LABELS,
    REASON_REQUIRED,
    STEP_BACK_LABELS,
    finished_problem,
    next_statuses,
    way_back,
)
from dispatch_app.errors import DatabaseUnreachable, UserFacingError
from dispatch_app.services.day_board import VisitBlock
from dispatch_app.services.day_store import DayStore
from dispatch_app.services.visits import (
    VisitMove,
    move_visits,
    set_visit_status,
    unschedule_visits,
)
from dispatch_app.services.workspace import ChangeReport, Workspace
from dispatch_app.ui.board.day_view import DayBoardView
from dispatch_app.ui.board.planner import Verdict

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Placing:
    """Where one visit is: its times and crew (no crew: in the queue; no times: unscheduled)."""

    visit_id: int
    label: str
    starts: dt.datetime | None
    ends: dt.datetime | None
    technician_ids: tuple[int, ...]

    @staticmethod
    def of(visit: VisitBlock) -> Placing:
        return Placing(visit.id, visit.number, visit.starts, visit.ends, visit.technician_ids)


class BoardCommand(QUndoCommand):
    """One board change; ``redo``/``undo`` ask the actions to write the after/before."""

    def __init__(self, actions: BoardActions, text: str) -> None:
        super().__init__(text)
        self.actions = actions
        self.versions: dict[int, int] = {}  # what this command last wrote, per visit
        self.done_once = False

    async def forward(self) -> dict[int, int]:
        raise NotImplementedError

    async def backward(self) -> dict[int, int]:
        raise NotImplementedError

    def redo(self) -> None:
        if not self.done_once:  # pushed after it was written: nothing to do now
            self.done_once = True
            return
        if not self.actions.silent:
            self.actions.replay(self, forward=True)

    def undo(self) -> None:
        if not self.actions.silent:
            self.actions.replay(self, forward=False)


class PlacingCommand(BoardCommand):
    def __init__(
        self,
        actions: BoardActions,
        text: str,
        before: Sequence[Placing],
        after: Sequence[Placing],
        seen: dict[int, int],
    ) -> None:
        super().__init__(actions, text)
        self.before, self.after = list(before), list(after)
        self.versions = dict(seen)

    async def forward(self) -> dict[int, int]:
        return await self.actions.place(self.after, self.versions, believed=self.before)

    async def backward(self) -> dict[int, int]:
        return await self.actions.place(self.before, self.versions, believed=self.after)


class StatusCommand(BoardCommand):
    def __init__(
        self,
        actions: BoardActions,
        visit: VisitBlock,
        status: str,
        reason: str | None,
    ) -> None:
        super().__init__(actions, f"{visit.number}: {LABELS.get(status, status)}")
        self.visit_id, self.before, self.after, self.reason = visit.id, visit.status, status, reason
        self.versions = {visit.id: visit.version}

    async def forward(self) -> dict[int, int]:
        return await self._set(self.after, self.reason)

    async def backward(self) -> dict[int, int]:
        steps = way_back(self.after, self.before)
        if steps is None:
            raise UserFacingError(
                f"{self.text()} cannot be undone: a visit cannot go from "
                f"{LABELS.get(self.after, self.after).lower()} back to "
                f"{LABELS.get(self.before, self.before).lower()}."
            )
        written: dict[int, int] = {}
        for status in steps:  # one stage at a time, as the state machine allows
            written = await self._set(status, None)
            self.versions.update(written)
        return written

    async def _set(self, status: str, reason: str | None) -> dict[int, int]:
        assert self.actions.workspace is not None
        version = await self.actions.workspace.run(
            set_visit_status,
            visit_id=self.visit_id,
            seen_version=self.versions[self.visit_id],
            status=status,
            reason=reason,
        )
        return {self.visit_id: version}


class BoardActions(QObject):
    problem = Signal(str)  # one sentence for the status bar: refused, failed, conflict
    done = Signal(str)  # what was just written, in words
    busyChanged = Signal(bool)

    def __init__(self, view: DayBoardView, parent: QWidget) -> None:
        super().__init__(parent)
        self.view = view
        self.parent_widget = parent
        self.stack = QUndoStack(self)
        self.workspace: Workspace | None = None
        self.role = Role.OWNER  # what the signed-in person may do (the database decides)
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy = False
        self.silent = False  # stepping the stack back after a failed write: no writing
        self.question: QMessageBox | None = None  # the soft-rule question on screen
        self.menu: QMenu | None = None  # the status menu on screen
        self.reason_dialog: QInputDialog | None = None

        self.undo_action = QAction(self.tr("&Undo"), self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(self.undo)
        self.redo_action = QAction(self.tr("&Redo"), self)
        self.redo_action.setShortcuts(
            [QKeySequence(QKeySequence.StandardKey.Redo), QKeySequence("Ctrl+Shift+Z")]
        )
        self.redo_action.triggered.connect(self.redo)
        for signal in (self.stack.canUndoChanged, self.stack.canRedoChanged, self.busyChanged):
            signal.connect(self._update_actions)
        self.stack.undoTextChanged.connect(self._update_actions)
        self.stack.redoTextChanged.connect(self._update_actions)
        self._update_actions()

        view.movesRequested.connect(self.request_moves)
        view.unassignRequested.connect(self.unassign)
        view.contextMenuRequested.connect(self.show_menu)

    def bind(self, workspace: Workspace) -> None:
        self.workspace = workspace

    @property
    def store(self) -> DayStore | None:
        return self.workspace.store if self.workspace is not None else None

    @property
    def busy(self) -> bool:
        return self._busy

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

    def _update_actions(self, *_args: object) -> None:
        self.undo_action.setEnabled(self.stack.canUndo() and not self._busy)
        self.redo_action.setEnabled(self.stack.canRedo() and not self._busy)
        undo, redo = self.stack.undoText(), self.stack.redoText()
        self.undo_action.setText(self.tr("&Undo {0}").format(undo) if undo else self.tr("&Undo"))
        self.redo_action.setText(self.tr("&Redo {0}").format(redo) if redo else self.tr("&Redo"))

    def undo(self) -> None:
        if self.stack.canUndo() and not self._busy:
            self.stack.undo()

    def redo(self) -> None:
        if self.stack.canRedo() and not self._busy:
            self.stack.redo()

    # -- gestures -----------------------------------------------------------------------
    def _refused(self, action: Action) -> bool:
        """Says the refusal when the person's role may not do ``action``."""
        if may(self.role, action):
            return False
        self.problem.emit(refusal(self.role, action))
        return True

    def request_moves(self, verdict: Verdict) -> None:
        """A drop, resize or arrow key: refuse with the reason, ask once, or write."""
        if self._refused(Action.SCHEDULE):
            return
        if self._busy or self.workspace is None:
            self.problem.emit(self.tr("Still saving the last change — try again in a moment."))
            return
        if verdict.level == "refuse":
            reasons = verdict.problem or "\n".join(
                f.message for f in verdict.findings if f.severity == Severity.REFUSE
            )
            self.problem.emit(self.tr("Not moved: {0}").format(reasons.replace("\n", " ")))
            return
        if verdict.findings:
            self._ask(verdict)
            return
        self._write_moves(verdict)

    def _ask(self, verdict: Verdict) -> None:
        """Soft rules: one question listing every concern, answered once for the drop."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Book anyway?"),
            self.tr("This booking needs a second look:"),
            QMessageBox.StandardButton.NoButton,
            self.parent_widget,
        )
        box.setObjectName("softRuleQuestion")
        box.setInformativeText(
            "\n".join(f"• {f.message}" for f in (*verdict.findings, *verdict.notes))
        )
        book = box.addButton(self.tr("Book anyway"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(book)

        def answered(_result: int) -> None:
            self.question = None
            if box.clickedButton() is book:
                self._write_moves(verdict)
            else:
                self.problem.emit(self.tr("Not moved."))
            box.deleteLater()

        box.finished.connect(answered)
        self.question = box
        box.open()

    def _write_moves(self, verdict: Verdict) -> None:
        store = self.store
        assert store is not None
        before, after, seen = [], [], {}
        saw = {v.id: v for v in verdict.seen}
        for move in verdict.moves:
            held = saw.get(move.visit_id) or store.visit(move.visit_id)
            if held is not None:
                before.append(Placing.of(held))
            else:
                job = next((j for j in store.unassigned() if j.visit_id == move.visit_id), None)
                before.append(
                    Placing(
                        move.visit_id,
                        move.label,
                        job.starts if job else None,
                        (job.starts + dt.timedelta(minutes=job.duration_min))
                        if job and job.starts
                        else None,
                        (),
                    )
                )
            after.append(
                Placing(move.visit_id, move.label, move.starts, move.ends, move.technician_ids)
            )
            seen[move.visit_id] = move.seen_version
        command = PlacingCommand(self, self._describe(before, after), before, after, seen)
        self._run_first(command)

    def unassign(self, visits: list[VisitBlock]) -> None:
        if not visits or self.workspace is None or self._refused(Action.SCHEDULE):
            return
        if self._busy:
            self.problem.emit(self.tr("Still saving the last change — try again in a moment."))
            return
        # Finished work stays where it happened (the operation and the database say so
        # too; this only spares a round trip).
        for visit in visits:
            problem = finished_problem(visit.number, visit.status, None, "unassigning")
            if problem:
                self.problem.emit(problem)
                return
        before = [Placing.of(v) for v in visits]
        after = [dataclasses.replace(p, technician_ids=()) for p in before]
        names = ", ".join(v.number for v in visits)
        command = PlacingCommand(
            self,
            self.tr("Unassign {0}").format(names),
            before,
            after,
            {v.id: v.version for v in visits},
        )
        self._run_first(command)

    def set_status(self, visit: VisitBlock, status: str, reason: str | None = None) -> None:
        if self._refused(Action.CHANGE_STATUS):
            return
        if self._busy or self.workspace is None:
            self.problem.emit(self.tr("Still saving the last change — try again in a moment."))
            return
        self._run_first(StatusCommand(self, visit, status, reason))

    def show_menu(self, visit: VisitBlock, where: QPoint) -> QMenu:
        """Status changes that make sense from here, then open and unassign."""
        menu = QMenu(self.parent_widget)
        menu.setObjectName("visitMenu")
        for status in next_statuses(visit.status):
            label = STEP_BACK_LABELS.get((visit.status, status)) or LABELS.get(status, status)
            action = menu.addAction(label + ("…" if status in REASON_REQUIRED else ""))
            action.setData(status)
            # Shown, not offered: the person sees where the visit could go next.
            action.setEnabled(may(self.role, Action.CHANGE_STATUS))
            action.triggered.connect(lambda _checked=False, s=status: self._status_chosen(visit, s))
        menu.addSeparator()
        open_action = menu.addAction(self.tr("Open work order"))
        open_action.triggered.connect(
            lambda: self.view.workOrderRequested.emit(visit.work_order_id)
        )
        unassign = menu.addAction(self.tr("Unassign"))
        unassign.setEnabled(may(self.role, Action.SCHEDULE))
        unassign.triggered.connect(lambda: self.unassign(self.view.selected_visits() or [visit]))
        self.menu = menu
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(where)
        return menu

    def _status_chosen(self, visit: VisitBlock, status: str) -> None:
        if status not in REASON_REQUIRED:
            self.set_status(visit, status)
            return
        dialog = QInputDialog(self.parent_widget)
        dialog.setObjectName("reasonDialog")
        dialog.setWindowTitle(LABELS.get(status, status))
        dialog.setLabelText(
            self.tr("Why is {0} {1}?").format(visit.number, LABELS.get(status, status).lower())
        )
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)

        def answered(result: int) -> None:
            self.reason_dialog = None
            if result == QInputDialog.DialogCode.Accepted:
                self.set_status(visit, status, dialog.textValue())
            dialog.deleteLater()

        dialog.finished.connect(answered)
        self.reason_dialog = dialog
        dialog.open()

    # -- writing ------------------------------------------------------------------------
    def _run_first(self, command: BoardCommand) -> None:
        """Write the command; only a change that was written goes on the undo stack."""

        async def run() -> None:
            if await self._execute(command, forward=True):
                self.stack.push(command)  # redo() is skipped: it is written already
                self.done.emit(command.text())

        self._spawn(run())

    def replay(self, command: BoardCommand, *, forward: bool) -> None:
        """Undo or redo from the stack; if it cannot be written, the stack steps back."""

        async def run() -> None:
            if await self._execute(command, forward=forward):
                return
            # Put the stack back where it was without writing anything.
            self.silent = True
            try:
                step = -1 if forward else 1
                self.stack.setIndex(self.stack.index() + step)
            finally:
                self.silent = False

        self._spawn(run())

    async def _execute(self, command: BoardCommand, *, forward: bool) -> bool:
        self.view.set_saving(frozenset(command.versions))
        try:
            return await self._write(command, forward=forward)
        finally:
            # Only now: the blocks are drawn where the database put them, without a flicker.
            self.view.set_saving(frozenset())

    async def _write(self, command: BoardCommand, *, forward: bool) -> bool:
        self._set_busy(True)
        try:
            versions = await (command.forward() if forward else command.backward())
        except DatabaseUnreachable as error:
            log.warning("could not write a board change: %s", error)
            self.problem.emit(
                self.tr("Not saved: the database did not answer. Nothing was changed.")
            )
            return False
        except UserFacingError as error:
            verb = (
                ""
                if not command.done_once
                else self.tr("Could not redo: ")
                if forward
                else self.tr("Could not undo: ")
            )
            self.problem.emit(verb + str(error))
            return False
        except Exception:
            log.exception("a board change failed")
            self.problem.emit(self.tr("Not saved: something went wrong; nothing was changed."))
            return False
        finally:
            self._set_busy(False)
        command.versions.update(versions)
        await self._show_now(versions)
        return True

    async def _show_now(self, versions: dict[int, int]) -> None:
        """Show what was just written without waiting for its notification."""
        if self.workspace is not None:
            await self.workspace.report(ChangeReport("visits", versions))

    async def place(
        self,
        placings: Sequence[Placing],
        versions: dict[int, int],
        *,
        believed: Sequence[Placing] = (),
    ) -> dict[int, int]:
        """Put each visit where ``placings`` say (in one transaction per kind).

        ``believed`` is where the command thinks the visits are now; a conflict message
        compares it with what the database holds to say what the other person did.
        """
        workspace = self.workspace
        assert workspace is not None
        seen = {p.visit_id: self._as_seen(p) for p in believed}
        timed = [
            VisitMove(
                visit_id=p.visit_id,
                seen_version=versions[p.visit_id],
                starts=p.starts,
                ends=p.ends,
                technician_ids=p.technician_ids,
                seen=seen.get(p.visit_id),
            )
            for p in placings
            if p.starts is not None and p.ends is not None
        ]
        untimed = [p for p in placings if p.starts is None or p.ends is None]
        written: dict[int, int] = {}
        if timed:
            written |= await workspace.run(move_visits, moves=timed, clock=self.view.clock)
        if untimed:
            written |= await workspace.run(
                unschedule_visits, seen={p.visit_id: versions[p.visit_id] for p in untimed}
            )
        return written

    def _as_seen(self, placing: Placing) -> VisitBlock | None:
        held = self.store.visit(placing.visit_id) if self.store else None
        if held is None or placing.starts is None or placing.ends is None:
            return None
        return dataclasses.replace(
            held,
            starts=placing.starts,
            ends=placing.ends,
            technician_ids=tuple(sorted(placing.technician_ids)),
        )

    def _describe(self, before: list[Placing], after: list[Placing]) -> str:
        if len(after) > 1:
            return self.tr("Move {0} visits").format(len(after))
        old, new = before[0], after[0]
        names = self._names(new.technician_ids)
        if old.starts is None or not old.technician_ids:
            return self.tr("Schedule {0} for {1}").format(new.label, names)
        if old.technician_ids != new.technician_ids:
            return self.tr("Reassign {0} to {1}").format(new.label, names)
        if new.starts is not None and old.starts is not None and old.ends is not None:
            if new.ends is not None and (new.ends - new.starts) != (old.ends - old.starts):
                return self.tr("Resize {0}").format(new.label)
            return self.tr("Move {0} to {1:%H:%M}").format(new.label, new.starts)
        return self.tr("Change {0}").format(new.label)

    def _names(self, technician_ids: tuple[int, ...]) -> str:
        store = self.store
        names = {t.id: t.name for t in store.technicians} if store else {}
        return ", ".join(names.get(t, "?") for t in technician_ids)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Let writes in flight finish (at shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)
