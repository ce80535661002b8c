"""The board's toolbar: which days (date, today, zoom) and which work (filters)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QLabel,
    QLineEdit,
    QToolBar,
    QToolButton,
    QWidget,
)

from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.domain.time_bounds import FIRST_DAY, LAST_DAY
from dispatch_app.domain.vocabulary import Trade
from dispatch_app.services.day_board import TechnicianRow, VisitBlock

ZOOMS = ((1, "Day"), (3, "3 days"), (7, "Week"))


@dataclass(frozen=True, slots=True)
class BoardFilters:
    trade: str = ""
    skill: str = ""
    zip_prefix: str = ""
    text: str = ""

    def keeps_technician(self, technician: TechnicianRow) -> bool:
        if self.trade and technician.trade != self.trade:
            return False
        return not self.skill or self.skill in technician.skills

    @property
    def filters_technicians(self) -> bool:
        return bool(self.trade or self.skill)

    @property
    def searches(self) -> bool:
        return bool(self.zip_prefix or self.text)

    def matches_visit(self, visit: VisitBlock) -> bool:
        if self.zip_prefix and not visit.zip.startswith(self.zip_prefix):
            return False
        if self.text:
            haystack = " ".join(
                (visit.number, visit.job_type, visit.customer, visit.city, visit.zip)
            ).casefold()
            return self.text.casefold() in haystack
        return True


class BoardToolbar(QToolBar):
    dayChosen = Signal(object)  # datetime.date: show this day
    zoomChosen = Signal(int)  # days shown: 1, 3 or 7
    filtersChanged = Signal(object)  # BoardFilters

    def __init__(self, parent: QWidget | None = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(self.tr("Board"), parent)
        self.setObjectName("boardToolbar")
        self.setMovable(False)
        # The clock's date here until the board reports the company's today.
        self._today = clock.now().astimezone().date()

        self.today_button = self._button(self.tr("Today"), self.tr("Show today (Ctrl+T)"))
        self.today_button.setShortcut("Ctrl+T")
        self.today_button.clicked.connect(lambda: self.dayChosen.emit(self._today))
        self.previous_button = self._button("‹", self.tr("The day before (Alt+Left)"))
        self.previous_button.setShortcut("Alt+Left")
        self.previous_button.clicked.connect(lambda: self._step(-1))
        self.next_button = self._button("›", self.tr("The day after (Alt+Right)"))
        self.next_button.setShortcut("Alt+Right")
        self.next_button.clicked.connect(lambda: self._step(1))
        self.date_edit = QDateEdit(self)
        self.date_edit.setObjectName("boardDate")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        # The schedule's years (domain/time_bounds.py): the picker offers no other day.
        self.date_edit.setDateRange(
            QDate(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day),
            QDate(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day),
        )
        self.date_edit.dateChanged.connect(self._date_edited)
        self.addWidget(self.date_edit)
        self.addSeparator()

        self.zoom_group = QButtonGroup(self)
        for days, label in ZOOMS:
            button = self._button(self.tr(label), self.tr("Show {0}").format(label.lower()))
            button.setCheckable(True)
            button.setObjectName(f"zoom{days}")
            self.zoom_group.addButton(button, days)
        self.zoom_group.button(1).setChecked(True)
        self.zoom_group.idClicked.connect(self.zoomChosen)
        self.addSeparator()

        self.trade_box = QComboBox(self)
        self.trade_box.setObjectName("tradeFilter")
        self.trade_box.addItem(self.tr("All trades"), "")
        for trade in Trade:
            self.trade_box.addItem(
                trade.value.upper() if len(trade) <= 4 else trade.title(), trade.value
            )
        self.skill_box = QComboBox(self)
        self.skill_box.setObjectName("skillFilter")
        self.skill_box.addItem(self.tr("All skills"), "")
        self.zip_edit = QLineEdit(self)
        self.zip_edit.setObjectName("zipFilter")
        self.zip_edit.setPlaceholderText(self.tr("ZIP / zone"))
        self.zip_edit.setMaxLength(10)
        self.zip_edit.setFixedWidth(90)
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("boardSearch")
        self.search_edit.setPlaceholderText(self.tr("Find work order, customer, city…"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(220)
        self.addWidget(QLabel(self.tr(" Filter: ")))
        for widget in (self.trade_box, self.skill_box, self.zip_edit, self.search_edit):
            self.addWidget(widget)
        # Typing filters after a short pause, not on every keystroke of a word.
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(150)
        self._typing.timeout.connect(self._emit_filters)
        self.trade_box.currentIndexChanged.connect(self._emit_filters)
        self.skill_box.currentIndexChanged.connect(self._emit_filters)
        self.zip_edit.textChanged.connect(lambda _text: self._typing.start())
        self.search_edit.textChanged.connect(lambda _text: self._typing.start())
        self._shown: dt.date | None = None

    def _button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addWidget(button)
        return button

    def show_range(self, day: dt.date, days: int, today: dt.date) -> None:
        """Reflect what the board shows, without asking for it again."""
        self._today = today
        self._shown = day
        self.date_edit.blockSignals(True)
        self.date_edit.setDate(QDate(day.year, day.month, day.day))
        self.date_edit.blockSignals(False)
        button = self.zoom_group.button(days)
        if button is not None:
            button.setChecked(True)

    def set_skills(self, codes: list[str]) -> None:
        current = self.skill_box.currentData()
        present = [self.skill_box.itemData(i) for i in range(1, self.skill_box.count())]
        if present == codes:
            return
        self.skill_box.blockSignals(True)
        self.skill_box.clear()
        self.skill_box.addItem(self.tr("All skills"), "")
        for code in codes:
            self.skill_box.addItem(code, code)
        index = self.skill_box.findData(current)
        self.skill_box.setCurrentIndex(max(0, index))
        self.skill_box.blockSignals(False)

    def filters(self) -> BoardFilters:
        return BoardFilters(
            trade=str(self.trade_box.currentData() or ""),
            skill=str(self.skill_box.currentData() or ""),
            zip_prefix=self.zip_edit.text().strip(),
            text=self.search_edit.text().strip(),
        )

    def _emit_filters(self) -> None:
        self.filtersChanged.emit(self.filters())

    def _step(self, days: int) -> None:
        shown = self._shown or self._today
        step = self.zoom_group.checkedId() if self.zoom_group.checkedId() > 0 else 1
        self.dayChosen.emit(shown + dt.timedelta(days=days * step))

    def _date_edited(self, date: QDate) -> None:
        chosen = dt.date(date.year(), date.month(), date.day())
        if chosen != self._shown:
            self.dayChosen.emit(chosen)
