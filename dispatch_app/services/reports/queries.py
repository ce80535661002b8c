"""The reports' SQL: for each report the facts behind it (one row per work order, or
per invoice, with the key of the table row it falls in) and the aggregate over them.

Every figure is PostgreSQL's (GROUP BY, FILTER, GROUPING SETS); the same facts serve
the drill-down, so a row's work orders are exactly the ones its figures count. They are
read from what the database keeps of each work order (``work_order_outcomes``) and of
each posting (``posted_revenue``), migration 0012, so a year is one index range. What the
words mean is ``domain/reports``; the bound parameters are ``:since`` and ``:until``
(the period's days), ``:since_at`` and ``:until_at`` (its first moment and the first
moment after it), ``:zone`` (the company's time zone) and the filter's values. Only
the filters that are set are written into a query, so each plan is made for them.
"""

from __future__ import annotations

from dispatch_app.domain.reports import ReportFilter
from dispatch_app.domain.statuses import WORK_ORDER_DONE, sql_values
from dispatch_app.domain.vocabulary import WorkOrderStatus
from dispatch_app.services.leads.leak import CALLED_BACK, MISSED


def _listed(values: list[str]) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


# Done and not closed: the office still owes the paperwork.
UNCLOSED = _listed(sql_values(WORK_ORDER_DONE - {WorkOrderStatus.CLOSED}))


def local_day(moment: str) -> str:
    return f"({moment} AT TIME ZONE :zone)::date"


def work_filter(
    report_filter: ReportFilter, work_order: str, *, job_type: str | None = None
) -> str:
    """`` AND …`` conditions on the work order ``work_order`` (an SQL expression) for
    the filters that are set; empty when none is. ``job_type``, when the row carries
    its work order's job type, is filtered directly instead of through the work order."""
    own: list[str] = []
    direct: list[str] = []
    if report_filter.job_type_id is not None:
        if job_type is None:
            own.append("fw.job_type_id = :job_type_id")
        else:
            direct.append(f"{job_type} = :job_type_id")
    if report_filter.trade is not None:
        if job_type is None:
            own.append(
                "EXISTS (SELECT 1 FROM job_types fj WHERE fj.id = fw.job_type_id "
                "AND fj.trade = :trade)"
            )
        else:
            direct.append(
                f"EXISTS (SELECT 1 FROM job_types fj WHERE fj.id = {job_type} "
                "AND fj.trade = :trade)"
            )
    if report_filter.zone is not None:
        own.append(
            "EXISTS (SELECT 1 FROM service_sites fs WHERE fs.id = fw.site_id "
            "AND fs.zip LIKE :zip_prefix)"
        )
    conditions = list(direct)
    if own:
        conditions.append(
            f"EXISTS (SELECT 1 FROM work_orders fw WHERE fw.id = {work_order} "
            f"AND {' AND '.join(own)})"
        )
    if report_filter.technician_id is not None:
        conditions.append(
            "EXISTS (SELECT 1 FROM visits fv JOIN visit_technicians ft ON ft.visit_id = fv.id "
            f"WHERE fv.work_order_id = {work_order} AND ft.technician_id = :technician_id)"
        )
    return "".join(f"\n  AND {condition}" for condition in conditions)


def revenue(report_filter: ReportFilter) -> str:
    """Revenue: one row per posted invoice of the period (id = its work order, the day
    it was posted, what it bills less what was credited, and its work order's job type,
    lead technician and whole bill), read from ``posted_revenue``'s index alone when no
    filter is set."""
    return f"""
SELECT r.work_order_id AS id, r.posted_at AS at, {local_day("r.posted_at")} AS day, r.value,
       r.job_type_id, r.lead_technician_id, r.job_billed, r.previous_posted_at
FROM posted_revenue r
WHERE r.posted_at >= :since_at AND r.posted_at < :until_at
{work_filter(report_filter, "r.work_order_id", job_type="r.job_type_id")}"""


