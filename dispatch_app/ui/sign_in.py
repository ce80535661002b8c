"""The sign-in window for a shared server: user name (remembered), password (remembered
only in the OS keyring, and only when asked), and the server's refusal in one sentence.

It never touches the database: the app tries the credentials and, when the server
refuses them, shows the window again with the reason.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from dispatch_app import APP_NAME
from dispatch_app.services.sign_in import Credentials
from dispatch_app.ui.forms import error_label, muted, show_error


class SignInDialog(QDialog):
    def __init__(
        self,
        server: str,
        *,
        user: str = "",
        problem: str | None = None,
        can_remember: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signIn")
        self.setWindowTitle(self.tr("Sign in — {0}").format(APP_NAME))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Sign in to the company database at {0}.").format(server)))
        form = QFormLayout()
        self.user = QLineEdit(user)
        self.user.setObjectName("signInUser")
        self.user.setMaxLength(63)
        self.password = QLineEdit()
        self.password.setObjectName("signInPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setMaxLength(200)
        form.addRow(self.tr("&User name"), self.user)
        form.addRow(self.tr("&Password"), self.password)
        layout.addLayout(form)
        self.remember = QCheckBox(self.tr("&Remember the password on this computer"))
        self.remember.setObjectName("signInRemember")
        self.remember.setEnabled(can_remember)
        if not can_remember:
            self.remember.setToolTip(
                self.tr("This computer has no safe keyring: the password is asked each time.")
            )
        layout.addWidget(self.remember)
        self.problem = error_label("signInProblem")
        show_error(self.problem, problem)
        layout.addWidget(self.problem)
        layout.addWidget(muted(self.tr("Your user name and password come from your admin.")))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Sign in"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Quit"))
        buttons.accepted.connect(self._accept_if_complete)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        (self.password if user else self.user).setFocus()

    def _accept_if_complete(self) -> None:
        if not self.user.text().strip():
            show_error(self.problem, self.tr("Type your user name."))
            self.user.setFocus()
            return
        if not self.password.text():
            show_error(self.problem, self.tr("Type your password."))
            self.password.setFocus()
            return
        self.accept()

    def credentials(self) -> Credentials:
        return Credentials(self.user.text().strip(), self.password.text())
