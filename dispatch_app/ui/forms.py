"""The look every form shares: red sentences beside fields, banners, section titles,
and the commands a list offers as buttons and in its context menu."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMessageBox, QToolButton, QWidget

from dispatch_app.domain.vocabulary import Priority
from dispatch_app.ui import theme

ERROR_COLOUR = theme.PRIORITY_COLOUR[Priority.EMERGENCY].name()
ERROR_STYLE = f"color: {ERROR_COLOUR};"
MUTED_STYLE = f"color: {theme.MUTED_TEXT.name()};"
# Something needs the user's attention (a failed save, a possible duplicate).
BANNER_STYLE = "background: #fff4e5; border: 1px solid #f0b35a; border-radius: 4px; padding: 6px;"
# Something went through (a call booked).
DONE_STYLE = "background: #e7f6ec; border: 1px solid #7cc49a; border-radius: 4px; padding: 6px;"


def error_label(name: str = "") -> QLabel:
    """A red sentence beside a field; hidden until there is something to say."""
    label = QLabel()
    if name:
        label.setObjectName(name)
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def show_error(label: QLabel, sentence: str | None) -> None:
    if sentence:
        label.setText(sentence)
        label.show()
    else:
        label.clear()
        label.hide()


def section_title(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() + 1)
    label.setFont(font)
    return label


def muted(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(MUTED_STYLE)
    label.setWordWrap(True)
    return label


def confirm(
    parent: QWidget,
    text: str,
    action: str,
    then: Callable[[], None],
    *,
    name: str = "confirm",
    details: str = "",
) -> QMessageBox:
    """Ask before something goes (a photo, a line item, typed work); ``then`` runs only
    on yes, and Cancel is the default. ``details`` (what exactly would go) shows under the
    question. Window-modal and not blocking: the event loop, and the app, keep running."""
    box = QMessageBox(QMessageBox.Icon.Question, parent.window().windowTitle(), text, parent=parent)
    box.setObjectName(name)
    if details:
        box.setInformativeText(details)
    yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.finished.connect(lambda _result: then() if box.clickedButton() is yes else None)
    box.open()
    return box


def command(owner: QWidget, name: str, text: str, slot: Callable[[], None]) -> QAction:
    """One thing a list lets you do to its selected row, for its buttons and its menu."""
    action = QAction(text, owner)
    action.setIconText(text)  # a button keeps the "…" of a question to come
    action.setObjectName(name)
    action.triggered.connect(lambda _checked=False: slot())
    return action


def command_button(action: QAction) -> QToolButton:
    """A text button for ``action``: enabled, named and worded as it is."""
    button = QToolButton()
    button.setObjectName(f"{action.objectName()}Button")
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setMinimumHeight(28)
    return button
