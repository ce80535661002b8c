"""The demo company: repeatable, bookable as a dispatcher would, and shaped like a real shop."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Iterator
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import zipcodes
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from dispatch_app.db.engine import make_sync_engine
from dispatch_app.db.models import (
    AppSetting,
    Base,
    Customer,
    CustomerPhone,
    Equipment,
    JobType,
    JobTypeSkill,
    Note,
    ServiceSite,
    StatusChange,
    Technician,
    TechnicianShift,
    TechnicianSkill,
    TimeEntry,
    Visit,
    VisitTechnician,
    WorkOrder,
)
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.geo import DriveEstimate
from dispatch_app.domain.scheduling import Shift, TimeSpan, first_overlap
from dispatch_app.domain.vocabulary import Priority, Trade, VisitStatus, WorkOrderStatus
from dispatch_app.services.demo import (
    DemoError,
    DemoSummary,
    demo_for_now,
    demo_state,
    rebuild_demo,
    seed_demo,
)

TODAY = dt.date(2026, 12, 1)  # a Tuesday
ZONE = ZoneInfo("America/Chicago")
NOW = dt.datetime.combine(TODAY, dt.time(11), tzinfo=ZONE)
DOWNTOWN = (41.8819, -87.6278)
OPEN = (
    WorkOrderStatus.NEW,
    WorkOrderStatus.SCHEDULED,
    WorkOrderStatus.DISPATCHED,
    WorkOrderStatus.EN_ROUTE,
    WorkOrderStatus.ON_SITE,
)
IDLE = (VisitStatus.CANCELLED, VisitStatus.NO_SHOW)


def _seed(engine: Engine, *, seed: int = 7, now: dt.datetime = NOW) -> DemoSummary:
    with Session(engine) as session:
        summary = seed_demo(session, seed=seed, now=now)
        session.commit()
    return summary


# Stamped by the books' triggers with the moment of writing (their business dates —
# issued, received — are the history's).
WRITTEN_AT = {
    ("invoices", "created_at"),
    ("invoices", "posted_at"),
    ("stock_movements", "moved_at"),
    ("payments", "recorded_at"),
    ("customers", "consent_recorded_at"),
    ("leads", "created_at"),
    ("follow_ups", "created_at"),
}
# Messages are queued for visits happening at the server's "now", not the demo's.
CLOCK_OF_THE_SERVER = {"outbox_messages"}


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, without what the database stamps on its own."""
    dump = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in CLOCK_OF_THE_SERVER:
                continue
            columns = [
                c
                for c in table.c
                if c.name not in ("updated_at", "version")
                and (table.name, c.name) not in WRITTEN_AT
            ]
            rows = connection.execute(select(*columns).order_by(*table.primary_key.columns))
            dump[table.name] = [tuple(row) for row in rows]
    return dump


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    mean_lat = math.radians((a[0] + b[0]) / 2)
    dx = math.radians(b[1] - a[1]) * math.cos(mean_lat)
    dy = math.radians(b[0] - a[0])
    return 6371.0 * math.hypot(dx, dy)


@pytest.fixture(scope="module")
def demo(
    scratch_server: ScratchServer, migrated_template: str
) -> Iterator[tuple[Engine, DemoSummary]]:
    """One seeded company the read-only checks share."""
    with scratch_server.database(template=migrated_template) as url:
        engine = make_sync_engine(url)
        try:
            started = time.perf_counter()
            summary = _seed(engine)
            print(f"seeded in {time.perf_counter() - started:.2f} s: {summary}")
            yield engine, summary
        finally:
            engine.dispose()


# --- 1. Same seed, same day: same company -------------------------------------------


