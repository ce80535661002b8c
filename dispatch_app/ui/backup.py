"""File → Back up… and Restore…: the company database saved to a file, or replaced by one.

The user picks the file; PostgreSQL's tools do the work in a worker thread; the status
bar says where the backup went or what the restore brought back. A restore asks first,
naming what it replaces, and only the embedded database is restored from here: a shared
one belongs to every workstation, and its administrator restores it with
``python main.py db restore``.

Threading contract: GUI thread only; the blocking work runs in ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from dispatch_app.domain.clock import Clock
from dispatch_app.errors import UserFacingError
from dispatch_app.services.backup import (
    CompanyContents,
    DumpFile,
    back_up,
    backup_sentence,
    backups_folder,
    company_contents,
    new_backup_path,
    open_backup,
    restore_backup,
)
from dispatch_app.ui.tasks import WindowTasks

log = logging.getLogger(__name__)

FILE_FILTER = "Backups (*.dump);;All files (*)"


@dataclass(frozen=True, slots=True)
class BackupTarget:
    """The database File → Back up… saves, and what a restore must do around itself."""

    url: str
    embedded: bool
    data_dir: Path
    clock: Clock
    # Before a restore: close what holds the old data (editors, the call window).
    pause: Callable[[], Awaitable[None]]
    # After a restore, whether or not it worked: read everything again.
    resume: Callable[[], Awaitable[None]]


class BackupActions(QObject):
    done = Signal(str)  # a sentence for the status bar: where the backup went, what came back
    failed = Signal(str)  # a sentence: why a backup or restore did not happen

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.target: BackupTarget | None = None
        self.tasks = WindowTasks("backup")
        self.backup_action = QAction(self.tr("&Back up…"), self)
        self.backup_action.setObjectName("backUp")
        self.backup_action.setStatusTip(self.tr("Save the whole database to a file"))
        self.backup_action.triggered.connect(self.choose_backup_file)
        self.restore_action = QAction(self.tr("&Restore…"), self)
        self.restore_action.setObjectName("restore")
        self.restore_action.setStatusTip(self.tr("Replace the database with a backup (asks first)"))
        self.restore_action.triggered.connect(self.choose_restore_file)
        self.dialog: QFileDialog | None = None
        self.confirmation: QMessageBox | None = None
        self.running: str | None = None  # "backup" or "restore" while one runs
        self.allowed = True  # the person's role may back up (the single-PC owner)
        self._update_actions()

    def bind(self, target: BackupTarget) -> None:
        self.target = target
        if not target.embedded:
            self.restore_action.setStatusTip(
                self.tr(
                    "A shared database is restored by its administrator: python main.py db restore"
                )
            )
        self._update_actions()

    def bind_role(self) -> None:
        """The role changed what may be done (``allowed``)."""
        self._update_actions()

    def _update_actions(self) -> None:
        ready = (
            self.allowed
            and self.target is not None
            and self.running is None
            and not self.tasks.closed
        )
        self.backup_action.setEnabled(ready)
        self.restore_action.setEnabled(ready and self.target is not None and self.target.embedded)

    def _folder(self) -> Path:
        assert self.target is not None
        try:
            return backups_folder(self.target.data_dir)
        except UserFacingError:
            return Path.home()

    # -- backing up ---------------------------------------------------------------------
    def choose_backup_file(self) -> QFileDialog | None:
        if self.target is None or self.running is not None:
            return None
        folder = self._folder()
        moment = self.target.clock.now().astimezone()
        dialog = QFileDialog(self.window, self.tr("Back up the database"))
        dialog.setObjectName("backupDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(self.tr(FILE_FILTER))
        dialog.setDefaultSuffix("dump")
        dialog.setDirectory(str(folder))
        dialog.selectFile(new_backup_path(folder, moment).name)
        dialog.fileSelected.connect(lambda path: self.back_up_to(Path(path)))
        dialog.open()  # not exec(): the event loop, and the live board, keep running
        self.dialog = dialog
        return dialog

    def back_up_to(self, path: Path) -> None:
        self.tasks.spawn(self._back_up(path))

    async def _back_up(self, path: Path) -> None:
        target = self.target
        assert target is not None
        self._start("backup", self.tr("Backing up the database to {0}…").format(path))
        try:
            dump = await asyncio.to_thread(back_up, target.url, path)
        except UserFacingError as error:
            self._fail(self.tr("The backup was not made: {0}").format(error))
        else:
            self.done.emit(backup_sentence(target.url, dump, embedded=target.embedded))
        finally:
            self._finish()

    # -- restoring ----------------------------------------------------------------------
    def choose_restore_file(self) -> QFileDialog | None:
        if self.target is None or not self.target.embedded or self.running is not None:
            return None
        dialog = QFileDialog(self.window, self.tr("Restore the database from a backup"))
        dialog.setObjectName("restoreDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter(self.tr(FILE_FILTER))
        dialog.setDirectory(str(self._folder()))
        dialog.fileSelected.connect(lambda path: self.restore_from(Path(path)))
        dialog.open()
        self.dialog = dialog
        return dialog

    def restore_from(self, path: Path) -> None:
        """Read the backup and what the database holds, then ask before replacing it."""
        self.tasks.spawn(self._ask_to_restore(path))

    async def _ask_to_restore(self, path: Path) -> None:
        target = self.target
        assert target is not None
        self._start("restore", self.tr("Reading {0}…").format(path.name))
        try:
            dump = await asyncio.to_thread(open_backup, path)
            contents = await asyncio.to_thread(company_contents, target.url)
        except UserFacingError as error:
            self._fail(self.tr("Nothing was restored: {0}").format(error))
            return
        finally:
            self._finish()
        self.window.statusBar().clearMessage()
        self.confirmation = self._confirm(dump, contents)

    def _confirm(self, dump: DumpFile, contents: CompanyContents) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Restore a backup"),
            self.tr("Replace everything in the embedded database with the backup {0}?").format(
                dump.path.name
            ),
            parent=self.window,
        )
        box.setObjectName("restoreConfirm")
        if contents.empty:
            now = self.tr("The database holds no company data yet.")
        else:
            now = self.tr(
                "The database now holds {0}. All of it, and everything changed since the "
                "backup was made, is replaced by what the backup holds. A copy of it is "
                "saved first in {1}."
            ).format(contents.describe(), self._folder())
        box.setInformativeText(
            self.tr("The backup was made {0}.").format(dump.created)
            + "\n\n"
            + now
            + "\n\n"
            + self.tr(
                "Open work orders and the call window close; the board reads everything again."
            )
        )
        replace = box.addButton(
            self.tr("Replace with the backup"), QMessageBox.ButtonRole.DestructiveRole
        )
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(
            lambda _result: (
                self.tasks.spawn(self._restore(dump)) if box.clickedButton() is replace else None
            )
        )
        box.open()
        return box

    async def _restore(self, dump: DumpFile) -> None:
        target = self.target
        assert target is not None
        self._start("restore", self.tr("Restoring {0}…").format(dump.path.name))
        try:
            await target.pause()
            report = await asyncio.to_thread(
                restore_backup,
                target.url,
                dump,
                replace=True,
                embedded=target.embedded,
                safety_folder=self._folder(),
                moment=target.clock.now().astimezone(),
            )
        except UserFacingError as error:
            self._fail(self.tr("Nothing was restored: {0}").format(error))
        else:
            self.done.emit(report.sentence())
        finally:
            try:
                await target.resume()
            finally:
                self._finish()

    # -- state --------------------------------------------------------------------------
    def _start(self, what: str, message: str) -> None:
        self.running = what
        self._update_actions()
        self.window.statusBar().showMessage(message)

    def _finish(self) -> None:
        self.running = None
        self._update_actions()

    def _fail(self, sentence: str) -> None:
        log.warning("%s", sentence)
        self.failed.emit(sentence)
        box = QMessageBox(
            QMessageBox.Icon.Warning, self.window.windowTitle(), sentence, parent=self.window
        )
        box.setObjectName("backupProblem")
        box.open()

    def idle(self) -> bool:
        return self.running is None and self.tasks.idle()

    async def aclose(self) -> None:
        await self.tasks.aclose()
        self._update_actions()
