"""TSM CH01 and CH02 for a reporting year (1 April to 31 March), LCRA and LCHO separately.

Counting rules (README, "Reports"; domain.md section 2 and rule 21):

* CH01 Stage 1: complaints whose ``received`` business date falls in the year, except those
  declined at receipt (never accepted as complaints). CH01 Stage 2: complaints whose
  ``escalation_requested`` date falls in the year, except refused escalations. Per 1,000 homes
  of the tenure.
* CH02 Stage s: complaints whose Stage s response (``responded`` / ``stage2_responded``) falls in
  the year. Within timescale under ``acknowledged-and-responded`` (default): the stage's
  acknowledgement clock stopped on or before its due date (when the policy has one: the 2022
  Code has no Stage 2 acknowledgement, the SPSO model none at Stage 1) and the response clock
  stopped on or before its due date; under ``responded``, the response leg only. A due date
  includes extensions only when every extension of that clock was within the policy's cap and
  notified before the deadline in force; otherwise the clock is judged against started_on +
  base_days working days, and the extensions are listed separately (restricted cases the viewer
  may not see are counted there but not listed: ``visibility``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine, and_, case, false, func, literal, or_, select
from sqlalchemy.sql import ColumnElement, FromClause

from adapters.db.tables import calendar_days, case_clocks, case_events, case_milestones, cases
from adapters.reports.config import ACK_AND_RESPONDED
from adapters.reports.queries import (
    AnySelect,
    between,
    complaint_cases,
    declined_milestones,
    ensure_calendar_days,
    json_flag,
    json_text,
    noncompliant_extension,
    prepare,
)
from adapters.reports.visibility import if_listable
from engine.access import Actor
from engine.reporting import reporting_year
from sla.calendar import WorkingCalendar

TENURES = ("lcra", "lcho")
STAGES = (1, 2)
RECEIPT_MILESTONE = {1: "received", 2: "escalation_requested"}
RESPONSE_MILESTONE = {1: "responded", 2: "stage2_responded"}
ACK_CLOCK = {1: "acknowledge", 2: "stage2_acknowledge"}
RESPONSE_CLOCK = {1: "respond", 2: "stage2_respond"}
RULE_TEXT = {
    ACK_AND_RESPONDED: (
        "acknowledged-and-responded: acknowledged by the acknowledgement deadline (where the "
        "policy has one) and responded to by the response deadline"
    ),
    "responded": "responded: responded to by the response deadline (acknowledgement not judged)",
}


@dataclass(frozen=True, slots=True)
class Ch02Counts:
    """CH02 workings for one tenure and stage."""

    responded: int = 0
    within_both: int = 0
    within_response: int = 0
    acknowledged_late: int = 0
    responded_late: int = 0
    judged_without_extensions: int = 0

    def within(self, rule: str) -> int:
        return self.within_both if rule == ACK_AND_RESPONDED else self.within_response

    def __add__(self, other: Ch02Counts) -> Ch02Counts:
        return Ch02Counts(*(a + b for a, b in zip(_fields(self), _fields(other), strict=True)))


def _fields(counts: Ch02Counts) -> tuple[int, ...]:
    return (
        counts.responded,
        counts.within_both,
        counts.within_response,
        counts.acknowledged_late,
        counts.responded_late,
        counts.judged_without_extensions,
    )


@dataclass(frozen=True, slots=True)
class ExtensionIssue:
    """An extension that does not count towards CH02 (and why)."""

    reference: str
    tenure: str
    stage: int
    clock: str
    days: int
    beyond_cap: bool
    notified_late: bool


@dataclass(frozen=True, slots=True)
class TsmFigures:
    year: int
    start: date
    end: date
    rule: str
    received: dict[tuple[str, int], int] = field(default_factory=dict)
    ch02: dict[tuple[str, int], Ch02Counts] = field(default_factory=dict)
    extension_issues: tuple[ExtensionIssue, ...] = ()
    issues_not_listed: int = 0  # extensions of restricted cases the viewer may not see listed


# -- queries -------------------------------------------------------------------------------------


def tsm_figures(
    db_engine: Engine,
    calendars: Callable[[str], WorkingCalendar],
    year: int,
    rule: str,
    viewer: Actor | None = None,
) -> TsmFigures:
    """Count CH01 and CH02 for the reporting year starting in April of ``year``."""
    start, end = reporting_year(year)
    ensure_calendar_days(db_engine, calendars)
    with db_engine.connect() as conn:
        prepare(conn)
        received = {
            (row.tenure, 1 if row.name == "received" else 2): int(row.n)
            for row in conn.execute(_ch01(start, end))
        }
        ch02: dict[tuple[str, int], Ch02Counts] = {}
        issues: list[ExtensionIssue] = []
        hidden = 0
        for stage in STAGES:
            for row in conn.execute(_ch02_query(stage, start, end)):
                ch02[(row.tenure, stage)] = Ch02Counts(*(int(v or 0) for v in row[1:]))
            for r in conn.execute(_extension_issues(stage, start, end, viewer)):
                if r.reference is None:
                    hidden += 1
                    continue
                issues.append(
                    ExtensionIssue(
                        r.reference, r.tenure, stage, r.clock, int(r.days), bool(r.beyond), not r.ok
                    )
                )
    return TsmFigures(year, start, end, rule, received, ch02, tuple(issues), hidden)


def _ch01(start: date, end: date) -> AnySelect:
    m, declined = case_milestones, declined_milestones()
    joined = m.join(cases, cases.c.id == m.c.case_id).outerjoin(
        declined, and_(declined.c.case_id == m.c.case_id, declined.c.milestone == m.c.name)
    )
    return (
        select(cases.c.tenure, m.c.name, func.count().label("n"))
        .select_from(joined)
        .where(
            m.c.name.in_(tuple(RECEIPT_MILESTONE.values())),
            between(m.c.business_date, start, end),
            complaint_cases(),
            declined.c.case_id.is_(None),
        )
        .group_by(cases.c.tenure, m.c.name)
    )


def _judged_clock(
    joined: FromClause, clock_name: str, alias: str
) -> tuple[FromClause, ColumnElement[bool], ColumnElement[bool], ColumnElement[bool]]:
    """Join one clock; returns (joined, present, on time, judged without extensions).

    Only an extended clock is looked for non-compliant extensions, and only such a clock has its
    deadline without extensions looked up (a correlated subquery on the calendar's cumulative
    index), so the common case costs one join."""
    clock = case_clocks.alias(alias)
    joined = joined.outerjoin(
        clock, and_(clock.c.case_id == cases.c.id, clock.c.clock == clock_name)
    )
    without = case(
        (clock.c.extended_days > 0, noncompliant_extension(cases.c.id, literal(clock_name))),
        else_=false(),
    )
    due = case((without, _base_due(clock)), else_=clock.c.due_on)
    on_time = and_(clock.c.stopped_on.is_not(None), clock.c.stopped_on <= due)
    return joined, clock.c.case_id.is_not(None), on_time, without


def _base_due(clock: FromClause) -> ColumnElement[date]:
    """started_on + base_days working days on the case's calendar."""
    day0, base = calendar_days.alias("day0"), calendar_days.alias("base")
    return (
        select(base.c.day)
        .select_from(base.join(day0, day0.c.calendar == base.c.calendar))
        .where(
            day0.c.day == clock.c.started_on,
            base.c.calendar == cases.c.calendar,
            base.c.working.is_(True),
            base.c.cum == day0.c.cum + clock.c.base_days,
        )
        .scalar_subquery()
    )