def ended(report_filter: ReportFilter, *, early: bool) -> str:
    """The work orders completed (and, with ``early``, cancelled or a no-show) in the
    period: id, how (completed, cancelled, no_show), the moment it was, and what the
    reports group it by, from ``work_order_outcomes`` (its last status step to how it
    ended, else its last change: a job completed, reopened and completed again counts
    once, on the last day)."""
    how = "('completed', 'cancelled', 'no_show')" if early else "('completed')"
    return f"""
SELECT o.work_order_id AS id, o.ended_as AS how, o.ended_at AS at, o.job_type_id,
       o.cancel_reason, o.first_time_fix, o.lead_technician_id
FROM work_order_outcomes o
WHERE o.ended_at >= :since_at AND o.ended_at < :until_at AND o.ended_as IN {how}
{work_filter(report_filter, "o.work_order_id", job_type="o.job_type_id")}"""


# The weeks the period touches: ``n`` (1, 2, …), ``key`` (its Monday, ``2026-11-30``),
# ``week`` (that Monday) and ``starts`` (its first moment in the company's zone).
WEEKS = """
SELECT g.n::integer AS n, to_char(g.d, 'YYYY-MM-DD') AS key, g.d::date AS week,
       g.d AT TIME ZONE :zone AS starts
FROM generate_series(date_trunc('week', CAST(:since AS timestamp)),
                     CAST(:until AS timestamp), interval '1 week') WITH ORDINALITY AS g(d, n)"""
# Computed once per query (an uncorrelated subquery is an InitPlan).
_WEEK_STARTS = f"(SELECT array_agg(w.starts ORDER BY w.n) FROM ({WEEKS}) w)"
_WEEK_KEYS = f"(SELECT array_agg(w.key ORDER BY w.n) FROM ({WEEKS}) w)"


def week_number(moment: str) -> str:
    """The period's week ``moment`` falls in (1 for the first, 0 before it): a binary
    search of the weeks' first moments, no time-zone sum per row."""
    return f"width_bucket({moment}, {_WEEK_STARTS})"


def week_key(moment: str) -> str:
    """The week ``moment`` falls in as a row's key: its Monday, ``2026-11-30``."""
    return f"{_WEEK_KEYS}[{week_number(moment)}]"


def new_to_week(posting: str) -> str:
    """Whether the posting ``posting`` (a ``posted_revenue`` row) is its work order's
    first in its week (``posting.n``): each work order counts once a week."""
    return f"coalesce(width_bucket({posting}.previous_posted_at, {_WEEK_STARTS}), 0) < {posting}.n"


def new_to_period(posting: str) -> str:
    """Whether the posting is its work order's first in the period: counting these
    counts each work order with revenue in the period once."""
    return f"({posting}.previous_posted_at IS NULL OR {posting}.previous_posted_at < :since_at)"


# -- average job value --------------------------------------------------------------------
def average_job_value_facts(report_filter: ReportFilter) -> str:
    return f"""
SELECT r.id, {week_key("r.at")} AS key, {week_number("r.at")} AS n, r.day, r.value,
       r.previous_posted_at
FROM ({revenue(report_filter)}) r"""


def average_job_value(report_filter: ReportFilter) -> str:
    return f"""
WITH facts AS ({average_job_value_facts(report_filter)}),
totals AS (
    SELECT f.n, count(*) FILTER (WHERE {new_to_week("f")}) AS jobs,
           count(*) FILTER (WHERE {new_to_period("f")}) AS period_jobs, sum(f.value) AS revenue
    FROM facts f GROUP BY f.n
)
SELECT k.key, k.week, coalesce(t.jobs, 0) AS jobs, coalesce(t.revenue, 0) AS revenue,
       round(t.revenue / nullif(t.jobs, 0), 2) AS average, 0 AS whole
FROM ({WEEKS}) k LEFT JOIN totals t ON t.n = k.n
UNION ALL
SELECT NULL, NULL, coalesce(sum(t.period_jobs), 0), coalesce(sum(t.revenue), 0),
       round(sum(t.revenue) / nullif(sum(t.period_jobs), 0), 2), 1
FROM totals t
ORDER BY whole, key"""


