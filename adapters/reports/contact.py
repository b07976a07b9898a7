"""Keeping residents updated: how long open complaints have gone without contact, and how many
cases crossed each countdown level in the period.

Days since contact are counted as the flag rules count them (``engine.flagging``): working days
from the London date of the last contact, or from the received date when there has been none,
to ``as_of``, on the case's own calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, and_, case, func, select
from sqlalchemy.sql import FromClause

from adapters.db.tables import calendar_days, case_flags, cases
from adapters.reports.queries import (
    AnySelect,
    between,
    complaint_cases,
    london_day,
    of_a_complaint,
)


@dataclass(frozen=True, slots=True)
class Contact:
    since_contact: dict[int, int]  # working days since contact -> open complaints
    crossings: dict[str, tuple[int, int]]  # level -> (cases, crossings)


def contact(conn: Connection, start: date, end: date, as_of: date) -> Contact:
    since = {int(r.days): int(r.n) for r in conn.execute(_since_contact(as_of))}
    crossings = {
        str(r.level): (int(r.cases), int(r.n)) for r in conn.execute(_crossings(start, end))
    }
    return Contact(since, crossings)


def _since_contact(as_of: date) -> AnySelect:
    anchor = case(
        (cases.c.last_contact_at.is_(None), cases.c.received_on),
        else_=london_day(cases.c.last_contact_at),
    )
    a, b = calendar_days.alias("anchor_day"), calendar_days.alias("as_of_day")
    joined: FromClause = cases.join(
        a, and_(a.c.calendar == cases.c.calendar, a.c.day == anchor)
    ).join(b, and_(b.c.calendar == cases.c.calendar, b.c.day == as_of))
    days = b.c.cum - a.c.cum
    return (
        select(days.label("days"), func.count().label("n"))
        .select_from(joined)
        .where(cases.c.is_open.is_(True), complaint_cases())
        .group_by(days)
    )


def _crossings(start: date, end: date) -> AnySelect:
    """Per level: the cases that crossed it in the period, and the crossings (a case can cross
    a level again after a contact restarts its countdown)."""
    f = case_flags
    return (
        select(
            f.c.level,
            func.count(f.c.case_id.distinct()).label("cases"),
            func.count().label("n"),
        )
        .where(
            f.c.kind == "contact",
            between(f.c.raised_on, start, end),
            of_a_complaint(f.c.case_id),
        )
        .group_by(f.c.level)
    )
