"""Recompute deadlines when a calendar changes (a bank holiday proclaimed, a closure added).

Set-based, in the database: the calendar is stored as a table of days with their cumulative
working-day index (``calendar_days``), so the n-th working day after a clock's start is a join,
and one transaction per calendar:

1. finds the running clocks of open cases whose due date differs on the new calendar,
2. moves them (``case_clocks`` is the one source of due dates),
3. appends one ``deadline_moved`` event per moved clock (old and new dates) to each case's
   timeline, numbered after the case's existing events,
4. marks those cases due for the next sweep (``next_flag_on``), which re-evaluates their flags,
5. records the new fingerprint for the calendar in ``calendar_states``: every open case of the
   calendar is now on it, moved or not, so the unmoved cases are not rewritten (a restamp of
   every case row cost as much as the plain ``UPDATE`` of the whole table). A case's own
   ``calendar_fingerprint`` is the calendar it was opened (or last moved) on.

A case opened on an old calendar after a recompute (a process that had not reloaded the
calendar yet) still makes the calendar stale: :func:`stale_calendars` looks for open cases of an
old fingerprint opened since shortly before the last recompute, and the recompute restamps those
few, so the check settles.

Stopped clocks are history and keep the dates they were judged by. Nothing is read into Python
per case, so the cost is a couple of set-based statements however many cases there are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, Date, Engine, bindparam, delete, insert, select, text, update

from adapters.db.tables import calendar_days, calendar_states, cases
from adapters.db.types import UtcDateTime
from sla.calendar import WorkingCalendar

log = structlog.get_logger()


@dataclass
class RecomputeSummary:
    cases_moved: int = 0
    deadlines_moved: int = 0
    cases_restamped: int = 0
    calendars: list[str] = field(default_factory=list)


def calendars_in_use(db_engine: Engine) -> list[str]:
    with db_engine.connect() as conn:
        stmt = select(cases.c.calendar).where(cases.c.is_open.is_(True)).distinct()
        return sorted(conn.execute(stmt).scalars())


# How long before a recompute a case opened on an old calendar may have committed after it (its
# transaction began before the recompute's and ended after): such cases still count as stale.
RACE_MARGIN = timedelta(minutes=10)


def stale_calendars(
    db_engine: Engine, calendars: Callable[[str], WorkingCalendar]
) -> dict[str, str]:
    """Calendars whose open cases were computed with another fingerprint: name -> current.

    A calendar is stale when its last recompute (``calendar_states``) was to another fingerprint
    or it never had one and an open case is on another fingerprint, or when a case on another
    fingerprint was opened since shortly before that recompute.
    """
    with db_engine.connect() as conn:
        states = {
            row.calendar: row
            for row in conn.execute(
                select(calendar_states.c.calendar, calendar_states.c.fingerprint,
                       calendar_states.c.recomputed_at)
            )
        }  # fmt: skip
        rows = conn.execute(
            select(cases.c.calendar, cases.c.calendar_fingerprint)
            .where(cases.c.is_open.is_(True))
            .distinct()
        ).all()
        stale: dict[str, str] = {}
        for name, fingerprint in rows:
            current = calendars(name).fingerprint
            if fingerprint == current or name in stale:
                continue
            state = states.get(name)
            if state is None or state.fingerprint != current:
                stale[name] = current
                continue
            since = state.recomputed_at - RACE_MARGIN
            late = conn.execute(
                select(cases.c.id)
                .where(*_behind(name, current), cases.c.created_at >= since)
                .limit(1)
            ).first()
            if late is not None:
                stale[name] = current
    return stale


def _behind(name: str, fingerprint: str) -> tuple[Any, ...]:
    return (
        cases.c.calendar == name,
        cases.c.is_open.is_(True),
        cases.c.calendar_fingerprint != fingerprint,
    )


def recompute(
    db_engine: Engine,
    *,
    calendars: Callable[[str], WorkingCalendar],
    now: datetime,
    as_of: date,
    force: bool = False,
) -> RecomputeSummary:
    """Recompute the running deadlines of open cases on every stale calendar (every calendar in
    use with ``force``), one transaction per calendar."""
    names = calendars_in_use(db_engine) if force else sorted(stale_calendars(db_engine, calendars))
    summary = RecomputeSummary(calendars=names)
    for name in names:
        calendar = calendars(name)
        with db_engine.begin() as conn:
            store_calendar(conn, calendar)
            moved, clocks, restamped = _recompute_calendar(conn, calendar, now, as_of)
        summary.cases_moved += moved
        summary.deadlines_moved += clocks
        summary.cases_restamped += restamped
    log.info(
        "deadlines_recomputed",
        calendars=names,
        cases_moved=summary.cases_moved,
        deadlines_moved=summary.deadlines_moved,
    )
    return summary


def store_calendar(conn: Connection, calendar: WorkingCalendar) -> None:
    """(Re)write the calendar's days with their cumulative working-day index."""
    conn.execute(delete(calendar_days).where(calendar_days.c.calendar == calendar.name))
    rows = []
    day = calendar.first_day
    one = timedelta(days=1)
    previous = 0
    while day <= calendar.last_day:
        cum = calendar.working_day_index(day)
        rows.append({"calendar": calendar.name, "day": day, "cum": cum, "working": cum > previous})
        previous = cum
        day += one
    conn.execute(insert(calendar_days), rows)