# -- completion rate ----------------------------------------------------------------------
def completion_rate_facts(report_filter: ReportFilter) -> str:
    return f"""
SELECT e.id, {week_key("e.at")} AS key, {week_number("e.at")} AS n, {local_day("e.at")} AS day,
       NULL::numeric AS value, e.how
FROM ({ended(report_filter, early=True)}) e"""


def completion_rate(report_filter: ReportFilter) -> str:
    return f"""
WITH facts AS ({completion_rate_facts(report_filter)}),
totals AS (
    SELECT f.n, count(*) FILTER (WHERE f.how = 'completed') AS completed,
           count(*) FILTER (WHERE f.how <> 'completed') AS early
    FROM facts f GROUP BY f.n
)
SELECT k.key, k.week, coalesce(t.completed, 0) AS completed, coalesce(t.early, 0) AS early,
       round(100.0 * t.completed / nullif(t.completed + t.early, 0), 1) AS rate, 0 AS whole
FROM ({WEEKS}) k LEFT JOIN totals t ON t.n = k.n
UNION ALL
SELECT NULL, NULL, coalesce(sum(t.completed), 0), coalesce(sum(t.early), 0),
       round(100.0 * sum(t.completed) / nullif(sum(t.completed + t.early), 0), 1), 1
FROM totals t
ORDER BY whole, key"""


# -- first-time fix -----------------------------------------------------------------------
def first_time_fix_facts(report_filter: ReportFilter) -> str:
    return f"""
SELECT e.id, e.job_type_id::text AS key, {local_day("e.at")} AS day, NULL::numeric AS value,
       e.first_time_fix AS one_visit
FROM ({ended(report_filter, early=False)}) e"""


def first_time_fix(report_filter: ReportFilter) -> str:
    return f"""
WITH facts AS ({first_time_fix_facts(report_filter)}),
totals AS (
    SELECT f.key, GROUPING(f.key) AS whole, count(*) AS completed,
           count(*) FILTER (WHERE f.one_visit) AS one_visit
    FROM facts f GROUP BY GROUPING SETS ((f.key), ())
)
SELECT t.key, j.name, j.trade, t.completed, t.one_visit,
       round(100.0 * t.one_visit / nullif(t.completed, 0), 1) AS rate, t.whole
FROM totals t LEFT JOIN job_types j ON t.whole = 0 AND j.id = t.key::bigint
ORDER BY t.whole, j.trade, j.name, t.key"""


# -- technician productivity --------------------------------------------------------------
def productivity_facts(report_filter: ReportFilter) -> str:
    """A row per job invoiced in the period (its revenue) and per job completed in it
    (``completed``), keyed by the technician who led its last completed visit."""
    return f"""
SELECT r.id, r.lead_technician_id::text AS key, r.day, r.value, false AS completed
FROM ({revenue(report_filter)}) r
WHERE r.lead_technician_id IS NOT NULL
UNION ALL
SELECT d.id, d.lead_technician_id::text, {local_day("d.at")}, NULL, true
FROM ({ended(report_filter, early=False)}) d
WHERE d.lead_technician_id IS NOT NULL"""


