"""Importing a phone system's call log as leads (``domain/call_log`` reads the file).

All or nothing: when any row is bad, nothing is stored and every problem comes back
with its row number. Otherwise the calls are added in one transaction; a call already
stored (the same time to the second and the same number, from an earlier import of an
overlapping export) is skipped, so importing a file twice adds nothing the second time.
The database does the rest as for any lead: it finds the customer from the number, and
a missed call or voicemail from a number that booked no work order since makes a
callback follow-up (``dispatch_lead_callback``). A CSR may import.

Threading contract: a coroutine on the caller's loop (the GUI's, through qasync); the
file is read in a worker thread, since 100,000 rows take seconds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.domain.call_log import CallLog, LoggedCall, read_call_log
from dispatch_app.domain.clock import Clock
from dispatch_app.errors import ValidationError
from dispatch_app.services.day_board import business_timezone

Sessions = async_sessionmaker[AsyncSession]
# Problems shown at most; the rest are counted (the window shows them in a message box).
MOST_SHOWN = 20
# Calls sent in one statement: a year's log is a few round trips, not thousands.
BATCH = 1_000

# Oldest first, so a caller who missed three times has the callback of the first miss
# (the trigger makes one per caller).
_INSERT = text(
    "INSERT INTO leads (source, phone, name, received_at, duration_seconds, external_id) "
    "SELECT * FROM unnest(CAST(:sources AS text[]), CAST(:phones AS text[]), "
    "CAST(:names AS text[]), CAST(:times AS timestamptz[]), CAST(:durations AS integer[]), "
    "CAST(:keys AS text[])) "
    "ON CONFLICT (external_id) DO NOTHING RETURNING id, source"
)
_CALLBACKS = text(
    "SELECT count(*) FROM follow_ups WHERE kind = 'missed_call' AND lead_id = ANY(:ids)"
)


@dataclass(frozen=True, slots=True)
class CallLogImport:
    """What an import did, in counts."""

    added: int
    already_imported: int  # stored before, or on an earlier row of the same file
    anonymous: int  # no number to call back: not stored
    missed: int  # missed calls and voicemails among the added
    callbacks: int  # callback follow-ups the database made for them
    not_incoming: int = 0  # outgoing and internal calls: not stored

    def sentence(self) -> str:
        """One line for the person who imported the file."""
        if self.missed:
            said = (
                f"{_count(self.added, 'call')} added: {self.missed:,} missed, "
                f"{_count(self.callbacks, 'callback')} to make."
            )
        elif self.added:
            said = f"{_count(self.added, 'call')} added, none missed."
        else:
            said = "No calls added."
        skipped = [
            f"{self.already_imported} already imported" if self.already_imported else "",
            f"{self.anonymous} anonymous" if self.anonymous else "",
            f"{self.not_incoming} outgoing" if self.not_incoming else "",
        ]
        if any(skipped):
            said += f" Skipped: {', '.join(part for part in skipped if part)}."
        return said


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


class CallLogRefused(ValidationError):
    """The file has problems; nothing was imported. ``problems`` lists them all."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MOST_SHOWN]
        if len(problems) > MOST_SHOWN:
            shown.append(f"… and {len(problems) - MOST_SHOWN:,} more.")
        super().__init__({"file": "\n".join([*shown, "Nothing was imported."])})
        self.problems = problems


async def import_call_log(sessions: Sessions, data: bytes, *, clock: Clock) -> CallLogImport:
    """Add the file's calls as leads, or ``CallLogRefused`` (a ``ValidationError`` whose
    ``file`` field lists the problems) and nothing stored."""
    async with sessions() as session:
        zone = await business_timezone(session)
    log = await asyncio.to_thread(read_call_log, data, zone=zone, now=clock.now())
    if log.problems:
        raise CallLogRefused(list(log.problems))
    calls = sorted(log.calls, key=lambda call: call.received_at)
    added: list[int] = []
    missed = 0
    async with sessions() as session, session.begin():
        for start in range(0, len(calls), BATCH):
            done = (await session.execute(_INSERT, _batch(calls[start : start + BATCH]))).all()
            added.extend(row.id for row in done)
            missed += sum(1 for row in done if row.source != "call")
        callbacks = int(await session.scalar(_CALLBACKS, {"ids": added}) or 0) if missed else 0
    return _result(log, added=len(added), missed=missed, callbacks=callbacks)


def _batch(calls: list[LoggedCall]) -> dict[str, list[object]]:
    return {
        "sources": [call.source.value for call in calls],
        "phones": [call.phone for call in calls],
        "names": [call.name for call in calls],
        "times": [call.received_at for call in calls],
        "durations": [call.duration_seconds for call in calls],
        "keys": [call.external_id for call in calls],
    }


def _result(log: CallLog, *, added: int, missed: int, callbacks: int) -> CallLogImport:
    return CallLogImport(
        added=added,
        already_imported=len(log.calls) - added + log.repeated,
        anonymous=log.anonymous,
        missed=missed,
        callbacks=callbacks,
        not_incoming=log.not_incoming,
    )
