"""Choosing the job type by typing a few letters: the list is grouped by trade, the first
match is highlighted, and Enter takes it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from dispatch_app.domain.vocabulary import Trade
from dispatch_app.services.intake import JobTypeChoice

TRADE_LABEL = {
    Trade.HVAC: "HVAC",
    Trade.PLUMBING: "Plumbing",
    Trade.ELECTRICAL: "Electrical",
    Trade.ROOFING: "Roofing",
}
CHOICE_ROLE = Qt.ItemDataRole.UserRole


def matches(choice: JobTypeChoice, typed: str) -> bool:
    """Every word typed appears in the job's name or its trade ("no he", "plumb drain")."""
    haystack = f"{choice.name} {TRADE_LABEL[choice.trade]}".lower()
    return all(word in haystack for word in typed.lower().split())


class JobTypePicker(QWidget):
    """A search field over the company's job types, with the matches below it."""

    chosen = Signal(object)  # the JobTypeChoice taken, or None when cleared

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._catalogue: list[JobTypeChoice] = []
        self.current: JobTypeChoice | None = None
        self.search = QLineEdit()
        self.search.setObjectName("jobSearch")
        self.search.setPlaceholderText(self.tr("Type to find the job: “no heat”, “drain”…"))
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setObjectName("jobTypes")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay in the search field
        self.list.setMaximumHeight(168)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.search.textEdited.connect(self._typed)
        self.search.installEventFilter(self)
        self.list.itemClicked.connect(lambda _item: self.take_highlighted())
        self.setFocusProxy(self.search)

    def set_catalogue(self, catalogue: list[JobTypeChoice]) -> None:
        self._catalogue = list(catalogue)
        self._filter(self.search.text() if self.current is None else "")

    def clear(self) -> None:
        self.current = None
        self.search.clear()
        self._filter("")
        self.list.show()

    def _typed(self, text: str) -> None:
        if self.current is not None:
            self.current = None
            self.chosen.emit(None)
        self.list.show()
        self._filter(text)

    def _filter(self, typed: str) -> None:
        self.list.clear()
        first: QListWidgetItem | None = None
        trade: Trade | None = None
        for choice in self._catalogue:
            if not matches(choice, typed):
                continue
            if choice.trade != trade:
                trade = choice.trade
                header = QListWidgetItem(TRADE_LABEL[trade].upper())
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                font = QFont(header.font())
                font.setBold(True)
                font.setPointSizeF(font.pointSizeF() * 0.85)
                header.setFont(font)
                self.list.addItem(header)
            minutes = choice.minutes
            length = f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"
            item = QListWidgetItem(f"    {choice.name}   ·  {length}  ·  ${choice.price}")
            item.setData(CHOICE_ROLE, choice)
            self.list.addItem(item)
            first = first or item
        if first is not None:
            self.list.setCurrentItem(first)

    def _step(self, by: int) -> None:
        rows = [
            row
            for row in range(self.list.count())
            if self.list.item(row).data(CHOICE_ROLE) is not None
        ]
        if not rows:
            return
        current = self.list.currentRow()
        position = rows.index(current) if current in rows else -1
        position = max(0, min(len(rows) - 1, position + by))
        self.list.setCurrentRow(rows[position])

    def take_highlighted(self) -> None:
        item = self.list.currentItem()
        choice = item.data(CHOICE_ROLE) if item is not None else None
        if choice is None:
            return
        self.take(choice)

    def take(self, choice: JobTypeChoice) -> None:
        self.current = choice
        minutes = choice.minutes
        length = f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"
        self.search.setText(f"{choice.name}  ·  {TRADE_LABEL[choice.trade]}  ·  {length}")
        self.list.hide()  # the list's room goes to the questions; typing brings it back
        self.chosen.emit(choice)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() == Qt.Key.Key_Down:
                self._step(1)
                return True
            if event.key() == Qt.Key.Key_Up:
                self._step(-1)
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                # Taken here, so the window does not also read it as "book the call".
                if self.current is None:
                    self.take_highlighted()
                    return True
                return False
        return super().eventFilter(watched, event)