def productivity(report_filter: ReportFilter) -> str:
    technician = "" if report_filter.technician_id is None else "AND t.id = :technician_id"
    trade = "" if report_filter.trade is None else "AND t.trade = :trade"
    # Revenue and completed jobs are summed apart, each from its own index, and joined
    # per technician (150 rows), not as one union of every job.
    return f"""
WITH revenue AS (
    SELECT r.lead_technician_id AS technician_id, sum(r.value) AS revenue
    FROM ({revenue(report_filter)}) r
    WHERE r.lead_technician_id IS NOT NULL
    GROUP BY r.lead_technician_id
),
done AS (
    SELECT d.lead_technician_id AS technician_id, count(*) AS jobs
    FROM ({ended(report_filter, early=False)}) d
    WHERE d.lead_technician_id IS NOT NULL
    GROUP BY d.lead_technician_id
),
work AS (
    SELECT coalesce(r.technician_id, d.technician_id) AS technician_id, r.revenue, d.jobs
    FROM revenue r FULL JOIN done d ON d.technician_id = r.technician_id
),
clock AS (
    SELECT te.technician_id, extract(epoch FROM sum(te.ended_at - te.started_at)) / 3600 AS hours
    FROM time_entries te
    WHERE te.started_at >= :since_at AND te.started_at < :until_at
    {work_filter(report_filter, "te.work_order_id")}
    GROUP BY te.technician_id
),
shift AS (
    SELECT ts.technician_id, count(*) AS days,
           sum(extract(epoch FROM CASE WHEN ts.ends > ts.starts THEN ts.ends - ts.starts
                                       ELSE ts.ends - ts.starts + interval '24 hours' END))
               / 3600 AS hours
    FROM generate_series(CAST(:since AS timestamp), CAST(:until AS timestamp),
                         interval '1 day') d
    JOIN technician_shifts ts ON ts.weekday = extract(isodow FROM d) - 1
    GROUP BY ts.technician_id
),
per AS (
    SELECT t.id, t.name, coalesce(s.hours, 0) AS shift_hours, coalesce(c.hours, 0) AS clock_hours,
           coalesce(w.revenue, 0) AS revenue, coalesce(w.jobs, 0) AS jobs,
           coalesce(s.days, 0) AS days
    FROM technicians t
    LEFT JOIN shift s ON s.technician_id = t.id
    LEFT JOIN clock c ON c.technician_id = t.id
    LEFT JOIN work w ON w.technician_id = t.id
    WHERE ((t.active {trade}) OR c.hours IS NOT NULL OR w.technician_id IS NOT NULL)
      {technician}
),
totals AS (
    SELECT p.id, GROUPING(p.id) AS whole, min(p.name) AS name,
           sum(p.shift_hours) AS shift_hours, sum(p.clock_hours) AS clock_hours,
           sum(p.revenue) AS revenue, sum(p.jobs) AS jobs, sum(p.days) AS days
    FROM per p GROUP BY GROUPING SETS ((p.id), ())
)
SELECT t.id::text AS key, t.name, round(t.shift_hours, 1) AS shift_hours,
       round(t.clock_hours, 1) AS clock_hours,
       round(100 * t.clock_hours / nullif(t.shift_hours, 0), 1) AS utilisation,
       coalesce(t.revenue, 0) AS revenue, coalesce(t.jobs, 0) AS jobs,
       coalesce(t.days, 0) AS days, round(t.jobs / nullif(t.days, 0), 2) AS per_day, t.whole
FROM totals t
ORDER BY t.whole, t.name, t.id"""


# -- revenue by job type ------------------------------------------------------------------
def revenue_by_job_type_facts(report_filter: ReportFilter) -> str:
    return f"""
SELECT r.id, r.job_type_id::text AS key, r.day, r.value, j.trade, r.previous_posted_at
FROM ({revenue(report_filter)}) r JOIN job_types j ON j.id = r.job_type_id"""


def revenue_by_job_type(report_filter: ReportFilter) -> str:
    """Rows by job type, then one per trade (``whole`` 2), then the total (``whole`` 3).
    The postings are summed per job type first (40 rows), and those rows by trade."""
    return f"""
WITH per_type AS (
    SELECT r.job_type_id, count(*) FILTER (WHERE {new_to_period("r")}) AS jobs,
           sum(r.value) AS revenue
    FROM ({revenue(report_filter)}) r GROUP BY r.job_type_id
),
totals AS (
    SELECT p.job_type_id::text AS key, j.trade, GROUPING(p.job_type_id, j.trade) AS whole,
           sum(p.jobs) AS jobs, sum(p.revenue) AS revenue
    FROM per_type p JOIN job_types j ON j.id = p.job_type_id
    GROUP BY GROUPING SETS ((p.job_type_id, j.trade), (j.trade), ())
)
SELECT t.key, j.name, t.trade, coalesce(t.jobs, 0) AS jobs, coalesce(t.revenue, 0) AS revenue,
       t.whole
FROM totals t LEFT JOIN job_types j ON t.whole = 0 AND j.id = t.key::bigint
ORDER BY t.whole, t.revenue DESC, t.trade, j.name, t.key"""


