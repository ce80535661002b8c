"""The Stock tab: what one location (the warehouse, a truck) holds — on hand, average
cost, value, reorder point — or only what is at or below its reorder point; and, for a
dispatcher and up, Receive…, Transfer…, Count… and Set reorder point….

A transfer the books say the location cannot cover asks whether to take it anyway (the
books are wrong: a miscount) before it is made; the database records that it was
confirmed.
"""

from __future__ import annotations

import decimal
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from dispatch_app.domain.roles import Action
from dispatch_app.domain.vocabulary import Priority
from dispatch_app.domain.work_order_record import money
from dispatch_app.errors import ShortStock, UserFacingError
from dispatch_app.services import stock
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui import theme
from dispatch_app.ui.forms import confirm, muted
from dispatch_app.ui.office.common import (
    OfficeTab,
    amount_text,
    headline,
    records_view,
    selected_record,
)
from dispatch_app.ui.office.rows import Column, RecordsModel
from dispatch_app.ui.office.stock_forms import Movement, StockForm
from dispatch_app.ui.tasks import WindowTasks

LOCATION_KEY = "officeWindow/stockLocation"
LOW = theme.PRIORITY_COLOUR[Priority.EMERGENCY]


def is_low(line: stock.StockLine) -> bool:
    """At or below its reorder point (a point of 0 means: not watched)."""
    return line.reorder_point > 0 and line.on_hand <= line.reorder_point


@dataclass(frozen=True, slots=True)
class StockView:
    places: list[stock.Location]
    location_id: int | None  # the one shown (the first, when the one asked for is gone)
    lines: list[stock.StockLine]