_MOVED = """
CREATE TEMPORARY TABLE recompute_moved AS
SELECT cc.case_id AS case_id, cc.clock AS clock, cc.due_on AS old_due, w2.day AS new_due
FROM case_clocks cc
JOIN cases c ON c.id = cc.case_id
JOIN calendar_days w1 ON w1.calendar = :cal AND w1.day = cc.started_on
JOIN calendar_days w2
  ON w2.calendar = :cal AND w2.working AND w2.cum = w1.cum + cc.base_days + cc.extended_days
WHERE c.calendar = :cal AND c.is_open AND cc.stopped_on IS NULL AND cc.due_on <> w2.day
"""

_MOVE_CLOCKS = """
UPDATE case_clocks SET due_on = m.new_due
FROM recompute_moved m
WHERE case_clocks.case_id = m.case_id AND case_clocks.clock = m.clock
"""

_EVENTS = """
INSERT INTO case_events (case_id, seq, kind, occurred_at, recorded_at, actor, data, before, after)
SELECT m.case_id,
       c.event_count + ROW_NUMBER() OVER (PARTITION BY m.case_id ORDER BY m.clock),
       'deadline_moved', :now, :now, 'system',
       {data}, {before}, {after}
FROM recompute_moved m JOIN cases c ON c.id = m.case_id
"""

_JSON = {
    "postgresql": (
        "jsonb_build_object('reason', 'calendar changed', 'calendar', c.calendar, "
        "'clock', m.clock, 'from', m.old_due::text, 'to', m.new_due::text)",
        "jsonb_build_object('deadlines', jsonb_build_object(m.clock, m.old_due::text))",
        "jsonb_build_object('deadlines', jsonb_build_object(m.clock, m.new_due::text))",
    ),
    "sqlite": (
        "json_object('reason', 'calendar changed', 'calendar', c.calendar, "
        "'clock', m.clock, 'from', m.old_due, 'to', m.new_due)",
        "json_object('deadlines', json_object(m.clock, m.old_due))",
        "json_object('deadlines', json_object(m.clock, m.new_due))",
    ),
}

_COUNT_AND_MARK = """
UPDATE cases SET event_count = cases.event_count + per_case.moved,
                 next_flag_on = :today,
                 calendar_fingerprint = :fingerprint
FROM (SELECT case_id, COUNT(*) AS moved FROM recompute_moved GROUP BY case_id) per_case
WHERE cases.id = per_case.case_id
"""


def _recompute_calendar(
    conn: Connection, calendar: WorkingCalendar, now: datetime, as_of: date
) -> tuple[int, int, int]:
    params = {"cal": calendar.name}
    conn.execute(text("DROP TABLE IF EXISTS recompute_moved"))
    conn.execute(text(_MOVED), params)
    if conn.dialect.name == "sqlite":
        # SQLite's UPDATE ... FROM otherwise scans the moved set for every clock row it updates.
        conn.execute(text("CREATE INDEX recompute_moved_key ON recompute_moved (case_id, clock)"))
    else:
        # A temporary table has no statistics until analysed: without them PostgreSQL guesses
        # its size and may plan the three set-based writes below with nested loops.
        conn.execute(text("ANALYZE recompute_moved"))
    clocks = conn.execute(text("SELECT COUNT(*) FROM recompute_moved")).scalar_one()
    moved_cases = conn.execute(
        text("SELECT COUNT(DISTINCT case_id) FROM recompute_moved")
    ).scalar_one()
    if clocks:
        conn.execute(text(_MOVE_CLOCKS))
        data, before, after = _JSON[conn.dialect.name]
        events = text(_EVENTS.format(data=data, before=before, after=after)).bindparams(
            bindparam("now", type_=UtcDateTime())
        )
        conn.execute(events, {"now": now})
        mark = text(_COUNT_AND_MARK).bindparams(bindparam("today", type_=Date()))
        # Moved cases take the new fingerprint here, so the restamp below touches each case
        # row at most once.
        conn.execute(mark, {"today": as_of, "fingerprint": calendar.fingerprint})
    # The few unmoved cases opened on an old calendar since shortly before the last recompute
    # (see ``stale_calendars``) take the new fingerprint, so the check settles; the others are
    # covered by the calendar's state.
    previous = conn.execute(
        select(calendar_states.c.recomputed_at).where(calendar_states.c.calendar == calendar.name)
    ).scalar()
    restamped = 0
    if previous is not None:
        restamped = conn.execute(
            update(cases)
            .where(
                *_behind(calendar.name, calendar.fingerprint),
                cases.c.created_at >= previous - RACE_MARGIN,
            )
            .values(calendar_fingerprint=calendar.fingerprint)
        ).rowcount
    _record_state(conn, calendar, now)
    conn.execute(text("DROP TABLE recompute_moved"))
    return int(moved_cases), int(clocks), int(restamped) + (int(moved_cases) if clocks else 0)


def _record_state(conn: Connection, calendar: WorkingCalendar, now: datetime) -> None:
    """Record that every open case of the calendar is on its current fingerprint."""
    values = {"fingerprint": calendar.fingerprint, "recomputed_at": now}
    done = conn.execute(
        update(calendar_states).where(calendar_states.c.calendar == calendar.name).values(**values)
    ).rowcount
    if not done:
        conn.execute(insert(calendar_states).values(calendar=calendar.name, **values))
