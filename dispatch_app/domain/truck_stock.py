"""Does a technician's truck carry what a job needs? The parts it lacks, told in one
sentence a dispatcher takes in at a glance ("Truck 7 has no Contactor 30A."). No Qt, no SQL.

A job type lists the parts it usually needs (``job_type_parts``); a truck holds some of
each (``stock_levels``). Services are sold, not carried, so they are never missing. A
company that keeps no stock has no truck short of anything.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dispatch_app.domain.vocabulary import PartKind

ZERO = decimal.Decimal(0)


@dataclass(frozen=True, slots=True)
class NeededPart:
    """One part a job type usually needs, and how many."""

    part_id: int
    name: str
    quantity: decimal.Decimal = decimal.Decimal(1)
    kind: str = PartKind.PART.value


@dataclass(frozen=True, slots=True)
class MissingPart:
    """A needed part the truck holds fewer of than the job needs."""

    part: NeededPart
    on_hand: decimal.Decimal  # below what is needed; zero when it has none (or less)

    def words(self) -> str:
        """'no Contactor 30A', '1 of 2 Contactor 30A'."""
        if self.on_hand <= ZERO:
            return f"no {self.part.name}"
        return f"{amount(self.on_hand)} of {amount(self.part.quantity)} {self.part.name}"


@dataclass(frozen=True, slots=True)
class TruckCheck:
    """One truck against one job's parts: what it lacks (nothing, when it carries all)."""

    truck: str  # "Truck 7"
    missing: tuple[MissingPart, ...] = ()

    @property
    def short(self) -> bool:
        return bool(self.missing)

    @property
    def sentence(self) -> str:
        """For the board: 'Truck 7 has no Run capacitor 45/5 µF.', 'Truck 7 has 1 of 2
        Contactor 30A.', 'Truck 7 lacks Run capacitor 45/5 µF and 2 more.'"""
        missing = self.missing
        if not missing:
            return f"{self.truck} has the parts for the job."
        if len(missing) == 1:
            return f"{self.truck} has {missing[0].words()}."
        return f"{self.truck} lacks {_names(missing)}."

    @property
    def note(self) -> str:
        """For an offered arrival window: 'no Run capacitor 45/5 µF on Truck 7',
        'short of Run capacitor 45/5 µF and 2 more on Truck 7', 'Truck 7 has the parts'."""
        missing = self.missing
        if not missing:
            return f"{self.truck} has the parts"
        if len(missing) == 1:
            return f"{missing[0].words()} on {self.truck}"
        return f"short of {_names(missing)} on {self.truck}"

    def details(self) -> list[str]:
        """Each missing part in a few words, in the job type's order."""
        return [part.words() for part in self.missing]


def missing_parts(
    needed: Iterable[NeededPart], on_hand: Mapping[int, decimal.Decimal]
) -> tuple[MissingPart, ...]:
    """The needed parts ``on_hand`` (part id → quantity) falls short of, in order."""
    missing = []
    for part in needed:
        if part.kind != PartKind.PART.value:
            continue  # a service is done, not carried
        held = on_hand.get(part.part_id, ZERO)
        if held < part.quantity:
            missing.append(MissingPart(part, max(held, ZERO)))
    return tuple(missing)


def check_truck(
    truck: str, needed: Iterable[NeededPart], on_hand: Mapping[int, decimal.Decimal]
) -> TruckCheck | None:
    """``truck`` against the parts a job needs; None when it needs no part at all."""
    parts = [part for part in needed if part.kind == PartKind.PART.value]
    if not parts:
        return None
    return TruckCheck(truck, missing_parts(parts, on_hand))


@dataclass(frozen=True, slots=True)
class TruckStock:
    """What is known of the trucks: whose truck is which, what each job type needs, and
    where a truck holds less of a part than some job needs.

    Only those low levels are kept: a company's trucks carry most of what their jobs need,
    so what the board holds, and reads again, grows with what is missing, not with what
    is on the shelves.
    """

    kept: bool = False  # the company keeps stock; if not, no truck is ever short
    trucks: Mapping[int, str] = field(default_factory=dict)  # technician id → "Truck 7"
    needs: Mapping[int, tuple[NeededPart, ...]] = field(default_factory=dict)  # by job type
    # (technician id, part id) → on hand, where it is below the most any job type needs
    # of the part; a pair not listed holds enough for every job.
    low: Mapping[tuple[int, int], decimal.Decimal] = field(default_factory=dict)

    def most_needed(self) -> dict[int, decimal.Decimal]:
        """Per part some job type needs, the most any one of them needs of it."""
        most: dict[int, decimal.Decimal] = {}
        for parts in self.needs.values():
            for part in parts:
                if part.kind == PartKind.PART.value:
                    most[part.part_id] = max(most.get(part.part_id, ZERO), part.quantity)
        return most

    def check(self, technician_id: int, job_type_id: int) -> TruckCheck | None:
        """The technician's truck against the job type's parts; None when there is
        nothing to say (no stock kept, no truck, or the job needs no part)."""
        if not self.kept:
            return None
        truck = self.trucks.get(technician_id)
        needed = self.needs.get(job_type_id)
        if truck is None or not needed:
            return None
        low = self.low
        held = {
            part.part_id: low.get((technician_id, part.part_id), part.quantity) for part in needed
        }
        return check_truck(truck, needed, held)

    def shortage(self, technician_id: int, job_type_id: int) -> TruckCheck | None:
        """What the technician's truck lacks for the job type, None when nothing."""
        check = self.check(technician_id, job_type_id)
        return check if check is not None and check.short else None

    def with_levels(self, levels: Iterable[tuple[int, int, decimal.Decimal]]) -> TruckStock:
        """These stock levels (technician, part, on hand) instead of the ones held."""
        most = self.most_needed()
        low = dict(self.low)
        for technician_id, part_id, on_hand in levels:
            if part_id not in most:
                continue  # no job needs it
            if on_hand < most[part_id]:
                low[(technician_id, part_id)] = on_hand
            else:
                low.pop((technician_id, part_id), None)
        return TruckStock(self.kept, self.trucks, self.needs, low)


def amount(quantity: decimal.Decimal) -> str:
    """A quantity as a person writes it: 2, 1.5 (not 2.00, 1.50)."""
    return format(quantity.normalize(), "f")


def _names(missing: tuple[MissingPart, ...]) -> str:
    if len(missing) == 2:
        return f"{missing[0].part.name} and {missing[1].part.name}"
    return f"{missing[0].part.name} and {len(missing) - 1} more"
