"""Signing in to a server that wants passwords (a private embedded server stands in for
the office's): the app asks, says the server's refusal, remembers the user name and —
when asked, in a keyring — the password, which appears in no log, file or screen."""

from __future__ import annotations

import dataclasses
import logging

from keyrings.alt.file import PlaintextKeyring
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from dispatch_app.errors import LoginRefused
from dispatch_app.services.sign_in import Credentials, PasswordVault, server_key
from tests.conftest import OFFICE_LOGIN as LOGIN
from tests.conftest import OFFICE_PASSWORD as PASSWORD
from tests.qt_app import act, options_for, pump_until, wait_for


def _sign_in(loop, app, password: str, *, remember: bool = False) -> None:
    dialog = app.sign_in
    act(loop, lambda: dialog.password.setText(password))
    act(loop, lambda: dialog.remember.setChecked(remember))
    sign_in = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    act(loop, sign_in.click)


def _fatal_box() -> QMessageBox | None:
    boxes = [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "fatalError" and w.isVisible()
    ]
    return boxes[0] if boxes else None


def test_the_app_asks_says_the_refusal_and_remembers_only_when_asked(
    loop, qtbot, start, office_server, tmp_path, settings_dir, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    vault = PasswordVault(PlaintextKeyring())
    vault.backend.file_path = str(tmp_path / "keyring.cfg")  # type: ignore[attr-defined]
    options = dataclasses.replace(options_for(office_server, tmp_path), keyring=vault.backend)
    app, task = start(options)
    pump_until(loop, lambda: app.sign_in is not None and app.sign_in.isVisible())
    first = app.sign_in
    assert first.user.text() == LOGIN and first.problem.isHidden()  # nothing refused yet
    assert first.remember.isEnabled()

    _sign_in(loop, app, "not-the-password")
    pump_until(loop, lambda: app.sign_in is not None and app.sign_in is not first)
    second = app.sign_in
    assert second.problem.text().endswith("the server refused the user name or password.")
    _sign_in(loop, app, PASSWORD, remember=True)
    wait_for(loop, app.loaded, task)
    assert app.window.signed_in_label.text() == f"{LOGIN} · CSR"
    assert len(app.store.visits()) == 3

    assert vault.password(office_server, LOGIN) == PASSWORD
    act(loop, app.window.close)
    pump_until(loop, task.done)

    # Next start: the keyring's password, and no question.
    again, task2 = start(options)
    wait_for(loop, again.loaded, task2)
    assert again.window.signed_in_label.text() == f"{LOGIN} · CSR"
    act(loop, again.window.close)
    pump_until(loop, task2.done)

    # The password is in no log line, no settings file, nothing on screen.
    assert PASSWORD not in caplog.text
    for file in (tmp_path / "settings").rglob("*"):
        if file.is_file():
            text = file.read_text(errors="replace")
            assert PASSWORD not in text
            assert LOGIN in text or "signIn" not in text  # the user name is remembered
    assert server_key(office_server).endswith("/office")


def test_a_password_changed_since_is_asked_again_and_quitting_says_so(
    loop, start, office_server, tmp_path, settings_dir
) -> None:
    vault = PasswordVault(PlaintextKeyring())
    vault.backend.file_path = str(tmp_path / "keyring.cfg")  # type: ignore[attr-defined]
    vault.remember(office_server, Credentials(LOGIN, "an-old-password-1"))
    options = dataclasses.replace(options_for(office_server, tmp_path), keyring=vault.backend)
    app, task = start(options)
    pump_until(loop, lambda: app.sign_in is not None and app.sign_in.isVisible())
    assert vault.password(office_server, LOGIN) is None  # the stale one is forgotten
    act(loop, app.sign_in.reject)
    pump_until(loop, lambda: _fatal_box() is not None)
    box = _fatal_box()
    assert box is not None and box.text() == f"Nobody signed in to {server_key(office_server)}."
    act(loop, lambda: box.done(0))
    pump_until(loop, task.done)
    assert task.result() == LoginRefused.exit_code


def test_a_keyring_that_keeps_passwords_in_clear_is_not_offered() -> None:
    import keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        assert not PasswordVault().available
    finally:
        keyring.set_keyring(previous)
