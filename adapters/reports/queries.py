"""SQL building blocks every report shares (SQLAlchemy Core, dialect-aware where it must be).

Reports aggregate in the database: the rows they fetch are counts per group, never one per case.
What differs between SQLite and PostgreSQL is hidden here:

* the Europe/London date of a stored UTC instant (``london_day``): ``AT TIME ZONE`` on
  PostgreSQL, a deterministic Python function registered on the SQLite connection;
* the first day of a date's month (``month_of``);
* JSON fields are read with SQLAlchemy's portable JSON operators, and (``outcomes``) the
  per-dimension counts use GROUPING SETS on PostgreSQL only.

Working days between two dates are ``cum(b) - cum(a)`` on the ``calendar_days`` table, joined on
each case's own calendar; :func:`ensure_calendar_days` fills it for the calendars in use.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    FunctionElement,
    Select,
    String,
    and_,
    case,
    false,
    func,
    literal,
    select,
    text,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Subquery
from sqlalchemy.sql.compiler import SQLCompiler

from adapters.db.tables import calendar_days, case_events, case_milestones, cases
from adapters.recompute import store_calendar, stored_signature
from sla.calendar import WorkingCalendar
from sla.timezone import LONDON

COMPLAINT = "complaint"
AnySelect = Select[*tuple[Any, ...]]
"""A SELECT of any columns (what the report queries return)."""
SQLITE_LONDON_DAY = "complaints_london_day"
REPORT_WORK_MEM = "128MB"
"""Memory for each sort and hash of a report query on PostgreSQL (this transaction only): the
stock 4MB spills the million-row joins and sorts to disk (bench/reports.py: a third more CPU)."""


# -- dialect-aware expressions ---------------------------------------------------------------


class london_day(FunctionElement[date]):
    """The Europe/London calendar date of a stored UTC timestamp."""

    type = Date()
    inherit_cache = True
    name = "london_day"


@compiles(london_day, "postgresql")
def _london_day_pg(element: london_day, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"CAST(({compiler.process(arg, **kw)} AT TIME ZONE 'Europe/London') AS DATE)"


@compiles(london_day, "sqlite")
def _london_day_sqlite(element: london_day, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"{SQLITE_LONDON_DAY}({compiler.process(arg, **kw)})"


class month_of(FunctionElement[str]):
    """The first day of a date's month (cheap to group by; its first 7 characters are
    ``YYYY-MM``). Typed as text: a date on PostgreSQL, ISO text on SQLite."""

    type = String()
    inherit_cache = True
    name = "month_of"


@compiles(month_of, "postgresql")
def _month_pg(element: month_of, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"CAST(date_trunc('month', CAST({compiler.process(arg, **kw)} AS TIMESTAMP)) AS DATE)"


@compiles(month_of, "sqlite")
def _month_sqlite(element: month_of, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"date({compiler.process(arg, **kw)}, 'start of month')"


def _sqlite_london_day(stored: str | None) -> str | None:
    """SQLite stores UTC timestamps as naive ISO text; return the London date as ISO text."""
    if stored is None:
        return None
    instant = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return instant.astimezone(LONDON).date().isoformat()


def prepare(conn: Connection) -> None:
    """Make the connection ready for report SQL: on PostgreSQL, no JIT compilation for this
    transaction (it costs more than it saves on queries that each run once, measured in
    ``bench/reports.py``) and ``REPORT_WORK_MEM``; on SQLite, register ``london_day``."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
    if conn.dialect.name == "sqlite":
        raw: Any = conn.connection.driver_connection
        raw.create_function(SQLITE_LONDON_DAY, 1, _sqlite_london_day, deterministic=True)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants ``[start 00:00 London, (end + 1) 00:00 London)``: a period of London
    dates as a timestamp range an index can use."""
    first = datetime.combine(start, time(0), tzinfo=LONDON).astimezone(UTC)
    after = datetime.combine(end + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(UTC)
    return first, after


def between(column: Any, start: date, end: date) -> ColumnElement[bool]:
    return and_(column >= start, column <= end)


def json_text(key: str) -> ColumnElement[str]:
    value: ColumnElement[str] = case_events.c.data[key].as_string()
    return value


def json_flag(key: str) -> ColumnElement[bool]:
    value: ColumnElement[bool] = case_events.c.data[key].as_boolean()
    return value


# -- shared subqueries -------------------------------------------------------------------------


def declined_milestones() -> Subquery:
    """``(case_id, milestone)`` of refusals: a complaint declined at receipt (``received``) or an
    escalation refused (``escalation_requested``). Neither was accepted, so neither is counted
    as a complaint received at that stage.

    A case is declined at most once, from ``received`` or from ``escalation_requested``, so a
    declined case with an escalation request had its escalation refused: no need to read the
    event's JSON (the lookup stays inside the ``(kind, case_id)`` index)."""
    escalation = case_milestones.alias("declined_escalation")
    refused = case(
        (escalation.c.case_id.is_(None), literal("received")),
        else_=literal("escalation_requested"),
    )
    return (
        select(case_events.c.case_id.label("case_id"), refused.label("milestone"))
        .select_from(
            case_events.outerjoin(
                escalation,
                and_(
                    escalation.c.case_id == case_events.c.case_id,
                    escalation.c.name == "escalation_requested",
                ),
            )
        )
        .where(case_events.c.kind == "declined")
        .subquery("declined")
    )


