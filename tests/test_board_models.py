"""The board's item models follow the day store row by row: a moved visit is one
``dataChanged``, a new one an insert, a vanished one a removal; only a new day resets.
Qt's own model tester watches every change. No database, no app."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QModelIndex, QObject

from dispatch_app.services.day_store import StoreChange
from dispatch_app.ui.board.models import (
    EndTimeRole,
    StartTimeRole,
    StatusRole,
    TechnicianIdsRole,
    TechnicianModel,
    TechnicianRole,
    VersionRole,
    VisitModel,
    VisitRole,
)
from tests.board_day import at, technician, visit

# Qt's model tester reports what it finds wrong as warnings: each one fails the test.
pytestmark = pytest.mark.qt_log_level_fail("WARNING")


class Signals:
    """What a model announced, in order: (signal, first row, last row)."""

    def __init__(self, model: QObject) -> None:
        self.seen: list[tuple[str, int, int]] = []
        model.modelReset.connect(lambda: self.seen.append(("reset", -1, -1)))
        model.rowsInserted.connect(lambda _p, a, b: self.seen.append(("inserted", a, b)))
        model.rowsRemoved.connect(lambda _p, a, b: self.seen.append(("removed", a, b)))
        model.rowsMoved.connect(lambda _p, a, b, _q, to: self.seen.append(("moved", a, to)))
        model.dataChanged.connect(
            lambda top, bottom, _roles=(): self.seen.append(("changed", top.row(), bottom.row()))
        )

    def take(self) -> list[tuple[str, int, int]]:
        seen, self.seen = self.seen, []
        return seen


@pytest.fixture
def visits(qtmodeltester) -> tuple[VisitModel, Signals]:
    model = VisitModel()
    qtmodeltester.check(model)  # and it keeps watching every change below
    signals = Signals(model)
    model.apply(
        StoreChange(day_changed=True),
        [
            visit(1, (1,), at(8), at(9)),
            visit(2, (1, 2), at(10), at(12)),
            visit(3, (2,), at(13), at(14)),
        ],
    )
    assert signals.take() == [("reset", -1, -1)]
    return model, signals


def test_a_moved_visit_is_one_changed_row(visits) -> None:
    model, signals = visits
    moved = dataclasses.replace(model.visit(1), starts=at(10, 30), ends=at(12, 30), version=2)
    model.apply(StoreChange(visits_upserted=(moved,)), [])
    assert signals.take() == [("changed", 1, 1)]
    index = model.index(1)
    assert model.data(index, StartTimeRole) == at(10, 30)
    assert model.data(index, EndTimeRole) == at(12, 30)
    assert model.data(index, VersionRole) == 2
    assert model.data(index, VisitRole) == moved
    assert model.data(index, TechnicianIdsRole) == (1, 2)
    assert model.data(index, StatusRole) == "scheduled"


def test_a_new_visit_is_inserted_and_a_gone_one_removed(visits) -> None:
    model, signals = visits
    model.apply(StoreChange(visits_upserted=(visit(4, (1,), at(15), at(16)),)), [])
    assert signals.take() == [("inserted", 3, 3)]
    model.apply(StoreChange(visits_removed=(model.visit(0),)), [])
    assert signals.take() == [("removed", 0, 0)]
    assert [model.visit(row).id for row in range(model.rowCount())] == [2, 3, 4]
    assert [model.row_of(n) for n in (1, 2, 3, 4)] == [None, 0, 1, 2]
    # Gone twice is gone once; a change and a removal in one report, in that order.
    model.apply(
        StoreChange(
            visits_removed=(visit(1, (1,), at(8), at(9)), model.visit(1)),
            visits_upserted=(dataclasses.replace(model.visit(2), status="on_site"),),
        ),
        [],
    )
    assert signals.take() == [("removed", 1, 1), ("changed", 1, 1)]
    assert model.data(model.index(1), StatusRole) == "on_site"


def test_only_a_new_day_resets_the_visits(visits) -> None:
    model, signals = visits
    model.apply(StoreChange(day_changed=True), [visit(9, (1,), at(8), at(9))])
    assert signals.take() == [("reset", -1, -1)]
    assert model.rowCount() == 1 and model.row_of(9) == 0
    assert model.rowCount(model.index(0)) == 0  # a list: rows have no children


def test_technicians_follow_the_store_row_by_row(qtmodeltester) -> None:
    model = TechnicianModel()
    qtmodeltester.check(model)
    signals = Signals(model)
    ava, marcus, noor = technician(1, "Ava"), technician(2, "Marcus"), technician(3, "Noor")
    model.set_technicians([ava, marcus, noor], new_day=True)
    assert signals.take() == [("reset", -1, -1)]

    renamed = dataclasses.replace(marcus, name="Marcus Lee", version=2)
    model.set_technicians([ava, renamed, noor])
    assert signals.take() == [("changed", 1, 1)]
    model.set_technicians([noor, ava, renamed])  # the store's order changed
    assert signals.take() == [("moved", 2, 0)]
    model.set_technicians([noor, renamed])
    assert signals.take() == [("removed", 1, 1)]
    zoe = technician(4, "Zoë Åberg")
    model.set_technicians([noor, zoe, renamed])
    assert signals.take() == [("inserted", 1, 1)]
    assert [model.technician(row).name for row in range(model.rowCount())] == [
        "Noor",
        "Zoë Åberg",
        "Marcus Lee",
    ]
    assert model.data(model.index(1)) == "Zoë Åberg"
    assert model.data(model.index(1), TechnicianRole) == zoe
    assert model.data(QModelIndex()) is None
    model.set_technicians([noor, zoe, renamed])  # nothing new: nothing said
    assert signals.take() == []