def test_same_seed_and_day_give_identical_rows(
    sync_engine: Engine, scratch_server: ScratchServer, migrated_template: str
) -> None:
    first = _seed(sync_engine)
    with scratch_server.database(template=migrated_template) as url:
        engine = make_sync_engine(url)
        try:
            second = _seed(engine)
            assert second == first
            assert _dump(engine) == _dump(sync_engine)
        finally:
            engine.dispose()
    with scratch_server.database(template=migrated_template) as url:
        engine = make_sync_engine(url)
        try:
            _seed(engine, seed=8)
            other = _dump(engine)
        finally:
            engine.dispose()
    mine = _dump(sync_engine)
    assert other["customers"] != mine["customers"]
    assert other["visits"] != mine["visits"]


# --- 2. Bookable: no double booking, nothing off shift --------------------------------


def _check_schedule(engine: Engine) -> None:
    with Session(engine) as session:
        zone = ZoneInfo(
            str(
                session.scalar(
                    select(AppSetting.value).where(AppSetting.key == "business_timezone")
                )
            )
        )
        shifts = {
            (s.technician_id, s.weekday): Shift(s.weekday, s.starts, s.ends)
            for s in session.scalars(select(TechnicianShift))
        }
        assigned = session.execute(
            select(VisitTechnician.technician_id, Visit)
            .join(Visit, Visit.id == VisitTechnician.visit_id)
            .order_by(Visit.id)
        ).all()

    busy: dict[int, list[TimeSpan]] = defaultdict(list)
    for technician_id, visit in assigned:
        assert visit.starts is not None and visit.ends is not None, "assigned but not booked"
        span = TimeSpan(visit.starts, visit.ends)
        if visit.status not in IDLE:
            busy[technician_id].append(span)

        local_day = visit.starts.astimezone(zone).date()
        # A shift that crosses midnight started the day before.
        on_shift = any(
            shift.span_on(day, zone).start <= span.start
            and span.end <= shift.span_on(day, zone).end
            for day in (local_day, local_day - dt.timedelta(days=1))
            if (shift := shifts.get((technician_id, day.weekday()))) is not None
        )
        assert on_shift, f"visit {visit.id} is outside technician {technician_id}'s shift"
        assert visit.arrival_window_start is not None and visit.arrival_window_end is not None
        assert visit.arrival_window_start <= visit.starts < visit.arrival_window_end

    assert busy
    for technician_id, spans in busy.items():
        assert first_overlap(spans) is None, f"technician {technician_id} is double-booked"


def test_no_technician_is_double_booked_or_booked_off_shift(
    demo: tuple[Engine, DemoSummary],
) -> None:
    _check_schedule(demo[0])


# --- 3. The company the demo promises -------------------------------------------------


def test_company_size_and_service_area(demo: tuple[Engine, DemoSummary]) -> None:
    engine, summary = demo
    with Session(engine) as session:
        trades = session.execute(
            select(Technician.trade, func.count()).group_by(Technician.trade)
        ).all()
        customers = session.scalar(select(func.count()).select_from(Customer))
        sites = session.scalars(select(ServiceSite)).all()
        equipment = session.scalar(select(func.count()).select_from(Equipment))
        orders = session.scalar(select(func.count()).select_from(WorkOrder))
        visits = session.scalar(select(func.count()).select_from(Visit))
        timezone = session.scalar(
            select(AppSetting.value).where(AppSetting.key == "business_timezone")
        )
        colours = session.scalars(select(Technician.colour)).all()
        emails = session.scalars(select(Customer.email).where(Customer.email.is_not(None))).all()
        phones = session.scalars(select(CustomerPhone.number)).all()
        names = session.scalars(select(Customer.name)).all()

    assert timezone == "America/Chicago"
    assert {trade for trade, _ in trades} == {t.value for t in Trade}
    assert 12 <= sum(count for _, count in trades) <= 18
    assert len(set(colours)) == len(colours), "each technician has a colour of their own"
    assert customers is not None and 200 <= customers <= 400
    assert (
        summary.technicians,
        summary.customers,
        summary.sites,
        summary.equipment,
        summary.work_orders,
        summary.visits,
    ) == (sum(c for _, c in trades), customers, len(sites), equipment, orders, visits)
    assert {"José Núñez", "Zoë Åberg", "Lakeview Dental LLC"} <= set(names)
    assert len(set(names)) == len(names)
    # Contact details a demo can never use to reach a real person.
    assert len(set(emails)) == len(emails) > 0.7 * customers
    assert all(e.rsplit("@", 1)[1].split(".")[-2] == "example" for e in emails)
    assert len(set(phones)) == len(phones) >= customers
    assert all(p[5:9] == "5550" and p[9] == "1" for p in phones)
    addresses = [(site.street, site.zip) for site in sites]
    assert len(set(addresses)) == len(addresses), "two sites share an address"
    for site in sites:
        place = zipcodes.matching(site.zip)
        assert place, f"{site.zip} is not a real ZIP code"
        assert (site.city, site.state) == (place[0]["city"], place[0]["state"])
        assert site.lat is not None and site.lon is not None
        assert _km((site.lat, site.lon), DOWNTOWN) <= 50, f"{site.street} is out of town"
        assert _km((site.lat, site.lon), (float(place[0]["lat"]), float(place[0]["long"]))) < 1.5


