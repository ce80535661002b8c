"""The People window: an admin adds people, changes their role, takes their login away or
gives it back, and sets a new password — the same as ``python main.py admin``, through
the database's own people functions (which refuse anyone but an admin anyway).

Passwords are typed twice, never shown, and leave this window only as the verifier the
service makes of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.roles import GROUPS, Role
from dispatch_app.errors import UserFacingError
from dispatch_app.services import people
from dispatch_app.services.leads.token import lead_token_is_set, new_token, set_lead_token
from dispatch_app.services.people import Person
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui.forms import DONE_STYLE, error_label, muted, section_title, show_error
from dispatch_app.ui.tasks import WindowTasks

# What each role is for, in the words the admin chooses by.
ROLE_HELP = {
    Role.VIEWER: "Viewer — reads the board (wall displays)",
    Role.CSR: "CSR — takes calls and books work",
    Role.DISPATCHER: "Dispatcher — also schedules, assigns and moves work along",
    Role.MANAGER: "Manager — also the price book, job types and reports",
    Role.ADMIN: "Admin — also people and company settings",
    Role.WORKER: "Worker — the background worker's login",
}


class PersonDialog(QDialog):
    """Add a person (name, role, password), change a role, or set a new password."""

    def __init__(self, mode: str, *, login: str = "", role: Role | None = None, parent=None):
        super().__init__(parent)
        self.mode = mode  # "add", "role" or "password"
        self.setObjectName(f"person-{mode}")
        titles = {"add": "Add a person", "role": "Change role", "password": "New password"}
        self.setWindowTitle(self.tr(titles[mode]))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.login = QLineEdit(login)
        self.login.setObjectName("personLogin")
        self.login.setReadOnly(mode != "add")
        self.login.setPlaceholderText(self.tr("e.g. jsmith"))
        form.addRow(self.tr("&User name"), self.login)
        self.role = QComboBox()
        self.role.setObjectName("personRole")
        for group in GROUPS:
            self.role.addItem(self.tr(ROLE_HELP[group]), group.value)
        if role is not None:
            self.role.setCurrentIndex(self.role.findData(role.value))
        else:
            self.role.setCurrentIndex(self.role.findData(Role.CSR.value))
        if mode in ("add", "role"):
            form.addRow(self.tr("&Role"), self.role)
        self.password = QLineEdit()
        self.password.setObjectName("personPassword")
        self.again = QLineEdit()
        self.again.setObjectName("personPasswordAgain")
        for field in (self.password, self.again):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setMaxLength(people.MAX_PASSWORD_LENGTH)
        if mode in ("add", "password"):
            form.addRow(self.tr("&Password"), self.password)
            form.addRow(self.tr("Password &again"), self.again)
        layout.addLayout(form)
        self.problem = error_label("personProblem")
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept_if_good)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen_role(self) -> Role:
        return Role(self.role.currentData())

    def _accept_if_good(self) -> None:
        """The checks that need no server: a name that can be one, passwords that agree."""
        try:
            if self.mode == "add":
                people.check_login_name(self.login.text())
            if self.mode in ("add", "password"):
                if self.password.text() != self.again.text():
                    raise UserFacingError(self.tr("The two passwords differ."))
                people.check_password(self.password.text())
        except UserFacingError as problem:
            show_error(self.problem, str(problem))
            return
        self.accept()


class PeopleWindow(QWidget):
    changed = Signal()  # the list was read again (tests wait for it)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("peopleWindow")
        self.workspace = workspace
        self.tasks = WindowTasks("people window")
        self.people: list[Person] = []
        self.dialog: PersonDialog | None = None
        self.dialog_box: QMessageBox | None = None
        self.setWindowTitle(self.tr("People — {0}").format(workspace.label))
        layout = QVBoxLayout(self)
        layout.addWidget(section_title(self.tr("People who may sign in")))
        layout.addWidget(
            muted(
                self.tr(
                    "Each person signs in with their own user name and password; their role "
                    "decides what the database lets them do."
                )
            )
        )
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("peopleTable")
        self.table.setHorizontalHeaderLabels(
            [self.tr("User name"), self.tr("Role"), self.tr("Sign-in")]
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        self.add_button = QPushButton(self.tr("&Add a person…"))
        self.role_button = QPushButton(self.tr("Change &role…"))
        self.login_button = QPushButton(self.tr("&Disable"))
        self.password_button = QPushButton(self.tr("New &password…"))
        for button, name in (
            (self.add_button, "addPerson"),
            (self.role_button, "changeRole"),
            (self.login_button, "toggleLogin"),
            (self.password_button, "newPassword"),
        ):
            button.setObjectName(name)
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self.problem = error_label("peopleProblem")
        layout.addWidget(self.problem)
        self.done = QLabel()
        self.done.setObjectName("peopleDone")
        self.done.setStyleSheet(DONE_STYLE)
        self.done.hide()
        layout.addWidget(self.done)
        # The lead endpoint's token: an admin's setting, like the people.
        layout.addWidget(section_title(self.tr("Web leads")))
        self.token_state = muted()
        self.token_state.setObjectName("leadTokenState")
        self.token_button = QPushButton(self.tr("New lead &token…"))
        self.token_button.setObjectName("newLeadToken")
        self.token_shown = QLineEdit()
        self.token_shown.setObjectName("leadToken")
        self.token_shown.setReadOnly(True)
        self.token_shown.hide()
        token_row = QHBoxLayout()
        token_row.addWidget(self.token_state, 1)
        token_row.addWidget(self.token_button)
        layout.addLayout(token_row)
        layout.addWidget(self.token_shown)
        self.token_button.clicked.connect(self._ask_new_token)
        self.add_button.clicked.connect(lambda: self._ask("add"))
        self.role_button.clicked.connect(lambda: self._ask("role"))
        self.password_button.clicked.connect(lambda: self._ask("password"))
        self.login_button.clicked.connect(self._toggle_login)
        self._update_buttons()
        self.resize(640, 520)
        self.reload()
        self.tasks.spawn(self._read_token_state())

    # -- the list ---------------------------------------------------------------------
    def reload(self) -> None:
        async def read() -> None:
            try:
                found = await self.workspace.run(people.manage, people.people)
            except UserFacingError as error:
                show_error(self.problem, str(error))
                return
            self._show(found)

        self.tasks.spawn(read())

    def _show(self, found: list[Person]) -> None:
        chosen = self.selected()
        self.people = found
        self.table.setRowCount(len(found))
        for index, person in enumerate(found):
            state = self.tr("Allowed") if person.can_log_in else self.tr("Disabled")
            for column, value in enumerate((person.login, person.role.label, state)):
                self.table.setItem(index, column, QTableWidgetItem(value))
            if chosen is not None and person.login == chosen.login:
                self.table.selectRow(index)
        self._update_buttons()
        self.changed.emit()

    def selected(self) -> Person | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.people):
            return None
        return self.people[rows[0].row()]

    def _update_buttons(self) -> None:
        person = self.selected()
        for button in (self.role_button, self.login_button, self.password_button):
            button.setEnabled(person is not None)
        if person is not None:
            self.login_button.setText(
                self.tr("&Disable") if person.can_log_in else self.tr("&Enable")
            )

    # -- changes ----------------------------------------------------------------------
    def _ask(self, mode: str) -> None:
        person = self.selected()
        if mode != "add" and person is None:
            return
        dialog = PersonDialog(
            mode,
            login=person.login if person and mode != "add" else "",
            role=person.role if person and mode != "add" else None,
            parent=self,
        )
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._dialog_done(dialog))
        dialog.open()

    def _dialog_done(self, dialog: PersonDialog) -> None:
        login, role, password = dialog.login.text(), dialog.chosen_role(), dialog.password.text()
        dialog.password.clear()
        dialog.again.clear()
        if dialog.mode == "add":
            self._change(
                people.add_user,
                (login, role, password),
                lambda p: self.tr("{0} may now sign in as {1}.").format(p.login, p.role.label),
            )
        elif dialog.mode == "role":
            self._change(
                people.set_role,
                (login, role),
                lambda p: self.tr("{0} is now {1}.").format(p.login, p.role.label),
            )
        else:
            self._change(
                people.reset_password,
                (login, password),
                lambda _none: self.tr("{0} has a new password.").format(login),
            )

    def _toggle_login(self) -> None:
        person = self.selected()
        if person is None:
            return
        if person.can_log_in:
            self._change(
                people.disable_user,
                (person.login,),
                lambda ended: self.tr("{0} can no longer sign in{1}.").format(
                    person.login,
                    self.tr("; {0} open session(s) were ended").format(ended) if ended else "",
                ),
            )
        else:
            self._change(
                people.enable_user,
                (person.login,),
                lambda p: self.tr("{0} may sign in again as {1}.").format(p.login, p.role.label),
            )

    def _change(self, work: Callable[..., Any], args: tuple[Any, ...], said: Callable) -> None:
        show_error(self.problem, None)
        self.done.hide()

        async def write() -> None:
            try:
                result = await self.workspace.run(people.manage, work, *args)
            except UserFacingError as error:
                show_error(self.problem, str(error))
                return
            self.done.setText(said(result))
            self.done.show()
            self.reload()

        self.tasks.spawn(write())

    # -- the lead endpoint's token ----------------------------------------------------
    async def _read_token_state(self) -> None:
        try:
            is_set = await self.workspace.read(lead_token_is_set)
        except UserFacingError as error:
            show_error(self.problem, str(error))
            return
        self.token_state.setText(
            self.tr("Web forms and answering services post leads with the lead token. One is set.")
            if is_set
            else self.tr(
                "No lead token yet: the lead endpoint refuses every post until one is set."
            )
        )

    def _ask_new_token(self) -> None:
        sure = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("New lead token"),
            self.tr("Make a new lead token? Web forms using the old one stop working."),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        sure.setObjectName("confirmNewLeadToken")
        make = sure.addButton(self.tr("Make a new token"), QMessageBox.ButtonRole.AcceptRole)
        sure.finished.connect(
            lambda _result: (
                self.tasks.spawn(self._new_token()) if sure.clickedButton() is make else None
            )
        )
        self.dialog_box = sure
        sure.open()

    async def _new_token(self) -> None:
        show_error(self.problem, None)
        token = new_token()
        try:
            await self.workspace.run(set_lead_token, token)
        except UserFacingError as error:
            show_error(self.problem, str(error))
            return
        # Shown this once: only its hash is kept.
        self.token_shown.setText(token)
        self.token_shown.show()
        self.token_shown.selectAll()
        self.done.setText(
            self.tr(
                "The new lead token is above: copy it into the web form now; it is not shown again."
            )
        )
        self.done.show()
        await self._read_token_state()

    async def aclose(self) -> None:
        await self.tasks.aclose()