def _ch02_query(stage: int, start: date, end: date) -> AnySelect:
    m = case_milestones
    joined: FromClause = m.join(cases, cases.c.id == m.c.case_id)
    joined, ack_present, ack_on_time, ack_without = _judged_clock(joined, ACK_CLOCK[stage], "ack")
    joined, _, resp_on_time, resp_without = _judged_clock(joined, RESPONSE_CLOCK[stage], "resp")
    ack_ok = or_(~ack_present, ack_on_time)
    return (
        select(
            cases.c.tenure,
            func.count().label("responded"),
            _count(and_(ack_ok, resp_on_time)),
            _count(resp_on_time),
            _count(~ack_ok),
            _count(~resp_on_time),
            _count(or_(ack_without, resp_without)),
        )
        .select_from(joined)
        .where(
            m.c.name == RESPONSE_MILESTONE[stage],
            between(m.c.business_date, start, end),
            complaint_cases(),
        )
        .group_by(cases.c.tenure)
    )


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _extension_issues(stage: int, start: date, end: date, viewer: Actor | None) -> AnySelect:
    """Each non-compliant extension of a clock of ``stage`` whose response fell in the year;
    for a case the viewer may not see, the reference comes back NULL (counted, not named)."""
    e, m = case_events, case_milestones
    clock = json_text("clock")
    beyond = json_flag("beyond_cap")
    notified = json_flag("notified_before_due")
    return (
        select(
            if_listable(viewer, cases.c.reference, "reference"),
            cases.c.tenure,
            clock.label("clock"),
            e.c.data["days"].as_integer().label("days"),
            beyond.label("beyond"),
            notified.label("ok"),
        )
        .select_from(
            e.join(cases, cases.c.id == e.c.case_id).join(
                m, and_(m.c.case_id == e.c.case_id, m.c.name == RESPONSE_MILESTONE[stage])
            )
        )
        .where(
            e.c.kind == "extended",
            clock.in_((ACK_CLOCK[stage], RESPONSE_CLOCK[stage])),
            or_(beyond.is_(True), notified.is_(False)),
            between(m.c.business_date, start, end),
            complaint_cases(),
        )
        .order_by(cases.c.reference, e.c.seq)
    )