def noncompliant_extension(case_id: Any, clock: Any) -> ColumnElement[bool]:
    """True when the clock has an extension beyond the policy's cap or notified after the
    deadline then in force: such a clock is judged against its deadline without extensions
    (product decision 3, README "Reports"). Correlated: evaluate it only for extended clocks."""
    late_or_over = (json_flag("beyond_cap").is_(true())) | (
        json_flag("notified_before_due").is_(false())
    )
    return (
        select(literal(1))
        .where(
            case_events.c.case_id == case_id,
            case_events.c.kind == "extended",
            json_text("clock") == clock,
            late_or_over,
        )
        .exists()
    )


def complaint_cases() -> ColumnElement[bool]:
    return cases.c.workflow == COMPLAINT


def of_a_complaint(case_id: Any) -> ColumnElement[bool]:
    """True when the case ``case_id`` is a complaint, for a measure that needs nothing else
    from the case row: "no case of another workflow has this id". It reads the small partial
    index ``ix_cases_not_complaint`` instead of joining a million case rows (a hash of every
    case) to keep the complaints' facts."""
    other = cases.alias("not_complaint")
    return ~select(literal(1)).where(other.c.id == case_id, other.c.workflow != COMPLAINT).exists()


# -- the working-day table ---------------------------------------------------------------------


# The distinct calendars of all cases by skipping along ix_cases_calendar (a loose index scan:
# one index probe per calendar instead of reading every case).
_CALENDARS_IN_USE = text(
    """
    WITH RECURSIVE used(name) AS (
        SELECT MIN(calendar) FROM cases
        UNION ALL
        SELECT (SELECT MIN(calendar) FROM cases WHERE calendar > used.name)
        FROM used WHERE used.name IS NOT NULL
    )
    SELECT name FROM used WHERE name IS NOT NULL
    """
)


def ensure_calendar_days(db_engine: Engine, calendars: Callable[[str], WorkingCalendar]) -> None:
    """Fill ``calendar_days`` for every calendar a complaint uses, unless it is already there
    and identical (a changed calendar changes the index, and so the stored signature)."""
    with db_engine.connect() as conn:
        names = sorted(conn.execute(_CALENDARS_IN_USE).scalars())
        stored = {
            row.calendar: (int(row.n), int(row.last or 0), int(row.total or 0))
            for row in conn.execute(
                select(
                    calendar_days.c.calendar,
                    func.count().label("n"),
                    func.max(calendar_days.c.cum).label("last"),
                    func.sum(calendar_days.c.cum).label("total"),
                ).group_by(calendar_days.c.calendar)
            )
        }
    for name in names:
        calendar = calendars(name)
        if stored.get(calendar.name) != stored_signature(calendar):
            with db_engine.begin() as conn:
                store_calendar(conn, calendar)
                if conn.dialect.name == "postgresql":
                    # Fresh statistics, or the planner guesses a handful of rows per calendar
                    # and scans the whole calendar for each case (measured: 100x slower).
                    conn.exec_driver_sql("ANALYZE calendar_days")