# -- cancellations ------------------------------------------------------------------------
def cancellations_facts(report_filter: ReportFilter) -> str:
    return f"""
SELECT e.id, btrim(e.cancel_reason) AS key, {local_day("e.at")} AS day,
       NULL::numeric AS value, e.how,
       EXISTS (SELECT 1 FROM follow_ups u WHERE u.work_order_id = e.id
               AND u.kind IN ('cancellation', 'no_show') AND u.outcome = 'recovered')
           AS recovered
FROM ({ended(report_filter, early=True)}) e
WHERE e.how IN ('cancelled', 'no_show')"""


def cancellations(report_filter: ReportFilter) -> str:
    return f"""
WITH facts AS ({cancellations_facts(report_filter)})
SELECT f.key, GROUPING(f.key) AS whole, count(*) AS jobs,
       count(*) FILTER (WHERE f.how = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE f.how = 'no_show') AS no_shows,
       count(*) FILTER (WHERE f.recovered) AS recovered
FROM facts f GROUP BY GROUPING SETS ((f.key), ())
ORDER BY whole, jobs DESC, key"""


# -- aging --------------------------------------------------------------------------------
AGE_BUCKETS = (
    ("0-7", "0–7 days"),
    ("8-30", "8–30 days"),
    ("31-90", "31–90 days"),
    ("over-90", "Over 90 days"),
)


def aging_facts(report_filter: ReportFilter) -> str:
    """The work orders open at ``:until_at``: booked before it, and not ended by then
    (still open, or ended at or after it)."""
    booked = local_day("o.created_at")
    return f"""
WITH open_then AS (
    SELECT o.work_order_id AS id, o.created_at FROM work_order_outcomes o
    WHERE o.ended_at IS NULL AND o.created_at < :until_at
    UNION ALL
    SELECT o.work_order_id, o.created_at FROM work_order_outcomes o
    WHERE o.ended_at >= :until_at AND o.created_at < :until_at
),
aged AS (
    SELECT o.id, {booked} AS day, CAST(:until AS date) - {booked} AS age
    FROM open_then o
    WHERE true {work_filter(report_filter, "o.id")}
)
SELECT a.id, CASE WHEN a.age <= 7 THEN '0-7' WHEN a.age <= 30 THEN '8-30'
                  WHEN a.age <= 90 THEN '31-90' ELSE 'over-90' END AS key,
       a.day, NULL::numeric AS value, a.age
FROM aged a"""


def aging(report_filter: ReportFilter) -> str:
    buckets = ", ".join(f"('{key}', '{label}', {n})" for n, (key, label) in enumerate(AGE_BUCKETS))
    return f"""
WITH facts AS ({aging_facts(report_filter)}),
totals AS (
    SELECT f.key, GROUPING(f.key) AS whole, count(*) AS open, min(f.day) AS oldest,
           max(f.age) AS oldest_age, count(*) FILTER (WHERE f.age > 30) AS over_30
    FROM facts f GROUP BY GROUPING SETS ((f.key), ())
)
SELECT b.key, b.label, coalesce(t.open, 0) AS open, t.oldest, t.oldest_age, t.over_30,
       0 AS whole, b.n
FROM (VALUES {buckets}) b(key, label, n) LEFT JOIN totals t ON t.key = b.key AND t.whole = 0
UNION ALL
SELECT NULL, NULL, t.open, t.oldest, t.oldest_age, t.over_30, 1, 0
FROM totals t WHERE t.whole = 1
ORDER BY whole, n"""


# -- completed, not invoiced or not closed ------------------------------------------------
NOT_INVOICED_ROWS = (("not-invoiced", "Not invoiced"), ("not-closed", "Invoiced, not closed"))


