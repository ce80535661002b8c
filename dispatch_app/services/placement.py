"""Planned changes on the board and the rules they must pass, from the store's rows.

The board plans a move (a drag, an arrow key, a drop from the queue) as ``PlannedMove``
values and asks ``check_moves`` what the dispatch rules say before anything is written,
and ``truck_notes`` what the technician's truck lacks for it.
This module only translates the store's rows into the domain's terms; the rules
themselves live in ``dispatch_app.domain.dispatch_rules``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dispatch_app.domain.dispatch_rules import (
    BookedVisit,
    Finding,
    Placement,
    TechnicianProfile,
    can_take,
    check_placement,
    finished_finding,
    truck_stock_finding,
)
from dispatch_app.domain.geo import DriveEstimate
from dispatch_app.domain.scheduling import TimeSpan, later
from dispatch_app.domain.statuses import VISIT_NOT_BLOCKING
from dispatch_app.domain.truck_stock import TruckStock
from dispatch_app.services.day_board import (
    BoardSettings,
    SkillLevels,
    TechnicianRow,
    UnassignedJob,
    VisitBlock,
)


@dataclass(frozen=True, slots=True)
class PlannedMove:
    """One visit at new times for a (possibly new) crew; ``seen_version`` is what the
    user was looking at when they planned it."""

    visit_id: int
    label: str
    seen_version: int
    starts: dt.datetime
    ends: dt.datetime
    technician_ids: tuple[int, ...]
    required_skills: SkillLevels = ()
    place: tuple[float, float] | None = None
    status: str = ""  # the visit's status as seen (a finished one is not re-planned)
    job_type_id: int = 0  # for the parts the job needs

    @property
    def span(self) -> TimeSpan:
        return TimeSpan(self.starts, self.ends)

    @staticmethod
    def of_visit(
        visit: VisitBlock,
        *,
        starts: dt.datetime | None = None,
        ends: dt.datetime | None = None,
        technician_ids: tuple[int, ...] | None = None,
    ) -> PlannedMove:
        return PlannedMove(
            visit_id=visit.id,
            label=visit.number,
            seen_version=visit.version,
            starts=starts if starts is not None else visit.starts,
            ends=ends if ends is not None else visit.ends,
            technician_ids=technician_ids if technician_ids is not None else visit.technician_ids,
            required_skills=visit.required_skills,
            place=_place(visit.lat, visit.lon),
            status=visit.status,
            job_type_id=visit.job_type_id,
        )

    @staticmethod
    def of_job(
        job: UnassignedJob, *, starts: dt.datetime, technician_ids: tuple[int, ...]
    ) -> PlannedMove:
        return PlannedMove(
            visit_id=job.visit_id,
            label=job.number,
            seen_version=job.version,
            starts=starts,
            ends=later(starts, dt.timedelta(minutes=job.duration_min)),
            technician_ids=technician_ids,
            required_skills=job.required_skills,
            place=_place(job.lat, job.lon),
            job_type_id=job.job_type_id,
        )


def _place(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    return (lat, lon) if lat is not None and lon is not None else None


def drive_estimate(settings: BoardSettings) -> DriveEstimate:
    return DriveEstimate(settings.road_factor, settings.average_speed_kmh)


def profile_of(technician: TechnicianRow) -> TechnicianProfile:
    return TechnicianProfile(
        id=technician.id,
        name=technician.name,
        skills=dict(technician.skill_levels),
        shifts=technician.shifts,
        home=technician.home,
    )


def booked_of(visit: VisitBlock) -> BookedVisit:
    return BookedVisit(
        visit.id, visit.number, TimeSpan(visit.starts, visit.ends), _place(visit.lat, visit.lon)
    )


def check_moves(
    moves: Sequence[PlannedMove],
    technicians: Mapping[int, TechnicianRow],
    visits_of: Mapping[int, Sequence[VisitBlock]],
    settings: BoardSettings,
    tz: dt.tzinfo,
) -> list[Finding]:
    """What the rules say about making all ``moves`` together.

    Visits moved together are checked against each other at their new times, not at the
    times they are leaving.
    """
    moving = {move.visit_id for move in moves}
    drive = drive_estimate(settings)
    findings: list[Finding] = []
    for move in moves:
        finished = finished_finding(move.label, move.status)
        if finished is not None:
            findings.append(finished)
            continue
        crew = []
        for tech_id in move.technician_ids:
            technician = technicians.get(tech_id)
            if technician is None:
                continue
            booked = [
                booked_of(v)
                for v in visits_of.get(tech_id, ())
                if v.id not in moving and v.status not in VISIT_NOT_BLOCKING
            ]
            booked += [
                BookedVisit(other.visit_id, other.label, other.span, other.place)
                for other in moves
                if other.visit_id != move.visit_id and tech_id in other.technician_ids
            ]
            crew.append((profile_of(technician), booked))
        placement = Placement(
            visit_id=move.visit_id,
            label=move.label,
            span=move.span,
            required_skills=dict(move.required_skills),
            place=move.place,
        )
        for finding in check_placement(placement, crew, drive, tz):
            if finding not in findings:
                findings.append(finding)
    return findings


def truck_notes(
    moves: Sequence[PlannedMove], technician_id: int, stock: TruckStock
) -> list[Finding]:
    """What ``technician_id``'s truck lacks for the moves that land on them, one finding
    per different sentence (two visits of one job type lack the same parts)."""
    notes: list[Finding] = []
    for move in moves:
        if technician_id not in move.technician_ids:
            continue
        shortage = stock.shortage(technician_id, move.job_type_id)
        if shortage is None:
            continue
        note = truck_stock_finding(technician_id, shortage)
        if note not in notes:
            notes.append(note)
    return notes


def fits(technician: TechnicianRow, required: SkillLevels, span: TimeSpan) -> bool:
    """Whether the technician has the skills and is on shift for ``span`` (row highlight)."""
    return can_take(profile_of(technician), dict(required), span)