def test_today_has_one_emergency_and_work_waiting(demo: tuple[Engine, DemoSummary]) -> None:
    engine, summary = demo
    with Session(engine) as session:
        open_orders = session.scalars(
            select(WorkOrder).where(WorkOrder.status.in_([s.value for s in OPEN]))
        ).all()
        crewed = set(
            session.scalars(
                select(Visit.work_order_id).join(
                    VisitTechnician, VisitTechnician.visit_id == Visit.id
                )
            )
        )

    waiting = [o for o in open_orders if o.id not in crewed]
    emergencies = [o for o in open_orders if o.priority == Priority.EMERGENCY]
    assert len(emergencies) == 1
    (emergency,) = emergencies
    assert emergency in waiting
    assert emergency.created_at.astimezone(ZONE).date() == TODAY
    assert 5 <= len(waiting) <= 12
    assert all(o.status == WorkOrderStatus.NEW for o in waiting)
    assert sum(1 for o in open_orders if o.priority == Priority.URGENT) >= 2
    assert summary.unassigned_today == len(waiting)
    assert summary.emergencies_today == 1


def test_history_covers_two_weeks_of_real_work(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with Session(engine) as session:
        visits = session.scalars(select(Visit).where(Visit.starts.is_not(None))).all()
        orders_without_visits = session.scalar(
            select(func.count()).select_from(WorkOrder).where(~WorkOrder.visits.any())
        )
        statuses = session.execute(
            select(WorkOrder.status, func.count()).group_by(WorkOrder.status)
        ).all()
        multi_visit = session.scalar(
            select(func.count()).select_from(Visit).where(Visit.sequence > 1)
        )

    days = {v.starts.astimezone(ZONE).date() for v in visits if v.starts is not None}
    past = sorted(d for d in days if d < TODAY)
    assert past == [TODAY - dt.timedelta(days=n) for n in range(14, 0, -1)]
    assert orders_without_visits == 0
    counts = dict(statuses)
    done = counts.get("completed", 0) + counts.get("invoiced", 0) + counts.get("closed", 0)
    assert done > 5 * (counts.get("cancelled", 0) + counts.get("no_show", 0)) > 0
    assert multi_visit, "re-roofs come back for the tear-off"


def test_status_history_tells_each_order_story(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with Session(engine) as session:
        orders = {o.id: o for o in session.scalars(select(WorkOrder))}
        steps = session.scalars(select(StatusChange).order_by(StatusChange.id)).all()
        first_visit = {
            v.work_order_id: v for v in session.scalars(select(Visit).where(Visit.sequence == 1))
        }

    story: dict[int, list[StatusChange]] = defaultdict(list)
    for step in steps:
        story[step.work_order_id].append(step)
    assert set(story) == set(orders)
    for order_id, chain in story.items():
        order = orders[order_id]
        assert chain[0].from_status is None and chain[0].to_status == WorkOrderStatus.NEW
        assert chain[0].changed_at == order.created_at
        for before, after in pairwise(chain):
            assert after.from_status == before.to_status
            assert after.changed_at > before.changed_at
        assert chain[-1].to_status == order.status
        assert chain[-1].changed_at <= NOW
        visit = first_visit[order_id]
        if visit.starts is not None:
            assert order.created_at < visit.starts
        if order.status in (WorkOrderStatus.CANCELLED, WorkOrderStatus.NO_SHOW):
            assert order.cancel_reason
        # Stamped with the office's and technicians' names, not the login that seeded.
        assert order.created_by == chain[0].changed_by
        assert order.updated_by == chain[-1].changed_by


def test_qualified_technicians_only(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with Session(engine) as session:
        required: dict[int, dict[int, int]] = defaultdict(dict)
        for need in session.scalars(select(JobTypeSkill)):
            required[need.job_type_id][need.skill_id] = need.min_level
        job_types = session.scalars(select(JobType.id)).all()
        levels: dict[int, dict[int, int]] = defaultdict(dict)
        for held in session.scalars(select(TechnicianSkill)):
            levels[held.technician_id][held.skill_id] = held.level
        assigned = session.execute(
            select(VisitTechnician.technician_id, WorkOrder.job_type_id)
            .join(Visit, Visit.id == VisitTechnician.visit_id)
            .join(WorkOrder, WorkOrder.id == Visit.work_order_id)
        ).all()

    assert all(required[job_type] for job_type in job_types)
    for technician_id, job_type_id in assigned:
        for skill_id, minimum in required[job_type_id].items():
            assert levels[technician_id].get(skill_id, 0) >= minimum


def test_todays_board(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with Session(engine) as session:
        technicians = session.scalars(select(Technician).order_by(Technician.id)).all()
        shifts = {
            (s.technician_id, s.weekday): Shift(s.weekday, s.starts, s.ends)
            for s in session.scalars(select(TechnicianShift))
        }
        crew_rows = session.execute(
            select(VisitTechnician.technician_id, VisitTechnician.is_lead, Visit).join(
                Visit, Visit.id == VisitTechnician.visit_id
            )
        ).all()

    crews: dict[int, list[bool]] = defaultdict(list)
    for _, is_lead, visit in crew_rows:
        crews[visit.id].append(is_lead)
    assert all(leads.count(True) == 1 for leads in crews.values()), "one lead per visit"

    on_shift = 0
    for tech in technicians:
        shift = shifts.get((tech.id, TODAY.weekday()))
        if shift is None:
            continue
        on_shift += 1
        hours = shift.span_on(TODAY, ZONE)
        mine = sorted(
            (
                v
                for t, _, v in crew_rows
                if t == tech.id and v.starts is not None and hours.start <= v.starts < hours.end
            ),
            key=lambda v: v.starts,
        )
        assert 3 <= len(mine) <= 6, f"{tech.name} has {len(mine)} visits today"
    assert on_shift >= 12
    _check_day_at(engine, NOW)
    today_crews = [
        leads
        for t, _, v in crew_rows
        if v.starts is not None
        and v.starts.astimezone(ZONE).date() == TODAY
        and len(leads := crews[v.id]) > 1
    ]
    assert today_crews, "at least one crew of two today"


LATE_GRACE = dt.timedelta(minutes=15)  # the board's: a waiting visit this far past its window
WAITING = (VisitStatus.SCHEDULED, VisitStatus.DISPATCHED)


def _check_day_at(engine: Engine, now: dt.datetime) -> list[Visit]:
    """The company as it stands at ``now``: nothing dated later, visits before now done,
    the current ones on site or on the way, at most two late and each with a reason.
    Returns the late visits."""
    with Session(engine) as session:
        leads = dict(
            session.execute(
                select(VisitTechnician.visit_id, VisitTechnician.technician_id).where(
                    VisitTechnician.is_lead
                )
            ).all()
        )
        visits = session.scalars(select(Visit).where(Visit.id.in_(list(leads)))).all()
        notes: dict[int, list[Note]] = defaultdict(list)
        for note in session.scalars(select(Note)):
            notes[note.work_order_id].append(note)
        worked: dict[int, list[TimeEntry]] = defaultdict(list)
        for entry in session.scalars(select(TimeEntry)):
            worked[entry.work_order_id].append(entry)
        latest = {
            "work order": session.scalar(select(func.max(WorkOrder.created_at))),
            "customer": session.scalar(select(func.max(Customer.created_at))),
            "status change": session.scalar(select(func.max(StatusChange.changed_at))),
            "note": session.scalar(select(func.max(Note.created_at))),
            "time entry": session.scalar(select(func.max(TimeEntry.ended_at))),
            "visit": session.scalar(select(func.max(Visit.created_at))),
        }
        queue = session.scalars(
            select(WorkOrder).where(WorkOrder.status == WorkOrderStatus.NEW)
        ).all()
    for what, moment in latest.items():
        assert moment is not None and moment <= now, f"a {what} dated after now: {moment}"
    # The queue holds calls taken today, or since yesterday afternoon.
    yesterday = dt.datetime.combine(
        now.astimezone(ZONE).date() - dt.timedelta(days=1), dt.time(15), tzinfo=ZONE
    )
    assert queue and min(o.created_at for o in queue) >= yesterday

    late = [
        v
        for v in visits
        if v.status in WAITING
        and v.arrival_window_end is not None
        and v.arrival_window_end + LATE_GRACE < now
    ]
    assert len(late) <= 2, "a wall of LATE badges"
    for visit in late:
        said = [n.body for n in notes[visit.work_order_id] if n.created_at <= now]
        assert any("minutes" in body for body in said), "late without a word why"
    by_lead: dict[int, list[Visit]] = defaultdict(list)
    for visit in visits:
        by_lead[leads[visit.id]].append(visit)
    for mine in by_lead.values():
        mine.sort(key=lambda v: v.starts)
        for visit, after in zip(mine, [*mine[1:], None], strict=True):
            assert visit.starts is not None and visit.ends is not None
            if visit.status in IDLE:
                continue
            if visit.ends <= now:
                running_over = visit.status == VisitStatus.ON_SITE and after in late
                assert visit.status == VisitStatus.COMPLETED or running_over, visit.status
            elif visit.starts <= now:
                assert visit.status == VisitStatus.ON_SITE or visit in late, visit.status
            else:
                assert visit.status in (*WAITING, VisitStatus.EN_ROUTE), visit.status
            if visit.status == VisitStatus.COMPLETED:
                sheet = [e for e in worked[visit.work_order_id] if e.note == "On site"]
                assert any(visit.starts - LATE_GRACE <= e.started_at < visit.ends for e in sheet)
    return late


# The hours the demo is opened at; each must look like that hour of a real day.
DEMO_MOMENTS = {
    "friday-07:00": dt.datetime(2026, 12, 4, 7, 0, tzinfo=ZONE),
    "friday-12:00": dt.datetime(2026, 12, 4, 12, 0, tzinfo=ZONE),
    "friday-16:20": dt.datetime(2026, 12, 4, 16, 20, tzinfo=ZONE),
    "friday-21:00": dt.datetime(2026, 12, 4, 21, 0, tzinfo=ZONE),
    "sunday-12:00": dt.datetime(2026, 12, 6, 12, 0, tzinfo=ZONE),
    "tuesday-23:59": dt.datetime(2026, 12, 1, 23, 59, tzinfo=ZONE),
    "autumn-change-01:30": dt.datetime(2026, 11, 1, 1, 30, tzinfo=ZONE),
    "spring-change-02:30": dt.datetime(2027, 3, 14, 2, 30, tzinfo=ZONE),
}


@pytest.mark.parametrize("moment", list(DEMO_MOMENTS))
def test_the_day_stands_at_the_moment_it_is_built_for(sync_engine: Engine, moment: str) -> None:
    now = DEMO_MOMENTS[moment]
    summary = _seed(sync_engine, now=now)
    assert summary.emergencies_today == 1
    _check_schedule(sync_engine)
    _check_day_at(sync_engine, now)


def test_late_afternoon_has_a_late_one_or_two_for_a_reason(sync_engine: Engine) -> None:
    now = DEMO_MOMENTS["friday-16:20"]
    _seed(sync_engine, now=now)
    late = _check_day_at(sync_engine, now)
    assert 1 <= len(late) <= 2
    with Session(sync_engine) as session:
        on_site = session.scalar(
            select(func.count()).select_from(Visit).where(Visit.status == VisitStatus.ON_SITE)
        )
    assert on_site, "at 16:20 somebody is still at a job"


def test_same_seed_and_moment_give_identical_rows_and_another_hour_the_same_company(
    sync_engine: Engine, scratch_server: ScratchServer, migrated_template: str
) -> None:
    now = DEMO_MOMENTS["friday-16:20"]
    _seed(sync_engine, now=now)
    with scratch_server.database(template=migrated_template) as url:
        engine = make_sync_engine(url)
        try:
            _seed(engine, now=now)
            assert _dump(engine) == _dump(sync_engine)
        finally:
            engine.dispose()
    with scratch_server.database(template=migrated_template) as url:
        engine = make_sync_engine(url)
        try:
            _seed(engine, now=DEMO_MOMENTS["friday-12:00"])
            noon = _dump(engine)
        finally:
            engine.dispose()
    later = _dump(sync_engine)
    assert [c[1] for c in noon["customers"]] == [c[1] for c in later["customers"]]
    assert noon["technicians"] == later["technicians"]
    assert noon["visits"] != later["visits"]  # the same day, four hours on


# --- Other days of the year -----------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [
        # A Saturday, two weeks spanning the switch to daylight time.
        dt.datetime(2027, 3, 20, 11, tzinfo=ZONE),
        # A Sunday in summer: on call only.
        dt.datetime(2027, 7, 4, 11, tzinfo=ZONE),
    ],
)
def test_any_day_is_bookable(sync_engine: Engine, now: dt.datetime) -> None:
    summary = _seed(sync_engine, seed=11, now=now)
    assert summary.emergencies_today == 1
    assert summary.unassigned_today >= 5
    _check_schedule(sync_engine)


# --- 4. Only into an empty company ----------------------------------------------------


def test_refuses_a_database_that_already_has_a_company(sync_engine: Engine) -> None:
    with Session(sync_engine) as session:
        session.add(Customer(name="Ana Müller"))
        session.commit()
        with pytest.raises(DemoError, match=r"empty database.*1 customer\.$"):
            seed_demo(session, now=NOW)


def test_refuses_to_seed_twice(demo: tuple[Engine, DemoSummary]) -> None:
    with Session(demo[0]) as session, pytest.raises(DemoError) as raised:
        seed_demo(session, now=NOW)
    assert "customers" in str(raised.value) and "technicians" in str(raised.value)


def test_unknown_time_zone_is_one_clear_sentence(sync_engine: Engine) -> None:
    with Session(sync_engine) as session, pytest.raises(DemoError, match="Mars/Olympus"):
        seed_demo(session, now=NOW, timezone="Mars/Olympus")


# --- 5. --demo on a demo built earlier ---------------------------------------------------


def _mark_moment(engine: Engine) -> dt.datetime:
    with Session(engine) as session:
        state = demo_state(session)
    assert state.mark is not None
    return state.mark.moment


def test_an_untouched_demo_is_rebuilt_for_now(sync_engine: Engine) -> None:
    from dispatch_app.domain.clock import FixedClock

    morning = DEMO_MOMENTS["friday-07:00"]
    afternoon = DEMO_MOMENTS["friday-16:20"]
    _seed(sync_engine, now=morning)
    with Session(sync_engine) as session:
        assert demo_state(session).untouched
        # A restart a few minutes later leaves it alone.
        assert demo_for_now(session, clock=FixedClock(morning + dt.timedelta(minutes=5))) is None
        session.commit()
    assert _mark_moment(sync_engine) == morning
    with Session(sync_engine) as session:
        assert demo_for_now(session, clock=FixedClock(afternoon)) is None
        session.commit()
    assert _mark_moment(sync_engine) == afternoon
    late = _check_day_at(sync_engine, afternoon)
    assert 1 <= len(late) <= 2
    with Session(sync_engine) as session:
        numbers = session.scalars(select(WorkOrder.number).order_by(WorkOrder.number)).all()
    assert numbers[0] == "WO-10001"  # numbered afresh, like a new demo


def test_a_demo_someone_worked_in_is_kept_with_the_command_that_rebuilds_it(
    sync_engine: Engine,
) -> None:
    from dispatch_app.domain.clock import FixedClock

    morning = DEMO_MOMENTS["friday-07:00"]
    _seed(sync_engine, now=morning)
    with Session(sync_engine) as session:
        order = session.scalars(select(WorkOrder).order_by(WorkOrder.id)).first()
        assert order is not None
        session.add(Note(work_order_id=order.id, author="jsmith", body="Customer called back"))
        session.commit()
    before = _dump(sync_engine)
    with Session(sync_engine) as session:
        state = demo_state(session)
        assert state.mark is not None and not state.untouched
        sentence = demo_for_now(session, clock=FixedClock(DEMO_MOMENTS["sunday-12:00"]))
        session.commit()
    assert sentence is not None
    assert "Fri 04 Dec as it stood at 07:00" in sentence
    assert "python main.py db seed-demo --replace" in sentence
    assert _dump(sync_engine) == before  # nothing anyone typed is thrown away

    with Session(sync_engine) as session:
        rebuild_demo(session, now=DEMO_MOMENTS["sunday-12:00"])
        session.commit()
    assert _mark_moment(sync_engine) == DEMO_MOMENTS["sunday-12:00"]
    _check_day_at(sync_engine, DEMO_MOMENTS["sunday-12:00"])


def test_a_real_company_is_never_replaced(sync_engine: Engine) -> None:
    from dispatch_app.domain.clock import FixedClock

    with Session(sync_engine) as session:
        session.add(Technician(name="Ava Kowalski", trade="hvac", colour="#1f77b4"))
        session.commit()
    before = _dump(sync_engine)
    with Session(sync_engine) as session:
        assert demo_for_now(session, clock=FixedClock(NOW)) is None
        with pytest.raises(DemoError, match="does not hold the demo company"):
            rebuild_demo(session, now=NOW)
        session.rollback()
    assert _dump(sync_engine) == before


def test_the_demo_keeps_the_boards_drive_times_and_grid(demo: tuple[Engine, DemoSummary]) -> None:
    """The demo is planned with the board's own rules: between two visits of one
    technician there is at least the drive time the board would ask for, and every
    planned start sits on the board's 15-minute grid."""
    engine, _summary = demo
    with Session(engine) as session:
        drive = DriveEstimate(
            float(session.scalar(select(AppSetting.value).where(AppSetting.key == "road_factor"))),
            float(
                session.scalar(
                    select(AppSetting.value).where(AppSetting.key == "average_speed_kmh")
                )
            ),
        )
        zone = session.scalar(select(AppSetting.value).where(AppSetting.key == "business_timezone"))
        tz = ZoneInfo(str(zone))
        rows = session.execute(
            select(
                VisitTechnician.technician_id,
                Visit.starts,
                Visit.ends,
                ServiceSite.lat,
                ServiceSite.lon,
            )
            .join(Visit, Visit.id == VisitTechnician.visit_id)
            .join(WorkOrder, WorkOrder.id == Visit.work_order_id)
            .join(ServiceSite, ServiceSite.id == WorkOrder.site_id)
            .where(Visit.starts.is_not(None))
            .order_by(VisitTechnician.technician_id, Visit.starts)
        ).all()
    assert rows
    by_technician: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_technician[row.technician_id].append(row)
    for technician_id, visits in by_technician.items():
        for visit in visits:
            assert visit.starts.astimezone(tz).minute % 15 == 0, visit
        for before, after in pairwise(visits):
            if after.starts.date() != before.ends.date():
                continue
            needed = drive.minutes((before.lat, before.lon), (after.lat, after.lon))
            free = (after.starts - before.ends).total_seconds() / 60
            assert free >= needed, (technician_id, before, after, needed)


def test_the_books_have_work_on_the_office_lists(demo: tuple[Engine, DemoSummary]) -> None:
    """Completed work waits to be invoiced, some invoices are unpaid, every closed work
    order is paid in full, and the trucks carry stock the ledger accounts for."""
    engine, _ = demo
    with engine.connect() as connection:

        def value(sql: str) -> Any:
            return connection.execute(text(sql)).scalar_one()

        assert value("SELECT count(*) FROM work_orders WHERE status = 'completed'") > 0
        assert value("SELECT count(*) FROM invoices WHERE status IN ('posted', 'partly_paid')") > 0
        # Closed work is paid; invoiced work is billed and not yet paid off.
        assert (
            value(
                "SELECT count(*) FROM work_orders w JOIN invoices i ON i.work_order_id = w.id "
                "WHERE w.status = 'closed' AND i.total > 0 AND i.status <> 'paid'"
            )
            == 0
        )
        assert (
            value(
                "SELECT count(*) FROM work_orders w WHERE w.status IN ('invoiced', 'closed') "
                "AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.work_order_id = w.id)"
            )
            == 0
        )
        # Numbered in the order they were issued, with no gaps.
        serials = (
            connection.execute(text("SELECT serial FROM invoices ORDER BY issued_on, serial"))
            .scalars()
            .all()
        )
        assert serials == list(range(1001, 1001 + len(serials)))
        # Posted when the office invoiced the work, over the demo's weeks: the reports
        # and the wall count revenue by it (the test server's login is a superuser).
        assert (
            value(
                "SELECT count(*) FROM invoices WHERE posted_at IS NOT NULL "
                "AND (posted_at AT TIME ZONE 'America/Chicago')::date <> issued_on"
            )
            == 0
        )
        assert value("SELECT count(DISTINCT issued_on) FROM invoices") > 5
        assert value("SELECT count(*) FROM parts WHERE kind = 'service'") > 0
        assert value("SELECT count(*) FROM parts WHERE cost = 0 AND kind = 'part'") == 0
        assert value(
            "SELECT count(DISTINCT location_id) FROM stock_levels WHERE on_hand > 0"
        ) == value("SELECT count(*) FROM stock_locations")
        assert (
            value(
                "SELECT count(*) FROM stock_levels s WHERE s.on_hand <> (SELECT sum(quantity) "
                "FROM stock_movements m WHERE m.location_id = s.location_id "
                "AND m.part_id = s.part_id)"
            )
            == 0
        )


def test_the_report_facts_kept_while_seeding_are_what_a_rebuild_makes(
    demo: tuple[Engine, DemoSummary],
) -> None:
    """The triggers kept what each work order came to through every write of the demo
    (the app's operations, and the postings it dated with the triggers off): working it
    all out again from the history changes no row."""
    engine, _ = demo
    facts = (
        "SELECT * FROM work_order_outcomes ORDER BY work_order_id",
        "SELECT * FROM posted_revenue ORDER BY invoice_id",
    )
    with engine.connect() as connection:
        kept = [connection.execute(text(query)).all() for query in facts]
        assert len(kept[0]) == connection.execute(text("SELECT count(*) FROM work_orders")).scalar()
        assert any(row.ended_as == "completed" for row in kept[0])
        assert any(row.ended_as == "cancelled" for row in kept[0])
        assert sum(row.value for row in kept[1]) > 0
        changed = connection.execute(text("SELECT dispatch_rebuild_report_facts()")).scalar()
        rebuilt = [connection.execute(text(query)).all() for query in facts]
        connection.rollback()  # the fixture's company is shared, read-only
    assert changed == 0
    assert rebuilt == kept