class StockTab(OfficeTab):
    tables = frozenset({"stock_levels", "stock_locations", "parts"})

    def __init__(self, workspace: Workspace, tasks: WindowTasks) -> None:
        super().__init__(workspace, tasks)
        self.dialog: StockForm | None = None  # the open form, if any
        self.places: list[stock.Location] = []
        self.shown_location: int | None = None
        remembered = QSettings().value(LOCATION_KEY)
        self._wanted_location = int(remembered) if str(remembered or "").isdigit() else None
        self.place = QComboBox()
        self.place.setObjectName("stockLocation")
        self.place.setMinimumContentsLength(18)
        self.low_only = QCheckBox(self.tr("&Low stock only"))
        self.low_only.setObjectName("lowOnly")
        self.low_only.setToolTip(self.tr("Parts at or below their reorder point: what to restock"))
        self.summary = headline("stockSummary")
        chooser = QLabel(self.tr("L&ocation"))
        chooser.setBuddy(self.place)
        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(chooser)
        top.addWidget(self.place)
        top.addSpacing(12)
        top.addWidget(self.low_only)
        top.addStretch(1)
        self.model = RecordsModel(
            [
                Column(self.tr("Code"), lambda r: r.sku),
                Column(self.tr("Part"), lambda r: r.part),
                Column(
                    self.tr("On hand"),
                    lambda r: amount_text(r.on_hand),
                    numeric=True,
                    colour=lambda r: LOW if is_low(r) or r.on_hand < 0 else None,
                    bold=is_low,
                ),
                Column(
                    self.tr("Average cost"),
                    lambda r: money(r.average_cost.quantize(decimal.Decimal("0.01"))),
                    numeric=True,
                ),
                Column(self.tr("Value"), lambda r: money(r.value), numeric=True),
                Column(
                    self.tr("Reorder point"),
                    lambda r: amount_text(r.reorder_point) if r.reorder_point else "—",
                    numeric=True,
                ),
            ],
            key=lambda r: (r.location_id, r.part_id),
            parent=self,
        )
        self.table = records_view("stock", self.model, stretch=1)
        self.note = muted()
        self.note.setObjectName("stockNote")
        self.receive_button = QPushButton(self.tr("&Receive…"))
        self.receive_button.setObjectName("receive")
        self.transfer_button = QPushButton(self.tr("&Transfer…"))
        self.transfer_button.setObjectName("transfer")
        self.count_button = QPushButton(self.tr("&Count…"))
        self.count_button.setObjectName("count")
        self.reorder_button = QPushButton(self.tr("Set reorder &point…"))
        self.reorder_button.setObjectName("reorderPoint")
        self.movement_buttons = {
            Movement.RECEIVE: self.receive_button,
            Movement.TRANSFER: self.transfer_button,
            Movement.COUNT: self.count_button,
            Movement.REORDER: self.reorder_button,
        }
        # Only those who may move stock see the buttons; the database refuses others.
        allowed = workspace.may(Action.STOCK)
        buttons = QHBoxLayout()
        buttons.addWidget(self.note, 1)
        for movement, button in self.movement_buttons.items():
            button.setVisible(allowed)
            button.clicked.connect(lambda _checked=False, m=movement: self.ask(m))
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        self.place.activated.connect(self._location_chosen)
        self.low_only.toggled.connect(lambda _on: self.reload())

    # -- the list -----------------------------------------------------------------------
    def wanted(self) -> Hashable:
        return (self._wanted_location, self.low_only.isChecked())

    async def fetch(self, wanted: Any) -> StockView:
        location_id, low = wanted
        places = await self.workspace.read(stock.locations)
        if location_id not in {place.id for place in places}:
            location_id = places[0].id if places else None
        if location_id is None:
            return StockView(places, None, [])
        read = stock.low_stock if low else stock.stock_at
        return StockView(places, location_id, await self.workspace.read(read, location_id))

    def show_answer(self, wanted: Any, view: StockView) -> None:
        _location, low_only = wanted
        self._show_places(view.places, view.location_id)
        self.shown_location = view.location_id
        self.model.set_records(view.lines)
        place, count = self.place.currentText(), len(view.lines)
        value = sum((line.value for line in view.lines), decimal.Decimal("0.00"))
        low = sum(1 for line in view.lines if is_low(line))
        self.note.setText("")
        if view.location_id is None:
            self.summary.setText(self.tr("No stock locations yet."))
        elif low_only:
            self.summary.setText(
                self.tr("{0}: nothing at or below its reorder point").format(place)
                if not count
                else self.tr("{0}: 1 part to restock").format(place)
                if count == 1
                else self.tr("{0}: {1:,} parts to restock").format(place, count)
            )
        else:
            self.summary.setText(
                self.tr("{0} holds no parts yet.").format(place)
                if not count
                else self.tr("{0}: 1 part worth {1}").format(place, money(value))
                if count == 1
                else self.tr("{0}: {1:,} parts worth {2}").format(place, count, money(value))
            )
            if low:
                self.note.setText(
                    self.tr("1 part is at or below its reorder point.")
                    if low == 1
                    else self.tr("{0:,} parts are at or below their reorder point.").format(low)
                )

    def _show_places(self, places: list[stock.Location], chosen: int | None) -> None:
        if [(p.id, p.name) for p in places] != [(p.id, p.name) for p in self.places]:
            self.places = places
            self.place.blockSignals(True)
            self.place.clear()
            for place in places:
                self.place.addItem(place.name, place.id)
            self.place.blockSignals(False)
        if chosen is not None:
            self.place.setCurrentIndex(self.place.findData(chosen))

    def _location_chosen(self, index: int) -> None:
        self._wanted_location = self.place.itemData(index)
        QSettings().setValue(LOCATION_KEY, self._wanted_location)
        self.reload()

    def choose_location(self, name: str) -> None:
        """Show the location called ``name`` (as the user picks it from the list)."""
        self.place.setCurrentIndex(self.place.findText(name))
        self._location_chosen(self.place.currentIndex())

    def selected(self) -> stock.StockLine | None:
        return selected_record(self.table)

    # -- movements ----------------------------------------------------------------------
    def ask(self, movement: Movement) -> None:
        self.tasks.spawn(self.open_form(movement))

    async def open_form(self, movement: Movement) -> None:
        """The form for ``movement``, the price book's parts to choose from and the
        selected line's part chosen."""
        try:
            parts = await self.workspace.read(stock.stocked_parts)
        except UserFacingError as error:
            self._failed(None, error)
            return
        line = self.selected()
        held = {r.part_id: (r.on_hand, r.reorder_point) for r in self.model.records()}
        form = StockForm(
            movement,
            parts,
            self.places,
            at=self.shown_location,
            part_id=line.part_id if line is not None else None,
            held=held,
            parent=self,
        )
        form.submitted.connect(lambda values: self.tasks.spawn(self._write(form, values)))
        form.finished.connect(lambda _result: self._forget(form))
        self.dialog = form
        form.open()

    async def _write(
        self, form: StockForm, values: dict[str, Any], *, confirm_short: bool = False
    ) -> None:
        try:
            await self._move(form.movement, values, confirm_short=confirm_short)
        except ShortStock as short:
            form.refuse(str(short))
            confirm(
                form,
                str(short),
                self.tr("Take it anyway"),
                lambda: self.tasks.spawn(self._write(form, values, confirm_short=True)),
                name="confirmShortStock",
                details=self.tr("Take it anyway (a miscount)?"),
            )
            return
        except UserFacingError as refused:
            form.refuse(str(refused))
            return
        form.finish()
        self.reload()  # the feed says so too; this shows it without waiting

    async def _move(
        self, movement: Movement, values: dict[str, Any], *, confirm_short: bool
    ) -> None:
        run, part, place = self.workspace.run, values["part_id"], values["location_id"]
        if movement is Movement.RECEIVE:
            await run(
                stock.receive,
                location_id=place,
                part_id=part,
                quantity=values["quantity"],
                unit_cost=values["unit_cost"] or None,
                note=values["note"],
            )
        elif movement is Movement.TRANSFER:
            await run(
                stock.transfer,
                from_location_id=place,
                to_location_id=values["destination_id"],
                part_id=part,
                quantity=values["quantity"],
                confirm_short=confirm_short,
            )
        elif movement is Movement.COUNT:
            await run(
                stock.count,
                location_id=place,
                part_id=part,
                counted=values["quantity"],
                reason=values["note"],
            )
        else:
            await run(
                stock.set_reorder_point,
                location_id=place,
                part_id=part,
                reorder_point=values["quantity"],
            )

    def _forget(self, form: StockForm) -> None:
        if self.dialog is form:
            self.dialog = None
        form.deleteLater()