def not_invoiced_facts(report_filter: ReportFilter) -> str:
    """Done work orders not closed, completed before ``:until_at``: without a posted
    invoice (valued at what their line items charge), or with one (valued at what is
    still owed on them)."""
    return f"""
SELECT o.work_order_id AS id, CASE WHEN o.bills > 0 THEN 'not-closed' ELSE 'not-invoiced' END
           AS key,
       {local_day("o.ended_at")} AS day,
       CASE WHEN o.bills > 0 THEN o.owed ELSE o.charged END AS value
FROM work_order_outcomes o
WHERE o.status IN {UNCLOSED} AND o.ended_at < :until_at
{work_filter(report_filter, "o.work_order_id", job_type="o.job_type_id")}"""


def not_invoiced(report_filter: ReportFilter) -> str:
    rows = ", ".join(
        f"('{key}', '{label}', {n})" for n, (key, label) in enumerate(NOT_INVOICED_ROWS)
    )
    return f"""
WITH facts AS ({not_invoiced_facts(report_filter)}),
totals AS (
    SELECT f.key, count(*) AS jobs, sum(f.value) AS value, min(f.day) AS oldest
    FROM facts f GROUP BY f.key
)
SELECT b.key, b.label, coalesce(t.jobs, 0) AS jobs, coalesce(t.value, 0) AS value, t.oldest
FROM (VALUES {rows}) b(key, label, n) LEFT JOIN totals t ON t.key = b.key
ORDER BY b.n"""


# -- missed calls -------------------------------------------------------------------------
def missed_calls_facts() -> str:
    """A row per missed call of the period: id is the work order a booked one became,
    valued as the Leads inbox values it (all its posted invoices, whenever)."""
    return f"""
SELECT l.work_order_id AS id, {week_key("l.received_at")} AS key,
       {week_number("l.received_at")} AS n, {local_day("l.received_at")} AS day,
       CASE WHEN l.outcome = 'booked' THEN
           coalesce((SELECT o.billed FROM work_order_outcomes o
                     WHERE o.work_order_id = l.work_order_id), 0)
       END AS value,
       ({CALLED_BACK}) AS called_back, l.outcome = 'booked' AS booked
FROM leads l
WHERE {MISSED} AND l.received_at >= :since_at AND l.received_at < :until_at"""


def missed_calls() -> str:
    """By week; ``:average`` is the period's average job value (the leak's), so a
    week's revenue at risk is its missed calls at that value and the weeks add up."""
    return f"""
WITH facts AS ({missed_calls_facts()}),
totals AS (
    SELECT f.n, count(*) AS missed, count(*) FILTER (WHERE f.called_back) AS called_back,
           count(*) FILTER (WHERE f.booked) AS booked, sum(f.value) AS recovered
    FROM facts f GROUP BY f.n
)
SELECT k.key, k.week, coalesce(t.missed, 0) AS missed,
       coalesce(t.called_back, 0) AS called_back, coalesce(t.booked, 0) AS booked,
       coalesce(t.missed, 0) * CAST(:average AS numeric) AS at_risk,
       coalesce(t.recovered, 0) AS recovered
FROM ({WEEKS}) k LEFT JOIN totals t ON t.n = k.n
ORDER BY k.key"""


# -- the drill-down -----------------------------------------------------------------------
def behind(facts: str, *, keyed: bool) -> str:
    """The work orders among ``facts`` (of one row's ``:key`` when ``keyed``), each once:
    its latest day and its values summed, oldest first."""
    key = "AND f.key = :key" if keyed else ""
    return f"""
WITH facts AS ({facts})
SELECT f.id, w.number, c.name AS customer, j.name AS job_type, w.status,
       max(f.day) AS day, sum(f.value) AS value
FROM facts f
JOIN work_orders w ON w.id = f.id
JOIN customers c ON c.id = w.customer_id
JOIN job_types j ON j.id = w.job_type_id
WHERE f.id IS NOT NULL {key}
GROUP BY f.id, w.number, c.name, j.name, w.status
ORDER BY max(f.day), f.id
LIMIT :limit"""
